//! Owns the server's base URL and the REST calls; components never build URLs. Small and free of
//! the socket's client, so the page's first script (`early.ts`) can ask for the board with it.

import type { Credentials } from "../credentials";
import type {
  AcceptedInvite,
  ActivityEntry,
  Agent,
  BoardInfo,
  Comment,
  ErrorBody,
  ExportFormat,
  ImportReport,
  Invite,
  Label,
  NewWebhookInput,
  Notification,
  Role,
  Task,
  Webhook,
  WebhookDelivery,
} from "../protocol";

/**
 * The dashboard is served by the server it talks to, so the base is this page's origin; a
 * development build may point elsewhere with `VITE_SERVER_URL`.
 */
export const SERVER_URL: string = (import.meta.env.VITE_SERVER_URL as string | undefined) || window.location.origin;

export type RestResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; error: ErrorBody }
  | { ok: false; status: 0; error: ErrorBody; network: true };

export interface RestOptions {
  body?: unknown;
  /** A file sent as it is (an import) instead of `body` as JSON. */
  file?: Blob;
  /** Answer with the body as a Blob (a file to download) instead of parsed JSON. */
  blob?: boolean;
  idempotencyKey?: string;
  timeoutMs?: number;
}

/**
 * A REST call with the team key. With a `name`, writes are signed by that person (SPEC's
 * `X-Warroom-Name`) instead of `api`: headers carry Latin-1 only, hence percent-encoded UTF-8.
 */
export async function rest<T>(
  creds: Partial<Pick<Credentials, "apiKey" | "name">>,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  options: RestOptions = {},
): Promise<RestResult<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  // Only accepting an invite goes without a key: the code is the credential there.
  if (creds.apiKey) headers["X-API-Key"] = creds.apiKey;
  if (creds.name) headers["X-Warroom-Name"] = encodeURIComponent(creds.name);
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 5000);
  try {
    const response = await fetch(`${SERVER_URL}/api${path}`, {
      method,
      headers,
      body: options.file ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
      signal: controller.signal,
      cache: "no-store",
    });
    if (response.ok && options.blob) return { ok: true, status: response.status, data: (await response.blob()) as T };
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

const onBoard = (board: string) => `/boards/${encodeURIComponent(board)}`;

export const api = {
  tasks: (creds: Credentials, board: string) => rest<Task[]>(creds, "GET", `${onBoard(board)}/tasks`),
  labels: (creds: Credentials, board: string) => rest<Label[]>(creds, "GET", `${onBoard(board)}/labels`),
  createTask: (creds: Credentials, board: string, body: object, idempotencyKey: string) =>
    rest<Task>(creds, "POST", `${onBoard(board)}/tasks`, { body, idempotencyKey }),
  agents: (creds: Credentials) => rest<Agent[]>(creds, "GET", "/agents"),
  /** What the credential is: its person (a token's), role and boards (null: every board). */
  me: (creds: Credentials) =>
    rest<{ name: string | null; role: Role; boards: string[] | null }>({ apiKey: creds.apiKey }, "GET", "/me"),
  /** Newest first; with `before` (an activity id), the page older than it. */
  activity: (creds: Credentials, board: string, limit = 50, before?: number) =>
    rest<ActivityEntry[]>(
      creds,
      "GET",
      `${onBoard(board)}/activity?limit=${limit}${before === undefined ? "" : `&before=${before}`}`,
    ),
  history: (creds: Credentials, taskId: number) => rest<ActivityEntry[]>(creds, "GET", `/tasks/${taskId}/history`),
  listBoards: (creds: Credentials) => rest<BoardInfo[]>(creds, "GET", "/boards"),
  /** The server makes the id from the name. */
  createBoard: (creds: Credentials, name: string) => rest<BoardInfo>(creds, "POST", "/boards", { body: { name } }),
  updateBoard: (creds: Credentials, board: string, changes: { name?: string; archived?: boolean }) =>
    rest<BoardInfo>(creds, "PATCH", onBoard(board), { body: changes }),
  /** Everything on it goes too; its sockets are told (`board:deleted`) and disconnected. */
  deleteBoard: (creds: Credentials, board: string) => rest<null>(creds, "DELETE", onBoard(board)),
  createInvite: (creds: Credentials, role: Role, boards: string[]) =>
    rest<Invite>(creds, "POST", "/invites", { body: { role, boards } }),
  acceptInvite: (code: string, name: string) =>
    rest<AcceptedInvite>({}, "POST", `/invites/${encodeURIComponent(code)}/accept`, { body: { name } }),
  exportBoard: (creds: Credentials, board: string, format: ExportFormat) =>
    rest<Blob>(creds, "GET", `${onBoard(board)}/export?format=${format}`, { blob: true, timeoutMs: 60_000 }),
  /** A dry run answers the same report and writes nothing (the dialog's preview). */
  importBoard: (creds: Credentials, board: string, file: Blob, dryRun: boolean) =>
    rest<ImportReport>(creds, "POST", `${onBoard(board)}/import?dryRun=${dryRun}`, { file, timeoutMs: 60_000 }),
  webhooks: (creds: Credentials, board: string) => rest<Webhook[]>(creds, "GET", `${onBoard(board)}/webhooks`),
  createWebhook: (creds: Credentials, board: string, body: NewWebhookInput) =>
    rest<Webhook>(creds, "POST", `${onBoard(board)}/webhooks`, { body }),
  updateWebhook: (creds: Credentials, id: number, changes: { active?: boolean }) =>
    rest<Webhook>(creds, "PATCH", `/webhooks/${id}`, { body: changes }),
  deleteWebhook: (creds: Credentials, id: number) => rest<null>(creds, "DELETE", `/webhooks/${id}`),
  /** The last 100, newest first. */
  deliveries: (creds: Credentials, id: number) => rest<WebhookDelivery[]>(creds, "GET", `/webhooks/${id}/deliveries`),
  pingWebhook: (creds: Credentials, id: number) => rest<unknown>(creds, "POST", `/webhooks/${id}/ping`),
  /** Oldest first. */
  comments: (creds: Credentials, taskId: number) => rest<Comment[]>(creds, "GET", `/tasks/${taskId}/comments`),
  /** This person's, on every board, newest first (at most 200). */
  notifications: (creds: Credentials) => rest<Notification[]>(creds, "GET", "/notifications"),
  /** Marks those (all without ids) read; the person's sockets are told `notifications:read`. */
  readNotifications: (creds: Credentials, ids?: number[]) =>
    rest<{ ids: number[] }>(creds, "POST", "/notifications/read", { body: ids ? { ids } : {} }),
};
