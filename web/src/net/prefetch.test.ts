import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { task } from "../testing/fixtures";

/** A page at `href` whose localStorage holds `stored`; fetch answers from `routes` (404 elsewhere). */
function openPage(href: string, stored: Record<string, string>, routes: Record<string, [number, unknown]>) {
  const storage = new Map(Object.entries(stored));
  vi.stubGlobal("localStorage", {
    getItem: (k: string) => storage.get(k) ?? null,
    setItem: (k: string, v: string) => storage.set(k, String(v)),
    removeItem: (k: string) => storage.delete(k),
  });
  vi.stubGlobal("window", { location: { href, origin: new URL(href).origin } });
  const asked: { url: string; key: string | undefined }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      asked.push({ url, key: (init.headers as Record<string, string>)["X-API-Key"] });
      const [status, body] = routes[new URL(url).pathname] ?? [404, { error: { code: "NOT_FOUND", message: "" } }];
      return new Response(JSON.stringify(body), { status });
    }),
  );
  return asked;
}

const SIGNED_IN = { "warroom.apiKey": "team", "warroom.name": "Adam" };
const BOARD = { id: "web", name: "Web", description: "", archived: false, createdAt: "", createdBy: "" };
const LABEL = { id: 1, board: "web", name: "bug", color: "#d73a4a" };

async function prefetch() {
  const { prefetchBoard } = await import("./prefetch");
  return prefetchBoard;
}

beforeEach(() => vi.resetModules());
afterEach(() => vi.unstubAllGlobals());

describe("a first visit's board, asked of REST as the page starts", () => {
  it("asks for the tasks, labels and boards of the board the page opens, once per page", async () => {
    const asked = openPage("http://board.test/?board=web", SIGNED_IN, {
      "/api/boards/web/tasks": [200, [task(1), task(2)]],
      "/api/boards/web/labels": [200, [LABEL]],
      "/api/boards": [200, [BOARD]],
    });
    const prefetchBoard = await prefetch();
    const first = prefetchBoard();
    expect(first?.board).toBe("web");
    expect(first?.ready).toBeUndefined();
    expect(prefetchBoard()).toBe(first);
    const answer = await first!.answer;
    expect(answer).toEqual({ tasks: [task(1), task(2)], labels: [LABEL], boards: [BOARD] });
    expect(first!.ready).toBe(answer);
    expect(asked.map((a) => a.url).sort()).toEqual([
      "http://board.test/api/boards",
      "http://board.test/api/boards/web/labels",
      "http://board.test/api/boards/web/tasks",
    ]);
    expect(asked.every((a) => a.key === "team")).toBe(true);
  });

  it("asks nothing when the page has a saved copy, no credential, or an invite to accept", async () => {
    const pages: [string, Record<string, string>][] = [
      ["http://board.test/", { ...SIGNED_IN, "warroom.saved:main": "1" }],
      ["http://board.test/", { "warroom.apiKey": "team" }],
      ["http://board.test/?invite=abc", SIGNED_IN],
    ];
    for (const [href, stored] of pages) {
      vi.resetModules();
      const asked = openPage(href, stored, {});
      expect((await prefetch())()).toBeNull();
      expect(asked).toEqual([]);
    }
  });

  it("answers no board when the tasks are refused, and leaves out what else was refused", async () => {
    openPage("http://board.test/", SIGNED_IN, {
      "/api/boards/main/tasks": [401, { error: { code: "UNAUTHORIZED", message: "" } }],
    });
    expect(await (await prefetch())()!.answer).toBeNull();
    vi.resetModules();
    openPage("http://board.test/", SIGNED_IN, { "/api/boards/main/tasks": [200, [task(1)]] });
    const first = (await prefetch())()!;
    expect(await first.answer).toEqual({ tasks: [task(1)], labels: null, boards: null });
  });
});
