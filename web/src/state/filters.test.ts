import { describe, expect, it } from "vitest";
import { task } from "../testing/fixtures";
import type { Task } from "../protocol";
import {
  assigneeNames,
  cardMatcher,
  columnFilter,
  dueState,
  indexInFullColumn,
  NO_FILTER,
  UNASSIGNED,
  type CardFilter,
} from "./filters";
import { boardOf, placeTask } from "./tasks";

// Noon local time, so "later today" and "tomorrow" are clear of midnight.
const NOW = new Date(2026, 5, 10, 12, 0, 0).getTime();
const local = (day: number, hour: number) => new Date(2026, 5, day, hour, 0, 0).toISOString();

describe("due dates, in the viewer's local days", () => {
  it("classes a due date as overdue, today, this week or later", () => {
    expect(dueState(local(10, 11), NOW)).toBe("overdue");
    expect(dueState(local(10, 23), NOW)).toBe("today");
    expect(dueState(local(11, 1), NOW)).toBe("week");
    expect(dueState(local(16, 23), NOW)).toBe("week");
    expect(dueState(local(17, 1), NOW)).toBe("later");
    expect(dueState(null, NOW)).toBeNull();
  });
});

describe("card filters", () => {
  const tasks = [
    task(1, { title: "Fix login", labels: [1, 2], assignee: "Nick", dueAt: local(9, 9) }),
    task(2, { title: "Write docs", description: "login page", labels: [2], assignee: null, dueAt: local(10, 18) }),
    task(3, { title: "Ship", labels: [], assignee: "adam", dueAt: null }),
  ];
  const ids = (filter: Partial<CardFilter>) =>
    tasks.filter(cardMatcher({ ...NO_FILTER, ...filter }, NOW)).map((t) => t.id);

  it("with nothing set, shows every card", () => {
    expect(ids({})).toEqual([1, 2, 3]);
  });
  it("text matches every word in the title, description or #id, case aside", () => {
    expect(ids({ text: "LOGIN" })).toEqual([1, 2]);
    expect(ids({ text: "login fix" })).toEqual([1]);
    expect(ids({ text: "#3" })).toEqual([3]);
  });
  it("label, assignee (or unassigned) and due narrow it together", () => {
    expect(ids({ label: 2 })).toEqual([1, 2]);
    expect(ids({ assignee: "Adam" })).toEqual([3]);
    expect(ids({ assignee: UNASSIGNED })).toEqual([2]);
    expect(ids({ due: "overdue" })).toEqual([1]);
    expect(ids({ due: "today" })).toEqual([2]);
    expect(ids({ due: "week" })).toEqual([2]);
    expect(ids({ due: "none" })).toEqual([3]);
    expect(ids({ label: 2, due: "today", text: "docs" })).toEqual([2]);
  });
});

describe("moving a card while filtered", () => {
  const full = [task(1), task(2), task(3), task(4)];
  it("lands before the shown card that follows it, or after the one before it", () => {
    // Shown: 1, 3 (2 and 4 hidden); the moved card 9 dropped between them.
    expect(indexInFullColumn(full, [1, 9, 3], 1)).toBe(2);
    expect(indexInFullColumn(full, [9, 1, 3], 0)).toBe(0);
    expect(indexInFullColumn(full, [1, 3, 9], 2)).toBe(3);
    expect(indexInFullColumn(full, [9], 0)).toBe(4);
  });
});

describe("filtering columns change by change", () => {
  it("filters again only the columns that changed, and keeps the others' results", () => {
    const board = boardOf([task(1, { title: "docs" }), task(2), task(3, { status: "DONE", title: "docs" })]);
    const seen: number[] = [];
    const filtered = columnFilter((t) => {
      seen.push(t.id);
      return t.title === "docs";
    });
    const before = filtered(board.columns);
    expect(before.TODO.map((t) => t.id)).toEqual([1]);
    expect(before.DONE).toBe(board.columns.DONE);
    seen.length = 0;
    const after = filtered(placeTask(board, board.tasks[2], "REVIEW", 0).columns);
    expect(seen.sort()).toEqual([1, 2]);
    expect(after.DONE).toBe(before.DONE);
    expect(after.TODO).not.toBe(before.TODO);
    expect(after.REVIEW).toEqual([]);
    expect(filtered(placeTask(board, board.tasks[2], "REVIEW", 0).columns).DONE).toBe(before.DONE);
  });
});

describe("the assignee filter's choices", () => {
  it("are the names cards are assigned to, once each whatever the case, sorted", () => {
    const board = boardOf([
      task(1, { assignee: "nick" }),
      task(2, { assignee: "Adam", status: "DONE" }),
      task(3, { assignee: "Nick", status: "REVIEW" }),
      task(4),
      task(5, { assignee: "bot-7", status: "BLOCKED" }),
    ]);
    const names = assigneeNames(board.columns);
    expect(names.map((n) => n.toLowerCase())).toEqual(["adam", "bot-7", "nick"]);
  });

  it("follow a change, looking again only through the columns it touched", () => {
    const read: number[] = [];
    const watched = (t: Task) =>
      new Proxy(t, { get: (target, key) => (read.push(target.id), Reflect.get(target, key)) });
    const nick = task(1, { assignee: "Nick" });
    const before = {
      TODO: [watched(nick)],
      IN_PROGRESS: [],
      BLOCKED: [],
      REVIEW: [],
      DONE: [watched(task(2, { assignee: "Eve", status: "DONE" }))],
    };
    expect(assigneeNames(before)).toEqual(["Eve", "Nick"]);
    read.length = 0;
    // Nick's card moves from TODO to REVIEW: DONE is the same array, so its card is not read again.
    const after = { ...before, TODO: [], REVIEW: [watched({ ...nick, status: "REVIEW" })] };
    expect(assigneeNames(after)).toEqual(["Eve", "Nick"]);
    expect([...new Set(read)]).toEqual([1]);
    expect(assigneeNames({ ...after, DONE: [] })).toEqual(["Nick"]);
  });
});
