//! The board switcher in the header: every board the credential sees (live), and for admins the
//! ways to make a board, rename or archive this one, and invite someone.

import { useState } from "react";
import type { BoardInfo } from "../protocol";
import { selectBoardList } from "../state/reducer";
import { useStore } from "../state/store";
import { canAdminister, useApp } from "./App";
import { BoardSettingsDialog } from "./BoardSettingsDialog";
import { InviteDialog } from "./InviteDialog";
import { NewBoardDialog } from "./NewBoardDialog";
import { PlusIcon } from "./Icons";

type OpenDialog = "new" | "settings" | "invite" | null;

/** The options: open boards, then the archived ones in their own group, marked as such. */
function BoardOptions({ boards, current }: { boards: BoardInfo[]; current: string }) {
  const open = boards.filter((b) => !b.archived);
  const archived = boards.filter((b) => b.archived);
  // Before the first sync (or offline with no saved list) the board on screen is still listed.
  const unlisted = !boards.some((b) => b.id === current);
  return (
    <>
      {unlisted && <option value={current}>{current}</option>}
      {open.map((b) => (
        <option key={b.id} value={b.id}>
          {b.name}
        </option>
      ))}
      {archived.length > 0 && (
        <optgroup label="Archived">
          {archived.map((b) => (
            <option key={b.id} value={b.id}>
              {b.name} (archived)
            </option>
          ))}
        </optgroup>
      )}
    </>
  );
}

export function BoardSwitcher() {
  const { store, creds, switchBoard } = useApp();
  const boards = useStore(store, selectBoardList);
  const current = useStore(store, (s) => s.board);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const close = () => setDialog(null);
  return (
    <div className="board-switcher">
      <label className="board-select">
        <span className="sr-only">Board</span>
        <select value={current} onChange={(e) => switchBoard(e.target.value)} data-testid="board-select">
          <BoardOptions boards={boards} current={current} />
        </select>
      </label>
      {canAdminister(creds) && (
        <div className="board-actions">
          <button className="ghost small" onClick={() => setDialog("new")} title="Create a board">
            <PlusIcon size={14} /> New board
          </button>
          <button className="ghost small" onClick={() => setDialog("settings")} title="Rename or archive this board">
            Rename
          </button>
          <button className="ghost small" onClick={() => setDialog("invite")} title="Make an invite link">
            Invite someone
          </button>
        </div>
      )}
      {dialog === "new" && <NewBoardDialog onClose={close} />}
      {dialog === "settings" && <BoardSettingsDialog onClose={close} />}
      {dialog === "invite" && <InviteDialog onClose={close} />}
    </div>
  );
}
