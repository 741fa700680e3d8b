//! Offline and side-channel care of a database: the stored key, tokens, backup and restore.
//!
//! These run as separate commands on the same file a server may be serving. Tokens go
//! through the database, and a running server picks up changes within a second.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::auth::{self, Role, StoredToken};
use crate::config::StoreArgs;
use crate::domain::storage::Store;
use crate::store::Durability;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;

/// The key `App::open` generates and stores when none is configured.
pub const STORED_KEY: &str = "api_key";

/// The server's store, chosen as the server chooses it: PostgreSQL with a URL, else the file.
async fn open(target: &StoreArgs) -> anyhow::Result<Box<dyn Store>> {
    let ca_cert = target.database_ca_cert.as_deref().filter(|pem| !pem.trim().is_empty());
    if let Some(url) = target.database_url.as_deref().filter(|u| !u.is_empty()) {
        return Ok(Box::new(PostgresStore::connect_with_ca_cert(url, ca_cert, Durability::Full).await?));
    }
    if ca_cert.is_some() {
        bail!("DATABASE_CA_CERT is set but DATABASE_URL is not: it is for TLS to PostgreSQL");
    }
    Ok(Box::new(open_file(&target.database_path)?))
}

fn open_file(db: &Path) -> anyhow::Result<SqliteStore> {
    if !db.exists() {
        bail!("no database at {} (start the server once, or pass --db)", db.display());
    }
    SqliteStore::open(db, Durability::Full)
}

pub async fn stored_key(target: &StoreArgs) -> anyhow::Result<Option<String>> {
    Ok(open(target).await?.setting(STORED_KEY).await?)
}

/// Makes a token and returns it: the only time it is ever shown.
pub async fn create_token(
    target: &StoreArgs,
    name: &str,
    role: Role,
    boards: &[String],
) -> anyhow::Result<(String, StoredToken)> {
    let name = crate::domain::input::name(serde_json::Value::String(name.to_owned()), "name")?;
    let boards = crate::invites::board_scope(boards)?;
    let (token, stored) = auth::new_token(&name, role, boards, &crate::clock::now());
    let store = open(target).await?;
    store.create_token(stored.clone()).await?;
    store.close().await;
    Ok((token, stored))
}

/// Makes an invite and returns its code: the only time it is ever shown.
pub async fn create_invite(
    target: &StoreArgs,
    role: Role,
    boards: &[String],
    hours: u32,
) -> anyhow::Result<(String, auth::Invite)> {
    let store = open(target).await?;
    let made = crate::invites::create(&*store, role, boards, Some(i64::from(hours)), "warroom").await?;
    store.close().await;
    Ok(made)
}

pub async fn list_tokens(target: &StoreArgs) -> anyhow::Result<Vec<StoredToken>> {
    Ok(open(target).await?.tokens().await?)
}

pub async fn revoke_token(target: &StoreArgs, id: &str) -> anyhow::Result<StoredToken> {
    let store = open(target).await?;
    let Some(token) = store.tokens().await?.into_iter().find(|t| t.id == id) else {
        bail!("no token with id {id}");
    };
    if token.revoked_at.is_some() {
        bail!("token {id} ({}) is already revoked", token.name);
    }
    store.revoke_token(id, &crate::clock::now()).await?;
    store.close().await;
    Ok(token)
}

/// A consistent copy while the server keeps serving (SQLite; PostgreSQL has `pg_dump`).
pub async fn backup(target: &StoreArgs, to: &Path) -> anyhow::Result<()> {
    let db = sqlite_only(target, "pg_dump")?;
    if to.exists() {
        bail!("{} exists already; choose a new file", to.display());
    }
    open_file(db)?.backup(to).await?;
    check_integrity(to)
}

/// Replaces the database with a checked backup. Refuses while a server holds the database.
pub fn restore(target: &StoreArgs, from: &Path) -> anyhow::Result<()> {
    let db = sqlite_only(target, "pg_restore")?;
    check_integrity(from)?;
    let _lock = ServerLock::acquire(db).context("the server must be stopped before a restore")?;
    let staged = db.with_extension("restoring");
    std::fs::copy(from, &staged).with_context(|| format!("copying {}", from.display()))?;
    if db.exists() {
        carry_counters_forward(db, &staged)?;
    }
    File::open(&staged)?.sync_all()?;
    // The old WAL belongs to the old database: it must not be replayed onto the new one.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", db.display()));
        if side.exists() {
            std::fs::remove_file(&side).with_context(|| format!("removing {}", side.display()))?;
        }
    }
    std::fs::rename(&staged, db).with_context(|| format!("replacing {}", db.display()))?;
    Ok(())
}

/// A restored board must not hand out sequence numbers or ids again: a client that saw seq N
/// would resume as if nothing had happened, and a reused id would name another task. The
/// restored counters continue from the higher of both files, and the board's seq moves one
/// further, so every client that saw the newer board gets a full sync.
fn carry_counters_forward(current: &Path, staged: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(staged)?;
    conn.execute("ATTACH DATABASE ?1 AS current", [current.to_str().context("database path is not UTF-8")?])?;
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

fn sqlite_only<'a>(target: &'a StoreArgs, instead: &str) -> anyhow::Result<&'a Path> {
    if target.database_url.as_deref().is_some_and(|u| !u.is_empty()) {
        bail!("this command copies the SQLite file; with DATABASE_URL use PostgreSQL's own {instead}");
    }
    Ok(&target.database_path)
}

fn check_integrity(path: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", path.display()))?;
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        bail!("{} failed its integrity check: {verdict}", path.display());
    }
    Ok(())
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
