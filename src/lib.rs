//! warroom: a self-hosted, real-time task board for teams of humans and AI agents.
//!
//! The path of every write is one straight line:
//! adapter (`realtime` for Socket.IO, `http` for REST) → `domain::board` (validate, check
//! drag locks) → `store` (one transaction, rules from `domain::write`) → `bus` (in sequence
//! order) → `realtime::fanout` (both seeds' events to every socket that wants them).
//! `presence` holds what lives only in memory: who is online, typing, dragging; the board
//! service shares it between instances through `domain::coordination` (in-process, or
//! `cluster` over Redis).
//! See `docs/architecture.md` for the map and its invariants.

pub mod admin;
pub mod auth;
pub mod bus;
pub mod client;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod mcp;
pub mod metrics;
pub mod presence;
pub mod ratelimit;
pub mod realtime;
pub mod stall;
pub mod store;
pub mod transport;
pub mod web;
pub mod webhooks;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::auth::Keys;
use crate::bus::{Bus, DomainEvent};
use crate::cluster::{Cluster, RedisCoordination};
use crate::config::ServeArgs;
use crate::domain::board::Board;
use crate::presence::{Presence, Signal};
use crate::ratelimit::RateLimits;

const LEASE_SWEEP: std::time::Duration = std::time::Duration::from_millis(500);
/// Silent agents are looked for every 5 s (ten lease sweeps): a minute's silence is coarse.
const AGENT_SWEEP_EVERY: u32 = 10;

/// The only board until boards ("rooms") are built; every row and room already names it.
pub const MAIN_BOARD: &str = "main";

/// The server's shared state: one cheap-to-clone handle.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub board: Board,
    pub keys: Keys,
    pub limits: RateLimits,
    /// Sockets one credential may hold open at once.
    pub connection_limit: usize,
    /// New sockets per credential and client address (`CONNECT_RATE`).
    pub connects: transport::ConnectRate,
    /// TCP connections at once (`MAX_CONNECTIONS`); `None`: from the open-file limit.
    pub max_connections: Option<usize>,
    /// Socket.IO sessions past the handshake, which the transport trusts with large messages.
    pub authenticated: Arc<transport::Authenticated>,
    /// Browser origins allowed to call the REST API; empty: same-origin only.
    pub cors_origins: Vec<String>,
    pub started: Instant,
    /// Set with `REDIS_URL`: the link to the other instances.
    pub cluster: Option<Arc<Cluster>>,
    /// How webhook deliveries are retried.
    pub webhooks: webhooks::Retries,
    /// Handed to the Socket.IO fan-out when it starts (taken once).
    events: Mutex<Option<mpsc::UnboundedReceiver<Arc<DomainEvent>>>>,
    signals: Mutex<Option<mpsc::UnboundedReceiver<Signal>>>,
    /// Held while serving; released after the store's last commit.
    lock: Mutex<Option<store::sqlite::ServerLock>>,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// What opening the store decided about the team key.
pub enum KeySource {
    Configured,
    Stored,
    /// Generated now: print it once.
    Generated(String),
}

impl App {
    /// Opens the store and assembles the service. `WAAAH_API_KEY` wins; otherwise the stored
    /// key, or a new one generated and stored.
    pub async fn open(args: &ServeArgs) -> anyhow::Result<(App, KeySource)> {
        let redis_url = args.redis_url.as_deref().map(str::trim).filter(|u| !u.is_empty());
        let target = store::Target::new(
            &args.database_path,
            args.database_url.as_deref(),
            args.database_ca_cert.as_deref(),
        )?;
        if redis_url.is_some() && !target.is_postgres() {
            anyhow::bail!(
                "REDIS_URL is set but DATABASE_URL is not: several instances share one PostgreSQL \
                 database (a SQLite file belongs to one server); set DATABASE_URL=postgres://… or unset REDIS_URL"
            );
        }
        let cluster = match redis_url {
            Some(url) => {
                let prefix = args.redis_prefix.trim();
                if prefix.is_empty() || prefix.contains(['*', '?', '[', ']']) {
                    anyhow::bail!("REDIS_PREFIX must be non-empty, without * ? [ ]");
                }
                Some(Cluster::connect(url, prefix, args.redis_ca_file.as_deref()).await?)
            }
            None => None,
        };
        let (store, lock) = store::open(&target, store::Opener::Server(args.durability)).await?;
        let (key, source) = match &args.api_key {
            Some(key) if !key.trim().is_empty() => (key.trim().to_owned(), KeySource::Configured),
            _ => match store.setting(admin::STORED_KEY).await? {
                Some(key) => (key, KeySource::Stored),
                None => {
                    let key = auth::generate_key();
                    store.set_setting(admin::STORED_KEY, &key).await.context("storing the generated key")?;
                    (key.clone(), KeySource::Generated(key))
                }
            },
        };
        let keys = Keys::new(key);
        keys.refresh(&store.tokens().await?);
        let bus = Arc::new(Bus::new());
        for board in store.boards().await? {
            bus.start_board(&board.id, store.seq(&board.id).await?);
        }
        let events = bus.subscribe();
        let (presence, signals) = Presence::new();
        let mut board =
            Board::new(store, bus, presence.clone(), std::time::Duration::from_secs(args.lease_seconds))
                .with_grace(std::time::Duration::from_millis(args.presence_grace_ms))
                .with_webhook_hosts(allowed_hosts(&args.webhook_allowed_hosts));
        if let Some(cluster) = &cluster {
            board = board.with_coordination(Arc::new(RedisCoordination::new(cluster.clone(), presence)));
        }
        let app = App(Arc::new(AppInner {
            board,
            keys,
            limits: RateLimits::new(args.rate_limit).shared(cluster.clone(), args.rate_limit),
            cluster,
            webhooks: webhooks::Retries {
                first: std::time::Duration::from_millis(args.webhook_retry_ms),
                give_up: std::time::Duration::from_secs(args.webhook_give_up_seconds),
            },
            connection_limit: args.connection_limit,
            connects: transport::ConnectRate::per_minute(args.connect_rate),
            max_connections: args.max_connections,
            authenticated: Arc::default(),
            cors_origins: args.cors_origins.clone(),
            started: Instant::now(),
            events: Mutex::new(Some(events)),
            lock: Mutex::new(lock),
            signals: Mutex::new(Some(signals)),
        }));
        Ok((app, source))
    }
}

/// Serves the dashboard, Socket.IO and REST on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // With other instances: their events and signals join this instance's streams. The tasks
    // stop with this future (also when it is dropped, as a crash would), heartbeat included.
    let cluster_tasks = match &app.cluster {
        Some(cluster) => {
            let signals = app.signals.lock().unwrap().take().expect("serve runs once");
            let (gone, agents_gone) = tokio::sync::mpsc::unbounded_channel();
            let board = app.board.clone();
            tokio::spawn(async move { board.record_agents_gone(agents_gone).await });
            let (signals, running) = cluster.start(app.board.bus().clone(), gone, signals);
            *app.signals.lock().unwrap() = Some(signals);
            tracing::info!(instance = cluster.id(), "sharing the board through Redis");
            Some(running)
        }
        None => None,
    };
    let (socket_layer, io, fanout) = realtime::layer(app.clone()).await?;
    let router = Router::new()
        .merge(http::router())
        .merge(realtime::sse::router(fanout))
        .merge(mcp::http::router())
        .method_not_allowed_fallback(|method: axum::http::Method, uri: axum::http::Uri| async move {
            error::AppError::NotFound(format!("{} does not accept {method}", uri.path()))
        })
        .fallback(web::serve)
        // Bodies are read by `http::Body`, which answers an oversized one with 413 in our shape.
        .layer(DefaultBodyLimit::max(http::BODY_LIMIT))
        .layer(socket_layer)
        .layer(cors(&app.cors_origins)?)
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app.clone());
    let sweeper = tokio::spawn(sweep(app.clone()));
    let deliverer = tokio::spawn(webhooks::deliver(app.clone()));
    let trimmer = tokio::spawn(transport::give_back_memory());
    // The listener closes first, so that clients reconnecting meanwhile are refused at once
    // instead of meeting a server without a namespace (a final `connect_error` for them).
    // Closing the transports (not a Socket.IO disconnect) then lets clients reconnect by
    // themselves to the next instance.
    let board = app.board.clone();
    let closing = async move {
        tracing::info!("shutting down: closing connections");
        // Waiting agents are answered (no task) so that their requests finish now.
        board.stop_waiting();
        io.close().await;
    };
    let gate = match app.max_connections {
        Some(max) => transport::Gate::new(max, app.authenticated.clone()),
        None => transport::Gate::from_descriptor_limit(app.authenticated.clone()),
    };
    // In-flight requests finish before this returns; their writes are committed by then.
    transport::serve(listener, router, gate, shutdown, closing).await;
    sweeper.abort();
    // A delivery cut off here is claimed for a while, then sent again (by any instance).
    deliverer.abort();
    trimmer.abort();
    // Heartbeat stopped first, so that deleting its key is the last word.
    drop(cluster_tasks);
    if let Some(cluster) = &app.cluster {
        cluster.leave().await;
    }
    app.board.close().await;
    app.lock.lock().unwrap().take();
    tracing::info!("stopped");
    Ok(())
}

/// `WEBHOOK_ALLOWED_HOSTS` as a list, `None` when unset (any host).
fn allowed_hosts(hosts: &[String]) -> Option<Vec<String>> {
    let hosts: Vec<String> = hosts.iter().map(|h| h.trim().to_owned()).filter(|h| !h.is_empty()).collect();
    (!hosts.is_empty()).then_some(hosts)
}

/// The board's clock: expired leases go back to TODO within half a second, and agents that
/// report only over REST go offline when their heartbeats stop.
async fn sweep(app: App) {
    let mut tick = tokio::time::interval(LEASE_SWEEP);
    let mut ticks: u32 = 0;
    loop {
        tick.tick().await;
        let boards = match app.board.board_ids().await {
            Ok(boards) => boards,
            Err(e) => {
                e.log("listing boards for the sweep");
                continue;
            }
        };
        ticks = ticks.wrapping_add(1);
        for board in boards {
            if let Err(e) = app.board.requeue_expired(&board).await {
                e.log("requeueing expired leases");
            }
            if ticks.is_multiple_of(AGENT_SWEEP_EVERY)
                && let Err(e) = app.board.sweep_silent_agents(&board).await
            {
                e.log("marking silent agents offline");
            }
        }
    }
}

/// Same-origin by default: browsers on other origins may call the API only if configured.
fn cors(origins: &[String]) -> anyhow::Result<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::CorsLayer;
    let origins = origins
        .iter()
        .filter(|o| !o.trim().is_empty())
        .map(|o| HeaderValue::from_str(o.trim()).with_context(|| format!("CORS origin {o:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(http::NAME_HEADER),
        ]))
}

/// Headers that keep the dashboard from being framed, sniffed or made to run foreign script.
async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    // No inline script; styles may be inline (React and canvas-confetti set them from script).
    // canvas-confetti draws in a worker it makes from a blob: URL, hence `worker-src blob:`.
    const CSP: &str = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; \
        style-src 'self' 'unsafe-inline'; \
        img-src 'self' data: blob:; connect-src 'self' ws: wss:; font-src 'self' data:; \
        frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}
