//! "Webhooks…" (admins): the board's webhooks with their last deliveries (refreshed every 2 s
//! while open), a form to add one (its secret shown once), pause/resume, a test ping, delete.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type RestResult } from "../net/rest";
import type { Webhook, WebhookDelivery, WebhookFormat } from "../protocol";
import { useStore } from "../state/store";
import { useApp } from "./appContext";
import { CopyField } from "./CopyField";
import { FormFooter } from "./FormFooter";
import { deliveryRow, eventsText, parseEvents } from "./integrations";
import { Modal } from "./Modal";

const REFRESH_MS = 2000;
/** Of the 100 the server keeps: enough to see a pattern without a wall of rows. */
const ROWS_SHOWN = 20;

function refusal(result: Extract<RestResult<unknown>, { ok: false }>): string {
  return result.status === 403 ? "Only an admin can manage webhooks." : result.error.message;
}

function AddWebhook(props: { board: string; onAdded: (hook: Webhook) => void; onCancel: () => void }) {
  const { board, onAdded } = props;
  const { creds } = useApp();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState("");
  const [format, setFormat] = useState<WebhookFormat>("json");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!url.trim()) return setError("A webhook needs the URL to call.");
    setSaving(true);
    const body = { url: url.trim(), events: parseEvents(events), format, ...(secret ? { secret } : {}) };
    const result = await api.createWebhook(creds, board, body);
    setSaving(false);
    if (!result.ok) return setError(refusal(result));
    setError(null);
    setUrl("");
    setEvents("");
    setSecret("");
    onAdded(result.data);
  }

  return (
    <form className="edit-form webhook-form" onSubmit={submit} noValidate aria-label="Add a webhook">
      <label className="field">
        <span>URL</span>
        <input
          name="webhookUrl"
          type="url"
          placeholder="https://example.com/hooks/warroom"
          value={url}
          maxLength={2048}
          onChange={(e) => setUrl(e.target.value)}
        />
      </label>
      <div className="field-row">
        <label className="field">
          <span>Events (comma separated; empty: all)</span>
          <input
            name="webhookEvents"
            placeholder="task.created, task.*"
            value={events}
            onChange={(e) => setEvents(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Format</span>
          <select name="webhookFormat" value={format} onChange={(e) => setFormat(e.target.value as WebhookFormat)}>
            <option value="json">JSON (signed)</option>
            <option value="slack">Slack text</option>
          </select>
        </label>
      </div>
      <label className="field">
        <span>Secret (optional, 16+ characters; one is made if empty)</span>
        <input
          name="webhookSecret"
          type="password"
          autoComplete="new-password"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
        />
      </label>
      <FormFooter error={error} saving={saving} submit="Add webhook" busy="Adding…" onCancel={props.onCancel} />
    </form>
  );
}

function Deliveries({ list, now }: { list: WebhookDelivery[] | undefined; now: number }) {
  if (!list) return <p className="muted small-print">Loading deliveries…</p>;
  if (list.length === 0) return <p className="muted small-print">No deliveries yet.</p>;
  return (
    <div className="deliveries-scroll">
      <table className="deliveries" data-testid="deliveries">
        <thead>
          <tr>
            <th>Event</th>
            <th>Seq</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Last code</th>
            <th>Next attempt</th>
          </tr>
        </thead>
        <tbody>
          {list.slice(0, ROWS_SHOWN).map((d) => {
            const row = deliveryRow(d, now);
            return (
              <tr key={row.id} data-testid="delivery" data-event={row.event} data-status={row.status}>
                <td className="mono">{row.event}</td>
                <td className="mono">{row.seq}</td>
                <td>
                  <span className={`delivery-status is-${row.status}`}>{row.status}</span>
                </td>
                <td>{row.attempts}</td>
                <td title={row.detail || undefined}>{row.code}</td>
                <td>{row.next}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function WebhookItem(props: {
  hook: Webhook;
  deliveries: WebhookDelivery[] | undefined;
  now: number;
  onChanged: () => void;
  onError: (message: string) => void;
}) {
  const { creds } = useApp();
  const { hook } = props;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  async function run(call: () => Promise<RestResult<unknown>>) {
    setBusy(true);
    const result = await call();
    setBusy(false);
    if (!result.ok) return props.onError(refusal(result));
    props.onChanged();
  }

  return (
    <li className="webhook" data-testid="webhook" data-active={hook.active}>
      <div className="webhook-head">
        <span className="webhook-url mono">{hook.url}</span>
        <span className={`webhook-state ${hook.active ? "is-active" : "is-paused"}`}>
          {hook.active ? "Active" : "Paused"}
        </span>
      </div>
      <p className="muted small-print">
        {eventsText(hook.events)} · {hook.format === "slack" ? "Slack text" : "JSON"}
      </p>
      <div className="webhook-actions">
        <button
          type="button"
          className="ghost small"
          disabled={busy}
          onClick={() => void run(() => api.updateWebhook(creds, hook.id, { active: !hook.active }))}
        >
          {hook.active ? "Pause" : "Resume"}
        </button>
        <button
          type="button"
          className="ghost small"
          disabled={busy}
          onClick={() => void run(() => api.pingWebhook(creds, hook.id))}
        >
          Send test ping
        </button>
        <span className="spacer" />
        {confirming ? (
          <>
            <span className="small-print">Delete it and its log?</span>
            <button type="button" className="ghost small" onClick={() => setConfirming(false)}>
              Keep it
            </button>
            <button
              type="button"
              className="danger small"
              disabled={busy}
              onClick={() => void run(() => api.deleteWebhook(creds, hook.id))}
            >
              Delete webhook
            </button>
          </>
        ) : (
          <button type="button" className="ghost small danger-text" onClick={() => setConfirming(true)}>
            Delete…
          </button>
        )}
      </div>
      <Deliveries list={props.deliveries} now={props.now} />
    </li>
  );
}

export function WebhooksDialog({ onClose }: { onClose: () => void }) {
  const { store, creds } = useApp();
  const board = useStore(store, (s) => s.board);
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [deliveries, setDeliveries] = useState<Record<number, WebhookDelivery[]>>({});
  const [created, setCreated] = useState<Webhook | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const refresh = useCallback(async () => {
    const listed = await api.webhooks(creds, board);
    if (!listed.ok) return setError(refusal(listed));
    const logs = await Promise.all(listed.data.map((h) => api.deliveries(creds, h.id)));
    const byHook: Record<number, WebhookDelivery[]> = {};
    listed.data.forEach((h, i) => {
      const log = logs[i];
      if (log.ok) byHook[h.id] = log.data;
    });
    setHooks(listed.data);
    setDeliveries(byHook);
    setNow(Date.now());
  }, [creds, board]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One refresh at a time: the next starts 2 s after the last one ended.
    const tick = async () => {
      await refresh();
      if (!stopped) timer = setTimeout(() => void tick(), REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [refresh]);

  const changed = () => {
    setError(null);
    void refresh();
  };

  return (
    <Modal title="Webhooks" onClose={onClose} className="is-wide">
      <p className="muted small-print">
        Each matching activity entry of this board is POSTed to the URL, signed with the secret
        (X-Warroom-Signature-256), in order, retried for 24 hours.
      </p>
      {error && (
        <p className="entry-error" role="alert">
          {error}
        </p>
      )}
      {hooks === null ? (
        <p className="muted">Loading…</p>
      ) : hooks.length === 0 ? (
        <p className="muted" data-testid="no-webhooks">
          No webhooks on this board yet.
        </p>
      ) : (
        <ul className="webhooks">
          {hooks.map((hook) => (
            <WebhookItem
              key={hook.id}
              hook={hook}
              deliveries={deliveries[hook.id]}
              now={now}
              onChanged={changed}
              onError={setError}
            />
          ))}
        </ul>
      )}
      {created?.secret && (
        <section className="webhook-secret" data-testid="webhook-secret">
          <CopyField
            label={`Secret of ${created.url} (shown only now)`}
            value={created.secret}
            testId="webhook-secret-value"
            what="secret"
          />
          <div className="dialog-actions">
            <button type="button" className="ghost small" onClick={() => setCreated(null)}>
              I have copied it
            </button>
          </div>
        </section>
      )}
      <h3 className="section-title">Add a webhook</h3>
      <AddWebhook
        board={board}
        onCancel={onClose}
        onAdded={(hook) => {
          setCreated(hook);
          changed();
        }}
      />
    </Modal>
  );
}
