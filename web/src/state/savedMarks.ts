//! Which boards have a saved copy, in `localStorage`: the page's first script reads it before
//! anything else loads (it asks a first visit's board of REST), and IndexedDB (`persist.ts`)
//! answers a new browser profile only after 150-200 ms.

/**
 * A page with nothing saved of its board (no queue to send first, no seq to resume from) connects
 * without waiting for IndexedDB, and asks for the board over REST as it starts.
 */
const SAVED_MARK = "warroom.saved:";

/** Whether `board` may have a saved copy; when storage cannot tell, it may (the page waits for it). */
export function hasSavedBoard(board: string): boolean {
  try {
    return localStorage.getItem(SAVED_MARK + board) !== null;
  } catch {
    return true;
  }
}

export function markSaved(board: string, saved: boolean): void {
  try {
    if (saved) localStorage.setItem(SAVED_MARK + board, "1");
    else localStorage.removeItem(SAVED_MARK + board);
  } catch {
    /* the mark only saves waiting; without it the page waits for IndexedDB */
  }
}

export function forgetMarks(): void {
  try {
    const keys: string[] = [];
    for (let i = 0; i < localStorage.length; i++) keys.push(localStorage.key(i) ?? "");
    for (const key of keys) if (key.startsWith(SAVED_MARK)) localStorage.removeItem(key);
  } catch {
    /* see markSaved */
  }
}
