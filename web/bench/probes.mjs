// What the dashboard benches measure inside the page (each is passed to page.evaluate).

/**
 * In the page: whether the board is usable: the column counts add up to `count` and every column
 * that has cards shows its first ones. (A column draws only the cards near its viewport, so
 * "every card in the DOM" is no longer what a person waits for.)
 */
function usableBoard(count) {
  const columns = Array.from(document.querySelectorAll('[data-testid^="column-"][data-status]'));
  if (columns.length === 0) return false;
  let total = 0;
  for (const column of columns) {
    const n = Number(column.querySelector('[data-testid^="count-"]')?.textContent ?? NaN);
    if (n > 0 && !column.querySelector('[data-testid="card"]')) return false;
    total += n;
  }
  return total >= count;
}

/** In the page: resolves with performance.now() at the frame after the board is usable. */
function frameAfterUsable(usable, count) {
  return new Promise((resolve) => {
    const check = () => {
      if (usable(count)) requestAnimationFrame(() => resolve(performance.now()));
      else requestAnimationFrame(check);
    };
    check();
  });
}

/**
 * In the page, before its scripts: watches every frame from the first for the usable board, and
 * sets `window.__board`, which resolves with (performance.now() ms):
 *   frame    the frame that first has the usable board in the DOM starts (its rAF callbacks);
 *   painted  that frame's rendering is done (a message posted from its rAF runs after its paint);
 *   next     the frame after starts, what `paintedWith` reports when the page is idle by then. On
 *            a first visit it is not: the socket's handshake and board come in between.
 * Watching from before the page's scripts, unlike `paintedWith` once `goto` has returned, does
 * not wait for the load event and a round trip to the page to start looking.
 */
function watchFromStart(usable, count) {
  window.__board = new Promise((resolve) => {
    const check = () => {
      if (!usable(count)) return requestAnimationFrame(check);
      const frame = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const painted = performance.now();
        requestAnimationFrame(() => resolve({ frame, painted, next: performance.now() }));
      };
      channel.port2.postMessage(null);
    };
    requestAnimationFrame(check);
  });
}

/** For `page.evaluate`: the time of the frame after the board of `count` cards is usable. */
export function paintedWith(count) {
  return `(${frameAfterUsable})(${usableBoard}, ${count})`;
}

/** For `page.addInitScript({ content })`: sets `window.__board` (`watchFromStart`) on each load. */
export function boardWatch(count) {
  return `(${watchFromStart})(${usableBoard}, ${count})`;
}

/**
 * In the page, before its scripts: the main thread's time in saves to IndexedDB, from opening a
 * readwrite transaction to the end of its last write request in the same task (the structured
 * clones, and what the page computes between them), plus, for a save that writes in several turns
 * (`persist.ts`), each later turn from its first write request to its last; and the records they
 * put: `window.__saves()` → `{ ms, puts }`.
 */
export function instrumentSaves() {
  let done = 0;
  let puts = 0;
  // The span of saving in the current task, closed at its microtask checkpoint.
  let span = null;
  const touch = (start) => {
    if (!span) {
      span = { start, end: start };
      queueMicrotask(() => {
        done += span.end - span.start;
        span = null;
      });
    }
    span.end = performance.now();
  };
  window.__saves = () => ({ ms: done + (span ? span.end - span.start : 0), puts });
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode, ...rest) {
    if (mode === "readwrite") touch(performance.now());
    return transaction.call(this, stores, mode, ...rest);
  };
  for (const name of ["put", "delete", "clear"]) {
    const write = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (...args) {
      if (name === "put") puts++;
      const start = performance.now();
      try {
        return write.apply(this, args);
      } finally {
        touch(start);
      }
    };
  }
}

/**
 * In the page: starts watching for task `id` to show up in column `status`; `arrival` then gives
 * Date.now() at the frame after. Awaited before the change is sent: a watch still on its way to
 * the page would miss a change that arrives first, and wait for ever (it did, now and then).
 */
export function watchArrival([id, status, timeoutMs]) {
  window.__arrival = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`task ${id} never showed in ${status}`)), timeoutMs);
    const observer = new MutationObserver(() => {
      const card = document.querySelector(`[data-testid="column-${status}"] [data-task-id="${id}"]`);
      if (!card) return;
      observer.disconnect();
      clearTimeout(timer);
      requestAnimationFrame(() => resolve(Date.now()));
    });
    observer.observe(document.querySelector("main"), { childList: true, subtree: true });
  });
}

/** In the page: what `watchArrival` started (pass to `page.evaluate`). */
export function arrival() {
  return window.__arrival;
}

/** How long `watchArrival` waits before it fails the bench. */
export const ARRIVAL_TIMEOUT_MS = 10_000;
