// Objects the unit tests build their boards from.
import type { Task } from "../protocol";

export const T0 = "2026-01-01T10:00:00Z";

/** A TODO task with every field the server sends, `over` replacing any of them. */
export function task(id: number, over: Partial<Task> = {}): Task {
  return {
    id,
    title: `Task ${id}`,
    description: "",
    status: "TODO",
    assignee: null,
    position: 0,
    createdBy: "Adam",
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...over,
  };
}
