// Scenario 1, "no key, no memory": floods from someone without a valid key (WebSocket open/close without joining the
// namespace, polling handshakes, wrong keys, huge handshake auth payloads, idle, half-open and slowloris connections)
// raise the server's RSS by at most 64 MB, RSS comes back within 10 % of its baseline (plus a small slack) after the
// flood, and meanwhile /api/health and a keyed client stay fast (p99 < 50 ms) and new keyed clients still get in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BIN, BOUND, Probes, RawSocket, RssWatch, baselineRss, figure, fmt, healthOnce, keyed, latencyBound, param, percentile,
  rssReturn, server, sleep, uid, waitUntil,
} from './harness.mjs';

/** Seconds each flood runs (the bound is stated for 60 s). */
const FLOOD_S = param('FLOOD_S', 5, 60);
/** Attack connections in flight at once. */
const CONCURRENCY = param('FLOOD_CONCURRENCY', 50, 50);
/** Size of the huge handshake `auth` payload, and how many are in flight at once. */
const HUGE_AUTH_BYTES = param('HUGE_AUTH_BYTES', 7_800_000, 7_800_000);
const HUGE_CONCURRENCY = param('HUGE_CONCURRENCY', 16, 64);
/** Idle TCP connections, slowloris connections, and WebSockets that never join the namespace, held at once. */
const IDLE_TCP = param('IDLE_TCP', 300, 3000);
const SLOWLORIS = param('SLOWLORIS', 100, 500);
const IDLE_WS = param('IDLE_WS', 100, 2000);
/** How long the server may leave an idle or slow connection open before closing it. */
const IDLE_CLOSE_S = param('IDLE_CLOSE_S', 20, 60);
/** The server's open-file limit in the descriptor-reserve test, and the idle connections thrown at it. */
const SERVER_NOFILE = param('SERVER_NOFILE', 1024, 1024);
const FD_FLOOD = param('FD_FLOOD', 1200, 4000);

/** One flood of `op` (an async attack step, repeated by CONCURRENCY loops for FLOOD_S) against a fresh server, with
 * the probes running throughout; then the recovery wait. Records figures and returns them. */
async function flood(name, op, { concurrency = CONCURRENCY } = {}) {
  const srv = await server();
  const pid = srv.child.pid;
  const probes = await Probes.start(srv);
  try {
    await sleep(2000); // warm-up: the probes' own allocations belong to the baseline; their figures are the idle ones
    const idle = await probes.summary();
    const baseline = await baselineRss(pid);
    probes.reset();
    let stop = false;
    const watch = new RssWatch(pid, baseline, () => { stop = true; });
    const deadline = Date.now() + FLOOD_S * 1000;
    let ops = 0;
    let errors = 0;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (!stop && Date.now() < deadline) {
        try { await op(srv); ops++; } catch { errors++; }
      }
    }));
    const floodS = (Date.now() - t0) / 1000;
    watch.stop();
    const during = await probes.summary();
    const ret = await rssReturn(pid, baseline);
    const s = `keyless ${name}`;
    figure(s, 'attack operations', ops);
    figure(s, 'attack operations/s', ops / floodS);
    figure(s, 'operations that errored (refused or cut by the server)', errors);
    figure(s, 'RSS baseline MB', baseline);
    figure(s, 'RSS peak rise MB', watch.rise);
    figure(s, `RSS ${fmt(ret.tookS)} s after the flood MB`, ret.after);
    figure(s, 'health p99 ms idle / during', `${fmt(idle.healthP99)} / ${fmt(during.healthP99)}`);
    figure(s, 'keyed ack p99 ms idle / during', `${fmt(idle.ackP99)} / ${fmt(during.ackP99)}`);
    figure(s, 'keyed handshakes ok / failed during', `${during.handshakesOk} / ${during.handshakesFailed}`);
    assert.ok(!watch.aborted, `RSS rose more than ${BOUND.abortRiseMb} MB: the flood was cut short after ${fmt(floodS)} s`);
    assert.ok(watch.rise <= BOUND.rssRiseMb, `RSS rose ${fmt(watch.rise)} MB during the flood (bound ${BOUND.rssRiseMb} MB)`);
    assert.ok(ret.back, `RSS is ${fmt(ret.after)} MB ${BOUND.rssReturnS} s after the flood, not back within ${fmt(ret.limit)} MB (baseline ${fmt(baseline)} MB)`);
    assertLatency(idle, during);
    assert.equal(during.handshakesFailed, 0, 'every keyed handshake during the flood succeeds');
    return { srv, during };
  } finally {
    await probes.stop();
    await srv.close();
  }
}

/** /api/health and the keyed client's command→ack during an attack, against latencyBound of their idle figures. */
function assertLatency(idle, during) {
  const health = latencyBound(idle.healthP99);
  const ack = latencyBound(idle.ackP99);
  assert.ok(during.healthP99 < health, `/api/health p99 ${fmt(during.healthP99)} ms during the attack (bound ${fmt(health)} ms)`);
  assert.ok(during.ackP99 < ack, `keyed command→ack p99 ${fmt(during.ackP99)} ms during the attack (bound ${fmt(ack)} ms)`);
}

/** A polling GET on a new connection; resolves with the body. */
function pollingHandshake(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/socket.io/?EIO=4&transport=polling&t=${uid('t')}`, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

test(`WebSockets opened and dropped without joining the namespace (${CONCURRENCY} at a time, ${FLOOD_S} s) keep RSS bounded and honest clients fast`, { timeout: (FLOOD_S + BOUND.rssReturnS + 30) * 1000 }, async () => {
  await flood('WebSocket open/close', async (srv) => {
    const s = new RawSocket(srv.url);
    const opened = await s.opened;
    s.close();
    await s.closed;
    if (!opened) throw new Error('no open packet');
  });
});

test(`polling handshakes that are never followed up (${CONCURRENCY} at a time, ${FLOOD_S} s) keep RSS bounded and honest clients fast`, { timeout: (FLOOD_S + BOUND.rssReturnS + 30) * 1000 }, async () => {
  await flood('polling handshakes', async (srv) => {
    const body = await pollingHandshake(srv.url);
    if (!body.startsWith('0{')) throw new Error(`refused: ${body.slice(0, 80)}`);
  });
});

test(`handshakes with wrong keys (${CONCURRENCY} at a time, ${FLOOD_S} s) are refused, keep RSS bounded and honest clients fast`, { timeout: (FLOOD_S + BOUND.rssReturnS + 30) * 1000 }, async () => {
  let accepted = 0;
  await flood('wrong keys', async (srv) => {
    const s = new RawSocket(srv.url);
    const reply = await s.connect({ apiKey: uid('wrong-key') });
    s.close();
    await s.closed;
    if (reply?.startsWith('40')) accepted++;
  });
  assert.equal(accepted, 0, 'no wrong key is ever accepted');
});

test(`huge handshake auth payloads without a key (${fmt(HUGE_AUTH_BYTES / 1e6)} MB, ${HUGE_CONCURRENCY} at a time, ${FLOOD_S} s) keep RSS bounded and honest clients fast`, { timeout: (FLOOD_S + BOUND.rssReturnS + 60) * 1000 }, async () => {
  const packet = `40${JSON.stringify({ apiKey: 'nope', pad: 'a'.repeat(HUGE_AUTH_BYTES) })}`;
  let accepted = 0;
  await flood('huge auth payloads', async (srv) => {
    const s = new RawSocket(srv.url);
    if (!(await s.opened)) { s.close(); throw new Error('no open packet'); }
    s.send(packet);
    // Refused (44) or closed by a size limit; a server that parses it answers 44 after the parse.
    const reply = await s.next((m) => m.startsWith('40') || m.startsWith('44'), 10_000);
    if (reply?.startsWith('40')) accepted++;
    s.close();
    await s.closed;
  }, { concurrency: HUGE_CONCURRENCY });
  assert.equal(accepted, 0, 'no keyless handshake is ever accepted');
});

/** Opens `n` connections with `open(i)` (each resolving with an object having a `closed` promise), 50 at a time. */
async function openMany(n, open) {
  const out = [];
  for (let i = 0; i < n; i += 50) {
    out.push(...await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => open(i + j))));
  }
  return out;
}

/** A TCP connection to the server that tracks when the server closes it; `established` is false when the connect
 * did not complete within 3 s (a full accept queue), and such a connection is dropped by us, not the server.
 * `slow`: dribble an HTTP request header, one byte a second, never finishing it (slowloris). */
function tcp(url, { slow = false } = {}) {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: Number(port) });
    const conn = { sock, closedAt: null, established: false };
    conn.closed = new Promise((r) => sock.on('close', () => { conn.closedAt = Date.now(); clearInterval(conn.drip); r(); }));
    const timer = setTimeout(() => { sock.destroy(); resolve(conn); }, 3000);
    sock.on('error', () => {});
    sock.on('data', () => {});
    sock.once('connect', () => {
      clearTimeout(timer);
      conn.established = true;
      if (slow) {
        sock.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        conn.drip = setInterval(() => sock.write('X'), 1000);
      }
      resolve(conn);
    });
    sock.once('error', () => { clearTimeout(timer); resolve(conn); });
  });
}

test(`idle TCP (${IDLE_TCP}), slowloris (${SLOWLORIS}) and never-joining WebSocket (${IDLE_WS}) connections are closed by the server within ${IDLE_CLOSE_S} s, with RSS bounded and honest clients fast meanwhile`, { timeout: (IDLE_CLOSE_S + BOUND.rssReturnS + 60) * 1000 }, async () => {
  const srv = await server();
  const pid = srv.child.pid;
  const probes = await Probes.start(srv);
  const all = [];
  try {
    await sleep(2000);
    const idle = await probes.summary();
    const baseline = await baselineRss(pid);
    probes.reset();
    const watch = new RssWatch(pid, baseline, () => { for (const c of all) (c.sock ?? c).destroy?.(); });
    const t0 = Date.now();
    const established = (conns) => conns.filter((c) => c.established);
    all.push(...established(await openMany(IDLE_TCP, () => tcp(srv.url))));
    all.push(...established(await openMany(SLOWLORIS, () => tcp(srv.url, { slow: true }))));
    const wss = await openMany(IDLE_WS, async () => {
      const s = new RawSocket(srv.url);
      const conn = { ws: s, closedAt: null, established: !!(await s.opened), destroy: () => s.close() };
      conn.closed = s.closed.then(() => { conn.closedAt = Date.now(); });
      return conn;
    });
    all.push(...established(wss));
    const total = all.length;
    const openedS = (Date.now() - t0) / 1000;
    await waitUntil(() => all.every((c) => c.closedAt !== null), { timeout: IDLE_CLOSE_S * 1000, every: 250 });
    const closed = all.filter((c) => c.closedAt !== null);
    const lastClose = closed.length ? (Math.max(...closed.map((c) => c.closedAt)) - t0) / 1000 : NaN;
    watch.stop();
    const during = await probes.summary();
    for (const c of all) { if (c.closedAt === null) (c.sock ?? c).destroy?.(); }
    const ret = await rssReturn(pid, baseline);
    const s = 'keyless idle and slow connections';
    figure(s, 'connections opened', `${total} in ${fmt(openedS)} s`);
    figure(s, `closed by the server within ${IDLE_CLOSE_S} s`, `${closed.length} of ${total}`);
    figure(s, 'last server close after s', lastClose);
    figure(s, 'RSS baseline MB', baseline);
    figure(s, 'RSS peak rise MB', watch.rise);
    figure(s, `RSS ${fmt(ret.tookS)} s after MB`, ret.after);
    figure(s, 'health p99 ms idle / during', `${fmt(idle.healthP99)} / ${fmt(during.healthP99)}`);
    figure(s, 'keyed ack p99 ms idle / during', `${fmt(idle.ackP99)} / ${fmt(during.ackP99)}`);
    figure(s, 'keyed handshakes ok / failed during', `${during.handshakesOk} / ${during.handshakesFailed}`);
    assert.equal(closed.length, total, `the server closed ${closed.length} of ${total} idle or slow connections within ${IDLE_CLOSE_S} s`);
    assert.ok(watch.rise <= BOUND.rssRiseMb, `RSS rose ${fmt(watch.rise)} MB (bound ${BOUND.rssRiseMb} MB)`);
    assert.ok(ret.back, `RSS is ${fmt(ret.after)} MB, not back within ${fmt(ret.limit)} MB of baseline ${fmt(baseline)} MB`);
    assertLatency(idle, during);
    assert.equal(during.handshakesFailed, 0, 'every keyed handshake succeeds meanwhile');
  } finally {
    for (const c of all) (c.sock ?? c).destroy?.();
    await probes.stop();
    await srv.close();
  }
});

test(`with its open-file limit at ${SERVER_NOFILE}, ${FD_FLOOD} idle connections leave a reserve: /api/health and keyed handshakes still answer`, { timeout: 120_000 }, async () => {
  // The server inherits the limit from a shell that lowers it and then becomes the server (exec keeps the pid).
  const dir = await mkdtemp(path.join(tmpdir(), 'warroom-hostile-'));
  const wrapper = path.join(dir, 'warroom-nofile');
  await writeFile(wrapper, `#!/bin/sh\nulimit -n ${SERVER_NOFILE}\nexec '${BIN}' "$@"\n`);
  await chmod(wrapper, 0o755);
  const srv = await server({ bin: wrapper });
  const conns = [];
  try {
    const idle = [];
    for (let i = 0; i < 10; i++) idle.push(await healthOnce(srv.url));
    conns.push(...await openMany(FD_FLOOD, () => tcp(srv.url)));
    const health = [];
    let handshakes = 0;
    let failed = 0;
    for (let i = 0; i < 10; i++) {
      health.push(await healthOnce(srv.url, 2000));
      if (i % 4 === 0) {
        try { (await keyed(srv, { timeout: 3000 })).close(); handshakes++; } catch { failed++; }
      }
    }
    const bound = latencyBound(percentile(idle, 99));
    const s = 'keyless descriptor reserve';
    figure(s, 'idle connections held', `${conns.filter((c) => c.established).length} of ${FD_FLOOD} established, against a limit of ${SERVER_NOFILE}`);
    figure(s, 'health answered', `${health.filter(Number.isFinite).length} of ${health.length}`);
    figure(s, 'health p99 ms idle / during', `${fmt(percentile(idle, 99))} / ${fmt(percentile(health, 99))}`);
    figure(s, 'keyed handshakes ok / failed', `${handshakes} / ${failed}`);
    assert.equal(health.filter(Number.isFinite).length, health.length, '/api/health answers every time');
    assert.ok(percentile(health, 99) < bound, `/api/health p99 ${fmt(percentile(health, 99))} ms (bound ${fmt(bound)} ms)`);
    assert.equal(failed, 0, 'every keyed handshake succeeds');
  } finally {
    for (const c of conns) c.sock.destroy();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
