//! The board's labels: create, rename, recolour and delete (editors and admins; the server has
//! the last word and its refusal, e.g. a name taken, is shown by the label).

import { useState, type FormEvent } from "react";
import type { Label } from "../protocol";
import { useApp } from "./appContext";
import { LabelChip } from "./CardBadges";
import { useBoardLabels } from "./boardLabels";
import { Modal } from "./Modal";
import { TrashIcon } from "./Icons";

/** GitHub's familiar label colours, offered for a new label in turn. */
const PALETTE = ["#d73a4a", "#0075ca", "#a2eeef", "#7057ff", "#008672", "#e4e669", "#d876e3", "#fbca04"];

function LabelRow({ label }: { label: Label }) {
  const { engine } = useApp();
  const [name, setName] = useState(label.name);
  const [color, setColor] = useState(label.color);
  const [error, setError] = useState<string | null>(null);
  const changed = name.trim() !== label.name || color.toLowerCase() !== label.color.toLowerCase();

  async function save(e: FormEvent) {
    e.preventDefault();
    const changes: { name?: string; color?: string } = {};
    if (name.trim() !== label.name) changes.name = name.trim();
    if (color.toLowerCase() !== label.color.toLowerCase()) changes.color = color;
    const ack = await engine.updateLabel(label.id, changes);
    setError(ack.ok ? null : ack.error.message);
  }

  async function remove() {
    const ack = await engine.deleteLabel(label.id);
    if (!ack.ok) setError(ack.error.message);
  }

  return (
    <li className="label-row" data-label-id={label.id}>
      <form onSubmit={(e) => void save(e)}>
        <LabelChip label={{ ...label, name: name || label.name, color }} />
        <input
          aria-label={`Name of ${label.name}`}
          value={name}
          maxLength={50}
          onChange={(e) => setName(e.target.value)}
        />
        <input
          type="color"
          aria-label={`Colour of ${label.name}`}
          value={color}
          onChange={(e) => setColor(e.target.value)}
        />
        <button type="submit" className="ghost small" disabled={!changed || !name.trim()}>
          Save
        </button>
        <button
          type="button"
          className="ghost icon-button small danger-text"
          title={`Delete ${label.name} (it comes off its cards)`}
          onClick={() => void remove()}
        >
          <TrashIcon size={14} />
          <span className="sr-only">Delete {label.name}</span>
        </button>
      </form>
      {error && (
        <p className="entry-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

export function LabelManager({ onClose }: { onClose: () => void }) {
  const { engine } = useApp();
  const labels = useBoardLabels();
  const [name, setName] = useState("");
  const [color, setColor] = useState(PALETTE[labels.length % PALETTE.length]);
  const [error, setError] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return;
    const ack = await engine.createLabel(name, color);
    if (!ack.ok) return setError(ack.error.message);
    setError(null);
    setName("");
    setColor(PALETTE[(labels.length + 1) % PALETTE.length]);
  }

  return (
    <Modal title="Labels" onClose={onClose} className="label-manager">
      {labels.length === 0 ? (
        <p className="muted">No labels yet on this board.</p>
      ) : (
        <ul className="label-rows">
          {labels.map((label) => (
            // Keyed by name and colour too, so a change by someone else resets the row's fields.
            <LabelRow key={`${label.id}:${label.name}:${label.color}`} label={label} />
          ))}
        </ul>
      )}
      <form className="label-new" onSubmit={(e) => void create(e)}>
        <input
          name="label-name"
          aria-label="New label name"
          placeholder="New label"
          value={name}
          maxLength={50}
          onChange={(e) => setName(e.target.value)}
        />
        <input
          type="color"
          name="label-color"
          aria-label="New label colour"
          value={color}
          onChange={(e) => setColor(e.target.value)}
        />
        <button type="submit" className="primary small" disabled={!name.trim()}>
          Add label
        </button>
      </form>
      {error && (
        <p className="entry-error" role="alert">
          {error}
        </p>
      )}
    </Modal>
  );
}
