//! The SQLite backend: one writer thread that owns the write connection, and a few readers.
//!
//! Writes queue on a channel to the writer, which commits them in small groups (the shared
//! `store::sql` group commit): each write runs in its own savepoint, the group commits
//! once, and only then is every write in it answered. One fsync serves many writes, and the
//! single writer gives every change its sequence number in commit order. Reads never wait
//! for the writer: WAL lets them see the last commit on their own connections. This file
//! holds what is SQLite's own: opening, pragmas, migrations, the reader pool, backups.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, anyhow, bail};
use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use tokio::sync::mpsc;

use super::Durability;
use super::sql::{self, Arg, Backend, Db, Dialect, EachRow, Job, Read, WriteConnection};
use crate::error::{AppError, AppResult};

/// Embedded migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_board.sql"),
    include_str!("../../migrations/sqlite/0002_claims.sql"),
    include_str!("../../migrations/sqlite/0003_tokens.sql"),
    include_str!("../../migrations/sqlite/0004_boards.sql"),
    include_str!("../../migrations/sqlite/0005_work_graph.sql"),
    include_str!("../../migrations/sqlite/0006_cards.sql"),
    include_str!("../../migrations/sqlite/0007_webhooks.sql"),
];

const READERS: usize = 4;

pub struct SqliteStore {
    writer: mpsc::UnboundedSender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed) and migrates the database file.
    pub fn open(path: &Path, durability: Durability) -> anyhow::Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        configure(&conn, durability)?;
        migrate(&mut conn)?;
        let readers = (0..READERS)
            .map(|_| open_reader(path))
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("opening read connections")?;
        // Unbounded: producers are request handlers, each waiting for its own answer, so the
        // queue is bounded by the number of in-flight requests, which the rate limits bound.
        let (writer, rx) = mpsc::unbounded_channel();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(conn, rx))
            .context("starting the writer thread")?;
        Ok(SqliteStore { writer, readers: Arc::new(Mutex::new(readers)), path: path.to_owned() })
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let reader = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    reader.pragma_update(None, "busy_timeout", 5000)?;
    reader.pragma_update(None, "query_only", true)?;
    Ok(reader)
}

/// Every pragma explicitly, so behaviour never depends on how SQLite was compiled.
fn configure(conn: &Connection, durability: Durability) -> anyhow::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(anyhow!("could not switch the database to WAL mode (got {mode})"));
    }
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if done > MIGRATIONS.len() {
        return Err(anyhow!(
            "the database was written by a newer warroom (schema {done}, this one knows {})",
            MIGRATIONS.len()
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).with_context(|| format!("applying migration {}", i + 1))?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn run_writer(conn: Connection, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut writer = Writer(conn);
    let closed = sql::run_writer(&mut writer, &mut rx);
    // Fold the WAL into the main file, so the database is one self-contained file at rest.
    if let Err(e) = writer.0.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "checkpoint at shutdown failed");
    }
    if let Some(reply) = closed {
        let _ = reply.send(());
    }
}

/// The writer's connection. `BEGIN IMMEDIATE` takes the write lock at the start, so a group
/// never fails halfway for want of it.
struct Writer(Connection);

impl WriteConnection for Writer {
    fn begin(&mut self, _boards: &[String]) -> anyhow::Result<&mut dyn Db> {
        self.0.execute_batch("BEGIN IMMEDIATE")?;
        Ok(&mut self.0)
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        Ok(self.0.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) {
        // Fails only when no transaction is open, which is then what was wanted.
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

#[async_trait]
impl Backend for SqliteStore {
    /// In WAL mode a read transaction sees the last commit before its first read, throughout.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";

    async fn read<T: Send + 'static>(&self, f: Read<T>) -> anyhow::Result<T> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            // The lock guards only taking and returning a connection, never the query.
            let pooled = readers.lock().unwrap().pop();
            // More concurrent reads than pooled connections: open one more, pooled afterwards.
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = f(&mut conn);
            readers.lock().unwrap().push(conn);
            result
        })
        .await?
    }

    fn writer(&self) -> &mpsc::UnboundedSender<Job> {
        &self.writer
    }
}

impl SqliteStore {
    /// Opens a database file that must exist already (the administrative commands: a missing
    /// file is a mistyped path, not a new board).
    pub fn open_existing(path: &Path) -> anyhow::Result<SqliteStore> {
        if !path.exists() {
            bail!("no database at {} (start the server once, or pass --db)", path.display());
        }
        SqliteStore::open(path, Durability::Full)
    }

    /// Fails unless `PRAGMA integrity_check` finds the file sound (a backup, before it is
    /// trusted or restored).
    pub fn check_integrity(path: &Path) -> anyhow::Result<()> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening {}", path.display()))?;
        let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            bail!("{} failed its integrity check: {verdict}", path.display());
        }
        Ok(())
    }

    /// A restored board must not hand out sequence numbers or ids again: a client that saw
    /// seq N would resume as if nothing had happened, and a reused id would name another task.
    /// The `staged` copy's counters continue from the higher of both files, and each board's
    /// seq moves one further, so every client that saw the `current` board gets a full sync.
    pub fn carry_counters_forward(current: &Path, staged: &Path) -> anyhow::Result<()> {
        let conn = Connection::open(staged)?;
        conn.execute(
            "ATTACH DATABASE ?1 AS current",
            [current.to_str().context("database path is not UTF-8")?],
        )?;
        conn.execute_batch(
            "UPDATE main.boards SET seq = 1 + max(seq, coalesce((SELECT c.seq FROM current.boards c
                                                                 WHERE c.id = main.boards.id), 0));
             UPDATE main.sqlite_sequence SET seq = max(seq, coalesce((SELECT c.seq FROM current.sqlite_sequence c
                                                                      WHERE c.name = main.sqlite_sequence.name), 0));
             DETACH DATABASE current;",
        )
        .context("carrying sequence numbers and ids forward")?;
        Ok(())
    }

    /// An online, consistent copy of the database (`VACUUM INTO`): readers and the writer
    /// carry on meanwhile. The copy is a single file with no WAL.
    pub async fn backup(&self, to: &Path) -> AppResult<()> {
        let to = to
            .to_str()
            .ok_or_else(|| AppError::validation("the backup path must be valid UTF-8"))?
            .to_owned();
        let from = self.path.clone();
        // Its own connection: the pooled readers are query-only, which VACUUM INTO refuses.
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let conn = Connection::open(&from)?;
            conn.pragma_update(None, "busy_timeout", 5000)?;
            conn.execute("VACUUM INTO ?1", [to])?;
            Ok(())
        })
        .await
        .map_err(|e| anyhow!("backup task failed: {e}"))?
        .context("writing the backup")
        .map_err(AppError::from)
    }
}

impl Db for Connection {
    fn run(&mut self, sql: &str, args: &[Arg<'_>], each: EachRow<'_>) -> anyhow::Result<()> {
        // SQLite numbers parameters `?1`; `$1` would be a named one, numbered by first use.
        // No statement has a `$` anywhere else.
        let mut statement = self.prepare_cached(&sql.replace('$', "?"))?;
        let mut rows = statement.query(rusqlite::params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            each(row)?;
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> anyhow::Result<()> {
        Ok(self.execute_batch(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Arg::Int(v) => v.to_sql(),
            Arg::Text(v) => v.to_sql(),
        }
    }
}

impl sql::Row for rusqlite::Row<'_> {
    fn value(&self, column: usize) -> anyhow::Result<sql::Value> {
        Ok(match self.get_ref(column)? {
            ValueRef::Null => sql::Value::Null,
            ValueRef::Integer(v) => sql::Value::Int(v),
            ValueRef::Text(text) => sql::Value::Text(std::str::from_utf8(text)?.to_owned()),
            other => bail!("column {column} holds {:?}", other.data_type()),
        })
    }
}

/// An exclusive lock beside the database (`<db>.lock`) held while a server serves it, so two
/// servers never share one file and a restore never pulls it from under a running one.
pub struct ServerLock {
    _file: File,
}

impl ServerLock {
    pub fn acquire(db: &Path) -> anyhow::Result<ServerLock> {
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let path = PathBuf::from(format!("{}.lock", db.display()));
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(ServerLock { _file: file }),
            Err(TryLockError::WouldBlock) => bail!("another warroom is serving {}", db.display()),
            Err(TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }
}
