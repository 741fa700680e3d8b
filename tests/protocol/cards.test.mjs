// SPEC "Cards": labels per board, due dates, comments and who is looking, over sockets and REST, with the official
// socket.io-client against the real binary. (Mentions and notifications are not built yet.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, board, connect, joined, api, uid, assertOk, assertRefused, assertHttpError, RFC3339_UTC,
} from './helpers.mjs';
import { createToken } from './tokens.mjs';

useServer({ rateLimit: 0 });

const labelName = () => uid('label').slice(0, 40);

test('labels: created, renamed and deleted with a seq; names unique whatever the case; colours #rrggbb', async () => {
  const a = await connect();
  const b = await connect();
  const name = labelName();
  const made = await a.ack('label:create', { name, color: '#FF8800' });
  assertOk(made);
  assert.deepEqual(Object.keys(made.label).sort(), ['board', 'color', 'id', 'name']);
  assert.equal(made.label.color, '#ff8800');
  assert.equal(made.label.board, 'main');
  const ev = await b.waitEntry('label:created', (l) => l.id === made.label.id);
  assert.ok(Number.isInteger(ev.meta.seq), 'label events carry a seq');
  assertRefused(await a.ack('label:create', { name: name.toUpperCase(), color: '#000000' }), ['CONFLICT']);
  for (const bad of [{ name: '', color: '#000000' }, { name: 'x'.repeat(51), color: '#000000' }, { name: 'x', color: 'red' },
    { name: 'x', color: '#fff' }, { name: 'x' }]) {
    assertRefused(await a.ack('label:create', bad), ['VALIDATION_ERROR'], JSON.stringify(bad));
  }
  const renamed = await a.ack('label:update', { id: made.label.id, name: `${name}-2` });
  assertOk(renamed);
  await b.waitFor('label:updated', (l) => l.id === made.label.id && l.name === `${name}-2`);
  assertRefused(await a.ack('label:update', { id: 999999, name: 'nope' }), ['NOT_FOUND']);
  const fresh = await connect();
  assert.ok(fresh.syncs[0].labels.some((l) => l.id === made.label.id), 'sync:full carries the board\'s labels');
});

test('tasks carry labels (ids, in the order set), dueAt in UTC and commentCount; a label of another board is refused', async () => {
  const a = await connect();
  const [l1, l2] = [await a.ack('label:create', { name: labelName(), color: '#111111' }), await a.ack('label:create', { name: labelName(), color: '#222222' })];
  const made = await a.ack('task:create', { title: 'labelled', labels: [l2.label.id, l1.label.id], dueAt: '2027-03-01T18:00:00+02:00' });
  assertOk(made);
  assert.deepEqual(made.task.labels, [l2.label.id, l1.label.id]);
  assert.equal(made.task.dueAt, '2027-03-01T16:00:00.000Z');
  assert.match(made.task.dueAt, RFC3339_UTC);
  assert.equal(made.task.commentCount, 0);
  assert.deepEqual(made.task.blockedBy, []);
  const plain = await a.ack('task:create', { title: 'plain' });
  assert.deepEqual(plain.task.labels, []);
  assert.equal(plain.task.dueAt, null);
  const mark = a.mark();
  const updated = await a.ack('task:update', { id: plain.task.id, labels: [l1.label.id], dueAt: '2027-01-01T00:00:00Z' });
  assertOk(updated);
  const patch = await a.waitFor(`task:${plain.task.id}:updated`, () => true, { since: mark });
  assert.deepEqual(patch.labels, [l1.label.id]);
  assert.equal(patch.dueAt, '2027-01-01T00:00:00.000Z');
  const cleared = await a.ack('task:update', { id: plain.task.id, dueAt: null });
  assert.equal(cleared.task.dueAt, null);
  for (const bad of [{ dueAt: 'tomorrow' }, { dueAt: '10000-01-01T00:00:00Z' }, { labels: ['x'] }, { labels: 3 }, { labels: [987654] }]) {
    assertRefused(await a.ack('task:update', { id: plain.task.id, ...bad }), ['VALIDATION_ERROR'], JSON.stringify(bad));
  }
  const other = `lbl-${uid('b').replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
  await api('POST', '/api/boards', { id: other, name: 'Other' });
  const elsewhere = await api('POST', `/api/boards/${other}/labels`, { name: 'Elsewhere', color: '#333333' });
  assert.equal(elsewhere.status, 201, elsewhere.text);
  assertRefused(await a.ack('task:update', { id: plain.task.id, labels: [elsewhere.body.id] }), ['VALIDATION_ERROR']);
});

test('deleting a label takes it off its tasks, each sent as task:{id}:updated under the same seq', async () => {
  const a = await connect();
  const keep = await a.ack('label:create', { name: labelName(), color: '#aaaaaa' });
  const doomed = await a.ack('label:create', { name: labelName(), color: '#bbbbbb' });
  const t1 = await a.ack('task:create', { title: 'one', labels: [doomed.label.id, keep.label.id] });
  const t2 = await a.ack('task:create', { title: 'two', labels: [doomed.label.id] });
  const mark = a.mark();
  assertOk(await a.ack('label:delete', { id: doomed.label.id }));
  const gone = await a.waitEntry('label:deleted', (d) => d.id === doomed.label.id, { since: mark });
  const u1 = await a.waitEntry(`task:${t1.task.id}:updated`, () => true, { since: mark });
  const u2 = await a.waitEntry(`task:${t2.task.id}:updated`, () => true, { since: mark });
  assert.equal(u1.meta.seq, gone.meta.seq);
  assert.equal(u2.meta.seq, gone.meta.seq);
  assert.deepEqual(u1.data.labels, [keep.label.id]);
  assert.deepEqual(u2.data.labels, []);
  const stored = await api('GET', `/api/tasks/${t1.task.id}`);
  assert.deepEqual(stored.body.labels, [keep.label.id]);
});

test('comments: create, edit and delete by their author or an admin, live with a seq, in the feed and the history; the task\'s version stays', async () => {
  const srv = board.server;
  const adamToken = await createToken(srv, uid('Adam'), 'editor');
  const nickToken = await createToken(srv, uid('Nick'), 'editor');
  const adam = await connect({ apiKey: adamToken.token });
  const nick = await connect({ apiKey: nickToken.token });
  const task = (await adam.ack('task:create', { title: 'discuss me' })).task;
  const mark = nick.mark();
  const made = await adam.ack('comment:create', { taskId: task.id, body: ' First thoughts ', opId: uid('op') });
  assertOk(made);
  const c = made.comment;
  assert.deepEqual(Object.keys(c).sort(), ['author', 'board', 'body', 'createdAt', 'edited', 'id', 'taskId', 'updatedAt']);
  assert.equal(c.body, 'First thoughts');
  assert.equal(c.author, adamToken.name);
  assert.equal(c.edited, false);
  const ev = await nick.waitEntry('comment:created', (x) => x.id === c.id, { since: mark });
  assert.ok(Number.isInteger(ev.meta.seq));
  await nick.waitFor('activity', (a) => a.type === 'comment.created' && a.taskId === task.id, { since: mark });
  const after = await api('GET', `/api/tasks/${task.id}`);
  assert.equal(after.body.version, task.version, 'a comment is not an edit of its task');
  assert.equal(after.body.commentCount, 1);
  assertRefused(await nick.ack('comment:update', { id: c.id, body: 'hijack' }), ['FORBIDDEN']);
  assertRefused(await nick.ack('comment:delete', { id: c.id }), ['FORBIDDEN']);
  const edited = await adam.ack('comment:update', { id: c.id, body: 'Second thoughts' });
  assertOk(edited);
  assert.equal(edited.comment.edited, true);
  await nick.waitFor('comment:updated', (x) => x.id === c.id && x.body === 'Second thoughts');
  for (const body of ['', '   ', 'a\u0000b', 'x'.repeat(10_001)]) {
    assertRefused(await adam.ack('comment:create', { taskId: task.id, body }), ['VALIDATION_ERROR']);
  }
  assertRefused(await adam.ack('comment:create', { taskId: 99999999, body: 'x' }), ['TASK_NOT_FOUND']);
  const second = await nick.ack('comment:create', { taskId: task.id, body: 'mine' });
  // The team key is an admin: it may remove anyone's comment.
  const admin = await connect();
  assertOk(await admin.ack('comment:delete', { id: second.comment.id }));
  await adam.waitFor('comment:deleted', (x) => x.id === second.comment.id && x.taskId === task.id);
  const history = await api('GET', `/api/tasks/${task.id}/history`);
  const types = history.body.map((a) => a.type);
  assert.ok(['comment.created', 'comment.updated', 'comment.deleted'].every((t) => types.includes(t)), types.join());
});

test('REST: comments oldest first (201 on create), PATCH and DELETE /api/comments/:id; labels routes; filters label and dueBefore', async () => {
  const task = (await api('POST', '/api/tasks', { title: 'rest comments', dueAt: '2027-05-01T00:00:00Z' })).body;
  const first = await api('POST', `/api/tasks/${task.id}/comments`, { body: 'one' });
  assert.equal(first.status, 201, first.text);
  await api('POST', `/api/tasks/${task.id}/comments`, { body: 'two' });
  const list = await api('GET', `/api/tasks/${task.id}/comments`);
  assert.deepEqual(list.body.map((c) => c.body), ['one', 'two']);
  const patched = await api('PATCH', `/api/comments/${first.body.id}`, { body: 'uno' });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.body, 'uno');
  assert.equal((await api('DELETE', `/api/comments/${first.body.id}`)).status, 204);
  assertHttpError(await api('DELETE', `/api/comments/${first.body.id}`), [404], ['NOT_FOUND']);
  assertHttpError(await api('GET', '/api/tasks/99999999/comments'), [404], ['TASK_NOT_FOUND']);

  const name = labelName();
  const label = await api('POST', '/api/boards/main/labels', { name, color: '#123456' });
  assert.equal(label.status, 201, label.text);
  assertHttpError(await api('POST', '/api/boards/main/labels', { name: name.toUpperCase(), color: '#123456' }), [409], ['CONFLICT']);
  const listed = await api('GET', '/api/boards/main/labels');
  assert.ok(listed.body.some((l) => l.id === label.body.id));
  const renamed = await api('PATCH', `/api/boards/main/labels/${label.body.id}`, { color: '#654321' });
  assert.equal(renamed.body.color, '#654321');
  await api('PUT', `/api/tasks/${task.id}`, { labels: [label.body.id] });
  const byId = await api('GET', `/api/tasks?label=${label.body.id}`);
  assert.deepEqual(byId.body.map((t) => t.id), [task.id]);
  const byName = await api('GET', `/api/tasks?label=${encodeURIComponent(name.toUpperCase())}`);
  assert.deepEqual(byName.body.map((t) => t.id), [task.id]);
  const due = await api('GET', '/api/tasks?dueBefore=2027-05-02T00:00:00Z');
  assert.ok(due.body.some((t) => t.id === task.id));
  assert.ok(due.body.every((t) => t.dueAt && t.dueAt < '2027-05-02T00:00:00.000Z'));
  const notDue = await api('GET', '/api/tasks?dueBefore=2027-04-30T00:00:00Z');
  assert.ok(!notDue.body.some((t) => t.id === task.id));
  assertHttpError(await api('GET', '/api/tasks?dueBefore=soon'), [400], ['VALIDATION_ERROR']);
  assert.equal((await api('DELETE', `/api/boards/main/labels/${label.body.id}`)).status, 204);
  assert.deepEqual((await api('GET', `/api/tasks/${task.id}`)).body.labels, []);
});

test('who is looking: task:view tells the board\'s other sockets task:viewers; it ends with null, another view or a disconnect', async () => {
  const adam = await joined(uid('Adam'));
  const nick = await joined(uid('Nick'));
  const watcher = await connect();
  const task = (await adam.ack('task:create', { title: 'look at me' })).task;
  const other = (await adam.ack('task:create', { title: 'or me' })).task;
  const mark = watcher.mark();
  assertOk(await adam.ack('task:view', { taskId: task.id }));
  await watcher.waitFor('task:viewers', (v) => v.taskId === task.id && v.users.length === 1, { since: mark });
  assertOk(await nick.ack('task:view', { taskId: task.id }));
  const both = await watcher.waitFor('task:viewers', (v) => v.taskId === task.id && v.users.length === 2, { since: mark });
  assert.deepEqual(both.users, [...both.users].sort());
  assertOk(await nick.ack('task:view', { taskId: other.id }));
  await watcher.waitFor('task:viewers', (v) => v.taskId === task.id && v.users.length === 1, { since: mark });
  await watcher.waitFor('task:viewers', (v) => v.taskId === other.id && v.users.length === 1, { since: mark });
  assertOk(await adam.ack('task:view', { taskId: null }));
  await watcher.waitFor('task:viewers', (v) => v.taskId === task.id && v.users.length === 0, { since: mark });
  nick.close();
  await watcher.waitFor('task:viewers', (v) => v.taskId === other.id && v.users.length === 0, { since: mark });
  assertRefused(await adam.ack('task:view', { taskId: 99999999 }), ['TASK_NOT_FOUND']);
});

test('a task moved to another board keeps its comments and the labels of the same name there', async () => {
  const target = `mv-${uid('b').replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
  await api('POST', '/api/boards', { id: target, name: 'Target' });
  const name = labelName();
  const here = (await api('POST', '/api/boards/main/labels', { name, color: '#010101' })).body;
  const only = (await api('POST', '/api/boards/main/labels', { name: labelName(), color: '#020202' })).body;
  const there = (await api('POST', `/api/boards/${target}/labels`, { name: name.toUpperCase(), color: '#030303' })).body;
  const c = await connect();
  const task = (await c.ack('task:create', { title: 'travelling card', labels: [only.id, here.id] })).task;
  await c.ack('comment:create', { taskId: task.id, body: 'comes along' });
  const moved = await c.ack('task:move', { taskId: task.id, board: target });
  assertOk(moved);
  assert.deepEqual(moved.task.labels, [there.id]);
  assert.equal(moved.task.commentCount, 1);
  const comments = await api('GET', `/api/tasks/${task.id}/comments`);
  assert.equal(comments.body[0].board, target);
});

test('mentions and assignment notify the person live on any board, stored for GET /api/notifications; read marks them on every socket', async () => {
  const srv = board.server;
  const adamT = await createToken(srv, uid('Adam'), 'editor');
  const nickT = await createToken(srv, uid('Nick'), 'editor');
  const other = `nt-${uid('b').replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
  await api('POST', '/api/boards', { id: other, name: 'Elsewhere' });
  const adam = await connect({ apiKey: adamT.token });
  const nickHere = await connect({ apiKey: nickT.token });
  const nickThere = await connect({ apiKey: nickT.token, extraAuth: { board: other } });
  const before = nickThere.syncs[0].unreadNotifications;
  assert.equal(before, 0);
  const task = (await adam.ack('task:create', { title: 'needs Nick' })).task;
  const said = await adam.ack('comment:create', { taskId: task.id, body: `@${nickT.name.toUpperCase()} please look, and @Nobody too, @${adamT.name}` });
  assertOk(said);
  const n = await nickThere.waitFor('notification', (x) => x.type === 'mention');
  assert.deepEqual(Object.keys(n).sort(), ['board', 'by', 'commentId', 'createdAt', 'excerpt', 'id', 'readAt', 'taskId', 'type']);
  assert.equal(n.by, adamT.name);
  assert.equal(n.taskId, task.id);
  assert.equal(n.commentId, said.comment.id);
  assert.equal(n.board, 'main');
  assert.equal(n.readAt, null);
  assert.ok(n.excerpt.length <= 140);
  await nickHere.waitFor('notification', (x) => x.id === n.id);
  await sleepMs(200);
  assert.ok(!adam.entries('notification').length, 'one\'s own mention of oneself notifies nobody');
  assertOk(await adam.ack('task:update', { id: task.id, assignee: nickT.name }));
  const assigned = await nickHere.waitFor('notification', (x) => x.type === 'assigned' && x.taskId === task.id);
  const list = await api('GET', '/api/notifications?unread=true', undefined, { key: nickT.token });
  assert.deepEqual(list.body.map((x) => x.id).slice(0, 2), [assigned.id, n.id], 'newest first');
  const fresh = await connect({ apiKey: nickT.token });
  assert.equal(fresh.syncs[0].unreadNotifications, 2);
  const read = await api('POST', '/api/notifications/read', { ids: [n.id] }, { key: nickT.token });
  assert.equal(read.status, 200, read.text);
  assert.deepEqual(read.body.ids, [n.id]);
  await nickThere.waitFor('notifications:read', (x) => x.ids.includes(n.id));
  const unread = await api('GET', '/api/notifications?unread=true', undefined, { key: nickT.token });
  assert.deepEqual(unread.body.map((x) => x.id), [assigned.id]);
  const all = await nickHere.ack('notifications:read', {});
  assertOk(all);
  assert.deepEqual(all.ids, [assigned.id]);
  const none = await api('GET', '/api/notifications?unread=true', undefined, { key: nickT.token });
  assert.deepEqual(none.body, []);
  const adamsOwn = await api('GET', '/api/notifications', undefined, { key: adamT.token });
  assert.ok(!adamsOwn.body.some((x) => x.id === n.id), 'nobody reads another person\'s notifications');
});

test('an @ storm mentioning 500 names notifies each known person once and nobody unknown', async () => {
  const nickT = await createToken(board.server, uid('Nick'), 'editor');
  const nick = await connect({ apiKey: nickT.token });
  const writer = await joined(uid('Writer'));
  const task = (await writer.ack('task:create', { title: 'storm' })).task;
  const body = Array.from({ length: 500 }, (_, i) => (i % 100 === 0 ? `@${nickT.name}` : `@ghost${i}`)).join(' ');
  assertOk(await writer.ack('comment:create', { taskId: task.id, body }));
  await nick.waitFor('notification', (x) => x.taskId === task.id);
  await sleepMs(300);
  assert.equal(nick.entries('notification').filter((e) => e.data.taskId === task.id).length, 1);
});

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

test('export: the warroom-board JSON of everything on a board, its tasks as RFC 4180 CSV, and warroom export', async () => {
  const id = `ex-${uid('b').replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
  await api('POST', '/api/boards', { id, name: 'Export me' });
  const label = (await api('POST', `/api/boards/${id}/labels`, { name: 'ops', color: '#0000ff' })).body;
  const task = (await api('POST', `/api/boards/${id}/tasks`, { title: 'Say "hi", then go', description: 'two\nlines', labels: [label.id], dueAt: '2027-01-01T00:00:00Z' })).body;
  await api('POST', `/api/tasks/${task.id}/comments`, { body: 'first' });
  const json = await api('GET', `/api/boards/${id}/export`);
  assert.equal(json.status, 200, json.text);
  assert.equal(json.body.format, 'warroom-board');
  assert.equal(json.body.version, 1);
  assert.equal(json.body.board.id, id);
  assert.deepEqual(json.body.labels.map((l) => l.name), ['ops']);
  assert.deepEqual(json.body.tasks.map((t) => t.id), [task.id]);
  assert.deepEqual(json.body.comments.map((c) => c.body), ['first']);
  assert.ok(json.body.activity.some((a) => a.type === 'task.created'));
  const csv = await api('GET', `/api/boards/${id}/export?format=csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const [header, ...rows] = csv.text.split('\r\n');
  assert.equal(header, 'id,title,description,status,assignee,labels,dueAt,position,createdBy,createdAt,updatedAt');
  assert.ok(rows[0].startsWith(`${task.id},"Say ""hi"", then go","two\nlines",TODO,,ops,2027-01-01T00:00:00.000Z,0,api,`), rows[0]);
  assertHttpError(await api('GET', `/api/boards/${id}/export?format=xml`), [400], ['VALIDATION_ERROR']);
  assertHttpError(await api('GET', '/api/boards/nope-nope/export'), [404], ['BOARD_NOT_FOUND']);
  const { cli } = await import('./tokens.mjs');
  const viaCli = await cli(['export', '--url', board.url, '--key', board.key, '--board', id, '--format', 'csv']);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  assert.equal(viaCli.stdout, csv.text);
});

test('when the last blocker of a task reaches DONE, its assignee is notified: unblocked', async () => {
  const nickT = await createToken(board.server, uid('Nick'), 'editor');
  const nick = await connect({ apiKey: nickT.token });
  const adam = await joined(uid('Adam'));
  const first = (await adam.ack('task:create', { title: 'first' })).task;
  const second = (await adam.ack('task:create', { title: 'second' })).task;
  const waiting = (await adam.ack('task:create', { title: 'then this', blockedBy: [first.id, second.id], assignee: nickT.name })).task;
  await nick.waitFor('notification', (x) => x.type === 'assigned' && x.taskId === waiting.id);
  assertOk(await adam.ack('task:move', { taskId: first.id, status: 'DONE' }));
  assertOk(await adam.ack('task:move', { taskId: second.id, status: 'DONE' }));
  const n = await nick.waitFor('notification', (x) => x.type === 'unblocked');
  assert.equal(n.taskId, waiting.id);
  assert.equal(nick.entries('notification').filter((e) => e.data.type === 'unblocked').length, 1, 'only once, at the last blocker');
});
