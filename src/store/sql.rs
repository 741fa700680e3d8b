//! The SQL of both backends, written once: every query and write, the row mapping, the
//! `Store` and `Tx` implementations, and the writer thread's group commit.
//!
//! A backend supplies only what its database does differently: a connection that runs a
//! statement and hands back rows ([`Db`], [`Row`]), its read connections and snapshot
//! transaction ([`Backend`]), and how the writer's transaction begins, commits and rolls
//! back ([`WriteConnection`]). The statements are spelled so that both databases read them
//! the same way: `$1` placeholders (SQLite's adapter rewrites them to `?1`), `CAST(… AS …)`
//! where PostgreSQL must know a parameter's type, `"user"` quoted, and case folding done
//! on ASCII only (SQLite's `lower` and PostgreSQL's on `COLLATE "C"` columns).
//!
//! Why not a query builder such as sea-query: it would still need both drivers' row and
//! parameter types bridged, the statements here are fixed text that a reader can run in
//! `sqlite3` or `psql` as they stand, and building them at run time would cost every write
//! on the writer thread. The two `Db` implementations are about twenty lines each.

use std::time::Instant;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::auth::{Invite, Role, StoredToken};
use crate::domain::activity::{Activity, NewActivity};
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::boards::BoardInfo;
use crate::domain::cards::{Comment, Label, NewLabel};
use crate::domain::change::{Applied, WriteRequest};
use crate::domain::notifications::{NewNotification, Notification};
use crate::domain::storage::{Attempt, DueDelivery, Snapshot, Store, TaskFilter, Tx};
use crate::domain::task::{NewTask, Shift, Shifted, Status, Task};
use crate::domain::transfer::BoardContents;
use crate::domain::webhooks::{DELIVERIES_SHOWN, Delivery, Format, NewWebhook, Webhook};
use crate::domain::write;
use crate::error::{AppError, AppResult};

/// How many queued writes one commit may carry. Large enough to amortise an fsync, small
/// enough that the first write in a group is not kept waiting for long.
const GROUP_MAX: usize = 256;

/// A statement's parameter: the tables hold only integers and text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

/// A column's value: the tables hold only integers and text.
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// One result row, read by column index.
pub(crate) trait Row {
    fn value(&self, column: usize) -> anyhow::Result<Value>;

    fn opt_int(&self, column: usize) -> anyhow::Result<Option<i64>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(v)),
            Value::Text(_) => Err(anyhow!("column {column} holds text, not an integer")),
        }
    }

    fn opt_text(&self, column: usize) -> anyhow::Result<Option<String>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            Value::Int(_) => Err(anyhow!("column {column} holds an integer, not text")),
        }
    }

    fn int(&self, column: usize) -> anyhow::Result<i64> {
        self.opt_int(column)?.ok_or_else(|| anyhow!("column {column} is NULL"))
    }

    fn text(&self, column: usize) -> anyhow::Result<String> {
        self.opt_text(column)?.ok_or_else(|| anyhow!("column {column} is NULL"))
    }
}

/// What [`Db::run`] hands each row to.
pub(crate) type EachRow<'e> = &'e mut dyn FnMut(&dyn Row) -> anyhow::Result<()>;

/// A connection, as the shared SQL uses it.
pub(crate) trait Db {
    /// Runs one statement, written with `$1`, `$2`… placeholders, and hands each row it
    /// returns to `each`. Each backend keeps its statements prepared per connection.
    fn run(&mut self, sql: &str, args: &[Arg<'_>], each: EachRow<'_>) -> anyhow::Result<()>;

    /// Runs statements without parameters or results (`BEGIN`, `SAVEPOINT` …).
    fn batch(&mut self, sql: &str) -> anyhow::Result<()>;

    /// Which store this is, for the rare statement whose best form differs between their
    /// planners ([`shift_statement`]).
    fn dialect(&self) -> Dialect;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// How a row becomes a value.
type Map<T> = fn(&dyn Row) -> anyhow::Result<T>;

impl dyn Db + '_ {
    fn rows<T>(&mut self, sql: &str, args: &[Arg<'_>], map: Map<T>) -> anyhow::Result<Vec<T>> {
        let mut out = Vec::new();
        self.run(sql, args, &mut |row| {
            out.push(map(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The row of a query that returns at most one.
    fn first<T>(&mut self, sql: &str, args: &[Arg<'_>], map: Map<T>) -> anyhow::Result<Option<T>> {
        Ok(self.rows(sql, args, map)?.pop())
    }

    fn one<T>(&mut self, sql: &str, args: &[Arg<'_>], map: Map<T>) -> anyhow::Result<T> {
        self.first(sql, args, map)?.ok_or_else(|| anyhow!("the query returned no row"))
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> anyhow::Result<()> {
        self.run(sql, args, &mut |_| Ok(()))
    }
}

// ---- Queries ----

const TASK_COLUMNS: &str = "id, title, description, status, assignee, position, created_by, created_at, \
     updated_at, version, claimed_by, lease_expires_at, progress, board, labels, due_at,
     (SELECT COUNT(*) FROM comments WHERE comments.task_id = tasks.id)";

/// Display order: columns left to right, then top to bottom.
const TASK_ORDER: &str = "CASE status WHEN 'TODO' THEN 0 WHEN 'IN_PROGRESS' THEN 1 WHEN 'BLOCKED' THEN 2
     WHEN 'REVIEW' THEN 3 ELSE 4 END, position, id";

const AGENT_COLUMNS: &str = "id, name, status, current_task_id, last_seen";

const ACTIVITY_COLUMNS: &str = "id, kind, \"user\", message, task_id, timestamp, seq, changes";

/// How many shifts one renumbering statement writes ([`shift_statement`]). A move to the top of
/// a long column shifts every card in it: one statement each was a round trip each on
/// PostgreSQL (a 400-card column took 117 ms).
const SHIFTS_PER_STATEMENT: usize = 64;

/// Sets the positions of SHIFTS_PER_STATEMENT tasks of board `$1`: `$2` to `$3`, `$4` to `$5`…
/// as a join with the list, a lookup by id per shift. (A `CASE id WHEN $2 THEN $3 …` of 64
/// arms ran its arms for every row: SQLite took about four times as long.) PostgreSQL's planner
/// would rather hash the list and scan the whole board for it, each statement; the ids again
/// as `IN (…)` make it look them up, which only slows SQLite down (13 → 15 ms for 1,000).
fn shift_statement(dialect: Dialect) -> &'static str {
    static STATEMENTS: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
        // The casts type the list for PostgreSQL, which cannot tell a parameter's type alone.
        let rows: Vec<String> = (0..SHIFTS_PER_STATEMENT)
            .map(|k| format!("(CAST(${} AS BIGINT), CAST(${} AS BIGINT))", 2 + 2 * k, 3 + 2 * k))
            .collect();
        let ids: Vec<String> = (0..SHIFTS_PER_STATEMENT).map(|k| format!("${}", 2 + 2 * k)).collect();
        // A VALUES list's columns are `column1`, `column2`… in both.
        let statement = |lookup: &str| {
            format!(
                "UPDATE tasks SET position = shifts.column2 FROM (VALUES {}) AS shifts \
                 WHERE tasks.board = $1{lookup} AND tasks.id = shifts.column1 \
                 RETURNING tasks.id, tasks.position, tasks.version, tasks.updated_at",
                rows.join(", ")
            )
        };
        [statement(""), statement(&format!(" AND tasks.id IN ({})", ids.join(", ")))]
    });
    match dialect {
        Dialect::Sqlite => &STATEMENTS[0],
        Dialect::Postgres => &STATEMENTS[1],
    }
}

fn shifted_row(row: &dyn Row) -> anyhow::Result<Shifted> {
    Ok(Shifted { id: row.int(0)?, position: row.int(1)?, version: row.int(2)?, updated_at: row.text(3)? })
}

fn task_row(row: &dyn Row) -> anyhow::Result<Task> {
    let status = row.text(3)?;
    Ok(Task {
        id: row.int(0)?,
        board: row.text(13)?,
        labels: serde_json::from_str(&row.text(14)?)
            .map_err(|_| anyhow!("unreadable labels in the database"))?,
        due_at: row.opt_text(15)?,
        comment_count: row.int(16)?,
        title: row.text(1)?,
        description: row.text(2)?,
        status: status.parse().map_err(|_| anyhow!("unknown status {status:?} in the database"))?,
        assignee: row.opt_text(4)?,
        position: row.int(5)?,
        created_by: row.text(6)?,
        created_at: row.text(7)?,
        updated_at: row.text(8)?,
        version: row.int(9)?,
        claimed_by: row.opt_text(10)?,
        lease_expires_at: row.opt_text(11)?,
        progress: row
            .opt_text(12)?
            .map(|p| serde_json::from_str(&p).map_err(|_| anyhow!("unreadable progress in the database")))
            .transpose()?,
        // In their own table: `with_blockers` fills them in.
        blocked_by: Vec::new(),
    })
}

/// Fills in `blockedBy` of tasks read from `tasks`: one query for all of them, whatever their number.
fn with_blockers(db: &mut dyn Db, board: &str, mut tasks: Vec<Task>) -> anyhow::Result<Vec<Task>> {
    let pairs = match tasks.as_slice() {
        [] => return Ok(tasks),
        [one] => db.rows(
            "SELECT task_id, blocker_id FROM task_blockers WHERE board = $1 AND task_id = $2 ORDER BY ord",
            &[board.into(), one.id.into()],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )?,
        _ => db.rows(
            "SELECT task_id, blocker_id FROM task_blockers WHERE board = $1 ORDER BY task_id, ord",
            &[board.into()],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )?,
    };
    if pairs.is_empty() {
        return Ok(tasks);
    }
    let mut lists: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (task, blocker) in pairs {
        lists.entry(task).or_default().push(blocker);
    }
    for task in &mut tasks {
        if let Some(list) = lists.remove(&task.id) {
            task.blocked_by = list;
        }
    }
    Ok(tasks)
}

fn with_blockers_of(db: &mut dyn Db, board: &str, task: Option<Task>) -> anyhow::Result<Option<Task>> {
    Ok(with_blockers(db, board, task.into_iter().collect())?.pop())
}

fn agent_row(row: &dyn Row) -> anyhow::Result<Agent> {
    let status = row.text(2)?;
    Ok(Agent {
        id: row.text(0)?,
        name: row.text(1)?,
        status: AgentStatus::parse(&status)
            .map_err(|_| anyhow!("unknown agent status {status:?} in the database"))?,
        current_task_id: row.opt_int(3)?,
        last_seen: row.text(4)?,
    })
}

fn activity_row(row: &dyn Row) -> anyhow::Result<Activity> {
    Ok(Activity {
        id: row.int(0)?,
        kind: row.text(1)?,
        user: row.text(2)?,
        message: row.text(3)?,
        task_id: row.opt_int(4)?,
        timestamp: row.text(5)?,
        seq: row.int(6)?,
        changes: row.opt_text(7)?.and_then(|c| serde_json::from_str(&c).ok()),
    })
}

fn token_row(row: &dyn Row) -> anyhow::Result<StoredToken> {
    let role = row.text(2)?;
    Ok(StoredToken {
        id: row.text(0)?,
        name: row.text(1)?,
        role: Role::parse(&role).ok_or_else(|| anyhow!("unknown role {role:?} in the database"))?,
        hash: row.text(3)?,
        created_at: row.text(4)?,
        revoked_at: row.opt_text(5)?,
        boards: board_list(row.opt_text(6)?)?,
    })
}

/// A token's or invite's boards, stored as a JSON array (NULL: every board).
fn board_list(stored: Option<String>) -> anyhow::Result<Option<Vec<String>>> {
    stored
        .map(|s| serde_json::from_str(&s).map_err(|_| anyhow!("unreadable board list in the database")))
        .transpose()
}

fn stored_board_list(boards: &Option<Vec<String>>) -> Option<String> {
    boards.as_ref().map(|b| serde_json::json!(b).to_string())
}

const LABEL_COLUMNS: &str = "id, board, name, color";

fn label_row(row: &dyn Row) -> anyhow::Result<Label> {
    Ok(Label { id: row.int(0)?, board: row.text(1)?, name: row.text(2)?, color: row.text(3)? })
}

fn query_labels(db: &mut dyn Db, board: &str) -> anyhow::Result<Vec<Label>> {
    db.rows(
        &format!("SELECT {LABEL_COLUMNS} FROM labels WHERE board = $1 ORDER BY id"),
        &[board.into()],
        label_row,
    )
}

const WEBHOOK_COLUMNS: &str = "id, board, url, events, format, active, created_at";

fn webhook_row(row: &dyn Row) -> anyhow::Result<Webhook> {
    Ok(Webhook {
        id: row.int(0)?,
        board: row.text(1)?,
        url: row.text(2)?,
        events: serde_json::from_str(&row.text(3)?).context("reading a webhook's events")?,
        format: Format::parse(&row.text(4)?).map_err(|e| anyhow!("{e}"))?,
        active: row.int(5)? != 0,
        created_at: row.text(6)?,
        secret: None,
    })
}

const DELIVERY_COLUMNS: &str =
    "id, webhook_id, event, seq, status, attempts, last_code, last_error, created_at, next_at";

fn delivery_row(row: &dyn Row) -> anyhow::Result<Delivery> {
    let status = row.text(4)?;
    let next = row.text(9)?;
    Ok(Delivery {
        id: row.int(0)?,
        webhook_id: row.int(1)?,
        event: row.text(2)?,
        seq: row.int(3)?,
        attempts: row.int(5)?,
        last_code: row.opt_int(6)?,
        last_error: row.opt_text(7)?,
        created_at: row.text(8)?,
        next_attempt_at: (status == "pending").then_some(next),
        status,
    })
}

fn load_webhook(db: &mut dyn Db, id: i64) -> anyhow::Result<Option<Webhook>> {
    db.first(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"), &[id.into()], webhook_row)
}

const COMMENT_COLUMNS: &str = "id, task_id, board, author, body, created_at, updated_at";

fn comment_row(row: &dyn Row) -> anyhow::Result<Comment> {
    let (created_at, updated_at) = (row.text(5)?, row.text(6)?);
    Ok(Comment {
        id: row.int(0)?,
        task_id: row.int(1)?,
        board: row.text(2)?,
        author: row.text(3)?,
        body: row.text(4)?,
        edited: created_at != updated_at,
        created_at,
        updated_at,
    })
}

const NOTIFICATION_COLUMNS: &str =
    "id, kind, board, task_id, comment_id, by_name, excerpt, created_at, read_at";

fn notification_row(row: &dyn Row) -> anyhow::Result<Notification> {
    Ok(Notification {
        id: row.int(0)?,
        kind: row.text(1)?,
        board: row.text(2)?,
        task_id: row.opt_int(3)?,
        comment_id: row.opt_int(4)?,
        by: row.text(5)?,
        excerpt: row.text(6)?,
        created_at: row.text(7)?,
        read_at: row.opt_text(8)?,
    })
}

const BOARD_COLUMNS: &str = "id, name, description, archived, created_at, created_by";

fn board_row(row: &dyn Row) -> anyhow::Result<BoardInfo> {
    Ok(BoardInfo {
        id: row.text(0)?,
        name: row.text(1)?,
        description: row.text(2)?,
        archived: row.int(3)? != 0,
        created_at: row.text(4)?,
        created_by: row.text(5)?,
    })
}

fn invite_row(row: &dyn Row) -> anyhow::Result<Invite> {
    let role = row.text(1)?;
    Ok(Invite {
        hash: row.text(0)?,
        role: Role::parse(&role).ok_or_else(|| anyhow!("unknown role {role:?} in the database"))?,
        boards: board_list(row.opt_text(2)?)?,
        created_by: row.text(3)?,
        created_at: row.text(4)?,
        expires_at: row.text(5)?,
        used_at: row.opt_text(6)?,
    })
}

fn board_seq(db: &mut dyn Db, board: &str) -> anyhow::Result<i64> {
    db.one("SELECT seq FROM boards WHERE id = $1", &[board.into()], |r| r.int(0))
}

fn load_task(db: &mut dyn Db, board: &str, id: i64) -> anyhow::Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE board = $1 AND id = $2");
    let task = db.first(&sql, &[board.into(), id.into()], task_row)?;
    with_blockers_of(db, board, task)
}

fn load_agent(db: &mut dyn Db, board: &str, id: &str) -> anyhow::Result<Option<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE board = $1 AND id = $2");
    db.first(&sql, &[board.into(), id.into()], agent_row)
}

/// Agents' status is team-wide (SPEC "Boards"): an agent reports on the board it works on, and
/// each board keeps its own row (claims, ownership and the reaper are per board), but everyone
/// sees one status per agent: that of its latest report, on whichever board.
const LATEST_AGENTS: &str = "FROM agents a WHERE NOT EXISTS (SELECT 1 FROM agents b WHERE b.id = a.id
     AND (b.last_seen > a.last_seen OR (b.last_seen = a.last_seen AND b.board < a.board)))";

fn latest_agent(db: &mut dyn Db, id: &str) -> anyhow::Result<Option<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} {LATEST_AGENTS} AND a.id = $1");
    db.first(&sql, &[id.into()], agent_row)
}

fn query_tasks(db: &mut dyn Db, board: &str, filter: &TaskFilter) -> anyhow::Result<Vec<Task>> {
    // Case folding is ASCII only on both sides, as SQLite's NOCASE and LIKE fold: the values
    // here by Rust, the columns by `lower`, which folds ASCII only in SQLite and on
    // PostgreSQL's `COLLATE "C"` columns. LIKE then matches byte by byte in both.
    let assignee = filter.assignee.as_ref().map(|a| a.to_ascii_lowercase());
    let q = filter.q.as_ref().map(|q| {
        let escaped = q.to_ascii_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    });
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE board = $1
           AND (CAST($2 AS TEXT) IS NULL OR status = $2)
           AND (CAST($3 AS TEXT) IS NULL OR lower(assignee) = $3)
           AND (CAST($4 AS TEXT) IS NULL OR lower(title) LIKE $4 ESCAPE '\\' OR lower(description) LIKE $4 ESCAPE '\\')
           AND (CAST($7 AS TEXT) IS NULL OR labels = $7 OR labels LIKE $8 OR labels LIKE $9 OR labels LIKE $10)
           AND (CAST($11 AS TEXT) IS NULL OR due_at < $11)
         ORDER BY {TASK_ORDER} LIMIT $5 OFFSET $6"
    );
    // A label id in the stored JSON array (`[3,14,1]`, no spaces): alone, first, inside or last.
    let label = filter
        .label
        .map(|id| [format!("[{id}]"), format!("[{id},%"), format!("%,{id},%"), format!("%,{id}]")]);
    let label_arg = |i: usize| Arg::Text(label.as_ref().map(|l| l[i].as_str()));
    // No limit is the largest one: SQLite and PostgreSQL read a NULL or negative LIMIT
    // differently, so neither is ever sent.
    let limit = filter.limit.map_or(i64::MAX, |l| l.max(0));
    let args = [
        board.into(),
        filter.status.map(Status::as_str).into(),
        assignee.as_deref().into(),
        q.as_deref().into(),
        limit.into(),
        filter.offset.max(0).into(),
        label_arg(0),
        label_arg(1),
        label_arg(2),
        label_arg(3),
        filter.due_before.as_deref().into(),
    ];
    let tasks = db.rows(&sql, &args, task_row)?;
    with_blockers(db, board, tasks)
}

fn query_agents(db: &mut dyn Db) -> anyhow::Result<Vec<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} {LATEST_AGENTS} ORDER BY a.id");
    db.rows(&sql, &[], agent_row)
}

// ---- The store ----

/// What a backend provides so that the shared `Store` implementation can run on it.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// Begins a read-only transaction in which every query sees the same committed state.
    const BEGIN_SNAPSHOT: &'static str;

    /// Runs `read` on a read connection, off the async threads.
    async fn read<T: Send + 'static>(&self, read: Read<T>) -> anyhow::Result<T>;

    /// The writer thread's queue.
    fn writer(&self) -> &mpsc::UnboundedSender<Job>;

    /// Runs after the writer has stopped, at shutdown.
    async fn closed(&self) {}
}

/// A read. It is `Fn` because a backend may run it once more on a new connection when the
/// first one turned out to be closed.
pub(crate) type Read<T> = Box<dyn Fn(&mut dyn Db) -> anyhow::Result<T> + Send>;

async fn read<B: Backend, T: Send + 'static>(
    backend: &B,
    what: &'static str,
    read: impl Fn(&mut dyn Db) -> anyhow::Result<T> + Send + 'static,
) -> AppResult<T> {
    Ok(backend.read(Box::new(read)).await.with_context(|| format!("reading {what}"))?)
}

/// A write outside the board's rules (settings, tokens), in the same queue as the others.
pub(crate) type AdminWrite = Box<dyn FnOnce(&mut dyn Db) -> anyhow::Result<()> + Send>;

pub(crate) enum Job {
    Apply(Box<WriteRequest>, oneshot::Sender<AppResult<Applied>>),
    Admin(AdminWrite, oneshot::Sender<AppResult<()>>),
    /// Finish: commit what is queued before it and stop taking writes.
    Close(oneshot::Sender<()>),
}

/// Queues a job for the writer and waits for its answer.
async fn queue<T>(
    writer: &mpsc::UnboundedSender<Job>,
    job: impl FnOnce(oneshot::Sender<T>) -> Job,
) -> AppResult<T> {
    let (reply, answer) = oneshot::channel();
    writer.send(job(reply)).map_err(|_| anyhow!("the writer has stopped"))?;
    Ok(answer.await.map_err(|_| anyhow!("the writer dropped a write"))?)
}

/// Every table whose rows belong to a board, children before parents: what deleting a board
/// deletes.
const BOARD_TABLES: [&str; 9] = [
    "webhook_deliveries",
    "webhooks",
    "task_blockers",
    "comments",
    "labels",
    "notifications",
    "activity",
    "agents",
    "tasks",
];

fn insert_token(db: &mut dyn Db, token: &StoredToken) -> anyhow::Result<()> {
    let boards = stored_board_list(&token.boards);
    db.execute(
        "INSERT INTO tokens (id, name, role, hash, created_at, boards) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            (&token.id).into(),
            (&token.name).into(),
            token.role.as_str().into(),
            (&token.hash).into(),
            (&token.created_at).into(),
            (&boards).into(),
        ],
    )
}

/// An admin write that answers with a value.
async fn admin_with<B: Backend, T: Send + 'static>(
    backend: &B,
    write: impl FnOnce(&mut dyn Db) -> anyhow::Result<T> + Send + 'static,
) -> AppResult<T> {
    let (tx, rx) = oneshot::channel();
    admin(backend, move |db| {
        let value = write(db)?;
        // The receiver waits below unless the caller went away.
        let _ = tx.send(value);
        Ok(())
    })
    .await?;
    Ok(rx.await.map_err(|_| anyhow!("an admin write gave no answer"))?)
}

async fn admin<B: Backend>(
    backend: &B,
    write: impl FnOnce(&mut dyn Db) -> anyhow::Result<()> + Send + 'static,
) -> AppResult<()> {
    queue(backend.writer(), |reply| Job::Admin(Box::new(write), reply)).await?
}

#[async_trait]
impl<B: Backend> Store for B {
    async fn apply(&self, req: WriteRequest) -> AppResult<Applied> {
        queue(self.writer(), |reply| Job::Apply(Box::new(req), reply)).await?
    }

    async fn snapshot(&self, board: &str) -> AppResult<Snapshot> {
        let board = board.to_owned();
        read(self, "the board", move |db| {
            // One transaction, so tasks, agents and seq agree with each other.
            db.batch(B::BEGIN_SNAPSHOT)?;
            let result = (|| {
                let seq = board_seq(db, &board)?;
                let tasks = query_tasks(db, &board, &TaskFilter::default())?;
                let agents = query_agents(db)?;
                let labels = query_labels(db, &board)?;
                Ok(Snapshot { tasks, agents, labels, seq })
            })();
            db.batch("COMMIT")?;
            result
        })
        .await
    }

    async fn seq(&self, board: &str) -> AppResult<i64> {
        let board = board.to_owned();
        read(self, "the board's seq", move |db| board_seq(db, &board)).await
    }

    async fn tasks(&self, board: &str, filter: TaskFilter) -> AppResult<Vec<Task>> {
        let board = board.to_owned();
        read(self, "tasks", move |db| query_tasks(db, &board, &filter)).await
    }

    async fn task(&self, board: &str, id: i64) -> AppResult<Option<Task>> {
        let board = board.to_owned();
        read(self, "a task", move |db| load_task(db, &board, id)).await
    }

    async fn agents(&self) -> AppResult<Vec<Agent>> {
        read(self, "agents", query_agents).await
    }

    async fn agent(&self, id: &str) -> AppResult<Option<Agent>> {
        let id = id.to_owned();
        read(self, "an agent", move |db| latest_agent(db, &id)).await
    }

    async fn activity(&self, board: &str, limit: i64, before: Option<i64>) -> AppResult<Vec<Activity>> {
        let board = board.to_owned();
        let sql = format!(
            "SELECT {ACTIVITY_COLUMNS} FROM activity WHERE board = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        );
        read(self, "activity", move |db| {
            let args = [board.as_str().into(), before.unwrap_or(i64::MAX).into(), limit.max(0).into()];
            db.rows(&sql, &args, activity_row)
        })
        .await
    }

    async fn task_history(&self, board: &str, task_id: i64) -> AppResult<Vec<Activity>> {
        let board = board.to_owned();
        let sql = format!(
            "SELECT {ACTIVITY_COLUMNS} FROM activity WHERE board = $1 AND task_id = $2 ORDER BY id DESC"
        );
        read(self, "task history", move |db| {
            db.rows(&sql, &[board.as_str().into(), task_id.into()], activity_row)
        })
        .await
    }

    async fn silent_agents(&self, board: &str, before: &str) -> AppResult<Vec<String>> {
        let (board, before) = (board.to_owned(), before.to_owned());
        read(self, "silent agents", move |db| {
            db.rows(
                "SELECT id FROM agents WHERE board = $1 AND status <> 'offline' AND last_seen < $2 ORDER BY id",
                &[board.as_str().into(), before.as_str().into()],
                |r| r.text(0),
            )
        })
        .await
    }

    async fn expired_leases(&self, board: &str, now: &str) -> AppResult<Vec<i64>> {
        let (board, now) = (board.to_owned(), now.to_owned());
        read(self, "expired leases", move |db| {
            db.rows(
                "SELECT id FROM tasks
                 WHERE board = $1 AND lease_expires_at IS NOT NULL AND lease_expires_at <= $2 ORDER BY id",
                &[board.as_str().into(), now.as_str().into()],
                |r| r.int(0),
            )
        })
        .await
    }

    async fn setting(&self, key: &str) -> AppResult<Option<String>> {
        let key = key.to_owned();
        read(self, "a setting", move |db| {
            db.first("SELECT value FROM settings WHERE key = $1", &[key.as_str().into()], |r| r.text(0))
        })
        .await
    }

    async fn set_setting(&self, key: &str, value: &str) -> AppResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        admin(self, move |db| {
            db.execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[key.as_str().into(), value.as_str().into()],
            )
        })
        .await
    }

    async fn tokens(&self) -> AppResult<Vec<StoredToken>> {
        read(self, "tokens", |db| {
            db.rows(
                "SELECT id, name, role, hash, created_at, revoked_at, boards FROM tokens ORDER BY created_at, id",
                &[],
                token_row,
            )
        })
        .await
    }

    async fn create_token(&self, token: StoredToken) -> AppResult<()> {
        admin(self, move |db| insert_token(db, &token)).await
    }

    async fn boards(&self) -> AppResult<Vec<BoardInfo>> {
        let sql = format!("SELECT {BOARD_COLUMNS} FROM boards ORDER BY id");
        read(self, "boards", move |db| db.rows(&sql, &[], board_row)).await
    }

    async fn board(&self, id: &str) -> AppResult<Option<BoardInfo>> {
        let id = id.to_owned();
        let sql = format!("SELECT {BOARD_COLUMNS} FROM boards WHERE id = $1");
        read(self, "a board", move |db| db.first(&sql, &[id.as_str().into()], board_row)).await
    }

    async fn create_board(&self, board: BoardInfo) -> AppResult<bool> {
        admin_with(self, move |db| {
            let inserted = db.first(
                "INSERT INTO boards (id, name, description, archived, created_at, created_by)
                 VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id",
                &[
                    (&board.id).into(),
                    (&board.name).into(),
                    (&board.description).into(),
                    (&board.created_at).into(),
                    (&board.created_by).into(),
                ],
                |r| r.text(0),
            )?;
            Ok(inserted.is_some())
        })
        .await
    }

    async fn update_board(&self, board: BoardInfo) -> AppResult<bool> {
        admin_with(self, move |db| {
            let updated = db.first(
                "UPDATE boards SET name = $2, description = $3, archived = $4 WHERE id = $1 RETURNING id",
                &[
                    (&board.id).into(),
                    (&board.name).into(),
                    (&board.description).into(),
                    i64::from(board.archived).into(),
                ],
                |r| r.text(0),
            )?;
            Ok(updated.is_some())
        })
        .await
    }

    async fn delete_board(&self, id: &str) -> AppResult<bool> {
        let id = id.to_owned();
        admin_with(self, move |db| {
            // Locks the board's row first (PostgreSQL), so that no write of another instance
            // adds a row to it between the deletes below.
            let found = db.first(
                "UPDATE boards SET seq = seq WHERE id = $1 RETURNING id",
                &[id.as_str().into()],
                |r| r.text(0),
            )?;
            if found.is_none() {
                return Ok(false);
            }
            for table in BOARD_TABLES {
                db.execute(&format!("DELETE FROM {table} WHERE board = $1"), &[id.as_str().into()])?;
            }
            db.execute("DELETE FROM boards WHERE id = $1", &[id.as_str().into()])?;
            Ok(true)
        })
        .await
    }

    async fn task_board(&self, id: i64) -> AppResult<Option<String>> {
        read(self, "a task's board", move |db| {
            db.first("SELECT board FROM tasks WHERE id = $1", &[id.into()], |r| r.text(0))
        })
        .await
    }

    async fn labels(&self, board: &str) -> AppResult<Vec<Label>> {
        let board = board.to_owned();
        read(self, "labels", move |db| query_labels(db, &board)).await
    }

    async fn contents(&self, board: &str) -> AppResult<BoardContents> {
        let board = board.to_owned();
        let comments = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE board = $1 ORDER BY id");
        let activity = format!("SELECT {ACTIVITY_COLUMNS} FROM activity WHERE board = $1 ORDER BY id");
        read(self, "a board's contents", move |db| {
            // One transaction, so the parts agree with each other.
            db.batch(B::BEGIN_SNAPSHOT)?;
            let result = (|| {
                Ok(BoardContents {
                    tasks: query_tasks(db, &board, &TaskFilter::default())?,
                    labels: query_labels(db, &board)?,
                    comments: db.rows(&comments, &[board.as_str().into()], comment_row)?,
                    activity: db.rows(&activity, &[board.as_str().into()], activity_row)?,
                })
            })();
            db.batch("COMMIT")?;
            result
        })
        .await
    }

    async fn comments(&self, board: &str, task_id: i64) -> AppResult<Vec<Comment>> {
        let board = board.to_owned();
        let sql =
            format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE board = $1 AND task_id = $2 ORDER BY id");
        read(self, "comments", move |db| db.rows(&sql, &[board.as_str().into(), task_id.into()], comment_row))
            .await
    }

    async fn comment(&self, id: i64) -> AppResult<Option<Comment>> {
        let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE id = $1");
        read(self, "a comment", move |db| db.first(&sql, &[id.into()], comment_row)).await
    }

    async fn notifications(
        &self,
        person: &str,
        unread_only: bool,
        limit: i64,
    ) -> AppResult<Vec<Notification>> {
        let person = person.to_owned();
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications
             WHERE person = $1 AND (CAST($2 AS BIGINT) = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT $3"
        );
        read(self, "notifications", move |db| {
            db.rows(
                &sql,
                &[person.as_str().into(), i64::from(unread_only).into(), limit.max(0).into()],
                notification_row,
            )
        })
        .await
    }

    async fn unread_notifications(&self, person: &str) -> AppResult<i64> {
        let person = person.to_owned();
        read(self, "unread notifications", move |db| {
            db.one(
                "SELECT COUNT(*) FROM notifications WHERE person = $1 AND read_at IS NULL",
                &[person.as_str().into()],
                |r| r.int(0),
            )
        })
        .await
    }

    async fn mark_notifications_read(
        &self,
        person: &str,
        ids: Option<Vec<i64>>,
        now: &str,
    ) -> AppResult<Vec<i64>> {
        let (person, now) = (person.to_owned(), now.to_owned());
        admin_with(self, move |db| {
            let unread = db.rows(
                "SELECT id FROM notifications WHERE person = $1 AND read_at IS NULL ORDER BY id",
                &[person.as_str().into()],
                |r| r.int(0),
            )?;
            let marked: Vec<i64> = match &ids {
                Some(ids) => unread.into_iter().filter(|id| ids.contains(id)).collect(),
                None => unread,
            };
            for id in &marked {
                db.execute(
                    "UPDATE notifications SET read_at = $2 WHERE id = $1",
                    &[(*id).into(), now.as_str().into()],
                )?;
            }
            Ok(marked)
        })
        .await
    }

    async fn create_invite(&self, invite: Invite) -> AppResult<()> {
        admin(self, move |db| {
            let boards = stored_board_list(&invite.boards);
            db.execute(
                "INSERT INTO invites (hash, role, boards, created_by, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    (&invite.hash).into(),
                    invite.role.as_str().into(),
                    (&boards).into(),
                    (&invite.created_by).into(),
                    (&invite.created_at).into(),
                    (&invite.expires_at).into(),
                ],
            )
        })
        .await
    }

    async fn invite(&self, hash: &str) -> AppResult<Option<Invite>> {
        let hash = hash.to_owned();
        read(self, "an invite", move |db| {
            db.first(
                "SELECT hash, role, boards, created_by, created_at, expires_at, used_at FROM invites WHERE hash = $1",
                &[hash.as_str().into()],
                invite_row,
            )
        })
        .await
    }

    async fn redeem_invite(&self, hash: &str, now: &str, token: StoredToken) -> AppResult<bool> {
        let (hash, now) = (hash.to_owned(), now.to_owned());
        admin_with(self, move |db| {
            // Marked used and turned into the token in one transaction: a code works once.
            let used = db.first(
                "UPDATE invites SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING hash",
                &[hash.as_str().into(), now.as_str().into()],
                |r| r.text(0),
            )?;
            if used.is_none() {
                return Ok(false);
            }
            insert_token(db, &token)?;
            Ok(true)
        })
        .await
    }

    async fn revoke_token(&self, id: &str, now: &str) -> AppResult<()> {
        let (id, now) = (id.to_owned(), now.to_owned());
        admin(self, move |db| {
            db.execute(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[id.as_str().into(), now.as_str().into()],
            )
        })
        .await
    }

    async fn create_webhook(&self, board: &str, new: NewWebhook, by: &str, now: &str) -> AppResult<Webhook> {
        let (board, by, now) = (board.to_owned(), by.to_owned(), now.to_owned());
        admin_with(self, move |db| {
            let events = serde_json::to_string(&new.events)?;
            db.one(
                &format!(
                    "INSERT INTO webhooks (board, url, events, format, secret, active, created_at, created_by)
                     VALUES ($1, $2, $3, $4, $5, 1, $6, $7) RETURNING {WEBHOOK_COLUMNS}"
                ),
                &[
                    board.as_str().into(),
                    (&new.url).into(),
                    events.as_str().into(),
                    new.format.as_str().into(),
                    (&new.secret).into(),
                    now.as_str().into(),
                    by.as_str().into(),
                ],
                webhook_row,
            )
        })
        .await
    }

    async fn webhooks(&self, board: &str) -> AppResult<Vec<Webhook>> {
        let board = board.to_owned();
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE board = $1 ORDER BY id");
        read(self, "webhooks", move |db| db.rows(&sql, &[board.as_str().into()], webhook_row)).await
    }

    async fn webhook(&self, id: i64) -> AppResult<Option<Webhook>> {
        read(self, "a webhook", move |db| load_webhook(db, id)).await
    }

    async fn save_webhook(&self, hook: Webhook) -> AppResult<bool> {
        admin_with(self, move |db| {
            let events = serde_json::to_string(&hook.events)?;
            let saved = db.first(
                "UPDATE webhooks SET url = $2, events = $3, format = $4, active = $5 WHERE id = $1 RETURNING id",
                &[
                    hook.id.into(),
                    (&hook.url).into(),
                    events.as_str().into(),
                    hook.format.as_str().into(),
                    i64::from(hook.active).into(),
                ],
                |r| r.int(0),
            )?;
            Ok(saved.is_some())
        })
        .await
    }

    async fn delete_webhook(&self, id: i64) -> AppResult<bool> {
        admin_with(self, move |db| {
            db.execute("DELETE FROM webhook_deliveries WHERE webhook_id = $1", &[id.into()])?;
            let deleted =
                db.first("DELETE FROM webhooks WHERE id = $1 RETURNING id", &[id.into()], |r| r.int(0))?;
            Ok(deleted.is_some())
        })
        .await
    }

    async fn queue_ping(&self, hook: &Webhook, seq: i64, payload: String, now: &str) -> AppResult<Delivery> {
        let (id, board, now) = (hook.id, hook.board.clone(), now.to_owned());
        admin_with(self, move |db| {
            db.one(
                &format!(
                    "INSERT INTO webhook_deliveries (webhook_id, board, event, seq, payload, status, attempts, created_at, next_at)
                     VALUES ($1, $2, 'webhook.ping', $3, $4, 'pending', 0, $5, $5) RETURNING {DELIVERY_COLUMNS}"
                ),
                &[id.into(), board.as_str().into(), seq.into(), payload.as_str().into(), now.as_str().into()],
                delivery_row,
            )
        })
        .await
    }

    async fn deliveries(&self, webhook_id: i64) -> AppResult<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"
        );
        read(self, "deliveries", move |db| {
            db.rows(&sql, &[webhook_id.into(), DELIVERIES_SHOWN.into()], delivery_row)
        })
        .await
    }

    async fn due_deliveries(&self, now: &str, limit: i64) -> AppResult<Vec<DueDelivery>> {
        let now = now.to_owned();
        read(self, "due deliveries", move |db| {
            db.rows(
                "SELECT d.id, d.webhook_id, d.board, w.url, w.secret, w.format, d.event, d.payload, d.attempts, d.created_at
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 WHERE w.active = 1 AND d.status = 'pending'
                   AND d.id = (SELECT MIN(e.id) FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.status = 'pending')
                   AND d.next_at <= $1 AND (d.claimed_until IS NULL OR d.claimed_until < $1)
                 ORDER BY d.id LIMIT $2",
                &[now.as_str().into(), limit.into()],
                |r| {
                    Ok(DueDelivery {
                        id: r.int(0)?,
                        webhook_id: r.int(1)?,
                        board: r.text(2)?,
                        url: r.text(3)?,
                        secret: r.text(4)?,
                        format: Format::parse(&r.text(5)?).map_err(|e| anyhow!("{e}"))?,
                        event: r.text(6)?,
                        payload: r.text(7)?,
                        attempts: r.int(8)?,
                        created_at: r.text(9)?,
                    })
                },
            )
        })
        .await
    }

    async fn claim_delivery(&self, id: i64, now: &str, until: &str) -> AppResult<bool> {
        let (now, until) = (now.to_owned(), until.to_owned());
        admin_with(self, move |db| {
            // One statement that re-checks the claim: of several workers (instances) asking at
            // once, the row's lock lets exactly one see it unclaimed.
            let claimed = db.first(
                "UPDATE webhook_deliveries SET claimed_until = $3
                 WHERE id = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $2) RETURNING id",
                &[id.into(), now.as_str().into(), until.as_str().into()],
                |r| r.int(0),
            )?;
            Ok(claimed.is_some())
        })
        .await
    }

    async fn finish_delivery(&self, id: i64, attempt: Attempt) -> AppResult<()> {
        admin(self, move |db| {
            let (status, code, error, next) = match &attempt {
                Attempt::Delivered { code } => ("delivered", Some(*code), None, None),
                Attempt::Failed { code, error, retry_at: Some(at) } => ("pending", *code, error.as_deref(), Some(at.as_str())),
                Attempt::Failed { code, error, retry_at: None } => ("failed", *code, error.as_deref(), None),
            };
            db.execute(
                "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_code = $3, last_error = $4,
                    next_at = COALESCE($5, next_at), claimed_until = NULL WHERE id = $1",
                &[id.into(), status.into(), code.into(), error.into(), next.into()],
            )
        })
        .await
    }

    async fn close(&self) {
        // A writer that has already stopped has nothing left to commit.
        let _ = queue(self.writer(), Job::Close).await;
        self.closed().await;
    }
}

// ---- The writer ----

/// The writer thread's connection, as the group commit uses it.
pub(crate) trait WriteConnection {
    /// Begins the transaction of a group that writes to `boards` (sorted, each once), and
    /// gives the connection to run the group's writes on.
    fn begin(&mut self, boards: &[String]) -> anyhow::Result<&mut dyn Db>;
    fn commit(&mut self) -> anyhow::Result<()>;
    /// Called after a failed group; must leave the connection usable or let it go.
    fn rollback(&mut self);
}

/// Takes queued writes in groups and commits each group at once, until the queue is closed
/// or a `Close` arrives. Returns that close's reply: the backend answers it once it has
/// finished with its connection.
pub(crate) fn run_writer(
    conn: &mut dyn WriteConnection,
    rx: &mut mpsc::UnboundedReceiver<Job>,
) -> Option<oneshot::Sender<()>> {
    let mut group = Vec::with_capacity(GROUP_MAX);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Writes queued before the close are committed; the close ends the loop.
        let mut closed = None;
        if let Some(at) = group.iter().position(|job| matches!(job, Job::Close(_)))
            && let Job::Close(reply) = group.remove(at)
        {
            closed = Some(reply);
        }
        commit_group(conn, &mut group);
        if closed.is_some() {
            return closed;
        }
    }
    None
}

/// Each write's reply, sent once the whole group's commit is known.
type Answer = Box<dyn FnOnce(Result<(), String>)>;

fn commit_group(conn: &mut dyn WriteConnection, group: &mut Vec<Job>) {
    let mut answers: Vec<Answer> = Vec::with_capacity(group.len());
    let started = Instant::now();
    let mut boards: Vec<String> = group
        .iter()
        .flat_map(|job| match job {
            Job::Apply(req, _) => req.boards(),
            _ => Vec::new(),
        })
        .collect();
    boards.sort_unstable();
    boards.dedup();
    let outcome =
        conn.begin(&boards).and_then(|db| run_group(db, group, &mut answers)).and_then(|()| conn.commit());
    if outcome.is_err() {
        conn.rollback();
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

/// Runs every write of the group, each in its own savepoint, inside the open transaction,
/// so that one failing write never undoes another.
fn run_group(db: &mut dyn Db, group: &mut Vec<Job>, answers: &mut Vec<Answer>) -> anyhow::Result<()> {
    for job in group.drain(..) {
        let now = crate::clock::now();
        db.batch("SAVEPOINT write")?;
        let kept = match job {
            Job::Apply(req, reply) => {
                let result = write::apply(&mut SqlTx(db), &req, &now);
                // `Unchanged` may still carry a silent write (a holder's repeated claim renews
                // its lease); refusals and errors leave nothing.
                let kept = matches!(result, Ok(Applied::Committed(_) | Applied::Unchanged(_)));
                answers.push(Box::new(move |group: Result<(), String>| {
                    let _ = reply.send(group.map_err(|e| AppError::Internal(anyhow!(e))).and(result));
                }));
                kept
            }
            Job::Close(_) => unreachable!("taken out of the group before it commits"),
            Job::Admin(write, reply) => {
                let result = write(db);
                let kept = result.is_ok();
                answers.push(Box::new(move |group: Result<(), String>| {
                    let result = group.and(result.map_err(|e| format!("{e:#}")));
                    let _ = reply.send(result.map_err(|e| AppError::Internal(anyhow!(e))));
                }));
                kept
            }
        };
        // A refused or failed write leaves nothing behind, and the transaction usable.
        db.batch(if kept {
            "RELEASE SAVEPOINT write"
        } else {
            "ROLLBACK TO SAVEPOINT write; RELEASE SAVEPOINT write"
        })?;
    }
    Ok(())
}

/// Row access for the write rules, inside the writer's current savepoint.
struct SqlTx<'a>(&'a mut dyn Db);

fn internal(what: &'static str) -> impl FnOnce(anyhow::Error) -> AppError {
    move |e| AppError::Internal(e.context(what))
}

impl Tx for SqlTx<'_> {
    fn board_exists(&mut self, board: &str) -> AppResult<bool> {
        let found = self.0.first("SELECT seq FROM boards WHERE id = $1", &[board.into()], |r| r.int(0));
        Ok(found.map_err(internal("finding a board"))?.is_some())
    }

    fn next_seq(&mut self, board: &str) -> AppResult<i64> {
        self.0
            .first("UPDATE boards SET seq = seq + 1 WHERE id = $1 RETURNING seq", &[board.into()], |r| {
                r.int(0)
            })
            .map_err(internal("taking the next sequence number"))?
            // Deleted while the write was queued.
            .ok_or_else(|| AppError::BoardNotFound(board.to_owned()))
    }

    fn task(&mut self, board: &str, id: i64) -> AppResult<Option<Task>> {
        load_task(self.0, board, id).map_err(internal("loading a task"))
    }

    fn column(&mut self, board: &str, status: Status) -> AppResult<Vec<(i64, i64)>> {
        self.0
            .rows(
                "SELECT id, position FROM tasks WHERE board = $1 AND status = $2 ORDER BY position, id",
                &[board.into(), status.as_str().into()],
                |r| Ok((r.int(0)?, r.int(1)?)),
            )
            .map_err(internal("loading a column"))
    }

    fn end_of_column(&mut self, board: &str, status: Status) -> AppResult<i64> {
        self.0
            .one(
                "SELECT CAST(coalesce(max(position) + 1, 0) AS BIGINT) FROM tasks WHERE board = $1 AND status = $2",
                &[board.into(), status.as_str().into()],
                |r| r.int(0),
            )
            .map_err(internal("finding a column's end"))
    }

    fn insert_task(
        &mut self,
        board: &str,
        new: &NewTask,
        position: i64,
        by: &str,
        now: &str,
    ) -> AppResult<Task> {
        let sql = format!(
            "INSERT INTO tasks (board, title, description, status, assignee, position, created_by,
                                created_at, updated_at, version, labels, due_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, $9, $10) RETURNING {TASK_COLUMNS}"
        );
        let labels = serde_json::json!(new.labels).to_string();
        let args = [
            board.into(),
            (&new.title).into(),
            (&new.description).into(),
            new.status.as_str().into(),
            (&new.assignee).into(),
            position.into(),
            by.into(),
            now.into(),
            (&labels).into(),
            (&new.due_at).into(),
        ];
        self.0.one(&sql, &args, task_row).map_err(internal("inserting a task"))
    }

    fn save_task(&mut self, board: &str, task: &Task) -> AppResult<()> {
        let progress = task.progress.as_ref().map(|p| serde_json::json!(p).to_string());
        let labels = serde_json::json!(task.labels).to_string();
        let args = [
            board.into(),
            task.id.into(),
            (&task.title).into(),
            (&task.description).into(),
            task.status.as_str().into(),
            (&task.assignee).into(),
            task.position.into(),
            (&task.updated_at).into(),
            task.version.into(),
            (&task.claimed_by).into(),
            (&task.lease_expires_at).into(),
            (&progress).into(),
            (&labels).into(),
            (&task.due_at).into(),
        ];
        self.0
            .execute(
                "UPDATE tasks SET title = $3, description = $4, status = $5, assignee = $6, position = $7,
                        updated_at = $8, version = $9, claimed_by = $10, lease_expires_at = $11, progress = $12,
                        labels = $13, due_at = $14
                 WHERE board = $1 AND id = $2",
                &args,
            )
            .map_err(internal("saving a task"))
    }

    fn shift_tasks(&mut self, board: &str, shifts: &[Shift]) -> AppResult<Vec<Shifted>> {
        let mut moved = std::collections::HashMap::with_capacity(shifts.len());
        for chunk in shifts.chunks(SHIFTS_PER_STATEMENT) {
            let mut args: Vec<Arg<'_>> = vec![board.into()];
            // The last shift again in the places a short chunk leaves: the same id to the same
            // place, so that one prepared statement serves every chunk.
            let last = &chunk[chunk.len() - 1];
            for k in 0..SHIFTS_PER_STATEMENT {
                let shift = chunk.get(k).unwrap_or(last);
                args.extend([Arg::from(shift.id), Arg::from(shift.position)]);
            }
            let tasks = self
                .0
                .rows(shift_statement(self.0.dialect()), &args, shifted_row)
                .map_err(internal("renumbering a column"))?;
            moved.extend(tasks.into_iter().map(|task| (task.id, task)));
        }
        shifts
            .iter()
            .map(|shift| moved.remove(&shift.id).ok_or(shift.id))
            .collect::<Result<Vec<_>, i64>>()
            .map_err(|id| {
                AppError::Internal(anyhow!("renumbering a column: task {id} is not on board {board}"))
            })
    }

    fn delete_task(&mut self, board: &str, id: i64) -> AppResult<()> {
        let args = [board.into(), id.into()];
        self.0
            .execute(
                "DELETE FROM task_blockers WHERE board = $1 AND (task_id = $2 OR blocker_id = $2)",
                &args,
            )
            .and_then(|()| self.0.execute("DELETE FROM comments WHERE board = $1 AND task_id = $2", &args))
            .and_then(|()| self.0.execute("DELETE FROM tasks WHERE board = $1 AND id = $2", &args))
            .map_err(internal("deleting a task"))
    }

    fn rehome_task(&mut self, from: &str, task: &Task) -> AppResult<()> {
        let args = [from.into(), task.id.into(), (&task.board).into()];
        self.0
            .execute(
                "DELETE FROM task_blockers WHERE board = $1 AND (task_id = $2 OR blocker_id = $2)",
                &args[..2],
            )
            .and_then(|()| self.0.execute("UPDATE tasks SET board = $3 WHERE board = $1 AND id = $2", &args))
            .map_err(internal("moving a task to another board"))?;
        // Its history and comments go with it: the task's story is told where the task is.
        self.0
            .execute("UPDATE activity SET board = $3 WHERE board = $1 AND task_id = $2", &args)
            .and_then(|()| {
                self.0.execute("UPDATE comments SET board = $3 WHERE board = $1 AND task_id = $2", &args)
            })
            .map_err(internal("moving a task's history to another board"))?;
        self.save_task(&task.board, task)
    }

    fn next_claimable(&mut self, board: &str) -> AppResult<Option<Task>> {
        // Ready: no blocker that is not DONE. The writer runs this and the claim in one
        // transaction, so a task is never claimed while a blocker is being reopened.
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks
             WHERE board = $1 AND status = 'TODO' AND assignee IS NULL AND claimed_by IS NULL
               AND NOT EXISTS (
                   SELECT 1 FROM task_blockers b JOIN tasks blocker
                       ON blocker.board = b.board AND blocker.id = b.blocker_id
                   WHERE b.board = tasks.board AND b.task_id = tasks.id AND blocker.status <> 'DONE')
             ORDER BY position, id LIMIT 1"
        );
        let task = self.0.first(&sql, &[board.into()], task_row);
        task.and_then(|t| with_blockers_of(self.0, board, t)).map_err(internal("finding the next task"))
    }

    fn set_blockers(&mut self, board: &str, task_id: i64, blockers: &[i64]) -> AppResult<()> {
        let db = &mut *self.0;
        db.execute(
            "DELETE FROM task_blockers WHERE board = $1 AND task_id = $2",
            &[board.into(), task_id.into()],
        )
        .map_err(internal("clearing a task's blockers"))?;
        for (ord, blocker) in blockers.iter().enumerate() {
            db.execute(
                "INSERT INTO task_blockers (board, task_id, blocker_id, ord) VALUES ($1, $2, $3, $4)",
                &[board.into(), task_id.into(), (*blocker).into(), (ord as i64).into()],
            )
            .map_err(internal("storing a task's blockers"))?;
        }
        Ok(())
    }

    fn blocker_pairs(&mut self, board: &str) -> AppResult<Vec<(i64, i64)>> {
        self.0
            .rows("SELECT task_id, blocker_id FROM task_blockers WHERE board = $1", &[board.into()], |r| {
                Ok((r.int(0)?, r.int(1)?))
            })
            .map_err(internal("loading the work graph"))
    }

    fn dependents(&mut self, board: &str, blocker_id: i64) -> AppResult<Vec<i64>> {
        self.0
            .rows(
                "SELECT task_id FROM task_blockers WHERE board = $1 AND blocker_id = $2 ORDER BY task_id",
                &[board.into(), blocker_id.into()],
                |r| r.int(0),
            )
            .map_err(internal("finding the tasks a blocker holds up"))
    }

    fn board_of(&mut self, task_id: i64) -> AppResult<Option<String>> {
        self.0
            .first("SELECT board FROM tasks WHERE id = $1", &[task_id.into()], |r| r.text(0))
            .map_err(internal("finding a task's board"))
    }

    fn renew_leases(&mut self, board: &str, agent: &str, until: &str) -> AppResult<()> {
        self.0
            .execute(
                "UPDATE tasks SET lease_expires_at = $3 WHERE board = $1 AND claimed_by = $2",
                &[board.into(), agent.into(), until.into()],
            )
            .map_err(internal("renewing leases"))
    }

    fn agent(&mut self, board: &str, id: &str) -> AppResult<Option<Agent>> {
        load_agent(self.0, board, id).map_err(internal("loading an agent"))
    }

    fn save_agent(&mut self, board: &str, agent: &Agent) -> AppResult<()> {
        let args = [
            board.into(),
            (&agent.id).into(),
            (&agent.name).into(),
            agent.status.as_str().into(),
            agent.current_task_id.into(),
            (&agent.last_seen).into(),
        ];
        self.0
            .execute(
                "INSERT INTO agents (board, id, name, status, current_task_id, last_seen)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (board, id) DO UPDATE SET name = excluded.name, status = excluded.status,
                     current_task_id = excluded.current_task_id, last_seen = excluded.last_seen",
                &args,
            )
            .map_err(internal("saving an agent"))
    }

    fn insert_activity(
        &mut self,
        board: &str,
        seq: i64,
        entry: &NewActivity,
        now: &str,
    ) -> AppResult<Activity> {
        let changes = entry.changes.as_ref().map(|c| serde_json::Value::Object(c.clone()).to_string());
        let args = [
            board.into(),
            seq.into(),
            entry.kind.into(),
            (&entry.user).into(),
            (&entry.message).into(),
            entry.task_id.into(),
            (&changes).into(),
            now.into(),
        ];
        let id = self
            .0
            .one(
                "INSERT INTO activity (board, seq, kind, \"user\", message, task_id, changes, timestamp)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &args,
                |r| r.int(0),
            )
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

    fn labels(&mut self, board: &str) -> AppResult<Vec<Label>> {
        query_labels(self.0, board).map_err(internal("loading labels"))
    }

    fn insert_label(&mut self, board: &str, label: &NewLabel) -> AppResult<Label> {
        let sql =
            format!("INSERT INTO labels (board, name, color) VALUES ($1, $2, $3) RETURNING {LABEL_COLUMNS}");
        self.0
            .one(&sql, &[board.into(), (&label.name).into(), (&label.color).into()], label_row)
            .map_err(internal("inserting a label"))
    }

    fn save_label(&mut self, label: &Label) -> AppResult<()> {
        self.0
            .execute(
                "UPDATE labels SET name = $3, color = $4 WHERE board = $1 AND id = $2",
                &[(&label.board).into(), label.id.into(), (&label.name).into(), (&label.color).into()],
            )
            .map_err(internal("saving a label"))
    }

    fn delete_label(&mut self, board: &str, id: i64) -> AppResult<()> {
        self.0
            .execute("DELETE FROM labels WHERE board = $1 AND id = $2", &[board.into(), id.into()])
            .map_err(internal("deleting a label"))
    }

    fn tasks_with_label(&mut self, board: &str, id: i64) -> AppResult<Vec<Task>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE board = $1 AND labels <> '[]' ORDER BY id");
        let mut tasks =
            self.0.rows(&sql, &[board.into()], task_row).map_err(internal("finding labelled tasks"))?;
        tasks.retain(|t| t.labels.contains(&id));
        with_blockers(self.0, board, tasks).map_err(internal("finding labelled tasks"))
    }

    fn insert_comment(
        &mut self,
        board: &str,
        task_id: i64,
        author: &str,
        body: &str,
        now: &str,
    ) -> AppResult<Comment> {
        let sql = format!(
            "INSERT INTO comments (board, task_id, author, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COMMENT_COLUMNS}"
        );
        self.0
            .one(&sql, &[board.into(), task_id.into(), author.into(), body.into(), now.into()], comment_row)
            .map_err(internal("inserting a comment"))
    }

    fn comment(&mut self, board: &str, id: i64) -> AppResult<Option<Comment>> {
        let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE board = $1 AND id = $2");
        self.0.first(&sql, &[board.into(), id.into()], comment_row).map_err(internal("loading a comment"))
    }

    fn save_comment(&mut self, comment: &Comment) -> AppResult<()> {
        self.0
            .execute(
                "UPDATE comments SET body = $2, updated_at = $3 WHERE id = $1",
                &[comment.id.into(), (&comment.body).into(), (&comment.updated_at).into()],
            )
            .map_err(internal("saving a comment"))
    }

    fn delete_comment(&mut self, board: &str, id: i64) -> AppResult<()> {
        self.0
            .execute("DELETE FROM comments WHERE board = $1 AND id = $2", &[board.into(), id.into()])
            .map_err(internal("deleting a comment"))
    }

    fn known_people(&mut self, board: &str) -> AppResult<Vec<String>> {
        self.0
            .rows(
                "SELECT DISTINCT \"user\" FROM activity WHERE board = $1
                 UNION SELECT id FROM agents WHERE board = $1
                 UNION SELECT name FROM tokens WHERE revoked_at IS NULL",
                &[board.into()],
                |r| r.text(0),
            )
            .map_err(internal("finding the people a board knows"))
    }

    fn listening_webhooks(&mut self, board: &str) -> AppResult<Vec<(i64, Vec<String>)>> {
        self.0
            .rows(
                "SELECT id, events FROM webhooks WHERE board = $1 AND active = 1 ORDER BY id",
                &[board.into()],
                |r| Ok((r.int(0)?, serde_json::from_str(&r.text(1)?).context("reading a webhook's events")?)),
            )
            .map_err(internal("finding a board's webhooks"))
    }

    fn queue_delivery(
        &mut self,
        board: &str,
        webhook_id: i64,
        event: &str,
        seq: i64,
        payload: &str,
        now: &str,
    ) -> AppResult<()> {
        self.0
            .execute(
                "INSERT INTO webhook_deliveries (webhook_id, board, event, seq, payload, status, attempts, created_at, next_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
                &[webhook_id.into(), board.into(), event.into(), seq.into(), payload.into(), now.into()],
            )
            .map_err(internal("queueing a webhook delivery"))
    }

    fn deactivate_webhook(&mut self, board: &str, id: i64) -> AppResult<Option<Webhook>> {
        let sql = format!(
            "UPDATE webhooks SET active = 0 WHERE id = $1 AND board = $2 AND active = 1 RETURNING {WEBHOOK_COLUMNS}"
        );
        self.0.first(&sql, &[id.into(), board.into()], webhook_row).map_err(internal("disabling a webhook"))
    }

    fn insert_notification(
        &mut self,
        board: &str,
        by: &str,
        now: &str,
        new: &NewNotification,
    ) -> AppResult<Notification> {
        let sql = format!(
            "INSERT INTO notifications (person, board, kind, task_id, comment_id, by_name, excerpt, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {NOTIFICATION_COLUMNS}"
        );
        let args = [
            (&new.person).into(),
            board.into(),
            new.kind.into(),
            new.task_id.into(),
            new.comment_id.into(),
            by.into(),
            (&new.excerpt).into(),
            now.into(),
        ];
        self.0.one(&sql, &args, notification_row).map_err(internal("storing a notification"))
    }

    fn remembered(&mut self, credential: &str, op_id: &str) -> AppResult<Option<serde_json::Value>> {
        let stored = self
            .0
            .first(
                "SELECT result FROM idempotency WHERE credential = $1 AND op_id = $2",
                &[credential.into(), op_id.into()],
                |r| r.text(0),
            )
            .map_err(internal("looking up an operation id"))?;
        Ok(stored.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)))
    }

    fn remember(
        &mut self,
        credential: &str,
        op_id: &str,
        result: &serde_json::Value,
        now: &str,
    ) -> AppResult<()> {
        self.0
            .execute(
                "INSERT INTO idempotency (credential, op_id, result, created_at) VALUES ($1, $2, $3, $4)",
                &[credential.into(), op_id.into(), result.to_string().as_str().into(), now.into()],
            )
            .map_err(internal("remembering an operation id"))
    }
}
