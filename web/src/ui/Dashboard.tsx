//! The dashboard frame: header (board, connection, typing, the notification bell, people), the
//! filter bar, the board (with the open card, named in the address), the side panels.

import { useEffect, useMemo, useState } from "react";
import { cardToOpen, openOnArrival, rememberTask } from "../credentials";
import { useStore } from "../state/store";
import { selectVisibleTasks } from "../state/reducer";
import { cardMatcher, isFiltering, loadFilter, saveFilter, type CardFilter } from "../state/filters";
import { Filters } from "./Filters";
import { Bell } from "./Bell";
import { useNow } from "./util";
import { canWrite, useApp } from "./appContext";
import { BoardSwitcher } from "./BoardSwitcher";
import { Board } from "./Board";
import { ConnectionBadge } from "./ConnectionBadge";
import { Avatar } from "./Avatar";
import { ActivityPanel, AgentsPanel, PeoplePanel } from "./Panels";
import { Toasts } from "./Toasts";
import { KeyboardIcon, Logo, LogoutIcon } from "./Icons";
import { ShortcutsDialog } from "./ShortcutsDialog";

function TypingIndicator() {
  const { store } = useApp();
  const typing = useStore(store, (s) => s.typing);
  if (typing.length === 0) return <div className="typing" aria-hidden="true" />;
  const who = typing.length > 3 ? `${typing.slice(0, 3).join(", ")} +${typing.length - 3}` : typing.join(", ");
  return (
    <div className="typing is-active" role="status" aria-live="polite" data-testid="typing">
      <span className="typing-dots" aria-hidden="true">
        <i />
        <i />
        <i />
      </span>
      <span>
        <strong>{who}</strong> TYPING...
      </span>
    </div>
  );
}

export function Dashboard({ onSignOut }: { onSignOut: () => void }) {
  const { me, store, creds, switchBoard } = useApp();
  const [help, setHelp] = useState(false);
  // The card view open, if any: a card, a blocker chip or the agents panel opens it.
  const [editing, setEditing] = useState<number | null>(() => cardToOpen(store.getState().board));
  const board = useStore(store, (s) => s.board);
  const [filter, setFilter] = useState<CardFilter>(() => loadFilter(store.getState().board));
  // Due filters move with the clock: "today" ends at midnight.
  const minute = useNow(60_000);
  const matcher = useMemo(() => (isFiltering(filter) ? cardMatcher(filter, minute) : undefined), [filter, minute]);
  const shown = useStore(store, (s) => (matcher ? Object.values(selectVisibleTasks(s)).filter(matcher).length : 0));
  const changeFilter = (next: CardFilter) => {
    setFilter(next);
    saveFilter(board, next);
  };
  const boardName = useStore(store, (s) => s.boards.find((b) => b.id === s.board)?.name ?? s.board);

  // A card named by the address opens once its board is here (saved copy or server), so the view
  // starts from the card's values rather than from nothing.
  const cardKnown = useStore(store, (s) => editing !== null && (s.synced || Boolean(s.tasks[editing])));
  useEffect(() => rememberTask(editing), [editing]);
  // Another board is another dashboard: this one's card leaves the address with it.
  useEffect(() => () => rememberTask(null), []);

  useEffect(() => {
    // Several boards in several tabs: the tab says which is which.
    document.title = `${boardName} · warroom`;
  }, [boardName]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, [contenteditable=true]")) return;
      e.preventDefault();
      setHelp(true);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        {/* The page's title for screen readers; the switcher beside it shows the board. */}
        <h1 className="sr-only">{boardName} · warroom</h1>
        <div className="brand">
          <Logo />
          <span className="brand-name">warroom</span>
        </div>
        <BoardSwitcher />
        {!canWrite(creds) && (
          <span
            className="read-only-badge"
            data-testid="read-only"
            title="Your invite lets you see this board, not change it"
          >
            View only
          </span>
        )}
        <ConnectionBadge />
        <TypingIndicator />
        <div className="topbar-end">
          <Bell
            onOpen={(target, taskId) => {
              if (target === board) return setEditing(taskId);
              openOnArrival(target, taskId);
              switchBoard(target);
            }}
          />
          <button className="ghost icon-button" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)">
            <KeyboardIcon />
            <span className="sr-only">Keyboard shortcuts</span>
          </button>
          <div className="me" title={`Signed in as ${me}`}>
            <Avatar name={me} size={30} />
            <span className="me-name">{me}</span>
          </div>
          <button className="ghost icon-button" onClick={onSignOut} title="Sign out of this device">
            <LogoutIcon />
            <span className="sr-only">Sign out</span>
          </button>
        </div>
      </header>
      <div className="layout">
        <div className="board-area">
          <Filters filter={filter} onChange={changeFilter} shown={shown} />
          <Board editing={cardKnown ? editing : null} onEdit={setEditing} filter={matcher} />
        </div>
        <aside className="sidebar" aria-label="Team">
          <PeoplePanel />
          <AgentsPanel onOpen={setEditing} />
          <ActivityPanel />
        </aside>
      </div>
      <Toasts />
      {help && <ShortcutsDialog onClose={() => setHelp(false)} />}
    </div>
  );
}
