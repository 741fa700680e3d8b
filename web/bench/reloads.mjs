// Reloads of a board of CARDS cards (default 5,000) saved in IndexedDB, timed in headless
// Chromium: RELOADS reloads per round, GAP ms apart once live (default 300: a person reloading
// again soon after). With several builds, one seeded server each, their rounds taking turns.
// Usage: node bench/reloads.mjs [rounds] [binary ...]   (default: 2 rounds of WARROOM_BIN's build)
// Prints, per build, the median and the 90th percentile over every reload, one JSON line each:
//   paintedMs   reload → the first frame of a usable board (board-1000.mjs's reloadMs)
//   saveMs      the main thread's time in IndexedDB saves from the reload until GAP ms after it
//               is live (as board-1000.mjs's keySaveMs measures it)
//   puts        the records those saves wrote

import { eventually } from "../e2e/harness.mjs";
import { buildsToCompare, summary, takingTurns } from "./builds.mjs";
import { instrumentSaves, paintedWith } from "./probes.mjs";

const CARDS = Number(process.env.CARDS ?? 5000);
const RELOADS = Number(process.env.RELOADS ?? 8);
const GAP = Number(process.env.GAP ?? 300);
const ROUNDS = Number(process.argv[2] ?? 2);
const BINS = buildsToCompare();

/** In the page: whether the board's copy holds its tasks (written by the first visit's save). */
function boardSaved(count) {
  return new Promise((resolve) => {
    const req = indexedDB.open("warroom");
    req.onsuccess = () => {
      const database = req.result;
      if (!Array.from(database.objectStoreNames).includes("tasks")) return resolve(false);
      const counted = database.transaction("tasks").objectStore("tasks").count();
      counted.onsuccess = () => resolve(counted.result >= count);
      counted.onerror = () => resolve(false);
    };
    req.onerror = () => resolve(false);
  });
}

const reloads = await takingTurns({ bins: BINS, cards: CARDS, rounds: ROUNDS }, async (person, server) => {
  const page = person.page;
  await page.addInitScript(instrumentSaves);
  await page.goto(server.url);
  await page.evaluate(paintedWith(CARDS));
  await person.waitFor("live");
  await eventually("the board to be saved", () => page.evaluate(boardSaved, CARDS));
  const times = [];
  for (let r = 0; r < RELOADS; r++) {
    await page.reload();
    const painted = await page.evaluate(paintedWith(CARDS));
    await person.waitFor("live");
    await page.waitForTimeout(GAP);
    const saves = await page.evaluate(() => window.__saves());
    times.push({ painted, save: saves.ms, puts: saves.puts });
  }
  return times;
});
BINS.forEach((bin, b) => {
  const fields = [
    ["painted", "painted"],
    ["save", "save"],
    ["puts", "puts", ""],
  ];
  console.log(
    JSON.stringify(summary({ bin, cards: CARDS, reloads: reloads[b].length, gapMs: GAP }, reloads[b], fields)),
  );
});
