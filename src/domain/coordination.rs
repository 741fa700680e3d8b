//! The port for the ephemeral state the board service shares with other instances: who is
//! online, drag locks, which connection speaks for an agent, and the committed changes the
//! others must see. Nothing of it is persisted; all of it must agree across instances.
//!
//! Two implementations: `InProcess` here (one instance: everything is in this process's
//! `Presence`) and `cluster::RedisCoordination` (several instances: `Presence` for this
//! instance's connections, Redis for what they share). The board service holds one
//! `Arc<dyn Coordination>` and never asks which it has.

use std::sync::Arc;

use async_trait::async_trait;

use crate::bus::DomainEvent;
use crate::error::AppResult;
use crate::presence::{PeopleChange, Presence, User};

#[async_trait]
pub trait Coordination: Send + Sync {
    /// Everyone online on a board, on every instance, ordered by id.
    fn users(&self, board: &str) -> Vec<User>;

    /// This instance's online list on `board` changed by `change`: the others learn the list
    /// (before the event of the join or leave), and what is returned is the part of `change`
    /// that is news for everyone: a person still (or already) online elsewhere neither left
    /// nor came.
    fn people_changed(&self, board: &str, change: PeopleChange) -> PeopleChange;

    /// Takes (or renews) the drag lock of a task for a connection of this instance.
    async fn start_drag(&self, board: &str, conn: &str, task_id: i64) -> AppResult<()>;

    /// Ends a connection's drag of a task, if it holds it.
    async fn end_drag(&self, board: &str, conn: &str, task_id: i64);

    /// Refuses a change of a task that someone else is dragging. `conn` is the asking
    /// connection (none for REST, which never holds a lock).
    async fn check_unlocked(&self, board: &str, task_id: i64, conn: Option<&str>) -> AppResult<()>;

    /// A connection reported for an agent: the agent goes offline with it.
    async fn own_agent(&self, board: &str, agent: &str, conn: &str) -> AppResult<()>;

    /// Whether a connection (on any instance) speaks for the agent.
    async fn agent_is_connected(&self, board: &str, agent: &str) -> AppResult<bool>;

    /// A connection closed (`Presence::disconnect` has forgotten it here): what it held in the
    /// shared state ends.
    async fn release_connection(&self, conn: &str);

    /// The closed connection `conn` had reported for `agent`: true when it was the agent's
    /// last word, so the agent goes offline; false when another connection (of another
    /// instance) has reported it since.
    async fn disown_agent(&self, board: &str, agent: &str, conn: &str) -> AppResult<bool>;

    /// A change this instance committed, for the other instances' buses (this instance's own
    /// bus gets it from the board service).
    fn publish_event(&self, event: &DomainEvent);
}

/// An agent whose instance died, as the cluster's reaper reports it (over a channel that the
/// server hands to the board service): the cluster depends on the domain, never the reverse.
#[derive(Debug)]
pub struct AgentGone {
    pub board: String,
    pub agent: String,
}

/// One instance: the shared state is this process's presence, and there is no one to publish to.
pub struct InProcess(pub Arc<Presence>);

#[async_trait]
impl Coordination for InProcess {
    fn users(&self, board: &str) -> Vec<User> {
        self.0.users(board)
    }

    fn people_changed(&self, _board: &str, change: PeopleChange) -> PeopleChange {
        change
    }

    async fn start_drag(&self, _board: &str, conn: &str, task_id: i64) -> AppResult<()> {
        self.0.start_drag(conn, task_id)
    }

    async fn end_drag(&self, _board: &str, conn: &str, task_id: i64) {
        self.0.end_drag(conn, task_id);
    }

    async fn check_unlocked(&self, board: &str, task_id: i64, conn: Option<&str>) -> AppResult<()> {
        self.0.check_unlocked(board, task_id, conn)
    }

    async fn own_agent(&self, _board: &str, agent: &str, conn: &str) -> AppResult<()> {
        self.0.own_agent(conn, agent);
        Ok(())
    }

    async fn agent_is_connected(&self, board: &str, agent: &str) -> AppResult<bool> {
        Ok(self.0.agent_is_connected(board, agent))
    }

    /// `Presence::disconnect` already ended its drags.
    async fn release_connection(&self, _conn: &str) {}

    /// `Presence::disconnect` listed only the agents this connection was the last to report.
    async fn disown_agent(&self, _board: &str, _agent: &str, _conn: &str) -> AppResult<bool> {
        Ok(true)
    }

    fn publish_event(&self, _event: &DomainEvent) {}
}
