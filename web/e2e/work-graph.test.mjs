// The agents' work graph in real browsers against the real warroom binary (issue 13): a card's
// open blockers as chips that open the blocker, blocked cards dimmed, the ready mark once the
// blockers are done, blockers added and refused (a cycle) in the card view, and the agents panel
// showing an agent waiting for work (the official socket.io-client, as an agent would connect),
// then its claimed task with a lease counting down.
// Run with `node --test e2e/work-graph.test.mjs` after `npm run build`; the screenshot the docs
// show lands in docs/work-graph.png.

import { before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { io } from "socket.io-client";
import { WEB_DIR, eventually, requireTools, warRoom } from "./harness.mjs";

const DOCS = resolve(WEB_DIR, "../docs");

before(() => requireTools());

function assertNoPageErrors(...people) {
  for (const p of people) assert.deepEqual(p.errors, [], `${p.name}'s page threw`);
}

async function create(server, fields) {
  const res = await server.api("POST", "/tasks", fields);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** The ids of the chips on a card, in order. */
async function chipsOf(person, title) {
  return person
    .card(title)
    .locator('[data-testid="blockers"] .dep-chip')
    .evaluateAll((chips) => chips.map((c) => Number(c.dataset.blocker)));
}

/** The open card view's heading, or null. */
async function dialogTitle(person) {
  const dialog = person.page.locator("dialog[open]");
  return (await dialog.count()) ? dialog.locator("#modal-title").textContent() : null;
}

/** An agent as agents connect: the official client with the team key, outside any browser. */
async function agentSocket(server) {
  const socket = io(server.url, { auth: { apiKey: server.key }, transports: ["websocket"], forceNew: true });
  await new Promise((resolveSync, reject) => {
    socket.once("sync:full", resolveSync);
    socket.once("connect_error", reject);
  });
  return socket;
}

test("blocked cards show their open blockers as chips and are dimmed; finishing a blocker updates every screen, a chip opens its blocker, and the card view adds, refuses (a cycle) and removes blockers", async (t) => {
  let ids;
  const { server, adam, nick } = await warRoom(t, {
    seed: async (s) => {
      const schema = await create(s, { title: "Design the schema", status: "IN_PROGRESS", assignee: "Adam" });
      const migration = await create(s, { title: "Write the migration", blockedBy: [schema.id] });
      const api = await create(s, { title: "Ship the API", blockedBy: [schema.id, migration.id] });
      const docs = await create(s, { title: "Update the docs" });
      ids = { schema: schema.id, migration: migration.id, api: api.id, docs: docs.id };
    },
  });

  // Chips for the open blockers, the card dimmed and saying so.
  for (const person of [adam, nick]) {
    await eventually(`${person.name} to see the chips`, async () => {
      const chips = await chipsOf(person, "Ship the API");
      return chips.join() === `${ids.schema},${ids.migration}`;
    });
  }
  const api = adam.card("Ship the API");
  assert.equal(await api.getAttribute("data-blocked"), "true");
  assert.match(
    await api.getAttribute("aria-label"),
    new RegExp(`blocked: waiting on #${ids.schema}, #${ids.migration}`),
  );
  assert.match(await api.getAttribute("title"), /^Blocked: waiting on/);
  const faded = await api.locator(".card-title").evaluate((el) => Number(getComputedStyle(el).opacity));
  assert.ok(faded < 1 && faded >= 0.5, `dimmed but readable (title opacity ${faded})`);
  assert.equal(
    await adam.card("Update the docs").getAttribute("data-blocked"),
    null,
    "a card without blockers is not dimmed",
  );
  assert.equal(await adam.card("Design the schema").locator('[data-testid="blockers"]').count(), 0);
  assert.equal(await adam.card("Write the migration").locator('[data-testid="ready-mark"]').count(), 0);

  // Nick finishes the schema: on Adam's screen the chip goes, and the migration is ready.
  assert.equal((await server.api("PUT", `/tasks/${ids.schema}`, { status: "DONE" })).status, 200);
  await eventually(
    "the finished blocker's chip to go",
    async () => (await chipsOf(adam, "Ship the API")).join() === `${ids.migration}`,
  );
  const migration = adam.card("Write the migration");
  await migration.locator('[data-testid="ready-mark"]').waitFor();
  assert.equal(await migration.locator('[data-testid="blockers"]').count(), 0);
  assert.equal(await migration.getAttribute("data-blocked"), null, "no longer dimmed");
  assert.match(await migration.getAttribute("aria-label"), /, ready$/);

  // A chip opens its blocker, not the card it sits on.
  await api.locator(`.dep-chip[data-blocker="${ids.migration}"]`).click();
  await eventually("the blocker's card view", async () => (await dialogTitle(adam)) === `Task #${ids.migration}`);
  await adam.page.keyboard.press("Escape");
  await eventually("the card view to close", async () => (await dialogTitle(adam)) === null);

  // In the docs' card view, Adam makes it wait on the API, picking it by #id.
  await adam.card("Update the docs").click();
  await eventually("the docs' card view", async () => (await dialogTitle(adam)) === `Task #${ids.docs}`);
  const dialog = adam.page.locator("dialog[open]");
  await dialog.locator('input[name="blocker"]').fill(`#${ids.api}`);
  await dialog.locator('input[name="blocker"]').press("Enter");
  await dialog.locator(`.blocker[data-blocker="${ids.api}"]`).waitFor();
  assert.equal(await dialogTitle(adam), `Task #${ids.docs}`, "Enter adds the blocker without closing the dialog");
  await eventually(
    "Nick to see the new chip",
    async () => (await chipsOf(nick, "Update the docs")).join() === `${ids.api}`,
  );
  await eventually(
    "the server's answer (the field empties)",
    async () => (await dialog.locator('input[name="blocker"]').inputValue()) === "",
  );
  assert.equal(
    await dialog.getByText("Someone changed this task").count(),
    0,
    "one's own blocker is no one else's change",
  );
  const stored = await server.api("GET", `/tasks/${ids.docs}`);
  assert.deepEqual(stored.body.blockedBy, [ids.api]);
  await adam.page.keyboard.press("Escape");

  // The schema waiting on the docs would close a circle: the server refuses, the dialog says why.
  await adam.card("Design the schema").click();
  await eventually("the schema's card view", async () => (await dialogTitle(adam)) === `Task #${ids.schema}`);
  await dialog.locator('input[name="blocker"]').fill("update the docs");
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  const refusal = dialog.locator('[role="alert"]');
  await refusal.waitFor();
  const message = await refusal.textContent();
  assert.match(message, /cycle/i, message);
  assert.ok(message.includes(`#${ids.schema}`) && message.includes(`#${ids.docs}`), message);
  assert.equal(await dialog.locator(".blocker").count(), 0, "the refused blocker is not listed");
  assert.deepEqual((await server.api("GET", `/tasks/${ids.schema}`)).body.blockedBy, [], "nothing was saved");
  await adam.screenshot("work-graph-cycle");
  await adam.page.keyboard.press("Escape");

  // Removing a blocker in the card view: the docs can start again.
  await adam.card("Update the docs").click();
  await dialog.getByRole("button", { name: `Remove blocker #${ids.api}` }).click();
  await eventually("the docs' chip to go on both screens", async () => {
    return (
      (await chipsOf(adam, "Update the docs")).length === 0 && (await chipsOf(nick, "Update the docs")).length === 0
    );
  });
  await dialog.getByText("Nothing: this task can start any time.").waitFor();
  assertNoPageErrors(adam, nick);
});

test("the agents panel shows agents waiting for work, then the task one claimed with its lease counting down each second", async (t) => {
  let ids;
  const { server, adam } = await warRoom(t, {
    seed: async (s) => {
      const schema = await create(s, { title: "Design the schema", status: "IN_PROGRESS", assignee: "Adam" });
      const migration = await create(s, { title: "Write the migration", blockedBy: [schema.id] });
      await create(s, {
        title: "Ship the API",
        blockedBy: [schema.id, migration.id],
        description: "REST and Socket.IO",
      });
      const ci = await create(s, { title: "Set up CI", status: "DONE" });
      // Ready, but someone's: agents leave it alone.
      await create(s, { title: "Review the roadmap", assignee: "Nick", blockedBy: [ci.id] });
      ids = { schema: schema.id, migration: migration.id };
    },
  });
  const agents = adam.page.getByTestId("agents");
  const first = await agentSocket(server);
  const second = await agentSocket(server);
  t.after(() => {
    first.close();
    second.close();
  });

  // Nothing is ready for agents: both wait, in line, and the panel says so.
  const claimed = first.timeout(30_000).emitWithAck("task:next", { agentId: "bot-7", wait: 25 });
  await agents.locator('[data-agent="bot-7"] [data-testid="agent-waiting"]').waitFor();
  // Never answered: bot-9 disconnects while it waits.
  second
    .timeout(30_000)
    .emitWithAck("task:next", { agentId: "bot-9", wait: 25 })
    .catch(() => {});
  await agents.locator('[data-agent="bot-9"] [data-testid="agent-waiting"]').waitFor();
  assert.equal(
    await agents
      .locator('[data-agent="bot-7"]')
      .textContent()
      .then((s) => s.includes("waiting for work")),
    true,
  );

  // Work arrives: the first in line takes it; the panel shows its task and lease.
  const made = await create(server, { title: "Index the logs" });
  const answer = await claimed;
  assert.equal(answer.ok, true, JSON.stringify(answer));
  assert.equal(answer.task.id, made.id);
  const row = agents.locator('[data-agent="bot-7"]');
  await row.locator('[data-testid="agent-task"]', { hasText: `#${made.id}` }).waitFor();
  await eventually(
    "bot-7 to stop waiting",
    async () => (await row.locator('[data-testid="agent-waiting"]').count()) === 0,
  );
  assert.match(await row.locator('[data-testid="agent-task"]').textContent(), /Index the logs/);
  const lease = row.locator('[data-testid="lease"]');
  const before = await lease.textContent();
  assert.match(before, /^[45]:\d\d left$/, before);
  await eventually("the lease to tick", async () => (await lease.textContent()) !== before, 3000);
  assert.equal(
    await agents.locator('[data-agent="bot-9"] [data-testid="agent-waiting"]').count(),
    1,
    "bot-9 still waits",
  );

  await adam.card("Ship the API").locator(".dep-chip").first().waitFor();
  await adam.page.mouse.move(0, 0);
  await adam.page.screenshot({ path: resolve(DOCS, "work-graph.png") });
  // The same in dark mode, for a look (e2e/screenshots, not in the docs).
  await adam.page.emulateMedia({ colorScheme: "dark" });
  await eventually("the colour transitions to finish", () =>
    adam.page.evaluate(() =>
      document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState === "finished"),
    ),
  );
  await adam.screenshot("work-graph-dark");
  await adam.page.emulateMedia({ colorScheme: "light" });

  // The panel's task opens the card view.
  await row.locator('[data-testid="agent-task"]').click();
  await eventually("the claimed task's card view", async () => (await dialogTitle(adam)) === `Task #${made.id}`);
  await adam.page.keyboard.press("Escape");

  // bot-9 leaves: it is no longer listed.
  second.close();
  await eventually("bot-9 to leave the list", async () => (await agents.locator('[data-agent="bot-9"]').count()) === 0);
  assertNoPageErrors(adam);
});
