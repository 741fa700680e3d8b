import { beforeEach, describe, expect, it, vi } from "vitest";
import { initialState } from "../state/reducer";
import { createStore, type Store } from "../state/store";
import { asSocket, FakeSocket } from "../testing/fakeSocket";
import { task } from "../testing/fixtures";

vi.mock("../state/persist", () => ({ forgetBoard: vi.fn(async () => {}) }));
const { forgetBoard } = await import("../state/persist");
const { listen, listenPresence } = await import("./events");
type EventContext = import("./events").EventContext;

const board = (id: string) => ({ id, name: id, description: "", archived: false, createdAt: "t", createdBy: "Adam" });

describe("server events as reducer actions", () => {
  let store: Store;
  let source: FakeSocket;
  let context: EventContext & {
    onFullSync: ReturnType<typeof vi.fn<EventContext["onFullSync"]>>;
    onCelebration: ReturnType<typeof vi.fn<EventContext["onCelebration"]>>;
    onBoardDeleted: ReturnType<typeof vi.fn<EventContext["onBoardDeleted"]>>;
  };

  beforeEach(() => {
    store = createStore(initialState("Adam", "web"));
    source = new FakeSocket();
    context = {
      store,
      onFullSync: vi.fn<EventContext["onFullSync"]>(),
      onCelebration: vi.fn<EventContext["onCelebration"]>(),
      onBoardDeleted: vi.fn<EventContext["onBoardDeleted"]>(),
    };
  });

  it("applies the whole board with the connection state its source means, then says so", () => {
    listen(source, "stream", context);
    context.onFullSync.mockImplementation(() => expect(store.getState().seq).toBe(4));
    source.serverSends("sync:full", { tasks: [task(1)], agents: [], users: [], seq: 4 });
    expect(store.getState()).toMatchObject({ connection: "stream", synced: true });
    expect(context.onFullSync).toHaveBeenCalledTimes(1);
  });

  it("applies per-task events by their dynamic names, with their seq", () => {
    listen(source, "live", context);
    source.serverSends("sync:full", { tasks: [], agents: [], users: [], seq: 4 });
    source.serverSends("task:3:created", task(3), { seq: 5 });
    source.serverSends("task:3:updated", { status: "DONE", version: 2 }, { seq: 6 });
    expect(store.getState().tasks[3].status).toBe("DONE");
    source.serverSends("task:3:deleted", { taskId: 3 }, { seq: 7 });
    expect(store.getState()).toMatchObject({ tasks: {}, seq: 7 });
  });

  it("applies a column's renumbering sent as one task:shifted, under the move's seq", () => {
    listen(source, "live", context);
    const column = [task(1, { position: 0 }), task(2, { position: 1 }), task(3, { status: "REVIEW", position: 0 })];
    source.serverSends("sync:full", { tasks: column, agents: [], users: [], seq: 4 });
    source.serverSends("task:3:updated", { status: "TODO", position: 0, version: 2 }, { seq: 5 });
    const shifted = [1, 2].map((id) => ({ id, position: id, version: 1, updatedAt: "t" }));
    source.serverSends("task:shifted", { tasks: shifted }, { seq: 5 });
    const { tasks, columns, seq } = store.getState();
    expect(columns.TODO.map((t) => [t.id, t.position])).toEqual([
      [3, 0],
      [1, 1],
      [2, 2],
    ]);
    expect([tasks[1].position, seq]).toEqual([1, 5]);
  });

  it("celebrates a finished card once, with its title, and not from a duplicate", () => {
    listen(source, "live", context);
    source.serverSends("sync:full", { tasks: [task(1, { title: "Ship" })], agents: [], users: [], seq: 4 });
    source.serverSends("celebration", { user: "Nick", taskId: 1 }, { seq: 5 });
    source.serverSends("celebration", { user: "Nick", taskId: 1 }, { seq: 3 });
    expect(context.onCelebration).toHaveBeenCalledTimes(1);
    expect(context.onCelebration).toHaveBeenCalledWith({ user: "Nick", taskId: 1, title: "Ship" });
  });

  it("tells of this board's deletion while it is still listed, and forgets any deleted board's copy", () => {
    listen(source, "live", context);
    source.serverSends("sync:full", {
      tasks: [],
      agents: [],
      users: [],
      seq: 1,
      boards: [board("main"), board("web"), board("ops")],
    });
    source.serverSends("board:deleted", { id: "ops" });
    expect(context.onBoardDeleted).not.toHaveBeenCalled();
    context.onBoardDeleted.mockImplementation(() =>
      expect(store.getState().boards.map((b) => b.id)).toEqual(["main", "web"]),
    );
    source.serverSends("board:deleted", { id: "web" });
    expect(context.onBoardDeleted).toHaveBeenCalledWith("web");
    expect(store.getState().boards.map((b) => b.id)).toEqual(["main"]);
    expect(forgetBoard).toHaveBeenCalledWith("ops");
    expect(forgetBoard).toHaveBeenCalledWith("web");
  });

  it("takes the users list as an array or as an object by name", () => {
    listen(source, "live", context);
    const nick = { id: "u1", name: "Nick", status: "online" };
    source.serverSends("users:update", { Nick: nick });
    expect(store.getState().users).toEqual([nick]);
  });

  it("keeps the socket's presence: typists, waiting agents and drag marks", () => {
    listenPresence(asSocket(source), store);
    source.serverSends("typing:update", ["Nick"]);
    source.serverSends("agents:waiting", { agents: ["bot-1"] });
    source.serverSends("task:drag:other", { taskId: "4", user: "Nick" });
    const state = store.getState();
    expect(state.typing).toEqual(["Nick"]);
    expect(state.waiting).toEqual(["bot-1"]);
    expect(state.drags[4]).toMatchObject({ user: "Nick" });
    source.serverSends("typing:update", null);
    expect(store.getState().typing).toEqual([]);
  });
});
