// SPEC "Agents' work graph" (issue 13): safe retries, waiting instead of polling, and dependencies, over
// Socket.IO (the official client) and REST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, connect, api, uid, sleep, restCreate, assertRefused, assertOk, getTask,
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
