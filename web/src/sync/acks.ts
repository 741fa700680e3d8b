//! Socket commands that wait for the server's answer, up to a deadline.

import type { Socket } from "socket.io-client";
import type { WarroomSocket } from "../net/connection";

export const ACK_TIMEOUT_MS = 8000;

/** Emits `event` and resolves with the server's ack, or null when none came within `timeoutMs`. */
export function emitWithAck<A>(
  socket: WarroomSocket,
  event: string,
  payload: object,
  timeoutMs = ACK_TIMEOUT_MS,
): Promise<A | null> {
  return new Promise((resolve) => {
    // The typed emit needs a literal event name; each caller sends the commands it names.
    (socket.timeout(timeoutMs) as unknown as Socket).emit(event, payload, (err: Error | null, ack?: A) =>
      resolve(err || !ack ? null : ack),
    );
  });
}
