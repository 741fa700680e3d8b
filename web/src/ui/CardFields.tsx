//! The card view's own fields: labels (pick from the board's), the due date, the description
//! written in Markdown and shown rendered, and who else is looking at the card.

import { useState } from "react";
import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { Avatar } from "./Avatar";
import { LabelChip } from "./CardBadges";
import { Markdown } from "./Markdown";
import { MentionTextarea } from "./Mentions";
import { useBoardLabels } from "./boardLabels";

/** The labels set, in the order they were set; toggling one adds it at the end or takes it off. */
export function LabelPicker(props: { value: number[]; onChange: (ids: number[]) => void; disabled?: boolean }) {
  const labels = useBoardLabels();
  if (labels.length === 0) {
    return <p className="muted small-print">This board has no labels yet (Board ▾ → Labels…).</p>;
  }
  return (
    <div className="label-picker" role="group" aria-label="Labels">
      {labels.map((label) => {
        const on = props.value.includes(label.id);
        return (
          <label key={label.id} className={`label-option${on ? " is-on" : ""}`}>
            <input
              type="checkbox"
              checked={on}
              disabled={props.disabled}
              onChange={() =>
                props.onChange(on ? props.value.filter((id) => id !== label.id) : [...props.value, label.id])
              }
            />
            <LabelChip label={label} />
          </label>
        );
      })}
    </div>
  );
}

/** Written as Markdown, read rendered: "Write" and "Preview" over one field. */
export function DescriptionField(props: { value: string; onChange: (text: string) => void; readOnly?: boolean }) {
  const [writing, setWriting] = useState(() => !props.readOnly && props.value.trim() === "");
  return (
    <div className="field description-field">
      <div className="description-head">
        <span>Description</span>
        {!props.readOnly && (
          <span className="tabs" role="tablist">
            <button
              type="button"
              role="tab"
              aria-selected={writing}
              className="ghost small"
              onClick={() => setWriting(true)}
            >
              Write
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={!writing}
              className="ghost small"
              onClick={() => setWriting(false)}
            >
              Preview
            </button>
          </span>
        )}
      </div>
      {writing ? (
        <MentionTextarea
          name="description"
          value={props.value}
          onValue={props.onChange}
          rows={6}
          maxLength={10000}
          aria-label="Description"
          placeholder="Details, links, acceptance criteria… Markdown works; @ mentions notify"
        />
      ) : props.value.trim() ? (
        <Markdown text={props.value} className="description-view" />
      ) : (
        <p className="muted small-print">No description.</p>
      )}
    </div>
  );
}

/** The others with this card open (`task:viewers`, this person left out). */
export function Viewers({ taskId }: { taskId: number }) {
  const { store, me } = useApp();
  const viewers = useStore(store, (s) => s.viewers[taskId]);
  const others = (viewers ?? []).filter((name) => name.toLowerCase() !== me.toLowerCase());
  if (others.length === 0) return null;
  return (
    <div className="viewers" data-testid="viewers" aria-label={`Also looking: ${others.join(", ")}`}>
      {others.map((name) => (
        <span key={name} className="viewer" title={`${name} is looking at this card`} data-viewer={name}>
          <Avatar name={name} size={24} />
        </span>
      ))}
      <span className="muted small-print">also here</span>
    </div>
  );
}
