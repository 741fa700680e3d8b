// The hostile-load suite's harness: its two modes and their parameters, the server under test (the protocol suite's
// server.mjs: real binary, temp database, free port, random key), the server's RSS, the probes that measure what an
// honest client sees during an attack, a raw Engine.IO/Socket.IO socket for what the official client will not do,
// and the `warroom` command line for tokens.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { BIN, startServer } from '../protocol/server.mjs';
import { cli } from '../protocol/tokens.mjs';
import { healthOnce, keyed } from './probes.mjs';

export { BIN };

/** `short` (make test: the same assertions with smaller counts and floods) or `full` (make bench). */
export const MODE = process.env.HOSTILE_MODE === 'full' ? 'full' : 'short';

/** A scenario parameter: env `HOSTILE_<NAME>` if set, else its value for this mode. */
export function param(name, short, full) {
  const v = process.env[`HOSTILE_${name}`];
  if (v !== undefined && v !== '') return Number(v);
  return MODE === 'full' ? full : short;
}

// Bounds shared by the scenarios (issue 15, "What must hold"), each overridable like the counts.
export const BOUND = {
  /** How far RSS may rise during a flood without a key. */
  rssRiseMb: param('RSS_RISE_MB', 64, 64),
  /** After a flood, RSS must come back within this fraction of its baseline ... */
  rssReturnFraction: param('RSS_RETURN_FRACTION', 0.10, 0.10),
  /** ... plus this absolute slack (allocator pages, the probes' own buffers) ... */
  rssSlackMb: param('RSS_SLACK_MB', 8, 8),
  /** ... within this many seconds. */
  rssReturnS: param('RSS_RETURN_S', 15, 60),
  /** p99 of /api/health and of a keyed client's command→ack during an attack; see latencyBound. */
  p99Ms: param('P99_MS', 50, 50),
  /** A flood is cut short when RSS rises this far: enough to fail, before it hurts the machine's other work. */
  abortRiseMb: param('ABORT_RISE_MB', 1024, 2048),
};

/** The p99 latency an honest client may see during an attack: BOUND.p99Ms, or twice the p99 measured just before
 * the attack when the machine itself is slower than that (a debug build on a shared 2-core machine), so the test
 * measures the attack and not the machine. */
export const latencyBound = (idleP99) => Math.max(BOUND.p99Ms, 2 * idleP99);

/** Loopback only: every URL the suite talks to is the server it started. */
export function assertLoopback(url) {
  const host = new URL(url).hostname;
  assert.ok(host === '127.0.0.1' || host === 'localhost' || host === '::1', `the suite talks to loopback only, not ${host}`);
}

/** A fresh server for one scenario; options as startServer's ({ rateLimit, extraArgs, env }). */
export async function server(opts = {}) {
  const srv = await startServer({ rateLimit: 0, ...opts });
  assertLoopback(srv.url);
  return srv;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let counter = 0;
export const uid = (tag = 'x') => `${tag}-${(++counter).toString(36)}${Math.random().toString(36).slice(2, 7)}`;

/** The p-th percentile (0–100) of `xs`, nearest rank; NaN when empty. */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
export const fmt = (x, unit = '') => (Number.isFinite(x) ? `${Math.round(x * 10) / 10}${unit}` : String(x));

/** Records a measured figure: printed as `figure <scenario>: <name> = <value>` (the test runner keeps it in its
 * output) and appended as a JSON line to `HOSTILE_RESULTS` when set, for docs/security.md. */
export function figure(scenario, name, value) {
  console.log(`figure ${scenario}: ${name} = ${typeof value === 'number' ? fmt(value) : value}`);
  if (process.env.HOSTILE_RESULTS) {
    appendFileSync(process.env.HOSTILE_RESULTS, `${JSON.stringify({ mode: MODE, scenario, name, value })}\n`);
  }
}

/** Polls `fn` until it returns a truthy value (returned) or `timeout` ms pass (returns the last value). */
export async function waitUntil(fn, { timeout, every = 100 }) {
  const deadline = Date.now() + timeout;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= deadline) return v;
    await sleep(every);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Memory of the server process.

/** Resident set size of process `pid` in MB (VmRSS of /proc/PID/status). */
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  assert.ok(Number.isFinite(kb), `no VmRSS for process ${pid}`);
  return kb / 1024;
}

/** Samples the server's RSS every 100 ms and keeps the peak; `onAbort` runs once when RSS rises more than
 * BOUND.abortRiseMb above `baseline`, so a flood that would exhaust the machine's memory stops early. */
export class RssWatch {
  constructor(pid, baseline, onAbort = () => {}) {
    this.pid = pid;
    this.baseline = baseline;
    this.peak = baseline;
    this.aborted = false;
    this.timer = setInterval(() => {
      let now;
      try { now = rssMb(pid); } catch { return; } // the process is gone: the scenario reports it
      this.peak = Math.max(this.peak, now);
      if (!this.aborted && now - baseline > BOUND.abortRiseMb) {
        this.aborted = true;
        onAbort();
      }
    }, 100);
  }
  get rise() { return this.peak - this.baseline; }
  stop() { clearInterval(this.timer); }
}

/** RSS after the probes have warmed up: the lowest of a few samples over a second. */
export async function baselineRss(pid) {
  let low = Infinity;
  for (let i = 0; i < 5; i++) {
    low = Math.min(low, rssMb(pid));
    await sleep(200);
  }
  return low;
}

/** Waits up to BOUND.rssReturnS for RSS to come back within the bound of `baseline`; returns
 * { back, after, tookS, limit }. */
export async function rssReturn(pid, baseline) {
  const limit = baseline * (1 + BOUND.rssReturnFraction) + BOUND.rssSlackMb;
  const t0 = Date.now();
  let after = rssMb(pid);
  const back = await waitUntil(() => (after = rssMb(pid)) <= limit, { timeout: BOUND.rssReturnS * 1000, every: 250 });
  return { back: !!back, after, tookS: (Date.now() - t0) / 1000, limit };
}

// ---------------------------------------------------------------------------------------------------------------
// Probes: what an honest client sees while the attack runs.

export { healthOnce, keyed };

/** The probes, in a worker thread of their own (probes.mjs): the scenario's floods cannot delay what they measure. */
export class Probes {
  static async start(srv, every = 50) {
    const p = new Probes();
    p.worker = new Worker(new URL('./probes.mjs', import.meta.url), { workerData: { probe: { url: srv.url, key: srv.key, every } } });
    await p.next('ready');
    return p;
  }
  /** The worker's next message of `type` (a probe that could not connect rejects). */
  next(type) {
    return new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type !== type && m.type !== 'failed') return;
        this.worker.off('message', onMessage);
        if (m.type === 'failed') reject(new Error(`the probes' keyed client did not connect: ${m.message}`));
        else resolve(m);
      };
      this.worker.on('message', onMessage);
    });
  }
  /** Forget what was measured so far (after the idle baseline). */
  reset() { this.worker.postMessage('reset'); }
  async summary() {
    const answer = this.next('summary');
    this.worker.postMessage('summary');
    const { health, acks, handshakes } = (await answer).samples;
    return {
      healthP99: percentile(health, 99), healthN: health.length,
      ackP99: percentile(acks, 99), ackN: acks.length,
      handshakesOk: handshakes.ok, handshakesFailed: handshakes.failed,
    };
  }
  async stop() {
    const stopped = this.next('stopped');
    this.worker.postMessage('stop');
    await stopped;
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Raw Engine.IO v4 / Socket.IO v5 over a WebSocket: handshakes that are dropped half-way, huge auth payloads,
// sockets that stop reading, ack ids the official client cannot produce.

export const WS_PATH = '/socket.io/?EIO=4&transport=websocket';

/** A raw WebSocket to the Socket.IO endpoint. `messages` collects every text frame; `opened` resolves on the Engine.IO
 * open packet; `closed` when the connection ends. Pings are answered unless `paused`. */
export class RawSocket {
  constructor(url, { maxPayload = 256 * 1024 * 1024 } = {}) {
    this.messages = [];
    this.waiters = [];
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + WS_PATH, { perMessageDeflate: false, maxPayload, handshakeTimeout: 5000 });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', () => resolve(true));
      this.ws.on('error', () => resolve(true));
    });
    this.ws.on('message', (buf) => {
      const text = buf.toString();
      if (text === '2') { this.send('3'); return; } // Engine.IO ping → pong
      this.messages.push(text);
      for (const w of [...this.waiters]) if (w.test(text)) w.resolve(text);
    });
    this.opened = this.next((m) => m.startsWith('0{'), 5000);
  }
  /** The next (or an already received) text frame satisfying `test`; null on timeout or close. */
  next(test, timeout = 5000) {
    const hit = this.messages.find(test);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => {
      const w = { test, resolve: (m) => { clearTimeout(timer); this.waiters.splice(this.waiters.indexOf(w), 1); resolve(m); } };
      const timer = setTimeout(() => { this.waiters.splice(this.waiters.indexOf(w), 1); resolve(null); }, timeout);
      this.waiters.push(w);
      this.closed.then(() => { if (this.waiters.includes(w)) w.resolve(null); });
    });
  }
  send(text) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }
  /** Socket.IO CONNECT to the default namespace with `auth`; resolves with the reply (`40{…}` or `44{…}`) or null. */
  async connect(auth, timeout = 5000) {
    if (!(await this.opened)) return null;
    this.send(`40${JSON.stringify(auth)}`);
    return this.next((m) => m.startsWith('40') || m.startsWith('44'), timeout);
  }
  /** Stop reading from the TCP connection: the server's writes pile up in its queue for this socket. */
  pause() { this.ws._socket?.pause(); }
  close() { this.ws.terminate(); }
}

// ---------------------------------------------------------------------------------------------------------------
// The command line: per-person tokens on the running server's database.

export { cli };

/** REST with a key (team key by default); resolves { status, body }. */
export async function api(srv, method, path, body, key = srv.key) {
  const headers = { 'x-api-key': key };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(srv.url + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15000),
  });
  const text = await res.text();
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, body: parsed };
}

/** `warroom token create` on the server's database, waiting until the server accepts it. Returns { id, token, name }. */
export async function createToken(srv, name, role) {
  const r = await cli(['token', 'create', '--name', name, '--role', role, '--db', srv.db]);
  assert.equal(r.code, 0, `token create failed: ${r.stderr}`);
  const token = r.stdout.split('\n')[1]?.trim();
  assert.match(token ?? '', /^wr_[0-9a-f]+_[0-9a-f]+$/, `the token is printed on the second line: ${r.stdout}`);
  const accepted = await waitUntil(async () => (await api(srv, 'GET', '/api/tasks?q=nothing-matches-this', undefined, token)).status === 200,
    { timeout: 5000, every: 50 });
  assert.ok(accepted, 'the running server did not pick up the new token within 5 s');
  return { id: token.split('_')[1], token, name };
}

/** The server's count of authenticated sockets (GET /api/health `connections`). */
export async function connections(srv) {
  const r = await fetch(`${srv.url}/api/health`, { signal: AbortSignal.timeout(5000) });
  return (await r.json()).connections;
}
