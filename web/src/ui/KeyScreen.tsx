//! The entry screen: the team key and a display name, checked with the server before going on.

import { useState, type FormEvent } from "react";
import type { Credentials } from "../credentials";
import { rest } from "../net/rest";
import { roleOfKey } from "../credentials";
import { Logo } from "./Icons";

export function KeyScreen(props: {
  initialKey: string;
  initialName: string;
  error: string | null;
  onSubmit: (creds: Credentials) => void;
}) {
  const [apiKey, setApiKey] = useState(props.initialKey);
  const [name, setName] = useState(props.initialName);
  const [showKey, setShowKey] = useState(false);
  const [error, setError] = useState(props.error);
  const [checking, setChecking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const key = apiKey.trim();
    const person = name.trim();
    if (!key) return setError("Enter the team key.");
    if (!person) return setError("Enter the name your team will see.");
    if ([...person].length > 64) return setError("Keep the display name to 64 characters or fewer.");
    setChecking(true);
    setError(null);
    // The board list answers any valid credential, even a token limited to boards other than main.
    const result = await rest({ apiKey: key }, "GET", "/boards", { timeoutMs: 4000 });
    setChecking(false);
    if (!result.ok && result.status === 401) {
      setError("That key was not accepted. Check it with whoever runs warroom and try again.");
      return;
    }
    // Any other answer, even "server unreachable", lets the person in: the board works offline.
    props.onSubmit({ apiKey: key, name: person, role: roleOfKey(key) });
  }

  return (
    <main className="entry">
      <form className="entry-card" onSubmit={submit} aria-labelledby="entry-title" noValidate>
        <div className="entry-brand">
          <Logo size={44} />
          <div>
            <h1 id="entry-title">warroom</h1>
            <p className="muted">The live task board for your team and its agents.</p>
          </div>
        </div>
        <label className="field">
          <span>Team key</span>
          <div className="input-with-button">
            <input
              name="apiKey"
              type={showKey ? "text" : "password"}
              autoComplete="current-password"
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
              placeholder="Paste the key from the server's start-up message"
              autoFocus={!props.initialKey}
              aria-invalid={Boolean(error && /key/i.test(error))}
            />
            <button type="button" className="ghost small" onClick={() => setShowKey((v) => !v)}>
              {showKey ? "Hide" : "Show"}
            </button>
          </div>
        </label>
        <label className="field">
          <span>Your name</span>
          <input
            name="name"
            autoComplete="nickname"
            maxLength={64}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="How your team will see you, e.g. Adam"
            autoFocus={Boolean(props.initialKey)}
          />
        </label>
        {error && (
          <p className="entry-error" role="alert">
            {error}
          </p>
        )}
        <button className="primary large" type="submit" disabled={checking}>
          {checking ? "Checking…" : "Enter the war room"}
        </button>
        <p className="muted small-print">Both are remembered on this device. The key is never shown to others.</p>
      </form>
    </main>
  );
}
