//! The card view: title, description (Markdown), assignee, status, labels, due date and blockers,
//! with delete one step away; beside them who else is looking, the comment thread and the history.

import { useEffect, useId, useState, type FormEvent } from "react";
import { STATUSES, STATUS_LABELS, type Status, type TaskFields } from "../protocol";
import { selectVisibleTasks } from "../state/reducer";
import { useStore } from "../state/store";
import { canWrite, useApp } from "./appContext";
import { Modal } from "./Modal";
import { PeopleOptions } from "./PeopleOptions";
import { History } from "./History";
import { BlockersField } from "./BlockersField";
import { TrashIcon } from "./Icons";
import { clockTime } from "./dates";
import { fromLocalInput, timeAgo, toLocalInput, useNow } from "./util";
import { DescriptionField, LabelPicker, Viewers } from "./CardFields";
import { Comments } from "./Comments";

export function EditDialog(props: {
  taskId: number;
  onClose: () => void;
  onDelete: () => void;
  /** Opens another task's card view (a blocker's). */
  onOpen: (id: number) => void;
}) {
  const { store, engine, creds } = useApp();
  // A viewer reads the card; every field is read-only and nothing that would be refused is offered.
  const readOnly = !canWrite(creds);
  const task = useStore(store, (s) => selectVisibleTasks(s)[props.taskId]);
  const lockedBy = useStore(store, (s) => s.drags[props.taskId]?.user);
  const now = useNow(30_000);
  const [opened, setOpened] = useState(() => task);
  const [title, setTitle] = useState(task?.title ?? "");
  const [description, setDescription] = useState(task?.description ?? "");
  const [assignee, setAssignee] = useState(task?.assignee ?? "");
  const [status, setStatus] = useState<Status>(task?.status ?? "TODO");
  const [labels, setLabels] = useState<number[]>(task?.labels ?? []);
  const [due, setDue] = useState(toLocalInput(task?.dueAt));
  const [error, setError] = useState<string | null>(null);
  const listId = useId();

  useEffect(() => {
    // The others see who has the card open while it is.
    engine.viewTask(props.taskId);
    return () => engine.viewTask(null);
  }, [engine, props.taskId]);

  const changedElsewhere = Boolean(task && opened && task.version > opened.version && task.id > 0);

  // A blocker saved from this dialog is no one else's change: when it was the only change since,
  // the dialog starts from the saved version (else the notice above stays, rightly).
  function followOwnChange() {
    const saved = selectVisibleTasks(store.getState())[props.taskId];
    setOpened((o) =>
      o && saved && saved.version === o.version + 1
        ? { ...o, version: saved.version, updatedAt: saved.updatedAt, blockedBy: saved.blockedBy }
        : o,
    );
  }

  function save(event: FormEvent) {
    event.preventDefault();
    if (!task) return;
    const text = title.trim();
    if (!text) return setError("A task needs a title.");
    if ([...text].length > 200) return setError("Titles are at most 200 characters.");
    const base = opened ?? task;
    const fields: TaskFields = { title: text, description, assignee: assignee.trim() || null, status, labels };
    // The picker shows minutes: a due date left alone keeps its seconds rather than being "changed".
    if (due !== toLocalInput(base.dueAt)) fields.dueAt = fromLocalInput(due);
    engine.updateTask(task.id, fields, { base });
    props.onClose();
  }

  return (
    <Modal title={task && task.id > 0 ? `Task #${task.id}` : "Task"} onClose={props.onClose} className="card-detail">
      {!task ? (
        <>
          <p className="notice">This task was deleted while you had it open.</p>
          <div className="dialog-actions">
            <button className="primary" onClick={props.onClose} autoFocus>
              Close
            </button>
          </div>
        </>
      ) : (
        <div className="card-detail-grid">
          <form className="edit-form" onSubmit={save}>
            {lockedBy && <p className="notice">{lockedBy} is moving this card right now; saving may have to wait.</p>}
            {changedElsewhere && (
              <p className="notice">Someone changed this task while you had it open. Saving keeps your values.</p>
            )}
            <label className="field">
              <span>Title</span>
              <input
                name="title"
                value={title}
                maxLength={200}
                readOnly={readOnly}
                onChange={(e) => setTitle(e.target.value)}
                autoFocus
              />
            </label>
            <DescriptionField value={description} onChange={setDescription} readOnly={readOnly} />
            <div className="field-row">
              <label className="field">
                <span>Assignee</span>
                <input
                  name="assignee"
                  value={assignee}
                  maxLength={64}
                  readOnly={readOnly}
                  list={listId}
                  placeholder="Unassigned"
                  onChange={(e) => setAssignee(e.target.value)}
                />
                <PeopleOptions id={listId} />
              </label>
              <label className="field">
                <span>Status</span>
                <select
                  name="status"
                  value={status}
                  disabled={readOnly}
                  onChange={(e) => setStatus(e.target.value as Status)}
                >
                  {STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {STATUS_LABELS[s]}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <div className="field-row">
              <div className="field">
                <span>Labels</span>
                <LabelPicker value={labels} onChange={setLabels} disabled={readOnly} />
              </div>
              <label className="field due-field">
                <span>Due (your local time)</span>
                <input
                  name="dueAt"
                  type="datetime-local"
                  value={due}
                  readOnly={readOnly}
                  onChange={(e) => setDue(e.target.value)}
                />
              </label>
            </div>
            <BlockersField task={task} onOpen={props.onOpen} onRefusal={setError} onSaved={followOwnChange} />
            {task.progress && (
              <p className="muted small-print">
                Progress: {task.progress.percent != null ? `${Math.round(task.progress.percent)}% · ` : ""}
                {task.progress.message}
              </p>
            )}
            <p className="muted small-print">
              Created by {task.createdBy || "someone"}{" "}
              {timeAgo(task.createdAt, now) === "now" ? "just now" : `${timeAgo(task.createdAt, now)} ago`}
              {task.updatedAt !== task.createdAt && ` · updated at ${clockTime(task.updatedAt)}`}
            </p>
            {error && (
              <p className="entry-error" role="alert">
                {error}
              </p>
            )}
            {readOnly ? (
              <div className="dialog-actions">
                <span className="read-only-badge">View only</span>
                <span className="spacer" />
                <button type="button" className="primary" onClick={props.onClose}>
                  Close
                </button>
              </div>
            ) : (
              <div className="dialog-actions">
                <button type="button" className="ghost danger-text" onClick={props.onDelete}>
                  <TrashIcon /> Delete
                </button>
                <span className="spacer" />
                <button type="button" className="ghost" onClick={props.onClose}>
                  Cancel
                </button>
                <button type="submit" className="primary">
                  Save
                </button>
              </div>
            )}
          </form>
          <div className="card-side">
            <Viewers taskId={task.id} />
            <Comments taskId={task.id} />
            {task.id > 0 && <History taskId={task.id} version={task.version} comments={task.commentCount ?? 0} />}
          </div>
        </div>
      )}
    </Modal>
  );
}
