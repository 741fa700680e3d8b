//! Webhooks: a board's outgoing HTTP calls. The types as clients see them, the validation of
//! their inputs, which activity entries a hook wants, and what a delivery carries. Deliveries
//! are queued in the change's own transaction (`write::apply`) and sent by `crate::webhooks`.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::activity::Activity;
use super::input::{self, Fields, Input};
use super::task::Task;
use crate::error::{AppError, AppResult};

pub const URL_MAX: usize = 2_048;
pub const MAX_EVENT_PATTERNS: usize = 32;
pub const EVENT_PATTERN_MAX: usize = 100;
pub const SECRET_MIN: usize = 16;
pub const SECRET_MAX: usize = 256;
/// How many deliveries `GET /api/webhooks/:id/deliveries` shows, newest first.
pub const DELIVERIES_SHOWN: i64 = 100;

/// A webhook of one board (camelCase JSON). Its secret is only ever shown in the reply that
/// created it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: i64,
    pub board: String,
    pub url: String,
    /// Patterns over activity types (`task.*`, `**`).
    pub events: Vec<String>,
    pub format: Format,
    /// Set false by an admin, or by warroom after 24 hours of failed deliveries.
    pub active: bool,
    /// RFC3339, UTC.
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `json`: the delivery as SPEC describes it; `slack`: `{ text }` for Slack-, Mattermost- and
/// Discord-compatible incoming webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Slack,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
        }
    }

    pub fn parse(value: &str) -> AppResult<Format> {
        match value {
            "json" => Ok(Format::Json),
            "slack" => Ok(Format::Slack),
            other => Err(AppError::validation(format!(
                "`format` must be \"json\" or \"slack\", not {:?}",
                input::truncate(other, 32)
            ))),
        }
    }
}

/// One delivery as its log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    /// The activity type (`task.created`).
    pub event: String,
    pub seq: i64,
    /// `pending`, `delivered` or `failed` (given up).
    pub status: String,
    pub attempts: i64,
    /// The HTTP status of the last answer, if one came.
    pub last_code: Option<i64>,
    /// Why the last attempt failed, when no answer came.
    pub last_error: Option<String>,
    pub created_at: String,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<String>,
}

/// `POST /api/boards/:board/webhooks`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CreateWebhook {
    /// Where deliveries are posted: an `http://` or `https://` URL with a host, within the
    /// server's `WEBHOOK_ALLOWED_HOSTS` when it sets them.
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    /// 1–32 patterns over activity types (`task.*`, `**`); every type (`**`) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_items = 1, max_items = 32)]
    pub events: Option<Vec<String>>,
    /// The signing secret, 16–256 characters; generated when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_length = 16, max_length = 256)]
    pub secret: Option<String>,
    /// `json` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub format: Option<Format>,
}

/// `PATCH /api/webhooks/:id`: the fields given change, the others stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct UpdateWebhook {
    /// As `CreateWebhook`'s `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// 1–32 patterns over activity types (`task.*`, `**`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_items = 1, max_items = 32)]
    pub events: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub format: Option<Format>,
    /// True again resumes deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// A webhook as the store makes it: `CreateWebhook` checked, its defaults and secret settled.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub format: Format,
}

/// Which hosts webhooks may call (`WEBHOOK_ALLOWED_HOSTS`); `None`: any.
pub type AllowedHosts = Option<Vec<String>>;

impl Input for CreateWebhook {
    fn parse(payload: Value) -> AppResult<CreateWebhook> {
        let mut fields = Fields::new(payload, "webhook")?;
        let url = fields.take(&["url"])?.ok_or_else(|| AppError::validation("`url` is required"))?;
        let hook = CreateWebhook {
            url: target(url)?,
            events: fields.take(&["events"])?.map(event_patterns).transpose()?,
            secret: fields.take(&["secret"])?.map(secret_of).transpose()?,
            format: fields.take(&["format"])?.map(format_of).transpose()?,
        };
        fields.finish()?;
        Ok(hook)
    }

    fn check(self) -> AppResult<CreateWebhook> {
        Ok(CreateWebhook {
            url: target(self.url.into())?,
            events: self.events.map(|e| event_patterns(e.into())).transpose()?,
            secret: self.secret.map(|s| secret_of(s.into())).transpose()?,
            format: self.format,
        })
    }
}

impl Input for UpdateWebhook {
    fn parse(payload: Value) -> AppResult<UpdateWebhook> {
        let mut fields = Fields::new(payload, "webhook")?;
        let patch = UpdateWebhook {
            url: fields.take(&["url"])?.map(target).transpose()?,
            events: fields.take(&["events"])?.map(event_patterns).transpose()?,
            format: fields.take(&["format"])?.map(format_of).transpose()?,
            active: fields
                .take(&["active"])?
                .map(|v| v.as_bool().ok_or_else(|| AppError::validation("`active` must be true or false")))
                .transpose()?,
        };
        fields.finish()?;
        Ok(patch)
    }

    fn check(self) -> AppResult<UpdateWebhook> {
        Ok(UpdateWebhook {
            url: self.url.map(|u| target(u.into())).transpose()?,
            events: self.events.map(|e| event_patterns(e.into())).transpose()?,
            ..self
        })
    }
}

impl Webhook {
    /// The hook with `patch` applied.
    pub fn patched(&self, patch: UpdateWebhook) -> Webhook {
        Webhook {
            url: patch.url.unwrap_or_else(|| self.url.clone()),
            events: patch.events.unwrap_or_else(|| self.events.clone()),
            format: patch.format.unwrap_or(self.format),
            active: patch.active.unwrap_or(self.active),
            ..self.clone()
        }
    }
}

/// An `http://` or `https://` URL with a host.
fn target(value: Value) -> AppResult<String> {
    let text = input::text(value, "url", 1, URL_MAX)?;
    let url = reqwest::Url::parse(&text).map_err(|e| {
        AppError::validation(format!("`url` is not a URL ({e}): {:?}", input::truncate(&text, 64)))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::validation(format!(
            "`url` must be http:// or https://, not {}://",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::validation("`url` has no host"));
    }
    Ok(url.to_string())
}

/// Refuses a `url` (already a valid `target`) whose host is not among `allowed`. The service
/// applies it, since it needs the server's configuration, which `Input::parse` has not.
pub fn check_host(url: &str, allowed: &AllowedHosts) -> AppResult<()> {
    let Some(hosts) = allowed else { return Ok(()) };
    let url = reqwest::Url::parse(url).ok();
    let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(AppError::validation(format!(
            "`url`: the host {host} is not among this server's WEBHOOK_ALLOWED_HOSTS"
        )));
    }
    Ok(())
}

fn secret_of(value: Value) -> AppResult<String> {
    input::text(value, "secret", SECRET_MIN, SECRET_MAX)
}

fn format_of(value: Value) -> AppResult<Format> {
    match value {
        Value::String(s) => Format::parse(&s),
        other => Err(AppError::validation(format!("`format` must be a string, not {}", input::kind(&other)))),
    }
}

/// 1–32 patterns of `.`-separated segments: `a–z`, `_`, `*` (one segment) or `**` (any).
fn event_patterns(value: Value) -> AppResult<Vec<String>> {
    let Value::Array(items) = value else {
        return Err(AppError::validation(format!("`events` must be an array, not {}", input::kind(&value))));
    };
    if items.is_empty() || items.len() > MAX_EVENT_PATTERNS {
        return Err(AppError::validation(format!("`events` holds 1 to {MAX_EVENT_PATTERNS} patterns")));
    }
    let mut patterns = Vec::with_capacity(items.len());
    for item in items {
        let pattern = input::text(item, "events[]", 1, EVENT_PATTERN_MAX)?;
        let valid_segment = |s: &str| {
            s == "*" || s == "**" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        };
        if !pattern.split('.').all(valid_segment) {
            return Err(AppError::validation(format!(
                "`events[]`: {pattern:?} is not a pattern of activity types (segments of a–z and _, `*` or `**`, between dots)"
            )));
        }
        patterns.push(pattern);
    }
    patterns.sort();
    patterns.dedup();
    Ok(patterns)
}

/// Whether a hook listening for `patterns` wants an activity entry of type `kind`.
pub fn wants(patterns: &[String], kind: &str) -> bool {
    let event: Vec<&str> = kind.split('.').collect();
    patterns.iter().any(|p| super::patterns::matches(&p.split('.').collect::<Vec<_>>(), &event))
}

/// What a delivery posts, without its id (known once it is stored; `body` adds it).
pub fn payload(board: &str, activity: &Activity, task: Option<&Task>) -> Value {
    json!({
        "event": activity.kind,
        "board": board,
        "seq": activity.seq,
        "timestamp": activity.timestamp,
        "activity": activity,
        "task": task,
    })
}

/// What a test ping posts: shaped like a delivery, with an activity that is not stored.
pub fn ping_payload(board: &str, seq: i64, by: &str, now: &str) -> Value {
    json!({
        "event": "webhook.ping",
        "board": board,
        "seq": seq,
        "timestamp": now,
        "activity": {
            "type": "webhook.ping",
            "user": by,
            "message": format!("{by} sent a test ping from warroom (board {board})"),
            "timestamp": now,
            "seq": seq,
        },
        "task": null,
    })
}

/// The bytes a delivery posts: `{ id, event, board, seq, timestamp, activity, task }`, or
/// `{ text }` for the Slack format. The same on every attempt, so its signature is too.
pub fn body(format: Format, id: i64, stored: &str) -> AppResult<String> {
    let mut payload: serde_json::Map<String, Value> = serde_json::from_str(stored)
        .map_err(|e| anyhow::Error::new(e).context("reading a queued webhook delivery"))?;
    let body = match format {
        Format::Json => {
            payload.insert("id".into(), json!(id));
            Value::Object(payload)
        }
        Format::Slack => json!({ "text": payload["activity"]["message"] }),
    };
    Ok(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::input::validation_message;

    #[test]
    fn patterns_match_dotted_activity_types() {
        let p = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(wants(&p(&["**"]), "task.created"));
        assert!(wants(&p(&["task.*"]), "task.moved"));
        assert!(!wants(&p(&["task.*"]), "comment.created"));
        assert!(wants(&p(&["comment.created", "task.deleted"]), "task.deleted"));
        assert!(!wants(&p(&["task"]), "task.created"));
    }

    #[test]
    fn urls_and_patterns_are_validated() {
        let parse = CreateWebhook::parse;
        assert!(parse(json!({ "url": "ftp://x.test/" })).is_err());
        assert!(parse(json!({ "url": "not a url" })).is_err());
        assert!(parse(json!({ "url": format!("http://x.test/{}", "a".repeat(URL_MAX)) })).is_err());
        assert!(parse(json!({ "url": "http://x.test/", "events": [] })).is_err());
        assert!(parse(json!({ "url": "http://x.test/", "events": ["Task.*"] })).is_err());
        assert!(parse(json!({ "url": "http://x.test/", "secret": "short" })).is_err());
        assert!(parse(json!({ "url": "http://x.test/", "format": "xml" })).is_err());
        assert_eq!(validation_message(parse(json!({ "events": ["**"] })).unwrap_err()), "`url` is required");
        assert_eq!(
            validation_message(parse(json!({ "url": "http://x.test/", "extra": 1 })).unwrap_err()),
            "Unknown field `extra`"
        );
        assert_eq!(
            validation_message(UpdateWebhook::parse(json!({ "active": "yes" })).unwrap_err()),
            "`active` must be true or false"
        );
        assert_eq!(
            validation_message(UpdateWebhook::parse(json!({ "secret": "x" })).unwrap_err()),
            "Unknown field `secret`"
        );
        let hook = parse(json!({ "url": "https://x.test/hook" })).unwrap();
        assert_eq!(
            hook,
            CreateWebhook { url: "https://x.test/hook".into(), events: None, secret: None, format: None }
        );
        let allowed = Some(vec!["hooks.example.com".to_owned()]);
        assert_eq!(
            validation_message(check_host("http://127.0.0.1:9/", &allowed).unwrap_err()),
            "`url`: the host 127.0.0.1 is not among this server's WEBHOOK_ALLOWED_HOSTS"
        );
        assert!(check_host("https://HOOKS.example.com/x", &allowed).is_ok());
        assert!(check_host("http://127.0.0.1:9/", &None).is_ok());
    }

    #[test]
    fn a_webhook_body_round_trips_and_a_rust_built_one_is_held_to_the_same_rules() {
        let hook = CreateWebhook {
            url: "https://x.test/hook".into(),
            events: Some(vec!["comment.created".into(), "task.*".into()]),
            secret: Some("s".repeat(SECRET_MIN)),
            format: Some(Format::Slack),
        };
        let wire = serde_json::to_value(&hook).unwrap();
        assert_eq!(wire["format"], "slack");
        assert_eq!(CreateWebhook::parse(wire).unwrap(), hook);
        assert_eq!(hook.clone().check().unwrap(), hook);
        let sorted =
            CreateWebhook { events: Some(vec!["task.*".into(), "**".into(), "**".into()]), ..hook.clone() };
        assert_eq!(sorted.check().unwrap().events, Some(vec!["**".to_owned(), "task.*".to_owned()]));
        let short = CreateWebhook { secret: Some("short".into()), ..hook.clone() };
        assert_eq!(
            validation_message(short.check().unwrap_err()),
            "`secret` must be 16–256 characters after trimming (got 5)"
        );
        let ftp = UpdateWebhook { url: Some("ftp://x.test/".into()), ..UpdateWebhook::default() };
        assert_eq!(
            validation_message(ftp.check().unwrap_err()),
            "`url` must be http:// or https://, not ftp://"
        );
        let none = UpdateWebhook { events: Some(vec![]), ..UpdateWebhook::default() };
        assert_eq!(validation_message(none.check().unwrap_err()), "`events` holds 1 to 32 patterns");
        let pause = UpdateWebhook { active: Some(false), ..UpdateWebhook::default() };
        assert_eq!(serde_json::to_value(&pause).unwrap(), json!({ "active": false }));
        assert_eq!(UpdateWebhook::parse(json!({ "active": false })).unwrap(), pause);
    }

    #[test]
    fn a_body_carries_its_id_first_or_only_the_message_for_slack() {
        let stored = r#"{"event":"task.created","activity":{"message":"Ada created #1"}}"#;
        let json: Value = serde_json::from_str(&body(Format::Json, 7, stored).unwrap()).unwrap();
        assert_eq!(
            json,
            json!({ "id": 7, "event": "task.created", "activity": { "message": "Ada created #1" } })
        );
        assert_eq!(body(Format::Slack, 7, stored).unwrap(), r#"{"text":"Ada created #1"}"#);
    }
}
