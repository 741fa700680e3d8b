//! Patterns over segmented names, as subscriptions (`task:*:updated`, segments split at `:`)
//! and webhooks (`task.*`, split at `.`) use them: `*` is one segment, `**` one or more.

/// Whether `pattern`'s segments match `name`'s.
pub fn matches(pattern: &[&str], name: &[&str]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((&"**", rest)), Some(_)) => (1..=name.len()).any(|n| matches(rest, &name[n..])),
        (Some((&"*", rest)), Some((_, tail))) => matches(rest, tail),
        (Some((seg, rest)), Some((ev, tail))) => seg == ev && matches(rest, tail),
        _ => false,
    }
}
