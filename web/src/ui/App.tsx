//! The top of the app: the key screen until the person is known, then the dashboard.

import { createContext, useContext, useEffect, useRef, useState } from "react";
import confetti from "canvas-confetti";
import { forgetKey, loadCredentials, saveCredentials } from "../credentials";
import type { Credentials } from "../net/connection";
import { initialState, type CachedBoard } from "../state/reducer";
import { clearBoard } from "../state/persist";
import { createStore, type Store } from "../state/store";
import { showToast } from "../state/toasts";
import { SyncEngine } from "../sync/engine";
import { KeyScreen } from "./KeyScreen";
import { Dashboard } from "./Dashboard";

interface AppContextValue {
  store: Store;
  engine: SyncEngine;
  me: string;
}

const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside the dashboard");
  return value;
}

function explainAuthError(message: string): string {
  if (/^VALIDATION_ERROR/.test(message)) {
    const detail = message.replace(/^VALIDATION_ERROR:?\s*/, "");
    return `The server did not accept that display name${detail ? `: ${detail}` : "."}`;
  }
  return "The server did not accept that team key. Check it with whoever runs warroom and try again.";
}

export function App(props: { cache: Promise<CachedBoard | null> }) {
  const [cache, setCache] = useState(props.cache);
  const [creds, setCreds] = useState<Credentials | null>(() => {
    const saved = loadCredentials();
    return saved.apiKey && saved.name ? { apiKey: saved.apiKey, name: saved.name } : null;
  });
  const [authError, setAuthError] = useState<string | null>(null);

  if (!creds) {
    const saved = loadCredentials();
    return (
      <KeyScreen
        initialKey={saved.apiKey ?? ""}
        initialName={saved.name ?? ""}
        error={authError}
        onSubmit={(next) => {
          saveCredentials(next);
          setAuthError(null);
          setCreds(next);
        }}
      />
    );
  }
  return (
    <Session
      key={`${creds.apiKey}\u0000${creds.name}`}
      creds={creds}
      cache={cache}
      onAuthError={(message) => {
        if (!/^VALIDATION_ERROR/.test(message)) forgetKey();
        setAuthError(explainAuthError(message));
        setCreds(null);
      }}
      onSignOut={() => {
        forgetKey();
        setAuthError(null);
        setCreds(null);
        setCache(Promise.resolve(null));
        // After the session's last save: a shared screen keeps no copy of the board.
        setTimeout(() => void clearBoard(), 0);
      }}
    />
  );
}

let celebrations = 0;

function celebrate(): void {
  celebrations += 1;
  // A marker for people's tools (and the end-to-end tests) that the celebration happened.
  document.body.dataset.celebrations = String(celebrations);
  const common = { particleCount: 90, spread: 70, startVelocity: 55, ticks: 220, disableForReducedMotion: true };
  void confetti({ ...common, angle: 60, origin: { x: 0, y: 0.75 } });
  void confetti({ ...common, angle: 120, origin: { x: 1, y: 0.75 } });
}

function Session(props: {
  creds: Credentials;
  cache: Promise<CachedBoard | null>;
  onAuthError: (message: string) => void;
  onSignOut: () => void;
}) {
  const { creds, cache } = props;
  const [store] = useState(() => createStore(initialState(creds.name)));
  // The engine outlives renders; it reaches the latest callback through a ref.
  const onAuthError = useRef(props.onAuthError);
  useEffect(() => {
    onAuthError.current = props.onAuthError;
  });
  const [engine] = useState(
    () =>
      new SyncEngine(store, creds, {
        onAuthError: (m) => onAuthError.current(m),
        onCelebration: ({ user, taskId, title }) => {
          celebrate();
          showToast({
            kind: "success",
            title: `${user} finished #${taskId}`,
            message: title ? `“${title}” is done.` : undefined,
          });
        },
      }),
  );
  useEffect(() => {
    // The saved board (and queue) is restored before connecting, so the queued changes are sent
    // first and in order. A stuck IndexedDB holds the connection back for 2 s at most; if it
    // answers later, its queue is still merged in and sent.
    let active = true;
    let started = false;
    const start = () => {
      if (active && !started) {
        started = true;
        engine.start();
      }
    };
    const timer = setTimeout(start, 2000);
    void cache.then((saved) => {
      if (!active) return;
      if (saved) store.dispatch({ type: "hydrate", cache: saved });
      clearTimeout(timer);
      if (started) engine.kick();
      else start();
    });
    return () => {
      active = false;
      clearTimeout(timer);
      engine.stop();
    };
  }, [engine, store, cache]);

  return (
    <AppContext.Provider value={{ store, engine, me: creds.name }}>
      <Dashboard onSignOut={props.onSignOut} />
    </AppContext.Provider>
  );
}
