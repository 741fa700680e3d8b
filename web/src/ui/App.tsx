//! The top of the app: the invite or key screen until the person is known, then the dashboard
//! of one board at a time.

import { useEffect, useLayoutEffect, useRef, useState } from "react";
import confetti from "canvas-confetti";
import {
  boardInHistory,
  dropInviteFromUrl,
  forgetKey,
  inviteInUrl,
  loadCredentials,
  savedCredentials,
  rememberBoard,
  saveCredentials,
} from "../credentials";
import type { Credentials } from "../credentials";
import type { BoardPrefetch } from "../net/prefetch";
import { api } from "../net/rest";
import { isRole, MAIN_BOARD, type BoardInfo } from "../protocol";
import { initialState, type CachedBoard } from "../state/reducer";
import { clearBoards, loadBoard } from "../state/persist";
import { hasSavedBoard } from "../state/savedMarks";
import { createStore } from "../state/store";
import { showToast } from "../state/toasts";
import { SyncEngine } from "../sync/engine";
import { KeyScreen } from "./KeyScreen";
import { InviteScreen } from "./InviteScreen";
import { Dashboard } from "./Dashboard";
import { AppContext } from "./appContext";

function explainAuthError(message: string): string {
  if (/^VALIDATION_ERROR/.test(message)) {
    const detail = message.replace(/^VALIDATION_ERROR:?\s*/, "");
    return `The server did not accept that display name${detail ? `: ${detail}` : "."}`;
  }
  const owner = /token belongs to (.+)$/i.exec(message)?.[1];
  if (owner) return `That personal token belongs to ${owner}: enter it with that name.`;
  return "The server did not accept that team key. Check it with whoever runs warroom and try again.";
}

/**
 * The board on screen, its saved copy (read while the page paints), the boards known so far, and
 * on a first visit the board as REST answered it while the page loaded.
 */
interface OpenBoard {
  board: string;
  cache: Promise<CachedBoard | null>;
  boards: BoardInfo[];
  first?: BoardPrefetch | null;
}

export function App(props: { board: string; cache: Promise<CachedBoard | null>; first: BoardPrefetch | null }) {
  const [opened, setOpened] = useState<OpenBoard>({
    board: props.board,
    cache: props.cache,
    boards: [],
    first: props.first?.board === props.board ? props.first : null,
  });
  const [invite, setInvite] = useState(inviteInUrl);
  const [creds, setCreds] = useState<Credentials | null>(savedCredentials);
  const [authError, setAuthError] = useState<string | null>(null);

  useEffect(() => {
    // A personal token typed on the entry screen does not say its role: the server does, so a
    // viewer is shown a read-only board instead of being offered what will be refused.
    if (!creds || creds.role) return;
    let active = true;
    void api.me(creds).then((answer) => {
      if (!active || !answer.ok || !isRole(answer.data?.role)) return;
      const next = { ...creds, role: answer.data.role };
      saveCredentials(next);
      setCreds(next);
    });
    return () => {
      active = false;
    };
  }, [creds]);

  const open = (board: string, boards: BoardInfo[] = []) => setOpened({ board, cache: loadBoard(board), boards });
  useEffect(() => {
    // Back and Forward go through the boards visited (each switch is a history entry).
    const onPop = () => {
      const named = boardInHistory();
      if (named)
        setOpened((now) => (now.board === named ? now : { board: named, cache: loadBoard(named), boards: now.boards }));
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  if (invite) {
    return (
      <InviteScreen
        code={invite}
        onAccepted={(accepted) => {
          const next: Credentials = { apiKey: accepted.token, name: accepted.name, role: accepted.role };
          saveCredentials(next);
          dropInviteFromUrl();
          // An invite limited to some boards opens the first of them; one for every board, main.
          open(accepted.boards[0] ?? MAIN_BOARD);
          setAuthError(null);
          setCreds(next);
          setInvite(null);
        }}
        onDecline={() => {
          dropInviteFromUrl();
          setInvite(null);
        }}
      />
    );
  }
  if (!creds) {
    const saved = loadCredentials();
    return (
      <KeyScreen
        initialKey={saved.apiKey ?? ""}
        initialName={saved.name ?? ""}
        error={authError}
        onSubmit={(next) => {
          saveCredentials(next);
          setAuthError(null);
          setCreds(next);
        }}
      />
    );
  }
  return (
    <Session
      // Another board is another session: a fresh store and socket, the old one saved and closed.
      key={`${creds.apiKey}\u0000${creds.name}\u0000${opened.board}`}
      creds={creds}
      opened={opened}
      onSwitch={open}
      onAuthError={(message) => {
        // The key stays when only the name was wrong (a bad name, or a token's owner's name).
        if (!/^VALIDATION_ERROR/.test(message) && !/token belongs to/i.test(message)) forgetKey();
        setAuthError(explainAuthError(message));
        setCreds(null);
      }}
      onSignOut={() => {
        forgetKey();
        setAuthError(null);
        setCreds(null);
        setOpened({ board: MAIN_BOARD, cache: Promise.resolve(null), boards: [] });
        // After the session's last save: a shared screen keeps no copy of any board.
        setTimeout(() => void clearBoards(), 0);
      }}
    />
  );
}

let celebrations = 0;

function celebrate(): void {
  celebrations += 1;
  // A marker for people's tools (and the end-to-end tests) that the celebration happened.
  document.body.dataset.celebrations = String(celebrations);
  const common = { particleCount: 90, spread: 70, startVelocity: 55, ticks: 220, disableForReducedMotion: true };
  void confetti({ ...common, angle: 60, origin: { x: 0, y: 0.75 } });
  void confetti({ ...common, angle: 120, origin: { x: 1, y: 0.75 } });
}

const UNAVAILABLE_TITLES = {
  BOARD_DELETED: (name: string) => `The board “${name}” was deleted`,
  BOARD_NOT_FOUND: (name: string) => `There is no board “${name}”`,
  FORBIDDEN: (name: string) => `You have no access to the board “${name}”`,
};

/**
 * Where to go when a board cannot be opened: main if this credential sees it, else its first
 * board. The server's list first: a list saved on this device may be another credential's, and
 * going from one refused board to another would never end.
 */
async function fallbackBoard(creds: Credentials, known: BoardInfo[], leaving: string): Promise<BoardInfo | null> {
  const listed = await api.listBoards(creds);
  const source = listed.ok && Array.isArray(listed.data) ? listed.data : known;
  const boards = source.filter((b) => b.id !== leaving);
  return boards.find((b) => b.id === MAIN_BOARD) ?? boards.find((b) => !b.archived) ?? boards[0] ?? null;
}

function Session(props: {
  creds: Credentials;
  opened: OpenBoard;
  onSwitch: (board: string, boards: BoardInfo[]) => void;
  onAuthError: (message: string) => void;
  onSignOut: () => void;
}) {
  const { creds, opened } = props;
  const [store] = useState(() => {
    const created = createStore(initialState(creds.name, opened.board, opened.boards));
    // A first visit whose board REST has already answered renders it at once: no empty board first.
    if (opened.first?.ready) created.dispatch({ type: "prefetched", ...opened.first.ready });
    return created;
  });
  useEffect(() => {
    const first = opened.first;
    if (!first || first.ready !== undefined) return;
    let active = true;
    void first.answer.then((answer) => {
      if (active && answer) store.dispatch({ type: "prefetched", ...answer });
    });
    return () => {
      active = false;
    };
  }, [store, opened.first]);
  // The engine outlives renders; it reaches the latest callbacks through refs.
  const onAuthError = useRef(props.onAuthError);
  const onSwitch = useRef(props.onSwitch);
  useEffect(() => {
    onAuthError.current = props.onAuthError;
    onSwitch.current = props.onSwitch;
  });
  const [switchBoard] = useState(() => (board: string) => {
    // The list travels along, so the switcher is complete before the next board syncs (or offline).
    if (board !== store.getState().board) onSwitch.current(board, store.getState().boards);
  });
  const [engine] = useState(
    () =>
      new SyncEngine(store, creds, {
        onAuthError: (m) => onAuthError.current(m),
        onCelebration: ({ user, taskId, title }) => {
          celebrate();
          showToast({
            kind: "success",
            title: `${user} finished #${taskId}`,
            message: title ? `“${title}” is done.` : undefined,
          });
        },
        onBoardUnavailable: (reason, message) => {
          const { board, boards } = store.getState();
          const name = boards.find((b) => b.id === board)?.name ?? board;
          void fallbackBoard(creds, boards, board).then((next) => {
            if (!next) return onAuthError.current(message);
            showToast({
              kind: "warning",
              title: UNAVAILABLE_TITLES[reason](name),
              message: `You are now on “${next.name}”.`,
            });
            // A deleted board has already left the list (board:deleted).
            onSwitch.current(next.id, store.getState().boards);
          });
        },
      }),
  );
  useEffect(() => {
    // The address names this board, so a copied link opens it; the next visit starts here too.
    rememberBoard(opened.board);
  }, [opened.board]);
  // A layout effect: the socket opens in the commit of the first render, while the browser lays
  // out and paints the empty board, rather than after that paint.
  useLayoutEffect(() => {
    // The saved board (and queue) is restored before connecting, so the queued changes are sent
    // first and in order. A stuck IndexedDB holds the connection back for 2 s at most; if it
    // answers later, its queue is still merged in and sent.
    let active = true;
    let started = false;
    const start = () => {
      if (active && !started) {
        started = true;
        engine.start();
      }
    };
    const timer = setTimeout(start, 2000);
    // Nothing saved for this board (a first visit): nothing to send first, no seq to resume from.
    if (!hasSavedBoard(opened.board)) start();
    void opened.cache.then((saved) => {
      if (!active) return;
      if (saved) engine.restore(saved);
      clearTimeout(timer);
      if (started) engine.kick();
      else start();
    });
    return () => {
      active = false;
      clearTimeout(timer);
      engine.stop();
    };
  }, [engine, store, opened.cache]);

  return (
    <AppContext.Provider value={{ store, engine, me: creds.name, creds, switchBoard }}>
      <Dashboard onSignOut={props.onSignOut} />
    </AppContext.Provider>
  );
}
