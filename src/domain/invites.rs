//! Invite links: an admin's one-time code that a new person exchanges, with only a name, for
//! a personal token carrying the invite's role and boards. Codes are stored hashed, like
//! tokens, work once, and expire.

use chrono::{Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::boards::{board_id, parse_board_id};
use super::input::{self, Fields, Input};
use super::storage::Store;
use crate::auth::{self, Invite, Keys, Role, StoredToken};
use crate::error::{AppError, AppResult};

/// SPEC: an invite lasts 7 days unless told otherwise.
pub const DEFAULT_HOURS: u32 = 7 * 24;
/// A year: a link that never expires is a standing key to the team.
pub const MAX_HOURS: i64 = 365 * 24;

/// `POST /api/invites` (admins).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateInvite {
    /// The role of the token it becomes; `editor` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    /// The boards the token reaches, each a board id. Absent, null or empty: the maker's
    /// boards (every board for a credential that reaches every board).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boards: Option<Vec<String>>,
    /// How long the link works; 168 (7 days) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1, maximum = 8760)]
    pub expires_in_hours: Option<i64>,
}

impl Input for CreateInvite {
    fn parse(value: Value) -> AppResult<CreateInvite> {
        let mut fields = Fields::new(value, "invite")?;
        let role = match fields.take(&["role"])? {
            None => None,
            Some(Value::String(r)) => Some(
                Role::parse(&r)
                    .ok_or_else(|| AppError::validation("`role` must be viewer, editor or admin"))?,
            ),
            Some(other) => {
                return Err(AppError::validation(format!(
                    "`role` must be a string, not {}",
                    input::kind(&other)
                )));
            }
        };
        let boards = match fields.take(&["boards"])?.filter(|v| !v.is_null()) {
            None => None,
            Some(Value::Array(list)) => Some(list.into_iter().map(board).collect::<AppResult<_>>()?),
            Some(_) => return Err(AppError::validation("`boards` must be an array of board ids")),
        };
        let expires_in_hours = input::optional_count(&mut fields, "expiresInHours")?;
        fields.finish()?;
        Ok(CreateInvite { role, boards, expires_in_hours })
    }

    /// How long is checked by `create`, as it always was: after the maker's reach.
    fn check(self) -> AppResult<CreateInvite> {
        Ok(CreateInvite {
            boards: self
                .boards
                .map(|list| list.into_iter().map(|b| board(b.into())).collect())
                .transpose()?,
            expires_in_hours: self
                .expires_in_hours
                .map(|h| input::non_negative_int(h.into(), "expiresInHours"))
                .transpose()?,
            ..self
        })
    }
}

/// `POST /api/invites/:code/accept`: who the new person is.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AcceptInvite {
    /// Their display name, 1–64 characters after trimming; the token's person.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

impl Input for AcceptInvite {
    fn parse(value: Value) -> AppResult<AcceptInvite> {
        let mut fields = Fields::new(value, "invite acceptance")?;
        let name = fields.take(&["name"])?.ok_or_else(|| AppError::validation("`name` is required"))?;
        let accept = AcceptInvite { name: input::name(name, "name")? };
        fields.finish()?;
        Ok(accept)
    }

    fn check(self) -> AppResult<AcceptInvite> {
        Ok(AcceptInvite { name: input::name(self.name.into(), "name")? })
    }
}

fn board(value: Value) -> AppResult<String> {
    board_id(value, "boards")
}

/// The boards a token or invite is limited to: each a valid id, each once; none means every
/// board.
pub fn board_scope(boards: &[String]) -> AppResult<Option<Vec<String>>> {
    if boards.is_empty() {
        return Ok(None);
    }
    let mut scope = Vec::with_capacity(boards.len());
    for board in boards {
        let id = parse_board_id(board)?;
        if !scope.contains(&id) {
            scope.push(id);
        }
    }
    Ok(Some(scope))
}

/// Makes and stores an invite; returns its code, shown only now.
pub async fn create(
    store: &dyn Store,
    role: Role,
    boards: &[String],
    hours: Option<i64>,
    by: &str,
) -> AppResult<(String, Invite)> {
    let hours = hours.unwrap_or(i64::from(DEFAULT_HOURS));
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(AppError::validation(format!("`expiresInHours` must be from 1 to {MAX_HOURS}")));
    }
    let boards = board_scope(boards)?;
    let now = Utc::now();
    let (code, invite) = auth::new_invite(
        role,
        boards,
        by,
        &crate::clock::format_time(now),
        &crate::clock::format_time(now + Duration::hours(hours)),
    );
    store.create_invite(invite.clone()).await?;
    Ok((code, invite))
}

/// Exchanges a code for a personal token named as `input` says. A used, expired or unknown
/// code is UNAUTHORIZED, alike, so that a guess learns nothing. The token works at once: it is
/// added to `keys` before answering.
pub async fn accept(
    store: &dyn Store,
    keys: &Keys,
    code: &str,
    input: AcceptInvite,
) -> AppResult<(String, StoredToken)> {
    let AcceptInvite { name } = input.check()?;
    let hash = auth::hash_token(code);
    let now = crate::clock::now();
    let invite = store.invite(&hash).await?.ok_or(AppError::Unauthorized)?;
    if invite.used_at.is_some() || invite.expires_at <= now {
        return Err(AppError::Unauthorized);
    }
    let (token, stored) = auth::new_token(&name, invite.role, invite.boards.clone(), &now);
    if !store.redeem_invite(&hash, &now, stored.clone()).await? {
        return Err(AppError::Unauthorized);
    }
    keys.add(&stored);
    Ok((token, stored))
}

/// The link a person opens: the dashboard at `base` with the code.
pub fn url(base: &str, code: &str) -> String {
    format!("{}/?invite={code}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::validation_message;

    #[test]
    fn a_scope_is_valid_board_ids_each_once_and_empty_means_every_board() {
        assert_eq!(board_scope(&[]).unwrap(), None);
        let scope = board_scope(&["web".into(), "ops".into(), "web".into()]).unwrap();
        assert_eq!(scope, Some(vec!["web".to_owned(), "ops".to_owned()]));
        assert_eq!(board_scope(&["Web".into()]).unwrap_err().code(), "VALIDATION_ERROR");
    }

    #[test]
    fn an_invite_body_is_parsed_with_its_messages_and_a_rust_built_one_is_checked() {
        use serde_json::json;
        let invite = CreateInvite {
            role: Some(Role::Viewer),
            boards: Some(vec!["web".into()]),
            expires_in_hours: Some(2),
        };
        let wire = serde_json::to_value(&invite).unwrap();
        assert_eq!(wire, json!({ "role": "viewer", "boards": ["web"], "expiresInHours": 2 }));
        assert_eq!(CreateInvite::parse(wire).unwrap(), invite);
        assert_eq!(invite.clone().check().unwrap(), invite);
        let empty = CreateInvite { role: None, boards: None, expires_in_hours: None };
        assert_eq!(CreateInvite::parse(json!({ "boards": null })).unwrap(), empty);
        let bad = |body| validation_message(CreateInvite::parse(body).unwrap_err());
        assert_eq!(bad(json!({ "role": "owner" })), "`role` must be viewer, editor or admin");
        assert_eq!(bad(json!({ "role": 1 })), "`role` must be a string, not a number");
        assert_eq!(bad(json!({ "boards": "web" })), "`boards` must be an array of board ids");
        assert_eq!(bad(json!({ "expiresInHours": -1 })), "`expiresInHours` must not be negative");
        assert_eq!(bad(json!({ "role": "viewer", "code": "x" })), "Unknown field `code`");
        let shouting = CreateInvite { boards: Some(vec!["Web".into()]), ..invite };
        assert_eq!(
            validation_message(shouting.check().unwrap_err()),
            "`boards` may hold only a–z, 0–9 and -"
        );

        assert_eq!(
            AcceptInvite::parse(json!({ "name": " Jose\u{301} " })).unwrap(),
            AcceptInvite { name: "Jos\u{e9}".into() }
        );
        assert_eq!(validation_message(AcceptInvite::parse(json!({})).unwrap_err()), "`name` is required");
        assert_eq!(
            validation_message(AcceptInvite::parse(json!({ "name": "Ivy", "role": "admin" })).unwrap_err()),
            "Unknown field `role`"
        );
        let nameless = AcceptInvite { name: "  ".into() };
        assert_eq!(
            validation_message(nameless.check().unwrap_err()),
            "`name` must be 1–64 characters after trimming (got 0)"
        );
    }

    #[test]
    fn an_invite_url_opens_the_dashboard_with_its_code() {
        assert_eq!(url("https://board.example/", "abc"), "https://board.example/?invite=abc");
    }
}
