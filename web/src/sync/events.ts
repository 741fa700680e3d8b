//! The server's events as reducer actions. One set of handlers serves the socket and the board's
//! event stream, which carries the same events with the same names and payloads.

import type { WarroomSocket } from "../net/connection";
import { parseDynamicEvent, type ServerToClientEvents, type User } from "../protocol";
import { checkSeq, selectVisibleTasks } from "../state/reducer";
import { forgetBoard } from "../state/persist";
import type { Store } from "../state/store";

/** Where persisted events come from: the socket, or the event stream when the socket cannot connect. */
export interface ServerEvents {
  on<K extends keyof ServerToClientEvents>(name: K, listener: ServerToClientEvents[K]): unknown;
  onAny(listener: (name: string, ...args: unknown[]) => void): unknown;
}

export interface EventContext {
  store: Store;
  /** The whole board arrived (`sync:full`), after the reducer applied it. */
  onFullSync(): void;
  onCelebration(event: { user: string; taskId: number; title?: string }): void;
  /** The board this page shows was deleted (told while it is still listed, so its name is known). */
  onBoardDeleted(board: string): void;
}

/**
 * Applies the persisted events of `source` to the store; `via` is the connection state a
 * `sync:full` from it means.
 */
export function listen(source: ServerEvents, via: "live" | "stream", context: EventContext): void {
  const { store } = context;
  const { dispatch } = store;
  source.on("sync:full", (payload) => {
    dispatch({ type: "syncFull", payload, at: new Date().toISOString(), connection: via });
    context.onFullSync();
  });
  source.on("users:update", (users, meta) => {
    const list = Array.isArray(users) ? users : (Object.values(users ?? {}) as User[]);
    dispatch({ type: "users", users: list, seq: meta?.seq });
  });
  source.on("activity", (entry, meta) => dispatch({ type: "activity", entries: [entry], seq: meta?.seq }));
  source.on("celebration", (p, meta) => {
    // Not for a duplicate, nor for a change beyond a gap (the resume brings it again).
    if (checkSeq(store.getState(), meta?.seq) !== "apply") return;
    const task = selectVisibleTasks(store.getState())[Number(p.taskId)];
    context.onCelebration({ user: p.user, taskId: Number(p.taskId), title: task?.title });
  });
  // The seeds' family repeats the per-task events; these two are idempotent, so they also
  // cover a server that only speaks the seed names. `task:moved` lacks a position: skipped.
  source.on("task:created", (p, meta) => {
    if (p?.task) dispatch({ type: "taskCreated", task: p.task, seq: meta?.seq });
  });
  source.on("task:shifted", (p, meta) => {
    if (Array.isArray(p?.tasks)) dispatch({ type: "tasksShifted", patches: p.tasks, seq: meta?.seq });
  });
  source.on("task:deleted", (p, meta) => dispatch({ type: "taskDeleted", id: Number(p.taskId), seq: meta?.seq }));
  source.on("board:created", (board) => dispatch({ type: "boardUpserted", board }));
  source.on("board:updated", (board) => dispatch({ type: "boardUpserted", board }));
  source.on("board:deleted", ({ id }) => {
    if (id === store.getState().board) context.onBoardDeleted(id);
    dispatch({ type: "boardRemoved", id });
    void forgetBoard(id);
  });
  source.on("label:created", (label, meta) => dispatch({ type: "labelSaved", label, seq: meta?.seq }));
  source.on("label:updated", (label, meta) => dispatch({ type: "labelSaved", label, seq: meta?.seq }));
  source.on("label:deleted", (p, meta) => dispatch({ type: "labelDeleted", id: Number(p.id), seq: meta?.seq }));
  source.on("comment:created", (comment, meta) => dispatch({ type: "commentCreated", comment, seq: meta?.seq }));
  source.on("comment:updated", (comment, meta) => dispatch({ type: "commentUpdated", comment, seq: meta?.seq }));
  source.on("comment:deleted", (p, meta) =>
    dispatch({ type: "commentDeleted", id: Number(p.id), taskId: Number(p.taskId), seq: meta?.seq }),
  );
  source.on("notification", (notification) => dispatch({ type: "notification", notification }));
  source.on("notifications:read", (p) =>
    dispatch({ type: "notificationsRead", ids: Array.isArray(p?.ids) ? p.ids : [], at: new Date().toISOString() }),
  );
  source.on("task:viewers", (p) =>
    dispatch({ type: "viewers", taskId: Number(p.taskId), users: Array.isArray(p.users) ? p.users : [] }),
  );
  source.onAny((name: string, ...args: unknown[]) => {
    const event = parseDynamicEvent(name, args);
    if (!event) return;
    switch (event.kind) {
      case "task:created":
        return dispatch({ type: "taskCreated", task: event.task, seq: event.seq });
      case "task:updated":
        return dispatch({ type: "taskPatched", patch: event.patch, seq: event.seq });
      case "task:deleted":
        return dispatch({ type: "taskDeleted", id: event.id, seq: event.seq });
      case "agent:status":
        return dispatch({ type: "agentStatus", agent: event.agent, seq: event.seq });
    }
  });
}

/**
 * The ephemeral events only a socket carries (who is typing, which agents wait for work, whose
 * hand holds a card); the event stream has no presence. No listener for `error`: it repeats
 * the refusal the command's ack carries, which is shown from the ack; commands sent without an
 * ack (typing) have nothing to show.
 */
export function listenPresence(socket: WarroomSocket, store: Store): void {
  const { dispatch } = store;
  socket.on("typing:update", (names) => dispatch({ type: "typing", names: Array.isArray(names) ? names : [] }));
  socket.on("agents:waiting", (p) => dispatch({ type: "waiting", agents: Array.isArray(p?.agents) ? p.agents : [] }));
  socket.on("task:drag:other", (p) =>
    dispatch({ type: "dragOther", taskId: Number(p.taskId), user: p.user ?? null, now: Date.now() }),
  );
}
