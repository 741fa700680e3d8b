//! From the bus to every screen: turns each committed change into both seeds' events, sends
//! each to the rooms that want it, keeps the recent ones for gap-free resume, and brings a
//! (re)connecting socket up to date without a gap or a duplicate.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use tokio::sync::{Mutex, broadcast, mpsc, watch};

use super::subscriptions::{Patterns, Rooms};
use crate::bus::DomainEvent;
use crate::domain::agent::Agent;
use crate::domain::board::Board;
use crate::domain::boards::BoardInfo;
use crate::domain::cards::Label;
use crate::domain::change::Change;
use crate::domain::storage::Snapshot;
use crate::domain::task::{Shifted, Status, Task};
use crate::error::AppResult;
use crate::presence::{Signal, User};

/// How many recent events are kept for clients that resume with `lastSeq`.
pub const RETAINED_EVENTS: usize = 20_000;

/// Packets queued per socket, at most: room for a whole resume replay (SPEC: a client whose
/// missed events are retained gets exactly those) on top of live traffic, and for a burst of
/// commands' answers (each refused command queues its ack and an `error`). Broadcasts share one
/// encoding, so what a socket holds on its own is its `sync:full`, its replay and its answers.
/// A socket that stops reading does not keep them: a write that makes no progress for 10 s
/// closes its connection (`stall`), and it resumes with `lastSeq`. When the queue is full,
/// broadcasts skip the socket and engine.io's next ping cannot be queued, which closes it too.
pub const QUEUE_PACKETS: usize = RETAINED_EVENTS + 8_192;

/// One event as sent: name, first argument, and the change's sequence number.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub seq: i64,
    pub name: String,
    pub payload: Value,
    /// Only for the clients that take a column's renumbering this way; `None`: for every client.
    pub only: Option<Renumbering>,
}

impl Outgoing {
    /// Whether a client is sent this event: one that takes renumberings `renumbering`, with
    /// `patterns` if it ever subscribed (`None`: it gets everything).
    pub fn is_for(&self, renumbering: Renumbering, patterns: Option<&Patterns>) -> bool {
        self.only.is_none_or(|only| only == renumbering) && patterns.is_none_or(|p| p.matches(&self.name))
    }
}

/// How a client is told of the cards a placement pushed down its column: one
/// `task:{id}:updated` each (SPEC's events, the default), or all of them in one `task:shifted`
/// (`auth.batchShifts`). A move to the top of a 1,000-card column is 1,000 WebSocket messages
/// the first way; each costs a browser a task of its own (~150 ms of a page's main thread
/// in all, and the card's own paint waits behind them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renumbering {
    Each,
    Batched,
}

impl Renumbering {
    /// The room of a board's sockets that take renumberings this way: events for the other
    /// way leave it out.
    pub fn room(self, board: &str) -> String {
        match self {
            Renumbering::Each => format!("{board}/renumbering/each"),
            Renumbering::Batched => format!("{board}/renumbering/batched"),
        }
    }

    fn other(self) -> Renumbering {
        match self {
            Renumbering::Each => Renumbering::Batched,
            Renumbering::Batched => Renumbering::Each,
        }
    }
}

pub struct Fanout {
    io: SocketIo,
    board: Board,
    rooms: Arc<Rooms>,
    /// Emission and catch-up take turns under this lock, so a socket joining its room never
    /// misses an event or sees one twice. Held across emits (which only queue), hence tokio's.
    rings: Mutex<HashMap<String, Ring>>,
    /// Bumped after every emitted change, for syncs waiting on the fan-out to catch up.
    progress: watch::Sender<u64>,
    /// The last `sync:full` sent, serialised. Only read and replaced under `rings`, so a
    /// std mutex held for the swap.
    encoded: std::sync::Mutex<Option<EncodedSync>>,
    /// Every change as sent, for the Server-Sent Events streams (`follow`). Sent under `rings`,
    /// so a follower that subscribes and reads the ring under it misses nothing. Bounded: a
    /// stream that falls `LIVE_BACKLOG` changes behind is ended and resumes with its last id.
    live: broadcast::Sender<Arc<Published>>,
}

/// How many changes a Server-Sent Events stream may fall behind before it is ended.
pub const LIVE_BACKLOG: usize = 1_024;

/// One change's events, as every transport sends them.
pub struct Published {
    pub board: String,
    pub seq: i64,
    pub events: Vec<Outgoing>,
}

/// Where a follower of the board starts: what it missed, or the board as it is now.
pub enum Start {
    /// Every event after the follower's `lastSeq`, in order.
    Replay(Vec<Outgoing>),
    /// `sync:full` of the board, encoded, with its `seq`.
    Full { seq: i64, json: Arc<RawValue> },
}

/// A follower of one board: its start, then the live changes after `after`.
pub struct Follow {
    pub start: Start,
    pub after: i64,
    pub live: broadcast::Receiver<Arc<Published>>,
}

/// `sync:full` of one board version (its `seq` and who is online), serialised once: every
/// socket that connects while it is current is sent these bytes without another read of the
/// store or another serialisation of the board. socketioxide 0.18 has no way to queue one
/// encoded packet on many single sockets (`Socket::emit` copies its argument into each
/// socket's packet), so each queue still holds its own copy until the client reads it.
struct EncodedSync {
    board: String,
    seq: i64,
    users: Vec<User>,
    /// The agents waiting for work then (they change without a `seq`, like `users`).
    waiting: Vec<String>,
    /// The boards listed: the socket's credential's, so another credential's list differs.
    boards: Arc<Vec<BoardInfo>>,
    /// The person's unread notifications, which differ from person to person.
    unread: i64,
    json: Arc<RawValue>,
}

#[derive(Serialize)]
struct SyncFull<'a> {
    tasks: &'a [Task],
    agents: &'a [Agent],
    users: &'a [User],
    seq: i64,
    board: Option<&'a BoardInfo>,
    boards: &'a [BoardInfo],
    labels: &'a [Label],
    #[serde(rename = "unreadNotifications")]
    unread_notifications: i64,
    #[serde(rename = "waitingAgents")]
    waiting_agents: &'a [String],
}

/// The recent events of one board.
struct Ring {
    events: VecDeque<Outgoing>,
    /// Every event with a seq in `first..=last` is in `events`.
    first: i64,
    last: i64,
}

impl Ring {
    fn new(last: i64) -> Ring {
        Ring { events: VecDeque::new(), first: last + 1, last }
    }

    /// Whether a client that saw everything up to `seq` can be given exactly what it missed.
    fn covers(&self, seq: i64) -> bool {
        seq + 1 >= self.first && seq <= self.last
    }

    fn after(&self, seq: i64) -> impl Iterator<Item = &Outgoing> {
        self.events.iter().filter(move |e| e.seq > seq)
    }

    fn push(&mut self, seq: i64, events: &[Outgoing]) {
        if seq > self.last + 1 {
            // A change never arrived (the bus gave up on it: with several instances, its
            // publisher died). A resume across the hole cannot be exact, so those from before
            // it get `sync:full` instead.
            self.events.clear();
            self.first = seq;
        }
        self.events.extend(events.iter().cloned());
        self.last = seq;
        while self.events.len() > RETAINED_EVENTS {
            let dropped = self.events.pop_front().map(|e| e.seq).unwrap_or(self.first);
            // The oldest change may now be partly gone: keep only whole changes.
            while self.events.front().is_some_and(|e| e.seq == dropped) {
                self.events.pop_front();
            }
            self.first = dropped + 1;
        }
    }
}

/// What a connecting socket asked for in its handshake.
pub struct SyncRequest<'a> {
    pub board: &'a str,
    pub last_seq: Option<i64>,
    pub patterns: Option<&'a Patterns>,
    /// How it takes renumberings.
    pub renumbering: Renumbering,
    /// The room the socket's patterns map to.
    pub room: String,
    /// The boards its credential can see (listed in `sync:full`).
    pub boards: Arc<Vec<BoardInfo>>,
    /// Its person's unread notifications (0 for a socket without a name).
    pub unread: i64,
}

impl Fanout {
    pub fn new(io: SocketIo, board: Board, rooms: Arc<Rooms>, start: HashMap<String, i64>) -> Arc<Fanout> {
        let rings = start.into_iter().map(|(b, seq)| (b, Ring::new(seq))).collect();
        Arc::new(Fanout {
            io,
            board,
            rooms,
            rings: Mutex::new(rings),
            progress: watch::channel(0).0,
            encoded: std::sync::Mutex::new(None),
            live: broadcast::channel(LIVE_BACKLOG).0,
        })
    }

    /// Sends committed changes, in order, for as long as the bus lives.
    pub async fn run(self: Arc<Self>, mut events: mpsc::UnboundedReceiver<Arc<DomainEvent>>) {
        while let Some(event) = events.recv().await {
            let outgoing = self.describe(&event);
            let mut rings = self.rings.lock().await;
            // Already in the snapshot this fan-out started from: with several instances, the
            // others' changes committed while this one was starting arrive late.
            if rings.get(&event.board).is_some_and(|r| event.seq <= r.last) {
                continue;
            }
            for out in &outgoing {
                self.send(&event.board, out).await;
            }
            // Agents' status is team-wide (SPEC "Boards"): the other boards' sockets get it too,
            // without a seq, which numbers the changes of the board it happened on.
            let elsewhere: Vec<&String> = rings.keys().filter(|b| **b != event.board).collect();
            for out in outgoing.iter().filter(|o| is_agent_status(&o.name)) {
                let rooms =
                    elsewhere.iter().flat_map(|b| self.rooms.for_event(b, &out.name)).collect::<Vec<_>>();
                // No room at all would be every socket of the namespace, this board's included.
                if rooms.is_empty() {
                    continue;
                }
                if let Some(ns) = self.io.of("/")
                    && let Err(e) = ns.to(rooms).emit(&out.name, &out.payload).await
                {
                    tracing::debug!(error = %e, "broadcast of {} to other boards failed", out.name);
                }
            }
            let ring = rings.entry(event.board.clone()).or_insert_with(|| Ring::new(event.seq - 1));
            ring.push(event.seq, &outgoing);
            if matches!(event.change, Change::BoardImported) {
                // An import is not replayed event by event: a client resuming from before it, and
                // every socket on the board now, gets the board as it is.
                ring.events.clear();
                ring.first = event.seq + 1;
                if let Err(e) = self.resync(&event.board).await {
                    e.log("sending sync:full after an import");
                }
            }
            // Nobody following is not an error.
            let _ = self.live.send(Arc::new(Published {
                board: event.board.clone(),
                seq: event.seq,
                events: outgoing,
            }));
            drop(rings);
            self.progress.send_modify(|n| *n += 1);
        }
    }

    /// Sends ephemeral signals (typing, drags, a second tab) to the others on the board.
    pub async fn run_signals(self: Arc<Self>, mut signals: mpsc::UnboundedReceiver<Signal>) {
        while let Some(signal) = signals.recv().await {
            // The waiting list is part of `sync:full`: sent under the rings lock, like a change,
            // so a socket being synced either read the new list or is in its room for this.
            let _turn = match signal {
                Signal::Waiting { .. } => Some(self.rings.lock().await),
                _ => None,
            };
            let (board, except, name, payload) = match signal {
                Signal::Board { board, event, payload } => {
                    self.send_board_news(&board, &event, &payload).await;
                    continue;
                }
                Signal::Notify { person, payload } => {
                    let Some(ns) = self.io.of("/") else { continue };
                    let event = payload["event"].as_str().unwrap_or("notification").to_owned();
                    if let Err(e) = ns.to(person_room(&person)).emit(&event, &payload["payload"]).await {
                        tracing::debug!(error = %e, "sending {event} failed");
                    }
                    continue;
                }
                Signal::Typing { board, except, names } => {
                    (board, Some(except), "typing:update", json!(names))
                }
                Signal::Drag { board, except, task_id, user } => {
                    (board, Some(except), "task:drag:other", json!({ "taskId": task_id, "user": user }))
                }
                Signal::Users { board, users } => (board, None, "users:update", json!(users)),
                Signal::Viewers { board, except, task_id, users } => {
                    (board, Some(except), "task:viewers", json!({ "taskId": task_id, "users": users }))
                }
                Signal::Waiting { board, agents } => {
                    (board, None, "agents:waiting", json!({ "agents": agents }))
                }
            };
            // After shutdown closed the namespace there is nobody left to tell.
            let Some(ns) = self.io.of("/") else { continue };
            let mut op = ns.to(self.rooms.for_event(&board, name));
            if let Some(conn) = except {
                op = op.except(connection_room(&conn));
            }
            if let Err(e) = op.emit(name, &payload).await {
                tracing::debug!(error = %e, "broadcast of {name} failed");
            }
        }
    }

    /// A fresh `sync:full` to every socket on `board`, each with its credential's boards and its
    /// person's unread count.
    async fn resync(&self, board: &str) -> AppResult<()> {
        let Some(ns) = self.io.of("/") else { return Ok(()) };
        let sockets = ns.to(board_room(board)).sockets();
        let snapshot = self.board.snapshot(board).await?;
        let users = self.board.users(board);
        let waiting = self.board.waiting_agents(board);
        // The board list is read once: a socket's is every board its credential's scope reaches.
        let all = self.board.boards_for(None).await?;
        for socket in sockets {
            let Some(session) = socket.extensions.get::<Arc<super::Session>>() else { continue };
            let scope = session.credential.boards.as_deref();
            let boards = crate::domain::board::visible_boards(&all, scope);
            let name = self.board.name_of(&socket.id.to_string());
            let unread = self.board.unread_notifications(&name).await?;
            let json = encode_sync(board, &snapshot, &users, &waiting, &boards, unread)?;
            let _ = socket.emit("sync:full", &*json);
        }
        Ok(())
    }

    /// `board:created|updated|deleted` to every socket that can see the board, whatever board
    /// it is on; a deleted board's own sockets are then disconnected.
    async fn send_board_news(&self, board: &str, event: &str, payload: &Value) {
        // Another instance's change reaches this one's board list here.
        self.board.boards_changed();
        let Some(ns) = self.io.of("/") else { return };
        if let Err(e) = ns.clone().to(seers_of(board)).emit(event, payload).await {
            tracing::debug!(error = %e, "broadcast of {event} failed");
        }
        if event == "board:created" {
            // Known from now on, so team-wide events (agents' status) reach its sockets before
            // anything happens on it.
            self.rings.lock().await.entry(board.to_owned()).or_insert_with(|| Ring::new(0));
        }
        if event == "board:deleted" {
            self.rings.lock().await.remove(board);
            self.board.bus().forget_board(board);
            if let Err(e) = ns.to(board_room(board)).disconnect().await {
                tracing::warn!(error = %e, "disconnecting a deleted board's sockets");
            }
        }
    }

    async fn send(&self, board: &str, out: &Outgoing) {
        let rooms = self.rooms.for_event(board, &out.name);
        crate::metrics::event_sent(&out.name);
        // After shutdown closed the namespace there is nobody left to send to.
        let Some(ns) = self.io.of("/") else { return };
        let mut op = ns.to(rooms);
        if let Some(only) = out.only {
            op = op.except(only.other().room(board));
        }
        if let Err(e) = op.emit(&out.name, &(&out.payload, json!({ "seq": out.seq }))).await {
            tracing::debug!(error = %e, "broadcast of {} failed", out.name);
        }
    }

    /// Brings a socket up to date and puts it in its room: the events it missed (with
    /// `lastSeq`, when they are retained) then `sync:resumed`, or else `sync:full`, then
    /// whatever happened meanwhile.
    pub async fn sync(&self, socket: &SocketRef, req: SyncRequest<'_>) -> AppResult<()> {
        {
            let rings = self.rings.lock().await;
            let ring = rings.get(req.board);
            if let Some(last_seq) = req.last_seq
                && let Some(ring) = ring.filter(|r| r.covers(last_seq))
            {
                for out in ring.after(last_seq).filter(|out| out.is_for(req.renumbering, req.patterns)) {
                    emit_to(socket, out);
                }
                let _ = socket.emit("sync:resumed", &json!({ "seq": ring.last }));
                socket.join(req.room);
                return Ok(());
            }
            // Nothing happened since the last `sync:full` was encoded: send the same bytes.
            if let Some(json) = self.current_sync(req.board, ring, &req.boards, req.unread) {
                let _ = socket.emit("sync:full", &*json);
                socket.join(req.room);
                return Ok(());
            }
        }
        loop {
            let snapshot = self.board.snapshot(req.board).await?;
            self.caught_up(req.board, snapshot.seq).await;
            let rings = self.rings.lock().await;
            let ring = rings.get(req.board);
            // The snapshot is older than what is retained: rare; read it again.
            if ring.is_some_and(|r| snapshot.seq + 1 < r.first) {
                continue;
            }
            // A ring still behind the snapshot after the wait means a change was committed but
            // never published (its instance died in between). The snapshot holds it: send it
            // rather than keep the client waiting. Should the missing events come after all, a
            // client sees them again with a `seq` it has, which it can ignore.
            if ring.is_some_and(|r| r.last < snapshot.seq) {
                tracing::debug!(seq = snapshot.seq, "syncing a socket ahead of the fan-out");
            }
            let users = self.board.users(req.board);
            let waiting = self.board.waiting_agents(req.board);
            let json = encode_sync(req.board, &snapshot, &users, &waiting, &req.boards, req.unread)?;
            let _ = socket.emit("sync:full", &*json);
            *self.encoded.lock().unwrap() = Some(EncodedSync {
                board: req.board.to_owned(),
                seq: snapshot.seq,
                users,
                waiting,
                boards: req.boards.clone(),
                unread: req.unread,
                json,
            });
            for out in ring.into_iter().flat_map(|r| r.after(snapshot.seq)) {
                if out.is_for(req.renumbering, req.patterns) {
                    emit_to(socket, out);
                }
            }
            socket.join(req.room);
            return Ok(());
        }
    }

    /// Starts following `board` for a client that is not a socket (Server-Sent Events): the
    /// events after `last_seq` when they are retained (at most `RETAINED_EVENTS`), or else
    /// `sync:full`; then every change after that, from `Follow::live`.
    pub async fn follow(
        &self,
        board: &str,
        last_seq: Option<i64>,
        boards: &Arc<Vec<BoardInfo>>,
        unread: i64,
    ) -> AppResult<Follow> {
        let live = {
            let rings = self.rings.lock().await;
            let live = self.live.subscribe();
            let ring = rings.get(board);
            if let Some(last_seq) = last_seq
                && let Some(ring) = ring.filter(|r| r.covers(last_seq))
            {
                let missed = ring.after(last_seq).cloned().collect();
                return Ok(Follow { start: Start::Replay(missed), after: ring.last, live });
            }
            if let Some(ring) = ring
                && let Some(json) = self.current_sync(board, Some(ring), boards, unread)
            {
                return Ok(Follow { start: Start::Full { seq: ring.last, json }, after: ring.last, live });
            }
            live
        };
        // Subscribed before the snapshot is read: whatever is committed meanwhile is either in
        // the snapshot or after its seq on `live`, and the follower skips the first kind.
        let snapshot = self.board.snapshot(board).await?;
        let users = self.board.users(board);
        let waiting = self.board.waiting_agents(board);
        let json = encode_sync(board, &snapshot, &users, &waiting, boards, unread)?;
        Ok(Follow { start: Start::Full { seq: snapshot.seq, json }, after: snapshot.seq, live })
    }

    /// The encoded `sync:full` if it is still the board as a new socket must see it: the
    /// fan-out has sent nothing since (so no event falls between it and the room), and the
    /// same people are online and the same agents waiting.
    fn current_sync(
        &self,
        board: &str,
        ring: Option<&Ring>,
        boards: &Arc<Vec<BoardInfo>>,
        unread: i64,
    ) -> Option<Arc<RawValue>> {
        let encoded = self.encoded.lock().unwrap();
        // The same cached list (every unscoped credential's) is known by its address.
        let same_boards = |e: &EncodedSync| Arc::ptr_eq(&e.boards, boards) || e.boards == *boards;
        let encoded =
            encoded.as_ref().filter(|e| e.board == board && e.unread == unread && same_boards(e))?;
        let current = ring.is_some_and(|r| r.last == encoded.seq)
            && self.board.users(board) == encoded.users
            && self.board.waiting_agents(board) == encoded.waiting;
        current.then(|| encoded.json.clone())
    }

    /// Waits (briefly) until the fan-out has sent everything up to `seq`.
    async fn caught_up(&self, board: &str, seq: i64) {
        let mut progress = self.progress.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            if self.rings.lock().await.get(board).is_none_or(|r| r.last >= seq) {
                return;
            }
            if tokio::time::timeout_at(deadline, progress.changed()).await.is_err() {
                return;
            }
        }
    }

    /// Every event one change produces, both seeds' families, in the order they are sent.
    fn describe(&self, event: &DomainEvent) -> Vec<Outgoing> {
        let seq = event.seq;
        let out = |name: String, payload: Value| Outgoing { seq, name, payload, only: None };
        // The cards a placement pushed down, both ways (see `Renumbering`).
        let shifts = |list: &mut Vec<Outgoing>, shifted: &[Shifted]| {
            if shifted.is_empty() {
                return;
            }
            list.extend(shifted.iter().map(|t| Outgoing {
                only: Some(Renumbering::Each),
                ..out(format!("task:{}:updated", t.id), json!(t))
            }));
            list.push(Outgoing {
                only: Some(Renumbering::Batched),
                ..out("task:shifted".into(), json!({ "tasks": shifted }))
            });
        };
        let mut list = Vec::new();
        match &event.change {
            Change::TaskCreated { task, shifted } => {
                list.push(out(format!("task:{}:created", task.id), json!(task)));
                list.push(out(
                    "task:created".into(),
                    json!({ "task": task, "user": event.actor, "timestamp": event.at }),
                ));
                shifts(&mut list, shifted);
            }
            Change::TaskUpdated { task, changes, moved_from, shifted, agent } => {
                let mut patch = serde_json::Map::new();
                patch.insert("id".into(), json!(task.id));
                let full = json!(task);
                for field in changes.keys() {
                    patch.insert(field.clone(), full[field.as_str()].clone());
                }
                // SPEC: every status change sends the position in the new column, even when the
                // number is the one the task had in the old column, so every screen agrees. So
                // does a placement that moved others around it (positions may have holes, so
                // the task's own number can stay while its neighbours shift).
                if moved_from.is_some() || !shifted.is_empty() {
                    patch.insert("position".into(), json!(task.position));
                }
                patch.insert("version".into(), json!(task.version));
                patch.insert("updatedAt".into(), json!(task.updated_at));
                list.push(out(format!("task:{}:updated", task.id), Value::Object(patch)));
                if moved_from.is_some() {
                    list.push(out(
                        "task:moved".into(),
                        json!({ "taskId": task.id, "newStatus": task.status, "movedBy": event.actor }),
                    ));
                    if task.status == Status::Done {
                        list.push(out(
                            "celebration".into(),
                            json!({ "user": event.actor, "taskId": task.id }),
                        ));
                    }
                }
                shifts(&mut list, shifted);
                list.extend(agent.iter().map(|a| out(format!("agent:{}:status", a.id), agent_status(a))));
            }
            Change::TaskDeleted { task, dependents } => {
                list.push(out(format!("task:{}:deleted", task.id), json!({ "id": task.id })));
                list.push(out("task:deleted".into(), json!({ "taskId": task.id, "deletedBy": event.actor })));
                list.extend(dependents.iter().map(|t| {
                    let patch = json!({
                        "id": t.id, "blockedBy": t.blocked_by, "version": t.version, "updatedAt": t.updated_at
                    });
                    out(format!("task:{}:updated", t.id), patch)
                }));
            }
            Change::AgentReported { agent, .. } => {
                list.push(out(format!("agent:{}:status", agent.id), agent_status(agent)));
            }
            Change::Presence { users, .. } => list.push(out("users:update".into(), json!(users))),
            // Its clients start again from `sync:full` (see `run`): the activity entry is all.
            Change::BoardImported => {}
            // Only admins see webhooks, over REST: the activity entry tells everyone else.
            Change::WebhookDisabled { .. } => {}
            Change::LabelCreated(label) => list.push(out("label:created".into(), json!(label))),
            Change::LabelUpdated(label) => list.push(out("label:updated".into(), json!(label))),
            Change::LabelDeleted { id, tasks } => {
                list.push(out("label:deleted".into(), json!({ "id": id })));
                list.extend(tasks.iter().map(|t| {
                    let patch = json!({ "id": t.id, "labels": t.labels, "version": t.version, "updatedAt": t.updated_at });
                    out(format!("task:{}:updated", t.id), patch)
                }));
            }
            Change::CommentCreated(comment) => list.push(out("comment:created".into(), json!(comment))),
            Change::CommentUpdated(comment) => list.push(out("comment:updated".into(), json!(comment))),
            Change::CommentDeleted { id, task_id } => {
                list.push(out("comment:deleted".into(), json!({ "id": id, "taskId": task_id })));
            }
        }
        list.extend(event.activity.iter().map(|a| out("activity".into(), json!(a))));
        list
    }
}

/// `agent:{id}:status`: the one event every board's sockets get, whatever board it happened on.
fn is_agent_status(name: &str) -> bool {
    name.starts_with("agent:") && name.ends_with(":status")
}

fn agent_status(agent: &Agent) -> Value {
    json!({
        "id": agent.id,
        "name": agent.name,
        "status": agent.status,
        "lastSeen": agent.last_seen,
        "currentTaskId": agent.current_task_id,
    })
}

/// `sync:full` as sent: `{ tasks, agents, users, seq, board, boards, labels,
/// unreadNotifications, waitingAgents }`, serialised once.
fn encode_sync(
    board: &str,
    snapshot: &Snapshot,
    users: &[User],
    waiting: &[String],
    boards: &[BoardInfo],
    unread_notifications: i64,
) -> AppResult<Arc<RawValue>> {
    let sync = SyncFull {
        tasks: &snapshot.tasks,
        agents: &snapshot.agents,
        users,
        seq: snapshot.seq,
        board: boards.iter().find(|b| b.id == board),
        boards,
        labels: &snapshot.labels,
        unread_notifications,
        waiting_agents: waiting,
    };
    Ok(serde_json::value::to_raw_value(&sync)
        .map_err(|e| anyhow::Error::new(e).context("encoding sync:full"))?
        .into())
}

/// The rooms whose sockets can see `board`: those of credentials that reach every board, and
/// those limited to boards including it.
fn seers_of(board: &str) -> [String; 2] {
    ["sees/*".to_owned(), format!("sees/{board}")]
}

/// The rooms a socket joins to hear about the boards its credential can see (`scope`, `None`:
/// every board).
pub fn seer_rooms(scope: Option<&[String]>) -> Vec<String> {
    match scope {
        None => vec!["sees/*".to_owned()],
        Some(boards) => boards.iter().map(|b| format!("sees/{b}")).collect(),
    }
}

/// Every socket named as one person (by person key), on any board: their notifications.
pub fn person_room(person: &str) -> String {
    format!("person/{person}")
}

/// Every socket on a board, so deleting the board can disconnect them.
pub fn board_room(board: &str) -> String {
    format!("board/{board}")
}

/// The room every socket joins alone, so a broadcast can leave it out.
pub fn connection_room(conn: &str) -> String {
    format!("conn/{conn}")
}

fn emit_to(socket: &SocketRef, out: &Outgoing) {
    if let Err(e) = socket.emit(&out.name, &(&out.payload, json!({ "seq": out.seq }))) {
        // A catch-up that cannot be queued whole must not pass for complete: disconnect the
        // socket (visible to the client as "io server disconnect"), so it connects again and
        // resumes from what it really received instead of silently missing events.
        tracing::warn!(error = %e, "catch-up of a socket overflowed; disconnecting it");
        let _ = socket.clone().disconnect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: i64) -> Vec<Outgoing> {
        vec![Outgoing { seq, name: format!("task:{seq}:created"), payload: Value::Null, only: None }]
    }

    #[test]
    fn a_ring_serves_a_resume_from_any_seq_it_holds_without_a_hole() {
        let mut ring = Ring::new(10);
        for seq in 11..=13 {
            ring.push(seq, &change(seq));
        }

        assert!(ring.covers(10) && ring.covers(12) && ring.covers(13));
        assert!(!ring.covers(9), "seq 10 itself was never in the ring");
        assert_eq!(ring.after(11).map(|e| e.seq).collect::<Vec<_>>(), vec![12, 13]);
    }

    #[test]
    fn a_renumbering_reaches_each_client_one_way_and_patterns_still_apply() {
        let event = |name: &str, only| Outgoing { seq: 1, name: name.into(), payload: Value::Null, only };
        let per_card = event("task:7:updated", Some(Renumbering::Each));
        let batch = event("task:shifted", Some(Renumbering::Batched));
        let moved = event("task:moved", None);
        let tasks = Patterns::parse(json!(["task:*:updated", "task:moved"])).unwrap();

        for (client, got) in
            [(Renumbering::Each, [true, false, true]), (Renumbering::Batched, [false, true, true])]
        {
            assert_eq!([&per_card, &batch, &moved].map(|e| e.is_for(client, None)), got, "{client:?}");
        }
        assert!(per_card.is_for(Renumbering::Each, Some(&tasks)));
        assert!(!batch.is_for(Renumbering::Batched, Some(&tasks)), "task:shifted is its own name");
        assert!(moved.is_for(Renumbering::Batched, Some(&tasks)));
    }

    #[test]
    fn a_ring_with_a_missing_change_no_longer_serves_resumes_from_before_it() {
        let mut ring = Ring::new(10);
        ring.push(11, &change(11));

        ring.push(13, &change(13));

        assert!(!ring.covers(11), "12 never arrived: a resume from 11 would miss it");
        assert!(ring.covers(12) && ring.covers(13));
        assert_eq!(ring.after(12).map(|e| e.seq).collect::<Vec<_>>(), vec![13]);
    }
}
