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

import { resolve } from "node:path";
import { Person, SERVER_BIN, eventually, requireTools } from "../e2e/harness.mjs";
import { quantile, startBuilds } from "./builds.mjs";
import { paintedWith, signedIn } from "./probes.mjs";

const CARDS = Number(process.env.CARDS ?? 5000);
const MOVES = Number(process.env.MOVES ?? 20);
const ROUNDS = Number(process.argv[2] ?? 2);
const BINS = process.argv.length > 3 ? process.argv.slice(3).map((bin) => resolve(bin)) : [SERVER_BIN];

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

async function main() {
  requireTools({ bins: BINS });
  const servers = [];
  try {
    await startBuilds(BINS, CARDS, servers);
    const moves = BINS.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let b = 0; b < BINS.length; b++) {
        const person = await new Person("Adam").launch();
        try {
          const page = person.page;
          await page.addInitScript(signedIn, [servers[b].key, "Adam"]);
          await page.goto(servers[b].url);
          await page.evaluate(paintedWith, CARDS);
          await person.waitFor("live");
          for (let m = 0; m < MOVES; m++) {
            const id = Number(
              await page
                .locator('[data-testid="column-TODO"] [data-testid="card"]')
                .nth(m % 3)
                .getAttribute("data-task-id"),
            );
            // Past the last move's saves (the autosave writes 150 ms after a change).
            await page.waitForTimeout(400);
            moves[b].push(await page.evaluate(keyboardMove, id));
            await eventually("the move to be confirmed", () =>
              page.evaluate(() => document.querySelectorAll(".card.is-pending").length === 0),
            );
          }
          if (person.errors.length) throw new Error(`page errors: ${person.errors.join("; ")}`);
        } finally {
          await person.close();
        }
      }
    }
    for (let b = 0; b < BINS.length; b++) {
      const out = { bin: BINS[b], cards: CARDS, moves: moves[b].length };
      for (const key of ["task", "dom", "painted"]) {
        const xs = moves[b].map((move) => move[key]);
        out[`${key}Ms`] = quantile(xs, 0.5, 1);
        out[`${key}P90Ms`] = quantile(xs, 0.9, 1);
      }
      console.log(JSON.stringify(out));
    }
  } finally {
    for (const server of servers) await server.dispose();
  }
}

await main();
