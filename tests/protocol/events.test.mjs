// SPEC "Server → client events": one test per row of the event table, for both seeds' families, with payload
// fields as SPEC writes them, RFC3339 UTC timestamps, and the sequence numbers of "Beyond the seeds": every
// persisted event carries { seq } as its second argument, one seq per change, the next number for the next change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, board, connect, joined, refused, api, uid, sleep, sockCreate, restCreate, settle, assertTask, assertAgent,
  assertRefused, assertOk, seqOf, RFC3339_UTC, TASK_FIELDS,
} from './helpers.mjs';

useServer();
const T = { timeout: 20000 };

/** Every event of `client` from `since` that carries a seq, grouped by seq in arrival order: [[seq, [names]]]. */
function bySeq(client, since) {
  const groups = new Map();
  for (const e of client.entries(undefined, since)) {
    if (e.argc < 2 || !Number.isInteger(e.meta?.seq)) continue;
    if (!groups.has(e.meta.seq)) groups.set(e.meta.seq, []);
    groups.get(e.meta.seq).push(e.event);
  }
  return [...groups.entries()];
}

test('sync:full is the first event of a connection and carries { tasks, agents, users, seq } with full objects', T, async () => {
  const task = await restCreate({ title: uid('in sync'), description: 'd', assignee: 'zoe' });
  const agentId = uid('agent');
  assert.equal((await api('PUT', `/api/agents/${agentId}`, { name: 'Sync Bot', status: 'idle' })).status, 200);
  const personName = uid('Pia');
  await joined(personName);
  const c = await connect();
  const [first] = c.entries();
  assert.equal(first.event, 'sync:full', 'sync:full is the first event');
  const sync = first.data;
  assert.deepEqual(Object.keys(sync).filter((k) => ['tasks', 'agents', 'users', 'seq'].includes(k)).sort(), ['agents', 'seq', 'tasks', 'users']);
  assert.ok(Array.isArray(sync.tasks) && Array.isArray(sync.agents) && Array.isArray(sync.users));
  assert.ok(Number.isInteger(sync.seq) && sync.seq > 0, `sync:full.seq is the current sequence number: ${sync.seq}`);
  const t = sync.tasks.find((x) => x.id === task.id);
  assertTask(t, 'sync:full task');
  assert.deepEqual(t, task, 'sync:full carries the task as stored');
  const a = sync.agents.find((x) => x.id === agentId);
  assertAgent(a, 'sync:full agent');
  assert.equal(a.name, 'Sync Bot');
  const u = sync.users.find((x) => x.name === personName);
  assert.ok(u, `the online person is in sync:full.users: ${JSON.stringify(sync.users)}`);
  assert.equal(typeof u.id, 'string');
  assert.equal(u.status, 'online');
});

test('a handshake without a valid key gets connect_error "Unauthorized" and no event at all', T, async () => {
  for (const auth of [{}, { apiKey: 'wrong' }, { apiKey: { $ne: null } }, { apiKey: `${board.key} ` }]) {
    const err = await refused(auth);
    assert.equal(err?.message, 'Unauthorized', `auth ${JSON.stringify(auth)}`);
  }
  const r = await refused({ apiKey: 'wrong', name: uid('Eve') });
  assert.equal(r?.message, 'Unauthorized');
  const observer = await connect();
  assert.ok(!observer.syncs[0].users.some((u) => u.name.startsWith('Eve')), 'a refused socket never joins');
});

test('sync:full.seq equals the seq of the latest change', T, async () => {
  await settle(0);
  const watcher = await connect();
  const since = watcher.mark();
  const task = await restCreate({ title: uid('latest') });
  const e = await watcher.waitEntry(`task:${task.id}:created`, () => true, { since });
  const seq = seqOf(e);
  assert.ok(watcher.syncs[0].seq < seq, 'a change after the sync gets a higher seq');
  const fresh = await connect();
  assert.equal(fresh.syncs[0].seq, seq, 'a new connection\'s sync:full.seq is the latest change\'s');
});

test('task:{id}:created carries the full task with RFC3339 UTC timestamps and { seq }, from socket and REST alike', T, async () => {
  const c = await connect();
  const since = c.mark();
  const viaSocket = await sockCreate(c, { title: uid('created socket') });
  const viaRest = await restCreate({ title: uid('created rest') });
  for (const task of [viaSocket, viaRest]) {
    const e = await c.waitEntry(`task:${task.id}:created`, () => true, { since });
    assertTask(e.data, `task:${task.id}:created`);
    for (const f of TASK_FIELDS) assert.ok(f in e.data, `lacks ${f}`);
    assert.deepEqual(e.data, task);
    seqOf(e);
  }
});

test('task:{id}:updated carries { id, changed fields, version, updatedAt } and { seq }', T, async () => {
  const c = await connect();
  const task = await sockCreate(c, { title: uid('patch'), description: 'one' });
  let since = c.mark();
  const ack = assertOk(await c.ack('task:update', { id: task.id, title: `${task.title}!`, description: 'two' }));
  let e = await c.waitEntry(`task:${task.id}:updated`, () => true, { since });
  assert.deepEqual(e.data, { id: task.id, title: `${task.title}!`, description: 'two', version: ack.task.version, updatedAt: ack.task.updatedAt });
  assert.match(e.data.updatedAt, RFC3339_UTC);
  const s1 = seqOf(e);
  since = c.mark();
  const put = await api('PATCH', `/api/tasks/${task.id}`, { assignee: 'rest-person' });
  assert.equal(put.status, 200, put.text);
  e = await c.waitEntry(`task:${task.id}:updated`, () => true, { since });
  assert.deepEqual(e.data, { id: task.id, assignee: 'rest-person', version: put.body.version, updatedAt: put.body.updatedAt });
  assert.ok(seqOf(e) > s1);
});

test('task:{id}:deleted carries { id } and { seq }', T, async () => {
  const c = await connect();
  const a = await sockCreate(c, { title: uid('deleted socket') });
  const b = await restCreate({ title: uid('deleted rest') });
  const since = c.mark();
  assertOk(await c.ack('task:delete', { taskId: a.id }));
  assert.equal((await api('DELETE', `/api/tasks/${b.id}`)).status, 204);
  for (const t of [a, b]) {
    const e = await c.waitEntry(`task:${t.id}:deleted`, () => true, { since });
    assert.deepEqual(e.data, { id: t.id });
    seqOf(e);
  }
});

test('agent:{id}:status carries { id, status, lastSeen, currentTaskId } and { seq }, on a report and on disconnect', T, async () => {
  const id = uid('agent');
  const bot = await connect();
  const watcher = await connect();
  const task = await sockCreate(watcher, { title: uid('agent task') });
  let since = watcher.mark();
  assertOk(await bot.ack('agent:status', { id, status: 'busy', currentTaskId: task.id }));
  let e = await watcher.waitEntry(`agent:${id}:status`, () => true, { since });
  for (const f of ['id', 'status', 'lastSeen', 'currentTaskId']) assert.ok(f in e.data, `lacks ${f}: ${JSON.stringify(e.data)}`);
  assert.equal(e.data.id, id);
  assert.equal(e.data.status, 'busy');
  assert.equal(e.data.currentTaskId, task.id);
  assert.match(e.data.lastSeen, RFC3339_UTC);
  const s1 = seqOf(e);
  since = watcher.mark();
  const put = await api('PUT', `/api/agents/${id}`, { status: 'idle', currentTaskId: null });
  assert.equal(put.status, 200, put.text);
  e = await watcher.waitEntry(`agent:${id}:status`, () => true, { since });
  assert.equal(e.data.status, 'idle');
  assert.equal(e.data.currentTaskId, null);
  const s2 = seqOf(e);
  assert.ok(s2 > s1);
  // The socket that reported it last is `bot` only if REST does not take ownership; report again to be sure.
  assertOk(await bot.ack('agent:status', { id, status: 'busy' }));
  since = watcher.mark();
  bot.close();
  e = await watcher.waitEntry(`agent:${id}:status`, (d) => d.status === 'offline', { since });
  assert.match(e.data.lastSeen, RFC3339_UTC);
  assert.ok('currentTaskId' in e.data);
  assert.ok(seqOf(e) > s2);
});

test('task:created carries { task, user, timestamp } with the same seq as task:{id}:created', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const since = adam.mark();
  const viaSocket = await sockCreate(adam, { text: uid('seed 002 create') });
  const viaRest = await restCreate({ title: uid('rest create') });
  for (const [task, user] of [[viaSocket, adamName], [viaRest, 'api']]) {
    const e = await adam.waitEntry('task:created', (d) => d.task?.id === task.id, { since });
    assert.deepEqual(Object.keys(e.data).sort(), ['task', 'timestamp', 'user']);
    assert.deepEqual(e.data.task, task);
    assert.equal(e.data.user, user);
    assert.match(e.data.timestamp, RFC3339_UTC);
    const twin = await adam.waitEntry(`task:${task.id}:created`, () => true, { since });
    assert.equal(seqOf(e), seqOf(twin), 'one change, one seq');
  }
});

test('task:moved carries { taskId, newStatus, movedBy } for every status change: task:move, task:update and REST', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const task = await sockCreate(adam, { title: uid('moves') });
  const cases = [
    [() => adam.ack('task:move', { taskId: task.id, status: 'IN_PROGRESS' }), 'IN_PROGRESS', adamName],
    [() => adam.ack('task:update', { id: task.id, status: 'BLOCKED' }), 'BLOCKED', adamName],
    [() => api('PUT', `/api/tasks/${task.id}`, { status: 'REVIEW' }), 'REVIEW', 'api'],
    [() => api('PATCH', `/api/tasks/${task.id}`, { status: 'TODO' }), 'TODO', 'api'],
  ];
  for (const [act, status, by] of cases) {
    const since = adam.mark();
    await act();
    const e = await adam.waitEntry('task:moved', (d) => d.taskId === task.id, { since });
    assert.deepEqual(e.data, { taskId: task.id, newStatus: status, movedBy: by });
    const twin = await adam.waitEntry(`task:${task.id}:updated`, () => true, { since });
    assert.equal(twin.data.status, status);
    assert.equal(seqOf(e), seqOf(twin), 'task:moved shares the seq of its task:{id}:updated');
  }
});

test('every status change sends position with task:{id}:updated, even when the number is unchanged', T, async () => {
  const c = await connect();
  const task = await sockCreate(c, { title: uid('top') });
  assertOk(await c.ack('task:move', { taskId: task.id, status: 'TODO', position: 0 }));
  // Top of one column to the top of another: the same index, a different column.
  for (const [status, position] of [['BLOCKED', 0], ['REVIEW', undefined], ['TODO', 0]]) {
    const since = c.mark();
    const ack = assertOk(await c.ack('task:move', { taskId: task.id, status, ...(position === undefined ? {} : { position }) }));
    // This change's event: the previous move's may still arrive after the mark (acks come first).
    const e = await c.waitEntry(`task:${task.id}:updated`, (d) => d.version === ack.task.version, { since });
    assert.equal(e.data.status, status);
    assert.equal(e.data.position, ack.task.position, `position sent on the move to ${status}`);
  }
  const since = c.mark();
  const put = await api('PATCH', `/api/tasks/${task.id}`, { status: 'DONE' });
  assert.equal(put.status, 200, put.text);
  const e = await c.waitEntry(`task:${task.id}:updated`, () => true, { since });
  assert.equal(e.data.position, put.body.position, 'position sent on a REST status change');
});

test('task:deleted carries { taskId, deletedBy } with the same seq as task:{id}:deleted', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const a = await sockCreate(adam, { title: uid('del a') });
  const b = await restCreate({ title: uid('del b') });
  const since = adam.mark();
  assertOk(await adam.ack('task:delete', { taskId: a.id }));
  assert.equal((await api('DELETE', `/api/tasks/${b.id}`)).status, 204);
  for (const [t, by] of [[a, adamName], [b, 'api']]) {
    const e = await adam.waitEntry('task:deleted', (d) => d.taskId === t.id, { since });
    assert.deepEqual(e.data, { taskId: t.id, deletedBy: by });
    assert.equal(seqOf(e), seqOf(await adam.waitEntry(`task:${t.id}:deleted`, () => true, { since })));
  }
});

test('users:update carries [{ id, name, status: "online" }] and { seq } when someone joins or leaves', T, async () => {
  const watcher = await connect();
  const name = uid('Ulla');
  let since = watcher.mark();
  const ulla = await joined(name);
  let e = await watcher.waitEntry('users:update', (l) => l.some((u) => u.name === name), { since });
  assert.ok(Array.isArray(e.data));
  for (const u of e.data) {
    assert.equal(typeof u.id, 'string', `users[].id: ${JSON.stringify(u)}`);
    assert.equal(typeof u.name, 'string');
    assert.equal(u.status, 'online');
  }
  const joinSeq = seqOf(e);
  const act = await watcher.waitEntry('activity', (a) => a.type === 'user.joined' && a.user === name, { since });
  assert.equal(seqOf(act), joinSeq, 'the join\'s activity shares its seq');
  since = watcher.mark();
  ulla.close();
  e = await watcher.waitEntry('users:update', (l) => !l.some((u) => u.name === name), { since });
  assert.ok(seqOf(e) > joinSeq);
});

test('typing:update carries the list of typing names to the others', T, async () => {
  const a = uid('Adam');
  const b = uid('Nick');
  const adam = await joined(a);
  const nick = await joined(b);
  const watcher = await connect();
  const since = watcher.mark();
  assertOk(await adam.ack('typing:start', {}));
  await watcher.waitFor('typing:update', (l) => l.includes(a), { since });
  assertOk(await nick.ack('typing:start', {}));
  const both = await watcher.waitFor('typing:update', (l) => l.includes(a) && l.includes(b), { since });
  assert.ok(Array.isArray(both) && both.every((x) => typeof x === 'string'), JSON.stringify(both));
  assert.equal(both.length, new Set(both).size, 'each name once');
  assertOk(await adam.ack('typing:stop', {}));
  assertOk(await nick.ack('typing:stop', {}));
  await watcher.waitFor('typing:update', (l) => Array.isArray(l) && l.length === 0, { since });
});

test('task:drag:other carries { taskId, user } with the dragger\'s name, then user null', T, async () => {
  const a = uid('Adam');
  const adam = await joined(a);
  const watcher = await connect();
  const task = await restCreate({ title: uid('drag payload') });
  const since = watcher.mark();
  assertOk(await adam.ack('task:drag:start', { taskId: String(task.id) }), 'a numeric-string taskId is accepted');
  assert.deepEqual(await watcher.waitFor('task:drag:other', () => true, { since }), { taskId: task.id, user: a });
  assertOk(await adam.ack('task:drag:end', { taskId: task.id }));
  assert.deepEqual(await watcher.waitFor('task:drag:other', (d) => d.user === null, { since }), { taskId: task.id, user: null });
});

test('celebration carries { user, taskId } with the seq of the move into DONE, from socket and REST', T, async () => {
  const a = uid('Adam');
  const adam = await joined(a);
  const t1 = await sockCreate(adam, { title: uid('party socket'), status: 'REVIEW' });
  const t2 = await restCreate({ title: uid('party rest'), status: 'REVIEW' });
  const since = adam.mark();
  assertOk(await adam.ack('task:move', { taskId: t1.id, status: 'DONE' }));
  assert.equal((await api('PUT', `/api/tasks/${t2.id}`, { status: 'DONE' })).status, 200);
  for (const [t, by] of [[t1, a], [t2, 'api']]) {
    const e = await adam.waitEntry('celebration', (d) => d.taskId === t.id, { since });
    assert.deepEqual(e.data, { user: by, taskId: t.id });
    const moved = await adam.waitEntry('task:moved', (d) => d.taskId === t.id, { since });
    assert.equal(seqOf(e), seqOf(moved), 'celebration shares the seq of its move');
  }
});

test('activity carries { id, type, user, message, taskId, timestamp, seq, changes } and the seq of its change', T, async () => {
  const a = uid('Adam');
  const adam = await joined(a);
  let since = adam.mark();
  const task = await sockCreate(adam, { title: uid('activity'), description: 'old' });
  let e = await adam.waitEntry('activity', (x) => x.taskId === task.id && x.type === 'task.created', { since });
  for (const f of ['id', 'type', 'user', 'message', 'taskId', 'timestamp']) assert.ok(f in e.data, `activity lacks ${f}: ${JSON.stringify(e.data)}`);
  assert.equal(e.data.user, a);
  assert.equal(typeof e.data.message, 'string');
  assert.ok(e.data.message.length > 0);
  assert.match(e.data.timestamp, RFC3339_UTC);
  assert.equal(e.data.seq, seqOf(e), 'activity.seq equals the second argument');
  assert.equal(seqOf(e), seqOf(await adam.waitEntry(`task:${task.id}:created`, () => true, { since })));
  since = adam.mark();
  assertOk(await adam.ack('task:update', { id: task.id, description: 'new', assignee: 'kai' }));
  e = await adam.waitEntry('activity', (x) => x.taskId === task.id && x.type === 'task.updated', { since });
  assert.deepEqual(e.data.changes, { description: { from: 'old', to: 'new' }, assignee: { from: null, to: 'kai' } },
    'changes: { field: { from, to } } for exactly the changed fields');
  assert.equal(e.data.seq, seqOf(e));
  since = adam.mark();
  assertOk(await adam.ack('task:move', { taskId: task.id, status: 'REVIEW' }));
  e = await adam.waitEntry('activity', (x) => x.taskId === task.id && x.type === 'task.moved', { since });
  assert.deepEqual(e.data.changes?.status, { from: 'TODO', to: 'REVIEW' });
  since = adam.mark();
  assertOk(await adam.ack('task:delete', { taskId: task.id }));
  e = await adam.waitEntry('activity', (x) => x.taskId === task.id && x.type === 'task.deleted', { since });
  assert.equal(e.data.user, a);
  assert.equal(e.data.seq, seqOf(e));
});

test('error carries { code, message } to the failing socket only', T, async () => {
  const c = await connect();
  const other = await connect();
  const since = [c.mark(), other.mark()];
  assertRefused(await c.ack('task:move', { taskId: 987654327, status: 'DONE' }), 'TASK_NOT_FOUND');
  const e = await c.waitEntry('error', () => true, { since: since[0] });
  assert.deepEqual(Object.keys(e.data).sort(), ['code', 'message']);
  assert.equal(e.data.code, 'TASK_NOT_FOUND');
  assert.match(e.data.message, /987654327/);
  await other.none('error', () => true, { since: since[1] });
});

test('every persisted change gets the next seq, shared by all its events, strictly increasing across changes', T, async () => {
  await settle(0);
  const witness = await connect();
  const start = witness.syncs[0].seq;
  const since = witness.mark();
  const adamName = uid('Adam');
  const adam = await connect();
  assertOk(await adam.ack('user:join', { name: adamName }));
  const task = await sockCreate(adam, { title: uid('seq'), status: 'REVIEW' });
  assertOk(await adam.ack('task:update', { id: task.id, description: 'seq update' }));
  assertOk(await adam.ack('task:move', { taskId: task.id, status: 'DONE' }));
  const agentId = uid('agent');
  assertOk(await adam.ack('agent:status', { id: agentId, status: 'busy' }));
  assert.equal((await api('PUT', `/api/tasks/${task.id}`, { title: `${task.title} (rest)` })).status, 200);
  assert.equal((await api('DELETE', `/api/tasks/${task.id}`)).status, 204);
  await witness.waitFor('activity', (a) => a.type === 'task.deleted' && a.taskId === task.id, { since });
  await witness.waitFor('task:deleted', (d) => d.taskId === task.id, { since });
  await sleep(200);
  const groups = bySeq(witness, since);
  const id = task.id;
  const expected = [
    ['users:update', 'activity'],
    [`task:${id}:created`, 'task:created', 'activity'],
    [`task:${id}:updated`, 'activity'],
    [`task:${id}:updated`, 'task:moved', 'celebration', 'activity'],
    [`agent:${agentId}:status`, 'activity'],
    [`task:${id}:updated`, 'activity'],
    [`task:${id}:deleted`, 'task:deleted', 'activity'],
  ];
  assert.deepEqual(groups.map(([, names]) => names.slice().sort()), expected.map((n) => n.slice().sort()),
    `events grouped by seq: ${JSON.stringify(groups)}`);
  groups.forEach(([seq], i) => assert.equal(seq, start + 1 + i, `change ${i + 1} gets seq ${start + 1 + i} (the next number), got ${seq}`));
  for (const e of witness.entries(undefined, since)) {
    if (['task:drag:other', 'typing:update', 'error'].includes(e.event)) continue;
    seqOf(e, `${e.event} ${JSON.stringify(e.data).slice(0, 80)}`);
  }
  const fresh = await connect();
  assert.equal(fresh.syncs[0].seq, groups.at(-1)[0], 'sync:full.seq equals the latest');
});
