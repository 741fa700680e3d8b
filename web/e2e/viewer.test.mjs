// A viewer's token typed in like any key: the dashboard asks the server what it is
// (GET /api/me) and shows a read-only board, offering nothing the server would refuse.

import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Person, SCREENSHOTS, WEB_DIR, WarroomServer, pickUpAndHoldOver, requireTools } from "./harness.mjs";

const DOCS = join(WEB_DIR, "..", "docs");

/** A personal viewer token for `name`, made the way an admin's invite makes one. */
async function viewerToken(server, name) {
  const invite = await server.api("POST", "/invites", { role: "viewer" });
  assert.equal(invite.status, 201, JSON.stringify(invite.body));
  const res = await fetch(`${server.url}/api/invites/${invite.body.code}/accept`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  assert.equal(res.status, 201);
  return (await res.json()).token;
}

describe("a viewer", () => {
  before(() => requireTools());

  test("sees a read-only board: a view-only mark, no composer, no drag, no keyboard moves, a read-only card", async (t) => {
    const server = new WarroomServer();
    const vera = new Person("Vera");
    t.after(async () => {
      await vera.close();
      await server.dispose();
    });
    await server.start();
    const seeded = await server.createTasks([
      { title: "Rotate the staging certificates", assignee: "Nick", description: "Before Friday." },
      { title: "Migrate billing", status: "IN_PROGRESS", assignee: "Adam" },
      { title: "Ship dark mode", status: "DONE" },
    ]);
    const token = await viewerToken(server, "Vera");

    await vera.launch();
    const page = vera.page;
    await page.goto(`${server.url}/?key=${encodeURIComponent(token)}`);
    await page.locator('input[name="name"]').fill("Vera");
    await page.getByRole("button", { name: "Enter the war room" }).click();
    await vera.waitFor("live");
    await page.getByTestId("read-only").waitFor();
    assert.equal(await page.getByTestId("read-only").innerText(), "View only");

    assert.equal(await page.getByRole("button", { name: /add task/i }).count(), 0, "no composer is offered");
    await page.locator("body").press("n");
    assert.equal(await page.locator("form.composer").count(), 0, "N opens no composer");

    const card = vera.card("Rotate the staging certificates");
    // The keyboard moves nothing.
    await card.focus();
    await card.press("Shift+ArrowRight");
    // The mouse lifts nothing: no drag overlay, and the card stays where it was.
    const drop = await pickUpAndHoldOver(vera, card, vera.column("BLOCKED"));
    assert.equal(await page.getByTestId("drag-overlay").count(), 0, "a viewer's card cannot be picked up");
    await drop();
    assert.equal(await vera.column("TODO").locator('[data-testid="card"]').count(), 1);
    assert.equal((await server.api("GET", `/tasks/${seeded[0].id}`)).body.status, "TODO");

    // Enter opens the card, read-only, with nothing to save or delete.
    await card.focus();
    await card.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.equal(await dialog.locator('input[name="title"]').getAttribute("readonly"), "");
    // The description is shown (as Markdown), never offered for writing.
    assert.equal(await dialog.locator('textarea[name="description"]').count(), 0);
    assert.equal(await dialog.getByRole("tab", { name: "Write" }).count(), 0);
    assert.ok(await dialog.locator('select[name="status"]').isDisabled());
    assert.equal(await dialog.getByRole("button", { name: /save|delete/i }).count(), 0);
    await dialog.getByRole("button", { name: "Close", exact: true }).last().click();
    await dialog.waitFor({ state: "detached" });
    // Delete on a focused card asks nothing: there is nothing a viewer may delete.
    await card.focus();
    await card.press("Delete");
    assert.equal(await page.getByRole("dialog").count(), 0);

    mkdirSync(SCREENSHOTS, { recursive: true });
    const shot = join(SCREENSHOTS, "viewer-board.png");
    await page.screenshot({ path: shot });
    copyFileSync(shot, join(DOCS, "viewer-board.png"));
  });
});
