//! The Socket.IO adapter: handshake authentication, the command dispatcher, and the fan-out.
//!
//! Handlers translate between packets and the board service; they never touch the store or
//! decide who receives what (that is `fanout`).

pub mod fanout;
pub mod sse;
pub mod subscriptions;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use socketioxide::handler::{ConnectHandler, FromConnectParts};
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::Socket;
use socketioxide::{ParserError, SocketIo};

use self::fanout::{Fanout, Renumbering, SyncRequest, board_room, connection_room, person_room, seer_rooms};
use self::subscriptions::{Patterns, Rooms};
use crate::App;
use crate::auth::Credential;
use crate::domain::agent::ReportAgent;
use crate::domain::board::{Actor, TaskRef};
use crate::domain::boards::{self, CreateBoard, UpdateBoard};
use crate::domain::cards::{CreateComment, CreateLabel, UpdateComment, UpdateLabel};
use crate::domain::input::{self, Fields, Input};
use crate::domain::notifications::ReadNotifications;
use crate::domain::task::{ClaimTask, CreateTask, NextTask, ReleaseTask, ReportProgress, UpdateTask};
use crate::error::{AppError, AppResult};
use crate::presence::{Seat, User};
use crate::ratelimit::Bucket;
use crate::transport::{PendingHandshake, SessionPass};

/// SPEC: a socket message over 1 MiB is refused with PAYLOAD_TOO_LARGE.
pub const MESSAGE_LIMIT: usize = 1024 * 1024;
/// What the transport accepts at all. Messages between the two limits get a proper refusal;
/// beyond this the transport cannot read them and closes only that socket.
const TRANSPORT_LIMIT: u64 = 8 * 1024 * 1024;
/// The handshake's `auth` is a key, a name, up to 32 patterns and two short fields: far under
/// this. Anything larger is refused before it is parsed, since parsing is what costs memory
/// (a 7.8 MB `auth` took ~120 MB as a JSON tree) and the sender has not shown a key yet.
const HANDSHAKE_LIMIT: usize = 16 * 1024;
/// How long a transport may stay open without a namespace connection (Socket.IO's default is
/// 45 s). The official client asks for it in its first message, one round trip after the
/// handshake; a refused client's transport is closed at this point too, so keyless sessions
/// live at most this long, and this with `transport::UNAUTHENTICATED_SESSIONS` is the keyless
/// handshake rate the server absorbs without refusing anyone (4,096 / 2 s ≈ 2,000 a second).
/// It also bounds a flood's memory: socketioxide's timer keeps every session it started for,
/// even one whose connection is already gone, until it fires (the timer holds the session and
/// the session holds the timer's cancel handle), so WebSockets opened and dropped cost their
/// rate × this × ~12 KB (release; measured 257 MB at 4,400 a second with 5 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One authenticated socket's settings, fixed at the handshake except its subscription.
struct Session {
    board: String,
    credential: Credential,
    name: Option<String>,
    last_seq: Option<i64>,
    patterns: Mutex<Option<Patterns>>,
    renumbering: Renumbering,
    room: Mutex<String>,
    bucket: Bucket,
    /// Counted under the credential's connection limit since the handshake; `connected` hands
    /// it to presence.
    seat: Mutex<Option<Seat>>,
    /// Lets the transport carry this session's large polling messages, for as long as it lives.
    _pass: SessionPass,
    /// Set when the socket disconnects: commands still running for it (an agent waiting for
    /// work) stop waiting. socketioxide runs each command in its own task and does not cancel
    /// them when the socket goes, so this is how a disconnect reaches them.
    closed: tokio::sync::watch::Sender<bool>,
}

/// See `layer`: 1 KiB holds any ordinary command in one read.
const WS_READ_BUFFER: usize = 1024;

pub struct Realtime {
    app: App,
    fanout: Arc<Fanout>,
    rooms: Arc<Rooms>,
}

/// Builds the Socket.IO layer and starts the fan-out. The `SocketIo` handle closes every
/// connection at shutdown; the fan-out also feeds the Server-Sent Events streams (`sse`).
pub async fn layer(app: App) -> AppResult<(SocketIoLayer, SocketIo, Arc<Fanout>)> {
    let (layer, io) = SocketIo::builder()
        .max_payload(TRANSPORT_LIMIT)
        .ws_max_message_size(TRANSPORT_LIMIT as usize)
        // tungstenite keeps a read buffer of this size per WebSocket for its whole life; the
        // default (4 KiB) is a fifth of an idle socket. Commands are a few hundred bytes, and
        // a larger message still arrives whole (the buffer grows for it, then reads in steps).
        .ws_read_buffer_size(WS_READ_BUFFER)
        // A slow reader's bound and what happens past it: see `QUEUE_PACKETS`.
        .max_buffer_size(fanout::QUEUE_PACKETS)
        .connect_timeout(CONNECT_TIMEOUT)
        .build_layer();
    let rooms = Arc::new(Rooms::new());
    let start = app.board.boards_with_seq().await?.into_iter().collect();
    let fanout = Fanout::new(io.clone(), app.board.clone(), rooms.clone(), start);
    let events = app.events.lock().unwrap().take().expect("layer built once");
    let signals = app.signals.lock().unwrap().take().expect("layer built once");
    let rt = Arc::new(Realtime { app: app.clone(), fanout: fanout.clone(), rooms });
    let handle = io.clone();
    let (on_connect, check) = (rt.clone(), rt);
    io.ns(
        "/",
        (move |socket: SocketRef| {
            let rt = on_connect.clone();
            async move { rt.connected(socket).await }
        })
        .with(move |socket: SocketRef, HandshakeAuth(auth): HandshakeAuth| {
            let rt = check.clone();
            async move { rt.authenticate(&socket, auth).await }
        }),
    );
    // Only once the namespace exists: emitting to it before would panic, and with other
    // instances (REDIS_URL) their signals can arrive before any socket of this one.
    tokio::spawn(fanout.clone().run(events));
    tokio::spawn(fanout.clone().run_signals(signals));
    tokio::spawn(refresh_tokens(app, io.clone()));
    Ok((layer, handle, fanout))
}

/// Why a handshake was refused: the text becomes `connect_error.message`.
#[derive(Debug)]
struct Refusal(String);

/// The handshake's `auth` as JSON; `None` when it is over `HANDSHAKE_LIMIT` (it is then not parsed).
struct HandshakeAuth(Option<Result<Value, ParserError>>);

impl<A: Adapter> FromConnectParts<A> for HandshakeAuth {
    type Error = Infallible;
    fn from_connect_parts(
        s: &Arc<Socket<A>>,
        auth: &Option<socketioxide::handler::Value>,
    ) -> Result<Self, Infallible> {
        if auth.as_ref().is_some_and(|raw| raw.len() > HANDSHAKE_LIMIT) {
            return Ok(HandshakeAuth(None));
        }
        let TryData(auth) = TryData::<Value>::from_connect_parts(s, auth)?;
        Ok(HandshakeAuth(Some(auth)))
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Realtime {
    /// Runs before the connection exists: a refused client receives nothing but `connect_error`.
    async fn authenticate(
        &self,
        socket: &SocketRef,
        auth: Option<Result<Value, ParserError>>,
    ) -> Result<(), Refusal> {
        let unauthorized = || Refusal("Unauthorized".into());
        let mut auth = match auth {
            Some(Ok(Value::Object(map))) => map,
            None => {
                return Err(Refusal(format!(
                    "PAYLOAD_TOO_LARGE: the handshake is over {HANDSHAKE_LIMIT} bytes"
                )));
            }
            _ => return Err(unauthorized()),
        };
        let credential = match auth.remove("apiKey") {
            Some(Value::String(key)) => self.app.keys.identify(&key).ok_or_else(unauthorized)?,
            _ => return Err(unauthorized()),
        };
        let parts = socket.req_parts();
        // Our server loop records every request's peer; only a server built otherwise lacks it.
        if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
            && !self.app.connects.admit(&credential.id, peer.ip())
        {
            return Err(Refusal("RATE_LIMITED: too many new connections; retry in a few seconds".into()));
        }
        let invalid = |e: AppError| Refusal(format!("VALIDATION_ERROR: {e}"));
        let mut name = auth
            .remove("name")
            .filter(|v| !v.is_null())
            .map(|v| input::name(v, "name"))
            .transpose()
            .map_err(invalid)?;
        // A person's token fixes their name: nobody joins as someone else.
        if let Some(person) = &credential.person {
            if name.as_ref().is_some_and(|n| input::person_key(n) != input::person_key(person)) {
                return Err(Refusal(format!("FORBIDDEN: this token belongs to {person}")));
            }
            name = Some(person.clone());
        }
        let patterns = auth
            .remove("subscribe")
            .filter(|v| !v.is_null())
            .map(Patterns::parse)
            .transpose()
            .map_err(invalid)?;
        let last_seq = auth
            .remove("lastSeq")
            .filter(|v| !v.is_null())
            .map(|v| input::non_negative_int(v, "lastSeq"))
            .transpose()
            .map_err(invalid)?;
        let renumbering = renumbering(auth.remove("batchShifts")).map_err(invalid)?;
        let board = match auth.remove("board") {
            None | Some(Value::Null) => crate::MAIN_BOARD.to_owned(),
            Some(v) => boards::board_id(v, "board").map_err(invalid)?,
        };
        credential.check_board(&board).map_err(|e| Refusal(format!("FORBIDDEN: {e}")))?;
        match self.app.board.board_exists(&board).await {
            Ok(true) => {}
            Ok(false) => return Err(Refusal(format!("BOARD_NOT_FOUND: {}", AppError::BoardNotFound(board)))),
            Err(e) => {
                e.log("reading a board at a handshake");
                return Err(Refusal(format!("INTERNAL: {e}")));
            }
        }
        if let Some(patterns) = &patterns {
            self.rooms.admits(&board, &credential.id, patterns).map_err(invalid)?;
        }
        let seat =
            self.app.board.reserve_seat(&credential.id, self.app.connection_limit).ok_or_else(|| {
                Refusal(format!(
                    "RATE_LIMITED: at most {} connections per credential",
                    self.app.connection_limit
                ))
            })?;
        if let Some(pending) = parts.extensions.get::<PendingHandshake>() {
            pending.settle();
        }
        let bucket = self.app.limits.socket_bucket(&credential.id, client_address(socket));
        socket.extensions.insert(Arc::new(Session {
            board,
            credential,
            name,
            last_seq,
            patterns: Mutex::new(patterns),
            renumbering,
            room: Mutex::new(String::new()),
            bucket,
            seat: Mutex::new(Some(seat)),
            _pass: self.app.authenticated.admit(socket.id.to_string()),
            closed: tokio::sync::watch::Sender::new(false),
        }));
        Ok(())
    }

    async fn connected(self: Arc<Self>, socket: SocketRef) {
        let Some(session) = socket.extensions.get::<Arc<Session>>() else {
            return;
        };
        let conn = socket.id.to_string();
        // Handlers first: a client may send a command as soon as it sees the connection.
        let rt = self.clone();
        socket.on_fallback(
            move |socket: SocketRef, Event(event): Event, TryData(data): TryData<Value>, ack: AckSender| {
                let rt = rt.clone();
                async move { rt.dispatch(socket, event, data, ack).await }
            },
        );
        let rt = self.clone();
        socket.on_disconnect(move |socket: SocketRef| {
            let rt = rt.clone();
            async move {
                if let Some(session) = socket.extensions.get::<Arc<Session>>() {
                    session.closed.send_replace(true);
                    rt.rooms.leave(&session.room.lock().unwrap(), &session.credential.id);
                }
                if let Err(e) = rt.app.board.disconnect(&socket.id.to_string()).await {
                    e.log("settling a disconnect");
                }
            }
        });
        let Some(seat) = session.seat.lock().unwrap().take() else {
            return;
        };
        self.app.board.open_connection(&conn, &session.board, seat);
        socket.join(connection_room(&conn));
        socket.join(credential_room(&session.credential.id));
        socket.join(board_room(&session.board));
        // Before its patterns' room (in `sync`): until then it is sent nothing anyway.
        socket.join(session.renumbering.room(&session.board));
        socket.join(seer_rooms(session.credential.boards.as_deref()));
        // Authenticated against the tokens as they were: if the revocation was read since, the
        // sweep of the credential's room may have run before this socket joined it. Joined
        // first, checked second: either the sweep finds it or this check does.
        if !self.app.keys.is_live(&session.credential) {
            let _ = socket.disconnect();
            return;
        }
        let arrival = match session.name.as_deref() {
            Some(name) => {
                socket.join(person_room(&input::person_key(name)));
                Some(self.app.board.arrive(&session.board, &conn, name).await)
            }
            None => None,
        };
        let patterns = session.patterns.lock().unwrap().clone();
        let room = match self.rooms.enter(&session.board, &session.credential.id, patterns.as_ref()) {
            Ok(room) => room,
            // Another socket of the credential took the last place since the handshake.
            Err(e) => {
                let _ = socket.emit("error", &e.body());
                let _ = socket.disconnect();
                return;
            }
        };
        *session.room.lock().unwrap() = room.clone();
        let synced = async {
            let boards = self.app.board.boards_for(session.credential.boards.as_deref()).await?;
            let unread = match session.name.as_deref() {
                Some(name) => self.app.board.unread_notifications(name).await?,
                None => 0,
            };
            let req = SyncRequest {
                board: &session.board,
                last_seq: session.last_seq,
                patterns: patterns.as_ref(),
                renumbering: session.renumbering,
                room,
                boards,
                unread,
            };
            self.fanout.sync(&socket, req).await
        };
        if let Err(e) = synced.await {
            e.log("syncing a new socket");
            let _ = socket.emit("error", &e.body());
        }
        // `auth.name` counts as a user:join, announced once the socket is in sync.
        if let Some(arrival) = arrival
            && let Err(e) = arrival.announce().await
        {
            e.log("announcing a join");
        }
    }

    /// Every command goes through here: rate limit, size limit, parse, run, answer.
    async fn dispatch(
        &self,
        socket: SocketRef,
        event: String,
        data: Result<Value, ParserError>,
        ack: AckSender,
    ) {
        let Some(session) = socket.extensions.get::<Arc<Session>>() else {
            return;
        };
        let started = std::time::Instant::now();
        let outcome = self.run(&socket, &session, &event, data).await;
        let label = Command::parse(&event).map_or("unknown", Command::name);
        crate::metrics::command_done(label, started.elapsed());
        match outcome {
            Ok(reply) => {
                let _ = ack.send(&reply);
            }
            Err(err) => {
                crate::metrics::error_answered(err.code());
                err.log(&event);
                let body = err.body();
                let _ = ack.send(&json!({ "ok": false, "error": body }));
                let _ = socket.emit("error", &body);
            }
        }
    }

    async fn run(
        &self,
        socket: &SocketRef,
        session: &Session,
        event: &str,
        data: Result<Value, ParserError>,
    ) -> AppResult<Value> {
        // A revoked token writes nothing more, even before the sweep reaches its socket.
        if !self.app.keys.is_live(&session.credential) {
            return Err(AppError::Unauthorized);
        }
        session.bucket.check()?;
        let data = match data {
            Ok(data) => data,
            // A command emitted with no argument at all (`emit("typing:start", ack)`) is `{}`.
            // The parser reports that only through its message, hence the string match.
            Err(e) if e.to_string().contains("first element not found") => Value::Null,
            Err(e) => {
                return Err(AppError::validation(format!("the payload is not valid JSON: {e}")));
            }
        };
        if serialized_len(&data) > MESSAGE_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        let Some(command) = Command::parse(event) else {
            let shown: String = event.chars().take(64).collect();
            return Err(AppError::validation(format!("Unknown command `{shown}`")));
        };
        let conn = socket.id.to_string();
        let board = &self.app.board;
        let actor = Actor {
            name: board.name_of(&conn),
            credential: session.credential.id.clone(),
            connection: Some(conn.clone()),
            role: session.credential.role,
            scope: session.credential.boards.clone(),
        };
        let b = session.board.as_str();
        Ok(match command {
            Command::UserJoin => {
                let before = board.name_of(&conn);
                let name = board.join(b, &conn, session.credential.person.as_deref(), data).await?;
                // Its notifications follow the name.
                socket.leave(person_room(&input::person_key(&before)));
                socket.join(person_room(&input::person_key(&name)));
                json!({ "ok": true, "user": User::online(&name) })
            }
            Command::TaskCreate => {
                json!({ "ok": true, "task": board.create_task(b, &actor, CreateTask::parse(data)?).await? })
            }
            Command::TaskUpdate => {
                json!({ "ok": true, "task": board.update_task(b, &actor, TaskRef::Payload, UpdateTask::parse(data)?).await? })
            }
            Command::TaskMove => json!({ "ok": true, "task": board.move_task(b, &actor, data).await? }),
            Command::TaskDelete => {
                board.delete_task(b, &actor, TaskRef::Payload, data).await?;
                json!({ "ok": true })
            }
            Command::DragStart => {
                board.start_drag(b, &actor, &conn, data).await?;
                json!({ "ok": true })
            }
            Command::DragEnd => {
                board.release_drag(b, &conn, data).await?;
                json!({ "ok": true })
            }
            Command::TypingStart | Command::TypingStop => {
                board.typing(&actor, &conn, data, command == Command::TypingStart)?;
                json!({ "ok": true })
            }
            Command::TaskClaim => {
                json!({ "ok": true, "task": board.claim_task(b, &actor, TaskRef::Payload, ClaimTask::parse(data)?).await? })
            }
            Command::TaskNext => {
                let mut closed = session.closed.subscribe();
                let disconnect = async move {
                    // An error means the session itself is gone: closed too.
                    let _ = closed.wait_for(|closed| *closed).await;
                };
                json!({ "ok": true, "task": board.next_task_until(b, &actor, NextTask::parse(data)?, disconnect).await? })
            }
            Command::TaskRelease => {
                json!({ "ok": true, "task": board.release_task(b, &actor, TaskRef::Payload, ReleaseTask::parse(data)?).await? })
            }
            Command::TaskProgress => {
                json!({ "ok": true, "task": board.report_progress(b, &actor, TaskRef::Payload, ReportProgress::parse(data)?).await? })
            }
            Command::AgentStatus => {
                json!({ "ok": true, "agent": board.report_agent(b, &actor, ReportAgent::parse(data)?).await? })
            }
            Command::LabelCreate => {
                json!({ "ok": true, "label": board.create_label(b, &actor, CreateLabel::parse(data)?).await? })
            }
            Command::LabelUpdate => {
                json!({ "ok": true, "label": board.update_label(b, &actor, None, UpdateLabel::parse(data)?).await? })
            }
            Command::LabelDelete => {
                board.delete_label(b, &actor, None, data).await?;
                json!({ "ok": true })
            }
            Command::CommentCreate => {
                json!({ "ok": true, "comment": board.create_comment(b, &actor, TaskRef::Payload, CreateComment::parse(data)?).await? })
            }
            Command::CommentUpdate => {
                json!({ "ok": true, "comment": board.update_comment(b, &actor, None, UpdateComment::parse(data)?).await? })
            }
            Command::CommentDelete => {
                board.delete_comment(b, &actor, None, data).await?;
                json!({ "ok": true })
            }
            Command::NotificationsRead => {
                json!({ "ok": true, "ids": board.read_notifications(&actor, ReadNotifications::parse(data)?).await? })
            }
            Command::TaskView => {
                board.view_task(b, &conn, data).await?;
                json!({ "ok": true })
            }
            Command::BoardCreate => {
                json!({ "ok": true, "board": board.create_board(&actor, CreateBoard::parse(data)?).await? })
            }
            Command::BoardUpdate => {
                json!({ "ok": true, "board": board.update_board(&actor, None, UpdateBoard::parse(data)?).await? })
            }
            Command::BoardDelete => {
                board.delete_board(&actor, None, data).await?;
                json!({ "ok": true })
            }
            Command::Subscribe => {
                let mut fields = Fields::new(data, "subscribe payload")?;
                let patterns = Patterns::parse(
                    fields
                        .take(&["patterns"])?
                        .ok_or_else(|| AppError::validation("`patterns` is required"))?,
                )?;
                fields.finish()?;
                self.resubscribe(socket, session, patterns.clone())?;
                json!({ "ok": true, "patterns": patterns.as_slice() })
            }
        })
    }

    /// Moves the socket to the room of its new patterns (each `subscribe` replaces the last).
    fn resubscribe(&self, socket: &SocketRef, session: &Session, patterns: Patterns) -> AppResult<()> {
        let credential = &session.credential.id;
        let room = self.rooms.enter(&session.board, credential, Some(&patterns))?;
        let old = std::mem::replace(&mut *session.room.lock().unwrap(), room.clone());
        *session.patterns.lock().unwrap() = Some(patterns);
        self.rooms.leave(&old, credential);
        if old != room {
            socket.join(room);
            socket.leave(old);
        }
        Ok(())
    }
}

/// `auth.batchShifts`: `true` asks for a renumbering as one `task:shifted`; absent, null or
/// `false`, one `task:{id}:updated` per card.
fn renumbering(value: Option<Value>) -> AppResult<Renumbering> {
    match value {
        None | Some(Value::Null | Value::Bool(false)) => Ok(Renumbering::Each),
        Some(Value::Bool(true)) => Ok(Renumbering::Batched),
        Some(other) => Err(AppError::validation(format!(
            "`batchShifts` must be true or false, not {}",
            input::kind(&other)
        ))),
    }
}

/// The size of a payload as JSON, without building the string.
fn serialized_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The client's address, as the listener saw it (a reverse proxy's own address behind one:
/// forwarded headers are not trusted, since any client can send them).
fn client_address(socket: &SocketRef) -> Option<std::net::IpAddr> {
    let info = socket.req_parts().extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?;
    Some(info.0.ip())
}

/// The room of every socket opened with one credential, so revoking it closes them all.
fn credential_room(credential: &str) -> String {
    format!("cred/{credential}")
}

/// Tokens are created and revoked by the command line on the database: look every second, and
/// disconnect at once the sockets of a token that is no longer valid.
async fn refresh_tokens(app: App, io: SocketIo) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        match app.board.tokens().await {
            Ok(tokens) => {
                for credential in app.keys.refresh(&tokens) {
                    tracing::info!(%credential, "token revoked: disconnecting its sockets");
                    let Some(ns) = io.of("/") else { return };
                    if let Err(e) = ns.to(credential_room(&credential)).disconnect().await {
                        tracing::warn!(error = %e, "disconnecting a revoked token's sockets");
                    }
                }
            }
            Err(e) => e.log("reading tokens"),
        }
    }
}

/// Declares `Command` from one list of variants and their event names, so the dispatcher's
/// `match` and the metrics' labels cannot drift apart.
macro_rules! commands {
    ($($variant:ident = $name:literal,)*) => {
        /// Every command a socket may send.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Command { $($variant,)* }

        impl Command {
            fn parse(event: &str) -> Option<Command> {
                match event {
                    $($name => Some(Command::$variant),)*
                    _ => None,
                }
            }

            /// The event name, also the metrics' label (never whatever a client makes up).
            fn name(self) -> &'static str {
                match self {
                    $(Command::$variant => $name,)*
                }
            }
        }
    };
}

commands! {
    UserJoin = "user:join",
    TaskCreate = "task:create",
    TaskUpdate = "task:update",
    TaskMove = "task:move",
    TaskDelete = "task:delete",
    DragStart = "task:drag:start",
    DragEnd = "task:drag:end",
    TypingStart = "typing:start",
    TypingStop = "typing:stop",
    TaskClaim = "task:claim",
    TaskNext = "task:next",
    TaskRelease = "task:release",
    TaskProgress = "task:progress",
    AgentStatus = "agent:status",
    LabelCreate = "label:create",
    LabelUpdate = "label:update",
    LabelDelete = "label:delete",
    CommentCreate = "comment:create",
    CommentUpdate = "comment:update",
    CommentDelete = "comment:delete",
    TaskView = "task:view",
    NotificationsRead = "notifications:read",
    BoardCreate = "board:create",
    BoardUpdate = "board:update",
    BoardDelete = "board:delete",
    Subscribe = "subscribe",
}
