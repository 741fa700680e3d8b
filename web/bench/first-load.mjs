// A first visit to a board of CARDS cards (default 1,000), timed in headless Chromium: each load
// in a browser profile of its own (empty IndexedDB, empty HTTP cache), from navigation start to
// the first frame of a usable board (as board-1000.mjs's firstLoadMs). With several builds, one
// seeded server each, their loads taking turns, so a machine that slows down or speeds up
// meanwhile weighs on every build alike.
// Usage: node bench/first-load.mjs [runs] [binary ...]   (default: WARROOM_BIN's build)
// Prints, per build, the median and the 90th percentile of each step, one JSON line each:
//   restMs     REST has answered the board's tasks (a first visit asks as the page starts)
//   socketMs   the page creates its WebSocket       openMs   the WebSocket is open
//   syncMs     `sync:full` reaches the page          paintedMs   the usable board is painted

import { buildsToCompare, summary, takingTurns } from "./builds.mjs";
import { paintedWith } from "./probes.mjs";

const CARDS = Number(process.env.CARDS ?? 1000);
const RUNS = Number(process.argv[2] ?? 10);
const BINS = buildsToCompare();

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

const loads = await takingTurns({ bins: BINS, cards: CARDS, rounds: RUNS }, async (person, server) => {
  await person.page.addInitScript(instrument);
  await person.page.goto(server.url);
  const painted = await person.page.evaluate(paintedWith, CARDS);
  const rest = await person.page.evaluate(
    () => performance.getEntriesByType("resource").find((e) => e.name.endsWith("/tasks"))?.responseEnd ?? NaN,
  );
  return [{ painted, rest, ...(await person.page.evaluate(() => window.__socket)) }];
});
BINS.forEach((bin, b) => {
  const fields = [
    ["rest", "rest"],
    ["socket", "made"],
    ["open", "open"],
    ["sync", "sync"],
    ["painted", "painted"],
  ];
  const out = summary({ bin, cards: CARDS, runs: RUNS }, loads[b], fields);
  out.paintedAll = loads[b].map((load) => Math.round(load.painted));
  console.log(JSON.stringify(out));
});
