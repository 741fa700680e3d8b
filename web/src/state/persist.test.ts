import "fake-indexeddb/auto";
import { openDB } from "idb";
import { beforeEach, describe, expect, it } from "vitest";
import type { BoardInfo, Task } from "../protocol";
import { clearBoards, forgetBoard, loadBoard, saveBoard } from "./persist";
import type { CachedBoard } from "./reducer";

function task(id: number, title: string, board: string): Task {
  return {
    id,
    title,
    description: "",
    status: "TODO",
    assignee: null,
    position: 0,
    createdBy: "A",
    createdAt: "t",
    updatedAt: "t",
    version: 1,
    board,
  };
}

function copyOf(board: string, tasks: Task[], seq: number): CachedBoard {
  return { tasks, agents: [], seq, savedAt: "2026-01-01T00:00:00Z", pending: [], board };
}

describe("the IndexedDB copy of each board", () => {
  beforeEach(async () => {
    await clearBoards();
  });

  it("is empty at first, then returns what was saved, queue included", async () => {
    expect(await loadBoard("main")).toBeNull();
    await saveBoard({
      ...copyOf("main", [task(1, "Saved", "main")], 5),
      pending: [{ kind: "delete", id: 1, opId: "o1", at: "t", state: "sent", attempts: 1 }],
    });
    const loaded = await loadBoard("main");
    expect(loaded?.tasks[0].title).toBe("Saved");
    expect(loaded?.seq).toBe(5);
    expect(loaded?.pending[0].opId).toBe("o1");
  });

  it("keeps every board apart: saving one board leaves the others' copies as they were", async () => {
    const web: BoardInfo = {
      id: "web",
      name: "Web",
      description: "",
      archived: false,
      createdAt: "t",
      createdBy: "A",
    };
    await saveBoard({ ...copyOf("main", [task(1, "On main", "main")], 3), boards: [web] });
    await saveBoard(copyOf("web", [task(2, "On web", "web")], 7));
    const main = await loadBoard("main");
    const webCopy = await loadBoard("web");
    expect(main?.tasks.map((t) => t.title)).toEqual(["On main"]);
    expect(main?.seq).toBe(3);
    expect(main?.boards).toEqual([web]);
    expect(webCopy?.tasks.map((t) => t.title)).toEqual(["On web"]);
    expect(webCopy?.seq).toBe(7);
    expect(webCopy?.board).toBe("web");
    expect(await loadBoard("ops")).toBeNull();
  });

  it("forgets one board's copy without touching the others", async () => {
    await saveBoard(copyOf("main", [task(1, "On main", "main")], 1));
    await saveBoard(copyOf("web", [task(2, "On web", "web")], 1));
    await forgetBoard("web");
    expect(await loadBoard("web")).toBeNull();
    expect((await loadBoard("main"))?.tasks).toHaveLength(1);
  });

  it("opens the copy saved before boards existed as main's, and only as main's", async () => {
    const database = await openDB("warroom", 1);
    await database.put("kv", copyOf("main", [task(1, "From before boards", "main")], 9), "board");
    expect((await loadBoard("main"))?.tasks[0].title).toBe("From before boards");
    expect(await loadBoard("web")).toBeNull();
  });
});
