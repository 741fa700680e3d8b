//! `BoardClient` inside the server: the board service called directly, as the REST handlers
//! call it, for the MCP tools served at `/mcp`.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{BoardClient, ClientResult};
use crate::App;
use crate::MAIN_BOARD;
use crate::domain::agent::Agent;
use crate::domain::board::{Actor, TaskRef};
use crate::domain::task::Task;
use crate::store::TaskFilter;

/// The board, as one authenticated caller sees it.
pub struct LocalBoard {
    app: App,
    /// Who is asking, exactly as the REST adapter would have it (same name, rate limit, role).
    actor: Actor,
}

impl LocalBoard {
    pub fn new(app: App, actor: Actor) -> LocalBoard {
        LocalBoard { app, actor }
    }
}

#[async_trait]
impl BoardClient for LocalBoard {
    async fn tasks(&self, filter: TaskFilter) -> ClientResult<Vec<Task>> {
        Ok(self.app.board.tasks(MAIN_BOARD, filter).await?)
    }

    async fn task(&self, id: i64) -> ClientResult<Task> {
        Ok(self.app.board.task(MAIN_BOARD, id).await?)
    }

    async fn create_task(&self, fields: Value) -> ClientResult<Task> {
        Ok(self.app.board.create_task(MAIN_BOARD, &self.actor, fields).await?)
    }

    async fn update_task(&self, id: i64, fields: Value) -> ClientResult<Task> {
        Ok(self.app.board.update_task(MAIN_BOARD, &self.actor, TaskRef::Route(id), fields).await?)
    }

    async fn next_task(&self, agent_id: &str, wait_seconds: Option<f64>) -> ClientResult<Option<Task>> {
        let body = json!({ "agentId": agent_id, "wait": wait_seconds });
        Ok(self.app.board.next_task(MAIN_BOARD, &self.actor, body).await?)
    }

    async fn report_progress(&self, id: i64, note: Value) -> ClientResult<Task> {
        Ok(self.app.board.report_progress(MAIN_BOARD, &self.actor, TaskRef::Route(id), note).await?)
    }

    async fn agent(&self, id: &str) -> ClientResult<Agent> {
        Ok(self.app.board.agent(MAIN_BOARD, id).await?)
    }

    async fn report_agent(&self, id: &str, report: Value) -> ClientResult<Agent> {
        Ok(self.app.board.report_agent(MAIN_BOARD, &self.actor, Some(id), report).await?)
    }
}
