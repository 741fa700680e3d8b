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

test('40 agents waiting on one board hold no lease; 40 tasks created at once go one to each, in arrival order', T, async () => {
  await freshQueue(0, 'crowd');
  const n = 40;
  const sockets = await Promise.all(Array.from({ length: n }, () => connect()));
  const ids = sockets.map((_, i) => uid(`crowd-${i}`));
  const answers = [];
  for (let i = 0; i < n; i += 1) {
    answers.push(waitNext(sockets[i], ids[i], 20));
    await sleep(40); // arrival order is part of what is checked
  }
  await sleep(200);
  const claimed = (await api('GET', '/api/tasks')).body.filter((t) => ids.includes(t.claimedBy));
  assert.deepEqual(claimed, [], 'waiting agents hold no claim');
  const made = [];
  for (let i = 0; i < n; i += 1) made.push(restCreate({ title: uid(`crowd-task-${i}`) }));
  const tasks = await Promise.all(made);
  const got = await Promise.all(answers);
  assert.ok(got.every((a) => a.task), 'every waiting agent got a task');
  assert.deepEqual(new Set(got.map((a) => a.task.id)), new Set(tasks.map((t) => t.id)), 'one task each, never one twice');
  // One claim at a time, head of the line first: the board records the claims in the order the agents came (acks
  // travel on 40 sockets, so their arrival order says nothing).
  const claims = (await api('GET', '/api/activity?limit=500')).body
    .filter((e) => e.type === 'task.claimed' && ids.includes(e.user))
    .sort((x, y) => x.id - y.id)
    .map((e) => e.user);
  assert.deepEqual(claims, ids, 'served in arrival order');
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

test('a release racing the wake-up of many waiting agents and a claim without wait gives the task to exactly one, round after round', T, async () => {
  const [task] = await freshQueue(1, 'race');
  const racer = await connect();
  assertOk(await racer.ack('task:claim', { taskId: task.id, agentId: uid('first-holder') }), 'claim');
  const n = 8;
  const sockets = await Promise.all(Array.from({ length: n }, () => connect()));
  const ids = sockets.map((_, i) => uid(`race-waiter-${i}`));
  const waiting = new Map(ids.map((id, i) => [id, waitNext(sockets[i], id, 25)]));
  for (const answer of waiting.values()) answer.catch(() => {}); // the last ones end with their sockets
  await sleep(300);
  for (let round = 0; round < 5; round += 1) {
    const racerId = uid(`racer-${round}`);
    // Sent together: the release wakes the head of the line while a task:next without wait asks for the same task.
    const [released, raced] = await Promise.all([
      api('POST', `/api/tasks/${task.id}/release`),
      racer.ack('task:next', { agentId: racerId }),
    ]);
    assert.equal(released.status, 200, released.text);
    assertOk(raced, `round ${round}: task:next without wait`);
    let now = await getTask(task.id);
    for (const until = performance.now() + 5000; !now.claimedBy && performance.now() < until; now = await getTask(task.id)) await sleep(20);
    assert.equal(now.status, 'IN_PROGRESS', `round ${round}: someone claimed the released task`);
    if (now.claimedBy === racerId) {
      assert.equal(raced.task?.id, task.id, `round ${round}: the racer holds it and was told so`);
    } else {
      assert.equal(raced.task, null, `round ${round}: the racer lost and was told there was nothing`);
      assert.ok(waiting.has(now.claimedBy), `round ${round}: the holder ${now.claimedBy} is a waiting agent`);
      const got = await waiting.get(now.claimedBy);
      assert.equal(got.task.id, task.id, `round ${round}: the waiting agent that holds it was told so`);
      waiting.delete(now.claimedBy);
    }
    await sleep(100);
    for (const [id, answer] of waiting) {
      assert.equal(await within(answer, 0), 'pending', `round ${round}: ${id} got nothing and still waits`);
    }
  }
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

// ---- who is waiting, for the people watching ----

test('a waiting agent is announced to the board with agents:waiting and listed in sync:full; a create that answers it empties the list', T, async () => {
  await freshQueue(0, 'shown');
  const agent = await connect();
  const person = await connect();
  const agentId = uid('shown-waiter');
  const since = person.mark();
  const answer = waitNext(agent, agentId, 10);
  const listed = await person.waitFor('agents:waiting', (p) => p.agents.includes(agentId), { since });
  assert.deepEqual(listed, { agents: [agentId] }, 'the list is { agents: [ids] }');
  const late = await connect();
  assert.deepEqual(late.syncs[0].waitingAgents, [agentId], 'a socket connecting meanwhile gets the list in sync:full');
  const emptied = person.mark();
  const created = assertOk(await person.ack('task:create', { title: uid('answers the wait') }), 'create').task;
  assert.equal((await answer).task.id, created.id);
  await person.waitFor('agents:waiting', (p) => p.agents.length === 0, { since: emptied });
  await late.waitFor('agents:waiting', (p) => p.agents.length === 0, { since: 0 });
  assert.deepEqual((await connect()).syncs[0].waitingAgents, [], 'and sync:full lists nobody');
});

test('agents:waiting lists waiters in arrival order, and a disconnect or a passed wait takes an agent off', T, async () => {
  await freshQueue(0, 'leaves');
  const person = await connect();
  const [first, second] = await Promise.all([connect(), connect()]);
  const [firstId, secondId] = [uid('first'), uid('second')];
  const since = person.mark();
  waitNext(first, firstId, 15).catch(() => {}); // its ack never comes: the socket closes
  await person.waitFor('agents:waiting', (p) => p.agents.includes(firstId), { since });
  const brief = waitNext(second, secondId, 1);
  await person.waitFor('agents:waiting', (p) => p.agents.length === 2, { since });
  assert.deepEqual(person.entries('agents:waiting', since).at(-1).data.agents, [firstId, secondId], 'in arrival order');
  assert.equal((await brief).task, null, 'the second wait passes');
  await person.waitFor('agents:waiting', (p) => p.agents.length === 1 && p.agents[0] === firstId, { since });
  const gone = person.mark();
  first.close();
  await person.waitFor('agents:waiting', (p) => p.agents.length === 0, { since: gone });
});

test('an agent served at once is never listed as waiting', T, async () => {
  await freshQueue(1, 'served');
  const person = await connect();
  const agent = await connect();
  const since = person.mark();
  const got = await waitNext(agent, uid('lucky'), 5);
  assert.ok(got.task, 'a ready task is claimed at once');
  await person.none('agents:waiting', () => true, { since, ms: 300 });
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

// ---- dependencies ----

test('blockedBy is set on create and update, over Socket.IO and REST, always an array in the order set', T, async () => {
  const [a, b] = await freshQueue(2, 'deps');
  const c = await connect();
  assert.deepEqual(a.blockedBy, [], 'a task without blockers has blockedBy []');
  const made = assertOk(await c.ack('task:create', { title: uid('after b and a'), blockedBy: [b.id, a.id] }), 'create').task;
  assert.deepEqual(made.blockedBy, [b.id, a.id]);
  const seen = await c.waitFor(`task:${made.id}:created`);
  assert.deepEqual(seen.blockedBy, [b.id, a.id]);
  const since = c.mark();
  const updated = assertOk(await c.ack('task:update', { id: made.id, blockedBy: [a.id] }), 'update').task;
  assert.deepEqual(updated.blockedBy, [a.id]);
  const patch = await c.waitFor(`task:${made.id}:updated`, () => true, { since });
  assert.deepEqual(patch.blockedBy, [a.id], 'the patch carries the new list');
  const rest = await api('POST', '/api/tasks', { title: uid('rest dep'), blockedBy: [made.id] });
  assert.equal(rest.status, 201, rest.text);
  assert.deepEqual(rest.body.blockedBy, [made.id]);
  const cleared = await api('PATCH', `/api/tasks/${rest.body.id}`, { blockedBy: [] });
  assert.equal(cleared.status, 200, cleared.text);
  assert.deepEqual(cleared.body.blockedBy, []);
  assert.deepEqual((await getTask(made.id)).blockedBy, [a.id], 'stored');
  const listed = (await api('GET', '/api/tasks')).body;
  assert.ok(listed.every((t) => Array.isArray(t.blockedBy)), 'every listed task has blockedBy');
});

test('blockedBy naming the task itself, an unknown task, the same task twice or making a cycle is VALIDATION_ERROR naming the cycle', T, async () => {
  const [a] = await freshQueue(1, 'invalid');
  const c = await connect();
  const b = assertOk(await c.ack('task:create', { title: uid('b'), blockedBy: [a.id] }), 'b').task;
  const d = assertOk(await c.ack('task:create', { title: uid('d'), blockedBy: [b.id] }), 'd').task;
  const self = await c.ack('task:update', { id: a.id, blockedBy: [a.id] });
  assertRefused(self, ['VALIDATION_ERROR'], 'self');
  assertRefused(await c.ack('task:create', { title: 'x', blockedBy: [987654] }), ['VALIDATION_ERROR'], 'unknown');
  assertRefused(await c.ack('task:update', { id: a.id, blockedBy: [b.id, b.id] }), ['VALIDATION_ERROR'], 'twice');
  assertRefused(await c.ack('task:update', { id: a.id, blockedBy: 5 }), ['VALIDATION_ERROR'], 'not an array');
  const cycle = await c.ack('task:update', { id: a.id, blockedBy: [d.id] });
  assertRefused(cycle, ['VALIDATION_ERROR'], 'cycle');
  assert.ok(cycle.error.message.includes(`#${a.id} → #${d.id} → #${b.id} → #${a.id}`), cycle.error.message);
  const rest = await api('PUT', `/api/tasks/${a.id}`, { blockedBy: [d.id] });
  assert.equal(rest.status, 400, rest.text);
  assert.equal(rest.body.error.code, 'VALIDATION_ERROR');
  assert.deepEqual((await getTask(a.id)).blockedBy, [], 'refusals change nothing');
});

test('20 agents racing task:next claim only ready tasks; the blocked ones once their blocker is DONE', T, async () => {
  const [blocker] = await freshQueue(1, 'gate');
  assertOk(await (await connect()).ack('task:claim', { taskId: blocker.id, agentId: uid('gatekeeper') }), 'claim the blocker');
  const blocked = [];
  const ready = [];
  for (let i = 0; i < 5; i += 1) {
    blocked.push(await restCreate({ title: uid(`blocked-${i}`), blockedBy: [blocker.id], position: 0 }));
    ready.push(await restCreate({ title: uid(`ready-${i}`) }));
  }
  const sockets = await Promise.all(Array.from({ length: 10 }, () => connect()));
  const race = () => Promise.all([
    ...sockets.map(async (s, i) => (await s.ack('task:next', { agentId: `racer-s${i}` })).task),
    ...Array.from({ length: 10 }, async (_, i) => {
      const r = await api('POST', '/api/tasks/next', { agentId: `racer-r${i}` });
      return r.status === 200 ? r.body : null;
    }),
  ]);
  const first = (await race()).filter(Boolean);
  assert.deepEqual(new Set(first.map((t) => t.id)), new Set(ready.map((t) => t.id)), 'only the ready tasks, each once');
  assert.equal(first.length, 5);
  assert.equal((await api('PUT', `/api/tasks/${blocker.id}`, { status: 'DONE' })).status, 200);
  const second = (await race()).filter(Boolean);
  assert.equal(second.length, 5);
  assert.deepEqual(new Set(second.map((t) => t.id)), new Set(blocked.map((t) => t.id)), 'now the unblocked ones, each once');
});

test('the last blocker reaching DONE records task.unblocked under its finisher and wakes a waiting agent', T, async () => {
  const [a, b] = await freshQueue(2, 'unblock');
  const nick = await connect({ name: 'Nick' });
  const agent = await connect();
  // Only the blocked task is left for agents: a and b are someone's work.
  for (const t of [a, b]) assert.equal((await api('PUT', `/api/tasks/${t.id}`, { assignee: 'Adam' })).status, 200);
  const c = assertOk(await nick.ack('task:create', { title: uid('after both'), blockedBy: [a.id, b.id] }), 'c').task;
  const agentId = uid('eager');
  const answer = waitNext(agent, agentId, 15);
  const since = nick.mark();
  assertOk(await nick.ack('task:move', { taskId: a.id, status: 'DONE' }), 'a done');
  assert.equal(await within(answer, 400), 'pending', 'b is still open');
  await nick.none('activity', (e) => e.type === 'task.unblocked', { since, ms: 0 });
  assertOk(await nick.ack('task:move', { taskId: b.id, status: 'DONE' }), 'b done');
  const entry = await nick.waitFor('activity', (e) => e.type === 'task.unblocked' && e.taskId === c.id, { since });
  assert.equal(entry.user, 'Nick', 'the actor is whoever finished the last blocker');
  const got = await answer;
  assert.equal(got.task.id, c.id, 'the waiting agent gets the task the moment it is ready');
  const history = (await api('GET', `/api/tasks/${c.id}/history`)).body.map((e) => e.type);
  assert.ok(history.includes('task.unblocked'), history.join(' '));
});

test('deleting a task removes it from the blockedBy of the tasks that waited for it, with their task:{id}:updated', T, async () => {
  const [a, b] = await freshQueue(2, 'delete-dep');
  const c = await connect();
  const waiting = assertOk(await c.ack('task:create', { title: uid('waits'), blockedBy: [a.id, b.id] }), 'create').task;
  const since = c.mark();
  assertOk(await c.ack('task:delete', { taskId: a.id }), 'delete a');
  const patch = await c.waitFor(`task:${waiting.id}:updated`, () => true, { since });
  assert.deepEqual(patch.blockedBy, [b.id]);
  assert.equal(patch.version, waiting.version + 1);
  const deleted = await c.waitFor(`task:${a.id}:deleted`, () => true, { since });
  assert.equal(deleted.id, a.id);
  assert.deepEqual((await getTask(waiting.id)).blockedBy, [b.id]);
});
