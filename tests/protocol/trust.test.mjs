// Issue 4, "Trust": no acknowledged write lost, no bad input harms the board, no one in without a key.
// Durability (SIGKILL mid-burst, many times; SIGTERM; backup and restore), gap-free resume and idempotency under load,
// per-person tokens and roles, rate and connection limits, security headers and CORS, and task history: each proved
// against the real binary with the official socket.io-client, fetch, and the `warroom` command line.
//
// Tests that need their own flags or stop/kill their server start a separate one (withServer); the rest share the
// file's server, started without rate limits so the load tests measure the board, not the limiter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  useServer, board, connect, joined, refused, api, uid, sleep, snapshot, settle, restCreate, sockCreate,
  getTask, listTasks, assertTask, assertRefused, assertOk, assertHttpError, closeAll, RFC3339_UTC, WAIT,
} from './helpers.mjs';
import { BIN, Server, startServer } from './server.mjs';
import { cli, createToken } from './tokens.mjs';

useServer({ rateLimit: 0 });

/** Crash runs in the SIGKILL test (the issue asks for at least 20). */
const CRASH_RUNS = Number(process.env.WARROOM_CRASH_RUNS || 20);
/** Changes made while the resuming client is away (the issue asks for 1,000). */
const RESUME_CHANGES = Number(process.env.WARROOM_RESUME_CHANGES || 1000);
/** The flood test's bound on a bystander's update latency while someone floods. */
const FLOOD_MAX_MS = Number(process.env.WARROOM_FLOOD_MAX_MS || 500);

// ---------------------------------------------------------------------------------------------------------------
// Helpers of this file.

/** Runs `fn(srv)` against a server of its own (options as startServer's); clients and REST helpers talk to it
 * meanwhile. Afterwards the file's shared server is current again and this one is stopped and removed. */
async function withServer(opts, fn) {
  await board.ready;
  const saved = { url: board.url, key: board.key, server: board.server };
  const srv = await startServer(opts);
  Object.assign(board, { url: srv.url, key: srv.key, server: srv });
  try {
    return await fn(srv);
  } finally {
    closeAll();
    Object.assign(board, saved);
    await srv.close();
  }
}

/** PRAGMA integrity_check of a database file, read-only (python3's sqlite3, so the file is not recovered or
 * checkpointed by the check itself). */
function integrityCheck(db) {
  const script = 'import sqlite3, sys, urllib.request\n'
    + 'c = sqlite3.connect("file:" + urllib.request.pathname2url(sys.argv[1]) + "?mode=ro", uri=True)\n'
    + 'print(c.execute("PRAGMA integrity_check").fetchone()[0])';
  const r = spawnSync('python3', ['-c', script, db], { encoding: 'utf8' });
  assert.equal(r.error, undefined, `python3 is needed for the integrity check: ${r.error?.message}`);
  assert.equal(r.status, 0, `integrity check could not run: ${r.stderr}`);
  return r.stdout.trim();
}

const percentile = (xs, p) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;

/** The events of `client` from `since` to `until` that carry a seq, as [seq, event, payload]. */
const persisted = (client, since = 0, until = client.log.length) => client.log.slice(since, until)
  .filter((e) => e.argc >= 2 && Number.isInteger(e.meta?.seq))
  .map((e) => [e.meta.seq, e.event, e.data]);

/** A client-side board: sync:full, then task events applied in order, as a dashboard does (a later sync:full
 * replaces it). */
class Replica {
  constructor(tasks) {
    this.tasks = new Map(tasks.map((t) => [t.id, { ...t }]));
    /** Events that made no sense for the replica (an update of a task it does not have…). */
    this.problems = [];
  }
  apply(event, data) {
    let m;
    if (event === 'sync:full') {
      this.tasks = new Map(data.tasks.map((t) => [t.id, { ...t }]));
    } else if ((m = /^task:(\d+):created$/.exec(event))) {
      if (this.tasks.has(Number(m[1]))) this.problems.push(`${event} twice`);
      this.tasks.set(Number(m[1]), { ...data });
    } else if ((m = /^task:(\d+):updated$/.exec(event))) {
      const id = Number(m[1]);
      if (!this.tasks.has(id)) this.problems.push(`${event} for a task the replica does not have`);
      else this.tasks.set(id, { ...this.tasks.get(id), ...data });
    } else if ((m = /^task:(\d+):deleted$/.exec(event))) {
      if (!this.tasks.delete(Number(m[1]))) this.problems.push(`${event} for a task the replica does not have`);
    }
  }
  sorted() { return [...this.tasks.values()].sort((a, b) => a.id - b.id); }
}

// ---------------------------------------------------------------------------------------------------------------
// Durability

test(`SIGKILL at a random moment of a write burst, ${CRASH_RUNS} times on one database: every acknowledged write is there after the restart and integrity_check is ok`, { timeout: 240000 }, async () => {
  await withServer({ rateLimit: 0 }, async (srv) => {
    /** id -> the task as last acknowledged; a task whose write was in flight at the kill may be one version ahead. */
    const acked = new Map();
    const deleted = new Set();
    let ackedWrites = 0;
    const started = Date.now();
    for (let run = 1; run <= CRASH_RUNS; run++) {
      const writers = await Promise.all([connect(), connect(), connect()]);
      let stop = false;
      const failures = [];
      const inFlight = new Set(); // ids with an update or delete sent and not acknowledged
      const pendingCreates = new Set(); // titles of creates sent and not acknowledged
      let runAcks = 0;
      let firstAck;
      const gotFirst = new Promise((r) => { firstAck = r; });
      const note = () => { runAcks += 1; ackedWrites += 1; firstAck(); };
      // Each writer creates a task, edits it, and deletes every third one: at most one write in flight per writer,
      // and no write moves another writer's task, so every other task must come back exactly as acknowledged.
      const loops = writers.map(async (w, i) => {
        for (let k = 0; !stop; k++) {
          try {
            const title = uid(`crash${run}-${i}`);
            pendingCreates.add(title);
            const c = await w.ack('task:create', { title, description: `run ${run}` });
            if (!c?.ok) { failures.push(c); break; }
            pendingCreates.delete(title);
            const id = c.task.id;
            acked.set(id, c.task); note();
            inFlight.add(id);
            const u = await w.ack('task:update', { id, title: uid(`edited${run}-${i}`), description: `edit ${k}` });
            if (!u?.ok) { failures.push(u); break; }
            acked.set(id, u.task); note();
            if (k % 3 === 2) {
              const d = await w.ack('task:delete', { taskId: id });
              if (!d?.ok) { failures.push(d); break; }
              acked.delete(id); deleted.add(id); note();
            }
            inFlight.delete(id);
          } catch { break; } // no ack: the server died under it
        }
      });
      const rest = (async () => {
        while (!stop) {
          try {
            const title = uid(`crash${run}-rest`);
            pendingCreates.add(title);
            const r = await api('POST', '/api/tasks', { title });
            if (r.status !== 201) { failures.push(r.body); break; }
            pendingCreates.delete(title);
            acked.set(r.body.id, r.body); note();
          } catch { break; }
        }
      })();
      await Promise.race([gotFirst, sleep(WAIT)]);
      assert.ok(runAcks > 0, `run ${run}: writes are acknowledged`);
      await sleep(Math.random() * 250); // the random moment
      await srv.kill();
      stop = true;
      await Promise.all([...loops, rest]);
      for (const w of writers) w.close();
      assert.deepEqual(failures, [], `run ${run}: no write was refused before the crash`);
      assert.equal(integrityCheck(srv.db), 'ok', `run ${run}: PRAGMA integrity_check after SIGKILL`);
      await srv.start();
      const stored = new Map((await listTasks()).map((t) => [t.id, t]));
      for (const [id, t] of acked) {
        const s = stored.get(id);
        if (inFlight.has(id)) {
          // Its last write was sent but not acknowledged: committed or not, both are fine.
          assert.ok(s === undefined || [t.version, t.version + 1].includes(s.version), `run ${run}: task ${id} in flight: ${JSON.stringify(s)}`);
          if (s) acked.set(id, s); else { acked.delete(id); deleted.add(id); }
        } else {
          assert.deepEqual(s, t, `run ${run}: task ${id} is stored exactly as acknowledged`);
        }
      }
      for (const id of deleted) assert.ok(!stored.has(id), `run ${run}: task ${id} was deleted and stays deleted`);
      for (const [id, s] of stored) {
        if (acked.has(id)) continue;
        // Only a create that was sent but not acknowledged may have landed unannounced.
        assert.ok(pendingCreates.has(s.title), `run ${run}: task ${id} "${s.title}" was never written`);
        acked.set(id, s);
      }
      for (const t of stored.values()) assertTask(t, `run ${run}: task ${t.id}`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`# crash test: ${CRASH_RUNS} SIGKILLs, ${ackedWrites} acknowledged writes (creates, updates, deletes) all verified, `
      + `${acked.size} tasks on the board, integrity_check ok after every crash, ${seconds} s`);
  });
});

test('SIGTERM during a write burst: the server exits 0 within seconds with the WAL checkpointed, every acknowledged write is kept, and a client with reconnection on gets sync:full with the persisted state', { timeout: 60000 }, async () => {
  await withServer({ rateLimit: 0 }, async (srv) => {
    const watcher = await connect({ reconnection: true });
    const writers = await Promise.all([connect(), connect()]);
    const acked = new Map();
    let stop = false;
    const loops = writers.map(async (w, i) => {
      while (!stop) {
        try {
          const a = await w.ack('task:create', { title: uid(`term-${i}`) });
          if (a?.ok) acked.set(a.task.id, a.task); else break;
        } catch { break; }
      }
    });
    while (acked.size < 30) await sleep(5);
    const since = watcher.mark();
    const t0 = performance.now();
    const exit = await srv.stop();
    const took = performance.now() - t0;
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM is a graceful stop: exit code 0');
    assert.ok(took < 5000, `the server exits within 5 s of SIGTERM (took ${fmt(took)})`);
    const wal = `${srv.db}-wal`;
    assert.ok(!existsSync(wal) || (await stat(wal)).size === 0, 'the WAL was checkpointed into the database at shutdown');
    assert.equal(integrityCheck(srv.db), 'ok');
    await watcher.waitFor('disconnect', () => true, { since });
    await srv.start();
    const sync = await watcher.waitFor('sync:full', () => true, { since, timeout: WAIT + 5000 });
    const stored = await snapshot();
    assert.deepEqual(sync.tasks.slice().sort((a, b) => a.id - b.id), stored, 'sync:full after the restart is the persisted board');
    for (const [id, t] of acked) assert.deepEqual(stored.find((s) => s.id === id), t, `acknowledged task ${id} is kept`);
    console.log(`# SIGTERM: exit 0 after ${fmt(took)}, ${acked.size} acknowledged writes kept, WAL empty`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Gap-free resume and idempotency

test(`a client dropped while others make ${RESUME_CHANGES} changes resumes with auth.lastSeq: exactly the missed events in order, none missing or repeated, then sync:resumed, and its replica equals the server`, { timeout: 120000 }, async () => {
  await settle(0);
  const witness = await connect();
  const away = await connect();
  // The dropped client keeps a replica, as the dashboard does, and remembers the last seq it saw.
  const replica = new Replica(away.syncs[0].tasks);
  let lastSeq = away.syncs[0].seq;
  away.socket.onAny((event, data, meta) => {
    replica.apply(event, data);
    if (Number.isInteger(meta?.seq)) lastSeq = meta.seq;
  });
  const seed = await Promise.all(Array.from({ length: 20 }, (_, i) => restCreate({ title: uid(`seed${i}`) })));
  for (const t of seed) await away.waitFor(`task:${t.id}:created`);
  const wSince = witness.mark();
  away.socket.disconnect(); // dropped: it will come back on the same Socket with auth.lastSeq
  const seqAtDrop = lastSeq;

  // Four writers, a quarter of the changes each: creates, edits, moves to a given position (which renumber a column and so change
  // other tasks too), deletes. Each writer changes only its own tasks, so every command is a change.
  const STATUSES = ['TODO', 'IN_PROGRESS', 'BLOCKED', 'REVIEW', 'DONE'];
  const writers = await Promise.all([0, 1, 2, 3].map(() => connect()));
  let changes = 0;
  await Promise.all(writers.map(async (w, i) => {
    const mine = i === 0 ? seed.map((t) => ({ id: t.id, status: t.status })) : [];
    for (let k = 0; k < RESUME_CHANGES / 4; k++) {
      const r = Math.random();
      if (mine.length < 3 || r < 0.3) {
        const t = await sockCreate(w, { title: uid(`w${i}`), status: STATUSES[k % 5] });
        mine.push({ id: t.id, status: t.status });
      } else if (r < 0.55) {
        const t = mine[Math.floor(Math.random() * mine.length)];
        assertOk(await w.ack('task:update', { id: t.id, description: `w${i} edit ${k}` }), 'update');
      } else if (r < 0.85) {
        const t = mine[Math.floor(Math.random() * mine.length)];
        const status = STATUSES[(STATUSES.indexOf(t.status) + 1 + Math.floor(Math.random() * 4)) % 5];
        assertOk(await w.ack('task:move', { taskId: t.id, status, position: Math.floor(Math.random() * 4) }), 'move');
        t.status = status;
      } else {
        const [t] = mine.splice(Math.floor(Math.random() * mine.length), 1);
        assertOk(await w.ack('task:delete', { taskId: t.id }), 'delete');
      }
      changes += 1;
    }
  }));
  assert.equal(changes, RESUME_CHANGES);
  const marker = await restCreate({ title: uid('last change') });
  await witness.waitFor('activity', (a) => a.taskId === marker.id && a.type === 'task.created', { since: wSince, timeout: WAIT + 5000 });
  const missed = persisted(witness, wSince).filter(([s]) => s > seqAtDrop);
  const missedSeqs = new Set(missed.map(([s]) => s));
  assert.equal(missedSeqs.size, RESUME_CHANGES + 1, `the witness saw every change and the marker (${missed.length} events)`);

  const since = away.mark();
  away.socket.auth = { apiKey: board.key, lastSeq: seqAtDrop };
  away.socket.connect();
  const resumed = await away.waitEntry('sync:resumed', () => true, { since, timeout: WAIT + 10000 }).catch(() => {
    const got = persisted(away, since);
    assert.fail(`no sync:resumed: the resumed client got ${got.length} of the ${missed.length} missed events `
      + `(seqs ${got[0]?.[0]}…${got.at(-1)?.[0]} of ${missed[0][0]}…${missed.at(-1)[0]}), then nothing`);
  });
  const replay = persisted(away, since, away.log.indexOf(resumed));
  const others = away.log.slice(since, away.log.indexOf(resumed)).filter((e) => !(e.argc >= 2 && Number.isInteger(e.meta?.seq)) && e.event !== 'connect');
  assert.deepEqual(others.map((e) => e.event), [], 'nothing but missed persisted events before sync:resumed');
  const replaySeqs = replay.map(([s]) => s);
  for (let i = 1; i < replaySeqs.length; i++) assert.ok(replaySeqs[i] >= replaySeqs[i - 1], `in seq order at #${i}`);
  assert.equal(replay.length, missed.length, `as many events as were missed (${replay.length} vs ${missed.length})`);
  assert.deepEqual(replay, missed, 'exactly the missed events, in the order they were sent live, with their payloads and seqs');
  assert.deepEqual(resumed.data, { seq: Math.max(...missedSeqs) }, 'sync:resumed { seq } is the latest seq');
  assert.equal(away.entries('sync:full', since).length, 0, 'no sync:full for a resumed connection');
  assert.deepEqual(replica.problems, [], 'every event applied cleanly to the replica');
  assert.deepEqual(replica.sorted(), await snapshot(), 'the replica with the replayed events applied equals GET /api/tasks');
  console.log(`# resume: ${missedSeqs.size} missed changes replayed as ${replay.length} events, replica equals the server`);
});

test('idempotency: a repeated opId applies once, also sent concurrently, over sockets and REST alike, scoped by credential, after a crash, and a failed command may be retried with its opId', { timeout: 60000 }, async () => {
  await withServer({ rateLimit: 0 }, async (srv) => {
    const [a, b, watcher] = await Promise.all([connect(), connect(), connect()]);
    const since = watcher.mark();
    const opId = uid('op');
    const title = uid('exactly once');
    // The same opId from two sockets of one credential at the same moment, then over REST.
    const [first, second] = await Promise.all([a.ack('task:create', { title, opId }), b.ack('task:create', { title, opId })]);
    assertOk(first); assertOk(second);
    assert.deepEqual(second.task, first.task, 'concurrent repeats answer the same task');
    const viaRest = await api('POST', '/api/tasks', { title }, { headers: { 'idempotency-key': opId } });
    assert.ok([200, 201].includes(viaRest.status), viaRest.text);
    assert.deepEqual(viaRest.body, first.task, 'REST with the same Idempotency-Key returns the socket\'s result');
    assert.equal((await listTasks(`?q=${encodeURIComponent(title)}`)).length, 1, 'one task');
    await watcher.none('task:created', (d) => d.task.title === title && d.task.id !== first.task.id, { since });
    assert.equal(watcher.entries('task:created', since).length, 1, 'one broadcast');

    // Another credential has its own namespace: the same opId is a new command there.
    const editor = await createToken(srv, uid('Ed'), 'editor');
    const viaToken = await api('POST', '/api/tasks', { title }, { key: editor.token, headers: { 'idempotency-key': opId } });
    assert.equal(viaToken.status, 201, viaToken.text);
    assert.notEqual(viaToken.body.id, first.task.id, 'a token\'s opIds do not collide with the team key\'s');

    // A failed command (no such task, a stale version) may be retried with the same opId, and then applies once.
    const task = await sockCreate(a, { title: uid('retry') });
    const retry = uid('retry-op');
    assertRefused(await a.ack('task:update', { id: 987654321, title: 'x', opId: retry }), 'TASK_NOT_FOUND');
    assertRefused(await a.ack('task:update', { id: task.id, title: 'y', version: task.version + 5, opId: retry }), 'CONFLICT');
    const ok = assertOk(await a.ack('task:update', { id: task.id, title: 'applied', version: task.version, opId: retry }));
    assert.equal(ok.task.version, task.version + 1);
    const again = assertOk(await b.ack('task:update', { id: task.id, title: 'applied', version: task.version, opId: retry }));
    assert.deepEqual(again.task, ok.task, 'the repeat of the successful retry returns it and is not a CONFLICT');
    assert.equal((await getTask(task.id)).version, task.version + 1, 'applied once');

    // The record of an acknowledged opId survives kill -9: a client's retry after the crash applies nothing.
    const moveOp = uid('move-op');
    const moved = assertOk(await a.ack('task:move', { taskId: task.id, status: 'REVIEW', opId: moveOp }));
    assertOk(await a.ack('task:move', { taskId: task.id, status: 'BLOCKED' }));
    const before = await getTask(task.id);
    closeAll();
    await srv.kill();
    await srv.start();
    const c = await connect();
    const replayed = assertOk(await c.ack('task:move', { taskId: task.id, status: 'REVIEW', opId: moveOp }));
    assert.deepEqual(replayed.task, moved.task, 'the first result, from before the crash');
    assert.deepEqual(await getTask(task.id), before, 'nothing applied twice');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Abuse

/** A flooding client on its own thread (its own event loop, so the measuring clients are not slowed by the sending):
 * `task:create` as fast as the socket takes them, at least `count` of them and for at least `ms`; resolves with
 * { sent, ok, limited, other, lost, ms }. */
function flood(url, key, { count, ms }) {
  const ioPath = createRequire(import.meta.url).resolve('socket.io-client');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { io } = require(workerData.ioPath);
    const s = io(workerData.url, { auth: { apiKey: workerData.key, subscribe: [] }, transports: ['websocket'], reconnection: false, forceNew: true });
    const res = { sent: 0, ok: 0, limited: 0, other: 0, lost: 0 };
    s.on('sync:full', async () => {
      const t0 = Date.now();
      const acks = [];
      while (res.sent < workerData.count || Date.now() - t0 < workerData.ms) {
        for (let i = 0; i < 100; i++, res.sent++) {
          acks.push(s.timeout(20000).emitWithAck('task:create', { title: 'flood ' + res.sent }).then((a) => {
            if (a && a.ok) res.ok += 1; else if (a && a.error && a.error.code === 'RATE_LIMITED') res.limited += 1; else res.other += 1;
          }, () => { res.lost += 1; }));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      res.sentMs = Date.now() - t0;
      await Promise.all(acks);
      res.ms = Date.now() - t0;
      s.close();
      parentPort.postMessage(res);
    });
    s.on('connect_error', (e) => parentPort.postMessage({ error: e.message }));
  `;
  const worker = new Worker(code, { eval: true, workerData: { ioPath, url, key, count, ms } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => { worker.terminate(); resolve(m); });
    worker.once('error', reject);
  });
}

test('a client flooding thousands of commands for 2 s is answered RATE_LIMITED while another writer\'s updates still reach an observer promptly, none lost', { timeout: 90000 }, async () => {
  await withServer({}, async () => { // default rate limit: 200/s per socket, bursts of 400
    const [writer, observer] = await Promise.all([connect(), connect()]);
    const task = await sockCreate(writer, { title: uid('bystander') });
    // The pair listens only to what it measures, so this process spends the flood measuring, not decoding the
    // flooder's broadcasts (the server still sends every event to everyone who asked).
    assertOk(await writer.ack('subscribe', { patterns: [] }));
    assertOk(await observer.ack('subscribe', { patterns: [`task:${task.id}:updated`] }));
    let n = 0;
    /** One update by the writer; resolves with the ms until the observer has it. */
    const probe = async () => {
      const description = `probe ${++n}`;
      const since = observer.mark();
      const t0 = performance.now();
      const [ack, seen] = await Promise.all([
        writer.ack('task:update', { id: task.id, description }),
        observer.waitEntry(`task:${task.id}:updated`, (d) => d.description === description, { since, timeout: 5000 }),
      ]);
      assertOk(ack, `the bystander's update ${n}`);
      return seen.t - t0;
    };
    const sample = async (until) => {
      const xs = [];
      do { xs.push(await probe()); await sleep(10); } while (!until() || xs.length < 20);
      return xs;
    };
    const baseline = await sample(() => true);
    let done = false;
    const flooding = flood(board.url, board.key, { count: 2000, ms: 2000 }).finally(() => { done = true; });
    await sleep(20);
    const during = await sample(() => done);
    const result = await flooding;
    assert.equal(result.error, undefined, `the flooder connected: ${result.error}`);
    const line = (xs) => `p50 ${fmt(percentile(xs, 50))}, p95 ${fmt(percentile(xs, 95))}, max ${fmt(Math.max(...xs))} (${xs.length} updates)`;
    console.log(`# flood: ${result.sent} commands in ${result.sentMs} ms: ${result.ok} accepted, ${result.limited} RATE_LIMITED (all answered after ${result.ms} ms)`);
    console.log(`# bystander latency before: ${line(baseline)}; during the flood: ${line(during)}`);
    assert.equal(result.lost + result.other, 0, 'every flooded command was answered, ok or RATE_LIMITED');
    assert.equal(result.ok + result.limited, result.sent);
    assert.ok(result.sent >= 2000);
    assert.ok(result.limited > 0, 'the flooder is rate limited');
    assert.ok(result.ok <= 400 + 200 * (result.ms / 1000) + 50, `at most the burst plus the rate is accepted (${result.ok} in ${result.ms} ms)`);
    assert.ok(Math.max(...during) < FLOOD_MAX_MS, `the bystander's updates arrive within ${FLOOD_MAX_MS} ms during the flood (max ${fmt(Math.max(...during))})`);
    assert.ok(writer.connected && observer.connected, 'the bystanders stay connected');
  });
});

test('REST rate limits are per credential: a token flooding the API gets 429 RATE_LIMITED while the team key is still served', { timeout: 30000 }, async () => {
  await withServer({ rateLimit: 5 }, async (srv) => { // 5/s, bursts of 10: the limit is met at once
    const noisy = await createToken(srv, uid('Noisy'), 'editor');
    const replies = await Promise.all(Array.from({ length: 40 }, () => api('GET', '/api/tasks', undefined, { key: noisy.token })));
    const limited = replies.filter((r) => r.status === 429);
    assert.ok(limited.length >= 20, `most of 40 requests at once are refused (${limited.length})`);
    assertHttpError(limited[0], 429, 'RATE_LIMITED', 'flooded REST');
    const other = await api('GET', '/api/tasks');
    assert.equal(other.status, 200, 'another credential is not limited by the flood');
  });
});

test('limits: --connection-limit 3 refuses a fourth socket of the same credential with RATE_LIMITED (other credentials still connect); a ninth drag lock of one socket is RATE_LIMITED', { timeout: 30000 }, async () => {
  await withServer({ rateLimit: 0, extraArgs: ['--connection-limit', '3'] }, async (srv) => {
    const three = await Promise.all([connect(), connect(), connect()]);
    const err = await refused({ apiKey: board.key });
    assert.match(err.message, /^RATE_LIMITED/, `connect_error message: ${err.message}`);
    const person = await createToken(srv, uid('Pia'), 'editor');
    const other = await connect({ apiKey: person.token });
    assert.ok(other.connected, 'a token is its own credential with its own connection count');
    three[2].close();
    await settle(3);
    const fourth = await connect();
    assert.ok(fourth.connected, 'a place is free again once a socket closes');

    const tasks = await Promise.all(Array.from({ length: 9 }, (_, i) => restCreate({ title: uid(`drag${i}`) })));
    for (const t of tasks.slice(0, 8)) assertOk(await fourth.ack('task:drag:start', { taskId: t.id }), `drag ${t.id}`);
    assertRefused(await fourth.ack('task:drag:start', { taskId: tasks[8].id }), 'RATE_LIMITED', 'the ninth drag lock');
    assertOk(await other.ack('task:drag:start', { taskId: tasks[8].id }), 'another socket may still drag');
    assertOk(await fourth.ack('task:drag:end', { taskId: tasks[0].id }));
    assertOk(await fourth.ack('task:drag:start', { taskId: tasks[0].id }), 'after a drag ends a new one is allowed');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Identity and access

test('per-person tokens: a viewer reads and receives events but every write is FORBIDDEN (socket and REST) and changes nothing', { timeout: 60000 }, async () => {
  const srv = board.server;
  const viewer = await createToken(srv, uid('Vera'), 'viewer');
  const editor = await joined(uid('Eddie'));
  const target = await sockCreate(editor, { title: uid('seen by the viewer') });
  const v = await connect({ apiKey: viewer.token });
  assert.ok(v.syncs[0].tasks.some((t) => t.id === target.id), 'the viewer gets sync:full');
  assert.ok(v.syncs[0].users.some((u) => u.name === viewer.name), 'the viewer is online under the token\'s name');
  const vSince = v.mark();
  const made = await sockCreate(editor, { title: uid('live for the viewer') });
  await v.waitFor('task:created', (d) => d.task.id === made.id, { since: vSince });
  await v.waitFor(`task:${made.id}:created`, () => true, { since: vSince });
  for (const path of ['/api/tasks', `/api/tasks/${target.id}`, `/api/tasks/${target.id}/history`, '/api/agents', '/api/activity']) {
    assert.equal((await api('GET', path, undefined, { key: viewer.token })).status, 200, `a viewer may GET ${path}`);
  }
  assertOk(await v.ack('subscribe', { patterns: ['**'] }), 'subscribing is reading');

  const before = await snapshot();
  const eSince = editor.mark();
  const agentId = uid('viewer-bot');
  const writes = [
    ['task:create', { title: 'nope' }],
    ['task:update', { id: target.id, title: 'nope' }],
    ['task:move', { taskId: target.id, status: 'DONE' }],
    ['task:delete', { taskId: target.id }],
    ['agent:status', { id: agentId, status: 'busy' }],
    ['typing:start', {}],
    ['typing:stop', {}],
    ['task:drag:start', { taskId: target.id }],
    ['task:claim', { taskId: target.id, agentId }],
    ['task:next', { agentId }],
    ['task:release', { taskId: target.id }],
    ['task:progress', { taskId: target.id, message: 'nope' }],
  ];
  for (const [event, payload] of writes) {
    const since = v.mark();
    assertRefused(await v.ack(event, payload), 'FORBIDDEN', `viewer ${event}`);
    await v.waitFor('error', (e) => e.code === 'FORBIDDEN', { since });
  }
  const restWrites = [
    ['POST', '/api/tasks', { title: 'nope' }],
    ['PUT', `/api/tasks/${target.id}`, { title: 'nope' }],
    ['PATCH', `/api/tasks/${target.id}`, { title: 'nope' }],
    ['DELETE', `/api/tasks/${target.id}`, undefined],
    ['PUT', `/api/agents/${agentId}`, { status: 'busy' }],
    ['POST', `/api/tasks/${target.id}/claim`, { agentId }],
    ['POST', '/api/tasks/next', { agentId }],
    ['POST', `/api/tasks/${target.id}/release`, undefined],
    ['POST', `/api/tasks/${target.id}/progress`, { message: 'nope' }],
  ];
  for (const [method, path, body] of restWrites) {
    assertHttpError(await api(method, path, body, { key: viewer.token }), 403, 'FORBIDDEN', `viewer ${method} ${path}`);
  }
  assert.deepEqual(await snapshot(), before, 'the board is unchanged');
  assert.equal((await api('GET', `/api/agents/${agentId}`)).status, 404, 'no agent was created');
  await editor.none('typing:update', () => true, { since: eSince, ms: 300 });
  await editor.none('task:drag:other', () => true, { since: eSince, ms: 0 });
  assert.ok(v.connected, 'a refused viewer stays connected');
});

test('a token fixes its person\'s name: auth.name or user:join as someone else is FORBIDDEN; what they write is signed with the token\'s name', { timeout: 30000 }, async () => {
  const srv = board.server;
  const name = uid('Tara');
  const tara = await createToken(srv, name, 'editor');
  const err = await refused({ apiKey: tara.token, name: 'Mallory' });
  assert.match(err.message, /^FORBIDDEN/, `connect_error: ${err.message}`);
  const same = await connect({ apiKey: tara.token, name: name.toUpperCase() });
  assert.ok(same.syncs[0].users.some((u) => u.name.toLowerCase() === name.toLowerCase()), 'the same name in another case is that person');
  const c = await connect({ apiKey: tara.token });
  assert.ok(c.syncs[0].users.some((u) => u.name === name), 'without auth.name the token\'s name is used');
  assertRefused(await c.ack('user:join', { name: 'Mallory' }), 'FORBIDDEN', 'user:join as someone else');
  assert.equal(assertOk(await c.ack('user:join', { name })).user.name, name);
  const watcher = await connect();
  const since = watcher.mark();
  const t = await sockCreate(c, { title: uid('signed') });
  assert.equal(t.createdBy, name, 'createdBy is the token\'s name');
  const created = await watcher.waitFor('task:created', (d) => d.task.id === t.id, { since });
  assert.equal(created.user, name);
  assertOk(await c.ack('task:move', { taskId: t.id, status: 'DONE' }));
  assert.equal((await watcher.waitFor('task:moved', (d) => d.taskId === t.id, { since })).movedBy, name);
  const viaRest = await api('POST', '/api/tasks', { title: uid('signed over REST') }, { key: tara.token });
  assert.equal(viaRest.status, 201);
  assert.equal(viaRest.body.createdBy, name, 'a REST write with a token acts as its person, not `api`');
  const del = await api('DELETE', `/api/tasks/${t.id}`, undefined, { key: tara.token, auth: 'bearer' });
  assert.equal(del.status, 204);
  assert.equal((await watcher.waitFor('task:deleted', (d) => d.taskId === t.id, { since })).deletedBy, name);
});

test('revoking a token with the command line disconnects its open sockets within ~2 s, then REST answers 401 and a new handshake Unauthorized; only its hash is stored and nothing secret is logged', { timeout: 30000 }, async () => {
  const srv = board.server;
  const name = uid('Rex');
  const rex = await createToken(srv, name, 'admin');
  const [s1, s2] = await Promise.all([connect({ apiKey: rex.token }), connect({ apiKey: rex.token })]);
  const bystander = await connect();
  assert.equal((await api('GET', '/api/tasks', undefined, { key: rex.token })).status, 200);
  const list = await cli(['token', 'list', '--db', srv.db]);
  assert.equal(list.code, 0, list.stderr);
  const row = list.stdout.split('\n').find((l) => l.startsWith(rex.id));
  assert.ok(row && row.includes(name) && row.includes('admin') && row.includes('active'), `token list shows it: ${list.stdout}`);
  assert.ok(!list.stdout.includes(rex.token.split('_')[2]), 'token list never shows a token');

  const since = s1.mark();
  const t0 = performance.now();
  const r = await cli(['token', 'revoke', rex.id, '--db', srv.db]);
  assert.equal(r.code, 0, r.stderr);
  await Promise.all([s1, s2].map((s) => s.waitFor('disconnect', () => true, { since: 0, timeout: 4000 })));
  const took = performance.now() - t0;
  assert.ok(took < 2500, `the revoked token's sockets are disconnected within ~2 s (took ${fmt(took)})`);
  assert.equal(s1.entries('disconnect', since)[0].data, 'io server disconnect', 'the server closed it');
  assertHttpError(await api('GET', '/api/tasks', undefined, { key: rex.token }), 401, 'UNAUTHORIZED', 'REST with a revoked token');
  const err = await refused({ apiKey: rex.token });
  assert.equal(err.message, 'Unauthorized');
  assert.ok(bystander.connected, 'other sockets stay');
  const listed = await cli(['token', 'list', '--db', srv.db]);
  assert.match(listed.stdout.split('\n').find((l) => l.startsWith(rex.id)) ?? '', /revoked/);
  const twice = await cli(['token', 'revoke', rex.id, '--db', srv.db]);
  assert.notEqual(twice.code, 0, 'revoking twice is an error');
  console.log(`# revocation: sockets disconnected ${fmt(took)} after \`warroom token revoke\` was started`);

  // At rest: the database (and its WAL) holds the token's SHA-256, never the token or its secret.
  const secret = rex.token.split('_')[2];
  const files = [srv.db, `${srv.db}-wal`].filter(existsSync);
  const bytes = Buffer.concat(await Promise.all(files.map((f) => readFile(f))));
  assert.ok(!bytes.includes(rex.token) && !bytes.includes(secret), 'the token is not in the database files');
  assert.ok(bytes.includes(createHash('sha256').update(rex.token).digest('hex')), 'its SHA-256 is what is stored');
  // And in the log: neither tokens nor the team key.
  assert.ok(!srv.output.includes(secret), 'the server never logs a token');
  assert.ok(!srv.output.includes(board.key), 'the server never logs the team key');
});

// ---------------------------------------------------------------------------------------------------------------
// Backup and restore

test('backup while the server writes is a consistent copy; restore is refused while the server runs; after stop, restore and start the board equals the backup', { timeout: 90000 }, async () => {
  await withServer({ rateLimit: 0 }, async (srv) => {
    const backupDir = await mkdtemp(path.join(tmpdir(), 'warroom-backup-'));
    const probe = new Server({ key: srv.key });
    try {
      const kept = await Promise.all(Array.from({ length: 20 }, (_, i) => restCreate({ title: uid(`kept${i}`), description: 'before the backup' })));
      const w = await connect();
      const order = [];
      let stop = false;
      const writing = (async () => {
        for (let i = 0; !stop; i++) {
          try { order.push((await sockCreate(w, { title: `during ${i}` })).id); } catch { break; }
        }
      })();
      while (order.length < 20) await sleep(5);
      const ackedBefore = order.length;
      const file = path.join(backupDir, 'board.db');
      const b = await cli(['backup', file, '--db', srv.db]);
      assert.equal(b.code, 0, `backup while serving: ${b.stderr}`);
      const ackedAfter = order.length;
      while (order.length < ackedAfter + 20) await sleep(5);
      stop = true;
      await writing;
      assert.equal(integrityCheck(file), 'ok');
      assert.notEqual((await cli(['backup', file, '--db', srv.db])).code, 0, 'backup never overwrites a file');

      const refusedRestore = await cli(['restore', file, '--db', srv.db]);
      assert.notEqual(refusedRestore.code, 0, 'restore is refused while the server runs');
      assert.match(refusedRestore.stderr, /stopped|serving/, refusedRestore.stderr);
      assert.equal((await listTasks()).length, kept.length + order.length, 'the refused restore changed nothing');

      // After the backup: deletions and new tasks that the restore must undo.
      for (const t of kept.slice(0, 5)) assert.equal((await api('DELETE', `/api/tasks/${t.id}`)).status, 204);
      const later = await restCreate({ title: uid('after the backup') });

      // What the backup holds, read by a server of its own (restored into an empty folder).
      probe.dir = await mkdtemp(path.join(tmpdir(), 'warroom-probe-'));
      const pr = await cli(['restore', file, '--db', probe.db]);
      assert.equal(pr.code, 0, pr.stderr);
      await probe.start();
      const probeTasks = (await (await fetch(`${probe.url}/api/tasks`, { headers: { 'x-api-key': srv.key } })).json()).sort((x, y) => x.id - y.id);
      await probe.close();

      closeAll();
      assert.deepEqual(await srv.stop(), { code: 0, signal: null });
      await writeFile(path.join(backupDir, 'garbage.db'), 'this is not a database');
      assert.notEqual((await cli(['restore', path.join(backupDir, 'garbage.db'), '--db', srv.db])).code, 0, 'a damaged backup is refused');
      const rs = await cli(['restore', file, '--db', srv.db]);
      assert.equal(rs.code, 0, rs.stderr);
      await srv.start();
      const restored = await snapshot();
      assert.deepEqual(restored, probeTasks, 'the restored board is the backup');
      const ids = new Set(restored.map((t) => t.id));
      for (const t of kept) assert.ok(ids.has(t.id), `task ${t.id} from before the backup is back`);
      assert.ok(!ids.has(later.id), 'a task created after the backup is gone');
      // Consistent: of the tasks written during the backup, exactly a prefix is in it, at least those acked before.
      const during = order.filter((id) => ids.has(id));
      assert.deepEqual(during, order.slice(0, during.length), 'the writes during the backup are in it as a prefix, in order');
      // (One more than was acknowledged when the backup ended: a write committed just before, its ack still on the way.)
      assert.ok(during.length >= ackedBefore && during.length <= ackedAfter + 1, `${during.length} of the writes during the backup (acked before: ${ackedBefore}, after: ${ackedAfter})`);
      // And it serves on from there: the next change continues the restored sequence.
      const c = await connect();
      const seq = c.syncs[0].seq;
      const since = c.mark();
      const next = await restCreate({ title: uid('after restore') });
      const e = await c.waitEntry(`task:${next.id}:created`, () => true, { since });
      assert.equal(e.meta.seq, seq + 1);
    } finally {
      await probe.close();
      await rm(backupDir, { recursive: true, force: true });
    }
  });
});

test('after a restore, a client that saw the changes the restore undid is brought back with sync:full, not resumed onto the restored history', { timeout: 60000 }, async () => {
  await withServer({ rateLimit: 0 }, async (srv) => {
    const backupDir = await mkdtemp(path.join(tmpdir(), 'warroom-backup-'));
    try {
      await Promise.all(Array.from({ length: 3 }, (_, i) => restCreate({ title: uid(`base${i}`) })));
      const file = path.join(backupDir, 'board.db');
      const b = await cli(['backup', file, '--db', srv.db]);
      assert.equal(b.code, 0, b.stderr);
      // A dashboard sees changes that the restore will undo, then loses its connection.
      const old = await connect();
      const replica = new Replica(old.syncs[0].tasks);
      let lastSeq = old.syncs[0].seq;
      old.socket.onAny((event, data, meta) => {
        replica.apply(event, data);
        if (Number.isInteger(meta?.seq)) lastSeq = meta.seq;
      });
      const undone = await Promise.all(Array.from({ length: 5 }, (_, i) => restCreate({ title: uid(`undone${i}`) })));
      for (const t of undone) await old.waitFor(`task:${t.id}:created`);
      old.socket.disconnect();
      const seen = lastSeq;
      assert.deepEqual(await srv.stop(), { code: 0, signal: null });
      const rs = await cli(['restore', file, '--db', srv.db]);
      assert.equal(rs.code, 0, rs.stderr);
      await srv.start();
      // The restored board goes on, past the sequence number the dashboard last saw.
      for (let seq = (await connect()).syncs[0].seq; seq <= seen + 2; seq += 1) await restCreate({ title: uid('after restore') });
      const since = old.mark();
      old.socket.auth = { apiKey: board.key, lastSeq: seen };
      old.socket.connect();
      const sync = await old.synced({ since });
      assert.deepEqual(replica.problems, [], `the events it got fit its board (${sync.event})`);
      assert.deepEqual(replica.sorted(), await snapshot(),
        `its board equals the server's (it got ${sync.event}; the tasks the restore undid must be gone)`);
    } finally {
      await rm(backupDir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Headers, CORS, history

test('the dashboard and the API carry the security headers: CSP without inline script, nosniff, frame denial, no referrer', async () => {
  for (const p of ['/', '/api/health', '/api/tasks']) {
    const r = await fetch(board.url + p, { headers: { 'x-api-key': board.key } });
    await r.arrayBuffer();
    const csp = r.headers.get('content-security-policy') ?? '';
    const directive = (name) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? '';
    const scripts = directive('script-src') || directive('default-src');
    assert.ok(scripts, `${p}: CSP restricts scripts: ${csp}`);
    assert.ok(!scripts.includes("'unsafe-inline'") && !scripts.includes("'unsafe-eval'"), `${p}: no inline script: ${scripts}`);
    assert.equal(directive('frame-ancestors'), "frame-ancestors 'none'", `${p}: ${csp}`);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
    assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer', p);
  }
});

/** A CORS preflight and a simple request from `origin`: the two allow-origin answers. */
async function cors(url, origin, key) {
  const pre = await fetch(`${url}/api/tasks/1`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-api-key,content-type,idempotency-key' },
  });
  await pre.arrayBuffer();
  const get = await fetch(`${url}/api/tasks`, { headers: { origin, 'x-api-key': key } });
  await get.arrayBuffer();
  const poll = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
  await poll.arrayBuffer();
  return { pre, get, poll };
}

test('CORS: same-origin only by default; with --cors-origins only the configured origin is allowed', { timeout: 30000 }, async () => {
  const foreign = await cors(board.url, 'http://evil.test', board.key);
  for (const [what, r] of Object.entries(foreign)) {
    assert.equal(r.headers.get('access-control-allow-origin'), null, `${what}: no access-control-allow-origin for a foreign origin by default`);
  }
  await withServer({ extraArgs: ['--cors-origins', 'http://example.test'] }, async (srv) => {
    const allowed = await cors(srv.url, 'http://example.test', srv.key);
    assert.equal(allowed.pre.headers.get('access-control-allow-origin'), 'http://example.test', 'preflight of the configured origin');
    assert.match(allowed.pre.headers.get('access-control-allow-methods') ?? '', /PUT/);
    assert.match((allowed.pre.headers.get('access-control-allow-headers') ?? '').toLowerCase(), /x-api-key/);
    assert.equal(allowed.get.headers.get('access-control-allow-origin'), 'http://example.test');
    const other = await cors(srv.url, 'http://evil.test', srv.key);
    for (const [what, r] of Object.entries(other)) {
      assert.equal(r.headers.get('access-control-allow-origin'), null, `${what}: an origin that is not configured gets no CORS grant`);
    }
  });
});

test('history: GET /api/tasks/:id/history shows who changed which fields from what to what, and when, newest first, kept after deletion', { timeout: 30000 }, async () => {
  const srv = board.server;
  const name = uid('Hana');
  const hana = await createToken(srv, name, 'editor');
  const c = await connect({ apiKey: hana.token });
  const t = await sockCreate(c, { title: 'Draft', description: 'v1' });
  assertOk(await c.ack('task:update', { id: t.id, title: 'Final', description: 'v2' }));
  assert.equal((await api('PUT', `/api/tasks/${t.id}`, { assignee: 'kim' })).status, 200);
  assertOk(await c.ack('task:move', { taskId: t.id, status: 'DONE' }));
  assert.equal((await api('PUT', `/api/tasks/${t.id}`, { assignee: null, title: 'Final' })).status, 200);
  assert.equal((await api('DELETE', `/api/tasks/${t.id}`)).status, 204);

  const r = await api('GET', `/api/tasks/${t.id}/history`);
  assert.equal(r.status, 200, r.text);
  const entries = Array.isArray(r.body) ? r.body : r.body.activity ?? r.body.entries;
  assert.deepEqual(entries.map((e) => [e.type, e.user]), [
    ['task.deleted', 'api'],
    ['task.updated', 'api'],
    ['task.moved', name],
    ['task.updated', 'api'],
    ['task.updated', name],
    ['task.created', name],
  ], 'every change, newest first, with its actor (kept after deletion)');
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    assert.equal(e.taskId, t.id);
    assert.match(e.timestamp, RFC3339_UTC);
    assert.ok(Number.isInteger(e.seq), `entry ${i} carries its seq`);
    if (i > 0) assert.ok(entries[i - 1].seq > e.seq, 'newest first');
  }
  const [deleted, unassigned, moved, assigned, edited, created] = entries;
  assert.deepEqual(created.changes, { title: { from: null, to: 'Draft' }, description: { from: null, to: 'v1' }, status: { from: null, to: 'TODO' } });
  assert.deepEqual(edited.changes, { title: { from: 'Draft', to: 'Final' }, description: { from: 'v1', to: 'v2' } });
  assert.deepEqual(assigned.changes, { assignee: { from: null, to: 'kim' } });
  assert.deepEqual(moved.changes.status, { from: 'TODO', to: 'DONE' });
  for (const [field, ch] of Object.entries(moved.changes)) assert.ok('from' in ch && 'to' in ch, `moved.changes.${field} has from/to`);
  assert.deepEqual(unassigned.changes, { assignee: { from: 'kim', to: null } }, 'a field sent with its current value is not a change');
  assert.ok(deleted.changes == null || typeof deleted.changes === 'object');
});
