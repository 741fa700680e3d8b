import { describe, expect, it } from "vitest";
import type { BoardInfo, Task } from "../protocol";
import {
  checkSeq,
  initialState,
  reducer,
  selectBoardList,
  selectPendingIds,
  selectVisibleBoard,
  selectVisibleTasks,
  toCache,
  type Action,
  type BoardState,
  type PendingOp,
  type UpdateOp,
  versionToSend,
} from "./reducer";
import { T0, task } from "../testing/fixtures";
import { columnOf } from "./tasks";

function run(state: BoardState, ...actions: Action[]): BoardState {
  return actions.reduce(reducer, state);
}

function synced(tasks: Task[], seq = 10): BoardState {
  return run(initialState("Adam"), {
    type: "syncFull",
    payload: { tasks, agents: [], users: [{ id: "u1", name: "Adam", status: "online" }], seq },
    at: T0,
  });
}

function titles(state: BoardState, status: Task["status"]): string[] {
  return columnOf(selectVisibleTasks(state), status).map((t) => t.title);
}

const op = <K extends PendingOp["kind"]>(kind: K, extra: object): PendingOp =>
  ({ kind, opId: `op-${Math.random()}`, at: T0, state: "queued", attempts: 0, ...extra }) as PendingOp;

describe("applying sync:full", () => {
  it("replaces the board, the people and the sequence number, and goes live", () => {
    const before = run(initialState("Adam"), { type: "taskCreated", task: task(99) });
    const state = run(before, {
      type: "syncFull",
      payload: {
        tasks: [task(1), task(2, { status: "DONE" })],
        agents: [{ id: "bot-1", name: "Bot", status: "busy", currentTaskId: 1, lastSeen: T0 }],
        users: [{ id: "u1", name: "Adam", status: "online" }],
        seq: 42,
      },
      at: T0,
    });
    expect(Object.keys(state.tasks).map(Number).sort()).toEqual([1, 2]);
    expect(state.agents["bot-1"].status).toBe("busy");
    expect(state.users).toHaveLength(1);
    expect(state.seq).toBe(42);
    expect(state.synced).toBe(true);
    expect(state.connection).toBe("live");
  });

  it("keeps the pending changes on top of the fresh board", () => {
    const queued = op("update", { id: 1, fields: { title: "Mine" }, baseVersion: 1, checkVersion: true });
    let state = run(initialState("Adam"), { type: "enqueue", op: queued });
    state = run(state, { type: "syncFull", payload: { tasks: [task(1)], agents: [], users: [], seq: 3 }, at: T0 });
    expect(selectVisibleTasks(state)[1].title).toBe("Mine");
    expect(state.tasks[1].title).toBe("Task 1");
  });
});

describe("sequence numbers: every change once, none missed", () => {
  const created = (id: number, seq?: number): Action => ({ type: "taskCreated", task: task(id), seq });
  const entry = (id: number, seq: number): Action => ({
    type: "activity",
    entries: [{ id, type: "task.created", user: "Nick", message: "", taskId: id, timestamp: T0, seq }],
    seq,
  });

  it("tells apart the next change, the same change, a duplicate and a gap", () => {
    const at = { seq: 10, synced: true };
    expect(checkSeq(at, 11)).toBe("apply");
    expect(checkSeq(at, 10)).toBe("apply");
    expect(checkSeq(at, 9)).toBe("duplicate");
    expect(checkSeq(at, 12)).toBe("gap");
    expect(checkSeq(at, undefined)).toBe("apply");
    // Before the first sync there is nothing to count from.
    expect(checkSeq({ seq: 3, synced: false }, 40)).toBe("apply");
  });

  it("applies the next change and every further event of that same change", () => {
    const state = run(synced([]), created(1, 11), entry(1, 11), created(2, 12));
    expect(Object.keys(state.tasks)).toEqual(["1", "2"]);
    expect(state.activity).toHaveLength(1);
    expect(state.seq).toBe(12);
    expect(state.gap).toBeNull();
  });

  it("ignores an event with a lower seq as a duplicate, leaving the state untouched", () => {
    const before = run(synced([task(1)]), created(2, 11), created(3, 12));
    const after = run(before, { type: "taskDeleted", id: 2, seq: 11 }, created(9, 5), entry(9, 10));
    expect(after).toBe(before);
  });

  it("does not apply an event past a gap, keeps the last contiguous seq and records the gap", () => {
    const before = run(synced([task(1)]), created(2, 11));
    const state = run(before, created(3, 13));
    expect(state.tasks[3]).toBeUndefined();
    expect(state.seq).toBe(11);
    expect(state.gap).toBe(13);
    // Later events of that connection are not applied either; the first gap is the one kept.
    const later = run(state, { type: "taskDeleted", id: 1, seq: 14 }, entry(7, 15));
    expect(later).toBe(state);
  });

  it("applies the missed changes a resume replays, and the sync clears the gap", () => {
    let state = run(synced([]), created(1, 11), created(3, 13));
    state = run(state, { type: "connection", state: "reconnecting" });
    expect(state.gap).toBeNull();
    state = run(state, created(2, 12), created(3, 13), entry(3, 13), { type: "syncResumed", seq: 13, at: T0 });
    expect(Object.keys(state.tasks)).toEqual(["1", "2", "3"]);
    expect(state.seq).toBe(13);
    expect(state.connection).toBe("live");
  });

  it("lets sync:full replace whatever a gap left behind", () => {
    let state = run(synced([]), created(1, 11), created(3, 13));
    state = run(state, {
      type: "syncFull",
      payload: { tasks: [task(1), task(2), task(3)], agents: [], users: [], seq: 20 },
      at: T0,
    });
    expect(state.gap).toBeNull();
    expect(state.seq).toBe(20);
    expect(run(state, created(4, 21)).tasks[4]).toBeDefined();
  });

  it("applies events without a seq (a server written for the seeds) without counting them", () => {
    const state = run(synced([]), created(1), { type: "users", users: [] });
    expect(state.tasks[1]).toBeDefined();
    expect(state.seq).toBe(10);
    expect(state.gap).toBeNull();
  });
});

describe("merging task:{id}:updated patches", () => {
  it("changes only the given fields and advances seq", () => {
    const state = run(synced([task(1, { description: "keep" })]), {
      type: "taskPatched",
      patch: { id: 1, title: "New", version: 2, updatedAt: "2026-01-01T11:00:00Z" },
      seq: 11,
    });
    expect(state.tasks[1]).toMatchObject({ title: "New", description: "keep", version: 2 });
    expect(state.seq).toBe(11);
  });

  it("ignores a patch whose version is not newer (replays are harmless)", () => {
    const once = run(synced([task(1)]), {
      type: "taskPatched",
      patch: { id: 1, title: "New", version: 2, updatedAt: T0 },
    });
    const twice = run(once, { type: "taskPatched", patch: { id: 1, title: "Old", version: 2, updatedAt: T0 } });
    expect(twice.tasks).toBe(once.tasks);
  });

  it("returns the very same state for a neighbour's renumbering it has already applied", () => {
    const moved = run(synced([task(1, { position: 0 }), task(2, { position: 1 })]), {
      type: "taskPatched",
      patch: { id: 2, position: 0, version: 2, updatedAt: T0 },
      seq: 11,
    });
    // The server's renumbering of #1, pushed down by that move: same seq, same version.
    const renumbered = { id: 1, position: 1, version: 1, updatedAt: T0 };
    expect(run(moved, { type: "taskPatched", patch: renumbered, seq: 11 })).toBe(moved);
  });

  it("applies a task:shifted batch as its patches one by one would, in one state change", () => {
    // The mover's own patch left its position out (its number stayed while its neighbours moved
    // round a hole), so the batch is this page's only news of the new order.
    const start = synced([task(1, { position: 0 }), task(2, { position: 2 }), task(3, { position: 3 })]);
    const patches = [
      { id: 2, position: 0, version: 1, updatedAt: T0 },
      { id: 1, position: 1, version: 1, updatedAt: T0 },
    ];
    const batched = run(start, { type: "tasksShifted", patches, seq: 11 });
    const oneByOne = run(start, ...patches.map((patch): Action => ({ type: "taskPatched", patch, seq: 11 })));
    expect(titles(batched, "TODO")).toEqual(["Task 2", "Task 1", "Task 3"]);
    expect(batched.columns).toEqual(oneByOne.columns);
    expect(batched.seq).toBe(11);
    expect(run(batched, { type: "tasksShifted", patches, seq: 11 }), "already applied").toBe(batched);
  });

  it("ignores a patch for a task it does not know", () => {
    const state = synced([task(1)]);
    expect(run(state, { type: "taskPatched", patch: { id: 7, version: 9, updatedAt: T0 } }).tasks).toBe(state.tasks);
  });

  it("moves a task between columns at the given index and renumbers both columns", () => {
    const state = run(
      synced([
        task(1, { position: 0 }),
        task(2, { position: 1 }),
        task(3, { status: "DONE", position: 0 }),
        task(4, { status: "DONE", position: 1 }),
      ]),
      { type: "taskPatched", patch: { id: 1, status: "DONE", position: 1, version: 2, updatedAt: T0 } },
    );
    expect(titles(state, "DONE")).toEqual(["Task 3", "Task 1", "Task 4"]);
    expect(columnOf(state.tasks, "DONE").map((t) => t.position)).toEqual([0, 1, 2]);
    expect(columnOf(state.tasks, "TODO").map((t) => [t.id, t.position])).toEqual([[2, 0]]);
  });

  it("reorders within a column when only the position changes", () => {
    const state = run(synced([task(1, { position: 0 }), task(2, { position: 1 }), task(3, { position: 2 })]), {
      type: "taskPatched",
      patch: { id: 1, position: 2, version: 2, updatedAt: T0 },
    });
    expect(titles(state, "TODO")).toEqual(["Task 2", "Task 3", "Task 1"]);
  });

  it("puts a task whose status changed without a position at the end of its new column", () => {
    const state = run(synced([task(1), task(2, { status: "REVIEW", position: 0 })]), {
      type: "taskPatched",
      patch: { id: 1, status: "REVIEW", version: 2, updatedAt: T0 },
    });
    expect(titles(state, "REVIEW")).toEqual(["Task 2", "Task 1"]);
  });

  it("removes deleted tasks and any drag mark on them", () => {
    let state = run(synced([task(1), task(2, { position: 1 })]), {
      type: "dragOther",
      taskId: 1,
      user: "Nick",
      now: 0,
    });
    state = run(state, { type: "taskDeleted", id: 1, seq: 11 });
    expect(state.tasks[1]).toBeUndefined();
    expect(state.drags[1]).toBeUndefined();
    expect(state.tasks[2].position).toBe(0);
  });

  it("adds created tasks once, even when both event families announce them", () => {
    const created = task(5, { version: 1 });
    const state = run(synced([]), { type: "taskCreated", task: created }, { type: "taskCreated", task: created });
    expect(Object.keys(state.tasks)).toEqual(["5"]);
  });

  it("upserts agents from agent:{id}:status, keeping the name it knew", () => {
    let state = run(synced([]), {
      type: "agentStatus",
      agent: { id: "bot", name: "Builder", status: "idle", currentTaskId: null, lastSeen: T0 },
    });
    state = run(state, { type: "agentStatus", agent: { id: "bot", status: "busy", currentTaskId: 3, lastSeen: T0 } });
    expect(state.agents.bot).toMatchObject({ name: "Builder", status: "busy", currentTaskId: 3 });
    state = run(state, { type: "agentStatus", agent: { id: "new-bot", status: "idle", lastSeen: T0 } });
    expect(state.agents["new-bot"]).toMatchObject({ name: "new-bot", currentTaskId: null });
  });
});

describe("optimistic updates and rollback", () => {
  it("shows a created task at once under a temporary id, and the real one after the ack", () => {
    const create = op("create", {
      tempId: -5,
      title: "Ship it",
      description: "",
      status: "TODO",
      assignee: null,
      baseVersion: 0,
    });
    let state = run(synced([task(1)]), { type: "enqueue", op: create });
    expect(titles(state, "TODO")).toEqual(["Task 1", "Ship it"]);
    expect(selectPendingIds(state).has(-5)).toBe(true);
    state = run(state, { type: "opSent", opId: create.opId });
    expect(state.pending[0].state).toBe("sent");
    state = run(state, {
      type: "opAcked",
      opId: create.opId,
      task: task(2, { title: "Ship it", position: 1 }),
    });
    expect(state.pending).toEqual([]);
    expect(titles(state, "TODO")).toEqual(["Task 1", "Ship it"]);
    expect(selectVisibleTasks(state)[-5]).toBeUndefined();
  });

  it("never shows a new card twice when the broadcast of it arrives before the ack", () => {
    const create = op("create", { tempId: -7, title: "Echo", description: "", status: "TODO", assignee: null });
    let state = run(synced([]), { type: "enqueue", op: create }, { type: "opSent", opId: create.opId });
    state = run(state, { type: "taskCreated", task: task(3, { title: "Echo", createdBy: "adam" }) });
    expect(titles(state, "TODO")).toEqual(["Echo"]);
    state = run(state, { type: "opAcked", opId: create.opId, task: task(3, { title: "Echo" }) });
    expect(titles(state, "TODO")).toEqual(["Echo"]);
  });

  it("moves a card optimistically and rolls it back when the server refuses", () => {
    const start = synced([task(1), task(2, { position: 1 })]);
    const move = op("move", { id: 1, status: "IN_PROGRESS", position: 0, baseVersion: 1 });
    const moved = run(start, { type: "enqueue", op: move });
    expect(titles(moved, "IN_PROGRESS")).toEqual(["Task 1"]);
    expect(titles(moved, "TODO")).toEqual(["Task 2"]);
    const rolledBack = run(moved, { type: "opRejected", opId: move.opId });
    expect(titles(rolledBack, "TODO")).toEqual(["Task 1", "Task 2"]);
    expect(rolledBack.pending).toEqual([]);
  });

  it("rolls back an edit while keeping the change someone else made meanwhile", () => {
    const edit = op("update", { id: 1, fields: { title: "Mine" }, baseVersion: 1, checkVersion: true });
    let state = run(synced([task(1)]), { type: "enqueue", op: edit });
    state = run(state, {
      type: "taskPatched",
      patch: { id: 1, title: "Theirs", assignee: "Nick", version: 2, updatedAt: T0 },
    });
    expect(selectVisibleTasks(state)[1]).toMatchObject({ title: "Mine", assignee: "Nick" });
    state = run(state, { type: "opRejected", opId: edit.opId });
    expect(selectVisibleTasks(state)[1]).toMatchObject({ title: "Theirs", assignee: "Nick" });
  });

  it("drops the follow-up changes of a task whose creation was refused", () => {
    const create = op("create", { tempId: -9, title: "x", description: "", status: "TODO", assignee: null });
    const edit = op("update", { id: -9, fields: { title: "y" }, baseVersion: 0, checkVersion: true });
    const other = op("delete", { id: 1 });
    let state = run(synced([task(1)]), { type: "enqueue", op: create }, { type: "enqueue", op: edit });
    state = run(state, { type: "enqueue", op: other }, { type: "opRejected", opId: create.opId });
    expect(state.pending.map((o) => o.opId)).toEqual([other.opId]);
  });

  it("hides a deleted card at once and restores it if the delete is refused", () => {
    const del = op("delete", { id: 1 });
    let state = run(synced([task(1)]), { type: "enqueue", op: del });
    expect(selectVisibleTasks(state)[1]).toBeUndefined();
    state = run(state, { type: "opRejected", opId: del.opId });
    expect(selectVisibleTasks(state)[1]).toBeDefined();
  });

  it("returns the same view object while nothing changed (cheap re-renders)", () => {
    const state = synced([task(1)]);
    expect(selectVisibleTasks(state)).toBe(selectVisibleTasks(state));
  });

  it("keeps the view while a change is only sent or queued again, and not once it shows differently", () => {
    const create = op("create", { tempId: -4, title: "New", description: "", status: "TODO", assignee: null });
    const move = op("move", { id: 1, status: "DONE", position: 0, baseVersion: 1 });
    const queued = run(synced([task(1), task(2, { position: 1 })]), { type: "enqueue", op: create });
    const view = selectVisibleBoard(run(queued, { type: "enqueue", op: move }));
    let state = run(queued, { type: "enqueue", op: move }, { type: "opSent", opId: create.opId });
    expect(selectVisibleBoard(state)).toBe(view);
    state = run(state, { type: "opRequeued", opId: create.opId }, { type: "opSent", opId: create.opId });
    expect(selectVisibleBoard(state)).toBe(view);
    // The broadcast of the creation: the server's card takes the temporary one's place.
    state = run(state, { type: "taskCreated", task: task(3, { title: "New", createdBy: "adam", position: 2 }) });
    expect(selectVisibleBoard(state)).not.toBe(view);
    expect(titles(state, "TODO")).toEqual(["Task 2", "New"]);
    expect(titles(state, "DONE")).toEqual(["Task 1"]);
    // Another op, even one that is equal in all but its id, is another change.
    const again = selectVisibleBoard(state);
    const twin = { ...move, opId: "twin" };
    expect(selectVisibleBoard(run(state, { type: "enqueue", op: twin }))).not.toBe(again);
  });
});

describe("the offline queue", () => {
  it("keeps changes in order and replays them after a reconnect", () => {
    const a = op("move", { id: 1, status: "REVIEW", position: 0, baseVersion: 1 });
    const b = op("update", { id: 1, fields: { title: "Renamed" }, baseVersion: 1, checkVersion: true });
    let state = run(synced([task(1)]), { type: "connection", state: "offline" });
    state = run(state, { type: "enqueue", op: a }, { type: "enqueue", op: b });
    expect(state.pending.map((o) => o.opId)).toEqual([a.opId, b.opId]);
    expect(selectVisibleTasks(state)[1]).toMatchObject({ status: "REVIEW", title: "Renamed" });
  });

  it("puts changes that were on the wire back in the queue when the connection drops", () => {
    const a = op("delete", { id: 1 });
    let state = run(synced([task(1)]), { type: "enqueue", op: a }, { type: "opSent", opId: a.opId });
    state = run(state, { type: "requeueAll" });
    expect(state.pending[0]).toMatchObject({ state: "queued", attempts: 1 });
  });

  it("rebases later edits of the same task on the version the server gave the earlier one", () => {
    const move = op("move", { id: 1, status: "REVIEW", position: 0, baseVersion: 1 });
    const edit = op("update", { id: 1, fields: { title: "Renamed" }, baseVersion: 1, checkVersion: true });
    let state = run(synced([task(1)]), { type: "enqueue", op: move }, { type: "enqueue", op: edit });
    state = run(state, { type: "opAcked", opId: move.opId, task: task(1, { status: "REVIEW", version: 2 }) });
    expect(state.pending).toHaveLength(1);
    expect(state.pending[0]).toMatchObject({ kind: "update", baseVersion: 2 });
  });

  it("points queued changes of a new task at its real id once created", () => {
    const create = op("create", {
      tempId: -3,
      title: "x",
      description: "",
      status: "TODO",
      assignee: null,
      baseVersion: 0,
    });
    const move = op("move", { id: -3, status: "DONE", position: 0, baseVersion: 0 });
    let state = run(synced([]), { type: "enqueue", op: create }, { type: "enqueue", op: move });
    state = run(state, { type: "opAcked", opId: create.opId, task: task(8, { title: "x", version: 1 }) });
    expect(state.pending[0]).toMatchObject({ kind: "move", id: 8, baseVersion: 1 });
    expect(titles(state, "DONE")).toEqual(["x"]);
  });

  it("survives a reload: the cache restores board and queue, sent ops become queued again", () => {
    const a = op("update", { id: 1, fields: { title: "Offline" }, baseVersion: 1, checkVersion: true });
    let state = run(synced([task(1)], 7), { type: "enqueue", op: a }, { type: "opSent", opId: a.opId });
    const cache = structuredClone(toCache(state));
    state = run(initialState("Adam"), { type: "hydrate", cache });
    expect(state.seq).toBe(7);
    expect(state.synced).toBe(false);
    expect(state.pending[0].state).toBe("queued");
    expect(selectVisibleTasks(state)[1].title).toBe("Offline");
  });
});

describe("restoring the saved copy", () => {
  it("keeps the server's board if it arrived first, but still puts the saved queue first", () => {
    const saved = op("update", { id: 1, fields: { title: "Saved edit" }, baseVersion: 1, checkVersion: true });
    const fresh = op("delete", { id: 2 });
    let state = run(synced([task(1), task(2, { position: 1 })]), { type: "enqueue", op: fresh });
    state = run(state, {
      type: "hydrate",
      cache: { tasks: [task(9)], agents: [], seq: 1, savedAt: null, pending: [{ ...saved, state: "sent" }] },
    });
    expect(Object.keys(state.tasks)).toEqual(["1", "2"]);
    expect(state.pending.map((o) => o.opId)).toEqual([saved.opId, fresh.opId]);
    expect(state.pending[0].state).toBe("queued");
  });
});

describe("a first visit's board from REST", () => {
  const label = { id: 3, board: "main", name: "bug", color: "#d73a4a" };
  const board: BoardInfo = {
    id: "main",
    name: "Main",
    description: "",
    archived: false,
    createdAt: T0,
    createdBy: "a",
  };

  it("shows the board, its labels and the boards list before the socket's board arrives", () => {
    const state = run(initialState("Adam"), {
      type: "prefetched",
      tasks: [task(1), task(2, { status: "DONE" })],
      labels: [label],
      boards: [board],
    });
    expect(titles(state, "TODO")).toEqual(["Task 1"]);
    expect(titles(state, "DONE")).toEqual(["Task 2"]);
    expect(state.labels[3]).toEqual(label);
    expect(selectBoardList(state)).toEqual([board]);
    expect(state.synced).toBe(false);
  });

  it("gives way to the socket's board, whichever comes first", () => {
    const rest: Action = { type: "prefetched", tasks: [task(1, { title: "Old" })], labels: null, boards: null };
    const live = synced([task(1, { title: "New", version: 2 })]);
    expect(run(live, rest)).toBe(live);
    const after = run(initialState("Adam"), rest, {
      type: "syncFull",
      payload: { tasks: [task(1, { title: "New", version: 2 })], agents: [], users: [], seq: 10 },
      at: T0,
    });
    expect(titles(after, "TODO")).toEqual(["New"]);
    expect(after.synced).toBe(true);
  });
});

describe("ephemeral signals", () => {
  it("lists others typing but never oneself", () => {
    const state = run(synced([]), { type: "typing", names: ["Nick", "adam"] });
    expect(state.typing).toEqual(["Nick"]);
  });

  it("marks a card someone drags and clears it on drag end or after 30 s", () => {
    let state = run(synced([task(1), task(2)]), { type: "dragOther", taskId: 1, user: "Nick", now: 1000 });
    state = run(state, { type: "dragOther", taskId: 2, user: "Eve", now: 20_000 });
    expect(state.drags[1].user).toBe("Nick");
    state = run(state, { type: "dragOther", taskId: 2, user: null, now: 21_000 });
    expect(state.drags[2]).toBeUndefined();
    state = run(state, { type: "expireDrags", now: 31_000 });
    expect(state.drags[1]).toBeUndefined();
  });

  it("forgets typing and drag marks when the connection is lost", () => {
    let state = run(synced([task(1)]), { type: "dragOther", taskId: 1, user: "Nick", now: 0 });
    state = run(state, { type: "typing", names: ["Nick"] }, { type: "connection", state: "reconnecting" });
    expect(state.drags).toEqual({});
    expect(state.typing).toEqual([]);
  });

  it("lists the agents waiting for work from sync:full and agents:waiting, and forgets them with the connection", () => {
    let state = run(initialState("Adam"), {
      type: "syncFull",
      payload: { tasks: [], agents: [], users: [], seq: 1, waitingAgents: ["bot-1"] },
      at: T0,
    });
    expect(state.waiting).toEqual(["bot-1"]);
    state = run(state, { type: "waiting", agents: ["bot-1", "bot-2"] });
    expect(state.waiting).toEqual(["bot-1", "bot-2"]);
    state = run(state, { type: "connection", state: "reconnecting" });
    expect(state.waiting).toEqual([]);
    expect(synced([]).waiting).toEqual([]);
  });

  it("keeps the newest activity first, without duplicates", () => {
    const e = (id: number, ts: string) => ({
      id,
      type: "task.created",
      user: "A",
      message: `m${id}`,
      taskId: 1,
      timestamp: ts,
    });
    let state = run(synced([]), { type: "activity", entries: [e(1, "2026-01-01T10:00:00Z")] });
    state = run(state, { type: "activity", entries: [e(2, "2026-01-01T10:01:00Z"), e(1, "2026-01-01T10:00:00Z")] });
    expect(state.activity.map((a) => a.id)).toEqual([2, 1]);
  });
});

describe("choosing the version an edit is checked against", () => {
  const edit = (over: Partial<UpdateOp> = {}): UpdateOp => ({
    kind: "update",
    opId: "o",
    at: T0,
    state: "queued",
    attempts: 0,
    id: 1,
    fields: { title: "Mine" },
    baseValues: { title: "Task 1" },
    baseVersion: 1,
    checkVersion: true,
    ...over,
  });

  it("uses the current version when nobody touched the edited fields (a reorder bumped it)", () => {
    expect(versionToSend(edit(), task(1, { version: 4, position: 3 }))).toBe(4);
  });

  it("uses the version the person saw when someone changed the same field, so the server says CONFLICT", () => {
    expect(versionToSend(edit(), task(1, { version: 4, title: "Theirs" }))).toBe(1);
  });

  it("compares blocker lists by their items, not by identity", () => {
    const blockers = edit({ fields: { blockedBy: [2, 3] }, baseValues: { blockedBy: [2] } });
    expect(versionToSend(blockers, task(1, { version: 4, blockedBy: [2] }))).toBe(4);
    expect(versionToSend(blockers, task(1, { version: 4, blockedBy: [3] }))).toBe(1);
  });

  it("sends no version when the person chose to overwrite, or for a task not created yet", () => {
    expect(versionToSend(edit({ checkVersion: false }), task(1, { version: 4 }))).toBeUndefined();
    expect(versionToSend(edit({ baseVersion: 0 }), undefined)).toBeUndefined();
  });
});

function boardInfo(id: string, over: Partial<BoardInfo> = {}): BoardInfo {
  return { id, name: id.toUpperCase(), description: "", archived: false, createdAt: T0, createdBy: "Adam", ...over };
}

describe("boards", () => {
  const onWeb = () =>
    run(initialState("Adam", "web"), {
      type: "syncFull",
      payload: {
        tasks: [task(1)],
        agents: [],
        users: [],
        seq: 3,
        board: boardInfo("web"),
        boards: [boardInfo("main"), boardInfo("web")],
      },
      at: T0,
    });

  it("takes the board list from sync:full and stays on the board it was made for", () => {
    const state = onWeb();
    expect(state.board).toBe("web");
    expect(state.boards.map((b) => b.id)).toEqual(["main", "web"]);
  });

  it("adds a created board, renames in place, and drops a deleted one", () => {
    const state = run(
      onWeb(),
      { type: "boardUpserted", board: boardInfo("ops") },
      { type: "boardUpserted", board: boardInfo("main", { name: "Everything" }) },
      { type: "boardRemoved", id: "web" },
    );
    expect(state.boards.map((b) => `${b.id}:${b.name}`)).toEqual(["main:Everything", "ops:OPS"]);
    expect(run(state, { type: "boardRemoved", id: "nope" })).toBe(state);
  });

  it("lists open boards by name, then the archived ones", () => {
    const state = run(
      onWeb(),
      { type: "boardUpserted", board: boardInfo("old", { name: "Attic", archived: true }) },
      { type: "boardUpserted", board: boardInfo("ops", { name: "Ops" }) },
    );
    expect(selectBoardList(state).map((b) => b.id)).toEqual(["main", "ops", "web", "old"]);
    expect(selectBoardList(state)).toBe(selectBoardList(state));
  });

  it("saves the board id and list with the copy, and a copy opened offline brings its list back", () => {
    const cache = toCache(onWeb());
    expect(cache.board).toBe("web");
    const restored = run(initialState("Adam", "web"), { type: "hydrate", cache });
    expect(restored.boards.map((b) => b.id)).toEqual(["main", "web"]);
    expect(Object.keys(restored.tasks)).toEqual(["1"]);
  });

  it("keeps the list it was handed over a copy's older list", () => {
    const cache = { ...toCache(onWeb()), boards: [boardInfo("main")] };
    const restored = run(initialState("Adam", "web", [boardInfo("main"), boardInfo("web"), boardInfo("ops")]), {
      type: "hydrate",
      cache,
    });
    expect(restored.boards.map((b) => b.id)).toEqual(["main", "web", "ops"]);
  });
});
