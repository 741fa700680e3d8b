//! The SQLite backend: one writer thread that owns the write connection, and a few readers.
//!
//! Writes queue on a channel to the writer, which commits them in small groups: each write
//! runs in its own savepoint (so one failing write never undoes another), the group commits
//! once, and only then is every write in it answered. One fsync serves many writes, and the
//! single writer gives every change its sequence number in commit order. Reads never wait
//! for the writer: WAL lets them see the last commit on their own connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::{Snapshot, Store, TaskFilter, Tx};
use crate::auth::{Role, StoredToken};
use crate::domain::activity::{Activity, NewActivity};
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::task::{NewTask, Status, Task};
use crate::domain::write::{self, Applied, WriteRequest};
use crate::error::{AppError, AppResult};

/// Embedded migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_board.sql"),
    include_str!("../../migrations/sqlite/0002_claims.sql"),
    include_str!("../../migrations/sqlite/0003_tokens.sql"),
];

/// How many queued writes one commit may carry. Large enough to amortise an fsync, small
/// enough that the first write in a group is not kept waiting for long.
const GROUP_MAX: usize = 256;
const READERS: usize = 4;

/// How hard a commit is pushed to disk (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// fsync on every commit: an acknowledged write survives a power cut.
    Full,
    /// fsync at checkpoints: an acknowledged write survives a crash of warroom (kill -9), but
    /// the last commits may be lost if the machine loses power.
    Normal,
}

pub struct SqliteStore {
    writer: mpsc::UnboundedSender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: PathBuf,
}

type AdminWrite = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

enum Job {
    Apply(Box<WriteRequest>, oneshot::Sender<AppResult<Applied>>),
    /// A write outside the board's rules (settings, tokens), in the same queue.
    Admin(AdminWrite, oneshot::Sender<AppResult<()>>),
    /// Finish: checkpoint the WAL into the main file and stop taking writes.
    Close(oneshot::Sender<()>),
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

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on a pooled connection, off the async threads.
    async fn read<T, F>(&self, what: &'static str, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            // The lock guards only taking and returning a connection, never the query.
            let pooled = readers.lock().unwrap().pop();
            // More concurrent reads than pooled connections: open one more, pooled afterwards.
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = f(&conn);
            readers.lock().unwrap().push(conn);
            result
        })
        .await
        .map_err(|e| anyhow!("read task failed: {e}"))?
        .with_context(|| format!("reading {what}"))
        .map_err(AppError::from)
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

fn run_writer(mut conn: Connection, mut rx: mpsc::UnboundedReceiver<Job>) {
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
        commit_group(&mut conn, &mut group);
        if closed.is_some() {
            break;
        }
    }
    // Fold the WAL into the main file, so the database is one self-contained file at rest.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "checkpoint at shutdown failed");
    }
    if let Some(reply) = closed {
        let _ = reply.send(());
    }
}

fn commit_group(conn: &mut Connection, group: &mut Vec<Job>) {
    // Each write's reply, sent once the whole group's commit is known.
    type Answer = Box<dyn FnOnce(Result<(), String>)>;
    let mut answers: Vec<Answer> = Vec::with_capacity(group.len());
    let started = std::time::Instant::now();
    let outcome = (|| -> rusqlite::Result<()> {
        let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for job in group.drain(..) {
            let now = crate::clock::now();
            let mut sp = tx.savepoint()?;
            match job {
                Job::Apply(req, reply) => {
                    let result = write::apply(&mut SqliteTx(&sp), &req, &now);
                    if matches!(result, Ok(Applied::Committed(_))) {
                        sp.commit()?;
                    } else {
                        sp.rollback()?;
                    }
                    answers.push(Box::new(move |group: Result<(), String>| {
                        let _ = reply.send(group.map_err(|e| AppError::Internal(anyhow!(e))).and(result));
                    }));
                }
                Job::Close(_) => unreachable!("taken out of the group before it commits"),
                Job::Admin(write, reply) => {
                    let result = write(&sp);
                    if result.is_ok() {
                        sp.commit()?;
                    } else {
                        sp.rollback()?;
                    }
                    answers.push(Box::new(move |group: Result<(), String>| {
                        let result = group.and(result.map_err(|e| e.to_string()));
                        let _ = reply.send(result.map_err(|e| AppError::Internal(anyhow!(e))));
                    }));
                }
            }
        }
        tx.commit()
    })();
    crate::metrics::commit_done(started.elapsed());
    // Answers go out only now: a write is acknowledged after its group is durable.
    let group_result = outcome.map_err(|e| {
        tracing::error!(error = %e, "committing a group of writes failed");
        format!("committing: {e}")
    });
    for answer in answers {
        answer(group_result.clone());
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn apply(&self, req: WriteRequest) -> AppResult<Applied> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(Job::Apply(Box::new(req), reply)).map_err(|_| anyhow!("the writer has stopped"))?;
        answer.await.map_err(|_| anyhow!("the writer dropped a write"))?
    }

    async fn snapshot(&self, board: &str) -> AppResult<Snapshot> {
        let board = board.to_owned();
        self.read("the board", move |conn| {
            // One read transaction, so tasks, agents and seq agree with each other.
            conn.execute_batch("BEGIN")?;
            let result = (|| {
                let seq = board_seq(conn, &board)?;
                let tasks = query_tasks(conn, &board, &TaskFilter::default())?;
                let agents = query_agents(conn, &board)?;
                Ok(Snapshot { tasks, agents, seq })
            })();
            conn.execute_batch("COMMIT")?;
            result
        })
        .await
    }

    async fn tasks(&self, board: &str, filter: TaskFilter) -> AppResult<Vec<Task>> {
        let board = board.to_owned();
        self.read("tasks", move |conn| query_tasks(conn, &board, &filter)).await
    }

    async fn task(&self, board: &str, id: i64) -> AppResult<Option<Task>> {
        let board = board.to_owned();
        self.read("a task", move |conn| load_task(conn, &board, id)).await
    }

    async fn agents(&self, board: &str) -> AppResult<Vec<Agent>> {
        let board = board.to_owned();
        self.read("agents", move |conn| query_agents(conn, &board)).await
    }

    async fn agent(&self, board: &str, id: &str) -> AppResult<Option<Agent>> {
        let (board, id) = (board.to_owned(), id.to_owned());
        self.read("an agent", move |conn| load_agent(conn, &board, &id)).await
    }

    async fn activity(&self, board: &str, limit: i64, before: Option<i64>) -> AppResult<Vec<Activity>> {
        let board = board.to_owned();
        self.read("activity", move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, user, message, task_id, timestamp, seq, changes FROM activity
                 WHERE board = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            )?;
            stmt.query_map(params![board, before.unwrap_or(i64::MAX), limit], activity_row)?.collect()
        })
        .await
    }

    async fn task_history(&self, board: &str, task_id: i64) -> AppResult<Vec<Activity>> {
        let board = board.to_owned();
        self.read("task history", move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, user, message, task_id, timestamp, seq, changes FROM activity
                 WHERE board = ?1 AND task_id = ?2 ORDER BY id DESC",
            )?;
            stmt.query_map(params![board, task_id], activity_row)?.collect()
        })
        .await
    }

    async fn seq(&self, board: &str) -> AppResult<i64> {
        let board = board.to_owned();
        self.read("the board's seq", move |conn| board_seq(conn, &board)).await
    }

    async fn silent_agents(&self, board: &str, before: &str) -> AppResult<Vec<String>> {
        let (board, before) = (board.to_owned(), before.to_owned());
        self.read("silent agents", move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM agents WHERE board = ?1 AND status <> 'offline' AND last_seen < ?2",
            )?;
            stmt.query_map(params![board, before], |r| r.get(0))?.collect()
        })
        .await
    }

    async fn expired_leases(&self, board: &str, now: &str) -> AppResult<Vec<i64>> {
        let (board, now) = (board.to_owned(), now.to_owned());
        self.read("expired leases", move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM tasks WHERE board = ?1 AND lease_expires_at IS NOT NULL AND lease_expires_at <= ?2",
            )?;
            stmt.query_map(params![board, now], |r| r.get(0))?.collect()
        })
        .await
    }

    async fn setting(&self, key: &str) -> AppResult<Option<String>> {
        let key = key.to_owned();
        self.read("a setting", move |conn| {
            conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()
        })
        .await
    }

    async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.writer.send(Job::Close(reply)).is_ok() {
            let _ = done.await;
        }
    }

    async fn set_setting(&self, key: &str, value: &str) -> AppResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.admin(move |conn| {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
        })
        .await
    }

    async fn tokens(&self) -> AppResult<Vec<StoredToken>> {
        self.read("tokens", |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, role, hash, created_at, revoked_at FROM tokens ORDER BY created_at, id",
            )?;
            stmt.query_map([], |r| {
                let role: String = r.get(2)?;
                Ok(StoredToken {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: Role::parse(&role).ok_or_else(|| bad_column(2, "role"))?,
                    hash: r.get(3)?,
                    created_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn create_token(&self, token: StoredToken) -> AppResult<()> {
        self.admin(move |conn| {
            conn.execute(
                "INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token.id, token.name, token.role.as_str(), token.hash, token.created_at],
            )
            .map(|_| ())
        })
        .await
    }

    async fn revoke_token(&self, id: &str, now: &str) -> AppResult<()> {
        let (id, now) = (id.to_owned(), now.to_owned());
        self.admin(move |conn| {
            conn.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now],
            )
            .map(|_| ())
        })
        .await
    }
}

impl SqliteStore {
    async fn admin(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
    ) -> AppResult<()> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job::Admin(Box::new(write), reply))
            .map_err(|_| anyhow!("the writer has stopped"))?;
        answer.await.map_err(|_| anyhow!("the writer dropped a write"))?
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

const TASK_COLUMNS: &str = "id, title, description, status, assignee, position, created_by, created_at, \
     updated_at, version, claimed_by, lease_expires_at, progress";

/// Display order: columns left to right, then top to bottom.
const TASK_ORDER: &str = "CASE status WHEN 'TODO' THEN 0 WHEN 'IN_PROGRESS' THEN 1 WHEN 'BLOCKED' THEN 2
     WHEN 'REVIEW' THEN 3 ELSE 4 END, position, id";

fn task_row(row: &Row) -> rusqlite::Result<Task> {
    let status: String = row.get(3)?;
    Ok(Task {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        status: status.parse().map_err(|_| bad_column(3, "status"))?,
        assignee: row.get(4)?,
        position: row.get(5)?,
        created_by: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        version: row.get(9)?,
        claimed_by: row.get(10)?,
        lease_expires_at: row.get(11)?,
        progress: row
            .get::<_, Option<String>>(12)?
            .map(|p| serde_json::from_str(&p).map_err(|_| bad_column(12, "progress")))
            .transpose()?,
    })
}

fn agent_row(row: &Row) -> rusqlite::Result<Agent> {
    let status: String = row.get(2)?;
    Ok(Agent {
        id: row.get(0)?,
        name: row.get(1)?,
        status: AgentStatus::parse(&status).map_err(|_| bad_column(2, "agent status"))?,
        current_task_id: row.get(3)?,
        last_seen: row.get(4)?,
    })
}

fn activity_row(row: &Row) -> rusqlite::Result<Activity> {
    let changes: Option<String> = row.get(7)?;
    Ok(Activity {
        id: row.get(0)?,
        kind: row.get(1)?,
        user: row.get(2)?,
        message: row.get(3)?,
        task_id: row.get(4)?,
        timestamp: row.get(5)?,
        seq: row.get(6)?,
        changes: changes.and_then(|c| serde_json::from_str(&c).ok()),
    })
}

fn bad_column(index: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        format!("unknown {what} in the database").into(),
    )
}

fn board_seq(conn: &Connection, board: &str) -> rusqlite::Result<i64> {
    conn.query_row("SELECT seq FROM boards WHERE name = ?1", [board], |r| r.get(0))
}

fn load_task(conn: &Connection, board: &str, id: i64) -> rusqlite::Result<Option<Task>> {
    conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE board = ?1 AND id = ?2"))?
        .query_row(params![board, id], task_row)
        .optional()
}

fn load_agent(conn: &Connection, board: &str, id: &str) -> rusqlite::Result<Option<Agent>> {
    conn.prepare_cached(
        "SELECT id, name, status, current_task_id, last_seen FROM agents WHERE board = ?1 AND id = ?2",
    )?
    .query_row(params![board, id], agent_row)
    .optional()
}

fn query_tasks(conn: &Connection, board: &str, filter: &TaskFilter) -> rusqlite::Result<Vec<Task>> {
    let q = filter.q.as_ref().map(|q| {
        let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    });
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE board = ?1
           AND (?2 IS NULL OR status = ?2)
           AND (?3 IS NULL OR assignee = ?3 COLLATE NOCASE)
           AND (?4 IS NULL OR title LIKE ?4 ESCAPE '\\' OR description LIKE ?4 ESCAPE '\\')
         ORDER BY {TASK_ORDER} LIMIT ?5 OFFSET ?6"
    ))?;
    // SQLite reads a negative LIMIT as none.
    let limit = filter.limit.unwrap_or(-1);
    let values = params![board, filter.status.map(Status::as_str), filter.assignee, q, limit, filter.offset];
    stmt.query_map(values, task_row)?.collect()
}

fn query_agents(conn: &Connection, board: &str) -> rusqlite::Result<Vec<Agent>> {
    conn.prepare_cached(
        "SELECT id, name, status, current_task_id, last_seen FROM agents WHERE board = ?1 ORDER BY id",
    )?
    .query_map([board], agent_row)?
    .collect()
}

/// Row access for the write rules, inside the writer's current savepoint.
struct SqliteTx<'a>(&'a Connection);

fn internal(what: &'static str) -> impl FnOnce(rusqlite::Error) -> AppError {
    move |e| AppError::Internal(anyhow::Error::new(e).context(what))
}

impl Tx for SqliteTx<'_> {
    fn next_seq(&mut self, board: &str) -> AppResult<i64> {
        self.0
            .query_row("UPDATE boards SET seq = seq + 1 WHERE name = ?1 RETURNING seq", [board], |r| r.get(0))
            .map_err(internal("taking the next sequence number"))
    }

    fn task(&mut self, board: &str, id: i64) -> AppResult<Option<Task>> {
        load_task(self.0, board, id).map_err(internal("loading a task"))
    }

    fn end_of_column(&mut self, board: &str, status: Status) -> AppResult<i64> {
        self.0
            .query_row(
                "SELECT coalesce(max(position) + 1, 0) FROM tasks WHERE board = ?1 AND status = ?2",
                params![board, status.as_str()],
                |r| r.get(0),
            )
            .map_err(internal("finding a column's end"))
    }

    fn column(&mut self, board: &str, status: Status) -> AppResult<Vec<(i64, i64)>> {
        let mut stmt = self
            .0
            .prepare_cached(
                "SELECT id, position FROM tasks WHERE board = ?1 AND status = ?2 ORDER BY position, id",
            )
            .map_err(internal("loading a column"))?;
        stmt.query_map(params![board, status.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
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
            .prepare_cached(&format!(
                "INSERT INTO tasks (board, title, description, status, assignee, position, created_by,
                                    created_at, updated_at, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1) RETURNING {TASK_COLUMNS}"
            ))
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![
                        board,
                        new.title,
                        new.description,
                        new.status.as_str(),
                        new.assignee,
                        position,
                        by,
                        now
                    ],
                    task_row,
                )
            })
            .map_err(internal("inserting a task"))
    }

    fn save_task(&mut self, board: &str, task: &Task) -> AppResult<()> {
        self.0
            .prepare_cached(
                "UPDATE tasks SET title = ?3, description = ?4, status = ?5, assignee = ?6, position = ?7,
                        updated_at = ?8, version = ?9, claimed_by = ?10, lease_expires_at = ?11, progress = ?12
                 WHERE board = ?1 AND id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    board,
                    task.id,
                    task.title,
                    task.description,
                    task.status.as_str(),
                    task.assignee,
                    task.position,
                    task.updated_at,
                    task.version,
                    task.claimed_by,
                    task.lease_expires_at,
                    task.progress.as_ref().map(|p| serde_json::json!(p).to_string()),
                ])
            })
            .map(|_| ())
            .map_err(internal("saving a task"))
    }

    fn shift_task(&mut self, board: &str, id: i64, position: i64) -> AppResult<Task> {
        self.0
            .prepare_cached(&format!(
                "UPDATE tasks SET position = ?3 WHERE board = ?1 AND id = ?2 RETURNING {TASK_COLUMNS}"
            ))
            .and_then(|mut stmt| stmt.query_row(params![board, id, position], task_row))
            .map_err(internal("renumbering a column"))
    }

    fn delete_task(&mut self, board: &str, id: i64) -> AppResult<()> {
        self.0
            .execute("DELETE FROM tasks WHERE board = ?1 AND id = ?2", params![board, id])
            .map(|_| ())
            .map_err(internal("deleting a task"))
    }

    fn next_claimable(&mut self, board: &str) -> AppResult<Option<Task>> {
        self.0
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM tasks
                 WHERE board = ?1 AND status = 'TODO' AND assignee IS NULL AND claimed_by IS NULL
                 ORDER BY position, id LIMIT 1"
            ))
            .and_then(|mut stmt| stmt.query_row([board], task_row).optional())
            .map_err(internal("finding the next task"))
    }

    fn renew_leases(&mut self, board: &str, agent: &str, until: &str) -> AppResult<()> {
        self.0
            .execute(
                "UPDATE tasks SET lease_expires_at = ?3 WHERE board = ?1 AND claimed_by = ?2",
                params![board, agent, until],
            )
            .map(|_| ())
            .map_err(internal("renewing leases"))
    }

    fn agent(&mut self, board: &str, id: &str) -> AppResult<Option<Agent>> {
        load_agent(self.0, board, id).map_err(internal("loading an agent"))
    }

    fn save_agent(&mut self, board: &str, agent: &Agent) -> AppResult<()> {
        self.0
            .prepare_cached(
                "INSERT INTO agents (board, id, name, status, current_task_id, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (board, id) DO UPDATE SET name = excluded.name, status = excluded.status,
                     current_task_id = excluded.current_task_id, last_seen = excluded.last_seen",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    board,
                    agent.id,
                    agent.name,
                    agent.status.as_str(),
                    agent.current_task_id,
                    agent.last_seen
                ])
            })
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
        let id = self
            .0
            .prepare_cached(
                "INSERT INTO activity (board, seq, kind, user, message, task_id, changes, timestamp)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![board, seq, entry.kind, entry.user, entry.message, entry.task_id, changes, now],
                    |r| r.get(0),
                )
            })
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
            .query_row(
                "SELECT result FROM idempotency WHERE credential = ?1 AND op_id = ?2",
                params![credential, op_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(internal("looking up an operation id"))?;
        Ok(stored.map(|s| serde_json::from_str(&s).unwrap_or(Value::Null)))
    }

    fn remember(&mut self, credential: &str, op_id: &str, result: &Value, now: &str) -> AppResult<()> {
        self.0
            .execute(
                "INSERT INTO idempotency (credential, op_id, result, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![credential, op_id, result.to_string(), now],
            )
            .map(|_| ())
            .map_err(internal("remembering an operation id"))
    }
}
