//! Time as the protocol writes it: RFC3339 in UTC with milliseconds.

use chrono::{SecondsFormat, Utc};

/// Now, e.g. `2026-11-21T23:46:43.123Z`. Fixed width, so timestamps also sort as strings.
pub fn now() -> String {
    format_time(Utc::now())
}

pub fn format_time(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `seconds` ago, in the same format (for "not seen since" comparisons in SQL).
pub fn ago(seconds: i64) -> String {
    format_time(Utc::now() - chrono::Duration::seconds(seconds))
}

/// `duration` from now, in the same format.
pub fn after(duration: std::time::Duration) -> String {
    format_time(Utc::now() + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX))
}
