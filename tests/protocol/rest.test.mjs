// SPEC "REST API": every route, both auth headers, the error shape, filters, paging, history, agents, the
// read-only fields, 409s, REST writes pushed to sockets as the acting user `api`, OpenAPI and unknown routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, board, Client, connect, api, uid, listTasks, getTask, restCreate, snapshot, activity, health,
  settle, listOf, assertTask, assertAgent, assertHttpError, assertOk, seqOf, RFC3339_UTC,
} from './helpers.mjs';

// Rate limits off: the paging test writes more than 500 activity entries as fast as it can.
useServer({ rateLimit: 0 });
const T = { timeout: 30000 };

test('GET /api/health needs no key and counts the authenticated sockets open now', T, async () => {
  await settle(0);
  const h = await health();
  assert.equal(h.status, 'online');
  assert.equal(h.connections, 0);
  const a = await connect();
  const b = await connect();
  assert.equal((await health()).connections, 2);
  const intruder = new Client({ auth: { apiKey: 'wrong' } });
  await intruder.waitFor('connect_error');
  assert.equal((await health()).connections, 2, 'a refused socket is not counted');
  a.close();
  await settle(1);
  b.close();
  await settle(0);
  const withKey = await api('GET', '/api/health');
  assert.equal(withKey.status, 200, 'a key does not hurt');
});

const ROUTES = (id, agentId) => [
  ['GET', '/api/tasks'],
  ['POST', '/api/tasks', { title: 'unauthorised' }],
  ['GET', `/api/tasks/${id}`],
  ['PUT', `/api/tasks/${id}`, { title: 'unauthorised' }],
  ['PATCH', `/api/tasks/${id}`, { title: 'unauthorised' }],
  ['DELETE', `/api/tasks/${id}`],
  ['GET', `/api/tasks/${id}/history`],
  ['GET', '/api/agents'],
  ['GET', `/api/agents/${agentId}`],
  ['PUT', `/api/agents/${agentId}`, { status: 'error' }],
  ['GET', '/api/activity'],
];

test('every route without a valid key answers 401 { error: { code: "UNAUTHORIZED", message } } and changes nothing', T, async () => {
  const task = await restCreate({ title: uid('guarded') });
  const agentId = uid('agent');
  assert.equal((await api('PUT', `/api/agents/${agentId}`, { status: 'idle' })).status < 300, true);
  const before = await snapshot();
  const agentBefore = (await api('GET', `/api/agents/${agentId}`)).body;
  const creds = [
    ['no key', { key: null }],
    ['wrong X-API-Key', { key: 'wrong-key' }],
    ['wrong Bearer', { key: 'wrong-key', auth: 'bearer' }],
    ['Basic scheme', { key: null, headers: { authorization: `Basic ${board.key}` } }],
    ['key with a suffix', { key: `${board.key}x` }],
    ['empty key', { key: '' }],
  ];
  for (const [method, path, body] of ROUTES(task.id, agentId)) {
    for (const [what, opts] of creds) {
      const r = await api(method, path, body, opts);
      assertHttpError(r, 401, 'UNAUTHORIZED', `${method} ${path} with ${what}`);
    }
  }
  assert.deepEqual(await snapshot(), before);
  assert.deepEqual((await api('GET', `/api/agents/${agentId}`)).body, agentBefore);
});

test('every route accepts both Authorization: Bearer and X-API-Key', T, async () => {
  for (const auth of ['bearer', 'x-api-key']) {
    const o = { auth };
    const created = await api('POST', '/api/tasks', { title: uid(`auth ${auth}`) }, o);
    assert.equal(created.status, 201, `${auth}: ${created.text}`);
    const id = created.body.id;
    const agentId = uid('agent');
    const expect = [
      ['GET', '/api/tasks', undefined, 200],
      ['GET', `/api/tasks/${id}`, undefined, 200],
      ['PUT', `/api/tasks/${id}`, { title: uid('put') }, 200],
      ['PATCH', `/api/tasks/${id}`, { title: uid('patch') }, 200],
      ['GET', `/api/tasks/${id}/history`, undefined, 200],
      ['PUT', `/api/agents/${agentId}`, { status: 'idle' }, [200, 201]],
      ['GET', '/api/agents', undefined, 200],
      ['GET', `/api/agents/${agentId}`, undefined, 200],
      ['GET', '/api/activity', undefined, 200],
      ['DELETE', `/api/tasks/${id}`, undefined, 204],
    ];
    for (const [method, path, body, status] of expect) {
      const r = await api(method, path, body, o);
      assert.ok([].concat(status).includes(r.status), `${auth} ${method} ${path} -> ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
});

test('POST /api/tasks answers 201 with the task, accepting the seeds\' spellings and filling defaults', T, async () => {
  const title = uid('rest create');
  const r = await api('POST', '/api/tasks', { title: ` ${title} `, description: 'body', status: 'BLOCKED', assignee: 'zoe' });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers.get('content-type') || '', /application\/json/);
  assertTask(r.body, 'POST /api/tasks');
  assert.equal(r.body.title, title);
  assert.equal(r.body.status, 'BLOCKED');
  assert.equal(r.body.assignee, 'zoe');
  assert.equal(r.body.createdBy, 'api', 'REST writes with the team key act as "api"');
  assert.equal(r.body.version, 1);
  const seed = await restCreate({ text: uid('text spelling'), assignedTo: 'agent-1' });
  assert.equal(seed.status, 'TODO');
  assert.equal(seed.assignee, 'agent-1');
  assert.equal(seed.description, '');
  const unassigned = await restCreate({ title: uid('empty assignee'), assignee: '' });
  assert.equal(unassigned.assignee, null);
});

test('GET /api/tasks/:id returns the task; a missing one is 404 TASK_NOT_FOUND', T, async () => {
  const task = await restCreate({ title: uid('get one') });
  const r = await api('GET', `/api/tasks/${task.id}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, task);
  const missing = await api('GET', '/api/tasks/987654321');
  assertHttpError(missing, 404, 'TASK_NOT_FOUND', 'missing task');
  assert.match(missing.body.error.message, /987654321/);
});

test('GET /api/tasks is a bare array filterable by status, assignee and q, and the filters combine', T, async () => {
  const tag = uid('needle');
  const person = uid('person');
  const a = await restCreate({ title: `${tag} alpha`, status: 'BLOCKED', assignee: person });
  const b = await restCreate({ title: `${tag} beta`, status: 'REVIEW', assignee: person });
  const c = await restCreate({ title: uid('haystack'), status: 'BLOCKED' });
  const all = await listTasks();
  for (const t of [a, b, c]) assert.ok(all.some((x) => x.id === t.id));
  all.forEach((t, i) => assertTask(t, `GET /api/tasks[${i}]`));
  const blocked = await listTasks('?status=BLOCKED');
  assert.ok(blocked.every((t) => t.status === 'BLOCKED'));
  assert.ok(blocked.some((t) => t.id === a.id) && blocked.some((t) => t.id === c.id) && !blocked.some((t) => t.id === b.id));
  const mine = await listTasks(`?assignee=${encodeURIComponent(person)}`);
  assert.deepEqual(mine.map((t) => t.id).sort((x, y) => x - y), [a.id, b.id]);
  const found = await listTasks(`?q=${encodeURIComponent(tag)}`);
  assert.deepEqual(found.map((t) => t.id).sort((x, y) => x - y), [a.id, b.id], 'q finds by title text');
  const both = await listTasks(`?q=${encodeURIComponent(tag)}&status=REVIEW`);
  assert.deepEqual(both.map((t) => t.id), [b.id], 'filters combine');
  assert.deepEqual(await listTasks(`?assignee=${encodeURIComponent(person)}&status=DONE`), []);
});

test('PUT and PATCH change only the given fields; unchanged values keep the version; the body may repeat the path id', T, async () => {
  const task = await restCreate({ title: uid('edit'), description: 'keep', assignee: 'amy' });
  const put = await api('PUT', `/api/tasks/${task.id}`, { title: `${task.title}!` });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.title, `${task.title}!`);
  assert.equal(put.body.description, 'keep');
  assert.equal(put.body.assignee, 'amy');
  assert.equal(put.body.version, 2);
  const patch = await api('PATCH', `/api/tasks/${task.id}`, { id: task.id, assignedTo: 'bob' });
  assert.equal(patch.status, 200, patch.text);
  assert.equal(patch.body.assignee, 'bob');
  assert.equal(patch.body.version, 3);
  const same = await api('PUT', `/api/tasks/${task.id}`, { id: String(task.id), title: `${task.title}!`, assignee: 'bob' });
  assert.equal(same.status, 200, same.text);
  assert.deepEqual(same.body, patch.body, 'unchanged values: same task, same version');
  assert.deepEqual(await getTask(task.id), patch.body);
  const missing = await api('PUT', '/api/tasks/987654321', { title: 'x' });
  assertHttpError(missing, 404, 'TASK_NOT_FOUND', 'PUT of a missing task');
});

test('REST bodies may not set createdAt, updatedAt or createdBy: VALIDATION_ERROR naming the field', T, async () => {
  const task = await restCreate({ title: uid('read only') });
  const before = await snapshot();
  for (const field of ['createdAt', 'updatedAt', 'createdBy']) {
    const value = field === 'createdBy' ? 'mallory' : '2001-01-01T00:00:00Z';
    for (const [method, path] of [['POST', '/api/tasks'], ['PUT', `/api/tasks/${task.id}`], ['PATCH', `/api/tasks/${task.id}`]]) {
      const r = await api(method, path, { title: uid('ro'), [field]: value });
      assertHttpError(r, 400, 'VALIDATION_ERROR', `${method} with ${field}`);
      assert.match(r.body.error.message, new RegExp(field), `the message names ${field}`);
    }
  }
  const other = await api('PUT', `/api/tasks/${task.id}`, { title: 'x', colour: 'red' });
  assertHttpError(other, 400, 'VALIDATION_ERROR', 'unknown field');
  assert.match(other.body.error.message, /colour/);
  assert.deepEqual(await snapshot(), before, 'nothing was written');
});

test('PUT with a stale version is 409 CONFLICT; with the current version it applies', T, async () => {
  const task = await restCreate({ title: uid('rest version') });
  const ok = await api('PUT', `/api/tasks/${task.id}`, { title: 'v2', version: 1 });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.version, 2);
  const stale = await api('PATCH', `/api/tasks/${task.id}`, { title: 'lost', version: 1 });
  assertHttpError(stale, 409, 'CONFLICT', 'stale version');
  assert.equal((await getTask(task.id)).title, 'v2');
});

test('a task another socket drags is 409 TASK_LOCKED for PUT, PATCH and DELETE', T, async () => {
  const dragger = await connect({ name: uid('Dora') });
  const task = await restCreate({ title: uid('rest lock') });
  assertOk(await dragger.ack('task:drag:start', { taskId: task.id }));
  for (const [method, body] of [['PUT', { status: 'DONE' }], ['PATCH', { title: 'x' }], ['DELETE', undefined]]) {
    assertHttpError(await api(method, `/api/tasks/${task.id}`, body), 409, 'TASK_LOCKED', `${method} of a dragged task`);
  }
  assert.deepEqual(await getTask(task.id), task);
  assertOk(await dragger.ack('task:drag:end', { taskId: task.id }));
  assert.equal((await api('PUT', `/api/tasks/${task.id}`, { status: 'DONE' })).status, 200, 'free after drag:end');
});

test('DELETE /api/tasks/:id answers 204 with an empty body, then 404 TASK_NOT_FOUND', T, async () => {
  const task = await restCreate({ title: uid('rest delete') });
  const r = await api('DELETE', `/api/tasks/${task.id}`);
  assert.equal(r.status, 204);
  assert.equal(r.text, '');
  assertHttpError(await api('GET', `/api/tasks/${task.id}`), 404, 'TASK_NOT_FOUND', 'deleted task');
  assertHttpError(await api('DELETE', `/api/tasks/${task.id}`), 404, 'TASK_NOT_FOUND', 'second delete');
});

test('GET /api/tasks/:id/history lists who changed what, newest first, and is kept after the task is deleted', T, async () => {
  const task = await restCreate({ title: uid('history'), description: 'old' });
  assert.equal((await api('PUT', `/api/tasks/${task.id}`, { description: 'new' })).status, 200);
  assert.equal((await api('PATCH', `/api/tasks/${task.id}`, { status: 'IN_PROGRESS' })).status, 200);
  assert.equal((await api('DELETE', `/api/tasks/${task.id}`)).status, 204);
  const r = await api('GET', `/api/tasks/${task.id}/history`);
  assert.equal(r.status, 200, r.text);
  const h = listOf(r.body, 'history', 'activity', 'entries');
  assert.equal(h.length, 4, `four entries: ${JSON.stringify(h.map((e) => e.type))}`);
  assert.equal(h[0].type, 'task.deleted');
  assert.ok(['task.moved', 'task.updated'].includes(h[1].type), `a status change: ${h[1].type}`);
  assert.equal(h[2].type, 'task.updated');
  assert.equal(h[3].type, 'task.created');
  for (const e of h) {
    assert.equal(e.taskId, task.id);
    assert.equal(e.user, 'api');
    assert.match(e.timestamp, RFC3339_UTC);
    assert.ok(Number.isInteger(e.seq), `history entries carry seq: ${JSON.stringify(e)}`);
  }
  assert.ok(h[0].seq > h[1].seq && h[1].seq > h[2].seq && h[2].seq > h[3].seq, 'newest first');
  assert.deepEqual(h[2].changes, { description: { from: 'old', to: 'new' } });
  assert.deepEqual(h[1].changes?.status, { from: 'TODO', to: 'IN_PROGRESS' });
});

test('GET /api/activity is newest first, limit defaults to 50, is clamped at 500, and pages with before', { timeout: 120000 }, async () => {
  // At least 520 entries.
  for (let i = 0; i < 520; i++) {
    const r = await api('POST', '/api/tasks', { title: uid('paging') });
    assert.equal(r.status, 201, r.text);
  }
  const dflt = await activity();
  assert.equal(dflt.length, 50, 'limit defaults to 50');
  const ids = dflt.map((e) => e.seq);
  assert.ok(ids.every((s, i) => i === 0 || s < ids[i - 1]), 'newest first');
  const clamped = await activity('?limit=10000');
  assert.equal(clamped.length, 500, 'limit above 500 is clamped to 500');
  assert.equal((await activity('?limit=500')).length, 500);
  assert.equal((await activity('?limit=3')).length, 3);
  const twenty = await activity('?limit=20');
  const page1 = await activity('?limit=10');
  const page2 = await activity(`?limit=10&before=${encodeURIComponent(page1.at(-1).id)}`);
  assert.deepEqual([...page1, ...page2], twenty, 'before=<activity id> continues right after that entry');
  for (const e of twenty) {
    for (const f of ['id', 'type', 'user', 'message', 'taskId', 'timestamp']) assert.ok(f in e, `activity entry lacks ${f}`);
  }
});

test('agents routes: PUT upserts (pushing agent:{id}:status), GET lists and gets one; a missing one is 404 AGENT_NOT_FOUND', T, async () => {
  const watcher = await connect();
  const id = uid('agent');
  const missing = await api('GET', `/api/agents/${id}`);
  assertHttpError(missing, 404, 'AGENT_NOT_FOUND', 'unknown agent');
  let since = watcher.mark();
  const put = await api('PUT', `/api/agents/${id}`, { id, name: 'Rest Bot', status: 'busy', currentTaskId: null });
  assert.ok([200, 201].includes(put.status), `${put.status} ${put.text}`);
  assertAgent(put.body, 'PUT /api/agents/:id');
  assert.equal(put.body.id, id);
  assert.equal(put.body.name, 'Rest Bot');
  assert.equal(put.body.status, 'busy');
  const ev = await watcher.waitEntry(`agent:${id}:status`, () => true, { since });
  assert.equal(ev.data.status, 'busy');
  seqOf(ev);
  const one = await api('GET', `/api/agents/${id}`);
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, put.body);
  const list = await api('GET', '/api/agents');
  assert.equal(list.status, 200);
  const agents = listOf(list.body, 'agents');
  assert.ok(Array.isArray(agents), list.text.slice(0, 200));
  agents.forEach((a, i) => assertAgent(a, `GET /api/agents[${i}]`));
  assert.ok(agents.some((a) => a.id === id && a.status === 'busy'));
  const task = await restCreate({ title: uid('agent task') });
  since = watcher.mark();
  const again = await api('PUT', `/api/agents/${id}`, { status: 'idle', currentTaskId: task.id });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.currentTaskId, task.id);
  assert.equal(again.body.name, 'Rest Bot', 'an upsert without name keeps it');
  await watcher.waitFor(`agent:${id}:status`, (d) => d.status === 'idle' && d.currentTaskId === task.id, { since });
  assertHttpError(await api('PUT', `/api/agents/${id}`, { status: 'idle', currentTaskId: 987654321 }), 404, 'TASK_NOT_FOUND', 'currentTaskId naming no task');
  assertHttpError(await api('PUT', `/api/agents/${id}`, { status: 'napping' }), 400, 'VALIDATION_ERROR', 'invalid status');
  assert.equal((await api('GET', `/api/agents/${id}`)).body.status, 'idle');
});

test('PUT /api/agents/:id heartbeats with an unchanged status record no activity', T, async () => {
  const watcher = await connect();
  const id = uid('agent');
  assert.ok([200, 201].includes((await api('PUT', `/api/agents/${id}`, { status: 'idle' })).status));
  await watcher.waitFor('activity', (a) => a.type === 'agent.status');
  const since = watcher.mark();
  for (let i = 0; i < 3; i++) assert.equal((await api('PUT', `/api/agents/${id}`, { status: 'idle' })).status, 200);
  await watcher.none('activity', (a) => a.type === 'agent.status', { since });
  assert.equal((await api('PUT', `/api/agents/${id}`, { status: 'error' })).status, 200);
  await watcher.waitFor('activity', (a) => a.type === 'agent.status', { since });
});

test('an agent reporting only over REST goes offline after 60 s without a heartbeat', { timeout: 90000 }, async () => {
  const watcher = await connect();
  const id = uid('agent');
  const put = await api('PUT', `/api/agents/${id}`, { status: 'busy' });
  assert.ok([200, 201].includes(put.status), put.text);
  const t0 = Date.now();
  const off = await watcher.waitEntry(`agent:${id}:status`, (d) => d.status === 'offline', { timeout: 75000 });
  const waited = Date.now() - t0;
  assert.ok(waited >= 55000 && waited <= 70000, `offline about 60 s after the last heartbeat, took ${waited} ms`);
  seqOf(off);
  assert.equal((await api('GET', `/api/agents/${id}`)).body.status, 'offline');
});

test('REST writes push the same socket events as socket writes, with "api" as the acting user', T, async () => {
  const c = await connect();
  let since = c.mark();
  const task = await restCreate({ title: uid('pushed'), status: 'REVIEW' });
  assert.deepEqual(await c.waitFor(`task:${task.id}:created`, () => true, { since }), task);
  const created = await c.waitFor('task:created', (d) => d.task?.id === task.id, { since });
  assert.equal(created.user, 'api');
  assert.equal((await c.waitFor('activity', (a) => a.taskId === task.id && a.type === 'task.created', { since })).user, 'api');
  since = c.mark();
  const put = await api('PUT', `/api/tasks/${task.id}`, { status: 'DONE', description: 'shipped' });
  assert.equal(put.status, 200, put.text);
  const patch = await c.waitFor(`task:${task.id}:updated`, () => true, { since });
  assert.deepEqual(patch, { id: task.id, status: 'DONE', description: 'shipped', version: put.body.version, updatedAt: put.body.updatedAt, ...('position' in patch ? { position: put.body.position } : {}) });
  assert.deepEqual(await c.waitFor('task:moved', (d) => d.taskId === task.id, { since }), { taskId: task.id, newStatus: 'DONE', movedBy: 'api' });
  assert.deepEqual(await c.waitFor('celebration', (d) => d.taskId === task.id, { since }), { user: 'api', taskId: task.id });
  since = c.mark();
  assert.equal((await api('DELETE', `/api/tasks/${task.id}`)).status, 204);
  assert.deepEqual(await c.waitFor(`task:${task.id}:deleted`, () => true, { since }), { id: task.id });
  assert.deepEqual(await c.waitFor('task:deleted', (d) => d.taskId === task.id, { since }), { taskId: task.id, deletedBy: 'api' });
  // A REST update that changes nothing pushes nothing.
  const still = await restCreate({ title: uid('quiet') });
  since = c.mark();
  assert.equal((await api('PUT', `/api/tasks/${still.id}`, { title: still.title })).status, 200);
  await c.none(`task:${still.id}:updated`, () => true, { since });
});

test('GET /api/openapi.json is a valid OpenAPI 3 document listing every route', T, async () => {
  const r = await api('GET', '/api/openapi.json');
  assert.equal(r.status, 200, r.text.slice(0, 200));
  const doc = r.body;
  assert.ok(doc && typeof doc === 'object', 'JSON');
  assert.match(String(doc.openapi), /^3\.\d+\.\d+$/, 'openapi: 3.x.y');
  assert.equal(typeof doc.info?.title, 'string');
  assert.equal(typeof doc.info?.version, 'string');
  assert.ok(doc.paths && typeof doc.paths === 'object');
  const norm = Object.fromEntries(Object.entries(doc.paths).map(([p, ops]) => [p.replace(/\{[^}]+\}/g, '{}'), ops]));
  const required = {
    '/api/health': ['get'],
    '/api/tasks': ['get', 'post'],
    '/api/tasks/{}': ['get', 'put', 'patch', 'delete'],
    '/api/tasks/{}/history': ['get'],
    '/api/agents': ['get'],
    '/api/agents/{}': ['get', 'put'],
    '/api/activity': ['get'],
  };
  for (const [p, methods] of Object.entries(required)) {
    assert.ok(norm[p], `paths lists ${p}: ${Object.keys(doc.paths).join(', ')}`);
    for (const m of methods) {
      assert.ok(norm[p][m], `${m.toUpperCase()} ${p} is documented`);
      assert.ok(norm[p][m].responses && Object.keys(norm[p][m].responses).length > 0, `${m.toUpperCase()} ${p} has responses`);
    }
  }
  // Every $ref resolves inside the document.
  const refs = [];
  (function walk(v) {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { if (k === '$ref') refs.push(x); else walk(x); }
  })(doc);
  for (const ref of refs) {
    assert.match(ref, /^#\//, `local $ref: ${ref}`);
    const target = ref.slice(2).split('/').reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    assert.ok(target !== undefined, `$ref ${ref} resolves`);
  }
});

test('an unknown route answers 404 { error: { code: "NOT_FOUND", message } } as JSON', T, async () => {
  for (const [method, path] of [['GET', '/api/nope'], ['POST', '/api/tasks/1/explode'], ['GET', '/api/agents/x/y/z']]) {
    const r = await api(method, path, method === 'POST' ? {} : undefined);
    assertHttpError(r, 404, 'NOT_FOUND', `${method} ${path}`);
    assert.match(r.headers.get('content-type') || '', /application\/json/);
  }
});

test('a method a route does not have answers a JSON error with a SPEC code, not an empty body', T, async () => {
  for (const [method, path] of [['DELETE', '/api/health'], ['POST', '/api/activity'], ['DELETE', '/api/agents']]) {
    const r = await api(method, path);
    assertHttpError(r, [404, 405], undefined, `${method} ${path}`);
  }
});

test('REST responses carry JSON content types and errors never leak as plain text', T, async () => {
  for (const [method, path, body] of [['GET', '/api/tasks'], ['POST', '/api/tasks', {}], ['GET', '/api/tasks/987654321']]) {
    const r = await api(method, path, body);
    assert.match(r.headers.get('content-type') || '', /application\/json/, `${method} ${path}`);
    assert.ok(r.body !== undefined, `${method} ${path} is JSON: ${r.text.slice(0, 100)}`);
  }
});
