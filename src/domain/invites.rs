//! Invite links: an admin's one-time code that a new person exchanges, with only a name, for
//! a personal token carrying the invite's role and boards. Codes are stored hashed, like
//! tokens, work once, and expire.

use chrono::{Duration, Utc};

use super::boards::parse_board_id;
use super::input;
use super::storage::Store;
use crate::auth::{self, Invite, Keys, Role, StoredToken};
use crate::error::{AppError, AppResult};

/// SPEC: an invite lasts 7 days unless told otherwise.
pub const DEFAULT_HOURS: u32 = 7 * 24;
/// A year: a link that never expires is a standing key to the team.
pub const MAX_HOURS: i64 = 365 * 24;

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

/// Exchanges a code for a personal token named `name`. A used, expired or unknown code is
/// UNAUTHORIZED, alike, so that a guess learns nothing. The token works at once: it is added
/// to `keys` before answering.
pub async fn accept(
    store: &dyn Store,
    keys: &Keys,
    code: &str,
    name: &str,
) -> AppResult<(String, StoredToken)> {
    let name = input::name(serde_json::Value::String(name.to_owned()), "name")?;
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

    #[test]
    fn a_scope_is_valid_board_ids_each_once_and_empty_means_every_board() {
        assert_eq!(board_scope(&[]).unwrap(), None);
        let scope = board_scope(&["web".into(), "ops".into(), "web".into()]).unwrap();
        assert_eq!(scope, Some(vec!["web".to_owned(), "ops".to_owned()]));
        assert_eq!(board_scope(&["Web".into()]).unwrap_err().code(), "VALIDATION_ERROR");
    }

    #[test]
    fn an_invite_url_opens_the_dashboard_with_its_code() {
        assert_eq!(url("https://board.example/", "abc"), "https://board.example/?invite=abc");
    }
}
