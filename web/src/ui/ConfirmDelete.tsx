//! Asks before a task is deleted: a deletion reaches everyone at once and cannot be undone.

import { selectVisibleTasks } from "../state/reducer";
import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { Modal } from "./Modal";

export function ConfirmDelete({ taskId, onClose }: { taskId: number; onClose: () => void }) {
  const { store, engine } = useApp();
  const task = useStore(store, (s) => selectVisibleTasks(s)[taskId]);
  const lockedBy = useStore(store, (s) => s.drags[taskId]?.user);
  return (
    <Modal title="Delete this task?" onClose={onClose} className="is-narrow">
      {task ? (
        <p className="confirm-text">
          <span className="mono muted">#{task.id}</span> <strong>{task.title}</strong> will be removed for everyone.
          This cannot be undone.
        </p>
      ) : (
        <p className="confirm-text">This task is already gone.</p>
      )}
      {lockedBy && <p className="notice">{lockedBy} is moving this card right now.</p>}
      <div className="dialog-actions">
        <button className="ghost" onClick={onClose} autoFocus>
          Keep it
        </button>
        <button
          className="danger"
          disabled={!task}
          onClick={() => {
            engine.deleteTask(taskId);
            onClose();
          }}
        >
          Delete task
        </button>
      </div>
    </Modal>
  );
}
