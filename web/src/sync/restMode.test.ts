import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { initialState } from "../state/reducer";
import { createStore, type Store } from "../state/store";
import { task } from "../testing/fixtures";

/** A stand-in for the board's event stream: the test plays the server's side of it. */
class FakeStream {
  closed = false;
  opened = false;
  reconnects = 0;
  constructor(
    readonly creds: unknown,
    readonly board: string,
    readonly options: import("../net/events").EventStreamOptions,
  ) {
    streams.push(this);
  }
  open() {
    this.opened = true;
  }
  reconnect() {
    this.reconnects += 1;
  }
  close() {
    this.closed = true;
  }
}
const streams: FakeStream[] = [];
vi.mock("../net/events", () => ({ EventStream: FakeStream }));
vi.mock("../net/rest", () => ({
  api: { tasks: vi.fn(), agents: vi.fn(async () => ({ ok: true, status: 200, data: [] })) },
}));
const { api } = await import("../net/rest");
const { RestMode } = await import("./restMode");
type RestModeDeps = import("./restMode").RestModeDeps;

const down = { ok: false as const, status: 0, error: { code: "NETWORK", message: "down" }, network: true as const };

describe("the REST fallback", () => {
  let store: Store;
  let deps: RestModeDeps;
  let restMode: InstanceType<typeof RestMode>;

  beforeEach(() => {
    vi.stubGlobal("navigator", { onLine: true });
    streams.length = 0;
    vi.mocked(api.tasks).mockReset();
    store = createStore(initialState("Adam", "web"));
    deps = {
      store,
      creds: { apiKey: "k", name: "Adam" },
      stopped: () => false,
      socketConnected: () => false,
      lastSeq: () => 4,
      listen: vi.fn(),
      pump: vi.fn(),
      loadActivity: vi.fn(async () => {}),
      onAuthError: vi.fn(),
      onBoardUnavailable: vi.fn(),
    };
    restMode = new RestMode(deps);
  });

  afterEach(() => {
    restMode.leave();
    vi.unstubAllGlobals();
  });

  it("asks REST after two failed connections, shows its board and opens the event stream", async () => {
    vi.mocked(api.tasks).mockResolvedValue({ ok: true, status: 200, data: [task(1)] });
    restMode.connectFailed();
    expect(api.tasks).not.toHaveBeenCalled();
    restMode.connectFailed();
    await vi.waitFor(() => expect(streams).toHaveLength(1));
    const [stream] = streams;
    expect(api.tasks).toHaveBeenCalledWith(deps.creds, "web");
    expect(store.getState()).toMatchObject({ connection: "rest", tasks: { 1: task(1) } });
    expect(deps.pump).toHaveBeenCalled();
    expect(deps.listen).toHaveBeenCalledWith(stream);
    expect(stream).toMatchObject({ board: "web", opened: true });
    expect(stream.options.lastSeq()).toBe(4);
    // Not while the stream is open: the socket keeps trying meanwhile.
    restMode.connectFailed();
    expect(api.tasks).toHaveBeenCalledTimes(1);

    expect(restMode.liveStream()).toBeNull();
    stream.options.onOpen();
    expect(store.getState().connection).toBe("stream");
    expect(restMode.liveStream()).toBe(stream);

    restMode.socketConnected();
    expect(stream.closed).toBe(true);
    expect(restMode.liveStream()).toBeNull();
  });

  it("says offline when REST does not answer either, and sends a refused key to the entry screen", async () => {
    vi.mocked(api.tasks).mockResolvedValueOnce(down);
    restMode.connectFailed();
    restMode.connectFailed();
    await vi.waitFor(() => expect(store.getState().connection).toBe("offline"));

    vi.mocked(api.tasks).mockResolvedValueOnce({
      ok: false,
      status: 401,
      error: { code: "UNAUTHORIZED", message: "" },
    });
    restMode.connectFailed();
    await vi.waitFor(() => expect(deps.onAuthError).toHaveBeenCalledWith("Unauthorized"));
    expect(streams).toEqual([]);
  });

  it("does nothing when the socket connected meanwhile", async () => {
    vi.mocked(api.tasks).mockResolvedValue({ ok: true, status: 200, data: [task(1)] });
    deps.socketConnected = () => true;
    restMode.connectFailed();
    restMode.connectFailed();
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().connection).not.toBe("rest");
    expect(streams).toEqual([]);
  });

  it("leaves a board the stream refuses, and falls back to REST alone or offline when it drops", async () => {
    vi.mocked(api.tasks).mockResolvedValue({ ok: true, status: 200, data: [] });
    restMode.connectFailed();
    restMode.connectFailed();
    await vi.waitFor(() => expect(streams).toHaveLength(1));
    const [stream] = streams;
    stream.options.onDrop(502, null, 1);
    expect(store.getState().connection).toBe("rest");
    stream.options.onDrop(0, null, 1);
    expect(store.getState().connection).toBe("reconnecting");
    stream.options.onDrop(0, null, 2);
    expect(store.getState().connection).toBe("offline");
    stream.options.onDrop(404, { code: "BOARD_NOT_FOUND", message: "no board web" }, 1);
    expect(deps.onBoardUnavailable).toHaveBeenCalledWith("BOARD_NOT_FOUND", "no board web");
    expect(stream.closed).toBe(true);
  });
});
