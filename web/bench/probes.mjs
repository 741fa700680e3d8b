// What the dashboard benches measure inside the page (each is passed to page.evaluate).

/**
 * In the page: resolves with performance.now() at the first frame of a usable board: the column
 * counts add up to `count` and every column that has cards shows its first ones. (A column draws
 * only the cards near its viewport, so "every card in the DOM" is no longer what a person waits for.)
 */
export function paintedWith(count) {
  return new Promise((resolve) => {
    const ready = () => {
      const columns = Array.from(document.querySelectorAll('[data-testid^="column-"][data-status]'));
      if (columns.length === 0) return false;
      let total = 0;
      for (const column of columns) {
        const n = Number(column.querySelector('[data-testid^="count-"]')?.textContent ?? NaN);
        if (n > 0 && !column.querySelector('[data-testid="card"]')) return false;
        total += n;
      }
      return total >= count;
    };
    const check = () => {
      if (ready()) requestAnimationFrame(() => resolve(performance.now()));
      else requestAnimationFrame(check);
    };
    check();
  });
}

/** In the page, before its scripts: signed in as a returning person would be, with no board saved. */
export function signedIn([key, name]) {
  localStorage.setItem("warroom.apiKey", key);
  localStorage.setItem("warroom.name", name);
}

/**
 * In the page, before its scripts: the main thread's time in saves to IndexedDB, from opening a
 * readwrite transaction to the end of its last write request in the same task (the structured
 * clones, and what the page computes between them), and the records they put:
 * `window.__saves()` → `{ ms, puts }`.
 */
export function instrumentSaves() {
  let done = 0;
  let open = null;
  let puts = 0;
  window.__saves = () => ({ ms: done + (open ? open.end - open.start : 0), puts });
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode, ...rest) {
    if (mode === "readwrite") {
      if (open) done += open.end - open.start;
      const now = performance.now();
      open = { start: now, end: now };
    }
    return transaction.call(this, stores, mode, ...rest);
  };
  for (const name of ["put", "delete", "clear"]) {
    const write = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (...args) {
      if (name === "put") puts++;
      try {
        return write.apply(this, args);
      } finally {
        if (open) open.end = performance.now();
      }
    };
  }
}
