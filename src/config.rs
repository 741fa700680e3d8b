//! Configuration: flags and their environment variables, as SPEC's table lists them.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::auth::Role;
use crate::store::Durability;

#[derive(Debug, Parser)]
#[command(name = "warroom", version, about = "A real-time task board for teams of humans and AI agents")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `warroom` alone serves, with these settings.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Serve the board as MCP tools over stdio for an AI agent, against a running server.
    Mcp(crate::mcp::McpArgs),
    /// Read and change tasks from scripts and shells: list, add, move, claim-next, progress, done.
    Task(crate::client::cli::TaskArgs),
    /// Write a board to stdout: the warroom-board JSON export (`--format csv`: its tasks as CSV).
    Export(crate::client::cli::ExportArgs),
    /// Import a file into a board (admins): a warroom export, a Trello board export, or CSV.
    Import(crate::client::cli::ImportArgs),
    /// A board's webhooks (admins): add, list, remove.
    Webhook(crate::client::cli::WebhookArgs),
    /// Print the team key stored in the database (generated at first start).
    Key {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Per-person tokens: create (printed once), list, revoke.
    Token {
        #[command(subcommand)]
        action: TokenAction,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Invite links: a one-time code that becomes a personal token with its role and boards.
    Invite {
        #[command(subcommand)]
        action: InviteAction,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write a consistent copy of the database to PATH while the server keeps running.
    Backup {
        path: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Replace the database with a backup (the server must be stopped).
    Restore {
        path: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Which database an administrative command works on: the server's, chosen the same way.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    #[arg(long = "db", env = "DATABASE_PATH", default_value = "./data/tasks.db", global = true)]
    pub database_path: PathBuf,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    #[arg(long, env = "DATABASE_CA_CERT", hide_env_values = true, global = true)]
    pub database_ca_cert: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make a token for one person; it is printed once and only its hash is kept.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = Role::Editor)]
        role: Role,
        /// Limit the token to this board (repeat for several); without it, every board.
        #[arg(long = "board")]
        boards: Vec<String>,
    },
    /// Every token, with its id, person, role, boards and whether it is revoked.
    List,
    /// Revoke a token by id: its open sockets are disconnected within a second.
    Revoke { id: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum InviteAction {
    /// Make an invite link; it is printed once and only its hash is kept.
    Create {
        #[arg(long, value_enum, default_value_t = Role::Editor)]
        role: Role,
        /// Limit it to this board (repeat for several); without it, every board.
        #[arg(long = "board")]
        boards: Vec<String>,
        #[arg(long, default_value_t = crate::domain::invites::DEFAULT_HOURS)]
        expires_in_hours: u32,
        /// Where people open the dashboard: the link is `<URL>/?invite=CODE`.
        #[arg(long, default_value = "http://localhost:3000")]
        url: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The team key for sockets and REST; generated, stored and printed once if unset.
    #[arg(long, env = "WAAAH_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    #[arg(long, env = "HOST", default_value = "0.0.0.0")]
    pub host: IpAddr,
    /// The SQLite file (created with its folder).
    #[arg(long = "db", env = "DATABASE_PATH", default_value = "./data/tasks.db")]
    pub database_path: PathBuf,
    /// `postgres://…` switches the store to PostgreSQL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The PEM text (not a path) of the CA certificate(s) PostgreSQL's certificate must chain
    /// to, as a `sslrootcert=/path` file holding it would: for platforms that give the CA as a
    /// variable (DigitalOcean's `${db.CA_CERT}`). Not together with `sslrootcert`.
    #[arg(long, env = "DATABASE_CA_CERT", hide_env_values = true)]
    pub database_ca_cert: Option<String>,
    /// `redis://…` (`rediss://…` for TLS) shares live events, presence, drag locks, agents and
    /// rate limits between several instances on one PostgreSQL database (see docs/scaling.md).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// A PEM file of the CA that a `rediss://` server's certificate must chain to, instead of the
    /// system's CA bundle (managed Redis services use publicly trusted certificates).
    #[arg(long, env = "REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// The prefix of every Redis key and channel, so several boards or tests share one Redis.
    #[arg(long, env = "REDIS_PREFIX", default_value = "warroom")]
    pub redis_prefix: String,
    /// Commands per second per socket and per REST credential (bursts of twice that); 0 disables.
    #[arg(long, env = "RATE_LIMIT", default_value_t = 200)]
    pub rate_limit: u32,
    /// How long an agent's claim lasts without a heartbeat.
    #[arg(long, env = "LEASE_SECONDS", default_value_t = 300)]
    pub lease_seconds: u64,
    /// Milliseconds a person whose last connection closed stays online: back within it (a
    /// reload, a network blip), they never left.
    #[arg(long, env = "PRESENCE_GRACE_MS", default_value_t = 10_000)]
    pub presence_grace_ms: u64,
    /// Sockets one credential may hold open at once (the team key is shared by everyone).
    #[arg(long, env = "CONNECTION_LIMIT", default_value_t = 20_000)]
    pub connection_limit: usize,
    /// New sockets per minute per credential and client address (bursts of half a minute's worth);
    /// 0 disables. A team on the team key behind one address reconnecting together stays far below.
    #[arg(long, env = "CONNECT_RATE", default_value_t = 600)]
    pub connect_rate: u32,
    /// TCP connections served at once; unset: the open-file limit (raised to its hard limit at
    /// start) less a reserve of 256 for the database and the rest of the process.
    #[arg(long, env = "MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Origins allowed to call the REST API from a browser (comma-separated); same-origin only if unset.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// The only hosts webhooks may call (comma-separated), e.g. to keep them off internal
    /// addresses; unset: any host.
    #[arg(long, env = "WEBHOOK_ALLOWED_HOSTS", value_delimiter = ',')]
    pub webhook_allowed_hosts: Vec<String>,
    /// Milliseconds before a failed webhook delivery's first retry; each next one waits twice
    /// as long (at most an hour), with jitter.
    #[arg(long, env = "WEBHOOK_RETRY_MS", default_value_t = 10_000)]
    pub webhook_retry_ms: u64,
    /// Seconds of failed deliveries after which a webhook is disabled.
    #[arg(long, env = "WEBHOOK_GIVE_UP_SECONDS", default_value_t = 86_400)]
    pub webhook_give_up_seconds: u64,
    /// How hard each commit is pushed to disk.
    #[arg(long, env = "DURABILITY", value_enum, default_value_t = Durability::Full)]
    pub durability: Durability,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "LOG_JSON")]
    pub log_json: bool,
}
