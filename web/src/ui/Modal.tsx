//! A modal on the native <dialog>: focus trapping, Esc and the backdrop come from the browser.

import { useEffect, useRef, type ReactNode } from "react";
import { CloseIcon } from "./Icons";

export function Modal(props: { title: string; onClose: () => void; children: ReactNode; className?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    const cancel = (e: Event) => {
      e.preventDefault();
      onClose.current();
    };
    dialog.addEventListener("cancel", cancel);
    return () => {
      dialog.removeEventListener("cancel", cancel);
      if (dialog.open) dialog.close();
      // Give focus back to what opened the dialog (a card, usually) if it is still there.
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={`modal ${props.className ?? ""}`}
      aria-labelledby="modal-title"
      onMouseDown={(e) => {
        // A click on the backdrop (the dialog element itself, outside its box) closes it.
        if (e.target === ref.current) props.onClose();
      }}
    >
      <div className="modal-box">
        <header className="modal-header">
          <h2 id="modal-title">{props.title}</h2>
          <button className="ghost icon-button" onClick={props.onClose} title="Close">
            <CloseIcon />
            <span className="sr-only">Close</span>
          </button>
        </header>
        {props.children}
      </div>
    </dialog>
  );
}
