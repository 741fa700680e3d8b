//! The event bus: committed domain changes, delivered to subscribers in sequence order.
//!
//! Writes commit in `seq` order, but the tasks that publish them may wake in any order, so
//! the bus holds an early event until every earlier one of its board has arrived. Subscribers
//! (the Socket.IO fan-out) therefore see each board's changes exactly in commit order, which
//! is what makes gap-free resume possible.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::domain::activity::Activity;
use crate::domain::change::Change;

/// One committed change of a board. Serializable: with several instances it travels through
/// Redis to every instance's bus.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DomainEvent {
    pub board: String,
    pub seq: i64,
    /// RFC3339 UTC time of the commit.
    pub at: String,
    /// Who made it (a name, `api`, `anonymous`, or an agent id).
    pub actor: String,
    pub change: Change,
    pub activity: Vec<Activity>,
}

/// A missing sequence number is given up on after this long. It can only go missing if a
/// committed write's publisher died, which would be a bug; waiting forever would freeze the board.
const GAP_PATIENCE: Duration = Duration::from_secs(2);

pub struct Bus {
    // Held only to reorder and hand events to unbounded channels: never across an await.
    inner: Mutex<Inner>,
}

struct Inner {
    boards: HashMap<String, Sequencer>,
    subscribers: Vec<mpsc::UnboundedSender<Arc<DomainEvent>>>,
}

struct Sequencer {
    next: i64,
    pending: BTreeMap<i64, (Instant, Arc<DomainEvent>)>,
}

impl Bus {
    pub fn new() -> Bus {
        Bus { inner: Mutex::new(Inner { boards: HashMap::new(), subscribers: Vec::new() }) }
    }

    /// Tells the bus the last sequence number already committed for a board (at start-up).
    pub fn start_board(&self, board: &str, last_seq: i64) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .boards
            .entry(board.to_owned())
            .or_insert_with(|| Sequencer { next: last_seq + 1, pending: BTreeMap::new() });
    }

    /// Forgets a deleted board's sequence: a board made again under its id starts from 1.
    pub fn forget_board(&self, board: &str) {
        self.inner.lock().unwrap().boards.remove(board);
    }

    /// Every event from now on, in order per board. Unbounded because the consumer never
    /// blocks (socket emits only queue), and producers are bounded by the store's commit rate.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Arc<DomainEvent>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.inner.lock().unwrap().subscribers.push(tx);
        rx
    }

    pub fn publish(&self, event: DomainEvent) {
        let mut guard = self.inner.lock().unwrap();
        let Inner { boards, subscribers } = &mut *guard;
        let seq = event.seq;
        let sequencer = boards
            .entry(event.board.clone())
            .or_insert_with(|| Sequencer { next: seq, pending: BTreeMap::new() });
        if seq < sequencer.next {
            tracing::error!(seq, next = sequencer.next, "an event arrived after its turn; dropped");
            return;
        }
        sequencer.pending.insert(seq, (Instant::now(), Arc::new(event)));
        sequencer.release(subscribers);
    }

    /// Gives up on sequence numbers missing for longer than `GAP_PATIENCE` even when no new
    /// event arrives to notice it. With several instances an event can go missing without a
    /// bug (its publisher died, Redis was away), so the cluster calls this every second; on
    /// one instance `publish` alone runs the release.
    pub fn tick(&self) {
        let mut guard = self.inner.lock().unwrap();
        let Inner { boards, subscribers } = &mut *guard;
        for sequencer in boards.values_mut() {
            sequencer.release(subscribers);
        }
    }
}

impl Sequencer {
    /// Hands every event whose turn has come to the subscribers.
    fn release(&mut self, subscribers: &mut Vec<mpsc::UnboundedSender<Arc<DomainEvent>>>) {
        let sequencer = self;
        loop {
            let next = sequencer.next;
            let ready = match sequencer.pending.first_key_value() {
                Some((&first, _)) if first == next => true,
                Some((&first, (since, _))) if since.elapsed() > GAP_PATIENCE => {
                    tracing::error!(missing = next, resumed_at = first, "gave up waiting for an event");
                    sequencer.next = first;
                    true
                }
                _ => false,
            };
            if !ready {
                break;
            }
            let (seq, (_, event)) = sequencer.pending.pop_first().expect("checked above");
            sequencer.next = seq + 1;
            subscribers.retain(|s| s.send(event.clone()).is_ok());
        }
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}
