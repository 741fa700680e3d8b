//! Boards as data: a team's projects, their ids, and the validated inputs that create or
//! change one. Each board has its own tasks, history and sequence; `main` always exists.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{self, Fields};
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

/// `board:update` / `PATCH /api/boards/:board`: the fields given, each validated.
#[derive(Debug, Clone, Default)]
pub struct BoardPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub archived: Option<bool>,
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

/// `board:create { id?, name, description? }`, validated, as the board it makes.
pub fn new_board(payload: Value, by: &str, now: &str) -> AppResult<BoardInfo> {
    let mut fields = Fields::new(payload, "board:create payload")?;
    let name = input::text(
        fields.take(&["name"])?.ok_or_else(|| AppError::validation("`name` is required"))?,
        "name",
        1,
        BOARD_NAME_MAX,
    )?;
    let id = match fields.take(&["id"])?.filter(|v| !v.is_null()) {
        Some(v) => board_id(v, "id")?,
        None => slug_of(&name)?,
    };
    let description = match fields.take(&["description"])?.filter(|v| !v.is_null()) {
        Some(v) => input::text(v, "description", 0, BOARD_DESCRIPTION_MAX)?,
        None => String::new(),
    };
    fields.finish()?;
    Ok(BoardInfo {
        id,
        name,
        description,
        archived: false,
        created_at: now.to_owned(),
        created_by: by.to_owned(),
    })
}

/// `board:update { id, name?, description?, archived? }` without its `id`.
pub fn board_patch(fields: &mut Fields) -> AppResult<BoardPatch> {
    let name = fields.take(&["name"])?.map(|v| input::text(v, "name", 1, BOARD_NAME_MAX)).transpose()?;
    let description = fields
        .take(&["description"])?
        .map(|v| match v {
            Value::Null => Ok(String::new()),
            v => input::text(v, "description", 0, BOARD_DESCRIPTION_MAX),
        })
        .transpose()?;
    let archived = fields
        .take(&["archived"])?
        .map(|v| v.as_bool().ok_or_else(|| AppError::validation("`archived` must be true or false")))
        .transpose()?;
    Ok(BoardPatch { name, description, archived })
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
        let board = new_board(json!({ "name": "Web Site" }), "Adam", "now").unwrap();
        assert_eq!((board.id.as_str(), board.name.as_str(), board.archived), ("web-site", "Web Site", false));
    }

    #[test]
    fn a_patch_that_changes_nothing_is_no_change() {
        let board = new_board(json!({ "id": "web", "name": "Web" }), "Adam", "now").unwrap();
        let same = BoardPatch { name: Some("Web".into()), ..BoardPatch::default() };
        assert!(board.patched(&same).is_none());
        let archive = BoardPatch { archived: Some(true), ..BoardPatch::default() };
        assert!(board.patched(&archive).unwrap().archived);
    }
}
