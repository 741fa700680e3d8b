// The live war room in two real browsers, Adam's and Nick's, against the real warroom binary.
// Run with `npm run e2e` after `npm run build`; screenshots land in e2e/screenshots/.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { alone, eventually, pickUpAndHoldOver, requireTools, signedIn, warRoom } from "./harness.mjs";

/** A fresh server and two signed-in people for one test; everything is torn down after it. */
function assertNoPageErrors(...people) {
  for (const p of people) assert.deepEqual(p.errors, [], `${p.name}'s page threw`);
}

async function createTaskInTodo(person, title) {
  const page = person.page;
  const todo = person.column("TODO");
  if ((await todo.locator("form.composer").count()) === 0) await todo.getByRole("button", { name: "Add task" }).click();
  await todo.locator('input[name="title"]').fill(title);
  await todo.locator('input[name="title"]').press("Enter");
  await eventually(`${person.name}'s “${title}” to be confirmed`, async () => {
    const id = await person.card(title).getAttribute("data-task-id");
    return id && Number(id) > 0;
  });
  return page;
}

describe("the warroom dashboard", () => {
  before(() => requireTools());

  test("a wrong key gets a clear message, and ?key= is taken once then removed from the address", async (t) => {
    const { server, person: eve } = await alone(t, "Eve");
    await eve.launch();
    // The wrong key is refused with 401, which Chromium logs; that is this test's point.
    eve.expectConsole(/401 \(Unauthorized\)/);
    const page = eve.page;
    await page.goto(`${server.url}/?key=not-the-key`);
    await page.locator('input[name="name"]').waitFor();
    assert.equal(new URL(page.url()).search, "", "the key must not stay in the address bar");
    await page.locator('input[name="name"]').fill("Eve");
    await page.getByRole("button", { name: "Enter the war room" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /key was not accepted/i);
    await eve.screenshot("01-wrong-key");

    await page.locator('input[name="apiKey"]').fill(server.key);
    await page.getByRole("button", { name: "Enter the war room" }).click();
    await eve.waitFor("live");
    await page.reload();
    await eve.waitFor("live");
    assert.equal(await page.locator('input[name="apiKey"]').count(), 0, "key and name are remembered");
    assertNoPageErrors(eve);
  });

  test("Adam creates a task and Nick sees it; presence and typing show on both sides", async (t) => {
    const { adam, nick } = await warRoom(t);

    // Presence: each sees both names in the online panel.
    for (const person of [adam, nick]) {
      await eventually(`${person.name} to see both people online`, async () => {
        const text = await person.page.getByTestId("people").innerText();
        return text.includes("Adam") && text.includes("Nick");
      });
    }

    // Typing: Nick sees "Adam TYPING..." while Adam writes, and it goes away after he stops.
    const todo = adam.column("TODO");
    await todo.getByRole("button", { name: "Add task" }).click();
    await todo.locator('input[name="title"]').pressSequentially("Wire up the alerts", { delay: 30 });
    const typing = nick.page.getByTestId("typing");
    await typing.waitFor();
    assert.match(await typing.innerText(), /Adam TYPING\.\.\./);
    await nick.screenshot("02-nick-sees-adam-typing");

    await todo.locator('input[name="title"]').press("Enter");
    const card = nick.card("Wire up the alerts");
    await card.waitFor();
    assert.match(await card.innerText(), /#\d+/);
    await eventually(
      "the typing indicator to clear",
      async () => (await nick.page.getByTestId("typing").count()) === 0,
      5000,
    );
    assert.equal(await nick.page.getByTestId("count-TODO").innerText(), "1");

    // The activity feed streams it in for both.
    for (const person of [adam, nick]) {
      await eventually(`${person.name}'s activity feed`, async () =>
        /created/i.test(await person.page.getByTestId("activity").innerText()),
      );
    }

    // Edits and deletes reach the other side too.
    await createTaskInTodo(adam, "Order pizza");
    await nick.card("Order pizza").waitFor();
    await nick.card("Order pizza").click();
    await nick.page.locator('dialog input[name="assignee"]').fill("Adam");
    await nick.page.getByRole("button", { name: "Save" }).click();
    await eventually("Adam to see the new assignee", async () =>
      (await adam.card("Order pizza").innerText()).includes("Adam"),
    );
    await adam.screenshot("03-board-with-tasks");

    await adam.card("Order pizza").focus();
    await adam.page.keyboard.press("Delete");
    await adam.page.getByRole("button", { name: "Delete task" }).click();
    await eventually("the deleted card to vanish for Nick", async () => (await nick.card("Order pizza").count()) === 0);
    assertNoPageErrors(adam, nick);
  });

  test("dragging: Nick sees the card held and moved, cannot grab it, and DONE celebrates on both", async (t) => {
    const { adam, nick, server } = await warRoom(t);
    for (const title of ["Fix login bug", "Write release notes", "Rotate keys"]) {
      const res = await server.api("POST", "/tasks", { title });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    await nick.card("Rotate keys").waitFor();
    await adam.card("Rotate keys").waitFor();

    const drop = await pickUpAndHoldOver(adam, adam.card("Fix login bug"), adam.column("IN_PROGRESS"));
    const held = nick.page.locator('[data-testid="card"][data-locked-by="Adam"]');
    await held.waitFor();
    assert.match(await held.innerText(), /Adam is moving this/);
    const border = await held.evaluate((el) => getComputedStyle(el).borderTopStyle);
    assert.equal(border, "dashed");
    await adam.screenshot("04-adam-dragging");
    await nick.screenshot("05-nick-sees-drag-indicator");

    // Nick tries to grab the same card: nothing lifts on his side.
    const box = await held.boundingBox();
    await nick.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await nick.page.mouse.down();
    await nick.page.mouse.move(box.x + box.width / 2 + 80, box.y + 40, { steps: 8 });
    assert.equal(await nick.page.getByTestId("drag-overlay").count(), 0, "Nick must not be able to lift it");
    assert.equal(await held.evaluate((el) => el.getAttribute("aria-disabled")), "true");
    await nick.page.mouse.up();

    await drop();
    await eventually("Nick to see the card in In progress", async () =>
      (await nick.column("IN_PROGRESS").innerText()).includes("Fix login bug"),
    );
    await eventually("the drag indicator to clear", async () => (await held.count()) === 0);
    const task = (await server.api("GET", "/tasks")).body.find((x) => x.title === "Fix login bug");
    assert.equal(task.status, "IN_PROGRESS");

    // Reorder within a column: Rotate keys to the top of To do; the order persists.
    const dropAgain = await pickUpAndHoldOver(adam, adam.card("Rotate keys"), adam.card("Write release notes"));
    await dropAgain();
    await eventually("the new order on the server", async () => {
      const todo = (await server.api("GET", "/tasks?status=TODO")).body.sort((a, b) => a.position - b.position);
      return todo.map((x) => x.title).join(",") === "Rotate keys,Write release notes";
    });
    await eventually("Nick to see the new order", async () => {
      const text = await nick.column("TODO").innerText();
      return text.indexOf("Rotate keys") < text.indexOf("Write release notes");
    });

    // DONE: confetti and a toast on both screens.
    const dropDone = await pickUpAndHoldOver(adam, adam.card("Fix login bug"), adam.column("DONE"));
    await dropDone();
    for (const person of [adam, nick]) {
      await eventually(`${person.name}'s celebration`, async () =>
        person.page.evaluate(() => document.body.dataset.celebrations === "1"),
      );
      await person.page.getByText(/Adam finished #\d+/).waitFor();
    }
    await nick.screenshot("06-celebration");
    assertNoPageErrors(adam, nick);
  });

  test("keyboard only: create with N and Enter, move with Shift+arrows", async (t) => {
    const { adam, nick } = await warRoom(t);
    await adam.page.locator("body").click({ position: { x: 5, y: 300 } });
    await adam.page.keyboard.press("n");
    await adam.page.keyboard.type("Keyboard task");
    await adam.page.keyboard.press("Enter");
    await adam.page.keyboard.press("Escape");
    await eventually(
      "the card to be confirmed",
      async () => Number(await adam.card("Keyboard task").getAttribute("data-task-id")) > 0,
    );
    await adam.card("Keyboard task").focus();
    await adam.page.keyboard.press("Shift+ArrowRight");
    await adam.page.keyboard.press("Shift+ArrowRight");
    await eventually("Nick to see it in Blocked", async () =>
      (await nick.column("BLOCKED").innerText()).includes("Keyboard task"),
    );
    const focused = await adam.page.evaluate(() => document.activeElement?.textContent ?? "");
    assert.match(focused, /Keyboard task/, "focus follows the moved card");
    await adam.page.keyboard.press("Enter");
    await adam.page.locator("dialog").getByLabel("Title").waitFor();
    await adam.page.keyboard.press("Escape");
    assertNoPageErrors(adam, nick);
  });

  test("server stopped and restarted: both go offline then live, the board survives, offline edits arrive", async (t) => {
    const { adam, nick, server } = await warRoom(t);
    await createTaskInTodo(adam, "Survive a restart");
    await createTaskInTodo(adam, "Keep me");
    await nick.card("Keep me").waitFor();

    // Nick's browser has kept the app shell (service worker: the page and every file it names,
    // the card view's chunk too) and the board (IndexedDB).
    await eventually("the app shell to be cached", () =>
      nick.page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        const named = Array.from(
          document.querySelectorAll("script[src], link[href^='/assets/']"),
          (e) => new URL(e.src ?? e.href).pathname,
        );
        const cache = await caches.open("warroom-shell-v1");
        const kept = new Set((await cache.keys()).map((r) => new URL(r.url).pathname));
        return named.length >= 3 && named.every((path) => kept.has(path));
      }),
    );

    adam.expectNetworkErrors();
    nick.expectNetworkErrors();
    await server.stop();
    await Promise.all([adam.waitFor("offline"), nick.waitFor("offline")]);
    assert.equal(await nick.page.getByTestId("count-TODO").innerText(), "2", "the board stays on screen");

    // Even a reload while the server is away opens the saved board.
    await nick.page.reload();
    await nick.card("Keep me").waitFor();
    await nick.waitFor("offline");
    assert.equal(await nick.page.getByTestId("count-TODO").innerText(), "2", "the saved board opens offline");
    // The badge's tooltip says how old the saved board is (written when the pointer comes).
    const badge = nick.page.getByTestId("connection");
    await badge.hover();
    assert.match(await badge.getAttribute("title"), /^The server cannot be reached\..*Showing the board as of \d/);
    // The card view is a chunk of its own, loaded on first use: from the cache, offline.
    await nick.card("Keep me").click();
    await nick.page.locator("dialog.card-detail").getByLabel("Title").waitFor();
    await nick.page.keyboard.press("Escape");
    await nick.page.locator("dialog.card-detail").waitFor({ state: "detached" });

    // Adam edits while the server is away: shown at once, queued, sent later.
    await adam.card("Survive a restart").click();
    await adam.page.locator('dialog input[name="title"]').fill("Survived a restart");
    await adam.page.getByRole("button", { name: "Save" }).click();
    await adam.card("Survived a restart").waitFor();
    assert.match(await adam.page.getByTestId("queued").innerText(), /1 change waiting/);
    await adam.screenshot("07-offline-with-queued-edit");
    await nick.screenshot("08-nick-offline");

    await server.start();
    await Promise.all([adam.waitFor("live", 20_000), nick.waitFor("live", 20_000)]);
    await eventually(
      "Nick to receive the offline edit",
      async () => (await nick.card("Survived a restart").count()) === 1,
    );
    assert.equal(await nick.page.getByTestId("count-TODO").innerText(), "2");
    assert.equal(await adam.page.getByTestId("queued").count(), 0);
    const tasks = (await server.api("GET", "/tasks")).body;
    assert.deepEqual(tasks.map((x) => x.title).sort(), ["Keep me", "Survived a restart"]);
    await nick.screenshot("09-back-live");

    // A reload opens from the saved copy and then resyncs.
    await nick.page.reload();
    await nick.card("Survived a restart").waitFor();
    await nick.waitFor("live");
    assertNoPageErrors(adam, nick);
  });

  test("a refused change is rolled back with the server's message", async (t) => {
    const { adam, nick, server } = await warRoom(t);
    const created = await server.api("POST", "/tasks", { title: "Contested" });
    await adam.card("Contested").waitFor();
    await nick.card("Contested").waitFor();
    // Adam opens the card; meanwhile Nick renames it, so Adam's save carries a stale version.
    await adam.card("Contested").click();
    await nick.card("Contested").click();
    await nick.page.locator('dialog input[name="title"]').fill("Contested by Nick");
    await nick.page.getByRole("button", { name: "Save" }).click();
    await adam.page.getByText("Someone changed this task while you had it open").waitFor();
    await adam.page.locator('dialog input[name="title"]').fill("Contested by Adam");
    await adam.page.getByRole("button", { name: "Save" }).click();
    await adam.page.getByText(/clashed with a newer change/).waitFor();
    await eventually("Adam's card to roll back", async () => (await adam.card("Contested by Nick").count()) === 1);
    await adam.screenshot("10-conflict-toast");
    const task = (await server.api("GET", `/tasks/${created.body.id}`)).body;
    assert.equal(task.title, "Contested by Nick");

    // The card's history says who changed what.
    await adam.card("Contested by Nick").click();
    await adam.page.locator("dialog summary", { hasText: "History" }).click();
    await adam.page.locator("dialog .history-changes", { hasText: "Contested → Contested by Nick" }).waitFor();
    await adam.screenshot("10b-history");
    await adam.page.keyboard.press("Escape");
    assertNoPageErrors(adam, nick);
  });

  test("when Socket.IO cannot connect at all, the board is live over Server-Sent Events and written over REST", async (t) => {
    const { server, person: nick } = await alone(t, "Nick");
    await server.api("POST", "/tasks", { title: "Made before Nick arrived" });
    await nick.launch();
    await nick.blockSocketIo();
    await nick.signIn(server, "stream");
    await nick.card("Made before Nick arrived").waitFor();
    await createTaskInTodo(nick, "Sent over REST");
    const made = (await server.api("GET", "/tasks")).body.find((x) => x.title === "Sent over REST");
    assert.ok(made, "the server has the task made over REST");
    // Signed by the person (X-Warroom-Name), not by "api".
    assert.equal(made.createdBy, "Nick");
    await nick.screenshot("13-rest-fallback");
    assertNoPageErrors(nick);
  });

  test("a first visit shows the board from REST before the socket has joined, then goes live", async (t) => {
    const { server, person: eve } = await alone(t, "Eve");
    const label = await server.api("POST", "/boards/main/labels", { name: "urgent", color: "#d73a4a" });
    await server.api("POST", "/tasks", { title: "Known before Eve came", labels: [label.body.id] });
    await server.api("POST", "/tasks", { title: "Under review", status: "REVIEW" });
    await eve.launch();
    // Eve signed in before (key and name kept), nothing of the board saved: a first visit.
    await eve.page.addInitScript(signedIn, [server.key, eve.name]);
    // Her socket is held back until the board is on screen, as a slow network would.
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await eve.context.routeWebSocket(/\/socket\.io\//, async (ws) => {
      await held;
      ws.connectToServer();
    });
    await eve.page.goto(server.url);
    await eve.card("Known before Eve came").waitFor();
    await eve.column("REVIEW").locator('[data-testid="card"]', { hasText: "Under review" }).waitFor();
    assert.match(await eve.card("Known before Eve came").innerText(), /urgent/, "the label's chip, from REST too");
    // The creation date is written into the card's tooltip when the pointer comes to it.
    const age = eve.card("Known before Eve came").locator("time.card-age");
    await age.hover();
    assert.match(await age.getAttribute("title"), /^Created \w+/);
    assert.notEqual(await eve.page.getByTestId("connection").getAttribute("data-state"), "live");
    release();
    await eve.waitFor("live");
    await server.api("POST", "/tasks", { title: "Made once Eve was live" });
    await eve.card("Made once Eve was live").waitFor();
    assert.equal(
      await eve.card("Known before Eve came").count(),
      1,
      "the socket's board replaced REST's, no card twice",
    );
    assertNoPageErrors(eve);
  });

  test("a populated board on a wall screen: agents, people, activity, someone typing", async (t) => {
    const { adam, nick, server } = await warRoom(t, { width: 1920, height: 1080 });
    const seed = [
      ["Migrate billing to the new ledger", "IN_PROGRESS", "Adam", "Dual-write for a week, then cut over."],
      ["Rotate the staging TLS certificates", "TODO", "Nick", ""],
      ["Flaky login test on Safari", "BLOCKED", "Nick", "Waiting on the vendor's fix."],
      ["Write the incident report for Tuesday", "REVIEW", "Adam", "Timeline, impact, follow-ups."],
      ["Ship dark mode", "DONE", "Nick", ""],
      ["Index the audit log by actor", "TODO", null, ""],
      ["Summarise support tickets", "IN_PROGRESS", "summariser", "Agent run over last week's tickets."],
      ["Bump dependencies", "TODO", "Adam", ""],
    ];
    const ids = {};
    for (const [title, status, assignee, description] of seed) {
      const res = await server.api("POST", "/tasks", { title, status, assignee, description });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids[title] = res.body.id;
    }
    let res = await server.api("PUT", "/agents/summariser", {
      name: "summariser",
      status: "busy",
      currentTaskId: ids["Summarise support tickets"],
    });
    assert.ok(res.status < 300, JSON.stringify(res.body));
    res = await server.api("PUT", "/agents/triage-bot", { name: "triage-bot", status: "idle" });
    assert.ok(res.status < 300, JSON.stringify(res.body));
    const claimed = ids["Summarise support tickets"];
    res = await server.api("POST", `/tasks/${claimed}/claim`, { agentId: "summariser" });
    assert.ok(res.status < 300, `claim: ${res.status} ${JSON.stringify(res.body)}`);
    res = await server.api("POST", `/tasks/${claimed}/progress`, { message: "Read 140 of 230 tickets", percent: 60 });
    assert.ok(res.status < 300, `progress: ${res.status} ${JSON.stringify(res.body)}`);
    const agentCard = nick.card("Summarise support tickets");
    await eventually("the claimed card to show progress and lease", async () => {
      const text = await agentCard.innerText();
      return /60%/.test(text) && /Read 140 of 230 tickets/.test(text) && /left/.test(text);
    });
    await nick.page.getByTestId("agents").getByText("summariser").waitFor();
    await nick.page.getByTestId("agents").getByText("triage-bot").waitFor();
    assert.match(await nick.page.getByTestId("agents").innerText(), /Summarise support tickets/);
    await nick.card("Bump dependencies").waitFor();

    const todo = adam.column("TODO");
    await todo.getByRole("button", { name: "Add task" }).click();
    await todo.locator('input[name="title"]').pressSequentially("Plan the offsite", { delay: 20 });
    await nick.page.getByTestId("typing").waitFor();
    await nick.screenshot("14-wall-screen");
    await nick.page.emulateMedia({ colorScheme: "dark" });
    const hold = await pickUpAndHoldOver(adam, adam.card("Bump dependencies"), adam.column("REVIEW"));
    await nick.page.locator('[data-locked-by="Adam"]').waitFor();
    await nick.screenshot("15-wall-screen-dark");
    await hold();
    assertNoPageErrors(adam, nick);
  });

  test("looks right on a phone and in dark mode", async (t) => {
    const { adam, server } = await warRoom(t, { width: 390, height: 844 });
    await server.api("POST", "/tasks", { title: "Check the phone layout", assignee: "Adam" });
    await adam.card("Check the phone layout").waitFor();
    const overflow = await adam.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page must not scroll sideways on a phone (overflow ${overflow}px)`);
    await adam.screenshot("11-phone");
    await adam.page.emulateMedia({ colorScheme: "dark" });
    await adam.page.setViewportSize({ width: 1440, height: 900 });
    await adam.screenshot("12-dark");
  });
});

after(() => {});
