//! One status column: its header and count, its sortable cards, and the inline new-task form.

import { useDroppable } from "@dnd-kit/core";
import { SortableContext, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { STATUS_LABELS, type Status, type Task } from "../protocol";
import type { DragMark } from "../state/reducer";
import type { CardKeyAction } from "./Board";
import { SortableCard } from "./Card";
import { Composer } from "./Composer";
import { PlusIcon } from "./Icons";

export function Column(props: {
  status: Status;
  tasks: Task[];
  count: number;
  drags: Readonly<Record<number, DragMark>>;
  pendingIds: ReadonlySet<number>;
  now: number;
  draggingId: number | null;
  focusId: number | null;
  onOpen: (task: Task) => void;
  onKey: (task: Task, action: CardKeyAction) => void;
  composerOpen: boolean;
  onComposer: (open: boolean) => void;
}) {
  const { status, tasks } = props;
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
        <button
          className="ghost icon-button small column-add"
          onClick={() => props.onComposer(true)}
          title={`Add a task to ${STATUS_LABELS[status]}`}
        >
          <PlusIcon />
          <span className="sr-only">Add a task to {STATUS_LABELS[status]}</span>
        </button>
      </header>
      <div ref={setNodeRef} className="column-body">
        <SortableContext items={tasks.map((t) => t.id)} strategy={verticalListSortingStrategy}>
          <ol className="cards" aria-label={`${STATUS_LABELS[status]} tasks`}>
            {tasks.map((task) => (
              <SortableCard
                key={task.id}
                task={task}
                now={props.now}
                dragMark={props.drags[task.id]}
                pending={props.pendingIds.has(task.id)}
                placeholder={props.draggingId === task.id}
                autoFocus={props.focusId === task.id}
                onOpen={props.onOpen}
                onKey={props.onKey}
              />
            ))}
          </ol>
        </SortableContext>
        {tasks.length === 0 && !props.composerOpen && <p className="column-empty">Drop cards here</p>}
        {props.composerOpen ? (
          <Composer status={status} onClose={() => props.onComposer(false)} />
        ) : (
          <button className="add-card" onClick={() => props.onComposer(true)}>
            <PlusIcon size={14} /> Add task
          </button>
        )}
      </div>
    </section>
  );
}
