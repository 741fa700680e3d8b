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
const { openSocket, preconnect } = await import("./connection");

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

  it("sends the credential, the board, batched renumberings and the sequence reached on every (re)connect", () => {
    managers.length = 0;
    let seq: number | undefined;
    openSocket({ apiKey: "k", name: "Adam" }, "web", () => seq);
    const { opts } = managers[0].sockets[0] as { opts: { auth: (cb: (auth: object) => void) => void } };
    const sent: object[] = [];
    opts.auth((auth) => sent.push(auth));
    seq = 41;
    opts.auth((auth) => sent.push(auth));
    expect(sent).toEqual([
      { apiKey: "k", name: "Adam", board: "web", batchShifts: true },
      { apiKey: "k", name: "Adam", board: "web", batchShifts: true, lastSeq: 41 },
    ]);
  });
});
