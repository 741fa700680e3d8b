//! The PostgreSQL backend (`DATABASE_URL=postgres://…`): one writer thread, a few readers.
//!
//! It mirrors the SQLite backend. Writes queue on a channel to one writer thread, which
//! commits them in groups: one transaction per group, a savepoint per write (so one failing
//! write never undoes another), and every write is answered only after its group committed.
//! Reads run on a small pool of other connections and never wait for the writer.
//!
//! Why the synchronous `postgres` crate and not `tokio-postgres` directly: the write rules
//! (`domain::write`) run through the synchronous `Tx` trait, inside one transaction, for
//! every backend. With an async client each `Tx` call would have to block on a future from
//! inside the runtime, or the rules would have to become async for SQLite too. `postgres` is
//! the same project's synchronous wrapper over `tokio-postgres`: each connection drives its
//! own small current-thread runtime, only while its owner calls it. So a connection lives on
//! the writer thread or inside `spawn_blocking`, never on the async threads; even dropping
//! one blocks (it says goodbye to the server), which is why `Readers` has a `Drop`.
//!
//! Several instances may share one database. The write of each group starts by locking the
//! row of every board it writes to (`SELECT … FOR UPDATE`), before reading anything: writers
//! of one board are serialised across instances, every version check reads what the last
//! writer committed, and writers never deadlock (everything else a write touches belongs to
//! its locked board). `UPDATE boards SET seq = seq + 1 … RETURNING seq` then gives each
//! change the next number; a write that fails rolls back to its savepoint and gives it back,
//! so sequence numbers have neither duplicates nor gaps. Task and activity ids come from
//! sequences, which are not transactional: a rolled-back insert may leave a hole in the ids
//! (never in `seq`).
//!
//! Every connection, the writer's, the readers' and every reconnection, is opened with the TLS
//! that the URL's `sslmode` and `sslrootcert` (or `DATABASE_CA_CERT`) ask for, as libpq would ([`tls`]).
//!
//! Every TEXT column is `COLLATE "C"` (see `migrations/postgres/0001_board.sql`), so text
//! compares, sorts and folds case byte by byte as in SQLite, whatever the server's locale.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use ::postgres::types::ToSql;
use ::postgres::{Client, Config, GenericClient, IsolationLevel, Row, Statement};
use anyhow::{Context, anyhow, bail};
use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::sqlite::Durability;
use super::{Snapshot, Store, TaskFilter, Tx};
use crate::auth::{Role, StoredToken};
use crate::domain::activity::{Activity, NewActivity};
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::task::{NewTask, Status, Task};
use crate::domain::write::{self, Applied, WriteRequest};
use crate::error::{AppError, AppResult};

mod tls;

/// Embedded migrations, applied in order; `schema_migrations` records which ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_board.sql"),
    include_str!("../../migrations/postgres/0002_claims.sql"),
    include_str!("../../migrations/postgres/0003_tokens.sql"),
];

/// The advisory lock that lets one starting instance migrate while the others wait
/// ("warroom" in ASCII).
const MIGRATION_LOCK: i64 = 0x0077_6172_726f_6f6d;

/// How many queued writes one commit may carry, as for SQLite.
const GROUP_MAX: usize = 256;

/// Read connections per instance, at most. A read waits for one rather than opening more:
/// connections are a budget of the whole server (`max_connections`, 100 by default) that
/// every instance shares. With the writer, an instance holds at most five.
const READERS: usize = 4;

/// Used when the URL gives no `connect_timeout`: a start or a read fails in seconds, not
/// minutes, when the server is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct PostgresStore {
    writer: mpsc::UnboundedSender<Job>,
    readers: Arc<Readers>,
}

type AdminWrite = Box<dyn FnOnce(&mut Session<'_, Client>) -> anyhow::Result<()> + Send>;

enum Job {
    Apply(Box<WriteRequest>, oneshot::Sender<AppResult<Applied>>),
    /// A write outside the board's rules (settings, tokens), in the same queue.
    Admin(AdminWrite, oneshot::Sender<AppResult<()>>),
    /// Finish: stop taking writes.
    Close(oneshot::Sender<()>),
}

impl PostgresStore {
    /// Connects, applies missing migrations (one instance at a time), and starts the writer.
    /// `url` is a `postgres://` or `postgresql://` URL; `Durability::Normal` turns off
    /// `synchronous_commit` for the writer's session.
    pub async fn connect(url: &str, durability: Durability) -> anyhow::Result<PostgresStore> {
        PostgresStore::connect_with_ca_cert(url, None, durability).await
    }

    /// [`connect`](PostgresStore::connect), trusting the CA certificates of `ca_cert`
    /// (`DATABASE_CA_CERT`: PEM text, which acts as a `sslrootcert` file holding it would).
    pub async fn connect_with_ca_cert(
        url: &str,
        ca_cert: Option<&str>,
        durability: Durability,
    ) -> anyhow::Result<PostgresStore> {
        let server = parse_url(url, ca_cert)?;
        tracing::info!(server = %describe(&server.config), "PostgreSQL: {}", server.tls);
        let (ready, started) = oneshot::channel();
        // Unbounded, as for SQLite: producers are request handlers that each wait for their
        // own answer, so the queue is bounded by the requests in flight.
        let (writer, rx) = mpsc::unbounded_channel();
        let writer_server = server.clone();
        // The writer connects and migrates on its own thread: the client blocks, and it must
        // also be closed where blocking is allowed.
        thread::Builder::new()
            .name("postgres-writer".into())
            .spawn(move || {
                let conn = open_writer(&writer_server, durability).and_then(|mut conn| {
                    migrate(&mut conn.client)?;
                    Ok(conn)
                });
                match conn {
                    Ok(conn) => {
                        let _ = ready.send(Ok(()));
                        run_writer(Writer { server: writer_server, durability, conn: Some(conn) }, rx);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            })
            .context("starting the writer thread")?;
        started.await.map_err(|_| anyhow!("the writer thread stopped while starting"))??;
        Ok(PostgresStore {
            writer,
            readers: Arc::new(Readers {
                server,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(READERS)),
            }),
        })
    }

    /// Runs a read on a pooled connection, off the async threads.
    async fn read<T, F>(&self, what: &'static str, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut Session<'_, Client>) -> anyhow::Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let permit =
            readers.permits.clone().acquire_owned().await.map_err(|_| anyhow!("the store is closed"))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = readers.take()?;
            let mut result = f(&mut conn.session());
            if let Err(e) = &result
                && connection_lost(&conn, e)
            {
                // The server dropped the connection (a restart, a failover, an idle timeout).
                // A read is safe to repeat: once more, on a new connection.
                tracing::warn!("a read connection to PostgreSQL was closed; reconnecting");
                conn = readers.open()?;
                result = f(&mut conn.session());
            }
            if !result.as_ref().is_err_and(|e| connection_lost(&conn, e)) {
                readers.give_back(conn);
            }
            result
        })
        .await
        .map_err(|e| anyhow!("read task failed: {e}"))?
        .with_context(|| format!("reading {what}"))
        .map_err(AppError::from)
    }

    async fn admin(
        &self,
        write: impl FnOnce(&mut Session<'_, Client>) -> anyhow::Result<()> + Send + 'static,
    ) -> AppResult<()> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job::Admin(Box::new(write), reply))
            .map_err(|_| anyhow!("the writer has stopped"))?;
        answer.await.map_err(|_| anyhow!("the writer dropped a write"))?
    }
}

/// Whether `error` means the connection is gone (closed, or ended by the server: SQLSTATE
/// classes 08 and 57P, e.g. `admin_shutdown` when a backend is terminated), rather than a
/// query's own failure.
fn connection_lost(conn: &Conn, error: &anyhow::Error) -> bool {
    conn.client.is_closed()
        || error.chain().filter_map(|cause| cause.downcast_ref::<::postgres::Error>()).any(|e| {
            e.is_closed()
                || e.code().is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
        })
}

/// Where the store connects, and how: what every connection is opened with.
#[derive(Clone)]
struct Server {
    config: Config,
    tls: tls::Tls,
}

/// Accepts only URLs, so a mistyped `DATABASE_URL` is refused with a clear message. The TLS
/// parameters tokio-postgres does not know are taken out first and joined with `ca_cert`
/// (see [`tls`]).
fn parse_url(url: &str, ca_cert: Option<&str>) -> anyhow::Result<Server> {
    let url = url.trim();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!("DATABASE_URL must be a postgres:// URL, e.g. postgres://warroom@localhost:5432/warroom");
    }
    let (url, tls) = tls::take_params(url, ca_cert)?;
    // Never echo the URL: it may carry a password.
    let mut config = Config::from_str(&url).map_err(|e| anyhow!("DATABASE_URL is not a valid URL: {e}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("warroom");
    }
    Ok(Server { config, tls: tls.connector()? })
}

/// `host:port/database`, for messages: the URL without its credentials.
fn describe(config: &Config) -> String {
    let mut out = String::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match host {
            ::postgres::config::Host::Tcp(name) => out.push_str(name),
            #[cfg(unix)]
            ::postgres::config::Host::Unix(path) => out.push_str(&path.display().to_string()),
        }
        if let Some(port) = config.get_ports().get(i).or(config.get_ports().first()) {
            let _ = write!(out, ":{port}");
        }
    }
    let _ = write!(out, "/{}", config.get_dbname().or(config.get_user()).unwrap_or(""));
    out
}

fn open(server: &Server) -> anyhow::Result<Conn> {
    let client = server.config.connect(server.tls.connector.clone()).with_context(|| {
        format!("connecting to PostgreSQL at {} ({})", describe(&server.config), server.tls)
    })?;
    Ok(Conn { client, statements: Statements::default() })
}

fn open_writer(server: &Server, durability: Durability) -> anyhow::Result<Conn> {
    let mut conn = open(server)?;
    // `off`: a commit is answered before the server has flushed it; a crash of the server
    // may lose the last moments of writes (never corrupt anything), as SQLite's NORMAL.
    let synchronous_commit = match durability {
        Durability::Full => "on",
        Durability::Normal => "off",
    };
    conn.client
        .batch_execute(&format!("SET synchronous_commit = {synchronous_commit}"))
        .context("configuring the write connection")?;
    Ok(conn)
}

/// Applies what `schema_migrations` does not list yet, each migration in its own transaction.
/// Instances starting together take turns on an advisory lock, so each migration runs once.
fn migrate(client: &mut Client) -> anyhow::Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .context("waiting for the migration lock")?;
    let result = (|| -> anyhow::Result<()> {
        client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 applied_at TEXT NOT NULL
             )",
        )?;
        let done: i64 =
            client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?.get(0);
        if done > MIGRATIONS.len() as i64 {
            bail!(
                "the database was written by a newer warroom (schema {done}, this one knows {})",
                MIGRATIONS.len()
            );
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            let version = i as i64 + 1;
            let mut tx = client.transaction()?;
            tx.batch_execute(sql).with_context(|| format!("applying migration {version}"))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[&version, &crate::clock::now()],
            )?;
            tx.commit()?;
        }
        Ok(())
    })();
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    result.context("migrating the database")?;
    unlocked.context("releasing the migration lock")?;
    Ok(())
}

/// The writer's connection, opened again after the server dropped it.
struct Writer {
    server: Server,
    durability: Durability,
    /// `None` after a failed reconnection: the next group tries again.
    conn: Option<Conn>,
}

impl Writer {
    fn connection(&mut self) -> anyhow::Result<&mut Conn> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = None;
            tracing::warn!("the write connection to PostgreSQL was closed; reconnecting");
            self.conn = Some(open_writer(&self.server, self.durability)?);
        }
        Ok(self.conn.as_mut().expect("opened above"))
    }

    /// Starts the group's transaction. A connection the server closed while it sat idle (a
    /// restart, a failover, a proxy's idle timeout) is only found out by using it. A failed
    /// `BEGIN` has applied nothing, so the group begins once more on a new connection
    /// rather than failing every write in it.
    fn begin(&mut self) -> anyhow::Result<Session<'_, Client>> {
        if let Err(e) = self.connection()?.client.batch_execute("BEGIN") {
            tracing::warn!(error = %e, "beginning a transaction failed; reconnecting");
            self.conn = None;
            self.connection()?.client.batch_execute("BEGIN").context("beginning a transaction")?;
        }
        Ok(self.conn.as_mut().expect("connected above").session())
    }
}

fn run_writer(mut writer: Writer, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut group = Vec::with_capacity(GROUP_MAX);
    let mut closed = None;
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Writes queued before the close are committed; the close ends the loop.
        if let Some(at) = group.iter().position(|job| matches!(job, Job::Close(_)))
            && let Job::Close(reply) = group.remove(at)
        {
            closed = Some(reply);
        }
        commit_group(&mut writer, &mut group);
        if closed.is_some() {
            break;
        }
    }
    // Say goodbye to the server before answering the close.
    drop(writer);
    if let Some(reply) = closed {
        let _ = reply.send(());
    }
}

/// Each write's reply, sent once the whole group's commit is known.
type Answer = Box<dyn FnOnce(Result<(), String>)>;

fn commit_group(writer: &mut Writer, group: &mut Vec<Job>) {
    let mut answers: Vec<Answer> = Vec::with_capacity(group.len());
    let started = std::time::Instant::now();
    let mut unsure = false;
    let outcome = writer.begin().and_then(|mut s| {
        let result =
            run_group(&mut s, group, &mut answers).and_then(|()| Ok(s.client.batch_execute("COMMIT")?));
        if result.is_err() {
            unsure = s.client.batch_execute("ROLLBACK").is_err();
        }
        result
    });
    if unsure {
        // A connection whose transaction could not be rolled back is not used again: the next
        // group's BEGIN would otherwise carry on inside it.
        writer.conn = None;
    }
    crate::metrics::commit_done(started.elapsed());
    // Answers go out only now: a write is acknowledged after its group committed.
    let group_result = outcome.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "committing a group of writes failed");
        format!("committing: {e:#}")
    });
    for answer in answers {
        answer(group_result.clone());
    }
    // Jobs a failure left unstarted are dropped: their callers are told the write was lost.
    group.clear();
}

/// Runs every write of the group, each in its own savepoint, inside the open transaction.
fn run_group(
    s: &mut Session<'_, Client>,
    group: &mut Vec<Job>,
    answers: &mut Vec<Answer>,
) -> anyhow::Result<()> {
    lock_boards(s, group)?;
    for job in group.drain(..) {
        let now = crate::clock::now();
        s.client.batch_execute("SAVEPOINT write")?;
        let kept = match job {
            Job::Apply(req, reply) => {
                let result = write::apply(&mut PgTx(s), &req, &now);
                let kept = matches!(result, Ok(Applied::Committed(_)));
                answers.push(Box::new(move |group: Result<(), String>| {
                    let _ = reply.send(group.map_err(|e| AppError::Internal(anyhow!(e))).and(result));
                }));
                kept
            }
            Job::Close(_) => unreachable!("taken out of the group before it commits"),
            Job::Admin(write, reply) => {
                let result = write(s);
                let kept = result.is_ok();
                answers.push(Box::new(move |group: Result<(), String>| {
                    let result = group.and(result.map_err(|e| format!("{e:#}")));
                    let _ = reply.send(result.map_err(|e| AppError::Internal(anyhow!(e))));
                }));
                kept
            }
        };
        // A refused or failed write leaves nothing behind, and the transaction usable.
        let end = if kept {
            "RELEASE SAVEPOINT write"
        } else {
            "ROLLBACK TO SAVEPOINT write; RELEASE SAVEPOINT write"
        };
        s.client.batch_execute(end)?;
    }
    Ok(())
}

/// Locks the rows of the boards the group writes to, in name order, before any write reads
/// anything: see the module documentation.
fn lock_boards(s: &mut Session<'_, Client>, group: &[Job]) -> anyhow::Result<()> {
    let mut boards: Vec<&str> = group
        .iter()
        .filter_map(|job| match job {
            Job::Apply(req, _) => Some(req.board.as_str()),
            _ => None,
        })
        .collect();
    boards.sort_unstable();
    boards.dedup();
    if !boards.is_empty() {
        s.query("SELECT name FROM boards WHERE name = ANY($1) ORDER BY name FOR UPDATE", &[&boards])
            .context("locking the boards")?;
    }
    Ok(())
}

/// The read connections: opened on demand, at most `READERS` at once.
struct Readers {
    server: Server,
    /// Idle connections. The lock guards only taking and returning one, never a query.
    idle: Mutex<Vec<Conn>>,
    /// One permit per connection that may be open: further reads wait for a turn.
    permits: Arc<Semaphore>,
}

impl Readers {
    fn take(&self) -> anyhow::Result<Conn> {
        let pooled = self.idle.lock().unwrap().pop();
        match pooled {
            Some(conn) => Ok(conn),
            None => self.open(),
        }
    }

    fn open(&self) -> anyhow::Result<Conn> {
        open(&self.server)
    }

    fn give_back(&self, conn: Conn) {
        if !conn.client.is_closed() {
            self.idle.lock().unwrap().push(conn);
        }
    }
}

impl Drop for Readers {
    /// The store may be dropped on an async thread, where closing a connection (which blocks)
    /// would panic: the idle connections are closed on a thread of their own.
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|e| e.into_inner()));
        if !idle.is_empty() {
            let _ = thread::Builder::new().name("postgres-close".into()).spawn(move || drop(idle));
        }
    }
}

/// One connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: Statements,
}

impl Conn {
    fn session(&mut self) -> Session<'_, Client> {
        Session { client: &mut self.client, statements: &mut self.statements }
    }
}

/// Prepared statements by SQL text: each query is parsed and planned once per connection.
#[derive(Default)]
struct Statements(HashMap<String, Statement>);

/// A connection, or a transaction on one, with that connection's prepared statements.
struct Session<'a, C> {
    client: &'a mut C,
    statements: &'a mut Statements,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<C: GenericClient> Session<'_, C> {
    fn prepared(&mut self, sql: &str) -> Result<Statement, ::postgres::Error> {
        if let Some(statement) = self.statements.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.0.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(&mut self, sql: &str, params: Params<'_>) -> anyhow::Result<Vec<Row>> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> anyhow::Result<Option<Row>> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query_opt(&statement, params)?)
    }

    fn query_one(&mut self, sql: &str, params: Params<'_>) -> anyhow::Result<Row> {
        let statement = self.prepared(sql)?;
        Ok(self.client.query_one(&statement, params)?)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> anyhow::Result<u64> {
        let statement = self.prepared(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn apply(&self, req: WriteRequest) -> AppResult<Applied> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(Job::Apply(Box::new(req), reply)).map_err(|_| anyhow!("the writer has stopped"))?;
        answer.await.map_err(|_| anyhow!("the writer dropped a write"))?
    }

    async fn snapshot(&self, board: &str) -> AppResult<Snapshot> {
        let board = board.to_owned();
        self.read("the board", move |s| {
            // One repeatable-read transaction, so tasks, agents and seq agree with each other.
            let mut tx = s
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let mut s = Session { client: &mut tx, statements: &mut *s.statements };
            let seq = board_seq(&mut s, &board)?;
            let tasks = query_tasks(&mut s, &board, &TaskFilter::default())?;
            let agents = query_agents(&mut s, &board)?;
            tx.commit()?;
            Ok(Snapshot { tasks, agents, seq })
        })
        .await
    }

    async fn tasks(&self, board: &str, filter: TaskFilter) -> AppResult<Vec<Task>> {
        let board = board.to_owned();
        self.read("tasks", move |s| query_tasks(s, &board, &filter)).await
    }

    async fn task(&self, board: &str, id: i64) -> AppResult<Option<Task>> {
        let board = board.to_owned();
        self.read("a task", move |s| load_task(s, &board, id)).await
    }

    async fn agents(&self, board: &str) -> AppResult<Vec<Agent>> {
        let board = board.to_owned();
        self.read("agents", move |s| query_agents(s, &board)).await
    }

    async fn agent(&self, board: &str, id: &str) -> AppResult<Option<Agent>> {
        let (board, id) = (board.to_owned(), id.to_owned());
        self.read("an agent", move |s| load_agent(s, &board, &id)).await
    }

    async fn activity(&self, board: &str, limit: i64, before: Option<i64>) -> AppResult<Vec<Activity>> {
        let board = board.to_owned();
        self.read("activity", move |s| {
            s.query(
                "SELECT id, kind, \"user\", message, task_id, timestamp, seq, changes FROM activity
                 WHERE board = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                &[&board, &before.unwrap_or(i64::MAX), &limit.max(0)],
            )?
            .iter()
            .map(activity_row)
            .collect()
        })
        .await
    }

    async fn task_history(&self, board: &str, task_id: i64) -> AppResult<Vec<Activity>> {
        let board = board.to_owned();
        self.read("task history", move |s| {
            s.query(
                "SELECT id, kind, \"user\", message, task_id, timestamp, seq, changes FROM activity
                 WHERE board = $1 AND task_id = $2 ORDER BY id DESC",
                &[&board, &task_id],
            )?
            .iter()
            .map(activity_row)
            .collect()
        })
        .await
    }

    async fn seq(&self, board: &str) -> AppResult<i64> {
        let board = board.to_owned();
        self.read("the board's seq", move |s| board_seq(s, &board)).await
    }

    async fn silent_agents(&self, board: &str, before: &str) -> AppResult<Vec<String>> {
        let (board, before) = (board.to_owned(), before.to_owned());
        self.read("silent agents", move |s| {
            let rows = s.query(
                "SELECT id FROM agents WHERE board = $1 AND status <> 'offline' AND last_seen < $2 ORDER BY id",
                &[&board, &before],
            )?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
        .await
    }

    async fn expired_leases(&self, board: &str, now: &str) -> AppResult<Vec<i64>> {
        let (board, now) = (board.to_owned(), now.to_owned());
        self.read("expired leases", move |s| {
            let rows = s.query(
                "SELECT id FROM tasks
                 WHERE board = $1 AND lease_expires_at IS NOT NULL AND lease_expires_at <= $2 ORDER BY id",
                &[&board, &now],
            )?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
        .await
    }

    async fn setting(&self, key: &str) -> AppResult<Option<String>> {
        let key = key.to_owned();
        self.read("a setting", move |s| {
            s.query_opt("SELECT value FROM settings WHERE key = $1", &[&key])?
                .map(|r| Ok(r.try_get(0)?))
                .transpose()
        })
        .await
    }

    async fn set_setting(&self, key: &str, value: &str) -> AppResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.admin(move |s| {
            s.execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )?;
            Ok(())
        })
        .await
    }

    async fn tokens(&self) -> AppResult<Vec<StoredToken>> {
        self.read("tokens", |s| {
            s.query(
                "SELECT id, name, role, hash, created_at, revoked_at FROM tokens ORDER BY created_at, id",
                &[],
            )?
            .iter()
            .map(|r| {
                let role: String = r.try_get(2)?;
                Ok(StoredToken {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    role: Role::parse(&role)
                        .ok_or_else(|| anyhow!("unknown role {role:?} in the database"))?,
                    hash: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    revoked_at: r.try_get(5)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn create_token(&self, token: StoredToken) -> AppResult<()> {
        self.admin(move |s| {
            s.execute(
                "INSERT INTO tokens (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&token.id, &token.name, &token.role.as_str(), &token.hash, &token.created_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn revoke_token(&self, id: &str, now: &str) -> AppResult<()> {
        let (id, now) = (id.to_owned(), now.to_owned());
        self.admin(move |s| {
            s.execute(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &now],
            )?;
            Ok(())
        })
        .await
    }

    /// Commits what is queued, stops the writer, and closes the idle read connections.
    async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.writer.send(Job::Close(reply)).is_ok() {
            let _ = done.await;
        }
        let idle = std::mem::take(&mut *self.readers.idle.lock().unwrap());
        let _ = tokio::task::spawn_blocking(move || drop(idle)).await;
    }
}

const TASK_COLUMNS: &str = "id, title, description, status, assignee, position, created_by, created_at, \
     updated_at, version, claimed_by, lease_expires_at, progress";

/// Display order: columns left to right, then top to bottom.
const TASK_ORDER: &str = "CASE status WHEN 'TODO' THEN 0 WHEN 'IN_PROGRESS' THEN 1 WHEN 'BLOCKED' THEN 2
     WHEN 'REVIEW' THEN 3 ELSE 4 END, position, id";

fn task_row(row: &Row) -> anyhow::Result<Task> {
    let status: String = row.try_get(3)?;
    let progress: Option<String> = row.try_get(12)?;
    Ok(Task {
        id: row.try_get(0)?,
        title: row.try_get(1)?,
        description: row.try_get(2)?,
        status: status.parse().map_err(|_| anyhow!("unknown status {status:?} in the database"))?,
        assignee: row.try_get(4)?,
        position: row.try_get(5)?,
        created_by: row.try_get(6)?,
        created_at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
        version: row.try_get(9)?,
        claimed_by: row.try_get(10)?,
        lease_expires_at: row.try_get(11)?,
        progress: progress
            .map(|p| serde_json::from_str(&p).context("unreadable progress in the database"))
            .transpose()?,
    })
}

fn agent_row(row: &Row) -> anyhow::Result<Agent> {
    let status: String = row.try_get(2)?;
    Ok(Agent {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        status: AgentStatus::parse(&status)
            .map_err(|_| anyhow!("unknown agent status {status:?} in the database"))?,
        current_task_id: row.try_get(3)?,
        last_seen: row.try_get(4)?,
    })
}

fn activity_row(row: &Row) -> anyhow::Result<Activity> {
    let changes: Option<String> = row.try_get(7)?;
    Ok(Activity {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        user: row.try_get(2)?,
        message: row.try_get(3)?,
        task_id: row.try_get(4)?,
        timestamp: row.try_get(5)?,
        seq: row.try_get(6)?,
        changes: changes.and_then(|c| serde_json::from_str(&c).ok()),
    })
}

fn board_seq<C: GenericClient>(s: &mut Session<'_, C>, board: &str) -> anyhow::Result<i64> {
    Ok(s.query_one("SELECT seq FROM boards WHERE name = $1", &[&board])?.try_get(0)?)
}

fn load_task<C: GenericClient>(s: &mut Session<'_, C>, board: &str, id: i64) -> anyhow::Result<Option<Task>> {
    s.query_opt(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE board = $1 AND id = $2"), &[&board, &id])?
        .as_ref()
        .map(task_row)
        .transpose()
}

fn load_agent<C: GenericClient>(
    s: &mut Session<'_, C>,
    board: &str,
    id: &str,
) -> anyhow::Result<Option<Agent>> {
    s.query_opt(
        "SELECT id, name, status, current_task_id, last_seen FROM agents WHERE board = $1 AND id = $2",
        &[&board, &id],
    )?
    .as_ref()
    .map(agent_row)
    .transpose()
}

fn query_tasks<C: GenericClient>(
    s: &mut Session<'_, C>,
    board: &str,
    filter: &TaskFilter,
) -> anyhow::Result<Vec<Task>> {
    let q = filter.q.as_ref().map(|q| {
        let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    });
    // The columns are COLLATE "C", so ILIKE and lower() fold ASCII letters only, exactly as
    // SQLite's LIKE and NOCASE; the parameter is given the same collation explicitly.
    let rows = s.query(
        &format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE board = $1
               AND ($2::TEXT IS NULL OR status = $2::TEXT)
               AND ($3::TEXT IS NULL OR lower(assignee) = lower($3::TEXT COLLATE \"C\"))
               AND ($4::TEXT IS NULL OR title ILIKE $4::TEXT ESCAPE '\\' OR description ILIKE $4::TEXT ESCAPE '\\')
             ORDER BY {TASK_ORDER} LIMIT $5::BIGINT OFFSET $6::BIGINT"
        ),
        // A NULL LIMIT is none.
        &[&board, &filter.status.map(Status::as_str), &filter.assignee, &q, &filter.limit, &filter.offset],
    )?;
    rows.iter().map(task_row).collect()
}

fn query_agents<C: GenericClient>(s: &mut Session<'_, C>, board: &str) -> anyhow::Result<Vec<Agent>> {
    s.query(
        "SELECT id, name, status, current_task_id, last_seen FROM agents WHERE board = $1 ORDER BY id",
        &[&board],
    )?
    .iter()
    .map(agent_row)
    .collect()
}

fn internal(what: &'static str) -> impl FnOnce(anyhow::Error) -> AppError {
    move |e| AppError::Internal(e.context(what))
}

/// Row access for the write rules, inside the writer's current savepoint.
struct PgTx<'s, 'a>(&'s mut Session<'a, Client>);

impl Tx for PgTx<'_, '_> {
    fn next_seq(&mut self, board: &str) -> AppResult<i64> {
        self.0
            .query_one("UPDATE boards SET seq = seq + 1 WHERE name = $1 RETURNING seq", &[&board])
            .and_then(|r| Ok(r.try_get(0)?))
            .map_err(internal("taking the next sequence number"))
    }

    fn task(&mut self, board: &str, id: i64) -> AppResult<Option<Task>> {
        load_task(self.0, board, id).map_err(internal("loading a task"))
    }

    fn end_of_column(&mut self, board: &str, status: Status) -> AppResult<i64> {
        self.0
            .query_one(
                "SELECT coalesce(max(position) + 1, 0)::BIGINT FROM tasks WHERE board = $1 AND status = $2",
                &[&board, &status.as_str()],
            )
            .and_then(|row| Ok(row.try_get(0)?))
            .map_err(internal("finding a column's end"))
    }

    fn column(&mut self, board: &str, status: Status) -> AppResult<Vec<(i64, i64)>> {
        self.0
            .query(
                "SELECT id, position FROM tasks WHERE board = $1 AND status = $2 ORDER BY position, id",
                &[&board, &status.as_str()],
            )
            .and_then(|rows| rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect())
            .map_err(internal("loading a column"))
    }

    fn insert_task(
        &mut self,
        board: &str,
        new: &NewTask,
        position: i64,
        by: &str,
        now: &str,
    ) -> AppResult<Task> {
        self.0
            .query_one(
                &format!(
                    "INSERT INTO tasks (board, title, description, status, assignee, position, created_by,
                                    created_at, updated_at, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1) RETURNING {TASK_COLUMNS}"
                ),
                &[
                    &board,
                    &new.title,
                    &new.description,
                    &new.status.as_str(),
                    &new.assignee,
                    &position,
                    &by,
                    &now,
                ],
            )
            .and_then(|row| task_row(&row))
            .map_err(internal("inserting a task"))
    }

    fn save_task(&mut self, board: &str, task: &Task) -> AppResult<()> {
        let progress = task.progress.as_ref().map(|p| serde_json::json!(p).to_string());
        self.0
            .execute(
                "UPDATE tasks SET title = $3, description = $4, status = $5, assignee = $6, position = $7,
                    updated_at = $8, version = $9, claimed_by = $10, lease_expires_at = $11, progress = $12
             WHERE board = $1 AND id = $2",
                &[
                    &board,
                    &task.id,
                    &task.title,
                    &task.description,
                    &task.status.as_str(),
                    &task.assignee,
                    &task.position,
                    &task.updated_at,
                    &task.version,
                    &task.claimed_by,
                    &task.lease_expires_at,
                    &progress,
                ],
            )
            .map(|_| ())
            .map_err(internal("saving a task"))
    }

    fn shift_task(&mut self, board: &str, id: i64, position: i64) -> AppResult<Task> {
        self.0
            .query_one(
                &format!(
                    "UPDATE tasks SET position = $3 WHERE board = $1 AND id = $2 RETURNING {TASK_COLUMNS}"
                ),
                &[&board, &id, &position],
            )
            .and_then(|row| task_row(&row))
            .map_err(internal("renumbering a column"))
    }

    fn delete_task(&mut self, board: &str, id: i64) -> AppResult<()> {
        self.0
            .execute("DELETE FROM tasks WHERE board = $1 AND id = $2", &[&board, &id])
            .map(|_| ())
            .map_err(internal("deleting a task"))
    }

    fn next_claimable(&mut self, board: &str) -> AppResult<Option<Task>> {
        self.0
            .query_opt(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM tasks
                 WHERE board = $1 AND status = 'TODO' AND assignee IS NULL AND claimed_by IS NULL
                 ORDER BY position, id LIMIT 1"
                ),
                &[&board],
            )
            .and_then(|row| row.as_ref().map(task_row).transpose())
            .map_err(internal("finding the next task"))
    }

    fn renew_leases(&mut self, board: &str, agent: &str, until: &str) -> AppResult<()> {
        self.0
            .execute(
                "UPDATE tasks SET lease_expires_at = $3 WHERE board = $1 AND claimed_by = $2",
                &[&board, &agent, &until],
            )
            .map(|_| ())
            .map_err(internal("renewing leases"))
    }

    fn agent(&mut self, board: &str, id: &str) -> AppResult<Option<Agent>> {
        load_agent(self.0, board, id).map_err(internal("loading an agent"))
    }

    fn save_agent(&mut self, board: &str, agent: &Agent) -> AppResult<()> {
        self.0
            .execute(
                "INSERT INTO agents (board, id, name, status, current_task_id, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (board, id) DO UPDATE SET name = excluded.name, status = excluded.status,
                 current_task_id = excluded.current_task_id, last_seen = excluded.last_seen",
                &[
                    &board,
                    &agent.id,
                    &agent.name,
                    &agent.status.as_str(),
                    &agent.current_task_id,
                    &agent.last_seen,
                ],
            )
            .map(|_| ())
            .map_err(internal("saving an agent"))
    }

    fn insert_activity(
        &mut self,
        board: &str,
        seq: i64,
        entry: &NewActivity,
        now: &str,
    ) -> AppResult<Activity> {
        let changes = entry.changes.as_ref().map(|c| Value::Object(c.clone()).to_string());
        let id: i64 = self
            .0
            .query_one(
                "INSERT INTO activity (board, seq, kind, \"user\", message, task_id, changes, timestamp)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[&board, &seq, &entry.kind, &entry.user, &entry.message, &entry.task_id, &changes, &now],
            )
            .and_then(|r| Ok(r.try_get(0)?))
            .map_err(internal("recording activity"))?;
        Ok(Activity {
            id,
            kind: entry.kind.to_owned(),
            user: entry.user.clone(),
            message: entry.message.clone(),
            task_id: entry.task_id,
            timestamp: now.to_owned(),
            seq,
            changes: entry.changes.clone(),
        })
    }

    fn remembered(&mut self, credential: &str, op_id: &str) -> AppResult<Option<Value>> {
        let stored: Option<String> = self
            .0
            .query_opt(
                "SELECT result FROM idempotency WHERE credential = $1 AND op_id = $2",
                &[&credential, &op_id],
            )
            .and_then(|row| row.map(|r| Ok(r.try_get(0)?)).transpose())
            .map_err(internal("looking up an operation id"))?;
        Ok(stored.map(|s| serde_json::from_str(&s).unwrap_or(Value::Null)))
    }

    fn remember(&mut self, credential: &str, op_id: &str, result: &Value, now: &str) -> AppResult<()> {
        self.0
            .execute(
                "INSERT INTO idempotency (credential, op_id, result, created_at) VALUES ($1, $2, $3, $4)",
                &[&credential, &op_id, &result.to_string(), &now],
            )
            .map(|_| ())
            .map_err(internal("remembering an operation id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_urls_are_accepted() {
        assert!(parse_url("postgres://warroom@db:5432/warroom", None).is_ok());
        assert!(parse_url("postgresql://warroom@db/warroom", None).is_ok());
        let refused = parse_url("sqlite://tasks.db", None).err().expect("refused").to_string();
        assert!(refused.contains("postgres://"), "{refused}");
    }

    #[test]
    fn messages_name_the_server_but_never_the_password() {
        let server =
            parse_url("postgres://warroom:s3cret@db.internal:6543/board?sslmode=require", None).unwrap();
        let shown = describe(&server.config);
        assert_eq!(shown, "db.internal:6543/board");
        assert!(!shown.contains("s3cret"));
    }
}
