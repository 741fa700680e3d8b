//! `BoardClient` inside the server: the board service called directly, as the REST handlers
//! call it, for the MCP tools served at `/mcp`.

use std::sync::Arc;

use async_trait::async_trait;

use super::{BoardClient, ClientResult};
use crate::App;
use crate::MAIN_BOARD;
use crate::domain::agent::{Agent, ReportAgent};
use crate::domain::board::{Actor, TaskRef};
use crate::domain::boards::BoardInfo;
use crate::domain::cards::{Comment, CreateComment};
use crate::domain::notifications::Notification;
use crate::domain::storage::TaskFilter;
use crate::domain::task::{CreateTask, NextTask, ReportProgress, Task, UpdateTask};

/// The board, as one authenticated caller sees it.
#[derive(Clone)]
pub struct LocalBoard {
    app: App,
    /// Who is asking, exactly as the REST adapter would have it (same name, rate limit, role).
    actor: Actor,
    /// The board lists, new tasks, claims and agents are on.
    board: String,
}

impl LocalBoard {
    /// The caller on board `main`.
    pub fn new(app: App, actor: Actor) -> LocalBoard {
        LocalBoard { app, actor, board: MAIN_BOARD.to_owned() }
    }

    /// The board of a task named by its number: any the caller can read.
    async fn board_of(&self, id: i64) -> ClientResult<String> {
        Ok(self.app.board.board_of_task(self.actor.scope.as_deref(), id).await?)
    }

    fn scope(&self) -> Option<&[String]> {
        self.actor.scope.as_deref()
    }
}

#[async_trait]
impl BoardClient for LocalBoard {
    async fn tasks(&self, filter: TaskFilter) -> ClientResult<Vec<Task>> {
        self.app.board.board_info(self.scope(), &self.board).await?;
        Ok(self.app.board.tasks(&self.board, filter).await?)
    }

    async fn task(&self, id: i64) -> ClientResult<Task> {
        Ok(self.app.board.task(&self.board_of(id).await?, id).await?)
    }

    async fn create_task(&self, input: CreateTask) -> ClientResult<Task> {
        self.app.board.board_info(self.scope(), &self.board).await?;
        Ok(self.app.board.create_task(&self.board, &self.actor, input).await?)
    }

    async fn update_task(&self, id: i64, input: UpdateTask) -> ClientResult<Task> {
        let board = self.board_of(id).await?;
        Ok(self.app.board.update_task(&board, &self.actor, TaskRef::Route(id), input).await?)
    }

    async fn next_task(&self, input: NextTask) -> ClientResult<Option<Task>> {
        self.app.board.board_info(self.scope(), &self.board).await?;
        Ok(self.app.board.next_task(&self.board, &self.actor, input).await?)
    }

    async fn report_progress(&self, id: i64, note: ReportProgress) -> ClientResult<Task> {
        let board = self.board_of(id).await?;
        Ok(self.app.board.report_progress(&board, &self.actor, TaskRef::Route(id), note).await?)
    }

    async fn agent(&self, id: &str) -> ClientResult<Agent> {
        Ok(self.app.board.agent(id).await?)
    }

    async fn report_agent(&self, report: ReportAgent) -> ClientResult<Agent> {
        Ok(self.app.board.report_agent(&self.board, &self.actor, report).await?)
    }

    fn on_board(&self, board: &str) -> ClientResult<Arc<dyn BoardClient>> {
        let board = crate::domain::boards::parse_board_id(board)?;
        Ok(Arc::new(LocalBoard { board, ..self.clone() }))
    }

    async fn boards(&self) -> ClientResult<Vec<BoardInfo>> {
        Ok(self.app.board.boards_for(self.scope()).await?.to_vec())
    }

    async fn comments(&self, task_id: i64) -> ClientResult<Vec<Comment>> {
        Ok(self.app.board.comments(&self.board_of(task_id).await?, task_id).await?)
    }

    async fn add_comment(&self, task_id: i64, comment: CreateComment) -> ClientResult<Comment> {
        let board = self.board_of(task_id).await?;
        Ok(self.app.board.create_comment(&board, &self.actor, TaskRef::Route(task_id), comment).await?)
    }

    async fn notifications(&self, unread_only: bool) -> ClientResult<Vec<Notification>> {
        Ok(self.app.board.notifications(&self.actor, unread_only).await?)
    }
}
