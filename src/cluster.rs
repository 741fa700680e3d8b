//! Several instances on one board (`REDIS_URL`): committed events, ephemeral signals, people,
//! drag locks, agents' ownership and rate limits shared through Redis.
//!
//! Every instance sees the full ordered stream of committed changes: each one publishes what
//! it commits on `<prefix>:<board>:events`, and every other instance feeds it into its own
//! bus, whose sequencer orders by `seq`. So each instance's fan-out, resume ring and
//! `auth.lastSeq` work exactly as with one instance. (A Socket.IO adapter that forwards
//! packets, such as socketioxide-redis, was rejected: an instance would see other instances'
//! packets, not the ordered changes its ring needs to serve a resume.)
//!
//! Keys (all under the configurable prefix, `warroom` by default):
//! - `instance:<id>`: heartbeat, `PX 5000`, refreshed every second; gone means dead.
//! - `instances`: the set of instance ids ever seen alive and not yet reaped.
//! - `instance:<id>:locks`: `<board>|<task>` of the drag locks that instance took.
//! - `<board>:lock:<task>`: `<instance>|<conn>|<user>`, `NX PX 30000`: the drag lock.
//! - `<board>:agents`: hash agent → `<instance>|<conn>`: who speaks for each agent.
//! - `reaped:<id>`: `NX`, so exactly one live instance cleans up after a dead one.
//! - `rl:<credential>:<unix second>`: REST rate-limit windows.
//!
//! `rediss://` URLs connect over TLS (rustls with ring), verified against the system's CA bundle
//! (what managed Redis/Valkey services present), or against `REDIS_CA_FILE` for a private CA; the
//! redis crate's `rediss://…/#insecure` encrypts without checking the certificate.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};

use crate::bus::{Bus, DomainEvent};
use crate::domain::coordination::{AgentGone, Coordination};
use crate::error::{AppError, AppResult};
use crate::presence::{DRAG_LOCK_TIMEOUT, MAX_DRAGS_PER_CONNECTION, PeopleChange, Presence, Signal, User};

/// How long an instance's heartbeat key lives; it is refreshed every `BEAT`.
const HEARTBEAT_TTL: Duration = Duration::from_secs(5);
const BEAT: Duration = Duration::from_secs(1);
/// An instance found dead is cleaned up by one survivor; the guard outlives any retry.
const REAP_GUARD: Duration = Duration::from_secs(60);
/// Every instance republishes its people every this many beats, in case a change was lost.
const PEOPLE_REFRESH_EVERY: u32 = 5;
/// How long a Redis command may take before the caller gets `INTERNAL`.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Deletes a key only if its value starts with ARGV[1]: a lock released by its holder, or the
/// locks of a dead instance; never someone else's.
const DELETE_IF_PREFIX: &str = r"
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Removes a hash field only if its value starts with ARGV[2].
const HDEL_IF_PREFIX: &str = r"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, string.len(ARGV[2])) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0";

/// What instances tell each other, written and read as this one type.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Message<'a> {
    /// A committed change: borrowed when sent, owned when read.
    Event { event: Box<Cow<'a, DomainEvent>> },
    /// The sender's own typing names on a board.
    Typing { board: String, except: String, names: Vec<String> },
    #[serde(rename_all = "camelCase")]
    Drag { board: String, except: String, task_id: i64, user: Option<String> },
    /// The sender's people on a board, `(id, name)`.
    People { board: String, people: Vec<(String, String)> },
    /// A new (or reconnected) instance asks for everyone's people.
    Hello,
    /// A board was created, changed or deleted.
    Board { board: String, event: String, payload: serde_json::Value },
    /// Something for one person's sockets, wherever they are.
    Notify { person: String, payload: serde_json::Value },
    /// Who has a card open on the sender.
    #[serde(rename_all = "camelCase")]
    Viewers { board: String, except: String, task_id: i64, users: Vec<String> },
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope<'a> {
    from: String,
    message: Message<'a>,
}

/// This instance's link to the others: its id, its Redis connection, and what it knows of them.
pub struct Cluster {
    id: String,
    prefix: String,
    client: redis::Client,
    conn: ConnectionManager,
    /// Publications, in order: one task sends them, so an instance's people list always
    /// reaches the others before the event of the join it caused. Unbounded: producers are
    /// bounded by the store's commit rate and people's actions.
    outbox: mpsc::UnboundedSender<(String, String)>,
    outbox_rx: Mutex<Option<mpsc::UnboundedReceiver<(String, String)>>>,
    /// Where signals for this instance's sockets go (the fan-out), once started.
    local: Mutex<Option<mpsc::UnboundedSender<Signal>>>,
    // Short critical sections only, never across an await.
    state: Mutex<Shared>,
    presence: Mutex<Weak<Presence>>,
}

#[derive(Default)]
struct Shared {
    /// board → instance → its people `(id, name)`.
    people: HashMap<String, HashMap<String, Vec<(String, String)>>>,
    /// board → instance → its typing names.
    typing: HashMap<String, HashMap<String, Vec<String>>>,
    /// (board, task) → instance → who has the card open there.
    viewers: HashMap<(String, i64), HashMap<String, Vec<String>>>,
    /// Drag locks taken here: (board, task) → (connection, expiry timer).
    locks: HashMap<(String, i64), (String, AbortHandle)>,
}

/// The cluster's background tasks; dropping this (a crash of `serve`, or its end) stops them,
/// so the heartbeat stops too and the others reap this instance.
pub struct Running(Vec<JoinHandle<()>>);

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// The client for `REDIS_URL`, with TLS for `rediss://`. Never echoes the URL: it may carry a password.
fn open_client(url: &str, ca_file: Option<&Path>) -> anyhow::Result<redis::Client> {
    // The redis crate builds its rustls configuration with the process's default provider; ring
    // is the only one compiled in, installed here in case another crate's features ever add one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(path) = ca_file else {
        return redis::Client::open(url).context("REDIS_URL is not a valid redis:// or rediss:// URL");
    };
    if !url.trim_start().starts_with("rediss://") {
        anyhow::bail!("REDIS_CA_FILE is set but REDIS_URL is not a rediss:// (TLS) URL");
    }
    let pem = std::fs::read(path).with_context(|| format!("reading REDIS_CA_FILE {}", path.display()))?;
    let certificates = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
    redis::Client::build_with_tls(url, certificates).with_context(|| {
        format!(
            "REDIS_URL is not a valid rediss:// URL, or REDIS_CA_FILE {} holds no PEM certificate",
            path.display()
        )
    })
}

fn internal(e: impl Into<anyhow::Error>, what: &str) -> AppError {
    AppError::Internal(e.into().context(what.to_owned()))
}

impl Cluster {
    /// Connects to Redis (within 5 s) or fails with a clear message. `ca_file` (PEM) replaces the
    /// system's CA bundle for a `rediss://` URL.
    pub async fn connect(url: &str, prefix: &str, ca_file: Option<&Path>) -> anyhow::Result<Arc<Cluster>> {
        let client = open_client(url, ca_file)?;
        let addr = client.get_connection_info().addr();
        let over = match addr {
            redis::ConnectionAddr::TcpTls { insecure: true, .. } => " over TLS, certificate not verified",
            redis::ConnectionAddr::TcpTls { .. } => " over TLS",
            _ => "",
        };
        // One plain connection first: the connection manager retries a refused one (an untrusted
        // certificate, a wrong password) until the deadline, which would hide why.
        let conn = tokio::time::timeout(Duration::from_secs(5), async {
            drop(client.get_multiplexed_async_connection().await?);
            client.get_connection_manager().await
        })
        .await
        .map_err(|_| anyhow::anyhow!("connecting to Redis at {addr}{over}: no answer within 5 s"))?
        .with_context(|| format!("connecting to Redis at {addr}{over}"))?;
        let (outbox, rx) = mpsc::unbounded_channel();
        let id = format!("{:016x}", rand::random::<u64>());
        Ok(Arc::new(Cluster {
            id,
            prefix: prefix.to_owned(),
            client,
            conn,
            outbox,
            outbox_rx: Mutex::new(Some(rx)),
            local: Mutex::new(None),
            state: Mutex::new(Shared::default()),
            presence: Mutex::new(Weak::new()),
        }))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Runs one Redis command with a deadline, mapping failures to `INTERNAL`.
    async fn run<T>(&self, what: &str, f: impl Future<Output = redis::RedisResult<T>>) -> AppResult<T> {
        match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(internal(e, what)),
            Err(_) => Err(AppError::Internal(anyhow::anyhow!("{what}: Redis did not answer"))),
        }
    }

    fn send(&self, channel: String, message: Message<'_>) {
        let envelope = Envelope { from: self.id.clone(), message };
        let text = match serde_json::to_string(&envelope) {
            Ok(text) => text,
            Err(e) => return tracing::warn!(error = %e, "a message for Redis could not be written"),
        };
        // The publisher lives as long as the server; after shutdown nobody listens anyway.
        let _ = self.outbox.send((self.key(&channel), text));
    }

    /// Tells the other instances about a change this instance committed.
    fn publish_event(&self, event: &DomainEvent) {
        self.send(
            format!("{}:events", event.board),
            Message::Event { event: Box::new(Cow::Borrowed(event)) },
        );
    }

    /// Tells the other instances who is online here.
    fn publish_people(&self, board: &str, users: &[User]) {
        let people = users.iter().map(|u| (u.id.clone(), u.name.clone())).collect();
        self.send(format!("{board}:people"), Message::People { board: board.to_owned(), people });
    }

    /// Sends a signal to every instance's sockets, this one's included.
    fn broadcast(&self, signal: Signal) {
        self.publish_signal(&signal);
        self.emit_locally(signal);
    }

    fn publish_signal(&self, signal: &Signal) {
        match signal {
            Signal::Typing { board, except, names } => self.send(
                format!("{board}:signals"),
                Message::Typing { board: board.clone(), except: except.clone(), names: names.clone() },
            ),
            Signal::Drag { board, except, task_id, user } => self.send(
                format!("{board}:signals"),
                Message::Drag {
                    board: board.clone(),
                    except: except.clone(),
                    task_id: *task_id,
                    user: user.clone(),
                },
            ),
            Signal::Board { board, event, payload } => self.send(
                "boards".into(),
                Message::Board { board: board.clone(), event: event.clone(), payload: payload.clone() },
            ),
            // Each instance's own viewers of the card; the others merge them with theirs.
            Signal::Viewers { board, except, task_id, users } => self.send(
                format!("{board}:signals"),
                Message::Viewers {
                    board: board.clone(),
                    except: except.clone(),
                    task_id: *task_id,
                    users: users.clone(),
                },
            ),
            Signal::Notify { person, payload } => self
                .send("people".into(), Message::Notify { person: person.clone(), payload: payload.clone() }),
            // Each instance lists its own waiting agents (see `domain::waiting`).
            Signal::Users { .. } | Signal::Waiting { .. } => {}
        }
    }

    /// Sends this instance's sockets the merged online list: another instance's people changed.
    fn announce_users(&self, board: String) {
        let local = self.presence.lock().unwrap().upgrade().map(|p| p.users(&board));
        let users = self.merge_users(&board, local.unwrap_or_default());
        self.emit_locally(Signal::Users { board, users });
    }

    fn emit_locally(&self, signal: Signal) {
        if let Some(local) = self.local.lock().unwrap().as_ref() {
            let _ = local.send(signal);
        }
    }

    /// Everyone online on a board across live instances: this instance's `local` people and
    /// the lists the others published, one entry per person, ordered by id.
    fn merge_users(&self, board: &str, local: Vec<User>) -> Vec<User> {
        let mut all: BTreeMap<String, User> = local.into_iter().map(|u| (u.id.clone(), u)).collect();
        let state = self.state.lock().unwrap();
        for list in state.people.get(board).into_iter().flat_map(|m| m.values()) {
            for (id, name) in list {
                all.entry(id.clone()).or_insert_with(|| User::online(name));
            }
        }
        all.into_values().collect()
    }

    /// Whether a person is online on another instance (so their arrival here is no join).
    fn online_elsewhere(&self, board: &str, name: &str) -> bool {
        let id = crate::domain::input::person_key(name);
        let state = self.state.lock().unwrap();
        state.people.get(board).is_some_and(|m| m.values().any(|list| list.iter().any(|(p, _)| *p == id)))
    }

    fn merge_typing(&self, board: &str, mut names: Vec<String>) -> Vec<String> {
        let state = self.state.lock().unwrap();
        for list in state.typing.get(board).into_iter().flat_map(|m| m.values()) {
            names.extend(list.iter().cloned());
        }
        names.sort();
        names.dedup();
        names
    }

    fn merge_viewers(&self, board: &str, task_id: i64, mut names: Vec<String>) -> Vec<String> {
        let state = self.state.lock().unwrap();
        for list in state.viewers.get(&(board.to_owned(), task_id)).into_iter().flat_map(|m| m.values()) {
            names.extend(list.iter().cloned());
        }
        names.sort();
        names.dedup();
        names
    }

    // ---- drag locks ----

    fn lock_key(&self, board: &str, task_id: i64) -> String {
        self.key(&format!("{board}:lock:{task_id}"))
    }

    fn my_locks_key(&self) -> String {
        self.key(&format!("instance:{}:locks", self.id))
    }

    /// Takes (or renews) the drag lock of a task for a connection of this instance.
    async fn start_drag(
        self: &Arc<Self>,
        board: &str,
        conn: &str,
        user: &str,
        task_id: i64,
    ) -> AppResult<()> {
        let mine = self
            .state
            .lock()
            .unwrap()
            .locks
            .get(&(board.to_owned(), task_id))
            .is_some_and(|(c, _)| c == conn);
        if !mine {
            let held = self.state.lock().unwrap().locks.values().filter(|(c, _)| c == conn).count();
            if held >= MAX_DRAGS_PER_CONNECTION {
                return Err(AppError::RateLimited);
            }
        }
        let key = self.lock_key(board, task_id);
        let value = format!("{}|{conn}|{user}", self.id);
        let ttl = DRAG_LOCK_TIMEOUT.as_millis() as u64;
        let mut c = self.conn();
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ttl));
        let taken: Option<String> =
            self.run("taking a drag lock", c.set_options(&key, &value, opts.clone())).await?;
        if taken.is_none() {
            let current: Option<String> = self.run("reading a drag lock", c.get(&key)).await?;
            match current {
                Some(v) if v.starts_with(&format!("{}|{conn}|", self.id)) => {
                    let _: bool = self.run("renewing a drag lock", c.pexpire(&key, ttl as i64)).await?;
                }
                Some(v) => {
                    let holder = v.splitn(3, '|').nth(2).unwrap_or_default().to_owned();
                    return Err(AppError::TaskLocked { task_id, holder });
                }
                // Released between the two commands: someone else's drag ended; try once more.
                None => {
                    let again: Option<String> =
                        self.run("taking a drag lock", c.set_options(&key, &value, opts.clone())).await?;
                    if again.is_none() {
                        return Err(AppError::TaskLocked { task_id, holder: String::new() });
                    }
                }
            }
        }
        let member = format!("{board}|{task_id}");
        let _: i64 = self.run("recording a drag lock", c.sadd(self.my_locks_key(), &member)).await?;
        let this = Arc::downgrade(self);
        let (b, holder) = (board.to_owned(), conn.to_owned());
        let expiry = tokio::spawn(async move {
            tokio::time::sleep(DRAG_LOCK_TIMEOUT).await;
            if let Some(cluster) = this.upgrade() {
                cluster.end_drag(&b, &holder, task_id).await;
            }
        })
        .abort_handle();
        let renewed = self
            .state
            .lock()
            .unwrap()
            .locks
            .insert((board.to_owned(), task_id), (conn.to_owned(), expiry))
            .map(|(_, old)| old.abort())
            .is_some();
        if !renewed {
            self.broadcast(Signal::Drag {
                board: board.to_owned(),
                except: conn.to_owned(),
                task_id,
                user: Some(user.to_owned()),
            });
        }
        Ok(())
    }

    /// Ends a connection's drag of a task; true if it held the lock.
    async fn end_drag(&self, board: &str, conn: &str, task_id: i64) -> bool {
        let held = {
            let mut state = self.state.lock().unwrap();
            let key = (board.to_owned(), task_id);
            if state.locks.get(&key).is_none_or(|(c, _)| c != conn) {
                return false;
            }
            state.locks.remove(&key)
        };
        if let Some((_, timer)) = held {
            timer.abort();
        }
        let mut c = self.conn();
        let script = redis::Script::new(DELETE_IF_PREFIX);
        let mut call = script.key(self.lock_key(board, task_id));
        call.arg(format!("{}|{conn}|", self.id));
        if let Err(e) = self.run("releasing a drag lock", call.invoke_async::<i64>(&mut c)).await {
            // The lock still expires by itself within 30 s.
            e.log("releasing a drag lock");
        }
        let _ = self
            .run(
                "forgetting a drag lock",
                c.srem::<_, _, i64>(self.my_locks_key(), format!("{board}|{task_id}")),
            )
            .await;
        self.broadcast(Signal::Drag {
            board: board.to_owned(),
            except: conn.to_owned(),
            task_id,
            user: None,
        });
        true
    }

    /// Refuses a change of a task someone else (on any instance) is dragging. Without Redis
    /// the change goes through: a drag lock is a courtesy between people, and refusing every
    /// write while Redis is away would make the board read-only for everyone.
    async fn check_unlocked(&self, board: &str, task_id: i64, conn: Option<&str>) -> AppResult<()> {
        let mut c = self.conn();
        let current: Option<String> =
            match self.run("reading a drag lock", c.get(self.lock_key(board, task_id))).await {
                Ok(current) => current,
                Err(e) => {
                    e.log("checking a drag lock (the change goes through)");
                    return Ok(());
                }
            };
        let Some(value) = current else { return Ok(()) };
        let mut parts = value.splitn(3, '|');
        let (instance, holder_conn, user) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        if instance == self.id && Some(holder_conn) == conn {
            return Ok(());
        }
        Err(AppError::TaskLocked { task_id, holder: user.to_owned() })
    }

    /// A closed connection's drag locks end (its agents are settled by `disown_agent`).
    async fn release_connection(&self, conn: &str) {
        let held: Vec<(String, i64)> = {
            let state = self.state.lock().unwrap();
            state.locks.iter().filter(|(_, (c, _))| c == conn).map(|(k, _)| k.clone()).collect()
        };
        for (b, task_id) in held {
            self.end_drag(&b, conn, task_id).await;
        }
    }

    // ---- agents ----

    fn agents_key(&self, board: &str) -> String {
        self.key(&format!("{board}:agents"))
    }

    /// Records that a connection of this instance speaks for an agent.
    /// The board is noted among those with agents, where a survivor looks for a dead instance's.
    async fn own_agent(&self, board: &str, agent: &str, conn: &str) -> AppResult<()> {
        let mut c = self.conn();
        let owner = format!("{}|{conn}", self.id);
        let mut pipe = redis::pipe();
        pipe.hset(self.agents_key(board), agent, owner)
            .ignore()
            .sadd(self.key("agent-boards"), board)
            .ignore();
        self.run("recording an agent's owner", pipe.query_async::<()>(&mut c)).await
    }

    /// Forgets the agent's owner if it is still this connection (true), so the agent goes
    /// offline; another connection that reported it since keeps it.
    async fn disown_agent(&self, board: &str, agent: &str, conn: &str) -> AppResult<bool> {
        self.hdel_if_prefix(board, agent, &format!("{}|{conn}", self.id)).await
    }

    async fn hdel_if_prefix(&self, board: &str, agent: &str, prefix: &str) -> AppResult<bool> {
        let mut c = self.conn();
        let script = redis::Script::new(HDEL_IF_PREFIX);
        let mut call = script.key(self.agents_key(board));
        call.arg(agent).arg(prefix);
        let removed: i64 = self.run("forgetting an agent's owner", call.invoke_async(&mut c)).await?;
        Ok(removed == 1)
    }

    /// Whether a connection on any instance speaks for the agent.
    async fn agent_is_connected(&self, board: &str, agent: &str) -> AppResult<bool> {
        let mut c = self.conn();
        self.run("reading an agent's owner", c.hexists(self.agents_key(board), agent)).await
    }

    // ---- rate limits and health ----

    /// Counts one REST request of a credential in this second's window, shared by every
    /// instance; true while the count is within `limit`.
    pub async fn count_request(&self, credential: &str, limit: u64) -> AppResult<bool> {
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let key = self.key(&format!("rl:{credential}:{second}"));
        let mut c = self.conn();
        let mut pipe = redis::pipe();
        pipe.incr(&key, 1).expire(&key, 2).ignore();
        let (count,): (u64,) = self.run("counting a request", pipe.query_async(&mut c)).await?;
        Ok(count <= limit)
    }

    /// `ok` or `unreachable`, within a second.
    pub async fn health(&self) -> &'static str {
        let mut c = self.conn();
        let cmd = redis::cmd("PING");
        let ping = tokio::time::timeout(Duration::from_secs(1), cmd.query_async::<String>(&mut c)).await;
        if matches!(ping, Ok(Ok(_))) { "ok" } else { "unreachable" }
    }

    /// On a graceful stop: the others forget this instance at their next sweep, not in 5 s.
    pub async fn leave(&self) {
        let mut c = self.conn();
        let _ = self
            .run("leaving the cluster", c.del::<_, i64>(self.key(&format!("instance:{}", self.id))))
            .await;
    }

    // ---- the background tasks ----

    /// Starts the publisher, the subscriber, the heartbeat and the reaper. `signals` are this
    /// instance's presence signals; the receiver returned carries what this instance's sockets
    /// must get (local and remote signals, typing merged across instances).
    pub fn start(
        self: &Arc<Self>,
        bus: Arc<Bus>,
        gone: mpsc::UnboundedSender<AgentGone>,
        mut signals: mpsc::UnboundedReceiver<Signal>,
    ) -> (mpsc::UnboundedReceiver<Signal>, Running) {
        let (local, rx) = mpsc::unbounded_channel();
        *self.local.lock().unwrap() = Some(local.clone());
        let mut tasks = Vec::new();
        if let Some(outbox) = self.outbox_rx.lock().unwrap().take() {
            tasks.push(tokio::spawn(self.clone().publish(outbox)));
        }
        tasks.push(tokio::spawn(self.clone().subscribe(bus.clone())));
        tasks.push(tokio::spawn(self.clone().beat(bus, gone)));
        let this = self.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(signal) = signals.recv().await {
                this.publish_signal(&signal);
                let signal = match signal {
                    Signal::Typing { board, except, names } => {
                        let names = this.merge_typing(&board, names);
                        Signal::Typing { board, except, names }
                    }
                    Signal::Viewers { board, except, task_id, users } => {
                        let users = this.merge_viewers(&board, task_id, users);
                        Signal::Viewers { board, except, task_id, users }
                    }
                    other => other,
                };
                let _ = local.send(signal);
            }
        }));
        (rx, Running(tasks))
    }

    /// Sends the outbox in order, a pipeline of whatever is waiting at a time.
    async fn publish(self: Arc<Self>, mut outbox: mpsc::UnboundedReceiver<(String, String)>) {
        let mut c = self.conn();
        let mut batch = Vec::new();
        while outbox.recv_many(&mut batch, 256).await > 0 {
            let mut pipe = redis::pipe();
            for (channel, payload) in batch.drain(..) {
                pipe.publish(channel, payload).ignore();
            }
            // Lost publications are gaps for the others: their bus skips them after its
            // patience, and their clients get a full sync at their next reconnection.
            if let Err(e) = pipe.query_async::<()>(&mut c).await {
                tracing::error!(error = %e, "publishing to Redis failed; other instances miss these events");
            }
        }
    }

    /// Receives the other instances' messages, resubscribing after a lost connection.
    async fn subscribe(self: Arc<Self>, bus: Arc<Bus>) {
        let pattern = format!("{}:*", self.prefix);
        loop {
            let pubsub = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.psubscribe(&pattern).await?;
                redis::RedisResult::Ok(pubsub)
            };
            match pubsub.await {
                Ok(pubsub) => {
                    // The others may have missed this instance's news while it was away, and
                    // it theirs.
                    self.send("hello".into(), Message::Hello);
                    self.publish_own_people();
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        match serde_json::from_slice::<Envelope>(msg.get_payload_bytes()) {
                            Ok(envelope) if envelope.from != self.id => self.receive(&bus, envelope),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "an unreadable message from Redis"),
                        }
                    }
                    tracing::error!("lost the Redis subscription; reconnecting");
                }
                Err(e) => tracing::error!(error = %e, "subscribing to Redis failed; retrying"),
            }
            tokio::time::sleep(BEAT).await;
        }
    }

    fn receive(&self, bus: &Bus, envelope: Envelope<'_>) {
        let from = envelope.from;
        match envelope.message {
            Message::Event { event } => bus.publish(event.into_owned()),
            Message::Typing { board, except, names } => {
                self.state.lock().unwrap().typing.entry(board.clone()).or_default().insert(from, names);
                let here = self.presence.lock().unwrap().upgrade().map(|p| p.typing_names(&board));
                let names = self.merge_typing(&board, here.unwrap_or_default());
                self.emit_locally(Signal::Typing { board, except, names });
            }
            Message::Drag { board, except, task_id, user } => {
                self.emit_locally(Signal::Drag { board, except, task_id, user });
            }
            Message::People { board, people } => {
                let mut state = self.state.lock().unwrap();
                let before = state.people.entry(board.clone()).or_default().insert(from, people.clone());
                drop(state);
                // Lists are also republished every few seconds: only a change is news.
                if before.as_ref() != Some(&people) {
                    self.announce_users(board);
                }
            }
            Message::Hello => self.publish_own_people(),
            Message::Board { board, event, payload } => {
                self.emit_locally(Signal::Board { board, event, payload })
            }
            Message::Viewers { board, except, task_id, users } => {
                let mut state = self.state.lock().unwrap();
                let lists = state.viewers.entry((board.clone(), task_id)).or_default();
                if users.is_empty() {
                    lists.remove(&from);
                } else {
                    lists.insert(from, users);
                }
                if lists.is_empty() {
                    state.viewers.remove(&(board.clone(), task_id));
                }
                drop(state);
                let here = self.presence.lock().unwrap().upgrade().map(|p| p.viewers(&board, task_id));
                let users = self.merge_viewers(&board, task_id, here.unwrap_or_default());
                self.emit_locally(Signal::Viewers { board, except, task_id, users });
            }
            Message::Notify { person, payload } => self.emit_locally(Signal::Notify { person, payload }),
        }
    }

    fn publish_own_people(&self) {
        let presence = self.presence.lock().unwrap().upgrade();
        if let Some(presence) = presence {
            for board in presence.boards() {
                self.publish_people(&board, &presence.users(&board));
            }
        }
    }

    /// Every second: the bus's patience, the heartbeat, then a look for dead instances.
    async fn beat(self: Arc<Self>, bus: Arc<Bus>, gone: mpsc::UnboundedSender<AgentGone>) {
        let mut tick = tokio::time::interval(BEAT);
        let mut beats: u32 = 0;
        loop {
            tick.tick().await;
            beats = beats.wrapping_add(1);
            // A lost publication of this instance's people heals within a few seconds.
            if beats.is_multiple_of(PEOPLE_REFRESH_EVERY) {
                self.publish_own_people();
            }
            // A change whose publisher died is given up on even if nothing follows it.
            bus.tick();
            if let Err(e) = self.heartbeat().await {
                e.log("refreshing the heartbeat");
                continue;
            }
            if let Err(e) = self.sweep(&gone).await {
                e.log("looking for dead instances");
            }
        }
    }

    async fn heartbeat(&self) -> AppResult<()> {
        let mut c = self.conn();
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.key(&format!("instance:{}", self.id)))
            .arg(1)
            .arg("PX")
            .arg(HEARTBEAT_TTL.as_millis() as u64)
            .ignore()
            .sadd(self.key("instances"), &self.id)
            .ignore();
        self.run("refreshing the heartbeat", pipe.query_async::<()>(&mut c)).await
    }

    /// Forgets the people and typing of instances whose heartbeat is gone, and cleans up after
    /// them (once, by whichever survivor wins the guard).
    async fn sweep(&self, gone: &mpsc::UnboundedSender<AgentGone>) -> AppResult<()> {
        let mut c = self.conn();
        let known: Vec<String> = self.run("listing instances", c.smembers(self.key("instances"))).await?;
        let mut alive = vec![self.id.clone()];
        for id in known.into_iter().filter(|id| *id != self.id) {
            let beating: bool =
                self.run("reading a heartbeat", c.exists(self.key(&format!("instance:{id}")))).await?;
            if beating {
                alive.push(id);
                continue;
            }
            let guard = redis::SetOptions::default()
                .conditional_set(redis::ExistenceCheck::NX)
                .with_expiration(redis::SetExpiry::PX(REAP_GUARD.as_millis() as u64));
            let won: Option<String> = self
                .run("guarding a reap", c.set_options(self.key(&format!("reaped:{id}")), 1, guard))
                .await?;
            if won.is_some() {
                self.reap(gone, &id).await?;
            }
        }
        self.forget_all_but(&alive);
        Ok(())
    }

    fn forget_all_but(&self, alive: &[String]) {
        let mut changed = Vec::new();
        let mut state = self.state.lock().unwrap();
        for (board, lists) in state.people.iter_mut() {
            let before = lists.len();
            lists.retain(|id, _| alive.contains(id));
            if lists.len() != before {
                changed.push(board.clone());
            }
        }
        for lists in state.typing.values_mut() {
            lists.retain(|id, _| alive.contains(id));
        }
        for lists in state.viewers.values_mut() {
            lists.retain(|id, _| alive.contains(id));
        }
        state.viewers.retain(|_, lists| !lists.is_empty());
        drop(state);
        for board in changed {
            self.announce_users(board);
        }
    }

    /// A dead instance's drag locks end (everyone is told) and its agents go offline: the board
    /// service hears of each through `gone`, and records it.
    async fn reap(&self, gone: &mpsc::UnboundedSender<AgentGone>, dead: &str) -> AppResult<()> {
        tracing::warn!(instance = dead, "an instance stopped beating: releasing its locks and agents");
        let mut c = self.conn();
        let locks_key = self.key(&format!("instance:{dead}:locks"));
        let locks: Vec<String> = self.run("listing a dead instance's locks", c.smembers(&locks_key)).await?;
        let script = redis::Script::new(DELETE_IF_PREFIX);
        for member in locks {
            let Some((b, task)) = member.rsplit_once('|') else { continue };
            let Ok(task_id) = task.parse::<i64>() else { continue };
            let mut call = script.key(self.lock_key(b, task_id));
            call.arg(format!("{dead}|"));
            let deleted: i64 =
                self.run("releasing a dead instance's lock", call.invoke_async(&mut c)).await?;
            if deleted == 1 {
                self.broadcast(Signal::Drag {
                    board: b.to_owned(),
                    except: String::new(),
                    task_id,
                    user: None,
                });
            }
        }
        let _: i64 = self.run("forgetting a dead instance's locks", c.del(&locks_key)).await?;
        let boards: Vec<String> =
            self.run("listing boards with agents", c.smembers(self.key("agent-boards"))).await?;
        for board in boards {
            let owners: HashMap<String, String> =
                self.run("listing agents' owners", c.hgetall(self.agents_key(&board))).await?;
            for (agent, owner) in owners {
                if owner.starts_with(&format!("{dead}|"))
                    && self.hdel_if_prefix(&board, &agent, &format!("{dead}|")).await?
                {
                    // Only a stopping server has dropped the receiver; nobody is left to tell.
                    let _ = gone.send(AgentGone { board: board.clone(), agent });
                }
            }
        }
        let _: i64 = self.run("forgetting a dead instance", c.srem(self.key("instances"), dead)).await?;
        Ok(())
    }
}

/// Several instances: this instance's connections are in its `Presence`, what they share is in
/// Redis (through `Cluster`).
pub struct RedisCoordination {
    cluster: Arc<Cluster>,
    presence: Arc<Presence>,
}

impl RedisCoordination {
    /// The cluster merges this instance's presence (people, typing, viewers) with the others'.
    pub fn new(cluster: Arc<Cluster>, presence: Arc<Presence>) -> RedisCoordination {
        *cluster.presence.lock().unwrap() = Arc::downgrade(&presence);
        RedisCoordination { cluster, presence }
    }
}

#[async_trait]
impl Coordination for RedisCoordination {
    fn users(&self, board: &str) -> Vec<User> {
        self.cluster.merge_users(board, self.presence.users(board))
    }

    fn people_changed(&self, board: &str, mut change: PeopleChange) -> PeopleChange {
        let cluster = &self.cluster;
        cluster.publish_people(board, &self.presence.users(board));
        change.joined = change.joined.filter(|name| !cluster.online_elsewhere(board, name));
        change.left = change.left.filter(|name| !cluster.online_elsewhere(board, name));
        change
    }

    async fn start_drag(&self, board: &str, conn: &str, task_id: i64) -> AppResult<()> {
        self.cluster.start_drag(board, conn, &self.presence.name_of(conn), task_id).await
    }

    async fn end_drag(&self, board: &str, conn: &str, task_id: i64) {
        self.cluster.end_drag(board, conn, task_id).await;
    }

    async fn check_unlocked(&self, board: &str, task_id: i64, conn: Option<&str>) -> AppResult<()> {
        self.cluster.check_unlocked(board, task_id, conn).await
    }

    /// Here too, so that the agent goes offline with its connection.
    async fn own_agent(&self, board: &str, agent: &str, conn: &str) -> AppResult<()> {
        self.presence.own_agent(conn, agent);
        self.cluster.own_agent(board, agent, conn).await
    }

    async fn agent_is_connected(&self, board: &str, agent: &str) -> AppResult<bool> {
        if self.presence.agent_is_connected(board, agent) {
            return Ok(true);
        }
        self.cluster.agent_is_connected(board, agent).await
    }

    async fn release_connection(&self, conn: &str) {
        self.cluster.release_connection(conn).await;
    }

    async fn disown_agent(&self, board: &str, agent: &str, conn: &str) -> AppResult<bool> {
        self.cluster.disown_agent(board, agent, conn).await
    }

    fn publish_event(&self, event: &DomainEvent) {
        self.cluster.publish_event(event);
    }
}
