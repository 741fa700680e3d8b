//! Agents waiting for work (`task:next { wait }`): a fair queue per board, woken by its task events.
//!
//! A waiting agent holds nothing but its place in line: no lease, no thread, only a future.
//! Each board has a turn (tokio's `Mutex` hands itself over in the order it was asked for, so
//! waiters are served in arrival order); the agent at the head of the line tries to claim,
//! and if nothing is ready it sleeps until the board's next task change, then tries again.
//! The changes come from the event bus, which also carries other instances' events when the
//! board runs on several (`cluster`), so a task created anywhere wakes the head of the line
//! here. Rejected: one `Notify` for all waiters, which wakes them all at once and lets the
//! fastest, not the first, take the task.
//!
//! Who is waiting is shown to the people watching (`agents:waiting`, `sync:full`'s
//! `waitingAgents`): an agent is listed from the moment its first attempt found nothing (or it
//! queued behind another agent) until its wait ends, however it ends. Only this instance's
//! waiters are listed: sharing the line through Redis would cost a message per wait for a
//! hint, while the claims themselves are already shared through the bus.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::task::Task;
use crate::bus::Bus;
use crate::domain::change::Change;
use crate::error::AppResult;
use crate::presence::Presence;

/// The head of the line also tries again this often without any event: a change whose event
/// never arrived (a Redis outage between instances) then delays an agent by this much at most.
const RECHECK: Duration = Duration::from_secs(5);

pub struct Waiting {
    bus: Arc<Bus>,
    /// Where the list of waiting agents is announced (an ephemeral signal, like typing).
    presence: Arc<Presence>,
    /// Each board's line, made on its first waiter. The lock is held only to find or add one.
    lines: Arc<Lines>,
    /// The bus subscription that wakes the lines, started on the first wait (so that a board
    /// nobody waits on costs nothing, and no unread channel fills up).
    listening: OnceLock<()>,
    /// Set at shutdown: every wait ends at once (answered with no task), so a waiting request
    /// does not hold the server's graceful stop for up to a minute.
    stopping: watch::Sender<bool>,
}

type Lines = Mutex<HashMap<String, Arc<Line>>>;

struct Line {
    /// Whose turn it is to try: the agents waiting on this board queue for it in arrival order.
    turn: tokio::sync::Mutex<()>,
    /// Counts the board's task changes; the head of the line sleeps until it moves.
    changes: watch::Sender<u64>,
    /// The agents waiting, in arrival order (an agent waiting twice is in it twice). A std
    /// mutex: held only to change the list and queue its announcement, so that announcements
    /// leave in the order of the changes.
    agents: Mutex<Vec<String>>,
}

impl Line {
    /// The agents listed for the dashboard: each once, in arrival order.
    fn listed(agents: &[String]) -> Vec<String> {
        let mut listed: Vec<String> = Vec::with_capacity(agents.len());
        for agent in agents {
            if !listed.contains(agent) {
                listed.push(agent.clone());
            }
        }
        listed
    }
}

/// An agent's place in a board's line: listed while it exists, taken off when it is dropped,
/// whether the wait ended with a task, with nothing, or by the request going away.
struct Place<'a> {
    presence: &'a Presence,
    board: &'a str,
    line: Arc<Line>,
    agent: &'a str,
}

impl<'a> Place<'a> {
    fn take(presence: &'a Presence, board: &'a str, line: Arc<Line>, agent: &'a str) -> Place<'a> {
        let mut agents = line.agents.lock().unwrap();
        agents.push(agent.to_owned());
        presence.announce_waiting(board, Line::listed(&agents));
        drop(agents);
        Place { presence, board, line, agent }
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let mut agents = self.line.agents.lock().unwrap();
        if let Some(i) = agents.iter().position(|a| a == self.agent) {
            agents.remove(i);
        }
        self.presence.announce_waiting(self.board, Line::listed(&agents));
    }
}

impl Waiting {
    pub fn new(bus: Arc<Bus>, presence: Arc<Presence>) -> Waiting {
        Waiting {
            bus,
            presence,
            lines: Arc::default(),
            listening: OnceLock::new(),
            stopping: watch::Sender::new(false),
        }
    }

    /// Ends every wait, now and from now on (shutdown).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    fn line(&self, board: &str) -> Arc<Line> {
        self.listening.get_or_init(|| {
            let mut events = self.bus.subscribe();
            // Weak: the listener ends with the bus, and never keeps the lines alive.
            let lines = Arc::downgrade(&self.lines);
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    // Any task change may make a task claimable: a create, a release or requeue,
                    // an unassignment, a blocker reaching DONE or being deleted.
                    let task_change = matches!(
                        event.change,
                        Change::TaskCreated { .. } | Change::TaskUpdated { .. } | Change::TaskDeleted { .. }
                    );
                    if task_change
                        && let Some(line) =
                            lines.upgrade().and_then(|l| l.lock().unwrap().get(&event.board).cloned())
                    {
                        line.changes.send_modify(|n| *n += 1);
                    }
                }
            });
        });
        self.lines
            .lock()
            .unwrap()
            .entry(board.to_owned())
            .or_insert_with(|| {
                Arc::new(Line {
                    turn: Default::default(),
                    changes: watch::Sender::new(0),
                    agents: Mutex::default(),
                })
            })
            .clone()
    }

    /// The agents waiting for work on `board` here, each once, in arrival order.
    pub fn agents(&self, board: &str) -> Vec<String> {
        let line = self.lines.lock().unwrap().get(board).cloned();
        line.map(|line| Line::listed(&line.agents.lock().unwrap())).unwrap_or_default()
    }

    /// Waits in line on `board` until `attempt` claims a task for `agent`, `wait` has passed, or
    /// `cancel` completes (the socket closed). A running attempt is never interrupted: a claim
    /// that commits is always answered, so no task ends up held by an agent that was not told.
    pub async fn wait<F, Fut>(
        &self,
        board: &str,
        agent: &str,
        wait: Duration,
        cancel: impl Future<Output = ()>,
        mut attempt: F,
    ) -> AppResult<Option<Task>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = AppResult<Option<Task>>>,
    {
        let deadline = Instant::now() + wait;
        let line = self.line(board);
        let mut stopping = self.stopping.subscribe();
        let cancel = async move {
            tokio::select! {
                () = cancel => {}
                _ = stopping.wait_for(|stopping| *stopping) => {}
            }
        };
        let mut cancel = std::pin::pin!(cancel);
        // Listed only when it really waits: an agent served at once never shows as waiting.
        let mut place = None;
        let _turn = match line.turn.try_lock() {
            Ok(turn) => turn,
            Err(_) => {
                place = Some(Place::take(&self.presence, board, line.clone(), agent));
                tokio::select! {
                    turn = line.turn.lock() => turn,
                    () = tokio::time::sleep_until(deadline) => return Ok(None),
                    () = &mut cancel => return Ok(None),
                }
            }
        };
        let mut changes = line.changes.subscribe();
        loop {
            // Seen before trying: a change committed during the attempt wakes the next round.
            changes.borrow_and_update();
            if let Some(task) = attempt().await? {
                return Ok(Some(task));
            }
            if place.is_none() {
                place = Some(Place::take(&self.presence, board, line.clone(), agent));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::select! {
                _ = changes.changed() => {}
                () = tokio::time::sleep_until(deadline.min(now + RECHECK)) => {}
                () = &mut cancel => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::task::WAIT_MAX;
    use crate::presence::Signal;

    /// The lists announced so far, oldest first.
    fn announced(signals: &mut tokio::sync::mpsc::UnboundedReceiver<Signal>) -> Vec<Vec<String>> {
        let mut lists = Vec::new();
        while let Ok(signal) = signals.try_recv() {
            if let Signal::Waiting { board, agents } = signal {
                assert_eq!(board, "main");
                lists.push(agents);
            }
        }
        lists
    }

    fn a_task() -> Task {
        serde_json::from_value(serde_json::json!({
            "id": 1, "board": "main", "title": "t", "description": "", "status": "IN_PROGRESS",
            "assignee": "lucky", "position": 0, "createdBy": "a", "createdAt": "", "updatedAt": "",
            "version": 2, "claimedBy": "lucky", "leaseExpiresAt": null, "progress": null,
            "labels": [], "dueAt": null, "commentCount": 0
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_waiting_agent_is_listed_until_its_request_goes_away_and_one_served_at_once_never_is() {
        let (presence, mut signals) = Presence::new();
        let waiting = Arc::new(Waiting::new(Arc::new(Bus::new()), presence));

        let served = waiting
            .wait("main", "lucky", WAIT_MAX, std::future::pending(), || async { Ok(Some(a_task())) })
            .await;
        assert!(served.unwrap().is_some());
        assert!(announced(&mut signals).is_empty(), "served at once: never listed");

        // A REST request whose client hung up is dropped mid-wait, never answered.
        let this = waiting.clone();
        let dropped = tokio::spawn(async move {
            this.wait("main", "bot-1", WAIT_MAX, std::future::pending(), || async { Ok(None) }).await
        });
        let this = waiting.clone();
        let second = tokio::spawn(async move {
            this.wait("main", "bot-2", WAIT_MAX, std::future::pending(), || async { Ok(None) }).await
        });
        while waiting.agents("main").len() < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(waiting.agents("main"), ["bot-1", "bot-2"], "in arrival order");
        dropped.abort();
        let _ = dropped.await;
        assert_eq!(waiting.agents("main"), ["bot-2"]);
        second.abort();
        let _ = second.await;
        assert!(waiting.agents("main").is_empty());
        assert_eq!(
            announced(&mut signals),
            [vec!["bot-1"], vec!["bot-1", "bot-2"], vec!["bot-2"], vec![]],
            "every change announced, in order"
        );
    }
}
