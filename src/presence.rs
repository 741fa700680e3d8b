//! Who is here right now: people online, who is typing, who is dragging which card, and which
//! connection speaks for which agent. In memory only, with the timers that end each state.
//!
//! Connections are identified by an opaque id (the Socket.IO session id). Every timer (typing
//! expiry, drag-lock expiry) is owned by the entry it ends and aborted when that entry goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};

pub const TYPING_TIMEOUT: Duration = Duration::from_secs(3);
/// SPEC: a person whose last connection closes and who is back within this long (a reload, a
/// network blip) never left. `PRESENCE_GRACE_MS` changes it.
pub const PRESENCE_GRACE: Duration = Duration::from_secs(10);
pub const DRAG_LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// Drag locks one connection may hold at once.
pub const MAX_DRAGS_PER_CONNECTION: usize = 8;
/// The name of a connection that never gave one.
pub const ANONYMOUS: &str = "anonymous";

/// A person online: one entry however many tabs they have open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Stable for the person: their name, case-folded.
    pub id: String,
    pub name: String,
    pub status: String,
}

impl User {
    pub fn online(name: &str) -> User {
        User { id: person_id(name), name: name.to_owned(), status: "online".to_owned() }
    }
}

/// Ephemeral signals for the others on a board; `except` is the connection that caused them.
#[derive(Debug, Clone)]
pub enum Signal {
    Typing {
        board: String,
        except: String,
        names: Vec<String>,
    },
    Drag {
        board: String,
        except: String,
        task_id: i64,
        user: Option<String>,
    },
    /// The online list changed without anyone coming or going here (a second tab of someone
    /// present, people of another instance): `users` is the list to send.
    Users {
        board: String,
        users: Vec<User>,
    },
    /// The agents waiting for work on a board (`task:next { wait }`) changed: `agents` is the
    /// list now, in arrival order.
    Waiting {
        board: String,
        agents: Vec<String>,
    },
    /// Who has a card open changed: `users` are the names viewing `task_id` now.
    Viewers {
        board: String,
        except: String,
        task_id: i64,
        users: Vec<String>,
    },
    /// A notification for one person: every socket named as them, on any board.
    Notify {
        person: String,
        payload: serde_json::Value,
    },
    /// A board was created, changed or deleted: every socket that can see it is told, on any
    /// board (`event` is `board:created`, `board:updated` or `board:deleted`).
    Board {
        board: String,
        event: String,
        payload: serde_json::Value,
    },
}

/// What a name change or disconnect did to the online list.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PeopleChange {
    /// Came online: their first connection.
    pub joined: Option<String>,
    /// Went offline: their last connection was renamed, or (from `disconnect`) closed, which
    /// starts their grace (`mark_leaving`) rather than a leave.
    pub left: Option<String>,
    /// Came back within their grace: for everyone else nothing happened.
    pub back: bool,
}

/// What a closing connection leaves behind for the board service to settle.
#[derive(Debug, Default)]
pub struct Departure {
    pub board: String,
    /// None when the connection never gave a name: it was never on the online list.
    pub people: Option<PeopleChange>,
    /// Agents this connection was the last to report for: they go offline.
    pub agents: Vec<String>,
}

pub struct Presence {
    // Short critical sections only (map updates); timers and signals run outside the lock.
    state: Mutex<State>,
    signals: mpsc::UnboundedSender<Signal>,
    /// Numbers each grace, so that a timer settles only the departure it was started for.
    departures: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct State {
    connections: HashMap<String, Connection>,
    /// Open connections per credential, kept with `connections` so the handshake's limit
    /// check is one lookup, not a scan of every socket. Includes the seats handed out by
    /// `reserve` and not yet taken by `connect`, so concurrent handshakes cannot overshoot.
    per_credential: HashMap<String, usize>,
    /// (board, person id) → the person.
    people: HashMap<(String, String), Person>,
    /// (board, task id) → who holds the drag lock.
    locks: HashMap<(String, i64), Lock>,
    /// (board, agent id) → the connection that last reported for it.
    agents: HashMap<(String, String), String>,
}

struct Connection {
    board: String,
    /// The credential it authenticated with, for the per-credential connection limit.
    credential: String,
    name: Option<String>,
    typing: Option<AbortHandle>,
    /// The card this connection has open (`task:view`).
    viewing: Option<i64>,
}

struct Person {
    name: String,
    connections: usize,
    /// While no connection is left and the grace runs: which departure, and the timer that
    /// settles it. The person is still listed meanwhile; a connection that comes back aborts it.
    leaving: Option<(u64, AbortHandle)>,
}

struct Lock {
    holder: String,
    user: String,
    expiry: AbortHandle,
}

fn person_id(name: &str) -> String {
    crate::domain::input::person_key(name)
}

impl Presence {
    /// The receiver carries typing and drag signals to whoever broadcasts them.
    pub fn new() -> (Arc<Presence>, mpsc::UnboundedReceiver<Signal>) {
        let (signals, rx) = mpsc::unbounded_channel();
        let departures = std::sync::atomic::AtomicU64::new(0);
        (Arc::new(Presence { state: Mutex::new(State::default()), signals, departures }), rx)
    }

    /// `task:view { taskId | null }`: the card this connection has open, or none. The others on
    /// its board are told who views the card it opened and the one it left.
    pub fn view(&self, conn: &str, task_id: Option<i64>) {
        let mut state = self.state.lock().unwrap();
        let Some(c) = state.connections.get_mut(conn) else { return };
        let before = std::mem::replace(&mut c.viewing, task_id);
        let board = c.board.clone();
        if before == task_id {
            return;
        }
        let signals: Vec<Signal> = [before, task_id]
            .into_iter()
            .flatten()
            .map(|task_id| Signal::Viewers {
                board: board.clone(),
                except: conn.to_owned(),
                task_id,
                users: state.viewers(&board, task_id),
            })
            .collect();
        drop(state);
        for signal in signals {
            self.signal(signal);
        }
    }

    /// Sends `event` (`notification`, `notifications:read`) to every socket of a person.
    pub fn notify(&self, person: &str, event: &str, payload: serde_json::Value) {
        let payload = serde_json::json!({ "event": event, "payload": payload });
        self.signal(Signal::Notify { person: person.to_owned(), payload });
    }

    /// Tells everyone who can see `board` that it changed (board events carry no `seq`).
    pub fn announce_board(&self, board: &str, event: &str, payload: serde_json::Value) {
        self.signal(Signal::Board { board: board.to_owned(), event: event.to_owned(), payload });
    }

    fn signal(&self, signal: Signal) {
        // The receiver lives as long as the server; after shutdown there is nobody to tell.
        let _ = self.signals.send(signal);
    }

    /// Authenticated connections open now.
    pub fn connection_count(&self) -> usize {
        self.state.lock().unwrap().connections.len()
    }

    /// Counts one more connection of `credential` if it has fewer than `limit`, in the same
    /// critical section as the check: the seat is counted from now on, through `connect` until
    /// the disconnect, or until it is dropped unused (a handshake that never completes).
    pub fn reserve(self: &Arc<Self>, credential: &str, limit: usize) -> Option<Seat> {
        let mut state = self.state.lock().unwrap();
        let count = state.per_credential.entry(credential.to_owned()).or_default();
        if *count >= limit {
            if *count == 0 {
                state.per_credential.remove(credential);
            }
            return None;
        }
        *count += 1;
        Some(Seat { presence: self.clone(), credential: Some(credential.to_owned()) })
    }

    /// Opens a connection in the seat its handshake reserved.
    pub fn connect(&self, conn: &str, board: &str, mut seat: Seat) {
        let credential = seat.credential.take().expect("a seat is taken once");
        let connection =
            Connection { board: board.to_owned(), credential, name: None, typing: None, viewing: None };
        let mut state = self.state.lock().unwrap();
        if let Some(old) = state.connections.insert(conn.to_owned(), connection) {
            state.forget_credential(&old.credential);
        }
    }

    /// Connections open or reserved now with one credential.
    pub fn connections_of(&self, credential: &str) -> usize {
        self.state.lock().unwrap().per_credential.get(credential).copied().unwrap_or(0)
    }

    /// The connection's display name, or `anonymous`.
    pub fn name_of(&self, conn: &str) -> String {
        let state = self.state.lock().unwrap();
        state.connections.get(conn).and_then(|c| c.name.clone()).unwrap_or_else(|| ANONYMOUS.to_owned())
    }

    /// Names the connection (`user:join`, or `auth.name` at the handshake). A new name for a
    /// connection that had one is a leave of the old person and a join of the new one.
    pub fn set_name(&self, conn: &str, name: &str) -> PeopleChange {
        let mut state = self.state.lock().unwrap();
        let Some(c) = state.connections.get_mut(conn) else {
            return PeopleChange::default();
        };
        let board = c.board.clone();
        let old = c.name.replace(name.to_owned());
        if old.as_deref().map(person_id) == Some(person_id(name)) {
            return PeopleChange::default();
        }
        let mut change = PeopleChange::default();
        if let Some(old) = old {
            // A rename leaves at once: the old name is not coming back on this connection.
            change.left = state.release_person(&board, &old);
            if change.left.is_some() {
                state.people.remove(&(board.clone(), person_id(&old)));
            }
        }
        let person = state.people.entry((board, person_id(name))).or_insert_with(|| Person {
            name: name.to_owned(),
            connections: 0,
            leaving: None,
        });
        // Back within the grace: they never left, so this is no join either.
        change.back = person.leaving.take().map(|(_, timer)| timer.abort()).is_some();
        person.connections += 1;
        if person.connections == 1 && !change.back {
            change.joined = Some(person.name.clone());
        }
        change
    }

    /// The boards someone is online on here.
    pub fn boards(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let mut boards: Vec<String> = state.people.keys().map(|(b, _)| b.clone()).collect();
        boards.sort_unstable();
        boards.dedup();
        boards
    }

    /// Everyone online on a board, ordered by name.
    pub fn users(&self, board: &str) -> Vec<User> {
        let state = self.state.lock().unwrap();
        let mut users: Vec<User> = state
            .people
            .iter()
            .filter(|((b, _), _)| b == board)
            .map(|(_, p)| User::online(&p.name))
            .collect();
        users.sort_by(|a, b| a.id.cmp(&b.id));
        users
    }

    /// Who is typing on a board now (this instance's connections).
    pub fn typing_names(&self, board: &str) -> Vec<String> {
        self.state.lock().unwrap().typing_names(board)
    }

    /// Who has `task_id` open on `board` here, each once, sorted.
    pub fn viewers(&self, board: &str, task_id: i64) -> Vec<String> {
        self.state.lock().unwrap().viewers(board, task_id)
    }

    /// Starts or renews typing; it ends by itself after `TYPING_TIMEOUT` without a new start.
    pub fn start_typing(self: &Arc<Self>, conn: &str) {
        let this = Arc::downgrade(self);
        let id = conn.to_owned();
        let expiry = tokio::spawn(async move {
            tokio::time::sleep(TYPING_TIMEOUT).await;
            if let Some(presence) = this.upgrade() {
                presence.end_typing(&id, true);
            }
        })
        .abort_handle();
        let mut state = self.state.lock().unwrap();
        let Some(c) = state.connections.get_mut(conn) else {
            expiry.abort();
            return;
        };
        let was_typing = c.typing.replace(expiry).map(|old| old.abort()).is_some();
        let board = c.board.clone();
        if !was_typing {
            let names = state.typing_names(&board);
            drop(state);
            self.signal(Signal::Typing { board, except: conn.to_owned(), names });
        }
    }

    pub fn stop_typing(&self, conn: &str) {
        self.end_typing(conn, false);
    }

    fn end_typing(&self, conn: &str, expired: bool) {
        let mut state = self.state.lock().unwrap();
        let Some(c) = state.connections.get_mut(conn) else {
            return;
        };
        let Some(timer) = c.typing.take() else { return };
        if !expired {
            timer.abort();
        }
        let board = c.board.clone();
        let names = state.typing_names(&board);
        drop(state);
        self.signal(Signal::Typing { board, except: conn.to_owned(), names });
    }

    /// Takes the drag lock of a task for this connection (renewing it if already held).
    pub fn start_drag(self: &Arc<Self>, conn: &str, task_id: i64) -> AppResult<()> {
        let mut state = self.state.lock().unwrap();
        let Some(c) = state.connections.get(conn) else {
            return Ok(());
        };
        let (board, user) = (c.board.clone(), c.name.clone().unwrap_or_else(|| ANONYMOUS.to_owned()));
        let key = (board.clone(), task_id);
        if let Some(lock) = state.locks.get(&key) {
            if lock.holder != conn {
                return Err(AppError::TaskLocked { task_id, holder: lock.user.clone() });
            }
            lock.expiry.abort();
        } else if state.locks.values().filter(|l| l.holder == conn).count() >= MAX_DRAGS_PER_CONNECTION {
            // Nobody drags more cards than hands allow; this stops one socket locking the board.
            return Err(AppError::RateLimited);
        }
        let this = Arc::downgrade(self);
        let holder = conn.to_owned();
        let expiry = tokio::spawn(async move {
            tokio::time::sleep(DRAG_LOCK_TIMEOUT).await;
            if let Some(presence) = this.upgrade() {
                presence.end_drag(&holder, task_id);
            }
        })
        .abort_handle();
        let renewed =
            state.locks.insert(key, Lock { holder: conn.to_owned(), user: user.clone(), expiry }).is_some();
        drop(state);
        if !renewed {
            self.signal(Signal::Drag { board, except: conn.to_owned(), task_id, user: Some(user) });
        }
        Ok(())
    }

    /// Ends this connection's drag of a task; true if it held the lock.
    pub fn end_drag(&self, conn: &str, task_id: i64) -> bool {
        let mut state = self.state.lock().unwrap();
        let Some(board) = state.connections.get(conn).map(|c| c.board.clone()) else {
            return false;
        };
        let key = (board.clone(), task_id);
        if state.locks.get(&key).is_none_or(|l| l.holder != conn) {
            return false;
        }
        let lock = state.locks.remove(&key).expect("checked above");
        lock.expiry.abort();
        drop(state);
        self.signal(Signal::Drag { board, except: conn.to_owned(), task_id, user: None });
        true
    }

    /// Refuses a change of a task that someone else is dragging. `conn` is the asking
    /// connection (none for REST, which never holds a lock).
    pub fn check_unlocked(&self, board: &str, task_id: i64, conn: Option<&str>) -> AppResult<()> {
        let state = self.state.lock().unwrap();
        match state.locks.get(&(board.to_owned(), task_id)) {
            Some(lock) if Some(lock.holder.as_str()) != conn => {
                Err(AppError::TaskLocked { task_id, holder: lock.user.clone() })
            }
            _ => Ok(()),
        }
    }

    /// Records that this connection speaks for an agent, so the agent goes offline with it.
    pub fn own_agent(&self, conn: &str, agent_id: &str) {
        let mut state = self.state.lock().unwrap();
        let Some(board) = state.connections.get(conn).map(|c| c.board.clone()) else {
            return;
        };
        state.agents.insert((board, agent_id.to_owned()), conn.to_owned());
    }

    /// Whether any open connection speaks for the agent.
    pub fn agent_is_connected(&self, board: &str, agent_id: &str) -> bool {
        self.state.lock().unwrap().agents.contains_key(&(board.to_owned(), agent_id.to_owned()))
    }

    /// Forgets a closed connection: its typing, its drag locks, its person and its agents.
    pub fn disconnect(&self, conn: &str) -> Option<Departure> {
        let mut state = self.state.lock().unwrap();
        let c = state.connections.remove(conn)?;
        state.forget_credential(&c.credential);
        let mut departure = Departure { board: c.board.clone(), ..Departure::default() };
        let mut signals = Vec::new();
        if let Some(timer) = c.typing {
            timer.abort();
            signals.push(Signal::Typing {
                board: c.board.clone(),
                except: conn.to_owned(),
                names: state.typing_names(&c.board),
            });
        }
        let held: Vec<(String, i64)> =
            state.locks.iter().filter(|(_, l)| l.holder == conn).map(|(k, _)| k.clone()).collect();
        for key in held {
            if let Some(lock) = state.locks.remove(&key) {
                lock.expiry.abort();
                signals.push(Signal::Drag {
                    board: key.0,
                    except: conn.to_owned(),
                    task_id: key.1,
                    user: None,
                });
            }
        }
        if let Some(task_id) = c.viewing {
            let users = state.viewers(&c.board, task_id);
            signals.push(Signal::Viewers { board: c.board.clone(), except: conn.to_owned(), task_id, users });
        }
        if let Some(name) = &c.name {
            departure.people =
                Some(PeopleChange { left: state.release_person(&c.board, name), ..PeopleChange::default() });
        }
        state.agents.retain(|(_, agent), holder| {
            let mine = holder == conn;
            if mine {
                departure.agents.push(agent.clone());
            }
            !mine
        });
        drop(state);
        for signal in signals {
            self.signal(signal);
        }
        Some(departure)
    }

    /// A number for a new departure, to pass to `mark_leaving` and `finish_leaving`.
    pub fn next_departure(&self) -> u64 {
        self.departures.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Starts the grace of a person whose last connection closed: `timer` settles the leave
    /// (`finish_leaving`) unless a connection of theirs comes back first and aborts it.
    pub fn mark_leaving(&self, board: &str, name: &str, departure: u64, timer: AbortHandle) {
        let mut state = self.state.lock().unwrap();
        match state.people.get_mut(&(board.to_owned(), person_id(name))) {
            Some(person) if person.connections == 0 => {
                if let Some((_, old)) = person.leaving.replace((departure, timer)) {
                    old.abort();
                }
            }
            _ => timer.abort(),
        }
    }

    /// The grace of `departure` is over: forgets the person and returns their name, unless
    /// they came back (or left again, under another departure) meanwhile.
    pub fn finish_leaving(&self, board: &str, name: &str, departure: u64) -> Option<String> {
        let mut state = self.state.lock().unwrap();
        let key = (board.to_owned(), person_id(name));
        let person = state.people.get(&key)?;
        if person.connections > 0 || person.leaving.as_ref().is_none_or(|(d, _)| *d != departure) {
            return None;
        }
        state.people.remove(&key).map(|p| p.name)
    }

    /// Asks whoever broadcasts to send the agents waiting for work on `board` (`agents:waiting`).
    pub fn announce_waiting(&self, board: &str, agents: Vec<String>) {
        self.signal(Signal::Waiting { board: board.to_owned(), agents });
    }

    /// Asks whoever broadcasts to send this online list, without a sequence number.
    pub fn announce_users(&self, board: &str, users: Vec<User>) {
        self.signal(Signal::Users { board: board.to_owned(), users });
    }
}

/// One connection's place under its credential's limit, from the handshake on.
pub struct Seat {
    presence: Arc<Presence>,
    /// `None` once `connect` took it: the connection then holds the count.
    credential: Option<String>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        if let Some(credential) = self.credential.take() {
            self.presence.state.lock().unwrap().forget_credential(&credential);
        }
    }
}

impl State {
    fn forget_credential(&mut self, credential: &str) {
        if let Some(count) = self.per_credential.get_mut(credential) {
            *count -= 1;
            if *count == 0 {
                self.per_credential.remove(credential);
            }
        }
    }

    /// The names of those who have `task_id` open on `board`, each once, sorted.
    fn viewers(&self, board: &str, task_id: i64) -> Vec<String> {
        let mut names: Vec<String> = self
            .connections
            .values()
            .filter(|c| c.board == board && c.viewing == Some(task_id))
            .map(|c| c.name.clone().unwrap_or_else(|| ANONYMOUS.to_owned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn typing_names(&self, board: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .connections
            .values()
            .filter(|c| c.board == board && c.typing.is_some())
            .map(|c| c.name.clone().unwrap_or_else(|| ANONYMOUS.to_owned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// One connection of a person closed; returns their name if it was the last. The entry
    /// stays: the caller removes it (a rename) or starts its grace (a disconnect).
    fn release_person(&mut self, board: &str, name: &str) -> Option<String> {
        let person = self.people.get_mut(&(board.to_owned(), person_id(name)))?;
        person.connections -= 1;
        (person.connections == 0).then(|| person.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grace timer that never fires by itself: the test settles departures by hand.
    fn idle_timer() -> AbortHandle {
        tokio::spawn(std::future::pending::<()>()).abort_handle()
    }

    #[tokio::test]
    async fn a_person_back_within_the_grace_neither_joins_nor_leaves_and_a_stale_timer_settles_nothing() {
        let (presence, _signals) = Presence::new();
        presence.connect("c1", "main", presence.reserve("team", usize::MAX).unwrap());
        assert_eq!(presence.set_name("c1", "Adam").joined.as_deref(), Some("Adam"));
        let gone = presence.disconnect("c1").unwrap();
        assert_eq!(gone.people.and_then(|p| p.left).as_deref(), Some("Adam"));
        let first = presence.next_departure();
        presence.mark_leaving("main", "Adam", first, idle_timer());
        assert_eq!(presence.users("main").len(), 1, "still listed during the grace");

        presence.connect("c2", "main", presence.reserve("team", usize::MAX).unwrap());
        let back = presence.set_name("c2", "adam");
        assert_eq!(back, PeopleChange { back: true, ..PeopleChange::default() });
        assert_eq!(presence.finish_leaving("main", "Adam", first), None, "they came back");

        presence.disconnect("c2").unwrap();
        let second = presence.next_departure();
        presence.mark_leaving("main", "Adam", second, idle_timer());
        assert_eq!(
            presence.finish_leaving("main", "Adam", first),
            None,
            "the first departure's timer is stale"
        );
        assert_eq!(presence.finish_leaving("main", "Adam", second).as_deref(), Some("Adam"));
        assert!(presence.users("main").is_empty());
    }

    #[test]
    fn a_rename_leaves_the_old_name_at_once() {
        let (presence, _signals) = Presence::new();
        presence.connect("c1", "main", presence.reserve("team", usize::MAX).unwrap());
        presence.set_name("c1", "Adam");
        let change = presence.set_name("c1", "Eve");
        assert_eq!((change.left.as_deref(), change.joined.as_deref()), (Some("Adam"), Some("Eve")));
        assert_eq!(presence.users("main").iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["Eve"]);
    }
}
