//! What every part of the dashboard shares: the board's store and sync engine, who is signed in,
//! and what their credential may do. Its own module so that components need not import `App`,
//! which imports them.

import { createContext, useContext } from "react";
import type { Credentials } from "../credentials";
import type { Store } from "../state/store";
import type { SyncEngine } from "../sync/engine";

export interface AppContextValue {
  store: Store;
  engine: SyncEngine;
  me: string;
  creds: Credentials;
  /** Opens another board: its saved copy at once, then its live state. */
  switchBoard: (board: string) => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside the dashboard");
  return value;
}

/** False only when the credential is known to be a viewer's: unknown roles hide nothing. */
export function canWrite(creds: Credentials): boolean {
  return creds.role !== "viewer";
}

/** True unless the credential is known not to be an admin's (the server refuses the rest). */
export function canAdminister(creds: Credentials): boolean {
  return creds.role !== "viewer" && creds.role !== "editor";
}
