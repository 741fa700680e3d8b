// `sync:full` and slow readers (issue 15, finding 5): one encoding of the board per version, a resume replay that
// fits the socket's queue or else `sync:full`, and sockets that never read cut off while the server's memory stays
// bounded. The stalled sockets are raw WebSockets on loopback that send their handshake and then never read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { useServer, board, connect, joined, uid, sleep, health, restCreate, sockCreate, WAIT } from './helpers.mjs';

useServer({ rateLimit: 0 });

/** The server process's resident memory, in MB. */
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${board.server.child.pid}/status`, 'utf8'))[1]) / 1024;

/** Creates `n` tasks through one socket, 20 at a time; `description` makes each as large as wanted. */
async function createTasks(n, description = '') {
  const writer = await connect();
  for (let from = 0; from < n; from += 20) {
    await Promise.all(Array.from({ length: Math.min(20, n - from) }, () => sockCreate(writer, { title: uid('bulk'), description })));
  }
  writer.close();
}

/** A WebSocket that completes the engine.io and socket.io handshakes with the team key and then never reads again:
 * the kernel's buffers fill and everything else the server sends waits in its queue for this socket. */
function stalledSocket() {
  const { port } = new URL(board.url);
  const sock = net.connect(Number(port), '127.0.0.1');
  sock.on('error', () => {});
  sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n`
    + `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  return new Promise((resolve) => {
    sock.once('data', () => {
      // The upgrade answer and engine.io's open packet: send the socket.io CONNECT with the key, then stop reading.
      sock.write(frame(`40${JSON.stringify({ apiKey: board.key })}`));
      sock.pause();
      resolve(sock);
    });
  });
}

/** One masked WebSocket text frame, as a client must send it. */
function frame(text) {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length])
    : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]);
}

/** Waits (deadline) until `/api/health` counts `n` sockets. */
async function connectionsReach(pred, what, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const { connections } = await health();
    if (pred(connections)) return connections;
    assert.ok(Date.now() < deadline, `${what}: still ${connections} sockets after ${timeout} ms`);
    await sleep(200);
  }
}

test('sockets connecting while nothing changes get the same sync:full, and one connecting after a change or a join sees it', { timeout: 30000 }, async () => {
  const first = await connect();
  const second = await connect();
  assert.deepEqual(second.syncs[0], first.syncs[0], 'no change in between: the same board');

  const task = await restCreate({ title: uid('after') });
  const third = await connect();
  assert.ok(third.syncs[0].tasks.some((t) => t.id === task.id), 'a change since: the new task is in sync:full');
  assert.ok(third.syncs[0].seq > first.syncs[0].seq);

  const name = uid('Joiner');
  await joined(name);
  const fourth = await connect();
  assert.ok(fourth.syncs[0].users.some((u) => u.name === name), 'someone joined since: they are in sync:full');
});

test('sockets that never read on a big board are cut off, and the server\'s memory stays bounded meanwhile', { timeout: 180000 }, async () => {
  // About 10 MB of board: 1,000 tasks with 10,000-character descriptions.
  await createTasks(1000, 'd'.repeat(10000));
  const watcher = await connect();
  const boardMb = JSON.stringify(watcher.syncs[0]).length / 1e6;
  const before = await connectionsReach(() => true, 'baseline', 0);
  const baseline = rssMb();

  const STALLED = 20;
  const stalled = await Promise.all(Array.from({ length: STALLED }, stalledSocket));
  await connectionsReach((n) => n >= before + STALLED, 'the stalled sockets connecting', WAIT);
  // Live traffic on top, so their queues fill: 300 changes of about 10 kB, each three events.
  await createTasks(300, 'e'.repeat(10000));
  let peak = rssMb();

  // A socket that never reads never answers engine.io's ping, and one whose queue is full cannot even be sent it:
  // both are closed within pingInterval + pingTimeout (45 s).
  const started = Date.now();
  const deadline = started + 60000;
  for (;;) {
    peak = Math.max(peak, rssMb());
    const { connections } = await health();
    if (connections <= before) break;
    assert.ok(Date.now() < deadline, `${connections - before} stalled sockets still connected after 60 s`);
    await sleep(500);
  }
  const cutAfter = (Date.now() - started) / 1000;
  console.log(`slow readers: board ${boardMb.toFixed(1)} MB, ${STALLED} stalled sockets; RSS ${baseline.toFixed(0)} MB before, `
    + `peak ${peak.toFixed(0)} MB, ${rssMb().toFixed(0)} MB after; all cut off ${cutAfter.toFixed(0)} s after the traffic`);
  // Each stalled socket holds at most its own sync:full and the frame being written (two copies of the board),
  // its queue's live packets being shared: a bound that does not grow with the traffic.
  assert.ok(peak - baseline <= STALLED * 3 * boardMb + 64, `RSS grew by ${(peak - baseline).toFixed(0)} MB`);
  for (const s of stalled) s.destroy();

  // The watcher read everything and is still there.
  assert.ok(watcher.socket.connected, 'a socket that reads is not cut off');
});
