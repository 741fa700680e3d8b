// SPEC "People": one person however their name is typed (Unicode NFC, any case); a person back within the presence
// grace never left; REST writes with the team key act as the person `X-Warroom-Name` names, a token's as its person.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, board, connect, api, uid, activity, restCreate, assertHttpError, WAIT } from './helpers.mjs';
import { startServer } from './server.mjs';
import { createToken } from './tokens.mjs';

/** This file's grace: long enough to come back within it on a loaded machine, short enough to wait past. */
const GRACE_MS = 1500;
useServer({ env: { PRESENCE_GRACE_MS: String(GRACE_MS) } });

const T = { timeout: 30000 };
const listed = (users, name) => users.filter((u) => u.name.normalize('NFC').toLowerCase() === name.normalize('NFC').toLowerCase());
const peopleEntries = async (name) => (await activity('?limit=500'))
  .filter((a) => (a.type === 'user.joined' || a.type === 'user.left') && a.user === name);

test('a person whose last connection closes and who is back within the grace never left: no users:update, no user.left or user.joined', T, async () => {
  const name = uid('Reload');
  const watcher = await connect();
  const first = await connect({ name });
  await watcher.waitFor('activity', (a) => a.type === 'user.joined' && a.user === name);
  const since = watcher.mark();
  first.close();
  const back = await connect({ name });
  assert.equal(listed(back.syncs[0].users, name).length, 1, 'still listed when they come back');
  // Past the grace: an absence is all there is to see.
  await watcher.none('users:update', () => true, { since, ms: GRACE_MS + 700 });
  await watcher.none('activity', (a) => a.user === name, { since, ms: 0 });
  assert.deepEqual((await peopleEntries(name)).map((a) => a.type), ['user.joined'], 'one join in the activity table');
});

test('a person away longer than the grace leaves once it is over: users:update without them and activity user.left', T, async () => {
  const name = uid('Gone');
  const watcher = await connect();
  const person = await connect({ name });
  await watcher.waitFor('activity', (a) => a.type === 'user.joined' && a.user === name);
  const since = watcher.mark();
  const closed = performance.now();
  person.close();
  const list = await watcher.waitEntry('users:update', (l) => listed(l, name).length === 0, { since, timeout: GRACE_MS + WAIT });
  const left = await watcher.waitEntry('activity', (a) => a.type === 'user.left' && a.user === name, { since });
  assert.ok(list.t - closed >= GRACE_MS * 0.9, `the leave waited for the grace (${Math.round(list.t - closed)} ms)`);
  assert.equal(left.meta?.seq, list.meta?.seq, 'the leave and its list share a seq');
});

test('a client reconnecting over and over within the grace writes no activity: one join, however many reconnections', T, async () => {
  const name = uid('Churn');
  let c = await connect({ name });
  for (let i = 0; i < 40; i += 1) {
    c.close();
    c = await connect({ name });
  }
  c.close();
  const watcher = await connect();
  await watcher.waitFor('activity', (a) => a.type === 'user.left' && a.user === name, { timeout: GRACE_MS + WAIT });
  assert.deepEqual((await peopleEntries(name)).map((a) => a.type), ['user.left', 'user.joined'], '41 connections, one join and one leave');
});

test('the grace is SPEC\'s 10 s unless PRESENCE_GRACE_MS says otherwise', { timeout: 40000 }, async () => {
  const srv = await startServer({ env: { PRESENCE_GRACE_MS: undefined } });
  try {
    const name = uid('Slow');
    const watcher = await connect({ url: srv.url, apiKey: srv.key });
    const person = await connect({ url: srv.url, apiKey: srv.key, name });
    await watcher.waitFor('activity', (a) => a.type === 'user.joined' && a.user === name);
    const since = watcher.mark();
    const closed = performance.now();
    person.close();
    const left = await watcher.waitEntry('activity', (a) => a.type === 'user.left' && a.user === name, { since, timeout: 15000 });
    const took = left.t - closed;
    assert.ok(took >= 9500 && took < 13000, `user.left came ${Math.round(took)} ms after the last connection closed`);
  } finally {
    await srv.close();
  }
});

test('"José" typed with a combining accent and precomposed is one person: one entry, one join, the NFC name', T, async () => {
  const suffix = uid('p');
  const composed = `Jos\u00e9-${suffix}`;
  const decomposed = `JOSE\u0301-${suffix}`.toUpperCase();
  const watcher = await connect();
  const a = await connect({ name: composed });
  await watcher.waitFor('activity', (e) => e.type === 'user.joined' && e.user === composed);
  const since = watcher.mark();
  const b = await connect({ name: decomposed });
  const users = listed(b.syncs[0].users, composed);
  assert.equal(users.length, 1, `one entry: ${JSON.stringify(b.syncs[0].users)}`);
  assert.equal(users[0].id, composed.toLowerCase(), 'the id is the NFC name, case-folded');
  const t = (await b.ack('task:create', { title: `Cafe\u0301 ${suffix}` })).task;
  assert.equal(t.createdBy, decomposed.normalize('NFC'), 'the name is stored in NFC');
  assert.equal(t.title, `Cafe\u0301 ${suffix}`, 'titles stay as typed');
  await watcher.none('activity', (e) => e.type === 'user.joined', { since, ms: 300 });
  a.close();
});

test('a token of "José" accepts its name typed the other way, and X-Warroom-Name typed the other way too', T, async () => {
  const name = `Jos\u00e9-${uid('t')}`;
  const tok = await createToken(board.server, name, 'editor');
  const c = await connect({ apiKey: tok.token, name: name.normalize('NFD') });
  assert.equal(listed(c.syncs[0].users, name)[0]?.name, name);
  const r = await api('POST', '/api/tasks', { title: uid('signed') }, { key: tok.token, headers: { 'x-warroom-name': encodeURIComponent(name.normalize('NFD')) } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.createdBy, name);
});

test('REST writes with the team key act as the person X-Warroom-Name names (percent-encoded UTF-8 or plain), else as api', T, async () => {
  const watcher = await connect();
  const adam = uid('Adam');
  const created = await api('POST', '/api/tasks', { title: uid('by Adam') }, { headers: { 'X-Warroom-Name': adam } });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.createdBy, adam);
  await watcher.waitFor('activity', (a) => a.type === 'task.created' && a.taskId === created.body.id && a.user === adam);
  const moved = await api('PATCH', `/api/tasks/${created.body.id}`, { status: 'DONE' }, { headers: { 'x-warroom-name': adam } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal((await watcher.waitFor('task:moved', (m) => m.taskId === created.body.id)).movedBy, adam);
  assert.equal((await watcher.waitFor('celebration', (m) => m.taskId === created.body.id)).user, adam);
  const deleted = await api('DELETE', `/api/tasks/${created.body.id}`, undefined, { headers: { 'x-warroom-name': adam } });
  assert.equal(deleted.status, 204);
  assert.equal((await watcher.waitFor('task:deleted', (d) => d.taskId === created.body.id)).deletedBy, adam);

  const jose = `Jos\u00e9 ${uid('r')}`;
  const encoded = await api('POST', '/api/tasks', { title: uid('by José') }, { headers: { 'x-warroom-name': encodeURIComponent(jose) } });
  assert.equal(encoded.body.createdBy, jose, 'a percent-encoded name is decoded');
  assert.equal((await restCreate({ title: uid('unsigned') })).createdBy, 'api', 'without the header: api');
});

test('an invalid X-Warroom-Name is VALIDATION_ERROR, and a token naming someone else is FORBIDDEN; neither writes', T, async () => {
  const before = (await api('GET', '/api/tasks')).body.length;
  for (const bad of ['%20%20', 'x'.repeat(65), '%FF']) {
    assertHttpError(await api('POST', '/api/tasks', { title: uid('bad name') }, { headers: { 'x-warroom-name': bad } }),
      400, 'VALIDATION_ERROR', `X-Warroom-Name ${bad.slice(0, 10)}`);
  }
  const tara = await createToken(board.server, uid('Tara'), 'editor');
  assertHttpError(await api('POST', '/api/tasks', { title: uid('as Mallory') }, { key: tara.token, headers: { 'x-warroom-name': 'Mallory' } }),
    403, 'FORBIDDEN', 'a token naming another person');
  const same = await api('POST', '/api/tasks', { title: uid('as Tara') }, { key: tara.token, headers: { 'x-warroom-name': tara.name.toUpperCase() } });
  assert.equal(same.status, 201, same.text);
  assert.equal(same.body.createdBy, tara.name, 'the token\'s name wins over its spelling in the header');
  assert.equal((await api('GET', '/api/tasks')).body.length, before + 1, 'only the allowed write happened');
});
