// Keyboard moves on a board of CARDS cards (default 5,000), timed in headless Chromium: Shift+→
// on a card near the top of To do, MOVES times per round, each once the last one is confirmed.
// With several builds, one seeded server each, their rounds taking turns, so a machine that slows
// down meanwhile weighs on every build alike.
// Usage: node bench/key-moves.mjs [rounds] [binary ...]   (default: 2 rounds of WARROOM_BIN's build)
// Prints, per build, the median and the 90th percentile over every move, one JSON line each:
//   taskMs      the move's main-thread task: from the key press until the task that handles it
//               (the optimistic render and its commit included) has ended; the vsync plays no part
//   domMs       until the card is in the next column in the DOM
//   paintedMs   until the frame after (board-1000.mjs's keyPaintedMs)
// and `byRound`, each round's median paintedMs.

import { eventually } from "../e2e/harness.mjs";
import { buildsToCompare, paintedByRound, summary, takingTurns } from "./builds.mjs";
import { paintedWith } from "./probes.mjs";

const CARDS = Number(process.env.CARDS ?? 5000);
const MOVES = Number(process.env.MOVES ?? 20);
const ROUNDS = Number(process.argv[2] ?? 2);
const BINS = buildsToCompare();

/** In the page: presses Shift+→ on card `id` and resolves with the three times of that move. */
function keyboardMove(id) {
  return new Promise((resolve) => {
    const card = document.querySelector(`[data-task-id="${id}"]`);
    const from = card.closest("[data-status]").getAttribute("data-status");
    card.focus();
    const times = { task: NaN, dom: NaN, painted: NaN };
    const start = performance.now();
    const finish = () => {
      if (!Number.isNaN(times.task) && !Number.isNaN(times.painted)) resolve(times);
    };
    // Posted before the key press, so it runs in the first task after the one that handles it.
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      times.task = performance.now() - start;
      finish();
    };
    channel.port2.postMessage(null);
    const observer = new MutationObserver(() => {
      const now = document.querySelector(`[data-task-id="${id}"]`);
      if (!now || now.closest("[data-status]").getAttribute("data-status") === from) return;
      observer.disconnect();
      times.dom = performance.now() - start;
      requestAnimationFrame(() => {
        times.painted = performance.now() - start;
        finish();
      });
    });
    observer.observe(document.querySelector("main"), { childList: true, subtree: true });
    card.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", shiftKey: true, bubbles: true }));
  });
}

const moves = await takingTurns({ bins: BINS, cards: CARDS, rounds: ROUNDS }, async (person, server) => {
  const page = person.page;
  await page.goto(server.url);
  await page.evaluate(paintedWith(CARDS));
  await person.waitFor("live");
  const times = [];
  for (let m = 0; m < MOVES; m++) {
    const id = Number(
      await page
        .locator('[data-testid="column-TODO"] [data-testid="card"]')
        .nth(m % 3)
        .getAttribute("data-task-id"),
    );
    // Past the last move's saves (the autosave writes 150 ms after a change).
    await page.waitForTimeout(400);
    times.push(await page.evaluate(keyboardMove, id));
    await eventually("the move to be confirmed", () =>
      page.evaluate(() => document.querySelectorAll(".card.is-pending").length === 0),
    );
  }
  return times;
});
BINS.forEach((bin, b) => {
  const fields = [
    ["task", "task"],
    ["dom", "dom"],
    ["painted", "painted"],
  ];
  const byRound = paintedByRound(moves[b], MOVES);
  console.log(JSON.stringify(summary({ bin, cards: CARDS, moves: moves[b].length, byRound }, moves[b], fields, 1)));
});
