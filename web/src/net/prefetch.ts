//! A first visit's board, asked of REST as the page starts. The page's first script (`early.ts`,
//! a few KiB loaded beside the app's) sends the requests while the app's script still loads and
//! runs, so the app's first render already has the cards; over the socket they would come only
//! once it has opened and joined (`sync:full`), after a first render of an empty board. The
//! socket's board, when it comes, is the truth (`prefetched` gives way to it in the reducer).

import { boardToOpen, inviteInUrl, savedCredentials } from "../credentials";
import type { BoardInfo, Label, Task } from "../protocol";
import { hasSavedBoard } from "../state/savedMarks";
import { api } from "./rest";

/** The board as REST answered it; null fields were refused or failed (the socket's come later). */
export interface Prefetched {
  tasks: Task[];
  labels: Label[] | null;
  boards: BoardInfo[] | null;
}

export interface BoardPrefetch {
  board: string;
  /** The answer once it has come (null: no board from REST); undefined while it is on its way. */
  ready: Prefetched | null | undefined;
  answer: Promise<Prefetched | null>;
}

/** This page's prefetch; null when the page is not a first visit; undefined until asked. */
let started: BoardPrefetch | null | undefined;

/**
 * Asks for the board this page opens when it is a first visit there: signed in (the app opens
 * the board, not the entry or invite screen) and nothing of it saved (a saved copy shows at once,
 * without the network). Once per page: the app's script calls it again and gets the same answer.
 */
export function prefetchBoard(): BoardPrefetch | null {
  if (started !== undefined) return started;
  const creds = savedCredentials();
  const board = boardToOpen();
  if (!creds || inviteInUrl() || hasSavedBoard(board)) return (started = null);
  const prefetch: BoardPrefetch = {
    board,
    ready: undefined,
    answer: Promise.all([api.tasks(creds, board), api.labels(creds, board), api.listBoards(creds)]).then(
      ([tasks, labels, boards]) => {
        const answer =
          tasks.ok && Array.isArray(tasks.data)
            ? {
                tasks: tasks.data,
                labels: labels.ok && Array.isArray(labels.data) ? labels.data : null,
                boards: boards.ok && Array.isArray(boards.data) ? boards.data : null,
              }
            : null;
        prefetch.ready = answer;
        return answer;
      },
    ),
  };
  return (started = prefetch);
}
