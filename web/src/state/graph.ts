//! The work graph as the dashboard shows it (SPEC "Agents' work graph"): which blockers of a card
//! are still open, which cards are blocked or ready, and what each agent is doing or waiting for.
//!
//! Pure functions of the board state, so the card, the dialog and the agents panel agree, and
//! the rules are unit-tested without a browser.

import type { Agent, AgentStatus, Task } from "../protocol";
import { selectVisibleBoard, type BoardState } from "./reducer";
import { picking, type Board, type TaskMap } from "./tasks";

/** A card's place in the graph; only cards with blockers have one. */
export interface CardGraph {
  /** Its blockers that are not DONE yet, in the order set (a blocker this page does not know counts as open). */
  open: readonly number[];
  /** Waiting on an open blocker (a DONE card is never shown as blocked). */
  blocked: boolean;
  /** A TODO card whose blockers are all DONE: an agent's `task:next` may take it now. */
  ready: boolean;
}

export function cardGraph(task: Task, tasks: TaskMap): CardGraph | undefined {
  const blockers = task.blockedBy ?? [];
  if (blockers.length === 0) return undefined;
  const open = blockers.filter((id) => tasks[id]?.status !== "DONE");
  return {
    open,
    blocked: open.length > 0 && task.status !== "DONE",
    ready: open.length === 0 && task.status === "TODO",
  };
}

function sameGraph(a: CardGraph, b: CardGraph): boolean {
  return (
    a.blocked === b.blocked &&
    a.ready === b.ready &&
    a.open.length === b.open.length &&
    a.open.every((id, i) => id === b.open[i])
  );
}

let graphCache: { tasks: TaskMap; graph: ReadonlyMap<number, CardGraph> } | null = null;
const withBlockers = picking((task) => (task.blockedBy?.length ?? 0) > 0);

/**
 * Every card's graph entry, by task id. An entry that did not change keeps its object, so a card
 * that reads its own entry renders again only when its chips or marks change.
 */
export function selectWorkGraph(state: BoardState): ReadonlyMap<number, CardGraph> {
  const { tasks, columns } = selectVisibleBoard(state);
  if (graphCache && graphCache.tasks === tasks) return graphCache.graph;
  const previous = graphCache?.graph;
  const graph = new Map<number, CardGraph>();
  for (const task of withBlockers(columns)) {
    const entry = cardGraph(task, tasks);
    if (!entry) continue;
    const before = previous?.get(task.id);
    graph.set(task.id, before && sameGraph(before, entry) ? before : entry);
  }
  graphCache = { tasks, graph };
  return graph;
}

/** What "#12", "12", "#12 · Title" or an exact title (any case) names among `tasks`, or an explanation. */
export function resolveTaskRef(text: string, tasks: TaskMap): { id: number } | { error: string } {
  const wanted = text.trim();
  if (!wanted) return { error: "Type a task's #id or title." };
  const byId = /^#?(\d+)(?:\s|$)/.exec(wanted);
  if (byId) {
    const id = Number(byId[1]);
    return tasks[id] ? { id } : { error: `There is no task #${id} on this board.` };
  }
  const lower = wanted.toLowerCase();
  const named = Object.values(tasks).filter((t) => t.id > 0 && t.title.toLowerCase() === lower);
  if (named.length === 1) return { id: named[0].id };
  if (named.length > 1) return { error: `Several tasks are titled “${wanted}”: pick one by its #id.` };
  return { error: `No task on this board is titled “${wanted}”.` };
}

/** One line of the agents panel. */
export interface AgentRow {
  id: string;
  name: string;
  status: AgentStatus;
  lastSeen: string | null;
  /** In the board's line for work (`task:next { wait }`). */
  waiting: boolean;
  /** The task it works on (its `currentTaskId`, else a task it holds the claim of). */
  taskId: number | null;
  task: Task | null;
  /** When its claim on that task runs out, if it holds one. */
  leaseExpiresAt: string | null;
}

const claimedTasks = picking((task) => Boolean(task.claimedBy));

const ORDER: Record<AgentStatus, number> = { busy: 0, error: 1, idle: 2, offline: 3 };

/**
 * The agents panel: every agent that reported, and every agent waiting for work even if it never
 * reported (`task:next` needs no status report). Busy first, then errors, then the waiting, then
 * the idle, then the offline; by name within each.
 */
export function agentRows(
  agents: Readonly<Record<string, Agent>>,
  { tasks, columns }: Board,
  waiting: readonly string[],
): AgentRow[] {
  const line = new Set(waiting);
  const claimed = new Map<string, Task>();
  for (const task of claimedTasks(columns)) if (task.claimedBy) claimed.set(task.claimedBy, task);
  const all: Agent[] = Object.values(agents);
  for (const id of waiting) {
    if (!agents[id]) all.push({ id, name: id, status: "idle", currentTaskId: null, lastSeen: "" });
  }
  const rows = all.map((agent): AgentRow => {
    const taskId = agent.currentTaskId ?? claimed.get(agent.id)?.id ?? null;
    const task = taskId !== null ? (tasks[taskId] ?? null) : null;
    return {
      id: agent.id,
      name: agent.name || agent.id,
      status: agent.status,
      lastSeen: agent.lastSeen || null,
      waiting: line.has(agent.id),
      taskId,
      task,
      leaseExpiresAt: task && task.claimedBy === agent.id ? (task.leaseExpiresAt ?? null) : null,
    };
  });
  const rank = (r: AgentRow) => ORDER[r.status] * 2 + (r.waiting ? 0 : 1);
  return rows.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
