//! The board's Server-Sent Events (`GET /api/events`): the push path when Socket.IO cannot connect.
//!
//! Read with `fetch` and a stream reader rather than `EventSource`: the route takes the key only
//! in a header (`X-API-Key`), which `EventSource` cannot send, and a key in the address would be
//! written to every proxy's log. Like `EventSource`, the stream comes back after it ends, asking
//! for what it missed with `Last-Event-ID`; the caller says which seq that is (`lastSeq`), so a
//! gap found by the reducer is cured by `reconnect()`.

import type { ErrorBody, ServerToClientEvents } from "../protocol";
import type { Credentials } from "../credentials";
import { SERVER_URL } from "./rest";

/** One event as the stream framed it. */
export interface StreamMessage {
  /** The change's seq (`id:`); the events of one change share it. */
  id: string | null;
  event: string;
  data: string;
}

/**
 * Splits the text of an event stream into events, whatever the chunk boundaries (the SSE
 * format of the HTML standard: `field: value` lines, a blank line ends an event, `:` lines
 * are comments, any of CRLF, LF or CR ends a line).
 */
export class StreamParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];

  push(chunk: string): StreamMessage[] {
    this.buffer += chunk;
    const out: StreamMessage[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (this.buffer[end] === "\r" && end === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith("\r\n", end) ? 2 : 1));
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): StreamMessage | null {
    if (line === "") {
      const message =
        this.data.length > 0 ? { id: this.id, event: this.event || "message", data: this.data.join("\n") } : null;
      this.event = "";
      this.data = [];
      return message;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return null;
  }
}

type Listener = (...args: unknown[]) => void;

export interface EventStreamOptions {
  /** The seq reached, asked again at every (re)connect: the stream resumes after it. */
  lastSeq: () => number | undefined;
  /** The stream answered and is open. */
  onOpen: () => void;
  /**
   * It ended or could not open: `status` is the HTTP status (0: no answer, or it ended), with
   * the server's refusal if it gave one, and how many times in a row that happened. It comes
   * back by itself unless closed.
   */
  onDrop: (status: number, error: ErrorBody | null, failures: number) => void;
}

const RETRY_MS = 500;
const RETRY_MAX_MS = 5000;

/**
 * A board's event stream that hands each event to its listeners as the socket does: the payload,
 * then `{ seq }`. `on` and `onAny` mirror socket.io's, so one set of handlers serves both.
 */
export class EventStream {
  private listeners = new Map<string, Listener[]>();
  private anyListeners: ((name: string, ...args: unknown[]) => void)[] = [];
  private controller: AbortController | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private closed = true;

  constructor(
    private readonly creds: Credentials,
    private readonly board: string,
    private readonly options: EventStreamOptions,
  ) {}

  on<K extends keyof ServerToClientEvents>(name: K, listener: ServerToClientEvents[K]): this {
    const list = this.listeners.get(name) ?? [];
    list.push(listener as Listener);
    this.listeners.set(name, list);
    return this;
  }

  onAny(listener: (name: string, ...args: unknown[]) => void): this {
    this.anyListeners.push(listener);
    return this;
  }

  open(): void {
    this.closed = false;
    void this.run();
  }

  /** Ends this stream and opens another from `lastSeq()` (after a gap). */
  reconnect(): void {
    if (this.closed) return;
    this.controller?.abort();
  }

  close(): void {
    this.closed = true;
    this.controller?.abort();
    this.controller = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private async run(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    const headers: Record<string, string> = { Accept: "text/event-stream", "X-API-Key": this.creds.apiKey };
    const seq = this.options.lastSeq();
    if (seq !== undefined) headers["Last-Event-ID"] = String(seq);
    let status = 0;
    let error: ErrorBody | null = null;
    try {
      const response = await fetch(
        `${SERVER_URL}/api/events?board=${encodeURIComponent(this.board)}&batchShifts=true`,
        {
          headers,
          signal: controller.signal,
          cache: "no-store",
        },
      );
      status = response.status;
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => null)) as { error?: ErrorBody } | null;
        error = body?.error ?? { code: "INTERNAL", message: `The server answered ${response.status}` };
      } else {
        this.failures = 0;
        this.options.onOpen();
        const parser = new StreamParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done || this.closed) break;
          for (const m of parser.push(value)) this.deliver(m);
        }
        status = 0;
      }
    } catch {
      // No answer, or the stream broke off (or was restarted): status 0 says so.
      status = 0;
    }
    if (this.closed) return;
    const restarted = controller.signal.aborted;
    if (!restarted) {
      this.failures += 1;
      this.options.onDrop(status, error, this.failures);
    }
    // Like EventSource: come back, at once after a deliberate restart, else after a wait that grows.
    const wait = restarted ? 0 : Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** Math.max(0, this.failures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) void this.run();
    }, wait);
  }

  private deliver(message: StreamMessage): void {
    let payload: unknown;
    try {
      payload = JSON.parse(message.data);
    } catch {
      return;
    }
    const seq = message.id !== null && /^\d+$/.test(message.id) ? Number(message.id) : undefined;
    const args: unknown[] =
      message.event === "sync:full" ? [payload] : [payload, seq === undefined ? undefined : { seq }];
    for (const listener of this.listeners.get(message.event) ?? []) listener(...args);
    for (const listener of this.anyListeners) listener(message.event, ...args);
  }
}
