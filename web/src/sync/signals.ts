//! The ephemeral signals this page sends over the socket: typing in the new-task form, dragging
//! a card, and which card it has open. None is queued: offline, they are simply not sent.

import type { WarroomSocket } from "../net/connection";
import type { Ack, ErrorBody } from "../protocol";
import { emitWithAck } from "./acks";

const TYPING_IDLE_MS = 1000;
const TYPING_REPEAT_MS = 2000;
const DRAG_ACK_TIMEOUT_MS = 3000;

export interface SignalDeps {
  socket(): WarroomSocket | null;
  /** A drag the server refused: the person must be told. */
  onRefused(error: ErrorBody): void;
}

export class Signals {
  private typingActive = false;
  private typingSentAt = 0;
  private typingIdle: ReturnType<typeof setTimeout> | null = null;
  /** The card this page has open, told again to the server after every (re)connection. */
  private viewing: number | null = null;

  constructor(private readonly deps: SignalDeps) {}

  /** Call on every keystroke in the new-task form. */
  typingInput(): void {
    const socket = this.deps.socket();
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
    const socket = this.deps.socket();
    if (socket?.connected) socket.volatile.emit("typing:stop", {});
  }

  /** Announces a drag; resolves false when the server says someone else holds the card. */
  async dragStart(taskId: number): Promise<boolean> {
    const socket = this.deps.socket();
    if (taskId < 0 || !socket?.connected) return true;
    const ack = await emitWithAck<Ack>(socket, "task:drag:start", { taskId }, DRAG_ACK_TIMEOUT_MS);
    if (ack && !ack.ok) {
      this.deps.onRefused(ack.error);
      return ack.error.code !== "TASK_LOCKED";
    }
    return true;
  }

  dragEnd(taskId: number): void {
    const socket = this.deps.socket();
    if (taskId < 0 || !socket?.connected) return;
    socket.emit("task:drag:end", { taskId });
  }

  /** Tells the others which card this page has open (null: none); said again after a reconnect. */
  viewTask(taskId: number | null): void {
    const id = taskId !== null && taskId > 0 ? taskId : null;
    if (id === this.viewing) return;
    this.viewing = id;
    const socket = this.deps.socket();
    if (socket?.connected) socket.emit("task:view", { taskId: id });
  }

  /** After a (re)connection: a new socket views nothing until told. */
  sendView(): void {
    const socket = this.deps.socket();
    if (this.viewing !== null && socket?.connected) socket.emit("task:view", { taskId: this.viewing });
  }

  stop(): void {
    if (this.typingIdle) clearTimeout(this.typingIdle);
  }
}
