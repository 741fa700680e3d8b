//! A task's history in its dialog: who changed which fields, from what to what, and when.

import { useEffect, useState } from "react";
import type { ActivityEntry, Label } from "../protocol";
import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { dateTime } from "./dates";
import { timeAgo, useNow } from "./util";

function show(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** A field's value as people read it: label names, not ids; due dates in local time. */
function showField(field: string, value: unknown, labels: Readonly<Record<number, Label>>): string {
  if (field === "labels" && Array.isArray(value)) {
    return value.length === 0 ? "—" : value.map((id) => labels[Number(id)]?.name ?? `#${id}`).join(", ");
  }
  if (field === "dueAt" && typeof value === "string" && !Number.isNaN(Date.parse(value))) {
    return dateTime(value);
  }
  return show(value);
}

/** `version` and `comments` change when the task gains an entry (a comment leaves the version as it is). */
export function History({ taskId, version, comments }: { taskId: number; version: number; comments: number }) {
  const { engine, store } = useApp();
  const labels = useStore(store, (s) => s.labels);
  const [entries, setEntries] = useState<ActivityEntry[] | null | undefined>(undefined);
  const now = useNow(30_000);

  useEffect(() => {
    let live = true;
    void engine.history(taskId).then((list) => {
      if (live) setEntries(list);
    });
    return () => {
      live = false;
    };
    // A new version or comment count means a new entry: fetch again.
  }, [engine, taskId, version, comments]);

  if (entries === undefined) return null;
  return (
    <details className="history">
      <summary>History{entries ? ` (${entries.length})` : ""}</summary>
      {entries === null ? (
        <p className="muted small-print">History is available when the server is reachable.</p>
      ) : (
        <ol>
          {entries.map((entry) => (
            <li key={String(entry.id)}>
              <div className="history-line">
                <span>{entry.message}</span>
                <time className="muted" dateTime={entry.timestamp}>
                  {timeAgo(entry.timestamp, now)}
                </time>
              </div>
              {entry.changes && entry.type === "task.updated" && (
                <ul className="history-changes">
                  {Object.entries(entry.changes).map(([field, change]) => (
                    <li key={field}>
                      <span className="mono">{field}</span> {showField(field, change.from, labels)} →{" "}
                      {showField(field, change.to, labels)}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}
