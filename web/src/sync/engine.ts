//! The sync engine: one per open board, it wires the socket's life (connect, drop, refusal) to
//! the units that do the work, and is the one object the components call.
//!
//! `events` turns server events into reducer actions; `outbox` sends this person's changes in
//! order (`ops` builds them, `refusals` explains the refused ones); `restMode` keeps the board
//! live over REST and the event stream when the socket cannot connect; `gaps` resumes after
//! missed events; `autosave` keeps the IndexedDB copy; `signals` sends typing, drags and the
//! open card; `commands` and `requests` carry labels, comments, the feed and notifications.

import type { Socket } from "socket.io-client";
import type { Credentials } from "../credentials";
import { openSocket, type WarroomSocket } from "../net/connection";
import type { Ack, ActivityEntry, Comment, ErrorBody, Label, Status, TaskFields } from "../protocol";
import type { CachedBoard, PendingOp } from "../state/reducer";
import type { Store } from "../state/store";
import { showToast } from "../state/toasts";
import { Autosave } from "./autosave";
import { Commands } from "./commands";
import { listen, listenPresence, type EventContext } from "./events";
import { GapRecovery, type Resumable } from "./gaps";
import { createOp, deleteOp, moveOp, updateOp, type NewTaskInput, type UpdateOptions } from "./ops";
import { Outbox } from "./outbox";
import { refusalToast } from "./refusals";
import { Requests } from "./requests";
import { RestMode } from "./restMode";
import { Signals } from "./signals";

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

/** How often drag marks whose end never came are cleared. */
const DRAG_EXPIRY_CHECK_MS = 5000;

export class SyncEngine {
  private socket: WarroomSocket | null = null;
  private stopped = false;
  /** This board was deleted on the server: its copy is forgotten and must not be saved again. */
  private boardGone = false;
  private timers: ReturnType<typeof setInterval>[] = [];
  /** The reconnect after the server closed the session on purpose. */
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void) | null = null;

  private readonly outbox: Outbox;
  private readonly gaps: GapRecovery;
  private readonly restMode: RestMode;
  private readonly autosave: Autosave;
  private readonly signals: Signals;
  private readonly commands: Commands;
  private readonly requests: Requests;
  private readonly events: EventContext;

  constructor(
    private readonly store: Store,
    private readonly creds: Credentials,
    private readonly hooks: EngineHooks,
  ) {
    const socket = () => this.socket;
    const stopped = () => this.stopped;
    this.requests = new Requests(store, creds);
    this.commands = new Commands(store, socket);
    this.signals = new Signals({ socket, onRefused: (error) => this.explainRefusal(error, null) });
    this.outbox = new Outbox({
      store,
      creds,
      socket,
      stopped,
      onAuthError: (message) => hooks.onAuthError(message),
      onRefused: (error, op) => this.explainRefusal(error, op),
    });
    this.gaps = new GapRecovery(() => this.resumable(), stopped);
    this.autosave = new Autosave(store, () => this.boardGone);
    this.events = {
      store,
      onFullSync: () => {
        this.gaps.fullSyncArrived();
        void this.requests.loadActivity();
        this.signals.sendView();
        this.outbox.pump();
      },
      onCelebration: (event) => hooks.onCelebration(event),
      onBoardDeleted: (id) => {
        this.boardGone = true;
        hooks.onBoardUnavailable("BOARD_DELETED", `The board “${id}” was deleted.`);
      },
    };
    this.restMode = new RestMode({
      store,
      creds,
      stopped,
      socketConnected: () => this.socket?.connected === true,
      lastSeq: () => this.gaps.lastSeq(store.getState()),
      listen: (stream) => listen(stream, "stream", this.events),
      pump: () => this.outbox.pump(),
      loadActivity: () => this.requests.loadActivity(),
      onAuthError: (message) => hooks.onAuthError(message),
      onBoardUnavailable: (reason, message) => hooks.onBoardUnavailable(reason, message),
    });
  }

  start(): void {
    this.stopped = false;
    const { dispatch, getState } = this.store;
    const socket = openSocket(this.creds, getState().board, () => this.gaps.lastSeq(getState()));
    this.socket = socket;

    socket.on("connect", () => this.restMode.socketConnected());
    listen(socket, "live", this.events);
    listenPresence(socket, this.store);
    socket.on("sync:resumed", (payload) => {
      dispatch({ type: "syncResumed", seq: payload?.seq ?? getState().seq, at: new Date().toISOString() });
      this.signals.sendView();
      this.outbox.pump();
    });
    socket.on("disconnect", (reason) => {
      this.outbox.dropInflight();
      // Anything socket.io buffered would be sent again on reconnect beside our own replay.
      (socket as Socket).sendBuffer = [];
      dispatch({ type: "requeueAll" });
      if (this.stopped || this.boardGone || reason === "io client disconnect") return;
      dispatch({ type: "connection", state: navigator.onLine === false ? "offline" : "reconnecting" });
      // Socket.IO does not retry by itself after the server closed the session on purpose
      // (a restart or a kick); the board should come back all the same.
      if (reason === "io server disconnect") {
        this.reconnectTimer = setTimeout(() => {
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
      this.restMode.connectFailed();
    });

    const onOffline = () => dispatch({ type: "connection", state: "offline" });
    const onOnline = () => {
      if (!socket.connected) socket.connect();
    };
    window.addEventListener("offline", onOffline);
    window.addEventListener("online", onOnline);
    this.timers.push(setInterval(() => dispatch({ type: "expireDrags", now: Date.now() }), DRAG_EXPIRY_CHECK_MS));
    const unwatchGaps = this.gaps.watch(this.store);
    this.autosave.start();
    this.unsubscribe = () => {
      unwatchGaps();
      window.removeEventListener("offline", onOffline);
      window.removeEventListener("online", onOnline);
    };
    socket.connect();
  }

  stop(): void {
    this.stopped = true;
    this.autosave.stop();
    this.unsubscribe?.();
    this.restMode.leave();
    for (const t of this.timers) clearInterval(t);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.outbox.stop();
    this.gaps.stop();
    this.signals.stop();
    this.socket?.removeAllListeners();
    this.socket?.offAny();
    this.socket?.disconnect();
    this.socket = null;
    this.unsubscribe = null;
    this.timers = [];
  }

  /** The connection a gap resumes: the event stream while it keeps the page live, else the socket. */
  private resumable(): Resumable | null {
    const socket = this.socket;
    if (!socket) return null;
    // The stream resumes the same way: its next request asks from the last seq applied.
    const stream = this.restMode.liveStream();
    if (stream) return { drop: () => {}, reopen: () => stream.reconnect() };
    return {
      drop: () => {
        socket.disconnect();
        this.store.dispatch({ type: "connection", state: "reconnecting" });
      },
      reopen: () => {
        if (!this.stopped && !socket.connected) socket.connect();
      },
    };
  }

  private explainRefusal(error: ErrorBody, op: PendingOp | null): void {
    showToast(refusalToast(error, op, (update) => this.updateTask(update.id, update.fields, { checkVersion: false })));
  }

  // ---- people's changes -------------------------------------------------------------------

  createTask(input: NewTaskInput): void {
    // The others' "typing" goes before the new card arrives.
    this.signals.typingStop();
    this.outbox.enqueue(createOp(input));
  }

  /**
   * Sends the fields the person changed (see `updateOp` for what `base` changes). Returns false
   * if nothing changed.
   */
  updateTask(id: number, fields: TaskFields, options: UpdateOptions = {}): boolean {
    const op = updateOp(this.store.getState(), id, fields, options);
    if (op) this.outbox.enqueue(op);
    return op !== null;
  }

  /**
   * Replaces a task's blockers. Shown at once like any edit, but the caller hears the server's
   * verdict (null: saved; else the refusal, e.g. a cycle), because only the server knows the
   * whole graph; a refusal is the caller's to show, not a toast's.
   */
  setBlockers(id: number, blockedBy: number[]): Promise<ErrorBody | null> {
    const op = updateOp(this.store.getState(), id, { blockedBy });
    return op ? this.outbox.enqueueForVerdict(op) : Promise.resolve(null);
  }

  moveTask(id: number, status: Status, position: number): void {
    this.outbox.enqueue(moveOp(this.store.getState(), id, status, position));
  }

  deleteTask(id: number): void {
    this.outbox.enqueue(deleteOp(this.store.getState(), id));
  }

  /**
   * Shows the board's saved copy and queues its unsent changes (the server's board, when it came
   * first, is newer and stays).
   */
  restore(cache: CachedBoard): void {
    const before = this.store.getState().tasks;
    this.store.dispatch({ type: "hydrate", cache });
    // The store shows the copy's tasks only if the hydration took them (the reducer's call).
    if (this.store.getState().tasks !== before) this.autosave.restored(cache.tasks);
  }

  /** Sends whatever is queued, if the connection allows (e.g. after a late restore). */
  kick(): void {
    this.outbox.pump();
  }

  // ---- labels, comments, notifications, the feed --------------------------------------------

  createLabel(name: string, color: string): Promise<Ack<{ label?: Label }>> {
    return this.commands.createLabel(name, color);
  }

  updateLabel(id: number, changes: { name?: string; color?: string }): Promise<Ack<{ label?: Label }>> {
    return this.commands.updateLabel(id, changes);
  }

  deleteLabel(id: number): Promise<Ack> {
    return this.commands.deleteLabel(id);
  }

  addComment(taskId: number, body: string): Promise<Ack<{ comment?: Comment }>> {
    return this.commands.addComment(taskId, body);
  }

  editComment(id: number, body: string): Promise<Ack<{ comment?: Comment }>> {
    return this.commands.editComment(id, body);
  }

  deleteComment(id: number): Promise<Ack> {
    return this.commands.deleteComment(id);
  }

  loadComments(taskId: number): Promise<boolean> {
    return this.requests.loadComments(taskId);
  }

  history(taskId: number): Promise<ActivityEntry[] | null> {
    return this.requests.history(taskId);
  }

  loadNotifications(): Promise<boolean> {
    return this.requests.loadNotifications();
  }

  readNotifications(ids?: number[]): Promise<boolean> {
    return this.requests.readNotifications(ids);
  }

  loadOlderActivity(): Promise<"more" | "end" | "failed"> {
    return this.requests.loadOlderActivity();
  }

  // ---- ephemeral signals --------------------------------------------------------------------

  viewTask(taskId: number | null): void {
    this.signals.viewTask(taskId);
  }

  typingInput(): void {
    this.signals.typingInput();
  }

  typingStop(): void {
    this.signals.typingStop();
  }

  dragStart(taskId: number): Promise<boolean> {
    return this.signals.dragStart(taskId);
  }

  dragEnd(taskId: number): void {
    this.signals.dragEnd(taskId);
  }
}
