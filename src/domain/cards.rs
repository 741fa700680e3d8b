//! What makes a task a card a team can live in: labels of its board, a due date, and a
//! comment thread. Types as clients see them, and the validation of their inputs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{self, Fields, Input};
use crate::error::{AppError, AppResult};

pub const LABEL_NAME_MAX: usize = 50;
pub const COMMENT_MAX: usize = 10_000;

/// A label of one board (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Label {
    pub id: i64,
    pub board: String,
    pub name: String,
    /// `#rrggbb`, lower case.
    pub color: String,
}

/// A comment on a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: i64,
    pub task_id: i64,
    pub board: String,
    pub author: String,
    pub body: String,
    /// RFC3339, UTC.
    pub created_at: String,
    /// RFC3339, UTC.
    pub updated_at: String,
    /// Whether it was changed after it was written.
    pub edited: bool,
}

/// `comment:create` / `POST /api/tasks/:id/comments`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateComment {
    /// The task (`id` is accepted as its name too). Sockets must give it; a REST route names
    /// it, and a body may repeat it but not contradict it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub task_id: Option<i64>,
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    /// 1–10,000 characters after trimming; `@name` notifies that person or agent.
    pub body: String,
}

impl Input for CreateComment {
    fn parse(value: Value) -> AppResult<CreateComment> {
        let mut fields = Fields::new(value, "comment:create payload")?;
        let task_id = input::parse_task_id(&mut fields)?;
        let op_id = input::op_id(&mut fields)?;
        let body = fields.take(&["body"])?.ok_or_else(|| AppError::validation("`body` is required"))?;
        let comment = CreateComment { task_id, op_id, body: comment_body(body)? };
        fields.finish()?;
        Ok(comment)
    }

    fn check(self) -> AppResult<CreateComment> {
        Ok(CreateComment {
            task_id: self.task_id.map(|id| input::task_id(id.into(), "id")).transpose()?,
            op_id: input::check_op_id(self.op_id)?,
            body: comment_body(self.body.into())?,
        })
    }
}

/// `label:create { name, color }` besides its `opId`, validated.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NewLabel {
    /// 1–50 characters after trimming, unique on the board regardless of case.
    pub name: String,
    /// `#rrggbb`, kept in lower case.
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: String,
}

/// `label:create` / `POST /api/boards/:board/labels`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateLabel {
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    #[serde(flatten)]
    pub label: NewLabel,
}

impl Input for CreateLabel {
    fn parse(value: Value) -> AppResult<CreateLabel> {
        let mut fields = Fields::new(value, "label:create payload")?;
        let op_id = input::op_id(&mut fields)?;
        let label = NewLabel::parse(&mut fields)?;
        fields.finish()?;
        Ok(CreateLabel { op_id, label })
    }

    fn check(self) -> AppResult<CreateLabel> {
        let NewLabel { name, color } = self.label;
        let label = NewLabel { name: label_name(name.into())?, color: color_of(color.into())? };
        Ok(CreateLabel { op_id: input::check_op_id(self.op_id)?, label })
    }
}

/// `label:update { id, name?, color? }` without its id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct LabelPatch {
    /// 1–50 characters after trimming, unique on the board regardless of case.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// `#rrggbb`, kept in lower case.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: Option<String>,
}

/// `label:update` / `PATCH /api/boards/:board/labels/:id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateLabel {
    /// The label. Sockets must give it; a REST route names it, and a body may repeat it but
    /// not contradict it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub id: Option<i64>,
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    #[serde(flatten)]
    pub patch: LabelPatch,
}

impl Input for UpdateLabel {
    fn parse(value: Value) -> AppResult<UpdateLabel> {
        let mut fields = Fields::new(value, "label:update payload")?;
        let id = record_id(&mut fields)?;
        let op_id = input::op_id(&mut fields)?;
        let patch = LabelPatch::parse(&mut fields)?;
        fields.finish()?;
        Ok(UpdateLabel { id, op_id, patch })
    }

    fn check(self) -> AppResult<UpdateLabel> {
        let LabelPatch { name, color } = self.patch;
        let patch = LabelPatch {
            name: name.map(|n| label_name(n.into())).transpose()?,
            color: color.map(|c| color_of(c.into())).transpose()?,
        };
        Ok(UpdateLabel { id: check_record_id(self.id)?, op_id: input::check_op_id(self.op_id)?, patch })
    }
}

/// `comment:update` / `PATCH /api/comments/:id`, by its author or an admin.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateComment {
    /// The comment, as `UpdateLabel`'s `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub id: Option<i64>,
    /// Makes a retry safe: a command repeated with its `opId` answers as the first did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub op_id: Option<String>,
    /// 1–10,000 characters after trimming.
    pub body: String,
}

impl Input for UpdateComment {
    fn parse(value: Value) -> AppResult<UpdateComment> {
        let mut fields = Fields::new(value, "comment:update payload")?;
        let id = record_id(&mut fields)?;
        let op_id = input::op_id(&mut fields)?;
        let body = fields.take(&["body"])?.ok_or_else(|| AppError::validation("`body` is required"))?;
        let comment = UpdateComment { id, op_id, body: comment_body(body)? };
        fields.finish()?;
        Ok(comment)
    }

    fn check(self) -> AppResult<UpdateComment> {
        Ok(UpdateComment {
            id: check_record_id(self.id)?,
            op_id: input::check_op_id(self.op_id)?,
            body: comment_body(self.body.into())?,
        })
    }
}

/// A label's or comment's `id` in a body: a positive integer.
fn record_id(fields: &mut Fields) -> AppResult<Option<i64>> {
    fields.take(&["id"])?.map(|v| input::task_id(v, "id")).transpose()
}

fn check_record_id(id: Option<i64>) -> AppResult<Option<i64>> {
    id.map(|id| input::task_id(id.into(), "id")).transpose()
}

impl NewLabel {
    pub fn parse(fields: &mut Fields) -> AppResult<NewLabel> {
        let name = fields.take(&["name"])?.ok_or_else(|| AppError::validation("`name` is required"))?;
        let color = fields.take(&["color"])?.ok_or_else(|| AppError::validation("`color` is required"))?;
        Ok(NewLabel { name: label_name(name)?, color: color_of(color)? })
    }
}

impl LabelPatch {
    pub fn parse(fields: &mut Fields) -> AppResult<LabelPatch> {
        Ok(LabelPatch {
            name: fields.take(&["name"])?.map(label_name).transpose()?,
            color: fields.take(&["color"])?.map(color_of).transpose()?,
        })
    }
}

fn label_name(value: Value) -> AppResult<String> {
    input::text(value, "name", 1, LABEL_NAME_MAX)
}

/// `#rrggbb`; stored in lower case so that one colour is one value.
fn color_of(value: Value) -> AppResult<String> {
    let valid = |c: &str| c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
    match value {
        Value::String(c) if valid(&c) => Ok(c.to_ascii_lowercase()),
        _ => Err(AppError::validation("`color` must be #rrggbb")),
    }
}

/// Label names are unique on a board regardless of case.
pub fn same_label_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// A comment's body: 1–10,000 characters once trimmed, no NUL.
pub fn comment_body(value: Value) -> AppResult<String> {
    input::text(value, "body", 1, COMMENT_MAX)
}

/// `labels: [ids]` on a task: each a label id, each once, in the order given (whether they
/// are labels of the task's board is checked where the board's labels are read).
pub fn label_ids(value: Value) -> AppResult<Vec<i64>> {
    let Value::Array(items) = value else {
        return Err(AppError::validation("`labels` must be an array of label ids"));
    };
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = input::task_id(item, "labels")
            .map_err(|_| AppError::validation("`labels` must hold label ids"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// `dueAt`: RFC3339 with any offset, stored and sent in UTC; `null` clears it.
pub fn due_at(value: Value) -> AppResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| Some(crate::clock::format_time(t.with_timezone(&chrono::Utc))))
            .map_err(|_| {
                AppError::validation("`dueAt` must be an RFC3339 time, e.g. 2027-01-31T17:00:00Z, or null")
            }),
        other => Err(AppError::validation(format!(
            "`dueAt` must be a string or null, not {}",
            input::kind(&other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn comments_and_labels_round_trip_through_their_wire_json() {
        let comment = CreateComment { task_id: Some(4), op_id: None, body: "@Ana look".into() };
        assert_eq!(CreateComment::parse(serde_json::to_value(&comment).unwrap()).unwrap(), comment);
        assert_eq!(comment.clone().check().unwrap(), comment);
        let label =
            CreateLabel { op_id: None, label: NewLabel { name: "bug".into(), color: "#aa00ff".into() } };
        let wire = serde_json::to_value(&label).unwrap();
        assert_eq!(wire, json!({ "name": "bug", "color": "#aa00ff" }));
        assert_eq!(CreateLabel::parse(wire).unwrap(), label);
        let rename = UpdateLabel {
            id: Some(7),
            op_id: Some("op-1".into()),
            patch: LabelPatch { name: Some("bug".into()), color: None },
        };
        let wire = serde_json::to_value(&rename).unwrap();
        assert_eq!(wire, json!({ "id": 7, "opId": "op-1", "name": "bug" }));
        assert_eq!(UpdateLabel::parse(wire).unwrap(), rename);
        assert_eq!(rename.clone().check().unwrap(), rename);
        let edit = UpdateComment { id: Some(3), op_id: None, body: "fixed".into() };
        assert_eq!(UpdateComment::parse(serde_json::to_value(&edit).unwrap()).unwrap(), edit);
        assert_eq!(edit.clone().check().unwrap(), edit);
        let shouting =
            CreateLabel { op_id: None, label: NewLabel { name: "x".into(), color: "#AA00FF".into() } };
        assert_eq!(shouting.check().unwrap().label.color, "#aa00ff");
    }

    #[test]
    fn due_dates_take_any_offset_and_are_kept_in_utc() {
        assert_eq!(
            due_at(json!("2027-01-31T18:00:00+01:00")).unwrap().as_deref(),
            Some("2027-01-31T17:00:00.000Z")
        );
        assert_eq!(due_at(json!(null)).unwrap(), None);
        for bad in
            [json!("tomorrow"), json!("10000-01-01T00:00:00Z"), json!("2027-02-30T00:00:00Z"), json!(5)]
        {
            assert_eq!(due_at(bad.clone()).unwrap_err().code(), "VALIDATION_ERROR", "{bad}");
        }
    }

    #[test]
    fn labels_are_named_once_per_board_whatever_the_case_and_coloured_rrggbb() {
        let mut fields = Fields::new(json!({ "name": " Bug ", "color": "#FF0000" }), "label").unwrap();
        let label = NewLabel::parse(&mut fields).unwrap();
        assert_eq!((label.name.as_str(), label.color.as_str()), ("Bug", "#ff0000"));
        assert!(same_label_name("Bug", "bUG") && same_label_name("Ärger", "ärger"));
        for color in ["red", "#fff", "#12345g", "ff0000"] {
            let mut fields = Fields::new(json!({ "name": "x", "color": color }), "label").unwrap();
            assert!(NewLabel::parse(&mut fields).is_err(), "{color}");
        }
    }

    #[test]
    fn a_task_s_labels_are_ids_each_once_in_order() {
        assert_eq!(label_ids(json!([3, 1, 3])).unwrap(), vec![3, 1]);
        assert!(label_ids(json!(["a"])).is_err());
        assert!(label_ids(json!(3)).is_err());
    }

    #[test]
    fn comment_bodies_hold_something() {
        assert!(comment_body(json!("   ")).is_err());
        assert!(comment_body(json!("a\u{0}b")).is_err());
        assert!(comment_body(json!("x".repeat(10_001))).is_err());
        assert_eq!(comment_body(json!(" hi ")).unwrap(), "hi");
    }
}
