import { describe, expect, it } from "vitest";
import { hueFor, initials, timeAgo, timeLeft } from "./util";

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
    expect(timeLeft("2026-01-01T11:59:00Z", NOW)).toBe("expiring");
    expect(timeLeft(null, NOW)).toBeNull();
  });

  it("gives everyone initials and a colour of their own", () => {
    expect(initials("Adam")).toBe("AD");
    expect(initials("nick smith")).toBe("NS");
    expect(initials("ci-bot")).toBe("CB");
    expect(hueFor("Adam")).toBe(hueFor("adam"));
  });
});
