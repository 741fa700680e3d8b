import { afterEach, describe, expect, it, vi } from "vitest";

/** Every connection made, with what was asked of it: the real ones are the E2E suite's. */
const managers = vi.hoisted(() => [] as { uri: string; opens: number; sockets: unknown[] }[]);
vi.mock("socket.io-client", () => ({
  Manager: class {
    record: { uri: string; opens: number; sockets: unknown[] };
    constructor(uri: string) {
      this.record = { uri, opens: 0, sockets: [] };
      managers.push(this.record);
    }
    open() {
      this.record.opens += 1;
      return this;
    }
    socket(nsp: string, opts: unknown) {
      this.record.sockets.push({ nsp, opts });
      return { nsp };
    }
  },
}));

vi.stubGlobal("window", { location: { origin: "http://board.test" } });
const { api, openSocket, preconnect, rest } = await import("./connection");

function captureFetch() {
  const calls: { url: string; init: RequestInit }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ id: 1 }), { status: 201 });
    }),
  );
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe("the connection", () => {
  it("opened before the page renders is the first socket's, and only the first's", () => {
    managers.length = 0;
    const creds = { apiKey: "k", name: "Adam" };
    preconnect();
    expect(managers).toHaveLength(1);
    expect(managers[0]).toMatchObject({ uri: "http://board.test", opens: 1, sockets: [] });
    openSocket(creds, "main", () => undefined);
    expect(managers).toHaveLength(1);
    expect(managers[0].sockets).toHaveLength(1);
    // Another board is another connection, as before.
    openSocket(creds, "web", () => undefined);
    expect(managers).toHaveLength(2);
    expect(managers[1].opens).toBe(0);
  });

  it("sends the credential, the board and the sequence reached on every (re)connect", () => {
    managers.length = 0;
    let seq: number | undefined;
    openSocket({ apiKey: "k", name: "Adam" }, "web", () => seq);
    const { opts } = managers[0].sockets[0] as { opts: { auth: (cb: (auth: object) => void) => void } };
    const sent: object[] = [];
    opts.auth((auth) => sent.push(auth));
    seq = 41;
    opts.auth((auth) => sent.push(auth));
    expect(sent).toEqual([
      { apiKey: "k", name: "Adam", board: "web" },
      { apiKey: "k", name: "Adam", board: "web", lastSeq: 41 },
    ]);
  });
});

describe("rest", () => {
  it("signs writes with the person's name, percent-encoded, so the REST fallback is not 'api'", async () => {
    vi.stubGlobal("window", { location: { origin: "http://board.test" } });
    const calls = captureFetch();
    const result = await rest({ apiKey: "k", name: "José Ñ" }, "POST", "/tasks", { body: { title: "x" } });
    expect(result.ok).toBe(true);
    const headers = calls[0].init.headers as Record<string, string>;
    expect(headers["X-Warroom-Name"]).toBe("Jos%C3%A9%20%C3%91");
    expect(decodeURIComponent(headers["X-Warroom-Name"])).toBe("José Ñ");
    expect(headers["X-API-Key"]).toBe("k");
  });

  it("sends no name header when it has no name (the key check before sign-in)", async () => {
    vi.stubGlobal("window", { location: { origin: "http://board.test" } });
    const calls = captureFetch();
    await rest({ apiKey: "k" }, "GET", "/tasks");
    expect(calls[0].init.headers as Record<string, string>).not.toHaveProperty("X-Warroom-Name");
  });
});

describe("api on boards", () => {
  it("reads a board's tasks and activity on its board-scoped routes", async () => {
    vi.stubGlobal("window", { location: { origin: "http://board.test" } });
    const calls = captureFetch();
    await api.tasks({ apiKey: "k", name: "A" }, "web");
    await api.activity({ apiKey: "k", name: "A" }, "web", 20);
    expect(calls.map((c) => c.url)).toEqual([
      "http://board.test/api/boards/web/tasks",
      "http://board.test/api/boards/web/activity?limit=20",
    ]);
  });

  it("accepts an invite without any key: the code is the credential", async () => {
    vi.stubGlobal("window", { location: { origin: "http://board.test" } });
    const calls = captureFetch();
    await api.acceptInvite("abc", "Zoë");
    expect(calls[0].url).toBe("http://board.test/api/invites/abc/accept");
    expect(calls[0].init.headers as Record<string, string>).not.toHaveProperty("X-API-Key");
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ name: "Zoë" });
  });
});
