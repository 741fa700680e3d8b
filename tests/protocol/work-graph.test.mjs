// SPEC "Agents' work graph" (issue 13): safe retries, waiting instead of polling, and dependencies, over
// Socket.IO (the official client) and REST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, board, connect, api, uid, sleep, restCreate, assertRefused, assertOk, getTask,
} from './helpers.mjs';

useServer({ rateLimit: 0 });
const T = { timeout: 30000 };

/** A fresh TODO column of `n` unassigned tasks (this file's tests share the board: TODO is cleared first). */
async function freshQueue(n, tag) {
  const todo = await api('GET', '/api/tasks?status=TODO');
  for (const t of todo.body) await api('DELETE', `/api/tasks/${t.id}`);
  const made = [];
  for (let i = 0; i < n; i += 1) made.push(await restCreate({ title: uid(`${tag}-${i}`) }));
  return made;
}

// ---- safe retries ----

test('the holder claiming its task again is told it has it: lease renewed, no version change, no event, no activity', T, async () => {
  const [task] = await freshQueue(1, 'reclaim');
  const agent = await connect();
  const watcher = await connect();
  const agentId = uid('retrier');
  const first = assertOk(await agent.ack('task:claim', { taskId: task.id, agentId }), 'claim').task;
  await watcher.waitFor('activity', (e) => e.type === 'task.claimed' && e.taskId === task.id);
  await sleep(20);
  const since = watcher.mark();
  const again = assertOk(await agent.ack('task:claim', { taskId: task.id, agentId }), 'the same claim again').task;
  assert.equal(again.claimedBy, agentId);
  assert.equal(again.version, first.version, 'no version change');
  assert.ok(Date.parse(again.leaseExpiresAt) > Date.parse(first.leaseExpiresAt), 'the lease is renewed');
  const rest = await api('POST', `/api/tasks/${task.id}/claim`, { agentId });
  assert.equal(rest.status, 200, rest.text);
  assert.equal(rest.body.version, first.version);
  await watcher.none(`task:${task.id}:updated`, () => true, { since, ms: 300 });
  await watcher.none('activity', (e) => e.taskId === task.id, { since, ms: 0 });
  const stored = await getTask(task.id);
  assert.equal(stored.version, first.version);
  assert.equal(stored.leaseExpiresAt, rest.body.leaseExpiresAt, 'the renewed lease is stored');
  assertRefused(await agent.ack('task:claim', { taskId: task.id, agentId: uid('other') }), ['CONFLICT'], 'another agent');
});

test('progress naming an agent that does not hold the task is CONFLICT, over Socket.IO and REST, and changes nothing', T, async () => {
  const [task] = await freshQueue(1, 'holder');
  const c = await connect();
  const holder = uid('holder');
  assertOk(await c.ack('task:claim', { taskId: task.id, agentId: holder }), 'claim');
  assertOk(await c.ack('task:progress', { taskId: task.id, agentId: holder, message: 'mine' }), 'the holder');
  const before = await getTask(task.id);
  assertRefused(await c.ack('task:progress', { taskId: task.id, agentId: uid('intruder'), message: 'x' }),
    ['CONFLICT'], 'another agent');
  const r = await api('POST', `/api/tasks/${task.id}/progress`, { agentId: uid('intruder'), message: 'x' });
  assert.equal(r.status, 409, r.text);
  assert.equal(r.body.error.code, 'CONFLICT');
  assert.equal((await api('POST', `/api/tasks/${task.id}/release`)).status, 200);
  // Its claim ended: the former holder cannot write to the task any more.
  assertRefused(await c.ack('task:progress', { taskId: task.id, agentId: holder, message: 'late' }),
    ['CONFLICT'], 'a released claim');
  const after = await getTask(task.id);
  assert.equal(after.progress, null);
  assert.equal(after.version, before.version + 1, 'only the release changed the task');
});

// ---- waiting instead of polling ----

/** `task:next` with `wait`, acknowledged within the wait plus a margin (the helpers' ack deadline is shorter). */
function waitNext(client, agentId, wait) {
  const started = performance.now();
  return client.socket.timeout(wait * 1000 + 3000).emitWithAck('task:next', { agentId, wait })
    .then((ack) => ({ ...assertOk(ack, 'task:next with wait'), ms: performance.now() - started }));
}

/** Resolves to `pending` unless `promise` settled within `ms`. */
const within = (promise, ms) => Promise.race([promise, sleep(ms).then(() => 'pending')]);

test('a waiting agent is answered by another client\'s create, not before, and holds no lease while it waits', T, async () => {
  await freshQueue(0, 'wait-create');
  const agent = await connect();
  const person = await connect();
  const agentId = uid('waiter');
  const answer = waitNext(agent, agentId, 10);
  assert.equal(await within(answer, 500), 'pending', 'nothing to claim: the answer is held');
  const held = (await api('GET', '/api/tasks')).body.filter((t) => t.claimedBy === agentId);
  assert.deepEqual(held, [], 'a waiting agent holds no claim');
  const created = assertOk(await person.ack('task:create', { title: uid('fresh work') }), 'create').task;
  const got = await answer;
  assert.equal(got.task.id, created.id, 'the new task goes to the waiting agent');
  assert.equal(got.task.claimedBy, agentId);
  assert.equal(got.task.status, 'IN_PROGRESS');
  assert.ok(got.ms < 9000, 'answered on the create, not at the end of the wait');
});

test('a waiting agent is answered by a release, and a wait that passes answers task: null', T, async () => {
  const [task] = await freshQueue(1, 'wait-release');
  const c = await connect();
  assertOk(await c.ack('task:claim', { taskId: task.id, agentId: uid('leaver') }), 'claim');
  const waiterId = uid('next-in-line');
  const answer = waitNext(c, waiterId, 10);
  assert.equal(await within(answer, 300), 'pending');
  assert.equal((await api('POST', `/api/tasks/${task.id}/release`)).status, 200);
  const got = await answer;
  assert.equal(got.task.id, task.id, 'the released task goes to the waiting agent');
  assert.equal(got.task.claimedBy, waiterId);

  const empty = await waitNext(c, uid('patient'), 1);
  assert.equal(empty.task, null, 'nothing came: task null');
  assert.ok(empty.ms >= 950 && empty.ms < 2500, `answered when the wait passed (${Math.round(empty.ms)} ms)`);
});

test('waiting agents are served in arrival order, one task each', T, async () => {
  await freshQueue(0, 'fair');
  const sockets = await Promise.all([connect(), connect(), connect()]);
  const ids = ['first', 'second', 'third'].map((n) => uid(n));
  const answers = [];
  for (let i = 0; i < 3; i += 1) {
    answers.push(waitNext(sockets[i], ids[i], 15));
    await sleep(150); // arrival order is the point of this test
  }
  for (let i = 0; i < 3; i += 1) {
    const made = await restCreate({ title: uid(`fair-${i}`) });
    const got = await answers[i];
    assert.equal(got.task.id, made.id, `task ${i} goes to the agent that has waited longest`);
    assert.equal(got.task.claimedBy, ids[i]);
    for (const later of answers.slice(i + 1)) assert.equal(await within(later, 100), 'pending', 'the others still wait');
  }
});

test('a disconnect cancels the wait: the next waiter gets the task and the gone agent holds nothing', T, async () => {
  await freshQueue(0, 'gone');
  const leaving = await connect();
  const staying = await connect();
  const goneId = uid('gone');
  const stayId = uid('stays');
  waitNext(leaving, goneId, 15).catch(() => {}); // its ack never comes: the socket closes
  await sleep(150);
  const answer = waitNext(staying, stayId, 15);
  await sleep(150);
  leaving.close();
  await sleep(200);
  const made = await restCreate({ title: uid('after the disconnect') });
  const got = await answer;
  assert.equal(got.task.id, made.id, 'the agent still connected gets it');
  const held = (await api('GET', '/api/tasks')).body.filter((t) => t.claimedBy === goneId);
  assert.deepEqual(held, [], 'the disconnected agent claimed nothing');
});

test('a waiting command does not hold up the same socket\'s other commands', T, async () => {
  await freshQueue(0, 'same-socket');
  const c = await connect();
  const agentId = uid('busy-socket');
  const answer = waitNext(c, agentId, 10);
  await sleep(150);
  const created = await within(c.ack('task:create', { title: uid('while waiting') }), 2000);
  assert.notEqual(created, 'pending', 'task:create is answered while task:next waits');
  assertOk(created, 'create');
  assert.equal((await answer).task.id, created.task.id, 'and the wait is answered by it');
});

test('REST waits too: 200 with the task created meanwhile, 204 when the wait passes; wait is 0–60 seconds', T, async () => {
  await freshQueue(0, 'rest-wait');
  const agentId = uid('rest-waiter');
  const started = performance.now();
  const pending = api('POST', '/api/tasks/next', { agentId, wait: 10 });
  await sleep(300);
  const made = await restCreate({ title: uid('for rest') });
  const r = await pending;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.id, made.id);
  assert.ok(performance.now() - started < 9000);
  const t0 = performance.now();
  const none = await api('POST', '/api/tasks/next', { agentId, wait: 0.5 });
  assert.equal(none.status, 204, none.text);
  assert.ok(performance.now() - t0 >= 450, 'held for the wait');
  const c = await connect();
  for (const wait of [61, -1, '5', true]) {
    const bad = await api('POST', '/api/tasks/next', { agentId, wait });
    assert.equal(bad.status, 400, `wait ${JSON.stringify(wait)}: ${bad.text}`);
    assert.equal(bad.body.error.code, 'VALIDATION_ERROR');
    assertRefused(await c.ack('task:next', { agentId, wait }), ['VALIDATION_ERROR'], `wait ${JSON.stringify(wait)}`);
  }
});

test('a graceful stop answers waiting agents at once (204) instead of holding the stop for their wait', T, async () => {
  await freshQueue(0, 'stop');
  const pending = api('POST', '/api/tasks/next', { agentId: uid('at-shutdown'), wait: 30 });
  await sleep(300);
  const started = performance.now();
  await board.server.stop();
  const r = await pending;
  assert.equal(r.status, 204, r.text);
  assert.ok(performance.now() - started < 5000, `stopped in ${Math.round(performance.now() - started)} ms`);
  await board.server.start();
});
