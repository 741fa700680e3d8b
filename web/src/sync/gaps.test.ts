import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { applySyncFull, initialState } from "../state/reducer";
import { createStore } from "../state/store";
import { task } from "../testing/fixtures";
import { GapRecovery, planResume, type Resumable } from "./gaps";

describe("planning a resume over a gap", () => {
  it("resumes at once from the last seq for a first gap", () => {
    expect(planResume(0, -Infinity, 50_000)).toEqual({ streak: 1, fullSync: false, waitMs: 0 });
  });

  it("asks for the whole board after a doubling wait when gaps recur, up to 30 s", () => {
    expect(planResume(1, 50_000, 51_000)).toEqual({ streak: 2, fullSync: true, waitMs: 1000 });
    expect(planResume(2, 50_000, 51_000)).toMatchObject({ streak: 3, waitMs: 2000 });
    expect(planResume(9, 50_000, 51_000)).toMatchObject({ streak: 10, waitMs: 30_000 });
  });

  it("takes a gap long after the previous one for a fresh one", () => {
    expect(planResume(5, 50_000, 61_000)).toEqual({ streak: 1, fullSync: false, waitMs: 0 });
  });
});

describe("recovering from a gap", () => {
  let target: Resumable & { drops: number; reopens: number };
  let stopped: boolean;
  let gaps: GapRecovery;
  const synced = { ...initialState("Adam"), synced: true, seq: 7 };

  beforeEach(() => {
    vi.useFakeTimers();
    stopped = false;
    target = {
      drops: 0,
      reopens: 0,
      drop() {
        this.drops += 1;
      },
      reopen() {
        this.reopens += 1;
      },
    };
    gaps = new GapRecovery(
      () => target,
      () => stopped,
    );
  });

  afterEach(() => {
    gaps.stop();
    vi.useRealTimers();
  });

  it("drops and reopens the connection once, outside the dispatch that found the gap", () => {
    gaps.resume();
    gaps.resume();
    expect(target.drops).toBe(0);
    vi.advanceTimersByTime(0);
    expect([target.drops, target.reopens]).toEqual([1, 1]);
    expect(gaps.lastSeq(synced)).toBe(7);
  });

  it("leaves lastSeq out after a recurring gap until the whole board arrives", () => {
    gaps.resume();
    vi.advanceTimersByTime(0);
    gaps.resume();
    vi.advanceTimersByTime(0);
    expect([target.drops, target.reopens]).toEqual([2, 1]);
    expect(gaps.lastSeq(synced)).toBeUndefined();
    vi.advanceTimersByTime(1000);
    expect(target.reopens).toBe(2);
    gaps.fullSyncArrived();
    expect(gaps.lastSeq(synced)).toBe(7);
    expect(gaps.lastSeq(initialState("Adam"))).toBeUndefined();
  });

  it("does nothing once stopped", () => {
    gaps.resume();
    gaps.stop();
    vi.advanceTimersByTime(10);
    stopped = true;
    gaps.resume();
    vi.advanceTimersByTime(10);
    expect(target.drops).toBe(0);
  });

  it("resumes when the reducer finds a gap in the store", () => {
    const store = createStore(applySyncFull(initialState("Adam"), { tasks: [], agents: [], users: [], seq: 7 }, "t"));
    const unwatch = gaps.watch(store);
    store.dispatch({ type: "taskCreated", task: task(3), seq: 8 });
    vi.advanceTimersByTime(0);
    expect(target.drops).toBe(0);
    store.dispatch({ type: "taskCreated", task: task(5), seq: 10 });
    vi.advanceTimersByTime(0);
    expect(target.drops).toBe(1);
    unwatch();
  });
});
