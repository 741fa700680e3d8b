//! Agents: the AI (or scripted) teammates that report their status to the board.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{self, Fields, Input};
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

/// A validated `agent:status` / `PUT /api/agents/:id` besides its `opId`: an upsert and a heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentReport {
    /// 1–64 characters of `A–Z a–z 0–9 _ . -`. A REST route names it, and a body may repeat
    /// it but not contradict it.
    pub id: String,
    /// A display name, 1–64 characters after trimming.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    pub status: AgentStatus,
    /// `None`: leave as is; `Some(None)` (null): no current task.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub current_task_id: Option<Option<i64>>,
}

/// `agent:status` / `PUT /api/agents/:id`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportAgent {
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    #[serde(flatten)]
    pub report: AgentReport,
}

impl ReportAgent {
    /// The body of `PUT /api/agents/:route_id`, or of `agent:status` without a route.
    pub fn parse_at(value: Value, route_id: Option<&str>) -> AppResult<ReportAgent> {
        let mut fields = Fields::new(value, "agent:status payload")?;
        let op_id = input::op_id(&mut fields)?;
        let report = AgentReport::parse(&mut fields, route_id)?;
        fields.finish()?;
        Ok(ReportAgent { op_id, report })
    }
}

impl Input for ReportAgent {
    fn parse(value: Value) -> AppResult<ReportAgent> {
        ReportAgent::parse_at(value, None)
    }

    fn check(self) -> AppResult<ReportAgent> {
        let AgentReport { id, name, status, current_task_id } = self.report;
        let current_task_id =
            current_task_id.map(|t| t.map(|t| input::task_id(t.into(), "currentTaskId")).transpose());
        let report = AgentReport {
            id: parse_agent_id(id.into(), "id")?,
            name: name.map(|n| input::name(n.into(), "name")).transpose()?,
            status,
            current_task_id: current_task_id.transpose()?,
        };
        Ok(ReportAgent { op_id: input::check_op_id(self.op_id)?, report })
    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_report_round_trips_with_no_task_apart_from_an_unchanged_one() {
        for current_task_id in [None, Some(None), Some(Some(12))] {
            let report =
                AgentReport { id: "bot-1".into(), name: None, status: AgentStatus::Idle, current_task_id };
            let input = ReportAgent { op_id: None, report };
            let wire = serde_json::to_value(&input).unwrap();
            assert_eq!(ReportAgent::parse(wire.clone()).unwrap(), input, "{wire}");
            assert_eq!(input.clone().check().unwrap(), input);
        }
        let cleared = AgentReport {
            id: "b".into(),
            name: None,
            status: AgentStatus::Busy,
            current_task_id: Some(None),
        };
        let wire = serde_json::to_value(ReportAgent { op_id: None, report: cleared }).unwrap();
        assert_eq!(wire, json!({ "id": "b", "status": "busy", "currentTaskId": null }));
    }

    #[test]
    fn a_route_names_the_agent_a_body_may_only_repeat() {
        let body = json!({ "status": "busy" });
        assert_eq!(ReportAgent::parse_at(body.clone(), Some("bot-1")).unwrap().report.id, "bot-1");
        assert!(ReportAgent::parse(body).is_err());
        assert!(ReportAgent::parse_at(json!({ "id": "x", "status": "busy" }), Some("bot-1")).is_err());
    }
}
