// Helpers for warroom's protocol tests: one real server per test file (server.mjs), clients that record every
// event with its second argument ({ seq } on persisted events), waits with deadlines, REST calls and SPEC asserts.
// Modelled on the public conformance kit (../../../shared/conformance/helpers.mjs).
import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import { io } from 'socket.io-client';
import { startServer, TEST_PRESENCE_GRACE_MS } from './server.mjs';

export const SPEC_CODES = ['UNAUTHORIZED', 'FORBIDDEN', 'VALIDATION_ERROR', 'NOT_FOUND', 'TASK_NOT_FOUND', 'AGENT_NOT_FOUND', 'BOARD_NOT_FOUND',
  'TASK_LOCKED', 'CONFLICT', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'INTERNAL'];
export const STATUSES = ['TODO', 'IN_PROGRESS', 'BLOCKED', 'REVIEW', 'DONE'];
export const TASK_FIELDS = ['id', 'title', 'description', 'status', 'assignee', 'position', 'createdBy', 'createdAt', 'updatedAt', 'version'];
export const AGENT_STATUSES = ['idle', 'busy', 'error', 'offline'];
/** RFC3339 in UTC ("Z" or "+00:00"), as SPEC "Details" requires of every timestamp. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|\+00:00)$/;
/** Default deadline of every wait, in ms. */
export const WAIT = Number(process.env.WARROOM_WAIT_MS || 3000);
/** How long another client may take to see a change and still count as "promptly" (SPEC promises far under 100 ms;
 * the margin is for a loaded CI machine). */
export const PROMPT = Number(process.env.WARROOM_PROMPT_MS || 1500);
/** Events that describe the connection, not the board. */
const LIFECYCLE = ['connect', 'disconnect', 'connect_error'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let counter = 0;
/** A unique, valid name / title / agent id (letters, digits, '-', '.'; at most 40 characters). */
export const uid = (tag = 'x') => `${tag}-${(++counter).toString(36)}${Math.random().toString(36).slice(2, 7)}`;

// ---------------------------------------------------------------------------------------------------------------
// One server per test file.

/** The running server of this test file: { url, key, server, ready }. Filled in by useServer()'s `before`;
 * `ready` resolves once it is up (Node 20 runs a file's top-level `before` hooks concurrently, so another `before`
 * that needs the server must await it). */
export const board = { url: null, key: null, server: null, ready: null };

/** Start a fresh server (temp database, free port, random key) before this file's tests, stop it after; close every
 * client a test opened when the test ends, so a failing test leaves nothing behind for the next one.
 * Options go to startServer ({ rateLimit, ... }). */
export function useServer(opts = {}) {
  let up;
  board.ready = new Promise((resolve, reject) => { up = { resolve, reject }; });
  board.ready.catch(() => {}); // reported by the hook below
  before(async () => {
    try {
      board.server = await startServer(opts);
    } catch (e) {
      up.reject(e);
      throw e;
    }
    board.url = board.server.url;
    board.key = board.server.key;
    up.resolve(board);
  });
  afterEach(() => closeAll());
  after(async () => {
    closeAll();
    if (board.server) await board.server.close();
  });
  return board;
}

// ---------------------------------------------------------------------------------------------------------------
// Socket.IO clients.

const open = new Set();
export function closeAll() { for (const c of [...open]) c.close(); }

/** A socket.io-client wrapper that records every incoming event (payload and the second argument, `{ seq }` on
 * persisted events) and can wait for one with a deadline. `url` picks another server than this file's (cluster tests). */
export class Client {
  constructor({ url, name, apiKey, auth, transports = ['websocket'], reconnection = false, extraAuth = {}, ...opts } = {}) {
    this.log = [];
    this.waiters = [];
    this.syncs = [];
    this.socket = io(url ?? board.url, {
      auth: auth ?? { apiKey: apiKey ?? board.key, ...(name !== undefined ? { name } : {}), ...extraAuth },
      transports, reconnection, reconnectionDelay: 100, reconnectionDelayMax: 500,
      timeout: WAIT, forceNew: true, ...opts,
    });
    this.socket.onAny((event, ...args) => this.#record(event, args[0], args[1], args.length));
    this.socket.on('connect_error', (err) => this.#record('connect_error', err));
    this.socket.on('disconnect', (reason) => this.#record('disconnect', reason));
    this.socket.on('connect', () => this.#record('connect', null));
    open.add(this);
  }
  #record(event, data, meta, argc) {
    const entry = { event, data, meta, argc, t: performance.now() };
    this.log.push(entry);
    if (event === 'sync:full') this.syncs.push(data);
    for (const w of [...this.waiters]) if (w.test(entry, this.log.length - 1)) w.resolve(entry);
  }
  /** Entries of incoming (non-lifecycle) events from index `since`, optionally only those named `name`. */
  entries(name, since = 0) {
    return this.log.slice(since).filter((e) => (name ? e.event === name : !LIFECYCLE.includes(e.event)));
  }
  /** Names of the incoming events from index `since`. */
  names(since = 0) { return this.entries(undefined, since).map((e) => e.event); }
  /** A position in the log: pass it as `since` to look only at what arrives afterwards. */
  mark() { return this.log.length; }
  /** Wait for an event `name` whose payload satisfies `pred`, looking at events from index `since` onwards. */
  async waitFor(name, pred = () => true, opts = {}) {
    return (await this.waitEntry(name, pred, opts)).data;
  }
  /** Like waitFor, but resolves with the whole log entry { event, data, meta, t } (meta: the second argument). */
  waitEntry(name, pred = () => true, { since = 0, timeout = WAIT, match = (e) => e.event === name } = {}) {
    const test = (e, i) => i >= since && match(e) && safe(pred, e.data);
    const i = this.log.findIndex((e, j) => test(e, j));
    if (i >= 0) return Promise.resolve(this.log[i]);
    return new Promise((resolve, reject) => {
      const w = {
        test,
        resolve: (e) => { clearTimeout(timer); this.waiters.splice(this.waiters.indexOf(w), 1); resolve(e); },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        const got = this.log.slice(since).map((e) => e.event).slice(-15).join(', ') || 'nothing';
        reject(new Error(`timed out after ${timeout} ms waiting for "${name}" (got: ${got})`));
      }, timeout);
      this.waiters.push(w);
    });
  }
  /** Assert that no `name` event matching `pred` arrives within `ms` (a sleep is the only way to see an absence). */
  async none(name, pred = () => true, { since = this.mark(), ms = 400 } = {}) {
    await sleep(ms);
    const hit = this.log.slice(since).find((e) => e.event === name && safe(pred, e.data));
    assert.equal(hit, undefined, `unexpected "${name}" event: ${JSON.stringify(hit?.data)?.slice(0, 300)}`);
  }
  /** Resolves once connected and the first sync:full arrived. */
  async ready() {
    await this.synced();
    return this;
  }
  /** Resolves with the first sync:full or sync:resumed entry from `since` (a resuming connection gets the latter). */
  async synced({ since = 0, timeout = WAIT + 2000 } = {}) {
    const e = await this.waitEntry('*sync', () => true, { since, timeout, match: (x) => x.event === 'sync:full' || x.event === 'sync:resumed' || x.event === 'connect_error' });
    if (e.event === 'connect_error') throw new Error(`connect_error: ${e.data?.message}`);
    return e;
  }
  /** Emit a command and wait for its acknowledgement (deadline). `args` may be empty: an event with no payload. */
  ack(event, ...args) {
    return this.socket.timeout(WAIT).emitWithAck(event, ...args);
  }
  /** Send a command whose arguments are given as raw JSON text (`["event", ...args]`), for payloads the client's own
   * encoder cannot handle (10,000 levels of nesting overflow its recursive binary check), and wait for the ack.
   * Uses socket.io-client 4.8's ack table (`socket.ids`, `socket.acks`): the version is pinned in package.json. */
  rawAck(json, timeout = WAIT) {
    const id = this.socket.ids++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { delete this.socket.acks[id]; reject(new Error('operation has timed out')); }, timeout);
      this.socket.acks[id] = (...args) => { clearTimeout(timer); resolve(args[0]); };
      this.socket.io.engine.write(`2${id}${json}`); // socket.io EVENT (2) with ack id, default namespace; engine.io adds its "4"
    });
  }
  get connected() { return this.socket.connected; }
  close() { this.socket.close(); open.delete(this); }
}
function safe(pred, data) { try { return !!pred(data); } catch { return false; } }

/** A connected client (sync:full received). */
export async function connect(opts = {}) {
  return new Client(opts).ready();
}
/** A connected client that has sent user:join with `name` and got its ack. */
export async function joined(name, opts = {}) {
  const c = await connect(opts);
  const a = await c.ack('user:join', { name });
  assert.equal(a?.ok, true, `user:join failed: ${JSON.stringify(a)}`);
  return c;
}
/** A client whose handshake must be refused: resolves with the connect_error after a short quiet period, asserting
 * that nothing else arrived. */
export async function refused(auth) {
  const c = new Client({ auth });
  const err = await c.waitFor('connect_error');
  await sleep(300);
  assert.equal(c.socket.connected, false, 'the refused socket must not be connected');
  assert.deepEqual(c.entries().map((e) => e.event), [], 'a refused socket must receive no event at all');
  c.close();
  return err;
}

// ---------------------------------------------------------------------------------------------------------------
// REST.

/** REST call. Returns { status, body (parsed JSON or undefined), text, headers }.
 * `raw`: send `body` as it is (a string or Buffer); `auth`: 'x-api-key' | 'bearer'; `key: null` sends no key;
 * `url`: another server than this file's. */
export async function api(method, path, body, { url, key, headers = {}, raw = false, auth = 'x-api-key' } = {}) {
  const h = { ...headers };
  const k = key === undefined ? board.key : key;
  if (k != null) { if (auth === 'bearer') h.authorization = `Bearer ${k}`; else h['x-api-key'] = k; }
  let payload;
  if (body !== undefined) {
    payload = raw ? body : JSON.stringify(body);
    if (!raw && !Object.keys(h).some((x) => x.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  const res = await fetch((url ?? board.url) + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(WAIT + 7000) });
  const text = await res.text();
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
/** GET /api/tasks: SPEC says a bare JSON array of tasks. */
export async function listTasks(query = '') {
  const r = await api('GET', `/api/tasks${query}`);
  assert.equal(r.status, 200, `GET /api/tasks${query} -> ${r.status} ${r.text.slice(0, 200)}`);
  assert.ok(Array.isArray(r.body), `GET /api/tasks must return a bare JSON array, got ${r.text.slice(0, 200)}`);
  return r.body;
}
/** The whole board, sorted by id, for before/after comparisons. */
export async function snapshot() {
  return (await listTasks()).sort((a, b) => a.id - b.id);
}
/** A JSON list from a REST route whose envelope SPEC leaves open: a bare array or { <key>: [...] }. */
export const listOf = (body, ...keys) => (Array.isArray(body) ? body : keys.map((k) => body?.[k]).find(Array.isArray));
/** GET /api/tasks/:id, or null on 404. */
export async function getTask(id) {
  const r = await api('GET', `/api/tasks/${id}`);
  if (r.status === 404) return null;
  assert.equal(r.status, 200, `GET /api/tasks/${id} -> ${r.status} ${r.text.slice(0, 200)}`);
  return r.body;
}
export async function restCreate(fields) {
  const r = await api('POST', '/api/tasks', fields);
  assert.equal(r.status, 201, `POST /api/tasks -> ${r.status} ${r.text.slice(0, 300)}`);
  return r.body;
}
/** Create through a socket and return the acknowledged task. */
export async function sockCreate(client, fields) {
  const a = await client.ack('task:create', fields);
  assert.equal(a?.ok, true, `task:create failed: ${JSON.stringify(a)}`);
  assert.ok(a.task && typeof a.task.id === 'number', `task:create ack must carry { task }: ${JSON.stringify(a)}`);
  return a.task;
}
/** The activity feed, newest first. */
export async function activity(query = '') {
  const r = await api('GET', `/api/activity${query}`);
  assert.equal(r.status, 200, `GET /api/activity${query} -> ${r.status} ${r.text.slice(0, 200)}`);
  const list = listOf(r.body, 'activity', 'entries', 'items');
  assert.ok(Array.isArray(list), `GET /api/activity must return a list: ${r.text.slice(0, 200)}`);
  return list;
}
export async function health() {
  const r = await api('GET', '/api/health', undefined, { key: null });
  assert.equal(r.status, 200, `GET /api/health -> ${r.status}`);
  return r.body;
}
/** Wait until the server counts exactly `n` open sockets (after closing clients), then a moment more for what their
 * disconnects cause (users leaving once the presence grace is over, agents going offline), so a test that counts
 * events starts from quiet. */
export async function settle(n = 0, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let h;
  do {
    h = await health();
    if (h.connections === n) return sleep(TEST_PRESENCE_GRACE_MS + 200);
    await sleep(25);
  } while (Date.now() < deadline);
  assert.fail(`the server still counts ${h?.connections} connections, expected ${n}`);
}

// ---------------------------------------------------------------------------------------------------------------
// SPEC asserts.

export function assertTask(t, where = 'task') {
  assert.ok(t && typeof t === 'object' && !Array.isArray(t), `${where}: not an object: ${JSON.stringify(t)}`);
  for (const f of TASK_FIELDS) assert.ok(f in t, `${where} lacks "${f}": ${JSON.stringify(t)}`);
  assert.ok(Number.isInteger(t.id) && t.id > 0, `${where}.id must be a positive integer`);
  assert.equal(typeof t.title, 'string', `${where}.title`);
  assert.equal(typeof t.description, 'string', `${where}.description`);
  assert.ok(STATUSES.includes(t.status), `${where}.status ${t.status}`);
  assert.ok(t.assignee === null || typeof t.assignee === 'string', `${where}.assignee must be string|null`);
  assert.equal(typeof t.position, 'number', `${where}.position`);
  assert.equal(typeof t.createdBy, 'string', `${where}.createdBy`);
  assert.match(String(t.createdAt), RFC3339_UTC, `${where}.createdAt must be RFC3339 UTC`);
  assert.match(String(t.updatedAt), RFC3339_UTC, `${where}.updatedAt must be RFC3339 UTC`);
  assert.ok(Number.isInteger(t.version) && t.version >= 1, `${where}.version`);
}
export function assertAgent(a, where = 'agent') {
  assert.ok(a && typeof a === 'object', `${where}: not an object`);
  assert.equal(typeof a.id, 'string', `${where}.id`);
  assert.equal(typeof a.name, 'string', `${where}.name`);
  assert.ok(AGENT_STATUSES.includes(a.status), `${where}.status ${a.status}`);
  assert.ok(a.currentTaskId === null || Number.isInteger(a.currentTaskId), `${where}.currentTaskId must be number|null`);
  assert.match(String(a.lastSeen), RFC3339_UTC, `${where}.lastSeen must be RFC3339 UTC`);
}
/** An acknowledgement that refuses the command with one of `codes`. */
export function assertRefused(ack, codes, what = '') {
  codes = [].concat(codes);
  assert.ok(ack && ack.ok === false, `${what}: expected { ok: false }, got ${JSON.stringify(ack)?.slice(0, 300)}`);
  assert.ok(ack.error && typeof ack.error === 'object', `${what}: ack.error missing`);
  assert.ok(SPEC_CODES.includes(ack.error.code), `${what}: code ${ack.error.code} is not a SPEC error code`);
  assert.ok(codes.includes(ack.error.code), `${what}: expected ${codes.join('|')}, got ${ack.error.code} (${ack.error.message})`);
  assert.equal(typeof ack.error.message, 'string', `${what}: error.message must be a string`);
  assert.ok(ack.error.message.length > 0, `${what}: error.message must not be empty`);
}
export function assertOk(ack, what = '') {
  assert.ok(ack && ack.ok === true, `${what}: expected { ok: true }, got ${JSON.stringify(ack)?.slice(0, 300)}`);
  return ack;
}
/** An HTTP error reply: status in `statuses`, JSON { error: { code, message } } with one of `codes`. */
export function assertHttpError(r, statuses, codes, what = '') {
  statuses = [].concat(statuses);
  assert.ok(statuses.includes(r.status), `${what}: expected HTTP ${statuses.join('|')}, got ${r.status} ${r.text.slice(0, 200)}`);
  assert.ok(r.body && r.body.error && typeof r.body.error === 'object',
    `${what}: body must be JSON { error: { code, message } }, got ${r.text.slice(0, 200)}`);
  assert.ok(SPEC_CODES.includes(r.body.error.code), `${what}: ${r.body.error.code} is not a SPEC error code`);
  if (codes) {
    codes = [].concat(codes);
    assert.ok(codes.includes(r.body.error.code), `${what}: expected ${codes.join('|')}, got ${r.body.error.code} (${r.body.error.message})`);
  }
  assert.equal(typeof r.body.error.message, 'string', `${what}: error.message must be a string`);
  assert.ok(r.body.error.message.length > 0, `${what}: error.message must not be empty`);
}
/** The `seq` of a recorded entry (the second argument `{ seq }`), asserting it is there. */
export function seqOf(entry, what = entry?.event) {
  assert.equal(entry.argc >= 2, true, `${what}: a persisted event must carry { seq } as its second argument`);
  assert.ok(entry.meta && Number.isInteger(entry.meta.seq) && entry.meta.seq > 0,
    `${what}: second argument must be { seq: <positive integer> }, got ${JSON.stringify(entry.meta)}`);
  return entry.meta.seq;
}
