//! The one reducer every state change goes through, and the selectors that derive the board.
//!
//! The state keeps what the server confirmed (`tasks`, `agents`, `seq`) apart from what this
//! person did that the server has not answered yet (`pending`, in order). The board on screen is
//! the confirmed tasks with the pending operations replayed on top: an optimistic update is
//! "append an op", a rollback is "drop the op", and a server event never has to be undone.
//! `pending` is also the offline queue: it is saved to IndexedDB and replayed on reconnect.
//!
//! Every event of a persisted change carries the change's board-wide `seq`, and this page must
//! see every seq; `checkSeq` is the one rule for that, applied here to every such event: a seq
//! one past the last is applied, the same seq again is the same change's next event, a lower
//! one a duplicate (ignored), and a jump a gap (not applied: the sync engine reconnects and
//! resumes from the last seq applied without a hole).

import {
  MAIN_BOARD,
  type ActivityEntry,
  type Agent,
  type BoardInfo,
  type Comment,
  type Label,
  type Notification,
  type Status,
  type SyncFull,
  type Task,
  type TaskFields,
  type TaskPatch,
  type User,
} from "../protocol";
import {
  EMPTY_BOARD,
  boardFrom,
  sameValue,
  mergePatch,
  placeTask,
  removeTask,
  updateTask,
  upsertTask,
  type Board,
  type Columns,
  type TaskMap,
} from "./tasks";

/**
 * `stream`: the socket cannot connect, but the board's event stream brings changes live and
 * writes go over REST (no presence); `rest`: REST alone, refreshed on a timer.
 */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline" | "rest" | "stream";

interface OpCommon {
  /** Client-made id sent with the command, so a replay after a lost ack applies nothing twice. */
  opId: string;
  /** When the person made the change (ISO time). */
  at: string;
  /** queued: waiting to be sent; sent: on the wire, waiting for the ack. */
  state: "queued" | "sent";
  attempts: number;
  /** The confirmed `version` of the task when the change was made (0 for a task not yet created). */
  baseVersion?: number;
}

export interface CreateOp extends OpCommon {
  kind: "create";
  /** Negative id the task carries on screen until the server gives it a real one. */
  tempId: number;
  title: string;
  description: string;
  status: Status;
  assignee: string | null;
  /**
   * The real id, once the server's broadcast of this very creation arrived ahead of the ack:
   * the board then shows the server's card and not a second, temporary one.
   */
  echoedAs?: number;
}
export interface UpdateOp extends OpCommon {
  kind: "update";
  id: number;
  fields: TaskFields;
  /**
   * What those fields held when the person made the change. At send time, if the server's copy
   * still holds these values, nobody else touched them and the op is sent against the current
   * version (a neighbour's reorder bumps versions too, and must not count as a clash).
   */
  baseValues?: TaskFields;
  /** When false the update is sent without `version` (the person chose to overwrite). */
  checkVersion: boolean;
}
export interface MoveOp extends OpCommon {
  kind: "move";
  id: number;
  status: Status;
  position: number;
}
export interface DeleteOp extends OpCommon {
  kind: "delete";
  id: number;
}
export type PendingOp = CreateOp | UpdateOp | MoveOp | DeleteOp;

export interface DragMark {
  user: string;
  since: number;
}

export interface BoardState {
  me: string;
  /** The id of the board this page shows; one state (and one socket) per board. */
  board: string;
  /** Every board the credential can see, as the server last listed them (for the switcher). */
  boards: BoardInfo[];
  tasks: TaskMap;
  /** Each column's confirmed tasks in display order, kept with `tasks` by every change (see `Board`). */
  columns: Columns;
  agents: Readonly<Record<string, Agent>>;
  users: User[];
  seq: number;
  /** True once this page has applied a `sync:full`: only then may it resume with `lastSeq`. */
  synced: boolean;
  /**
   * The `seq` of an event that came more than one past `seq`: the changes between never reached
   * this page (the server dropped them for a slow socket, or never published them). `seq` stays
   * the last one applied without a hole, for `auth.lastSeq`; the end of this connection or the
   * next sync clears it.
   */
  gap: number | null;
  /** When the board shown was last confirmed by the server (ISO), for the "saved copy" hint. */
  savedAt: string | null;
  pending: PendingOp[];
  activity: ActivityEntry[];
  typing: string[];
  drags: Readonly<Record<number, DragMark>>;
  /** Agents waiting for work (`task:next { wait }`), in arrival order; ephemeral, like typing. */
  waiting: string[];
  connection: ConnectionState;
  /** This board's labels by id. */
  labels: Readonly<Record<number, Label>>;
  /**
   * The comments of the cards opened on this page, oldest first, by task id. A card's list is
   * fetched when it is opened and then kept current by the live events; a task without an entry
   * has not been fetched (a sync drops them all: what happened meanwhile is not known).
   */
  comments: Readonly<Record<number, Comment[]>>;
  /** This person's unread notifications on every board, as `sync:full` counted them, kept live. */
  unread: number;
  /** The notifications listed (newest first) once the bell was opened; null until then. */
  notifications: Notification[] | null;
  /** Who else has a card open, by task id (ephemeral, like typing). */
  viewers: Readonly<Record<number, string[]>>;
}

export const ACTIVITY_LIMIT = 100;
/** The server ends a drag lock after 30 s; a mark older than that is stale. */
export const DRAG_MARK_TTL_MS = 30_000;

export function initialState(me = "", board: string = MAIN_BOARD, boards: BoardInfo[] = []): BoardState {
  return {
    me,
    board,
    boards,
    ...EMPTY_BOARD,
    agents: {},
    users: [],
    seq: 0,
    synced: false,
    gap: null,
    savedAt: null,
    pending: [],
    activity: [],
    typing: [],
    drags: {},
    waiting: [],
    connection: "connecting",
    labels: {},
    comments: {},
    unread: 0,
    notifications: null,
    viewers: {},
  };
}

export interface CachedBoard {
  tasks: Task[];
  agents: Agent[];
  seq: number;
  savedAt: string | null;
  pending: PendingOp[];
  /** The feed as last seen, so a page opened offline is not blank there either. */
  activity?: ActivityEntry[];
  /** The board this copy is of, and the boards listed then (the switcher works offline too). */
  board?: string;
  boards?: BoardInfo[];
  /** The board's labels, so the cards' chips show offline too. */
  labels?: Label[];
}

/** A change the server sent as an event; with its `seq`, it passes `checkSeq` first. */
export type EventAction =
  | { type: "taskCreated"; task: Task; seq?: number }
  | { type: "taskPatched"; patch: TaskPatch; seq?: number }
  /** `task:shifted`: the cards a placement pushed down, in one event. */
  | { type: "tasksShifted"; patches: TaskPatch[]; seq?: number }
  | { type: "taskDeleted"; id: number; seq?: number }
  | { type: "agentStatus"; agent: Partial<Agent> & { id: string }; seq?: number }
  | { type: "users"; users: User[]; seq?: number }
  | { type: "activity"; entries: ActivityEntry[]; seq?: number }
  | { type: "labelSaved"; label: Label; seq?: number }
  | { type: "labelDeleted"; id: number; seq?: number }
  | { type: "commentCreated"; comment: Comment; seq?: number }
  | { type: "commentUpdated"; comment: Comment; seq?: number }
  | { type: "commentDeleted"; id: number; taskId: number; seq?: number };

const EVENT_ACTIONS: ReadonlySet<Action["type"]> = new Set<EventAction["type"]>([
  "taskCreated",
  "taskPatched",
  "tasksShifted",
  "taskDeleted",
  "agentStatus",
  "users",
  "activity",
  "labelSaved",
  "labelDeleted",
  "commentCreated",
  "commentUpdated",
  "commentDeleted",
]);

function isEventAction(action: Action): action is EventAction {
  return EVENT_ACTIONS.has(action.type);
}

export type Action =
  | EventAction
  | { type: "hydrate"; cache: CachedBoard }
  | { type: "syncFull"; payload: SyncFull; at: string; connection?: "live" | "stream" }
  | { type: "syncResumed"; seq: number; at: string }
  | { type: "restSnapshot"; tasks: Task[]; agents: Agent[] | null; at: string }
  | { type: "prefetched"; tasks: Task[]; labels: Label[] | null; boards: BoardInfo[] | null }
  | { type: "typing"; names: string[] }
  | { type: "waiting"; agents: string[] }
  | { type: "dragOther"; taskId: number; user: string | null; now: number }
  | { type: "expireDrags"; now: number }
  | { type: "connection"; state: ConnectionState }
  | { type: "enqueue"; op: PendingOp }
  | { type: "opSent"; opId: string }
  | { type: "opRequeued"; opId: string }
  | { type: "requeueAll" }
  | { type: "opAcked"; opId: string; task?: Task }
  | { type: "opRejected"; opId: string }
  | { type: "boardUpserted"; board: BoardInfo }
  | { type: "boardRemoved"; id: string }
  /** An older page of the feed ("Load more"): kept whole, beyond the live feed's limit. */
  | { type: "olderActivity"; entries: ActivityEntry[] }
  | { type: "commentsLoaded"; taskId: number; comments: Comment[] }
  | { type: "commentAcked"; comment: Comment }
  | { type: "notification"; notification: Notification }
  | { type: "notificationsLoaded"; notifications: Notification[] }
  | { type: "notificationsRead"; ids: number[]; at: string }
  | { type: "viewers"; taskId: number; users: string[] };

/** What to do with an event that carries `seq`. */
export type SeqVerdict = "apply" | "duplicate" | "gap";

/**
 * The one rule for sequence numbers. Several events share one seq (a change's own events, its
 * `activity` entry), so the same seq again is applied; the server sends changes in seq order,
 * so a lower seq is one this page has already applied, and a jump means changes were missed.
 * Before the first sync there is nothing to count from; an event without seq is not counted.
 */
export function checkSeq(state: Pick<BoardState, "seq" | "synced">, seq: number | undefined): SeqVerdict {
  if (typeof seq !== "number" || !state.synced) return "apply";
  if (seq < state.seq) return "duplicate";
  if (seq <= state.seq + 1) return "apply";
  return "gap";
}

function bumpSeq(state: BoardState, seq: number | undefined): number {
  return typeof seq === "number" && seq > state.seq ? seq : state.seq;
}

export function applySyncFull(
  state: BoardState,
  payload: SyncFull,
  at: string,
  connection: "live" | "stream" = "live",
): BoardState {
  let boards = Array.isArray(payload.boards) ? payload.boards : state.boards;
  if (payload.board) boards = upsertBoard(boards, payload.board);
  return {
    ...state,
    boards,
    ...boardFrom(state, payload.tasks ?? []),
    agents: Object.fromEntries((payload.agents ?? []).map((a) => [a.id, a])),
    users: payload.users ?? [],
    waiting: Array.isArray(payload.waitingAgents) ? payload.waitingAgents : [],
    labels: Array.isArray(payload.labels) ? byId(payload.labels) : state.labels,
    // Comments changed meanwhile are unknown: an open card fetches its list again.
    comments: {},
    unread: typeof payload.unreadNotifications === "number" ? payload.unreadNotifications : state.unread,
    seq: payload.seq ?? 0,
    synced: true,
    gap: null,
    savedAt: at,
    connection,
  };
}

/** The live feed keeps its newest `ACTIVITY_LIMIT` entries, or all the pages the person loaded. */
function mergeActivity(
  current: ActivityEntry[],
  incoming: ActivityEntry[],
  limit = Math.max(ACTIVITY_LIMIT, current.length),
): ActivityEntry[] {
  const seen = new Set(current.map((e) => String(e.id)));
  const fresh = incoming.filter((e) => !seen.has(String(e.id)));
  if (fresh.length === 0) return current;
  const all = [...fresh, ...current];
  // Newest first; entries of the same instant by their (increasing) server id.
  all.sort((a, b) => {
    if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? 1 : -1;
    return Number(b.id) - Number(a.id) || 0;
  });
  return all.slice(0, limit);
}

/** Rewrites the ops queued after an acknowledged one so they refer to the server's truth. */
function rebaseLater(pending: PendingOp[], acked: PendingOp, task: Task | undefined): PendingOp[] {
  if (!task) return pending;
  const oldId = acked.kind === "create" ? acked.tempId : acked.id;
  return pending.map((op) => {
    if (op.kind === "create" || op.id !== oldId) return op;
    const rebased = { ...op, id: task.id };
    // Ops made in one breath (e.g. offline: move, then retitle) all saw the same confirmed
    // version; the server has moved on by our own hand, so they follow it.
    if (op.baseVersion === acked.baseVersion) rebased.baseVersion = task.version;
    return rebased;
  });
}

export function reducer(state: BoardState, action: Action): BoardState {
  if (isEventAction(action)) {
    switch (checkSeq(state, action.seq)) {
      case "duplicate":
        return state;
      case "gap":
        // Not applied: the resume brings this change again, after the ones before it.
        return state.gap === null ? { ...state, gap: action.seq ?? null } : state;
      case "apply":
        return applyEvent(state, action);
    }
  }
  switch (action.type) {
    case "hydrate": {
      const { cache } = action;
      // Whatever was on the wire when the page closed is unanswered: send it again. Those ops
      // were made before anything in this page, so they go first.
      const known = new Set(state.pending.map((op) => op.opId));
      const saved = cache.pending
        .filter((op) => !known.has(op.opId))
        .map((op) => ({ ...op, state: "queued" as const }));
      const pending = [...saved, ...state.pending];
      // A board the server already sent is newer than the saved copy: keep it.
      if (state.synced) return { ...state, pending };
      return {
        ...state,
        boards: state.boards.length === 0 && Array.isArray(cache.boards) ? cache.boards : state.boards,
        ...boardFrom(state, cache.tasks),
        agents: Object.fromEntries(cache.agents.map((a) => [a.id, a])),
        labels: Array.isArray(cache.labels) ? byId(cache.labels) : state.labels,
        seq: cache.seq,
        savedAt: cache.savedAt,
        pending,
        activity: mergeActivity(state.activity, cache.activity ?? []),
      };
    }
    case "olderActivity":
      return {
        ...state,
        activity: mergeActivity(state.activity, action.entries, state.activity.length + action.entries.length),
      };
    case "syncFull":
      return applySyncFull(state, action.payload, action.at, action.connection);
    case "syncResumed":
      return { ...state, seq: bumpSeq(state, action.seq), gap: null, savedAt: action.at, connection: "live" };
    case "restSnapshot":
      return {
        ...state,
        ...boardFrom(state, action.tasks),
        agents: action.agents ? Object.fromEntries(action.agents.map((a) => [a.id, a])) : state.agents,
        savedAt: action.at,
      };
    case "prefetched":
      // A first visit's board from REST, asked for as the page started (`net/prefetch.ts`): shown
      // until the socket's arrives, and never over it.
      if (state.synced) return state;
      return {
        ...state,
        ...boardFrom(state, action.tasks),
        labels: action.labels ? byId(action.labels) : state.labels,
        boards: action.boards ?? state.boards,
      };
    case "typing":
      return { ...state, typing: action.names.filter((n) => n.toLowerCase() !== state.me.toLowerCase()) };
    case "waiting":
      return { ...state, waiting: action.agents };
    case "dragOther": {
      const drags = { ...state.drags };
      if (action.user) drags[action.taskId] = { user: action.user, since: action.now };
      else delete drags[action.taskId];
      return { ...state, drags };
    }
    case "expireDrags": {
      const stale = Object.entries(state.drags).filter(([, m]) => action.now - m.since >= DRAG_MARK_TTL_MS);
      if (stale.length === 0) return state;
      const drags = { ...state.drags };
      for (const [id] of stale) delete drags[Number(id)];
      return { ...state, drags };
    }
    case "connection": {
      if (action.state === state.connection) return state;
      const next = { ...state, connection: action.state };
      // Ephemeral signals die with the connection that carried them, and so does a gap: the
      // next handshake resumes from `seq`, and a gap on that connection is a new one.
      if (action.state !== "live") return { ...next, typing: [], drags: {}, waiting: [], viewers: {}, gap: null };
      return next;
    }
    case "enqueue":
      return { ...state, pending: [...state.pending, action.op] };
    case "opSent":
      return {
        ...state,
        pending: state.pending.map((op) =>
          op.opId === action.opId ? { ...op, state: "sent" as const, attempts: op.attempts + 1 } : op,
        ),
      };
    case "opRequeued":
      return {
        ...state,
        pending: state.pending.map((op) => (op.opId === action.opId ? { ...op, state: "queued" as const } : op)),
      };
    case "requeueAll":
      if (!state.pending.some((op) => op.state === "sent")) return state;
      return { ...state, pending: state.pending.map((op) => ({ ...op, state: "queued" as const })) };
    case "opAcked": {
      const op = state.pending.find((o) => o.opId === action.opId);
      if (!op) return state;
      const rest = state.pending.filter((o) => o !== op);
      let board: Board = state;
      if (op.kind === "delete") board = removeTask(board, op.id);
      else if (action.task) board = upsertTask(board, action.task);
      return { ...state, tasks: board.tasks, columns: board.columns, pending: rebaseLater(rest, op, action.task) };
    }
    case "opRejected":
      return { ...state, pending: withoutOp(state.pending, action.opId) };
    case "boardUpserted":
      return { ...state, boards: upsertBoard(state.boards, action.board) };
    case "boardRemoved":
      if (!state.boards.some((b) => b.id === action.id)) return state;
      return { ...state, boards: state.boards.filter((b) => b.id !== action.id) };
    case "commentsLoaded": {
      // Comments that arrived live while the list was fetched are newer than the answer.
      const newest = action.comments.reduce((max, c) => Math.max(max, c.id), 0);
      const live = (state.comments[action.taskId] ?? []).filter((c) => c.id > newest);
      return { ...state, comments: { ...state.comments, [action.taskId]: [...action.comments, ...live] } };
    }
    case "commentAcked":
      return { ...state, comments: withComment(state.comments, action.comment) };
    case "notification": {
      const known = state.notifications?.some((n) => n.id === action.notification.id) ?? false;
      if (known) return state;
      return {
        ...state,
        unread: state.unread + (action.notification.readAt ? 0 : 1),
        notifications: state.notifications ? [action.notification, ...state.notifications] : null,
      };
    }
    case "notificationsLoaded":
      return { ...state, notifications: action.notifications };
    case "notificationsRead": {
      // The server names only the ones it marked, which were unread until now.
      if (action.ids.length === 0) return state;
      const ids = new Set(action.ids);
      return {
        ...state,
        unread: Math.max(0, state.unread - ids.size),
        notifications:
          state.notifications?.map((n) => (ids.has(n.id) && !n.readAt ? { ...n, readAt: action.at } : n)) ?? null,
      };
    }
    case "viewers": {
      const viewers = { ...state.viewers };
      if (action.users.length > 0) viewers[action.taskId] = action.users;
      else delete viewers[action.taskId];
      return { ...state, viewers };
    }
  }
}

function byId<T extends { id: number }>(list: T[]): Record<number, T> {
  return Object.fromEntries(list.map((item) => [item.id, item]));
}

/** The comment lists with `comment` in its task's list (replacing one of the same id), if fetched. */
function withComment(comments: BoardState["comments"], comment: Comment): BoardState["comments"] {
  const list = comments[comment.taskId];
  if (!list) return comments;
  const index = list.findIndex((c) => c.id === comment.id);
  const next = index < 0 ? [...list, comment] : list.map((c, i) => (i === index ? comment : c));
  return { ...comments, [comment.taskId]: next };
}

/** The task's `commentCount` moved by `delta`: comment events do not patch the task. */
function countComment(board: Board, taskId: number, delta: number): Board {
  return updateTask(board, taskId, (task) => ({
    ...task,
    commentCount: Math.max(0, (task.commentCount ?? 0) + delta),
  }));
}

/** The list with `board` in it, replacing the entry of the same id in place (created or renamed). */
function upsertBoard(boards: BoardInfo[], board: BoardInfo): BoardInfo[] {
  const index = boards.findIndex((b) => b.id === board.id);
  if (index < 0) return [...boards, board];
  const next = [...boards];
  next[index] = board;
  return next;
}

let boardListCache: { boards: BoardInfo[]; list: BoardInfo[] } | null = null;

/** The boards for the switcher: open ones by name, then the archived ones, also by name. */
export function selectBoardList(state: Pick<BoardState, "boards">): BoardInfo[] {
  if (boardListCache && boardListCache.boards === state.boards) return boardListCache.list;
  const list = [...state.boards].sort(
    (a, b) => Number(a.archived) - Number(b.archived) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
  boardListCache = { boards: state.boards, list };
  return list;
}

/** Applies a server event that `checkSeq` let through. */
function applyEvent(state: BoardState, action: EventAction): BoardState {
  switch (action.type) {
    case "taskCreated":
      return {
        ...state,
        ...board(upsertTask(state, action.task)),
        pending: markEcho(state.pending, action.task, state.me),
        seq: bumpSeq(state, action.seq),
      };
    case "taskPatched":
    case "tasksShifted": {
      const patches = action.type === "taskPatched" ? [action.patch] : action.patches;
      const { tasks, columns } = patches.reduce<Board>(mergePatch, state);
      const seq = bumpSeq(state, action.seq);
      // A move to the top of a long column is followed by the cards it pushed down, which this
      // page has already renumbered alike: the same state tells the store to wake nobody (a new
      // copy would run every subscriber's selector again, once per card for a server that sends
      // them one by one).
      if (tasks === state.tasks && seq === state.seq) return state;
      return { ...state, tasks, columns, seq };
    }
    case "taskDeleted": {
      const drags = { ...state.drags };
      delete drags[action.id];
      return { ...state, ...board(removeTask(state, action.id)), drags, seq: bumpSeq(state, action.seq) };
    }
    case "agentStatus": {
      const current = state.agents[action.agent.id];
      const defaults: Agent = {
        id: action.agent.id,
        name: action.agent.id,
        status: "idle",
        currentTaskId: null,
        lastSeen: new Date(0).toISOString(),
      };
      const agent: Agent = { ...defaults, ...current, ...stripUndefined(action.agent) };
      return { ...state, agents: { ...state.agents, [agent.id]: agent }, seq: bumpSeq(state, action.seq) };
    }
    case "users":
      return { ...state, users: action.users, seq: bumpSeq(state, action.seq) };
    case "activity":
      return { ...state, activity: mergeActivity(state.activity, action.entries), seq: bumpSeq(state, action.seq) };
    case "labelSaved":
      return {
        ...state,
        labels: { ...state.labels, [action.label.id]: action.label },
        seq: bumpSeq(state, action.seq),
      };
    case "labelDeleted": {
      // Its tasks lose it in `task:{id}:updated` patches of the same change.
      const labels = { ...state.labels };
      delete labels[action.id];
      return { ...state, labels, seq: bumpSeq(state, action.seq) };
    }
    case "commentCreated":
      return {
        ...state,
        ...board(countComment(state, action.comment.taskId, 1)),
        comments: withComment(state.comments, action.comment),
        seq: bumpSeq(state, action.seq),
      };
    case "commentUpdated":
      return { ...state, comments: withComment(state.comments, action.comment), seq: bumpSeq(state, action.seq) };
    case "commentDeleted": {
      const list = state.comments[action.taskId];
      const comments = list
        ? { ...state.comments, [action.taskId]: list.filter((c) => c.id !== action.id) }
        : state.comments;
      return {
        ...state,
        ...board(countComment(state, action.taskId, -1)),
        comments,
        seq: bumpSeq(state, action.seq),
      };
    }
  }
}

/** Recognises the broadcast of our own in-flight creation (only one op is on the wire at a time). */
function markEcho(pending: PendingOp[], task: Task, me: string): PendingOp[] {
  const index = pending.findIndex(
    (op) =>
      op.kind === "create" &&
      op.state === "sent" &&
      op.echoedAs === undefined &&
      op.title === task.title &&
      task.createdBy.toLowerCase() === me.toLowerCase(),
  );
  if (index < 0) return pending;
  const next = [...pending];
  next[index] = { ...(pending[index] as CreateOp), echoedAs: task.id };
  return next;
}

/** Drops an op; when it created a task, the ops that touch that never-created task go too. */
export function withoutOp(pending: PendingOp[], opId: string): PendingOp[] {
  const op = pending.find((o) => o.opId === opId);
  if (!op) return pending;
  if (op.kind !== "create") return pending.filter((o) => o !== op);
  return pending.filter((o) => o !== op && (o.kind === "create" || o.id !== op.tempId));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Replays one pending op on top of a board (the optimistic view). */
export function applyOp(board: Board, op: PendingOp, me: string): Board {
  switch (op.kind) {
    case "create": {
      if (op.echoedAs !== undefined && board.tasks[op.echoedAs]) return board;
      const task: Task = {
        id: op.tempId,
        title: op.title,
        description: op.description,
        status: op.status,
        assignee: op.assignee,
        position: Number.MAX_SAFE_INTEGER,
        createdBy: me,
        createdAt: op.at,
        updatedAt: op.at,
        version: 0,
      };
      return placeTask(board, task, op.status);
    }
    case "update": {
      const current = board.tasks[op.id];
      if (!current) return board;
      const next: Task = { ...current, ...op.fields, updatedAt: op.at };
      if (op.fields.status && op.fields.status !== current.status) return placeTask(board, next, op.fields.status);
      return updateTask(board, op.id, () => next);
    }
    case "move": {
      const current = board.tasks[op.id];
      if (!current) return board;
      return placeTask(board, current, op.status, op.position);
    }
    case "delete":
      return removeTask(board, op.id);
  }
}

let viewCache: { tasks: TaskMap; pending: PendingOp[]; view: Board } | null = null;

/**
 * Whether two copies of a pending op show the same board: they differ at most in how far along
 * sending it is (`opSent`, `opRequeued`), which every change goes through on its way out.
 */
function sameEffect(a: PendingOp, b: PendingOp): boolean {
  if (a === b) return true;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const key in x) if (key !== "state" && key !== "attempts" && x[key] !== y[key]) return false;
  for (const key in y) if (!(key in x)) return false;
  return true;
}

/**
 * The board as this person sees it: confirmed tasks plus their unanswered changes, with its
 * columns. Without pending changes it is the confirmed board itself; a column no pending change
 * touches keeps the confirmed column's array. An op that is only sent, or queued again, keeps
 * the view as it was: at 5,000 cards a move's view is two columns of 1,000 renumbered, and
 * everything that reads the view (the work graph, each drawn card) would look again.
 */
export function selectVisibleBoard(state: BoardState): Board {
  const cached = viewCache;
  if (cached && cached.tasks === state.tasks) {
    if (cached.pending === state.pending) return cached.view;
    const before = cached.pending;
    const now = state.pending;
    if (before.length === now.length && before.every((op, i) => sameEffect(op, now[i]))) {
      viewCache = { ...cached, pending: now };
      return cached.view;
    }
  }
  let view: Board = board(state);
  for (const op of state.pending) view = applyOp(view, op, state.me);
  viewCache = { tasks: state.tasks, pending: state.pending, view };
  return view;
}

/** The visible tasks by id. */
export function selectVisibleTasks(state: BoardState): TaskMap {
  return selectVisibleBoard(state).tasks;
}

/** The visible columns, each in display order; an unchanged column keeps its array. */
export function selectVisibleColumns(state: BoardState): Columns {
  return selectVisibleBoard(state).columns;
}

/** The board part of a state (or of a board): its tasks and columns, nothing else. */
function board({ tasks, columns }: Board): Board {
  return { tasks, columns };
}

let pendingCache: { pending: PendingOp[]; ids: ReadonlySet<number> } | null = null;

/** Task ids with an unanswered change, to mark them as "saving" on screen. */
export function selectPendingIds(state: BoardState): ReadonlySet<number> {
  if (pendingCache && pendingCache.pending === state.pending) return pendingCache.ids;
  const ids = new Set<number>();
  for (const op of state.pending) ids.add(op.kind === "create" ? op.tempId : op.id);
  pendingCache = { pending: state.pending, ids };
  return ids;
}

export function toCache(state: BoardState): CachedBoard {
  return {
    tasks: Object.values(state.tasks),
    agents: Object.values(state.agents),
    seq: state.seq,
    savedAt: state.savedAt,
    pending: state.pending,
    activity: state.activity.slice(0, 50),
    board: state.board,
    boards: state.boards,
    labels: Object.values(state.labels),
  };
}

/**
 * The `version` an update is sent with: none when the person chose to overwrite; the current one
 * when nobody else has changed the fields it touches since (a field-level merge); else the
 * version the person saw, so the server refuses with CONFLICT rather than lose someone's edit.
 */
export function versionToSend(op: UpdateOp, current: Task | undefined): number | undefined {
  if (!op.checkVersion) return undefined;
  if (!current) return op.baseVersion || undefined;
  const base = op.baseValues;
  const untouched =
    base !== undefined &&
    (Object.keys(op.fields) as (keyof TaskFields)[]).every((key) => key in base && sameValue(current[key], base[key]));
  return (untouched ? current.version : op.baseVersion) || undefined;
}
