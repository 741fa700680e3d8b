//! The board switcher in the header: every board the credential sees (live), and for admins the
//! ways to make a board, rename or archive this one, and invite someone; the board menu (export,
//! import, webhooks).

import { useState } from "react";
import { selectBoardList } from "../state/reducer";
import { useStore } from "../state/store";
import { canAdminister, useApp } from "./appContext";
import { BoardMenu } from "./BoardMenu";
import { BoardPicker } from "./BoardPicker";
import { BoardSettingsDialog } from "./BoardSettingsDialog";
import { InviteDialog } from "./InviteDialog";
import { NewBoardDialog } from "./NewBoardDialog";
import { PlusIcon } from "./Icons";

type OpenDialog = "new" | "settings" | "invite" | null;

export function BoardSwitcher() {
  const { store, creds, switchBoard } = useApp();
  const boards = useStore(store, selectBoardList);
  const current = useStore(store, (s) => s.board);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const close = () => setDialog(null);
  return (
    <div className="board-switcher">
      <BoardPicker boards={boards} current={current} onPick={switchBoard} />
      <BoardMenu />
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
