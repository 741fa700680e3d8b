//! One status column: its header and count, its sortable cards, and the inline new-task form.

import { memo, useMemo } from "react";
import { useDroppable } from "@dnd-kit/core";
import { SortableContext, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { STATUS_LABELS, type Status, type Task } from "../protocol";
import type { CardKeyAction } from "./Board";
import { SortableCard } from "./Card";
import { Composer } from "./Composer";
import { PlusIcon } from "./Icons";

/**
 * Memoised: the board hands each column the same `tasks` array and callbacks while its cards are
 * unchanged, so a change in one column renders that column only. A card's lock and "saving" marks
 * are read by the card itself, for the same reason.
 */
export const Column = memo(function Column(props: {
  status: Status;
  tasks: Task[];
  count: number;
  now: number;
  draggingId: number | null;
  focusId: number | null;
  onOpen: (id: number) => void;
  onKey: (task: Task, action: CardKeyAction) => void;
  composerOpen: boolean;
  onComposer: (status: Status, open: boolean) => void;
  /** False for a viewer: no way to add a card is offered (the server would refuse it). */
  canAdd: boolean;
}) {
  const { status, tasks } = props;
  // A new array would tell every sortable card in the column that the list changed.
  const ids = useMemo(() => tasks.map((t) => t.id), [tasks]);
  const { setNodeRef, isOver } = useDroppable({ id: `column:${status}` });
  const headingId = `column-${status}`;
  return (
    <section
      className={`column is-${status.toLowerCase()}${isOver ? " is-over" : ""}`}
      aria-labelledby={headingId}
      data-status={status}
      data-testid={`column-${status}`}
    >
      <header className="column-header">
        <span className="column-accent" aria-hidden="true" />
        <h2 id={headingId}>{STATUS_LABELS[status]}</h2>
        <span className="count" data-testid={`count-${status}`} aria-label={`${props.count} tasks`}>
          {props.count}
        </span>
        {props.canAdd && (
          <button
            className="ghost icon-button small column-add"
            onClick={() => props.onComposer(status, true)}
            title={`Add a task to ${STATUS_LABELS[status]}`}
          >
            <PlusIcon />
            <span className="sr-only">Add a task to {STATUS_LABELS[status]}</span>
          </button>
        )}
      </header>
      <div ref={setNodeRef} className="column-body">
        <SortableContext items={ids} strategy={verticalListSortingStrategy}>
          <ol className="cards" aria-label={`${STATUS_LABELS[status]} tasks`}>
            {tasks.map((task) => (
              <SortableCard
                key={task.id}
                task={task}
                now={props.now}
                placeholder={props.draggingId === task.id}
                autoFocus={props.focusId === task.id}
                onOpen={props.onOpen}
                onKey={props.onKey}
              />
            ))}
          </ol>
        </SortableContext>
        {tasks.length === 0 && !props.composerOpen && (
          <p className="column-empty">{props.canAdd ? "Drop cards here" : "No cards"}</p>
        )}
        {props.canAdd &&
          (props.composerOpen ? (
            <Composer status={status} onClose={() => props.onComposer(status, false)} />
          ) : (
            <button className="add-card" onClick={() => props.onComposer(status, true)}>
              <PlusIcon size={14} /> Add task
            </button>
          ))}
      </div>
    </section>
  );
});
