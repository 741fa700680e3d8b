//! Suggestions for an assignee field: the people online and the known agents.

import { useMemo } from "react";
import { useStore } from "../state/store";
import { useApp } from "./appContext";

export function PeopleOptions({ id }: { id: string }) {
  const { store } = useApp();
  const users = useStore(store, (s) => s.users);
  const agents = useStore(store, (s) => s.agents);
  const names = useMemo(() => {
    const all = new Set<string>();
    for (const u of users) all.add(u.name);
    for (const a of Object.values(agents)) all.add(a.id);
    return [...all].sort((a, b) => a.localeCompare(b));
  }, [users, agents]);
  return (
    <datalist id={id}>
      {names.map((n) => (
        <option key={n} value={n} />
      ))}
    </datalist>
  );
}
