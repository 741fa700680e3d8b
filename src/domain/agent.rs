//! Agents: the AI (or scripted) teammates that report their status to the board.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{self, Fields};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub status: AgentStatus,
    pub current_task_id: Option<i64>,
    /// RFC3339, UTC: the last report or heartbeat.
    pub last_seen: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Idle,
    Busy,
    Error,
    Offline,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Idle => "idle",
            AgentStatus::Busy => "busy",
            AgentStatus::Error => "error",
            AgentStatus::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> AppResult<AgentStatus> {
        [AgentStatus::Idle, AgentStatus::Busy, AgentStatus::Error, AgentStatus::Offline]
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| AppError::validation("`status` must be one of idle, busy, error, offline"))
    }
}

/// An agent id: 1–64 characters of `A–Z a–z 0–9 _ . -`, safe in event names and URLs.
pub fn parse_agent_id(value: Value, field: &str) -> AppResult<String> {
    let Value::String(id) = value else {
        return Err(AppError::validation(format!("`{field}` must be a string, not {}", input::kind(&value))));
    };
    let ok = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !ok {
        return Err(AppError::validation(format!("`{field}` must be 1–64 characters of A–Z a–z 0–9 _ . -")));
    }
    Ok(id)
}

/// A validated `agent:status` / `PUT /api/agents/:id`: an upsert and a heartbeat.
#[derive(Debug, Clone)]
pub struct AgentReport {
    pub id: String,
    pub name: Option<String>,
    pub status: AgentStatus,
    /// `None`: leave as is; `Some(None)`: no current task.
    pub current_task_id: Option<Option<i64>>,
}

impl AgentReport {
    /// `path_id` is the REST route's id; a body may repeat it but not contradict it.
    pub fn parse(fields: &mut Fields, path_id: Option<&str>) -> AppResult<AgentReport> {
        let body_id = fields.take(&["id"])?.map(|v| parse_agent_id(v, "id")).transpose()?;
        let id = match (path_id, body_id) {
            (Some(path), Some(body)) if path != body => {
                return Err(AppError::validation("`id` in the body differs from the route's id"));
            }
            (Some(path), _) => parse_agent_id(Value::String(path.to_owned()), "id")?,
            (None, Some(body)) => body,
            (None, None) => return Err(AppError::validation("`id` is required")),
        };
        let status = match fields.take(&["status"])? {
            Some(Value::String(s)) => AgentStatus::parse(&s)?,
            Some(other) => {
                return Err(AppError::validation(format!(
                    "`status` must be a string, not {}",
                    input::kind(&other)
                )));
            }
            None => return Err(AppError::validation("`status` is required")),
        };
        Ok(AgentReport {
            id,
            name: fields.take(&["name"])?.map(|v| input::name(v, "name")).transpose()?,
            status,
            current_task_id: fields
                .take(&["currentTaskId"])?
                .map(|v| if v.is_null() { Ok(None) } else { input::task_id(v, "currentTaskId").map(Some) })
                .transpose()?,
        })
    }
}
