import { beforeEach, describe, expect, it } from "vitest";
import { applySyncFull, initialState } from "../state/reducer";
import { createStore, type Store } from "../state/store";
import { asSocket, FakeSocket } from "../testing/fakeSocket";
import { task } from "../testing/fixtures";
import { Commands } from "./commands";

describe("label and comment commands", () => {
  let store: Store;
  let socket: FakeSocket;
  let commands: Commands;

  beforeEach(() => {
    socket = new FakeSocket();
    socket.connected = true;
    store = createStore(applySyncFull(initialState("Adam"), { tasks: [task(1)], agents: [], users: [], seq: 1 }, "t"));
    commands = new Commands(store, () => asSocket(socket));
  });

  it("sends a label with a trimmed name and an opId, and answers with the ack", async () => {
    const created = commands.createLabel(" bug ", "#d73a4a");
    const [command] = socket.sent;
    expect(command.event).toBe("label:create");
    expect(command.payload).toMatchObject({ name: "bug", color: "#d73a4a", opId: expect.any(String) });
    const label = { id: 3, board: "main", name: "bug", color: "#d73a4a" };
    command.ack!({ ok: true, label });
    expect(await created).toEqual({ ok: true, label });
  });

  it("shows our comment from its ack", async () => {
    store.dispatch({ type: "commentsLoaded", taskId: 1, comments: [] });
    const edited = commands.editComment(5, "now");
    const comment = {
      id: 5,
      taskId: 1,
      board: "main",
      author: "Adam",
      body: "now",
      createdAt: "",
      updatedAt: "",
      edited: true,
    };
    socket.sent[0].ack!({ ok: true, comment });
    expect((await edited).ok).toBe(true);
    expect(store.getState().comments[1]).toEqual([comment]);
  });

  it("refuses at once unless live, and says so when the server does not answer", async () => {
    const unanswered = commands.deleteLabel(3);
    socket.sent[0].timeOut!();
    expect(await unanswered).toEqual({ ok: false, error: { code: "TIMEOUT", message: "The server did not answer." } });

    store.dispatch({ type: "connection", state: "stream" });
    const offline = await commands.addComment(1, "hi");
    expect(offline).toMatchObject({ ok: false, error: { code: "OFFLINE" } });
    expect(socket.sent).toHaveLength(1);
  });
});
