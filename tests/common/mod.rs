//! The test harness: a real warroom server on a random port with a fresh database, and the
//! clients people use against it (HTTP with the team key, and real Socket.IO sockets).
//!
//! Every socket records every event it receives, so a test can say
//! `bob.wait_for("task:created", |p| p["task"]["id"] == id)` right beside
//! `alice.ack("task:create", json!({ "title": "x" }))`, and nothing waits on a clock except
//! the deadline that turns a missing event into a clear failure.

#![allow(dead_code)]

pub mod postgres;
pub mod redis;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use futures_util::FutureExt;
use reqwest::{Method, RequestBuilder};
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use warroom::config::{Cli, ServeArgs};
use warroom::store::Durability;

/// The team key every test server is started with.
pub const KEY: &str = "test-key";

/// How long a test waits for something that should happen "at once" before it fails.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// The database a server ran on, kept (with its folder) so that another server can reopen it.
pub struct Database {
    _dir: TempDir,
    pub path: PathBuf,
}

impl Database {
    pub fn fresh() -> Database {
        let dir = tempfile::tempdir().expect("creating a temp dir");
        let path = dir.path().join("tasks.db");
        Database { _dir: dir, path }
    }
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    pub key: String,
    http: reqwest::Client,
    db: Option<Database>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// A server on a fresh database, with the default settings.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Database::fresh(), |_| {}).await
    }

    /// A server on an existing database (e.g. the one a stopped server left).
    pub async fn spawn_on(db: Database) -> TestApp {
        TestApp::spawn_with(db, |_| {}).await
    }

    /// A server whose settings the test adjusts first.
    pub async fn spawn_with(db: Database, adjust: impl FnOnce(&mut ServeArgs)) -> TestApp {
        let mut args = serve_args(&db.path);
        adjust(&mut args);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (app, _) = warroom::App::open(&args).await.expect("opening the app");
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(warroom::serve(listener, app, async move {
            let _ = rx.await;
        }));
        TestApp {
            url,
            key: KEY.to_owned(),
            http: reqwest::Client::new(),
            db: Some(db),
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Stops the server the way a crash would: no graceful shutdown, nothing cleaned up. Its
    /// background tasks end with it (the heartbeat included); sockets already open stay
    /// connected to what is left, as half-open TCP connections to a dead machine would.
    pub async fn crash(mut self) {
        let server = self.server.take().expect("running");
        server.abort();
        let _ = server.await;
        // Only now: a dropped sender would otherwise begin a graceful shutdown.
        self.shutdown.take();
    }

    pub fn db_path(&self) -> &Path {
        &self.db.as_ref().expect("the database").path
    }

    /// Stops the server gracefully (it closes open sockets' transports itself), fails the test
    /// if that takes longer than `DEADLINE`, and hands back its database for the next server.
    pub async fn stop(mut self) -> Database {
        let _ = self.shutdown.take().expect("running").send(());
        let server = self.server.take().expect("running");
        tokio::time::timeout(DEADLINE, server)
            .await
            .expect("the server did not stop in time")
            .expect("the server task panicked")
            .expect("the server failed");
        self.db.take().expect("the database")
    }

    // ---- REST ----

    /// A request with the team key as a Bearer token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.anonymous(method, path).bearer_auth(&self.key)
    }

    /// A request without any key.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    pub async fn get(&self, path: &str) -> Reply {
        Reply::of(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        Reply::of(self.request(Method::POST, path).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        Reply::of(self.request(Method::PUT, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        Reply::of(self.request(Method::PATCH, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        Reply::of(self.request(Method::DELETE, path)).await
    }

    /// Creates a task over REST and returns it.
    pub async fn create_task(&self, title: &str) -> Value {
        self.create_task_with(json!({ "title": title })).await
    }

    pub async fn create_task_with(&self, body: Value) -> Value {
        let reply = self.post("/api/tasks", body).await;
        assert_eq!(reply.status, 201, "creating a task: {reply:?}");
        reply.body
    }

    pub async fn task(&self, id: i64) -> Value {
        let reply = self.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(reply.status, 200, "reading task {id}: {reply:?}");
        reply.body
    }

    pub async fn tasks(&self) -> Vec<Value> {
        let reply = self.get("/api/tasks").await;
        assert_eq!(reply.status, 200, "listing tasks: {reply:?}");
        reply.body.as_array().expect("an array of tasks").clone()
    }

    // ---- Socket.IO ----

    /// A socket with the team key, named `name` (or anonymous), already in sync.
    pub async fn socket(&self, name: Option<&str>) -> Socket {
        let mut auth = json!({ "apiKey": self.key });
        if let Some(name) = name {
            auth["name"] = json!(name);
        }
        match self.connect(auth).await {
            Ok(socket) => socket,
            Err(refusal) => panic!("the socket was refused: {refusal}"),
        }
    }

    /// Connects with this `auth` and waits for `sync:full` (or `sync:resumed`); a refused
    /// handshake gives the `connect_error` payload (`{ message }`) and the socket's inbox.
    pub async fn connect(&self, auth: Value) -> Result<Socket, Refused> {
        let inbox = Inbox::new();
        let on_any = inbox.clone();
        let on_error = inbox.clone();
        let on_close = inbox.clone();
        let client = ClientBuilder::new(self.url.clone())
            .transport_type(TransportType::Websocket)
            .reconnect(false)
            .auth(auth)
            .on_any(move |event, payload, _| {
                on_any.record(String::from(event), payload);
                async {}.boxed()
            })
            // The server's `error` events, and `connect_error`, arrive here (not in on_any).
            .on(Event::Error, move |payload, _| {
                on_error.record_error(payload);
                async {}.boxed()
            })
            .on(Event::Close, move |_, _| {
                on_close.push(Received::new("disconnect", vec![]));
                async {}.boxed()
            })
            .connect()
            .await
            .expect("opening the Socket.IO transport");
        let socket = Socket { client, inbox };
        let first = socket.wait_for_any(&["sync:full", "sync:resumed", "connect_error"]).await;
        if first.name == "connect_error" {
            return Err(Refused { payload: first.payload, inbox: socket.inbox.clone() });
        }
        Ok(socket)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// The settings a test server starts with: SPEC's defaults, the test key, a faster disk mode.
/// Parsed like the command line (so settings added later get their defaults), then the ones
/// a test relies on are pinned, whatever the environment says.
pub fn serve_args(db: &Path) -> ServeArgs {
    let cli = Cli::try_parse_from(["warroom", "--api-key", KEY]).expect("parsing the test server's settings");
    let mut args = cli.serve;
    args.api_key = Some(KEY.to_owned());
    args.host = "127.0.0.1".parse().unwrap();
    args.port = 0;
    args.database_path = db.to_owned();
    args.database_url = None;
    args.redis_url = None;
    args.redis_prefix = "warroom".to_owned();
    args.rate_limit = 200;
    args.lease_seconds = 300;
    args.durability = Durability::Normal;
    args.presence_grace_ms = PRESENCE_GRACE.as_millis() as u64;
    args
}

/// The presence grace of test servers: short, so that a test of a leave waits past it without
/// waiting SPEC's 10 s; tests of the grace itself set their own.
pub const PRESENCE_GRACE: Duration = Duration::from_millis(300);

/// An HTTP answer: the status and the JSON body (`Null` when there is none).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: Option<String>,
}

impl Reply {
    pub async fn of(request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("sending the request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.expect("reading the body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("the body is not JSON ({status}): {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply { status, body, content_type }
    }

    /// `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts SPEC's error shape `{ error: { code, message } }` with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert_eq!(self.code(), code, "code of {self:?}");
        assert!(!self.message().is_empty(), "an error message for people: {self:?}");
    }
}

/// One event as a socket received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub name: String,
    /// The first argument.
    pub payload: Value,
    /// `seq` of the second argument `{ seq }`, sent with every persisted change.
    pub seq: Option<i64>,
}

impl Received {
    fn new(name: &str, mut args: Vec<Value>) -> Received {
        let seq = args.get(1).and_then(|a| a["seq"].as_i64());
        let payload = if args.is_empty() { Value::Null } else { args.swap_remove(0) };
        Received { name: name.to_owned(), payload, seq }
    }
}

/// Everything one socket received, in order.
#[derive(Clone)]
pub struct Inbox {
    events: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<watch::Sender<usize>>,
}

impl Inbox {
    fn new() -> Inbox {
        Inbox { events: Arc::new(Mutex::new(Vec::new())), arrived: Arc::new(watch::channel(0).0) }
    }

    fn push(&self, event: Received) {
        let mut events = self.events.lock().unwrap();
        events.push(event);
        let n = events.len();
        drop(events);
        self.arrived.send_replace(n);
    }

    fn record(&self, name: String, payload: Payload) {
        self.push(Received::new(&name, args_of(payload)));
    }

    /// `error` carries either the server's `error` event (an object) or the client's own
    /// news: a refused handshake ("Received an ConnectError frame: {json}") or a transport error.
    fn record_error(&self, payload: Payload) {
        let args = args_of(payload);
        match args.first() {
            Some(Value::String(text)) => {
                let event = match text.strip_prefix("Received an ConnectError frame: ") {
                    Some(json) => Received::new(
                        "connect_error",
                        vec![serde_json::from_str(json).unwrap_or(json!(json))],
                    ),
                    None => Received::new("transport_error", args),
                };
                self.push(event);
            }
            _ => self.push(Received::new("error", args)),
        }
    }

    pub fn all(&self) -> Vec<Received> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until an event satisfies `pred`, scanning everything received so far first.
    pub async fn wait_until(
        &self,
        what: &str,
        within: Duration,
        pred: impl Fn(&Received) -> bool,
    ) -> Received {
        let mut arrived = self.arrived.subscribe();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(found) = self.events.lock().unwrap().iter().find(|e| pred(e)) {
                return found.clone();
            }
            if tokio::time::timeout_at(deadline, arrived.changed()).await.is_err() {
                let seen: Vec<String> =
                    self.all().iter().map(|e| format!("{} {}", e.name, e.payload)).collect();
                panic!("no {what} within {within:?}; received:\n  {}", seen.join("\n  "));
            }
        }
    }
}

fn args_of(payload: Payload) -> Vec<Value> {
    match payload {
        Payload::Text(values) => values,
        #[allow(deprecated)]
        Payload::String(text) => vec![serde_json::from_str(&text).unwrap_or(Value::String(text))],
        Payload::Binary(bytes) => vec![json!(bytes.to_vec())],
    }
}

/// What a refused handshake left: the `connect_error` payload and everything received.
#[derive(Clone)]
pub struct Refused {
    pub payload: Value,
    pub inbox: Inbox,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connect_error {}", self.payload)
    }
}

impl std::fmt::Debug for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A connected Socket.IO client that records every event it receives.
pub struct Socket {
    client: Client,
    pub inbox: Inbox,
}

impl Socket {
    /// Sends a command and waits for its acknowledgement (the callback's first argument).
    pub async fn ack(&self, event: &str, payload: Value) -> Value {
        let (tx, rx) = oneshot::channel::<Value>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        self.client
            .emit_with_ack(event, payload, DEADLINE, move |answer: Payload, _| {
                // An ack's data arrives as the JSON array of the callback's arguments.
                let first = match args_of(answer).into_iter().next() {
                    Some(Value::Array(mut args)) if !args.is_empty() => args.swap_remove(0),
                    Some(other) => other,
                    None => Value::Null,
                };
                if let Some(tx) = tx.lock().unwrap().take() {
                    let _ = tx.send(first);
                }
                async {}.boxed()
            })
            .await
            .expect("sending the command");
        tokio::time::timeout(DEADLINE, rx)
            .await
            .unwrap_or_else(|_| panic!("no acknowledgement of {event} within {DEADLINE:?}"))
            .expect("the acknowledgement callback was dropped")
    }

    /// Sends a command that must succeed; returns its acknowledgement `{ ok: true, ... }`.
    pub async fn ack_ok(&self, event: &str, payload: Value) -> Value {
        let answer = self.ack(event, payload.clone()).await;
        assert_eq!(answer["ok"], true, "{event} {payload} was refused: {answer}");
        answer
    }

    /// Sends a command that must fail; returns the acknowledged `error` (`{ code, message }`).
    pub async fn ack_err(&self, event: &str, payload: Value) -> Value {
        let answer = self.ack(event, payload.clone()).await;
        assert_eq!(answer["ok"], false, "{event} {payload} should have failed: {answer}");
        assert!(
            answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error message for people: {answer}"
        );
        answer["error"].clone()
    }

    /// Creates a task over this socket and returns it.
    pub async fn create_task(&self, title: &str) -> Value {
        self.ack_ok("task:create", json!({ "title": title })).await["task"].clone()
    }

    /// Sends an event without asking for an acknowledgement.
    pub async fn emit(&self, event: &str, payload: Value) {
        self.client.emit(event, payload).await.expect("sending the event");
    }

    /// The first `event` (already received or still to come) whose payload satisfies `pred`.
    pub async fn wait_for(&self, event: &str, pred: impl Fn(&Value) -> bool) -> Received {
        self.wait_for_within(event, pred, DEADLINE).await
    }

    pub async fn wait_for_within(
        &self,
        event: &str,
        pred: impl Fn(&Value) -> bool,
        within: Duration,
    ) -> Received {
        self.inbox
            .wait_until(&format!("`{event}` as expected"), within, |e| e.name == event && pred(&e.payload))
            .await
    }

    /// The first `event` received, whatever its payload.
    pub async fn wait_event(&self, event: &str) -> Received {
        self.wait_for(event, |_| true).await
    }

    /// The first event named any of `names`.
    pub async fn wait_for_any(&self, names: &[&str]) -> Received {
        self.inbox
            .wait_until(&format!("any of {names:?}"), DEADLINE, |e| names.contains(&e.name.as_str()))
            .await
    }

    /// Every event received so far named `event`.
    pub fn received(&self, event: &str) -> Vec<Received> {
        self.inbox.all().into_iter().filter(|e| e.name == event).collect()
    }

    /// The `sync:full` this socket was greeted with.
    pub fn sync(&self) -> Value {
        self.received("sync:full").first().expect("sync:full").payload.clone()
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.client.disconnect().await.expect("disconnecting");
    }
}

/// The task id of a task JSON.
pub fn id_of(task: &Value) -> i64 {
    task["id"].as_i64().expect("a task id")
}
