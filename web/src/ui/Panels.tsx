//! The side panels: who is online, what the agents are doing, and the live activity feed.

import { useMemo } from "react";
import type { ActivityEntry, Agent } from "../protocol";
import { selectVisibleTasks } from "../state/reducer";
import { useStore } from "../state/store";
import { useApp } from "./App";
import { Avatar } from "./Avatar";
import { BotIcon, PulseIcon, UsersIcon } from "./Icons";
import { timeAgo, useNow } from "./util";

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
          {connection === "rest"
            ? "Presence needs the live connection, which this network blocks."
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

const AGENT_STATUS_ORDER: Record<Agent["status"], number> = { busy: 0, error: 1, idle: 2, offline: 3 };

export function AgentsPanel() {
  const { store } = useApp();
  const agents = useStore(store, (s) => s.agents);
  const tasks = useStore(store, selectVisibleTasks);
  const now = useNow(30_000);
  const list = useMemo(
    () =>
      Object.values(agents).sort(
        (a, b) => AGENT_STATUS_ORDER[a.status] - AGENT_STATUS_ORDER[b.status] || a.name.localeCompare(b.name),
      ),
    [agents],
  );
  const active = list.filter((a) => a.status !== "offline").length;
  return (
    <section className="panel" aria-labelledby="agents-title" data-testid="agents">
      <h2 id="agents-title" className="panel-title">
        <BotIcon size={16} /> Agents <span className="count">{active}</span>
      </h2>
      {list.length === 0 ? (
        <p className="empty">No agents have reported in. They appear here as soon as one does.</p>
      ) : (
        <ul className="agents">
          {list.map((agent) => {
            const task = agent.currentTaskId != null ? tasks[agent.currentTaskId] : undefined;
            return (
              <li key={agent.id} className="agent" data-status={agent.status}>
                <span className={`status-dot is-${agent.status}`} title={agent.status} aria-hidden="true" />
                <div className="agent-body">
                  <div className="agent-line">
                    <span className="agent-name">{agent.name || agent.id}</span>
                    <span className="agent-status">{agent.status}</span>
                  </div>
                  <div className="agent-task muted">
                    {agent.currentTaskId != null ? (
                      <>
                        <span className="mono">#{agent.currentTaskId}</span> {task?.title ?? ""}
                      </>
                    ) : agent.status === "offline" ? (
                      `last seen ${timeAgo(agent.lastSeen, now)} ago`.replace("now ago", "just now")
                    ) : (
                      "no task"
                    )}
                  </div>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

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
};

function ActivityItem({ entry, now }: { entry: ActivityEntry; now: number }) {
  const kind = entry.type.split(".")[0];
  return (
    <li className={`activity-item is-${kind}`} data-type={entry.type}>
      <span className="activity-icon" aria-hidden="true">
        <svg width="12" height="12" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2.4}>
          <path d={ACTIVITY_PATHS[entry.type] ?? "M12 12h.01"} strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      </span>
      <span className="activity-text">{entry.message || `${entry.user} ${entry.type.replace(".", " ")}`}</span>
      <time className="activity-time muted" dateTime={entry.timestamp}>
        {timeAgo(entry.timestamp, now)}
      </time>
    </li>
  );
}

export function ActivityPanel() {
  const { store } = useApp();
  const activity = useStore(store, (s) => s.activity);
  const now = useNow(30_000);
  return (
    <section className="panel activity-panel" aria-labelledby="activity-title" data-testid="activity">
      <h2 id="activity-title" className="panel-title">
        <PulseIcon /> Activity
      </h2>
      {activity.length === 0 ? (
        <p className="empty">What happens on the board streams in here.</p>
      ) : (
        <ol className="activity" aria-live="polite" aria-relevant="additions">
          {activity.map((entry) => (
            <ActivityItem key={String(entry.id)} entry={entry} now={now} />
          ))}
        </ol>
      )}
    </section>
  );
}
