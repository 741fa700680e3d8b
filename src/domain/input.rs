//! Parsing of untrusted JSON payloads into validated values: one place for SPEC's "Limits".
//!
//! Commands arrive as arbitrary JSON from sockets and REST bodies alike. `Fields` walks one
//! object, hands out each known field (with the seeds' alternative spellings), and refuses
//! whatever is left over, naming it. We parse by hand rather than with `#[serde(deny_unknown_fields)]`
//! so every refusal carries a SPEC code and a message that names the field.
//!
//! The main commands' bodies are typed (`Input`): adapters parse JSON into them with these
//! rules, in-process callers (the MCP tools) build them in Rust, and the service takes only
//! the typed value.

use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::error::{AppError, AppResult};

/// A command's body as the board service takes it, e.g. `CreateTask`. It serializes to its wire
/// shape (what `parse` reads back, and what `/api/openapi.json` describes).
pub trait Input: Sized {
    /// Parses untrusted JSON with SPEC's `VALIDATION_ERROR` messages, refusing unknown fields.
    fn parse(value: Value) -> AppResult<Self>;

    /// The rules `parse` applies, for a value built in Rust (a parsed one passes unchanged):
    /// the service puts every input through it, so no caller can skip them.
    fn check(self) -> AppResult<Self>;
}

/// The fields of one JSON object, consumed as they are read.
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// `what` names the payload in the error, e.g. "task:create payload".
    pub fn new(value: Value, what: &str) -> AppResult<Self> {
        match value {
            Value::Object(map) => Ok(Fields { map }),
            // A command sent with no argument at all arrives as null: treat it as `{}`.
            Value::Null => Ok(Fields { map: Map::new() }),
            other => Err(AppError::validation(format!("{what} must be a JSON object, not {}", kind(&other)))),
        }
    }

    /// Takes the field under any of its accepted spellings; giving two spellings at once is refused.
    pub fn take(&mut self, names: &[&str]) -> AppResult<Option<Value>> {
        let mut found: Option<(&str, Value)> = None;
        for name in names {
            if let Some(value) = self.map.remove(*name) {
                if let Some((first, _)) = &found {
                    return Err(AppError::validation(format!(
                        "`{first}` and `{name}` mean the same field; send only one"
                    )));
                }
                found = Some((name, value));
            }
        }
        Ok(found.map(|(_, v)| v))
    }

    /// Refuses the first field nobody asked for.
    pub fn finish(self) -> AppResult<()> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(name) => Err(AppError::validation(format!("Unknown field `{}`", truncate(name, 64)))),
        }
    }
}

/// A refusal's message, asserting it is a `VALIDATION_ERROR`: for the input types' tests.
#[cfg(test)]
pub fn validation_message(error: AppError) -> String {
    assert_eq!(error.code(), "VALIDATION_ERROR");
    error.to_string()
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A trimmed string of `min..=max` Unicode code points with no NUL character.
pub fn text(value: Value, field: &str, min: usize, max: usize) -> AppResult<String> {
    let Value::String(raw) = value else {
        return Err(AppError::validation(format!("`{field}` must be a string, not {}", kind(&value))));
    };
    if raw.contains('\0') {
        return Err(AppError::validation(format!("`{field}` must not contain NUL characters")));
    }
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len < min || len > max {
        return Err(AppError::validation(if min == 0 {
            format!("`{field}` must be at most {max} characters (got {len})")
        } else {
            format!("`{field}` must be {min}–{max} characters after trimming (got {len})")
        }));
    }
    Ok(trimmed.to_owned())
}

/// `taskId` (or `id`) in a body, when given: commands on a task check it against the route's.
pub fn parse_task_id(fields: &mut Fields) -> AppResult<Option<i64>> {
    fields.take(&["id", "taskId"])?.map(|v| task_id(v, "id")).transpose()
}

/// A task id: a positive integer, as a JSON number or a numeric string.
pub fn task_id(value: Value, field: &str) -> AppResult<i64> {
    positive_int(value, field)
}

pub fn positive_int(value: Value, field: &str) -> AppResult<i64> {
    let n = integer(value, field)?;
    if n < 1 {
        return Err(AppError::validation(format!("`{field}` must be a positive integer")));
    }
    Ok(n)
}

/// A non-negative integer (positions, versions, sequence numbers).
pub fn non_negative_int(value: Value, field: &str) -> AppResult<i64> {
    let n = integer(value, field)?;
    if n < 0 {
        return Err(AppError::validation(format!("`{field}` must not be negative")));
    }
    Ok(n)
}

fn integer(value: Value, field: &str) -> AppResult<i64> {
    let bad = || AppError::validation(format!("`{field}` must be an integer"));
    match &value {
        Value::Number(n) => n.as_i64().ok_or_else(bad),
        Value::String(s) => {
            let s = s.trim();
            // Only plain decimal digits: "1e3", "+5" or " 0x1f" are not ids.
            if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        }
        _ => Err(AppError::validation(format!("`{field}` must be an integer, not {}", kind(&value)))),
    }
}

/// An optional non-negative integer field (a position, a version).
pub fn optional_count(fields: &mut Fields, name: &str) -> AppResult<Option<i64>> {
    fields.take(&[name])?.map(|v| non_negative_int(v, name)).transpose()
}

/// A string field that may be null or empty, meaning "none" (SPEC: an empty assignee is unassigned).
pub fn optional_text(value: Value, field: &str, max: usize) -> AppResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        other => {
            let s = text(other, field, 0, max)?;
            Ok(if s.is_empty() { None } else { Some(s) })
        }
    }
}

/// An optional client operation id for idempotent retries.
pub fn op_id(fields: &mut Fields) -> AppResult<Option<String>> {
    fields.take(&["opId"])?.filter(|v| !v.is_null()).map(|v| text(v, "opId", 1, 128)).transpose()
}

/// `op_id`'s rule, for an `opId` set in Rust.
pub fn check_op_id(op_id: Option<String>) -> AppResult<Option<String>> {
    op_id.map(|op| text(op.into(), "opId", 1, 128)).transpose()
}

/// A display name or assignee: 1–64 code points after trimming, in Unicode NFC, so that a name
/// typed with a combining accent and with a precomposed letter is one name. Titles and other
/// texts stay as typed.
pub fn name(value: Value, field: &str) -> AppResult<String> {
    match value {
        Value::String(raw) => text(Value::String(raw.nfc().collect()), field, 1, NAME_MAX),
        other => text(other, field, 1, NAME_MAX),
    }
}

/// Who a name is: two names are one person when their keys are equal (NFC, case-folded).
pub fn person_key(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

pub const NAME_MAX: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_typed_with_a_combining_accent_is_the_precomposed_name() {
        let combining = name(Value::String(" Jose\u{301} ".into()), "name").unwrap();
        let precomposed = name(Value::String("Jos\u{e9}".into()), "name").unwrap();
        assert_eq!(combining, precomposed);
        assert_eq!(combining.chars().count(), 4);
        assert_eq!(person_key("JOSE\u{301}"), person_key("jos\u{e9}"));
    }

    #[test]
    fn a_title_stays_as_typed() {
        let title = text(Value::String("Jose\u{301}".into()), "title", 1, 200).unwrap();
        assert_eq!(title, "Jose\u{301}");
    }
}
