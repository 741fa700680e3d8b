//! Keeps each board's last copy and offline queue in IndexedDB, one entry per board, so a reload
//! or a switch to another board opens instantly (and offline), and changes made without a
//! connection survive until they are sent.

import { openDB, type IDBPDatabase } from "idb";
import { MAIN_BOARD } from "../protocol";
import type { CachedBoard } from "./reducer";

const DB_NAME = "warroom";
const STORE = "kv";
/** Where the single board was kept before there were boards: it is `main`'s copy. */
const LEGACY_KEY = "board";

let dbPromise: Promise<IDBPDatabase> | null = null;

function db(): Promise<IDBPDatabase> {
  dbPromise ??= openDB(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore(STORE);
    },
  });
  return dbPromise;
}

/** The entry of one board; board ids are slugs, so they cannot collide with the legacy key. */
function keyOf(board: string): string {
  return `board:${board}`;
}

export async function loadBoard(board: string): Promise<CachedBoard | null> {
  try {
    const database = await db();
    let value = (await database.get(STORE, keyOf(board))) as CachedBoard | undefined;
    if (!value && board === MAIN_BOARD) value = (await database.get(STORE, LEGACY_KEY)) as CachedBoard | undefined;
    if (!value || !Array.isArray(value.tasks) || !Array.isArray(value.pending)) return null;
    return {
      tasks: value.tasks,
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

/** Saves the copy under the board it names (`main` for a copy made before boards). */
export async function saveBoard(copy: CachedBoard): Promise<void> {
  try {
    const database = await db();
    const board = copy.board ?? MAIN_BOARD;
    await database.put(STORE, copy, keyOf(board));
    // Once `main` has its own entry, the old one would only shadow nothing: drop it.
    if (board === MAIN_BOARD) await database.delete(STORE, LEGACY_KEY);
  } catch {
    /* see loadBoard */
  }
}

/** Forgets one board's copy (the board was deleted on the server). */
export async function forgetBoard(board: string): Promise<void> {
  try {
    await (await db()).delete(STORE, keyOf(board));
  } catch {
    /* see loadBoard */
  }
}

/** Forgets every board's copy: signing out leaves nothing of the team's boards on the device. */
export async function clearBoards(): Promise<void> {
  try {
    await (await db()).clear(STORE);
  } catch {
    /* see loadBoard */
  }
}
