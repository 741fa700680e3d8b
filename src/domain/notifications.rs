//! Telling people when someone needs them: `@name` mentions in comments and descriptions,
//! being made a task's assignee, and a task of theirs becoming ready. Never for one's own action.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{self, Fields, Input, person_key};
use crate::error::{AppError, AppResult};

/// SPEC: an excerpt is at most 140 characters.
pub const EXCERPT_MAX: usize = 140;

/// A notification, as its person sees it (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    /// `mention`, `assigned` or `unblocked`.
    #[serde(rename = "type")]
    pub kind: String,
    pub board: String,
    pub task_id: Option<i64>,
    pub comment_id: Option<i64>,
    /// Who caused it.
    pub by: String,
    pub excerpt: String,
    /// RFC3339, UTC.
    pub created_at: String,
    pub read_at: Option<String>,
}

/// A notification to store for `person` (a person key).
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub person: String,
    pub kind: &'static str,
    pub task_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub excerpt: String,
}

/// The people of `known` (names) that `text` mentions as `@name`, case aside, each once, as
/// person keys. A mention must start the text or follow a character that is not part of a
/// word (so `x@adam.com` is nobody) and end at one (so `@adamant` is not Adam). A name that is
/// nobody is just text.
pub fn mentioned(text: &str, known: &[String]) -> Vec<String> {
    if !text.contains('@') {
        return Vec::new();
    }
    let text = person_key(text);
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut found: Vec<String> = Vec::new();
    for name in known {
        let key = person_key(name);
        if key.is_empty() || found.contains(&key) {
            continue;
        }
        let needle = format!("@{key}");
        let hit = text.match_indices(&needle).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + needle.len()..].chars().next();
            !before.is_some_and(word) && !after.is_some_and(word)
        });
        if hit {
            found.push(key);
        }
    }
    found
}

/// The first `max` characters of `text` on one line, `…` ending a cut: a notification's
/// excerpt (`EXCERPT_MAX`) or a comment in the feed.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// `notifications:read` / `POST /api/notifications/read`: marks the caller's notifications read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ReadNotifications {
    /// Those notifications; absent or null: all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<i64>>,
}

impl Input for ReadNotifications {
    fn parse(value: Value) -> AppResult<ReadNotifications> {
        let mut fields = Fields::new(value, "notifications read")?;
        let ids = match fields.take(&["ids"])? {
            None | Some(Value::Null) => None,
            Some(Value::Array(ids)) => Some(notification_ids(ids)?),
            Some(_) => return Err(AppError::validation("`ids` must be an array of notification ids")),
        };
        fields.finish()?;
        Ok(ReadNotifications { ids })
    }

    fn check(self) -> AppResult<ReadNotifications> {
        let ids =
            self.ids.map(|ids| notification_ids(ids.into_iter().map(Value::from).collect())).transpose()?;
        Ok(ReadNotifications { ids })
    }
}

fn notification_ids(ids: Vec<Value>) -> AppResult<Vec<i64>> {
    ids.into_iter().map(|id| input::task_id(id, "ids")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_read_body_round_trips_through_its_wire_json() {
        use super::{Input, ReadNotifications};
        for read in [ReadNotifications { ids: Some(vec![2, 5]) }, ReadNotifications::default()] {
            assert_eq!(ReadNotifications::parse(serde_json::to_value(&read).unwrap()).unwrap(), read);
            assert_eq!(read.clone().check().unwrap(), read);
        }
        assert!(ReadNotifications { ids: Some(vec![0]) }.check().is_err());
    }

    use super::*;

    fn known() -> Vec<String> {
        ["Adam", "Nick", "José García", "bot-1"].map(String::from).to_vec()
    }

    #[test]
    fn mentions_are_known_names_after_an_at_sign_case_aside_each_once() {
        assert_eq!(mentioned("hey @nick and @ADAM, also @nick", &known()), vec!["adam", "nick"]);
        assert_eq!(mentioned("ask @José García about it", &known()), vec!["josé garcía"]);
        assert_eq!(mentioned("@bot-1: go", &known()), vec!["bot-1"]);
        assert!(mentioned("mail x@adam.com or @adamant or @Nobody", &known()).is_empty());
        assert!(mentioned("no at sign", &known()).is_empty());
    }

    #[test]
    fn a_storm_of_mentions_names_each_known_person_once() {
        let storm = (0..500).map(|i| format!("@someone{i} @Adam")).collect::<Vec<_>>().join(" ");
        assert_eq!(mentioned(&storm, &known()), vec!["adam"]);
    }

    #[test]
    fn excerpts_are_one_line_of_at_most_140_characters() {
        assert_eq!(excerpt("a\n\n b", EXCERPT_MAX), "a b");
        let long = excerpt(&"é".repeat(500), EXCERPT_MAX);
        assert_eq!(long.chars().count(), 140);
        assert!(long.ends_with('…'));
    }
}
