import { describe, expect, it, vi } from "vitest";
import type { PendingOp, UpdateOp } from "../state/reducer";
import { refusalIsDone, refusalToast } from "./refusals";

const common = { opId: "o", at: "t", state: "sent" as const, attempts: 1 };
const update: UpdateOp = { ...common, kind: "update", id: 4, fields: { title: "Mine" }, checkVersion: true };
const move: PendingOp = { ...common, kind: "move", id: 4, status: "DONE", position: 0 };
const create: PendingOp = {
  ...common,
  kind: "create",
  tempId: -1,
  title: "New card",
  description: "",
  status: "TODO",
  assignee: null,
};
const remove: PendingOp = { ...common, kind: "delete", id: 4 };

describe("explaining a refused change", () => {
  it("names the change in the title of a plain refusal", () => {
    const error = { code: "VALIDATION_ERROR", message: "title is too long" };
    expect(refusalToast(error, create, vi.fn())).toEqual({
      kind: "error",
      title: "Not saved: creating “New card”",
      message: "title is too long",
    });
    expect(refusalToast(error, move, vi.fn()).title).toBe("Not saved: moving #4");
    expect(refusalToast(error, null, vi.fn()).title).toBe("Not saved: That");
  });

  it("asks for patience when someone else holds the card", () => {
    const toast = refusalToast({ code: "TASK_LOCKED", message: "Task 4 is being moved by Nick" }, move, vi.fn());
    expect(toast).toMatchObject({ kind: "warning", title: "Someone else has this card in hand" });
    expect(toast.message).toBe("Task 4 is being moved by Nick. Give them a moment, then try again.");
  });

  it("offers to apply a clashing edit anyway, and only an edit", () => {
    const applyAnyway = vi.fn();
    const error = { code: "CONFLICT", message: "Version 3 is stale" };
    const toast = refusalToast(error, update, applyAnyway);
    expect(toast.title).toBe("Not saved: your edit of #4 clashed with a newer change");
    expect(toast.action?.label).toBe("Apply mine anyway");
    toast.action!.run();
    expect(applyAnyway).toHaveBeenCalledWith(update);
    expect(refusalToast(error, move, applyAnyway).action).toBeUndefined();
  });

  it("says a card is gone, and takes deleting a card already gone for done", () => {
    const gone = { code: "TASK_NOT_FOUND", message: "No task 4" };
    expect(refusalToast(gone, move, vi.fn())).toMatchObject({ kind: "warning", title: "That card no longer exists" });
    expect(refusalIsDone(remove, gone)).toBe(true);
    expect(refusalIsDone(move, gone)).toBe(false);
    expect(refusalIsDone(remove, { code: "FORBIDDEN", message: "" })).toBe(false);
  });
});
