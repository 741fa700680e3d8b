import { afterEach, describe, expect, it, vi } from "vitest";

vi.stubGlobal("window", { location: { origin: "http://board.test" } });
const { api, rest } = await import("./rest");

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
