//! The screen an invite link (`/?invite=CODE`) opens: only a name is asked, and the code is
//! exchanged for a personal token with the invite's role and boards.

import { useState, type FormEvent } from "react";
import { api } from "../net/rest";
import type { AcceptedInvite } from "../protocol";
import { Logo } from "./Icons";

/** What to tell the person when the exchange fails, by the server's answer. */
function explainRefusal(status: number, message: string): string {
  if (status === 401)
    return "This invite link has already been used, has expired, or is not valid. Ask whoever sent it for a new one.";
  if (status === 0) return "Cannot reach the server. Check your connection and try again.";
  return message;
}

export function InviteScreen(props: {
  code: string;
  onAccepted: (invite: AcceptedInvite) => void;
  onDecline: () => void;
}) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [joining, setJoining] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const person = name.trim();
    if (!person) return setError("Enter the name your team will see.");
    if ([...person].length > 64) return setError("Keep the display name to 64 characters or fewer.");
    setJoining(true);
    setError(null);
    const result = await api.acceptInvite(props.code, person);
    setJoining(false);
    if (!result.ok) return setError(explainRefusal(result.status, result.error.message));
    props.onAccepted(result.data);
  }

  return (
    <main className="entry">
      <form className="entry-card" onSubmit={submit} aria-labelledby="invite-title" noValidate>
        <div className="entry-brand">
          <Logo size={44} />
          <div>
            <h1 id="invite-title">Join warroom</h1>
            <p className="muted">You were invited to your team’s live task board.</p>
          </div>
        </div>
        <label className="field">
          <span>Your name</span>
          <input
            name="name"
            autoComplete="nickname"
            maxLength={64}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="How your team will see you, e.g. Adam"
            autoFocus
            aria-invalid={Boolean(error)}
          />
        </label>
        {error && (
          <p className="entry-error" role="alert">
            {error}
          </p>
        )}
        <button className="primary large" type="submit" disabled={joining}>
          {joining ? "Joining…" : "Join the board"}
        </button>
        <p className="muted small-print">
          The invite works once; this device remembers you afterwards.{" "}
          <button type="button" className="link-button" onClick={props.onDecline}>
            I have a team key instead
          </button>
        </p>
      </form>
    </main>
  );
}
