//! A task card: id, title, assignee, age, agent claim and progress, its labels, due date and
//! comment count, and its place in the work graph (the open blockers as chips, a ready mark,
//! dimmed while blocked); sortable unless someone else is holding it.

import { memo, useCallback, useEffect, useRef, type CSSProperties, type KeyboardEvent, type PointerEvent } from "react";
import type { DraggableAttributes, DraggableSyntheticListeners } from "@dnd-kit/core";
import { useSortable } from "@dnd-kit/sortable";
import { CSS, type Transform } from "@dnd-kit/utilities";
import type { Label, Task } from "../protocol";
import { sameFields } from "../state/tasks";
import { selectWorkGraph, type CardGraph } from "../state/graph";
import { selectPendingIds, type DragMark } from "../state/reducer";
import { useStore } from "../state/store";
import { canWrite, useApp } from "./appContext";
import type { CardKeyAction } from "./types";
import { Avatar } from "./Avatar";
import { BotIcon, HandIcon } from "./Icons";
import { CardBadges } from "./CardBadges";
import { dateTime } from "./dates";
import { hueFor, plainExcerpt, timeAgo, timeLeft } from "./util";

/** When the last drag ended: the click that ends a drag must not also open the card. */
let lastDragEnd = 0;
export function noteDragEnd(): void {
  lastDragEnd = Date.now();
}

/**
 * The card's creation date in words, as its tooltip: written when the pointer comes to it rather
 * than for every card drawn, since a page's first date format costs 25-50 ms (Chromium loads its
 * locale data) and a board without due dates then draws its first cards without one.
 */
function nameCreation(event: PointerEvent<HTMLTimeElement>): void {
  const time = event.currentTarget;
  if (!time.title) time.title = `Created ${dateTime(time.dateTime)}`;
}

/**
 * Whether two copies of a task look the same on a card. A move renumbers every card below it in
 * both columns (new objects, new `position`), and none of them needs drawing again for that.
 */
function sameFace(a: Task, b: Task): boolean {
  return a === b || sameFields(a, b, "position");
}

/**
 * The card's face. Memoised apart from the card's element (`CardShell`), which renders again
 * for its place in the column (`index`, the focus, a drag); the face, the costly part, then
 * stays as it was.
 */
export const CardView = memo(
  function CardView(props: {
    task: Task;
    now: number;
    dragMark?: DragMark;
    pending?: boolean;
    graph?: CardGraph;
    /** The board's labels, for the card's chips. */
    labels: Readonly<Record<number, Label>>;
    /** Opens a blocker's card (its chip); without it the chips are plain text (the drag overlay). */
    onOpen?: (id: number) => void;
  }) {
    const { task, now, dragMark, graph, onOpen } = props;
    const progress = task.progress;
    const percent = progress?.percent ?? null;
    const lease = task.claimedBy ? timeLeft(task.leaseExpiresAt, now) : null;
    const isTemp = task.id < 0;
    return (
      <>
        <div className="card-top">
          <span className="card-id mono" title={isTemp ? "Waiting for the server to number it" : undefined}>
            {isTemp ? "#…" : `#${task.id}`}
          </span>
          {props.pending && <span className="card-saving" title="Not confirmed by the server yet" />}
          {graph?.ready && (
            <span className="ready-mark" data-testid="ready-mark" title="Every blocker is done: ready to take">
              ready
            </span>
          )}
          <time className="card-age" dateTime={task.createdAt} onPointerEnter={nameCreation}>
            {timeAgo(task.createdAt, now)}
          </time>
        </div>
        <p className="card-title">{task.title}</p>
        {graph?.blocked && (
          <div className="card-deps" data-testid="blockers">
            <span className="card-deps-label">waiting on</span>
            {graph.open.map((id) =>
              onOpen ? (
                <button
                  key={id}
                  type="button"
                  className="dep-chip mono"
                  data-blocker={id}
                  title={`Open #${id}`}
                  // The card's own handlers (open it, start a drag) are not for the chip.
                  onPointerDown={(e) => e.stopPropagation()}
                  onKeyDown={(e) => e.stopPropagation()}
                  onClick={(e) => {
                    e.stopPropagation();
                    onOpen(id);
                  }}
                >
                  #{id}
                </button>
              ) : (
                <span key={id} className="dep-chip mono">
                  #{id}
                </span>
              ),
            )}
          </div>
        )}
        {task.description && <p className="card-desc">{plainExcerpt(task.description)}</p>}
        <CardBadges task={task} labels={props.labels} now={now} />
        {progress && (
          <div className="card-progress" title={progress.message}>
            {percent !== null && (
              <div
                className="progress-bar"
                role="progressbar"
                aria-label={`Progress of #${task.id}`}
                aria-valuenow={percent}
                aria-valuemin={0}
                aria-valuemax={100}
              >
                <span style={{ width: `${Math.max(0, Math.min(100, percent))}%` }} />
              </div>
            )}
            <span className="progress-text">
              {percent !== null && <strong>{Math.round(percent)}%</strong>} {progress.message}
            </span>
          </div>
        )}
        <div className="card-meta">
          {task.assignee ? (
            <span className="assignee">
              <Avatar name={task.assignee} size={20} bot={Boolean(task.claimedBy)} />
              <span className="assignee-name">{task.assignee}</span>
            </span>
          ) : (
            <span className="assignee is-empty">Unassigned</span>
          )}
          {task.claimedBy && (
            <span className="claim" title={`Claimed by agent ${task.claimedBy}`}>
              <BotIcon size={12} /> {lease ?? "claimed"}
            </span>
          )}
        </div>
        {dragMark && (
          <div className="card-lock" style={{ ["--hue" as string]: hueFor(dragMark.user) }}>
            <HandIcon size={13} /> {dragMark.user} is moving this
          </div>
        )}
      </>
    );
  },
  (a, b) =>
    a.now === b.now &&
    a.dragMark === b.dragMark &&
    a.pending === b.pending &&
    a.graph === b.graph &&
    a.labels === b.labels &&
    a.onOpen === b.onOpen &&
    sameFace(a.task, b.task),
);

/** How a screen reader and a hover name the card's place in the graph. */
function graphLabel(graph: CardGraph | undefined): string {
  if (graph?.blocked) return `, blocked: waiting on ${graph.open.map((id) => `#${id}`).join(", ")}`;
  if (graph?.ready) return ", ready";
  return "";
}

/** What the column hands each of its cards. */
interface CardProps {
  task: Task;
  /** The card's place in its column, and the column's measuring ref when it draws a window. */
  index: number;
  measure?: (node: HTMLLIElement | null) => void;
  now: number;
  placeholder: boolean;
  autoFocus: boolean;
  onOpen: (id: number) => void;
  onKey: (task: Task, action: CardKeyAction) => void;
}

/**
 * Whether a card is handed what it was. The focused card follows its own moves (the shell's
 * focus effect), so its position counts.
 */
function sameCard(a: CardProps, b: CardProps): boolean {
  return (
    a.now === b.now &&
    a.index === b.index &&
    a.measure === b.measure &&
    a.placeholder === b.placeholder &&
    a.autoFocus === b.autoFocus &&
    a.onOpen === b.onOpen &&
    a.onKey === b.onKey &&
    sameFace(a.task, b.task) &&
    (!b.autoFocus || a.task.position === b.task.position)
  );
}

/**
 * A card in a sortable column: dnd-kit's hook, and nothing else. dnd-kit renders the hook again
 * for changes that leave the card as it was (its column's list changed, a drag moved on); what
 * the card renders, the shell, is memoised apart, and renders only when what dnd-kit hands it
 * changes.
 */
export const SortableCard = memo(function SortableCard(props: CardProps) {
  const { store, creds } = useApp();
  // A viewer's cards open, and nothing more: no handle to grab, no keys that move.
  const writable = canWrite(creds);
  const dragMark = useStore(store, (s) => s.drags[props.task.id]);
  const { attributes, listeners, setNodeRef, transform, transition } = useSortable({
    id: props.task.id,
    disabled: Boolean(dragMark) || !writable,
    // A card is an item of its column's list (dnd-kit's default, a button, breaks the list for
    // screen readers and nests the card's own buttons inside one); it stays focusable.
    attributes: { role: "listitem" },
  });
  return (
    <CardShell
      {...props}
      writable={writable}
      dragMark={dragMark}
      attributes={attributes}
      listeners={listeners}
      setNodeRef={setNodeRef}
      transform={transform}
      transition={transition}
    />
  );
}, sameCard);

interface ShellProps extends CardProps {
  writable: boolean;
  dragMark: DragMark | undefined;
  attributes: DraggableAttributes;
  listeners: DraggableSyntheticListeners;
  setNodeRef: (node: HTMLElement | null) => void;
  transform: Transform | null;
  transition: string | undefined;
}

/** The card's element: its marks, its keys, its face. */
const CardShell = memo(
  function CardShell(props: ShellProps) {
    const { task, dragMark, writable, setNodeRef, measure } = props;
    const { store } = useApp();
    const pending = useStore(store, (s) => selectPendingIds(s).has(task.id));
    const graph = useStore(store, (s) => selectWorkGraph(s).get(task.id));
    const labels = useStore(store, (s) => s.labels);
    const ref = useRef<HTMLLIElement | null>(null);
    // The same function while the card keeps its element: React hands a new ref function the
    // element again, and the card would be registered again with dnd-kit and with the column's
    // window each time.
    const attach = useCallback(
      (node: HTMLLIElement | null) => {
        ref.current = node;
        setNodeRef(node);
        measure?.(node);
      },
      [setNodeRef, measure],
    );

    useEffect(() => {
      if (props.autoFocus) ref.current?.focus({ preventScroll: false });
    }, [props.autoFocus, task.status, task.position]);

    const style: CSSProperties = {
      transform: CSS.Translate.toString(props.transform),
      transition: props.transition,
      ["--hue" as string]: dragMark ? hueFor(dragMark.user) : undefined,
    };

    function onKeyDown(e: KeyboardEvent<HTMLLIElement>) {
      if (e.target !== e.currentTarget) return;
      let action: CardKeyAction | null = null;
      if (e.key === "Enter" || (e.key === " " && !e.shiftKey)) action = "open";
      else if (e.key === "Delete" || e.key === "Backspace") action = "delete";
      else if (e.shiftKey && e.key === "ArrowLeft") action = "left";
      else if (e.shiftKey && e.key === "ArrowRight") action = "right";
      else if (e.shiftKey && e.key === "ArrowUp") action = "up";
      else if (e.shiftKey && e.key === "ArrowDown") action = "down";
      if (!action || (!writable && action !== "open")) return;
      e.preventDefault();
      props.onKey(task, action);
    }

    const classes = ["card"];
    if (dragMark) classes.push("is-locked");
    if (props.placeholder) classes.push("is-placeholder");
    if (pending) classes.push("is-pending");
    if (task.claimedBy) classes.push("is-claimed");
    if (graph?.blocked) classes.push("is-blocked");
    if (graph?.ready) classes.push("is-ready");

    return (
      <li
        ref={attach}
        style={style}
        className={classes.join(" ")}
        data-testid="card"
        data-task-id={task.id}
        data-index={props.index}
        data-locked-by={dragMark?.user}
        data-blocked={graph?.blocked ? "true" : undefined}
        title={graph?.blocked ? `Blocked: waiting on ${graph.open.map((id) => `#${id}`).join(", ")}` : undefined}
        {...props.attributes}
        {...props.listeners}
        aria-roledescription="task card"
        aria-label={`#${task.id} ${task.title}${task.assignee ? `, assigned to ${task.assignee}` : ""}${graphLabel(graph)}${dragMark ? `, ${dragMark.user} is moving this` : ""}`}
        onKeyDown={onKeyDown}
        onClick={() => {
          // A card someone else holds is off limits until they let go, even for a click.
          if (dragMark || Date.now() - lastDragEnd < 300) return;
          props.onOpen(task.id);
        }}
      >
        <CardView
          task={task}
          now={props.now}
          dragMark={dragMark}
          pending={pending}
          graph={graph}
          labels={labels}
          onOpen={props.onOpen}
        />
      </li>
    );
  },
  (a, b) =>
    sameCard(a, b) &&
    a.writable === b.writable &&
    a.dragMark === b.dragMark &&
    a.attributes === b.attributes &&
    a.listeners === b.listeners &&
    a.setNodeRef === b.setNodeRef &&
    a.transform === b.transform &&
    a.transition === b.transition,
);
