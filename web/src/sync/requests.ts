//! The REST requests of the dashboard beside the outbox: the activity feed's pages, a card's
//! comments and history, and this person's notifications.

import type { Credentials } from "../credentials";
import { api } from "../net/rest";
import type { ActivityEntry } from "../protocol";
import type { Store } from "../state/store";

/** One page of the activity feed; a first page shorter than this is the whole feed. */
export const ACTIVITY_PAGE = 50;

export class Requests {
  constructor(
    private readonly store: Store,
    private readonly creds: Credentials,
  ) {}

  private get board(): string {
    return this.store.getState().board;
  }

  /** The feed's newest page, merged into what it shows (after a full sync, or in REST mode). */
  async loadActivity(): Promise<void> {
    const result = await api.activity(this.creds, this.board, ACTIVITY_PAGE);
    if (!result.ok) return;
    const data = result.data as unknown;
    const entries = Array.isArray(data)
      ? data
      : Array.isArray((data as { items?: unknown })?.items)
        ? (data as { items: ActivityEntry[] }).items
        : [];
    if (entries.length) this.store.dispatch({ type: "activity", entries });
  }

  /**
   * The page of the feed older than what it shows ("Load more"): "end" when the server has no
   * more, "failed" when it cannot be asked now.
   */
  async loadOlderActivity(): Promise<"more" | "end" | "failed"> {
    const ids = this.store
      .getState()
      .activity.map((e) => Number(e.id))
      .filter((id) => Number.isInteger(id) && id > 0);
    const before = ids.length > 0 ? Math.min(...ids) : undefined;
    const result = await api.activity(this.creds, this.board, ACTIVITY_PAGE, before);
    if (!result.ok || !Array.isArray(result.data)) return "failed";
    if (result.data.length > 0) this.store.dispatch({ type: "olderActivity", entries: result.data });
    return result.data.length < ACTIVITY_PAGE ? "end" : "more";
  }

  /** A task's recorded changes, newest first (null when the server cannot be asked). */
  async history(taskId: number): Promise<ActivityEntry[] | null> {
    if (taskId < 0) return [];
    const result = await api.history(this.creds, taskId);
    if (!result.ok) return null;
    const data = result.data as unknown;
    return Array.isArray(data) ? (data as ActivityEntry[]) : null;
  }

  /** Fetches a card's comments (oldest first); false when the server cannot be asked. */
  async loadComments(taskId: number): Promise<boolean> {
    if (taskId < 0) {
      this.store.dispatch({ type: "commentsLoaded", taskId, comments: [] });
      return true;
    }
    const result = await api.comments(this.creds, taskId);
    if (!result.ok || !Array.isArray(result.data)) return false;
    this.store.dispatch({ type: "commentsLoaded", taskId, comments: result.data });
    return true;
  }

  async loadNotifications(): Promise<boolean> {
    const result = await api.notifications(this.creds);
    if (!result.ok || !Array.isArray(result.data)) return false;
    this.store.dispatch({ type: "notificationsLoaded", notifications: result.data });
    return true;
  }

  /**
   * Marks some (or all) of this person's notifications read. The count drops when the server's
   * `notifications:read` arrives, on every tab of theirs alike, so it is never counted twice.
   */
  async readNotifications(ids?: number[]): Promise<boolean> {
    const result = await api.readNotifications(this.creds, ids);
    return result.ok;
  }
}
