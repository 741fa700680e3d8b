import { afterEach, describe, expect, it, vi } from "vitest";

vi.stubGlobal("window", { location: { origin: "http://board.test" } });
const { EventStream, StreamParser } = await import("./events");

afterEach(() => vi.unstubAllGlobals());

describe("StreamParser", () => {
  it("frames events across chunk boundaries, with ids, names, multi-line data and comments", () => {
    const parser = new StreamParser();
    expect(parser.push(": keep-alive\n\nid: 4")).toEqual([]);
    expect(parser.push('2\nevent: task:7:updated\ndata: {"id":7,\ndata: "status":"DONE"}\n')).toEqual([]);
    expect(parser.push("\n")).toEqual([{ id: "42", event: "task:7:updated", data: '{"id":7,\n"status":"DONE"}' }]);
  });

  it("accepts CRLF and CR line ends, even a CRLF split between chunks, and keeps the last id", () => {
    const parser = new StreamParser();
    const out = [...parser.push("id: 5\r\nevent: activity\r\ndata: 1\r"), ...parser.push("\n\r\ndata:2\r\r\n")];
    expect(out).toEqual([
      { id: "5", event: "activity", data: "1" },
      { id: "5", event: "message", data: "2" },
    ]);
  });
});

/** A fetch whose answers are event-stream bodies made of `chunks`, one answer per call. */
function streamingFetch(...answers: string[][]) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, headers: init.headers as Record<string, string> });
      const chunks = answers.shift() ?? [];
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      });
      return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
    }),
  );
  return calls;
}

describe("EventStream", () => {
  it("sends the key and Last-Event-ID as headers and hands events on as the socket does", async () => {
    const calls = streamingFetch([
      'id: 8\nevent: task:3:updated\ndata: {"status":"DONE"}\n\n',
      'id: 8\nevent: activity\ndata: {"id":1,"type":"task.moved"}\n\n',
    ]);
    const seen: unknown[][] = [];
    let opened = 0;
    const stream = new EventStream({ apiKey: "k", name: "Zoë" }, "web", {
      lastSeq: () => 7,
      onOpen: () => (opened += 1),
      onDrop: () => {},
    });
    stream.on("activity", (entry, meta) => seen.push(["activity", entry, meta]));
    stream.onAny((name, ...args) => seen.push([name, ...args]));
    stream.open();
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    stream.close();
    expect(opened).toBe(1);
    expect(calls[0].url).toBe("http://board.test/api/events?board=web&batchShifts=true");
    expect(calls[0].headers["X-API-Key"]).toBe("k");
    expect(calls[0].headers["Last-Event-ID"]).toBe("7");
    expect(seen).toEqual([
      ["task:3:updated", { status: "DONE" }, { seq: 8 }],
      ["activity", { id: 1, type: "task.moved" }, { seq: 8 }],
      ["activity", { id: 1, type: "task.moved" }, { seq: 8 }],
    ]);
  });

  it("comes back after the stream ends, asking from the seq reached by then", async () => {
    const calls = streamingFetch(['id: 3\nevent: sync:full\ndata: {"seq":3,"tasks":[]}\n\n'], []);
    let seq: number | undefined;
    const full: unknown[] = [];
    const drops: number[] = [];
    const stream = new EventStream({ apiKey: "k", name: "A" }, "main", {
      lastSeq: () => seq,
      onOpen: () => {},
      onDrop: (status) => drops.push(status),
    });
    stream.on("sync:full", (payload) => {
      full.push(payload);
      seq = payload.seq;
    });
    stream.open();
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 3000 });
    stream.close();
    expect(full).toEqual([{ seq: 3, tasks: [] }]);
    expect(calls[0].headers["Last-Event-ID"]).toBeUndefined();
    expect(calls[1].headers["Last-Event-ID"]).toBe("3");
    expect(drops[0]).toBe(0);
  });
});
