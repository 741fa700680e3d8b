// A property test of the board's order: random sequences of creations, moves and deletions, by
// others and by this person, applied to a model of the server's ordering and, through the events
// and acks the server would send, to the reducer. After every change both must show the same
// columns in the same order.

import { describe, expect, it } from "vitest";
import { STATUSES, type Status, type Task, type TaskPatch } from "../protocol";
import {
  initialState,
  reducer,
  selectVisibleColumns,
  selectVisibleTasks,
  type Action,
  type BoardState,
} from "./reducer";
import { columnOf } from "./tasks";
import { task as makeTask } from "../testing/fixtures";

/** A small seeded generator (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)], chance: (p: number) => next() < p };
}

type Event = Action & { seq: number };

/**
 * The server's ordering rules (src/domain/write.rs, `task::place`, the store's `ORDER BY
 * position, id`), and the events the fan-out sends for each change. Positions may have holes:
 * a task leaving a column renumbers nobody, and a move without an index goes to max + 1. The
 * cards a placement pushes down are sent card by card, or in one `task:shifted` to a client that
 * asked for it (`batched`).
 */
class ServerModel {
  tasks = new Map<number, Task>();
  seq = 0;
  private nextId = 1;

  constructor(private readonly batched = false) {}

  column(status: Status): Task[] {
    return [...this.tasks.values()]
      .filter((t) => t.status === status)
      .sort((a, b) => a.position - b.position || a.id - b.id);
  }

  order(): Record<Status, number[]> {
    return Object.fromEntries(STATUSES.map((s) => [s, this.column(s).map((t) => t.id)])) as Record<Status, number[]>;
  }

  private end(status: Status): number {
    return Math.max(-1, ...this.column(status).map((t) => t.position)) + 1;
  }

  create(status: Status): { task: Task; events: Event[] } {
    const id = this.nextId++;
    const task = makeTask(id, { status, position: this.end(status), title: `T${id}` });
    this.tasks.set(id, task);
    this.seq += 1;
    return { task, events: [{ type: "taskCreated", task, seq: this.seq }] };
  }

  /** `task:move` / a status update; null when it changes nothing (no event, same version). */
  move(id: number, status: Status, index?: number): { task: Task; events: Event[] } | null {
    const current = this.tasks.get(id)!;
    const moved = status !== current.status;
    if (!moved && index === undefined) return null;
    let position: number;
    const shifts: [number, number][] = [];
    if (index === undefined) position = this.end(status);
    else {
      const others = this.column(status).filter((t) => t.id !== id);
      position = Math.min(index, others.length);
      others.forEach((t, k) => {
        const wanted = k < position ? k : k + 1;
        if (wanted !== t.position) shifts.push([t.id, wanted]);
      });
    }
    if (!moved && shifts.length === 0 && position === current.position) return null;
    const task: Task = { ...current, status, position, version: current.version + 1 };
    this.tasks.set(id, task);
    this.seq += 1;
    const patch: TaskPatch = { id, version: task.version, updatedAt: task.updatedAt };
    if (moved) patch.status = status;
    if (moved || position !== current.position) patch.position = position;
    const events: Event[] = [{ type: "taskPatched", patch, seq: this.seq }];
    const pushed = shifts.map(([other, wanted]): TaskPatch => {
      // Renumbering neighbours changes no version: the client keeps its own numbering.
      const shifted = { ...this.tasks.get(other)!, position: wanted };
      this.tasks.set(other, shifted);
      return { id: other, position: wanted, version: shifted.version, updatedAt: shifted.updatedAt };
    });
    if (this.batched && pushed.length > 0) events.push({ type: "tasksShifted", patches: pushed, seq: this.seq });
    if (!this.batched) events.push(...pushed.map((p): Event => ({ type: "taskPatched", patch: p, seq: this.seq })));
    return { task, events };
  }

  delete(id: number): Event[] {
    this.tasks.delete(id);
    this.seq += 1;
    return [{ type: "taskDeleted", id, seq: this.seq }];
  }
}

function screenOrder(state: BoardState, view = selectVisibleTasks(state)): Record<Status, number[]> {
  return Object.fromEntries(STATUSES.map((s) => [s, columnOf(view, s).map((t) => t.id)])) as Record<Status, number[]>;
}

/** One random history of `steps` changes; checks the order after each. */
function play(seed: number, steps: number): void {
  const rng = random(seed);
  const server = new ServerModel(seed % 2 === 0);
  for (let i = 0; i < 6; i++) server.create(rng.pick(STATUSES));
  let state = reducer(initialState("Adam"), {
    type: "syncFull",
    payload: { tasks: [...server.tasks.values()], agents: [], users: [], seq: server.seq },
    at: "2026-01-01T10:00:00Z",
  });
  const deliver = (events: Event[]) => {
    for (const e of events) state = reducer(state, e);
  };
  let opCounter = 0;

  for (let step = 0; step < steps; step++) {
    const ids = [...server.tasks.keys()];
    const roll = rng.int(10);
    const context = `seed ${seed}, step ${step}`;
    if (roll === 0 || ids.length < 3) {
      deliver(server.create(rng.pick(STATUSES)).events);
    } else if (roll === 1 && ids.length > 3) {
      deliver(server.delete(rng.pick(ids)));
    } else if (roll < 6) {
      // Someone else moves a card: to another column or within one, with or without an index
      // (an index past the end too: the server clamps it).
      const id = rng.pick(ids);
      const status = rng.pick(STATUSES);
      const index = rng.chance(0.6) ? rng.int(server.column(status).length + 2) : undefined;
      const result = server.move(id, status, index);
      if (result) deliver(result.events);
    } else {
      // This person drags or Shift+arrows a card: shown at once, then the server applies it
      // (maybe after someone else's change), and the ack and the broadcast arrive either way round.
      const view = selectVisibleTasks(state);
      const id = rng.pick(ids);
      const status = rng.pick(STATUSES);
      const length = columnOf(view, status).filter((t) => t.id !== id).length;
      const index = rng.int(length + 1);
      const opId = `op-${opCounter++}`;
      state = reducer(state, {
        type: "enqueue",
        op: { kind: "move", opId, at: "", state: "queued", attempts: 0, baseVersion: 1, id, status, position: index },
      });
      const optimistic = screenOrder(state);
      expect(optimistic[status][index], `${context}: the card is shown where it was put`).toBe(id);
      state = reducer(state, { type: "opSent", opId });
      if (rng.chance(0.3) && ids.length > 1) {
        const other = rng.pick(ids.filter((x) => x !== id));
        const result = server.move(other, rng.pick(STATUSES), rng.chance(0.5) ? rng.int(4) : undefined);
        if (result) deliver(result.events);
      }
      const result = server.move(id, status, index);
      const ack: Action = { type: "opAcked", opId, task: result?.task ?? server.tasks.get(id)! };
      if (rng.chance(0.5)) {
        state = reducer(state, ack);
        if (result) deliver(result.events);
      } else {
        if (result) deliver(result.events);
        state = reducer(state, ack);
      }
      expect(state.pending, `${context}: nothing left pending`).toEqual([]);
    }
    expect(screenOrder(state), `${context}: the screen shows the server's order`).toEqual(server.order());
    // The columns the reducer keeps step by step are the ones sorted from scratch.
    const visible = selectVisibleColumns(state);
    for (const s of STATUSES) {
      expect(state.columns[s], `${context}: confirmed ${s}`).toEqual(columnOf(state.tasks, s));
      expect(visible[s], `${context}: shown ${s}`).toEqual(columnOf(selectVisibleTasks(state), s));
    }
  }
}

describe("the board's order against the server's", () => {
  it("is the same after any sequence of creations, moves and deletions, by anyone (renumberings card by card on odd seeds, batched on even ones)", () => {
    for (let seed = 1; seed <= 200; seed++) play(seed, 60);
  }, 60_000);

  it("puts a card moved to the index it had in its old column at that index, not at the end", () => {
    const server = new ServerModel();
    for (const s of ["TODO", "TODO", "BLOCKED", "BLOCKED"] as Status[]) server.create(s);
    let state = reducer(initialState("Nick"), {
      type: "syncFull",
      payload: { tasks: [...server.tasks.values()], agents: [], users: [], seq: server.seq },
      at: "2026-01-01T10:00:00Z",
    });
    // Top of TODO to top of BLOCKED: position 0 before and after, sent all the same.
    for (const e of server.move(1, "BLOCKED", 0)!.events) state = reducer(state, e);
    expect(screenOrder(state).BLOCKED).toEqual([1, 3, 4]);
    expect(screenOrder(state)).toEqual(server.order());
  });
});
