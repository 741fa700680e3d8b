// Server builds side by side for the benchmarks that compare them (first-load.mjs,
// key-moves.mjs, reloads.mjs): one server each, seeded with the same board, visited in turns, so
// that a machine that slows down or speeds up meanwhile weighs on every build alike.

import { resolve } from "node:path";
import { Person, SERVER_BIN, WarroomServer, requireTools, signedIn } from "../e2e/harness.mjs";
import { delayingProxy } from "./latency.mjs";

/** With LATENCY_MS, each server is visited through a proxy that delays each way by that much. */
const LATENCY_MS = Number(process.env.LATENCY_MS ?? 0);
/** With MBPS, Chromium's own throttling holds each page's traffic to that many megabits a second. */
const MBPS = Number(process.env.MBPS ?? 0);

/** Holds `page`'s downloads and uploads to MBPS (Chromium's network emulation). */
async function throttled(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const bytesPerSecond = (MBPS * 1e6) / 8;
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: bytesPerSecond,
    uploadThroughput: bytesPerSecond,
  });
}

/** The builds named on the command line after the first argument, else WARROOM_BIN's. */
export function buildsToCompare() {
  return process.argv.length > 3 ? process.argv.slice(3).map((bin) => resolve(bin)) : [SERVER_BIN];
}

const STATUSES = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];

/** `count` plain cards spread over the five columns (no labels, due dates or comments). */
export function plainCards(count) {
  return Array.from({ length: count }, (_, i) => ({
    title: `Card ${i + 1}: ${["rotate keys", "fix flaky test", "write docs", "review PR"][i % 4]}`,
    status: STATUSES[i % STATUSES.length],
    assignee: i % 3 === 0 ? "Adam" : null,
    description: i % 4 === 0 ? "Some context for whoever picks this up." : "",
  }));
}

/**
 * For each of `rounds` rounds, each build in `bins` in turn: a browser profile of its own, signed
 * in as Adam on that build's server (seeded with `cards` plain cards), handed to `visit(person,
 * server)`, which returns that visit's figures (a list). Returns every build's figures, in order.
 * With LATENCY_MS, `server.url` is a delaying proxy's (`latency.mjs`); with MBPS, the page is throttled.
 */
export async function takingTurns({ bins, cards, rounds }, visit) {
  requireTools({ bins });
  const servers = [];
  const proxies = [];
  try {
    const seed = plainCards(cards);
    for (const bin of bins) {
      const server = new WarroomServer({ env: { RATE_LIMIT: "0" }, bin });
      servers.push(server);
      await server.start();
      await server.createTasks(seed);
      if (LATENCY_MS > 0) {
        const proxy = await delayingProxy(server.url, LATENCY_MS);
        proxies.push(proxy);
        servers[servers.length - 1] = Object.create(server, { url: { value: proxy.url } });
      }
    }
    const figures = bins.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (let b = 0; b < bins.length; b++) {
        const person = await new Person("Adam").launch();
        try {
          if (MBPS > 0) await throttled(person.page);
          await person.page.addInitScript(signedIn, [servers[b].key, "Adam"]);
          figures[b].push(...(await visit(person, servers[b])));
          if (person.errors.length) throw new Error(`page errors: ${person.errors.join("; ")}`);
        } finally {
          await person.close();
        }
      }
    }
    return figures;
  } finally {
    for (const proxy of proxies) await proxy.close();
    for (const server of servers) await server.dispose();
  }
}

/** The `q` quantile of the figures in `xs` (NaN ones left out), rounded to `decimals`. */
function quantile(xs, q, decimals) {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const scale = 10 ** decimals;
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * q))] * scale) / scale;
}

/**
 * Adds to `out`, for each `[name, key, unit]` of `fields`, the median (`${name}${unit}`) and the
 * 90th percentile (`${name}P90${unit}`) of `key` over `figures`; returns `out`. `unit` is `Ms`
 * unless given (`""` for a count).
 */
export function summary(out, figures, fields, decimals = 0) {
  for (const [name, key, unit = "Ms"] of fields) {
    const xs = figures.map((figure) => figure[key]);
    out[`${name}${unit}`] = quantile(xs, 0.5, decimals);
    out[`${name}P90${unit}`] = quantile(xs, 0.9, decimals);
  }
  return out;
}

/**
 * Each round's median `paintedMs` of one build's `figures`, `perRound` a round in the order
 * `takingTurns` gathered them: rounds of two builds that took turns are the pairs to compare.
 */
export function paintedByRound(figures, perRound) {
  const rounds = Math.ceil(figures.length / perRound);
  return Array.from({ length: rounds }, (_, r) => figures.slice(r * perRound, (r + 1) * perRound)).map(
    (round) => summary({}, round, [["painted", "painted"]], 1).paintedMs,
  );
}
