import { describe, expect, it } from "vitest";
import { STATUSES, type Status, type Task } from "../protocol";
import { task } from "../testing/fixtures";
import {
  boardFrom,
  boardOf,
  columnOf,
  mergePatch,
  picking,
  placeTask,
  removeTask,
  reuseColumns,
  updateTask,
  upsertTask,
  type Board,
} from "./tasks";

/** The columns a board keeps are the ones sorted out of its map from scratch, object for object. */
function expectConsistent(board: Board, context: string): void {
  for (const s of STATUSES) {
    const kept = board.columns[s];
    const fresh = columnOf(board.tasks, s);
    expect(kept.length, `${context}: ${s} length`).toBe(fresh.length);
    kept.forEach((t, i) => expect(t, `${context}: ${s}[${i}]`).toBe(fresh[i]));
  }
}

function random(seed: number) {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)],
    chance: (p: number) => next() < p,
  };
}

describe("a board's columns kept by each change", () => {
  const board = boardOf([
    task(1),
    task(2, { position: 1 }),
    task(3, { status: "DONE" }),
    task(4, { status: "REVIEW" }),
  ]);

  it("gives new arrays to the two columns a move touched and keeps the others'", () => {
    const after = placeTask(board, board.tasks[1], "DONE", 0);
    expect(after.columns.REVIEW).toBe(board.columns.REVIEW);
    expect(after.columns.BLOCKED).toBe(board.columns.BLOCKED);
    expect(after.columns.TODO).not.toBe(board.columns.TODO);
    expect(after.columns.TODO.map((t) => [t.id, t.position])).toEqual([[2, 0]]);
    expect(after.columns.DONE.map((t) => t.id)).toEqual([1, 3]);
    expectConsistent(after, "move");
  });

  it("gives a new array only to the column of a task whose face changed", () => {
    const after = mergePatch(board, { id: 3, title: "Renamed", version: 2, updatedAt: "" });
    expect(after.columns.DONE[0].title).toBe("Renamed");
    for (const s of STATUSES) if (s !== "DONE") expect(after.columns[s]).toBe(board.columns[s]);
    expectConsistent(after, "patch");
  });

  it("closes the holes of the server's numbering in a column it changes", () => {
    const holey = boardOf([task(1, { position: 3 }), task(2, { position: 7 }), task(3, { position: 9 })]);
    const after = removeTask(holey, 2);
    expect(after.columns.TODO.map((t) => [t.id, t.position])).toEqual([
      [1, 0],
      [3, 1],
    ]);
    expectConsistent(after, "remove");
  });

  it("equals the columns sorted from scratch after any sequence of changes", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rng = random(seed);
      let next = 1;
      let b = boardOf(
        Array.from({ length: 8 }, () => {
          const id = next++;
          // The server's numbers, holes and ties included.
          return task(id, { status: rng.pick(STATUSES), position: rng.int(12) });
        }),
      );
      expectConsistent(b, `seed ${seed}, start`);
      for (let step = 0; step < 80; step++) {
        const ids = Object.keys(b.tasks).map(Number);
        const id = ids.length > 0 ? rng.pick(ids) : 0;
        const current: Task | undefined = b.tasks[id];
        const status: Status = rng.pick(STATUSES);
        const roll = rng.int(7);
        if (roll === 0 || !current) {
          b = upsertTask(b, task(next++, { status, position: rng.int(10) }));
        } else if (roll === 1) {
          b = removeTask(b, id);
        } else if (roll === 2) {
          b = placeTask(b, current, status, rng.chance(0.8) ? rng.int(12) : undefined);
        } else if (roll === 3) {
          const patch = { id, version: current.version + 1, updatedAt: "", title: `t${step}` };
          b = mergePatch(
            b,
            rng.chance(0.5) ? { ...patch, status, ...(rng.chance(0.5) ? { position: rng.int(12) } : {}) } : patch,
          );
        } else if (roll === 4) {
          // A neighbour's renumbering: same version, a new index only.
          b = mergePatch(b, { id, version: current.version, updatedAt: "", position: rng.int(12) });
        } else if (roll === 5) {
          b = upsertTask(b, { ...current, version: current.version + 1, status, position: rng.int(12) });
        } else {
          b = updateTask(b, id, (t) => ({ ...t, commentCount: (t.commentCount ?? 0) + 1 }));
        }
        expectConsistent(b, `seed ${seed}, step ${step}`);
      }
    }
  });
});

describe("reusing columns between renders", () => {
  const board = boardOf([task(1), task(2, { position: 1 }), task(3, { status: "DONE" })]);

  it("keeps the arrays of the columns that hold the same tasks in the same order", () => {
    const rebuilt = { ...board.columns, TODO: [...board.columns.TODO], DONE: [board.columns.TODO[0]] };
    const after = reuseColumns(board.columns, rebuilt);
    expect(after.TODO).toBe(board.columns.TODO);
    expect(after.DONE).toBe(rebuilt.DONE);
  });

  it("returns the previous columns themselves when nothing changed", () => {
    expect(reuseColumns(board.columns, { ...board.columns })).toBe(board.columns);
  });
});

describe("a whole board sent again", () => {
  it("keeps the objects of unchanged tasks and the arrays of unchanged columns", () => {
    const before = boardOf([
      task(1, { labels: [2, 3] }),
      task(2, { position: 1 }),
      task(3, { status: "DONE", blockedBy: [1] }),
    ]);
    // As the server sends it: new objects, equal values (lists too), one task changed.
    const again = [
      task(1, { labels: [2, 3] }),
      task(2, { position: 1, title: "Renamed", version: 2 }),
      task(3, { status: "DONE", blockedBy: [1] }),
    ];
    const after = boardFrom(before, again);
    expect(after.tasks[1]).toBe(before.tasks[1]);
    expect(after.tasks[3]).toBe(before.tasks[3]);
    expect(after.tasks[2]).toBe(again[1]);
    expect(after.columns.DONE).toBe(before.columns.DONE);
    expect(after.columns.TODO).not.toBe(before.columns.TODO);
    expectConsistent(after, "after a partly changed board");
  });

  it("drops the tasks it no longer lists and takes new ones and changed lists", () => {
    const before = boardOf([task(1, { labels: [2] }), task(2, { position: 1 })]);
    const after = boardFrom(before, [task(1, { labels: [2, 5] }), task(4, { status: "REVIEW" })]);
    expect(Object.keys(after.tasks)).toEqual(["1", "4"]);
    expect(after.tasks[1].labels).toEqual([2, 5]);
    expect(after.tasks[1]).not.toBe(before.tasks[1]);
    expectConsistent(after, "after tasks came and went");
  });

  it("returns every column as it was when nothing changed", () => {
    const before = boardOf([task(1), task(2, { status: "BLOCKED" })]);
    const after = boardFrom(before, [task(1), task(2, { status: "BLOCKED" })]);
    expect(after.columns).toBe(before.columns);
  });
});

describe("picking tasks out of the columns", () => {
  it("picks column by column in display order, and looks again only through the columns that changed", () => {
    const board = boardOf([
      task(1, { claimedBy: "bot" }),
      task(2, { position: 1 }),
      task(3, { status: "DONE", claimedBy: "bot" }),
      task(4, { status: "REVIEW", claimedBy: "bot" }),
      task(5, { status: "REVIEW", position: 1 }),
    ]);
    const looked: number[] = [];
    const claimed = picking((t) => {
      looked.push(t.id);
      return Boolean(t.claimedBy);
    });
    expect(claimed(board.columns).map((t) => t.id)).toEqual([1, 4, 3]);
    expect(looked.sort()).toEqual([1, 2, 3, 4, 5]);

    looked.length = 0;
    const after = placeTask(board, board.tasks[2], "DONE", 0);
    expect(claimed(after.columns).map((t) => t.id)).toEqual([1, 4, 3]);
    expect(looked.sort()).toEqual([1, 2, 3]);
    // The picked task is the board's own object: renumbered where its column was.
    expect(claimed(after.columns)[2]).toBe(after.tasks[3]);
  });
});
