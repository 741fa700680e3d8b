//! Creating a board (admins): only a name; the server makes the id from it. The new board opens.

import { useState, type FormEvent } from "react";
import { api } from "../net/rest";
import { FormFooter } from "./FormFooter";
import { Modal } from "./Modal";
import { useApp } from "./appContext";

/** The server's refusal in the words of this dialog. */
export function explainBoardRefusal(status: number, message: string): string {
  if (status === 403) return "Only an admin can create, rename or archive boards.";
  if (status === 0) return "Cannot reach the server; try again once it is back.";
  return message;
}

export function NewBoardDialog({ onClose }: { onClose: () => void }) {
  const { store, creds, switchBoard } = useApp();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return setError("Give the board a name.");
    setSaving(true);
    const result = await api.createBoard(creds, trimmed);
    setSaving(false);
    if (!result.ok) return setError(explainBoardRefusal(result.status, result.error.message));
    // Listed at once; the server's board:created that follows changes nothing.
    store.dispatch({ type: "boardUpserted", board: result.data });
    onClose();
    switchBoard(result.data.id);
  }

  return (
    <Modal title="New board" onClose={onClose} className="is-narrow">
      <form className="edit-form" onSubmit={submit} noValidate>
        <label className="field">
          <span>Name</span>
          <input
            name="boardName"
            value={name}
            maxLength={100}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. Website relaunch"
            autoFocus
            aria-invalid={Boolean(error)}
          />
        </label>
        <FormFooter error={error} saving={saving} submit="Create board" busy="Creating…" onCancel={onClose} />
      </form>
    </Modal>
  );
}
