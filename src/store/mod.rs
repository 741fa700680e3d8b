//! The databases behind the domain's storage ports (`domain::storage`): both implemented once,
//! over SQL both databases read (`sql`); a backend supplies its connections: SQLite, the
//! default, and PostgreSQL (`DATABASE_URL`), chosen by `open` (for the server and the
//! administrative commands alike) without touching any handler.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;

use crate::domain::storage::Store;
use postgres::PostgresStore;
use sqlite::{ServerLock, SqliteStore};

pub mod postgres;
mod sql;
pub mod sqlite;

/// How hard a commit is pushed to disk: SQLite's `synchronous`, PostgreSQL's
/// `synchronous_commit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// fsync on every commit: an acknowledged write survives a power cut.
    Full,
    /// fsync at checkpoints: an acknowledged write survives a crash of warroom (kill -9), but
    /// the last commits may be lost if the machine loses power.
    Normal,
}

/// The database the flags name: PostgreSQL with a URL, else the SQLite file.
pub struct Target<'a> {
    path: &'a Path,
    url: Option<&'a str>,
    ca_cert: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// `DATABASE_PATH`, `DATABASE_URL` and `DATABASE_CA_CERT`; blank values count as unset.
    pub fn new(path: &'a Path, url: Option<&'a str>, ca_cert: Option<&'a str>) -> anyhow::Result<Target<'a>> {
        let url = url.map(str::trim).filter(|u| !u.is_empty());
        let ca_cert = ca_cert.filter(|pem| !pem.trim().is_empty());
        if ca_cert.is_some() && url.is_none() {
            bail!("DATABASE_CA_CERT is set but DATABASE_URL is not: it is for TLS to PostgreSQL");
        }
        Ok(Target { path, url, ca_cert })
    }

    pub fn is_postgres(&self) -> bool {
        self.url.is_some()
    }

    /// The SQLite file, for the commands that copy it; `instead` names PostgreSQL's own tool.
    pub fn sqlite_file(&self, instead: &str) -> anyhow::Result<&'a Path> {
        if self.is_postgres() {
            bail!("this command copies the SQLite file; with DATABASE_URL use PostgreSQL's own {instead}");
        }
        Ok(self.path)
    }
}

/// Who opens the store.
pub enum Opener {
    /// The server: the SQLite file is created if needed and locked while it serves (two servers
    /// never share one file); PostgreSQL serves several instances, so no lock.
    Server(Durability),
    /// An administrative command, on a database a server may be serving: it must exist already.
    Command,
}

/// Opens the store `target` names, with the SQLite file's lock when a server opens one.
pub async fn open(
    target: &Target<'_>,
    opener: Opener,
) -> anyhow::Result<(Arc<dyn Store>, Option<ServerLock>)> {
    let durability = match opener {
        Opener::Server(durability) => durability,
        Opener::Command => Durability::Full,
    };
    if let Some(url) = target.url {
        let store = PostgresStore::connect_with_ca_cert(url, target.ca_cert, durability).await?;
        return Ok((Arc::new(store), None));
    }
    Ok(match opener {
        Opener::Server(_) => {
            let lock = ServerLock::acquire(target.path)?;
            (Arc::new(SqliteStore::open(target.path, durability)?), Some(lock))
        }
        Opener::Command => (Arc::new(SqliteStore::open_existing(target.path)?), None),
    })
}
