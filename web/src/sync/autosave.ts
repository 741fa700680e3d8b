//! Keeps the board's saved copy (IndexedDB, `state/persist`) in step with the store: a change
//! schedules one save shortly after, so a burst of events writes once, and a save writes only the
//! tasks changed since the one before.

import type { Task } from "../protocol";
import { saveBoard } from "../state/persist";
import { toCache, type BoardState } from "../state/reducer";
import type { Store } from "../state/store";

const SAVE_DELAY_MS = 150;

/** Whether the change from `before` to `now` touched what the saved copy holds. */
export function needsSave(before: BoardState, now: BoardState): boolean {
  return (
    now.tasks !== before.tasks ||
    now.pending !== before.pending ||
    now.agents !== before.agents ||
    now.activity !== before.activity ||
    now.labels !== before.labels
  );
}

export class Autosave {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The tasks the last save wrote, to write only those changed since; none yet: write them all. */
  private saved: readonly Task[] | undefined = undefined;

  /** `forgotten`: the board was deleted on the server; its copy is gone and must not be saved again. */
  constructor(
    private readonly store: Store,
    private readonly forgotten: () => boolean,
  ) {}

  start(): void {
    let last = this.store.getState();
    const unsubscribe = this.store.subscribe(() => {
      const before = last;
      last = this.store.getState();
      if (needsSave(before, last)) this.schedule();
    });
    // A page being closed does not wait for the timer.
    const flush = () => this.flush();
    window.addEventListener("pagehide", flush);
    this.unsubscribe = () => {
      unsubscribe();
      window.removeEventListener("pagehide", flush);
    };
  }

  /**
   * The copy was read back and the store now shows it (`hydrate`): the next save writes only what
   * changes from it. Without this, the first save after a reload (for an activity entry, an
   * agent's report) rewrote every task of the board: 5,000 structured clones at 5,000 cards.
   */
  restored(tasks: readonly Task[]): void {
    this.saved ??= tasks;
  }

  /** Writes a save that is waiting, then stops watching. */
  stop(): void {
    this.flush();
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Writes a save that is waiting, and only then: an idle page never overwrites the copy. */
  flush(): void {
    if (this.timer) this.saveNow();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.saveNow(), SAVE_DELAY_MS);
  }

  private saveNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.forgotten()) return;
    const copy = toCache(this.store.getState());
    const since = this.saved;
    this.saved = copy.tasks;
    // A save that failed left the stored tasks unknown: the next one rewrites them all.
    void saveBoard(copy, since).then((ok) => {
      if (!ok) this.saved = undefined;
    });
  }
}
