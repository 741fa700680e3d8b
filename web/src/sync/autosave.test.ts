import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { applySyncFull, initialState } from "../state/reducer";
import { createStore, type Store } from "../state/store";
import { task } from "../testing/fixtures";

vi.mock("../state/persist", () => ({ saveBoard: vi.fn(async () => true) }));
const { saveBoard } = await import("../state/persist");
const { Autosave, needsSave } = await import("./autosave");

describe("keeping the saved copy", () => {
  let store: Store;
  let forgotten: boolean;
  let autosave: InstanceType<typeof Autosave>;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal("window", new EventTarget());
    vi.mocked(saveBoard).mockClear();
    store = createStore(applySyncFull(initialState("Adam"), { tasks: [task(1)], agents: [], users: [], seq: 1 }, "t"));
    forgotten = false;
    autosave = new Autosave(store, () => forgotten);
    autosave.start();
  });

  afterEach(() => {
    autosave.stop();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("saves only what the copy holds", () => {
    const before = store.getState();
    expect(needsSave(before, { ...before, typing: ["Nick"] })).toBe(false);
    expect(needsSave(before, { ...before, tasks: {} })).toBe(true);
    expect(needsSave(before, { ...before, pending: [] })).toBe(true);
  });

  it("writes a burst of changes once, shortly after", () => {
    store.dispatch({ type: "taskCreated", task: task(2), seq: 2 });
    store.dispatch({ type: "taskCreated", task: task(3), seq: 3 });
    expect(saveBoard).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(saveBoard).toHaveBeenCalledTimes(1);
    expect(vi.mocked(saveBoard).mock.calls[0][0].tasks.map((t) => t.id)).toEqual([1, 2, 3]);
  });

  it("hands each save the tasks the one before wrote, and none after a save that failed", async () => {
    store.dispatch({ type: "taskCreated", task: task(2), seq: 2 });
    vi.advanceTimersByTime(200);
    const first = vi.mocked(saveBoard).mock.calls[0];
    expect(first[1]).toBeUndefined();
    vi.mocked(saveBoard).mockResolvedValueOnce(false);
    store.dispatch({ type: "taskCreated", task: task(3), seq: 3 });
    vi.advanceTimersByTime(200);
    expect(vi.mocked(saveBoard).mock.calls[1][1]).toBe(first[0].tasks);
    await vi.runAllTimersAsync();
    store.dispatch({ type: "taskCreated", task: task(4), seq: 4 });
    vi.advanceTimersByTime(200);
    expect(vi.mocked(saveBoard).mock.calls[2][1]).toBeUndefined();
  });

  it("after the copy was read back, hands the first save what the copy holds, not nothing", () => {
    const copy = [task(1), task(5)];
    autosave.restored(copy);
    store.dispatch({ type: "taskCreated", task: task(2), seq: 2 });
    vi.advanceTimersByTime(200);
    expect(vi.mocked(saveBoard).mock.calls[0][1]).toBe(copy);
    // Once a save has written, its tasks are what the next one starts from.
    autosave.restored([task(9)]);
    store.dispatch({ type: "taskCreated", task: task(3), seq: 3 });
    vi.advanceTimersByTime(200);
    expect(vi.mocked(saveBoard).mock.calls[1][1]).toBe(vi.mocked(saveBoard).mock.calls[0][0].tasks);
  });

  it("writes a waiting save when the page is hidden or the engine stops, and never on an idle page", () => {
    window.dispatchEvent(new Event("pagehide"));
    autosave.stop();
    expect(saveBoard).not.toHaveBeenCalled();
    autosave.start();
    store.dispatch({ type: "taskCreated", task: task(2), seq: 2 });
    window.dispatchEvent(new Event("pagehide"));
    expect(saveBoard).toHaveBeenCalledTimes(1);
    store.dispatch({ type: "taskCreated", task: task(3), seq: 3 });
    autosave.stop();
    expect(saveBoard).toHaveBeenCalledTimes(2);
  });

  it("saves nothing more of a board deleted on the server", () => {
    forgotten = true;
    store.dispatch({ type: "taskCreated", task: task(2), seq: 2 });
    vi.advanceTimersByTime(200);
    expect(saveBoard).not.toHaveBeenCalled();
  });
});
