// Scenario 3, "revocation is final": sockets handshake with a token while `warroom token revoke` runs. Within 2 s of
// the command returning none of that token's sockets is left, mid-handshake ones included, and no write of that token
// is accepted after the server has shown it knows (its first disconnect of one of them) nor after those 2 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { api, cli, createToken, figure, fmt, param, server, sleep, uid } from './harness.mjs';

const RUNS = param('REVOKE_RUNS', 8, 50);
/** A new handshake of the token every SPAWN_EVERY_MS, from LEAD_MS before the revocation starts until TAIL_MS after
 * it returns: the server learns of it within a second (it re-reads tokens, or is told), and the handshakes that are
 * half-way through at that moment are the race. */
const SPAWN_EVERY_MS = param('REVOKE_SPAWN_EVERY_MS', 20, 20);
/** Handshakes started together at each of those ticks: a loaded server widens the race. */
const BURST = param('REVOKE_BURST', 4, 4);
const LEAD_MS = param('REVOKE_LEAD_MS', 200, 200);
const TAIL_MS = param('REVOKE_TAIL_MS', 1200, 1200);
/** The bound, and the slack of the check on a loaded machine. */
const BOUND_MS = param('REVOKE_BOUND_MS', 2000, 2000);
const SLACK_MS = param('REVOKE_SLACK_MS', 250, 250);

/** One socket of the token that writes every 100 ms once connected; records its writes and its disconnect. */
function writer(srv, token, tag) {
  const w = { writes: [], disconnectedAt: null, connectedAt: null };
  w.socket = io(srv.url, { auth: { apiKey: token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5000 });
  w.socket.on('sync:full', async () => {
    w.connectedAt = performance.now();
    for (let i = 0; w.socket.connected; i++) {
      const sentAt = performance.now();
      const a = await w.socket.timeout(3000).emitWithAck('task:create', { title: `${tag} ${i}` }).catch(() => null);
      w.writes.push({ sentAt, ackAt: performance.now(), ok: a?.ok === true });
      await sleep(100);
    }
  });
  w.socket.on('disconnect', () => { w.disconnectedAt ??= performance.now(); });
  return w;
}

test(`revocation race, ${RUNS} runs: ${BURST} handshakes every ${SPAWN_EVERY_MS} ms while the token is revoked; none left within ${BOUND_MS} ms, no write accepted after`, { timeout: RUNS * 15_000 + 30_000 }, async () => {
  const srv = await server();
  const failures = [];
  let leftTotal = 0;
  let lateWrites = 0;
  let slowest = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      const name = uid('Revoked');
      const { id, token } = await createToken(srv, name, 'editor');
      const tag = uid('run');
      const writers = [];
      let revoked = Infinity;
      const t0 = performance.now();
      const spawnAll = (async () => {
        while (performance.now() < revoked + TAIL_MS) {
          for (let i = 0; i < BURST; i++) writers.push(writer(srv, token, tag));
          await sleep(SPAWN_EVERY_MS);
        }
      })();
      await sleep(LEAD_MS);
      const revokeStarted = performance.now();
      const r = await cli(['token', 'revoke', id, '--db', srv.db]);
      assert.equal(r.code, 0, `token revoke: ${r.stderr}`);
      revoked = performance.now();
      const revokedWall = Date.now();
      await spawnAll;
      await sleep(Math.max(0, revoked + BOUND_MS + SLACK_MS - performance.now()));
      const left = writers.filter((w) => w.socket.connected).length;
      const known = Math.min(...writers.map((w) => w.disconnectedAt ?? Infinity));
      const late = writers.flatMap((w) => w.writes).filter((x) => x.ok && (x.sentAt > known || x.ackAt > revoked + BOUND_MS));
      for (const w of writers) w.socket.close();
      // What the board itself holds: tasks of this run created after the bound, whatever their acks said.
      const tasks = (await api(srv, 'GET', `/api/tasks?q=${encodeURIComponent(tag)}`)).body ?? [];
      const lateStored = tasks.filter((t) => Date.parse(t.createdAt) > revokedWall + BOUND_MS).length;
      const lastDisconnect = Math.max(...writers.map((w) => (w.connectedAt !== null ? (w.disconnectedAt ?? Infinity) : -Infinity)));
      slowest = Math.max(slowest, lastDisconnect - revoked);
      leftTotal += left;
      lateWrites += late.length + lateStored;
      if (left || late.length || lateStored) {
        failures.push(`run ${run + 1} (${writers.length} handshakes): ${left} socket(s) left, ${late.length} write(s) accepted after revocation, ${lateStored} stored after the bound (revoke took ${fmt(revoked - revokeStarted)} ms, ${fmt(revokeStarted - t0)} ms into the window)`);
      }
    }
    const s = 'revocation race';
    figure(s, 'runs', RUNS);
    figure(s, 'runs with a socket left or a late write', failures.length);
    figure(s, `sockets left ${BOUND_MS} ms after revoke, all runs`, leftTotal);
    figure(s, 'writes accepted after revocation, all runs', lateWrites);
    figure(s, 'slowest disconnect after revoke returned ms', slowest);
    assert.deepEqual(failures, [], `revocation is not final:\n${failures.join('\n')}`);
  } finally {
    await srv.close();
  }
});
