//! The outbox: the queue of this person's task changes (held in the store's `pending`, saved
//! with the board), sent one at a time and in order by a single sender loop.
//!
//! Each op goes with its `opId`: over the socket when live, over REST when only REST answers,
//! and not at all while offline. A lost ack simply means "send again"; the server's opId
//! deduplication makes that safe. Rejected: sending ops side by side (a create and the move of
//! the same card could arrive in the wrong order).

import type { Credentials } from "../credentials";
import type { WarroomSocket } from "../net/connection";
import { api, rest } from "../net/rest";
import type { ErrorBody, Task, TaskAck } from "../protocol";
import { versionToSend, type BoardState, type PendingOp } from "../state/reducer";
import type { Store } from "../state/store";
import { emitWithAck } from "./acks";
import { refusalIsDone } from "./refusals";

export type Outcome = { type: "ok"; task?: Task } | { type: "refused"; error: ErrorBody } | { type: "lost" };

/** Sends of one op without an answer before it is given up as refused with TIMEOUT. */
export const MAX_ATTEMPTS = 6;
/** The wait before sending again an op that got no answer while still connected. */
const RETRY_MS = 1000;

export interface OutboxDeps {
  store: Store;
  creds: Credentials;
  /** The socket, when there is one (its `connected` tells whether it can send now). */
  socket(): WarroomSocket | null;
  /** The engine was stopped: nothing more is sent. */
  stopped(): boolean;
  onAuthError(message: string): void;
  /** A refused op that no caller waits for: the person must be told. */
  onRefused(error: ErrorBody, op: PendingOp): void;
}

export class Outbox {
  private pumping = false;
  private pumpAgain = false;
  private inflight: { opId: string; resolve: (o: Outcome) => void } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Ops whose sender waits for the server's verdict itself (the dialog's blockers), by opId. */
  private verdicts = new Map<string, (refusal: ErrorBody | null) => void>();

  constructor(private readonly deps: OutboxDeps) {}

  private get state(): BoardState {
    return this.deps.store.getState();
  }

  /** Queues `op` (shown at once by the reducer) and sends it when the connection allows. */
  enqueue(op: PendingOp): void {
    this.deps.store.dispatch({ type: "enqueue", op });
    this.pump();
  }

  /** Queues `op` and resolves with the server's verdict on it: null when saved, else the refusal. */
  enqueueForVerdict(op: PendingOp): Promise<ErrorBody | null> {
    const verdict = new Promise<ErrorBody | null>((resolve) => this.verdicts.set(op.opId, resolve));
    this.enqueue(op);
    return verdict;
  }

  /** Sends whatever is queued, if the connection allows; one sender loop at a time. */
  pump(): void {
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

  /** The socket dropped: the op on the wire is lost (the reducer queues it again). */
  dropInflight(): void {
    this.inflight?.resolve({ type: "lost" });
    this.inflight = null;
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async drain(): Promise<void> {
    const { dispatch } = this.deps.store;
    for (;;) {
      const connection = this.state.connection;
      const mode = connection === "live" ? "socket" : connection === "rest" || connection === "stream" ? "rest" : null;
      if (!mode || this.deps.stopped()) return;
      const op = this.state.pending.find((o) => o.state === "queued");
      if (!op) return;
      dispatch({ type: "opSent", opId: op.opId });
      const outcome = mode === "socket" ? await this.sendOverSocket(op) : await this.sendOverRest(op);
      if (this.deps.stopped()) return;
      if (!this.state.pending.some((o) => o.opId === op.opId)) continue;
      if (outcome.type === "ok") {
        dispatch({ type: "opAcked", opId: op.opId, task: outcome.task });
        this.takeVerdict(op.opId)?.(null);
      } else if (outcome.type === "refused") {
        this.refuse(op, outcome.error);
      } else {
        const sent = this.state.pending.find((o) => o.opId === op.opId);
        if (sent && sent.attempts >= MAX_ATTEMPTS) {
          this.refuse(op, { code: "TIMEOUT", message: "The server did not answer, so the change was not saved." });
          continue;
        }
        dispatch({ type: "opRequeued", opId: op.opId });
        // Still connected but no answer: try again shortly; otherwise reconnect will pump.
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.pump(), RETRY_MS);
        return;
      }
    }
  }

  private sendOverSocket(op: PendingOp): Promise<Outcome> {
    const socket = this.deps.socket();
    if (!socket?.connected) return Promise.resolve({ type: "lost" });
    const { event, payload } = commandFor(op, this.state);
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (o: Outcome) => {
        if (settled) return;
        settled = true;
        if (this.inflight?.opId === op.opId) this.inflight = null;
        resolve(o);
      };
      this.inflight = { opId: op.opId, resolve: settle };
      void emitWithAck<TaskAck>(socket, event, payload).then((ack) => {
        if (!ack) return settle({ type: "lost" });
        if (ack.ok) return settle({ type: "ok", task: ack.task });
        settle({ type: "refused", error: ack.error ?? { code: "INTERNAL", message: "Refused" } });
      });
    });
  }

  private async sendOverRest(op: PendingOp): Promise<Outcome> {
    const { creds } = this.deps;
    const key = { idempotencyKey: op.opId };
    let result;
    switch (op.kind) {
      case "create": {
        const { payload } = commandFor(op, this.state);
        const body = { ...(payload as Record<string, unknown>) };
        delete body.opId;
        result = await api.createTask(creds, this.state.board, body, op.opId);
        break;
      }
      case "update": {
        const body: Record<string, unknown> = { ...op.fields };
        const version = versionToSend(op, this.state.tasks[op.id]);
        if (version) body.version = version;
        result = await rest<Task>(creds, "PATCH", `/tasks/${op.id}`, { ...key, body });
        break;
      }
      case "move":
        result = await rest<Task>(creds, "PATCH", `/tasks/${op.id}`, {
          ...key,
          body: { status: op.status, position: op.position },
        });
        break;
      case "delete":
        result = await rest<null>(creds, "DELETE", `/tasks/${op.id}`, key);
        break;
    }
    if (result.ok)
      return { type: "ok", task: result.data && typeof result.data === "object" ? result.data : undefined };
    if ("network" in result) return { type: "lost" };
    if (result.status === 401) this.deps.onAuthError("Unauthorized");
    return { type: "refused", error: result.error };
  }

  private refuse(op: PendingOp, error: ErrorBody): void {
    if (refusalIsDone(op, error)) {
      this.deps.store.dispatch({ type: "opAcked", opId: op.opId });
      return;
    }
    this.deps.store.dispatch({ type: "opRejected", opId: op.opId });
    const verdict = this.takeVerdict(op.opId);
    if (verdict) verdict(error);
    else this.deps.onRefused(error, op);
  }

  private takeVerdict(opId: string): ((refusal: ErrorBody | null) => void) | undefined {
    const verdict = this.verdicts.get(opId);
    this.verdicts.delete(opId);
    return verdict;
  }
}

/** The socket command that carries `op`, sent against the `version` the state calls for. */
export function commandFor(
  op: PendingOp,
  state: BoardState,
): { event: "task:create" | "task:update" | "task:move" | "task:delete"; payload: object } {
  switch (op.kind) {
    case "create": {
      const payload: Record<string, unknown> = { title: op.title, status: op.status, opId: op.opId };
      if (op.description) payload.description = op.description;
      if (op.assignee) payload.assignee = op.assignee;
      return { event: "task:create", payload };
    }
    case "update": {
      const payload: Record<string, unknown> = { id: op.id, ...op.fields, opId: op.opId };
      const version = versionToSend(op, state.tasks[op.id]);
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
