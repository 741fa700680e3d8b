//! Owns the server's base URL, the Socket.IO client and the REST calls; components never build URLs.

import { io, type Socket } from "socket.io-client";
import type {
  Agent,
  ClientToServerEvents,
  ErrorBody,
  HandshakeAuth,
  ServerToClientEvents,
  Task,
  ActivityEntry,
} from "../protocol";

export interface Credentials {
  apiKey: string;
  name: string;
}

export type WarroomSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * The dashboard is served by the server it talks to, so the base is this page's origin; a
 * development build may point elsewhere with `VITE_SERVER_URL`.
 */
export const SERVER_URL: string = (import.meta.env.VITE_SERVER_URL as string | undefined) || window.location.origin;

export function openSocket(creds: Credentials, lastSeq: () => number | undefined): WarroomSocket {
  return io(SERVER_URL, {
    // A function, so every reconnect sends the sequence number it has reached (gap-free resume).
    auth: (cb) => {
      const auth: HandshakeAuth = { apiKey: creds.apiKey, name: creds.name };
      const seq = lastSeq();
      if (seq !== undefined) auth.lastSeq = seq;
      cb(auth as unknown as object);
    },
    // WebSocket first; when a proxy blocks it, Socket.IO falls back to long-polling.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnectionDelay: 400,
    reconnectionDelayMax: 2500,
    randomizationFactor: 0.3,
    timeout: 5000,
    autoConnect: false,
  });
}

export type RestResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; error: ErrorBody }
  | { ok: false; status: 0; error: ErrorBody; network: true };

export interface RestOptions {
  body?: unknown;
  idempotencyKey?: string;
  timeoutMs?: number;
}

/**
 * A REST call with the team key. With a `name`, writes are signed by that person (SPEC's
 * `X-Warroom-Name`) instead of `api`: headers carry Latin-1 only, hence percent-encoded UTF-8.
 */
export async function rest<T>(
  creds: Pick<Credentials, "apiKey"> & Partial<Pick<Credentials, "name">>,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  options: RestOptions = {},
): Promise<RestResult<T>> {
  const headers: Record<string, string> = { "X-API-Key": creds.apiKey, Accept: "application/json" };
  if (creds.name) headers["X-Warroom-Name"] = encodeURIComponent(creds.name);
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 5000);
  try {
    const response = await fetch(`${SERVER_URL}/api${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: controller.signal,
      cache: "no-store",
    });
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : null;
    if (response.ok) return { ok: true, status: response.status, data: json as T };
    const error = (json as { error?: ErrorBody } | null)?.error ?? {
      code: "INTERNAL",
      message: `The server answered ${response.status}`,
    };
    return { ok: false, status: response.status, error };
  } catch (cause) {
    const message =
      cause instanceof Error && cause.name === "AbortError" ? "The server did not answer" : "Cannot reach the server";
    return { ok: false, status: 0, error: { code: "NETWORK", message }, network: true };
  } finally {
    clearTimeout(timer);
  }
}

export const api = {
  tasks: (creds: Credentials) => rest<Task[]>(creds, "GET", "/tasks"),
  agents: (creds: Credentials) => rest<Agent[]>(creds, "GET", "/agents"),
  activity: (creds: Credentials, limit = 50) => rest<ActivityEntry[]>(creds, "GET", `/activity?limit=${limit}`),
  history: (creds: Credentials, taskId: number) => rest<ActivityEntry[]>(creds, "GET", `/tasks/${taskId}/history`),
};
