//! "Import…" (admins): pick a file (a warroom export, Trello's "Export as JSON" or CSV), see
//! what the server would import and skip (its dry run), then confirm. The import is one change:
//! every screen on the board, this one too, gets the board afresh.

import { useState, type FormEvent } from "react";
import { api, type RestResult } from "../net/rest";
import type { ImportReport } from "../protocol";
import { useStore } from "../state/store";
import { showToast } from "../state/toasts";
import { useApp } from "./appContext";
import { FormFooter } from "./FormFooter";
import { importCounts } from "./integrations";
import { Modal } from "./Modal";

function refusal(result: Extract<RestResult<unknown>, { ok: false }>): string {
  if (result.status === 403) return "Only an admin can import into a board.";
  if (result.status === 413) return "That file is over the 50 MiB an import may be.";
  return result.error.message;
}

export function ImportDialog({ onClose }: { onClose: () => void }) {
  const { store, creds } = useApp();
  const board = useStore(store, (s) => s.board);
  const boardName = useStore(store, (s) => s.boards.find((b) => b.id === s.board)?.name ?? s.board);
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"reading" | "importing" | null>(null);

  async function pick(chosen: File | null) {
    setFile(chosen);
    setPreview(null);
    setError(null);
    if (!chosen) return;
    setBusy("reading");
    const result = await api.importBoard(creds, board, chosen, true);
    setBusy(null);
    if (!result.ok) return setError(refusal(result));
    setPreview(result.data);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file || !preview) return setError("Pick a file first.");
    setBusy("importing");
    const result = await api.importBoard(creds, board, file, false);
    setBusy(null);
    if (!result.ok) return setError(refusal(result));
    showToast({ kind: "success", title: `Imported into ${boardName}`, message: importCounts(result.data) });
    onClose();
  }

  return (
    <Modal title="Import into this board" onClose={onClose}>
      <form className="edit-form" onSubmit={submit} noValidate>
        <label className="field">
          <span>File: a warroom export, a Trello board export (JSON) or CSV with a header row</span>
          <input
            type="file"
            name="importFile"
            accept=".json,.csv,application/json,text/csv"
            onChange={(e) => void pick(e.target.files?.[0] ?? null)}
            autoFocus
          />
        </label>
        {busy === "reading" && <p className="muted">Reading the file…</p>}
        {preview && (
          <section className="import-preview" data-testid="import-preview" aria-label="What will be imported">
            <p>
              Will add <strong data-testid="import-counts">{importCounts(preview)}</strong> to{" "}
              <strong>{boardName}</strong>, for everyone on it at once.
            </p>
            {preview.skipped.length > 0 && (
              <>
                <p className="muted">Skipped ({preview.skipped.length}):</p>
                <ul className="import-skipped" data-testid="import-skipped">
                  {preview.skipped.map((s, i) => (
                    <li key={i}>
                      <strong>{s.item}</strong>: <span className="muted">{s.reason}</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </section>
        )}
        <FormFooter
          error={error}
          saving={busy !== null || !preview}
          submit="Import"
          busy={busy === "importing" ? "Importing…" : "Import"}
          onCancel={onClose}
        />
      </form>
    </Modal>
  );
}
