// Scenario 5, "limits that hold": CONNECTION_LIMIT is exact under many simultaneous handshakes; one credential with
// many sockets cannot multiply its command rate past the aggregate per credential and address; connection churn does
// not grow the activity table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import {
  api, connections, createToken, figure, fmt, keyed, latencyBound, param, percentile, server, sleep, uid, waitUntil,
} from './harness.mjs';

const LIMIT = param('CONN_LIMIT', 50, 50);
const HANDSHAKES = param('CONN_HANDSHAKES', 500, 500);
/** The aggregate: per-socket RATE_LIMIT, the number of sockets, the flood's length, and the multiple of RATE_LIMIT
 * that all sockets of one credential and address may use together (docs/security.md, "Limits"). */
const AGG_RATE = param('AGG_RATE', 20, 20);
const AGG_SOCKETS = param('AGG_SOCKETS', 20, 20);
const AGG_S = param('AGG_S', 3, 10);
const AGG_FACTOR = param('AGG_FACTOR', 10, 10);
/** Reconnects of one viewer, and how many activity rows they may add (a join, and a leave). */
const CHURN = param('CHURN', 300, 3000);
const CHURN_ROWS = param('CHURN_ROWS', 2, 2);

/** `n` handshakes at once with `transports`; resolves with the sockets that got in and the refusals' messages. */
async function stampede(srv, n, transports, onSample) {
  const sockets = Array.from({ length: n }, () => io(srv.url, {
    auth: { apiKey: srv.key }, transports, reconnection: false, forceNew: true, timeout: 20_000,
  }));
  const outcomes = await Promise.all(sockets.map((s) => new Promise((resolve) => {
    s.once('sync:full', () => resolve('in'));
    s.once('connect_error', (e) => resolve(e.message));
  })));
  await onSample();
  return { admitted: sockets.filter((_, i) => outcomes[i] === 'in'), refusals: outcomes.filter((o) => o !== 'in'), all: sockets };
}

for (const transports of [['websocket'], ['polling']]) {
  test(`CONNECTION_LIMIT ${LIMIT} is exact under ${HANDSHAKES} simultaneous ${transports[0]} handshakes`, { timeout: 120_000 }, async () => {
    const srv = await server({ extraArgs: ['--connection-limit', String(LIMIT)] });
    let peak = 0;
    const sampler = setInterval(() => connections(srv).then((c) => { peak = Math.max(peak, c); }, () => {}), 50);
    try {
      const { admitted, refusals, all } = await stampede(srv, HANDSHAKES, transports, async () => {
        await sleep(500);
        peak = Math.max(peak, await connections(srv));
      });
      const reasons = [...new Set(refusals.map((m) => m.slice(0, 60)))];
      const s = `connection limit ${transports[0]}`;
      figure(s, 'admitted', `${admitted.length} of ${HANDSHAKES} (limit ${LIMIT})`);
      figure(s, 'peak counted by /api/health', peak);
      figure(s, 'refusals', `${refusals.length}: ${reasons.join(' | ')}`);
      for (const c of all) c.close();
      assert.ok(admitted.length <= LIMIT, `${admitted.length} sockets admitted with CONNECTION_LIMIT ${LIMIT}`);
      assert.ok(peak <= LIMIT, `/api/health counted ${peak} sockets with CONNECTION_LIMIT ${LIMIT}`);
      assert.ok(admitted.length > 0, 'some sockets get in');
      const back = await waitUntil(async () => (await connections(srv)) === 0, { timeout: 10_000 });
      assert.ok(back, 'every place is free again once they close');
    } finally {
      clearInterval(sampler);
      await srv.close();
    }
  });
}

/** A socket of `token`, retried for a while: a connect-rate limit may refuse some handshakes of a burst. */
async function persistent(srv, token) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await keyed(srv, { auth: { apiKey: token } });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(200);
    }
  }
}

test(`one credential with ${AGG_SOCKETS} sockets flooding for ${AGG_S} s gets at most ${AGG_FACTOR} × RATE_LIMIT commands/s (plus its burst) through`, { timeout: 120_000 }, async () => {
  const srv = await server({ rateLimit: AGG_RATE });
  const sockets = [];
  try {
    const noisy = await createToken(srv, uid('Noisy'), 'editor');
    for (let i = 0; i < AGG_SOCKETS; i++) sockets.push(await persistent(srv, noisy.token));
    const bystander = await keyed(srv);
    const idleAcks = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await bystander.timeout(5000).emitWithAck('typing:start', {});
      idleAcks.push(performance.now() - t);
      await sleep(20);
    }
    const bystanderAcks = [];
    let ok = 0;
    let limited = 0;
    let other = 0;
    let running = true;
    const probe = (async () => {
      while (running) {
        const t0 = performance.now();
        const a = await bystander.timeout(5000).emitWithAck('typing:start', {}).catch(() => null);
        bystanderAcks.push(a?.ok ? performance.now() - t0 : Infinity);
        await sleep(50);
      }
    })();
    const t0 = performance.now();
    const deadline = t0 + AGG_S * 1000;
    await Promise.all(sockets.flatMap((s) => Array.from({ length: 8 }, async () => {
      while (performance.now() < deadline) {
        const a = await s.timeout(5000).emitWithAck('typing:start', {}).catch(() => null);
        if (a?.ok) ok++;
        else if (a?.error?.code === 'RATE_LIMITED') limited++;
        else other++;
      }
    })));
    const floodS = (performance.now() - t0) / 1000;
    running = false;
    await probe;
    const aggregate = AGG_FACTOR * AGG_RATE;
    const bound = Math.ceil((aggregate * floodS + 2 * aggregate) * 1.05);
    const socketsAlone = AGG_SOCKETS * (AGG_RATE * floodS + 2 * AGG_RATE);
    const s = 'aggregate rate';
    figure(s, 'flood', `${AGG_SOCKETS} sockets of one token, RATE_LIMIT ${AGG_RATE}, ${fmt(floodS)} s`);
    figure(s, 'accepted / RATE_LIMITED / other', `${ok} / ${limited} / ${other}`);
    figure(s, 'accepted per second', ok / floodS);
    figure(s, 'bound (aggregate + burst, +5 %) / the sockets\' own buckets alone', `${bound} / ${Math.round(socketsAlone)}`);
    figure(s, 'bystander ack p99 ms idle / during', `${fmt(percentile(idleAcks, 99))} / ${fmt(percentile(bystanderAcks, 99))}`);
    assert.ok(limited > 0, 'the flood meets a limit');
    assert.ok(ok <= bound, `${ok} commands accepted in ${fmt(floodS)} s from one credential (bound ${bound}: ${aggregate}/s and a burst of ${2 * aggregate})`);
    const fast = latencyBound(percentile(idleAcks, 99));
    assert.ok(percentile(bystanderAcks, 99) < fast, `another credential's command→ack p99 ${fmt(percentile(bystanderAcks, 99))} ms during the flood (bound ${fmt(fast)} ms)`);
    bystander.close();
  } finally {
    for (const s of sockets) s.close();
    await srv.close();
  }
});

/** Activity entries newer than `afterId`, counted by paging the feed (newest first). */
async function activitySince(srv, afterId) {
  let count = 0;
  let before = '';
  for (;;) {
    const r = await api(srv, 'GET', `/api/activity?limit=500${before}`);
    const list = Array.isArray(r.body) ? r.body : r.body?.activity ?? r.body?.entries ?? r.body?.items ?? [];
    const newer = list.filter((e) => e.id > afterId);
    count += newer.length;
    if (newer.length < list.length || list.length === 0) return count;
    before = `&before=${list[list.length - 1].id}`;
  }
}

test(`a viewer reconnecting ${CHURN} times adds at most ${CHURN_ROWS} activity rows`, { timeout: 600_000 }, async () => {
  const srv = await server();
  try {
    const viewer = await createToken(srv, uid('Churn'), 'viewer');
    const latest = (await api(srv, 'GET', '/api/activity?limit=1')).body;
    const lastId = (Array.isArray(latest) ? latest : latest?.activity ?? latest?.entries ?? latest?.items ?? [])[0]?.id ?? 0;
    let connected = 0;
    let refused = 0;
    const t0 = Date.now();
    for (let i = 0; i < CHURN; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, CHURN - i) }, async () => {
        try {
          (await keyed(srv, { auth: { apiKey: viewer.token } })).close();
          connected++;
        } catch {
          refused++;
        }
      }));
    }
    const churnS = (Date.now() - t0) / 1000;
    await sleep(500); // the last disconnects are settled
    const rows = await activitySince(srv, lastId);
    const s = 'connection churn';
    figure(s, 'reconnects', `${CHURN} in ${fmt(churnS)} s (${connected} connected, ${refused} refused)`);
    figure(s, 'activity rows added', rows);
    assert.ok(connected > 0, 'the viewer connects');
    assert.ok(rows <= CHURN_ROWS, `${CHURN} reconnects of one viewer added ${rows} activity rows (bound ${CHURN_ROWS})`);
  } finally {
    await srv.close();
  }
});
