//! Keeps each board's last copy and offline queue in IndexedDB, so a reload or a switch to another
//! board opens instantly (and offline), and changes made without a connection survive until they
//! are sent. A board is one entry in `kv` (queue, seq, agents, feed, labels, boards) plus one entry
//! per task in `tasks`, keyed `[board, id]`: a change rewrites the tasks it touched, not all of
//! them (a whole-board entry cost 35–45 ms of structured cloning per move at 5,000 cards), and
//! the positions, which a move changes in many tasks, are kept in the entry.

import { openDB, unwrap, type IDBPDatabase } from "idb";
import { MAIN_BOARD, type Task } from "../protocol";
import type { CachedBoard } from "./reducer";
import { sameFields } from "./tasks";
import { forgetMarks, markSaved } from "./savedMarks";

const DB_NAME = "warroom";
const STORE = "kv";
const TASKS = "tasks";
/** Where the single board was kept before there were boards: it is `main`'s copy. */
const LEGACY_KEY = "board";

let dbPromise: Promise<IDBPDatabase> | null = null;

function db(): Promise<IDBPDatabase> {
  dbPromise ??= openDB(DB_NAME, 2, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) database.createObjectStore(STORE);
      // Version 1 kept each board's tasks inside its entry; those entries still load (below).
      if (oldVersion < 2) database.createObjectStore(TASKS);
    },
    // A newer page wants to upgrade the database: step aside rather than hold it up; this
    // (outdated) page then runs without a cache.
    blocking(_current, _blocked, event) {
      (event.target as IDBDatabase).close();
    },
  });
  return dbPromise;
}

/** The entry of one board; board ids are slugs, so they cannot collide with the legacy key. */
function keyOf(board: string): string {
  return `board:${board}`;
}

/** Every task key of one board: ids are numbers, which sort before any array. */
function tasksOf(board: string): IDBKeyRange {
  return IDBKeyRange.bound([board], [board, []]);
}

/**
 * A board's entry as saved: the copy without its tasks but with every task's position (`[id,
 * position, id, position, …]`), or a whole copy saved before version 2. Positions live here, not
 * in the stored tasks: a move renumbers the tails of two columns, and rewriting those tasks one
 * by one cost more than the whole board in one entry did.
 */
type Entry = Omit<CachedBoard, "tasks"> & { tasks?: Task[]; positions?: number[] };

/** Whether a save must write `task` over `saved` (its last saved version): not for a new position alone. */
function changedBeyondPosition(task: Task, saved: Task | undefined): boolean {
  return saved === undefined || (task !== saved && !sameFields(task, saved, "position"));
}

export async function loadBoard(board: string): Promise<CachedBoard | null> {
  try {
    // One transaction: the entry and the tasks were written together, so they agree on `seq`.
    const tx = (await db()).transaction([STORE, TASKS]);
    const kv = tx.objectStore(STORE);
    let value = (await kv.get(keyOf(board))) as Entry | undefined;
    if (!value && board === MAIN_BOARD) value = (await kv.get(LEGACY_KEY)) as Entry | undefined;
    if (!value || !Array.isArray(value.pending)) return null;
    const tasks = Array.isArray(value.tasks)
      ? value.tasks
      : placed((await tx.objectStore(TASKS).getAll(tasksOf(board))) as Task[], value.positions);
    return {
      tasks,
      pending: value.pending,
      agents: Array.isArray(value.agents) ? value.agents : [],
      seq: typeof value.seq === "number" ? value.seq : 0,
      savedAt: value.savedAt ?? null,
      activity: Array.isArray(value.activity) ? value.activity : [],
      board,
      boards: Array.isArray(value.boards) ? value.boards : [],
      labels: Array.isArray(value.labels) ? value.labels : [],
    };
  } catch {
    // Private windows and locked-down browsers may refuse IndexedDB: run without a cache.
    return null;
  }
}

/** Stored tasks at the positions their entry saved (`[id, position, …]`). */
function placed(tasks: Task[], positions: number[] = []): Task[] {
  const at = new Map<number, number>();
  for (let i = 0; i + 1 < positions.length; i += 2) at.set(positions[i], positions[i + 1]);
  return tasks.map((task) => {
    const position = at.get(task.id);
    return position === undefined || position === task.position ? task : { ...task, position };
  });
}

/**
 * Task writes issued per turn of the page's event loop. Each `put` clones its task on the main
 * thread: a first save writes every task, and at 5,000 cards all at once was a 100 ms task just
 * after the board was first shown, holding back whatever the person did then.
 */
const PUTS_PER_TURN = 250;

/**
 * Puts `tasks` in `stored`, PUTS_PER_TURN at a time: the next ones are issued when the last of
 * the previous ones has succeeded, in a task of its own. The transaction stays open meanwhile (it
 * commits once no request is left), so the save stays one transaction, whole or not at all: a
 * task that cannot be stored aborts it, which its `done` reports.
 */
function putInTurns(stored: IDBObjectStore, board: string, tasks: readonly Task[]): void {
  let next = 0;
  const turn = () => {
    let last: IDBRequest | undefined;
    try {
      for (const end = Math.min(tasks.length, next + PUTS_PER_TURN); next < end; next++) {
        last = stored.put(tasks[next], [board, tasks[next].id]);
      }
    } catch {
      stored.transaction.abort();
      return;
    }
    if (last && next < tasks.length) last.onsuccess = turn;
  };
  turn();
}

/**
 * Saves the copy under the board it names (`main` for a copy made before boards), in one
 * transaction. `saved`: the tasks this page saved last for this board; then only the tasks that
 * are not the same objects as there (the reducer replaces a task it changes, never edits it) and
 * differ in more than their position are written, and the ones gone are deleted. Without it, the
 * board's stored tasks are replaced (the first save of a page, which also converts an entry
 * saved before version 2).
 * Resolves false if nothing was saved: the next save must then rewrite every task.
 */
export async function saveBoard(copy: CachedBoard, saved?: readonly Task[]): Promise<boolean> {
  try {
    const board = copy.board ?? MAIN_BOARD;
    const { tasks, ...rest } = copy;
    const positions: number[] = [];
    for (const task of tasks) positions.push(task.id, task.position);
    const entry: Entry = { ...rest, positions };
    const tx = (await db()).transaction([STORE, TASKS], "readwrite");
    // The requests are not awaited one by one: a failed one aborts the transaction, which `done`
    // reports (idb's promise per request would cost as much as the write itself at 5,000 tasks).
    const kv = unwrap(tx.objectStore(STORE));
    const stored = unwrap(tx.objectStore(TASKS));
    kv.put(entry, keyOf(board));
    // Once `main` has its own entry, the old one would only shadow nothing: drop it.
    if (board === MAIN_BOARD) kv.delete(LEGACY_KEY);
    let changed: readonly Task[] = tasks;
    if (saved) {
      const before = new Map(saved.map((task) => [task.id, task]));
      changed = tasks.filter((task) => changedBeyondPosition(task, before.get(task.id)));
      const kept = new Set(tasks.map((task) => task.id));
      for (const task of saved) if (!kept.has(task.id)) stored.delete([board, task.id]);
    } else {
      stored.delete(tasksOf(board));
    }
    putInTurns(stored, board, changed);
    await tx.done;
    markSaved(board, true);
    return true;
  } catch {
    /* see loadBoard */
    return false;
  }
}

/** Forgets one board's copy (the board was deleted on the server). */
export async function forgetBoard(board: string): Promise<void> {
  try {
    const tx = (await db()).transaction([STORE, TASKS], "readwrite");
    await Promise.all([
      tx.objectStore(STORE).delete(keyOf(board)),
      tx.objectStore(TASKS).delete(tasksOf(board)),
      tx.done,
    ]);
    markSaved(board, false);
  } catch {
    /* see loadBoard */
  }
}

/** Forgets every board's copy: signing out leaves nothing of the team's boards on the device. */
export async function clearBoards(): Promise<void> {
  try {
    const tx = (await db()).transaction([STORE, TASKS], "readwrite");
    await Promise.all([tx.objectStore(STORE).clear(), tx.objectStore(TASKS).clear(), tx.done]);
    forgetMarks();
  } catch {
    /* see loadBoard */
  }
}
