// A live board nobody touches, timed in headless Chromium: how busy its page keeps the main
// thread (Chrome's own task, style and layout time, from the DevTools protocol's Performance
// metrics) over IDLE_SECONDS seconds (default 3) once it is live and settled. Nothing changes on screen but the
// connection badge's pulse; a pulse drawn on the main thread kept a fifth of a core busy.
// Usage: node bench/idle.mjs [rounds] [binary ...]   (default: 3 rounds of WARROOM_BIN's build)
// Prints, per build, the median and the 90th percentile of each, in ms per second, one JSON line
// each: taskMs (all main-thread tasks), styleMs (style recalculation), layoutMs.

import { buildsToCompare, summary, takingTurns } from "./builds.mjs";

const CARDS = Number(process.env.CARDS ?? 1000);
const SECONDS = Number(process.env.IDLE_SECONDS ?? 3);
const ROUNDS = Number(process.argv[2] ?? 3);
const BINS = buildsToCompare();

const rounds = await takingTurns({ bins: BINS, cards: CARDS, rounds: ROUNDS }, async (person, server) => {
  await person.page.goto(server.url);
  await person.waitFor("live");
  // Settled: the first save, the card view's chunk and the service worker are behind it.
  await person.page.waitForTimeout(1500);
  const cdp = await person.context.newCDPSession(person.page);
  await cdp.send("Performance.enable");
  const metrics = async () =>
    Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const before = await metrics();
  await person.page.waitForTimeout(SECONDS * 1000);
  const after = await metrics();
  const perSecond = (name) => ((after[name] - before[name]) * 1000) / SECONDS;
  return [
    { task: perSecond("TaskDuration"), style: perSecond("RecalcStyleDuration"), layout: perSecond("LayoutDuration") },
  ];
});
BINS.forEach((bin, b) => {
  const fields = [
    ["task", "task"],
    ["style", "style"],
    ["layout", "layout"],
  ];
  console.log(JSON.stringify(summary({ bin, cards: CARDS, seconds: SECONDS, rounds: ROUNDS }, rounds[b], fields, 1)));
});
