//! Keeps the last board and the offline queue in IndexedDB, so a reload opens instantly and
//! changes made without a connection survive until they are sent.

import { openDB, type IDBPDatabase } from "idb";
import type { CachedBoard } from "./reducer";

const DB_NAME = "warroom";
const STORE = "kv";
const BOARD_KEY = "board";

let dbPromise: Promise<IDBPDatabase> | null = null;

function db(): Promise<IDBPDatabase> {
  dbPromise ??= openDB(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore(STORE);
    },
  });
  return dbPromise;
}

export async function loadBoard(): Promise<CachedBoard | null> {
  try {
    const value = (await (await db()).get(STORE, BOARD_KEY)) as CachedBoard | undefined;
    if (!value || !Array.isArray(value.tasks) || !Array.isArray(value.pending)) return null;
    return {
      tasks: value.tasks,
      pending: value.pending,
      agents: Array.isArray(value.agents) ? value.agents : [],
      seq: typeof value.seq === "number" ? value.seq : 0,
      savedAt: value.savedAt ?? null,
      activity: Array.isArray(value.activity) ? value.activity : [],
    };
  } catch {
    // Private windows and locked-down browsers may refuse IndexedDB: run without a cache.
    return null;
  }
}

export async function saveBoard(board: CachedBoard): Promise<void> {
  try {
    await (await db()).put(STORE, board, BOARD_KEY);
  } catch {
    /* see loadBoard */
  }
}

export async function clearBoard(): Promise<void> {
  try {
    await (await db()).delete(STORE, BOARD_KEY);
  } catch {
    /* see loadBoard */
  }
}
