import { describe, expect, it } from "vitest";
import type { Comment, Label, Notification, Task } from "../protocol";
import { initialState, reducer, toCache, type Action, type BoardState } from "./reducer";
import { T0, task } from "../testing/fixtures";

function run(state: BoardState, ...actions: Action[]): BoardState {
  return actions.reduce(reducer, state);
}

const bug: Label = { id: 1, board: "main", name: "bug", color: "#d73a4a" };

function synced(tasks: Task[], seq = 10, extra: { labels?: Label[]; unreadNotifications?: number } = {}): BoardState {
  return run(initialState("Adam"), {
    type: "syncFull",
    payload: { tasks, agents: [], users: [], seq, ...extra },
    at: T0,
  });
}

function comment(id: number, taskId: number, over: Partial<Comment> = {}): Comment {
  return {
    id,
    taskId,
    board: "main",
    author: "Nick",
    body: `Comment ${id}`,
    createdAt: T0,
    updatedAt: T0,
    edited: false,
    ...over,
  };
}

function notification(id: number, over: Partial<Notification> = {}): Notification {
  return {
    id,
    type: "mention",
    board: "main",
    taskId: 1,
    commentId: null,
    by: "Nick",
    excerpt: "@Adam look",
    createdAt: T0,
    readAt: null,
    ...over,
  };
}

describe("labels", () => {
  it("come with sync:full and follow label events in seq order", () => {
    let state = synced([task(1, { labels: [1] })], 10, { labels: [bug] });
    expect(state.labels[1].name).toBe("bug");
    state = run(
      state,
      { type: "labelSaved", label: { ...bug, id: 2, name: "ui", color: "#0366d6" }, seq: 11 },
      { type: "labelSaved", label: { ...bug, name: "defect" }, seq: 12 },
    );
    expect(Object.values(state.labels).map((l) => l.name)).toEqual(["defect", "ui"]);
    expect(state.seq).toBe(12);
  });

  it("a deleted label leaves the board; its tasks lose it through their patches of the same seq", () => {
    let state = synced([task(1, { labels: [1] })], 10, { labels: [bug] });
    state = run(
      state,
      { type: "labelDeleted", id: 1, seq: 11 },
      { type: "taskPatched", patch: { id: 1, labels: [], version: 2, updatedAt: T0 }, seq: 11 },
    );
    expect(state.labels[1]).toBeUndefined();
    expect(state.tasks[1].labels).toEqual([]);
  });

  it("a label event past a gap is not applied", () => {
    const state = run(synced([], 10), { type: "labelSaved", label: bug, seq: 13 });
    expect(state.labels[1]).toBeUndefined();
    expect(state.gap).toBe(13);
  });

  it("are saved with the board copy and restored from it", () => {
    const saved = toCache(synced([task(1)], 10, { labels: [bug] }));
    expect(saved.labels).toEqual([bug]);
    const restored = run(initialState("Adam"), { type: "hydrate", cache: saved });
    expect(restored.labels[1]).toEqual(bug);
  });
});

describe("comments", () => {
  it("a created comment counts on its task and joins the fetched thread", () => {
    let state = synced([task(1, { commentCount: 1 })]);
    state = run(state, { type: "commentsLoaded", taskId: 1, comments: [comment(5, 1)] });
    state = run(state, { type: "commentCreated", comment: comment(6, 1), seq: 11 });
    expect(state.tasks[1].commentCount).toBe(2);
    expect(state.comments[1].map((c) => c.id)).toEqual([5, 6]);
  });

  it("a comment is not an edit: the task's version stays", () => {
    const state = run(synced([task(1)]), { type: "commentCreated", comment: comment(6, 1), seq: 11 });
    expect(state.tasks[1].version).toBe(1);
    expect(state.tasks[1].commentCount).toBe(1);
    // The card's thread was never fetched: nothing to keep current.
    expect(state.comments[1]).toBeUndefined();
  });

  it("a repeated comment event (a duplicate seq) counts once", () => {
    const created: Action = { type: "commentCreated", comment: comment(6, 1), seq: 11 };
    const state = run(synced([task(1)]), created, { type: "taskCreated", task: task(2), seq: 12 }, created);
    expect(state.tasks[1].commentCount).toBe(1);
  });

  it("our own ack shows the comment at once, and its broadcast neither repeats it nor misses the count", () => {
    let state = run(synced([task(1)]), { type: "commentsLoaded", taskId: 1, comments: [] });
    state = run(state, { type: "commentAcked", comment: comment(6, 1, { author: "Adam" }) });
    state = run(state, { type: "commentCreated", comment: comment(6, 1, { author: "Adam" }), seq: 11 });
    expect(state.comments[1]).toHaveLength(1);
    expect(state.tasks[1].commentCount).toBe(1);
  });

  it("edits replace the comment, deletions remove it and uncount it", () => {
    let state = run(synced([task(1, { commentCount: 2 })]), {
      type: "commentsLoaded",
      taskId: 1,
      comments: [comment(5, 1), comment(6, 1)],
    });
    state = run(
      state,
      { type: "commentUpdated", comment: comment(5, 1, { body: "better", edited: true }), seq: 11 },
      { type: "commentDeleted", id: 6, taskId: 1, seq: 12 },
    );
    expect(state.comments[1]).toEqual([comment(5, 1, { body: "better", edited: true })]);
    expect(state.tasks[1].commentCount).toBe(1);
  });

  it("a list fetched while a comment arrived live keeps the live one", () => {
    let state = run(synced([task(1)]), { type: "commentsLoaded", taskId: 1, comments: [] });
    state = run(state, { type: "commentCreated", comment: comment(7, 1), seq: 11 });
    state = run(state, { type: "commentsLoaded", taskId: 1, comments: [comment(5, 1)] });
    expect(state.comments[1].map((c) => c.id)).toEqual([5, 7]);
  });

  it("a fresh sync:full forgets the threads, so an open card fetches its own again", () => {
    const state = run(
      synced([task(1)]),
      { type: "commentsLoaded", taskId: 1, comments: [comment(5, 1)] },
      {
        type: "syncFull",
        payload: { tasks: [task(1, { commentCount: 3 })], agents: [], users: [], seq: 40 },
        at: T0,
      },
    );
    expect(state.comments[1]).toBeUndefined();
    expect(state.tasks[1].commentCount).toBe(3);
  });
});

describe("notifications", () => {
  it("the unread count comes with sync:full and grows with each live notification", () => {
    let state = synced([], 10, { unreadNotifications: 2 });
    expect(state.unread).toBe(2);
    state = run(state, { type: "notification", notification: notification(9) });
    expect(state.unread).toBe(3);
    // Not listed yet: the bell lists them when opened.
    expect(state.notifications).toBeNull();
  });

  it("a live notification joins the listed ones on top, once", () => {
    let state = run(synced([], 10, { unreadNotifications: 1 }), {
      type: "notificationsLoaded",
      notifications: [notification(3)],
    });
    state = run(
      state,
      { type: "notification", notification: notification(9) },
      { type: "notification", notification: notification(9) },
    );
    expect(state.notifications?.map((n) => n.id)).toEqual([9, 3]);
    expect(state.unread).toBe(2);
  });

  it("notifications:read marks those read and lowers the count by as many", () => {
    let state = run(synced([], 10, { unreadNotifications: 3 }), {
      type: "notificationsLoaded",
      notifications: [notification(9), notification(8), notification(7)],
    });
    state = run(state, { type: "notificationsRead", ids: [9, 7], at: "2026-01-01T11:00:00Z" });
    expect(state.unread).toBe(1);
    expect(state.notifications?.map((n) => n.readAt !== null)).toEqual([true, false, true]);
  });
});

describe("who is looking", () => {
  it("keeps the viewers of each card, and forgets them with the connection", () => {
    let state = run(synced([task(1)]), { type: "viewers", taskId: 1, users: ["Adam", "Nick"] });
    expect(state.viewers[1]).toEqual(["Adam", "Nick"]);
    state = run(state, { type: "viewers", taskId: 1, users: [] });
    expect(state.viewers[1]).toBeUndefined();
    state = run(state, { type: "viewers", taskId: 1, users: ["Nick"] }, { type: "connection", state: "reconnecting" });
    expect(state.viewers).toEqual({});
  });
});
