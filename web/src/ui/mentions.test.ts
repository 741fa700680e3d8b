import { describe, expect, it } from "vitest";
import { completeMention, mentionAt, suggestNames } from "./mentions";

describe("@ mentions", () => {
  it("finds the @word being typed at the caret, not an e-mail address", () => {
    expect(mentionAt("hi @Ni", 6)).toEqual({ start: 3, query: "Ni" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("ask @José", 9)).toEqual({ start: 4, query: "José" });
    expect(mentionAt("mail adam@example", 17)).toBeNull();
    expect(mentionAt("hi @Nick there", 14)).toBeNull();
  });

  it("suggests names that start with the query first, case aside", () => {
    expect(suggestNames(["Nick", "Annie", "nina", "bot-1", "Nick"], "ni")).toEqual(["Nick", "nina", "Annie"]);
    expect(suggestNames(["b", "a"], "")).toEqual(["a", "b"]);
  });

  it("completes the word with the name and a space, the caret after it", () => {
    expect(completeMention("hi @Ni and", 3, 6, "Nick")).toEqual({ text: "hi @Nick and", caret: 9 });
    expect(completeMention("@Ni", 0, 3, "Nick")).toEqual({ text: "@Nick ", caret: 6 });
  });
});
