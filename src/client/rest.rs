//! `BoardClient` over the REST API of a running server: what `warroom mcp` and `warroom task` use.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{BoardClient, ClientError, ClientResult};
use std::sync::Arc;

use crate::domain::agent::{Agent, ReportAgent, parse_agent_id};
use crate::domain::boards::{BoardInfo, parse_board_id};
use crate::domain::cards::{Comment, CreateComment};
use crate::domain::notifications::Notification;
use crate::domain::storage::TaskFilter;
use crate::domain::task::{CreateTask, NextTask, ReportProgress, Task, UpdateTask};
use crate::domain::webhooks::CreateWebhook;

/// A request that takes longer than this is reported as a failure rather than hanging an agent.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    base: String,
    key: String,
    /// The board lists, new tasks, claims and agents are on.
    board: String,
}

impl RestClient {
    pub fn new(url: &str, key: &str, board: &str) -> anyhow::Result<RestClient> {
        let base = url.trim().trim_end_matches('/').to_owned();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            anyhow::bail!("{base}: the URL must start with http:// or https://");
        }
        let http = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(RestClient { http, base, key: key.to_owned(), board: board.to_owned() })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key)
    }

    /// Sends, and reads the answer: the JSON body, `None` for 204, or the server's error.
    async fn send(&self, request: RequestBuilder) -> ClientResult<Option<Value>> {
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(Some(body));
        }
        Err(self.refusal(status, &body))
    }

    /// Every warroom error is `{ error: { code, message } }`; anything else is not warroom.
    fn refusal(&self, status: StatusCode, body: &Value) -> ClientError {
        let error = &body["error"];
        match (error["code"].as_str(), error["message"].as_str()) {
            (Some(code), Some(message)) => ClientError::new(code, message),
            _ => ClientError::new(
                "UNEXPECTED_RESPONSE",
                format!(
                    "{} answered HTTP {status} without a warroom error; is it a warroom server?",
                    self.base
                ),
            ),
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> ClientResult<T> {
        let body = self.send(request).await?.unwrap_or(Value::Null);
        self.decode(body)
    }

    fn decode<T: DeserializeOwned>(&self, body: Value) -> ClientResult<T> {
        serde_json::from_value(body).map_err(|e| {
            ClientError::new(
                "UNEXPECTED_RESPONSE",
                format!("{} sent an answer this client cannot read: {e}", self.base),
            )
        })
    }

    /// `GET /api/boards/:board/export`, as the server wrote it (JSON or CSV text).
    pub async fn export(&self, format: &str) -> ClientResult<String> {
        let path = format!("/api/boards/{}/export", self.board);
        let response = self
            .request(Method::GET, &path)
            .query(&[("format", format)])
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        if status.is_success() {
            return response.text().await.map_err(|e| self.unreachable(e));
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Err(self.refusal(status, &body))
    }

    /// `POST /api/boards/:board/import` of a file's bytes.
    pub async fn import(&self, file: Vec<u8>) -> ClientResult<Value> {
        let path = format!("/api/boards/{}/import", self.board);
        self.call(self.request(Method::POST, &path).body(file)).await
    }

    /// `POST /api/boards/:board/webhooks`: the webhook with its secret.
    pub async fn add_webhook(&self, body: &CreateWebhook) -> ClientResult<Value> {
        let path = format!("/api/boards/{}/webhooks", self.board);
        self.call(self.request(Method::POST, &path).json(body)).await
    }

    pub async fn webhooks(&self) -> ClientResult<Vec<Value>> {
        let path = format!("/api/boards/{}/webhooks", self.board);
        self.call(self.request(Method::GET, &path)).await
    }

    pub async fn remove_webhook(&self, id: i64) -> ClientResult<()> {
        self.send(self.request(Method::DELETE, &format!("/api/webhooks/{id}"))).await?;
        Ok(())
    }

    fn unreachable(&self, err: reqwest::Error) -> ClientError {
        let why = if err.is_timeout() { "no answer in 30 s".to_owned() } else { without_url(&err) };
        ClientError::new("UNREACHABLE", format!("cannot reach warroom at {}: {why}", self.base))
    }
}

/// reqwest's message names the URL, which ours already does; keep the cause.
fn without_url(err: &reqwest::Error) -> String {
    let mut cause = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { err.to_string() } else { cause }
}

/// Agent ids go into the URL: refuse what the server would refuse rather than build another route.
fn agent_path(id: &str) -> ClientResult<String> {
    let id = parse_agent_id(Value::String(id.to_owned()), "agentId")?;
    Ok(format!("/api/agents/{id}"))
}

#[async_trait]
impl BoardClient for RestClient {
    async fn tasks(&self, filter: TaskFilter) -> ClientResult<Vec<Task>> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(status) = filter.status {
            query.push(("status", status.as_str().to_owned()));
        }
        if let Some(assignee) = filter.assignee {
            query.push(("assignee", assignee));
        }
        if let Some(q) = filter.q {
            query.push(("q", q));
        }
        if let Some(limit) = filter.limit {
            query.push(("limit", limit.to_string()));
        }
        if filter.offset > 0 {
            query.push(("offset", filter.offset.to_string()));
        }
        self.call(self.request(Method::GET, &format!("/api/boards/{}/tasks", self.board)).query(&query)).await
    }

    async fn task(&self, id: i64) -> ClientResult<Task> {
        self.call(self.request(Method::GET, &format!("/api/tasks/{id}"))).await
    }

    async fn create_task(&self, input: CreateTask) -> ClientResult<Task> {
        self.call(self.request(Method::POST, &format!("/api/boards/{}/tasks", self.board)).json(&input)).await
    }

    async fn update_task(&self, id: i64, input: UpdateTask) -> ClientResult<Task> {
        self.call(self.request(Method::PATCH, &format!("/api/tasks/{id}")).json(&input)).await
    }

    async fn next_task(&self, input: NextTask) -> ClientResult<Option<Task>> {
        let mut request =
            self.request(Method::POST, "/api/tasks/next").query(&[("board", &self.board)]).json(&input);
        // The server holds a waiting request open that long: the usual deadline starts after it.
        // Out-of-range waits are left for the server to refuse, as every other field is.
        if let Some(wait) = input.wait.filter(|w| w.is_finite() && (0.0..=60.0).contains(w)) {
            request = request.timeout(TIMEOUT + Duration::from_secs_f64(wait));
        }
        match self.send(request).await? {
            None => Ok(None),
            Some(body) => self.decode(body).map(Some),
        }
    }

    async fn report_progress(&self, id: i64, note: ReportProgress) -> ClientResult<Task> {
        self.call(self.request(Method::POST, &format!("/api/tasks/{id}/progress")).json(&note)).await
    }

    async fn agent(&self, id: &str) -> ClientResult<Agent> {
        self.call(self.request(Method::GET, &agent_path(id)?).query(&[("board", &self.board)])).await
    }

    async fn report_agent(&self, report: ReportAgent) -> ClientResult<Agent> {
        let request =
            self.request(Method::PUT, &agent_path(&report.report.id)?).query(&[("board", &self.board)]);
        self.call(request.json(&report)).await
    }

    fn on_board(&self, board: &str) -> ClientResult<Arc<dyn BoardClient>> {
        let board = parse_board_id(board)?;
        Ok(Arc::new(RestClient { board, ..self.clone() }))
    }

    async fn boards(&self) -> ClientResult<Vec<BoardInfo>> {
        self.call(self.request(Method::GET, "/api/boards")).await
    }

    async fn comments(&self, task_id: i64) -> ClientResult<Vec<Comment>> {
        self.call(self.request(Method::GET, &format!("/api/tasks/{task_id}/comments"))).await
    }

    async fn add_comment(&self, task_id: i64, comment: CreateComment) -> ClientResult<Comment> {
        let request = self.request(Method::POST, &format!("/api/tasks/{task_id}/comments"));
        self.call(request.json(&comment)).await
    }

    async fn notifications(&self, unread_only: bool) -> ClientResult<Vec<Notification>> {
        let query = [("unread", unread_only.to_string())];
        self.call(self.request(Method::GET, "/api/notifications").query(&query)).await
    }
}
