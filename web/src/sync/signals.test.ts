import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { asSocket, FakeSocket } from "../testing/fakeSocket";
import { Signals, type SignalDeps } from "./signals";

describe("the ephemeral signals", () => {
  let socket: FakeSocket;
  let onRefused: ReturnType<typeof vi.fn<SignalDeps["onRefused"]>>;
  let signals: Signals;
  const sent = (event: string) => socket.sent.filter((s) => s.event === event);

  beforeEach(() => {
    socket = new FakeSocket();
    socket.connected = true;
    onRefused = vi.fn<SignalDeps["onRefused"]>();
    signals = new Signals({ socket: () => asSocket(socket), onRefused });
  });

  afterEach(() => signals.stop());

  it("announces typing once per burst, again every two seconds, and stops after a second of quiet", () => {
    vi.useFakeTimers();
    try {
      signals.typingInput();
      vi.advanceTimersByTime(900);
      signals.typingInput();
      expect(sent("typing:start")).toHaveLength(1);
      vi.advanceTimersByTime(900);
      signals.typingInput();
      vi.advanceTimersByTime(900);
      signals.typingInput();
      expect(sent("typing:start")).toHaveLength(2);
      vi.advanceTimersByTime(1100);
      expect(sent("typing:stop")).toHaveLength(1);
      signals.typingStop();
      expect(sent("typing:stop")).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("sends nothing while disconnected", async () => {
    socket.connected = false;
    signals.typingInput();
    signals.dragEnd(1);
    signals.viewTask(1);
    expect(await signals.dragStart(1)).toBe(true);
    expect(socket.sent).toEqual([]);
  });

  it("tells which card is open, once per change, and again after a reconnection", () => {
    signals.viewTask(3);
    signals.viewTask(3);
    signals.sendView();
    signals.viewTask(-5);
    signals.sendView();
    expect(sent("task:view").map((s) => s.payload)).toEqual([{ taskId: 3 }, { taskId: 3 }, { taskId: null }]);
  });

  it("gives up a drag the server says someone else holds, and explains any refusal", async () => {
    const locked = signals.dragStart(4);
    const [start] = sent("task:drag:start");
    expect(start.payload).toEqual({ taskId: 4 });
    const error = { code: "TASK_LOCKED", message: "Task 4 is being moved by Nick" };
    start.ack!({ ok: false, error });
    expect(await locked).toBe(false);
    expect(onRefused).toHaveBeenCalledWith(error);

    const forbidden = signals.dragStart(5);
    sent("task:drag:start")[1].ack!({ ok: false, error: { code: "FORBIDDEN", message: "viewer" } });
    expect(await forbidden).toBe(true);
    const unanswered = signals.dragStart(6);
    sent("task:drag:start")[2].timeOut!();
    expect(await unanswered).toBe(true);
    expect(onRefused).toHaveBeenCalledTimes(2);
    // A card not yet created has nothing to lock.
    expect(await signals.dragStart(-1)).toBe(true);
    expect(sent("task:drag:start")).toHaveLength(3);
  });
});
