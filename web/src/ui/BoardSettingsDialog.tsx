//! Renaming, archiving and deleting the board on screen (admins); everyone who sees it is told
//! at once.

import { useState, type FormEvent } from "react";
import { api } from "../net/rest";
import { MAIN_BOARD } from "../protocol";
import { useStore } from "../state/store";
import { FormFooter } from "./FormFooter";
import { Modal } from "./Modal";
import { useApp } from "./appContext";
import { explainBoardRefusal } from "./NewBoardDialog";

export function BoardSettingsDialog({ onClose }: { onClose: () => void }) {
  const { store, creds } = useApp();
  const boardId = useStore(store, (s) => s.board);
  const board = useStore(store, (s) => s.boards.find((b) => b.id === s.board));
  const [name, setName] = useState(board?.name ?? boardId);
  const [archived, setArchived] = useState(board?.archived ?? false);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");

  async function remove() {
    setSaving(true);
    const result = await api.deleteBoard(creds, boardId);
    setSaving(false);
    if (!result.ok) return setError(explainBoardRefusal(result.status, result.error.message));
    // The server tells every socket on it (board:deleted); this session then moves to another
    // board with a toast, like everyone else who was on it.
    onClose();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return setError("A board needs a name.");
    const changes: { name?: string; archived?: boolean } = {};
    if (trimmed !== board?.name) changes.name = trimmed;
    if (archived !== (board?.archived ?? false)) changes.archived = archived;
    if (Object.keys(changes).length === 0) return onClose();
    setSaving(true);
    const result = await api.updateBoard(creds, boardId, changes);
    setSaving(false);
    if (!result.ok) return setError(explainBoardRefusal(result.status, result.error.message));
    store.dispatch({ type: "boardUpserted", board: result.data });
    onClose();
  }

  return (
    <Modal title="Board settings" onClose={onClose} className="is-narrow">
      <form className="edit-form" onSubmit={submit} noValidate>
        <label className="field">
          <span>Name</span>
          <input
            name="boardName"
            value={name}
            maxLength={100}
            onChange={(e) => setName(e.target.value)}
            autoFocus
            aria-invalid={Boolean(error)}
          />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={archived}
            // SPEC: main always exists and cannot be archived.
            disabled={boardId === MAIN_BOARD}
            onChange={(e) => setArchived(e.target.checked)}
          />
          <span>Archived (listed last; its cards stay)</span>
        </label>
        <p className="muted small-print">
          Address: <span className="mono">?board={boardId}</span> (the id stays when the name changes)
        </p>
        <FormFooter error={error} saving={saving} submit="Save" busy="Saving…" onCancel={onClose} />
      </form>
      {boardId !== MAIN_BOARD && (
        <section className="danger-zone" aria-label="Delete this board">
          {!confirming ? (
            <button type="button" className="ghost danger-text" onClick={() => setConfirming(true)}>
              Delete board…
            </button>
          ) : (
            <>
              <p className="confirm-text">
                Every card, comment and label on <strong>{board?.name ?? boardId}</strong> goes too, for everyone. This
                cannot be undone. Type <span className="mono">{boardId}</span> to confirm.
              </p>
              <input
                name="confirmBoardId"
                aria-label="Board id to confirm"
                value={typed}
                onChange={(e) => setTyped(e.target.value)}
                autoFocus
                autoComplete="off"
              />
              <div className="dialog-actions">
                <button type="button" className="ghost" onClick={() => setConfirming(false)}>
                  Keep it
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={saving || typed.trim() !== boardId}
                  onClick={() => void remove()}
                >
                  {saving ? "Deleting…" : "Delete board"}
                </button>
              </div>
            </>
          )}
        </section>
      )}
    </Modal>
  );
}
