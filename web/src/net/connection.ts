//! Owns the Socket.IO client: the connection's settings, the one opened as the page boots, and
//! each board's socket. REST is `rest.ts`; components never build URLs.

import { Manager, type ManagerOptions, type Socket } from "socket.io-client";
import type { Credentials } from "../credentials";
import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents } from "../protocol";
import { SERVER_URL } from "./rest";

export type WarroomSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The connection's settings; `auth` is the socket's, per board (see `openSocket`). */
const CONNECTION: Partial<ManagerOptions> = {
  // WebSocket first; when a proxy blocks it, Socket.IO falls back to long-polling.
  transports: ["websocket", "polling"],
  tryAllTransports: true,
  reconnectionDelay: 400,
  reconnectionDelayMax: 2500,
  randomizationFactor: 0.3,
  timeout: 5000,
  autoConnect: false,
};

/** A connection opened before the page rendered, for the first socket to take (`preconnect`). */
let early: Manager | null = null;

/**
 * Opens the connection before the page renders, when its first board connects at once (nothing
 * saved to restore first): in a new browser profile the first WebSocket takes some 100 ms to
 * open, which then overlaps the first render instead of following it. Nothing reaches the
 * page before `openSocket` takes it: the board is joined (and its events sent) only when a socket
 * connects. A failed attempt is not retried here; the socket's own `connect` tries again and
 * reports it. Only when the page will open a socket within moments: the server closes a
 * connection that joins nothing within 2 s, and this one would then reconnect on its own.
 */
export function preconnect(): void {
  early ??= new Manager(SERVER_URL, CONNECTION);
  early.open(() => {});
}

/** A socket on `board`; another board is another socket (SPEC: a client switches by reconnecting). */
export function openSocket(creds: Credentials, board: string, lastSeq: () => number | undefined): WarroomSocket {
  const manager = early ?? new Manager(SERVER_URL, CONNECTION);
  early = null;
  return manager.socket("/", {
    // A function, so every reconnect sends the sequence number it has reached (gap-free resume).
    auth: (cb) => {
      const auth: HandshakeAuth = { apiKey: creds.apiKey, name: creds.name, board, batchShifts: true };
      const seq = lastSeq();
      if (seq !== undefined) auth.lastSeq = seq;
      cb(auth as unknown as object);
    },
  });
}
