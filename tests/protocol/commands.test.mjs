// SPEC "Socket.IO contract": one test (or a few) per row of the client → server command table, each asserting the
// acknowledgement and the broadcast together, with the rules of "Details that clients rely on".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, connect, joined, api, uid, sleep, getTask, listTasks, restCreate, sockCreate, assertTask,
  assertRefused, assertOk, seqOf,
} from './helpers.mjs';

useServer();
const T = { timeout: 20000 };
/** Wait until every client has seen the activity of `type` for `taskId`: the change's broadcast is all delivered, so
 * a mark taken afterwards sees only what comes next. */
const delivered = (taskId, type, ...clients) => Promise.all(clients.map((c) => c.waitFor('activity', (e) => e.taskId === taskId && e.type === type)));
const entriesFor = (list, name) => list.filter((u) => u && typeof u.name === 'string' && u.name.toLowerCase() === name.toLowerCase());

// ---------------------------------------------------------------------------------------------------------------
// user:join

test('user:join is acknowledged and every socket, the joiner included, gets users:update and activity user.joined', T, async () => {
  const watcher = await connect();
  const adam = await connect();
  const name = uid('Adam');
  const since = [watcher.mark(), adam.mark()];
  assertOk(await adam.ack('user:join', { name: `  ${name}  ` }), 'user:join');
  for (const [i, c] of [watcher, adam].entries()) {
    const list = await c.waitFor('users:update', (l) => entriesFor(l, name).length > 0, { since: since[i] });
    const mine = entriesFor(list, name);
    assert.equal(mine.length, 1, `one entry for ${name}: ${JSON.stringify(list)}`);
    assert.equal(mine[0].name, name, 'the display name is stored trimmed');
    assert.equal(mine[0].status, 'online');
    assert.equal(typeof mine[0].id, 'string', 'users[].id is a string');
    assert.ok(mine[0].id.length > 0);
    const act = await c.waitFor('activity', (e) => e.type === 'user.joined' && e.user === name, { since: since[i] });
    assert.equal(typeof act.message, 'string');
  }
  const observer = await connect();
  assert.equal(entriesFor(observer.syncs[0].users, name).length, 1, 'sync:full.users lists the joined person');
});

test('two tabs of one person, with names differing only in case, are one users entry with a stable id', T, async () => {
  const watcher = await connect();
  const name = uid('Casey');
  let since = watcher.mark();
  const tab1 = await joined(name);
  const first = entriesFor(await watcher.waitFor('users:update', (l) => entriesFor(l, name).length > 0, { since }), name);
  assert.equal(first.length, 1);
  since = watcher.mark();
  const tab2 = await joined(name.toUpperCase());
  const observer = await connect();
  const inSync = entriesFor(observer.syncs[0].users, name);
  assert.equal(inSync.length, 1, `names compare case-insensitively: ${JSON.stringify(observer.syncs[0].users)}`);
  assert.equal(inSync[0].id, first[0].id, 'users[].id is stable for the person');
  for (const e of watcher.entries('users:update', since)) {
    assert.ok(entriesFor(e.data, name).length <= 1, `never two entries for one person: ${JSON.stringify(e.data)}`);
  }
  // Still online while one tab remains; gone (with user.left) when the last one closes.
  since = watcher.mark();
  tab1.close();
  await watcher.none('users:update', (l) => entriesFor(l, name).length === 0, { since, ms: 500 });
  since = watcher.mark();
  tab2.close();
  await watcher.waitFor('users:update', (l) => Array.isArray(l) && entriesFor(l, name).length === 0, { since });
  await watcher.waitFor('activity', (e) => e.type === 'user.left' && e.user.toLowerCase() === name.toLowerCase(), { since });
});

test('auth.name at the handshake counts as a user:join', T, async () => {
  const watcher = await connect();
  const name = uid('Hana');
  const since = watcher.mark();
  await connect({ name });
  const list = await watcher.waitFor('users:update', (l) => entriesFor(l, name).length > 0, { since });
  assert.equal(entriesFor(list, name)[0].status, 'online');
  await watcher.waitFor('activity', (e) => e.type === 'user.joined' && e.user === name, { since });
  const observer = await connect();
  assert.equal(entriesFor(observer.syncs[0].users, name).length, 1, 'listed in sync:full.users');
});

test('a socket that never gave a name is not listed and acts as "anonymous"', T, async () => {
  const names = async () => (await connect()).syncs[0].users.map((u) => u.name);
  const before = await names();
  const anon = await connect();
  // Someone from an earlier test may leave meanwhile (their grace ending), but nobody is added.
  const after = await names();
  assert.ok(after.every((n) => before.includes(n)), `an anonymous socket adds no users entry: ${after} vs ${before}`);
  const since = anon.mark();
  const task = await sockCreate(anon, { title: uid('anon task') });
  assert.equal(task.createdBy, 'anonymous');
  const ev = await anon.waitFor('task:created', (d) => d.task?.id === task.id, { since });
  assert.equal(ev.user, 'anonymous');
  const act = await anon.waitFor('activity', (e) => e.taskId === task.id && e.type === 'task.created', { since });
  assert.equal(act.user, 'anonymous');
});

// ---------------------------------------------------------------------------------------------------------------
// task:create

test('an anonymous socket coming and going sends nobody users:update (it is no join and no leave)', T, async () => {
  const board = (await api('POST', '/api/boards', { name: uid('quiet') })).body;
  const watcher = await connect({ extraAuth: { board: board.id } });
  await sleep(100);
  const since = watcher.mark();
  for (let i = 0; i < 3; i++) (await connect({ extraAuth: { board: board.id } })).close();
  await sleep(500);
  assert.deepEqual(watcher.entries(undefined, since).map((e) => e.event), [], 'no event at all');
});

test('task:create acknowledges { ok, task } and every socket, the sender included, gets both created events and activity', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const since = [adam.mark(), nick.mark()];
  const title = uid('Write the spec');
  const ack = assertOk(await adam.ack('task:create', { title: `  ${title}  `, description: ' words ', status: 'REVIEW', assignee: 'Nick' }));
  const task = ack.task;
  assertTask(task, 'ack.task');
  assert.equal(task.title, title, 'title stored trimmed');
  assert.equal(task.description, 'words', 'description stored trimmed');
  assert.equal(task.status, 'REVIEW');
  assert.equal(task.assignee, 'Nick');
  assert.equal(task.createdBy, adamName);
  assert.equal(task.version, 1, 'a new task starts at version 1');
  for (const [i, c] of [adam, nick].entries()) {
    const created = await c.waitFor(`task:${task.id}:created`, () => true, { since: since[i] });
    assert.deepEqual(created, task, 'task:{id}:created carries the full task as acknowledged');
    const tc = await c.waitFor('task:created', (d) => d.task?.id === task.id, { since: since[i] });
    assert.deepEqual(tc.task, task);
    assert.equal(tc.user, adamName);
    const act = await c.waitFor('activity', (e) => e.taskId === task.id && e.type === 'task.created', { since: since[i] });
    assert.equal(act.user, adamName);
  }
  assert.deepEqual(await getTask(task.id), task, 'GET /api/tasks/:id returns what was acknowledged');
});

test('task:create accepts the seeds\' spellings (text, assignedTo) and fills defaults; an empty assignee is null', T, async () => {
  const c = await connect();
  const a = await sockCreate(c, { text: uid('seed spelling'), assignedTo: 'agent-7' });
  assert.equal(a.assignee, 'agent-7', '`assignedTo` is accepted for assignee');
  assert.equal(a.status, 'TODO', 'default status is TODO');
  assert.equal(a.description, '', 'default description is empty');
  const b = await sockCreate(c, { title: uid('unassigned'), assignee: '' });
  assert.equal(b.assignee, null, 'an empty assignee means unassigned (null)');
  const d = await sockCreate(c, { title: uid('whitespace assignee'), assignee: '   ' });
  assert.equal(d.assignee, null, 'an assignee that is empty after trimming means unassigned (null)');
  const e = await sockCreate(c, { title: uid('padded assignee'), assignee: '  kim  ' });
  assert.equal(e.assignee, 'kim', 'strings are stored trimmed');
});

test('task:create of a task already DONE sends no celebration', T, async () => {
  const adam = await joined(uid('Adam'));
  const nick = await connect();
  const since = [adam.mark(), nick.mark()];
  const task = await sockCreate(adam, { title: uid('born done'), status: 'DONE' });
  await nick.waitFor(`task:${task.id}:created`, () => true, { since: since[1] });
  await nick.none('celebration', (d) => d.taskId === task.id, { since: since[1] });
  await adam.none('celebration', (d) => d.taskId === task.id, { since: since[0], ms: 0 });
  await nick.none('task:moved', (d) => d.taskId === task.id, { since: since[1], ms: 0 });
});

// ---------------------------------------------------------------------------------------------------------------
// task:update

test('task:update changes only the given fields; ack { ok, task } and every socket gets task:{id}:updated with only those', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('update me'), description: 'before' });
  const since = [adam.mark(), nick.mark()];
  const ack = assertOk(await adam.ack('task:update', { id: task.id, description: 'after', assignee: 'zed' }));
  assertTask(ack.task, 'ack.task');
  assert.equal(ack.task.description, 'after');
  assert.equal(ack.task.assignee, 'zed');
  assert.equal(ack.task.title, task.title, 'fields not given are kept');
  assert.equal(ack.task.version, task.version + 1, 'version increases by one');
  for (const [i, c] of [adam, nick].entries()) {
    const patch = await c.waitFor(`task:${task.id}:updated`, () => true, { since: since[i] });
    assert.deepEqual(Object.keys(patch).sort(), ['assignee', 'description', 'id', 'updatedAt', 'version'],
      `the patch carries only id, the changed fields, version and updatedAt: ${JSON.stringify(patch)}`);
    assert.equal(patch.id, task.id);
    assert.equal(patch.version, ack.task.version);
    assert.equal(patch.updatedAt, ack.task.updatedAt);
    const act = await c.waitFor('activity', (e) => e.taskId === task.id && e.type === 'task.updated', { since: since[i] });
    assert.equal(act.user, adamName);
  }
  await nick.none('task:moved', (d) => d.taskId === task.id, { since: since[1], ms: 0 });
});

test('task:update with unchanged values acknowledges the unchanged task, emits nothing and keeps the version', T, async () => {
  const adam = await joined(uid('Adam'));
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('steady'), description: 'same', assignee: 'kim', status: 'BLOCKED' });
  await delivered(task.id, 'task.created', adam, nick);
  const since = [adam.mark(), nick.mark()];
  const ack = assertOk(await adam.ack('task:update', {
    id: task.id, title: task.title, description: 'same', assignee: 'kim', status: 'BLOCKED',
  }));
  assert.deepEqual(ack.task, task, 'the unchanged task, same version and updatedAt');
  const sameAfterTrim = assertOk(await adam.ack('task:update', { id: task.id, title: `  ${task.title} ` }));
  assert.equal(sameAfterTrim.task.version, task.version, 'a value equal after trimming is no change');
  for (const [i, c] of [adam, nick].entries()) {
    await c.none(`task:${task.id}:updated`, () => true, { since: since[i], ms: i ? 0 : 400 });
    await c.none('activity', (e) => e.taskId === task.id, { since: since[i], ms: 0 });
    await c.none('task:moved', (e) => e.taskId === task.id, { since: since[i], ms: 0 });
  }
  assert.deepEqual(await getTask(task.id), task);
  // Partly unchanged: only what changed is in the patch.
  const s2 = nick.mark();
  const ack2 = assertOk(await adam.ack('task:update', { id: task.id, title: task.title, description: 'different' }));
  assert.equal(ack2.task.version, task.version + 1);
  const patch = await nick.waitFor(`task:${task.id}:updated`, () => true, { since: s2 });
  assert.deepEqual(Object.keys(patch).sort(), ['description', 'id', 'updatedAt', 'version'], JSON.stringify(patch));
});

test('task:update refuses unknown fields with VALIDATION_ERROR naming the field and changes nothing', T, async () => {
  const c = await connect();
  const other = await connect();
  const task = await sockCreate(c, { title: uid('strict') });
  const since = [c.mark(), other.mark()];
  const ack = await c.ack('task:update', { id: task.id, title: 'renamed', priority: 'high' });
  assertRefused(ack, 'VALIDATION_ERROR', 'unknown field');
  assert.match(ack.error.message, /priority/, 'the message names the unknown field');
  const err = await c.waitFor('error', (e) => e.code === 'VALIDATION_ERROR', { since: since[0] });
  assert.match(err.message, /priority/);
  assert.deepEqual(await getTask(task.id), task, 'nothing applied, not even the valid field');
  await other.none(`task:${task.id}:updated`, () => true, { since: since[1] });
  await other.none('error', () => true, { since: since[1], ms: 0 });
});

test('task:update with a stale version is refused with CONFLICT; with the current version it applies', T, async () => {
  const c = await connect();
  const other = await connect();
  const task = await sockCreate(c, { title: uid('versioned') });
  const ok = assertOk(await c.ack('task:update', { id: task.id, title: 'first edit', version: task.version }));
  assert.equal(ok.task.version, task.version + 1);
  await delivered(task.id, 'task.updated', c, other);
  const since = [c.mark(), other.mark()];
  const stale = await c.ack('task:update', { id: task.id, title: 'lost edit', version: task.version });
  assertRefused(stale, 'CONFLICT', 'stale version');
  await c.waitFor('error', (e) => e.code === 'CONFLICT', { since: since[0] });
  const now = await getTask(task.id);
  assert.equal(now.title, 'first edit');
  assert.equal(now.version, task.version + 1);
  await other.none(`task:${task.id}:updated`, () => true, { since: since[1] });
});

test('task:update of the status fires task:moved, and into DONE a celebration, like a move', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('update status') });
  const since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('task:update', { id: task.id, status: 'DONE' }));
  for (const [i, c] of [adam, nick].entries()) {
    const moved = await c.waitFor('task:moved', (d) => d.taskId === task.id, { since: since[i] });
    assert.deepEqual(moved, { taskId: task.id, newStatus: 'DONE', movedBy: adamName });
    const party = await c.waitFor('celebration', (d) => d.taskId === task.id, { since: since[i] });
    assert.deepEqual(party, { user: adamName, taskId: task.id });
  }
});

test('task:update accepts taskId for id and assignedTo for assignee; an empty assignee clears it to null', T, async () => {
  const c = await connect();
  const task = await sockCreate(c, { title: uid('spellings'), assignee: 'amy' });
  const a = assertOk(await c.ack('task:update', { taskId: task.id, assignedTo: 'bob' }));
  assert.equal(a.task.assignee, 'bob');
  const b = assertOk(await c.ack('task:update', { id: String(task.id), assignee: '' }));
  assert.equal(b.task.assignee, null, 'an empty assignee means unassigned; a numeric-string id is accepted');
});

test('task:update of a missing task is refused with TASK_NOT_FOUND naming the id', T, async () => {
  const c = await connect();
  const since = c.mark();
  const ack = await c.ack('task:update', { id: 987654321, title: 'nope' });
  assertRefused(ack, 'TASK_NOT_FOUND', 'missing task');
  assert.match(ack.error.message, /987654321/);
  await c.waitFor('error', (e) => e.code === 'TASK_NOT_FOUND', { since });
});

// ---------------------------------------------------------------------------------------------------------------
// task:move

test('task:move acknowledges { ok, task } and every socket gets task:moved, task:{id}:updated and activity task.moved', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('move me') });
  const since = [adam.mark(), nick.mark()];
  const ack = assertOk(await adam.ack('task:move', { taskId: task.id, status: 'IN_PROGRESS' }));
  assertTask(ack.task, 'ack.task');
  assert.equal(ack.task.status, 'IN_PROGRESS');
  assert.equal(ack.task.version, task.version + 1);
  for (const [i, c] of [adam, nick].entries()) {
    const moved = await c.waitFor('task:moved', (d) => d.taskId === task.id, { since: since[i] });
    assert.deepEqual(moved, { taskId: task.id, newStatus: 'IN_PROGRESS', movedBy: adamName });
    const patch = await c.waitFor(`task:${task.id}:updated`, () => true, { since: since[i] });
    assert.equal(patch.status, 'IN_PROGRESS');
    assert.equal(patch.version, ack.task.version);
    for (const f of ['title', 'description', 'assignee', 'createdBy', 'createdAt']) assert.ok(!(f in patch), `patch leaks ${f}`);
    const act = await c.waitFor('activity', (e) => e.taskId === task.id && e.type === 'task.moved', { since: since[i] });
    assert.equal(act.user, adamName);
  }
  await nick.none('celebration', (d) => d.taskId === task.id, { since: since[1] });
});

test('task:move without position puts the task at the end of its new column', T, async () => {
  const c = await connect();
  for (let i = 0; i < 3; i++) await sockCreate(c, { title: uid('blocked filler'), status: 'BLOCKED' });
  const task = await sockCreate(c, { title: uid('goes last') });
  const ack = assertOk(await c.ack('task:move', { taskId: task.id, status: 'BLOCKED' }));
  const column = (await listTasks('?status=BLOCKED')).sort((a, b) => a.position - b.position);
  assert.equal(column.at(-1).id, task.id, `the moved task is last: ${JSON.stringify(column.map((t) => [t.id, t.position]))}`);
  assert.ok(column.slice(0, -1).every((t) => t.position < ack.task.position), 'strictly after every other card');
});

test('a status change by task:update also puts the task at the end of its new column', T, async () => {
  const c = await connect();
  for (let i = 0; i < 2; i++) await sockCreate(c, { title: uid('in progress filler'), status: 'IN_PROGRESS' });
  const task = await sockCreate(c, { title: uid('updated last') });
  const ack = assertOk(await c.ack('task:update', { id: task.id, status: 'IN_PROGRESS' }));
  const column = (await listTasks('?status=IN_PROGRESS')).sort((a, b) => a.position - b.position);
  assert.equal(column.at(-1).id, task.id, `the task is last: ${JSON.stringify(column.map((t) => [t.id, t.position]))}`);
  assert.ok(column.slice(0, -1).every((t) => t.position < ack.task.position));
});

test('task:move with position 0 puts the task at the top of its column', T, async () => {
  const c = await connect();
  for (let i = 0; i < 3; i++) await sockCreate(c, { title: uid('review filler'), status: 'REVIEW' });
  const task = await sockCreate(c, { title: uid('goes first') });
  const ack = assertOk(await c.ack('task:move', { taskId: task.id, status: 'REVIEW', position: 0 }));
  assert.equal(ack.task.position, 0, 'task:move honours position');
  const column = (await listTasks('?status=REVIEW')).sort((a, b) => a.position - b.position);
  assert.equal(column[0].id, task.id);
  assert.ok(column.slice(1).every((t) => t.position > 0), `no other card shares the top: ${JSON.stringify(column.map((t) => [t.id, t.position]))}`);
});

test('task:move into the same column without position changes nothing and emits nothing', T, async () => {
  const c = await connect();
  const other = await connect();
  const task = await sockCreate(c, { title: uid('stay') });
  await delivered(task.id, 'task.created', c, other);
  const since = [c.mark(), other.mark()];
  const ack = assertOk(await c.ack('task:move', { taskId: task.id, status: 'TODO' }));
  assert.deepEqual(ack.task, task, 'acknowledges the unchanged task');
  for (const [i, x] of [c, other].entries()) {
    await x.none(`task:${task.id}:updated`, () => true, { since: since[i], ms: i ? 0 : 400 });
    await x.none('task:moved', (d) => d.taskId === task.id, { since: since[i], ms: 0 });
    await x.none('activity', (e) => e.taskId === task.id, { since: since[i], ms: 0 });
  }
  assert.deepEqual(await getTask(task.id), task);
});

test('celebration goes to everyone only on a transition into DONE', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('finish'), status: 'REVIEW' });
  let since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('task:move', { taskId: task.id, status: 'DONE' }));
  for (const [i, c] of [adam, nick].entries()) {
    assert.deepEqual(await c.waitFor('celebration', (d) => d.taskId === task.id, { since: since[i] }), { user: adamName, taskId: task.id });
  }
  since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('task:move', { taskId: task.id, status: 'DONE' }));
  assertOk(await adam.ack('task:update', { id: task.id, status: 'DONE', description: 'polish' }));
  await nick.none('celebration', (d) => d.taskId === task.id, { since: since[1] });
  await adam.none('celebration', (d) => d.taskId === task.id, { since: since[0], ms: 0 });
  assertOk(await adam.ack('task:move', { taskId: task.id, status: 'REVIEW' }));
  since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('task:move', { taskId: task.id, status: 'DONE' }));
  await nick.waitFor('celebration', (d) => d.taskId === task.id, { since: since[1] });
});

test('task:move of a missing task is refused with TASK_NOT_FOUND', T, async () => {
  const c = await connect();
  const since = c.mark();
  assertRefused(await c.ack('task:move', { taskId: 987654322, status: 'DONE' }), 'TASK_NOT_FOUND', 'missing task');
  await c.waitFor('error', (e) => e.code === 'TASK_NOT_FOUND', { since });
});

// ---------------------------------------------------------------------------------------------------------------
// task:delete

test('task:delete acknowledges { ok } and every socket gets task:{id}:deleted, task:deleted and activity; a second delete is TASK_NOT_FOUND', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('delete me') });
  const since = [adam.mark(), nick.mark()];
  const ack = await adam.ack('task:delete', { taskId: task.id });
  assert.equal(ack?.ok, true, JSON.stringify(ack));
  for (const [i, c] of [adam, nick].entries()) {
    assert.deepEqual(await c.waitFor(`task:${task.id}:deleted`, () => true, { since: since[i] }), { id: task.id });
    assert.deepEqual(await c.waitFor('task:deleted', (d) => d.taskId === task.id, { since: since[i] }), { taskId: task.id, deletedBy: adamName });
    const act = await c.waitFor('activity', (e) => e.taskId === task.id && e.type === 'task.deleted', { since: since[i] });
    assert.equal(act.user, adamName);
  }
  assert.equal(await getTask(task.id), null);
  const s2 = adam.mark();
  assertRefused(await adam.ack('task:delete', { taskId: task.id }), 'TASK_NOT_FOUND', 'second delete');
  await adam.waitFor('error', (e) => e.code === 'TASK_NOT_FOUND', { since: s2 });
});

// ---------------------------------------------------------------------------------------------------------------
// typing:start / typing:stop

test('typing:start and typing:stop are acknowledged; the others get typing:update, the typist does not', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await joined(uid('Nick'));
  let since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('typing:start', {}), 'typing:start');
  const on = await nick.waitFor('typing:update', (l) => Array.isArray(l) && l.includes(adamName), { since: since[1] });
  assert.ok(on.every((x) => typeof x === 'string'), `typing:update is a list of names: ${JSON.stringify(on)}`);
  await adam.none('typing:update', () => true, { since: since[0], ms: 200 });
  since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('typing:stop', {}), 'typing:stop');
  await nick.waitFor('typing:update', (l) => Array.isArray(l) && !l.includes(adamName), { since: since[1] });
  await adam.none('typing:update', () => true, { since: since[0], ms: 200 });
  // The seed sends typing:start with no payload at all.
  since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('typing:start'), 'typing:start without payload');
  await nick.waitFor('typing:update', (l) => l.includes(adamName), { since: since[1] });
  assertOk(await adam.ack('typing:stop'), 'typing:stop without payload');
});

test('typing ends by itself about 3 s after the last typing:start', { timeout: 30000 }, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await joined(uid('Nick'));
  let since = nick.mark();
  assertOk(await adam.ack('typing:start', {}));
  await nick.waitFor('typing:update', (l) => l.includes(adamName), { since });
  await sleep(1500);
  since = nick.mark();
  assertOk(await adam.ack('typing:start', {}));
  const renewed = Date.now();
  const off = await nick.waitEntry('typing:update', (l) => Array.isArray(l) && !l.includes(adamName), { since, timeout: 8000 });
  const waited = Date.now() - renewed;
  assert.ok(off, 'typing ended');
  assert.ok(waited >= 2500 && waited <= 4500, `typing must end about 3 s after the last start, took ${waited} ms`);
});

// ---------------------------------------------------------------------------------------------------------------
// task:drag:start / task:drag:end

test('task:drag:start and task:drag:end are acknowledged; the others get task:drag:other, the dragger does not', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('drag') });
  let since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('task:drag:start', { taskId: task.id }), 'drag:start');
  assert.deepEqual(await nick.waitFor('task:drag:other', (d) => d.taskId === task.id, { since: since[1] }), { taskId: task.id, user: adamName });
  await adam.none('task:drag:other', () => true, { since: since[0], ms: 200 });
  since = [adam.mark(), nick.mark()];
  assertOk(await adam.ack('task:drag:end', { taskId: task.id }), 'drag:end');
  assert.deepEqual(await nick.waitFor('task:drag:other', (d) => d.taskId === task.id, { since: since[1] }), { taskId: task.id, user: null });
  await adam.none('task:drag:other', () => true, { since: since[0], ms: 200 });
  assert.deepEqual(await getTask(task.id), task, 'dragging alone changes nothing');
});

test('a drag lock refuses other sockets\' update, move, delete and drag:start with TASK_LOCKED, also the same person\'s other tab', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const adamTab2 = await joined(adamName);
  const nick = await joined(uid('Nick'));
  const task = await sockCreate(adam, { title: uid('locked') });
  assertOk(await adam.ack('task:drag:start', { taskId: task.id }));
  await nick.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === adamName);
  for (const c of [nick, adamTab2]) {
    const attempts = [
      ['task:update', { id: task.id, title: 'sneaky' }],
      ['task:move', { taskId: task.id, status: 'DONE' }],
      ['task:delete', { taskId: task.id }],
      ['task:drag:start', { taskId: task.id }],
    ];
    for (const [cmd, payload] of attempts) {
      const since = c.mark();
      assertRefused(await c.ack(cmd, payload), 'TASK_LOCKED', `${cmd} of a task another socket drags`);
      await c.waitFor('error', (e) => e.code === 'TASK_LOCKED', { since });
    }
  }
  // Ending someone else's drag does not release it.
  await nick.ack('task:drag:end', { taskId: task.id });
  assertRefused(await nick.ack('task:move', { taskId: task.id, status: 'DONE' }), 'TASK_LOCKED', 'move after a foreign drag:end');
  assert.deepEqual(await getTask(task.id), task, 'refused commands change nothing');
  // The holder itself may edit the task it drags.
  const own = assertOk(await adam.ack('task:update', { id: task.id, description: 'holder edits' }), 'holder update');
  assert.equal(own.task.description, 'holder edits');
  assertOk(await adam.ack('task:drag:end', { taskId: task.id }));
  assertOk(await nick.ack('task:move', { taskId: task.id, status: 'REVIEW' }), 'after drag:end anyone may move it');
});

test('the holder\'s move ends its drag lock and the others get task:drag:other { user: null }', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('drop') });
  assertOk(await adam.ack('task:drag:start', { taskId: task.id }));
  await nick.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === adamName);
  const since = nick.mark();
  const moved = assertOk(await adam.ack('task:move', { taskId: task.id, status: 'IN_PROGRESS' }), 'holder move');
  assert.equal(moved.task.status, 'IN_PROGRESS');
  assert.deepEqual(await nick.waitFor('task:drag:other', (d) => d.taskId === task.id, { since }), { taskId: task.id, user: null });
  assertOk(await nick.ack('task:drag:start', { taskId: task.id }), 'the lock is free after the holder\'s move');
  assertOk(await nick.ack('task:drag:end', { taskId: task.id }));
});

test('a drag lock ends when its socket disconnects, and the others get task:drag:other { user: null }', T, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('dropped connection') });
  assertOk(await adam.ack('task:drag:start', { taskId: task.id }));
  await nick.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === adamName);
  const since = nick.mark();
  adam.close();
  assert.deepEqual(await nick.waitFor('task:drag:other', (d) => d.taskId === task.id, { since }), { taskId: task.id, user: null });
  assertOk(await nick.ack('task:move', { taskId: task.id, status: 'REVIEW' }), 'free after the holder disconnected');
});

test('a drag lock ends by itself after 30 s', { timeout: 60000 }, async () => {
  const adamName = uid('Adam');
  const adam = await joined(adamName);
  const nick = await connect();
  const task = await sockCreate(adam, { title: uid('forgotten drag') });
  assertOk(await adam.ack('task:drag:start', { taskId: task.id }));
  const t0 = Date.now();
  await nick.waitFor('task:drag:other', (d) => d.taskId === task.id && d.user === adamName);
  const since = nick.mark();
  assertRefused(await nick.ack('task:move', { taskId: task.id, status: 'DONE' }), 'TASK_LOCKED', 'still locked');
  const end = await nick.waitFor('task:drag:other', (d) => d.taskId === task.id, { since, timeout: 40000 });
  const waited = Date.now() - t0;
  assert.equal(end.user, null);
  assert.ok(waited >= 28000 && waited <= 35000, `the lock must end about 30 s after drag:start, took ${waited} ms`);
  assertOk(await nick.ack('task:move', { taskId: task.id, status: 'DONE' }), 'free after the timeout');
});

test('task:drag:start on a missing task is refused with TASK_NOT_FOUND', T, async () => {
  const c = await connect();
  const other = await connect();
  const since = [c.mark(), other.mark()];
  assertRefused(await c.ack('task:drag:start', { taskId: 987654323 }), 'TASK_NOT_FOUND', 'drag of a missing task');
  await c.waitFor('error', (e) => e.code === 'TASK_NOT_FOUND', { since: since[0] });
  await other.none('task:drag:other', () => true, { since: since[1] });
});

// ---------------------------------------------------------------------------------------------------------------
// agent:status

test('agent:status upserts the agent; every socket, the sender included, gets agent:{id}:status and activity agent.status', T, async () => {
  const id = uid('agent');
  const bot = await connect({ name: id });
  const watcher = await connect();
  const since = [bot.mark(), watcher.mark()];
  assertOk(await bot.ack('agent:status', { id, name: 'Build Bot', status: 'busy', currentTaskId: null }), 'agent:status');
  for (const [i, c] of [bot, watcher].entries()) {
    const e = await c.waitEntry(`agent:${id}:status`, (d) => d.status === 'busy', { since: since[i] });
    assert.equal(e.data.id, id);
    assert.equal(e.data.currentTaskId, null);
    seqOf(e);
    await c.waitFor('activity', (a) => a.type === 'agent.status', { since: since[i] });
  }
  const r = await api('GET', `/api/agents/${id}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.name, 'Build Bot');
  assert.equal(r.body.status, 'busy');
});

test('agent:status heartbeats with an unchanged status record no activity', T, async () => {
  const id = uid('agent');
  const bot = await connect();
  const watcher = await connect();
  assertOk(await bot.ack('agent:status', { id, status: 'idle' }));
  await watcher.waitFor(`agent:${id}:status`, (d) => d.status === 'idle');
  await watcher.waitFor('activity', (a) => a.type === 'agent.status');
  const since = watcher.mark();
  const before = (await api('GET', `/api/agents/${id}`)).body.lastSeen;
  await sleep(20);
  assertOk(await bot.ack('agent:status', { id, status: 'idle' }), 'heartbeat');
  assertOk(await bot.ack('agent:status', { id, status: 'idle' }), 'heartbeat');
  await watcher.none('activity', (a) => a.type === 'agent.status', { since });
  const after = (await api('GET', `/api/agents/${id}`)).body.lastSeen;
  assert.ok(Date.parse(after) >= Date.parse(before), 'a heartbeat refreshes lastSeen');
  const s2 = watcher.mark();
  assertOk(await bot.ack('agent:status', { id, status: 'error' }));
  await watcher.waitFor('activity', (a) => a.type === 'agent.status', { since: s2 });
});

test('agent:status currentTaskId must name an existing task (number or numeric string) or be null, else TASK_NOT_FOUND', T, async () => {
  const id = uid('agent');
  const bot = await connect();
  const watcher = await connect();
  const task = await sockCreate(bot, { title: uid('agent work') });
  let since = watcher.mark();
  assertOk(await bot.ack('agent:status', { id, status: 'busy', currentTaskId: task.id }));
  assert.equal((await watcher.waitFor(`agent:${id}:status`, () => true, { since })).currentTaskId, task.id);
  since = watcher.mark();
  assertOk(await bot.ack('agent:status', { id, status: 'busy', currentTaskId: null }));
  assert.equal((await watcher.waitFor(`agent:${id}:status`, () => true, { since })).currentTaskId, null);
  since = watcher.mark();
  assertOk(await bot.ack('agent:status', { id, status: 'busy', currentTaskId: String(task.id) }));
  assert.equal((await watcher.waitFor(`agent:${id}:status`, () => true, { since })).currentTaskId, task.id, 'a numeric-string id becomes a number');
  const s = [bot.mark(), watcher.mark()];
  const ack = await bot.ack('agent:status', { id, status: 'idle', currentTaskId: 987654324 });
  assertRefused(ack, 'TASK_NOT_FOUND', 'currentTaskId naming no task');
  await bot.waitFor('error', (e) => e.code === 'TASK_NOT_FOUND', { since: s[0] });
  await watcher.none(`agent:${id}:status`, () => true, { since: s[1] });
  const now = (await api('GET', `/api/agents/${id}`)).body;
  assert.equal(now.status, 'busy', 'the refused report changed nothing');
  assert.equal(now.currentTaskId, task.id);
  const fresh = uid('agent');
  assertRefused(await bot.ack('agent:status', { id: fresh, status: 'idle', currentTaskId: 987654324 }), 'TASK_NOT_FOUND', 'new agent');
  assert.equal((await api('GET', `/api/agents/${fresh}`)).status, 404, 'a refused report creates no agent');
});

test('agent:status with an illegal agent id is refused with VALIDATION_ERROR', T, async () => {
  const c = await connect();
  for (const id of ['has space', 'slash/y', 'colon:y', 'ümlaut', '', 'x'.repeat(65)]) {
    assertRefused(await c.ack('agent:status', { id, status: 'idle' }), 'VALIDATION_ERROR', `agent id ${JSON.stringify(id)}`);
  }
  assertOk(await c.ack('agent:status', { id: `A-z_0.9-${uid('ok')}`, status: 'idle' }), 'letters, digits, _ . - are legal');
  assertOk(await c.ack('agent:status', { id: 'y'.repeat(64), status: 'idle' }), '64 characters are legal');
});

test('an agent goes offline when the socket that last reported it disconnects, not an earlier one', T, async () => {
  const id = uid('agent');
  const first = await connect();
  const second = await connect();
  const watcher = await connect();
  assertOk(await first.ack('agent:status', { id, status: 'busy' }));
  assertOk(await second.ack('agent:status', { id, status: 'busy' }));
  let since = watcher.mark();
  first.close();
  await watcher.none(`agent:${id}:status`, (d) => d.status === 'offline', { since, ms: 500 });
  since = watcher.mark();
  second.close();
  const off = await watcher.waitEntry(`agent:${id}:status`, (d) => d.status === 'offline', { since });
  assert.equal(off.data.id, id);
  seqOf(off);
  assert.equal((await api('GET', `/api/agents/${id}`)).body.status, 'offline');
});

// ---------------------------------------------------------------------------------------------------------------
// subscribe

/** One REST task created and deleted: the events every subscriber is filtered from. */
async function churn() {
  const task = await restCreate({ title: uid('churn') });
  const del = await api('DELETE', `/api/tasks/${task.id}`);
  assert.equal(del.status, 204);
  return task;
}

test('subscribe: "*" matches exactly one segment, "**" one or more', T, async () => {
  const patterns = { one: ['task:*'], two: ['task:*:*'], deep: ['task:**'], all: ['**'] };
  const subs = {};
  for (const [k, p] of Object.entries(patterns)) {
    subs[k] = await connect();
    assertOk(await subs[k].ack('subscribe', { patterns: p }), `subscribe ${p}`);
  }
  const since = Object.fromEntries(Object.entries(subs).map(([k, c]) => [k, c.mark()]));
  const task = await churn();
  const id = task.id;
  // everyone waits for its last expected event, then checks the whole set
  await subs.one.waitFor('task:deleted', (d) => d.taskId === id, { since: since.one });
  await subs.two.waitFor(`task:${id}:deleted`, () => true, { since: since.two });
  await subs.deep.waitFor(`task:${id}:deleted`, () => true, { since: since.deep });
  await subs.deep.waitFor('task:deleted', (d) => d.taskId === id, { since: since.deep });
  await subs.all.waitFor('activity', (a) => a.taskId === id && a.type === 'task.deleted', { since: since.all });
  await sleep(200);
  const got = (k) => new Set(subs[k].names(since[k]));
  assert.deepEqual([...got('one')].sort(), ['task:created', 'task:deleted'], '"task:*" gets the two-segment events only');
  assert.deepEqual([...got('two')].sort(), [`task:${id}:created`, `task:${id}:deleted`], '"task:*:*" gets the three-segment events only');
  assert.deepEqual([...got('deep')].sort(), ['task:created', 'task:deleted', `task:${id}:created`, `task:${id}:deleted`].sort(), '"task:**" gets both families');
  for (const name of ['task:created', `task:${id}:created`, 'activity']) assert.ok(got('all').has(name), `"**" gets ${name}`);
});

test('subscribe: "**" at the start or in the middle of a pattern matches one or more segments', T, async () => {
  const end = await connect();
  assertOk(await end.ack('subscribe', { patterns: ['**:deleted'] }));
  const mid = await connect();
  assertOk(await mid.ack('subscribe', { patterns: ['task:**:created'] }));
  const since = [end.mark(), mid.mark()];
  const { id } = await churn();
  await end.waitFor('task:deleted', (d) => d.taskId === id, { since: since[0] });
  await end.waitFor(`task:${id}:deleted`, () => true, { since: since[0] });
  await mid.waitFor(`task:${id}:created`, () => true, { since: since[1] });
  await sleep(200);
  assert.deepEqual(end.names(since[0]).sort(), ['task:deleted', `task:${id}:deleted`].sort());
  assert.deepEqual(mid.names(since[1]), [`task:${id}:created`], '"task:**:created" needs at least one segment between');
});

test('subscribe [] stops every broadcast, ephemeral ones too, but the socket\'s own errors still arrive', T, async () => {
  const quiet = await joined(uid('Quiet'));
  assertOk(await quiet.ack('subscribe', { patterns: [] }), 'subscribe []');
  const since = quiet.mark();
  const adam = await joined(uid('Adam'));
  const task = await sockCreate(adam, { title: uid('unseen') });
  await adam.ack('typing:start', {});
  await adam.ack('task:drag:start', { taskId: task.id });
  await adam.ack('task:move', { taskId: task.id, status: 'DONE' });
  await adam.ack('agent:status', { id: uid('agent'), status: 'idle' });
  assertRefused(await quiet.ack('task:delete', { taskId: 987654325 }), 'TASK_NOT_FOUND', 'own failing command');
  await quiet.waitFor('error', (e) => e.code === 'TASK_NOT_FOUND', { since });
  await sleep(300);
  assert.deepEqual(quiet.names(since), ['error'], 'nothing but the socket\'s own error');
});

test('each subscribe replaces the previous patterns', T, async () => {
  const c = await connect();
  assertOk(await c.ack('subscribe', { patterns: ['activity'] }));
  let since = c.mark();
  const a = await restCreate({ title: uid('seen') });
  await c.waitFor('activity', (e) => e.taskId === a.id, { since });
  assertOk(await c.ack('subscribe', { patterns: ['task:*'] }));
  since = c.mark();
  const b = await restCreate({ title: uid('seen by the second pattern') });
  await c.waitFor('task:created', (d) => d.task?.id === b.id, { since });
  await sleep(200);
  assert.deepEqual(c.names(since), ['task:created'], 'activity is no longer received');
});

test('auth.subscribe at the handshake sets the patterns from the start; sync:full is never filtered', T, async () => {
  const c = await connect({ extraAuth: { subscribe: ['task:*:deleted'] } });
  assert.equal(c.syncs.length, 1, 'sync:full arrives whatever the patterns');
  const none = await connect({ extraAuth: { subscribe: [] } });
  assert.equal(none.syncs.length, 1, 'sync:full arrives even with no patterns');
  const since = [c.mark(), none.mark()];
  const { id } = await churn();
  await c.waitFor(`task:${id}:deleted`, () => true, { since: since[0] });
  await sleep(200);
  assert.deepEqual(c.names(since[0]), [`task:${id}:deleted`]);
  assert.deepEqual(none.names(since[1]), []);
});

// ---------------------------------------------------------------------------------------------------------------
// Unknown commands

test('an unknown command is refused with VALIDATION_ERROR "Unknown command …" and an error event', T, async () => {
  const c = await connect();
  const other = await connect();
  const since = [c.mark(), other.mark()];
  const ack = await c.ack('task:explode', { taskId: 1 });
  assertRefused(ack, 'VALIDATION_ERROR', 'unknown command');
  assert.match(ack.error.message, /^Unknown command/);
  const err = await c.waitFor('error', (e) => e.code === 'VALIDATION_ERROR', { since: since[0] });
  assert.match(err.message, /^Unknown command/);
  await other.none('error', () => true, { since: since[1] });
  assert.ok(c.connected && other.connected);
});

test('commands and broadcasts work the same over the long-polling transport', T, async () => {
  const poll = await connect({ transports: ['polling'], name: uid('Polly') });
  assert.equal(poll.socket.io.engine.transport.name, 'polling');
  const ws = await connect();
  const since = [poll.mark(), ws.mark()];
  const task = await sockCreate(poll, { title: uid('over polling') });
  await ws.waitFor(`task:${task.id}:created`, () => true, { since: since[1] });
  await poll.waitFor(`task:${task.id}:created`, () => true, { since: since[0] });
  assertOk(await ws.ack('task:move', { taskId: task.id, status: 'DONE' }));
  await poll.waitFor('celebration', (d) => d.taskId === task.id, { since: since[0] });
});

test('a command sent without an acknowledgement callback still fails with an error event', T, async () => {
  const c = await connect();
  const since = c.mark();
  c.socket.emit('task:update', { id: 987654326, title: 'x' });
  await c.waitFor('error', (e) => e.code === 'TASK_NOT_FOUND', { since });
  const s2 = c.mark();
  c.socket.emit('task:create', { title: uid('no ack') });
  await c.waitFor('task:created', () => true, { since: s2 });
});
