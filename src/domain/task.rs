//! Tasks: the card type, its status, and the validated inputs that create or change one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::agent::parse_agent_id;
use super::cards;
use super::graph::parse_blockers;
use super::input::{self, Fields, Input};
use crate::error::{AppError, AppResult};

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;

/// A card on the board, exactly as clients see it (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: i64,
    /// The board it is on; its id stays the same when it moves to another.
    pub board: String,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub assignee: Option<String>,
    /// Order within the status column, ascending from the top.
    pub position: i64,
    pub created_by: String,
    /// RFC3339, UTC.
    pub created_at: String,
    /// RFC3339, UTC.
    pub updated_at: String,
    /// Starts at 1 and increases by one on every change.
    pub version: i64,
    /// The agent holding the task (`task:claim`), or null.
    pub claimed_by: Option<String>,
    /// RFC3339, UTC: when the claim runs out unless the agent sends a heartbeat; or null.
    pub lease_expires_at: Option<String>,
    /// The claiming agent's last progress note, or null.
    pub progress: Option<Progress>,
    /// The tasks (same board) this one waits for, in the order set; it is ready when all are
    /// DONE. Defaulted so that events and stored results from before it still read.
    #[serde(default)]
    pub blocked_by: Vec<i64>,
    /// Ids of its board's labels, in the order set.
    pub labels: Vec<i64>,
    /// RFC3339, UTC, or null.
    pub due_at: Option<String>,
    /// How many comments it has.
    pub comment_count: i64,
}

/// An agent's note on how far it got (`task:progress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub message: String,
    /// 0–100, when the agent knows it.
    pub percent: Option<f64>,
    /// RFC3339, UTC.
    pub at: String,
}

impl Task {
    /// A claim lasts only while its task is being worked on by its agent.
    pub fn claim_still_holds(&self) -> bool {
        matches!(self.status, Status::InProgress | Status::Blocked)
            && self.claimed_by.is_some()
            && self.assignee == self.claimed_by
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Todo,
    InProgress,
    Blocked,
    Review,
    Done,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Todo, Status::InProgress, Status::Blocked, Status::Review, Status::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Todo => "TODO",
            Status::InProgress => "IN_PROGRESS",
            Status::Blocked => "BLOCKED",
            Status::Review => "REVIEW",
            Status::Done => "DONE",
        }
    }

    pub(crate) fn parse_value(value: Value) -> AppResult<Status> {
        match value {
            Value::String(s) => s.parse(),
            other => {
                Err(AppError::validation(format!("`status` must be a string, not {}", input::kind(&other))))
            }
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = AppError;

    /// Only the exact upper-case names: `done` is refused, so typos never silently land somewhere.
    fn from_str(s: &str) -> AppResult<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| {
            AppError::validation(format!(
                "`status` must be one of TODO, IN_PROGRESS, BLOCKED, REVIEW, DONE (got {:?})",
                s.chars().take(40).collect::<String>()
            ))
        })
    }
}

/// A validated new task: the body of `task:create` / `POST /api/tasks` besides its `opId`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewTask {
    /// 1–200 characters after trimming (`text` is accepted as its name too).
    pub title: String,
    /// Up to 10,000 characters; absent or null is empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(nullable)]
    pub description: String,
    /// TODO when absent.
    #[schema(required = false)]
    pub status: Status,
    /// A person's name or an agent id (`assignedTo` is accepted as its name too); absent, null
    /// or empty is unassigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Index in the column; absent puts the task at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 0)]
    pub position: Option<i64>,
    /// Task ids of the same board this one waits for; checked against the board by the write
    /// rules (they exist, on this board, no cycle).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<i64>,
    /// Label ids of its board, checked against the board's labels when written; null is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable)]
    pub labels: Vec<i64>,
    /// RFC3339 with any offset, kept in UTC; null is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
}

impl NewTask {
    /// A new task with only a title: TODO, unassigned, at the end of its column.
    pub fn titled(title: impl Into<String>) -> NewTask {
        NewTask {
            title: title.into(),
            description: String::new(),
            status: Status::Todo,
            assignee: None,
            position: None,
            blocked_by: Vec::new(),
            labels: Vec::new(),
            due_at: None,
        }
    }

    pub fn parse(fields: &mut Fields) -> AppResult<NewTask> {
        let title =
            fields.take(&["title", "text"])?.ok_or_else(|| AppError::validation("`title` is required"))?;
        let new = NewTask {
            title: input::text(title, "title", 1, TITLE_MAX)?,
            description: match fields.take(&["description"])? {
                None | Some(Value::Null) => String::new(),
                Some(v) => input::text(v, "description", 0, DESCRIPTION_MAX)?,
            },
            status: fields.take(&["status"])?.map(Status::parse_value).transpose()?.unwrap_or(Status::Todo),
            assignee: parse_assignee(fields)?.flatten(),
            position: input::optional_count(fields, "position")?,
            blocked_by: fields.take(&["blockedBy"])?.map(parse_blockers).transpose()?.unwrap_or_default(),
            labels: fields
                .take(&["labels"])?
                .filter(|v| !v.is_null())
                .map(cards::label_ids)
                .transpose()?
                .unwrap_or_default(),
            due_at: fields.take(&["dueAt"])?.map(cards::due_at).transpose()?.flatten(),
        };
        Ok(new)
    }

    /// `parse`'s rules, field by field, for a task built in Rust.
    fn check(self) -> AppResult<NewTask> {
        Ok(NewTask {
            title: input::text(self.title.into(), "title", 1, TITLE_MAX)?,
            description: input::text(self.description.into(), "description", 0, DESCRIPTION_MAX)?,
            status: self.status,
            assignee: self
                .assignee
                .map(|a| input::optional_text(a.into(), "assignee", input::NAME_MAX))
                .transpose()?
                .flatten(),
            position: self.position.map(|p| input::non_negative_int(p.into(), "position")).transpose()?,
            blocked_by: parse_blockers(self.blocked_by.into())?,
            labels: cards::label_ids(self.labels.into())?,
            due_at: self.due_at.map(|d| cards::due_at(d.into())).transpose()?.flatten(),
        })
    }
}

/// `task:create` / `POST /api/tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTask {
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    #[serde(flatten)]
    pub task: NewTask,
}

impl Input for CreateTask {
    fn parse(value: Value) -> AppResult<CreateTask> {
        let mut fields = Fields::new(value, "task:create payload")?;
        let op_id = input::op_id(&mut fields)?;
        let task = NewTask::parse(&mut fields)?;
        fields.finish()?;
        Ok(CreateTask { op_id, task })
    }

    fn check(self) -> AppResult<CreateTask> {
        Ok(CreateTask { op_id: input::check_op_id(self.op_id)?, task: self.task.check()? })
    }
}

/// A validated change to some fields of a task (`task:update`, `task:move`, `PUT`/`PATCH`).
/// Absent fields stay as they are; for `assignee` and `dueAt`, null clears.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskPatch {
    /// 1–200 characters after trimming (`text` is accepted as its name too).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub title: Option<String>,
    /// Up to 10,000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status: Option<Status>,
    /// A person's name or an agent id (`assignedTo` is accepted as its name too); null or an
    /// empty string unassigns (`Some(None)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    /// Index in the (new) column.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 0)]
    pub position: Option<i64>,
    /// Optimistic concurrency: refuse with CONFLICT unless the task is at this version.
    #[serde(rename = "version", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 0)]
    pub expected_version: Option<i64>,
    /// The whole new list (`[]` clears it); checked against the board by the write rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub blocked_by: Option<Vec<i64>>,
    /// Replaces the labels; null or `[]` clears them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<i64>>,
    /// RFC3339 with any offset, kept in UTC; null clears the due date (`Some(None)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub due_at: Option<Option<String>>,
}

impl TaskPatch {
    /// The fields `task:update` and the REST update routes accept besides the id.
    pub fn parse(fields: &mut Fields) -> AppResult<TaskPatch> {
        Ok(TaskPatch {
            title: fields
                .take(&["title", "text"])?
                .map(|v| input::text(v, "title", 1, TITLE_MAX))
                .transpose()?,
            description: fields
                .take(&["description"])?
                .map(|v| input::text(v, "description", 0, DESCRIPTION_MAX))
                .transpose()?,
            status: fields.take(&["status"])?.map(Status::parse_value).transpose()?,
            assignee: parse_assignee(fields)?,
            position: input::optional_count(fields, "position")?,
            expected_version: input::optional_count(fields, "version")?,
            blocked_by: fields.take(&["blockedBy"])?.map(parse_blockers).transpose()?,
            labels: fields
                .take(&["labels"])?
                .map(|v| if v.is_null() { Ok(Vec::new()) } else { cards::label_ids(v) })
                .transpose()?,
            due_at: fields.take(&["dueAt"])?.map(cards::due_at).transpose()?,
        })
    }

    /// `parse`'s rules, field by field, for a patch built in Rust.
    fn check(self) -> AppResult<TaskPatch> {
        let count = |n: Option<i64>, field| n.map(|n| input::non_negative_int(n.into(), field)).transpose();
        Ok(TaskPatch {
            title: self.title.map(|t| input::text(t.into(), "title", 1, TITLE_MAX)).transpose()?,
            description: self
                .description
                .map(|d| input::text(d.into(), "description", 0, DESCRIPTION_MAX))
                .transpose()?,
            status: self.status,
            assignee: self
                .assignee
                .map(|a| input::optional_text(a.into(), "assignee", input::NAME_MAX))
                .transpose()?,
            position: count(self.position, "position")?,
            expected_version: count(self.expected_version, "version")?,
            blocked_by: self.blocked_by.map(|b| parse_blockers(b.into())).transpose()?,
            labels: self.labels.map(|l| cards::label_ids(l.into())).transpose()?,
            due_at: self.due_at.map(|d| cards::due_at(d.into())).transpose()?,
        })
    }

    /// `task:move { taskId, status, position? }`: status is required.
    pub fn parse_move(fields: &mut Fields) -> AppResult<TaskPatch> {
        let status = fields.take(&["status"])?.ok_or_else(|| AppError::validation("`status` is required"))?;
        Ok(TaskPatch {
            status: Some(Status::parse_value(status)?),
            position: input::optional_count(fields, "position")?,
            expected_version: input::optional_count(fields, "version")?,
            ..TaskPatch::default()
        })
    }
}

/// `task:update` / `PUT`/`PATCH /api/tasks/:id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTask {
    /// The task (`id` is accepted as its name too). Sockets must give it; a REST route names
    /// it, and a body may repeat it but not contradict it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub task_id: Option<i64>,
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    #[serde(flatten)]
    pub patch: TaskPatch,
}

impl Input for UpdateTask {
    fn parse(value: Value) -> AppResult<UpdateTask> {
        let mut fields = Fields::new(value, "task:update payload")?;
        let task_id = input::parse_task_id(&mut fields)?;
        let op_id = input::op_id(&mut fields)?;
        let patch = TaskPatch::parse(&mut fields)?;
        fields.finish()?;
        Ok(UpdateTask { task_id, op_id, patch })
    }

    fn check(self) -> AppResult<UpdateTask> {
        Ok(UpdateTask {
            task_id: self.task_id.map(|id| input::task_id(id.into(), "id")).transpose()?,
            op_id: input::check_op_id(self.op_id)?,
            patch: self.patch.check()?,
        })
    }
}

/// `task:progress` / `POST /api/tasks/:id/progress`: a note in the task's activity and on its card.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportProgress {
    /// The task (`id` is accepted as its name too), as for `UpdateTask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub task_id: Option<i64>,
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    /// 1–1,000 characters after trimming.
    pub message: String,
    /// 0–100; null or absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    pub percent: Option<f64>,
    /// The agent the note is from; without it, the task's holder (or the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub agent_id: Option<String>,
}

impl Input for ReportProgress {
    fn parse(value: Value) -> AppResult<ReportProgress> {
        let mut fields = Fields::new(value, "task:progress payload")?;
        let task_id = input::parse_task_id(&mut fields)?;
        let op_id = input::op_id(&mut fields)?;
        let message =
            fields.take(&["message"])?.ok_or_else(|| AppError::validation("`message` is required"))?;
        let note = ReportProgress {
            task_id,
            op_id,
            message: input::text(message, "message", 1, PROGRESS_MAX)?,
            percent: fields.take(&["percent"])?.filter(|v| !v.is_null()).map(percent).transpose()?,
            agent_id: fields.take(&["agentId"])?.map(|v| parse_agent_id(v, "agentId")).transpose()?,
        };
        fields.finish()?;
        Ok(note)
    }

    fn check(self) -> AppResult<ReportProgress> {
        Ok(ReportProgress {
            task_id: self.task_id.map(|id| input::task_id(id.into(), "id")).transpose()?,
            op_id: input::check_op_id(self.op_id)?,
            message: input::text(self.message.into(), "message", 1, PROGRESS_MAX)?,
            percent: self.percent.map(|p| percent(p.into())).transpose()?,
            agent_id: self.agent_id.map(|a| parse_agent_id(a.into(), "agentId")).transpose()?,
        })
    }
}

/// `task:claim` / `POST /api/tasks/:id/claim`: assign the task to the agent and start it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimTask {
    /// The task (`id` is accepted as its name too), as for `UpdateTask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub task_id: Option<i64>,
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    /// The agent that takes the task.
    pub agent_id: String,
}

impl Input for ClaimTask {
    fn parse(value: Value) -> AppResult<ClaimTask> {
        let mut fields = Fields::new(value, "task:claim payload")?;
        let task_id = input::parse_task_id(&mut fields)?;
        let op_id = input::op_id(&mut fields)?;
        let agent_id = agent_field(&mut fields)?;
        fields.finish()?;
        Ok(ClaimTask { task_id, op_id, agent_id })
    }

    fn check(self) -> AppResult<ClaimTask> {
        Ok(ClaimTask {
            task_id: self.task_id.map(|id| input::task_id(id.into(), "id")).transpose()?,
            op_id: input::check_op_id(self.op_id)?,
            agent_id: parse_agent_id(self.agent_id.into(), "agentId")?,
        })
    }
}

/// `task:release` / `POST /api/tasks/:id/release`: give the task back (TODO, unassigned).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseTask {
    /// The task (`id` is accepted as its name too), as for `UpdateTask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub task_id: Option<i64>,
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
}

impl Input for ReleaseTask {
    fn parse(value: Value) -> AppResult<ReleaseTask> {
        let mut fields = Fields::new(value, "task:release payload")?;
        let task_id = input::parse_task_id(&mut fields)?;
        let op_id = input::op_id(&mut fields)?;
        fields.finish()?;
        Ok(ReleaseTask { task_id, op_id })
    }

    fn check(self) -> AppResult<ReleaseTask> {
        Ok(ReleaseTask {
            task_id: self.task_id.map(|id| input::task_id(id.into(), "id")).transpose()?,
            op_id: input::check_op_id(self.op_id)?,
        })
    }
}

/// `task:next` / `POST /api/tasks/next`: claim the top ready task, waiting for one if asked.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NextTask {
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    /// The agent that takes the task.
    pub agent_id: String,
    /// Seconds (0–60, fractions allowed) to wait for a task when none is ready; null or absent
    /// answers at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 60)]
    pub wait: Option<f64>,
}

impl Input for NextTask {
    fn parse(value: Value) -> AppResult<NextTask> {
        let mut fields = Fields::new(value, "task:next payload")?;
        let op_id = input::op_id(&mut fields)?;
        let agent_id = agent_field(&mut fields)?;
        let wait = parse_wait(fields.take(&["wait"])?)?;
        fields.finish()?;
        Ok(NextTask { op_id, agent_id, wait: seconds(wait) })
    }

    fn check(self) -> AppResult<NextTask> {
        let wait = parse_wait(self.wait.map(Value::from))?;
        Ok(NextTask {
            op_id: input::check_op_id(self.op_id)?,
            agent_id: parse_agent_id(self.agent_id.into(), "agentId")?,
            wait: seconds(wait),
        })
    }
}

/// The longest wait an agent may ask for (SPEC: 0–60 s).
pub const WAIT_MAX: Duration = Duration::from_secs(60);

/// `wait`: seconds, 0–60, fractions allowed; absent or null is 0 (answer at once).
pub fn parse_wait(value: Option<Value>) -> AppResult<Duration> {
    let refused = || AppError::validation("`wait` must be a number of seconds from 0 to 60");
    match value {
        None | Some(Value::Null) => Ok(Duration::ZERO),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(s) if (0.0..=WAIT_MAX.as_secs_f64()).contains(&s) => Ok(Duration::from_secs_f64(s)),
            _ => Err(refused()),
        },
        Some(_) => Err(refused()),
    }
}

/// `wait` as it is sent: none for no wait.
fn seconds(wait: Duration) -> Option<f64> {
    (!wait.is_zero()).then_some(wait.as_secs_f64())
}

impl NextTask {
    /// How long to wait for a task when none is ready.
    pub fn wait(&self) -> Duration {
        self.wait.map_or(Duration::ZERO, Duration::from_secs_f64)
    }
}

/// Progress notes are short: a line on a card.
pub const PROGRESS_MAX: usize = 1000;

/// `agentId`, required.
fn agent_field(fields: &mut Fields) -> AppResult<String> {
    let value = fields.take(&["agentId"])?.ok_or_else(|| AppError::validation("`agentId` is required"))?;
    parse_agent_id(value, "agentId")
}

fn percent(value: Value) -> AppResult<f64> {
    match value.as_f64() {
        Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(AppError::validation("`percent` must be a number from 0 to 100")),
    }
}

fn parse_assignee(fields: &mut Fields) -> AppResult<Option<Option<String>>> {
    fields
        .take(&["assignee", "assignedTo"])?
        .map(|v| input::optional_text(v, "assignee", input::NAME_MAX))
        .transpose()
}

/// One field's change, for history: `{ from, to }`.
pub type Changes = Map<String, Value>;

/// Notes one field's change in `changes`.
pub fn record(changes: &mut Changes, field: &str, from: Value, to: Value) {
    changes.insert(field.to_owned(), json!({ "from": from, "to": to }));
}

/// Sets `field` to `new` when one is given and differs, recording the change under `name`;
/// whether it changed.
fn set<T: Clone + PartialEq + Serialize>(
    changes: &mut Changes,
    name: &str,
    field: &mut T,
    new: &Option<T>,
) -> bool {
    match new {
        Some(value) if value != field => {
            record(changes, name, json!(field), json!(value));
            *field = value.clone();
            true
        }
        _ => false,
    }
}

/// What an accepted patch does to a task, before positions are decided.
#[derive(Debug, Clone)]
pub struct Edit {
    pub task: Task,
    pub changes: Changes,
    /// The status before, when the patch changes it.
    pub moved_from: Option<Status>,
}

impl TaskPatch {
    /// Applies the non-positional fields. Values equal to the current ones are not changes.
    /// Positions are decided by `place`, which needs the column.
    pub fn apply(&self, current: &Task) -> Edit {
        let mut task = current.clone();
        let mut changes = Changes::new();
        let c = &mut changes;
        set(c, "title", &mut task.title, &self.title);
        set(c, "description", &mut task.description, &self.description);
        set(c, "assignee", &mut task.assignee, &self.assignee);
        set(c, "blockedBy", &mut task.blocked_by, &self.blocked_by);
        set(c, "labels", &mut task.labels, &self.labels);
        set(c, "dueAt", &mut task.due_at, &self.due_at);
        let before = task.status;
        let moved_from = set(c, "status", &mut task.status, &self.status).then_some(before);
        Edit { task, changes, moved_from }
    }

    /// Whether the task's place in its column must be decided again.
    pub fn needs_placement(&self, edit: &Edit) -> bool {
        edit.moved_from.is_some() || self.position.is_some()
    }
}

/// A task that changes place only because another one was put before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub id: i64,
    pub position: i64,
}

/// A task after its `Shift`, serialised as clients are told of it (the payload of its
/// `task:{id}:updated`, an item of `task:shifted`): all that changed is its position, as its
/// version and time stay. Only these are read back,
/// and carried between instances, for a move to the top of a long column that shifts
/// thousands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shifted {
    pub id: i64,
    pub position: i64,
    pub version: i64,
    pub updated_at: String,
}

/// Decides where a task lands in a column. `others` are the column's other tasks in display
/// order, as `(id, position)`. Without an index it goes to the end, touching nobody; with one,
/// the column is renumbered 0, 1, 2… so that `position` is the index every client sees.
pub fn place(others: &[(i64, i64)], index: Option<i64>) -> (i64, Vec<Shift>) {
    match index {
        None => (others.iter().map(|(_, p)| p + 1).max().unwrap_or(0), Vec::new()),
        Some(index) => {
            let index = index.min(others.len() as i64);
            let shifts = others
                .iter()
                .enumerate()
                .filter_map(|(k, &(id, position))| {
                    let k = k as i64;
                    let wanted = if k < index { k } else { k + 1 };
                    (wanted != position).then_some(Shift { id, position: wanted })
                })
                .collect();
            (index, shifts)
        }
    }
}

/// The changes recorded for a new task: every field from nothing.
pub fn creation_changes(task: &Task) -> Changes {
    let mut changes = Changes::new();
    record(&mut changes, "title", Value::Null, json!(task.title));
    if !task.description.is_empty() {
        record(&mut changes, "description", Value::Null, json!(task.description));
    }
    record(&mut changes, "status", Value::Null, json!(task.status));
    if task.assignee.is_some() {
        record(&mut changes, "assignee", Value::Null, json!(task.assignee));
    }
    if !task.blocked_by.is_empty() {
        record(&mut changes, "blockedBy", Value::Null, json!(task.blocked_by));
    }
    if !task.labels.is_empty() {
        record(&mut changes, "labels", Value::Null, json!(task.labels));
    }
    if task.due_at.is_some() {
        record(&mut changes, "dueAt", Value::Null, json!(task.due_at));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed input's wire JSON parses back to the same input.
    fn round_trips<T: Input + Serialize + PartialEq + fmt::Debug + Clone>(input: T) -> Value {
        let wire = serde_json::to_value(&input).unwrap();
        assert_eq!(T::parse(wire.clone()).unwrap(), input, "{wire}");
        assert_eq!(input.clone().check().unwrap(), input);
        wire
    }

    #[test]
    fn a_new_task_round_trips_through_its_wire_json() {
        let wire = round_trips(CreateTask { op_id: None, task: NewTask::titled("Write the docs") });
        assert_eq!(wire, json!({ "title": "Write the docs", "status": "TODO" }));
        let task = NewTask {
            description: "all of them".into(),
            status: Status::Review,
            assignee: Some("Ana".into()),
            position: Some(2),
            blocked_by: vec![3, 1],
            labels: vec![7],
            due_at: Some("2027-01-31T17:00:00.000Z".into()),
            ..NewTask::titled("Write the docs")
        };
        round_trips(CreateTask { op_id: Some("op-1".into()), task });
    }

    #[test]
    fn a_patch_keeps_absent_and_null_apart_on_the_wire() {
        let clear = TaskPatch {
            assignee: Some(None),
            due_at: Some(None),
            labels: Some(vec![]),
            ..Default::default()
        };
        let wire = round_trips(UpdateTask { patch: clear, ..Default::default() });
        assert_eq!(wire, json!({ "assignee": null, "dueAt": null, "labels": [] }));

        let untouched = round_trips(UpdateTask { task_id: Some(4), ..Default::default() });
        assert_eq!(untouched, json!({ "taskId": 4 }));

        let set = TaskPatch {
            title: Some("t".into()),
            description: Some(String::new()),
            status: Some(Status::Done),
            assignee: Some(Some("bot-1".into())),
            position: Some(0),
            expected_version: Some(3),
            blocked_by: Some(vec![]),
            labels: Some(vec![1, 2]),
            due_at: Some(Some("2027-01-31T17:00:00.000Z".into())),
        };
        let wire = round_trips(UpdateTask { op_id: Some("op".into()), patch: set, ..Default::default() });
        assert_eq!(wire["version"], 3);
    }

    #[test]
    fn agents_notes_and_claims_round_trip() {
        round_trips(ReportProgress {
            task_id: Some(9),
            op_id: None,
            message: "halfway".into(),
            percent: Some(50.0),
            agent_id: Some("bot-1".into()),
        });
        round_trips(ReportProgress {
            task_id: None,
            op_id: None,
            message: "x".into(),
            percent: None,
            agent_id: None,
        });
        round_trips(NextTask { op_id: None, agent_id: "bot-1".into(), wait: Some(2.5) });
        round_trips(ClaimTask { task_id: Some(3), op_id: Some("op".into()), agent_id: "bot-1".into() });
        assert_eq!(round_trips(ReleaseTask { task_id: Some(3), op_id: None }), json!({ "taskId": 3 }));
        assert_eq!(
            round_trips(NextTask { op_id: None, agent_id: "b".into(), wait: None }),
            json!({ "agentId": "b" })
        );
    }

    #[test]
    fn an_input_built_in_rust_meets_the_rules_a_parsed_one_does() {
        let blank = CreateTask { op_id: None, task: NewTask::titled("  ") };
        let parsed = CreateTask::parse(serde_json::to_value(&blank).unwrap()).unwrap_err();
        assert_eq!(blank.check().unwrap_err().to_string(), parsed.to_string());

        let trimmed = CreateTask {
            op_id: None,
            task: NewTask { assignee: Some(String::new()), ..NewTask::titled(" a ") },
        };
        let task = trimmed.check().unwrap().task;
        assert_eq!((task.title.as_str(), task.assignee), ("a", None));

        let far = NextTask { op_id: None, agent_id: "bot".into(), wait: Some(61.0) };
        assert!(far.check().is_err());
        let unsigned = UpdateTask {
            patch: TaskPatch { position: Some(-1), ..Default::default() },
            ..Default::default()
        };
        assert!(unsigned.check().is_err());
    }

    #[test]
    fn placing_without_an_index_goes_to_the_end_and_moves_nobody() {
        assert_eq!(place(&[(1, 0), (2, 5)], None), (6, vec![]));
        assert_eq!(place(&[], None), (0, vec![]));
    }

    #[test]
    fn placing_at_an_index_renumbers_the_column_densely() {
        let (pos, shifts) = place(&[(1, 0), (2, 1), (3, 7)], Some(1));
        assert_eq!(pos, 1);
        assert_eq!(shifts, vec![Shift { id: 2, position: 2 }, Shift { id: 3, position: 3 }]);
    }

    #[test]
    fn an_index_past_the_end_is_clamped() {
        assert_eq!(place(&[(1, 0)], Some(99)), (1, vec![]));
    }

    #[test]
    fn statuses_are_only_the_exact_upper_case_names() {
        assert_eq!("DONE".parse::<Status>().unwrap(), Status::Done);
        assert!("done".parse::<Status>().is_err());
    }

    #[test]
    fn a_patch_with_current_values_changes_nothing() {
        let task = Task {
            id: 1,
            board: "main".into(),
            title: "a".into(),
            description: String::new(),
            status: Status::Todo,
            assignee: None,
            position: 0,
            created_by: "x".into(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
            claimed_by: None,
            lease_expires_at: None,
            progress: None,
            blocked_by: Vec::new(),
            labels: Vec::new(),
            due_at: None,
            comment_count: 0,
        };
        let patch = TaskPatch { title: Some("a".into()), assignee: Some(None), ..Default::default() };
        let edit = patch.apply(&task);
        assert!(edit.changes.is_empty());
        assert!(edit.moved_from.is_none());
    }
}
