//! The notification bell in the header: this person's unread count (live, from every board), the
//! list when opened, marking read, and a click that opens the card, on its board.

import { useEffect, useRef, useState } from "react";
import type { Notification } from "../protocol";
import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { BellIcon } from "./Icons";
import { timeAgo, useNow } from "./util";

const WHAT: Record<Notification["type"], string> = {
  mention: "mentioned you",
  assigned: "assigned you",
  unblocked: "unblocked your card",
};

export function Bell(props: { onOpen: (board: string, taskId: number) => void }) {
  const { store, engine } = useApp();
  const unread = useStore(store, (s) => s.unread);
  const list = useStore(store, (s) => s.notifications);
  const boards = useStore(store, (s) => s.boards);
  const current = useStore(store, (s) => s.board);
  const [open, setOpen] = useState(false);
  const [failed, setFailed] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const now = useNow(30_000);

  useEffect(() => {
    if (!open) return;
    void engine.loadNotifications().then((ok) => setFailed(!ok));
    const outside = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => {
      if (e.key === "Escape") setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("mousedown", outside);
      document.removeEventListener("keydown", escape);
    };
  }, [open, engine]);

  function follow(n: Notification) {
    setOpen(false);
    if (!n.readAt) void engine.readNotifications([n.id]);
    if (n.taskId !== null) props.onOpen(n.board, n.taskId);
  }

  const boardName = (id: string) => boards.find((b) => b.id === id)?.name ?? id;
  return (
    <div className="bell" ref={root}>
      <button
        className={`ghost icon-button${unread > 0 ? " has-unread" : ""}`}
        aria-haspopup="true"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        title={unread > 0 ? `${unread} unread notifications` : "Notifications"}
        data-testid="bell"
      >
        <BellIcon />
        {unread > 0 && (
          <span className="bell-count" data-testid="bell-count" aria-hidden="true">
            {unread > 99 ? "99+" : unread}
          </span>
        )}
        <span className="sr-only">{unread > 0 ? `Notifications, ${unread} unread` : "Notifications"}</span>
      </button>
      {open && (
        <div className="bell-panel" role="dialog" aria-label="Notifications">
          <header>
            <strong>Notifications</strong>
            <button
              type="button"
              className="ghost small"
              disabled={unread === 0}
              onClick={() => void engine.readNotifications()}
            >
              Mark all read
            </button>
          </header>
          {list === null ? (
            <p className="muted small-print">{failed ? "The server cannot be reached." : "Loading…"}</p>
          ) : list.length === 0 ? (
            <p className="muted small-print">Nothing yet. Mentions and assignments show here.</p>
          ) : (
            <ul className="bell-list">
              {list.map((n) => (
                <li key={n.id}>
                  <button
                    type="button"
                    className={n.readAt ? "notification" : "notification is-unread"}
                    data-testid="notification"
                    onClick={() => follow(n)}
                  >
                    <span className="notification-line">
                      <strong>{n.by}</strong> {WHAT[n.type] ?? n.type}
                      {n.taskId !== null && <> on #{n.taskId}</>}
                      {n.board !== current && <span className="muted"> · {boardName(n.board)}</span>}
                      <time className="muted" dateTime={n.createdAt}>
                        {timeAgo(n.createdAt, now)}
                      </time>
                    </span>
                    {n.excerpt && <span className="notification-excerpt">{n.excerpt}</span>}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
