// Server builds side by side for the benchmarks that compare them (first-load.mjs,
// key-moves.mjs): one server each, seeded with the same board, and how their figures are summed up.

import { WarroomServer } from "../e2e/harness.mjs";

const STATUSES = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];

/** `count` plain cards spread over the five columns (no labels, due dates or comments). */
function plainCards(count) {
  return Array.from({ length: count }, (_, i) => ({
    title: `Card ${i + 1}: ${["rotate keys", "fix flaky test", "write docs", "review PR"][i % 4]}`,
    status: STATUSES[i % STATUSES.length],
    assignee: i % 3 === 0 ? "Adam" : null,
    description: i % 4 === 0 ? "Some context for whoever picks this up." : "",
  }));
}

/**
 * Starts one server per build in `bins`, each seeded with the same `cards` plain cards; pushed
 * onto `servers` as they start, so that the caller disposes of every one that did.
 */
export async function startBuilds(bins, cards, servers) {
  const seed = plainCards(cards);
  for (const bin of bins) {
    const server = new WarroomServer({ env: { RATE_LIMIT: "0" }, bin });
    servers.push(server);
    await server.start();
    await server.createTasks(seed);
  }
}

/** The `q` quantile of the figures in `xs` (NaN ones left out), rounded to `decimals`. */
export function quantile(xs, q, decimals = 0) {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const scale = 10 ** decimals;
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * q))] * scale) / scale;
}
