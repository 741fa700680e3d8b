//! Offline and side-channel care of a database: the stored key, tokens, backup and restore.
//!
//! These run as separate commands on the same file a server may be serving. Tokens go
//! through the database, and a running server picks up changes within a second.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::auth::{self, Role, StoredToken};
use crate::config::StoreArgs;
use crate::domain::storage::Store;
use crate::store::sqlite::{ServerLock, SqliteStore};
use crate::store::{self, Opener, Target};

/// The key `App::open` generates and stores when none is configured.
pub const STORED_KEY: &str = "api_key";

fn target(args: &StoreArgs) -> anyhow::Result<Target<'_>> {
    Target::new(&args.database_path, args.database_url.as_deref(), args.database_ca_cert.as_deref())
}

/// The server's store, chosen as the server chooses it: PostgreSQL with a URL, else the file.
async fn open(args: &StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    Ok(store::open(&target(args)?, Opener::Command).await?.0)
}

pub async fn stored_key(args: &StoreArgs) -> anyhow::Result<Option<String>> {
    Ok(open(args).await?.setting(STORED_KEY).await?)
}

/// Makes a token and returns it: the only time it is ever shown.
pub async fn create_token(
    args: &StoreArgs,
    name: &str,
    role: Role,
    boards: &[String],
) -> anyhow::Result<(String, StoredToken)> {
    let name = crate::domain::input::name(serde_json::Value::String(name.to_owned()), "name")?;
    let boards = crate::domain::invites::board_scope(boards)?;
    let (token, stored) = auth::new_token(&name, role, boards, &crate::clock::now());
    let store = open(args).await?;
    store.create_token(stored.clone()).await?;
    store.close().await;
    Ok((token, stored))
}

/// Makes an invite and returns its code: the only time it is ever shown.
pub async fn create_invite(
    args: &StoreArgs,
    role: Role,
    boards: &[String],
    hours: u32,
) -> anyhow::Result<(String, auth::Invite)> {
    let store = open(args).await?;
    let made =
        crate::domain::invites::create(&*store, role, boards, Some(i64::from(hours)), "warroom").await?;
    store.close().await;
    Ok(made)
}

pub async fn list_tokens(args: &StoreArgs) -> anyhow::Result<Vec<StoredToken>> {
    Ok(open(args).await?.tokens().await?)
}

pub async fn revoke_token(args: &StoreArgs, id: &str) -> anyhow::Result<StoredToken> {
    let store = open(args).await?;
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
pub async fn backup(args: &StoreArgs, to: &Path) -> anyhow::Result<()> {
    let db = target(args)?.sqlite_file("pg_dump")?;
    if to.exists() {
        bail!("{} exists already; choose a new file", to.display());
    }
    SqliteStore::open_existing(db)?.backup(to).await?;
    SqliteStore::check_integrity(to)
}

/// Replaces the database with a checked backup. Refuses while a server holds the database.
pub fn restore(args: &StoreArgs, from: &Path) -> anyhow::Result<()> {
    let db = target(args)?.sqlite_file("pg_restore")?;
    SqliteStore::check_integrity(from)?;
    let _lock = ServerLock::acquire(db).context("the server must be stopped before a restore")?;
    let staged = db.with_extension("restoring");
    std::fs::copy(from, &staged).with_context(|| format!("copying {}", from.display()))?;
    if db.exists() {
        SqliteStore::carry_counters_forward(db, &staged)?;
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
