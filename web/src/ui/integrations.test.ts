import { describe, expect, it } from "vitest";
import type { WebhookDelivery } from "../protocol";
import { deliveryRow, eventsText, exportFileName, importCounts, parseEvents } from "./integrations";

const NOW = Date.parse("2026-01-01T12:00:00Z");

const delivery = (over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: 3,
  webhookId: 1,
  event: "task.created",
  seq: 12,
  status: "delivered",
  attempts: 1,
  lastCode: 200,
  lastError: null,
  createdAt: "2026-01-01T11:59:00Z",
  nextAttemptAt: null,
  ...over,
});

describe("the events field", () => {
  it("is every event when left empty", () => {
    expect(parseEvents("")).toEqual(["**"]);
    expect(parseEvents("  , ,")).toEqual(["**"]);
  });

  it("splits on commas and spaces, trims, and drops repeats", () => {
    expect(parseEvents("task.created, task.*")).toEqual(["task.created", "task.*"]);
    expect(parseEvents(" task.moved task.moved,,comment.** ")).toEqual(["task.moved", "comment.**"]);
  });

  it("leaves checking each pattern to the server", () => {
    expect(parseEvents("Not A Pattern!")).toEqual(["Not", "A", "Pattern!"]);
  });

  it("reads back briefly", () => {
    expect(eventsText(["**"])).toBe("all events");
    expect(eventsText(["task.created", "task.*"])).toBe("task.created, task.*");
  });
});

describe("a delivery row", () => {
  it("shows a delivered one with its code and no next attempt", () => {
    expect(deliveryRow(delivery(), NOW)).toEqual({
      id: 3,
      event: "task.created",
      seq: "#12",
      status: "delivered",
      attempts: "1",
      code: "200",
      next: "—",
      detail: "",
    });
  });

  it("counts down to the next attempt of a pending one", () => {
    const failing = delivery({ status: "pending", attempts: 2, lastCode: 500, nextAttemptAt: "2026-01-01T12:00:20Z" });
    expect(deliveryRow(failing, NOW)).toMatchObject({ status: "pending", attempts: "2", code: "500", next: "in 20 s" });
    expect(deliveryRow({ ...failing, nextAttemptAt: "2026-01-01T12:30:00Z" }, NOW).next).toBe("in 30 min");
    expect(deliveryRow({ ...failing, nextAttemptAt: "2026-01-01T15:00:00Z" }, NOW).next).toBe("in 3 h");
    expect(deliveryRow({ ...failing, nextAttemptAt: "2026-01-01T11:00:00Z" }, NOW).next).toBe("now");
    expect(deliveryRow(delivery({ status: "pending", attempts: 0, lastCode: null }), NOW)).toMatchObject({
      code: "—",
      next: "—",
    });
  });

  it("says when the receiver never answered, and keeps the error for a tooltip", () => {
    const row = deliveryRow(delivery({ status: "failed", lastCode: null, lastError: "connection refused" }), NOW);
    expect(row).toMatchObject({ code: "no answer", detail: "connection refused", next: "—" });
  });
});

describe("export and import", () => {
  it("names the downloaded file after the board", () => {
    expect(exportFileName("main", "csv")).toBe("main.csv");
    expect(exportFileName("ops-2027", "json")).toBe("ops-2027.json");
  });

  it("counts what an import brings, in words", () => {
    expect(importCounts({ imported: { tasks: 5, labels: 3, comments: 2 }, skipped: [] })).toBe(
      "5 tasks, 3 new labels and 2 comments",
    );
    expect(importCounts({ imported: { tasks: 1, labels: 0, comments: 1 }, skipped: [] })).toBe(
      "1 task, 0 new labels and 1 comment",
    );
  });
});
