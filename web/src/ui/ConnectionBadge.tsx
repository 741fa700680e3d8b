//! The connection state, always visible: live, reconnecting, offline, live without presence
//! (the event stream), or REST-only.

import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { clockTime } from "./dates";

const LABELS = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  rest: "Live · REST",
  stream: "Live · no presence",
} as const;

const HINTS = {
  connecting: "Connecting to the server",
  live: "Connected: changes appear for everyone at once",
  reconnecting: "The connection dropped; trying again",
  offline: "The server cannot be reached. You can keep working: changes are saved here and sent when it is back.",
  rest: "Real-time updates are blocked on this network; using the REST API instead",
  stream:
    "This network blocks the live connection: changes still arrive at once (Server-Sent Events), but who is online and who is typing cannot be shown",
} as const;

export function ConnectionBadge() {
  const { store } = useApp();
  const connection = useStore(store, (s) => s.connection);
  const waiting = useStore(store, (s) => s.pending.length);
  const savedAt = useStore(store, (s) => s.savedAt);
  const stale = connection !== "live" && connection !== "rest" && connection !== "stream";
  const title = `${HINTS[connection]}${stale && savedAt ? `. Showing the board as of ${clockTime(savedAt)}.` : ""}`;
  return (
    <div className="connection" data-state={connection} data-testid="connection" title={title} role="status">
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-label">{LABELS[connection]}</span>
      {waiting > 0 && stale && (
        <span className="connection-queue" data-testid="queued">
          {waiting} change{waiting === 1 ? "" : "s"} waiting
        </span>
      )}
    </div>
  );
}
