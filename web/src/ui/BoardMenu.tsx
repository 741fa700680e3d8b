//! The board menu in the header: export the board (anyone who can read it), its labels (those
//! who may write) and, for admins, import a file into it and manage its webhooks.

import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { api } from "../net/rest";
import type { ExportFormat } from "../protocol";
import { useStore } from "../state/store";
import { showToast } from "../state/toasts";
import { canAdminister, canWrite, useApp } from "./appContext";
import { LabelManager } from "./LabelManager";
import { ImportDialog } from "./ImportDialog";
import { exportFileName } from "./integrations";
import { WebhooksDialog } from "./WebhooksDialog";

/** Saves `blob` as `name` the way a link with `download` does. */
function saveFile(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it starts; the object URL only holds memory.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function BoardMenu() {
  const { store, creds } = useApp();
  const board = useStore(store, (s) => s.board);
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState<"import" | "webhooks" | "labels" | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const outside = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    root.current?.querySelector<HTMLButtonElement>('[role="menuitem"]')?.focus();
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);

  function onMenuKey(e: KeyboardEvent<HTMLDivElement>) {
    const items = [...(root.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") {
      e.preventDefault();
      setOpen(false);
      button.current?.focus();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    }
  }

  async function download(format: ExportFormat) {
    setOpen(false);
    const result = await api.exportBoard(creds, board, format);
    if (!result.ok) return showToast({ kind: "error", title: "Export failed", message: result.error.message });
    saveFile(result.data, exportFileName(board, format));
  }

  function openDialog(which: "import" | "webhooks" | "labels") {
    setOpen(false);
    setDialog(which);
  }

  const admin = canAdminister(creds);
  return (
    <div className="board-menu" ref={root} onKeyDown={onMenuKey}>
      <button
        ref={button}
        className="ghost small"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        title={admin ? "Export, import, webhooks" : "Export this board"}
      >
        Board ▾
      </button>
      {open && (
        <div className="menu" role="menu" aria-label="Board">
          <button role="menuitem" onClick={() => void download("json")}>
            Export JSON
          </button>
          <button role="menuitem" onClick={() => void download("csv")}>
            Export CSV
          </button>
          {canWrite(creds) && (
            <button role="menuitem" onClick={() => openDialog("labels")}>
              Labels…
            </button>
          )}
          {admin && (
            <>
              <hr />
              <button role="menuitem" onClick={() => openDialog("import")}>
                Import…
              </button>
              <button role="menuitem" onClick={() => openDialog("webhooks")}>
                Webhooks…
              </button>
            </>
          )}
        </div>
      )}
      {dialog === "import" && <ImportDialog onClose={() => setDialog(null)} />}
      {dialog === "webhooks" && <WebhooksDialog onClose={() => setDialog(null)} />}
      {dialog === "labels" && <LabelManager onClose={() => setDialog(null)} />}
    </div>
  );
}
