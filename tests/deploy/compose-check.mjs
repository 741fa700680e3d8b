// The checks docker-test.sh runs on the docker-compose.yml topology, by Node's test runner: the
// official socket.io-client connected to warroom-a and warroom-b directly (their addresses on the
// compose network, reachable from the Docker host) and through nginx, to check that a change made on
// one instance reaches sockets held by the other. docker-test.sh passes PROXY_URL, A_URL, B_URL, KEY
// and PROTOCOL_DIR.
import { after, test } from 'node:test';

import { WAIT, assert, io, rest, uid } from './harness.mjs';

const { PROXY_URL, A_URL, B_URL, KEY } = process.env;
const sockets = [];
after(() => { for (const s of sockets) s.close(); });
const check = (name, fn) => test(name, { timeout: 20_000 }, fn);

/** A WebSocket-only client of one URL that records events and can wait for one. */
function client(url) {
  const socket = io(url, {
    auth: { apiKey: KEY, name: uid('compose') }, transports: ['websocket'], reconnection: false,
    timeout: WAIT, forceNew: true,
  });
  sockets.push(socket);
  const seen = [];
  const waiters = [];
  socket.onAny((event, payload) => {
    seen.push({ event, payload });
    for (const w of [...waiters]) if (w.event === event && w.pred(payload)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(payload); }
  });
  const waitFor = (event, pred = () => true, ms = WAIT) => {
    const hit = seen.find((s) => s.event === event && pred(s.payload));
    if (hit) return Promise.resolve(hit.payload);
    return new Promise((resolve, reject) => {
      const w = { event, pred, resolve, reject };
      waiters.push(w);
      setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); reject(new Error(`no ${event} from ${url} within ${ms} ms`)); } }, ms);
    });
  };
  return { socket, waitFor };
}

let onA, onB, viaProxy;
check('sockets on warroom-a, on warroom-b and through nginx receive sync:full', async () => {
  onA = client(A_URL);
  onB = client(B_URL);
  viaProxy = client(PROXY_URL);
  for (const c of [onA, onB, viaProxy]) assert(Array.isArray((await c.waitFor('sync:full')).tasks), 'no tasks');
});

check('the two instances are distinct, each on the shared store (health)', async () => {
  const a = await rest('GET', `${A_URL}/api/health`);
  const b = await rest('GET', `${B_URL}/api/health`);
  assert(a.status === 200 && b.status === 200, `health ${a.status} ${b.status}: ${a.text} ${b.text}`);
  console.log(`warroom-a health: ${a.text}`);
  console.log(`warroom-b health: ${b.text}`);
});

check('a task created by REST on warroom-b reaches the socket on warroom-a and the one through nginx', async () => {
  const title = uid('from-b');
  const r = await rest('POST', `${B_URL}/api/tasks`, { title });
  assert(r.status === 201, `POST on b: ${r.status} ${r.text}`);
  await onA.waitFor('task:created', (p) => p?.task?.title === title);
  await viaProxy.waitFor('task:created', (p) => p?.task?.title === title);
});

check('a move by a socket on warroom-a reaches the socket on warroom-b', async () => {
  const title = uid('from-a');
  const ack = await onA.socket.timeout(WAIT).emitWithAck('task:create', { title });
  assert(ack?.ok, `create ack ${JSON.stringify(ack)}`);
  await onB.waitFor('task:created', (p) => p?.task?.title === title);
  const moved = await onA.socket.timeout(WAIT).emitWithAck('task:move', { taskId: ack.task.id, status: 'IN_PROGRESS' });
  assert(moved?.ok, `move ack ${JSON.stringify(moved)}`);
  await onB.waitFor('task:moved', (p) => p?.taskId === ack.task.id && p?.newStatus === 'IN_PROGRESS');
});

check('a task created through nginx reaches both instances\' sockets, and both list it', async () => {
  const title = uid('via-proxy');
  const r = await rest('POST', `${PROXY_URL}/api/tasks`, { title });
  assert(r.status === 201, `POST via nginx: ${r.status} ${r.text}`);
  await onA.waitFor('task:created', (p) => p?.task?.title === title);
  await onB.waitFor('task:created', (p) => p?.task?.title === title);
  for (const url of [A_URL, B_URL]) {
    const list = await rest('GET', `${url}/api/tasks`);
    assert(list.status === 200 && list.text.includes(title), `${url} does not list it`);
  }
});
