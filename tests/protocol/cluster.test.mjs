// Two real instances, A and B, on one PostgreSQL database and one Redis (docs/scaling.md, "Several instances"), with
// the official socket.io-client on each: what a client sees must not depend on which instance the others talk to.
// The Node counterpart of tests/cluster.rs.
//
// Reads TEST_DATABASE_URL (a PostgreSQL database that may create databases: this file makes its own, uniquely
// named, and drops it at the end) and TEST_REDIS_URL (this file uses its own key prefix and deletes its keys at the
// end). Needs the `psql` and `redis-cli` commands. Without the variables every test is reported as skipped, with a
// loud `SKIPPED: …` line.
//
// The tests share one pair of instances and run in file order; the crash test kills A, so it comes last.
import http from 'node:http';
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Server } from './server.mjs';
import {
  Client, closeAll, api, uid, sleep, sockCreate, assertTask, assertRefused, assertOk, seqOf, RFC3339_UTC, WAIT, PROMPT,
} from './helpers.mjs';

const run = promisify(execFile);
const env = (k) => (process.env[k] ?? '').trim();
const DATABASE_URL = env('TEST_DATABASE_URL');
const REDIS_URL = env('TEST_REDIS_URL');
const missing = [!DATABASE_URL && 'TEST_DATABASE_URL', !REDIS_URL && 'TEST_REDIS_URL'].filter(Boolean);
const SKIP = missing.length ? `SKIPPED: ${missing.join(' and ')} not set, the cluster tests did not run` : null;
if (SKIP) {
  console.log(`${'!'.repeat(8)} ${SKIP}: two instances need a PostgreSQL database and a Redis, e.g. `
    + `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test TEST_REDIS_URL=redis://127.0.0.1:6379 ${'!'.repeat(8)}`);
}

/** docs/scaling.md: a dead instance's locks and agents are released "about 6 s" after its death (its heartbeat lives
 * 5 s, the survivors look every second); the margin is for a loaded machine. */
const REAP_DEADLINE = Number(process.env.WARROOM_REAP_MS || 10_000);
const T = { timeout: 60_000 };

// ---------------------------------------------------------------------------------------------------------------
// The cluster: a database and a Redis prefix of this run's own, two instances with the same team key.

const tag = `warroom_test_node_${randomBytes(6).toString('hex')}`;
const cluster = { a: null, b: null, key: randomBytes(24).toString('hex'), dbName: tag, dbUrl: null, prefix: tag, dbCreated: false };

/** `postgres://u@h:5432/test?x=y` naming another database: `…/name?x=y` (as tests/common/postgres.rs). */
function withDatabase(url, name) {
  const q = url.indexOf('?');
  const [base, query] = q < 0 ? [url, null] : [url.slice(0, q), url.slice(q + 1)];
  const authority = base.includes('://') ? base.indexOf('://') + 3 : 0;
  const slash = base.indexOf('/', authority);
  const root = slash < 0 ? base : base.slice(0, slash);
  return `${root}/${name}${query === null ? '' : `?${query}`}`;
}
async function tool(cmd, args) {
  try {
    return (await run(cmd, args, { env: { ...process.env, PGCONNECT_TIMEOUT: '10' }, timeout: 30_000 })).stdout;
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error(`\`${cmd}\` not found: the cluster tests need it (TEST_DATABASE_URL / TEST_REDIS_URL are set)`);
    throw new Error(`${cmd} ${args.slice(1).join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}
const psql = (sql) => tool('psql', [DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);
/** One Redis command through redis-cli; its reply, one item a line. */
const redis = async (...args) => (await tool('redis-cli', ['-u', REDIS_URL, ...args])).split('\n').filter((l) => l !== '');
const ourKeys = () => redis('--scan', '--pattern', `${cluster.prefix}:*`);

/** The instances' presence grace: long enough to come back on the other instance within it on a loaded machine. */
const GRACE_MS = 1000;

function instance() {
  return new Server({
    key: cluster.key,
    env: { PRESENCE_GRACE_MS: String(GRACE_MS) },
    extraArgs: ['--database-url', cluster.dbUrl, '--redis-url', REDIS_URL, '--redis-prefix', cluster.prefix],
  });
}

before(async () => {
  if (SKIP) return;
  await psql(`CREATE DATABASE ${cluster.dbName}`);
  cluster.dbCreated = true;
  cluster.dbUrl = withDatabase(DATABASE_URL, cluster.dbName);
  // One after the other: the second finds the schema made (both would also take turns on the migration lock).
  cluster.a = instance();
  await cluster.a.start();
  cluster.b = instance();
  await cluster.b.start();
  for (const srv of [cluster.a, cluster.b]) {
    const h = await rest(srv, 'GET', '/api/health');
    assert.equal(h.status, 200, h.text);
    assert.equal(h.body.redis, 'ok', `the instance reaches Redis: ${h.text}`);
  }
});
afterEach(() => closeAll());
after(async () => {
  closeAll();
  const problems = [];
  for (const srv of [cluster.a, cluster.b]) {
    try { if (srv) await srv.close(); } catch (e) { problems.push(e.message); }
  }
  if (cluster.dbCreated) {
    try { await psql(`DROP DATABASE IF EXISTS ${cluster.dbName} WITH (FORCE)`); } catch (e) { problems.push(e.message); }
  }
  if (!SKIP) {
    try {
      const keys = await ourKeys();
      for (let i = 0; i < keys.length; i += 200) await redis('DEL', ...keys.slice(i, i + 200));
      const left = await ourKeys();
      if (left.length) problems.push(`Redis keys left under ${cluster.prefix}: ${left.join(' ')}`);
    } catch (e) { problems.push(e.message); }
  }
  if (problems.length) throw new Error(`cleaning up the cluster: ${problems.join('; ')}`);
});

/** A test that needs the cluster: skipped (and says so) without TEST_DATABASE_URL / TEST_REDIS_URL. */
function clusterTest(name, fn) {
  test(name, T, async (t) => {
    if (SKIP) {
      t.skip(SKIP);
      return;
    }
    await fn(t);
  });
}

/** A client of instance `srv` (sync:full received); `name` joins at the handshake. */
const client = (srv, { name, ...opts } = {}) =>
  new Client({ url: srv.url, apiKey: cluster.key, ...(name !== undefined ? { name } : {}), ...opts }).ready();
const rest = (srv, method, path, body) => api(method, path, body, { url: srv.url, key: cluster.key });
const lists = (users, name) => Array.isArray(users) && users.filter((u) => u.name === name).length === 1;
const absent = (users, name) => Array.isArray(users) && !users.some((u) => u.name === name);
/** The events of `c` from `since` that carry a seq, as [seq, event, payload]. */
const persisted = (c, since = 0, until = c.log.length) => c.log.slice(since, until)
  .filter((e) => e.argc >= 2 && Number.isInteger(e.meta?.seq))
  .map((e) => [e.meta.seq, e.event, e.data]);
/** Same-seq events sorted by name, so two lists compare as "the same events in seq order". */
const canonical = (list) => list.slice().sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
const ms = (x) => `${Math.round(x)} ms`;

// ---------------------------------------------------------------------------------------------------------------
// Changes

clusterTest('a change made on A reaches a client of B with the same { seq } in both seed families, and back', async (t) => {
  const { a, b } = cluster;
  const aliceName = uid('Alice');
  const bobName = uid('Bob');
  const alice = await client(a, { name: aliceName });
  const bob = await client(b, { name: bobName });
  const since = bob.mark();

  const task = await sockCreate(alice, { title: uid('across'), description: 'made on A', assignee: 'kim' });
  assertTask(task, 'ack');
  assert.equal(task.createdBy, aliceName);
  const onA = await alice.waitEntry(`task:${task.id}:created`);
  const seq = seqOf(onA);
  const onB = await bob.waitEntry(`task:${task.id}:created`, () => true, { since });
  assert.deepEqual(onB.data, task, 'B gets the full task, as acknowledged on A');
  assert.equal(seqOf(onB), seq, 'one change, one seq, on every instance');
  const lag = onB.t - onA.t;
  assert.ok(lag < PROMPT, `B's client got the change ${ms(lag)} after A's`);
  const family = await bob.waitEntry('task:created', (d) => d?.task?.id === task.id, { since });
  assert.deepEqual(Object.keys(family.data).sort(), ['task', 'timestamp', 'user']);
  assert.deepEqual(family.data.task, task);
  assert.equal(family.data.user, aliceName);
  assert.match(family.data.timestamp, RFC3339_UTC);
  assert.equal(seqOf(family), seq, 'seed 002\'s task:created shares the seq');
  const act = await bob.waitEntry('activity', (x) => x.type === 'task.created' && x.taskId === task.id, { since });
  assert.equal(act.data.user, aliceName);
  assert.equal(seqOf(act), seq, 'the activity entry shares the seq');

  // And back: a move on B (into DONE) reaches A with all its events under one seq.
  const sinceA = alice.mark();
  const moved = assertOk(await bob.ack('task:move', { taskId: task.id, status: 'DONE' }), 'move on B');
  assert.equal(moved.task.status, 'DONE');
  assert.equal(moved.task.version, 2);
  const upd = await alice.waitEntry(`task:${task.id}:updated`, () => true, { since: sinceA });
  assert.equal(upd.data.id, task.id);
  assert.equal(upd.data.status, 'DONE');
  assert.equal(upd.data.version, 2);
  assert.match(upd.data.updatedAt, RFC3339_UTC);
  const mv = await alice.waitEntry('task:moved', (d) => d.taskId === task.id, { since: sinceA });
  assert.deepEqual(mv.data, { taskId: task.id, newStatus: 'DONE', movedBy: bobName });
  const party = await alice.waitEntry('celebration', (d) => d.taskId === task.id, { since: sinceA });
  assert.deepEqual(party.data, { user: bobName, taskId: task.id });
  assert.equal(seqOf(mv), seqOf(upd));
  assert.equal(seqOf(party), seqOf(upd));
  assert.ok(seqOf(upd) > seq);

  // A REST write on B pushes to A's sockets like a socket write.
  const sinceA2 = alice.mark();
  const del = await rest(b, 'DELETE', `/api/tasks/${task.id}`);
  assert.equal(del.status, 204, del.text);
  const gone = await alice.waitEntry(`task:${task.id}:deleted`, () => true, { since: sinceA2 });
  assert.deepEqual(gone.data, { id: task.id });
  const gone2 = await alice.waitEntry('task:deleted', (d) => d.taskId === task.id, { since: sinceA2 });
  assert.deepEqual(gone2.data, { taskId: task.id, deletedBy: 'api' });
  assert.equal(seqOf(gone2), seqOf(gone));
  assert.equal((await rest(a, 'GET', `/api/tasks/${task.id}`)).status, 404, 'A reads the same database');
  t.diagnostic(`task:${task.id}:created reached B's client ${ms(lag)} after A's`);
});

// ---------------------------------------------------------------------------------------------------------------
// Presence and typing

clusterTest('presence crosses: users:update on B lists a person connected to A and vice versa, one entry per person across instances', async () => {
  const { a, b } = cluster;
  const aliceName = uid('Alice');
  const bobName = uid('Bob');
  const watchB = await client(b);
  const alice = await client(a, { name: aliceName });
  const onB = await watchB.waitFor('users:update', (l) => lists(l, aliceName));
  const entry = onB.find((u) => u.name === aliceName);
  assert.equal(typeof entry.id, 'string');
  assert.equal(entry.status, 'online');
  await watchB.waitFor('activity', (x) => x.type === 'user.joined' && x.user === aliceName);

  const bob = await client(b, { name: bobName });
  assert.ok(lists(bob.syncs[0].users, aliceName), `sync:full on B lists Alice, connected to A: ${JSON.stringify(bob.syncs[0].users)}`);
  const onA = await alice.waitFor('users:update', (l) => lists(l, bobName) && lists(l, aliceName));
  assert.ok(onA.every((u) => typeof u.id === 'string' && u.status === 'online'), JSON.stringify(onA));

  // A second tab of Alice's on B is not a new person: no user.joined, still one entry.
  const sinceA = alice.mark();
  const aliceTab2 = await client(b, { name: aliceName });
  assert.ok(lists(aliceTab2.syncs[0].users, aliceName), 'one entry for Alice with a tab on each instance');
  await alice.none('activity', (x) => x.type === 'user.joined' && x.user === aliceName, { since: sinceA, ms: 500 });
  for (const e of alice.entries('users:update', sinceA)) assert.ok(lists(e.data, aliceName), JSON.stringify(e.data));
  // Closing the tab on B leaves her listed (her tab on A is open) ...
  const sinceB = bob.mark();
  aliceTab2.close();
  await bob.none('users:update', (l) => absent(l, aliceName), { since: sinceB, ms: 800 });
  // ... closing her last tab, on A, removes her from B's list.
  alice.close();
  const left = await bob.waitEntry('users:update', (l) => absent(l, aliceName), { since: sinceB });
  assert.ok(lists(left.data, bobName), JSON.stringify(left.data));
});

clusterTest('a person whose last connection, on A, closes and who is back on B within the grace never left: no user.left, no user.joined; once gone past it, they leave', async () => {
  const { a, b } = cluster;
  const name = uid('Roamer');
  const watchA = await client(a);
  const onA = await client(a, { name });
  await watchA.waitFor('activity', (x) => x.type === 'user.joined' && x.user === name);
  const since = watchA.mark();
  onA.close();
  const onB = await client(b, { name });
  assert.ok(lists(onB.syncs[0].users, name), 'listed on B when back');
  // Past A's grace: A's leave is not one, as she is online on B.
  await watchA.none('activity', (x) => x.user === name, { since, ms: GRACE_MS + 800 });
  for (const e of watchA.entries('users:update', since)) assert.ok(lists(e.data, name), JSON.stringify(e.data));
  onB.close();
  await watchA.waitFor('activity', (x) => x.type === 'user.left' && x.user === name, { since, timeout: GRACE_MS + WAIT });
});

clusterTest('typing crosses: typing:start on A gives typing:update on B (the others only), typing:stop clears it, and back', async () => {
  const { a, b } = cluster;
  const aliceName = uid('Alice');
  const bobName = uid('Bob');
  const alice = await client(a, { name: aliceName });
  const bob = await client(b, { name: bobName });
  const since = [alice.mark(), bob.mark()];

  assertOk(await alice.ack('typing:start', {}), 'typing:start on A');
  const on = await bob.waitEntry('typing:update', (l) => Array.isArray(l) && l.includes(aliceName), { since: since[1] });
  assert.deepEqual(on.data, [aliceName], 'B\'s client sees exactly Alice typing');
  assert.equal(on.argc, 1, 'typing:update is a signal, not a persisted change: no { seq }');
  assertOk(await alice.ack('typing:stop', {}), 'typing:stop on A');
  await bob.waitFor('typing:update', (l) => Array.isArray(l) && !l.includes(aliceName), { since: since[1] });

  assertOk(await bob.ack('typing:start', {}), 'typing:start on B');
  assert.deepEqual(await alice.waitFor('typing:update', (l) => Array.isArray(l) && l.includes(bobName), { since: since[0] }), [bobName]);
  assertOk(await bob.ack('typing:stop', {}), 'typing:stop on B');
  await alice.waitFor('typing:update', (l) => Array.isArray(l) && !l.includes(bobName), { since: since[0] });
  // Each typist got no typing:update of their own typing.
  for (const [c, name] of [[alice, aliceName], [bob, bobName]]) {
    for (const e of c.entries('typing:update')) assert.ok(!e.data.includes(name), `${name} was sent their own typing: ${JSON.stringify(e.data)}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Drag locks

clusterTest('a drag lock taken on A refuses B\'s move, update, delete, drag and REST write with TASK_LOCKED until it ends', async () => {
  const { a, b } = cluster;
  const carolName = uid('Carol');
  const daveName = uid('Dave');
  const carol = await client(a, { name: carolName });
  const dave = await client(b, { name: daveName });
  const task = await sockCreate(dave, { title: uid('locked card') });
  await carol.waitFor(`task:${task.id}:created`);

  assertOk(await carol.ack('task:drag:start', { taskId: task.id }), 'drag:start on A');
  const other = await dave.waitEntry('task:drag:other', (d) => d.taskId === task.id);
  assert.deepEqual(other.data, { taskId: task.id, user: carolName });
  const since = [carol.mark(), dave.mark()];
  const move = await dave.ack('task:move', { taskId: task.id, status: 'DONE' });
  assertRefused(move, 'TASK_LOCKED', 'move on B of a task dragged on A');
  const err = await dave.waitFor('error', (e) => e.code === 'TASK_LOCKED', { since: since[1] });
  assert.equal(typeof err.message, 'string');
  assertRefused(await dave.ack('task:update', { id: task.id, title: 'renamed on B' }), 'TASK_LOCKED', 'update on B');
  assertRefused(await dave.ack('task:delete', { taskId: task.id }), 'TASK_LOCKED', 'delete on B');
  assertRefused(await dave.ack('task:drag:start', { taskId: task.id }), 'TASK_LOCKED', 'drag:start on B');
  const put = await rest(b, 'PUT', `/api/tasks/${task.id}`, { title: 'renamed over REST on B' });
  assert.equal(put.status, 409, put.text);
  assert.equal(put.body?.error?.code, 'TASK_LOCKED');
  const stored = await rest(b, 'GET', `/api/tasks/${task.id}`);
  assert.deepEqual(stored.body, task, 'nothing changed');
  await carol.none('task:moved', (d) => d.taskId === task.id, { since: since[0], ms: 300 });
  // People of earlier tests may be leaving now, as their presence grace ends: only other events count.
  const changes = persisted(carol, since[0])
    .filter(([, event, data]) => event !== 'users:update' && !(event === 'activity' && data.type.startsWith('user.')));
  assert.equal(changes.length, 0, 'no persisted event from the refused commands');

  // drag:end on A releases it for B.
  assertOk(await carol.ack('task:drag:end', { taskId: task.id }), 'drag:end on A');
  await dave.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === null, { since: since[1] });
  const moved = assertOk(await dave.ack('task:move', { taskId: task.id, status: 'REVIEW' }), 'move on B after drag:end');
  assert.equal(moved.task.status, 'REVIEW');

  // The holder's own move goes through and ends the lock for everyone.
  await carol.waitFor(`task:${task.id}:updated`, (d) => d.status === 'REVIEW');
  assertOk(await carol.ack('task:drag:start', { taskId: task.id }), 'drag:start on A again');
  const s2 = dave.mark();
  await dave.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === carolName, { since: s2 });
  assertRefused(await dave.ack('task:move', { taskId: task.id, status: 'TODO' }), 'TASK_LOCKED', 'move on B during the second drag');
  assertOk(await carol.ack('task:move', { taskId: task.id, status: 'BLOCKED' }), 'the holder\'s own move');
  await dave.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === null, { since: s2 });
  assert.equal(assertOk(await dave.ack('task:move', { taskId: task.id, status: 'TODO' }), 'move on B after the holder\'s move').task.status, 'TODO');
});

// ---------------------------------------------------------------------------------------------------------------
// Resume across instances

clusterTest('a client that leaves A and connects to B with auth.lastSeq gets exactly the missed events in order, then sync:resumed { seq }', async () => {
  const { a, b } = cluster;
  const watcher = await client(b);
  const erin = await client(a);
  const seen = await sockCreate(erin, { title: uid('seen on A') });
  await erin.waitFor(`task:${seen.id}:created`);
  await erin.waitFor('activity', (x) => x.type === 'task.created' && x.taskId === seen.id);
  await watcher.waitFor('activity', (x) => x.type === 'task.created' && x.taskId === seen.id); // B has it too
  const lastSeq = Math.max(erin.syncs[0].seq, ...persisted(erin).map(([s]) => s));
  erin.close();

  // Missed while away: every kind of change, on both instances, over sockets and REST, and signals (not replayed).
  const wanda = await client(a, { name: uid('Wanda') });
  const walt = await client(b);
  const onA = await sockCreate(wanda, { title: uid('missed, made on A'), status: 'REVIEW' });
  const onB = await rest(b, 'POST', '/api/tasks', { title: uid('missed, made on B over REST') });
  assert.equal(onB.status, 201, onB.text);
  assertOk(await walt.ack('task:update', { id: onA.id, description: 'edited on B' }), 'update on B');
  assertOk(await wanda.ack('typing:start', {}));
  assertOk(await wanda.ack('task:drag:start', { taskId: onB.body.id }));
  assertOk(await wanda.ack('task:move', { taskId: onB.body.id, status: 'DONE' }), 'move on A');
  const agentId = uid('agent');
  assertOk(await walt.ack('agent:status', { id: agentId, status: 'busy', currentTaskId: onA.id }), 'agent on B');
  const put = await rest(a, 'PUT', `/api/agents/${agentId}`, { status: 'idle', currentTaskId: null });
  assert.equal(put.status, 200, put.text);
  assertOk(await walt.ack('task:delete', { taskId: onA.id }), 'delete on B');
  const marker = await rest(a, 'POST', '/api/tasks', { title: uid('last missed change') });
  assert.equal(marker.status, 201, marker.text);
  await watcher.waitFor('activity', (x) => x.type === 'task.created' && x.taskId === marker.body.id);
  await sleep(200);
  const seenBy = (seq) => persisted(watcher).some(([s]) => s === seq);
  const back = new Client({ url: b.url, apiKey: cluster.key, extraAuth: { lastSeq } });
  const resumed = await back.waitEntry('sync:resumed', () => true, { timeout: WAIT + 2000 }).catch((e) => {
    assert.fail(`no sync:resumed on B (got ${back.names().join(', ') || 'nothing'}): ${e.message}`);
  });
  // An earlier test's person leaving at the end of their presence grace is a change too, and it
  // may land between the watcher's look and this connect: the watcher gets it as well.
  for (let i = 0; i < 50 && !seenBy(resumed.data.seq); i++) await sleep(100);
  const missed = persisted(watcher).filter(([s]) => s > lastSeq && s <= resumed.data.seq);
  const latest = Math.max(...missed.map(([s]) => s));
  const range = Array.from({ length: latest - lastSeq }, (_, i) => lastSeq + 1 + i);
  assert.deepEqual([...new Set(missed.map(([s]) => s))], range, 'the watcher on B saw every seq (it is the reference)');
  assert.ok(range.length >= 9, `changes were made while away: ${range.length}`);
  const at = back.log.indexOf(resumed);
  const replay = persisted(back, 0, at);
  assert.deepEqual(resumed.data, { seq: latest }, 'sync:resumed { seq } carries the latest seq');
  assert.equal(back.syncs.length, 0, 'no sync:full for a resumed connection');
  const before = back.log.slice(0, at).filter((e) => e.event !== 'connect');
  assert.equal(before.length, replay.length, `nothing but missed persisted events before sync:resumed: ${before.map((e) => e.event).join(', ')}`);
  for (let i = 1; i < replay.length; i++) assert.ok(replay[i][0] >= replay[i - 1][0], `in seq order: ${replay[i - 1][0]} then ${replay[i][0]}`);
  assert.deepEqual([...new Set(replay.map(([s]) => s))], range, 'every missed seq, no gap');
  const pairs = replay.map(([s, ev]) => `${s} ${ev}`);
  assert.equal(new Set(pairs).size, pairs.length, 'no event twice');
  assert.deepEqual(canonical(replay), canonical(missed), 'exactly the events the watcher got live, with their payloads');
  for (const id of [onA.id, onB.body.id, marker.body.id]) {
    assert.ok(replay.some(([, ev]) => ev === `task:${id}:created`), `task ${id}'s creation is replayed`);
  }
  assert.ok(replay.some(([, ev]) => ev === `agent:${agentId}:status`), 'the agent\'s status is replayed');
  assert.ok(!back.log.slice(0, at).some((e) => e.event === 'typing:update' || e.event === 'task:drag:other'), 'signals are not replayed');

  // And it is live on B from there, for changes made on A too.
  const s2 = back.mark();
  const next = await sockCreate(wanda, { title: uid('live again') });
  const e = await back.waitEntry(`task:${next.id}:created`, () => true, { since: s2 });
  assert.equal(seqOf(e), latest + 1, 'the next change has the next seq');
});

// ---------------------------------------------------------------------------------------------------------------
// Crash (last: A stays dead)

clusterTest('two boards on two instances: events, board changes and people stay per board across A and B', async () => {
  const id = `cl-${randomBytes(4).toString('hex')}`;
  const made = await rest(cluster.a, 'POST', '/api/boards', { id, name: 'Cluster board' });
  assert.equal(made.status, 201, made.text);
  const onMainB = await client(cluster.b);
  const onOtherA = await client(cluster.a, { name: `Ola ${id}`, auth: { apiKey: cluster.key, name: `Ola ${id}`, board: id } });
  const onOtherB = await client(cluster.b, { auth: { apiKey: cluster.key, board: id } });
  assert.equal(onOtherB.syncs[0].board.id, id, 'B knows the board A created');
  if (!lists(onOtherB.syncs[0].users, `Ola ${id}`)) await onOtherB.waitFor('users:update', (u) => lists(u, `Ola ${id}`));
  const mainMark = onMainB.mark();
  const created = await onOtherB.ack('task:create', { title: `cluster ${id}` });
  assertOk(created);
  const ev = await onOtherA.waitEntry('task:created', (d) => d.task.id === created.task.id);
  assert.ok(Number.isInteger(ev.meta.seq) && ev.meta.seq <= 2, `the new board's own seq: ${ev.meta.seq}`);
  const renamed = await rest(cluster.b, 'PATCH', `/api/boards/${id}`, { name: 'Renamed on B' });
  assert.equal(renamed.status, 200, renamed.text);
  await onOtherA.waitFor('board:updated', (b) => b.id === id && b.name === 'Renamed on B');
  await onMainB.waitFor('board:updated', (b) => b.id === id);
  await sleep(300);
  assert.ok(!onMainB.entries(undefined, mainMark).some((e) => e.event.startsWith('task') || e.event === 'users:update'
    && JSON.stringify(e.data).includes(`Ola ${id}`)), 'main on B saw nothing of the other board');
  const deleted = await rest(cluster.a, 'DELETE', `/api/boards/${id}`);
  assert.equal(deleted.status, 204);
  await onOtherB.waitFor('board:deleted', (d) => d.id === id);
  await onOtherB.waitFor('disconnect');
});

clusterTest('an agent waiting on A (task:next with wait) gets the task created on B the moment it is created, not before', async () => {
  // Nothing claimable on the shared board first.
  for (const t of (await rest(cluster.b, 'GET', '/api/tasks?status=TODO')).body) await rest(cluster.b, 'DELETE', `/api/tasks/${t.id}`);
  const agent = await client(cluster.a);
  const agentId = uid('waits-on-a');
  const answer = agent.socket.timeout(20_000).emitWithAck('task:next', { agentId, wait: 15 });
  const early = await Promise.race([answer, sleep(500).then(() => 'pending')]);
  assert.equal(early, 'pending', 'nothing to claim: the answer is held');
  const made = await rest(cluster.b, 'POST', '/api/tasks', { title: uid('made on B') });
  assert.equal(made.status, 201, made.text);
  const started = performance.now();
  const got = assertOk(await answer, 'task:next on A');
  assert.equal(got.task.id, made.body.id, 'the task created on B goes to the agent waiting on A');
  assert.equal(got.task.claimedBy, agentId);
  assert.ok(performance.now() - started < 3000, `answered ${ms(performance.now() - started)} after the create`);
});

clusterTest('who is looking merges both instances\' viewers; a mention on A notifies the person on B', async () => {
  const ann = uid('Ann');
  const bob = uid('Bob');
  const task = (await rest(cluster.a, 'POST', '/api/tasks', { title: uid('looked at') })).body;
  const onA = await client(cluster.a, { name: ann });
  const onB = await client(cluster.b, { name: bob });
  const watcherA = await client(cluster.a, { name: uid('Wanda') });
  const watcherB = await client(cluster.b, { name: uid('Walt') });
  assertOk(await onA.ack('task:view', { taskId: task.id }), 'view on A');
  assertOk(await onB.ack('task:view', { taskId: task.id }), 'view on B');
  const both = (v) => v.taskId === task.id && v.users.includes(ann) && v.users.includes(bob);
  await watcherA.waitFor('task:viewers', both);
  await watcherB.waitFor('task:viewers', both);
  assertOk(await onB.ack('task:view', { taskId: null }), 'B closes the card');
  const onlyAnn = (v) => v.taskId === task.id && v.users.includes(ann) && !v.users.includes(bob);
  await watcherA.waitFor('task:viewers', onlyAnn);
  await watcherB.waitFor('task:viewers', onlyAnn);

  const mark = onB.mark();
  assertOk(await onA.ack('comment:create', { taskId: task.id, body: `@${bob} can you look?` }), 'mention on A');
  const note = await onB.waitFor('notification', (n) => n.type === 'mention' && n.taskId === task.id, { since: mark });
  assert.equal(note.by, ann);
});

clusterTest('webhooks: both instances send from one outbox, and each delivery reaches the receiver exactly once', async () => {
  const got = [];
  const receiver = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => { got.push(JSON.parse(raw)); res.writeHead(204); res.end(); });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const id = `hooks-${uid('c').replace(/[^a-z0-9-]/g, '')}`.toLowerCase().slice(0, 40);
    assert.equal((await rest(cluster.a, 'POST', '/api/boards', { id, name: id })).status, 201);
    const hook = await rest(cluster.b, 'POST', `/api/boards/${id}/webhooks`, { url: `http://127.0.0.1:${receiver.address().port}/`, events: ['task.created'] });
    assert.equal(hook.status, 201, hook.text);
    const made = [];
    for (let i = 0; i < 30; i += 1) {
      const r = await rest(i % 2 ? cluster.a : cluster.b, 'POST', `/api/boards/${id}/tasks`, { title: `hook ${i}` });
      assert.equal(r.status, 201, r.text);
      made.push(r.body.id);
    }
    const end = Date.now() + 20_000;
    while (got.length < 30 && Date.now() < end) await sleep(50);
    await sleep(1500); // time for a duplicate to show up, if any would
    const ids = got.map((d) => d.id);
    assert.equal(new Set(ids).size, ids.length, `a delivery arrived twice: ${ids}`);
    assert.deepEqual(got.map((d) => d.task.id).sort((x, y) => x - y), [...made].sort((x, y) => x - y));
    const seqs = got.map((d) => d.seq);
    assert.deepEqual([...seqs].sort((x, y) => x - y), seqs, 'in seq order');
  } finally {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
});

clusterTest('kill -9 of an instance with waiting agents leaves no phantom waiter: the other instance\'s waiting agent gets the next task, nobody claims the rest', async () => {
  for (const t of (await rest(cluster.b, 'GET', '/api/tasks?status=TODO')).body) await rest(cluster.b, 'DELETE', `/api/tasks/${t.id}`);
  // A third instance, so that the crash test below still has A.
  const doomed = instance();
  await doomed.start();
  try {
    const onDoomed = await Promise.all([client(doomed), client(doomed), client(doomed)]);
    const doomedIds = onDoomed.map(() => uid('waits-on-doomed'));
    const doomedAnswers = onDoomed.map((c, i) => c.socket.timeout(30_000).emitWithAck('task:next', { agentId: doomedIds[i], wait: 25 }));
    for (const answer of doomedAnswers) answer.catch(() => {}); // never answered: the instance dies
    await sleep(300);
    const survivor = await client(cluster.b);
    const survivorId = uid('waits-on-b');
    const answer = survivor.socket.timeout(30_000).emitWithAck('task:next', { agentId: survivorId, wait: 25 });
    assert.equal(await Promise.race([answer, sleep(300).then(() => 'pending')]), 'pending', 'nothing to claim yet');

    const exit = await doomed.kill();
    assert.equal(exit.signal, 'SIGKILL');
    await Promise.all(onDoomed.map((c) => c.waitFor('disconnect')));
    const first = await rest(cluster.a, 'POST', '/api/tasks', { title: uid('after the crash') });
    assert.equal(first.status, 201, first.text);
    const got = assertOk(await answer, 'task:next on B');
    assert.equal(got.task.id, first.body.id, 'the waiting agent of the live instance gets the task');
    assert.equal(got.task.claimedBy, survivorId);

    // No waiter of the dead instance lives on anywhere: later tasks stay unclaimed.
    const later = [];
    for (let i = 0; i < 3; i += 1) later.push((await rest(cluster.a, 'POST', '/api/tasks', { title: uid('nobody waits') })).body);
    await sleep(1500);
    for (const t of later) {
      const now = await rest(cluster.b, 'GET', `/api/tasks/${t.id}`);
      assert.equal(now.status, 200, now.text);
      assert.equal(now.body.status, 'TODO', `task ${t.id} stays in TODO`);
      assert.equal(now.body.claimedBy, null, `task ${t.id} is claimed by nobody`);
    }
    const all = (await rest(cluster.b, 'GET', '/api/tasks')).body;
    assert.deepEqual(all.filter((t) => doomedIds.includes(t.claimedBy)), [], 'no task is held by an agent of the dead instance');
    for (const t of later) await rest(cluster.b, 'DELETE', `/api/tasks/${t.id}`);
    // The reaper forgets the dead instance, as the crash test below expects of the cluster it starts from.
    const until = performance.now() + REAP_DEADLINE;
    while ((await redis('SCARD', `${cluster.prefix}:instances`))[0] !== '2' && performance.now() < until) await sleep(200);
    assert.deepEqual(await redis('SCARD', `${cluster.prefix}:instances`), ['2'], 'the dead instance is forgotten');
  } finally {
    await doomed.close();
  }
});

clusterTest(`kill -9 of A: within ${REAP_DEADLINE / 1000} s B frees A's drag locks, marks A's agents offline and drops A's people`, async (t) => {
  const { a, b } = cluster;
  const carolName = uid('Carol');
  const daveName = uid('Dave');
  const agentId = uid('bot');
  const carol = await client(a, { name: carolName });
  const bot = await client(a);
  const dave = await client(b, { name: daveName });
  const task = (await rest(b, 'POST', '/api/tasks', { title: uid('held by a dying instance') })).body;
  assertTask(task, 'POST on B');
  await carol.waitFor(`task:${task.id}:created`);
  assertOk(await bot.ack('agent:status', { id: agentId, name: 'Doomed Bot', status: 'busy', currentTaskId: task.id }), 'agent:status on A');
  const busy = await dave.waitEntry(`agent:${agentId}:status`, (s) => s.status === 'busy');
  assert.equal(busy.data.currentTaskId, task.id);
  assertOk(await carol.ack('task:drag:start', { taskId: task.id }), 'drag:start on A');
  await dave.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === carolName);
  await dave.waitFor('users:update', (l) => lists(l, carolName));
  assertRefused(await dave.ack('task:move', { taskId: task.id, status: 'DONE' }), 'TASK_LOCKED', 'before the crash');
  const keys = await ourKeys();
  assert.ok(keys.some((k) => k.endsWith(`:lock:${task.id}`)), `the lock is in Redis: ${keys.join(' ')}`);
  assert.equal((await redis('SCARD', `${cluster.prefix}:instances`))[0], '2', 'two instances known');

  // A dies without a word: only B's reaper can end what A held.
  const since = dave.mark();
  const killedAt = performance.now();
  const exit = await a.kill();
  assert.equal(exit.signal, 'SIGKILL');
  const within = { since, timeout: REAP_DEADLINE };
  const [unlocked, offline, left] = await Promise.all([
    dave.waitEntry('task:drag:other', (d) => d.taskId === task.id && d.user === null, within),
    dave.waitEntry(`agent:${agentId}:status`, (s) => s.status === 'offline', within),
    dave.waitEntry('users:update', (l) => absent(l, carolName), within),
  ]);
  const took = (e) => e.t - killedAt;
  t.diagnostic(`after kill -9 of A, B's client saw: lock freed ${ms(took(unlocked))}, agent offline ${ms(took(offline))}, `
    + `Carol gone ${ms(took(left))} (docs/scaling.md: about 6 s)`);
  assert.deepEqual(unlocked.data, { taskId: task.id, user: null });
  assert.equal(offline.data.id, agentId);
  assert.match(offline.data.lastSeen, RFC3339_UTC);
  assert.ok('currentTaskId' in offline.data, JSON.stringify(offline.data));
  const offSeq = seqOf(offline);
  const act = await dave.waitEntry('activity', (x) => x.type === 'agent.status', { since, match: (e) => e.event === 'activity' && e.meta?.seq === offSeq });
  assert.match(act.data.timestamp, RFC3339_UTC, 'the agent going offline is recorded as activity, with the same seq');
  assert.ok(lists(left.data, daveName), JSON.stringify(left.data));
  // Not too early either: a heartbeat lives 5 s.
  assert.ok(took(unlocked) > 1000, `the lock was freed ${ms(took(unlocked))} after the kill, before A's heartbeat could expire`);

  // B's move now succeeds; the agent is offline in the database; Redis holds no lock and only B.
  const moved = assertOk(await dave.ack('task:move', { taskId: task.id, status: 'DONE' }), 'move on B after the reap');
  assert.equal(moved.task.status, 'DONE');
  const agent = await rest(b, 'GET', `/api/agents/${agentId}`);
  assert.equal(agent.status, 200, agent.text);
  assert.equal(agent.body.status, 'offline');
  assert.equal(agent.body.name, 'Doomed Bot');
  const after = await ourKeys();
  assert.ok(!after.some((k) => k.includes(':lock:')), `no drag lock left in Redis: ${after.join(' ')}`);
  assert.deepEqual(await redis('SCARD', `${cluster.prefix}:instances`), ['1'], 'A is forgotten');
  assert.ok(offSeq > busy.meta.seq);
  // A's clients were disconnected by the crash.
  await carol.waitFor('disconnect');
});
