//! The pure parts of the board menu's dialogs (export, import, webhooks): what people type
//! turned into what the server takes, and what the server answers turned into what they read.

import type { ExportFormat, ImportReport, WebhookDelivery } from "../protocol";

/** SPEC: a webhook without `events` gets every activity entry. */
export const ALL_EVENTS = "**";

/**
 * The events field of the add form: comma (or space) separated patterns such as
 * `task.created, task.*`. Empty means every event. The server checks each pattern's syntax
 * and says which one it refuses; here only the list is made.
 */
export function parseEvents(text: string): string[] {
  const patterns = text
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const unique = [...new Set(patterns)];
  return unique.length === 0 ? [ALL_EVENTS] : unique;
}

export function eventsText(events: string[]): string {
  return events.length === 1 && events[0] === ALL_EVENTS ? "all events" : events.join(", ");
}

export function exportFileName(board: string, format: ExportFormat): string {
  return `${board}.${format}`;
}

export interface DeliveryRow {
  id: number;
  event: string;
  seq: string;
  status: WebhookDelivery["status"];
  attempts: string;
  /** The receiver's HTTP status, or why there was none. */
  code: string;
  /** When it is tried again, while pending. */
  next: string;
  /** The last error in full, for a tooltip. */
  detail: string;
}

function untilText(iso: string | null, now: number): string {
  if (!iso) return "—";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "—";
  const s = Math.round((at - now) / 1000);
  if (s <= 0) return "now";
  if (s < 90) return `in ${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `in ${m} min`;
  return `in ${Math.round(m / 60)} h`;
}

/** One line of a webhook's delivery log. */
export function deliveryRow(d: WebhookDelivery, now: number): DeliveryRow {
  const code = d.lastCode !== null ? String(d.lastCode) : d.lastError ? "no answer" : "—";
  return {
    id: d.id,
    event: d.event,
    seq: `#${d.seq}`,
    status: d.status,
    attempts: String(d.attempts),
    code,
    next: d.status === "pending" ? untilText(d.nextAttemptAt, now) : "—",
    detail: d.lastError ?? "",
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "5 tasks, 3 new labels and 2 comments". */
export function importCounts({ imported }: ImportReport): string {
  const { tasks, labels, comments } = imported;
  return `${plural(tasks, "task")}, ${plural(labels, "new label")} and ${plural(comments, "comment")}`;
}
