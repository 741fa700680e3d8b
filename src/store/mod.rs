//! The databases behind the domain's storage ports (`domain::storage`): both implemented once,
//! over SQL both databases read (`sql`); a backend supplies its connections: SQLite, the
//! default, and PostgreSQL (`DATABASE_URL`), chosen in `App::open` without touching any handler.

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
