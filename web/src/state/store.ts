//! A minimal observable store around the reducer, readable from React and from the sync engine.

import { useSyncExternalStore } from "react";
import { reducer, type Action, type BoardState } from "./reducer";

export interface Store {
  getState(): BoardState;
  dispatch(action: Action): void;
  subscribe(listener: () => void): () => void;
}

export function createStore(initial: BoardState): Store {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = reducer(state, action);
      if (next === state) return;
      state = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Subscribes a component to one slice of the state; re-renders only when that slice changes. */
export function useStore<T>(store: Store, select: (state: BoardState) => T): T {
  return useSyncExternalStore(
    store.subscribe,
    () => select(store.getState()),
    () => select(store.getState()),
  );
}
