//! The board list of the switcher: a button that opens a listbox (WAI-ARIA "select-only
//! combobox" pattern without typing). A native <select> was the first version; its list cannot be
//! styled, cannot show which boards are archived beyond a suffix, and is invisible to screenshots.
//!
//! Keys: on the button, ArrowDown/ArrowUp/Enter/Space open the list; in the list, ArrowUp/Down,
//! Home/End move, Enter/Space pick, Escape closes and Tab leaves.

import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import type { BoardInfo } from "../protocol";

function ChevronIcon() {
  return (
    <svg width="14" height="14" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2.2} aria-hidden>
      <path d="m6 9 6 6 6-6" />
    </svg>
  );
}

/**
 * Set when a board was picked from the list: switching remounts the dashboard, and the new
 * switcher takes the focus back so a keyboard user is where they were, not at the page's top.
 */
let focusAfterSwitch = false;

export function BoardPicker(props: {
  /** Open boards first, archived ones last (`selectBoardList`). */
  boards: BoardInfo[];
  current: string;
  onPick: (board: string) => void;
}) {
  const { current, onPick } = props;
  // Before the first sync (or offline with no saved list) the board on screen is still listed.
  const boards = props.boards.some((b) => b.id === current)
    ? props.boards
    : [{ id: current, name: current, description: "", archived: false, createdAt: "", createdBy: "" }, ...props.boards];
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const baseId = useId();
  const optionId = (index: number) => `${baseId}-option-${index}`;
  const currentBoard = boards.find((b) => b.id === current)!;
  const firstArchived = boards.findIndex((b) => b.archived);

  function show(at = boards.findIndex((b) => b.id === current)) {
    setActive(Math.max(0, at));
    setOpen(true);
  }

  function hide(refocus: boolean) {
    setOpen(false);
    if (refocus) button.current?.focus();
  }

  function pick(index: number) {
    const board = boards[index];
    hide(true);
    if (board && board.id !== current) {
      focusAfterSwitch = true;
      onPick(board.id);
    }
  }

  useEffect(() => {
    if (!focusAfterSwitch) return;
    focusAfterSwitch = false;
    button.current?.focus();
  }, []);

  useEffect(() => {
    if (!open) return;
    list.current?.focus();
  }, [open]);

  useEffect(() => {
    if (open) document.getElementById(optionId(active))?.scrollIntoView({ block: "nearest" });
  });

  function onButtonKey(e: KeyboardEvent) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      show();
    }
  }

  function onListKey(e: KeyboardEvent) {
    const last = boards.length - 1;
    const moves: Record<string, number> = {
      ArrowDown: Math.min(last, active + 1),
      ArrowUp: Math.max(0, active - 1),
      Home: 0,
      End: last,
    };
    if (e.key in moves) {
      e.preventDefault();
      setActive(moves[e.key]);
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      pick(active);
    } else if (e.key === "Escape") {
      e.preventDefault();
      // Only the list closes, not a dialog around it.
      e.stopPropagation();
      hide(true);
    } else if (e.key === "Tab") {
      hide(false);
    }
  }

  return (
    <div className="board-picker">
      <button
        ref={button}
        type="button"
        className="board-button"
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-controls={`${baseId}-list`}
        data-testid="board-button"
        data-board={current}
        title="Switch board"
        onClick={() => (open ? hide(false) : show())}
        onKeyDown={onButtonKey}
      >
        <span className="sr-only">Board: </span>
        <span className="board-button-name">{currentBoard.name}</span>
        {currentBoard.archived && <span className="board-tag">archived</span>}
        <ChevronIcon />
      </button>
      <ul
        ref={list}
        id={`${baseId}-list`}
        role="listbox"
        aria-label="Boards"
        tabIndex={-1}
        hidden={!open}
        aria-activedescendant={open ? optionId(active) : undefined}
        className="board-list"
        data-testid="board-list"
        onKeyDown={onListKey}
        onBlur={(e) => {
          // A click elsewhere closes the list; a click on the button toggles it itself.
          if (e.relatedTarget !== button.current) hide(false);
        }}
      >
        {boards.map((b, index) => (
          <li
            key={b.id}
            id={optionId(index)}
            role="option"
            aria-selected={b.id === current}
            className={`board-option${index === active ? " is-active" : ""}${
              index === firstArchived ? " is-first-archived" : ""
            }`}
            data-board={b.id}
            data-archived={b.archived || undefined}
            // Keeps focus in the list, so its blur does not close it before the click lands.
            onMouseDown={(e) => e.preventDefault()}
            onMouseMove={() => setActive(index)}
            onClick={() => pick(index)}
          >
            <span className="board-option-name">{b.name}</span>
            {b.archived && <span className="board-tag">archived</span>}
            {b.name.toLowerCase() !== b.id && <span className="board-option-id mono">{b.id}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
