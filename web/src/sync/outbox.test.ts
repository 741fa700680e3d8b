import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { applySyncFull, initialState } from "../state/reducer";
import { createStore, type Store } from "../state/store";
import { asSocket, FakeSocket } from "../testing/fakeSocket";
import { task } from "../testing/fixtures";
import { createOp, deleteOp, moveOp, updateOp } from "./ops";

vi.mock("../net/rest", () => ({
  rest: vi.fn(),
  api: { createTask: vi.fn() },
}));
const { api, rest } = await import("../net/rest");
const { commandFor, MAX_ATTEMPTS, Outbox } = await import("./outbox");
type OutboxDeps = import("./outbox").OutboxDeps;

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("the outbox", () => {
  let store: Store;
  let socket: FakeSocket;
  let onRefused: ReturnType<typeof vi.fn<OutboxDeps["onRefused"]>>;
  let onAuthError: ReturnType<typeof vi.fn<OutboxDeps["onAuthError"]>>;
  let outbox: InstanceType<typeof Outbox>;

  beforeEach(() => {
    socket = new FakeSocket();
    socket.connected = true;
    store = createStore(
      applySyncFull(initialState("Adam"), { tasks: [task(1), task(2)], agents: [], users: [], seq: 1 }, "t"),
    );
    onRefused = vi.fn<OutboxDeps["onRefused"]>();
    onAuthError = vi.fn<OutboxDeps["onAuthError"]>();
    outbox = new Outbox({
      store,
      creds: { apiKey: "k", name: "Adam" },
      socket: () => asSocket(socket),
      stopped: () => false,
      onAuthError,
      onRefused,
    });
  });

  afterEach(() => outbox.stop());

  it("sends one op at a time, in order, each with its opId", async () => {
    const move = moveOp(store.getState(), 1, "DONE", 0);
    outbox.enqueue(move);
    outbox.enqueue(deleteOp(store.getState(), 2));
    expect(socket.commands().map((c) => c.event)).toEqual(["task:move"]);
    expect(socket.commands()[0].payload).toEqual({ taskId: 1, status: "DONE", position: 0, opId: move.opId });
    socket.commands()[0].ack!({ ok: true, task: task(1, { status: "DONE", version: 2 }) });
    await flush();
    expect(socket.commands().map((c) => c.event)).toEqual(["task:move", "task:delete"]);
    socket.commands()[1].ack!({ ok: true });
    await flush();
    expect(store.getState().pending).toEqual([]);
  });

  it("keeps the queue while offline and sends it when pumped live again", async () => {
    store.dispatch({ type: "connection", state: "offline" });
    outbox.enqueue(createOp({ title: "Later" }));
    await flush();
    expect(socket.commands()).toEqual([]);
    store.dispatch({ type: "connection", state: "live" });
    outbox.pump();
    expect(socket.commands()[0]).toMatchObject({ event: "task:create", payload: { title: "Later" } });
  });

  it("sends an op again with the same opId after a lost ack, and gives up with TIMEOUT", async () => {
    vi.useFakeTimers();
    try {
      const op = moveOp(store.getState(), 1, "DONE", 0);
      outbox.enqueue(op);
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        expect(socket.commands()).toHaveLength(attempt);
        expect(socket.commands()[attempt - 1].payload.opId).toBe(op.opId);
        socket.commands()[attempt - 1].timeOut!();
        await vi.advanceTimersByTimeAsync(1000);
      }
      expect(socket.commands()).toHaveLength(MAX_ATTEMPTS);
      expect(onRefused).toHaveBeenCalledWith(
        expect.objectContaining({ code: "TIMEOUT" }),
        expect.objectContaining({ opId: op.opId }),
      );
      expect(store.getState().pending).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("takes an op on the wire for lost when the socket drops; the reducer queues it again", async () => {
    outbox.enqueue(moveOp(store.getState(), 1, "DONE", 0));
    socket.connected = false;
    store.dispatch({ type: "connection", state: "reconnecting" });
    outbox.dropInflight();
    await flush();
    expect(store.getState().pending[0].state).toBe("queued");
  });

  it("rolls back a refused op and explains it, but takes deleting a gone card for done", async () => {
    outbox.enqueue(moveOp(store.getState(), 1, "DONE", 0));
    const locked = { code: "TASK_LOCKED", message: "Task 1 is being moved by Nick" };
    socket.commands()[0].ack!({ ok: false, error: locked });
    await flush();
    expect(store.getState().pending).toEqual([]);
    expect(onRefused).toHaveBeenCalledWith(locked, expect.objectContaining({ kind: "move" }));

    outbox.enqueue(deleteOp(store.getState(), 2));
    socket.commands()[1].ack!({ ok: false, error: { code: "TASK_NOT_FOUND", message: "gone" } });
    await flush();
    expect(onRefused).toHaveBeenCalledTimes(1);
    expect(store.getState().pending).toEqual([]);
  });

  it("hands the verdict to a caller that waits for it instead of explaining", async () => {
    const saved = outbox.enqueueForVerdict(updateOp(store.getState(), 1, { blockedBy: [2] })!);
    socket.commands()[0].ack!({ ok: true, task: task(1, { blockedBy: [2], version: 2 }) });
    expect(await saved).toBeNull();
    const cycle = { code: "VALIDATION_ERROR", message: "cycle" };
    const refused = outbox.enqueueForVerdict(updateOp(store.getState(), 2, { blockedBy: [1] })!);
    await flush();
    socket.commands()[1].ack!({ ok: false, error: cycle });
    expect(await refused).toEqual(cycle);
    expect(onRefused).not.toHaveBeenCalled();
  });

  it("sends over REST when only REST answers, keyed by the opId", async () => {
    store.dispatch({ type: "connection", state: "rest" });
    vi.mocked(rest).mockResolvedValueOnce({ ok: true, status: 200, data: task(1, { title: "Renamed", version: 2 }) });
    const op = updateOp(store.getState(), 1, { title: "Renamed" })!;
    outbox.enqueue(op);
    await flush();
    expect(socket.commands()).toEqual([]);
    expect(rest).toHaveBeenCalledWith(expect.anything(), "PATCH", "/tasks/1", {
      idempotencyKey: op.opId,
      body: { title: "Renamed", version: 1 },
    });
    expect(store.getState().pending).toEqual([]);

    vi.mocked(api.createTask).mockResolvedValueOnce({
      ok: false,
      status: 401,
      error: { code: "UNAUTHORIZED", message: "no" },
    });
    const create = createOp({ title: "New", description: "d" });
    outbox.enqueue(create);
    await flush();
    expect(api.createTask).toHaveBeenCalledWith(
      expect.anything(),
      "main",
      { title: "New", status: "TODO", description: "d" },
      create.opId,
    );
    expect(onAuthError).toHaveBeenCalledWith("Unauthorized");
  });
});

describe("the command for an op", () => {
  const state = applySyncFull(
    initialState("Adam"),
    { tasks: [task(1, { version: 3 })], agents: [], users: [], seq: 1 },
    "t",
  );

  it("leaves out empty fields of a create", () => {
    const op = createOp({ title: "x" });
    expect(commandFor(op, state)).toEqual({
      event: "task:create",
      payload: { title: "x", status: "TODO", opId: op.opId },
    });
  });

  it("sends an update against the version its fields were last changed at, or none to overwrite", () => {
    const op = updateOp(state, 1, { title: "y" })!;
    expect(commandFor(op, state).payload).toEqual({ id: 1, title: "y", opId: op.opId, version: 3 });
    expect(commandFor({ ...op, checkVersion: false }, state).payload).not.toHaveProperty("version");
  });
});
