//! What a card's face says of its labels (coloured chips), due date (red when overdue, marked
//! when due today, in the viewer's local time) and comments (a count).

import type { Label, Task } from "../protocol";
import { dueState } from "../state/filters";
import { CommentIcon } from "./Icons";
import { dateTime, dueLabel } from "./dates";
import { readableText } from "./util";

export function LabelChip({ label }: { label: Label }) {
  return (
    <span
      className="label-chip"
      data-label={label.name}
      style={{ background: label.color, color: readableText(label.color) }}
    >
      {label.name}
    </span>
  );
}

const DUE_WORDS = { overdue: "Overdue", today: "Due today", week: "Due", later: "Due" } as const;

export function DueBadge({ dueAt, now }: { dueAt: string; now: number }) {
  const state = dueState(dueAt, now);
  if (!state) return null;
  const full = dateTime(dueAt);
  return (
    <time className={`due-badge is-${state}`} dateTime={dueAt} data-due={state} title={`${DUE_WORDS[state]}: ${full}`}>
      {state === "overdue" ? "Overdue · " : ""}
      {dueLabel(dueAt, now)}
    </time>
  );
}

/** Labels the board no longer has (deleted meanwhile) are left out. */
export function CardBadges(props: { task: Task; labels: Readonly<Record<number, Label>>; now: number }) {
  const { task, labels, now } = props;
  const chips = (task.labels ?? []).map((id) => labels[id]).filter((l): l is Label => Boolean(l));
  const comments = task.commentCount ?? 0;
  if (chips.length === 0 && !task.dueAt && comments === 0) return null;
  return (
    <div className="card-badges">
      {chips.map((label) => (
        <LabelChip key={label.id} label={label} />
      ))}
      {task.dueAt && <DueBadge dueAt={task.dueAt} now={now} />}
      {comments > 0 && (
        <span className="comment-count" data-testid="comment-count" title={`${comments} comments`}>
          <CommentIcon size={12} /> {comments}
        </span>
      )}
    </div>
  );
}
