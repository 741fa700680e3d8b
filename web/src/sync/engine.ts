//! The sync engine: turns server events into reducer actions and sends this person's changes.
//!
//! Every write becomes a pending op first (shown at once), then one sender loop sends the ops in
//! order, each with its `opId`: over the socket when live, over REST when only REST answers, and
//! not at all while offline (the queue waits in IndexedDB). A lost ack simply means "send again";
//! the server's opId deduplication makes that safe. When the socket cannot connect but REST
//! answers, the board's event stream (Server-Sent Events) brings the same events instead.
//!
//! Server events go through the reducer, which applies `checkSeq` to each; when it reports a
//! gap (a change this page never received), the engine reconnects so that the handshake's
//! `auth.lastSeq` brings the missed changes back (`resumeAfterGap`).

import type { Socket } from "socket.io-client";
import { api, openSocket, rest, type Credentials, type WarroomSocket } from "../net/connection";
import { EventStream } from "../net/events";
import {
  parseDynamicEvent,
  type Ack,
  type ActivityEntry,
  type Comment,
  type ErrorBody,
  type Label,
  type ServerToClientEvents,
  type Status,
  type Task,
  type TaskAck,
  type TaskFields,
  type User,
} from "../protocol";
import {
  checkSeq,
  sameValue,
  selectVisibleTasks,
  toCache,
  versionToSend,
  type BoardState,
  type PendingOp,
  type UpdateOp,
} from "../state/reducer";
import { forgetBoard, saveBoard } from "../state/persist";
import type { Store } from "../state/store";
import { showToast } from "../state/toasts";

export interface EngineHooks {
  onCelebration(event: { user: string; taskId: number; title?: string }): void;
  /** The key (or name) was refused: the person must fix it on the entry screen. */
  onAuthError(message: string): void;
  /**
   * This board cannot be opened: it does not exist (`BOARD_NOT_FOUND`), the credential may not
   * read it (`FORBIDDEN`), or it was deleted while open (`BOARD_DELETED`).
   */
  onBoardUnavailable(reason: "BOARD_NOT_FOUND" | "FORBIDDEN" | "BOARD_DELETED", message: string): void;
}

/** Where persisted events come from: the socket, or the event stream when the socket cannot connect. */
interface ServerEvents {
  on<K extends keyof ServerToClientEvents>(name: K, listener: ServerToClientEvents[K]): unknown;
  onAny(listener: (name: string, ...args: unknown[]) => void): unknown;
}

type Outcome = { type: "ok"; task?: Task } | { type: "refused"; error: ErrorBody } | { type: "lost" };

const ACK_TIMEOUT_MS = 8000;
const MAX_ATTEMPTS = 6;
/** Failed connection attempts before we check whether REST still answers. */
const FAILURES_BEFORE_PROBE = 2;
const REST_REFRESH_MS = 10_000;
/** One page of the activity feed; a first page shorter than this is the whole feed. */
export const ACTIVITY_PAGE = 50;
const TYPING_IDLE_MS = 1000;
const TYPING_REPEAT_MS = 2000;
/** A gap found this soon after the previous one means resuming did not cure it. */
const GAP_RECUR_MS = 10_000;
/** The first wait before reconnecting over a recurring gap; it doubles each time, up to the max. */
const GAP_RETRY_MS = 1000;
const GAP_RETRY_MAX_MS = 30_000;

export function makeOpId(): string {
  // crypto.randomUUID needs a secure context; a LAN http:// address is not one.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

let tempCounter = 0;
function makeTempId(): number {
  tempCounter = (tempCounter + 1) % 1000;
  return -(Date.now() * 1000 + tempCounter);
}

function describe(op: PendingOp): string {
  switch (op.kind) {
    case "create":
      return `creating “${op.title}”`;
    case "update":
      return `your edit of #${op.id}`;
    case "move":
      return `moving #${op.id}`;
    case "delete":
      return `deleting #${op.id}`;
  }
}

/** The fields of `fields` whose (normalised) value differs from `task`. */
export function diffFields(task: Task, fields: TaskFields): TaskFields {
  const changed: TaskFields = {};
  if (fields.title !== undefined && fields.title.trim() !== task.title) changed.title = fields.title.trim();
  if (fields.description !== undefined && fields.description.trim() !== task.description)
    changed.description = fields.description.trim();
  if (fields.assignee !== undefined) {
    const assignee = fields.assignee?.trim() || null;
    if (assignee !== task.assignee) changed.assignee = assignee;
  }
  if (fields.status !== undefined && fields.status !== task.status) changed.status = fields.status;
  if (fields.blockedBy !== undefined && !sameValue(fields.blockedBy, task.blockedBy ?? []))
    changed.blockedBy = fields.blockedBy;
  if (fields.labels !== undefined && !sameValue(fields.labels, task.labels ?? [])) changed.labels = fields.labels;
  if (fields.dueAt !== undefined && !sameInstant(fields.dueAt, task.dueAt ?? null)) changed.dueAt = fields.dueAt;
  return changed;
}

/** Two due dates that name the same moment (the server answers in UTC whatever offset was sent). */
function sameInstant(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return Date.parse(a) === Date.parse(b);
}

export class SyncEngine {
  private socket: WarroomSocket | null = null;
  /** The board's event stream, open only while the socket cannot connect but REST answers. */
  private stream: EventStream | null = null;
  private failures = 0;
  private pumping = false;
  private pumpAgain = false;
  private inflight: { opId: string; resolve: (o: Outcome) => void } | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private restTimer: ReturnType<typeof setInterval> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private typingActive = false;
  private typingSentAt = 0;
  private typingIdle: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  /** Set while a reconnect over a gap is under way (one at a time). */
  private gapTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the last gap was found, and how many came in a row, each soon after the previous. */
  private lastGapAt = -Infinity;
  private gapStreak = 0;
  /** The next handshake leaves out `lastSeq`, so the server sends the whole board. */
  private wantFullSync = false;
  /** This board was deleted on the server: its copy is forgotten and must not be saved again. */
  private boardGone = false;
  /** Ops whose sender waits for the server's verdict itself (the dialog's blockers), by opId. */
  private verdicts = new Map<string, (refusal: ErrorBody | null) => void>();
  /** The card this page has open, told again to the server after every (re)connection. */
  private viewing: number | null = null;

  constructor(
    private readonly store: Store,
    private readonly creds: Credentials,
    private readonly hooks: EngineHooks,
  ) {}

  private get state(): BoardState {
    return this.store.getState();
  }

  /** The board this engine syncs; fixed for its life (switching boards makes a new engine). */
  private get board(): string {
    return this.state.board;
  }

  start(): void {
    this.stopped = false;
    const socket = openSocket(this.creds, this.board, () =>
      this.state.synced && !this.wantFullSync ? this.state.seq : undefined,
    );
    this.socket = socket;
    const { dispatch } = this.store;

    socket.on("connect", () => {
      this.failures = 0;
      this.stopRestMode();
    });
    this.listen(socket, "live");
    socket.on("sync:resumed", (payload) => {
      dispatch({ type: "syncResumed", seq: payload?.seq ?? this.state.seq, at: new Date().toISOString() });
      this.sendView();
      this.pump();
    });
    socket.on("disconnect", (reason) => {
      this.dropInflight();
      // Anything socket.io buffered would be sent again on reconnect beside our own replay.
      (socket as Socket).sendBuffer = [];
      dispatch({ type: "requeueAll" });
      if (this.stopped || this.boardGone || reason === "io client disconnect") return;
      dispatch({ type: "connection", state: navigator.onLine === false ? "offline" : "reconnecting" });
      // Socket.IO does not retry by itself after the server closed the session on purpose
      // (a restart or a kick); the board should come back all the same.
      if (reason === "io server disconnect") {
        this.retryTimer = setTimeout(() => {
          if (!this.stopped && !socket.connected) socket.connect();
        }, 500);
      }
    });
    socket.on("connect_error", (err) => {
      const message = err?.message ?? "";
      // A personal token used under another name is refused as FORBIDDEN too, but on any board.
      if (/unauthori[sz]ed/i.test(message) || /^VALIDATION_ERROR/.test(message) || /token belongs to/i.test(message)) {
        this.hooks.onAuthError(message);
        return;
      }
      // Retrying cannot open a board that is not there or not ours: the page must go elsewhere.
      const refusal = /^(BOARD_NOT_FOUND|FORBIDDEN)/.exec(message)?.[1] as "BOARD_NOT_FOUND" | "FORBIDDEN" | undefined;
      if (refusal) {
        socket.disconnect();
        this.hooks.onBoardUnavailable(refusal, message);
        return;
      }
      this.failures += 1;
      if (this.failures >= FAILURES_BEFORE_PROBE && !this.stream) void this.probeRest();
    });

    socket.on("typing:update", (names) => dispatch({ type: "typing", names: Array.isArray(names) ? names : [] }));
    socket.on("agents:waiting", (p) => dispatch({ type: "waiting", agents: Array.isArray(p?.agents) ? p.agents : [] }));
    socket.on("task:drag:other", (p) =>
      dispatch({ type: "dragOther", taskId: Number(p.taskId), user: p.user ?? null, now: Date.now() }),
    );
    // No listener for `error`: it repeats the refusal the command's ack carries, which
    // explainRefusal already shows; commands sent without an ack (typing) have nothing to show.
    const onOffline = () => dispatch({ type: "connection", state: "offline" });
    const onOnline = () => {
      if (!socket.connected) socket.connect();
    };
    window.addEventListener("offline", onOffline);
    window.addEventListener("online", onOnline);
    const flush = () => this.flushSave();
    window.addEventListener("pagehide", flush);
    this.timers.push(setInterval(() => dispatch({ type: "expireDrags", now: Date.now() }), 5000));
    let last = this.state;
    const unsubStore = this.store.subscribe(() => {
      const now = this.state;
      const before = last;
      last = now;
      if (now.gap !== null && before.gap === null) this.resumeAfterGap();
      if (
        now.tasks !== before.tasks ||
        now.pending !== before.pending ||
        now.agents !== before.agents ||
        now.activity !== before.activity ||
        now.labels !== before.labels
      )
        this.scheduleSave();
    });
    this.unsubscribe = () => {
      unsubStore();
      window.removeEventListener("offline", onOffline);
      window.removeEventListener("online", onOnline);
      window.removeEventListener("pagehide", flush);
    };
    socket.connect();
  }

  /**
   * The handlers of persisted events, the same for the socket and for the event stream (which
   * carries the same events, names and payloads); `via` is the connection state a sync means.
   */
  private listen(source: ServerEvents, via: "live" | "stream"): void {
    const { dispatch } = this.store;
    source.on("sync:full", (payload) => {
      this.wantFullSync = false;
      dispatch({ type: "syncFull", payload, at: new Date().toISOString(), connection: via });
      void this.loadActivity();
      this.sendView();
      this.pump();
    });
    source.on("users:update", (users, meta) => {
      const list = Array.isArray(users) ? users : (Object.values(users ?? {}) as User[]);
      dispatch({ type: "users", users: list, seq: meta?.seq });
    });
    source.on("activity", (entry, meta) => dispatch({ type: "activity", entries: [entry], seq: meta?.seq }));
    source.on("celebration", (p, meta) => {
      // Not for a duplicate, nor for a change beyond a gap (the resume brings it again).
      if (checkSeq(this.state, meta?.seq) !== "apply") return;
      const task = selectVisibleTasks(this.state)[Number(p.taskId)];
      this.hooks.onCelebration({ user: p.user, taskId: Number(p.taskId), title: task?.title });
    });
    // The seeds' family repeats the per-task events; these two are idempotent, so they also
    // cover a server that only speaks the seed names. `task:moved` lacks a position: skipped.
    source.on("task:created", (p, meta) => {
      if (p?.task) dispatch({ type: "taskCreated", task: p.task, seq: meta?.seq });
    });
    source.on("task:deleted", (p, meta) => dispatch({ type: "taskDeleted", id: Number(p.taskId), seq: meta?.seq }));
    source.on("board:created", (board) => dispatch({ type: "boardUpserted", board }));
    source.on("board:updated", (board) => dispatch({ type: "boardUpserted", board }));
    source.on("board:deleted", ({ id }) => {
      if (id === this.board) {
        this.boardGone = true;
        // Told while the board is still listed, so the message can use its name.
        this.hooks.onBoardUnavailable("BOARD_DELETED", `The board “${id}” was deleted.`);
      }
      dispatch({ type: "boardRemoved", id });
      void forgetBoard(id);
    });
    source.on("label:created", (label, meta) => dispatch({ type: "labelSaved", label, seq: meta?.seq }));
    source.on("label:updated", (label, meta) => dispatch({ type: "labelSaved", label, seq: meta?.seq }));
    source.on("label:deleted", (p, meta) => dispatch({ type: "labelDeleted", id: Number(p.id), seq: meta?.seq }));
    source.on("comment:created", (comment, meta) => dispatch({ type: "commentCreated", comment, seq: meta?.seq }));
    source.on("comment:updated", (comment, meta) => dispatch({ type: "commentUpdated", comment, seq: meta?.seq }));
    source.on("comment:deleted", (p, meta) =>
      dispatch({ type: "commentDeleted", id: Number(p.id), taskId: Number(p.taskId), seq: meta?.seq }),
    );
    source.on("notification", (notification) => dispatch({ type: "notification", notification }));
    source.on("notifications:read", (p) =>
      dispatch({ type: "notificationsRead", ids: Array.isArray(p?.ids) ? p.ids : [], at: new Date().toISOString() }),
    );
    source.on("task:viewers", (p) =>
      dispatch({ type: "viewers", taskId: Number(p.taskId), users: Array.isArray(p.users) ? p.users : [] }),
    );
    source.onAny((name: string, ...args: unknown[]) => {
      const event = parseDynamicEvent(name, args);
      if (!event) return;
      switch (event.kind) {
        case "task:created":
          return dispatch({ type: "taskCreated", task: event.task, seq: event.seq });
        case "task:updated":
          return dispatch({ type: "taskPatched", patch: event.patch, seq: event.seq });
        case "task:deleted":
          return dispatch({ type: "taskDeleted", id: event.id, seq: event.seq });
        case "agent:status":
          return dispatch({ type: "agentStatus", agent: event.agent, seq: event.seq });
      }
    });
  }

  stop(): void {
    this.stopped = true;
    this.flushSave();
    this.unsubscribe?.();
    this.stopRestMode();
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = null;
    if (this.typingIdle) clearTimeout(this.typingIdle);
    this.socket?.removeAllListeners();
    this.socket?.offAny();
    this.socket?.disconnect();
    this.socket = null;
    this.unsubscribe = null;
    this.timers = [];
  }

  // ---- people's changes -------------------------------------------------------------------

  createTask(input: { title: string; description?: string; status?: Status; assignee?: string | null }): void {
    const now = new Date().toISOString();
    this.store.dispatch({
      type: "enqueue",
      op: {
        kind: "create",
        opId: makeOpId(),
        at: now,
        state: "queued",
        attempts: 0,
        baseVersion: 0,
        tempId: makeTempId(),
        title: input.title.trim(),
        description: (input.description ?? "").trim(),
        status: input.status ?? "TODO",
        assignee: input.assignee?.trim() || null,
      },
    });
    this.typingStop();
    this.pump();
  }

  /**
   * Sends the fields the person changed. With `base` (the task as it was when they opened it),
   * "changed" means "differs from what they started from", and a concurrent change by someone
   * else to the same fields makes the server refuse with CONFLICT instead of silently losing one
   * of the two edits; a concurrent change to other fields merges. Returns false if nothing changed.
   */
  updateTask(id: number, fields: TaskFields, options: { base?: Task; checkVersion?: boolean } = {}): boolean {
    return this.enqueueUpdate(id, fields, options) !== null;
  }

  /**
   * Replaces a task's blockers. Shown at once like any edit, but the caller hears the server's
   * verdict (null: saved; else the refusal, e.g. a cycle), because only the server knows the
   * whole graph; a refusal is the caller's to show, not a toast's.
   */
  setBlockers(id: number, blockedBy: number[]): Promise<ErrorBody | null> {
    const opId = this.enqueueUpdate(id, { blockedBy });
    if (opId === null) return Promise.resolve(null);
    return new Promise((resolve) => this.verdicts.set(opId, resolve));
  }

  /** Queues the fields that changed as one update op; its opId, or null when nothing changed. */
  private enqueueUpdate(
    id: number,
    fields: TaskFields,
    options: { base?: Task; checkVersion?: boolean } = {},
  ): string | null {
    const visible = selectVisibleTasks(this.state)[id];
    if (!visible) return null;
    const from = options.base ?? visible;
    const changed = diffFields(from, fields);
    if (options.base) {
      // Fields the person left alone are not theirs to send, even if the dialog still shows them.
      for (const key of Object.keys(changed) as (keyof TaskFields)[]) {
        if (sameValue(visible[key], changed[key])) delete changed[key];
      }
    }
    if (Object.keys(changed).length === 0) return null;
    const confirmed = this.state.tasks[id];
    const baseVersion = options.base && options.base.version > 0 ? options.base.version : (confirmed?.version ?? 0);
    // The values the person started from: their dialog's snapshot, else what the server had.
    const startedFrom = options.base ?? confirmed ?? visible;
    const baseValues: TaskFields = {};
    for (const key of Object.keys(changed) as (keyof TaskFields)[]) {
      (baseValues as Record<string, unknown>)[key] = startedFrom[key];
    }
    const opId = makeOpId();
    this.store.dispatch({
      type: "enqueue",
      op: {
        kind: "update",
        opId,
        at: new Date().toISOString(),
        state: "queued",
        attempts: 0,
        baseVersion,
        id,
        fields: changed,
        baseValues,
        checkVersion: options.checkVersion ?? true,
      },
    });
    this.pump();
    return opId;
  }

  moveTask(id: number, status: Status, position: number): void {
    this.store.dispatch({
      type: "enqueue",
      op: {
        kind: "move",
        opId: makeOpId(),
        at: new Date().toISOString(),
        state: "queued",
        attempts: 0,
        baseVersion: this.state.tasks[id]?.version ?? 0,
        id,
        status,
        position,
      },
    });
    this.pump();
  }

  deleteTask(id: number): void {
    this.store.dispatch({
      type: "enqueue",
      op: {
        kind: "delete",
        opId: makeOpId(),
        at: new Date().toISOString(),
        state: "queued",
        attempts: 0,
        baseVersion: this.state.tasks[id]?.version ?? 0,
        id,
      },
    });
    this.pump();
  }

  /** A task's recorded changes, newest first (null when the server cannot be asked). */
  async history(taskId: number): Promise<ActivityEntry[] | null> {
    if (taskId < 0) return [];
    const result = await api.history(this.creds, taskId);
    if (!result.ok) return null;
    const data = result.data as unknown;
    return Array.isArray(data) ? (data as ActivityEntry[]) : null;
  }

  // ---- labels, comments, notifications ------------------------------------------------------

  /**
   * Sends one command and waits for its answer. Labels and comments are not queued offline like
   * task edits: the person is looking at the dialog that sent them and sees the refusal there.
   */
  private async command<T extends object>(event: string, payload: object): Promise<Ack<T>> {
    const socket = this.socket;
    if (!socket?.connected || this.state.connection !== "live") {
      return { ok: false, error: { code: "OFFLINE", message: "Not connected to the server; try again when live." } };
    }
    return new Promise((resolve) => {
      (socket.timeout(ACK_TIMEOUT_MS) as unknown as Socket).emit(event, payload, (err: Error | null, ack?: Ack<T>) => {
        if (err || !ack) resolve({ ok: false, error: { code: "TIMEOUT", message: "The server did not answer." } });
        else resolve(ack);
      });
    });
  }

  createLabel(name: string, color: string): Promise<Ack<{ label?: Label }>> {
    return this.command("label:create", { name: name.trim(), color, opId: makeOpId() });
  }

  updateLabel(id: number, changes: { name?: string; color?: string }): Promise<Ack<{ label?: Label }>> {
    return this.command("label:update", { id, ...changes });
  }

  deleteLabel(id: number): Promise<Ack> {
    return this.command("label:delete", { id });
  }

  /** The comment shows in the thread on the ack; the count follows the broadcast, like everyone's. */
  async addComment(taskId: number, body: string): Promise<Ack<{ comment?: Comment }>> {
    const ack = await this.command<{ comment?: Comment }>("comment:create", { taskId, body, opId: makeOpId() });
    if (ack.ok && ack.comment) this.store.dispatch({ type: "commentAcked", comment: ack.comment });
    return ack;
  }

  async editComment(id: number, body: string): Promise<Ack<{ comment?: Comment }>> {
    const ack = await this.command<{ comment?: Comment }>("comment:update", { id, body });
    if (ack.ok && ack.comment) this.store.dispatch({ type: "commentAcked", comment: ack.comment });
    return ack;
  }

  deleteComment(id: number): Promise<Ack> {
    return this.command("comment:delete", { id });
  }

  /** Fetches a card's comments (oldest first); false when the server cannot be asked. */
  async loadComments(taskId: number): Promise<boolean> {
    if (taskId < 0) {
      this.store.dispatch({ type: "commentsLoaded", taskId, comments: [] });
      return true;
    }
    const result = await api.comments(this.creds, taskId);
    if (!result.ok || !Array.isArray(result.data)) return false;
    this.store.dispatch({ type: "commentsLoaded", taskId, comments: result.data });
    return true;
  }

  async loadNotifications(): Promise<boolean> {
    const result = await api.notifications(this.creds);
    if (!result.ok || !Array.isArray(result.data)) return false;
    this.store.dispatch({ type: "notificationsLoaded", notifications: result.data });
    return true;
  }

  /**
   * Marks some (or all) of this person's notifications read. The count drops when the server's
   * `notifications:read` arrives, on every tab of theirs alike, so it is never counted twice.
   */
  async readNotifications(ids?: number[]): Promise<boolean> {
    const result = await api.readNotifications(this.creds, ids);
    return result.ok;
  }

  /** Tells the others which card this page has open (null: none); said again after a reconnect. */
  viewTask(taskId: number | null): void {
    const id = taskId !== null && taskId > 0 ? taskId : null;
    if (id === this.viewing) return;
    this.viewing = id;
    if (this.socket?.connected) this.socket.emit("task:view", { taskId: id });
  }

  /** After a (re)connection: a new socket views nothing until told. */
  private sendView(): void {
    if (this.viewing !== null && this.socket?.connected) this.socket.emit("task:view", { taskId: this.viewing });
  }

  // ---- ephemeral signals --------------------------------------------------------------------

  /** Call on every keystroke in the new-task form. */
  typingInput(): void {
    const socket = this.socket;
    if (!socket?.connected) return;
    const now = Date.now();
    // The server forgets a typist after 3 s, so a long burst repeats the start now and then.
    if (!this.typingActive || now - this.typingSentAt > TYPING_REPEAT_MS) {
      socket.volatile.emit("typing:start", {});
      this.typingSentAt = now;
      this.typingActive = true;
    }
    if (this.typingIdle) clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.typingStop(), TYPING_IDLE_MS);
  }

  typingStop(): void {
    if (this.typingIdle) clearTimeout(this.typingIdle);
    this.typingIdle = null;
    if (!this.typingActive) return;
    this.typingActive = false;
    if (this.socket?.connected) this.socket.volatile.emit("typing:stop", {});
  }

  /** Announces a drag; resolves false when the server says someone else holds the card. */
  async dragStart(taskId: number): Promise<boolean> {
    const socket = this.socket;
    if (taskId < 0 || !socket?.connected) return true;
    const ack = await new Promise<Ack | null>((resolve) => {
      (socket.timeout(3000) as unknown as Socket).emit(
        "task:drag:start",
        { taskId },
        (err: Error | null, reply?: Ack) => resolve(err ? null : (reply ?? null)),
      );
    });
    if (ack && !ack.ok) {
      this.explainRefusal(ack.error, null);
      return ack.error.code !== "TASK_LOCKED";
    }
    return true;
  }

  dragEnd(taskId: number): void {
    if (taskId < 0 || !this.socket?.connected) return;
    this.socket.emit("task:drag:end", { taskId });
  }

  /** Sends whatever is queued, if the connection allows (e.g. after a late restore). */
  kick(): void {
    this.pump();
  }

  // ---- sending the queue --------------------------------------------------------------------

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.drain().finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.pump();
      }
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const connection = this.state.connection;
      const mode = connection === "live" ? "socket" : connection === "rest" || connection === "stream" ? "rest" : null;
      if (!mode || this.stopped) return;
      const op = this.state.pending.find((o) => o.state === "queued");
      if (!op) return;
      this.store.dispatch({ type: "opSent", opId: op.opId });
      const outcome = mode === "socket" ? await this.sendOverSocket(op) : await this.sendOverRest(op);
      if (this.stopped) return;
      if (!this.state.pending.some((o) => o.opId === op.opId)) continue;
      if (outcome.type === "ok") {
        this.store.dispatch({ type: "opAcked", opId: op.opId, task: outcome.task });
        this.takeVerdict(op.opId)?.(null);
      } else if (outcome.type === "refused") {
        this.refuse(op, outcome.error);
      } else {
        const sent = this.state.pending.find((o) => o.opId === op.opId);
        if (sent && sent.attempts >= MAX_ATTEMPTS) {
          this.refuse(op, { code: "TIMEOUT", message: "The server did not answer, so the change was not saved." });
          continue;
        }
        this.store.dispatch({ type: "opRequeued", opId: op.opId });
        // Still connected but no answer: try again shortly; otherwise reconnect will pump.
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.pump(), 1000);
        return;
      }
    }
  }

  private commandFor(op: PendingOp): {
    event: "task:create" | "task:update" | "task:move" | "task:delete";
    payload: object;
  } {
    switch (op.kind) {
      case "create": {
        const payload: Record<string, unknown> = { title: op.title, status: op.status, opId: op.opId };
        if (op.description) payload.description = op.description;
        if (op.assignee) payload.assignee = op.assignee;
        return { event: "task:create", payload };
      }
      case "update": {
        const payload: Record<string, unknown> = { id: op.id, ...op.fields, opId: op.opId };
        const version = this.versionFor(op);
        if (version) payload.version = version;
        return { event: "task:update", payload };
      }
      case "move":
        return {
          event: "task:move",
          payload: { taskId: op.id, status: op.status, position: op.position, opId: op.opId },
        };
      case "delete":
        return { event: "task:delete", payload: { taskId: op.id, opId: op.opId } };
    }
  }

  private versionFor(op: UpdateOp): number | undefined {
    return versionToSend(op, this.state.tasks[op.id]);
  }

  private sendOverSocket(op: PendingOp): Promise<Outcome> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve({ type: "lost" });
    const { event, payload } = this.commandFor(op);
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (o: Outcome) => {
        if (settled) return;
        settled = true;
        if (this.inflight?.opId === op.opId) this.inflight = null;
        resolve(o);
      };
      this.inflight = { opId: op.opId, resolve: settle };
      // The typed emit needs a literal event name; the union is checked in commandFor.
      (socket.timeout(ACK_TIMEOUT_MS) as unknown as Socket).emit(event, payload, (err: Error | null, ack?: TaskAck) => {
        if (err || !ack) return settle({ type: "lost" });
        if (ack.ok) return settle({ type: "ok", task: ack.task });
        settle({ type: "refused", error: ack.error ?? { code: "INTERNAL", message: "Refused" } });
      });
    });
  }

  private async sendOverRest(op: PendingOp): Promise<Outcome> {
    const key = { idempotencyKey: op.opId };
    let result;
    switch (op.kind) {
      case "create": {
        const { payload } = this.commandFor(op);
        const body = { ...(payload as Record<string, unknown>) };
        delete body.opId;
        result = await api.createTask(this.creds, this.board, body, op.opId);
        break;
      }
      case "update": {
        const body: Record<string, unknown> = { ...op.fields };
        const version = this.versionFor(op);
        if (version) body.version = version;
        result = await rest<Task>(this.creds, "PATCH", `/tasks/${op.id}`, { ...key, body });
        break;
      }
      case "move":
        result = await rest<Task>(this.creds, "PATCH", `/tasks/${op.id}`, {
          ...key,
          body: { status: op.status, position: op.position },
        });
        break;
      case "delete":
        result = await rest<null>(this.creds, "DELETE", `/tasks/${op.id}`, key);
        break;
    }
    if (result.ok)
      return { type: "ok", task: result.data && typeof result.data === "object" ? result.data : undefined };
    if ("network" in result) return { type: "lost" };
    if (result.status === 401) this.hooks.onAuthError("Unauthorized");
    return { type: "refused", error: result.error };
  }

  private dropInflight(): void {
    this.inflight?.resolve({ type: "lost" });
    this.inflight = null;
  }

  private refuse(op: PendingOp, error: ErrorBody): void {
    // Deleting what is already gone is what the person wanted: no need to complain.
    if (op.kind === "delete" && error.code === "TASK_NOT_FOUND") {
      this.store.dispatch({ type: "opAcked", opId: op.opId });
      return;
    }
    this.store.dispatch({ type: "opRejected", opId: op.opId });
    const verdict = this.takeVerdict(op.opId);
    if (verdict) verdict(error);
    else this.explainRefusal(error, op);
  }

  private takeVerdict(opId: string): ((refusal: ErrorBody | null) => void) | undefined {
    const verdict = this.verdicts.get(opId);
    this.verdicts.delete(opId);
    return verdict;
  }

  private explainRefusal(error: ErrorBody, op: PendingOp | null): void {
    const what = op ? describe(op) : "That";
    switch (error.code) {
      case "TASK_LOCKED":
        showToast({
          kind: "warning",
          title: "Someone else has this card in hand",
          message: `${error.message}. Give them a moment, then try again.`,
        });
        return;
      case "CONFLICT": {
        const update = op?.kind === "update" ? op : null;
        showToast({
          kind: "warning",
          title: `Not saved: ${what} clashed with a newer change`,
          message: `${error.message}. The card now shows the latest version.`,
          action: update
            ? {
                label: "Apply mine anyway",
                run: () => this.updateTask(update.id, update.fields, { checkVersion: false }),
              }
            : undefined,
        });
        return;
      }
      case "TASK_NOT_FOUND":
        showToast({ kind: "warning", title: "That card no longer exists", message: error.message });
        return;
      default:
        showToast({ kind: "error", title: `Not saved: ${what}`, message: error.message });
    }
  }

  // ---- missed events ---------------------------------------------------------------------------

  /**
   * The reducer found a gap: an event more than one seq past the last change applied, so this
   * socket missed changes (the server drops broadcasts to a socket whose queue is full, and an
   * event whose publisher died never comes). Reconnecting is the cure: the handshake sends
   * `lastSeq` = the last seq applied without a hole, and the server replays what came after it
   * (`sync:resumed`) or sends the whole board (`sync:full`). Rejected: asking for the missed
   * events over REST (a second path to keep in step with the socket's order).
   *
   * One reconnect at a time: events that come meanwhile are not applied (the resume brings them
   * again) and do not start another. A gap found again soon after asks for the whole board
   * instead, after a wait that doubles, so a socket that keeps overflowing cannot spin.
   */
  private resumeAfterGap(): void {
    if (this.stopped || this.gapTimer) return;
    const now = Date.now();
    this.gapStreak = now - this.lastGapAt < GAP_RECUR_MS ? this.gapStreak + 1 : 1;
    this.lastGapAt = now;
    const again = this.gapStreak > 1;
    const wait = again ? Math.min(GAP_RETRY_MAX_MS, GAP_RETRY_MS * 2 ** (this.gapStreak - 2)) : 0;
    // Not from inside the dispatch that found the gap: disconnecting dispatches too.
    this.gapTimer = setTimeout(() => {
      const socket = this.socket;
      if (this.stopped || !socket) return;
      if (again) this.wantFullSync = true;
      // The stream resumes the same way: its next request asks from the last seq applied.
      if (this.stream && this.state.connection === "stream") {
        const stream = this.stream;
        const restart = () => {
          this.gapTimer = null;
          stream.reconnect();
        };
        if (wait > 0) this.gapTimer = setTimeout(restart, wait);
        else restart();
        return;
      }
      socket.disconnect();
      this.store.dispatch({ type: "connection", state: "reconnecting" });
      const reconnect = () => {
        this.gapTimer = null;
        if (!this.stopped && !socket.connected) socket.connect();
      };
      if (wait > 0) this.gapTimer = setTimeout(reconnect, wait);
      else reconnect();
    }, 0);
  }

  // ---- connection fallbacks -----------------------------------------------------------------

  private async probeRest(): Promise<void> {
    const result = await api.tasks(this.creds, this.board);
    if (this.stopped || this.socket?.connected) return;
    if (result.ok) {
      this.enterRestMode(result.data);
      this.openStream();
      return;
    }
    if (result.status === 401) {
      this.hooks.onAuthError("Unauthorized");
      return;
    }
    this.store.dispatch({ type: "connection", state: "offline" });
  }

  /**
   * The socket cannot connect but REST answers (a proxy that blocks both WebSocket and
   * long-polling): show the server's board and send changes over REST. Only in this degraded
   * mode does the page refresh on a timer; a live socket never polls.
   */
  private enterRestMode(tasks: Task[]): void {
    const at = new Date().toISOString();
    this.store.dispatch({ type: "restSnapshot", tasks: Array.isArray(tasks) ? tasks : [], agents: null, at });
    this.store.dispatch({ type: "connection", state: "rest" });
    this.pump();
    void this.loadActivity();
    void api.agents(this.creds).then((agents) => {
      if (agents.ok && Array.isArray(agents.data) && this.state.connection === "rest") {
        this.store.dispatch({ type: "restSnapshot", tasks: Object.values(this.state.tasks), agents: agents.data, at });
      }
    });
    if (this.restTimer) return;
    this.restTimer = setInterval(async () => {
      if (this.state.connection !== "rest" || this.state.pending.length > 0) return;
      const fresh = await api.tasks(this.creds, this.board);
      if (fresh.ok && this.state.connection === "rest" && this.state.pending.length === 0) {
        this.store.dispatch({ type: "restSnapshot", tasks: fresh.data, agents: null, at: new Date().toISOString() });
      } else if (!fresh.ok && "network" in fresh) {
        this.store.dispatch({ type: "connection", state: "offline" });
      }
    }, REST_REFRESH_MS);
  }

  /**
   * Live again without Socket.IO: the board's event stream brings everyone's changes as they
   * happen (the REST refresh above pauses while it is open), and writes go over REST, signed
   * with the person's name. Presence, typing and drag marks belong to sockets: the badge says
   * "no presence". The socket keeps trying meanwhile, and takes over when it connects.
   */
  private openStream(): void {
    if (this.stream || this.stopped) return;
    const lastSeq = () => (this.state.synced && !this.wantFullSync ? this.state.seq : undefined);
    const stream = new EventStream(this.creds, this.board, {
      lastSeq,
      onOpen: () => {
        this.store.dispatch({ type: "connection", state: "stream" });
        this.pump();
      },
      onDrop: (status, error, failures) => {
        if (status === 401) return this.hooks.onAuthError(error?.message ?? "Unauthorized");
        if (error && (error.code === "BOARD_NOT_FOUND" || error.code === "FORBIDDEN")) {
          this.stopRestMode();
          return this.hooks.onBoardUnavailable(error.code, error.message);
        }
        // Any answer (a proxy refusing the stream too): REST alone, refreshed on its timer,
        // until the stream comes back. No answer: a blip, or the server is away.
        const state = status !== 0 ? "rest" : failures > 1 || navigator.onLine === false ? "offline" : "reconnecting";
        this.store.dispatch({ type: "connection", state });
      },
    });
    this.listen(stream, "stream");
    this.stream = stream;
    stream.open();
  }

  private stopRestMode(): void {
    if (this.restTimer) clearInterval(this.restTimer);
    this.restTimer = null;
    this.stream?.close();
    this.stream = null;
  }

  /**
   * The page of the feed older than what it shows ("Load more"): "end" when the server has no
   * more, "failed" when it cannot be asked now.
   */
  async loadOlderActivity(): Promise<"more" | "end" | "failed"> {
    const ids = this.state.activity.map((e) => Number(e.id)).filter((id) => Number.isInteger(id) && id > 0);
    const before = ids.length > 0 ? Math.min(...ids) : undefined;
    const result = await api.activity(this.creds, this.board, ACTIVITY_PAGE, before);
    if (!result.ok || !Array.isArray(result.data)) return "failed";
    if (result.data.length > 0) this.store.dispatch({ type: "olderActivity", entries: result.data });
    return result.data.length < ACTIVITY_PAGE ? "end" : "more";
  }

  private async loadActivity(): Promise<void> {
    const result = await api.activity(this.creds, this.board, ACTIVITY_PAGE);
    if (!result.ok) return;
    const data = result.data as unknown;
    const entries = Array.isArray(data)
      ? data
      : Array.isArray((data as { items?: unknown })?.items)
        ? (data as { items: ActivityEntry[] }).items
        : [];
    if (entries.length) this.store.dispatch({ type: "activity", entries });
  }

  // ---- persistence --------------------------------------------------------------------------

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.saveNow(), 150);
  }

  /** Writes a save that is waiting, and only then: an idle page never overwrites the copy. */
  private flushSave(): void {
    if (this.saveTimer) this.saveNow();
  }

  private saveNow(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.boardGone) return;
    void saveBoard(toCache(this.state));
  }
}
