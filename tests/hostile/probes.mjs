// What an honest client sees while an attack runs, measured from a worker thread of its own: a scenario's main
// thread is busy attacking (writing sixteen 7.8 MB payloads at once blocks its event loop for hundreds of ms), and
// probes sharing that loop measured the suite, not the server. Imported by the harness (`healthOnce`, `keyed`, and
// the `Probes` class, which starts this module as its worker).
import http from 'node:http';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { io } from 'socket.io-client';

/** GET /api/health on a new TCP connection (no keep-alive: a new visitor must get in, not only a kept socket).
 * Resolves with the latency in ms, or Infinity on an error, a non-200 answer or no answer within `timeout`. */
export function healthOnce(url, timeout = 2000) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get(`${url}/api/health`, { agent: false, timeout }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : Infinity));
      res.on('error', () => resolve(Infinity));
    });
    req.on('timeout', () => { req.destroy(); resolve(Infinity); });
    req.on('error', () => resolve(Infinity));
  });
}

/** A connected socket.io client with the team key (or `auth`), resolved on its first sync:full. */
export function keyed(srv, { auth, timeout = 5000, ...opts } = {}) {
  const socket = io(srv.url, {
    auth: auth ?? { apiKey: srv.key }, transports: ['websocket'], reconnection: false, forceNew: true, timeout, ...opts,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error('no sync:full within the deadline')); }, timeout);
    socket.once('sync:full', () => { clearTimeout(timer); resolve(socket); });
    socket.once('connect_error', (e) => { clearTimeout(timer); socket.close(); reject(e); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The worker: the three probes every `every` ms until told to stop — `/api/health` on a new connection, a keyed
 * client's `typing:start` → ack (a command that touches no disk, so the figure is the server's, not fsync's), and a
 * new keyed handshake every ten ticks (file descriptors must stay available to real clients). Answers `summary`,
 * `reset` and `stop` messages from the scenario. */
async function probe({ url, key, every }) {
  const srv = { url, key };
  let samples = { health: [], acks: [], handshakes: { ok: 0, failed: 0 } };
  let running = true;
  let client;
  try {
    client = await keyed(srv);
  } catch (e) {
    parentPort.postMessage({ type: 'failed', message: String(e?.message ?? e) });
    return;
  }
  parentPort.on('message', (m) => {
    if (m === 'summary') parentPort.postMessage({ type: 'summary', samples });
    else if (m === 'reset') samples = { health: [], acks: [], handshakes: { ok: 0, failed: 0 } };
    else if (m === 'stop') running = false;
  });
  parentPort.postMessage({ type: 'ready' });
  for (let tick = 0; running; tick++) {
    const t0 = performance.now();
    const s = samples;
    const jobs = [
      healthOnce(url).then((ms) => s.health.push(ms)),
      client.timeout(2000).emitWithAck('typing:start', {})
        .then((a) => s.acks.push(a?.ok === true ? performance.now() - t0 : Infinity), () => s.acks.push(Infinity)),
    ];
    if (tick % 10 === 0) {
      jobs.push(keyed(srv, { timeout: 3000 }).then((c) => { s.handshakes.ok++; c.close(); }, () => { s.handshakes.failed++; }));
    }
    await Promise.all(jobs);
    await sleep(Math.max(0, every - (performance.now() - t0)));
  }
  client.close();
  parentPort.postMessage({ type: 'stopped' });
}

if (!isMainThread && workerData?.probe) await probe(workerData.probe);
