// SPEC "Boards": several boards per team, each with its own tasks, events and seq; board changes reaching every
// socket that can see the board; handshake and REST scoping; tokens limited to boards; invite links.
// Against the real binary with the official socket.io-client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, board, connect, Client, api, uid, sleep, assertOk, assertRefused, assertHttpError, WAIT,
} from './helpers.mjs';
import { cli, createToken } from './tokens.mjs';

useServer({ rateLimit: 0 });

/** A fresh board id for one test. */
const boardId = (tag) => `${tag}-${uid('b').replace(/[^a-z0-9-]/g, '')}`.toLowerCase().slice(0, 64);

async function makeBoard(id, name = `Board ${id}`) {
  const r = await api('POST', '/api/boards', { id, name });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function refusal(auth) {
  const c = new Client({ auth });
  const err = await c.waitFor('connect_error');
  c.close();
  return err.message;
}

test('sync:full names the socket\'s board and every board the credential can see; tasks carry their board', async () => {
  const id = boardId('sync');
  await makeBoard(id, 'Sync board');
  const c = await connect();
  const sync = c.syncs[0];
  assert.equal(sync.board.id, 'main');
  assert.equal(typeof sync.board.name, 'string');
  assert.equal(sync.board.archived, false);
  const listed = sync.boards.map((b) => b.id);
  assert.ok(listed.includes('main') && listed.includes(id), JSON.stringify(listed));
  for (const b of sync.boards) {
    assert.deepEqual(Object.keys(b).sort(), ['archived', 'createdAt', 'createdBy', 'description', 'id', 'name']);
  }
  const ack = await c.ack('task:create', { title: 'on main' });
  assertOk(ack);
  assert.equal(ack.task.board, 'main');
});

test('each board has its own tasks, events and seq: a socket on one receives nothing of another', async () => {
  const id = boardId('iso');
  await makeBoard(id);
  const onMain = await connect();
  const onOther = await connect({ extraAuth: { board: id } });
  assert.equal(onOther.syncs[0].board.id, id);
  assert.deepEqual(onOther.syncs[0].tasks, [], 'a new board starts empty');
  assert.equal(onOther.syncs[0].seq, 0, 'a new board starts at seq 0');
  const mainMark = onMain.mark();
  const otherMark = onOther.mark();
  const created = await onOther.ack('task:create', { title: 'only on the other board' });
  assertOk(created);
  assert.equal(created.task.board, id);
  const ev = await onOther.waitEntry('task:created', (d) => d.task.id === created.task.id, { since: otherMark });
  assert.equal(ev.meta.seq, 1, 'the first change of a board is its seq 1');
  const onMainAck = await onMain.ack('task:create', { title: 'only on main' });
  assertOk(onMainAck);
  await onMain.waitFor('task:created', (d) => d.task.id === onMainAck.task.id);
  await sleep(300);
  assert.ok(!onMain.entries(undefined, mainMark).some((e) => JSON.stringify(e.data ?? '').includes('only on the other board')));
  assert.ok(!onOther.entries(undefined, otherMark).some((e) => JSON.stringify(e.data ?? '').includes('only on main')));
  // A task of another board is not found from here, and task ids stay unique across boards.
  assertRefused(await onMain.ack('task:update', { id: created.task.id, title: 'x' }), ['TASK_NOT_FOUND']);
  assert.notEqual(created.task.id, onMainAck.task.id);
  // REST reaches it by id, and lists it under its board.
  const byId = await api('GET', `/api/tasks/${created.task.id}`);
  assert.equal(byId.status, 200);
  assert.equal(byId.body.board, id);
  const listed = await api('GET', `/api/boards/${id}/tasks`);
  assert.deepEqual(listed.body.map((t) => t.id), [created.task.id]);
  const old = await api('GET', `/api/tasks?board=${id}`);
  assert.deepEqual(old.body.map((t) => t.id), [created.task.id]);
  const mainList = await api('GET', '/api/tasks');
  assert.ok(!mainList.body.some((t) => t.id === created.task.id), 'the old route means main');
});

test('agents\' status is team-wide: a report on one board reaches every board, once per agent in lists', async () => {
  const id = boardId('agents');
  await makeBoard(id);
  const agentId = uid('bot');
  const onOther = await connect({ extraAuth: { board: id } });
  const onMain = await connect();
  const mark = onOther.mark();
  assertOk(await onMain.ack('agent:status', { id: agentId, name: 'Team bot', status: 'busy' }), 'report on main');
  const here = await onMain.waitEntry(`agent:${agentId}:status`, () => true);
  assert.equal(typeof here.meta.seq, 'number', 'on its own board the change carries that board\'s seq');
  const there = await onOther.waitEntry(`agent:${agentId}:status`, () => true, { since: mark });
  assert.equal(there.data.status, 'busy');
  assert.equal(there.data.id, agentId);
  assert.equal(there.meta, undefined, 'another board\'s seq would be a gap here: no seq');
  // The agent reports again on the other board: one agent, its latest status, everywhere.
  await sleep(5);
  assertOk(await onOther.ack('agent:status', { id: agentId, status: 'idle' }), 'report on the other board');
  await onMain.waitFor(`agent:${agentId}:status`, (d) => d.status === 'idle');
  const listed = (await api('GET', '/api/agents')).body.filter((a) => a.id === agentId);
  assert.deepEqual(listed.map((a) => a.status), ['idle']);
  assert.equal((await api('GET', `/api/agents/${agentId}`)).body.status, 'idle');
  const fresh = await connect({ extraAuth: { board: id } });
  assert.deepEqual(fresh.syncs[0].agents.filter((a) => a.id === agentId).map((a) => a.status), ['idle']);
  const freshMain = await connect();
  assert.deepEqual(freshMain.syncs[0].agents.filter((a) => a.id === agentId).map((a) => a.status), ['idle']);
});

test('the handshake refuses an unknown board with BOARD_NOT_FOUND and a malformed id with VALIDATION_ERROR', async () => {
  assert.match(await refusal({ apiKey: board.key, board: 'no-such-board' }), /^BOARD_NOT_FOUND/);
  for (const bad of ['Main', 'a b', '../x', 'x'.repeat(65), 7]) {
    assert.match(await refusal({ apiKey: board.key, board: bad }), /^VALIDATION_ERROR/, String(bad));
  }
});

test('board:create, board:update and board:delete reach every socket that can see the board; main stays', async () => {
  const watcher = await connect();
  const admin = await connect();
  const id = boardId('life');
  const created = await admin.ack('board:create', { id, name: 'Life cycle', description: 'first' });
  assertOk(created);
  assert.equal(created.board.id, id);
  const ev = await watcher.waitEntry('board:created', (b) => b.id === id);
  assert.equal(ev.data.name, 'Life cycle');
  assert.equal(ev.meta, undefined, 'board events carry no seq');
  assertRefused(await admin.ack('board:create', { id, name: 'again' }), ['CONFLICT']);
  assertRefused(await admin.ack('board:create', { id: 'Bad Id', name: 'x' }), ['VALIDATION_ERROR']);
  const slugged = await admin.ack('board:create', { name: `Made From ${id}` });
  assertOk(slugged);
  assert.equal(slugged.board.id, `made-from-${id}`);

  const onIt = await connect({ extraAuth: { board: id } });
  const updated = await admin.ack('board:update', { id, name: 'Renamed', archived: true });
  assertOk(updated);
  assert.equal(updated.board.name, 'Renamed');
  await watcher.waitFor('board:updated', (b) => b.id === id && b.name === 'Renamed' && b.archived === true);
  await onIt.waitFor('board:updated', (b) => b.id === id);
  assertRefused(await admin.ack('board:update', { id: 'main', archived: true }), ['VALIDATION_ERROR']);
  assertRefused(await admin.ack('board:delete', { id: 'main' }), ['VALIDATION_ERROR']);
  assertRefused(await admin.ack('board:delete', { id: 'never-made' }), ['BOARD_NOT_FOUND']);

  await onIt.ack('task:create', { title: 'goes with its board' });
  const deleted = await admin.ack('board:delete', { id });
  assertOk(deleted);
  await watcher.waitFor('board:deleted', (d) => d.id === id);
  await onIt.waitFor('board:deleted', (d) => d.id === id);
  await onIt.waitFor('disconnect');
  const gone = await api('GET', `/api/boards/${id}/tasks`);
  assertHttpError(gone, [404], ['BOARD_NOT_FOUND']);
  assert.match(await refusal({ apiKey: board.key, board: id }), /^BOARD_NOT_FOUND/);
});

test('twenty clients creating the same board id: exactly one board and nineteen CONFLICTs', async () => {
  const id = boardId('race');
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect()));
  const acks = await Promise.all(clients.map((c, i) => c.ack('board:create', { id, name: `racer ${i}` })));
  assert.equal(acks.filter((a) => a.ok).length, 1, JSON.stringify(acks.filter((a) => !a.ok).slice(0, 2)));
  assert.equal(acks.filter((a) => a.error?.code === 'CONFLICT').length, 19);
  const list = await api('GET', '/api/boards');
  assert.equal(list.body.filter((b) => b.id === id).length, 1);
});

test('REST: /api/boards lists, creates (201), reads, patches and deletes (204)', async () => {
  const id = boardId('rest');
  const made = await api('POST', '/api/boards', { id, name: 'REST board', description: 'd' });
  assert.equal(made.status, 201);
  assert.equal(made.body.createdBy, 'api');
  assert.equal((await api('GET', `/api/boards/${id}`)).body.description, 'd');
  const patched = await api('PATCH', `/api/boards/${id}`, { name: 'Renamed over REST' });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.name, 'Renamed over REST');
  const task = await api('POST', `/api/boards/${id}/tasks`, { title: 'made over REST' });
  assert.equal(task.status, 201);
  assert.equal(task.body.board, id);
  const feed = await api('GET', `/api/boards/${id}/activity`);
  assert.equal(feed.status, 200);
  assert.ok(feed.body.some((a) => a.taskId === task.body.id));
  assertHttpError(await api('GET', '/api/boards/Nope'), [400], ['VALIDATION_ERROR']);
  assertHttpError(await api('GET', '/api/boards/nope-nope'), [404], ['BOARD_NOT_FOUND']);
  assertHttpError(await api('DELETE', '/api/boards/main'), [400], ['VALIDATION_ERROR']);
  assert.equal((await api('DELETE', `/api/boards/${id}`)).status, 204);
  assertHttpError(await api('GET', `/api/tasks/${task.body.id}`), [404], ['TASK_NOT_FOUND']);
});

test('a token limited to a board reaches only that board, over socket and REST; only admins change boards', async () => {
  const web = boardId('web');
  const ops = boardId('ops');
  await makeBoard(web);
  await makeBoard(ops);
  const editor = await createToken(board.server, 'Scoped Sam', 'editor', [web]);
  assert.match(await refusal({ apiKey: editor.token }), /^FORBIDDEN/, 'main is outside its boards');
  assert.match(await refusal({ apiKey: editor.token, board: ops }), /^FORBIDDEN/);
  const c = await connect({ apiKey: editor.token, extraAuth: { board: web } });
  assert.deepEqual(c.syncs[0].boards.map((b) => b.id), [web], 'it never sees other boards listed');
  assertOk(await c.ack('task:create', { title: 'scoped work' }));
  assertRefused(await c.ack('board:create', { id: boardId('no'), name: 'no' }), ['FORBIDDEN']);
  const seen = await api('GET', '/api/boards', undefined, { key: editor.token });
  assert.deepEqual(seen.body.map((b) => b.id), [web]);
  assertHttpError(await api('GET', '/api/tasks', undefined, { key: editor.token }), [403], ['FORBIDDEN']);
  assertHttpError(await api('GET', `/api/boards/${ops}/tasks`, undefined, { key: editor.token }), [403], ['FORBIDDEN']);
  const onOps = await api('POST', `/api/boards/${ops}/tasks`, { title: 'elsewhere' });
  assertHttpError(await api('GET', `/api/tasks/${onOps.body.id}`, undefined, { key: editor.token }), [403], ['FORBIDDEN']);
  // A board event of a board outside its scope never reaches it.
  const mark = c.mark();
  await api('PATCH', `/api/boards/${ops}`, { name: 'Ops renamed' });
  await api('PATCH', `/api/boards/${web}`, { name: 'Web renamed' });
  await c.waitFor('board:updated', (b) => b.id === web, { since: mark });
  assert.ok(!c.entries('board:updated', mark).some((e) => e.data.id === ops));
  const listed = await cli(['token', 'list', '--db', board.server.db]);
  assert.ok(listed.stdout.split('\n').some((l) => l.includes('Scoped Sam') && l.includes(web)), listed.stdout);
});

test('an invite link becomes a personal token with its role and boards, once', async () => {
  const web = boardId('inv');
  await makeBoard(web);
  const made = await api('POST', '/api/invites', { role: 'viewer', boards: [web], expiresInHours: 2 });
  assert.equal(made.status, 201, made.text);
  assert.match(made.body.code, /^[0-9a-f]{32}$/);
  assert.ok(made.body.url.endsWith(`/?invite=${made.body.code}`), made.body.url);
  const hours = (Date.parse(made.body.expiresAt) - Date.now()) / 3.6e6;
  assert.ok(hours > 1.9 && hours <= 2, `expires in about 2 hours: ${made.body.expiresAt}`);
  const accepted = await api('POST', `/api/invites/${made.body.code}/accept`, { name: 'Invited Ivy' }, { key: null });
  assert.equal(accepted.status, 201, accepted.text);
  assert.equal(accepted.body.role, 'viewer');
  assert.deepEqual(accepted.body.boards, [web]);
  const c = await connect({ apiKey: accepted.body.token, extraAuth: { board: web } });
  assertRefused(await c.ack('task:create', { title: 'viewers only read' }), ['FORBIDDEN']);
  assert.match(await refusal({ apiKey: accepted.body.token }), /^FORBIDDEN/);
  const again = await api('POST', `/api/invites/${made.body.code}/accept`, { name: 'Someone Else' }, { key: null });
  assertHttpError(again, [401], ['UNAUTHORIZED']);
  assertHttpError(await api('POST', '/api/invites/0123/accept', { name: 'X' }, { key: null }), [401], ['UNAUTHORIZED']);
  const editor = await createToken(board.server, 'Not Admin', 'editor');
  assertHttpError(await api('POST', '/api/invites', { role: 'admin' }, { key: editor.token }), [403], ['FORBIDDEN']);
  const viaCli = await cli(['invite', 'create', '--role', 'editor', '--board', web, '--db', board.server.db]);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  const code = viaCli.stdout.match(/\?invite=([0-9a-f]+)/)?.[1];
  assert.ok(code, viaCli.stdout);
  const cliAccepted = await api('POST', `/api/invites/${code}/accept`, { name: 'Cli Carl' }, { key: null });
  assert.equal(cliAccepted.status, 201, cliAccepted.text);
  assert.equal(cliAccepted.body.role, 'editor');
});

test('resume with lastSeq is per board: a client resuming on a board gets only what it missed there', async () => {
  const id = boardId('resume');
  await makeBoard(id);
  const first = await connect({ extraAuth: { board: id } });
  assertOk(await first.ack('task:create', { title: 'one' }));
  const seq = first.syncs[0].seq + 1;
  first.close();
  const writer = await connect({ extraAuth: { board: id } });
  const missed = await writer.ack('task:create', { title: 'missed' });
  assertOk(missed);
  await (await connect()).ack('task:create', { title: 'on main meanwhile' });
  const back = new Client({ extraAuth: { board: id, lastSeq: seq } });
  const synced = await back.synced();
  assert.equal(synced.event, 'sync:resumed');
  const created = back.entries('task:created').map((e) => e.data.task.title);
  assert.deepEqual(created, ['missed']);
  await sleep(WAIT / 10);
});

test('task:move to another board keeps the id and history: deleted on one board, created on the other, each with its seq', async () => {
  const id = boardId('dest');
  await makeBoard(id);
  const source = await connect();
  const target = await connect({ extraAuth: { board: id } });
  const made = await source.ack('task:create', { title: 'travels', status: 'REVIEW' });
  assertOk(made);
  await source.ack('task:update', { id: made.task.id, description: 'edited before' });
  const [sMark, tMark] = [source.mark(), target.mark()];
  const moved = await source.ack('task:move', { taskId: made.task.id, board: id });
  assertOk(moved);
  assert.equal(moved.task.id, made.task.id);
  assert.equal(moved.task.board, id);
  assert.equal(moved.task.status, 'REVIEW', 'the status stays unless given');
  const gone = await source.waitEntry(`task:${made.task.id}:deleted`, () => true, { since: sMark });
  await source.waitFor('task:deleted', (d) => d.taskId === made.task.id, { since: sMark });
  const arrived = await target.waitEntry(`task:${made.task.id}:created`, () => true, { since: tMark });
  assert.equal(arrived.data.board, id);
  assert.equal(typeof gone.meta.seq, 'number');
  assert.equal(arrived.meta.seq, target.syncs[0].seq + 1, 'the target board\'s own next seq');
  assertRefused(await source.ack('task:update', { id: made.task.id, title: 'x' }), ['TASK_NOT_FOUND']);
  const history = await api('GET', `/api/tasks/${made.task.id}/history`);
  assert.equal(history.status, 200);
  assert.ok(history.body.some((a) => a.type === 'task.created'), 'the history travelled with it');
  // Back again, into a given column and position.
  const back = await target.ack('task:move', { taskId: made.task.id, board: 'main', status: 'TODO', position: 0 });
  assertOk(back);
  assert.equal(back.task.status, 'TODO');
  assert.equal(back.task.position, 0);
  assertRefused(await source.ack('task:move', { taskId: made.task.id, board: 'no-such-board' }), ['BOARD_NOT_FOUND']);
  assertRefused(await source.ack('task:move', { taskId: made.task.id, board: 'Bad' }), ['VALIDATION_ERROR']);
  const scoped = await createToken(board.server, 'Mover Mo', 'editor', ['main']);
  const c = await connect({ apiKey: scoped.token });
  assertRefused(await c.ack('task:move', { taskId: made.task.id, board: id }), ['FORBIDDEN']);
});

test('a board deleted and made again under its id starts afresh: seq from 1, no old task, events flowing', async () => {
  const id = boardId('again');
  await makeBoard(id);
  const first = await connect({ extraAuth: { board: id } });
  for (let i = 0; i < 3; i++) assertOk(await first.ack('task:create', { title: `old ${i}` }));
  assert.equal((await api('DELETE', `/api/boards/${id}`)).status, 204);
  await makeBoard(id);
  const again = await connect({ extraAuth: { board: id } });
  assert.deepEqual(again.syncs[0].tasks, []);
  assert.equal(again.syncs[0].seq, 0);
  const made = await again.ack('task:create', { title: 'new' });
  assertOk(made);
  const ev = await again.waitEntry('task:created', (d) => d.task.id === made.task.id);
  assert.equal(ev.meta.seq, 1);
});
