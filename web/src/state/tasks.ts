//! Pure helpers over a board's tasks: column order, placing a task at an index, merging patches.
//!
//! Positions here are 0-based indices inside a column, so every helper keeps each column it
//! touches numbered 0..n-1. The server's numbers may have holes (a task leaving a column
//! renumbers nobody) but its order is the same, which `ordering.test.ts` checks against a model
//! of the server's placement.

import { STATUSES, type Status, type Task, type TaskPatch } from "../protocol";

export type TaskMap = Readonly<Record<number, Task>>;
export type Columns = Readonly<Record<Status, readonly Task[]>>;

/**
 * A board's tasks by id and, kept alongside, each column's tasks in display order: `columns[s]`
 * always holds the very objects `columnOf(tasks, s)` would sort out of the map. Every helper
 * below keeps that true by touching only the columns a change is in, so a move costs the two
 * columns it touches rather than a pass over every task and a sort of every column; and a
 * column a change did not touch keeps its array, so whoever reads it can tell at a glance.
 */
export interface Board {
  readonly tasks: TaskMap;
  readonly columns: Columns;
}

function byPosition(a: Task, b: Task): number {
  return a.position - b.position || a.id - b.id;
}

/** The tasks of one column in display order, sorted out of the map (the reference `Board.columns` follows). */
export function columnOf(tasks: TaskMap, status: Status): Task[] {
  return Object.values(tasks)
    .filter((t) => t.status === status)
    .sort(byPosition);
}

/** Every column in display order, sorted out of the map: once per whole board (a sync, a saved copy). */
export function columnsOf(tasks: TaskMap): Record<Status, Task[]> {
  const columns = Object.fromEntries(STATUSES.map((s) => [s, [] as Task[]])) as Record<Status, Task[]>;
  for (const task of Object.values(tasks)) columns[task.status]?.push(task);
  for (const s of STATUSES) columns[s].sort(byPosition);
  return columns;
}

export const EMPTY_BOARD: Board = boardOf([]);

/** Field values compared as the server compares them: lists (`blockedBy`) by their items. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Whether `a` and `b` hold the same values, `except` one field (a position a save keeps apart). */
export function sameFields(a: Task, b: Task, except?: keyof Task): boolean {
  // Runs for every task of a board sent again (thousands at 5,000 cards): no allocation per task.
  for (const field in a) {
    const key = field as keyof Task;
    if (key !== except && !sameValue(a[key], b[key])) return false;
  }
  for (const field in b) if (!(field in a)) return false;
  return true;
}

/** A board from the server's (or the saved copy's) list of tasks. */
export function boardOf(list: readonly Task[]): Board {
  const tasks = fromList(list);
  return { tasks, columns: columnsOf(tasks) };
}

/**
 * The board `list` describes, keeping `before`'s object for every task that has not changed and
 * `before`'s array for every column that has not: a whole board sent again (the socket's after a
 * saved copy or REST's first look, REST's refresh) re-renders only the cards that changed.
 */
export function boardFrom(before: Board, list: readonly Task[]): Board {
  const tasks: Record<number, Task> = {};
  for (const task of list) {
    const known = before.tasks[task.id];
    tasks[task.id] = known !== undefined && sameFields(known, task) ? known : task;
  }
  return { tasks, columns: reuseColumns(before.columns, columnsOf(tasks)) };
}

/**
 * `column` numbered 0..n-1, the renumbered copies written into `out`. From 0, not from the
 * change: a column as the server sent it may have holes, and the first change closes them.
 */
function renumber(out: Record<number, Task>, column: Task[]): Task[] {
  for (let index = 0; index < column.length; index++) {
    const task = column[index];
    if (task.position === index) continue;
    const moved = { ...task, position: index };
    column[index] = moved;
    out[task.id] = moved;
  }
  return column;
}

/** Where `task` (the very object the board holds) is in its column: its position, if numbered so. */
function indexIn(column: readonly Task[], task: Task): number {
  return column[task.position] === task ? task.position : column.indexOf(task);
}

/**
 * Moves `task` (which may be new or changed) to `status` at `index` (end when undefined or past
 * the end), renumbering the column it left and the column it joined.
 */
export function placeTask(board: Board, task: Task, status: Status, index?: number): Board {
  const tasks: Record<number, Task> = { ...board.tasks };
  const columns = { ...board.columns };
  const previous = board.tasks[task.id];
  delete tasks[task.id];
  let target: Task[];
  if (previous) {
    const from = columns[previous.status];
    const at = indexIn(from, previous);
    const left = [...from.slice(0, at), ...from.slice(at + 1)];
    if (previous.status === status) target = left;
    else columns[previous.status] = renumber(tasks, left);
  }
  target ??= [...(columns[status] ?? [])];
  const at = index === undefined ? target.length : Math.max(0, Math.min(index, target.length));
  const placed = { ...task, status };
  target.splice(at, 0, placed);
  tasks[task.id] = placed;
  columns[status] = renumber(tasks, target);
  return { tasks, columns };
}

/** `next` in the place of the task of the same id, whose status and position it keeps. */
function replaceTask(board: Board, next: Task): Board {
  const current = board.tasks[next.id];
  const column = [...board.columns[current.status]];
  column[indexIn(column, current)] = next;
  return { tasks: { ...board.tasks, [next.id]: next }, columns: { ...board.columns, [current.status]: column } };
}

/** Inserts a task the server created (or re-sent), unless we already hold that version or newer. */
export function upsertTask(board: Board, task: Task): Board {
  const current = board.tasks[task.id];
  if (current && current.version >= task.version) return board;
  if (current && current.status === task.status && current.position === task.position) {
    return replaceTask(board, task);
  }
  return placeTask(board, task, task.status, task.position);
}

/**
 * Merges a `task:{id}:updated` patch. Stale or repeated patches (version not newer) are ignored,
 * so replays after a reconnect are harmless.
 */
export function mergePatch(board: Board, patch: TaskPatch): Board {
  const current = board.tasks[patch.id];
  if (!current) return board;
  if (typeof patch.version === "number" && patch.version <= current.version) {
    return isRenumbering(patch, current) ? placeTask(board, current, current.status, patch.position) : board;
  }
  const next: Task = { ...current, ...patch };
  const statusChanged = "status" in patch && patch.status !== current.status;
  const positionGiven = typeof patch.position === "number";
  if (!statusChanged && !positionGiven) return replaceTask(board, next);
  return placeTask(board, next, next.status, positionGiven ? patch.position : undefined);
}

/** The task of that id changed by `change` in its place (fields other than its status and position). */
export function updateTask(board: Board, id: number, change: (task: Task) => Task): Board {
  const current = board.tasks[id];
  if (!current) return board;
  return replaceTask(board, { ...change(current), status: current.status, position: current.position });
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

export function removeTask(board: Board, id: number): Board {
  const current = board.tasks[id];
  if (!current) return board;
  const tasks: Record<number, Task> = { ...board.tasks };
  delete tasks[id];
  const from = board.columns[current.status];
  const at = indexIn(from, current);
  const column = renumber(tasks, [...from.slice(0, at), ...from.slice(at + 1)]);
  return { tasks, columns: { ...board.columns, [current.status]: column } };
}

/**
 * `derive` of each of a board's columns, in display order. Each column's answer is kept by its
 * array, so after a change only the columns it touched are looked through again (a move: two of
 * five): what looks through thousands of tasks after every change (the work graph, the agents
 * panel, the assignee filter's choices) costs the change rather than the board.
 */
export function perColumn<T>(derive: (column: readonly Task[]) => T): (columns: Columns) => T[] {
  const known = new WeakMap<readonly Task[], T>();
  return (columns) =>
    STATUSES.map((status) => {
      const column = columns[status];
      if (!known.has(column)) known.set(column, derive(column));
      return known.get(column) as T;
    });
}

/** The tasks of a board's columns that `keep` picks, column by column in display order. */
export function picking(keep: (task: Task) => boolean): (columns: Columns) => Task[] {
  const picks = perColumn((column) => column.filter(keep));
  return (columns) => picks(columns).flat();
}

export function fromList(list: readonly Task[]): Record<number, Task> {
  const out: Record<number, Task> = {};
  for (const task of list) out[task.id] = task;
  return out;
}

/**
 * `next`, except that each column holding the same tasks in the same order as in `prev` is
 * `prev`'s very array. While a card is held the board builds its columns from the drag's ids;
 * a column the held card did not enter or leave then keeps its props, and its memoised
 * component skips rendering.
 */
export function reuseColumns(prev: Columns | null, next: Columns): Columns {
  if (!prev) return next;
  let changed = false;
  const out = {} as Record<Status, readonly Task[]>;
  for (const s of STATUSES) {
    const a = prev[s];
    const b = next[s];
    const same = a.length === b.length && a.every((task, i) => task === b[i]);
    out[s] = same ? a : b;
    if (!same) changed = true;
  }
  return changed ? out : prev;
}
