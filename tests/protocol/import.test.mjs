// SPEC "Webhooks, import and export", the import half: a warroom export, a Trello board export (real files from
// tests/fixtures/trello and a full one of ours) and CSV, all or nothing, as one change every socket sees as a fresh
// sync:full. With the official socket.io-client against the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useServer, board, connect, Client, api, uid, assertOk, assertHttpError } from './helpers.mjs';
import { cli, createToken } from './tokens.mjs';

useServer({ rateLimit: 0 });

const fixture = (name) => readFile(new URL(`../fixtures/trello/${name}`, import.meta.url));
const newBoard = async (tag) => {
  const id = `${tag}-${uid('b').replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
  assert.equal((await api('POST', '/api/boards', { id, name: tag })).status, 201);
  return id;
};
const importRaw = (id, body, type = 'application/json', key, query = '') =>
  api('POST', `/api/boards/${id}/import${query}`, body, { raw: true, headers: { 'content-type': type }, key });
const dryRun = (id, body, type = 'application/json', key) => importRaw(id, body, type, key, '?dryRun=true');
/** What a reader sees of a board: its seq, tasks, labels and activity. */
const state = async (id) => {
  const client = new Client({ extraAuth: { board: id } });
  const { data } = await client.synced();
  client.close();
  const activity = (await api('GET', `/api/boards/${id}/activity`)).body;
  return { seq: data.seq, tasks: data.tasks, labels: data.labels, activity: activity.length };
};

test('a Trello export imports as one change: one seq, one board.imported, and every socket on the board gets sync:full', async () => {
  const id = await newBoard('trello');
  const watcher = await connect({ extraAuth: { board: id } });
  const elsewhere = await connect();
  const mark = watcher.mark();
  const otherMark = elsewhere.mark();
  const r = await importRaw(id, await fixture('full-export.json'));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.imported, { tasks: 5, labels: 3, comments: 2 });
  assert.deepEqual(r.body.skipped.map((s) => s.item), ['card “Archived card”', 'card “In an archived list”']);
  const activity = await watcher.waitEntry('activity', (a) => a.type === 'board.imported', { since: mark });
  const sync = await watcher.waitEntry('sync:full', () => true, { since: mark });
  assert.equal(sync.data.seq, activity.meta.seq, 'one change, one seq');
  assert.equal(sync.data.tasks.length, 5);
  assert.ok(!watcher.entries(undefined, mark).some((e) => e.event.startsWith('task')), 'no event per task');
  assert.ok(!elsewhere.entries(undefined, otherMark).some((e) => e.event === 'sync:full'), 'other boards are untouched');
  const first = sync.data.tasks.find((t) => t.title === 'First in To Do');
  assert.equal(first.assignee, 'Grace Hopper');
  assert.equal(first.dueAt, '2027-02-01T17:00:00.000Z');
  assert.equal(first.commentCount, 2);
  assert.match(first.description, /- \[x\] Draft\n- \[ \] Review$/);
  const labels = sync.data.labels.map((l) => l.name);
  assert.deepEqual(first.labels.map((lid) => sync.data.labels.find((l) => l.id === lid).name), ['Bug', 'green']);
  assert.ok(labels.includes('Ideas'));
  const comments = await api('GET', `/api/tasks/${first.id}/comments`);
  assert.deepEqual(comments.body.map((c) => [c.author, c.body, c.createdAt]), [
    ['Grace Hopper', 'First comment', '2026-11-01T10:00:00.000Z'], ['Ada Lovelace', 'Second comment', '2026-11-02T10:00:00.000Z']]);
  // A client resuming from before the import gets the board as it is, not a replay.
  const back = new Client({ extraAuth: { board: id, lastSeq: activity.meta.seq - 1 } });
  const resumed = await back.synced();
  assert.equal(resumed.event, 'sync:full');
});

test('the real, partial Trello files import what they hold', async () => {
  for (const [file, tasks] of [['one-column-two-cards.json', 2], ['one-list-moved-card.json', 2]]) {
    const id = await newBoard('partial');
    const r = await importRaw(id, await fixture(file));
    assert.equal(r.status, 200, `${file}: ${r.text}`);
    assert.equal(r.body.imported.tasks, tasks, file);
  }
});

test('a warroom export imports into another board with its labels and comments; CSV with a header row imports too', async () => {
  const from = await newBoard('from');
  const label = (await api('POST', `/api/boards/${from}/labels`, { name: 'infra', color: '#123456' })).body;
  const task = (await api('POST', `/api/boards/${from}/tasks`, { title: 'Move DNS', labels: [label.id], status: 'REVIEW' })).body;
  await api('POST', `/api/tasks/${task.id}/comments`, { body: 'done soon' });
  const exported = await api('GET', `/api/boards/${from}/export`);
  const to = await newBoard('to');
  const r = await importRaw(to, exported.text);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.imported, { tasks: 1, labels: 1, comments: 1 });
  const copied = (await api('GET', `/api/boards/${to}/tasks`)).body[0];
  assert.equal(copied.title, 'Move DNS');
  assert.equal(copied.status, 'REVIEW');
  assert.notEqual(copied.id, task.id, 'an import makes new tasks');
  const csv = 'title,description,status,assignee,labels,dueAt\r\nShip,,DONE,Ann,infra;new one,2027-01-01T00:00:00Z\r\n,no title,,,,\r\n';
  const c = await importRaw(to, csv, 'text/csv');
  assert.equal(c.status, 200, c.text);
  assert.deepEqual(c.body.imported, { tasks: 1, labels: 1, comments: 0 }, 'infra exists already');
  assert.deepEqual(c.body.skipped.map((s) => s.item), ['row 3']);
  const file = `${process.env.TMPDIR || '/tmp'}/warroom-import-${uid('f')}.csv`;
  await (await import('node:fs/promises')).writeFile(file, csv);
  const viaCli = await cli(['import', file, '--url', board.url, '--key', board.key, '--board', to]);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  assert.equal(JSON.parse(viaCli.stdout).imported.tasks, 1);
});

test('bad imports change nothing: not JSON nor CSV with title, not admin, unknown board, over 50 MiB', async () => {
  const id = await newBoard('bad');
  const before = (await api('GET', `/api/boards/${id}/activity`)).body.length;
  assertHttpError(await importRaw(id, '{"hello":1}'), [400], ['VALIDATION_ERROR']);
  assertHttpError(await importRaw(id, 'name,status\nx,TODO\n', 'text/csv'), [400], ['VALIDATION_ERROR']);
  assertHttpError(await importRaw(id, '{"format":"warroom-board","version":99}'), [400], ['VALIDATION_ERROR']);
  const editor = await createToken(board.server, uid('Eddie'), 'editor');
  assertHttpError(await importRaw(id, 'title\nx\n', 'text/csv', editor.token), [403], ['FORBIDDEN']);
  assertHttpError(await importRaw('no-such-board', 'title\nx\n', 'text/csv'), [404], ['BOARD_NOT_FOUND']);
  const huge = Buffer.alloc(51 * 1024 * 1024, 'a');
  assertHttpError(await importRaw(id, huge, 'text/csv'), [413], ['PAYLOAD_TOO_LARGE']);
  assert.equal((await api('GET', `/api/boards/${id}/tasks`)).body.length, 0);
  assert.equal((await api('GET', `/api/boards/${id}/activity`)).body.length, before);
});

test('CSV as a spreadsheet saves it (BOM, CRLF, quoted cells with quotes and line breaks) imports whole', async () => {
  const id = await newBoard('sheet');
  const file = await readFile(new URL('../fixtures/csv/spreadsheet-save-as.csv', import.meta.url));
  const r = await importRaw(id, file, 'text/csv');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.imported.tasks, 3, JSON.stringify(r.body));
  const tasks = (await api('GET', `/api/boards/${id}/tasks`)).body;
  const byTitle = Object.fromEntries(tasks.map((t) => [t.title, t]));
  assert.deepEqual(Object.keys(byTitle).sort(), ['Book DJ', 'Order chairs', 'Quote "the" venue'], 'no BOM in the first title');
  assert.equal(byTitle['Order chairs'].description, 'For the launch party, 40 of them');
  assert.equal(byTitle['Order chairs'].assignee, 'Ann');
  assert.equal(byTitle['Order chairs'].dueAt, '2027-03-01T09:00:00.000Z');
  assert.match(byTitle['Quote "the" venue'].description, /^Line one\r?\nline two$/);
  assert.equal(byTitle['Book DJ'].status, 'DONE');
});

test('bad CSV and Trello files: a clear VALIDATION_ERROR naming the row or field, or skipped with a reason; never partial', async () => {
  const id = await newBoard('worse');
  const count = async () => (await api('GET', `/api/boards/${id}/tasks`)).body.length;
  // Wrong quoting: an opening quote that never closes.
  const unclosed = await importRaw(id, 'title,description\r\n"never closed,x\r\nnext,y\r\n', 'text/csv');
  if (unclosed.status !== 200) assertHttpError(unclosed, [400], ['VALIDATION_ERROR']);
  // 10 MB in one cell: over the description's limit, so that row is skipped (or the file refused), nothing partial.
  const huge = `title,description\r\nsmall,ok\r\nbig,${'x'.repeat(10 * 1024 * 1024)}\r\n`;
  const before = await count();
  const big = await importRaw(id, huge, 'text/csv');
  if (big.status === 200) {
    assert.equal(big.body.imported.tasks, 1);
    assert.equal(big.body.skipped.length, 1);
    assert.match(big.body.skipped[0].item, /row 3/);
    assert.ok(big.body.skipped[0].reason.length > 0);
  } else {
    assertHttpError(big, [400], ['VALIDATION_ERROR']);
    assert.match(big.body.error.message, /row 3|description/);
    assert.equal(await count(), before, 'nothing partial');
  }
  // Trello: cards without their fields, a list that does not exist, duplicate label names.
  const trello = {
    name: 'Odd board',
    lists: [{ id: 'l1', name: 'Backlog', closed: false, pos: 1 }],
    labels: [{ id: 'a', name: 'Bug', color: 'red' }, { id: 'b', name: 'bug', color: 'blue' }],
    cards: [
      { id: 'c1', name: 'Fine', idList: 'l1', pos: 1, closed: false, idLabels: ['a', 'b'], labels: [{ id: 'a', name: 'Bug', color: 'red' }, { id: 'b', name: 'bug', color: 'blue' }] },
      { id: 'c2', idList: 'l1', pos: 2, closed: false },
      { id: 'c3', name: 'On a list nobody has', idList: 'nowhere', pos: 3, closed: false },
      { name: 'No id at all', idList: 'l1' },
    ],
    actions: [],
  };
  const t = await importRaw(id, JSON.stringify(trello));
  assert.equal(t.status, 200, t.text);
  const skippedItems = t.body.skipped.map((x) => `${x.item}: ${x.reason}`).join(' | ');
  assert.ok(t.body.imported.tasks >= 2, skippedItems);
  assert.ok(t.body.skipped.some((x) => /c2|title|name/i.test(`${x.item} ${x.reason}`)), `the card without a name is skipped: ${skippedItems}`);
  assert.equal(t.body.imported.labels <= 1, true, 'Bug and bug are one label (names are unique whatever the case)');
  const labels = (await api('GET', `/api/boards/${id}/labels`)).body.filter((l) => l.name.toLowerCase() === 'bug');
  assert.equal(labels.length, 1);
});

test('100,000 Trello cards are refused or imported whole, in seconds, without taking the server down', { timeout: 120_000 }, async () => {
  const id = await newBoard('many');
  const cards = Array.from({ length: 100_000 }, (_, i) => ({ id: `c${i}`, name: `Card ${i}`, idList: 'l1', pos: i, closed: false }));
  const file = JSON.stringify({ name: 'Huge', lists: [{ id: 'l1', name: 'To Do', closed: false, pos: 1 }], labels: [], cards, actions: [] });
  const started = Date.now();
  const r = await importRaw(id, file);
  const took = Date.now() - started;
  if (r.status === 200) {
    assert.equal(r.body.imported.tasks, 100_000);
    assert.equal((await api('GET', `/api/boards/${id}/tasks?limit=1`)).status, 200);
  } else {
    assertHttpError(r, [400], ['VALIDATION_ERROR']);
    assert.equal((await api('GET', `/api/boards/${id}/tasks`)).body.length, 0, 'nothing partial');
  }
  console.log(`figure import: 100,000 Trello cards (${(file.length / 1e6).toFixed(1)} MB) answered ${r.status} in ${took} ms`);
  assert.equal((await api('GET', '/api/health')).status, 200);
});

test('a dry run plans as the import does and writes nothing (no seq, no activity, no sync:full); the import after it answers the same', async () => {
  const id = await newBoard('dry');
  // A label the board has already is reused, not counted: the dry run must see the board's labels too.
  assert.equal((await api('POST', `/api/boards/${id}/labels`, { name: 'bug', color: '#ff0000' })).status, 201);
  const watcher = await connect({ extraAuth: { board: id } });
  const before = await state(id);
  const mark = watcher.mark();
  const file = await fixture('full-export.json');
  const dry = await dryRun(id, file);
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual(dry.body.imported, { tasks: 5, labels: 2, comments: 2 });
  assert.deepEqual(dry.body.skipped.map((s) => s.item), ['card “Archived card”', 'card “In an archived list”']);
  assert.ok(dry.body.skipped.every((s) => typeof s.reason === 'string' && s.reason.length > 0));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(watcher.entries(undefined, mark).map((e) => e.event), [], 'a dry run sends nothing');
  assert.deepEqual(await state(id), before, 'a dry run writes nothing');
  const real = await importRaw(id, file, 'application/json', undefined, '?dryRun=false');
  assert.equal(real.status, 200, real.text);
  assert.deepEqual(real.body, dry.body, 'the import answers what the dry run said');
  const after = await state(id);
  assert.equal(after.seq, before.seq + 1);
  assert.equal(after.tasks.length, 5);
  // CSV too, after the import: its labels exist now, so none would be new.
  const csv = 'title,labels\r\nOne,Bug;Ideas\r\n,untitled\r\n';
  const again = await dryRun(id, csv, 'text/csv');
  assert.deepEqual(again.body, { imported: { tasks: 1, labels: 0, comments: 0 }, skipped: [again.body.skipped[0]] });
  assert.equal(again.body.skipped[0].item, 'row 3');
  assert.deepEqual(await state(id), after);
});

test('a dry run refuses bad input as the import does', async () => {
  const id = await newBoard('drybad');
  const before = await state(id);
  assertHttpError(await dryRun(id, '{"hello":1}'), [400], ['VALIDATION_ERROR']);
  assertHttpError(await dryRun(id, 'name,status\nx,TODO\n', 'text/csv'), [400], ['VALIDATION_ERROR']);
  assertHttpError(await dryRun(id, '{"format":"warroom-board","version":99}'), [400], ['VALIDATION_ERROR']);
  const editor = await createToken(board.server, uid('Eddie'), 'editor');
  assertHttpError(await dryRun(id, 'title\nx\n', 'text/csv', editor.token), [403], ['FORBIDDEN']);
  assertHttpError(await dryRun('no-such-board', 'title\nx\n', 'text/csv'), [404], ['BOARD_NOT_FOUND']);
  assertHttpError(await importRaw(id, 'title\nx\n', 'text/csv', undefined, '?dryRun=yes'), [400], ['VALIDATION_ERROR']);
  assert.deepEqual(await state(id), before);
});
