import { describe, expect, it } from "vitest";
import { applySyncFull, initialState, type BoardState } from "../state/reducer";
import { task } from "../testing/fixtures";
import type { Task } from "../protocol";
import { createOp, deleteOp, diffFields, makeOpId, moveOp, updateOp } from "./ops";

function boardWith(...tasks: Task[]): BoardState {
  return applySyncFull(initialState("Adam"), { tasks, agents: [], users: [], seq: 1 }, "t");
}

describe("a person's edits as pending ops", () => {
  it("gives every op an id of its own, 32 hex digits", () => {
    const ids = new Set([makeOpId(), makeOpId(), makeOpId()]);
    expect(ids.size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("creates a task with trimmed text, TODO by default and a temporary negative id", () => {
    const op = createOp({ title: "  Ship it ", description: " soon ", assignee: "  " });
    expect(op).toMatchObject({
      kind: "create",
      state: "queued",
      attempts: 0,
      title: "Ship it",
      description: "soon",
      status: "TODO",
      assignee: null,
    });
    expect(op.tempId).toBeLessThan(0);
    expect(createOp({ title: "x" }).tempId).not.toBe(op.tempId);
  });

  it("sends only the fields that changed, normalised as the server stores them", () => {
    const t = task(1, { title: "A", assignee: "Nick", blockedBy: [2], dueAt: "2026-03-01T10:00:00Z" });
    expect(
      diffFields(t, {
        title: " A ",
        assignee: " Nick ",
        blockedBy: [2],
        dueAt: "2026-03-01T11:00:00+01:00",
        description: " new ",
      }),
    ).toEqual({ description: "new" });
    expect(diffFields(t, { assignee: "", blockedBy: [2, 3], labels: [] })).toEqual({
      assignee: null,
      blockedBy: [2, 3],
    });
  });

  it("makes no update when nothing changed", () => {
    expect(updateOp(boardWith(task(1)), 1, { title: "Task 1" })).toBeNull();
    expect(updateOp(boardWith(task(1)), 2, { title: "Other" })).toBeNull();
  });

  it("records the version and the values the edit started from, so a clash can be told from a merge", () => {
    const op = updateOp(boardWith(task(1, { version: 4 })), 1, { title: "Renamed" });
    expect(op).toMatchObject({
      kind: "update",
      id: 1,
      fields: { title: "Renamed" },
      baseVersion: 4,
      baseValues: { title: "Task 1" },
      checkVersion: true,
    });
  });

  it("from a dialog's snapshot, sends what the person changed, not what someone else changed meanwhile", () => {
    const opened = task(1, { title: "Old", assignee: null, version: 2 });
    const now = boardWith(task(1, { title: "Theirs", assignee: null, version: 3 }));
    // The dialog still shows "Old" as the title; the person only set the assignee.
    const op = updateOp(now, 1, { title: "Old", assignee: "Adam" }, { base: opened });
    expect(op).toMatchObject({ fields: { assignee: "Adam" }, baseVersion: 2, baseValues: { assignee: null } });
    // Setting the field to what it already holds is no change at all.
    expect(updateOp(now, 1, { title: "Theirs" }, { base: opened })).toBeNull();
    expect(updateOp(now, 1, { assignee: "Adam" }, { checkVersion: false })?.checkVersion).toBe(false);
  });

  it("moves and deletes against the confirmed version", () => {
    const state = boardWith(task(1, { version: 5 }));
    expect(moveOp(state, 1, "DONE", 2)).toMatchObject({
      kind: "move",
      id: 1,
      status: "DONE",
      position: 2,
      baseVersion: 5,
    });
    expect(deleteOp(state, 1)).toMatchObject({ kind: "delete", id: 1, baseVersion: 5 });
    expect(deleteOp(state, 9).baseVersion).toBe(0);
  });
});
