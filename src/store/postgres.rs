//! The PostgreSQL backend (`DATABASE_URL=postgres://…`): one writer thread, a few readers.
//!
//! The queries, the write rules' row access and the group commit are the shared ones of
//! `store::sql`: one transaction per group, a savepoint per write, and every write answered
//! only after its group committed. This file holds what is PostgreSQL's own: connecting (with
//! TLS) and migrating, the read connections and their reconnection, and the writer's
//! transaction with its board locks. Reads never wait for the writer.
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

use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, Config, Statement};
use anyhow::{Context, anyhow, bail};
use async_trait::async_trait;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::Durability;
use super::sql::{self, Arg, Backend, Db, Dialect, EachRow, Job, Read, WriteConnection};

mod tls;

/// Embedded migrations, applied in order; `schema_migrations` records which ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_board.sql"),
    include_str!("../../migrations/postgres/0002_claims.sql"),
    include_str!("../../migrations/postgres/0003_tokens.sql"),
    include_str!("../../migrations/postgres/0004_boards.sql"),
    include_str!("../../migrations/postgres/0005_work_graph.sql"),
    include_str!("../../migrations/postgres/0006_cards.sql"),
    include_str!("../../migrations/postgres/0007_webhooks.sql"),
];

/// The advisory lock that lets one starting instance migrate while the others wait
/// ("warroom" in ASCII).
const MIGRATION_LOCK: i64 = 0x0077_6172_726f_6f6d;

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
    Ok(Conn { client, statements: HashMap::new() })
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
}

impl WriteConnection for Writer {
    /// Starts the group's transaction. A connection the server closed while it sat idle (a
    /// restart, a failover, a proxy's idle timeout) is only found out by using it. A failed
    /// `BEGIN` has applied nothing, so the group begins once more on a new connection
    /// rather than failing every write in it. Then it locks the rows of the boards the group
    /// writes to, in name order, before any write reads anything: see the module
    /// documentation.
    fn begin(&mut self, boards: &[String]) -> anyhow::Result<&mut dyn Db> {
        if let Err(e) = self.connection()?.client.batch_execute("BEGIN") {
            tracing::warn!(error = %e, "beginning a transaction failed; reconnecting");
            self.conn = None;
            self.connection()?.client.batch_execute("BEGIN").context("beginning a transaction")?;
        }
        let conn = self.conn.as_mut().expect("connected above");
        if !boards.is_empty() {
            conn.query("SELECT id FROM boards WHERE id = ANY($1) ORDER BY id FOR UPDATE", &[&boards])
                .context("locking the boards")?;
        }
        Ok(conn)
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        // Never on a new connection: there, COMMIT would succeed with nothing to commit.
        let conn = self.conn.as_mut().context("the write connection was lost")?;
        Ok(conn.client.batch_execute("COMMIT")?)
    }

    fn rollback(&mut self) {
        // A connection whose transaction could not be rolled back is not used again: the next
        // group's BEGIN would otherwise carry on inside it.
        if self.conn.as_mut().is_some_and(|c| c.client.batch_execute("ROLLBACK").is_err()) {
            self.conn = None;
        }
    }
}

fn run_writer(mut writer: Writer, mut rx: mpsc::UnboundedReceiver<Job>) {
    let closed = sql::run_writer(&mut writer, &mut rx);
    // Say goodbye to the server before answering the close.
    drop(writer);
    if let Some(reply) = closed {
        let _ = reply.send(());
    }
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

/// One connection and the statements prepared on it, by SQL text: each statement is parsed
/// and planned once per connection.
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> anyhow::Result<Vec<::postgres::Row>> {
        let statement = match self.statements.get(sql) {
            Some(statement) => statement.clone(),
            None => {
                let statement = self.client.prepare(sql)?;
                self.statements.insert(sql.to_owned(), statement.clone());
                statement
            }
        };
        Ok(self.client.query(&statement, params)?)
    }
}

impl Db for Conn {
    fn run(&mut self, sql: &str, args: &[Arg<'_>], each: EachRow<'_>) -> anyhow::Result<()> {
        let params: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|arg| match arg {
                Arg::Int(v) => v as &(dyn ToSql + Sync),
                Arg::Text(v) => v,
            })
            .collect();
        self.query(sql, &params)?.iter().try_for_each(|row| each(row))
    }

    fn batch(&mut self, sql: &str) -> anyhow::Result<()> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

impl sql::Row for ::postgres::Row {
    fn value(&self, column: usize) -> anyhow::Result<sql::Value> {
        // Every integer column is BIGINT, every other one TEXT (see the migrations).
        let value = if self.columns().get(column).is_some_and(|c| *c.type_() == Type::INT8) {
            self.try_get::<_, Option<i64>>(column)?.map(sql::Value::Int)
        } else {
            self.try_get::<_, Option<String>>(column)?.map(sql::Value::Text)
        };
        Ok(value.unwrap_or(sql::Value::Null))
    }
}

#[async_trait]
impl Backend for PostgresStore {
    /// Repeatable read: every query of the transaction sees the state as of its first one.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

    async fn read<T: Send + 'static>(&self, f: Read<T>) -> anyhow::Result<T> {
        let readers = self.readers.clone();
        let permit =
            readers.permits.clone().acquire_owned().await.map_err(|_| anyhow!("the store is closed"))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = readers.take()?;
            let mut result = f(&mut conn);
            if let Err(e) = &result
                && connection_lost(&conn, e)
            {
                // The server dropped the connection (a restart, a failover, an idle timeout).
                // A read is safe to repeat: once more, on a new connection.
                tracing::warn!("a read connection to PostgreSQL was closed; reconnecting");
                conn = readers.open()?;
                result = f(&mut conn);
            }
            if !result.as_ref().is_err_and(|e| connection_lost(&conn, e)) {
                readers.give_back(conn);
            }
            result
        })
        .await?
    }

    fn writer(&self) -> &mpsc::UnboundedSender<Job> {
        &self.writer
    }

    /// Closes the idle read connections.
    async fn closed(&self) {
        let idle = std::mem::take(&mut *self.readers.idle.lock().unwrap());
        let _ = tokio::task::spawn_blocking(move || drop(idle)).await;
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
