//! What the domain needs from a database, and nothing about sockets: the ports `store/`
//! implements.
//!
//! `Store` is what the board service calls; `Tx` is what the write rules in `domain::write`
//! use inside one transaction. They live here, beside the rules, so that the domain depends on
//! no database and `store/` depends on the domain, never the other way.

use async_trait::async_trait;
use serde_json::Value;

use crate::auth::{Invite, StoredToken};
use crate::domain::activity::{Activity, NewActivity};
use crate::domain::agent::Agent;
use crate::domain::boards::BoardInfo;
use crate::domain::cards::{Comment, Label, NewLabel};
use crate::domain::change::{Applied, WriteRequest};
use crate::domain::notifications::{NewNotification, Notification};
use crate::domain::task::{NewTask, Shift, Shifted, Status, Task};
use crate::domain::transfer::BoardContents;
use crate::domain::webhooks::{Delivery, Format, NewWebhook, Webhook};
use crate::error::AppResult;

/// Everything a client needs to draw a board from scratch, as of `seq`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub tasks: Vec<Task>,
    /// Every agent of the team (their status is team-wide), not only this board's.
    pub agents: Vec<Agent>,
    pub labels: Vec<Label>,
    pub seq: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<Status>,
    /// Exact assignee, compared case-insensitively.
    pub assignee: Option<String>,
    /// Case-insensitive substring of title or description.
    pub q: Option<String>,
    /// Only tasks with this label.
    pub label: Option<i64>,
    /// Only tasks due before this time (RFC3339 UTC, as stored).
    pub due_before: Option<String>,
    /// At most this many, after skipping `offset` (a page of a large board).
    pub limit: Option<i64>,
    pub offset: i64,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Runs `domain::write::apply` in one transaction and commits before answering.
    async fn apply(&self, req: WriteRequest) -> AppResult<Applied>;
    async fn snapshot(&self, board: &str) -> AppResult<Snapshot>;
    /// The board's last sequence number, without reading the board.
    async fn seq(&self, board: &str) -> AppResult<i64>;
    async fn tasks(&self, board: &str, filter: TaskFilter) -> AppResult<Vec<Task>>;
    async fn task(&self, board: &str, id: i64) -> AppResult<Option<Task>>;
    /// Every agent of the team, each with its latest report on any board.
    async fn agents(&self) -> AppResult<Vec<Agent>>;
    /// One agent as its latest report on any board left it.
    async fn agent(&self, id: &str) -> AppResult<Option<Agent>>;
    /// Newest first; `before` is an activity id.
    async fn activity(&self, board: &str, limit: i64, before: Option<i64>) -> AppResult<Vec<Activity>>;
    /// One task's entries, newest first, kept after the task is deleted.
    async fn task_history(&self, board: &str, task_id: i64) -> AppResult<Vec<Activity>>;
    /// Agents not offline whose last report is older than `before` (RFC3339).
    async fn silent_agents(&self, board: &str, before: &str) -> AppResult<Vec<String>>;
    /// Claimed tasks whose lease ran out before `now` (RFC3339).
    async fn expired_leases(&self, board: &str, now: &str) -> AppResult<Vec<i64>>;
    async fn setting(&self, key: &str) -> AppResult<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str) -> AppResult<()>;
    /// Every per-person token ever made, revoked ones too.
    async fn tokens(&self) -> AppResult<Vec<StoredToken>>;
    async fn create_token(&self, token: StoredToken) -> AppResult<()>;
    async fn revoke_token(&self, id: &str, now: &str) -> AppResult<()>;
    /// Every board, by id.
    async fn boards(&self) -> AppResult<Vec<BoardInfo>>;
    async fn board(&self, id: &str) -> AppResult<Option<BoardInfo>>;
    /// False when the id is taken.
    async fn create_board(&self, board: BoardInfo) -> AppResult<bool>;
    /// Saves name, description and archived; false when the board is gone.
    async fn update_board(&self, board: BoardInfo) -> AppResult<bool>;
    /// Deletes the board and everything on it; false when there was no such board.
    async fn delete_board(&self, id: &str) -> AppResult<bool>;
    /// The board a task is on (task ids are unique across boards).
    async fn task_board(&self, id: i64) -> AppResult<Option<String>>;
    /// A board's labels, by id.
    async fn labels(&self, board: &str) -> AppResult<Vec<Label>>;
    /// Everything on a board as of one moment (an export).
    async fn contents(&self, board: &str) -> AppResult<BoardContents>;
    /// A task's comments, oldest first.
    async fn comments(&self, board: &str, task_id: i64) -> AppResult<Vec<Comment>>;
    /// A comment by id, on any board.
    async fn comment(&self, id: i64) -> AppResult<Option<Comment>>;
    /// A person's notifications (by person key), newest first, at most `limit`.
    async fn notifications(
        &self,
        person: &str,
        unread_only: bool,
        limit: i64,
    ) -> AppResult<Vec<Notification>>;
    async fn unread_notifications(&self, person: &str) -> AppResult<i64>;
    /// Marks some (`ids`) or all of a person's unread notifications read; returns those it marked.
    async fn mark_notifications_read(
        &self,
        person: &str,
        ids: Option<Vec<i64>>,
        now: &str,
    ) -> AppResult<Vec<i64>>;
    async fn create_invite(&self, invite: Invite) -> AppResult<()>;
    /// An invite by the hash of its code.
    async fn invite(&self, hash: &str) -> AppResult<Option<Invite>>;
    /// Uses the invite and stores `token`, in one transaction; false when the code is used,
    /// expired or unknown by then.
    async fn redeem_invite(&self, hash: &str, now: &str, token: StoredToken) -> AppResult<bool>;
    /// Stores a webhook of `board` (with its secret) and returns it as listed (without).
    async fn create_webhook(&self, board: &str, new: NewWebhook, by: &str, now: &str) -> AppResult<Webhook>;
    /// A board's webhooks, by id, without their secrets.
    async fn webhooks(&self, board: &str) -> AppResult<Vec<Webhook>>;
    async fn webhook(&self, id: i64) -> AppResult<Option<Webhook>>;
    /// Saves url, events, format and active; false when it is gone.
    async fn save_webhook(&self, hook: Webhook) -> AppResult<bool>;
    /// Deletes it with its deliveries; false when it was gone.
    async fn delete_webhook(&self, id: i64) -> AppResult<bool>;
    /// Queues a delivery outside any change (a test ping), due now.
    async fn queue_ping(&self, hook: &Webhook, seq: i64, payload: String, now: &str) -> AppResult<Delivery>;
    /// A webhook's last `DELIVERIES_SHOWN` deliveries, newest first.
    async fn deliveries(&self, webhook_id: i64) -> AppResult<Vec<Delivery>>;
    /// Deliveries to send now: of each active webhook its oldest pending one (so a hook's
    /// receiver gets them in order), when due and not claimed by a live worker.
    async fn due_deliveries(&self, now: &str, limit: i64) -> AppResult<Vec<DueDelivery>>;
    /// Claims a due delivery until `until`: true for exactly one of several workers asking.
    async fn claim_delivery(&self, id: i64, now: &str, until: &str) -> AppResult<bool>;
    /// Records how an attempt ended.
    async fn finish_delivery(&self, id: i64, attempt: Attempt) -> AppResult<()>;
    /// Commits what is queued, checkpoints, and refuses writes from then on (shutdown).
    async fn close(&self);
}

/// A delivery due to be sent, with what sending it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub board: String,
    pub url: String,
    pub secret: String,
    pub format: Format,
    pub event: String,
    /// The payload as queued, without the delivery id (`webhooks::body` adds it).
    pub payload: String,
    pub attempts: i64,
    pub created_at: String,
}

/// How one attempt at a delivery ended.
#[derive(Debug, Clone)]
pub enum Attempt {
    Delivered {
        code: i64,
    },
    /// `retry_at`: when to try again; `None`: given up (status `failed`).
    Failed {
        code: Option<i64>,
        error: Option<String>,
        retry_at: Option<String>,
    },
}

/// Row access inside one write transaction. Errors are internal: the rules decide what a
/// client is told.
pub trait Tx {
    fn board_exists(&mut self, board: &str) -> AppResult<bool>;
    /// Increments and returns the board's sequence number.
    fn next_seq(&mut self, board: &str) -> AppResult<i64>;
    fn task(&mut self, board: &str, id: i64) -> AppResult<Option<Task>>;
    /// The column's tasks in display order, as `(id, position)`.
    fn column(&mut self, board: &str, status: Status) -> AppResult<Vec<(i64, i64)>>;
    /// The position after the column's last task (0 for an empty column), from the index.
    fn end_of_column(&mut self, board: &str, status: Status) -> AppResult<i64>;
    fn insert_task(
        &mut self,
        board: &str,
        new: &NewTask,
        position: i64,
        by: &str,
        now: &str,
    ) -> AppResult<Task>;
    fn save_task(&mut self, board: &str, task: &Task) -> AppResult<()>;
    /// Moves tasks to new positions because another was put before them, returned as stored,
    /// in the order given. Not edits of those tasks: their versions stay, so nobody's edit of
    /// one meets a false conflict.
    fn shift_tasks(&mut self, board: &str, shifts: &[Shift]) -> AppResult<Vec<Shifted>>;
    fn delete_task(&mut self, board: &str, id: i64) -> AppResult<()>;
    /// Moves a task from board `from` to `task.board`, saved as `task` (its id stays), with
    /// its history.
    fn rehome_task(&mut self, from: &str, task: &Task) -> AppResult<()>;
    /// The unassigned, unclaimed, ready (every blocker DONE) TODO task at the top of its column.
    fn next_claimable(&mut self, board: &str) -> AppResult<Option<Task>>;
    /// Replaces the tasks `task_id` waits for, keeping their order.
    fn set_blockers(&mut self, board: &str, task_id: i64, blockers: &[i64]) -> AppResult<()>;
    /// Every `(task, blocker)` pair of the board: the work graph, for the cycle check.
    fn blocker_pairs(&mut self, board: &str) -> AppResult<Vec<(i64, i64)>>;
    /// The tasks waiting for `blocker_id`, by id.
    fn dependents(&mut self, board: &str, blocker_id: i64) -> AppResult<Vec<i64>>;
    /// The board a task id belongs to, whichever it is (`None`: no such task anywhere).
    fn board_of(&mut self, task_id: i64) -> AppResult<Option<String>>;
    /// Moves the lease of every task the agent holds to `until`, without a version change.
    fn renew_leases(&mut self, board: &str, agent: &str, until: &str) -> AppResult<()>;
    fn agent(&mut self, board: &str, id: &str) -> AppResult<Option<Agent>>;
    fn save_agent(&mut self, board: &str, agent: &Agent) -> AppResult<()>;
    fn insert_activity(
        &mut self,
        board: &str,
        seq: i64,
        entry: &NewActivity,
        now: &str,
    ) -> AppResult<Activity>;
    /// The board's labels, by id.
    fn labels(&mut self, board: &str) -> AppResult<Vec<Label>>;
    fn insert_label(&mut self, board: &str, label: &NewLabel) -> AppResult<Label>;
    fn save_label(&mut self, label: &Label) -> AppResult<()>;
    fn delete_label(&mut self, board: &str, id: i64) -> AppResult<()>;
    /// The board's tasks that carry label `id`.
    fn tasks_with_label(&mut self, board: &str, id: i64) -> AppResult<Vec<Task>>;
    fn insert_comment(
        &mut self,
        board: &str,
        task_id: i64,
        author: &str,
        body: &str,
        now: &str,
    ) -> AppResult<Comment>;
    fn comment(&mut self, board: &str, id: i64) -> AppResult<Option<Comment>>;
    fn save_comment(&mut self, comment: &Comment) -> AppResult<()>;
    fn delete_comment(&mut self, board: &str, id: i64) -> AppResult<()>;
    /// The names a board knows: who acted on it, its agents, and every person with a token.
    fn known_people(&mut self, board: &str) -> AppResult<Vec<String>>;
    /// The board's active webhooks, as `(id, event patterns)`.
    fn listening_webhooks(&mut self, board: &str) -> AppResult<Vec<(i64, Vec<String>)>>;
    /// Queues a delivery (the outbox), due now.
    fn queue_delivery(
        &mut self,
        board: &str,
        webhook_id: i64,
        event: &str,
        seq: i64,
        payload: &str,
        now: &str,
    ) -> AppResult<()>;
    /// Sets an active webhook of `board` inactive; `None` when there is no such active one.
    fn deactivate_webhook(&mut self, board: &str, id: i64) -> AppResult<Option<Webhook>>;
    fn insert_notification(
        &mut self,
        board: &str,
        by: &str,
        now: &str,
        new: &NewNotification,
    ) -> AppResult<Notification>;
    fn remembered(&mut self, credential: &str, op_id: &str) -> AppResult<Option<Value>>;
    fn remember(&mut self, credential: &str, op_id: &str, result: &Value, now: &str) -> AppResult<()>;
}
