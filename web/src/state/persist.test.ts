import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { clearBoard, loadBoard, saveBoard } from "./persist";

describe("the IndexedDB copy of the board", () => {
  it("is empty at first, then returns what was saved, queue included", async () => {
    await clearBoard();
    expect(await loadBoard()).toBeNull();
    await saveBoard({
      tasks: [
        {
          id: 1,
          title: "Saved",
          description: "",
          status: "TODO",
          assignee: null,
          position: 0,
          createdBy: "A",
          createdAt: "t",
          updatedAt: "t",
          version: 1,
        },
      ],
      agents: [],
      seq: 5,
      savedAt: "2026-01-01T00:00:00Z",
      pending: [{ kind: "delete", id: 1, opId: "o1", at: "t", state: "sent", attempts: 1 }],
    });
    const loaded = await loadBoard();
    expect(loaded?.tasks[0].title).toBe("Saved");
    expect(loaded?.seq).toBe(5);
    expect(loaded?.pending[0].opId).toBe("o1");
  });
});
