// A placement that pushes cards down their column (docs/protocol.md "Data model"): by default one
// `task:{id}:updated { id, position, version, updatedAt }` per card pushed, under the change's seq (SPEC's
// events); a client that asks with `auth.batchShifts: true` (or the event stream's `?batchShifts=true`) gets the
// same patches, in the same order, as one `task:shifted { tasks }` instead, live and on a resume alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, board, connect, refused, api, uid, assertOk, seqOf, sleep, WAIT } from './helpers.mjs';

useServer();
const T = { timeout: 20000 };
const BATCHED = { batchShifts: true };

/** A fresh board with `n` TODO cards (positions 0…n-1) and one card in REVIEW to move into the column. */
async function column(n) {
  const id = uid('shifts').toLowerCase();
  const made = await api('POST', '/api/boards', { id, name: id });
  assert.equal(made.status, 201, made.text);
  const todo = [];
  for (let i = 0; i < n; i++) {
    const r = await api('POST', `/api/boards/${id}/tasks`, { title: `card ${i}` });
    assert.equal(r.status, 201, r.text);
    todo.push(r.body);
  }
  const mover = await api('POST', `/api/boards/${id}/tasks`, { title: 'mover', status: 'REVIEW' });
  assert.equal(mover.status, 201, mover.text);
  return { id, todo, mover: mover.body };
}

/** The per-card patches a move of `mover` to the top of the column pushing `todo` down must carry. */
function pushedDown(todo) {
  return todo.map((t, i) => ({ id: t.id, position: i + 1, version: t.version, updatedAt: t.updatedAt }));
}

test('a move to the top sends each card pushed down by default, and one task:shifted with batchShifts', T, async () => {
  const { id, todo, mover } = await column(5);
  const each = await connect({ extraAuth: { board: id } });
  const batched = await connect({ extraAuth: { board: id, ...BATCHED } });
  const since = [each.mark(), batched.mark()];
  const ack = assertOk(await each.ack('task:move', { taskId: mover.id, status: 'TODO', position: 0 }));
  assert.equal(ack.task.position, 0);
  const expected = pushedDown(todo);

  const own = await each.waitEntry(`task:${mover.id}:updated`, () => true, { since: since[0] });
  const seq = seqOf(own);
  for (const patch of expected) {
    const e = await each.waitEntry(`task:${patch.id}:updated`, () => true, { since: since[0] });
    assert.deepEqual(e.data, patch, `card ${patch.id} pushed down, card by card`);
    assert.equal(seqOf(e), seq, 'under the move\'s seq');
  }

  const shifted = await batched.waitEntry('task:shifted', () => true, { since: since[1] });
  assert.deepEqual(shifted.data, { tasks: expected }, 'the same patches, in column order, in one event');
  assert.equal(seqOf(shifted), seq, 'under the move\'s seq');
  const ownBatched = await batched.waitEntry(`task:${mover.id}:updated`, () => true, { since: since[1] });
  assert.deepEqual(ownBatched.data, own.data, 'the moved card\'s own event is the same for both');
  assert.ok(batched.log.indexOf(ownBatched) < batched.log.indexOf(shifted), 'the moved card comes first');

  await sleep(300);
  assert.deepEqual(each.entries('task:shifted', since[0]), [], 'no task:shifted without batchShifts');
  const pushedIds = new Set(todo.map((t) => `task:${t.id}:updated`));
  assert.deepEqual(batched.entries(undefined, since[1]).filter((e) => pushedIds.has(e.event)), [],
    'no per-card renumbering with batchShifts');
  const names = batched.names(since[1]);
  for (const name of ['task:moved', 'activity']) assert.ok(names.includes(name), `${name} as for everyone`);
});

test('a creation at a position sends task:shifted too, and a move that pushes nobody sends none', T, async () => {
  const { id, todo, mover } = await column(3);
  const batched = await connect({ extraAuth: { board: id, ...BATCHED } });
  let since = batched.mark();
  const made = await api('POST', `/api/boards/${id}/tasks`, { title: uid('first'), position: 0 });
  assert.equal(made.status, 201, made.text);
  const shifted = await batched.waitEntry('task:shifted', () => true, { since });
  assert.deepEqual(shifted.data, { tasks: pushedDown(todo) });
  assert.equal(seqOf(shifted), seqOf(await batched.waitEntry(`task:${made.body.id}:created`, () => true, { since })));

  since = batched.mark();
  assertOk(await batched.ack('task:move', { taskId: mover.id, status: 'TODO' }));
  await batched.waitEntry(`task:${mover.id}:updated`, () => true, { since });
  await batched.none('task:shifted', () => true, { since });
});

test('auth.batchShifts other than true or false refuses the connection with VALIDATION_ERROR', T, async () => {
  for (const value of ['yes', 1, {}]) {
    const err = await refused({ apiKey: board.key, batchShifts: value });
    assert.match(err.message, /^VALIDATION_ERROR/, JSON.stringify(value));
  }
  for (const value of [false, null]) {
    const c = await connect({ extraAuth: { batchShifts: value } });
    c.close();
  }
});

test('a resume with lastSeq replays a renumbering the way the client takes it', T, async () => {
  const { id, todo, mover: card } = await column(4);
  const first = [await connect({ extraAuth: { board: id } }), await connect({ extraAuth: { board: id, ...BATCHED } })];
  const last = first[0].syncs[0].seq;
  for (const c of first) c.close();
  const mover = await connect({ extraAuth: { board: id } });
  assertOk(await mover.ack('task:move', { taskId: card.id, status: 'TODO', position: 0 }));
  mover.close();
  const each = await connect({ extraAuth: { board: id, lastSeq: last } });
  const batched = await connect({ extraAuth: { board: id, lastSeq: last, ...BATCHED } });
  for (const c of [each, batched]) await c.waitEntry('sync:resumed');
  for (const t of pushedDown(todo)) {
    assert.deepEqual(await each.waitFor(`task:${t.id}:updated`), t, 'card by card on the replay');
  }
  assert.deepEqual(each.entries('task:shifted'), []);
  assert.deepEqual((await batched.waitFor('task:shifted')).tasks, pushedDown(todo), 'one event on the replay');
  assert.deepEqual(batched.entries().filter((e) => todo.some((t) => e.event === `task:${t.id}:updated`)), []);
});

test('task:shifted is an event name like any other for subscribe patterns', T, async () => {
  const { id, todo, mover } = await column(2);
  const onlyBatch = await connect({ extraAuth: { board: id, ...BATCHED, subscribe: ['task:shifted'] } });
  const tasks = await connect({ extraAuth: { board: id, ...BATCHED, subscribe: ['task:**'] } });
  const perCard = await connect({ extraAuth: { board: id, ...BATCHED, subscribe: ['task:*:updated'] } });
  const since = [onlyBatch.mark(), perCard.mark()];
  assertOk(await onlyBatch.ack('task:move', { taskId: mover.id, status: 'TODO', position: 0 }));
  assert.deepEqual((await onlyBatch.waitFor('task:shifted')).tasks, pushedDown(todo));
  assert.deepEqual((await tasks.waitFor('task:shifted')).tasks, pushedDown(todo));
  await perCard.waitFor(`task:${mover.id}:updated`);
  await sleep(300);
  assert.deepEqual(onlyBatch.names(since[0]), ['task:shifted'], 'nothing else');
  assert.deepEqual(perCard.names(since[1]), [`task:${mover.id}:updated`], 'the moved card only: the batch is task:shifted');
});

test('the event stream takes ?batchShifts=true the same way, and refuses another value', T, async () => {
  const { id, todo, mover } = await column(3);
  const controller = new AbortController();
  const res = await fetch(`${board.url}/api/events?board=${id}&batchShifts=true`, {
    headers: { 'x-api-key': board.key },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  let text = '';
  const read = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      text += decoder.decode(chunk, { stream: true });
      if (/event: task:shifted\n/.test(text)) return;
    }
  })().catch(() => {});
  await sleep(100);
  const put = await api('PUT', `/api/tasks/${mover.id}?board=${id}`, { status: 'TODO', position: 0 });
  assert.equal(put.status, 200, put.text);
  await Promise.race([read, sleep(WAIT)]);
  controller.abort();
  const frame = /event: task:shifted\ndata: (.*)\n/.exec(text);
  assert.ok(frame, `task:shifted on the stream; got ${text.slice(0, 300)}`);
  assert.deepEqual(JSON.parse(frame[1]).tasks, pushedDown(todo));
  for (const t of todo) assert.ok(!text.includes(`event: task:${t.id}:updated`), 'no per-card renumbering');

  const bad = await api('GET', `/api/events?board=${id}&batchShifts=yes`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'VALIDATION_ERROR');
});
