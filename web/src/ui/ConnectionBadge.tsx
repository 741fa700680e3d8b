//! The connection state, always visible: live, reconnecting, offline, live without presence
//! (the event stream), or REST-only.

import type { PointerEvent } from "react";
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
  const hint = HINTS[connection];
  // The saved copy's time is written into the tooltip when the pointer comes to the badge: a
  // reload draws the badge with the saved board, and formatting a time there built the page's
  // first date formats in the middle of the reload's first render (8 ms at 5,000 cards).
  const asOf = (event: PointerEvent<HTMLDivElement>) => {
    if (stale && savedAt) event.currentTarget.title = `${hint}. Showing the board as of ${clockTime(savedAt)}.`;
  };
  return (
    <div
      className="connection"
      data-state={connection}
      data-testid="connection"
      title={hint}
      role="status"
      onPointerEnter={asOf}
    >
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
