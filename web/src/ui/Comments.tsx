//! A card's comment thread: fetched when the card opens, then kept live by the board's events;
//! add one (with @ completion), edit or delete one's own (an admin, anyone's; the server refuses
//! the rest with FORBIDDEN, shown here).

import { useEffect, useState, type FormEvent } from "react";
import type { Comment } from "../protocol";
import { useStore } from "../state/store";
import { canAdminister, canWrite, useApp } from "./appContext";
import { Avatar } from "./Avatar";
import { Markdown } from "./Markdown";
import { MentionTextarea } from "./Mentions";
import { timeAgo, useNow } from "./util";

const MAX_BODY = 10_000;

function CommentItem({ comment, mayChange }: { comment: Comment; mayChange: boolean }) {
  const { engine } = useApp();
  const now = useNow(30_000);
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function save(e: FormEvent) {
    e.preventDefault();
    if (editing === null || !editing.trim()) return;
    const ack = await engine.editComment(comment.id, editing);
    if (ack.ok) setEditing(null);
    else setError(ack.error.message);
  }

  async function remove() {
    const ack = await engine.deleteComment(comment.id);
    if (!ack.ok) setError(ack.error.message);
  }

  return (
    <li className="comment" data-testid="comment" data-comment-id={comment.id}>
      <Avatar name={comment.author} size={26} />
      <div className="comment-main">
        <div className="comment-head">
          <strong>{comment.author}</strong>
          <time className="muted" dateTime={comment.createdAt} title={new Date(comment.createdAt).toLocaleString()}>
            {timeAgo(comment.createdAt, now)}
          </time>
          {comment.edited && <span className="muted">(edited)</span>}
          {mayChange && editing === null && (
            <span className="comment-actions">
              <button type="button" className="ghost small" onClick={() => setEditing(comment.body)}>
                Edit
              </button>
              <button type="button" className="ghost small danger-text" onClick={() => void remove()}>
                Delete
              </button>
            </span>
          )}
        </div>
        {editing === null ? (
          <Markdown text={comment.body} className="comment-body" />
        ) : (
          <form onSubmit={(e) => void save(e)} className="comment-edit">
            <MentionTextarea
              value={editing}
              onValue={setEditing}
              rows={3}
              maxLength={MAX_BODY}
              aria-label="Edit comment"
              autoFocus
            />
            <div className="dialog-actions">
              <button type="button" className="ghost small" onClick={() => setEditing(null)}>
                Cancel
              </button>
              <button type="submit" className="primary small">
                Save comment
              </button>
            </div>
          </form>
        )}
        {error && (
          <p className="entry-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </li>
  );
}

export function Comments({ taskId }: { taskId: number }) {
  const { store, engine, me, creds } = useApp();
  const comments = useStore(store, (s) => s.comments[taskId]);
  const [failed, setFailed] = useState(false);
  const [draft, setDraft] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const admin = canAdminister(creds);

  useEffect(() => {
    // Also after a sync, which forgets every thread (what changed meanwhile is not known).
    if (comments === undefined) void engine.loadComments(taskId).then((ok) => setFailed(!ok));
  }, [engine, taskId, comments]);

  async function send(e?: FormEvent) {
    e?.preventDefault();
    if (!draft.trim() || sending) return;
    setSending(true);
    const ack = await engine.addComment(taskId, draft);
    setSending(false);
    if (ack.ok) {
      setDraft("");
      setError(null);
    } else setError(ack.error.message);
  }

  return (
    <section className="comments" aria-label="Comments">
      <h3>Comments{comments ? ` (${comments.length})` : ""}</h3>
      {comments === undefined ? (
        <p className="muted small-print">{failed ? "Comments show when the server is reachable." : "Loading…"}</p>
      ) : (
        <ol className="comment-list">
          {comments.map((c) => (
            <CommentItem
              key={c.id}
              comment={c}
              mayChange={canWrite(creds) && (admin || c.author.toLowerCase() === me.toLowerCase())}
            />
          ))}
        </ol>
      )}
      {canWrite(creds) && taskId > 0 && (
        <form className="comment-form" onSubmit={(e) => void send(e)}>
          <MentionTextarea
            name="comment"
            value={draft}
            onValue={setDraft}
            rows={2}
            maxLength={MAX_BODY}
            placeholder="Write a comment… @ to mention, Markdown works"
            aria-label="New comment"
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void send();
            }}
          />
          {error && (
            <p className="entry-error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button type="submit" className="primary small" disabled={sending || !draft.trim()}>
              {sending ? "Sending…" : "Comment"}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
