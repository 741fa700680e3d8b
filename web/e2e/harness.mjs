// Helpers for the end-to-end tests: the real warroom binary on a free port with a fresh
// database, and Debian's Chromium driven by playwright-core, one browser per person.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach } from "node:test";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = resolve(here, "..");
export const SERVER_BIN = resolve(WEB_DIR, process.env.WARROOM_BIN ?? "../target/debug/warroom");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(here, "screenshots");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Waits until `check` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function eventually(what, check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * `bins`: the server builds the run starts (a benchmark may compare several). An object, as
 * node:test passes a hook its context: `before(requireTools)`.
 */
export function requireTools({ bins = [SERVER_BIN] } = {}) {
  const missing = [];
  for (const bin of bins) {
    if (!existsSync(bin)) missing.push(`the warroom binary at ${bin} (cargo build, or set WARROOM_BIN)`);
  }
  if (!existsSync(CHROMIUM)) missing.push(`Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  if (!existsSync(join(WEB_DIR, "dist", "index.html"))) missing.push("the built dashboard in web/dist (npm run build)");
  if (missing.length) throw new Error(`Cannot run the end-to-end tests without ${missing.join("; ")}`);
}

/** One warroom server with its own temp database; can be stopped and started again on the same port. */
export class WarroomServer {
  /**
   * `env`: extra environment for the server, e.g. `{ RATE_LIMIT: "0" }` to seed a big board fast.
   * `bin`: another build than WARROOM_BIN's (a benchmark comparing two).
   */
  constructor({ env = {}, bin = SERVER_BIN } = {}) {
    this.env = env;
    this.bin = bin;
    this.dir = mkdtempSync(join(tmpdir(), "warroom-e2e-"));
    this.key = `e2e-key-${Math.random().toString(36).slice(2)}`;
    this.port = 0;
    this.child = null;
    this.logPath = join(this.dir, "server.log");
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    if (!this.port) this.port = await freePort();
    const args = ["serve", "--host", "127.0.0.1", "--port", String(this.port), "--db", join(this.dir, "tasks.db")];
    const script = /\.(mjs|js)$/.test(this.bin);
    const log = createWriteStream(this.logPath, { flags: "a" });
    this.child = spawn(script ? process.execPath : this.bin, script ? [this.bin, ...args] : args, {
      cwd: resolve(WEB_DIR, ".."),
      env: { ...process.env, WAAAH_API_KEY: this.key, RUST_LOG: process.env.RUST_LOG ?? "info", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout.pipe(log);
    this.child.stderr.pipe(log);
    const child = this.child;
    await eventually(
      `the server to answer /api/health on port ${this.port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${this.log()}`);
        const res = await fetch(`${this.url}/api/health`);
        return res.status === 200;
      },
      30_000,
    );
    const page = await (await fetch(`${this.url}/`)).text();
    if (!page.includes('<div id="root">')) {
      throw new Error(
        `${this.bin} answers / without the dashboard: it must serve web/dist (in a debug build, the ` +
          `web/dist beside the Cargo.toml it was built from). Run npm run build, then rebuild the binary.`,
      );
    }
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  log() {
    try {
      return readFileSync(this.logPath, "utf8").split("\n").slice(-40).join("\n");
    } catch {
      return "";
    }
  }

  async api(method, path, body) {
    const res = await fetch(`${this.url}/api${path}`, {
      method,
      headers: { "X-API-Key": this.key, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** Creates every task of `list` over REST, `concurrency` requests at a time; returns them in order. */
  async createTasks(list, concurrency = 16) {
    const created = new Array(list.length);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const i = next++;
        const res = await this.api("POST", "/tasks", list[i]);
        if (res.status !== 201)
          throw new Error(`creating ${JSON.stringify(list[i])}: ${res.status} ${JSON.stringify(res.body)}`);
        created[i] = res.body;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return created;
  }

  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The people whose pages are open, checked at the end of every test. */
const launched = new Set();

// Every test of every file: a page that threw, or logged an error or a warning the test did not
// expect (`Person.expectConsole`), fails the test, whether or not the test looked.
afterEach(() => {
  // Taken out once reported, so a page shared by several tests blames only the test it happened in.
  const problems = [...launched].flatMap((p) => p.errors.splice(0).map((e) => `${p.name}: ${e}`));
  if (problems.length) throw new Error(`the page reported problems:\n${problems.join("\n")}`);
});

/** One person: their own Chromium with a fresh profile, one page on the dashboard. */
export class Person {
  constructor(name) {
    this.name = name;
    /** Page errors, and console errors and warnings nobody expected. */
    this.errors = [];
    /** Console messages the test provokes on purpose (a blocked route, a stopped server). */
    this.expected = [];
  }

  /** Console errors or warnings matching `pattern` (tested against text and source URL) are expected. */
  expectConsole(pattern) {
    this.expected.push(pattern);
  }

  /** The test stops the server or cuts the network: failed requests are expected, not faults. */
  expectNetworkErrors() {
    this.expectConsole(/net::ERR_|WebSocket connection to .* failed|Failed to fetch/);
  }

  async launch({ width = 1440, height = 900 } = {}) {
    this.profile = mkdtempSync(join(tmpdir(), `warroom-chromium-${this.name.toLowerCase()}-`));
    // launchPersistentContext is how playwright takes a --user-data-dir of our own.
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width, height },
      deviceScaleFactor: 1,
      colorScheme: "light",
    });
    this.page = this.context.pages()[0] ?? (await this.context.newPage());
    launched.add(this);
    this.page.on("pageerror", (error) => this.errors.push(String(error)));
    // Console errors and warnings too: a blocked worker or script (the page's own
    // Content-Security-Policy) is how confetti once failed silently for everyone.
    this.page.on("console", (message) => {
      const type = message.type();
      if (type !== "error" && type !== "warning") return;
      const text = `${message.text()} ${message.location()?.url ?? ""}`;
      if (this.expected.some((pattern) => pattern.test(text))) return;
      this.errors.push(`console ${type}: ${text.trim()}`);
    });
    this.page.setDefaultTimeout(10_000);
    return this;
  }

  /** Opens the dashboard the way a new teammate does: a ?key= link, then a display name. */
  async signIn(server, expectedState = "live") {
    const page = this.page;
    await page.goto(`${server.url}/?key=${encodeURIComponent(server.key)}`);
    await page.locator('input[name="name"]').fill(this.name);
    await page.getByRole("button", { name: "Enter the war room" }).click();
    await this.waitFor(expectedState);
  }

  /** Makes Socket.IO unreachable for this person (both transports), as a hostile proxy would. */
  async blockSocketIo() {
    this.expectConsole(/socket\.io/);
    await this.context.route(/\/socket\.io\//, (route) => route.abort());
    await this.context.routeWebSocket(/\/socket\.io\//, (ws) => ws.close());
  }

  async waitFor(state, timeoutMs = 15_000) {
    await this.page.locator(`[data-testid="connection"][data-state="${state}"]`).waitFor({ timeout: timeoutMs });
  }

  card(title) {
    return this.page.locator('[data-testid="card"]', { hasText: title });
  }

  column(status) {
    return this.page.locator(`[data-testid="column-${status}"]`);
  }

  async screenshot(name) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await this.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  }

  async close() {
    launched.delete(this);
    await this.context?.close().catch(() => {});
    if (this.profile) rmSync(this.profile, { recursive: true, force: true });
  }
}

/** Presses on a card, moves it over a column and keeps holding; returns a function to drop it. */
export async function pickUpAndHoldOver(person, cardLocator, targetLocator) {
  const page = person.page;
  const from = await cardLocator.boundingBox();
  const to = await targetLocator.boundingBox();
  const x = from.x + from.width / 2;
  const y = from.y + from.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + 12, y + 6, { steps: 4 });
  // Over a column, aim below its header; over a card, at its middle.
  const ty = to.height > 200 ? to.y + 110 : to.y + to.height / 2;
  await page.mouse.move(to.x + to.width / 2, ty, { steps: 20 });
  return async () => {
    await page.mouse.up();
  };
}

/**
 * In the page, before its scripts (`page.addInitScript(signedIn, [key, name])`): signed in as a
 * returning person would be, with nothing of the board saved: a first visit.
 */
export function signedIn([key, name]) {
  localStorage.setItem("warroom.apiKey", key);
  localStorage.setItem("warroom.name", name);
}

/**
 * One person and a started server of their own for one test (`t`), both torn down after it;
 * `env`: the server's settings.
 */
export async function alone(t, name, { env } = {}) {
  const server = new WarroomServer({ env });
  const person = new Person(name);
  t.after(async () => {
    await person.close();
    await server.dispose();
  });
  await server.start();
  return { server, person };
}

/**
 * Adam and Nick signed in side by side on a fresh server (`env` for its settings, `seed` to fill
 * the board before they arrive); both close, and the server log is shown, when the test ends.
 */
export async function warRoom(t, { width, height, env, seed } = {}) {
  const server = new WarroomServer({ env });
  const adam = new Person("Adam");
  const nick = new Person("Nick");
  t.after(async () => {
    await adam.close();
    await nick.close();
    if (t.passed === false) console.log(`--- server log (${server.logPath}) ---\n${server.log()}`);
    await server.dispose();
  });
  await server.start();
  if (seed) await seed(server);
  await Promise.all([adam.launch({ width, height }), nick.launch({ width, height })]);
  await adam.signIn(server);
  await nick.signIn(server);
  return { server, adam, nick };
}
