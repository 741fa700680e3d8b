//! The wire contract with the warroom server (SPEC "Socket.IO contract"), declared once.
//!
//! Every other module imports its payload types from here; nothing else spells an event name.

export const STATUSES = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_LABELS: Record<Status, string> = {
  TODO: "To do",
  IN_PROGRESS: "In progress",
  BLOCKED: "Blocked",
  REVIEW: "Review",
  DONE: "Done",
};

export interface TaskProgress {
  message: string;
  percent: number | null;
  at: string;
}

export interface Task {
  id: number;
  title: string;
  description: string;
  status: Status;
  assignee: string | null;
  position: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** Agent claims (SPEC "Agents as teammates"); absent on servers that predate them. */
  claimedBy?: string | null;
  leaseExpiresAt?: string | null;
  progress?: TaskProgress | null;
  /** The board the task is on (SPEC "Boards"); absent on servers that predate boards. */
  board?: string;
  /** The tasks (same board) this one waits for (SPEC "Agents' work graph"); absent before it. */
  blockedBy?: number[];
  /** Label ids of the task's board, in the order set (SPEC "Cards"); absent before cards. */
  labels?: number[];
  /** When it is due, RFC3339 UTC, or null. */
  dueAt?: string | null;
  /** How many comments it has (a comment is not an edit: the version stays). */
  commentCount?: number;
}

/** A label of one board: name unique on the board (case aside), colour `#rrggbb`. */
export interface Label {
  id: number;
  board: string;
  name: string;
  color: string;
}

/** A comment on a task; `edited` once its body changed. */
export interface Comment {
  id: number;
  taskId: number;
  board: string;
  author: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  edited: boolean;
}

export type NotificationType = "mention" | "assigned" | "unblocked";

/** Something that concerns this person, on any board (SPEC "Mentions and notifications"). */
export interface Notification {
  id: number;
  type: NotificationType;
  board: string;
  taskId: number | null;
  commentId: number | null;
  by: string;
  /** At most 140 characters. */
  excerpt: string;
  createdAt: string;
  readAt: string | null;
}

/** `task:{id}:updated`: only the changed fields, always with `version` and `updatedAt`. */
export type TaskPatch = Partial<Omit<Task, "id">> & { id: number; version: number; updatedAt: string };

export type AgentStatus = "idle" | "busy" | "error" | "offline";

export interface Agent {
  id: string;
  name: string;
  status: AgentStatus;
  currentTaskId: number | null;
  lastSeen: string;
}

export interface User {
  id: string;
  name: string;
  status: "online";
}

export interface ActivityEntry {
  id: number | string;
  type: string;
  user: string;
  message: string;
  taskId: number | null;
  timestamp: string;
  seq?: number;
  changes?: Record<string, { from: unknown; to: unknown }>;
}

/** The board every socket of a credential is told about (SPEC "Boards"). */
export interface BoardInfo {
  /** A slug: 1–64 characters of `a–z 0–9 -`. */
  id: string;
  name: string;
  description: string;
  archived: boolean;
  createdAt: string;
  createdBy: string;
}

/** The board every credential reaches, and the one a socket is on when `auth.board` is left out. */
export const MAIN_BOARD = "main";

export type Role = "viewer" | "editor" | "admin";
export const ROLES: readonly Role[] = ["viewer", "editor", "admin"];

/** `POST /api/invites`' answer: the link is the only way to the code, so it is shown once. */
export interface Invite {
  code: string;
  url: string;
  expiresAt: string;
  role: Role;
  boards: string[];
}

/** `POST /api/invites/:code/accept`'s answer: a personal token with the invite's role and boards. */
export interface AcceptedInvite {
  token: string;
  name: string;
  role: Role;
  /** Empty: every board. */
  boards: string[];
}

export interface SyncFull {
  tasks: Task[];
  agents: Agent[];
  users: User[];
  seq: number;
  /** This socket's board and every board the credential can see; absent before boards. */
  board?: BoardInfo | null;
  boards?: BoardInfo[];
  /** The agents waiting for work (`task:next { wait }`) on this board; absent before it. */
  waitingAgents?: string[];
  /** This board's labels, and this person's unread notifications (all boards); absent before cards. */
  labels?: Label[];
  unreadNotifications?: number;
}

export interface ErrorBody {
  code: string;
  message: string;
}

/** Second argument of every persisted event. */
export interface SeqMeta {
  seq: number;
}

export type Ack<T = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type TaskAck = Ack<{ task?: Task }>;
export type LabelAck = Ack<{ label?: Label }>;
export type CommentAck = Ack<{ comment?: Comment }>;

/** Fields a person can change with `task:update`. */
export interface TaskFields {
  title?: string;
  description?: string;
  assignee?: string | null;
  status?: Status;
  /** The whole list of blockers (replacing); the server refuses unknown tasks and cycles. */
  blockedBy?: number[];
  /** The whole list of label ids (replacing). */
  labels?: number[];
  /** RFC3339; null clears it. */
  dueAt?: string | null;
}

export interface CreateTaskInput {
  title: string;
  description?: string;
  status?: Status;
  assignee?: string | null;
  opId?: string;
}

export interface UpdateTaskInput extends TaskFields {
  id: number;
  version?: number;
  opId?: string;
}

export interface MoveTaskInput {
  taskId: number;
  status: Status;
  position?: number;
  opId?: string;
}

export interface DeleteTaskInput {
  taskId: number;
  opId?: string;
}

export interface HandshakeAuth {
  apiKey: string;
  name?: string;
  lastSeq?: number;
  /** The board this socket is on (default `main`). */
  board?: string;
  /** A column's renumbering as one `task:shifted` rather than a `task:{id}:updated` per card. */
  batchShifts?: boolean;
}

/**
 * Events with fixed names. The per-entity family (`task:{id}:created`, `task:{id}:updated`,
 * `task:{id}:deleted`, `agent:{id}:status`) is declared by `DynamicServerEvent` below and
 * parsed from `onAny`, because its names carry ids.
 */
export interface ServerToClientEvents {
  "sync:full": (payload: SyncFull) => void;
  "sync:resumed": (payload: SeqMeta) => void;
  "task:created": (payload: { task: Task; user: string; timestamp: string }, meta?: SeqMeta) => void;
  "task:moved": (payload: { taskId: number; newStatus: Status; movedBy: string }, meta?: SeqMeta) => void;
  "task:deleted": (payload: { taskId: number; deletedBy: string }, meta?: SeqMeta) => void;
  /** The cards a placement pushed down their column (with `batchShifts`), under its seq. */
  "task:shifted": (payload: { tasks: TaskPatch[] }, meta?: SeqMeta) => void;
  "users:update": (users: User[], meta?: SeqMeta) => void;
  "typing:update": (names: string[]) => void;
  "task:drag:other": (payload: { taskId: number; user: string | null }) => void;
  /** The agents waiting for work on this board changed (the whole list, arrival order); no seq. */
  "agents:waiting": (payload: { agents: string[] }) => void;
  celebration: (payload: { user: string; taskId: number }, meta?: SeqMeta) => void;
  activity: (entry: ActivityEntry, meta?: SeqMeta) => void;
  /** Board events reach every socket that can see the board, whatever board it is on; no seq. */
  "board:created": (board: BoardInfo) => void;
  "board:updated": (board: BoardInfo) => void;
  "board:deleted": (payload: { id: string }) => void;
  "label:created": (label: Label, meta?: SeqMeta) => void;
  "label:updated": (label: Label, meta?: SeqMeta) => void;
  "label:deleted": (payload: { id: number }, meta?: SeqMeta) => void;
  "comment:created": (comment: Comment, meta?: SeqMeta) => void;
  "comment:updated": (comment: Comment, meta?: SeqMeta) => void;
  "comment:deleted": (payload: { id: number; taskId: number }, meta?: SeqMeta) => void;
  /** To every socket of this person, on any board; no seq. */
  notification: (notification: Notification) => void;
  "notifications:read": (payload: { ids: number[] }) => void;
  /** Who else has a card open (names, sorted); others only, no seq. */
  "task:viewers": (payload: { taskId: number; users: string[] }) => void;
  error: (error: ErrorBody) => void;
}

export type DynamicServerEvent =
  | { kind: "task:created"; task: Task; seq?: number }
  | { kind: "task:updated"; patch: TaskPatch; seq?: number }
  | { kind: "task:deleted"; id: number; seq?: number }
  | { kind: "agent:status"; agent: Partial<Agent> & { id: string }; seq?: number };

type AckFn<T> = (ack: T) => void;

export interface ClientToServerEvents {
  "user:join": (payload: { name: string }, ack?: AckFn<Ack>) => void;
  "task:create": (payload: CreateTaskInput, ack: AckFn<TaskAck>) => void;
  "task:update": (payload: UpdateTaskInput, ack: AckFn<TaskAck>) => void;
  "task:move": (payload: MoveTaskInput, ack: AckFn<TaskAck>) => void;
  "task:delete": (payload: DeleteTaskInput, ack: AckFn<Ack>) => void;
  "typing:start": (payload: Record<string, never>) => void;
  "typing:stop": (payload: Record<string, never>) => void;
  "task:drag:start": (payload: { taskId: number }, ack?: AckFn<Ack>) => void;
  "task:drag:end": (payload: { taskId: number }, ack?: AckFn<Ack>) => void;
  "label:create": (payload: { name: string; color: string; opId?: string }, ack: AckFn<LabelAck>) => void;
  "label:update": (payload: { id: number; name?: string; color?: string }, ack: AckFn<LabelAck>) => void;
  "label:delete": (payload: { id: number }, ack: AckFn<Ack>) => void;
  "comment:create": (payload: { taskId: number; body: string; opId?: string }, ack: AckFn<CommentAck>) => void;
  "comment:update": (payload: { id: number; body: string }, ack: AckFn<CommentAck>) => void;
  "comment:delete": (payload: { id: number }, ack: AckFn<Ack>) => void;
  "notifications:read": (payload: { ids?: number[] }, ack?: AckFn<Ack<{ ids?: number[] }>>) => void;
  /** The card this socket has open (null: none). */
  "task:view": (payload: { taskId: number | null }, ack?: AckFn<Ack>) => void;
}

const DYNAMIC = /^(task|agent):([^:]+):(created|updated|deleted|status)$/;

function seqOf(meta: unknown): number | undefined {
  if (meta && typeof meta === "object" && typeof (meta as SeqMeta).seq === "number") {
    return (meta as SeqMeta).seq;
  }
  return undefined;
}

/** Recognises the per-entity event family; anything else (fixed names included) gives null. */
export function parseDynamicEvent(name: string, args: unknown[]): DynamicServerEvent | null {
  const m = DYNAMIC.exec(name);
  if (!m) return null;
  const [, resource, id, verb] = m;
  const payload = args[0] as Record<string, unknown> | undefined;
  const seq = seqOf(args[1]);
  if (!payload || typeof payload !== "object") return null;
  if (resource === "task") {
    const taskId = Number(id);
    if (!Number.isFinite(taskId)) return null;
    if (verb === "created") return { kind: "task:created", task: payload as unknown as Task, seq };
    if (verb === "updated")
      return { kind: "task:updated", patch: { ...(payload as object), id: taskId } as TaskPatch, seq };
    if (verb === "deleted") return { kind: "task:deleted", id: taskId, seq };
    return null;
  }
  if (verb === "status") {
    return { kind: "agent:status", agent: { ...(payload as object), id } as Agent, seq };
  }
  return null;
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function isStatus(value: unknown): value is Status {
  return typeof value === "string" && (STATUSES as readonly string[]).includes(value);
}

// ---- webhooks, import and export (SPEC "Webhooks, import and export") ----

export type WebhookFormat = "json" | "slack";

export interface Webhook {
  id: number;
  board: string;
  url: string;
  /** Patterns over activity types: `*` one segment, `**` any. */
  events: string[];
  format: WebhookFormat;
  active: boolean;
  createdAt: string;
  /** Only in the answer that created it. */
  secret?: string;
}

export interface NewWebhookInput {
  url: string;
  events?: string[];
  format?: WebhookFormat;
  secret?: string;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookDelivery {
  id: number;
  webhookId: number;
  event: string;
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  lastCode: number | null;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
}

export type ExportFormat = "json" | "csv";

/** What an import wrote (or, as a dry run, would write) and what it left out. */
export interface ImportReport {
  imported: { tasks: number; labels: number; comments: number };
  skipped: { item: string; reason: string }[];
}
