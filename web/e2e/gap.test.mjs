// A change that never reaches the page (the server dropped it for a slow socket) is noticed by
// the jump in `seq` and fetched again by resuming, in real Chromium against the real binary.
// The loss is made on the wire: Playwright sits between the page and the server on the
// Socket.IO WebSocket and swallows every frame of one change, so the page's own code is untouched.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Person, WarroomServer, eventually, requireTools } from "./harness.mjs";

/** A Socket.IO event frame from the server (`42["name", payload, { seq }]`), or null. */
function parseEvent(frame) {
  if (typeof frame !== "string") return null;
  const m = /^42(\[.*)$/s.exec(frame);
  if (!m) return null;
  const [name, payload, meta] = JSON.parse(m[1]);
  return { name, payload, seq: typeof meta?.seq === "number" ? meta.seq : undefined };
}

/** Sits on every Socket.IO WebSocket of one browser; can drop all the frames of one change. */
class WireTap {
  constructor() {
    /** `auth.lastSeq` of each handshake the page sent, in order (the key is not kept). */
    this.handshakes = [];
    /** Every event frame that reached the page. */
    this.delivered = [];
    this.dropped = [];
    this.dropSeq = null;
    this.armed = false;
  }

  async install(context) {
    await context.routeWebSocket(/\/socket\.io\//, (page) => {
      const server = page.connectToServer();
      page.onMessage((frame) => {
        if (typeof frame === "string" && frame.startsWith("40")) {
          const auth = JSON.parse(frame.slice(2) || "{}");
          this.handshakes.push({ lastSeq: auth.lastSeq });
        }
        server.send(frame);
      });
      server.onMessage((frame) => {
        const event = parseEvent(frame);
        if (event && this.swallow(event)) {
          this.dropped.push(event);
          return;
        }
        if (event) this.delivered.push(event);
        page.send(frame);
      });
    });
  }

  /** The next change (every event with its seq) will not reach the page. */
  dropNextChange() {
    this.armed = true;
  }

  swallow(event) {
    if (!this.armed || event.seq === undefined) return false;
    if (this.dropSeq === null) this.dropSeq = event.seq;
    if (event.seq === this.dropSeq) return true;
    // The change after it passes, and so does the replay on the next connection.
    this.armed = false;
    return false;
  }
}

describe("missed events", () => {
  test("a change lost on the wire is noticed by its seq and fetched again by resuming with lastSeq", async (t) => {
    requireTools();
    const server = new WarroomServer();
    const adam = new Person("Adam");
    t.after(async () => {
      await adam.close();
      if (t.passed === false) console.log(`--- server log (${server.logPath}) ---\n${server.log()}`);
      await server.dispose();
    });
    await server.start();
    await adam.launch();
    const tap = new WireTap();
    await tap.install(adam.context);
    await adam.signIn(server);
    assert.deepEqual(tap.handshakes, [{ lastSeq: undefined }], "a fresh page asks for the whole board");

    assert.equal((await server.api("POST", "/tasks", { title: "Before the gap" })).status, 201);
    await adam.card("Before the gap").waitFor();

    tap.dropNextChange();
    assert.equal((await server.api("POST", "/tasks", { title: "Missed on the wire" })).status, 201);
    await eventually("the frames of that change to be dropped", () =>
      tap.dropped.some((e) => e.payload?.title === "Missed on the wire"),
    );
    assert.equal(await adam.card("Missed on the wire").count(), 0, "the page never got it");

    // The next change passes: the page sees its seq jump, and resumes.
    assert.equal((await server.api("POST", "/tasks", { title: "After the gap" })).status, 201);
    await eventually("the page to reconnect", () => tap.handshakes.length >= 2);
    assert.deepEqual(
      tap.handshakes[1],
      { lastSeq: tap.dropSeq - 1 },
      "the resume starts after the last change applied without a hole",
    );
    await adam.card("Missed on the wire").waitFor();
    await adam.card("After the gap").waitFor();
    await adam.waitFor("live");
    assert.ok(
      tap.delivered.some((e) => e.name === "sync:resumed"),
      "the server replayed what was missed rather than sending the whole board",
    );
    assert.equal(tap.handshakes.length, 2, "one reconnect, no loop");
    const todo = await adam.column("TODO").innerText();
    assert.ok(
      todo.indexOf("Before the gap") < todo.indexOf("Missed on the wire") &&
        todo.indexOf("Missed on the wire") < todo.indexOf("After the gap"),
      "the three cards in the order they were created",
    );
    await adam.screenshot("20-resumed-after-a-missed-change");
    assert.deepEqual(adam.errors, [], "Adam's page threw");
  });
});
