import { describe, expect, it } from "vitest";
import { task } from "../testing/fixtures";
import { columnsOf, fromList, placeTask, reuseColumns } from "./tasks";

describe("reusing columns between renders", () => {
  const board = fromList([
    task(1),
    task(2, { position: 1 }),
    task(3, { status: "DONE" }),
    task(4, { status: "REVIEW" }),
  ]);

  it("keeps the arrays of the columns a move did not touch, and gives new ones to the two it did", () => {
    const before = columnsOf(board);
    const after = reuseColumns(before, columnsOf(placeTask(board, board[1], "DONE", 0)));
    expect(after.REVIEW).toBe(before.REVIEW);
    expect(after.BLOCKED).toBe(before.BLOCKED);
    expect(after.TODO).not.toBe(before.TODO);
    expect(after.DONE.map((t) => t.id)).toEqual([1, 3]);
  });

  it("returns the previous columns themselves when nothing changed", () => {
    const before = columnsOf(board);
    expect(reuseColumns(before, columnsOf(board))).toBe(before);
  });
});
