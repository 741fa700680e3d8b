// What the deploy checks share (proxy-check.mjs, compose-check.mjs): the official client as the
// protocol suite installs it (npm --prefix tests/protocol ci, found through PROTOCOL_DIR), and REST
// calls with the team key (KEY).
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PROTOCOL_DIR, 'package.json'));
export const { io } = require('socket.io-client');

/** How long any one answer or event is waited for, in ms. */
export const WAIT = 5000;

export function assert(cond, msg) { if (!cond) throw new Error(msg); }
export const uid = (tag) => `${tag}-${Math.random().toString(36).slice(2, 8)}`;

/** One REST call with the key: `{ status, type, json (null unless JSON), text }`. */
export async function rest(method, url, body, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'X-API-Key': process.env.KEY, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: kept as text */ }
  return { status: res.status, type: res.headers.get('content-type') || '', json, text };
}
