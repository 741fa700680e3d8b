//! One status column: its header and count, its sortable cards (only those near the viewport
//! once there are many), and the inline new-task form.

import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useDroppable } from "@dnd-kit/core";
import { SortableContext, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { useVirtualizer, type Virtualizer } from "@tanstack/react-virtual";
import { STATUS_LABELS, type Status, type Task } from "../protocol";
import type { CardKeyAction } from "./types";
import { SortableCard } from "./Card";
import { Composer } from "./Composer";
import { PlusIcon } from "./Icons";
import { whenIdle } from "./util";

/**
 * From this many cards on, a column draws only the cards near its viewport. dnd-kit keeps every
 * droppable in one context, so each card mounting or unmounting anywhere re-renders every
 * `useSortable` hook on the board: 1,000 of them made a keyboard move cost hundreds of ms.
 * Below this, drawing them all costs little and the whole column stays in the DOM.
 */
const WINDOW_FROM = 50;
/** A one-line card with an assignee, before it is measured; measured cards use their own height. */
const ESTIMATED_CARD_PX = 88;
/** The `.cards` list's gap (0.55rem), which the window adds between cards it has not drawn. */
const CARD_GAP_PX = 8.8;
/**
 * Cards drawn beyond each edge of the viewport, so a fast scroll or a drag rarely shows a hole
 * (three cards are some 290 px). Every drawn card is a `useSortable` hook that renders again
 * whenever its column's order changes or a drag starts, so each one costs every move: six a
 * side made a keyboard move on a 1,000-card board 14–20 ms to the frame after, three 10.6.
 * Not in the board's first frame (`useOverscan`).
 */
const OVERSCAN = 3;
/**
 * What lies above a column's first card on a wide screen: the top bar, the filter bar and the
 * column's header (163 px at 1440 × 900). A narrow screen has more above its columns, so the
 * first window then draws a card too many rather than too few.
 */
const ABOVE_CARDS_PX = 160;

/**
 * The overscan of the board's columns: none until the page is first idle after the board has
 * cards, then OVERSCAN. The first frame of a long board draws only the cards in view: a first
 * render's cards are its costliest part (React creates every element, then the page lays them
 * out for the first time), and the six a column drew below the fold were a third of them.
 */
export function useOverscan(hasCards: boolean): number {
  const [settled, setSettled] = useState(false);
  useEffect(() => (hasCards && !settled ? whenIdle(() => setSettled(true)) : undefined), [hasCards, settled]);
  return settled ? OVERSCAN : 0;
}

/**
 * A drawn card's height, from the ResizeObserver only. The virtualiser also asks when a card is
 * drawn (its ref), in the middle of React's commit; reading the height there forced a layout per
 * commit, and when that height differed from the estimate, a second render and layout in the same
 * task (a text filter drawing ~70 new cards spent 23 ms in two such layouts). Answering with what
 * is known instead (the height measured before, else the estimate) leaves the measuring to the
 * observer, which reports every new card at once after the frame's own layout; the window is then
 * corrected in a render of its own, after the card is painted.
 */
export function measuredHeight(
  element: Element,
  entry: ResizeObserverEntry | undefined,
  virtualizer: Virtualizer<HTMLDivElement, Element>,
): number {
  const box = entry?.borderBoxSize?.[0];
  if (box) return box.blockSize;
  const key = virtualizer.options.getItemKey(virtualizer.indexFromElement(element));
  return virtualizer.itemSizeCache.get(key) ?? ESTIMATED_CARD_PX;
}

/**
 * The column's height, from a ResizeObserver only. The virtualiser's own way reads it at once
 * when a column starts windowing, in the middle of React's commit: on a board's first render
 * with cards, a forced layout of the whole board (20-40 ms at 1,000 cards), and when the height
 * differed from `initialRect`, a second render and layout in the same task before anything was
 * painted. The observer reports it after the frame's own layout; until then the window assumes
 * `initialRect`, and a different height corrects it in a render of its own, after that paint.
 */
export function observedRect(
  virtualizer: Virtualizer<HTMLDivElement, Element>,
  report: (rect: { width: number; height: number }) => void,
): (() => void) | undefined {
  const element = virtualizer.scrollElement;
  if (!element) return undefined;
  // Without an observer (old browsers, unit tests), the one way left is to read it now.
  const read = () => report({ width: element.clientWidth, height: element.clientHeight });
  if (typeof ResizeObserver === "undefined") {
    read();
    return undefined;
  }
  // The observer fires once the layout is done, so reading the size there forces nothing.
  const observer = new ResizeObserver(read);
  observer.observe(element);
  return () => observer.disconnect();
}

/**
 * Memoised: the board hands each column the same `tasks` array and callbacks while its cards are
 * unchanged, so a change in one column renders that column only. A card's lock and "saving" marks
 * are read by the card itself, for the same reason.
 */
export const Column = memo(function Column(props: {
  status: Status;
  tasks: readonly Task[];
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
  /** Cards drawn beyond each edge of the viewport in a long column (`useOverscan`). */
  overscan: number;
}) {
  const { status, tasks } = props;
  // A new array would tell every sortable card in the column that the list changed.
  const ids = useMemo(() => tasks.map((t) => t.id), [tasks]);
  const { setNodeRef, isOver } = useDroppable({ id: `column:${status}` });
  const headingId = `column-${status}`;

  const body = useRef<HTMLDivElement | null>(null);
  const windowed = tasks.length >= WINDOW_FROM;
  // Measured heights are kept by task id, so they follow a card that moves; the same function
  // while the cards are the same spares the window a recount on every scroll.
  const keyOf = useCallback((index: number) => tasks[index].id, [tasks]);
  const virtualizer = useVirtualizer({
    // Watching the column from its first render, even while it is short or empty (a board
    // before its first sync): starting to watch reads the column's layout at once (its scroll
    // position and height, in React's commit), which costs little on an empty board and 30 ms
    // on a board that has just drawn its cards. Its window counts only the cards of a long column.
    count: windowed ? tasks.length : 0,
    getScrollElement: () => body.current,
    getItemKey: keyOf,
    estimateSize: () => ESTIMATED_CARD_PX,
    measureElement: measuredHeight,
    observeElementRect: observedRect,
    gap: CARD_GAP_PX,
    overscan: props.overscan,
    // Before the column is measured, assume it reaches the bottom of the window, so the first
    // frame already shows a full column rather than a few cards.
    initialRect: {
      width: 0,
      height: typeof window === "undefined" ? 0 : Math.max(0, window.innerHeight - ABOVE_CARDS_PX),
    },
    // React 19 refuses flushSync inside its own commit; a scroll re-renders on the next tick.
    useFlushSync: false,
  });

  // A card moved by keyboard keeps the focus (the card focuses itself once drawn); when its new
  // place is outside the drawn window, scroll there first so that it is drawn.
  const focusIndex = props.focusId === null ? -1 : tasks.findIndex((t) => t.id === props.focusId);
  useEffect(() => {
    if (!windowed || focusIndex < 0) return;
    const drawn = virtualizer.getVirtualItems();
    if (drawn.some((item) => item.index === focusIndex)) return;
    virtualizer.scrollToIndex(focusIndex, { align: "auto" });
  }, [windowed, focusIndex, virtualizer]);

  const drawn = windowed ? virtualizer.getVirtualItems() : null;
  // The cards not drawn are stood in for by padding, so the scrollbar and the drawn cards'
  // places are those of the whole column (the cards stay in normal flow: dnd-kit moves them
  // with transforms of its own).
  const padTop = drawn && drawn.length > 0 ? drawn[0].start : 0;
  const padBottom = drawn && drawn.length > 0 ? virtualizer.getTotalSize() - drawn[drawn.length - 1].end : 0;
  const cards = drawn ? drawn.map((item) => ({ task: tasks[item.index], index: item.index })) : null;
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
      <div
        ref={(node) => {
          body.current = node;
          setNodeRef(node);
        }}
        className="column-body"
      >
        <SortableContext items={ids} strategy={verticalListSortingStrategy}>
          <ol
            className="cards"
            aria-label={`${STATUS_LABELS[status]} tasks`}
            style={drawn ? { paddingTop: padTop, paddingBottom: padBottom } : undefined}
          >
            {(cards ?? tasks.map((task, index) => ({ task, index }))).map(({ task, index }) => (
              <SortableCard
                key={task.id}
                task={task}
                index={index}
                measure={drawn ? virtualizer.measureElement : undefined}
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
