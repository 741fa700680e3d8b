//! The fallbacks for a socket that cannot connect while REST still answers (a proxy that blocks
//! both WebSocket and long-polling): the board from REST, changes sent over REST, and the
//! board's event stream (Server-Sent Events) for everyone's changes. The socket keeps trying
//! meanwhile, and takes over when it connects.

import type { Credentials } from "../credentials";
import { api } from "../net/rest";
import { EventStream } from "../net/events";
import type { Task } from "../protocol";
import type { BoardState } from "../state/reducer";
import type { Store } from "../state/store";

/** Failed connection attempts before we check whether REST still answers. */
const FAILURES_BEFORE_PROBE = 2;
const REST_REFRESH_MS = 10_000;

export interface RestModeDeps {
  store: Store;
  creds: Credentials;
  socketConnected(): boolean;
  /** The engine was stopped: no probe or stream may start. */
  stopped(): boolean;
  /** What the stream asks to resume from at every (re)connect. */
  lastSeq(): number | undefined;
  /** Hands the stream's events to the same handlers as the socket's. */
  listen(stream: EventStream): void;
  /** Sends what is queued (the connection state now allows REST). */
  pump(): void;
  loadActivity(): Promise<void>;
  onAuthError(message: string): void;
  onBoardUnavailable(reason: "BOARD_NOT_FOUND" | "FORBIDDEN", message: string): void;
}

export class RestMode {
  private failures = 0;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  /** The board's event stream, open only while the socket cannot connect but REST answers. */
  private stream: EventStream | null = null;

  constructor(private readonly deps: RestModeDeps) {}

  private get state(): BoardState {
    return this.deps.store.getState();
  }

  /** A connection attempt failed; after a few, REST is asked whether the server is there. */
  connectFailed(): void {
    this.failures += 1;
    if (this.failures >= FAILURES_BEFORE_PROBE && !this.stream) void this.probe();
  }

  /** The socket connected: it takes over from REST and the stream. */
  socketConnected(): void {
    this.failures = 0;
    this.leave();
  }

  /** The event stream, while it is what keeps this page live (a gap resumes it, not the socket). */
  liveStream(): EventStream | null {
    return this.stream && this.state.connection === "stream" ? this.stream : null;
  }

  /** Leaves REST mode: no refresh timer, no stream. */
  leave(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.stream?.close();
    this.stream = null;
  }

  private async probe(): Promise<void> {
    const { store, creds } = this.deps;
    const result = await api.tasks(creds, this.state.board);
    if (this.deps.stopped() || this.deps.socketConnected()) return;
    if (result.ok) {
      this.enter(result.data);
      this.openStream();
      return;
    }
    if (result.status === 401) {
      this.deps.onAuthError("Unauthorized");
      return;
    }
    store.dispatch({ type: "connection", state: "offline" });
  }

  /**
   * Shows the server's board and sends changes over REST. Only in this degraded mode does the
   * page refresh on a timer; a live socket never polls.
   */
  private enter(tasks: Task[]): void {
    const { store, creds } = this.deps;
    const at = new Date().toISOString();
    store.dispatch({ type: "restSnapshot", tasks: Array.isArray(tasks) ? tasks : [], agents: null, at });
    store.dispatch({ type: "connection", state: "rest" });
    this.deps.pump();
    void this.deps.loadActivity();
    void api.agents(creds).then((agents) => {
      if (agents.ok && Array.isArray(agents.data) && this.state.connection === "rest") {
        store.dispatch({ type: "restSnapshot", tasks: Object.values(this.state.tasks), agents: agents.data, at });
      }
    });
    if (this.refreshTimer) return;
    this.refreshTimer = setInterval(async () => {
      if (this.state.connection !== "rest" || this.state.pending.length > 0) return;
      const fresh = await api.tasks(creds, this.state.board);
      if (fresh.ok && this.state.connection === "rest" && this.state.pending.length === 0) {
        store.dispatch({ type: "restSnapshot", tasks: fresh.data, agents: null, at: new Date().toISOString() });
      } else if (!fresh.ok && "network" in fresh) {
        store.dispatch({ type: "connection", state: "offline" });
      }
    }, REST_REFRESH_MS);
  }

  /**
   * Live again without Socket.IO: the board's event stream brings everyone's changes as they
   * happen (the REST refresh above pauses while it is open), and writes go over REST, signed
   * with the person's name. Presence, typing and drag marks belong to sockets: the badge says
   * "no presence".
   */
  private openStream(): void {
    if (this.stream || this.deps.stopped()) return;
    const { store, creds } = this.deps;
    const stream = new EventStream(creds, this.state.board, {
      lastSeq: () => this.deps.lastSeq(),
      onOpen: () => {
        store.dispatch({ type: "connection", state: "stream" });
        this.deps.pump();
      },
      onDrop: (status, error, failures) => {
        if (status === 401) return this.deps.onAuthError(error?.message ?? "Unauthorized");
        if (error && (error.code === "BOARD_NOT_FOUND" || error.code === "FORBIDDEN")) {
          this.leave();
          return this.deps.onBoardUnavailable(error.code, error.message);
        }
        // Any answer (a proxy refusing the stream too): REST alone, refreshed on its timer,
        // until the stream comes back. No answer: a blip, or the server is away.
        const state = status !== 0 ? "rest" : failures > 1 || navigator.onLine === false ? "offline" : "reconnecting";
        store.dispatch({ type: "connection", state });
      },
    });
    this.deps.listen(stream);
    this.stream = stream;
    stream.open();
  }
}
