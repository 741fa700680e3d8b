// The board menu in real browsers against the real warroom binary (SPEC "Webhooks, import and
// export"): an admin adds a webhook pointing at a receiver of this test and watches deliveries
// arrive in its log, a ping too; imports a Trello export through the dialog (preview, confirm)
// while the other person's board fills in live; exports CSV as a download.
// Run with `node --test e2e/integrations.test.mjs` after `npm run build`; docs/webhooks.png and
// docs/import.png are taken here.

import { before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Person, WEB_DIR, eventually, requireTools, warRoom } from "./harness.mjs";

const DOCS = resolve(WEB_DIR, "../docs");
const TRELLO = resolve(WEB_DIR, "../tests/fixtures/trello/full-export.json");

before(requireTools);

function assertNoPageErrors(...people) {
  for (const p of people) assert.deepEqual(p.errors, [], `${p.name}'s page threw`);
}

/** An HTTP receiver on 127.0.0.1 that answers 204 and keeps what it got. */
async function receiver(t) {
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      got.push({ event: req.headers["x-warroom-event"], signature: req.headers["x-warroom-signature-256"], body });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, got };
}

async function openMenuItem(person, item) {
  await person.page.getByRole("button", { name: "Board ▾" }).click();
  await person.page.getByRole("menuitem", { name: item }).click();
}

test("an admin adds a webhook and sees its deliveries arrive in the log, a test ping too", async (t) => {
  const { adam, nick } = await warRoom(t);
  const hook = await receiver(t);
  const page = adam.page;
  await openMenuItem(adam, "Webhooks…");
  const dialog = page.getByRole("dialog", { name: "Webhooks" });
  await dialog.getByTestId("no-webhooks").waitFor();
  await dialog.locator('input[name="webhookUrl"]').fill(hook.url);
  await dialog.locator('input[name="webhookEvents"]').fill("task.*, webhook.ping");
  await dialog.getByRole("button", { name: "Add webhook" }).click();
  // The secret is shown once, to copy.
  const secret = await dialog.getByTestId("webhook-secret-value").inputValue();
  assert.ok(secret.length >= 16, `a generated secret, got ${JSON.stringify(secret)}`);
  const item = dialog.getByTestId("webhook");
  await item.filter({ hasText: hook.url }).waitFor();
  assert.match(await item.textContent(), /task\.\*, webhook\.ping · JSON/);
  assert.equal(await item.getAttribute("data-active"), "true");

  // A change on the board, by Nick in his browser: the hook gets it, Adam's open log shows it.
  const todo = nick.column("TODO");
  await todo.getByRole("button", { name: "Add task" }).click();
  await todo.locator('input[name="title"]').fill("Tell the hook");
  await todo.locator('input[name="title"]').press("Enter");
  await eventually("the receiver to get task.created", () => hook.got.some((d) => d.event === "task.created"));
  const created = dialog.locator('[data-testid="delivery"][data-event="task.created"]');
  await eventually("a delivered task.created row in the log", async () => {
    return (await created.getAttribute("data-status", { timeout: 500 })) === "delivered";
  });
  assert.match(await created.textContent(), /task\.created#\d+delivered1204—/);
  assert.match(hook.got.find((d) => d.event === "task.created").signature, /^sha256=[0-9a-f]{64}$/);

  await dialog.getByRole("button", { name: "Send test ping" }).click();
  const ping = dialog.locator('[data-testid="delivery"][data-event="webhook.ping"]');
  await eventually("the ping delivered in the log", async () => {
    return (await ping.getAttribute("data-status", { timeout: 500 })) === "delivered";
  });
  assert.ok(hook.got.some((d) => d.event === "webhook.ping"));

  // Paused: the hook says so, and the next change is not sent.
  await dialog.getByRole("button", { name: "I have copied it" }).click();
  await dialog.getByRole("button", { name: "Pause" }).click();
  await eventually("the hook paused", async () => (await item.getAttribute("data-active")) === "false");
  await dialog.getByText("Paused", { exact: true }).waitFor();
  await page.screenshot({ path: `${DOCS}/webhooks.png` });
  await dialog.getByRole("button", { name: "Resume" }).click();
  await eventually("the hook active again", async () => (await item.getAttribute("data-active")) === "true");

  await dialog.getByRole("button", { name: "Delete…" }).click();
  await dialog.getByRole("button", { name: "Delete webhook" }).click();
  await dialog.getByTestId("no-webhooks").waitFor();
  assertNoPageErrors(adam, nick);
});

test("an admin imports a Trello export through the dialog: preview, confirm, and the other browser fills in live", async (t) => {
  const { adam, nick } = await warRoom(t);
  const page = adam.page;
  await openMenuItem(adam, "Import…");
  const dialog = page.getByRole("dialog", { name: "Import into this board" });
  const importButton = dialog.getByRole("button", { name: "Import", exact: true });
  assert.equal(await importButton.isDisabled(), true, "nothing to import before a file is picked");
  await dialog.locator('input[name="importFile"]').setInputFiles(TRELLO);
  await dialog.getByTestId("import-preview").waitFor();
  assert.equal(await dialog.getByTestId("import-counts").textContent(), "5 tasks, 3 new labels and 2 comments");
  const skipped = await dialog.getByTestId("import-skipped").locator("li").allTextContents();
  assert.equal(skipped.length, 2);
  assert.match(skipped[0], /^card “Archived card”: .+/);
  assert.match(skipped[1], /^card “In an archived list”: .+/);
  // The preview wrote nothing: Nick's board is still empty.
  assert.equal(await nick.page.locator('[data-testid="card"]').count(), 0);
  await page.screenshot({ path: `${DOCS}/import.png` });

  await importButton.click();
  await dialog.waitFor({ state: "hidden" });
  for (const title of ["First in To Do", "Second in To Do", "Being done", "Shipped", "An idea"]) {
    await nick.card(title).waitFor();
  }
  await nick.column("DONE").locator('[data-testid="card"]', { hasText: "Shipped" }).waitFor();
  await nick.column("IN_PROGRESS").locator('[data-testid="card"]', { hasText: "Being done" }).waitFor();
  assert.equal(await nick.page.locator('[data-testid="card"]').count(), 5);
  await adam.card("An idea").waitFor();

  // A file that is none of the three: the dialog's error line, and nothing imported.
  adam.expectConsole(/400 \(Bad Request\)/);
  await openMenuItem(adam, "Import…");
  await dialog.locator('input[name="importFile"]').setInputFiles({
    name: "notes.json",
    mimeType: "application/json",
    buffer: Buffer.from('{"hello":1}'),
  });
  await dialog.getByRole("alert").waitFor();
  assert.equal(await importButton.isDisabled(), true);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await nick.page.locator('[data-testid="card"]').count(), 5);
  assertNoPageErrors(adam, nick);
});

test("Export CSV downloads <board>.csv with SPEC's header row; Export JSON the warroom-board file", async (t) => {
  const { adam } = await warRoom(t, {
    seed: (s) => s.createTasks([{ title: "Has, a comma", description: 'and "quotes"' }]),
  });
  await adam.card("Has, a comma").waitFor();
  await adam.page.getByRole("button", { name: "Board ▾" }).click();
  const items = await adam.page.getByRole("menuitem").allTextContents();
  assert.deepEqual(items, ["Export JSON", "Export CSV", "Labels…", "Import…", "Webhooks…"]);
  await adam.screenshot("board-menu");
  await adam.page.keyboard.press("Escape");
  await adam.page.getByRole("menu").waitFor({ state: "hidden" });
  const [csv] = await Promise.all([adam.page.waitForEvent("download"), openMenuItem(adam, "Export CSV")]);
  assert.equal(csv.suggestedFilename(), "main.csv");
  const text = readFileSync(await csv.path(), "utf8");
  const [header, row] = text.split("\r\n");
  assert.equal(header, "id,title,description,status,assignee,labels,dueAt,position,createdBy,createdAt,updatedAt");
  assert.match(row, /^\d+,"Has, a comma","and ""quotes""",TODO,/);
  const [json] = await Promise.all([adam.page.waitForEvent("download"), openMenuItem(adam, "Export JSON")]);
  assert.equal(json.suggestedFilename(), "main.json");
  const file = JSON.parse(readFileSync(await json.path(), "utf8"));
  assert.equal(file.format, "warroom-board");
  assert.deepEqual(
    file.tasks.map((task) => task.title),
    ["Has, a comma"],
  );
  assertNoPageErrors(adam);
});

test("a viewer exports too, and is offered nothing else in the board menu", async (t) => {
  const { server } = await warRoom(t, { seed: (s) => s.createTasks([{ title: "Read me" }]) });
  const invite = await server.api("POST", "/invites", { role: "viewer", boards: ["main"] });
  assert.equal(invite.status, 201, JSON.stringify(invite.body));
  const vera = new Person("Vera");
  t.after(() => vera.close());
  await vera.launch();
  await vera.page.goto(invite.body.url);
  await vera.page.locator('input[name="name"]').fill("Vera");
  await vera.page.getByRole("button", { name: "Join the board" }).click();
  await vera.waitFor("live");
  await vera.page.getByTestId("read-only").waitFor();
  await vera.page.getByRole("button", { name: "Board ▾" }).click();
  assert.deepEqual(await vera.page.getByRole("menuitem").allTextContents(), ["Export JSON", "Export CSV"]);
  const [csv] = await Promise.all([
    vera.page.waitForEvent("download"),
    vera.page.getByRole("menuitem", { name: "Export CSV" }).click(),
  ]);
  const rows = readFileSync(await csv.path(), "utf8")
    .trim()
    .split("\r\n");
  assert.equal(rows.length, 2);
  assert.match(rows[1], /^\d+,Read me,,TODO,/);
  assertNoPageErrors(vera);
});
