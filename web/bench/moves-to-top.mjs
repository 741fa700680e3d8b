// The server alone: moves of a card to the top of a long column over REST, which renumbers every
// card below it (some CARDS / 5), on SQLite or, with DATABASE_URL, on PostgreSQL (a fresh database
// per build, made and dropped with `psql`, its statistics gathered once seeded, as a live
// database's are). With several builds, one seeded server each, their rounds taking turns.
// Usage: node bench/moves-to-top.mjs [rounds] [binary ...]   (default: 2 rounds of WARROOM_BIN's build)
// Prints, per build, the median and the 90th percentile of the PUT's time, one JSON line each.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { WarroomServer } from "../e2e/harness.mjs";
import { buildsToCompare, plainCards, summary } from "./builds.mjs";

const CARDS = Number(process.env.CARDS ?? 5000);
const MOVES = Number(process.env.MOVES ?? 20);
const ROUNDS = Number(process.argv[2] ?? 2);
const DATABASE_URL = process.env.DATABASE_URL;
const BINS = buildsToCompare();
const STATUSES = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];

const psql = (url, sql) => execFileSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql]);

/** A fresh database's URL beside DATABASE_URL's, for one build's server. */
function freshDatabase(b) {
  const name = `warroom_moves_${process.pid}_${b}`;
  psql(DATABASE_URL, `CREATE DATABASE ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

for (const bin of BINS) if (!existsSync(bin)) throw new Error(`no warroom binary at ${bin} (cargo build --release)`);
const servers = [];
const databases = [];
try {
  for (const [b, bin] of BINS.entries()) {
    const database = DATABASE_URL ? freshDatabase(b) : null;
    if (database) databases.push(database);
    const env = { RATE_LIMIT: "0", ...(database ? { DATABASE_URL: database.url } : {}) };
    const server = new WarroomServer({ env, bin });
    servers.push(server);
    await server.start();
    await server.createTasks(plainCards(CARDS));
    if (database) psql(database.url, "ANALYZE");
  }
  const times = BINS.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [b, server] of servers.entries()) {
      for (let m = 0; m < MOVES; m++) {
        const from = STATUSES[m % 5];
        const to = STATUSES[(m + 1) % 5];
        const column = (await server.api("GET", `/tasks?status=${from}`)).body;
        const started = performance.now();
        const res = await server.api("PUT", `/tasks/${column[column.length - 1].id}`, { status: to, position: 0 });
        if (res.status !== 200) throw new Error(`the move: ${res.status} ${JSON.stringify(res.body)}`);
        times[b].push({ put: performance.now() - started });
      }
    }
  }
  BINS.forEach((bin, b) => {
    const store = DATABASE_URL ? "postgres" : "sqlite";
    console.log(
      JSON.stringify(summary({ bin, store, cards: CARDS, moves: times[b].length }, times[b], [["put", "put"]], 1)),
    );
  });
} finally {
  for (const server of servers) await server.dispose();
  for (const { name } of databases) psql(DATABASE_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
