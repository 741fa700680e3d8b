//! Label and comment commands: sent over the live socket and answered by their ack. They are not
//! queued offline like task edits: the person is looking at the dialog that sent them and sees
//! the refusal there.

import type { WarroomSocket } from "../net/connection";
import type { Ack, Comment, Label } from "../protocol";
import type { Store } from "../state/store";
import { emitWithAck } from "./acks";
import { makeOpId } from "./ops";

export class Commands {
  constructor(
    private readonly store: Store,
    private readonly socket: () => WarroomSocket | null,
  ) {}

  createLabel(name: string, color: string): Promise<Ack<{ label?: Label }>> {
    return this.send("label:create", { name: name.trim(), color, opId: makeOpId() });
  }

  updateLabel(id: number, changes: { name?: string; color?: string }): Promise<Ack<{ label?: Label }>> {
    return this.send("label:update", { id, ...changes });
  }

  deleteLabel(id: number): Promise<Ack> {
    return this.send("label:delete", { id });
  }

  /** The comment shows in the thread on the ack; the count follows the broadcast, like everyone's. */
  async addComment(taskId: number, body: string): Promise<Ack<{ comment?: Comment }>> {
    const ack = await this.send<{ comment?: Comment }>("comment:create", { taskId, body, opId: makeOpId() });
    if (ack.ok && ack.comment) this.store.dispatch({ type: "commentAcked", comment: ack.comment });
    return ack;
  }

  async editComment(id: number, body: string): Promise<Ack<{ comment?: Comment }>> {
    const ack = await this.send<{ comment?: Comment }>("comment:update", { id, body });
    if (ack.ok && ack.comment) this.store.dispatch({ type: "commentAcked", comment: ack.comment });
    return ack;
  }

  deleteComment(id: number): Promise<Ack> {
    return this.send("comment:delete", { id });
  }

  /** Sends one command and waits for its answer; refused at once unless live. */
  private async send<T extends object>(event: string, payload: object): Promise<Ack<T>> {
    const socket = this.socket();
    if (!socket?.connected || this.store.getState().connection !== "live") {
      return { ok: false, error: { code: "OFFLINE", message: "Not connected to the server; try again when live." } };
    }
    const ack = await emitWithAck<Ack<T>>(socket, event, payload);
    return ack ?? { ok: false, error: { code: "TIMEOUT", message: "The server did not answer." } };
  }
}
