//! "Invite someone" (admins): a role and boards make a single-use link, shown once with a copy
//! button, its role, its boards and when it expires.

import { useState, type FormEvent } from "react";
import { api } from "../net/rest";
import { ROLES, type Invite, type Role } from "../protocol";
import { selectBoardList } from "../state/reducer";
import { useStore } from "../state/store";
import { CopyField } from "./CopyField";
import { FormFooter } from "./FormFooter";
import { Modal } from "./Modal";
import { useApp } from "./appContext";

const ROLE_LABELS: Record<Role, string> = {
  viewer: "Viewer: sees the boards, changes nothing",
  editor: "Editor: works on the cards",
  admin: "Admin: also boards, invites and webhooks",
};

function expiryText(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function InviteLink({ invite, boardNames }: { invite: Invite; boardNames: (ids: string[]) => string }) {
  return (
    <div className="invite-result" data-testid="invite-result">
      <CopyField label="Invite link (works once)" value={invite.url} testId="invite-url" what="link" />
      <dl className="invite-facts">
        <dt>Role</dt>
        <dd data-testid="invite-role">{invite.role}</dd>
        <dt>Boards</dt>
        <dd data-testid="invite-boards">{boardNames(invite.boards)}</dd>
        <dt>Expires</dt>
        <dd>{expiryText(invite.expiresAt)}</dd>
      </dl>
    </div>
  );
}

export function InviteDialog({ onClose }: { onClose: () => void }) {
  const { store, creds } = useApp();
  const boards = useStore(store, selectBoardList);
  const current = useStore(store, (s) => s.board);
  const [role, setRole] = useState<Role>("editor");
  const [chosen, setChosen] = useState<ReadonlySet<string>>(() => new Set([current]));
  const [invite, setInvite] = useState<Invite | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const boardNames = (ids: string[]) =>
    ids.length === 0 ? "Every board" : ids.map((id) => boards.find((b) => b.id === id)?.name ?? id).join(", ");

  function toggle(id: string, on: boolean) {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (chosen.size === 0) return setError("Pick at least one board.");
    setSaving(true);
    const result = await api.createInvite(creds, role, [...chosen]);
    setSaving(false);
    if (!result.ok) return setError(result.status === 403 ? "Only an admin can invite people." : result.error.message);
    setError(null);
    setInvite(result.data);
  }

  return (
    <Modal title="Invite someone" onClose={onClose}>
      {invite ? (
        <>
          <InviteLink invite={invite} boardNames={boardNames} />
          <div className="dialog-actions">
            <button type="button" className="ghost" onClick={() => setInvite(null)}>
              Make another
            </button>
            <button type="button" className="ghost" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form className="edit-form" onSubmit={submit} noValidate>
          <label className="field">
            <span>Role</span>
            <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
          </label>
          <fieldset className="field board-choices">
            <legend>Boards</legend>
            {boards.map((b) => (
              <label key={b.id} className="check">
                <input type="checkbox" checked={chosen.has(b.id)} onChange={(e) => toggle(b.id, e.target.checked)} />
                <span>
                  {b.name}
                  {b.archived ? " (archived)" : ""}
                </span>
              </label>
            ))}
          </fieldset>
          <FormFooter
            error={error}
            saving={saving}
            submit="Make invite link"
            busy="Making the link…"
            onCancel={onClose}
          />
        </form>
      )}
    </Modal>
  );
}
