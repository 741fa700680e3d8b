//! The board's labels as pickers and the filter list them: by name. Apart from the card view's
//! fields so that the filter bar and the label manager do not pull the card view (and
//! markdown-it) into the first script.

import { useMemo } from "react";
import type { Label } from "../protocol";
import { useStore } from "../state/store";
import { useApp } from "./appContext";

export function useBoardLabels(): Label[] {
  const { store } = useApp();
  const labels = useStore(store, (s) => s.labels);
  return useMemo(() => Object.values(labels).sort((a, b) => a.name.localeCompare(b.name)), [labels]);
}
