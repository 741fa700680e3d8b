// SPEC "Webhooks, import and export": webhooks per board (admin), deliveries from an outbox
// written in the change's own transaction, signed with HMAC-SHA256, retried, given up and
// disabled, the Slack format, and receivers that misbehave. A real HTTP receiver on 127.0.0.1
// checks each delivery as a receiver in the wild would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { useServer, board, connect, api, uid, sleep, assertOk, assertHttpError } from './helpers.mjs';
import { cli, createToken } from './tokens.mjs';

// Retries fast (200 ms, 400 ms, …) and give up after 3 s, so the test sees a day's schedule.
useServer({ rateLimit: 0, env: { WEBHOOK_RETRY_MS: '200', WEBHOOK_GIVE_UP_SECONDS: '3' } });

/** A receiver: records every request (raw body, headers); `answer(req)` picks the status. */
async function receiver(answer = () => 200) {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const entry = { headers: req.headers, raw, body: JSON.parse(raw), at: Date.now() };
      got.push(entry);
      const status = await answer(entry, got.length);
      if (status === 'hang') return; // never answers
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  return {
    url,
    got,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
    /** Waits until `pred(got)` holds. */
    async until(pred, what, ms = 10_000) {
      const end = Date.now() + ms;
      while (!pred(got)) {
        if (Date.now() > end) throw new Error(`receiver: timed out waiting for ${what} (got ${got.map((g) => g.body.event).join(', ') || 'nothing'})`);
        await sleep(25);
      }
    },
  };
}

async function boardWith(tag) {
  const id = `${tag}-${uid('w').replace(/[^a-z0-9-]/g, '')}`.toLowerCase().slice(0, 40);
  assert.equal((await api('POST', '/api/boards', { id, name: id })).status, 201);
  return id;
}

async function addHook(boardId, body) {
  const r = await api('POST', `/api/boards/${boardId}/webhooks`, body);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

const signatureOf = (secret, raw) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

test('a webhook gets one signed delivery per matching activity entry, in seq order, with the task after the change', async () => {
  const rx = await receiver();
  try {
    const b = await boardWith('hooks');
    const hook = await addHook(b, { url: rx.url, events: ['task.*'] });
    assert.equal(typeof hook.secret, 'string');
    assert.ok(hook.secret.length >= 32, 'a generated secret');
    assert.deepEqual(Object.keys(hook).sort(), ['active', 'board', 'createdAt', 'events', 'format', 'id', 'secret', 'url']);
    assert.deepEqual(hook.events, ['task.*']);
    assert.equal(hook.format, 'json');
    assert.equal(hook.active, true);

    const c = await connect({ extraAuth: { board: b } });
    const made = assertOk(await c.ack('task:create', { title: 'Ship it' })).task;
    assertOk(await c.ack('task:move', { taskId: made.id, status: 'IN_PROGRESS' }));
    assertOk(await c.ack('comment:create', { taskId: made.id, body: 'not a task.* entry' }));
    assertOk(await c.ack('task:update', { id: made.id, title: 'Ship it now' }));
    await rx.until((g) => g.length >= 3, 'three deliveries');
    await sleep(300);
    assert.deepEqual(rx.got.map((g) => g.body.event), ['task.created', 'task.moved', 'task.updated'], 'comment.created is not wanted');
    const seqs = rx.got.map((g) => g.body.seq);
    assert.deepEqual([...seqs].sort((x, y) => x - y), seqs, 'in seq order');
    for (const g of rx.got) {
      assert.equal(g.headers['content-type'], 'application/json');
      assert.equal(g.headers['x-warroom-signature-256'], signatureOf(hook.secret, g.raw), 'the signature checks out');
      assert.equal(g.headers['x-warroom-event'], g.body.event);
      assert.equal(g.headers['x-warroom-delivery'], String(g.body.id));
      assert.deepEqual(Object.keys(g.body).sort(), ['activity', 'board', 'event', 'id', 'seq', 'task', 'timestamp']);
      assert.equal(g.body.board, b);
      assert.equal(g.body.activity.type, g.body.event);
      assert.equal(g.body.activity.seq, g.body.seq);
    }
    assert.equal(rx.got[0].body.task.title, 'Ship it');
    assert.equal(rx.got[1].body.task.status, 'IN_PROGRESS');
    assert.equal(rx.got[2].body.task.title, 'Ship it now', 'the task as it is after the change');

    // The log: newest first, delivered, with the answer's code.
    const log = await api('GET', `/api/webhooks/${hook.id}/deliveries`);
    assert.equal(log.status, 200);
    assert.deepEqual(log.body.map((d) => d.event), ['task.updated', 'task.moved', 'task.created']);
    for (const d of log.body) {
      assert.equal(d.status, 'delivered');
      assert.equal(d.attempts, 1);
      assert.equal(d.lastCode, 200);
      assert.equal(d.nextAttemptAt, null);
    }
    // Listed without the secret.
    const listed = await api('GET', `/api/boards/${b}/webhooks`);
    assert.deepEqual(listed.body.map((h) => h.id), [hook.id]);
    assert.equal(listed.body[0].secret, undefined);
  } finally {
    await rx.close();
  }
});

test('a given secret signs; a 500 is retried until it succeeds; a hook on another board hears nothing', async () => {
  const rx = await receiver((_, n) => (n <= 2 ? 500 : 204));
  const other = await receiver();
  try {
    const b = await boardWith('retry');
    const secret = 'a shared secret of the receiver';
    const hook = await addHook(b, { url: rx.url, secret });
    assert.equal(hook.secret, secret);
    assert.deepEqual(hook.events, ['**']);
    const elsewhere = await boardWith('quiet');
    await addHook(elsewhere, { url: other.url });
    const r = await api('POST', `/api/boards/${b}/tasks`, { title: 'retried' });
    assert.equal(r.status, 201);
    await rx.until((g) => g.length >= 3, 'two failures and a success');
    assert.equal(new Set(rx.got.map((g) => g.body.id)).size, 1, 'the same delivery each time');
    assert.equal(new Set(rx.got.map((g) => g.raw)).size, 1, 'the same bytes each time');
    for (const g of rx.got) assert.equal(g.headers['x-warroom-signature-256'], signatureOf(secret, g.raw));
    assert.ok(rx.got[1].at - rx.got[0].at >= 120, 'a retry waits');
    await sleep(300);
    const [d] = (await api('GET', `/api/webhooks/${hook.id}/deliveries`)).body;
    assert.deepEqual([d.status, d.attempts, d.lastCode], ['delivered', 3, 204]);
    assert.equal(other.got.length, 0, 'nothing of this board reaches another board\'s webhook');
  } finally {
    await rx.close();
    await other.close();
  }
});

test('a receiver that keeps failing is given up on: the webhook is disabled with a webhook.disabled entry', async () => {
  const rx = await receiver(() => 500);
  try {
    const b = await boardWith('dead');
    const hook = await addHook(b, { url: rx.url, events: ['task.created'] });
    const watcher = await connect({ extraAuth: { board: b } });
    assert.equal((await api('POST', `/api/boards/${b}/tasks`, { title: 'never delivered' })).status, 201);
    const entry = await watcher.waitFor('activity', (a) => a.type === 'webhook.disabled', { timeout: 15_000 });
    assert.match(entry.message, new RegExp(`#${hook.id}`));
    const [listed] = (await api('GET', `/api/boards/${b}/webhooks`)).body;
    assert.equal(listed.active, false);
    const [d] = (await api('GET', `/api/webhooks/${hook.id}/deliveries`)).body;
    assert.equal(d.status, 'failed');
    assert.equal(d.lastCode, 500);
    assert.ok(d.attempts >= 2, `attempts: ${d.attempts}`);
    const before = rx.got.length;
    assert.equal((await api('POST', `/api/boards/${b}/tasks`, { title: 'after' })).status, 201);
    await sleep(800);
    assert.equal(rx.got.length, before, 'a disabled webhook gets nothing');
    // An admin turns it back on: new changes are delivered again.
    const on = await api('PATCH', `/api/webhooks/${hook.id}`, { active: true });
    assert.equal(on.body.active, true);
  } finally {
    await rx.close();
  }
});

test('format slack posts { text } with the activity message', async () => {
  const rx = await receiver();
  try {
    const b = await boardWith('slack');
    await addHook(b, { url: rx.url, format: 'slack', events: ['task.created'] });
    assert.equal((await api('POST', `/api/boards/${b}/tasks`, { title: 'Tell the channel' })).status, 201);
    await rx.until((g) => g.length >= 1, 'the slack message');
    assert.deepEqual(Object.keys(rx.got[0].body), ['text']);
    assert.match(rx.got[0].body.text, /Tell the channel/);
  } finally {
    await rx.close();
  }
});

test('a hanging receiver does not slow writes or another webhook; a test ping reaches the receiver', async () => {
  const hang = await receiver(() => 'hang');
  const fine = await receiver();
  try {
    const b = await boardWith('isolated');
    await addHook(b, { url: hang.url });
    const good = await addHook(b, { url: fine.url, events: ['task.created'] });
    const started = Date.now();
    for (let i = 0; i < 20; i += 1) assert.equal((await api('POST', `/api/boards/${b}/tasks`, { title: `w${i}` })).status, 201);
    const took = Date.now() - started;
    assert.ok(took < 5000, `20 writes took ${took} ms`);
    await fine.until((g) => g.length >= 20, 'all 20 to the good receiver', 8000);
    assert.equal(hang.got.length, 1, 'the hanging one holds only its first delivery');
    const ping = await api('POST', `/api/webhooks/${good.id}/ping`);
    assert.equal(ping.status, 202, ping.text);
    await fine.until((g) => g.some((x) => x.body.event === 'webhook.ping'), 'the ping');
  } finally {
    await hang.close();
    await fine.close();
  }
});

test('bad input: URLs, patterns, formats, secrets and unknown fields are VALIDATION_ERROR; only admins; unknown ids 404', async () => {
  const b = await boardWith('bad');
  const bad = [
    { url: 'ftp://example.com/x' },
    { url: 'not a url' },
    { url: `http://example.com/${'a'.repeat(2100)}` },
    { url: 'http://example.com/', events: [] },
    { url: 'http://example.com/', events: ['Task.Created'] },
    { url: 'http://example.com/', events: 'task.*' },
    { url: 'http://example.com/', events: Array.from({ length: 33 }, (_, i) => `task.x${'y'.repeat(i)}`) },
    { url: 'http://example.com/', format: 'xml' },
    { url: 'http://example.com/', secret: 'short' },
    { url: 'http://example.com/', extra: true },
    {},
    [],
  ];
  for (const body of bad) {
    assertHttpError(await api('POST', `/api/boards/${b}/webhooks`, body), [400], ['VALIDATION_ERROR']);
  }
  const { token: editor } = await createToken(board.server, uid('Ed'), 'editor');
  assertHttpError(await api('POST', `/api/boards/${b}/webhooks`, { url: 'http://example.com/' }, { key: editor }), [403], ['FORBIDDEN']);
  assertHttpError(await api('GET', `/api/boards/${b}/webhooks`, undefined, { key: editor }), [403], ['FORBIDDEN']);
  assertHttpError(await api('PATCH', '/api/webhooks/999999', { active: false }), [404], ['NOT_FOUND']);
  assertHttpError(await api('DELETE', '/api/webhooks/999999'), [404], ['NOT_FOUND']);
  assertHttpError(await api('GET', '/api/webhooks/abc/deliveries'), [400], ['VALIDATION_ERROR']);
  assertHttpError(await api('POST', '/api/boards/no-such-board/webhooks', { url: 'http://example.com/' }), [404], ['BOARD_NOT_FOUND']);
  // Changed and deleted by an admin.
  const hook = await addHook(b, { url: 'http://example.com/a' });
  const changed = await api('PATCH', `/api/webhooks/${hook.id}`, { url: 'https://example.com/b', events: ['comment.*'] });
  assert.equal(changed.status, 200);
  assert.equal(changed.body.url, 'https://example.com/b');
  assert.deepEqual(changed.body.events, ['comment.*']);
  assertHttpError(await api('PATCH', `/api/webhooks/${hook.id}`, { active: 'yes' }), [400], ['VALIDATION_ERROR']);
  assert.equal((await api('DELETE', `/api/webhooks/${hook.id}`)).status, 204);
  assert.deepEqual((await api('GET', `/api/boards/${b}/webhooks`)).body, []);
  // Deleting the board takes its webhooks along.
  await addHook(b, { url: 'http://example.com/c' });
  assert.equal((await api('DELETE', `/api/boards/${b}`)).status, 204);
});

test('no loss across kill -9: a change acknowledged just before the crash is delivered after the restart', async () => {
  const rx = await receiver();
  try {
    const b = await boardWith('crash');
    await addHook(b, { url: rx.url, events: ['task.created'] });
    // Stop the receiver answering for now, so the delivery cannot go out before the crash.
    const parked = await receiver(() => 'hang');
    const patchTo = (await api('GET', `/api/boards/${b}/webhooks`)).body[0];
    await api('PATCH', `/api/webhooks/${patchTo.id}`, { url: parked.url });
    const made = await api('POST', `/api/boards/${b}/tasks`, { title: 'survives the crash' });
    assert.equal(made.status, 201);
    await board.server.kill();
    await parked.close();
    await board.server.start();
    await api('PATCH', `/api/webhooks/${patchTo.id}`, { url: rx.url });
    await rx.until((g) => g.some((x) => x.body.task?.id === made.body.id), 'the delivery after the restart', 45_000);
  } finally {
    await rx.close();
  }
});

test('warroom webhook add, list and remove', async () => {
  const b = await boardWith('cli');
  const remote = ['--url', board.url, '--key', board.key, '--board', b];
  const added = await cli(['webhook', 'add', 'https://hooks.example.com/warroom', '--event', 'task.*', '--event', 'comment.created', '--format', 'slack', ...remote]);
  assert.equal(added.code, 0, added.stderr);
  const id = added.stdout.match(/^webhook (\d+) on /)?.[1];
  assert.ok(id, added.stdout);
  assert.match(added.stdout, /secret, shown only now: [0-9a-f]{64}/);
  const listed = await cli(['webhook', 'list', ...remote]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout.trim(), `${id}\thttps://hooks.example.com/warroom\tcomment.created,task.*\tslack\tactive`);
  const refused = await cli(['webhook', 'add', 'ftp://x', ...remote]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /VALIDATION_ERROR|url/);
  const removed = await cli(['webhook', 'remove', id, ...remote]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((await cli(['webhook', 'list', ...remote])).stdout.trim(), '');
});

test('a redirect is not followed and a huge streamed answer is not read: neither holds the sender', async () => {
  let redirects = 0;
  const looping = http.createServer((req, res) => {
    req.resume();
    redirects += 1;
    res.writeHead(302, { location: req.url });
    res.end();
  });
  let streaming = 0;
  const huge = http.createServer((req, res) => {
    req.resume();
    streaming += 1;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1024 ** 3) });
    const chunk = Buffer.alloc(64 * 1024, 120);
    const timer = setInterval(() => { if (!res.write(chunk)) { /* back-pressure: the client is not reading */ } }, 10);
    res.on('close', () => clearInterval(timer));
  });
  await Promise.all([looping, huge].map((srv) => new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))));
  try {
    const b = await boardWith('odd');
    const redirect = await addHook(b, { url: `http://127.0.0.1:${looping.address().port}/loop`, events: ['task.created'] });
    const big = await addHook(b, { url: `http://127.0.0.1:${huge.address().port}/big`, events: ['task.created'] });
    const started = Date.now();
    assert.equal((await api('POST', `/api/boards/${b}/tasks`, { title: 'odd receivers' })).status, 201);
    let big1;
    for (const end = Date.now() + 8000; Date.now() < end; await sleep(50)) {
      [big1] = (await api('GET', `/api/webhooks/${big.id}/deliveries`)).body;
      if (big1.status === 'delivered') break;
    }
    assert.equal(big1.status, 'delivered', 'the status came; the body was not waited for');
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    const [loop1] = (await api('GET', `/api/webhooks/${redirect.id}/deliveries`)).body;
    assert.equal(loop1.lastCode, 302);
    assert.equal(loop1.status, 'pending', 'a redirect is a failure, retried later');
    assert.ok(redirects <= loop1.attempts + 1, `followed a redirect: ${redirects} requests for ${loop1.attempts} attempts`);
  } finally {
    for (const srv of [looping, huge]) { srv.closeAllConnections(); await new Promise((resolve) => srv.close(resolve)); }
  }
});
