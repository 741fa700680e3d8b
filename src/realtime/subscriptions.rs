//! `subscribe` patterns, and the Socket.IO rooms that carry them.
//!
//! Filtering per socket per event would put a pattern match for every receiver on the hot
//! path. Instead, sockets with the same pattern list share a room; for each event we match it
//! against each distinct list once and broadcast to the union of matching rooms, so the
//! packet is encoded once whatever the number of receivers.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::domain::input;
use crate::error::{AppError, AppResult};

pub const MAX_PATTERNS: usize = 32;
pub const PATTERN_MAX: usize = 200;

/// A validated list of patterns; `*` is one `:`-separated segment, `**` one or more.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Patterns(Vec<String>);

impl Patterns {
    pub fn parse(value: Value) -> AppResult<Patterns> {
        let Value::Array(items) = value else {
            return Err(AppError::validation(format!(
                "`patterns` must be an array, not {}",
                input::kind(&value)
            )));
        };
        if items.len() > MAX_PATTERNS {
            return Err(AppError::validation(format!("at most {MAX_PATTERNS} patterns")));
        }
        let mut patterns = items
            .into_iter()
            .map(|item| input::text(item, "patterns[]", 1, PATTERN_MAX))
            .collect::<AppResult<Vec<_>>>()?;
        // Order and repeats do not change what matches: one room per distinct set.
        patterns.sort();
        patterns.dedup();
        Ok(Patterns(patterns))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn matches(&self, event: &str) -> bool {
        let segments: Vec<&str> = event.split(':').collect();
        self.0.iter().any(|p| {
            let pattern: Vec<&str> = p.split(':').collect();
            matches(&pattern, &segments)
        })
    }
}

fn matches(pattern: &[&str], event: &[&str]) -> bool {
    match (pattern.split_first(), event.split_first()) {
        (None, None) => true,
        (Some((&"**", rest)), Some(_)) => (1..=event.len()).any(|n| matches(rest, &event[n..])),
        (Some((&"*", rest)), Some((_, tail))) => matches(rest, tail),
        (Some((seg, rest)), Some((ev, tail))) => seg == ev && matches(rest, tail),
        _ => false,
    }
}

/// The rooms of one board's subscribers.
pub struct Rooms {
    // Held for map lookups only, never across an await.
    sets: Mutex<HashMap<String, (Patterns, usize)>>,
}

impl Rooms {
    pub fn new() -> Rooms {
        Rooms { sets: Mutex::new(HashMap::new()) }
    }

    /// The room of sockets that never subscribed: they get everything.
    pub fn everything(board: &str) -> String {
        format!("{board}/all")
    }

    /// The room for a socket with `patterns` (None: everything); counts the member.
    pub fn enter(&self, board: &str, patterns: Option<&Patterns>) -> String {
        let Some(patterns) = patterns else {
            return Rooms::everything(board);
        };
        let room = format!("{board}/sub/{}", patterns.0.join("\u{1f}"));
        self.sets.lock().unwrap().entry(room.clone()).or_insert_with(|| (patterns.clone(), 0)).1 += 1;
        room
    }

    /// A socket left `room`; the set is forgotten with its last member.
    pub fn leave(&self, room: &str) {
        let mut sets = self.sets.lock().unwrap();
        if let Some((_, members)) = sets.get_mut(room) {
            *members -= 1;
            if *members == 0 {
                sets.remove(room);
            }
        }
    }

    /// Every room of `board` whose sockets want `event`.
    pub fn for_event(&self, board: &str, event: &str) -> Vec<String> {
        let prefix = format!("{board}/sub/");
        let mut rooms = vec![Rooms::everything(board)];
        let sets = self.sets.lock().unwrap();
        rooms.extend(
            sets.iter()
                .filter(|(room, (patterns, _))| room.starts_with(&prefix) && patterns.matches(event))
                .map(|(room, _)| room.clone()),
        );
        rooms
    }
}

impl Default for Rooms {
    fn default() -> Self {
        Rooms::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> Patterns {
        Patterns::parse(serde_json::json!(list)).unwrap()
    }

    #[test]
    fn a_star_matches_exactly_one_segment() {
        assert!(p(&["task:*:updated"]).matches("task:42:updated"));
        assert!(!p(&["task:*"]).matches("task:42:updated"));
        assert!(p(&["task:*"]).matches("task:created"));
    }

    #[test]
    fn a_double_star_matches_one_or_more_segments() {
        assert!(p(&["task:**"]).matches("task:42:updated"));
        assert!(p(&["task:**"]).matches("task:moved"));
        assert!(!p(&["task:**"]).matches("task"));
        assert!(p(&["**"]).matches("activity"));
    }

    #[test]
    fn literal_segments_must_match_exactly() {
        assert!(p(&["activity"]).matches("activity"));
        assert!(!p(&["activity"]).matches("activity:x"));
        assert!(!p(&["agent:*:status"]).matches("task:1:status"));
    }

    #[test]
    fn an_empty_list_matches_nothing() {
        assert!(!p(&[]).matches("task:created"));
    }
}
