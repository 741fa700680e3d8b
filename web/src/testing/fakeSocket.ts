// A stand-in for socket.io-client's Socket in the unit tests of the sync engine and its units.
import type { WarroomSocket } from "../net/connection";
import type { SyncFull } from "../protocol";

/** A stand-in for socket.io-client's Socket: records emits, lets the test play the server. */
export class FakeSocket {
  connected = false;
  sendBuffer: unknown[] = [];
  handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  anyHandlers: ((name: string, ...args: unknown[]) => void)[] = [];
  sent: {
    event: string;
    payload: Record<string, unknown>;
    ack?: (...args: unknown[]) => void;
    /** For a command sent with a deadline: the deadline passes without an answer. */
    timeOut?: () => void;
  }[] = [];
  /** What the handshake would send as `auth.lastSeq` (the engine's callback). */
  lastSeq: () => number | undefined = () => undefined;
  /** The board the handshake asks for (`auth.board`). */
  board = "";
  connects = 0;
  disconnects = 0;

  on(event: string, handler: (...args: unknown[]) => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }
  onAny(handler: (name: string, ...args: unknown[]) => void) {
    this.anyHandlers.push(handler);
    return this;
  }
  offAny() {
    this.anyHandlers = [];
    return this;
  }
  removeAllListeners() {
    this.handlers.clear();
    return this;
  }
  timeout() {
    return {
      emit: (event: string, payload: Record<string, unknown>, ack: (err: Error | null, reply?: unknown) => void) =>
        this.sent.push({
          event,
          payload,
          ack: (reply: unknown) => ack(null, reply),
          timeOut: () => ack(new Error("operation has timed out")),
        }),
    };
  }
  get volatile() {
    return { emit: (event: string, payload: Record<string, unknown>) => this.sent.push({ event, payload }) };
  }
  emit(event: string, payload: Record<string, unknown>) {
    this.sent.push({ event, payload });
    return this;
  }
  connect() {
    this.connects += 1;
    return this;
  }
  /** Like socket.io-client: `disconnect` event at once, reason "io client disconnect". */
  disconnect() {
    this.disconnects += 1;
    if (this.connected) {
      this.connected = false;
      this.serverSends("disconnect", "io client disconnect");
    }
    return this;
  }

  /** The server's side: an event arriving from it. */
  serverSends(event: string, ...args: unknown[]) {
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
    for (const handler of this.anyHandlers) handler(event, ...args);
  }
  goLive(payload: SyncFull) {
    this.connected = true;
    this.serverSends("connect");
    this.serverSends("sync:full", payload);
  }
  drop() {
    this.connected = false;
    this.serverSends("disconnect", "transport close");
  }
  commands() {
    return this.sent.filter((s) => s.event.startsWith("task:") && !s.event.startsWith("task:drag"));
  }
}

/** The fake as the socket type the code under test expects. */
export function asSocket(fake: FakeSocket): WarroomSocket {
  return fake as unknown as WarroomSocket;
}
