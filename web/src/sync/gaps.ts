//! Recovery from missed events. The reducer applies `checkSeq` to each event; when it reports a
//! gap (an event more than one seq past the last change applied), this page missed changes: the
//! server drops broadcasts to a socket whose queue is full, and an event whose publisher died
//! never comes. Reconnecting is the cure: the handshake sends `lastSeq` = the last seq applied
//! without a hole, and the server replays what came after it (`sync:resumed`) or sends the whole
//! board (`sync:full`). Rejected: asking for the missed events over REST (a second path to keep
//! in step with the socket's order).

import type { BoardState } from "../state/reducer";
import type { Store } from "../state/store";

/** A gap found this soon after the previous one means resuming did not cure it. */
const GAP_RECUR_MS = 10_000;
/** The first wait before reconnecting over a recurring gap; it doubles each time, up to the max. */
const GAP_RETRY_MS = 1000;
const GAP_RETRY_MAX_MS = 30_000;

/** The connection to resume: dropped, then opened again, asking from `lastSeq`. */
export interface Resumable {
  drop(): void;
  reopen(): void;
}

export interface ResumePlan {
  /** How many gaps in a row, each found soon after the previous, this one included. */
  streak: number;
  /** Ask for the whole board rather than a replay (resuming did not cure the last gap). */
  fullSync: boolean;
  /** How long to wait before opening the connection again. */
  waitMs: number;
}

/** How to resume over a gap found at `now`, given the streak so far and when its last gap was. */
export function planResume(streak: number, lastGapAt: number, now: number): ResumePlan {
  const next = now - lastGapAt < GAP_RECUR_MS ? streak + 1 : 1;
  const fullSync = next > 1;
  return { streak: next, fullSync, waitMs: fullSync ? Math.min(GAP_RETRY_MAX_MS, GAP_RETRY_MS * 2 ** (next - 2)) : 0 };
}

export class GapRecovery {
  /** Set while a resume is under way (one at a time). */
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastGapAt = -Infinity;
  private streak = 0;
  /** The next (re)connection leaves out `lastSeq`, so the server sends the whole board. */
  private wantFullSync = false;

  /** `target`: the connection to resume now, or null when there is none. */
  constructor(
    private readonly target: () => Resumable | null,
    private readonly stopped: () => boolean,
  ) {}

  /** What a (re)connection asks to resume from: the last seq applied, unless the whole board is wanted. */
  lastSeq(state: BoardState): number | undefined {
    return state.synced && !this.wantFullSync ? state.seq : undefined;
  }

  fullSyncArrived(): void {
    this.wantFullSync = false;
  }

  /** Resumes whenever the reducer finds a new gap; returns the unsubscribe. */
  watch(store: Store): () => void {
    let last = store.getState();
    return store.subscribe(() => {
      const before = last;
      last = store.getState();
      if (last.gap !== null && before.gap === null) this.resume();
    });
  }

  /**
   * One resume at a time: events that come meanwhile are not applied (the resume brings them
   * again) and do not start another. A gap found again soon after asks for the whole board
   * instead, after a wait that doubles, so a socket that keeps overflowing cannot spin.
   */
  resume(): void {
    if (this.stopped() || this.timer) return;
    const now = Date.now();
    const plan = planResume(this.streak, this.lastGapAt, now);
    this.streak = plan.streak;
    this.lastGapAt = now;
    // Not from inside the dispatch that found the gap: disconnecting dispatches too.
    this.timer = setTimeout(() => {
      const target = this.target();
      if (this.stopped() || !target) return;
      if (plan.fullSync) this.wantFullSync = true;
      target.drop();
      const reopen = () => {
        this.timer = null;
        target.reopen();
      };
      if (plan.waitMs > 0) this.timer = setTimeout(reopen, plan.waitMs);
      else reopen();
    }, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
