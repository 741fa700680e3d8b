// Scenario 4, "bounded per-socket memory": sockets that connect and then never read. Their `sync:full` of a big board
// is encoded once and shared, not copied per socket, so RSS stays bounded; and a socket that falls behind on events
// past its budget is disconnected (it would resume with `lastSeq`), while a reading observer misses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BOUND, RawSocket, RssWatch, api, baselineRss, connections, figure, fmt, keyed, param, server, sleep, waitUntil,
} from './harness.mjs';

/** Tasks on the big board, and the never-reading sockets that get its sync:full. */
const BIG_BOARD = param('SLOW_BOARD_TASKS', 2000, 20000);
const SYNC_SOCKETS = param('SLOW_SYNC_SOCKETS', 200, 1000);
/** Never-reading sockets while the board changes, and the updates made meanwhile (each a few packets). */
const LAGGING = param('SLOW_LAGGING_SOCKETS', 20, 50);
const UPDATES = param('SLOW_UPDATES', 1500, 10000);
/** How long after the updates the laggards must be gone. */
const CUT_S = param('SLOW_CUT_S', 10, 30);
/** RSS bound: BOUND.rssRiseMb plus this many copies of one encoded sync:full (the shared copy, and one being built). */
const SYNC_COPIES = param('SLOW_SYNC_COPIES', 2, 2);

/** `n` tasks through REST, 16 at a time. */
async function seed(srv, n, description = '') {
  for (let i = 0; i < n; i += 16) {
    await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => api(srv, 'POST', '/api/tasks', { title: `seed ${i + j}`, description })
      .then((r) => assert.equal(r.status, 201, `seeding: ${r.status}`))));
  }
}

/** A socket that authenticates and stops reading at once: what the server sends it piles up on the server. */
async function neverReading(srv) {
  const s = new RawSocket(srv.url);
  if (!(await s.opened)) throw new Error('no open packet');
  s.send(`40${JSON.stringify({ apiKey: srv.key })}`);
  s.pause();
  return s;
}

test(`sync:full of a ${BIG_BOARD}-task board to ${SYNC_SOCKETS} sockets that never read keeps RSS bounded`, { timeout: 600_000 }, async () => {
  const srv = await server({ extraArgs: ['--durability', 'normal', '--connection-limit', String(SYNC_SOCKETS + 100)] });
  const pid = srv.child.pid;
  const socks = [];
  try {
    await seed(srv, BIG_BOARD, 'x'.repeat(100));
    const reader = await keyed(srv, { timeout: 30_000 });
    let syncBytes = 0;
    reader.once('sync:full', (b) => { syncBytes = JSON.stringify(b).length; });
    reader.disconnect().connect();
    await waitUntil(() => syncBytes > 0, { timeout: 30_000 });
    reader.close();
    const baseline = await baselineRss(pid);
    let aborted = false;
    const watch = new RssWatch(pid, baseline, () => { aborted = true; for (const s of socks) s.close(); });
    for (let i = 0; i < SYNC_SOCKETS && !aborted; i += 50) {
      socks.push(...await Promise.all(Array.from({ length: Math.min(50, SYNC_SOCKETS - i) }, () => neverReading(srv))));
    }
    await sleep(3000); // every sync:full built and queued (or refused)
    watch.stop();
    const bound = BOUND.rssRiseMb + (SYNC_COPIES * syncBytes) / 1e6;
    const s = 'slow readers sync:full';
    figure(s, 'board', `${BIG_BOARD} tasks, sync:full ${fmt(syncBytes / 1e6)} MB`);
    figure(s, 'never-reading sockets', SYNC_SOCKETS);
    figure(s, 'RSS baseline MB', baseline);
    figure(s, 'RSS peak rise MB', watch.rise);
    figure(s, 'RSS rise per socket KB', (watch.rise * 1024) / SYNC_SOCKETS);
    assert.ok(!aborted, `RSS rose more than ${BOUND.abortRiseMb} MB: the sockets were closed early`);
    assert.ok(watch.rise <= bound, `RSS rose ${fmt(watch.rise)} MB for ${SYNC_SOCKETS} never-reading sockets (bound ${fmt(bound)} MB: ${BOUND.rssRiseMb} + ${SYNC_COPIES} × sync:full)`);
  } finally {
    for (const s of socks) s.close();
    await srv.close();
  }
});

test(`${LAGGING} sockets that never read while ${UPDATES} updates go out are disconnected, RSS stays bounded and a reading observer misses nothing`, { timeout: 600_000 }, async () => {
  const srv = await server({ extraArgs: ['--durability', 'normal'] });
  const pid = srv.child.pid;
  const socks = [];
  try {
    await seed(srv, 8);
    const observer = await keyed(srv);
    const writer = await keyed(srv);
    const tasks = (await api(srv, 'GET', '/api/tasks')).body;
    let received = 0;
    observer.onAny((event) => { if (/^task:\d+:updated$/.test(event)) received++; });
    const baseline = await baselineRss(pid);
    let aborted = false;
    const watch = new RssWatch(pid, baseline, () => { aborted = true; for (const s of socks) s.close(); });
    socks.push(...await Promise.all(Array.from({ length: LAGGING }, () => neverReading(srv))));
    await waitUntil(async () => (await connections(srv)) === LAGGING + 2, { timeout: 10_000 });
    const pad = 'y'.repeat(1000); // each event carries a kilobyte: the queues grow in bytes, not only in packets
    const t0 = Date.now();
    await Promise.all(tasks.map(async (t, k) => {
      for (let i = k; i < UPDATES && !aborted; i += tasks.length) {
        const a = await writer.timeout(10_000).emitWithAck('task:update', { id: t.id, description: `${i} ${pad}` });
        assert.equal(a?.ok, true, `task:update: ${JSON.stringify(a)}`);
      }
    }));
    const writeS = (Date.now() - t0) / 1000;
    const gone = await waitUntil(async () => (await connections(srv)) === 2, { timeout: CUT_S * 1000, every: 250 });
    const left = (await connections(srv)) - 2;
    await waitUntil(() => received >= UPDATES, { timeout: 10_000 });
    watch.stop();
    const s = 'slow readers lagging';
    figure(s, 'updates', `${UPDATES} in ${fmt(writeS)} s`);
    figure(s, `never-reading sockets still connected ${CUT_S} s after`, `${left} of ${LAGGING}`);
    figure(s, 'observer received updates', `${received} of ${UPDATES}`);
    figure(s, 'RSS baseline MB', baseline);
    figure(s, 'RSS peak rise MB', watch.rise);
    assert.ok(!aborted, `RSS rose more than ${BOUND.abortRiseMb} MB: the sockets were closed early`);
    assert.ok(gone, `${left} of ${LAGGING} never-reading sockets are still connected ${CUT_S} s after the updates`);
    assert.equal(received, UPDATES, 'the reading observer gets every update');
    assert.ok(watch.rise <= BOUND.rssRiseMb, `RSS rose ${fmt(watch.rise)} MB (bound ${BOUND.rssRiseMb} MB)`);
    observer.close();
    writer.close();
  } finally {
    for (const s of socks) s.close();
    await srv.close();
  }
});
