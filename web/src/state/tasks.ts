//! Pure helpers over a board's tasks: column order, placing a task at an index, merging patches.
//!
//! Positions here are 0-based indices inside a column, so every helper keeps each column it
//! touches numbered 0..n-1. The server's numbers may have holes (a task leaving a column
//! renumbers nobody) but its order is the same, which `ordering.test.ts` checks against a model
//! of the server's placement.

import { STATUSES, type Status, type Task, type TaskPatch } from "../protocol";

export type TaskMap = Readonly<Record<number, Task>>;
export type Columns = Record<Status, Task[]>;

function byPosition(a: Task, b: Task): number {
  return a.position - b.position || a.id - b.id;
}

/** The tasks of one column in display order. */
export function columnOf(tasks: TaskMap, status: Status): Task[] {
  return Object.values(tasks)
    .filter((t) => t.status === status)
    .sort(byPosition);
}

/** Every column in display order. */
export function columnsOf(tasks: TaskMap): Columns {
  const columns = Object.fromEntries(STATUSES.map((s) => [s, [] as Task[]])) as Columns;
  for (const task of Object.values(tasks)) columns[task.status]?.push(task);
  for (const s of STATUSES) columns[s].sort(byPosition);
  return columns;
}

function renumber(out: Record<number, Task>, column: Task[]): void {
  column.forEach((task, index) => {
    if (task.position !== index) out[task.id] = { ...task, position: index };
    else out[task.id] = task;
  });
}

/**
 * Moves `task` (which may be new or changed) to `status` at `index` (end when undefined or past
 * the end), renumbering the column it left and the column it joined.
 */
export function placeTask(tasks: TaskMap, task: Task, status: Status, index?: number): Record<number, Task> {
  const out: Record<number, Task> = { ...tasks };
  const previous = tasks[task.id];
  delete out[task.id];
  if (previous && previous.status !== status) renumber(out, columnOf(out, previous.status));
  const column = columnOf(out, status);
  const at = index === undefined ? column.length : Math.max(0, Math.min(index, column.length));
  column.splice(at, 0, { ...task, status });
  renumber(out, column);
  return out;
}

/** Inserts a task the server created (or re-sent), unless we already hold that version or newer. */
export function upsertTask(tasks: TaskMap, task: Task): TaskMap {
  const current = tasks[task.id];
  if (current && current.version >= task.version) return tasks;
  if (current && current.status === task.status && current.position === task.position) {
    return { ...tasks, [task.id]: task };
  }
  return placeTask(tasks, task, task.status, task.position);
}

/**
 * Merges a `task:{id}:updated` patch. Stale or repeated patches (version not newer) are ignored,
 * so replays after a reconnect are harmless.
 */
export function mergePatch(tasks: TaskMap, patch: TaskPatch): TaskMap {
  const current = tasks[patch.id];
  if (!current) return tasks;
  if (typeof patch.version === "number" && patch.version <= current.version) {
    return isRenumbering(patch, current) ? placeTask(tasks, current, current.status, patch.position) : tasks;
  }
  const next: Task = { ...current, ...patch };
  const statusChanged = "status" in patch && patch.status !== current.status;
  const positionGiven = typeof patch.position === "number";
  if (!statusChanged && !positionGiven) return { ...tasks, [patch.id]: next };
  return placeTask(tasks, next, next.status, positionGiven ? patch.position : undefined);
}

/**
 * Whether a patch is the server renumbering this task because another one moved into or within
 * its column: the same version, nothing but the new index. Usually this page has renumbered it
 * the same way already; when not, the mover's own patch lacked its position (the server leaves
 * it out when the number stayed while the neighbours shifted round it), and this is the only
 * news of the new order.
 */
function isRenumbering(patch: TaskPatch, current: Task): patch is TaskPatch & { position: number } {
  return (
    patch.version === current.version &&
    typeof patch.position === "number" &&
    patch.position !== current.position &&
    Object.keys(patch).every((key) => key === "id" || key === "position" || key === "version" || key === "updatedAt")
  );
}

export function removeTask(tasks: TaskMap, id: number): TaskMap {
  const current = tasks[id];
  if (!current) return tasks;
  const out: Record<number, Task> = { ...tasks };
  delete out[id];
  renumber(out, columnOf(out, current.status));
  return out;
}

export function fromList(list: readonly Task[]): Record<number, Task> {
  const out: Record<number, Task> = {};
  for (const task of list) out[task.id] = task;
  return out;
}

/**
 * `next`, except that each column holding the same tasks in the same order as in `prev` is
 * `prev`'s very array. A change in one column then leaves the others' props identical, so their
 * memoised components skip rendering (at 1,000 cards, re-rendering every column cost ~60 ms).
 */
export function reuseColumns(prev: Columns | null, next: Columns): Columns {
  if (!prev) return next;
  let changed = false;
  const out = {} as Columns;
  for (const s of STATUSES) {
    const a = prev[s];
    const b = next[s];
    const same = a.length === b.length && a.every((task, i) => task === b[i]);
    out[s] = same ? a : b;
    if (!same) changed = true;
  }
  return changed ? out : prev;
}
