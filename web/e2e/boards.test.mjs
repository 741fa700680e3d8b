// Boards in real browsers against the real warroom binary: each person on their own board, the
// switcher kept live, the address naming the board, invite links, and every board offline.
// Run with `node --test e2e/boards.test.mjs` after `npm run build`; screenshots land in
// e2e/screenshots/, and the two the docs show in docs/.

import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Person, SCREENSHOTS, WEB_DIR, eventually, requireTools, warRoom } from "./harness.mjs";

const DOCS = resolve(WEB_DIR, "../docs");

function assertNoPageErrors(...people) {
  for (const p of people) assert.deepEqual(p.errors, [], `${p.name}'s page threw`);
}

async function createTaskInTodo(person, title) {
  const todo = person.column("TODO");
  if ((await todo.locator("form.composer").count()) === 0) await todo.getByRole("button", { name: "Add task" }).click();
  await todo.locator('input[name="title"]').fill(title);
  await todo.locator('input[name="title"]').press("Enter");
  await eventually(`${person.name}'s “${title}” to be confirmed`, async () => {
    const id = await person.card(title).getAttribute("data-task-id");
    return id && Number(id) > 0;
  });
  await person.page.keyboard.press("Escape");
}

function switcher(person) {
  return person.page.getByTestId("board-button");
}

/** Opens the switcher and picks a board with the mouse. */
async function pickBoard(person, board) {
  await switcher(person).click();
  await person.page.locator(`[role="option"][data-board="${board}"]`).click();
}

/** The board the person's page is on, by the switcher and by the address. */
async function boardOf(person) {
  const selected = await switcher(person).getAttribute("data-board");
  const named = new URL(person.page.url()).searchParams.get("board");
  return selected === named ? selected : `switcher ${selected}, address ${named}`;
}

async function waitForBoard(person, board) {
  await eventually(`${person.name} to be on ${board}`, async () => (await boardOf(person)) === board);
}

/** The switcher's entries as people read them, in order. */
async function switcherEntries(person) {
  return person.page
    .locator('[data-testid="board-list"] [role="option"]')
    .evaluateAll((options) =>
      options.map((o) => o.querySelector(".board-option-name").textContent + (o.dataset.archived ? " (archived)" : "")),
    );
}

async function makeBoard(server, body) {
  const res = await server.api("POST", "/boards", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function addTaskOverRest(server, board, title) {
  const res = await server.api("POST", `/boards/${board}/tasks`, { title });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** Screenshots one element (a dialog, a card) into e2e/screenshots; returns the file. */
async function shoot(locator, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await locator.screenshot({ path });
  return path;
}

/** Puts two screenshots side by side, at their own size, in one image (both sides of a flow). */
async function sideBySide(person, left, right, path) {
  const img = (file) => `<img src="data:image/png;base64,${readFileSync(file).toString("base64")}">`;
  const page = await person.context.newPage();
  await page.setViewportSize({ width: 1400, height: 700 });
  await page.setContent(
    `<div style="display:inline-flex;gap:32px;align-items:center;padding:24px;background:#e6e8f0">` +
      `${img(left)}<span style="font:600 28px system-ui;color:#667">→</span>${img(right)}</div>`,
  );
  await page.locator("div").screenshot({ path });
  await page.close();
}

describe("boards in the dashboard", () => {
  before(() => requireTools());

  test("two people on two boards see only their own board's changes", async (t) => {
    const { server, adam, nick } = await warRoom(t, { seed: (s) => makeBoard(s, { id: "web", name: "Web" }) });
    await nick.page.goto(`${server.url}/?board=web`);
    await nick.waitFor("live");
    await waitForBoard(nick, "web");
    await waitForBoard(adam, "main");

    await createTaskInTodo(adam, "Main: fix the login");
    await createTaskInTodo(nick, "Web: new header");
    await addTaskOverRest(server, "web", "Web: from the API");
    await nick.card("Web: from the API").waitFor();
    // Adam's own change is on his screen; if Nick's leaked, it would have arrived by now too.
    await addTaskOverRest(server, "main", "Main: from the API");
    await adam.card("Main: from the API").waitFor();

    assert.equal(await adam.card("Web:").count(), 0, "nothing of board web reaches main");
    assert.equal(await nick.card("Main:").count(), 0, "nothing of board main reaches web");
    assert.equal(await adam.page.getByTestId("count-TODO").innerText(), "2");
    assert.equal(await nick.page.getByTestId("count-TODO").innerText(), "2");
    assert.equal(await nick.page.title(), "Web · warroom");
    assertNoPageErrors(adam, nick);
  });

  test("the switcher lists a board created over REST at once, follows renames, archives and deletes", async (t) => {
    const { server, adam } = await warRoom(t, { seed: (s) => makeBoard(s, { id: "web", name: "Web" }) });
    await waitForBoard(adam, "main");
    assert.deepEqual(await switcherEntries(adam), ["Main", "Web"]);

    const ops = await makeBoard(server, { name: "Ops room" });
    assert.equal(ops.id, "ops-room");
    await eventually("Adam's switcher to list Ops room", async () =>
      (await switcherEntries(adam)).includes("Ops room"),
    );
    await server.api("PATCH", "/boards/ops-room", { name: "Operations" });
    await server.api("PATCH", "/boards/web", { archived: true });
    await eventually("the rename and the archive to show", async () => {
      const entries = await switcherEntries(adam);
      return entries.join("|") === "Main|Operations|Web (archived)" && entries;
    });

    // Keyboard: focus the switcher, open it, move to the next board, pick it.
    await switcher(adam).focus();
    await adam.page.keyboard.press("ArrowDown");
    await adam.page.getByRole("listbox", { name: "Boards" }).waitFor();
    await adam.page.keyboard.press("ArrowDown");
    await adam.page.keyboard.press("Enter");
    await waitForBoard(adam, "ops-room");
    await adam.waitFor("live");
    assert.equal(await adam.page.getByRole("listbox").count(), 0, "the list closes once a board is picked");
    assert.equal(
      await adam.page.evaluate(() => document.activeElement?.dataset.testid),
      "board-button",
      "the keyboard focus stays on the switcher across the switch",
    );
    await createTaskInTodo(adam, "Ops: rotate the keys");
    await switcher(adam).click();
    await adam.page.getByRole("listbox", { name: "Boards" }).waitFor();
    await adam.screenshot("boards-01-switcher");
    mkdirSync(DOCS, { recursive: true });
    await adam.page.screenshot({ path: join(DOCS, "boards-switcher.png") });
    await adam.page.keyboard.press("Escape");
    assert.equal(await adam.page.evaluate(() => document.activeElement?.dataset.testid), "board-button");

    // The board on screen is deleted: Adam is told, and lands on main.
    const res = await server.api("DELETE", "/boards/ops-room");
    assert.equal(res.status, 204);
    const toast = adam.page.locator(".toast", { hasText: "was deleted" });
    await toast.waitFor();
    assert.match(await toast.innerText(), /“Operations” was deleted[\s\S]*now on “Main”/);
    await waitForBoard(adam, "main");
    await adam.waitFor("live");
    assert.deepEqual(await switcherEntries(adam), ["Main", "Web (archived)"]);
    assertNoPageErrors(adam);
  });

  test("an admin creates and renames a board from the switcher, and the other person's switcher follows", async (t) => {
    const { adam, nick } = await warRoom(t);
    await adam.page.getByRole("button", { name: "New board" }).click();
    const create = adam.page.getByRole("dialog", { name: "New board" });
    await create.getByLabel("Name").fill("Design system");
    await create.getByRole("button", { name: "Create board" }).click();
    await waitForBoard(adam, "design-system");
    await adam.waitFor("live");
    assert.equal(await adam.page.title(), "Design system · warroom");
    await eventually("Nick's switcher to list the new board", async () =>
      (await switcherEntries(nick)).includes("Design system"),
    );
    await waitForBoard(nick, "main");

    await adam.page.getByRole("button", { name: "Rename" }).click();
    const settings = adam.page.getByRole("dialog", { name: "Board settings" });
    await settings.getByLabel("Name").fill("Design");
    await settings.getByRole("button", { name: "Save" }).click();
    await eventually(
      "Nick's switcher to show the new name",
      async () => (await switcherEntries(nick)).join("|") === "Design|Main",
    );
    await eventually(
      "Adam's switcher to show the new name",
      async () => (await switcher(adam).locator(".board-button-name").innerText()) === "Design",
    );
    await eventually("the tab to follow the rename", async () => (await adam.page.title()) === "Design · warroom");
    assertNoPageErrors(adam, nick);
  });

  test("an admin deletes a board from its settings, asked twice; whoever was on it lands on main, told", async (t) => {
    const { server, adam, nick } = await warRoom(t, {
      seed: async (s) => {
        await makeBoard(s, { id: "old", name: "Old project" });
        await addTaskOverRest(s, "old", "Leftover");
      },
    });
    for (const person of [adam, nick]) {
      await person.page.goto(`${server.url}/?board=old`);
      await person.card("Leftover").waitFor();
      await person.waitFor("live");
    }
    await adam.page.getByRole("button", { name: "Rename" }).click();
    const settings = adam.page.getByRole("dialog", { name: "Board settings" });
    await settings.getByRole("button", { name: "Delete board…" }).click();
    const confirm = settings.getByRole("button", { name: "Delete board", exact: true });
    assert.equal(await confirm.isDisabled(), true, "nothing is deleted before the id is typed");
    await settings.getByLabel("Board id to confirm").fill("old");
    await shoot(settings, "boards-06-delete-confirm");
    await confirm.click();
    await nick.page.locator(".toast", { hasText: "The board “Old project” was deleted" }).waitFor();
    for (const person of [adam, nick]) {
      await waitForBoard(person, "main");
      await eventually(
        `${person.name}'s switcher to drop the board`,
        async () => !(await switcherEntries(person)).includes("Old project"),
      );
    }
    const gone = await server.api("GET", "/boards/old");
    assert.equal(gone.status, 404, "the board is gone on the server");
    // main cannot be deleted: its settings offer no such button.
    await adam.page.getByRole("button", { name: "Rename" }).click();
    assert.equal(await settings.getByRole("button", { name: "Delete board…" }).count(), 0);
    await adam.page.keyboard.press("Escape");
    assertNoPageErrors(adam, nick);
  });

  test("Back and Forward go through the boards visited", async (t) => {
    const { server, adam } = await warRoom(t, {
      seed: async (s) => {
        await makeBoard(s, { id: "web", name: "Web" });
        await addTaskOverRest(s, "web", "Only on web");
        await addTaskOverRest(s, "main", "Only on main");
      },
    });
    await adam.card("Only on main").waitFor();
    await waitForBoard(adam, "main");
    await pickBoard(adam, "web");
    await adam.card("Only on web").waitFor();
    await waitForBoard(adam, "web");
    await adam.page.goBack();
    await adam.card("Only on main").waitFor();
    await waitForBoard(adam, "main");
    assert.equal(await adam.card("Only on web").count(), 0);
    await adam.page.goForward();
    await adam.card("Only on web").waitFor();
    await waitForBoard(adam, "web");
    assertNoPageErrors(adam);
  });

  test("?board= opens that board, the last board used opens next time, an unknown one falls back to main", async (t) => {
    const { server, adam } = await warRoom(t, {
      seed: async (s) => {
        await makeBoard(s, { id: "web", name: "Web" });
        await addTaskOverRest(s, "web", "Only on web");
      },
    });
    await adam.page.goto(`${server.url}/?board=web`);
    await adam.card("Only on web").waitFor();
    await waitForBoard(adam, "web");

    await adam.page.goto(`${server.url}/`);
    await adam.card("Only on web").waitFor();
    await waitForBoard(adam, "web");

    // A first visit asks REST for the board as the page starts: Chromium logs the 404s of that.
    adam.expectConsole(/404 \(Not Found\).*\/api\/boards\/no-such-board\//);
    await adam.page.goto(`${server.url}/?board=no-such-board`);
    await adam.page.locator(".toast", { hasText: "There is no board “no-such-board”" }).waitFor();
    await waitForBoard(adam, "main");
    await adam.waitFor("live");
    assert.equal(await adam.card("Only on web").count(), 0);
    assertNoPageErrors(adam);
  });

  test("an invite link opened in a fresh browser asks for a name and ends on the right board as a viewer", async (t) => {
    const { server, adam } = await warRoom(t, {
      seed: async (s) => {
        await makeBoard(s, { id: "web", name: "Web" });
        await addTaskOverRest(s, "web", "Ship the invite flow");
      },
    });
    const zoe = new Person("Zoe");
    const eve = new Person("Eve");
    t.after(async () => {
      await zoe.close();
      await eve.close();
    });

    // Adam, an admin on board web, invites a viewer to web only.
    await pickBoard(adam, "web");
    await waitForBoard(adam, "web");
    await adam.waitFor("live");
    await adam.page.getByRole("button", { name: "Invite someone" }).click();
    const dialog = adam.page.getByRole("dialog", { name: "Invite someone" });
    await dialog.getByLabel("Role").selectOption("viewer");
    assert.equal(await dialog.getByRole("checkbox", { name: "Web" }).isChecked(), true, "this board by default");
    assert.equal(await dialog.getByRole("checkbox", { name: "Main" }).isChecked(), false);
    await dialog.getByRole("button", { name: "Make invite link" }).click();
    const url = await dialog.getByTestId("invite-url").inputValue();
    assert.match(url, new RegExp(`^${server.url}/\\?invite=`));
    assert.equal(await dialog.getByTestId("invite-role").innerText(), "viewer");
    assert.equal(await dialog.getByTestId("invite-boards").innerText(), "Web");
    await adam.screenshot("boards-02-invite-dialog");
    const inviteDialog = await shoot(dialog.locator(".modal-box"), "boards-02-invite-dialog-box");

    // Zoe opens the link in a browser that has never seen warroom: only a name is asked.
    await zoe.launch();
    await zoe.page.goto(url);
    await zoe.page.locator('input[name="name"]').fill("Zoe");
    assert.equal(await zoe.page.locator('input[name="apiKey"]').count(), 0, "no key is asked");
    await zoe.screenshot("boards-03-invite-screen");
    const inviteScreen = await shoot(zoe.page.locator(".entry-card"), "boards-03-invite-screen-card");
    await zoe.page.getByRole("button", { name: "Join the board" }).click();
    await zoe.waitFor("live");
    await zoe.card("Ship the invite flow").waitFor();
    await waitForBoard(zoe, "web");
    assert.equal(new URL(zoe.page.url()).searchParams.get("invite"), null, "the spent code leaves the address");
    assert.deepEqual(await switcherEntries(zoe), ["Web"], "a token for web sees web only");
    // A viewer: told so, and offered no way to add or manage anything.
    await zoe.page.getByTestId("read-only").waitFor();
    assert.equal(await zoe.page.getByRole("button", { name: "Add task" }).count(), 0);
    assert.equal(await zoe.page.getByRole("button", { name: "Invite someone" }).count(), 0);
    await zoe.page.keyboard.press("n");
    assert.equal(await zoe.page.locator("form.composer").count(), 0);
    // The credential the browser keeps is the invite's: a viewer's token for web only.
    const token = await zoe.page.evaluate(() => localStorage.getItem("warroom.apiKey"));
    const write = await fetch(`${server.url}/api/boards/web/tasks`, {
      method: "POST",
      headers: { "X-API-Key": token, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "A viewer's card" }),
    });
    assert.equal(write.status, 403, "a viewer cannot create cards");
    const otherBoard = await fetch(`${server.url}/api/boards/main/tasks`, { headers: { "X-API-Key": token } });
    assert.equal(otherBoard.status, 403, "nor read a board outside the invite");
    await eventually("Adam to see Zoe online", async () =>
      (await adam.page.getByTestId("people").innerText()).includes("Zoe"),
    );
    await zoe.screenshot("boards-04-viewer-on-web");
    mkdirSync(DOCS, { recursive: true });
    await sideBySide(zoe, inviteDialog, inviteScreen, join(DOCS, "boards-invite.png"));

    // The same link a second time: a clear refusal (a 401, which Chromium logs).
    await eve.launch();
    eve.expectConsole(/401 \(Unauthorized\)/);
    await eve.page.goto(url);
    await eve.page.locator('input[name="name"]').fill("Eve");
    await eve.page.getByRole("button", { name: "Join the board" }).click();
    const alert = eve.page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /already been used, has expired, or is not valid/);
    assertNoPageErrors(adam, zoe, eve);
  });

  test("switching boards offline shows each board from IndexedDB", async (t) => {
    const { server, adam, nick } = await warRoom(t, { seed: (s) => makeBoard(s, { id: "web", name: "Web" }) });
    nick.expectNetworkErrors();
    await createTaskInTodo(adam, "Kept on main");
    await pickBoard(adam, "web");
    await adam.waitFor("live");
    await createTaskInTodo(adam, "Kept on web");
    await pickBoard(adam, "main");
    await adam.card("Kept on main").waitFor();
    await adam.waitFor("live");

    // The app shell is kept by the service worker, so even opening a link works without the server.
    await eventually("the app shell to be cached", () =>
      adam.page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        return (await (await caches.open("warroom-shell-v1")).keys()).length >= 3;
      }),
    );

    adam.expectNetworkErrors();
    await server.stop();
    await adam.waitFor("offline");
    await pickBoard(adam, "web");
    await adam.card("Kept on web").waitFor();
    await waitForBoard(adam, "web");
    assert.equal(await adam.card("Kept on main").count(), 0);
    await adam.waitFor("offline");
    await pickBoard(adam, "main");
    await adam.card("Kept on main").waitFor();
    assert.equal(await adam.card("Kept on web").count(), 0);
    await adam.screenshot("boards-05-offline-main");

    // A link to another board, opened while the server is still away.
    await adam.page.goto(`${server.url}/?board=web`);
    await adam.card("Kept on web").waitFor();
    await adam.waitFor("offline");
    await waitForBoard(adam, "web");
    assert.equal(await adam.card("Kept on main").count(), 0);
    assertNoPageErrors(adam);
  });
});
