//! The board: five columns, drag and drop between and within them, and keyboard moves.
//!
//! While a card is held, the board shows a local copy of the column order (`drag.ids`) that the
//! pointer rearranges; only on drop does it become one `task:move` with the final index. Others
//! see `task:drag:other` meanwhile, and the server refuses anyone else's move with TASK_LOCKED.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  DndContext,
  DragOverlay,
  MouseSensor,
  TouchSensor,
  closestCenter,
  getFirstCollision,
  pointerWithin,
  rectIntersection,
  type CollisionDetection,
  useSensor,
  useSensors,
  type DragEndEvent,
  type DragOverEvent,
  type DragStartEvent,
  type UniqueIdentifier,
} from "@dnd-kit/core";
import { arrayMove } from "@dnd-kit/sortable";
import { STATUSES, type Status, type Task } from "../protocol";
import { selectVisibleColumns, selectVisibleTasks } from "../state/reducer";
import { reuseColumns, type Columns, type TaskMap } from "../state/tasks";
import { columnFilter, indexInFullColumn } from "../state/filters";
import { useStore } from "../state/store";
import { showToast } from "../state/toasts";
import { canWrite, useApp } from "./appContext";
import { CardView, noteDragEnd } from "./Card";
import { Column, useOverscan } from "./Column";
import { ConfirmDelete } from "./ConfirmDelete";
import { useNow, whenIdle } from "./util";
import { keepShellOffline } from "../net/shell";
import type { CardKeyAction } from "./types";

type Ids = Record<Status, number[]>;

type CardViewModule = typeof import("./EditDialog");
let cardViewModule: Promise<CardViewModule> | null = null;

/**
 * The card view (with markdown-it, the comments and the history) is a chunk of its own: the board
 * does not need it to show, and parsing it made every load slower. index.html names the chunk
 * (`rel="prefetch"`, see vite.config.ts), so the service worker keeps it for offline use.
 * Loaded once, when the page is first idle after the board is shown (`shown`), or at once if a
 * card is opened before that. Evaluating it takes some 50 ms (markdown-it builds its tables):
 * idle while the page waited for its first sync, it held that sync back by as much. Not
 * `React.lazy`: a Suspense boundary holds back what it reveals by up to 300 ms.
 */
function useCardView(wanted: boolean, shown: boolean, close: () => void): CardViewModule["EditDialog"] | null {
  const [loaded, setLoaded] = useState<CardViewModule | null>(null);
  useEffect(() => {
    if (loaded) return;
    let live = true;
    const load = () => {
      cardViewModule ??= import("./EditDialog");
      cardViewModule.then(
        (module) => live && setLoaded(module),
        () => {
          // Offline before the service worker kept the chunk: the next opening tries again.
          cardViewModule = null;
          if (live && wanted) {
            showToast({ kind: "error", title: "The card view could not be loaded", message: "Try again once online." });
            close();
          }
        },
      );
    };
    if (wanted) {
      load();
      return () => {
        live = false;
      };
    }
    if (!shown) return;
    const cancel = whenIdle(load);
    return () => {
      live = false;
      cancel();
    };
  }, [wanted, shown, loaded, close]);
  return loaded?.EditDialog ?? null;
}

interface DragSession {
  activeId: number;
  from: Status;
  fromIndex: number;
  ids: Ids;
}

const COLUMN_PREFIX = "column:";

/**
 * A mouse lifts a card after a few pixels; a finger must rest a moment first, so that swiping
 * through the columns on a phone scrolls instead of dragging. The same objects on every render:
 * dnd-kit builds every card's event listeners from them, and new options (an object literal per
 * render) gave every drawn card new listeners, and so a render, on every change of the board.
 */
const MOUSE = { activationConstraint: { distance: 6 } };
const TOUCH = { activationConstraint: { delay: 220, tolerance: 8 } };

/** The columns as a drag has rearranged them (ids of cards deleted meanwhile are skipped). */
function columnsFromIds(ids: Ids, tasks: TaskMap): Columns {
  const out = {} as Record<Status, Task[]>;
  for (const s of STATUSES) out[s] = ids[s].map((id) => tasks[id]).filter((t): t is Task => Boolean(t));
  return out;
}

/** `next`, keeping the previous render's array for every column that did not change. */
function useReusedColumns(next: Columns): Columns {
  const previous = useRef<Columns | null>(null);
  const reused = reuseColumns(previous.current, next);
  previous.current = reused;
  return reused;
}

/**
 * `editing`: the task whose card view is open, kept by the dashboard so the agents panel can open one too.
 * `filter`: when set, only the cards it passes are shown (and moves among them keep the hidden ones' order).
 */
export function Board(props: {
  editing: number | null;
  onEdit: (id: number | null) => void;
  filter?: (task: Task) => boolean;
}) {
  const { editing, onEdit: setEditing, filter } = props;
  const { store, engine, creds } = useApp();
  const canAdd = canWrite(creds);
  const tasks = useStore(store, selectVisibleTasks);
  const now = useNow(30_000);
  // The store keeps each column's array while its cards are unchanged, so a change renders only
  // the columns it touched; a filter keeps that (see `columnFilter`).
  const allColumns = useStore(store, selectVisibleColumns);
  const filtered = useMemo(() => (filter ? columnFilter(filter) : null), [filter]);
  const columns = useMemo(() => (filtered ? filtered(allColumns) : allColumns), [allColumns, filtered]);
  const latestAll = useRef(allColumns);
  latestAll.current = allColumns;
  /** Moves a card to `index` among the shown cards `shown` (its new order) of `status`. */
  const moveShown = useCallback(
    (id: number, status: Status, shown: number[], index: number) => {
      const full = latestAll.current[status].filter((t) => t.id !== id);
      engine.moveTask(id, status, filter ? indexInFullColumn(full, shown, index) : index);
    },
    [engine, filter],
  );
  const [drag, setDragState] = useState<DragSession | null>(null);
  const refusedDrag = useRef<number | null>(null);
  const [deleting, setDeleting] = useState<number | null>(null);
  // Shown: from the server, or from the copy saved on this device.
  const boardShown = useStore(store, (s) => s.synced || s.savedAt !== null);
  // The service worker fetches the whole app shell again as it installs: on a first visit, in
  // the middle of the board's handshake; once the board is shown, it waits for nobody.
  useEffect(() => (boardShown ? whenIdle(keepShellOffline) : undefined), [boardShown]);
  const EditDialog = useCardView(
    editing !== null,
    boardShown,
    useCallback(() => setEditing(null), [setEditing]),
  );
  const [focusId, setFocusId] = useState<number | null>(null);
  const [composer, setComposer] = useState<Status | null>(null);

  // dnd-kit may call several handlers before React renders again; they read the session here,
  // never a stale copy from the last render.
  const dragRef = useRef<DragSession | null>(null);
  const setDrag = (next: DragSession | null) => {
    dragRef.current = next;
    setDragState(next);
  };
  const lastOver = useRef<UniqueIdentifier | null>(null);
  /**
   * Set when the held card has just joined another column, until the next frame. Joining a
   * column shifts the layout under the pointer, which can then be over the old column again:
   * moving back shifts it again, and so on, one state update per render until React gives up
   * with "Maximum update depth exceeded" (seen on 1,000-card boards, where each render is slow
   * enough for the pointer to land in the gap). dnd-kit's multi-container recipe guards the same way.
   */
  const recentlyMoved = useRef(false);
  useEffect(() => {
    const frame = requestAnimationFrame(() => {
      recentlyMoved.current = false;
    });
    return () => cancelAnimationFrame(frame);
  }, [drag?.ids]);

  /**
   * What the pointer is over: a card, or a column. Over a column that has cards, the nearest
   * card wins, so a drop lands where the gap opened. (dnd-kit's multi-container recipe; plain
   * closestCorners flickers between a tall empty column and the cards beside it.)
   */
  const collisionDetection: CollisionDetection = useCallback((args) => {
    const within = pointerWithin(args);
    const hits = within.length > 0 ? within : rectIntersection(args);
    let overId = getFirstCollision(hits, "id");
    const ids = dragRef.current?.ids;
    if (overId != null && ids) {
      const items = hits.filter((h) => !String(h.id).startsWith(COLUMN_PREFIX));
      if (items.length > 0) overId = items[0].id;
      else if (String(overId).startsWith(COLUMN_PREFIX)) {
        const status = String(overId).slice(COLUMN_PREFIX.length) as Status;
        const inColumn = new Set(ids[status] ?? []);
        if (inColumn.size > 0) {
          const nearest = closestCenter({
            ...args,
            droppableContainers: args.droppableContainers.filter((c) => inColumn.has(Number(c.id))),
          });
          overId = nearest[0]?.id ?? overId;
        }
      }
      lastOver.current = overId;
      return [{ id: overId }];
    }
    // Right after joining a column the layout is shifting and nothing may be under the
    // pointer; the card itself is the answer, not the column it came from.
    if (recentlyMoved.current) lastOver.current = args.active.id;
    return lastOver.current != null ? [{ id: lastOver.current }] : [];
  }, []);

  const sensors = useSensors(useSensor(MouseSensor, MOUSE), useSensor(TouchSensor, TOUCH));

  // "N" opens the new-task form from anywhere on the board.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!canAdd || e.key.toLowerCase() !== "n" || e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, dialog, [contenteditable=true]")) return;
      e.preventDefault();
      setComposer("TODO");
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [canAdd]);

  const containerOf = (ids: Ids, id: UniqueIdentifier): Status | null => {
    if (typeof id === "string" && id.startsWith(COLUMN_PREFIX)) return id.slice(COLUMN_PREFIX.length) as Status;
    const n = Number(id);
    return STATUSES.find((s) => ids[s].includes(n)) ?? null;
  };

  function onDragStart(event: DragStartEvent) {
    const id = Number(event.active.id);
    const ids = {} as Ids;
    for (const s of STATUSES) ids[s] = columns[s].map((t) => t.id);
    const from = containerOf(ids, id);
    if (!from) return;
    refusedDrag.current = null;
    lastOver.current = null;
    recentlyMoved.current = false;
    setDrag({ activeId: id, from, fromIndex: ids[from].indexOf(id), ids });
    void engine.dragStart(id).then((ok) => {
      if (!ok) refusedDrag.current = id;
    });
  }

  function onDragOver(event: DragOverEvent) {
    const { active, over } = event;
    const session = dragRef.current;
    // Until the last column change has been laid out, what is under the pointer is not to be trusted.
    if (!over || !session || recentlyMoved.current) return;
    const from = containerOf(session.ids, active.id);
    const to = containerOf(session.ids, over.id);
    if (!from || !to || from === to) return;
    const id = Number(active.id);
    const target = session.ids[to].filter((x) => x !== id);
    let index = target.length;
    if (!(typeof over.id === "string" && over.id.startsWith(COLUMN_PREFIX))) {
      const overIndex = target.indexOf(Number(over.id));
      const activeRect = active.rect.current.translated;
      const below = activeRect && activeRect.top > over.rect.top + over.rect.height / 2;
      index = overIndex < 0 ? target.length : overIndex + (below ? 1 : 0);
    }
    target.splice(index, 0, id);
    recentlyMoved.current = true;
    setDrag({ ...session, ids: { ...session.ids, [from]: session.ids[from].filter((x) => x !== id), [to]: target } });
  }

  function onDragEnd(event: DragEndEvent) {
    const { active, over } = event;
    const session = dragRef.current;
    const id = Number(active.id);
    noteDragEnd();
    setDrag(null);
    if (!session) return;
    const to = over ? containerOf(session.ids, over.id) : null;
    if (to && refusedDrag.current !== id) {
      let list = session.ids[to];
      let index = list.indexOf(id);
      const overId = over ? Number(over.id) : NaN;
      if (!Number.isNaN(overId) && overId !== id && list.includes(overId)) {
        const overIndex = list.indexOf(overId);
        list = arrayMove(list, index, overIndex);
        index = overIndex;
      }
      if (index >= 0 && (to !== session.from || index !== session.fromIndex)) moveShown(id, to, list, index);
    }
    // After the move, so the move itself (which also ends the lock) is never refused.
    engine.dragEnd(id);
  }

  function onDragCancel() {
    noteDragEnd();
    const session = dragRef.current;
    if (session) engine.dragEnd(session.activeId);
    setDrag(null);
  }

  // The card callbacks stay the same function for the life of the board, so memoised cards
  // skip rendering; they read the latest columns through this ref.
  const latestColumns = useRef(columns);
  latestColumns.current = columns;

  const onOpen = useCallback((id: number) => setEditing(id), [setEditing]);
  const onComposer = useCallback((status: Status, open: boolean) => setComposer(open ? status : null), []);
  const onCardKey = useCallback(
    (task: Task, action: CardKeyAction) => {
      if (action === "open") return setEditing(task.id);
      if (action === "delete") return setDeleting(task.id);
      const mark = store.getState().drags[task.id];
      if (mark) {
        showToast({
          kind: "warning",
          title: `${mark.user} is moving this card`,
          message: "Try again once they let go.",
        });
        return;
      }
      const cols = latestColumns.current;
      const column = cols[task.status];
      const index = column.findIndex((t) => t.id === task.id);
      const statusIndex = STATUSES.indexOf(task.status);
      let status = task.status;
      let target = index;
      if (action === "left" || action === "right") {
        const next = statusIndex + (action === "left" ? -1 : 1);
        if (next < 0 || next >= STATUSES.length) return;
        status = STATUSES[next];
        target = Math.min(index, cols[status].length);
      } else {
        target = index + (action === "up" ? -1 : 1);
        if (target < 0 || target >= column.length) return;
      }
      setFocusId(task.id);
      // The card's element goes to another column (or, moved down in this one, React moves it).
      // Removing the element that has the focus makes the page work out its style there and
      // then, in the middle of React's commit (1–2 ms at 5,000 cards); letting go of the focus
      // now, while the page is as it was painted, costs nothing. The card takes it back once
      // drawn in its new place.
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
      const shown = cols[status].map((t) => t.id).filter((id) => id !== task.id);
      shown.splice(target, 0, task.id);
      moveShown(task.id, status, shown, target);
    },
    [store, setEditing, moveShown],
  );

  // While a card is held the columns show the drag's order; either way a column whose cards
  // did not change keeps its array, so only the columns that changed render again.
  const shown = useReusedColumns(
    useMemo(() => (drag ? columnsFromIds(drag.ids, tasks) : columns), [drag, tasks, columns]),
  );
  const active = drag ? tasks[drag.activeId] : undefined;
  const overscan = useOverscan(STATUSES.some((status) => shown[status].length > 0));

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={collisionDetection}
      onDragStart={onDragStart}
      onDragOver={onDragOver}
      onDragEnd={onDragEnd}
      onDragCancel={onDragCancel}
      accessibility={{
        screenReaderInstructions: {
          draggable: canAdd
            ? "Use Shift and the arrow keys to move a focused card; Enter opens it."
            : "Enter opens the focused card. This board is view only.",
        },
      }}
    >
      <main className="board" aria-label="Task board">
        {STATUSES.map((status) => (
          <Column
            key={status}
            status={status}
            tasks={shown[status]}
            count={columns[status].length}
            now={now}
            draggingId={drag?.activeId ?? null}
            focusId={focusId !== null && tasks[focusId]?.status === status ? focusId : null}
            onOpen={onOpen}
            onKey={onCardKey}
            composerOpen={composer === status}
            onComposer={onComposer}
            canAdd={canAdd}
            overscan={overscan}
          />
        ))}
      </main>
      <DragOverlay dropAnimation={{ duration: 180, easing: "cubic-bezier(.2,.8,.2,1)" }}>
        {active ? (
          <div
            className="card is-lifted"
            style={{ ["--c" as string]: `var(--${active.status.toLowerCase()})` }}
            data-testid="drag-overlay"
          >
            <CardView task={active} now={now} labels={store.getState().labels} />
          </div>
        ) : null}
      </DragOverlay>
      {editing !== null && EditDialog && (
        <EditDialog
          // Another task's card view (a blocker's) starts from that task's values.
          key={editing}
          taskId={editing}
          onOpen={setEditing}
          onClose={() => setEditing(null)}
          onDelete={() => {
            setDeleting(editing);
            setEditing(null);
          }}
        />
      )}
      {deleting !== null && <ConfirmDelete taskId={deleting} onClose={() => setDeleting(null)} />}
    </DndContext>
  );
}
