// A first visit to a board of CARDS cards (default 1,000), timed in headless Chromium: each load
// in a browser profile of its own (empty IndexedDB, empty HTTP cache), from navigation start to
// the first frame of a usable board (as board-1000.mjs's firstLoadMs). With several builds, one
// seeded server each, their loads taking turns, so a machine that slows down or speeds up
// meanwhile weighs on every build alike.
// Usage: node bench/first-load.mjs [runs] [binary ...]   (default: WARROOM_BIN's build)
// Prints, per build, the median and the 90th percentile of each step, one JSON line each:
//   socketMs   the page creates its WebSocket       openMs   the WebSocket is open
//   syncMs     `sync:full` reaches the page          paintedMs   the usable board is painted

import { resolve } from "node:path";
import { Person, SERVER_BIN, requireTools } from "../e2e/harness.mjs";
import { quantile, startBuilds } from "./builds.mjs";
import { paintedWith, signedIn } from "./probes.mjs";

const CARDS = Number(process.env.CARDS ?? 1000);
const RUNS = Number(process.argv[2] ?? 10);
const BINS = process.argv.length > 3 ? process.argv.slice(3).map((bin) => resolve(bin)) : [SERVER_BIN];

/** In the page, before its scripts: when its first WebSocket opens and what it receives. */
function instrument() {
  const Native = window.WebSocket;
  window.__socket = null;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      if (window.__socket) return;
      const seen = { made: performance.now(), open: NaN, sync: NaN };
      window.__socket = seen;
      this.addEventListener("open", () => (seen.open = performance.now()));
      this.addEventListener("message", (e) => {
        if (Number.isNaN(seen.sync) && typeof e.data === "string" && e.data.startsWith('42["sync:full"')) {
          seen.sync = performance.now();
        }
      });
    }
  };
}

async function main() {
  requireTools({ bins: BINS });
  const servers = [];
  try {
    await startBuilds(BINS, CARDS, servers);
    const loads = BINS.map(() => []);
    for (let run = 0; run < RUNS; run++) {
      for (let b = 0; b < BINS.length; b++) {
        const person = await new Person("Adam").launch();
        try {
          await person.page.addInitScript(signedIn, [servers[b].key, "Adam"]);
          await person.page.addInitScript(instrument);
          await person.page.goto(servers[b].url);
          const painted = await person.page.evaluate(paintedWith, CARDS);
          const socket = await person.page.evaluate(() => window.__socket);
          loads[b].push({ painted, ...socket });
          if (person.errors.length) throw new Error(`page errors: ${person.errors.join("; ")}`);
        } finally {
          await person.close();
        }
      }
    }
    for (let b = 0; b < BINS.length; b++) {
      const out = { bin: BINS[b], cards: CARDS, runs: RUNS };
      for (const [name, key] of [
        ["socket", "made"],
        ["open", "open"],
        ["sync", "sync"],
        ["painted", "painted"],
      ]) {
        const xs = loads[b].map((load) => load[key]);
        out[`${name}Ms`] = quantile(xs, 0.5);
        out[`${name}P90Ms`] = quantile(xs, 0.9);
      }
      out.paintedAll = loads[b].map((load) => Math.round(load.painted));
      console.log(JSON.stringify(out));
    }
  } finally {
    for (const server of servers) await server.dispose();
  }
}

await main();
