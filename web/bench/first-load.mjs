// A first visit to a board of CARDS cards (default 1,000), timed in headless Chromium: each load
// in a browser profile of its own (empty IndexedDB, empty HTTP cache), from navigation start to
// the first frame of a usable board (as board-1000.mjs's firstLoadMs). With several builds, one
// seeded server each, their loads taking turns, so a machine that slows down or speeds up
// meanwhile weighs on every build alike.
// Usage: node bench/first-load.mjs [runs] [binary ...]   (default: WARROOM_BIN's build)
// CARDS, and LATENCY_MS and MBPS (builds.mjs: the network's delay and bandwidth) set the scene.
// Prints, per build, the median and the 90th percentile of each step, one JSON line each:
//   restMs     REST has answered the board's tasks (a first visit asks as the page starts)
//   socketMs   the page creates its WebSocket       openMs   the WebSocket is open
//   syncMs     `sync:full` reaches the page
//   frameMs    the frame that first shows the usable board starts
//   paintedMs  that frame is painted (its rendering done on the main thread); watched from the
//              page's start (`boardWatch`, probes.mjs)
//   afterMs    the frame after it starts, as watched by `paintedWith` once `goto` has returned
//              (this bench's paintedMs until 6 December 2026: it also counts the main thread's
//              work after that paint, the socket's handshake and board, and a late start)

import { buildsToCompare, summary, takingTurns } from "./builds.mjs";
import { boardWatch, paintedWith } from "./probes.mjs";

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
  await person.page.addInitScript({ content: boardWatch(CARDS) });
  await person.page.goto(server.url);
  const after = await person.page.evaluate(paintedWith(CARDS));
  const { frame, painted } = await person.page.evaluate(() => window.__board);
  const rest = await person.page.evaluate(
    () => performance.getEntriesByType("resource").find((e) => e.name.endsWith("/tasks"))?.responseEnd ?? NaN,
  );
  return [{ frame, painted, after, rest, ...(await person.page.evaluate(() => window.__socket)) }];
});
BINS.forEach((bin, b) => {
  const fields = [
    ["rest", "rest"],
    ["socket", "made"],
    ["open", "open"],
    ["sync", "sync"],
    ["frame", "frame"],
    ["painted", "painted"],
    ["after", "after"],
  ];
  const out = summary({ bin, cards: CARDS, runs: RUNS }, loads[b], fields);
  out.paintedAll = loads[b].map((load) => Math.round(load.painted));
  out.afterAll = loads[b].map((load) => Math.round(load.after));
  console.log(JSON.stringify(out));
});
