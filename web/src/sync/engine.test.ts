import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BoardInfo } from "../protocol";
import { saveBoard } from "../state/persist";
import { applySyncFull, initialState, selectVisibleTasks, toCache } from "../state/reducer";
import { createStore, type Store } from "../state/store";
import { FakeSocket } from "../testing/fakeSocket";
import { task } from "../testing/fixtures";

let socket: FakeSocket;

/** A stand-in for the board's event stream: the test plays the server's side of it. */
class FakeStream extends FakeSocket {
  options: { lastSeq: () => number | undefined; onOpen: () => void; onDrop: (...args: unknown[]) => void };
  reconnects = 0;
  closed = false;
  constructor(_creds: unknown, _board: string, options: FakeStream["options"]) {
    super();
    this.options = options;
  }
  open() {}
  reconnect() {
    this.reconnects += 1;
  }
  close() {
    this.closed = true;
  }
}
const streams: FakeStream[] = [];
vi.mock("../net/events", () => ({
  EventStream: class extends FakeStream {
    constructor(...args: ConstructorParameters<typeof FakeStream>) {
      super(...args);
      streams.push(this);
    }
  },
}));

vi.mock("../net/connection", () => ({
  openSocket: (_creds: unknown, board: string, lastSeq: () => number | undefined) => {
    socket.board = board;
    socket.lastSeq = lastSeq;
    return socket;
  },
}));
vi.mock("../net/rest", () => ({
  rest: vi.fn(async () => ({ ok: false, status: 0, error: { code: "NETWORK", message: "down" }, network: true })),
  api: {
    tasks: vi.fn(async () => ({ ok: false, status: 0, error: { code: "NETWORK", message: "down" }, network: true })),
    createTask: vi.fn(async () => ({ ok: true, status: 201, data: task(9, { title: "Over REST" }) })),
    agents: vi.fn(async () => ({ ok: true, status: 200, data: [] })),
    activity: vi.fn(async () => ({ ok: true, status: 200, data: [] })),
  },
}));
vi.mock("../state/persist", () => ({ saveBoard: vi.fn(async () => {}), forgetBoard: vi.fn(async () => {}) }));
vi.mock("../state/toasts", () => ({ showToast: vi.fn() }));
const { showToast } = await import("../state/toasts");
const { api } = await import("../net/rest");

const { SyncEngine } = await import("./engine");
type EngineHooks = import("./engine").EngineHooks;

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("the sync engine", () => {
  let store: Store;
  let engine: InstanceType<typeof SyncEngine>;

  /** A page opening the board: a new store, engine and socket. */
  function openPage() {
    socket = new FakeSocket();
    store = createStore(initialState("Adam"));
    engine = new SyncEngine(
      store,
      { apiKey: "k", name: "Adam" },
      { onAuthError: vi.fn(), onCelebration: vi.fn(), onBoardUnavailable: vi.fn() },
    );
    engine.start();
  }

  beforeEach(() => {
    vi.stubGlobal("window", Object.assign(new EventTarget(), { location: { origin: "http://x" } }));
    vi.stubGlobal("navigator", { onLine: true });
    openPage();
  });

  afterEach(() => {
    engine.stop();
    vi.unstubAllGlobals();
  });

  it("queues changes made offline and replays them in order, each with its opId, after reconnecting", async () => {
    socket.drop();
    engine.createTask({ title: "Offline one" });
    engine.moveTask(1, "DONE", 0);
    await flush();
    expect(socket.commands()).toEqual([]);
    expect(Object.values(selectVisibleTasks(store.getState())).map((t) => t.title)).toContain("Offline one");

    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 5 });
    await flush();
    const [first] = socket.commands();
    expect(first.event).toBe("task:create");
    expect(first.payload).toMatchObject({ title: "Offline one", status: "TODO" });
    expect(typeof first.payload.opId).toBe("string");
    // One at a time: the move waits for the create's answer.
    expect(socket.commands()).toHaveLength(1);
    first.ack!({ ok: true, task: task(2, { title: "Offline one", position: 1 }) });
    await flush();
    const second = socket.commands()[1];
    expect(second.event).toBe("task:move");
    expect(second.payload).toMatchObject({ taskId: 1, status: "DONE", position: 0 });
    second.ack!({ ok: true, task: task(1, { status: "DONE", version: 2 }) });
    await flush();
    expect(store.getState().pending).toEqual([]);
  });

  it("saves only what changed since the copy it restored, and the whole board when the server's came first", () => {
    vi.useFakeTimers();
    try {
      const copy = toCache(
        applySyncFull(initialState("Adam"), { tasks: [task(1), task(2)], agents: [], users: [], seq: 3 }, "t"),
      );
      engine.restore(copy);
      expect(Object.keys(store.getState().tasks)).toEqual(["1", "2"]);
      vi.mocked(saveBoard).mockClear();
      store.dispatch({ type: "taskCreated", task: task(3), seq: 4 });
      vi.advanceTimersByTime(200);
      expect(vi.mocked(saveBoard).mock.calls[0][1]).toBe(copy.tasks);

      // Another page: the server's board arrives before the copy is read back, and stays.
      engine.stop();
      openPage();
      socket.goLive({ tasks: [task(7)], agents: [], users: [], seq: 9 });
      engine.restore(copy);
      expect(Object.keys(store.getState().tasks)).toEqual(["7"]);
      vi.mocked(saveBoard).mockClear();
      vi.advanceTimersByTime(200);
      expect(vi.mocked(saveBoard).mock.calls[0][1]).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it("sends a change again with the same opId when the connection dropped before the ack", async () => {
    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 1 });
    engine.updateTask(1, { title: "Renamed" });
    await flush();
    const firstTry = socket.commands()[0];
    socket.drop();
    await flush();
    expect(store.getState().pending[0].state).toBe("queued");
    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 1 });
    await flush();
    const secondTry = socket.commands()[1];
    expect(secondTry.payload.opId).toBe(firstTry.payload.opId);
    expect(secondTry.payload).toMatchObject({ id: 1, title: "Renamed", version: 1 });
  });

  it("rolls back a refused change and keeps going with the rest of the queue", async () => {
    socket.goLive({ tasks: [task(1), task(2, { position: 1 })], agents: [], users: [], seq: 1 });
    engine.moveTask(1, "REVIEW", 0);
    engine.deleteTask(2);
    await flush();
    socket.commands()[0].ack!({ ok: false, error: { code: "TASK_LOCKED", message: "Task 1 is being moved by Nick" } });
    await flush();
    expect(selectVisibleTasks(store.getState())[1].status).toBe("TODO");
    expect(socket.commands()[1].event).toBe("task:delete");
  });

  it("shows new blockers at once and hands the server's verdict to the caller, a refusal rolled back without a toast", async () => {
    socket.goLive({ tasks: [task(1), task(2), task(3, { blockedBy: [1] })], agents: [], users: [], seq: 1 });
    const saved = engine.setBlockers(3, [1, 2]);
    expect(selectVisibleTasks(store.getState())[3].blockedBy).toEqual([1, 2]);
    await flush();
    const [update] = socket.commands();
    expect(update.payload).toMatchObject({ id: 3, blockedBy: [1, 2], version: 1 });
    update.ack!({ ok: true, task: task(3, { blockedBy: [1, 2], version: 2 }) });
    expect(await saved).toBeNull();

    vi.mocked(showToast).mockClear();
    const refused = engine.setBlockers(1, [3]);
    await flush();
    const cycle = { code: "VALIDATION_ERROR", message: "`blockedBy` would make a cycle: #1 → #3 → #1" };
    socket.commands()[1].ack!({ ok: false, error: cycle });
    expect(await refused).toEqual(cycle);
    expect(selectVisibleTasks(store.getState())[1].blockedBy ?? []).toEqual([]);
    expect(showToast).not.toHaveBeenCalled();
    expect(await engine.setBlockers(3, [1, 2])).toBeNull();
    expect(socket.commands()).toHaveLength(2);
    // Any other refused edit still says so in a toast.
    engine.updateTask(1, { blockedBy: [3] });
    await flush();
    socket.commands()[2].ack!({ ok: false, error: cycle });
    await flush();
    expect(showToast).toHaveBeenCalledTimes(1);
  });

  it("reconnects after the server closed the session, even with a change on the wire", async () => {
    vi.useFakeTimers();
    try {
      socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 1 });
      engine.moveTask(1, "DONE", 0);
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.commands()).toHaveLength(1);
      socket.connected = false;
      socket.serverSends("disconnect", "io server disconnect");
      await vi.advanceTimersByTimeAsync(1000);
      expect(socket.connects).toBe(2);
      expect(store.getState().pending[0].state).toBe("queued");
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps the agents waiting for work from agents:waiting", () => {
    socket.goLive({ tasks: [], agents: [], users: [], seq: 1, waitingAgents: ["bot-1"] });
    expect(store.getState().waiting).toEqual(["bot-1"]);
    socket.serverSends("agents:waiting", { agents: ["bot-1", "bot-2"] });
    expect(store.getState().waiting).toEqual(["bot-1", "bot-2"]);
  });

  it("resumes with the last sequence number it applied", async () => {
    socket.goLive({ tasks: [], agents: [], users: [], seq: 7 });
    socket.serverSends("task:3:created", task(3), { seq: 8 });
    expect(store.getState().seq).toBe(8);
    expect(store.getState().synced).toBe(true);
  });

  it("does not apply an event past a missed seq, and reconnects to resume from the last contiguous one", async () => {
    socket.goLive({ tasks: [], agents: [], users: [], seq: 7 });
    socket.serverSends("task:3:created", task(3), { seq: 8 });
    socket.serverSends("activity", { id: 1, type: "task.created", taskId: 3, seq: 8 }, { seq: 8 });
    // Seq 9 never arrives (the server dropped it for this socket); 10 and 11 do.
    socket.serverSends("task:5:created", task(5), { seq: 10 });
    socket.serverSends("task:6:created", task(6), { seq: 11 });
    expect(Object.keys(store.getState().tasks)).toEqual(["3"]);
    expect(store.getState().seq).toBe(8);
    await flush();
    expect(socket.disconnects).toBe(1);
    expect(socket.connects).toBe(2);
    expect(socket.lastSeq()).toBe(8);
    expect(store.getState().connection).toBe("reconnecting");

    // The server replays what came after 8, then says the resume is complete.
    socket.connected = true;
    socket.serverSends("connect");
    socket.serverSends("task:4:created", task(4), { seq: 9 });
    socket.serverSends("task:5:created", task(5), { seq: 10 });
    socket.serverSends("task:6:created", task(6), { seq: 11 });
    socket.serverSends("sync:resumed", { seq: 11 });
    expect(Object.keys(store.getState().tasks)).toEqual(["3", "4", "5", "6"]);
    expect(store.getState()).toMatchObject({ seq: 11, gap: null, connection: "live" });
    await flush();
    expect(socket.connects).toBe(2);
  });

  it("ignores duplicates and events of the same change without reconnecting", async () => {
    const onCelebration = vi.fn();
    engine.stop();
    engine = new SyncEngine(
      store,
      { apiKey: "k", name: "Adam" },
      { onAuthError: vi.fn(), onCelebration, onBoardUnavailable: vi.fn() },
    );
    engine.start();
    const stopped = socket.disconnects;
    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 7 });
    socket.serverSends("task:1:updated", { id: 1, status: "DONE", version: 2, updatedAt: "x" }, { seq: 8 });
    socket.serverSends("celebration", { user: "Nick", taskId: 1 }, { seq: 8 });
    socket.serverSends("task:1:updated", { id: 1, status: "TODO", version: 3, updatedAt: "y" }, { seq: 6 });
    socket.serverSends("celebration", { user: "Nick", taskId: 1 }, { seq: 6 });
    await flush();
    expect(store.getState().tasks[1].status).toBe("DONE");
    expect(onCelebration).toHaveBeenCalledTimes(1);
    expect(socket.disconnects).toBe(stopped);
  });

  it("reconnects once per gap, and asks for the whole board, after a wait, when a gap recurs at once", async () => {
    vi.useFakeTimers();
    try {
      socket.goLive({ tasks: [], agents: [], users: [], seq: 7 });
      socket.serverSends("task:5:created", task(5), { seq: 10 });
      socket.serverSends("task:6:created", task(6), { seq: 11 });
      socket.serverSends("task:7:created", task(7), { seq: 12 });
      vi.advanceTimersByTime(0);
      expect([socket.disconnects, socket.connects]).toEqual([1, 2]);
      expect(socket.lastSeq()).toBe(7);

      // Resumed, and right away another gap (say the tab stalled again).
      socket.connected = true;
      socket.serverSends("sync:resumed", { seq: 7 });
      socket.serverSends("task:9:created", task(9), { seq: 9 });
      vi.advanceTimersByTime(0);
      expect(socket.disconnects).toBe(2);
      expect(store.getState().connection).toBe("reconnecting");
      // Not at once, and without lastSeq: the server sends sync:full.
      expect(socket.connects).toBe(2);
      vi.advanceTimersByTime(1000);
      expect(socket.connects).toBe(3);
      expect(socket.lastSeq()).toBeUndefined();
      socket.connected = true;
      socket.serverSends("sync:full", { tasks: [task(5), task(9)], agents: [], users: [], seq: 12 });
      expect(store.getState()).toMatchObject({ seq: 12, gap: null, connection: "live" });
      expect(socket.lastSeq()).toBe(12);

      // Much later, a gap is a fresh one again: resume at once.
      vi.advanceTimersByTime(60_000);
      socket.serverSends("task:20:created", task(20), { seq: 20 });
      vi.advanceTimersByTime(0);
      expect([socket.disconnects, socket.connects]).toEqual([3, 4]);
      expect(socket.lastSeq()).toBe(12);
    } finally {
      vi.useRealTimers();
    }
  });
});

function boardInfo(id: string, over: Partial<BoardInfo> = {}): BoardInfo {
  return { id, name: id, description: "", archived: false, createdAt: "t", createdBy: "Adam", ...over };
}

describe("the sync engine on one board of several", () => {
  let store: Store;
  let engine: InstanceType<typeof SyncEngine>;
  let onBoardUnavailable: ReturnType<typeof vi.fn<EngineHooks["onBoardUnavailable"]>>;

  beforeEach(() => {
    vi.stubGlobal("window", Object.assign(new EventTarget(), { location: { origin: "http://x" } }));
    vi.stubGlobal("navigator", { onLine: true });
    socket = new FakeSocket();
    store = createStore(initialState("Adam", "web"));
    onBoardUnavailable = vi.fn<EngineHooks["onBoardUnavailable"]>();
    engine = new SyncEngine(
      store,
      { apiKey: "k", name: "Adam" },
      { onAuthError: vi.fn(), onCelebration: vi.fn(), onBoardUnavailable },
    );
    engine.start();
  });

  afterEach(() => {
    engine.stop();
    vi.unstubAllGlobals();
  });

  it("asks for its board at the handshake and keeps the board list live from board events", () => {
    expect(socket.board).toBe("web");
    socket.goLive({
      tasks: [],
      agents: [],
      users: [],
      seq: 1,
      board: boardInfo("web"),
      boards: [boardInfo("main"), boardInfo("web")],
    });
    socket.serverSends("board:created", boardInfo("ops"));
    socket.serverSends("board:updated", boardInfo("main", { name: "Main room" }));
    socket.serverSends("board:deleted", { id: "ops" });
    expect(store.getState().boards.map((b) => `${b.id}:${b.name}`)).toEqual(["main:Main room", "web:web"]);
    expect(onBoardUnavailable).not.toHaveBeenCalled();
  });

  it("says so when its own board is deleted, and saves no copy of it afterwards", async () => {
    vi.useFakeTimers();
    try {
      socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 1, boards: [boardInfo("main"), boardInfo("web")] });
      vi.mocked(saveBoard).mockClear();
      socket.serverSends("board:deleted", { id: "web" });
      socket.serverSends("task:2:created", task(2), { seq: 2 });
      vi.advanceTimersByTime(1000);
      expect(onBoardUnavailable).toHaveBeenCalledWith("BOARD_DELETED", expect.any(String));
      expect(saveBoard).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it("stops retrying and says so when the server refuses the board at the handshake", () => {
    socket.serverSends("connect_error", new Error("BOARD_NOT_FOUND: no board web"));
    expect(onBoardUnavailable).toHaveBeenCalledWith("BOARD_NOT_FOUND", "BOARD_NOT_FOUND: no board web");
    expect(socket.disconnects).toBe(1);
  });

  it("takes a token used under another name for an identity problem, not a board it may not open", () => {
    engine.stop();
    const onAuthError = vi.fn();
    engine = new SyncEngine(
      store,
      { apiKey: "wr_x", name: "Eve" },
      { onAuthError, onCelebration: vi.fn(), onBoardUnavailable },
    );
    engine.start();
    socket.serverSends("connect_error", new Error("FORBIDDEN: this token belongs to Zoe"));
    expect(onAuthError).toHaveBeenCalledWith("FORBIDDEN: this token belongs to Zoe");
    expect(onBoardUnavailable).not.toHaveBeenCalled();
  });

  it("applies the card events: labels and comments with their seq, notifications and viewers without", () => {
    const label = { id: 3, board: "main", name: "bug", color: "#d73a4a" };
    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 5, labels: [], unreadNotifications: 2 });
    socket.serverSends("label:created", label, { seq: 6 });
    socket.serverSends(
      "comment:created",
      { id: 9, taskId: 1, board: "main", author: "Nick", body: "hi", createdAt: "", updatedAt: "", edited: false },
      { seq: 7 },
    );
    socket.serverSends("notification", {
      id: 4,
      type: "mention",
      board: "web",
      taskId: 8,
      commentId: 1,
      by: "Nick",
      excerpt: "@Adam",
      createdAt: "",
      readAt: null,
    });
    socket.serverSends("task:viewers", { taskId: 1, users: ["Adam", "Nick"] });
    const state = store.getState();
    expect(state.labels[3]).toEqual(label);
    expect(state.tasks[1].commentCount).toBe(1);
    expect(state.seq).toBe(7);
    expect(state.unread).toBe(3);
    expect(state.viewers[1]).toEqual(["Adam", "Nick"]);
    socket.serverSends("notifications:read", { ids: [4] });
    expect(store.getState().unread).toBe(2);
  });

  it("tells the server which card is open, again after a reconnect, and when it is closed", async () => {
    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 1 });
    engine.viewTask(1);
    socket.drop();
    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 1 });
    engine.viewTask(null);
    await flush();
    const views = socket.sent.filter((s) => s.event === "task:view").map((s) => s.payload);
    expect(views).toEqual([{ taskId: 1 }, { taskId: 1 }, { taskId: null }]);
  });

  it("shows our comment from its ack, and refuses comment commands while offline", async () => {
    socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 1 });
    store.dispatch({ type: "commentsLoaded", taskId: 1, comments: [] });
    const sent = engine.addComment(1, "Looks good @Nick");
    const command = socket.sent.find((s) => s.event === "comment:create")!;
    expect(command.payload).toMatchObject({ taskId: 1, body: "Looks good @Nick" });
    const comment = {
      id: 5,
      taskId: 1,
      board: "main",
      author: "Adam",
      body: "Looks good @Nick",
      createdAt: "",
      updatedAt: "",
      edited: false,
    };
    command.ack!({ ok: true, comment });
    expect((await sent).ok).toBe(true);
    expect(store.getState().comments[1]).toEqual([comment]);

    socket.drop();
    const offline = await engine.addComment(1, "later");
    expect(offline.ok).toBe(false);
  });
});

describe("the sync engine when Socket.IO cannot connect", () => {
  it("goes live over the event stream, applies its events like the socket's, resumes after a gap, and writes over REST", async () => {
    vi.stubGlobal("window", Object.assign(new EventTarget(), { location: { origin: "http://x" } }));
    vi.stubGlobal("navigator", { onLine: true });
    socket = new FakeSocket();
    streams.length = 0;
    const store = createStore(initialState("Adam"));
    const engine = new SyncEngine(
      store,
      { apiKey: "k", name: "Adam" },
      { onAuthError: vi.fn(), onCelebration: vi.fn(), onBoardUnavailable: vi.fn() },
    );
    engine.start();
    try {
      vi.mocked(api.tasks).mockResolvedValueOnce({ ok: true, status: 200, data: [task(1)] });
      socket.serverSends("connect_error", new Error("xhr poll error"));
      socket.serverSends("connect_error", new Error("xhr poll error"));
      await vi.waitFor(() => expect(streams).toHaveLength(1));
      const stream = streams[0];
      expect(store.getState().connection).toBe("rest");
      expect(stream.options.lastSeq()).toBeUndefined();

      stream.options.onOpen();
      stream.serverSends("sync:full", { tasks: [task(1)], agents: [], users: [], seq: 4 });
      expect(store.getState().connection).toBe("stream");
      stream.serverSends("task:1:updated", { status: "DONE", version: 2 }, { seq: 5 });
      expect(store.getState().tasks[1].status).toBe("DONE");
      expect(stream.options.lastSeq()).toBe(5);

      // A change never received: the stream is asked again from the last seq applied.
      stream.serverSends("task:1:updated", { title: "Later", version: 4 }, { seq: 7 });
      await vi.waitFor(() => expect(stream.reconnects).toBe(1));
      expect(store.getState().tasks[1].title).not.toBe("Later");

      engine.createTask({ title: "Over REST" });
      await vi.waitFor(() => expect(api.createTask).toHaveBeenCalled());
      expect(socket.commands()).toEqual([]);

      // The socket gets through: it takes over, and the stream is closed.
      socket.goLive({ tasks: [task(1)], agents: [], users: [], seq: 7 });
      expect(store.getState().connection).toBe("live");
      expect(stream.closed).toBe(true);
    } finally {
      engine.stop();
      vi.unstubAllGlobals();
    }
  });
});
