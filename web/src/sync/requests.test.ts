import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ActivityEntry } from "../protocol";
import { initialState } from "../state/reducer";
import { createStore, type Store } from "../state/store";

vi.mock("../net/rest", () => ({
  api: { activity: vi.fn(), history: vi.fn(), comments: vi.fn() },
}));
const { api } = await import("../net/rest");
const { ACTIVITY_PAGE, Requests } = await import("./requests");

const entry = (id: number): ActivityEntry => ({
  id,
  type: "task.created",
  user: "Nick",
  message: "created #1",
  taskId: 1,
  timestamp: "t",
  seq: id,
});

describe("the dashboard's REST requests", () => {
  let store: Store;
  let requests: InstanceType<typeof Requests>;

  beforeEach(() => {
    vi.mocked(api.activity).mockReset();
    store = createStore(initialState("Adam", "web"));
    requests = new Requests(store, { apiKey: "k", name: "Adam" });
  });

  it("loads the feed's newest page, as a list or under `items`", async () => {
    vi.mocked(api.activity).mockResolvedValueOnce({ ok: true, status: 200, data: { items: [entry(2)] } as never });
    await requests.loadActivity();
    expect(api.activity).toHaveBeenCalledWith(expect.anything(), "web", ACTIVITY_PAGE);
    expect(store.getState().activity.map((e) => e.id)).toEqual([2]);
  });

  it("asks for the page older than the oldest entry shown, and tells whether there is more", async () => {
    store.dispatch({ type: "activity", entries: [entry(7), entry(5)] });
    const full = Array.from({ length: ACTIVITY_PAGE }, (_, i) => entry(4 - i));
    vi.mocked(api.activity).mockResolvedValueOnce({ ok: true, status: 200, data: full });
    expect(await requests.loadOlderActivity()).toBe("more");
    expect(api.activity).toHaveBeenCalledWith(expect.anything(), "web", ACTIVITY_PAGE, 5);
    vi.mocked(api.activity).mockResolvedValueOnce({ ok: true, status: 200, data: [] });
    expect(await requests.loadOlderActivity()).toBe("end");
    vi.mocked(api.activity).mockResolvedValueOnce({ ok: false, status: 0, error: { code: "NETWORK", message: "" } });
    expect(await requests.loadOlderActivity()).toBe("failed");
  });

  it("asks nothing about a card not yet created", async () => {
    expect(await requests.history(-3)).toEqual([]);
    expect(await requests.loadComments(-3)).toBe(true);
    expect(store.getState().comments[-3]).toEqual([]);
    expect(api.history).not.toHaveBeenCalled();
    expect(api.comments).not.toHaveBeenCalled();
  });
});
