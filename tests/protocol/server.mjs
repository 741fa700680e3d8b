// Starts and stops the real warroom binary for the protocol tests: a fresh temp database, a free port, a random key.
//
//   const srv = await startServer({ rateLimit: 0 });   // srv.url, srv.key
//   await srv.stop();      // SIGTERM, waits for the exit
//   await srv.kill();      // SIGKILL (crash tests)
//   await srv.start();     // again, same database, port and key
//   await srv.close();     // stop and remove the temp folder
//   startServer({ extraArgs: ['--connection-limit', '3'] })   // any further `serve` flags
//
// Run directly (`node server.mjs [--rate-limit N]`) it starts one server, prints `WARROOM_URL=… WARROOM_KEY=…` on
// its first line and stops the server (and removes its database) on SIGTERM/SIGINT: run-kit.sh uses this.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The binary under test: `WARROOM_BIN`, else the debug build of this checkout. */
export const BIN = path.resolve(here, process.env.WARROOM_BIN || '../../target/debug/warroom');
const START_DEADLINE_MS = 10_000;
/** The presence grace of test servers, in ms (SPEC's is 10 s). */
export const TEST_PRESENCE_GRACE_MS = 300;
const STOP_DEADLINE_MS = 10_000;
const OUTPUT_KEEP = 64 * 1024; // the tail of stdout+stderr kept for failure messages

/** A free TCP port on 127.0.0.1 (bound and released; the server binds it right after). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set();
// A test process that dies must not leave servers behind.
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

/** One warroom process on its own temp folder and port; `startServer` makes and starts one. Exported for tests that
 * prepare the folder first (e.g. restore a backup into `srv.db` before the first start). */
export class Server {
  constructor({ bin = BIN, rateLimit, key = randomBytes(24).toString('hex'), extraArgs = [], env = {} } = {}) {
    this.bin = bin;
    this.rateLimit = rateLimit;
    this.key = key;
    this.extraArgs = extraArgs;
    this.env = env;
    this.dir = null;
    this.port = null;
    this.child = null;
    this.output = '';
    this.starts = 0;
  }
  get url() { return `http://127.0.0.1:${this.port}`; }
  get db() { return path.join(this.dir, 'tasks.db'); }

  /** Start (or start again, on the same database, port and key) and wait until /api/health answers 200. */
  async start() {
    if (this.child) throw new Error('server already running');
    if (!existsSync(this.bin)) {
      throw new Error(`warroom binary not found at ${this.bin}: build it (cargo build) or set WARROOM_BIN`);
    }
    this.dir ??= await mkdtemp(path.join(tmpdir(), 'warroom-protocol-'));
    this.port ??= await freePort();
    this.starts += 1;
    const args = ['serve', '--host', '127.0.0.1', '--port', String(this.port), '--db', this.db];
    if (this.rateLimit !== undefined) args.push('--rate-limit', String(this.rateLimit));
    args.push(...this.extraArgs);
    // A short presence grace, so that tests of a leave wait past it without waiting SPEC's 10 s; tests of the grace
    // itself pass their own (`env: { PRESENCE_GRACE_MS }`).
    const env = { ...process.env, WAAAH_API_KEY: this.key, PRESENCE_GRACE_MS: String(TEST_PRESENCE_GRACE_MS), ...this.env };
    // Flags win over these, but an inherited value must never point the server elsewhere.
    for (const k of ['PORT', 'HOST', 'DATABASE_PATH', 'DATABASE_URL', 'REDIS_URL', 'RATE_LIMIT']) delete env[k];
    // `env: { NAME: undefined }` unsets a variable, so the server uses its default.
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    this.output += `\n--- start #${this.starts}: ${this.bin} ${args.join(' ')}\n`;
    const child = spawn(this.bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    const keep = (chunk) => {
      this.output += chunk.toString();
      if (this.output.length > OUTPUT_KEEP) this.output = this.output.slice(-OUTPUT_KEEP);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      running.delete(child);
      this.output += `\n--- exited: code ${code}, signal ${signal}\n`;
      resolve({ code, signal });
    }));
    let exitedEarly = null;
    child.exited.then((e) => { exitedEarly = e; });
    const deadline = Date.now() + START_DEADLINE_MS;
    while (Date.now() < deadline) {
      if (exitedEarly) break;
      try {
        const res = await fetch(`${this.url}/api/health`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return this;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    const why = exitedEarly ? `exited early (code ${exitedEarly.code}, signal ${exitedEarly.signal})`
      : `GET /api/health did not answer 200 within ${START_DEADLINE_MS} ms`;
    if (!exitedEarly) await this.kill();
    throw new Error(`warroom ${why}. Output:\n${this.tail()}`);
  }

  /** Graceful stop: SIGTERM and wait (SIGKILL after the deadline, reported as an error). */
  async stop() {
    const child = this.child;
    if (!child) return null;
    child.kill('SIGTERM');
    let timer;
    const res = await Promise.race([
      child.exited,
      new Promise((r) => { timer = setTimeout(() => r(null), STOP_DEADLINE_MS); }),
    ]);
    clearTimeout(timer);
    this.child = null;
    if (res === null) {
      child.kill('SIGKILL');
      await child.exited;
      throw new Error(`warroom did not exit within ${STOP_DEADLINE_MS} ms of SIGTERM. Output:\n${this.tail()}`);
    }
    return res;
  }

  /** Crash: SIGKILL and wait for the exit. */
  async kill() {
    const child = this.child;
    if (!child) return null;
    child.kill('SIGKILL');
    this.child = null;
    return child.exited;
  }

  async restart() {
    await this.stop();
    return this.start();
  }

  /** Stop and remove the temp folder (its database included). */
  async close() {
    try {
      await this.stop();
    } finally {
      if (this.dir) await rm(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
  }

  get running() { return this.child !== null; }
  /** The last lines the server printed, for failure messages. */
  tail(chars = 4000) { return this.output.slice(-chars); }
}

/** Start a fresh server; options: { rateLimit, bin, key, extraArgs, env }. */
export async function startServer(opts = {}) {
  const srv = new Server(opts);
  await srv.start();
  return srv;
}

// CLI: one server for scripts (run-kit.sh).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--rate-limit');
  const rateLimit = i > 0 ? process.argv[i + 1] : undefined;
  let srv;
  try {
    srv = await startServer({ rateLimit });
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  console.log(`WARROOM_URL=${srv.url} WARROOM_KEY=${srv.key}`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    try { await srv.close(); } catch (e) { console.error(e.message); process.exitCode = 1; }
    process.exit();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  srv.child.exited.then(() => { if (!stopping) { console.error(`warroom exited unexpectedly:\n${srv.tail()}`); process.exit(3); } });
}
