//! The board as Model Context Protocol tools, for AI agents: over stdio (`warroom mcp`, against
//! a running server's REST API) and over streamable HTTP at `/mcp` (in-process, see `http`).
//!
//! The tools are written once, in `BoardTools`, over a `client::BoardClient`; the two
//! transports differ only in the client they hand it. Tool failures are tool results with
//! `isError` and the board's `{ error: { code, message } }`, so the model reads why (a
//! JSON-RPC error would reach most MCP hosts as an opaque "internal error").

pub mod http;

use std::sync::{Arc, LazyLock};

use anyhow::Context;
use clap::Args;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{self, BoardClient, ClientResult, Remote};
use crate::domain::agent::{AgentReport, AgentStatus, ReportAgent};
use crate::domain::cards::CreateComment;
use crate::domain::storage::TaskFilter;
use crate::domain::task::{self, NewTask, NextTask, Status, Task, TaskPatch};

/// `warroom mcp`: the tools over stdio, for MCP hosts that start their servers as processes.
#[derive(Debug, Clone, Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub remote: Remote,
    /// Who this agent is on the board (claims, leases, the agents panel); default: the host name.
    #[arg(long, env = "WARROOM_AGENT_ID")]
    pub agent_id: Option<String>,
}

/// Serves the tools on stdin/stdout until the host closes them. Logs go to stderr only:
/// stdout carries the protocol.
pub async fn serve_stdio(args: McpArgs) -> anyhow::Result<()> {
    let board = Arc::new(args.remote.client()?);
    let agent_id = client::agent_id(args.agent_id.as_deref())?;
    tracing::info!(url = %args.remote.url, agent = %agent_id, "serving MCP tools on stdio");
    let running = BoardTools::new(board, agent_id)
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session on stdio")?;
    running.waiting().await.context("serving MCP on stdio")?;
    Ok(())
}

/// The board's tools for one agent.
#[derive(Clone)]
pub struct BoardTools {
    board: Arc<dyn BoardClient>,
    /// Claims, leases and status reports are this agent's.
    agent_id: String,
    tool_router: ToolRouter<BoardTools>,
}

/// The tools' definitions and schemas, built once: `/mcp` makes a `BoardTools` per request.
static TOOL_ROUTER: LazyLock<ToolRouter<BoardTools>> = LazyLock::new(BoardTools::tool_router);

impl BoardTools {
    pub fn new(board: Arc<dyn BoardClient>, agent_id: String) -> BoardTools {
        BoardTools { board, agent_id, tool_router: TOOL_ROUTER.clone() }
    }
}

/// A board column. Inlined in each schema: some MCP hosts do not follow `$ref`.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schemars(inline)]
pub enum Column {
    Todo,
    InProgress,
    Blocked,
    Review,
    Done,
}

impl From<Column> for Status {
    fn from(column: Column) -> Status {
        match column {
            Column::Todo => Status::Todo,
            Column::InProgress => Status::InProgress,
            Column::Blocked => Status::Blocked,
            Column::Review => Status::Review,
            Column::Done => Status::Done,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub enum AgentState {
    Idle,
    Busy,
    Error,
    Offline,
}

impl From<AgentState> for AgentStatus {
    fn from(state: AgentState) -> AgentStatus {
        match state {
            AgentState::Idle => AgentStatus::Idle,
            AgentState::Busy => AgentStatus::Busy,
            AgentState::Error => AgentStatus::Error,
            AgentState::Offline => AgentStatus::Offline,
        }
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListTasks {
    /// Only the tasks in this column.
    pub status: Option<Column>,
    /// Only the tasks assigned to this person or agent (case-insensitive); your agent id lists your own.
    pub assignee: Option<String>,
    /// Only the tasks whose title or description contains this text (case-insensitive).
    pub q: Option<String>,
    /// At most this many tasks, from the top of the board (default: all of them).
    pub limit: Option<u32>,
    /// Only the tasks with this label id.
    pub label: Option<i64>,
    /// Only the tasks due before this RFC3339 time.
    pub due_before: Option<String>,
    /// The board (its id); the one `warroom mcp --board` names (else main) unless given.
    pub board: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskId {
    /// The task's number, e.g. 42 for #42.
    pub task_id: i64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTask {
    /// 1–200 characters.
    pub title: String,
    /// Details, up to 10,000 characters.
    pub description: Option<String>,
    /// The column; TODO unless given.
    pub status: Option<Column>,
    /// A person's name or an agent id; unassigned unless given.
    pub assignee: Option<String>,
    /// Task numbers this one waits for (same board): it is ready, and claim_next_task offers
    /// it, only once all of them are DONE.
    pub blocked_by: Option<Vec<i64>>,
    /// Label ids of the board, in the order wanted.
    pub labels: Option<Vec<i64>>,
    /// When it is due: RFC3339, e.g. 2027-01-31T17:00:00Z.
    pub due_at: Option<String>,
    /// The board (its id); the one `warroom mcp --board` names (else main) unless given.
    pub board: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTask {
    /// The task's number.
    pub task_id: i64,
    /// 1–200 characters.
    pub title: Option<String>,
    /// Up to 10,000 characters.
    pub description: Option<String>,
    /// Moving a claimed task out of IN_PROGRESS/BLOCKED ends its claim.
    pub status: Option<Column>,
    /// A person's name or an agent id; an empty string unassigns.
    pub assignee: Option<String>,
    /// 0-based place in its column, top first; the end of the column when a status change omits it.
    pub position: Option<i64>,
    /// Apply only if the task is still at this version (refused with CONFLICT otherwise).
    pub version: Option<i64>,
    /// The whole new list of task numbers this one waits for; [] clears it. A cycle is refused.
    pub blocked_by: Option<Vec<i64>>,
    /// The whole new list of label ids; [] clears it.
    pub labels: Option<Vec<i64>>,
    /// When it is due (RFC3339); an empty string clears it.
    pub due_at: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ClaimNext {
    /// When nothing is ready, wait up to this many seconds (0–60) for a task instead of asking
    /// again: you are served in arrival order the moment one can be claimed. 0 by default.
    pub wait_seconds: Option<f64>,
    /// The board (its id); the one `warroom mcp --board` names (else main) unless given.
    pub board: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportProgress {
    /// The task's number.
    pub task_id: i64,
    /// What you did or are doing, in one line (up to 1,000 characters).
    pub message: String,
    /// How far along, 0–100, when you know.
    pub percent: Option<f64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteTask {
    /// The task's number.
    pub task_id: i64,
    /// What was done, recorded as the task's last progress note.
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportStatus {
    /// idle: waiting for work; busy: working; error: stuck and needs a person; offline: leaving.
    pub status: AgentState,
    /// A display name for the agents panel.
    pub name: Option<String>,
    /// The task you are working on (cleared when you report idle).
    pub current_task_id: Option<i64>,
    /// The board (its id); the one `warroom mcp --board` names (else main) unless given.
    pub board: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddComment {
    /// The task's number.
    pub task_id: i64,
    /// 1–10,000 characters; `@name` notifies that person or agent.
    pub body: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListNotifications {
    /// Only the unread ones (default true).
    pub unread_only: Option<bool>,
}

/// A result the model can read, with the same value as structured content.
fn answer(result: ClientResult<Value>) -> Result<CallToolResult, ErrorData> {
    Ok(match result {
        Ok(value) => CallToolResult::structured(value),
        Err(err) => CallToolResult::structured_error(err.to_json()),
    })
}

#[tool_router]
impl BoardTools {
    #[tool(
        description = "List the board's tasks in board order (by column, then top to bottom), optionally \
                       filtered by column, assignee or text. Each task has its id, title, description, status, \
                       assignee, claimedBy, leaseExpiresAt, progress and version.",
        annotations(title = "List tasks", read_only_hint = true)
    )]
    async fn list_tasks(&self, Parameters(args): Parameters<ListTasks>) -> Result<CallToolResult, ErrorData> {
        let filter = TaskFilter {
            status: args.status.map(Status::from),
            assignee: args.assignee.filter(|a| !a.trim().is_empty()),
            q: args.q.filter(|q| !q.trim().is_empty()),
            ..TaskFilter::default()
        };
        let limit = args.limit.map_or(usize::MAX, |n| n.max(1) as usize);
        let tasks = async {
            filtered(self.on(args.board.as_deref())?.tasks(filter).await?, args.label, args.due_before)
        };
        answer(tasks.await.map(|tasks| json!({ "tasks": tasks.into_iter().take(limit).collect::<Vec<_>>() })))
    }

    #[tool(
        description = "Read one task by its number, with its current status, assignee, claim, lease and progress.",
        annotations(title = "Get a task", read_only_hint = true)
    )]
    async fn get_task(&self, Parameters(args): Parameters<TaskId>) -> Result<CallToolResult, ErrorData> {
        answer(self.board.task(args.task_id).await.map(|task| json!({ "task": task })))
    }

    #[tool(
        description = "Create a task on the board (in TODO, unassigned, at the end of its column unless \
                       told otherwise). Everyone watching the board sees it at once.",
        annotations(
            title = "Create a task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false
        )
    )]
    async fn create_task(
        &self,
        Parameters(args): Parameters<CreateTask>,
    ) -> Result<CallToolResult, ErrorData> {
        let new = NewTask {
            title: args.title,
            description: args.description.unwrap_or_default(),
            status: args.status.map_or(Status::Todo, Status::from),
            assignee: args.assignee,
            position: None,
            blocked_by: args.blocked_by.unwrap_or_default(),
            labels: args.labels.unwrap_or_default(),
            due_at: args.due_at,
        };
        let input = task::CreateTask { op_id: None, task: new };
        let task = async { self.on(args.board.as_deref())?.create_task(input).await };
        answer(task.await.map(|task| json!({ "task": task })))
    }

    #[tool(
        description = "Take the next piece of work: claims the unassigned, ready (every task in its blockedBy DONE) TODO task at the top of its column \
                       for you, moving it to IN_PROGRESS, assigned to you, with a lease. Answers task: null when \
                       nothing is waiting; with wait_seconds, it waits up to that long for a task first. Keep the lease alive with report_progress (or report_status); if it \
                       runs out (LEASE_SECONDS, 300 s by default) the task goes back to TODO for someone else.",
        annotations(
            title = "Claim the next task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false
        )
    )]
    async fn claim_next_task(
        &self,
        Parameters(args): Parameters<ClaimNext>,
    ) -> Result<CallToolResult, ErrorData> {
        let input = NextTask { op_id: None, agent_id: self.agent_id.clone(), wait: args.wait_seconds };
        let next = async { self.on(args.board.as_deref())?.next_task(input).await };
        answer(next.await.map(|task| json!({ "task": task })))
    }

    #[tool(
        description = "Change a task's title, description, column, assignee or position; only the fields given \
                       change. Give version to refuse the change if someone else changed the task first.",
        annotations(
            title = "Update a task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    async fn update_task(
        &self,
        Parameters(args): Parameters<UpdateTask>,
    ) -> Result<CallToolResult, ErrorData> {
        let patch = TaskPatch {
            title: args.title,
            description: args.description,
            status: args.status.map(Status::from),
            assignee: args.assignee.map(Some),
            position: args.position,
            expected_version: args.version,
            blocked_by: args.blocked_by,
            labels: args.labels,
            // An empty string clears the due date.
            due_at: args.due_at.map(|due| Some(due).filter(|d| !d.is_empty())),
        };
        let input = task::UpdateTask { patch, ..task::UpdateTask::default() };
        answer(self.board.update_task(args.task_id, input).await.map(|task| json!({ "task": task })))
    }

    #[tool(
        description = "Tell the team how far you got on a task: the note shows on its card and in its history. \
                       On a task you claimed it also renews your lease, so report at least every few minutes.",
        annotations(
            title = "Report progress",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false
        )
    )]
    async fn report_progress(
        &self,
        Parameters(args): Parameters<ReportProgress>,
    ) -> Result<CallToolResult, ErrorData> {
        let task =
            client::report_progress(&*self.board, &self.agent_id, args.task_id, &args.message, args.percent)
                .await;
        answer(task.map(|task| json!({ "task": task })))
    }

    #[tool(
        description = "Finish a task: moves it to DONE (everyone gets the celebration), after recording the \
                       optional summary as its last progress note. Completing the task you were working on \
                       reports you idle.",
        annotations(
            title = "Complete a task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    async fn complete_task(
        &self,
        Parameters(args): Parameters<CompleteTask>,
    ) -> Result<CallToolResult, ErrorData> {
        let summary = args.summary.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let task = client::complete_task(&*self.board, &self.agent_id, args.task_id, summary).await;
        answer(task.map(|task| json!({ "task": task })))
    }

    #[tool(
        description = "Report your status to the agents panel (idle, busy, error, offline), optionally with the \
                       task you are on and a display name. It is also your heartbeat: it renews the leases of \
                       every task you hold.",
        annotations(
            title = "Report status",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    async fn report_status(
        &self,
        Parameters(args): Parameters<ReportStatus>,
    ) -> Result<CallToolResult, ErrorData> {
        let status = AgentStatus::from(args.status);
        let report = AgentReport {
            id: self.agent_id.clone(),
            name: args.name,
            status,
            current_task_id: match args.current_task_id {
                Some(id) => Some(Some(id)),
                // Idle means on nothing: the panel should not keep showing the last task.
                None if status == AgentStatus::Idle => Some(None),
                None => None,
            },
        };
        let report = ReportAgent { op_id: None, report };
        let agent = async { self.on(args.board.as_deref())?.report_agent(report).await };
        answer(agent.await.map(|agent| json!({ "agent": agent })))
    }

    #[tool(
        description = "List the boards (projects) you can work on, with their ids; pass an id as `board` to the \
                       other tools.",
        annotations(title = "List boards", read_only_hint = true)
    )]
    async fn list_boards(&self) -> Result<CallToolResult, ErrorData> {
        answer(self.board.boards().await.map(|boards| json!({ "boards": boards })))
    }

    #[tool(
        description = "Comment on a task, where the team discusses it; `@name` notifies that person or agent.",
        annotations(
            title = "Add a comment",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false
        )
    )]
    async fn add_comment(
        &self,
        Parameters(args): Parameters<AddComment>,
    ) -> Result<CallToolResult, ErrorData> {
        let comment = CreateComment { task_id: None, op_id: None, body: args.body };
        let comment = self.board.add_comment(args.task_id, comment).await;
        answer(comment.map(|comment| json!({ "comment": comment })))
    }

    #[tool(
        description = "Read a task's comment thread, oldest first.",
        annotations(title = "List comments", read_only_hint = true)
    )]
    async fn list_comments(&self, Parameters(args): Parameters<TaskId>) -> Result<CallToolResult, ErrorData> {
        answer(self.board.comments(args.task_id).await.map(|comments| json!({ "comments": comments })))
    }

    #[tool(
        description = "Your notifications, newest first: mentions of you, tasks assigned to you, and your tasks \
                       that became ready.",
        annotations(title = "List notifications", read_only_hint = true)
    )]
    async fn list_notifications(
        &self,
        Parameters(args): Parameters<ListNotifications>,
    ) -> Result<CallToolResult, ErrorData> {
        let list = self.board.notifications(args.unread_only.unwrap_or(true)).await;
        answer(list.map(|notifications| json!({ "notifications": notifications })))
    }
}

impl BoardTools {
    /// The client on the board a tool names, or on the default one.
    fn on(&self, board: Option<&str>) -> ClientResult<Arc<dyn BoardClient>> {
        match board {
            Some(board) => self.board.on_board(board),
            None => Ok(self.board.clone()),
        }
    }
}

/// The tasks with label `label` and due before `due_before`, for `list_tasks`: the tool reads
/// the board's list and narrows it here (then takes its `limit`).
fn filtered(tasks: Vec<Task>, label: Option<i64>, due_before: Option<String>) -> ClientResult<Vec<Task>> {
    let due_before = due_before
        .filter(|d| !d.trim().is_empty())
        .map(|d| crate::domain::cards::due_at(Value::String(d)))
        .transpose()?
        .flatten();
    Ok(tasks
        .into_iter()
        .filter(|t| due_before.as_ref().is_none_or(|d| t.due_at.as_ref().is_some_and(|due| due < d)))
        .filter(|t| label.is_none_or(|id| t.labels.contains(&id)))
        .collect())
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for BoardTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("warroom", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "warroom is the team's real-time task board; people and other agents see every change at once. \
                 You are agent `{}`. To work: claim_next_task takes the top TODO task (IN_PROGRESS, assigned to \
                 you, leased); report_progress as you go, which also renews the lease; complete_task when done. \
                 A lease that is not renewed runs out (300 s by default) and the task goes back to TODO. Use \
                 report_status to say you are idle, busy or stuck (error).",
                self.agent_id
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_are_exactly_the_boards_twelve() {
        let mut names: Vec<String> =
            BoardTools::tool_router().list_all().into_iter().map(|t| t.name.to_string()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "add_comment",
                "claim_next_task",
                "complete_task",
                "create_task",
                "get_task",
                "list_boards",
                "list_comments",
                "list_notifications",
                "list_tasks",
                "report_progress",
                "report_status",
                "update_task"
            ]
        );
    }
}
