//! `subscribe` patterns, and the Socket.IO rooms that carry them.
//!
//! Filtering per socket per event would put a pattern match for every receiver on the hot
//! path. Instead, sockets with the same pattern list share a room, and every live pattern of
//! a board is compiled into one trie of `:`-segments whose ends name the rooms: an event walks
//! its few segments through it and is broadcast to the union of the rooms it reaches, so the
//! packet is encoded once whatever the number of receivers, and lists that cannot match cost
//! nothing. (Matching the event against each list in turn was rejected: 3,000 lists of 32
//! patterns put 96,000 matches on every event.)

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
            crate::domain::patterns::matches(&pattern, &segments)
        })
    }
}

/// How many different pattern lists the sockets of one credential may use at once. Each list
/// costs a room and its patterns in the trie; a client that sends a fresh list on every
/// socket would otherwise grow both without bound. The dashboard subscribes to nothing, so
/// the team key never meets this.
pub const MAX_SETS_PER_CREDENTIAL: usize = 64;

/// The rooms of every board's subscribers, and the trie that finds them for an event.
pub struct Rooms {
    // Held for map and trie updates and one walk of the trie, never across an await.
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Every live pattern list, by board.
    sets: HashMap<(String, Patterns), Set>,
    /// Room name → the key of its list, for `leave`.
    by_room: HashMap<String, (String, Patterns)>,
    /// Each board's live patterns, compiled together.
    tries: HashMap<String, Node>,
    /// Each credential's rooms, with how many of its sockets are in each.
    by_credential: HashMap<String, HashMap<String, usize>>,
    next_id: u64,
}

struct Set {
    id: u64,
    members: usize,
}

impl Rooms {
    pub fn new() -> Rooms {
        Rooms { inner: Mutex::new(Inner::default()) }
    }

    /// The room of sockets that never subscribed: they get everything.
    pub fn everything(board: &str) -> String {
        format!("{board}/all")
    }

    /// A list's room is named by a number, not by its patterns: an event goes to hundreds of
    /// rooms, and names of up to 32 × 200 characters would be copied for each.
    fn room(board: &str, id: u64) -> String {
        format!("{board}/sub/{id}")
    }

    /// Whether `credential` may use `patterns` without going over its share of lists, asked at
    /// the handshake so a refusal is a `connect_error`; `enter` decides for good.
    pub fn admits(&self, board: &str, credential: &str, patterns: &Patterns) -> AppResult<()> {
        let key = (board.to_owned(), patterns.clone());
        self.inner.lock().unwrap().room_for(&key, credential).map(drop)
    }

    /// The room for a socket of `credential` with `patterns` (None: everything); counts the
    /// member, or refuses a list beyond the credential's share.
    pub fn enter(&self, board: &str, credential: &str, patterns: Option<&Patterns>) -> AppResult<String> {
        let Some(patterns) = patterns else {
            return Ok(Rooms::everything(board));
        };
        let mut inner = self.inner.lock().unwrap();
        let inner = &mut *inner;
        let key = (board.to_owned(), patterns.clone());
        let room = match inner.room_for(&key, credential)? {
            Some(room) => room,
            None => {
                inner.next_id += 1;
                let id = inner.next_id;
                let trie = inner.tries.entry(board.to_owned()).or_default();
                for pattern in patterns.as_slice() {
                    trie.insert(&segments(pattern), id);
                }
                inner.sets.insert(key.clone(), Set { id, members: 0 });
                let room = Rooms::room(board, id);
                inner.by_room.insert(room.clone(), key.clone());
                room
            }
        };
        inner.sets.get_mut(&key).expect("just found or inserted").members += 1;
        *inner.by_credential.entry(credential.to_owned()).or_default().entry(room.clone()).or_default() += 1;
        Ok(room)
    }

    /// A socket of `credential` left `room`; the list is forgotten with its last member.
    pub fn leave(&self, room: &str, credential: &str) {
        let mut inner = self.inner.lock().unwrap();
        let inner = &mut *inner;
        let Some(key) = inner.by_room.get(room).cloned() else {
            return;
        };
        if let Some(own) = inner.by_credential.get_mut(credential) {
            if let Some(count) = own.get_mut(room) {
                *count -= 1;
                if *count == 0 {
                    own.remove(room);
                }
            }
            if own.is_empty() {
                inner.by_credential.remove(credential);
            }
        }
        let Some(set) = inner.sets.get_mut(&key) else { return };
        set.members -= 1;
        if set.members > 0 {
            return;
        }
        let id = set.id;
        inner.sets.remove(&key);
        inner.by_room.remove(room);
        let (board, patterns) = key;
        if let Some(trie) = inner.tries.get_mut(&board) {
            for pattern in patterns.as_slice() {
                trie.remove(&segments(pattern), id);
            }
            if trie.is_empty() {
                inner.tries.remove(&board);
            }
        }
    }

    /// Every room of `board` whose sockets want `event`: a walk of the event's few segments
    /// through the board's trie, whatever the number of lists that cannot match.
    pub fn for_event(&self, board: &str, event: &str) -> Vec<String> {
        let mut rooms = vec![Rooms::everything(board)];
        let inner = self.inner.lock().unwrap();
        if let Some(trie) = inner.tries.get(board) {
            let mut ids = Vec::new();
            trie.walk(&segments(event), &mut ids);
            ids.sort_unstable();
            ids.dedup();
            rooms.extend(ids.into_iter().map(|id| Rooms::room(board, id)));
        }
        rooms
    }
}

impl Inner {
    /// The room of the list `key` if it is live; refuses a list new to `credential` once it
    /// has its share.
    fn room_for(&self, key: &(String, Patterns), credential: &str) -> AppResult<Option<String>> {
        let room = self.sets.get(key).map(|set| Rooms::room(&key.0, set.id));
        let own = self.by_credential.get(credential);
        let its_own = room.as_ref().is_some_and(|room| own.is_some_and(|rooms| rooms.contains_key(room)));
        if !its_own && own.is_some_and(|rooms| rooms.len() >= MAX_SETS_PER_CREDENTIAL) {
            return Err(too_many_sets());
        }
        Ok(room)
    }
}

impl Default for Rooms {
    fn default() -> Self {
        Rooms::new()
    }
}

fn too_many_sets() -> AppError {
    AppError::validation(format!(
        "at most {MAX_SETS_PER_CREDENTIAL} different `subscribe` pattern lists in use at once per credential; \
         reuse a list another socket of yours already has"
    ))
}

fn segments(name: &str) -> Vec<&str> {
    name.split(':').collect()
}

/// One segment position of a board's patterns: where each kind of next segment leads, and the
/// lists (by id) with a pattern that ends here.
#[derive(Default)]
struct Node {
    literal: HashMap<String, Node>,
    /// `*`: exactly one segment.
    star: Option<Box<Node>>,
    /// `**`: one segment or more.
    globstar: Option<Box<Node>>,
    ends: Vec<u64>,
}

impl Node {
    fn insert(&mut self, pattern: &[&str], id: u64) {
        match pattern.split_first() {
            None => self.ends.push(id),
            Some((&"*", rest)) => self.star.get_or_insert_default().insert(rest, id),
            Some((&"**", rest)) => self.globstar.get_or_insert_default().insert(rest, id),
            Some((literal, rest)) => self.literal.entry((*literal).to_owned()).or_default().insert(rest, id),
        }
    }

    /// Takes `id` off the end of `pattern`, pruning the branches left empty.
    fn remove(&mut self, pattern: &[&str], id: u64) {
        match pattern.split_first() {
            None => {
                if let Some(at) = self.ends.iter().position(|&e| e == id) {
                    self.ends.swap_remove(at);
                }
            }
            Some((&"*", rest)) => prune(&mut self.star, rest, id),
            Some((&"**", rest)) => prune(&mut self.globstar, rest, id),
            Some((literal, rest)) => {
                if let Some(child) = self.literal.get_mut(*literal) {
                    child.remove(rest, id);
                    if child.is_empty() {
                        self.literal.remove(*literal);
                    }
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty() && self.literal.is_empty() && self.star.is_none() && self.globstar.is_none()
    }

    /// Collects the ids of every pattern that matches all of `event`. A `**` may end after
    /// any of the remaining segments; events have at most three, so this stays a few steps.
    fn walk(&self, event: &[&str], ids: &mut Vec<u64>) {
        let Some((first, rest)) = event.split_first() else {
            ids.extend_from_slice(&self.ends);
            return;
        };
        if let Some(child) = self.literal.get(*first) {
            child.walk(rest, ids);
        }
        if let Some(child) = &self.star {
            child.walk(rest, ids);
        }
        if let Some(child) = &self.globstar {
            for n in 1..=event.len() {
                child.walk(&event[n..], ids);
            }
        }
    }
}

fn prune(child: &mut Option<Box<Node>>, rest: &[&str], id: u64) {
    if let Some(node) = child {
        node.remove(rest, id);
        if node.is_empty() {
            *child = None;
        }
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

    fn subscribed(rooms: &Rooms, credential: &str, list: &[&str]) -> String {
        rooms.enter("main", credential, Some(&p(list))).unwrap()
    }

    #[test]
    fn an_event_reaches_the_rooms_whose_lists_match_it_and_the_room_of_everything() {
        let rooms = Rooms::new();
        let updates = subscribed(&rooms, "team", &["task:*:updated"]);
        let all_tasks = subscribed(&rooms, "team", &["activity", "task:**"]);
        let agents = subscribed(&rooms, "team", &["agent:*:status"]);

        let mut got = rooms.for_event("main", "task:7:updated");
        got.sort();

        let mut want = vec![Rooms::everything("main"), updates, all_tasks];
        want.sort();
        assert_eq!(got, want);
        assert!(!got.contains(&agents));
    }

    #[test]
    fn sockets_with_the_same_list_in_any_order_share_one_room() {
        let rooms = Rooms::new();

        let first = subscribed(&rooms, "team", &["activity", "task:**"]);
        let second = subscribed(&rooms, "viewer", &["task:**", "activity", "task:**"]);

        assert_eq!(first, second);
        assert_eq!(rooms.for_event("main", "activity").len(), 2, "one room besides everything");
    }

    #[test]
    fn a_list_is_forgotten_with_its_last_member() {
        let rooms = Rooms::new();
        let room = subscribed(&rooms, "team", &["task:**"]);
        subscribed(&rooms, "team", &["task:**"]);

        rooms.leave(&room, "team");
        assert!(rooms.for_event("main", "task:created").contains(&room), "one member is left");

        rooms.leave(&room, "team");
        assert_eq!(rooms.for_event("main", "task:created"), vec![Rooms::everything("main")]);
        let inner = rooms.inner.lock().unwrap();
        assert!(inner.tries.is_empty() && inner.sets.is_empty() && inner.by_room.is_empty());
        assert!(inner.by_credential.is_empty());
    }

    #[test]
    fn a_credential_is_refused_a_list_beyond_its_share_but_may_reuse_its_own() {
        let rooms = Rooms::new();
        let lists: Vec<String> = (0..=MAX_SETS_PER_CREDENTIAL).map(|n| format!("task:{n}:updated")).collect();
        let mut own = Vec::new();
        for list in &lists[..MAX_SETS_PER_CREDENTIAL] {
            own.push(subscribed(&rooms, "viewer", &[list]));
        }
        let extra = p(&[&lists[MAX_SETS_PER_CREDENTIAL]]);

        let refused = rooms.enter("main", "viewer", Some(&extra)).unwrap_err();
        assert_eq!(refused.code(), "VALIDATION_ERROR");
        assert!(refused.to_string().contains("at most 64"), "{refused}");
        assert_eq!(rooms.admits("main", "viewer", &extra).unwrap_err().code(), "VALIDATION_ERROR");

        assert_eq!(subscribed(&rooms, "viewer", &[&lists[0]]), own[0], "its own list again");
        assert!(rooms.enter("main", "team", Some(&extra)).is_ok(), "another credential has its own share");
        assert!(rooms.enter("main", "viewer", None).is_ok(), "no list at all costs nothing");

        rooms.leave(&own[1], "viewer");
        assert!(rooms.enter("main", "viewer", Some(&extra)).is_ok(), "leaving a list frees its place");
    }

    mod equivalence {
        use proptest::prelude::*;

        use super::*;

        const SEGMENTS: [&str; 7] = ["task", "7", "updated", "created", "agent", "status", "activity"];

        fn name(parts: &[usize], wild: bool) -> String {
            let alphabet: Vec<&str> = if wild {
                SEGMENTS.iter().copied().chain(["*", "**", "**"]).collect()
            } else {
                SEGMENTS.to_vec()
            };
            parts.iter().map(|&i| alphabet[i % alphabet.len()]).collect::<Vec<_>>().join(":")
        }

        fn pattern() -> impl Strategy<Value = String> {
            proptest::collection::vec(0usize..10, 1..6).prop_map(|parts| name(&parts, true))
        }

        fn event() -> impl Strategy<Value = String> {
            proptest::collection::vec(0usize..7, 1..5).prop_map(|parts| name(&parts, false))
        }

        proptest! {
            #[test]
            fn the_trie_finds_exactly_the_lists_the_naive_matcher_accepts(
                lists in proptest::collection::vec(proptest::collection::vec(pattern(), 0..5), 1..12),
                left in proptest::collection::vec(any::<bool>(), 12),
                events in proptest::collection::vec(event(), 1..20),
            ) {
                let rooms = Rooms::new();
                let mut live = Vec::new();
                for (list, leaves) in lists.iter().zip(&left) {
                    let patterns = Patterns::parse(serde_json::json!(list)).unwrap();
                    let room = rooms.enter("main", "team", Some(&patterns)).unwrap();
                    if *leaves {
                        rooms.leave(&room, "team");
                    } else {
                        live.push((room, patterns));
                    }
                }
                for event in &events {
                    let mut got = rooms.for_event("main", event);
                    got.sort();
                    let mut want: Vec<String> = live
                        .iter()
                        .filter(|(_, patterns)| patterns.matches(event))
                        .map(|(room, _)| room.clone())
                        .chain([Rooms::everything("main")])
                        .collect();
                    want.sort();
                    want.dedup();
                    prop_assert_eq!(got, want, "event {}", event);
                }
            }
        }
    }
}
