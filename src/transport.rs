//! The HTTP server loop: accepting TCP connections within a file-descriptor budget, timing out
//! the ones that never send a request, and bounding the Socket.IO sessions nobody has
//! authenticated yet. Everything a client without a key can make the server hold is bounded here.
//!
//! `axum::serve` was replaced by this loop because it exposes no header-read timeout (hyper's
//! needs a timer it does not set), no connection limit and no remote address for the handshake.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use crate::stall::{Guarded, WRITE_STALL};

/// How long a connection may take to send a complete request head: its first one (a connection
/// that sends nothing at all is closed after this) and every later one on a kept-alive connection.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Places for Socket.IO sessions opened but not yet authenticated. A real client authenticates
/// in one round trip, so they only run out in a flood; then each new handshake takes the place
/// of the oldest (a WebSocket that held it is closed), so a flood cannot lock a keyed client out
/// for the connect timeout: a place lasts PENDING_HANDSHAKES handshakes, far longer than a round trip.
pub const PENDING_HANDSHAKES: usize = 512;
/// Unauthenticated sessions alive at once, with or without a place: a polling session that lost
/// its place, or a WebSocket one whose connection closed, lives on until Socket.IO's connect
/// timeout (socketioxide offers no way to drop it earlier), so this bounds their memory (about
/// 10 KB each with the flood's connections, measured: 2,048 raised RSS by 20 MB). Past it, handshakes get 503 and the official client
/// retries with its backoff.
pub const UNAUTHENTICATED_SESSIONS: usize = 4096;
/// Bytes a connection may send while its new Socket.IO session is not authenticated: the
/// handshake is far smaller (see `realtime::HANDSHAKE_LIMIT`), and a sender without a key must
/// not make the server buffer a message of the size an authenticated client may send.
const UNAUTHENTICATED_BYTES: usize = 64 * 1024;
/// Connections that have not sent a complete request yet, at once: each holds hyper's read
/// buffer (~20 KB measured), so a slowloris flood would otherwise cost memory up to the whole
/// connection budget. Past this, the oldest of them is closed for the newcomer.
const FRESH_LIMIT: usize = 2048;
/// File descriptors kept out of the connection budget: the database, its WAL, logs, Redis and
/// the listener itself need some, and running out of them stops everything.
const DESCRIPTOR_RESERVE: u64 = 256;

/// The limits of one server: how many connections, and which of them may be closed to make room.
pub struct Gate {
    connections: Arc<Semaphore>,
    capacity: usize,
    /// Connections that have not sent a complete request yet, oldest first. When every
    /// connection slot is taken, the oldest of these is closed for the newcomer: an idle flood
    /// then only ever pushes out its own connections, and /api/health still gets in.
    fresh: Mutex<BTreeMap<u64, Arc<Notify>>>,
    next_id: AtomicU64,
    handshakes: Arc<Semaphore>,
    sessions: Arc<Semaphore>,
    /// Handshakes holding a place, oldest first (entries settled meanwhile are skipped).
    waiting: Mutex<VecDeque<Weak<Mutex<Pending>>>>,
    authenticated: Arc<Authenticated>,
}

impl Gate {
    /// Up to `capacity` connections at once.
    pub fn new(capacity: usize, authenticated: Arc<Authenticated>) -> Arc<Gate> {
        Arc::new(Gate {
            authenticated,
            connections: Arc::new(Semaphore::new(capacity)),
            capacity,
            fresh: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            handshakes: Arc::new(Semaphore::new(PENDING_HANDSHAKES)),
            sessions: Arc::new(Semaphore::new(UNAUTHENTICATED_SESSIONS)),
            waiting: Mutex::new(VecDeque::new()),
        })
    }

    /// As many connections as the process may open files, less a reserve; the soft limit is
    /// first raised to the hard one (most systems start processes at 1,024 of a far higher hard limit).
    pub fn from_descriptor_limit(authenticated: Arc<Authenticated>) -> Arc<Gate> {
        let files = raise_descriptor_limit();
        let capacity = files.saturating_sub(DESCRIPTOR_RESERVE).max(DESCRIPTOR_RESERVE);
        tracing::debug!(files, capacity, "connection budget");
        // Within what a semaphore can count, should the hard limit be "unlimited".
        Gate::new(usize::try_from(capacity.min(1 << 24)).unwrap_or(1 << 24), authenticated)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.capacity - self.connections.available_permits()
    }

    /// A slot for a new connection, closing the oldest connection without a request if all are taken.
    async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.connections.clone().try_acquire_owned() {
            return Some(permit);
        }
        let oldest = self.fresh.lock().unwrap().pop_first();
        let (_, evict) = oldest?;
        evict.notify_one();
        // The evicted connection's task drops it at once; its slot comes back within a moment.
        tokio::time::timeout(Duration::from_secs(1), self.connections.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }

    fn enrol(&self) -> (u64, Arc<Notify>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let evict = Arc::new(Notify::new());
        let mut fresh = self.fresh.lock().unwrap();
        fresh.insert(id, evict.clone());
        if fresh.len() > FRESH_LIMIT
            && let Some((_, oldest)) = fresh.pop_first()
        {
            oldest.notify_one();
        }
        (id, evict)
    }

    fn graduate(&self, id: u64) {
        self.fresh.lock().unwrap().remove(&id);
    }

    /// A place for a new Socket.IO session: a free one, else the oldest holder's; none when
    /// too many unauthenticated sessions are alive.
    fn pending_handshake(&self) -> Option<PendingHandshake> {
        let session = self.sessions.clone().try_acquire_owned().ok()?;
        let place = match self.handshakes.clone().try_acquire_owned() {
            Ok(place) => place,
            Err(_) => self.evict_oldest()?,
        };
        let pending = Arc::new(Mutex::new(Pending {
            place: Some(place),
            session: Some(session),
            ..Pending::default()
        }));
        let mut waiting = self.waiting.lock().unwrap();
        // Settled handshakes leave their entries behind; sweep them before they outnumber the places.
        if waiting.len() >= 2 * PENDING_HANDSHAKES {
            waiting.retain(|entry| entry.upgrade().is_some_and(|p| p.lock().unwrap().place.is_some()));
        }
        waiting.push_back(Arc::downgrade(&pending));
        Some(PendingHandshake(pending))
    }

    fn evict_oldest(&self) -> Option<OwnedSemaphorePermit> {
        let mut waiting = self.waiting.lock().unwrap();
        while let Some(entry) = waiting.pop_front() {
            let Some(entry) = entry.upgrade() else { continue };
            let mut pending = entry.lock().unwrap();
            if let Some(place) = pending.place.take() {
                pending.evicted = true;
                if let Some(reader) = pending.reader.take() {
                    reader.wake();
                }
                return Some(place);
            }
        }
        None
    }
}

/// A new Socket.IO session's place among the unauthenticated ones. It travels in the handshake
/// request's extensions, which the session keeps, so it is released by `authenticate` on success
/// or else when the session is gone (closed, or timed out by Socket.IO's connect timeout).
#[derive(Clone)]
pub struct PendingHandshake(Arc<Mutex<Pending>>);

#[derive(Default)]
struct Pending {
    place: Option<OwnedSemaphorePermit>,
    session: Option<OwnedSemaphorePermit>,
    /// A newer handshake took its place: the connection is closed at its next read.
    evicted: bool,
    /// The connection's reader while it waits for data, woken to see the eviction.
    reader: Option<Waker>,
}

/// Where a handshake stands, as its connection's reads see it.
enum Standing {
    Waiting,
    Settled,
    Evicted,
}

impl PendingHandshake {
    /// It no longer counts against the pending ones: authenticated, or its connection is gone.
    pub fn settle(&self) {
        self.vacate();
        self.0.lock().unwrap().session = None;
    }

    /// Its connection is gone: the place is free for a newcomer, while the session (kept by
    /// Socket.IO until its connect timeout) still counts until it is dropped with this.
    fn vacate(&self) {
        let mut pending = self.0.lock().unwrap();
        pending.place = None;
        pending.reader = None;
    }

    /// Where it stands; while waiting, `reader` is woken should it be evicted.
    fn standing(&self, reader: &Waker) -> Standing {
        let mut pending = self.0.lock().unwrap();
        if pending.evicted {
            Standing::Evicted
        } else if pending.session.is_none() {
            Standing::Settled
        } else {
            if !pending.reader.as_ref().is_some_and(|w| w.will_wake(reader)) {
                pending.reader = Some(reader.clone());
            }
            Standing::Waiting
        }
    }
}

/// What a connection has sent since it opened a Socket.IO session that is not authenticated yet.
struct Budget {
    pending: PendingHandshake,
    read: usize,
    /// The session runs on this connection (a WebSocket handshake), so it cannot outlive it.
    bound: bool,
}

/// Shared by a connection's stream and its request handler.
type Unauthenticated = Arc<Mutex<Option<Budget>>>;

/// The Socket.IO sessions that have authenticated, by session id: a polling request of any other
/// session may carry only a handshake-sized body. The WebSocket transport is bounded by `Budget`.
#[derive(Default)]
pub struct Authenticated(Mutex<HashSet<String>>);

impl Authenticated {
    /// Records an authenticated session until the returned pass is dropped (with its socket).
    pub fn admit(self: &Arc<Self>, sid: String) -> SessionPass {
        self.0.lock().unwrap().insert(sid.clone());
        SessionPass { sessions: self.clone(), sid }
    }

    fn contains(&self, sid: &str) -> bool {
        self.0.lock().unwrap().contains(sid)
    }
}

/// An authenticated session's entry in `Authenticated`.
pub struct SessionPass {
    sessions: Arc<Authenticated>,
    sid: String,
}

impl Drop for SessionPass {
    fn drop(&mut self) {
        self.sessions.0.lock().unwrap().remove(&self.sid);
    }
}

/// A TCP stream that holds its connection slot for as long as it lives, including after an
/// upgrade to WebSocket hands it over to the Socket.IO transport.
struct Counted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
    unauthenticated: Unauthenticated,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        let mut unauthenticated = self.unauthenticated.lock().unwrap();
        if let Some(budget) = unauthenticated.as_mut() {
            match budget.pending.standing(cx.waker()) {
                Standing::Settled => *unauthenticated = None,
                Standing::Evicted => {
                    return Poll::Ready(Err(io::Error::other("a newer handshake took this one's place")));
                }
                Standing::Waiting => {
                    budget.read += read;
                    if budget.read > UNAUTHENTICATED_BYTES {
                        return Poll::Ready(Err(io::Error::other("too much data before authenticating")));
                    }
                }
            }
        }
        polled
    }
}

/// A WebSocket session that never authenticated ends with its connection: its place among the
/// pending handshakes is freed now, not when Socket.IO's connect timeout drops the session.
/// Without this, WebSockets opened and dropped at 100 a second held every place (measured: a
/// keyed client's handshake refused during such a flood). The session itself still counts
/// among the unauthenticated ones until it is dropped: socketioxide keeps it, memory and all,
/// until its connect timeout (see `realtime::CONNECT_TIMEOUT`), so counting it is what bounds
/// a WebSocket flood's memory.
impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(budget) = self.unauthenticated.lock().unwrap().take()
            && budget.bound
        {
            budget.pending.vacate();
        }
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, runs `closing`
/// (which closes the long-lived transports) and lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    gate: Arc<Gate>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    closing: impl Future<Output = ()>,
) {
    // Its only receiver is dropped when shutdown begins: the loop and every connection (each
    // with a clone of the sender) see `closed()` resolve and finish gracefully.
    let (stopping, stop_signal) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_signal);
    });
    // Every connection task holds a receiver; the loop ends when all are gone.
    let (finished, open) = watch::channel(());
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&gate, e).await;
                    continue;
                }
            },
            _ = stopping.closed() => break,
        };
        // Events are small and must leave at once, not wait for Nagle's timer (measured: a
        // small sync:full took 43 ms without it, 0.2 ms with it).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let Some(slot) = gate.admit().await else {
            // Every slot is held by a connection that is in use: refuse this one at once
            // rather than leave it waiting in the backlog.
            tracing::debug!(%remote, "connection refused: every connection slot is in use");
            continue;
        };
        let unauthenticated = Unauthenticated::default();
        let counted = Counted { stream, _slot: slot, unauthenticated: unauthenticated.clone() };
        // A peer that stops reading is cut off (`stall`), not kept with what was queued for it.
        let io = TokioIo::new(Guarded::new(counted, WRITE_STALL));
        let watched = (stopping.clone(), open.clone());
        tokio::spawn(connection(io, remote, unauthenticated, router.clone(), gate.clone(), watched));
    }
    // Closed now, not when the last connection ends: clients reconnecting meanwhile are refused
    // at once and retry, instead of waiting in a backlog nobody accepts from.
    drop(listener);
    closing.await;
    drop(open);
    finished.closed().await;
}

/// Out of file descriptors: close the oldest idle connection and try again, instead of spinning.
async fn accept_failed(gate: &Gate, e: io::Error) {
    tracing::warn!(error = %e, "accepting a connection");
    if let Some((_, evict)) = gate.fresh.lock().unwrap().pop_first() {
        evict.notify_one();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

async fn connection(
    io: TokioIo<Guarded<Counted>>,
    remote: SocketAddr,
    unauthenticated: Unauthenticated,
    router: Router,
    gate: Arc<Gate>,
    (stopping, _open): (watch::Sender<()>, watch::Receiver<()>),
) {
    let (id, evict) = gate.enrol();
    let served = Arc::new(AtomicBool::new(false));
    let service = {
        let (gate, served) = (gate.clone(), served.clone());
        hyper::service::service_fn(move |req: Request<Incoming>| {
            if !served.swap(true, Ordering::Relaxed) {
                gate.graduate(id);
            }
            let (router, gate, unauthenticated) = (router.clone(), gate.clone(), unauthenticated.clone());
            async move { Ok::<_, Infallible>(handle(req, remote, &unauthenticated, router, &gate).await) }
        })
    };
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    builder.http2().timer(TokioTimer::new()).enable_connect_protocol();
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    // hyper's header timeout starts only once it knows the protocol; this one covers a
    // connection that sends nothing at all, so hyper never gets that far.
    let first_request = tokio::time::sleep(HEADER_TIMEOUT);
    tokio::pin!(first_request);
    let mut graceful = false;
    let mut awaiting_first = true;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(error = %e, %remote, "connection ended");
                }
                break;
            }
            _ = stopping.closed(), if !graceful => {
                graceful = true;
                conn.as_mut().graceful_shutdown();
            }
            // A branch's condition is read when `select!` starts, not when the timer fires: a
            // request that arrived meanwhile (a long poll, a Server-Sent Events stream) must
            // not be cut off by it.
            _ = &mut first_request, if awaiting_first => {
                awaiting_first = false;
                if served.load(Ordering::Relaxed) {
                    continue;
                }
                tracing::debug!(%remote, "no request within the header timeout: closing");
                break;
            }
            _ = evict.notified() => {
                tracing::debug!(%remote, "idle connection closed to make room");
                break;
            }
        }
    }
    gate.graduate(id);
}

async fn handle(
    mut req: Request<Incoming>,
    remote: SocketAddr,
    unauthenticated: &Unauthenticated,
    router: Router,
    gate: &Gate,
) -> Response<axum::body::Body> {
    req.extensions_mut().insert(ConnectInfo(remote));
    // Only the requests whose parts a session keeps: the one that opens it and a WebSocket
    // upgrade; a polling session's later requests are dropped once answered.
    let new_session = is_new_socket_session(&req);
    if new_session || (socket_session(&req).is_some() && is_websocket(&req)) {
        detach_from_read_buffer(&mut req);
    }
    if new_session {
        match gate.pending_handshake() {
            Some(pending) => {
                let bound = is_websocket(&req);
                *unauthenticated.lock().unwrap() = Some(Budget { pending: pending.clone(), read: 0, bound });
                req.extensions_mut().insert(pending);
            }
            None => {
                tracing::debug!(%remote, "Socket.IO handshake refused: too many unauthenticated sessions");
                return Response::builder()
                    .status(StatusCode::SERVICE_UNAVAILABLE)
                    .header("retry-after", "1")
                    .body(axum::body::Body::from("too many connections are being opened; retry shortly"))
                    .expect("a static response");
            }
        }
    }
    let req = match socket_session(&req) {
        Some(sid) if !gate.authenticated.contains(sid) => {
            req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, UNAUTHENTICATED_BYTES)))
        }
        _ => req.map(axum::body::Body::new),
    };
    router.oneshot(req).await.unwrap_or_else(|e: Infallible| match e {})
}

/// A Socket.IO session keeps the parts of the request that opened it (or upgraded it) for its
/// whole life, and hyper parses a request's URI and header values as slices of the connection's
/// read buffer, so each session kept that whole buffer alive (15.9 KiB per idle socket, measured
/// with massif). Copies of them let the buffer go as soon as the request has been read.
fn detach_from_read_buffer<B>(req: &mut Request<B>) {
    if let Ok(uri) = req.uri().to_string().parse() {
        *req.uri_mut() = uri;
    }
    for value in req.headers_mut().values_mut() {
        if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
    }
}

/// The Socket.IO session a request belongs to, if it names one.
fn socket_session<B>(req: &Request<B>) -> Option<&str> {
    if !req.uri().path().starts_with("/socket.io/") {
        return None;
    }
    req.uri().query()?.split('&').find_map(|pair| pair.strip_prefix("sid="))
}

/// A Socket.IO request on the WebSocket transport (a handshake or an upgrade).
fn is_websocket<B>(req: &Request<B>) -> bool {
    req.uri().query().is_some_and(|q| q.split('&').any(|p| p == "transport=websocket"))
}

/// A Socket.IO handshake: a request to the endpoint that names no session yet.
fn is_new_socket_session<B>(req: &Request<B>) -> bool {
    req.uri().path().starts_with("/socket.io/") && socket_session(req).is_none()
}

/// How often freed memory is handed back to the system (see `give_back_memory`).
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// glibc's malloc keeps what a burst of connections freed in its per-thread arenas: after a
/// keyless flood RSS stayed ~60 % above its baseline for good (measured; mimalloc did no better).
/// `malloc_trim` returns the free pages of every arena; with a heap of tens of MB it takes well
/// under a millisecond.
pub async fn give_back_memory() {
    let mut tick = tokio::time::interval(TRIM_EVERY);
    loop {
        tick.tick().await;
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only touches the allocator's own free lists.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// Raises the soft limit of open files to the hard limit and returns the limit in force.
#[cfg(unix)]
fn raise_descriptor_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    }
}

#[cfg(not(unix))]
fn raise_descriptor_limit() -> u64 {
    8192
}

/// New sockets per credential and client address (`CONNECT_RATE` a minute, bursts of half a
/// minute's worth): a client reconnecting in a loop is refused, while a team behind one address
/// on the team key, all reconnecting after a restart, is not. Keyed by both so that one noisy
/// address does not lock a credential out everywhere, nor one credential a shared address.
pub struct ConnectRate(Option<governor::DefaultKeyedRateLimiter<(String, std::net::IpAddr)>>);

impl ConnectRate {
    /// `per_minute` 0 turns the limit off.
    pub fn per_minute(per_minute: u32) -> ConnectRate {
        ConnectRate(std::num::NonZeroU32::new(per_minute).map(|rate| {
            let burst = std::num::NonZeroU32::new(per_minute / 2).unwrap_or(rate);
            governor::RateLimiter::keyed(governor::Quota::per_minute(rate).allow_burst(burst))
        }))
    }

    /// Whether one more socket may open now.
    pub fn admit(&self, credential: &str, address: std::net::IpAddr) -> bool {
        match &self.0 {
            Some(limiter) => limiter.check_key(&(credential.to_owned(), address)).is_ok(),
            None => true,
        }
    }
}
