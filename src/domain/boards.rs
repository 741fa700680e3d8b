//! Boards as data: a team's projects, their ids, and the validated inputs that create or
//! change one. Each board has its own tasks, history and sequence; `main` always exists.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{self, Fields, Input};
use crate::error::{AppError, AppResult};

pub const BOARD_ID_MAX: usize = 64;
pub const BOARD_NAME_MAX: usize = 100;
pub const BOARD_DESCRIPTION_MAX: usize = 10_000;

/// A board, as clients see it (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoardInfo {
    /// A slug: 1–64 characters `a–z 0–9 -`.
    pub id: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    /// RFC3339, UTC.
    pub created_at: String,
    pub created_by: String,
}

/// `board:update` / `PATCH /api/boards/:board` without its `id`: the fields given, each validated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct BoardPatch {
    /// 1–100 characters after trimming.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// At most 10,000 characters; null clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Archives or restores the board; `main` cannot be archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub archived: Option<bool>,
}

/// `board:create` / `POST /api/boards` (admins).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CreateBoard {
    /// A slug: 1–64 characters `a–z 0–9 -`; made from the name when absent or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// 1–100 characters after trimming.
    pub name: String,
    /// At most 10,000 characters; absent or null is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Input for CreateBoard {
    fn parse(value: Value) -> AppResult<CreateBoard> {
        let mut fields = Fields::new(value, "board:create payload")?;
        let name =
            board_name(fields.take(&["name"])?.ok_or_else(|| AppError::validation("`name` is required"))?)?;
        // The id is settled here, before the other fields, so a name that makes no id is
        // refused first as it always was.
        let id = match fields.take(&["id"])?.filter(|v| !v.is_null()) {
            Some(v) => board_id(v, "id")?,
            None => slug_of(&name)?,
        };
        let description =
            fields.take(&["description"])?.filter(|v| !v.is_null()).map(board_description).transpose()?;
        fields.finish()?;
        Ok(CreateBoard { id: Some(id), name, description })
    }

    fn check(self) -> AppResult<CreateBoard> {
        let name = board_name(self.name.into())?;
        let id = match self.id {
            Some(id) => board_id(id.into(), "id")?,
            None => slug_of(&name)?,
        };
        let description = self.description.map(|d| board_description(d.into())).transpose()?;
        Ok(CreateBoard { id: Some(id), name, description })
    }
}

/// `board:update` / `PATCH /api/boards/:board` (admins).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct UpdateBoard {
    /// The board. Sockets must give it; a REST route names it, and a body may repeat it but
    /// not contradict it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id: Option<String>,
    #[serde(flatten)]
    pub patch: BoardPatch,
}

impl Input for UpdateBoard {
    fn parse(value: Value) -> AppResult<UpdateBoard> {
        let mut fields = Fields::new(value, "board:update payload")?;
        let id = fields.take(&["id"])?.map(|v| board_id(v, "id")).transpose()?;
        let patch = board_patch(&mut fields)?;
        fields.finish()?;
        Ok(UpdateBoard { id, patch })
    }

    fn check(self) -> AppResult<UpdateBoard> {
        let BoardPatch { name, description, archived } = self.patch;
        let patch = BoardPatch {
            name: name.map(|n| board_name(n.into())).transpose()?,
            description: description.map(|d| board_description(d.into())).transpose()?,
            archived,
        };
        Ok(UpdateBoard { id: self.id.map(|id| board_id(id.into(), "id")).transpose()?, patch })
    }
}

impl BoardInfo {
    /// The board with `patch` applied, or `None` when it changes nothing.
    pub fn patched(&self, patch: &BoardPatch) -> Option<BoardInfo> {
        let mut next = self.clone();
        if let Some(name) = &patch.name {
            next.name = name.clone();
        }
        if let Some(description) = &patch.description {
            next.description = description.clone();
        }
        if let Some(archived) = patch.archived {
            next.archived = archived;
        }
        (next != *self).then_some(next)
    }
}

/// A board id as a client sent it: a string that is a slug, else VALIDATION_ERROR.
pub fn board_id(value: Value, field: &str) -> AppResult<String> {
    let Value::String(id) = value else {
        return Err(AppError::validation(format!("`{field}` must be a string, not {}", input::kind(&value))));
    };
    check_slug(&id).map_err(|why| AppError::validation(format!("`{field}` {why}")))?;
    Ok(id)
}

/// Checks a board id in a path or a handshake: the same rule as `board_id`.
pub fn parse_board_id(id: &str) -> AppResult<String> {
    board_id(Value::String(id.to_owned()), "board")
}

fn check_slug(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > BOARD_ID_MAX {
        return Err(format!("must be 1–{BOARD_ID_MAX} characters"));
    }
    if !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("may hold only a–z, 0–9 and -".into());
    }
    Ok(())
}

/// The id a board gets from its name when none is given: lower-cased ASCII letters and digits,
/// every other run of characters one `-`. A name with none of those is refused: its board
/// needs an explicit id.
pub fn slug_of(name: &str) -> AppResult<String> {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(BOARD_ID_MAX).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        return Err(AppError::validation("This name makes no board id; give an `id` (a–z, 0–9, -)"));
    }
    Ok(slug)
}

/// The board a checked `board:create` makes.
pub fn new_board(input: CreateBoard, by: &str, now: &str) -> AppResult<BoardInfo> {
    let CreateBoard { id, name, description } = input.check()?;
    Ok(BoardInfo {
        id: id.expect("check settles the id"),
        name,
        description: description.unwrap_or_default(),
        archived: false,
        created_at: now.to_owned(),
        created_by: by.to_owned(),
    })
}

/// `board:update { id, name?, description?, archived? }` without its `id`.
pub fn board_patch(fields: &mut Fields) -> AppResult<BoardPatch> {
    let name = fields.take(&["name"])?.map(board_name).transpose()?;
    let description = fields
        .take(&["description"])?
        .map(|v| match v {
            Value::Null => Ok(String::new()),
            v => board_description(v),
        })
        .transpose()?;
    let archived = fields
        .take(&["archived"])?
        .map(|v| v.as_bool().ok_or_else(|| AppError::validation("`archived` must be true or false")))
        .transpose()?;
    Ok(BoardPatch { name, description, archived })
}

fn board_name(value: Value) -> AppResult<String> {
    input::text(value, "name", 1, BOARD_NAME_MAX)
}

fn board_description(value: Value) -> AppResult<String> {
    input::text(value, "description", 0, BOARD_DESCRIPTION_MAX)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn board_ids_are_slugs_and_nothing_else() {
        for good in ["main", "web", "ops-2", "a", &"x".repeat(64)] {
            assert_eq!(parse_board_id(good).unwrap(), good);
        }
        for bad in ["", "Main", "a b", "../x", "é", "a_b", &"x".repeat(65)] {
            assert_eq!(parse_board_id(bad).unwrap_err().code(), "VALIDATION_ERROR", "{bad:?}");
        }
        assert_eq!(board_id(json!(7), "id").unwrap_err().code(), "VALIDATION_ERROR");
    }

    #[test]
    fn a_board_without_an_id_takes_its_name_as_a_slug() {
        assert_eq!(slug_of("Web site — 2027!").unwrap(), "web-site-2027");
        assert_eq!(slug_of("  Ops  ").unwrap(), "ops");
        assert_eq!(slug_of(&"a b ".repeat(40)).unwrap().len(), 63, "cut to 64 without a trailing -");
        assert!(slug_of("ÉÈ").is_err());
        let board =
            new_board(CreateBoard::parse(json!({ "name": "Web Site" })).unwrap(), "Adam", "now").unwrap();
        assert_eq!((board.id.as_str(), board.name.as_str(), board.archived), ("web-site", "Web Site", false));
    }

    #[test]
    fn a_patch_that_changes_nothing_is_no_change() {
        let input = CreateBoard { id: Some("web".into()), name: "Web".into(), description: None };
        let board = new_board(input, "Adam", "now").unwrap();
        let same = BoardPatch { name: Some("Web".into()), ..BoardPatch::default() };
        assert!(board.patched(&same).is_none());
        let archive = BoardPatch { archived: Some(true), ..BoardPatch::default() };
        assert!(board.patched(&archive).unwrap().archived);
    }

    #[test]
    fn board_bodies_round_trip_through_their_wire_json() {
        let create =
            CreateBoard { id: Some("web".into()), name: "Web".into(), description: Some("site".into()) };
        let wire = serde_json::to_value(&create).unwrap();
        assert_eq!(wire, json!({ "id": "web", "name": "Web", "description": "site" }));
        assert_eq!(CreateBoard::parse(wire).unwrap(), create);
        assert_eq!(create.clone().check().unwrap(), create);
        let unnamed = CreateBoard { id: None, name: "Ops Team".into(), description: None };
        assert_eq!(unnamed.check().unwrap().id.as_deref(), Some("ops-team"));
        let update = UpdateBoard {
            id: Some("web".into()),
            patch: BoardPatch {
                description: Some(String::new()),
                archived: Some(true),
                ..BoardPatch::default()
            },
        };
        assert_eq!(UpdateBoard::parse(serde_json::to_value(&update).unwrap()).unwrap(), update);
        assert_eq!(update.clone().check().unwrap(), update);
        assert_eq!(
            UpdateBoard::parse(json!({ "description": null })).unwrap().patch.description.as_deref(),
            Some("")
        );
    }
}
