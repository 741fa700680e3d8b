//! The keyboard help: everything on the board can be done without a mouse.

import { Modal } from "./Modal";

const SHORTCUTS: [string, string][] = [
  ["N", "New task in “To do”"],
  ["Tab / Shift+Tab", "Go from card to card"],
  ["Enter", "Open the focused card"],
  ["Shift + ← / →", "Move the card to the previous / next column"],
  ["Shift + ↑ / ↓", "Move the card up / down its column"],
  ["Delete", "Delete the focused card (asks first)"],
  ["Esc", "Close a form or dialog"],
  ["?", "Show this help"],
];

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <dl className="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys}>
            <dt>
              {keys
                .split(" ")
                .map((k, i) => (k === "/" || k === "+" ? <span key={i}> {k} </span> : <kbd key={i}>{k}</kbd>))}
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <div className="dialog-actions">
        <button className="primary" onClick={onClose} autoFocus>
          Got it
        </button>
      </div>
    </Modal>
  );
}
