// Someone else's moves on a board of CARDS cards (default 5,000), timed in headless Chromium:
// MOVES times per round, a card from the bottom of a column is moved over REST to the top of the
// next one (in view, so the card itself is painted there), which renumbers the whole column it
// lands in: some CARDS / 5 `task:{id}:updated` events follow the card's own. With several builds,
// one seeded server each, their rounds taking turns.
// Usage: node bench/remote-moves.mjs [rounds] [binary ...]   (default: 2 rounds of WARROOM_BIN's build)
// Prints, per build, the median and the 90th percentile over every move, one JSON line each:
//   serverMs    the REST call → the server's answer (its share: committed and sent)
//   paintedMs   the REST call → the frame after the card shows at the top of its new column
//               (board-1000.mjs's remoteMs, without its wait for a frame before the call)
//   busyMs      the page's main thread busy with the move's events, in tasks over 5 ms, from
//               the call until 300 ms after the frame (long enough for the renumbering's events)
//   longestMs   the longest of those tasks: how long a key press could wait behind them
// and `byRound`, each round's median paintedMs.

import { buildsToCompare, paintedByRound, summary, takingTurns } from "./builds.mjs";
import { ARRIVAL_TIMEOUT_MS, arrival, paintedWith, watchArrival } from "./probes.mjs";

const CARDS = Number(process.env.CARDS ?? 5000);
const MOVES = Number(process.env.MOVES ?? 15);
const ROUNDS = Number(process.argv[2] ?? 2);
const BINS = buildsToCompare();
const STATUSES = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];
/** The shortest task counted as busy: shorter ones are the page's own idle noise. */
const BUSY_FROM_MS = 5;
const SETTLE_MS = 300;

/**
 * In the page, from before its scripts: records every task over BUSY_FROM_MS (`longtask` entries
 * start at 50 ms, so a task is timed by a MessageChannel ping-pong: the gap between pings is the
 * task that held the thread) into `window.__busy`, each with its start on the epoch clock (as
 * Node's `Date.now()`).
 */
function watchTasks(busyFrom) {
  window.__busy = [];
  const channel = new MessageChannel();
  let last = performance.now();
  channel.port1.onmessage = () => {
    const now = performance.now();
    if (now - last > busyFrom) window.__busy.push({ start: performance.timeOrigin + last, ms: now - last });
    last = now;
    setTimeout(() => channel.port2.postMessage(null), 0);
  };
  channel.port2.postMessage(null);
}

const moves = await takingTurns({ bins: BINS, cards: CARDS, rounds: ROUNDS }, async (person, server) => {
  const page = person.page;
  await page.addInitScript(watchTasks, BUSY_FROM_MS);
  await page.goto(server.url);
  await page.evaluate(paintedWith(CARDS));
  await person.waitFor("live");
  await page.waitForTimeout(1000);
  const times = [];
  for (let m = 0; m < MOVES; m++) {
    const from = STATUSES[m % STATUSES.length];
    const to = STATUSES[(m + 1) % STATUSES.length];
    const column = (await server.api("GET", `/tasks?status=${from}`)).body;
    const task = column[column.length - 1];
    await page.evaluate(watchArrival, [task.id, to, ARRIVAL_TIMEOUT_MS]);
    const sent = Date.now();
    await server.api("PUT", `/tasks/${task.id}`, { status: to, position: 0 });
    const serverMs = Date.now() - sent;
    const painted = (await page.evaluate(arrival)) - sent;
    await page.waitForTimeout(SETTLE_MS);
    const busy = await page.evaluate(
      ([from, until]) => window.__busy.filter((t) => t.start >= from && t.start <= until),
      [sent, sent + painted + SETTLE_MS],
    );
    times.push({
      server: serverMs,
      painted,
      busy: busy.reduce((sum, t) => sum + t.ms, 0),
      longest: busy.reduce((max, t) => Math.max(max, t.ms), 0),
    });
    await page.waitForTimeout(200);
  }
  return times;
});
BINS.forEach((bin, b) => {
  const fields = [
    ["server", "server"],
    ["painted", "painted"],
    ["busy", "busy"],
    ["longest", "longest"],
  ];
  const byRound = paintedByRound(moves[b], MOVES);
  console.log(JSON.stringify(summary({ bin, cards: CARDS, moves: moves[b].length, byRound }, moves[b], fields, 1)));
});
