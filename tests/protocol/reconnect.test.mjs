// Restarts, crashes and resumption: SPEC "Promises" (an acknowledged write is never lost, also across kill -9) and
// "Beyond the seeds" (gap-free resume with auth.lastSeq, idempotent commands with opId / Idempotency-Key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, board, Client, connect, joined, api, uid, sleep, snapshot, settle, restCreate, sockCreate, getTask,
  listTasks, assertTask, assertRefused, assertOk, seqOf, WAIT,
} from './helpers.mjs';

useServer();
const T = { timeout: 60000 };

/** The events of `client` from `since` that carry a seq, as [seq, event, payload]. */
const persisted = (client, since = 0, until = client.log.length) => client.log.slice(since, until)
  .filter((e) => e.argc >= 2 && Number.isInteger(e.meta?.seq))
  .map((e) => [e.meta.seq, e.event, e.data]);
/** Sort events of the same seq by name, so two lists compare as "the same events in seq order". */
const canonical = (list) => list.slice().sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));

// ---------------------------------------------------------------------------------------------------------------
// Restart

test('after a graceful restart a client with reconnection on reconnects by itself and receives sync:full with the persisted state', T, async () => {
  const adam = await joined(uid('Adam'));
  const a = await sockCreate(adam, { title: uid('survives'), description: 'persisted', assignee: 'kim' });
  assertOk(await adam.ack('task:move', { taskId: a.id, status: 'IN_PROGRESS' }));
  const b = await restCreate({ title: uid('survives too'), status: 'DONE' });
  const agentId = uid('agent');
  assert.ok((await api('PUT', `/api/agents/${agentId}`, { name: 'Restart Bot', status: 'busy', currentTaskId: a.id })).status < 300);
  const gone = await restCreate({ title: uid('deleted before restart') });
  assert.equal((await api('DELETE', `/api/tasks/${gone.id}`)).status, 204);
  adam.close();
  await settle(0); // adam's leaving is a change too; let it land before taking the reference seq
  const tasksBefore = await snapshot();
  const c = await connect({ reconnection: true });
  const seqBefore = c.syncs[0].seq;
  const since = c.mark();
  const exit = await board.server.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM shuts the server down gracefully, exit code 0');
  await c.waitFor('disconnect', () => true, { since });
  await board.server.start();
  await c.waitFor('connect', () => true, { since, timeout: WAIT + 5000 });
  const sync = await c.waitFor('sync:full', () => true, { since, timeout: WAIT + 2000 });
  assert.deepEqual(sync.tasks.slice().sort((x, y) => x.id - y.id), tasksBefore, 'sync:full after the restart carries the persisted tasks');
  assert.ok(sync.tasks.some((t) => t.id === a.id && t.status === 'IN_PROGRESS' && t.description === 'persisted'));
  assert.ok(sync.tasks.some((t) => t.id === b.id && t.status === 'DONE'));
  assert.ok(!sync.tasks.some((t) => t.id === gone.id));
  const agent = sync.agents.find((x) => x.id === agentId);
  assert.ok(agent, 'the agent is persisted');
  assert.equal(agent.name, 'Restart Bot');
  assert.equal(agent.currentTaskId, a.id);
  assert.equal(sync.seq, seqBefore, 'the sequence number is persisted');
  // New changes continue the sequence.
  const s2 = c.mark();
  const next = await restCreate({ title: uid('after restart') });
  const e = await c.waitEntry(`task:${next.id}:created`, () => true, { since: s2 });
  assert.equal(seqOf(e), seqBefore + 1, 'the first change after the restart gets the next seq');
  assert.ok(next.id > Math.max(...tasksBefore.map((t) => t.id), gone.id), 'task ids are not reused');
});

test('kill -9 in the middle of writes loses no acknowledged task', T, async () => {
  const writers = await Promise.all([connect(), connect(), connect()]);
  const acked = new Map();
  let stop = false;
  let failures = 0;
  const loops = writers.map(async (w, i) => {
    while (!stop) {
      const title = uid(`crash-${i}`);
      try {
        const a = await w.ack('task:create', { title, description: `written by ${i}` });
        if (a?.ok) acked.set(a.task.id, a.task);
        else if (a?.error?.code !== 'RATE_LIMITED') failures += 1;
      } catch { break; } // no ack: the server died under it
    }
  });
  const rest = (async () => {
    while (!stop) {
      try {
        const r = await api('POST', '/api/tasks', { title: uid('crash-rest') });
        if (r.status === 201) acked.set(r.body.id, r.body);
      } catch { break; }
    }
  })();
  const deadline = Date.now() + 10000;
  while (acked.size < 150 && Date.now() < deadline) await sleep(5);
  assert.ok(acked.size >= 150, `writes are being acknowledged (${acked.size})`);
  await board.server.kill();
  stop = true;
  await Promise.all([...loops, rest]);
  for (const w of writers) w.close();
  assert.equal(failures, 0, 'no write failed before the crash');
  const count = acked.size;
  await board.server.start();
  const after = new Map((await listTasks()).map((t) => [t.id, t]));
  const lost = [...acked.keys()].filter((id) => !after.has(id));
  assert.deepEqual(lost, [], `every acknowledged task survives kill -9 (${lost.length} of ${count} lost)`);
  for (const [id, t] of acked) assert.deepEqual(after.get(id), t, `task ${id} is stored as acknowledged`);
  for (const t of after.values()) assertTask(t, `task ${t.id} after the crash`);
  const h = await api('GET', `/api/tasks/${[...acked.keys()][0]}/history`);
  assert.equal(h.status, 200, 'the activity of an acknowledged write survives with it');
});

// ---------------------------------------------------------------------------------------------------------------
// Gap-free resume

test('a client that connects with auth.lastSeq receives exactly the missed events in order, each with its seq, then sync:resumed { seq }', T, async () => {
  await settle(0);
  const witness = await connect();
  const away = await connect();
  const lastSeq = away.syncs[0].seq;
  away.close();
  const wSince = witness.mark();
  // What happens while it is away: every kind of persisted change, and ephemeral signals that are not replayed.
  const busy = await connect();
  const task = await sockCreate(busy, { title: uid('missed'), status: 'REVIEW' });
  assertOk(await busy.ack('task:update', { id: task.id, description: 'missed update' }));
  assertOk(await busy.ack('typing:start', {}));
  assertOk(await busy.ack('task:drag:start', { taskId: task.id }));
  assertOk(await busy.ack('task:drag:end', { taskId: task.id }));
  assertOk(await busy.ack('task:move', { taskId: task.id, status: 'DONE' }));
  const agentId = uid('agent');
  assertOk(await busy.ack('agent:status', { id: agentId, status: 'busy' }));
  const person = await joined(uid('Pat'));
  const other = await restCreate({ title: uid('missed rest') });
  assert.equal((await api('DELETE', `/api/tasks/${other.id}`)).status, 204);
  await witness.waitFor('task:deleted', (d) => d.taskId === other.id, { since: wSince });
  await witness.waitFor('activity', (a) => a.type === 'task.deleted' && a.taskId === other.id, { since: wSince });
  await sleep(200);
  const missed = persisted(witness, wSince);
  assert.ok(missed.length >= 15, `the witness saw the changes: ${missed.length}`);
  const latest = Math.max(...missed.map(([s]) => s));

  const back = new Client({ extraAuth: { lastSeq } });
  const resumed = await back.waitEntry('sync:resumed', () => true, { timeout: WAIT + 2000 });
  const at = back.log.indexOf(resumed);
  const replay = persisted(back, 0, at);
  assert.deepEqual(canonical(replay), canonical(missed), 'exactly the missed events, with their seqs and payloads');
  for (let i = 1; i < replay.length; i++) assert.ok(replay[i][0] >= replay[i - 1][0], 'in seq order');
  const before = back.log.slice(0, at).filter((e) => !['connect'].includes(e.event));
  assert.equal(before.length, replay.length, `nothing but the missed persisted events before sync:resumed: ${before.map((e) => e.event).join(', ')}`);
  assert.deepEqual(resumed.data, { seq: latest }, 'sync:resumed { seq } carries the latest seq');
  assert.equal(back.syncs.length, 0, 'no sync:full for a resumed connection');
  // And it is live again from there.
  const s2 = back.mark();
  const next = await restCreate({ title: uid('live again') });
  const e = await back.waitEntry(`task:${next.id}:created`, () => true, { since: s2 });
  assert.equal(seqOf(e), latest + 1);
  person.close();
});

test('resuming with the current seq gives sync:resumed at once and nothing else', T, async () => {
  await settle(0);
  const first = await connect();
  const seq = first.syncs[0].seq;
  const back = await new Client({ extraAuth: { lastSeq: seq } }).synced();
  assert.equal(back.event, 'sync:resumed');
  assert.deepEqual(back.data, { seq });
});

test('resuming from a seq the server never reached gets sync:full as usual', T, async () => {
  const first = await connect();
  const ahead = await new Client({ extraAuth: { lastSeq: first.syncs[0].seq + 1000 } }).synced();
  assert.equal(ahead.event, 'sync:full', 'the server cannot replay what it never had');
});

test('a resumed socket with auth.subscribe [] gets sync:resumed but no replayed broadcast', T, async () => {
  const first = await connect();
  const lastSeq = first.syncs[0].seq;
  first.close();
  await restCreate({ title: uid('filtered replay') });
  const back = new Client({ extraAuth: { lastSeq, subscribe: [] } });
  const e = await back.synced();
  assert.equal(e.event, 'sync:resumed', 'sync:resumed is never filtered');
  assert.deepEqual(back.entries().map((x) => x.event), ['sync:resumed'], 'no replayed event passes the empty pattern list');
});

test('a client whose auth sends its last seq resumes gap-free by itself after a dropped connection', T, async () => {
  let last = 0;
  const auth = (cb) => cb({ apiKey: board.key, ...(last ? { lastSeq: last } : {}) });
  const c = new Client({ auth, reconnection: true });
  c.socket.onAny((event, data, meta) => { if (Number.isInteger(meta?.seq)) last = meta.seq; });
  await c.ready();
  last = c.syncs[0].seq;
  const since = c.mark();
  c.socket.io.engine.close(); // a network drop; the Manager reconnects by itself
  await c.waitFor('disconnect', () => true, { since });
  const made = await restCreate({ title: uid('while away') });
  const resumed = await c.waitEntry('sync:resumed', () => true, { since, timeout: WAIT + 3000 });
  const got = c.log.slice(since, c.log.indexOf(resumed));
  assert.ok(got.some((e) => e.event === `task:${made.id}:created` && e.meta?.seq), 'the missed creation was replayed');
  assert.equal(resumed.data.seq, last);
  assert.equal(c.syncs.length, 1, 'no second sync:full');
});

// ---------------------------------------------------------------------------------------------------------------
// Idempotent commands

test('task:create sent twice with the same opId returns the same task and creates one', T, async () => {
  const c = await connect();
  const watcher = await connect();
  const since = watcher.mark();
  const title = uid('once');
  const opId = uid('op');
  const first = assertOk(await c.ack('task:create', { title, opId }));
  const second = assertOk(await c.ack('task:create', { title, opId }));
  assert.deepEqual(second.task, first.task, 'the repeat returns the first result');
  assert.equal((await listTasks(`?q=${encodeURIComponent(title)}`)).length, 1, 'one task');
  await watcher.waitFor(`task:${first.task.id}:created`, () => true, { since });
  await watcher.none('task:created', (d) => d.task?.id !== first.task.id && d.task?.title === title, { since });
  assert.equal(watcher.entries('task:created', since).filter((e) => e.data.task?.title === title).length, 1, 'one broadcast');
  // From another socket with the same key: the same credential, so the same answer.
  const third = assertOk(await watcher.ack('task:create', { title: 'something else', opId }));
  assert.deepEqual(third.task, first.task, 'the namespace is the credential, not the socket');
});

test('a REST POST repeated with the same Idempotency-Key returns the same task and creates one', T, async () => {
  const key = uid('idem');
  const title = uid('rest once');
  const a = await api('POST', '/api/tasks', { title }, { headers: { 'idempotency-key': key } });
  assert.equal(a.status, 201, a.text);
  const b = await api('POST', '/api/tasks', { title }, { headers: { 'idempotency-key': key } });
  assert.ok([200, 201].includes(b.status), `${b.status} ${b.text}`);
  assert.deepEqual(b.body, a.body);
  assert.equal((await listTasks(`?q=${encodeURIComponent(title)}`)).length, 1);
});

test('a REST PUT or DELETE repeated with the same Idempotency-Key applies nothing and returns the first result', T, async () => {
  const task = await restCreate({ title: uid('rest idem update') });
  const key = uid('idem-put');
  const first = await api('PUT', `/api/tasks/${task.id}`, { title: 'A' }, { headers: { 'idempotency-key': key } });
  assert.equal(first.status, 200, first.text);
  assert.equal((await api('PUT', `/api/tasks/${task.id}`, { title: 'B' })).status, 200);
  const again = await api('PUT', `/api/tasks/${task.id}`, { title: 'A' }, { headers: { 'idempotency-key': key } });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body, first.body, 'the first result');
  const now = await getTask(task.id);
  assert.equal(now.title, 'B', 'the repeat applied nothing');
  assert.equal(now.version, 3);
  const delKey = uid('idem-del');
  assert.equal((await api('DELETE', `/api/tasks/${task.id}`, undefined, { headers: { 'idempotency-key': delKey } })).status, 204);
  const delAgain = await api('DELETE', `/api/tasks/${task.id}`, undefined, { headers: { 'idempotency-key': delKey } });
  assert.equal(delAgain.status, 204, `a repeated DELETE returns the first (successful) result: ${delAgain.status} ${delAgain.text}`);
});

test('sockets and REST share one opId namespace for the same credential', T, async () => {
  const c = await connect();
  const opId = uid('shared');
  const title = uid('shared once');
  const viaSocket = assertOk(await c.ack('task:create', { title, opId }));
  const viaRest = await api('POST', '/api/tasks', { title }, { headers: { 'idempotency-key': opId } });
  assert.ok([200, 201].includes(viaRest.status), `${viaRest.status} ${viaRest.text}`);
  assert.deepEqual(viaRest.body, viaSocket.task, 'REST with the same key returns the socket\'s result');
  const key2 = uid('shared');
  const title2 = uid('shared twice');
  const r = await api('POST', '/api/tasks', { title: title2 }, { headers: { 'idempotency-key': key2 } });
  assert.equal(r.status, 201);
  const s = assertOk(await c.ack('task:create', { title: title2, opId: key2 }));
  assert.deepEqual(s.task, r.body, 'a socket repeat of a REST key returns the REST result');
  assert.equal((await listTasks(`?q=${encodeURIComponent(title)}`)).length, 1);
  assert.equal((await listTasks(`?q=${encodeURIComponent(title2)}`)).length, 1);
});

test('a failed command may be retried with the same opId', T, async () => {
  const c = await connect();
  const opId = uid('retry');
  assertRefused(await c.ack('task:create', { title: '   ', opId }), 'VALIDATION_ERROR', 'invalid first attempt');
  const title = uid('second try');
  const ok = assertOk(await c.ack('task:create', { title, opId }));
  assert.equal(ok.task.title, title);
  const again = assertOk(await c.ack('task:create', { title, opId }));
  assert.deepEqual(again.task, ok.task);
  assert.equal((await listTasks(`?q=${encodeURIComponent(title)}`)).length, 1);
});

test('a repeated task:update or task:delete opId applies nothing and returns the first result', T, async () => {
  const c = await connect();
  const watcher = await connect();
  const task = await sockCreate(c, { title: uid('idem update') });
  const opId = uid('upd');
  const first = assertOk(await c.ack('task:update', { id: task.id, title: 'A', opId }));
  assert.equal(first.task.version, task.version + 1);
  assertOk(await c.ack('task:update', { id: task.id, title: 'B' }));
  await watcher.waitFor(`task:${task.id}:updated`, (d) => d.title === 'B');
  const since = watcher.mark();
  const repeat = assertOk(await c.ack('task:update', { id: task.id, title: 'A', opId }));
  assert.deepEqual(repeat.task, first.task, 'the first result');
  const now = await getTask(task.id);
  assert.equal(now.title, 'B', 'the repeat applied nothing');
  assert.equal(now.version, task.version + 2);
  await watcher.none(`task:${task.id}:updated`, () => true, { since });
  const delOp = uid('del');
  assert.equal((await c.ack('task:delete', { taskId: task.id, opId: delOp }))?.ok, true);
  const delAgain = await c.ack('task:delete', { taskId: task.id, opId: delOp });
  assert.equal(delAgain?.ok, true, `a repeated delete returns the first (successful) result: ${JSON.stringify(delAgain)}`);
});
