// Scenario 2, "subscriptions cost what they are worth": many sockets, each with 32 distinct patterns of ~196
// characters that match nothing, must not slow the board for a bystander: its create→event p99 stays within twice its
// idle baseline (plus a small slack), and no event goes missing. A server that caps distinct pattern sets may refuse
// some of the subscribes; the bound is on the bystander either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figure, fmt, keyed, param, percentile, server, sleep } from './harness.mjs';

/** Subscribed sockets, and the creates measured before and during. */
const SOCKETS = param('SUB_SOCKETS', 300, 3000);
const PATTERNS = 32;
const CREATES = param('SUB_CREATES', 60, 100);
/** Absolute slack on the 2× bound, and how long an event may take before it counts as missing. */
const SLACK_MS = param('SUB_SLACK_MS', 10, 10);
const MISSING_MS = param('SUB_MISSING_MS', 1500, 1500);

/** 32 distinct patterns of socket `s`, each ~196 characters of `:`-separated segments with `**` between literals,
 * so matching one costs real work and matches no event the board sends. */
function patternsOf(s) {
  return Array.from({ length: PATTERNS }, (_, j) => {
    let p = `**:s${s}p${j}`;
    while (p.length < 190) p += `:**:x${(p.length * 7 + j) % 97}`;
    return `${p}:nomatch`.slice(0, 196);
  });
}

/** `n` sequential creates by `writer`; the bystander's delay to each `task:{id}:created`, Infinity when missing. */
async function measure(writer, bystander, n) {
  const seen = new Map();
  const onAny = (event) => {
    const m = /^task:(\d+):created$/.exec(event);
    if (m) seen.set(Number(m[1]), performance.now());
  };
  bystander.onAny(onAny);
  const sent = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const a = await writer.timeout(10_000).emitWithAck('task:create', { title: `bystander ${i}` });
    assert.equal(a?.ok, true, `task:create: ${JSON.stringify(a)}`);
    sent.push({ id: a.task.id, t0 });
    await sleep(20);
  }
  await sleep(MISSING_MS);
  bystander.offAny(onAny);
  return sent.map(({ id, t0 }) => {
    const t = seen.get(id);
    return t !== undefined && t - t0 <= MISSING_MS + 10_000 ? t - t0 : Infinity;
  });
}

test(`${SOCKETS} sockets × ${PATTERNS} distinct patterns of ~196 characters leave a bystander's create→event p99 within 2× its idle baseline`, { timeout: 600_000 }, async () => {
  const srv = await server({ extraArgs: ['--connection-limit', String(SOCKETS + 100)] });
  const subscribers = [];
  try {
    const writer = await keyed(srv, { auth: { apiKey: srv.key, name: 'Writer' } });
    const bystander = await keyed(srv, { auth: { apiKey: srv.key, name: 'Bystander' } });
    await measure(writer, bystander, 10); // warm-up
    const idle = await measure(writer, bystander, CREATES);
    let accepted = 0;
    let refused = 0;
    let notConnected = 0; // a connect-rate limit may refuse some handshakes of the burst: the bound still holds
    for (let i = 0; i < SOCKETS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, SOCKETS - i) }, async (_, j) => {
        let s;
        try { s = await keyed(srv, { timeout: 20_000 }); } catch { notConnected++; return; }
        subscribers.push(s);
        const a = await s.timeout(20_000).emitWithAck('subscribe', { patterns: patternsOf(i + j) });
        if (a?.ok) accepted++; else refused++;
      }));
    }
    const during = await measure(writer, bystander, CREATES);
    const idleP99 = percentile(idle, 99);
    const p99 = percentile(during, 99);
    const missing = during.filter((x) => !Number.isFinite(x)).length;
    const bound = 2 * idleP99 + SLACK_MS;
    const s = 'subscription stall';
    figure(s, 'subscribed sockets', `${SOCKETS} (subscribe accepted ${accepted}, refused ${refused}; handshakes refused ${notConnected})`);
    figure(s, 'bystander create→event p50 / p99 ms idle', `${fmt(percentile(idle, 50))} / ${fmt(idleP99)}`);
    figure(s, 'bystander create→event p50 / p99 ms with subscribers', `${fmt(percentile(during, 50))} / ${fmt(p99)}`);
    figure(s, `events missing after ${MISSING_MS} ms`, `${missing} of ${CREATES}`);
    assert.equal(missing, 0, `${missing} of ${CREATES} events had not reached the bystander within ${MISSING_MS} ms`);
    assert.ok(p99 <= bound, `bystander p99 ${fmt(p99)} ms with ${SOCKETS} subscribed sockets, bound 2 × ${fmt(idleP99)} + ${SLACK_MS} = ${fmt(bound)} ms`);
    writer.close();
    bystander.close();
  } finally {
    for (const s of subscribers) s.close();
    await srv.close();
  }
});
