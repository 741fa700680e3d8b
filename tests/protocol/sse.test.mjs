// SPEC "Server-Sent Events": GET /api/events streams every persisted event of the board as `id: <seq>`,
// `event: <name>`, `data: <payload>`; resumes from Last-Event-ID (or ?lastSeq=) with exactly what was missed;
// filters with ?patterns=; keeps proxies awake with a comment line at least every 15 s; needs a key like REST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, board, api, uid, restCreate, WAIT } from './helpers.mjs';

useServer();
const T = { timeout: 30000 };

/** An open event stream: `entries` fills as frames arrive; `next(pred)` waits for one. */
async function stream(query = '', headers = {}) {
  const controller = new AbortController();
  const res = await fetch(`${board.url}/api/events${query}`, {
    headers: { 'x-api-key': board.key, ...headers },
    signal: controller.signal,
  });
  assert.equal(res.status, 200, await (res.status === 200 ? '' : res.text()));
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const s = { entries: [], comments: 0, waiters: [], close: () => controller.abort() };
  const decoder = new TextDecoder();
  let buffer = '';
  (async () => {
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const entry = {};
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) s.comments++;
            const m = /^(id|event|data): ?(.*)$/.exec(line);
            if (m) entry[m[1]] = m[1] === 'data' ? (entry.data ?? '') + m[2] : m[2];
          }
          if (entry.event) s.entries.push({ ...entry, id: Number(entry.id), data: JSON.parse(entry.data) });
          for (const w of [...s.waiters]) w();
        }
      }
    } catch { /* aborted */ }
  })();
  s.next = (pred, what = 'an event', timeout = WAIT) => new Promise((resolve, reject) => {
    const check = () => {
      const found = s.entries.find(pred);
      if (found) { s.waiters = s.waiters.filter((w) => w !== check); clearTimeout(timer); resolve(found); }
    };
    const timer = setTimeout(() => {
      s.waiters = s.waiters.filter((w) => w !== check);
      reject(new Error(`timed out waiting for ${what}; got ${s.entries.map((e) => e.event).join(', ')}`));
    }, timeout);
    s.waiters.push(check);
    check();
  });
  return s;
}

test('without a key the stream is refused with 401 UNAUTHORIZED', T, async () => {
  const r = await api('GET', '/api/events', undefined, { key: null });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'UNAUTHORIZED');
});

test('a stream starts with sync:full, then every event of a change with the change\'s seq as its id', T, async () => {
  const s = await stream();
  try {
    const sync = await s.next((e) => e.event === 'sync:full', 'sync:full');
    assert.ok(Array.isArray(sync.data.tasks) && Array.isArray(sync.data.agents) && Array.isArray(sync.data.users));
    assert.equal(sync.id, sync.data.seq);
    const task = await restCreate({ title: uid('sse') });
    const created = await s.next((e) => e.event === `task:${task.id}:created`, 'task:{id}:created');
    assert.deepEqual(created.data, task);
    const twin = await s.next((e) => e.event === 'task:created' && e.data.task.id === task.id, 'task:created');
    const activity = await s.next((e) => e.event === 'activity' && e.data.taskId === task.id, 'activity');
    assert.equal(twin.id, created.id);
    assert.equal(activity.id, created.id);
    assert.ok(created.id > sync.id);
  } finally {
    s.close();
  }
});

test('Last-Event-ID resumes with exactly the missed events, in order, and no sync:full', T, async () => {
  const first = await stream();
  const sync = await first.next((e) => e.event === 'sync:full');
  const seen = await restCreate({ title: uid('seen') });
  const last = (await first.next((e) => e.event === `task:${seen.id}:created`)).id;
  first.close();
  const missed = [await restCreate({ title: uid('missed') }), await restCreate({ title: uid('missed') })];
  const patch = await api('PATCH', `/api/tasks/${missed[0].id}`, { status: 'REVIEW' });
  assert.equal(patch.status, 200, patch.text);
  for (const [how, query, headers] of [['Last-Event-ID', '', { 'last-event-id': String(last) }], ['?lastSeq', `?lastSeq=${last}`, {}]]) {
    const again = await stream(query, headers);
    try {
      await again.next((e) => e.event === 'task:moved' && e.data.taskId === missed[0].id, `the missed move (${how})`);
      assert.ok(!again.entries.some((e) => e.event === 'sync:full'), `no sync:full on a resume (${how})`);
      const ids = again.entries.map((e) => e.id);
      assert.ok(ids.every((id) => id > last), `only what came after ${last} (${how})`);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `in order (${how})`);
      for (const t of missed) assert.ok(again.entries.some((e) => e.event === `task:${t.id}:created`), `task ${t.id} (${how})`);
      assert.equal(new Set(ids).size, 3, `three changes (${how})`);
    } finally {
      again.close();
    }
  }
  assert.ok(last > sync.id);
});

test('?patterns= narrows the stream as subscribe does', T, async () => {
  const s = await stream('?patterns=task:created,agent:*:status');
  try {
    await s.next((e) => e.event === 'sync:full');
    const task = await restCreate({ title: uid('pattern') });
    await s.next((e) => e.event === 'task:created' && e.data.task.id === task.id);
    const put = await api('PUT', '/api/agents/sse-agent', { status: 'busy' });
    assert.ok(put.status < 300, put.text);
    await s.next((e) => e.event === 'agent:sse-agent:status');
    const names = new Set(s.entries.map((e) => e.event));
    assert.deepEqual([...names].sort(), ['agent:sse-agent:status', 'sync:full', 'task:created']);
  } finally {
    s.close();
  }
});

test('a malformed Last-Event-ID or pattern is VALIDATION_ERROR', T, async () => {
  const bad = await api('GET', '/api/events', undefined, { headers: { 'last-event-id': 'yesterday' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'VALIDATION_ERROR');
  const long = await api('GET', `/api/events?patterns=${'x'.repeat(201)}`);
  assert.equal(long.status, 400);
  assert.equal(long.body.error.code, 'VALIDATION_ERROR');
});

test('a quiet stream sends a comment line within 15 s, so proxies keep it open', { timeout: 25000 }, async () => {
  const s = await stream();
  try {
    await s.next((e) => e.event === 'sync:full');
    const deadline = Date.now() + 16500;
    while (s.comments === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.ok(s.comments > 0, 'a keep-alive comment arrived');
  } finally {
    s.close();
  }
});
