//! A write as the board service asks the store for it (`WriteRequest`, `WriteOp`) and as it
//! committed (`Applied`, `Committed`, `Change`): the words shared by the service, the storage
//! port and the write rules, kept apart from the rules so that neither imports the other.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::activity::Activity;
use super::agent::{Agent, AgentReport};
use super::cards::{Comment, Label, LabelPatch, NewLabel};
use super::notifications::Notification;
use super::task::{Changes, NewTask, Shifted, Status, Task, TaskPatch};
use super::transfer::ImportPlan;
use crate::presence::User;

/// Who asks for a change, as far as the store must know.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub board: String,
    /// The name recorded as `createdBy`, `movedBy`, activity `user`…
    pub actor: String,
    /// `(credential, opId)`: a repeated pair returns the first result and applies nothing.
    pub idempotency: Option<(String, String)>,
    pub op: WriteOp,
}

#[derive(Debug, Clone)]
pub enum WriteOp {
    CreateTask(NewTask),
    UpdateTask {
        id: i64,
        patch: TaskPatch,
    },
    DeleteTask {
        id: i64,
    },
    /// `lease_until`: the new expiry of the agent's claims, which any heartbeat renews.
    ReportAgent {
        report: AgentReport,
        lease_until: String,
    },
    /// `task:claim` (`id`), or `task:next` (no `id`: the top unassigned TODO task).
    Claim {
        id: Option<i64>,
        agent: String,
        lease_until: String,
    },
    Release {
        id: i64,
    },
    /// `lease_until`: a note from the agent holding the task renews its lease. `agent`: the
    /// agent that says it is writing, which must hold the claim (checked in the transaction).
    Progress {
        id: i64,
        agent: Option<String>,
        message: String,
        percent: Option<f64>,
        lease_until: String,
    },
    /// Moves a task to another board, keeping its id: deleted on this board, created on
    /// `target` (in `status`, default its own, at `position`, default the column's end).
    MoveToBoard {
        id: i64,
        target: String,
        status: Option<Status>,
        position: Option<i64>,
    },
    /// A whole file's tasks, labels and comments, as one change.
    Import(Box<ImportPlan>),
    CreateLabel(NewLabel),
    UpdateLabel {
        id: i64,
        patch: LabelPatch,
    },
    /// Also takes the label off every task that carries it, in the same change.
    DeleteLabel {
        id: i64,
    },
    CreateComment {
        task_id: i64,
        body: String,
    },
    /// By its author, or anyone when `admin` (the caller's role).
    UpdateComment {
        id: i64,
        body: String,
        admin: bool,
    },
    DeleteComment {
        id: i64,
        admin: bool,
    },
    /// Gives back a task whose lease ran out (checked again inside the transaction).
    Requeue {
        id: i64,
    },
    /// Sets a webhook inactive after a day of failed deliveries (warroom acting, not a person).
    DisableWebhook {
        id: i64,
        reason: String,
    },
    /// A person came online (first tab) or went offline (last tab); `users` is the online list
    /// right after this change, which its `users:update` carries.
    Presence {
        name: String,
        joined: bool,
        users: Vec<User>,
    },
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub enum Applied {
    /// The change was made and committed under `seq`.
    Committed(Box<Committed>),
    /// The request changed nothing (every value was already current): no event, no version bump.
    Unchanged(Value),
    /// The `opId` was seen before: this is the first result, and nothing was applied.
    Replayed(Value),
}

#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: i64,
    /// RFC3339 UTC time of the change.
    pub at: String,
    pub change: Change,
    pub activity: Vec<Activity>,
    /// What the command answers (a task, an agent, or null), as stored for idempotent replays.
    pub result: Value,
    /// A second change, on another board, committed in the same transaction: a task moved
    /// between boards is deleted on one and created on the other, each under its own seq.
    pub then: Option<(String, Box<Committed>)>,
    /// Who is told, and what: `(person key, notification)`, stored in the same transaction.
    pub notifications: Vec<(String, Notification)>,
}

/// What happened, for the event bus and its subscribers (and, between instances, for Redis).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Change {
    TaskCreated {
        task: Task,
        /// Tasks renumbered because this one was put before them.
        shifted: Vec<Shifted>,
    },
    TaskUpdated {
        task: Task,
        changes: Changes,
        moved_from: Option<Status>,
        /// Tasks renumbered because this one was put before them.
        shifted: Vec<Shifted>,
        /// The agent whose current task this change set or cleared (claims, releases).
        agent: Option<Agent>,
    },
    TaskDeleted {
        task: Task,
        /// Tasks that waited for it, without it in their `blockedBy` now (version + 1 each).
        dependents: Vec<Task>,
    },
    AgentReported {
        agent: Agent,
        status_changed: bool,
    },
    Presence {
        name: String,
        joined: bool,
        users: Vec<User>,
    },
    /// A file was imported: every client of the board starts again from `sync:full`.
    BoardImported,
    LabelCreated(Label),
    LabelUpdated(Label),
    /// `tasks`: the tasks it was taken off, as they are now.
    LabelDeleted {
        id: i64,
        tasks: Vec<Task>,
    },
    CommentCreated(Comment),
    CommentUpdated(Comment),
    CommentDeleted {
        id: i64,
        task_id: i64,
    },
    /// Its activity entry is all clients are told.
    WebhookDisabled {
        id: i64,
    },
}

impl WriteRequest {
    /// The boards this write changes: its own, and a moved task's target.
    pub fn boards(&self) -> Vec<String> {
        match &self.op {
            WriteOp::MoveToBoard { target, .. } => vec![self.board.clone(), target.clone()],
            _ => vec![self.board.clone()],
        }
    }
}

impl WriteOp {
    /// What kind of command this is, stored with an `opId` so that reusing the id for another
    /// kind of command is refused rather than answered with the first command's result.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            WriteOp::CreateTask(_) => "create",
            WriteOp::UpdateTask { .. } => "update",
            WriteOp::DeleteTask { .. } => "delete",
            WriteOp::ReportAgent { .. } => "agent",
            WriteOp::Claim { id: Some(_), .. } => "claim",
            WriteOp::Claim { id: None, .. } => "next",
            WriteOp::Release { .. } => "release",
            WriteOp::Progress { .. } => "progress",
            WriteOp::Requeue { .. } => "requeue",
            WriteOp::MoveToBoard { .. } => "move",
            WriteOp::Import(_) => "import",
            WriteOp::CreateLabel(_) => "label:create",
            WriteOp::UpdateLabel { .. } => "label:update",
            WriteOp::DeleteLabel { .. } => "label:delete",
            WriteOp::CreateComment { .. } => "comment:create",
            WriteOp::UpdateComment { .. } => "comment:update",
            WriteOp::DeleteComment { .. } => "comment:delete",
            WriteOp::Presence { .. } => "presence",
            WriteOp::DisableWebhook { .. } => "webhook:disable",
        }
    }
}
