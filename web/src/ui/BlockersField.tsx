//! The card view's blockers: the tasks this one waits for, each opening its own card, removable,
//! and a way to add one by #id or title. Each change is sent at once, because only the server
//! knows the whole graph: its refusal (a cycle, a task of another board) is the dialog's error.

import { useId, useMemo, useState, type KeyboardEvent } from "react";
import { STATUS_LABELS, type Task } from "../protocol";
import { resolveTaskRef } from "../state/graph";
import { selectVisibleTasks } from "../state/reducer";
import { useStore } from "../state/store";
import { canWrite, useApp } from "./appContext";
import { CloseIcon } from "./Icons";

export function BlockersField(props: {
  task: Task;
  /** Opens a blocker's card view. */
  onOpen: (id: number) => void;
  /** Shows a refusal on the dialog's error line; null clears it. */
  onRefusal: (message: string | null) => void;
  /** The server saved a change of the blockers. */
  onSaved: () => void;
}) {
  const { task, onRefusal } = props;
  const { store, engine, creds } = useApp();
  const tasks = useStore(store, selectVisibleTasks);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const listId = useId();
  const blockers = useMemo(() => task.blockedBy ?? [], [task.blockedBy]);
  const editable = canWrite(creds) && task.id > 0;
  const candidates = useMemo(
    () =>
      Object.values(tasks)
        .filter((t) => t.id > 0 && t.id !== task.id && !blockers.includes(t.id))
        .sort((a, b) => a.id - b.id),
    [tasks, task.id, blockers],
  );

  async function send(next: number[]): Promise<boolean> {
    setBusy(true);
    const refusal = await engine.setBlockers(task.id, next);
    setBusy(false);
    onRefusal(refusal ? refusal.message : null);
    if (refusal === null) props.onSaved();
    return refusal === null;
  }

  async function add() {
    const named = resolveTaskRef(text, tasks);
    if ("error" in named) return onRefusal(named.error);
    if (await send([...blockers, named.id])) setText("");
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    // Enter adds the blocker; it must not also save and close the dialog.
    if (e.key !== "Enter") return;
    e.preventDefault();
    void add();
  }

  return (
    <div className="field blockers" data-testid="blockers-field">
      <span>Waiting on</span>
      {blockers.length === 0 ? (
        <p className="muted small-print">Nothing: this task can start any time.</p>
      ) : (
        <ul className="blocker-list">
          {blockers.map((id) => {
            const blocker = tasks[id];
            const done = blocker?.status === "DONE";
            return (
              <li key={id} className={`blocker${done ? " is-done" : ""}`} data-blocker={id}>
                <button type="button" className="dep-chip mono" title={`Open #${id}`} onClick={() => props.onOpen(id)}>
                  #{id}
                </button>
                <span className="blocker-title">{blocker?.title ?? "(not on this board)"}</span>
                <span className="blocker-status muted">{blocker ? STATUS_LABELS[blocker.status] : ""}</span>
                {editable && (
                  <button
                    type="button"
                    className="ghost icon-button small"
                    disabled={busy}
                    aria-label={`Remove blocker #${id}`}
                    title={`Stop waiting on #${id}`}
                    onClick={() => void send(blockers.filter((b) => b !== id))}
                  >
                    <CloseIcon size={14} />
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {editable && (
        <div className="blocker-add">
          <input
            name="blocker"
            value={text}
            list={listId}
            placeholder="Add a blocker: #id or title"
            aria-label="New blocker, by #id or task name"
            autoComplete="off"
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKeyDown}
          />
          <datalist id={listId}>
            {candidates.map((t) => (
              <option key={t.id} value={`#${t.id} · ${t.title}`} />
            ))}
          </datalist>
          <button type="button" className="ghost" disabled={busy || !text.trim()} onClick={() => void add()}>
            {busy ? "Saving…" : "Add"}
          </button>
        </div>
      )}
    </div>
  );
}
