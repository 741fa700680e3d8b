//! The agents' work graph: parsing `blockedBy`, and the one rule that needs the whole graph (no cycles).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::input;
use crate::error::{AppError, AppResult};

/// A task may wait for this many others at most: a plan's fan-in, not a dump of the board.
pub const BLOCKERS_MAX: usize = 1000;

/// `blockedBy`: an array of distinct task ids, kept in the order given (`[]` clears it).
pub fn parse_blockers(value: Value) -> AppResult<Vec<i64>> {
    let Value::Array(items) = value else {
        return Err(AppError::validation(format!(
            "`blockedBy` must be an array of task ids, not {}",
            input::kind(&value)
        )));
    };
    if items.len() > BLOCKERS_MAX {
        return Err(AppError::validation(format!("`blockedBy` lists more than {BLOCKERS_MAX} tasks")));
    }
    let mut seen = HashSet::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = input::task_id(item, "blockedBy")?;
        if !seen.insert(id) {
            return Err(AppError::validation(format!("`blockedBy` lists #{id} twice")));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Whether `task` waiting for `blockers` would close a cycle in a board whose other tasks wait
/// as `edges` says (`(task, blocker)` pairs; `task`'s own stored pairs are replaced by
/// `blockers`). Returns the cycle as a path from `task` back to itself, each waiting for the
/// next. One depth-first walk from `task`: every task and pair is looked at once at most, so
/// a 1,000-task chain costs the same as 1,000 independent tasks.
pub fn find_cycle(task: i64, blockers: &[i64], edges: &[(i64, i64)]) -> Option<Vec<i64>> {
    let mut waits_for: HashMap<i64, Vec<i64>> = HashMap::new();
    for &(waiting, blocker) in edges.iter().filter(|(waiting, _)| *waiting != task) {
        waits_for.entry(waiting).or_default().push(blocker);
    }
    waits_for.insert(task, blockers.to_vec());
    // Each reached task and the one it was reached from, to spell the cycle out.
    let mut reached_from: HashMap<i64, i64> = HashMap::new();
    let mut stack = vec![task];
    while let Some(at) = stack.pop() {
        for &next in waits_for.get(&at).into_iter().flatten() {
            if next == task {
                // Back from `at` to `task`, the only reached task without a predecessor.
                let mut path = vec![at];
                while let Some(&from) = reached_from.get(path.last().expect("never empty")) {
                    path.push(from);
                }
                path.reverse();
                path.push(task);
                return Some(path);
            }
            if let std::collections::hash_map::Entry::Vacant(entry) = reached_from.entry(next) {
                entry.insert(at);
                stack.push(next);
            }
        }
    }
    None
}

/// `#1 → #2 → #1`, for the refusal's message.
pub fn spell_cycle(path: &[i64]) -> String {
    path.iter().map(|id| format!("#{id}")).collect::<Vec<_>>().join(" → ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_waiting_for_its_own_dependent_closes_a_cycle_that_is_spelled_out() {
        // 2 waits for 3, 3 waits for 4; 4 waiting for 2 closes 2 → 3 → 4 → 2.
        let edges = [(2, 3), (3, 4)];
        assert_eq!(find_cycle(4, &[2], &edges), Some(vec![4, 2, 3, 4]));
        assert_eq!(find_cycle(4, &[5], &edges), None);
        assert_eq!(find_cycle(2, &[3, 5], &edges), None, "a task's own old pairs are replaced");
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let edges = [(1, 2), (1, 3), (2, 4), (3, 4)];
        assert_eq!(find_cycle(1, &[2, 3], &edges), None);
        assert_eq!(find_cycle(4, &[1], &edges).map(|p| (p[0], *p.last().unwrap())), Some((4, 4)));
    }

    #[test]
    fn a_long_chain_and_a_wide_fan_in_are_checked_in_linear_time() {
        let n = 1000;
        let chain: Vec<(i64, i64)> = (1..n).map(|i| (i + 1, i)).collect();
        let wide: Vec<(i64, i64)> = (2..=n).map(|i| (1, i)).collect();
        let started = std::time::Instant::now();
        let cycle = find_cycle(1, &[n], &chain).expect("1 waiting for the chain's end closes it");
        assert_eq!(cycle.len(), n as usize + 1);
        let blockers: Vec<i64> = (2..=n).collect();
        assert_eq!(find_cycle(1, &blockers, &wide), None);
        assert!(started.elapsed() < std::time::Duration::from_millis(50), "{:?}", started.elapsed());
    }

    #[test]
    fn blocked_by_is_an_array_of_distinct_task_ids() {
        assert_eq!(parse_blockers(serde_json::json!([3, "4"])).unwrap(), vec![3, 4]);
        assert!(parse_blockers(serde_json::json!([3, 3])).is_err());
        assert!(parse_blockers(serde_json::json!(3)).is_err());
        assert!(parse_blockers(serde_json::json!([0])).is_err());
        assert!(parse_blockers(serde_json::json!((0..1001).map(|i| i + 1).collect::<Vec<_>>())).is_err());
    }
}
