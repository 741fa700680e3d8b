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

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::task::Task;
use crate::bus::Bus;
use crate::domain::write::Change;
use crate::error::{AppError, AppResult};

/// The longest wait an agent may ask for (SPEC: 0–60 s).
pub const WAIT_MAX: Duration = Duration::from_secs(60);

/// The head of the line also tries again this often without any event: a change whose event
/// never arrived (a Redis outage between instances) then delays an agent by this much at most.
const RECHECK: Duration = Duration::from_secs(5);

pub struct Waiting {
    bus: Arc<Bus>,
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
}

impl Waiting {
    pub fn new(bus: Arc<Bus>) -> Waiting {
        Waiting {
            bus,
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
            .or_insert_with(|| Arc::new(Line { turn: Default::default(), changes: watch::Sender::new(0) }))
            .clone()
    }

    /// Waits in line on `board` until `attempt` claims a task, `wait` has passed, or `cancel`
    /// completes (the socket closed). A running attempt is never interrupted: a claim that
    /// commits is always answered, so no task ends up held by an agent that was not told.
    pub async fn wait<F, Fut>(
        &self,
        board: &str,
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
        let _turn = tokio::select! {
            turn = line.turn.lock() => turn,
            () = tokio::time::sleep_until(deadline) => return Ok(None),
            () = &mut cancel => return Ok(None),
        };
        let mut changes = line.changes.subscribe();
        loop {
            // Seen before trying: a change committed during the attempt wakes the next round.
            changes.borrow_and_update();
            if let Some(task) = attempt().await? {
                return Ok(Some(task));
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

/// `wait`: seconds, 0–60, fractions allowed; absent or null is 0 (answer at once).
pub fn parse_wait(value: Option<Value>) -> AppResult<Duration> {
    let refused = || AppError::validation("`wait` must be a number of seconds from 0 to 60");
    match value {
        None | Some(Value::Null) => Ok(Duration::ZERO),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(s) if (0.0..=WAIT_MAX.as_secs_f64()).contains(&s) => Ok(Duration::from_secs_f64(s)),
            _ => Err(refused()),
        },
        Some(_) => Err(refused()),
    }
}
