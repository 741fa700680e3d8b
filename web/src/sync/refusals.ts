//! What the person is told when the server refuses one of their changes: a refusal's code and
//! the op it refused become a toast (title, message, and for a clash, "Apply mine anyway").

import type { ErrorBody } from "../protocol";
import type { PendingOp, UpdateOp } from "../state/reducer";
import type { Toast } from "../state/toasts";

/** Whether a refusal means the person got what they wanted: deleting what is already gone. */
export function refusalIsDone(op: PendingOp, error: ErrorBody): boolean {
  return op.kind === "delete" && error.code === "TASK_NOT_FOUND";
}

/**
 * The toast for a refusal of `op` (null: a command that is not a queued op, e.g. a drag).
 * `applyAnyway` sends the person's update again without its version, overwriting the newer one.
 */
export function refusalToast(
  error: ErrorBody,
  op: PendingOp | null,
  applyAnyway: (update: UpdateOp) => void,
): Omit<Toast, "id"> {
  const what = op ? describe(op) : "That";
  switch (error.code) {
    case "TASK_LOCKED":
      return {
        kind: "warning",
        title: "Someone else has this card in hand",
        message: `${error.message}. Give them a moment, then try again.`,
      };
    case "CONFLICT": {
      const update = op?.kind === "update" ? op : null;
      return {
        kind: "warning",
        title: `Not saved: ${what} clashed with a newer change`,
        message: `${error.message}. The card now shows the latest version.`,
        action: update ? { label: "Apply mine anyway", run: () => applyAnyway(update) } : undefined,
      };
    }
    case "TASK_NOT_FOUND":
      return { kind: "warning", title: "That card no longer exists", message: error.message };
    default:
      return { kind: "error", title: `Not saved: ${what}`, message: error.message };
  }
}

function describe(op: PendingOp): string {
  switch (op.kind) {
    case "create":
      return `creating “${op.title}”`;
    case "update":
      return `your edit of #${op.id}`;
    case "move":
      return `moving #${op.id}`;
    case "delete":
      return `deleting #${op.id}`;
  }
}
