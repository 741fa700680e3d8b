import { afterEach, describe, expect, it, vi } from "vitest";
import {
  boardInHistory,
  boardToOpen,
  cardToOpen,
  dropInviteFromUrl,
  inviteInUrl,
  loadCredentials,
  openOnArrival,
  rememberBoard,
  rememberTask,
  roleOfKey,
  saveCredentials,
  takeKeyFromUrl,
} from "./credentials";

/** A page at `href` with an empty localStorage; returns the live location. */
function openPage(href: string): { href: string; entries: number } {
  const stored = new Map<string, string>();
  vi.stubGlobal("localStorage", {
    getItem: (k: string) => stored.get(k) ?? null,
    setItem: (k: string, v: string) => stored.set(k, String(v)),
    removeItem: (k: string) => stored.delete(k),
  });
  const location = { href, entries: 1 };
  vi.stubGlobal("window", {
    location,
    history: {
      state: null,
      replaceState: (_state: unknown, _title: string, url: string) => {
        location.href = new URL(url, location.href).href;
      },
      pushState: (_state: unknown, _title: string, url: string) => {
        location.href = new URL(url, location.href).href;
        location.entries += 1;
      },
    },
  });
  return location;
}

afterEach(() => vi.unstubAllGlobals());

describe("which board opens", () => {
  it("is the one the address names, else the last one used here, else main", () => {
    const page = openPage("http://w.test/");
    expect(boardToOpen()).toBe("main");
    rememberBoard("web");
    expect(page.href).toBe("http://w.test/?board=web");
    page.href = "http://w.test/";
    expect(boardToOpen()).toBe("web");
    page.href = "http://w.test/?board=ops";
    expect(boardToOpen()).toBe("ops");
  });

  it("keeps each switch in the history, so Back returns to the board before", () => {
    const page = openPage("http://w.test/");
    rememberBoard("main");
    expect(page.entries).toBe(1);
    rememberBoard("web");
    expect(page.entries).toBe(2);
    expect(boardInHistory()).toBe("web");
    rememberBoard("web");
    expect(page.entries).toBe(2);
    page.href = "http://w.test/?board=main";
    expect(boardInHistory()).toBe("main");
    page.href = "http://w.test/";
    expect(boardInHistory()).toBeNull();
  });

  it("names the board in the address without touching the rest of it", () => {
    const page = openPage("http://w.test/?board=main&x=1#top");
    rememberBoard("web");
    expect(page.href).toBe("http://w.test/?board=web&x=1#top");
  });
});

describe("invite links", () => {
  it("are read from the address, then removed from it once spent", () => {
    const page = openPage("http://w.test/?invite=abc123&board=web");
    expect(inviteInUrl()).toBe("abc123");
    dropInviteFromUrl();
    expect(page.href).toBe("http://w.test/?board=web");
    expect(inviteInUrl()).toBeNull();
  });
});

describe("the credential's role", () => {
  it("is admin for the team key and unknown for a personal token", () => {
    expect(roleOfKey("team-key-123")).toBe("admin");
    expect(roleOfKey("wr_abc_def")).toBeNull();
  });

  it("is remembered with the credential, and a ?key= link sets it from the key", () => {
    openPage("http://w.test/");
    saveCredentials({ apiKey: "wr_a_b", name: "Zoe", role: "viewer" });
    expect(loadCredentials()).toEqual({ apiKey: "wr_a_b", name: "Zoe", role: "viewer" });
    const page = openPage("http://w.test/?key=team");
    expect(takeKeyFromUrl()).toBe("team");
    expect(page.href).toBe("http://w.test/");
    expect(loadCredentials().role).toBe("admin");
  });

  it("is admin for a team key saved without one (before roles were kept), unknown for such a token", () => {
    openPage("http://w.test/");
    localStorage.setItem("warroom.apiKey", "team");
    localStorage.setItem("warroom.name", "Adam");
    expect(loadCredentials()).toEqual({ apiKey: "team", name: "Adam", role: "admin" });
    localStorage.setItem("warroom.apiKey", "wr_a_b");
    expect(loadCredentials().role).toBeNull();
  });
});

describe("the open card in the address", () => {
  it("names the card beside the board, without a new history entry, and drops it when closed", () => {
    const location = openPage("http://x/?board=web");
    rememberTask(42);
    expect(location.href).toBe("http://x/?board=web&task=42");
    expect(cardToOpen("web")).toBe(42);
    rememberTask(null);
    expect(location.href).toBe("http://x/?board=web");
    expect(location.entries).toBe(1);
  });

  it("opens a card a notification asked for once its board is here, and only there", () => {
    openPage("http://x/?board=main");
    openOnArrival("web", 7);
    expect(cardToOpen("web")).toBe(7);
    // Asked once: a later board opens what its address says (nothing here).
    expect(cardToOpen("web")).toBeNull();
    openOnArrival("web", 7);
    expect(cardToOpen("ops")).toBeNull();
  });
});
