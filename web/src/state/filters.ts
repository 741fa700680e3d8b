//! The board's card filters (text, label, assignee, due) and the due-date classes the cards show,
//! as pure functions of a task and the local clock; and where a board's filter is remembered.

import { STATUSES, type Status, type Task } from "../protocol";
import { perColumn, type Columns } from "./tasks";

export type DueFilter = "all" | "overdue" | "today" | "week" | "none";
export const DUE_FILTERS: readonly DueFilter[] = ["all", "overdue", "today", "week", "none"];

export interface CardFilter {
  /** Words that must all be in the title, the description or the `#id` (case aside). */
  text: string;
  /** A label id, or null for any. */
  label: number | null;
  /** A name (case aside), `UNASSIGNED`, or null for anyone. */
  assignee: string | null;
  due: DueFilter;
}

export const UNASSIGNED = "\u0000unassigned";
export const NO_FILTER: CardFilter = { text: "", label: null, assignee: null, due: "all" };

export function isFiltering(filter: CardFilter): boolean {
  return filter.text.trim() !== "" || filter.label !== null || filter.assignee !== null || filter.due !== "all";
}

/** Where a due date stands from this person's day: past, later today, within 7 days, or later. */
export type DueState = "overdue" | "today" | "week" | "later";

function endOfLocalDay(now: number, daysAhead = 0): number {
  const d = new Date(now);
  d.setHours(24 * (daysAhead + 1), 0, 0, 0);
  return d.getTime();
}

/** Days are the viewer's local days: "today" ends at their midnight, not UTC's. */
export function dueState(dueAt: string | null | undefined, now: number): DueState | null {
  if (!dueAt) return null;
  const due = Date.parse(dueAt);
  if (Number.isNaN(due)) return null;
  if (due < now) return "overdue";
  if (due < endOfLocalDay(now)) return "today";
  // This week: today and the six days after it.
  if (due < endOfLocalDay(now, 6)) return "week";
  return "later";
}

/**
 * A test for one task, with the filter's text split once. Built per filter change and run per
 * card, so a 1,000-card board is one pass of cheap comparisons.
 */
export function cardMatcher(filter: CardFilter, now: number): (task: Task) => boolean {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  const assignee =
    filter.assignee === null || filter.assignee === UNASSIGNED ? filter.assignee : filter.assignee.toLowerCase();
  return (task) => {
    if (filter.label !== null && !(task.labels ?? []).includes(filter.label)) return false;
    if (assignee === UNASSIGNED) {
      if (task.assignee) return false;
    } else if (assignee !== null && (task.assignee ?? "").toLowerCase() !== assignee) return false;
    if (filter.due !== "all") {
      const state = dueState(task.dueAt, now);
      if (filter.due === "none" ? state !== null : state === null) return false;
      if (filter.due === "overdue" && state !== "overdue") return false;
      if (filter.due === "today" && state !== "today") return false;
      // Due this week includes today's; overdue ones are their own filter.
      if (filter.due === "week" && state !== "today" && state !== "week") return false;
    }
    if (words.length > 0) {
      const haystack = `#${task.id} ${task.title} ${task.description}`.toLowerCase();
      if (!words.every((w) => haystack.includes(w))) return false;
    }
    return true;
  };
}

const FILTER_KEY = (board: string) => `warroom.filter.${board}`;

/** A board's filter as last set on this device (it survives a reload). */
export function loadFilter(board: string): CardFilter {
  try {
    const raw = JSON.parse(localStorage.getItem(FILTER_KEY(board)) ?? "null") as Partial<CardFilter> | null;
    if (!raw || typeof raw !== "object") return NO_FILTER;
    return {
      text: typeof raw.text === "string" ? raw.text : "",
      label: typeof raw.label === "number" ? raw.label : null,
      assignee: typeof raw.assignee === "string" ? raw.assignee : null,
      due: DUE_FILTERS.includes(raw.due as DueFilter) ? (raw.due as DueFilter) : "all",
    };
  } catch {
    return NO_FILTER;
  }
}

export function saveFilter(board: string, filter: CardFilter): void {
  try {
    if (isFiltering(filter)) localStorage.setItem(FILTER_KEY(board), JSON.stringify(filter));
    else localStorage.removeItem(FILTER_KEY(board));
  } catch {
    /* storage disabled: the filter lasts until the tab closes */
  }
}

/**
 * A function giving each column with only the cards that pass `match` (the same array when
 * nothing is filtered out). It remembers its last answer: a column that is still the same array
 * keeps its result, so a change filters again only the columns it touched (not every card of
 * the board), and the other columns' memoised components skip rendering.
 */
export function columnFilter(match: (task: Task) => boolean): (columns: Columns) => Columns {
  let last: { columns: Columns; shown: Columns } | null = null;
  return (columns) => {
    if (last?.columns === columns) return last.shown;
    const shown = {} as Record<Status, readonly Task[]>;
    for (const status of STATUSES) {
      const tasks = columns[status];
      if (last && last.columns[status] === tasks) {
        shown[status] = last.shown[status];
        continue;
      }
      const kept = tasks.filter(match);
      shown[status] = kept.length === tasks.length ? tasks : kept;
    }
    last = { columns, shown };
    return shown;
  };
}

/** Each column's assignees by their name in lower case. */
const assigneesByColumn = perColumn((column) => {
  const names = new Map<string, string>();
  for (const task of column) if (task.assignee) names.set(task.assignee.toLowerCase(), task.assignee);
  return names;
});

/**
 * The names cards are assigned to, each once (case aside) and sorted: the assignee filter's
 * choices. A change looks through the columns it touched (`perColumn`), not every card.
 */
export function assigneeNames(columns: Columns): string[] {
  const names = new Map<string, string>();
  for (const column of assigneesByColumn(columns)) for (const [key, name] of column) names.set(key, name);
  return [...names.values()].sort((a, b) => a.localeCompare(b));
}

/**
 * Where a card moved among the shown (filtered) cards goes in its whole column: just before the
 * shown card that now follows it, else just after the one before it. `full` is the column
 * without the moved card; `shown` the shown ids in their new order, the moved one at `index`.
 */
export function indexInFullColumn(full: readonly Task[], shown: readonly number[], index: number): number {
  const at = (id: number | undefined) => (id === undefined ? -1 : full.findIndex((t) => t.id === id));
  const next = at(shown[index + 1]);
  if (next >= 0) return next;
  const previous = at(shown[index - 1]);
  return previous >= 0 ? previous + 1 : full.length;
}
