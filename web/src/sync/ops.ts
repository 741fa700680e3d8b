//! A person's task edits as pending ops: each with its own `opId`, which the server uses to
//! deduplicate a change sent again after a lost ack.

import type { Status, Task, TaskFields } from "../protocol";
import {
  selectVisibleTasks,
  type BoardState,
  type CreateOp,
  type DeleteOp,
  type MoveOp,
  type UpdateOp,
} from "../state/reducer";
import { sameValue } from "../state/tasks";

export function makeOpId(): string {
  // crypto.randomUUID needs a secure context; a LAN http:// address is not one.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

let tempCounter = 0;
function makeTempId(): number {
  tempCounter = (tempCounter + 1) % 1000;
  return -(Date.now() * 1000 + tempCounter);
}

export interface NewTaskInput {
  title: string;
  description?: string;
  status?: Status;
  assignee?: string | null;
}

export interface UpdateOptions {
  /** The task as it was when the person opened it (their dialog's snapshot). */
  base?: Task;
  /** False: send without `version`, overwriting whatever changed meanwhile. */
  checkVersion?: boolean;
}

/** What every new op starts with: its own id, the time, queued, untried. */
function fresh(baseVersion: number) {
  return { opId: makeOpId(), at: new Date().toISOString(), state: "queued" as const, attempts: 0, baseVersion };
}

export function createOp(input: NewTaskInput): CreateOp {
  return {
    kind: "create",
    ...fresh(0),
    tempId: makeTempId(),
    title: input.title.trim(),
    description: (input.description ?? "").trim(),
    status: input.status ?? "TODO",
    assignee: input.assignee?.trim() || null,
  };
}

/**
 * The fields the person changed as one update op, or null when nothing changed. With `base`,
 * "changed" means "differs from what they started from", and a concurrent change by someone
 * else to the same fields makes the server refuse with CONFLICT instead of silently losing one
 * of the two edits; a concurrent change to other fields merges.
 */
export function updateOp(
  state: BoardState,
  id: number,
  fields: TaskFields,
  options: UpdateOptions = {},
): UpdateOp | null {
  const visible = selectVisibleTasks(state)[id];
  if (!visible) return null;
  const from = options.base ?? visible;
  const changed = diffFields(from, fields);
  if (options.base) {
    // Fields the person left alone are not theirs to send, even if the dialog still shows them.
    for (const key of Object.keys(changed) as (keyof TaskFields)[]) {
      if (sameValue(visible[key], changed[key])) delete changed[key];
    }
  }
  if (Object.keys(changed).length === 0) return null;
  const confirmed = state.tasks[id];
  const baseVersion = options.base && options.base.version > 0 ? options.base.version : (confirmed?.version ?? 0);
  // The values the person started from: their dialog's snapshot, else what the server had.
  const startedFrom = options.base ?? confirmed ?? visible;
  const baseValues: TaskFields = {};
  for (const key of Object.keys(changed) as (keyof TaskFields)[]) {
    (baseValues as Record<string, unknown>)[key] = startedFrom[key];
  }
  return {
    kind: "update",
    ...fresh(baseVersion),
    id,
    fields: changed,
    baseValues,
    checkVersion: options.checkVersion ?? true,
  };
}

export function moveOp(state: BoardState, id: number, status: Status, position: number): MoveOp {
  return {
    kind: "move",
    ...fresh(state.tasks[id]?.version ?? 0),
    id,
    status,
    position,
  };
}

export function deleteOp(state: BoardState, id: number): DeleteOp {
  return {
    kind: "delete",
    ...fresh(state.tasks[id]?.version ?? 0),
    id,
  };
}

/** The fields of `fields` whose (normalised) value differs from `task`. */
export function diffFields(task: Task, fields: TaskFields): TaskFields {
  const changed: TaskFields = {};
  if (fields.title !== undefined && fields.title.trim() !== task.title) changed.title = fields.title.trim();
  if (fields.description !== undefined && fields.description.trim() !== task.description)
    changed.description = fields.description.trim();
  if (fields.assignee !== undefined) {
    const assignee = fields.assignee?.trim() || null;
    if (assignee !== task.assignee) changed.assignee = assignee;
  }
  if (fields.status !== undefined && fields.status !== task.status) changed.status = fields.status;
  if (fields.blockedBy !== undefined && !sameValue(fields.blockedBy, task.blockedBy ?? []))
    changed.blockedBy = fields.blockedBy;
  if (fields.labels !== undefined && !sameValue(fields.labels, task.labels ?? [])) changed.labels = fields.labels;
  if (fields.dueAt !== undefined && !sameInstant(fields.dueAt, task.dueAt ?? null)) changed.dueAt = fields.dueAt;
  return changed;
}

/** Two due dates that name the same moment (the server answers in UTC whatever offset was sent). */
function sameInstant(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return Date.parse(a) === Date.parse(b);
}
