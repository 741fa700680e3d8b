//! The filter bar above the board: text, label, assignee and due date, applied as they change
//! and remembered per board on this device.

import { useMemo } from "react";
import { assigneeNames, isFiltering, NO_FILTER, UNASSIGNED, type CardFilter, type DueFilter } from "../state/filters";
import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { useBoardLabels } from "./boardLabels";
import { FilterIcon } from "./Icons";

const DUE_NAMES: Record<DueFilter, string> = {
  all: "Any due date",
  overdue: "Overdue",
  today: "Due today",
  week: "Due this week",
  none: "No due date",
};

export function Filters(props: { filter: CardFilter; onChange: (filter: CardFilter) => void; shown: number }) {
  const { store } = useApp();
  const { filter, onChange } = props;
  const labels = useBoardLabels();
  const columns = useStore(store, (s) => s.columns);
  const assignees = useMemo(() => assigneeNames(columns), [columns]);
  const set = (change: Partial<CardFilter>) => onChange({ ...filter, ...change });
  const active = isFiltering(filter);

  return (
    <div
      className={`filters${active ? " is-active" : ""}`}
      role="search"
      aria-label="Filter cards"
      data-testid="filters"
    >
      <FilterIcon />
      <input
        type="search"
        name="filter-text"
        placeholder="Filter cards…"
        aria-label="Filter by text"
        value={filter.text}
        onChange={(e) => set({ text: e.target.value })}
      />
      <select
        name="filter-label"
        aria-label="Filter by label"
        value={filter.label ?? ""}
        onChange={(e) => set({ label: e.target.value ? Number(e.target.value) : null })}
      >
        <option value="">Any label</option>
        {labels.map((l) => (
          <option key={l.id} value={l.id}>
            {l.name}
          </option>
        ))}
      </select>
      <select
        name="filter-assignee"
        aria-label="Filter by assignee"
        value={filter.assignee ?? ""}
        onChange={(e) => set({ assignee: e.target.value || null })}
      >
        <option value="">Anyone</option>
        <option value={UNASSIGNED}>Unassigned</option>
        {assignees.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <select
        name="filter-due"
        aria-label="Filter by due date"
        value={filter.due}
        onChange={(e) => set({ due: e.target.value as DueFilter })}
      >
        {(Object.keys(DUE_NAMES) as DueFilter[]).map((d) => (
          <option key={d} value={d}>
            {DUE_NAMES[d]}
          </option>
        ))}
      </select>
      {active && (
        <>
          <span className="muted small-print" data-testid="filter-count">
            {props.shown} shown
          </span>
          <button type="button" className="ghost small" onClick={() => onChange(NO_FILTER)}>
            Clear
          </button>
        </>
      )}
    </div>
  );
}
