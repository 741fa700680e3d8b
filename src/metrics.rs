//! Prometheus metrics at `/metrics`: sockets, events sent, command latency, commit latency,
//! errors by code.
//!
//! One process-wide registry: the numbers are observed deep in the store and the fan-out, and
//! threading a handle through every layer for them would cost more clarity than a global.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    /// The event's family: `task:*:updated` rather than one name per task.
    event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabel {
    /// A socket command (`task:move`) or a REST route (`PUT /api/tasks/{id}`).
    command: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

pub struct Metrics {
    registry: Registry,
    connections: Gauge,
    events: Family<EventLabel, Counter>,
    commands: Family<CommandLabel, Histogram>,
    commits: Histogram,
    errors: Family<CodeLabel, Counter>,
}

/// 50 µs to ~1.6 s, doubling.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.00005, 2.0, 16)
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("warroom");
    let connections = Gauge::default();
    registry.register("connections", "Authenticated sockets open now", connections.clone());
    let events = Family::<EventLabel, Counter>::default();
    registry.register("events_sent", "Events broadcast to sockets, by event", events.clone());
    let commands =
        Family::<CommandLabel, Histogram>::new_with_constructor(|| Histogram::new(latency_buckets()));
    registry.register(
        "command_duration_seconds",
        "Time to answer a socket command or REST request",
        commands.clone(),
    );
    let commits = Histogram::new(latency_buckets());
    registry.register("store_commit_seconds", "Time to commit one group of writes", commits.clone());
    let errors = Family::<CodeLabel, Counter>::default();
    registry.register("errors", "Errors answered to clients, by SPEC code", errors.clone());
    Metrics { registry, connections, events, commands, commits, errors }
});

pub fn event_sent(name: &str) {
    METRICS.events.get_or_create(&EventLabel { event: event_family(name) }).inc();
}

pub fn command_done(command: &str, took: Duration) {
    METRICS.commands.get_or_create(&CommandLabel { command: command.to_owned() }).observe(took.as_secs_f64());
}

pub fn commit_done(took: Duration) {
    METRICS.commits.observe(took.as_secs_f64());
}

pub fn error_answered(code: &str) {
    METRICS.errors.get_or_create(&CodeLabel { code: code.to_owned() }).inc();
}

/// The text exposition, with the connection gauge read now.
pub fn render(connections: usize) -> String {
    METRICS.connections.set(connections as i64);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &METRICS.registry);
    out
}

/// `task:42:updated` → `task:*:updated`, so the label set stays small.
fn event_family(name: &str) -> String {
    name.split(':')
        .enumerate()
        .map(|(i, seg)| if i == 1 && name.split(':').count() == 3 { "*" } else { seg })
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_task_and_per_agent_events_share_one_label() {
        assert_eq!(event_family("task:42:updated"), "task:*:updated");
        assert_eq!(event_family("agent:bot-1:status"), "agent:*:status");
        assert_eq!(event_family("task:created"), "task:created");
        assert_eq!(event_family("activity"), "activity");
    }
}
