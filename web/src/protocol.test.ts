import { describe, expect, it } from "vitest";
import { isStatus, parseDynamicEvent } from "./protocol";

describe("parsing the per-entity event family", () => {
  it("reads task:{id}:updated with its seq", () => {
    const event = parseDynamicEvent("task:12:updated", [{ title: "x", version: 3, updatedAt: "t" }, { seq: 9 }]);
    expect(event).toEqual({
      kind: "task:updated",
      patch: { id: 12, title: "x", version: 3, updatedAt: "t" },
      seq: 9,
    });
  });

  it("reads created, deleted and agent status", () => {
    expect(parseDynamicEvent("task:4:created", [{ id: 4, title: "t" }])?.kind).toBe("task:created");
    expect(parseDynamicEvent("task:4:deleted", [{ id: 4 }, { seq: 2 }])).toEqual({
      kind: "task:deleted",
      id: 4,
      seq: 2,
    });
    expect(parseDynamicEvent("agent:bot-1:status", [{ status: "busy" }])).toEqual({
      kind: "agent:status",
      agent: { id: "bot-1", status: "busy" },
      seq: undefined,
    });
  });

  it("leaves fixed-name events alone", () => {
    for (const name of ["task:created", "task:drag:other", "sync:full", "users:update", "task:x:updated"]) {
      expect(parseDynamicEvent(name, [{}])).toBeNull();
    }
  });

  it("knows the five statuses exactly", () => {
    expect(isStatus("IN_PROGRESS")).toBe(true);
    expect(isStatus("done")).toBe(false);
  });
});
