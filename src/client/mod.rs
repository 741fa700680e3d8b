//! The board as agents and scripts use it: one `BoardClient` interface, reached over REST
//! (`warroom mcp`, `warroom task`) or in-process (`/mcp`), and the agent's steps built on it.
//!
//! Every front end for agents (MCP over stdio, MCP over HTTP, the command line) is written
//! once against `BoardClient`; only how a call reaches `domain::board::Board` differs. Calls
//! carry the service's typed inputs (`CreateTask`, `UpdateTask`…): in-process they go to the
//! service as they are, over REST as their wire JSON. Either way the board service is the one
//! place that validates them, and a refusal reads the same from every front end.

pub mod cli;
mod local;
mod rest;

use std::fmt;

use async_trait::async_trait;
use clap::Args;
use serde_json::{Value, json};

use std::sync::Arc;

use crate::domain::agent::{Agent, AgentReport, AgentStatus, ReportAgent};
use crate::domain::boards::BoardInfo;
use crate::domain::cards::{Comment, CreateComment};
use crate::domain::notifications::Notification;
use crate::domain::storage::TaskFilter;
use crate::domain::task::{CreateTask, NextTask, ReportProgress, Status, Task, TaskPatch, UpdateTask};
use crate::error::AppError;

pub use local::LocalBoard;
pub use rest::RestClient;

/// A refusal or failure as the caller sees it: a SPEC code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// A SPEC code (`TASK_NOT_FOUND`, `CONFLICT`…), or `UNREACHABLE` when no server answered.
    pub code: String,
    pub message: String,
}

pub type ClientResult<T> = Result<T, ClientError>;

impl ClientError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ClientError {
        ClientError { code: code.into(), message: message.into() }
    }

    /// The wire shape of every warroom error: `{ "error": { code, message } }`.
    pub fn to_json(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message } })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ClientError {}

impl From<AppError> for ClientError {
    fn from(err: AppError) -> ClientError {
        err.log("an agent's call");
        ClientError::new(err.code(), err.to_string())
    }
}

/// What agents and scripts do with the board, in the board service's own inputs.
#[async_trait]
pub trait BoardClient: Send + Sync {
    /// Tasks in board order (column, then position).
    async fn tasks(&self, filter: TaskFilter) -> ClientResult<Vec<Task>>;
    async fn task(&self, id: i64) -> ClientResult<Task>;
    async fn create_task(&self, input: CreateTask) -> ClientResult<Task>;
    /// Changes only the fields the patch gives.
    async fn update_task(&self, id: i64, input: UpdateTask) -> ClientResult<Task>;
    /// Claims the top ready TODO task for the agent; `None` when there is none, after waiting
    /// up to `wait` seconds (0–60) for one.
    async fn next_task(&self, input: NextTask) -> ClientResult<Option<Task>>;
    async fn report_progress(&self, id: i64, note: ReportProgress) -> ClientResult<Task>;
    async fn agent(&self, id: &str) -> ClientResult<Agent>;
    /// The agent's status report, which is also its heartbeat (it renews the agent's leases).
    async fn report_agent(&self, report: ReportAgent) -> ClientResult<Agent>;
    /// The same client on another board (tasks named by id are reached on any board anyway).
    fn on_board(&self, board: &str) -> ClientResult<Arc<dyn BoardClient>>;
    /// The boards the credential can see.
    async fn boards(&self) -> ClientResult<Vec<BoardInfo>>;
    /// A task's comments, oldest first.
    async fn comments(&self, task_id: i64) -> ClientResult<Vec<Comment>>;
    async fn add_comment(&self, task_id: i64, comment: CreateComment) -> ClientResult<Comment>;
    /// The caller's notifications, newest first.
    async fn notifications(&self, unread_only: bool) -> ClientResult<Vec<Notification>>;
}

// ---- the agent's steps, shared by the MCP tools and the command line ----

/// Records a progress note and, when `agent_id` holds the task, sends a heartbeat: an agent
/// that keeps reporting progress keeps its claim without a separate status call.
pub async fn report_progress(
    board: &dyn BoardClient,
    agent_id: &str,
    id: i64,
    message: &str,
    percent: Option<f64>,
) -> ClientResult<Task> {
    let note = progress_note(agent_id, message, percent);
    // The server refuses the note (CONFLICT) unless this agent holds the task.
    let task = board.report_progress(id, note).await?;
    board.report_agent(agent_report(agent_id, AgentStatus::Busy, Some(id))).await?;
    Ok(task)
}

/// Moves the task to DONE, after an optional closing note (at 100%), if the agent holds it:
/// an agent whose claim ended (released, requeued, reassigned) is refused with CONFLICT. The
/// agent is then reported idle, so the agents panel does not show it busy on finished work.
pub async fn complete_task(
    board: &dyn BoardClient,
    agent_id: &str,
    id: i64,
    summary: Option<&str>,
) -> ClientResult<Task> {
    let mut held = board.task(id).await?;
    if held.claimed_by.as_deref() != Some(agent_id) {
        return Err(ClientError::new("CONFLICT", format!("Task {id} is not claimed by {agent_id}")));
    }
    if let Some(summary) = summary {
        held = board.report_progress(id, progress_note(agent_id, summary, Some(100.0))).await?;
    }
    // At the version it was held at: a claim that ended since makes this a CONFLICT too.
    let patch = TaskPatch {
        status: Some(Status::Done),
        expected_version: Some(held.version),
        ..TaskPatch::default()
    };
    let done = board.update_task(id, UpdateTask { patch, ..UpdateTask::default() }).await?;
    let agent = board.agent(agent_id).await?;
    if agent.current_task_id == Some(id) {
        board.report_agent(agent_report(agent_id, AgentStatus::Idle, None)).await?;
    }
    Ok(done)
}

/// The agent's status, on task `current` or on none.
fn agent_report(agent_id: &str, status: AgentStatus, current: Option<i64>) -> ReportAgent {
    let report = AgentReport { id: agent_id.to_owned(), name: None, status, current_task_id: Some(current) };
    ReportAgent { op_id: None, report }
}

/// A note from the agent, on the task its call names.
fn progress_note(agent_id: &str, message: &str, percent: Option<f64>) -> ReportProgress {
    ReportProgress {
        task_id: None,
        op_id: None,
        message: message.to_owned(),
        percent,
        agent_id: Some(agent_id.to_owned()),
    }
}

// ---- settings shared by `warroom mcp` and `warroom task` ----

/// Where the board is and the key to it.
#[derive(Debug, Clone, Args)]
pub struct Remote {
    /// The warroom server.
    #[arg(long, env = "WARROOM_URL", default_value = "http://localhost:8080", global = true)]
    pub url: String,
    /// The team key (or a personal token).
    #[arg(long, env = "WAAAH_API_KEY", hide_env_values = true, global = true)]
    pub key: Option<String>,
    /// The board to work on (tasks named by number are reached on any board).
    #[arg(long, env = "WARROOM_BOARD", default_value = crate::MAIN_BOARD, global = true)]
    pub board: String,
}

impl Remote {
    pub fn client(&self) -> anyhow::Result<RestClient> {
        let Some(key) = self.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) else {
            anyhow::bail!("no API key: pass --key KEY or set WAAAH_API_KEY");
        };
        let board = crate::domain::boards::parse_board_id(&self.board)
            .map_err(|e| anyhow::anyhow!("--board: {e}"))?;
        RestClient::new(&self.url, key, &board)
    }
}

/// The agent id given, or one made from the host name (SPEC: "default: the host name").
pub fn agent_id(given: Option<&str>) -> anyhow::Result<String> {
    let id = match given {
        Some(id) => id.trim().to_owned(),
        None => agent_id_from_host(&host_name()),
    };
    crate::domain::agent::parse_agent_id(Value::String(id), "--agent-id").map_err(|e| anyhow::anyhow!("{e}"))
}

/// Host names may hold characters agent ids may not (and be longer): keep what fits.
fn agent_id_from_host(host: &str) -> String {
    let id: String = host
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' })
        .take(64)
        .collect();
    if id.is_empty() { "agent".to_owned() } else { id }
}

/// The machine's name, without a dependency: Linux's proc file, then the `hostname` command
/// that macOS and Windows have.
fn host_name() -> String {
    if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname")
        && !name.trim().is_empty()
    {
        return name.trim().to_owned();
    }
    std::process::Command::new("hostname")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_name_becomes_a_valid_agent_id() {
        assert_eq!(agent_id_from_host("build-box.local\n"), "build-box.local");
        assert_eq!(agent_id_from_host("Adam's MacBook"), "Adam-s-MacBook");
        assert_eq!(agent_id_from_host(""), "agent");
        assert_eq!(agent_id_from_host(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn a_given_agent_id_is_checked_like_the_server_does() {
        assert_eq!(agent_id(Some("bot-1")).unwrap(), "bot-1");
        assert!(agent_id(Some("bot/1")).is_err());
        assert!(agent_id(None).is_ok());
    }
}
