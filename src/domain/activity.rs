//! Activity entries: the stored, newest-first record of everything that happened on a board.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub id: i64,
    /// `task.created`, `task.updated`, `task.moved`, `task.deleted`, `user.joined`, `user.left`, `agent.status`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who did it: a person's name, `api`, `anonymous` or an agent id.
    pub user: String,
    pub message: String,
    pub task_id: Option<i64>,
    /// RFC3339, UTC.
    pub timestamp: String,
    /// The board sequence number of the change this entry records.
    pub seq: i64,
    /// For task changes: `{ field: { from, to } }`.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<Map<String, Value>>,
}

/// An entry about to be stored; the store gives it an id.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub kind: &'static str,
    pub user: String,
    pub message: String,
    pub task_id: Option<i64>,
    pub changes: Option<Map<String, Value>>,
}
