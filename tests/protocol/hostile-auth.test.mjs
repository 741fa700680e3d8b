// Issue 15, the credential part: revocation is final (no socket of a revoked token survives, even one mid-handshake
// while the server reads the revocation, and no write of it is accepted from then on), and one credential cannot
// multiply its command rate by opening sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, board, Client, connect, api, uid, sleep, WAIT } from './helpers.mjs';
import { cli, createToken } from './tokens.mjs';

/** Commands per second per socket: 20, bursts of 40; per credential and address ten times that. */
const RATE = 20;
useServer({ rateLimit: RATE });

/** Revocation races to run (the issue asks for 50), and how many at once. */
const RACE_RUNS = Number(process.env.WARROOM_REVOCATION_RUNS || 50);
const RACES_AT_ONCE = 5;
/** Handshakes each race keeps in flight while the token is revoked. */
const CONNECTORS = 4;
/** SPEC bound: no socket of a revoked token is left this long after the server read the revocation. */
const FINAL_MS = 2000;

/** Opens sockets with `token`, CONNECTORS at a time, until the server refuses it; every socket opened is in `out`. */
async function keepConnecting(token, out) {
  let refused = false;
  await Promise.all(Array.from({ length: CONNECTORS }, async () => {
    while (!refused) {
      const c = new Client({ apiKey: token });
      out.push(c);
      const e = await c.waitEntry('outcome', () => true, {
        timeout: WAIT + 2000, match: (x) => ['sync:full', 'connect_error', 'disconnect'].includes(x.event),
      });
      if (e.event === 'connect_error') refused = true;
    }
  }));
}

/** One race: sockets connect with a token while `warroom token revoke` runs; returns what was seen. */
async function revocationRace(run) {
  const tok = await createToken(board.server, uid(`Race${run}`), 'editor');
  const sockets = [];
  const connecting = keepConnecting(tok.token, sockets);
  // A random moment relative to the server's 1 s token refresh.
  await sleep(Math.random() * 300);
  const r = await cli(['token', 'revoke', tok.id, '--db', board.server.db]);
  assert.equal(r.code, 0, r.stderr);
  // The instant the server has read the revocation: REST refuses the token.
  const deadline = Date.now() + 3000;
  while ((await api('GET', '/api/tasks?q=none', undefined, { key: tok.token })).status !== 401) {
    assert.ok(Date.now() < deadline, 'the server did not read the revocation within 3 s');
  }
  const readAt = performance.now();
  // From then on no write is accepted, from any socket of the token that is still open.
  const title = uid(`after revocation ${run}`);
  const writes = await Promise.all(sockets.filter((c) => c.connected).map((c) =>
    c.socket.timeout(1000).emitWithAck('task:create', { title }).catch(() => null)));
  for (const w of writes) assert.notEqual(w?.ok, true, `a write after the revocation was accepted: ${JSON.stringify(w)}`);
  await connecting;
  // Every socket that got in (even if it was put out before its sync:full) is out within FINAL_MS of that instant.
  const joined = sockets.filter((c) => c.log.some((e) => e.event === 'connect'));
  let last = 0;
  for (const c of joined) {
    const left = await c.waitEntry('disconnect', () => true, { timeout: Math.max(0, readAt + FINAL_MS - performance.now()) + 50 })
      .catch(() => assert.fail(`run ${run}: a socket of the revoked token was still connected ${FINAL_MS} ms after the server read the revocation`));
    last = Math.max(last, left.t - readAt);
  }
  const late = joined.filter((c) => c.log.find((e) => e.event === 'connect').t >= readAt - 50).length;
  for (const c of sockets) c.close();
  const created = (await api('GET', `/api/tasks?q=${encodeURIComponent(title)}`)).body;
  assert.deepEqual(created, [], 'no task was created by the revoked token after the instant');
  return { sockets: sockets.length, joined: joined.length, late, last };
}

test(`revocation is final: in ${RACE_RUNS} races no socket of a revoked token survives ${FINAL_MS} ms after the server read it, and none of its writes is accepted`, { timeout: 240000 }, async () => {
  const results = [];
  for (let i = 0; i < RACE_RUNS; i += RACES_AT_ONCE) {
    const round = Array.from({ length: Math.min(RACES_AT_ONCE, RACE_RUNS - i) }, (_, j) => revocationRace(i + j));
    results.push(...await Promise.all(round));
  }
  const sum = (k) => results.reduce((n, r) => n + r[k], 0);
  const slowest = Math.max(...results.map((r) => r.last));
  console.log(`# revocation races: ${results.length} runs, ${sum('sockets')} handshakes, ${sum('joined')} sockets in, `
    + `${sum('late')} of them connected around or after the instant; the last one out ${Math.round(slowest)} ms after it`);
  assert.ok(sum('joined') > 0, 'the races got sockets in before the revocation');
});

test('one credential from one address cannot multiply its command rate by opening sockets: 20 sockets share ten times one socket\'s allowance', { timeout: 60000 }, async () => {
  const sockets = await Promise.all(Array.from({ length: 20 }, () => connect()));
  const started = performance.now();
  const acks = await Promise.all(sockets.flatMap((c) => Array.from({ length: 60 }, () => c.ack('typing:stop', {}))));
  const seconds = (performance.now() - started) / 1000;
  const accepted = acks.filter((a) => a.ok).length;
  const refused = acks.filter((a) => !a.ok);
  for (const a of refused) assert.equal(a.error.code, 'RATE_LIMITED', JSON.stringify(a));
  const bound = 2 * RATE * 10 + RATE * 10 * seconds;
  console.log(`# aggregate rate: 20 sockets sent ${acks.length} commands in ${seconds.toFixed(2)} s, ${accepted} accepted (bound ${Math.round(bound)}; per-socket buckets alone would allow ${Math.round(20 * (2 * RATE + RATE * seconds))})`);
  assert.ok(accepted <= bound + 5, `at most the aggregate's burst and rate got through: ${accepted} > ${Math.round(bound)}`);
  assert.ok(accepted >= 2 * RATE * 10 * 0.9, `the aggregate's burst is served: only ${accepted}`);
  // Another credential has its own aggregate.
  const tok = await createToken(board.server, uid('Quiet'), 'editor');
  const other = await connect({ apiKey: tok.token });
  assert.equal((await other.ack('typing:stop', {})).ok, true, 'another credential is still served');
});
