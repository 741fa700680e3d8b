import { describe, expect, it } from "vitest";
import {
  activityText,
  countdown,
  fromLocalInput,
  hueFor,
  initials,
  plainExcerpt,
  readableText,
  timeAgo,
  timeLeft,
  toLocalInput,
} from "./util";

const NOW = Date.parse("2026-01-01T12:00:00Z");

describe("presentation helpers", () => {
  it("says how old a card is, briefly", () => {
    expect(timeAgo("2026-01-01T11:59:50Z", NOW)).toBe("now");
    expect(timeAgo("2026-01-01T11:55:00Z", NOW)).toBe("5m");
    expect(timeAgo("2026-01-01T09:00:00Z", NOW)).toBe("3h");
    expect(timeAgo("2025-12-29T12:00:00Z", NOW)).toBe("3d");
    expect(timeAgo("not a date", NOW)).toBe("");
  });

  it("counts a lease down in minutes, then seconds", () => {
    expect(timeLeft("2026-01-01T12:04:30Z", NOW)).toBe("5m left");
    expect(timeLeft("2026-01-01T12:00:42Z", NOW)).toBe("42s left");
    expect(timeLeft("2026-01-01T12:05:20Z", NOW)).toBe("5m left");
    expect(timeLeft("2026-01-01T11:59:00Z", NOW)).toBe("expiring");
    expect(timeLeft(null, NOW)).toBeNull();
  });

  it("counts a lease down to the second for the agents panel", () => {
    expect(countdown("2026-01-01T12:04:30Z", NOW)).toBe("4:30 left");
    expect(countdown("2026-01-01T12:00:09.200Z", NOW)).toBe("0:10 left");
    expect(countdown("2026-01-01T13:00:05Z", NOW)).toBe("1:00:05 left");
    expect(countdown("2026-01-01T12:00:00Z", NOW)).toBe("expiring");
    expect(countdown(undefined, NOW)).toBeNull();
  });

  it("gives everyone initials and a colour of their own", () => {
    expect(initials("Adam")).toBe("AD");
    expect(initials("nick smith")).toBe("NS");
    expect(initials("ci-bot")).toBe("CB");
    expect(hueFor("Adam")).toBe(hueFor("adam"));
  });

  it("words statuses in activity messages as people say them, leaving quoted titles alone", () => {
    expect(activityText("Adam moved #3 from TODO to IN_PROGRESS")).toBe("Adam moved #3 from To do to In progress");
    expect(activityText("Nick created #4 “Fix TODO list” in REVIEW")).toBe("Nick created #4 “Fix TODO list” in Review");
  });

  it("writes a label's name in black or white, whichever contrasts more with its colour", () => {
    expect(readableText("#b60205")).toBe("#ffffff");
    expect(readableText("#1d4ed8")).toBe("#ffffff");
    expect(readableText("#fbca04")).toBe("#000000");
    expect(readableText("#ffffff")).toBe("#000000");
    expect(readableText("#000000")).toBe("#ffffff");
    expect(readableText("#c2e0c6")).toBe("#000000");
  });

  it("shows a due date in the viewer's local time and sends it back in UTC", () => {
    const local = new Date(2027, 2, 1, 16, 30);
    expect(toLocalInput(local.toISOString())).toBe("2027-03-01T16:30");
    expect(fromLocalInput("2027-03-01T16:30")).toBe(local.toISOString());
    expect(fromLocalInput("")).toBeNull();
    expect(toLocalInput(null)).toBe("");
  });
  it("shows a Markdown description's words without its marks on the card", () => {
    expect(plainExcerpt("Check **every** item:\n- the changelog\n- the `upgrade` steps")).toBe(
      "Check every item: the changelog the upgrade steps",
    );
    expect(plainExcerpt("# Title\n> quoted _softly_\n1. one\n\nSee [the docs](https://x.test)")).toBe(
      "Title quoted softly one See the docs",
    );
    expect(plainExcerpt("2 * 3 = 6, snake_case_name")).toBe("2 * 3 = 6, snake_case_name");
  });
});
