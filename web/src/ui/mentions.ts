//! `@name` completion in the comment box and the description: which word is being typed, and
//! the text once a name is picked. Names go in as they are known (people and agent ids have no
//! spaces in practice; the server matches `@name` case aside).

/** The `@word` that ends at the caret, if the caret is in one: where its `@` is and what follows. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|[^\p{L}\p{N}_@])@([\p{L}\p{N}_.-]{0,64})$/u.exec(before);
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2] };
}

/** Known names starting with the query (case aside), then those containing it; at most `limit`. */
export function suggestNames(names: Iterable<string>, query: string, limit = 8): string[] {
  const q = query.toLowerCase();
  const starts: string[] = [];
  const contains: string[] = [];
  for (const name of new Set(names)) {
    const n = name.toLowerCase();
    if (n.startsWith(q)) starts.push(name);
    else if (q && n.includes(q)) contains.push(name);
  }
  const byName = (a: string, b: string) => a.localeCompare(b);
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, limit);
}

/** `text` with the `@query` at `start` replaced by `@name ` and the caret after it. */
export function completeMention(
  text: string,
  start: number,
  caret: number,
  name: string,
): { text: string; caret: number } {
  const inserted = `@${name} `;
  const rest = text.slice(caret).replace(/^[\p{L}\p{N}_.-]*/u, "");
  return { text: text.slice(0, start) + inserted + rest.replace(/^ /, ""), caret: start + inserted.length };
}
