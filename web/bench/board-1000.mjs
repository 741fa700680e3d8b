// The dashboard at 1,000 cards (or CARDS=n), timed in headless Chromium against the real server:
// first load, reload from IndexedDB, a keyboard move, a remote change, a drag across columns,
// and (issue 16) a label filter, a text filter, and opening a card with 50 comments. Every 10th
// card has 5 labels and a due date; the first 10 cards have 50 comments each.
// Usage: node bench/board-1000.mjs [runs]   (after npm run build and cargo build; see
// docs/performance.md, "Dashboard at 1,000 cards"). Prints medians, one JSON line per figure.
// PROFILE=dir writes a CPU profile of each step of the first run there (reload.cpuprofile, ...),
// for DevTools or a sum of self time per function; build with `--minify false` for their names.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Person, WarroomServer, eventually, requireTools, signedIn } from "../e2e/harness.mjs";
import { ARRIVAL_TIMEOUT_MS, arrival, boardWatch, instrumentSaves, paintedWith, watchArrival } from "./probes.mjs";

const STATUSES = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];
const CARDS = Number(process.env.CARDS ?? 1000);
const RUNS = Number(process.argv[2] ?? 5);
const PROFILE = process.env.PROFILE;

/** `step()`, under Chromium's sampling profiler when PROFILE is set and this is the first run. */
async function profiled(page, name, run, step) {
  if (!PROFILE || run !== 0) return step();
  mkdirSync(PROFILE, { recursive: true });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  try {
    return await step();
  } finally {
    const { profile } = await cdp.send("Profiler.stop");
    writeFileSync(join(PROFILE, `${name}.cpuprofile`), JSON.stringify(profile));
    await cdp.detach();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const round = (x) => Math.round(x * 10) / 10;

/** Installed in every page before its scripts: its long tasks. */
function instrument() {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
}

/**
 * In the page: presses Shift+→ on a card and resolves with how long until the card is in the
 * next column in the DOM, and until the frame after (painted).
 */
function keyboardMove(id) {
  return new Promise((resolve) => {
    const card = document.querySelector(`[data-task-id="${id}"]`);
    const from = card.closest("[data-status]").getAttribute("data-status");
    card.focus();
    const start = performance.now();
    const observer = new MutationObserver(() => {
      const now = document.querySelector(`[data-task-id="${id}"]`);
      if (!now || now.closest("[data-status]").getAttribute("data-status") === from) return;
      observer.disconnect();
      const dom = performance.now() - start;
      requestAnimationFrame(() => resolve({ dom, painted: performance.now() - start }));
    });
    observer.observe(document.querySelector("main"), { childList: true, subtree: true });
    card.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", shiftKey: true, bubbles: true }));
  });
}

/**
 * In the page: sets a filter control the way a person does (`select` by label id, or the text
 * box) and resolves with how long until the board shows `expected` cards, to the frame after:
 * the columns' counts add up to it and every column with cards shows its first ones (a long
 * column draws only the cards near its viewport).
 */
function applyFilter([kind, value, expected]) {
  return new Promise((resolve) => {
    const start = performance.now();
    const shown = () => {
      let total = 0;
      for (const column of document.querySelectorAll('[data-testid^="column-"][data-status]')) {
        const n = Number(column.querySelector('[data-testid^="count-"]')?.textContent ?? NaN);
        if (n > 0 && !column.querySelector('[data-testid="card"]')) return false;
        total += n;
      }
      return total === expected;
    };
    const observer = new MutationObserver(() => {
      if (!shown()) return;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - start));
    });
    observer.observe(document.querySelector("main"), { childList: true, subtree: true });
    if (kind === "label") {
      const select = document.querySelector('select[name="filter-label"]');
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      const input = document.querySelector('input[name="filter-text"]');
      // React tracks the value it set; the prototype's setter makes this a person's change.
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, value);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });
}

/**
 * In the page: clicks card `id`; resolves with how long until its card view is shown, and until
 * its `count` comments are (each to the frame after).
 */
function openCard([id, count]) {
  return new Promise((resolve) => {
    const start = performance.now();
    let view = null;
    const check = () => {
      if (view === null && document.querySelector("dialog.card-detail")) view = performance.now() - start;
      if (document.querySelectorAll('dialog.card-detail [data-testid="comment"]').length >= count) {
        requestAnimationFrame(() => resolve({ view, comments: performance.now() - start }));
      } else requestAnimationFrame(check);
    };
    document.querySelector(`[data-task-id="${id}"]`).click();
    check();
  });
}

async function longTasksSince(page, since) {
  return page.evaluate((t) => window.__longTasks.filter((e) => e.start >= t).map((e) => e.duration), since);
}

async function main() {
  requireTools();
  const server = new WarroomServer({ env: { RATE_LIMIT: "0" } });
  const adam = new Person("Adam");
  try {
    await server.start();
    const labels = [];
    for (const [name, color] of [
      ["bug", "#d73a4a"],
      ["ui", "#0075ca"],
      ["ops", "#008672"],
      ["docs", "#fbca04"],
      ["p1", "#7057ff"],
    ]) {
      labels.push((await server.api("POST", "/boards/main/labels", { name, color })).body.id);
    }
    const seed = Array.from({ length: CARDS }, (_, i) => ({
      title: `Card ${i + 1}: ${["rotate keys", "fix flaky test", "write docs", "review PR"][i % 4]}`,
      status: STATUSES[i % STATUSES.length],
      assignee: i % 3 === 0 ? "Adam" : null,
      description: i % 4 === 0 ? "Some context for whoever picks this up." : "",
      ...(i % 10 === 0 ? { labels, dueAt: new Date(Date.now() + (i - CARDS / 2) * 3_600_000).toISOString() } : {}),
    }));
    const tasks = await server.createTasks(seed);
    const COMMENTED = 10;
    const COMMENTS = 50;
    const comments = tasks.slice(0, COMMENTED).flatMap((t) => Array.from({ length: COMMENTS }, (_, n) => [t.id, n]));
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let next = comments.shift(); next; next = comments.shift()) {
          const [id, n] = next;
          const res = await server.api("POST", `/tasks/${id}/comments`, {
            body: `Comment ${n + 1}: **looks** fine, @Adam`,
          });
          if (res.status !== 201) throw new Error(`comment on #${id}: ${res.status}`);
        }
      }),
    );
    const labelled = seed.filter((t) => t.labels).length;
    const textHits = seed.filter((t) => t.title.includes("write docs")).length;
    await adam.launch();
    const page = adam.page;
    await page.addInitScript(instrument);
    await page.addInitScript(instrumentSaves);
    await page.addInitScript(signedIn, [server.key, "Adam"]);
    await page.addInitScript({ content: boardWatch(CARDS) });

    const figures = {
      firstLoad: [],
      firstLoadPainted: [],
      reload: [],
      reloadLongest: [],
      keyDom: [],
      keyPainted: [],
      keySave: [],
      remote: [],
      filterLabel: [],
      filterText: [],
      openCardView: [],
      openCard: [],
      remoteServer: [],
    };
    const dragFigures = { fps: [], longest: [], longSum: [] };

    // First load: a fresh profile's IndexedDB is empty, so the board comes from sync:full. Once
    // per run, each in a browser profile of its own (a first visit happens once per profile).
    figures.firstLoad.push(
      await profiled(page, "first-load", 0, async () => {
        await page.goto(server.url);
        return page.evaluate(paintedWith(CARDS));
      }),
    );
    figures.firstLoadPainted.push((await page.evaluate(() => window.__board)).painted);
    for (let run = 1; run < RUNS; run++) {
      const newcomer = await new Person("Adam").launch();
      try {
        await newcomer.page.addInitScript(signedIn, [server.key, "Adam"]);
        await newcomer.page.addInitScript({ content: boardWatch(CARDS) });
        await newcomer.page.goto(server.url);
        figures.firstLoad.push(await newcomer.page.evaluate(paintedWith(CARDS)));
        figures.firstLoadPainted.push((await newcomer.page.evaluate(() => window.__board)).painted);
      } finally {
        await newcomer.close();
      }
    }
    await adam.waitFor("live");
    // Let the board be saved before the reloads read it back.
    await eventually("the board to be saved", () =>
      page.evaluate(
        () =>
          new Promise((resolve) => {
            const req = indexedDB.open("warroom");
            req.onsuccess = () => {
              // The main board's copy: its tasks inside its entry (until 4 December 2026), or in
              // `tasks` under `["main", id]`.
              const database = req.result;
              const stores = Array.from(database.objectStoreNames);
              const tx = database.transaction(stores);
              const get = tx.objectStore("kv").get("board:main");
              const count = stores.includes("tasks")
                ? tx.objectStore("tasks").count(IDBKeyRange.bound(["main"], ["main", []]))
                : null;
              tx.oncomplete = () => resolve(Math.max(get.result?.tasks?.length ?? 0, count?.result ?? 0) >= 1);
              tx.onerror = () => resolve(false);
            };
            req.onerror = () => resolve(false);
          }),
      ),
    );

    for (let run = 0; run < RUNS; run++) {
      figures.reload.push(
        await profiled(page, "reload", run, async () => {
          await page.reload();
          return page.evaluate(paintedWith(CARDS));
        }),
      );
      const long = await longTasksSince(page, 0);
      figures.reloadLongest.push(long.length ? Math.max(...long) : 0);
      await adam.waitFor("live");

      // A keyboard move of a card in the first column (there is always one: moves go right).
      const id = Number(
        await page.locator('[data-testid="column-TODO"] [data-testid="card"]').nth(run).getAttribute("data-task-id"),
      );
      // Past the saves of the reload (the hydration, the sync), so only the move's are counted.
      await page.waitForTimeout(500);
      const savedBefore = await page.evaluate(() => window.__saves().ms);
      const key = await profiled(page, "key", run, () => page.evaluate(keyboardMove, id));
      figures.keyDom.push(key.dom);
      figures.keyPainted.push(key.painted);
      await eventually("the keyboard move to be confirmed", () =>
        page.evaluate(() => document.querySelectorAll(".card.is-pending").length === 0),
      );
      // The saves of the move and of its confirmation: the autosave writes 150 ms after a change.
      await page.waitForTimeout(500);
      figures.keySave.push((await page.evaluate(() => window.__saves().ms)) - savedBefore);

      // A remote change: someone else moves a card over REST to the top of the next column (in
      // view, so the card itself is painted there); until it is painted here.
      const remote = tasks[tasks.length - 1 - run * 5];
      const current = (await server.api("GET", `/tasks/${remote.id}`)).body;
      const to = STATUSES[(STATUSES.indexOf(current.status) + 1) % STATUSES.length];
      await page.evaluate(watchArrival, [remote.id, to, ARRIVAL_TIMEOUT_MS]);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
      await profiled(page, "remote", run, async () => {
        const sent = Date.now();
        await server.api("PUT", `/tasks/${remote.id}`, { status: to, position: 0 });
        // The server's share: until its answer, which it sends once the change is committed and out.
        figures.remoteServer.push(Date.now() - sent);
        figures.remote.push((await page.evaluate(arrival)) - sent);
      });

      // A drag across three columns: frames and long tasks from pickup to drop.
      const card = page.locator('[data-testid="column-TODO"] [data-testid="card"]').first();
      const box = await card.boundingBox();
      const target = await page.locator('[data-testid="column-REVIEW"] [data-testid="card"]').nth(1).boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const t0 = await page.evaluate(() => {
        window.__frames = 0;
        const tick = () => {
          window.__frames++;
          window.__frameLoop = requestAnimationFrame(tick);
        };
        window.__frameLoop = requestAnimationFrame(tick);
        return performance.now();
      });
      await profiled(page, "drag", run, async () => {
        await page.mouse.down();
        await page.mouse.move(box.x + box.width / 2 + 12, box.y + box.height / 2 + 6, { steps: 4 });
        await page.mouse.move(target.x + target.width / 2, target.y + target.height / 3, { steps: 60 });
        await page.mouse.up();
      });
      const droppedAt = Date.now();
      const drag = await page.evaluate((start) => {
        cancelAnimationFrame(window.__frameLoop);
        const elapsed = performance.now() - start;
        const long = window.__longTasks.filter((e) => e.start >= start).map((e) => e.duration);
        return { fps: (window.__frames / elapsed) * 1000, long };
      }, t0);
      dragFigures.fps.push(drag.fps);
      dragFigures.longest.push(drag.long.length ? Math.max(...drag.long) : 0);
      dragFigures.longSum.push(drag.long.reduce((a, b) => a + b, 0));
      await eventually("the drag to be confirmed", () =>
        page.evaluate(() => document.querySelectorAll(".card.is-pending").length === 0),
      );

      // Filters: one label (every 10th card has it), then back; then words of a title, then back.
      figures.filterLabel.push(
        await profiled(page, "filter-label", run, () =>
          page.evaluate(applyFilter, ["label", String(labels[0]), labelled]),
        ),
      );
      await page.evaluate(applyFilter, ["label", "", CARDS]);
      figures.filterText.push(
        await profiled(page, "filter-text", run, () => page.evaluate(applyFilter, ["text", "write docs", textHits])),
      );
      await page.evaluate(applyFilter, ["text", "", CARDS]);

      // A card with 50 comments: click → its thread shown (fetched over REST, rendered as Markdown).
      // A click within 300 ms of a drop is taken for the drop's own and ignored (Card.tsx); once the
      // drag and the filters got fast, this click could land inside that and wait forever.
      await page.waitForTimeout(Math.max(0, 350 - (Date.now() - droppedAt)));
      const commented = tasks[run % COMMENTED].id;
      const opened = await page.evaluate(openCard, [commented, COMMENTS]);
      figures.openCardView.push(opened.view);
      figures.openCard.push(opened.comments);
      await page.keyboard.press("Escape");
      await page.locator("dialog.card-detail").waitFor({ state: "detached" });
    }

    const out = { cards: CARDS, runs: RUNS, pageErrors: adam.errors.length };
    for (const [name, xs] of Object.entries(figures)) out[`${name}Ms`] = round(median(xs));
    out.dragFps = round(median(dragFigures.fps));
    out.dragLongestTaskMs = round(median(dragFigures.longest));
    out.dragLongTaskTotalMs = round(median(dragFigures.longSum));
    console.log(JSON.stringify(out));
    for (const error of adam.errors) console.error(`page error: ${error.slice(0, 300)}`);
  } finally {
    await adam.close();
    await server.dispose();
  }
}

await main();
