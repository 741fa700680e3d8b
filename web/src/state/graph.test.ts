import { describe, expect, it } from "vitest";
import type { Agent, Task } from "../protocol";
import { agentRows, cardGraph, resolveTaskRef, selectWorkGraph } from "./graph";
import { initialState, reducer, type Action, type BoardState } from "./reducer";
import { boardOf, fromList } from "./tasks";
import { T0, task } from "../testing/fixtures";

function board(tasks: Task[], ...actions: Action[]): BoardState {
  const synced = reducer(initialState("Adam"), {
    type: "syncFull",
    payload: { tasks, agents: [], users: [], seq: 1 },
    at: T0,
  });
  return actions.reduce(reducer, synced);
}

const agent = (id: string, over: Partial<Agent> = {}): Agent => ({
  id,
  name: id,
  status: "idle",
  currentTaskId: null,
  lastSeen: T0,
  ...over,
});

describe("a card's place in the work graph", () => {
  it("lists the blockers not DONE yet, in the order set, and dims the card", () => {
    const tasks = fromList([
      task(12),
      task(15, { status: "IN_PROGRESS" }),
      task(16, { status: "DONE" }),
      task(20, { blockedBy: [15, 16, 12] }),
    ]);
    expect(cardGraph(tasks[20], tasks)).toEqual({ open: [15, 12], blocked: true, ready: false });
  });

  it("marks a TODO card ready once every blocker is DONE, and only a card that has blockers", () => {
    const tasks = fromList([task(1, { status: "DONE" }), task(2, { blockedBy: [1] }), task(3)]);
    expect(cardGraph(tasks[2], tasks)).toEqual({ open: [], blocked: false, ready: true });
    expect(cardGraph(tasks[3], tasks)).toBeUndefined();
  });

  it("never shows a DONE card as blocked, nor an unblocked card outside TODO as ready", () => {
    const tasks = fromList([
      task(1),
      task(2, { status: "DONE", blockedBy: [1] }),
      task(3, { status: "DONE" }),
      task(4, { status: "IN_PROGRESS", blockedBy: [3] }),
    ]);
    expect(cardGraph(tasks[2], tasks)).toMatchObject({ blocked: false, ready: false });
    expect(cardGraph(tasks[4], tasks)).toMatchObject({ blocked: false, ready: false });
  });

  it("counts a blocker this page does not know as open", () => {
    const tasks = fromList([task(2, { blockedBy: [99] })]);
    expect(cardGraph(tasks[2], tasks)?.open).toEqual([99]);
  });

  it("keeps an unchanged card's entry when another card changes, and follows the blocker to DONE", () => {
    const before = board([task(1), task(2, { blockedBy: [1] }), task(3), task(4, { blockedBy: [3] })]);
    const first = selectWorkGraph(before);
    const after = reducer(before, {
      type: "taskPatched",
      patch: { id: 1, status: "DONE", version: 2, updatedAt: T0 },
      seq: 2,
    });
    const second = selectWorkGraph(after);
    expect(second.get(4)).toBe(first.get(4));
    expect(second.get(2)).toEqual({ open: [], blocked: false, ready: true });
    expect(second.has(1)).toBe(false);
  });

  it("follows a blocker that moves while the blocked card's column stays as it was", () => {
    const before = board([task(3), task(4, { status: "REVIEW", blockedBy: [3] })]);
    expect(selectWorkGraph(before).get(4)).toMatchObject({ blocked: true });
    const after = reducer(before, {
      type: "taskPatched",
      patch: { id: 3, status: "DONE", version: 2, updatedAt: T0 },
      seq: 2,
    });
    expect(after.columns.REVIEW).toBe(before.columns.REVIEW);
    expect(selectWorkGraph(after).get(4)).toEqual({ open: [], blocked: false, ready: false });
  });
});

describe("naming a blocker in the card dialog", () => {
  const tasks = fromList([
    task(12, { title: "Ship the API" }),
    task(15, { title: "Write docs" }),
    task(16, { title: "write docs" }),
  ]);

  it("takes #id, a bare id, or a picked option “#id · title”", () => {
    expect(resolveTaskRef("#12", tasks)).toEqual({ id: 12 });
    expect(resolveTaskRef(" 15 ", tasks)).toEqual({ id: 15 });
    expect(resolveTaskRef("#12 · Ship the API", tasks)).toEqual({ id: 12 });
  });

  it("takes an exact title in any case when it names one task", () => {
    expect(resolveTaskRef("ship the api", tasks)).toEqual({ id: 12 });
    expect(resolveTaskRef("WRITE DOCS", tasks)).toEqual({ error: expect.stringContaining("Several tasks") });
  });

  it("explains what it cannot find", () => {
    expect(resolveTaskRef("#99", tasks)).toEqual({ error: "There is no task #99 on this board." });
    expect(resolveTaskRef("nothing", tasks)).toEqual({ error: expect.stringContaining("titled “nothing”") });
    expect(resolveTaskRef("  ", tasks)).toEqual({ error: expect.stringContaining("#id or title") });
  });
});

describe("the agents panel", () => {
  const lease = "2026-01-01T10:05:00Z";
  const work = boardOf([
    task(7, { title: "Index the logs", status: "IN_PROGRESS", claimedBy: "bot-a", leaseExpiresAt: lease }),
    task(8, { title: "Old", status: "DONE" }),
  ]);

  it("shows each agent's task and the lease it holds on it", () => {
    const rows = agentRows({ "bot-a": agent("bot-a", { status: "busy", currentTaskId: 7 }) }, work, []);
    expect(rows).toEqual([
      expect.objectContaining({ id: "bot-a", taskId: 7, task: work.tasks[7], leaseExpiresAt: lease, waiting: false }),
    ]);
  });

  it("finds the task an agent claims even when its status report named none", () => {
    const [row] = agentRows({ "bot-a": agent("bot-a") }, work, []);
    expect(row.taskId).toBe(7);
    expect(row.leaseExpiresAt).toBe(lease);
  });

  it("shows no lease for a task the agent no longer holds", () => {
    const [row] = agentRows({ "bot-b": agent("bot-b", { currentTaskId: 8 }) }, work, []);
    expect(row).toMatchObject({ taskId: 8, leaseExpiresAt: null });
  });

  it("lists waiting agents, even those that never reported, after the busy and before the idle", () => {
    const rows = agentRows(
      {
        idle: agent("idle"),
        "bot-a": agent("bot-a", { status: "busy", currentTaskId: 7 }),
        gone: agent("gone", { status: "offline" }),
        patient: agent("patient"),
      },
      work,
      ["newcomer", "patient"],
    );
    expect(rows.map((r) => [r.id, r.waiting])).toEqual([
      ["bot-a", false],
      ["newcomer", true],
      ["patient", true],
      ["idle", false],
      ["gone", false],
    ]);
    expect(rows[1]).toMatchObject({ name: "newcomer", status: "idle", taskId: null, lastSeen: null });
  });
});
