// The dashboard behind a proxy that refuses Socket.IO: the board's Server-Sent Events keep it
// live, writes go over REST signed by the person, and the missing presence is said, not hidden.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Person, SCREENSHOTS, WEB_DIR, WarroomServer, eventually, requireTools } from "./harness.mjs";

const DOCS = join(WEB_DIR, "..", "docs");

describe("live without Socket.IO", () => {
  before(() => requireTools());
  let server;
  let nick;
  let adam;
  before(async () => {
    server = new WarroomServer();
    nick = new Person("Nick");
    adam = new Person("Adam");
    await server.start();
    await server.api("POST", "/tasks", { title: "Made before Nick arrived" });
    await Promise.all([nick.launch(), adam.launch()]);
    // As a hostile proxy would: every /socket.io/ request and WebSocket of Nick's page refused.
    await nick.page.route("**/socket.io/**", (route) => route.abort());
    await nick.blockSocketIo();
    await nick.signIn(server, "stream");
    await adam.signIn(server);
  });
  after(async () => {
    await nick?.close();
    await adam?.close();
    await server?.dispose();
  });

  test("the badge says live without presence, and the people panel says why", async () => {
    await nick.card("Made before Nick arrived").waitFor();
    assert.equal(await nick.page.getByTestId("connection").innerText(), "Live · no presence");
    assert.match(await nick.page.getByTestId("people").innerText(), /Presence is unavailable/);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const shot = join(SCREENSHOTS, "fallback-badge.png");
    await nick.page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 1440, height: 420 } });
    copyFileSync(shot, join(DOCS, "fallback-badge.png"));
  });

  test("another client's REST changes show within a second", async () => {
    let started = Date.now();
    const made = await server.api("POST", "/tasks", { title: "From a script" });
    await nick.card("From a script").waitFor({ timeout: 1000 });
    const created = Date.now() - started;

    started = Date.now();
    await server.api("PATCH", `/tasks/${made.body.id}`, { status: "DONE" });
    await nick.column("DONE").locator('[data-testid="card"]', { hasText: "From a script" }).waitFor({ timeout: 1000 });
    const moved = Date.now() - started;
    console.log(`# over Server-Sent Events: a REST create shown after ${created} ms, a move after ${moved} ms`);
  });

  test("Nick's writes go over REST signed with his name, and reach Adam's socket at once", async () => {
    const todo = nick.column("TODO");
    await todo.getByRole("button", { name: "Add task" }).click();
    await todo.locator('input[name="title"]').fill("Sent over REST by Nick");
    await todo.locator('input[name="title"]').press("Enter");
    await eventually("Nick's card to be confirmed", async () => {
      const id = await nick.card("Sent over REST by Nick").getAttribute("data-task-id");
      return id && Number(id) > 0;
    });
    const made = (await server.api("GET", "/tasks")).body.find((x) => x.title === "Sent over REST by Nick");
    assert.equal(made.createdBy, "Nick", "signed by the person (X-Warroom-Name), not by api");
    await adam.card("Sent over REST by Nick").waitFor({ timeout: 1000 });
    const feed = (await server.api("GET", "/activity?limit=5")).body;
    assert.ok(
      feed.some((e) => e.type === "task.created" && e.user === "Nick"),
      "the feed names Nick",
    );
  });

  test("after the server restarts, the stream comes back and catches up", async () => {
    nick.expectNetworkErrors();
    adam.expectNetworkErrors();
    await server.stop();
    await server.start();
    await nick.waitFor("stream", 15_000);
    await server.api("POST", "/tasks", { title: "After the restart" });
    await nick.card("After the restart").waitFor({ timeout: 2000 });
  });
});
