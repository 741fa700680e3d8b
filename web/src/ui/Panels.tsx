//! The side panels: who is online, what the agents are doing or waiting for, and the live
//! activity feed.

import { memo, useMemo, useState } from "react";
import type { ActivityEntry } from "../protocol";
import { agentRows } from "../state/graph";
import { selectVisibleBoard } from "../state/reducer";
import { useStore } from "../state/store";
import { ACTIVITY_PAGE } from "../sync/requests";
import { useApp } from "./appContext";
import { Avatar } from "./Avatar";
import { BotIcon, PulseIcon, UsersIcon } from "./Icons";
import { clockTime } from "./dates";
import { activityText, countdown, timeAgo, useNow } from "./util";

export function PeoplePanel() {
  const { store, me } = useApp();
  const users = useStore(store, (s) => s.users);
  const connection = useStore(store, (s) => s.connection);
  const live = connection === "live";
  const sorted = useMemo(
    () =>
      [...users].sort((a, b) => {
        const am = a.name.toLowerCase() === me.toLowerCase() ? 0 : 1;
        const bm = b.name.toLowerCase() === me.toLowerCase() ? 0 : 1;
        return am - bm || a.name.localeCompare(b.name);
      }),
    [users, me],
  );
  return (
    <section className="panel" aria-labelledby="people-title" data-testid="people">
      <h2 id="people-title" className="panel-title">
        <UsersIcon /> Online <span className="count">{live ? users.length : "–"}</span>
      </h2>
      {!live ? (
        <p className="empty">
          {connection === "rest" || connection === "stream"
            ? "Presence is unavailable: it needs the live connection, which this network blocks. Others do not see you online either."
            : "Presence returns when the connection is back."}
        </p>
      ) : sorted.length === 0 ? (
        <p className="empty">Nobody else is here yet.</p>
      ) : (
        <ul className="people">
          {sorted.map((user) => (
            <li key={user.id} className="person">
              <span className="presence">
                <Avatar name={user.name} size={28} />
                <i className="presence-dot" aria-hidden="true" />
              </span>
              <span className="person-name">{user.name}</span>
              {user.name.toLowerCase() === me.toLowerCase() && <span className="tag">you</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * The agents: each one's status, the task it works on (a click opens it) with its lease counting
 * down, or "waiting for work" while it waits in the board's line (`task:next { wait }`).
 */
export function AgentsPanel(props: { onOpen: (taskId: number) => void }) {
  const { store } = useApp();
  const agents = useStore(store, (s) => s.agents);
  const board = useStore(store, selectVisibleBoard);
  const waiting = useStore(store, (s) => s.waiting);
  // Every second: the lease countdowns.
  const now = useNow(1000);
  const rows = useMemo(() => agentRows(agents, board, waiting), [agents, board, waiting]);
  const active = rows.filter((a) => a.status !== "offline").length;
  return (
    <section className="panel" aria-labelledby="agents-title" data-testid="agents">
      <h2 id="agents-title" className="panel-title">
        <BotIcon size={16} /> Agents <span className="count">{active}</span>
      </h2>
      {rows.length === 0 ? (
        <p className="empty">No agents have reported in. They appear here as soon as one does.</p>
      ) : (
        <ul className="agents">
          {rows.map((agent) => {
            const lease = countdown(agent.leaseExpiresAt, now);
            return (
              <li
                key={agent.id}
                className={`agent${agent.waiting ? " is-waiting" : ""}`}
                data-status={agent.status}
                data-agent={agent.id}
                data-waiting={agent.waiting ? "true" : undefined}
              >
                <span className={`status-dot is-${agent.status}`} title={agent.status} aria-hidden="true" />
                <div className="agent-body">
                  <div className="agent-line">
                    <span className="agent-name">{agent.name}</span>
                    <span className="agent-status">{agent.status}</span>
                  </div>
                  {agent.taskId !== null && (
                    <div className="agent-task">
                      <button
                        type="button"
                        className="agent-task-link"
                        data-testid="agent-task"
                        title={`Open #${agent.taskId}`}
                        onClick={() => props.onOpen(agent.taskId!)}
                      >
                        <span className="mono">#{agent.taskId}</span> {agent.task?.title ?? ""}
                      </button>
                      {lease && (
                        <span
                          className={`lease${lease === "expiring" ? " is-expiring" : ""}`}
                          data-testid="lease"
                          title={`The claim runs out at ${clockTime(agent.leaseExpiresAt)} unless the agent reports in`}
                        >
                          {lease}
                        </span>
                      )}
                    </div>
                  )}
                  {agent.waiting ? (
                    <div className="agent-waiting" data-testid="agent-waiting">
                      <span className="waiting-dot" aria-hidden="true" /> waiting for work
                    </div>
                  ) : (
                    agent.taskId === null && (
                      <div className="agent-task muted">
                        {agent.status === "offline"
                          ? `last seen ${timeAgo(agent.lastSeen, now)} ago`.replace("now ago", "just now")
                          : "no task"}
                      </div>
                    )
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

const COMMENT_PATH = "M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12Z";

/** One small stroke icon per kind of activity (SVG path data, 24×24). */
const ACTIVITY_PATHS: Record<string, string> = {
  "task.created": "M12 5v14M5 12h14",
  "task.updated": "M4 20h4L19 9l-4-4L4 16v4z",
  "task.moved": "M5 12h14m-5-5 5 5-5 5",
  "task.deleted": "M18 6 6 18M6 6l12 12",
  "task.claimed": "M5 21V4h11l-2 4 2 4H5",
  "task.released": "M3 12a9 9 0 1 0 3-6.7L3 8m0-5v5h5",
  "task.requeued": "M3 12a9 9 0 1 0 3-6.7L3 8m0-5v5h5",
  "task.progress": "M3 12h4l3-8 4 16 3-8h4",
  "user.joined": "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 9a7 7 0 0 1 14 0",
  "user.left": "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 9a7 7 0 0 1 14 0",
  "agent.status": "M6 9h12v10H6zM12 5v4M9.5 14h.01M14.5 14h.01",
  "task.unblocked": "M7 11V7a5 5 0 0 1 9.9-1M5 11h14v10H5z",
  "comment.created": COMMENT_PATH,
  "comment.updated": COMMENT_PATH,
  "comment.deleted": COMMENT_PATH,
  "board.imported": "M12 3v12m-5-5 5 5 5-5M5 21h14",
  "webhook.disabled": "M18 6 6 18M6 6l12 12",
  "webhook.ping": "M3 12h4l3-8 4 16 3-8h4",
};

/**
 * Memoised: an entry's object stays while it is in the feed, so a new entry renders only itself
 * rather than the whole feed (some fifty items) with it.
 */
const ActivityItem = memo(function ActivityItem({ entry, now }: { entry: ActivityEntry; now: number }) {
  const kind = entry.type.split(".")[0];
  return (
    <li className={`activity-item is-${kind}`} data-type={entry.type}>
      <span className="activity-icon" aria-hidden="true">
        <svg width="12" height="12" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2.4}>
          <path d={ACTIVITY_PATHS[entry.type] ?? "M12 12h.01"} strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      </span>
      <span className="activity-text">
        {entry.message ? activityText(entry.message) : `${entry.user} ${entry.type.replace(".", " ")}`}
      </span>
      <time className="activity-time muted" dateTime={entry.timestamp}>
        {timeAgo(entry.timestamp, now)}
      </time>
    </li>
  );
});

export function ActivityPanel() {
  const { store, engine } = useApp();
  const activity = useStore(store, (s) => s.activity);
  const now = useNow(30_000);
  const [paging, setPaging] = useState<"idle" | "loading" | "end" | "failed">("idle");
  const loadMore = async () => {
    setPaging("loading");
    const outcome = await engine.loadOlderActivity();
    setPaging(outcome === "more" ? "idle" : outcome);
  };
  return (
    <section className="panel activity-panel" aria-labelledby="activity-title" data-testid="activity">
      <h2 id="activity-title" className="panel-title">
        <PulseIcon /> Activity
      </h2>
      {activity.length === 0 ? (
        <p className="empty">What happens on the board streams in here.</p>
      ) : (
        // Focusable, so the feed scrolls from the keyboard too.
        <div className="activity-scroll" role="region" aria-label="Activity feed, newest first" tabIndex={0}>
          <ol className="activity" aria-live="polite" aria-relevant="additions">
            {activity.map((entry) => (
              <ActivityItem key={String(entry.id)} entry={entry} now={now} />
            ))}
          </ol>
          {paging === "end" ? (
            <p className="empty">That is the whole feed.</p>
          ) : activity.length < ACTIVITY_PAGE ? null : (
            <button
              type="button"
              className="ghost load-more"
              disabled={paging === "loading"}
              onClick={() => void loadMore()}
            >
              {paging === "loading" ? "Loading…" : paging === "failed" ? "Could not load; try again" : "Load more"}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
