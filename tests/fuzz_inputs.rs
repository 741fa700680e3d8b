//! Property-based fuzzing of every command payload and REST body: whatever JSON arrives, the
//! board answers Ok or a SPEC error (never INTERNAL, never a panic) and stays consistent.
//!
//! Each case opens a fresh board (a real `App` on a temp SQLite file) and runs a random sequence
//! of commands through the same doors the adapters use: the board service for socket commands,
//! the REST handlers and extractors (`Body`, `Caller`, `Params`, route ids) for HTTP. Payloads
//! mix plausible values (so commands reach deep: existing ids, valid statuses) with hostile
//! ones: deep nesting, huge and unicode strings, NULs, wrong types, numbers at the i64/f64 edges,
//! unknown and read-only fields, raw bytes that are not JSON.
//!
//! After every command: positions within a column are unique, versions and the board's sequence
//! number never go back, every stored task is within SPEC's limits, and a refused write (a
//! viewer's, or any error) changes nothing.
//!
//! `PROPTEST_CASES` sets the cases per batch (default 64, so `cargo test` stays fast);
//! `FUZZ_SECONDS` repeats batches with fresh seeds until that much time has passed
//! (`scripts/fuzz.sh`). A failure is kept in `tests/proptest-regressions/fuzz_inputs.txt` and
//! replayed first on every later run. `FUZZ_DEBUG=1` prints every refusal's message.
//!
//! Not reached from here: the Socket.IO transport's own decoding and the handshake's `auth`
//! (the protocol suite's bad-input catalogue sends those over the wire). Values nest at most a
//! little past the 128 levels the transports let through; raw REST bodies nest far deeper.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::{HeaderValue, Request};
use clap::Parser;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use serde_json::{Map, Number, Value, json};
use warroom::auth::Role;
use warroom::config::{Cli, Command};
use warroom::domain::board::{Actor, TaskRef};
use warroom::domain::input::Input;
use warroom::domain::storage::TaskFilter;
use warroom::domain::task::{CreateTask, NewTask, Status};
use warroom::error::AppError;
use warroom::http::{self, Body, Caller, Params, RouteId};
use warroom::realtime::subscriptions::Patterns;
use warroom::{App, MAIN_BOARD};

/// The codes SPEC lets a client see. INTERNAL is in SPEC too, but bad input must never cause it.
const SPEC_CODES: [&str; 10] = [
    "UNAUTHORIZED",
    "FORBIDDEN",
    "VALIDATION_ERROR",
    "NOT_FOUND",
    "TASK_NOT_FOUND",
    "AGENT_NOT_FOUND",
    "TASK_LOCKED",
    "CONFLICT",
    "RATE_LIMITED",
    "PAYLOAD_TOO_LARGE",
];
const STATUSES: [&str; 5] = ["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"];
const KEY: &str = "fuzz-team-key";
const REGRESSIONS: &str = "tests/proptest-regressions/fuzz_inputs.txt";

// ---------------------------------------------------------------------------------------------
// What a case does.

/// Who sends a command: two sockets with the team key, a viewer's socket, or REST.
#[derive(Debug, Clone, Copy)]
enum Who {
    Alice,
    Bob,
    Viewer,
}

#[derive(Debug, Clone)]
enum Op {
    Create(Value),
    Update(Value),
    Move(Value),
    Delete(Value),
    Agent(Value),
    Claim(Value),
    Next(Value),
    Release(Value),
    Progress(Value),
    Join(Value),
    DragStart(Value),
    DragEnd(Value),
    Typing(Value, bool),
    Subscribe(Value),
    /// A REST write: which route, the raw `:id` segment, the body as bytes, its content type,
    /// and an `Idempotency-Key`.
    Rest {
        route: RestRoute,
        id: String,
        body: Vec<u8>,
        content_type: Option<String>,
        idempotency: Option<String>,
    },
    /// REST reads with an arbitrary query string or id.
    RestRead {
        route: ReadRoute,
        id: String,
        query: String,
    },
    /// Arbitrary `Authorization` / `X-API-Key` headers.
    Auth {
        authorization: Option<Vec<u8>>,
        api_key: Option<Vec<u8>>,
    },
}

#[derive(Debug, Clone, Copy)]
enum RestRoute {
    Create,
    Put,
    Delete,
    Claim,
    Next,
    Release,
    Progress,
    Agent,
}

#[derive(Debug, Clone, Copy)]
enum ReadRoute {
    List,
    One,
    History,
    Activity,
    Agent,
}

// ---------------------------------------------------------------------------------------------
// Strategies: plausible values, so commands reach the deep paths, mixed with hostile ones.

fn edgy_string() -> BoxedStrategy<String> {
    let fixed: Vec<String> = [
        "",
        "   ",
        " \t\n\r ",
        "\u{3000}\u{feff}\u{200b}",
        "\0",
        "ok\0",
        "🚀",
        "e\u{301}\u{301}\u{301}",
        "\u{202e}gnp.exe",
        "<script>alert(1)</script>",
        "'; DROP TABLE tasks; --",
        "%s%n{}{{}}",
        "task:**:*",
        "0",
        "1",
        " 2 ",
        "-1",
        "+5",
        "1e3",
        "0x1f",
        "1.5",
        "007",
        "99999999999999999999",
        "9223372036854775807",
        "9223372036854775808",
        "done",
        "Todo",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    prop_oneof![
        4 => prop::sample::select(fixed),
        2 => prop::sample::select(vec![1usize, 63, 64, 65, 128, 129, 199, 200, 201, 1000, 1001, 9_999, 10_000, 10_001])
            .prop_map(|n| "x".repeat(n)),
        1 => prop::sample::select(vec![64usize, 65, 200, 201, 10_000, 10_001]).prop_map(|n| "🚀".repeat(n)),
        1 => prop::sample::select(vec![200usize, 201]).prop_map(|n| format!("  {}  ", "é".repeat(n))),
        1 => Just(()).prop_map(|()| "a".repeat(1_100_000)),
        2 => any::<String>(),
        2 => "\\PC{0,40}",
    ]
    .boxed()
}

fn edgy_number() -> BoxedStrategy<Value> {
    let ints = prop::sample::select(vec![
        i64::MIN,
        i64::MIN + 1,
        -1,
        0,
        1,
        2,
        3,
        (1 << 53) + 1,
        i64::from(i32::MAX) + 1,
        i64::MAX - 1,
        i64::MAX,
    ])
    .prop_map(|n| json!(n));
    let floats = prop::sample::select(vec![
        -0.0,
        0.5,
        1.0,
        1.5,
        -1.5,
        99.999,
        100.0,
        100.000001,
        1e-300,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        9.223372036854776e18,
        1e308,
        f64::MAX,
        f64::MIN,
    ])
    .prop_map(|f| Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null));
    prop_oneof![
        ints,
        floats,
        Just(json!(u64::MAX)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f))
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        edgy_number(),
        edgy_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Nesting far deeper than any payload needs (arrays or objects), up to a little past the
/// 128 levels the transports let through: deeper JSON never reaches the board as a value (the
/// raw REST bodies below still send thousands of levels to the JSON decoder).
fn deep() -> BoxedStrategy<Value> {
    (1usize..160, any::<bool>())
        .prop_map(|(depth, objects)| {
            let mut v = Value::Null;
            for _ in 0..depth {
                v = if objects { json!({ "title": v }) } else { json!([v]) };
            }
            v
        })
        .boxed()
}

const KEYS: [&str; 24] = [
    "title",
    "text",
    "description",
    "status",
    "assignee",
    "assignedTo",
    "position",
    "version",
    "id",
    "taskId",
    "opId",
    "agentId",
    "message",
    "percent",
    "name",
    "currentTaskId",
    "patterns",
    "createdAt",
    "createdBy",
    "updatedAt",
    "claimedBy",
    "__proto__",
    "",
    "TITLE",
];

fn key() -> BoxedStrategy<String> {
    prop_oneof![8 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned), 1 => edgy_string()].boxed()
}

/// What a field holds, for values that fit it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Title,
    Description,
    TaskStatus,
    AgentStatus,
    Name,
    TaskId,
    AgentId,
    Position,
    Version,
    OpId,
    Message,
    Percent,
    Patterns,
    CurrentTaskId,
}

/// One field a command accepts: its spellings (the seeds' aliases), what it holds, whether the
/// command needs it.
type Field = (&'static [&'static str], Kind, bool);

const CREATE: &[Field] = &[
    (&["title", "text"], Kind::Title, true),
    (&["description"], Kind::Description, false),
    (&["status"], Kind::TaskStatus, false),
    (&["assignee", "assignedTo"], Kind::Name, false),
    (&["position"], Kind::Position, false),
    (&["opId"], Kind::OpId, false),
];
const UPDATE: &[Field] = &[
    (&["id", "taskId"], Kind::TaskId, true),
    (&["title", "text"], Kind::Title, false),
    (&["description"], Kind::Description, false),
    (&["status"], Kind::TaskStatus, false),
    (&["assignee", "assignedTo"], Kind::Name, false),
    (&["position"], Kind::Position, false),
    (&["version"], Kind::Version, false),
    (&["opId"], Kind::OpId, false),
];
const MOVE: &[Field] = &[
    (&["taskId", "id"], Kind::TaskId, true),
    (&["status"], Kind::TaskStatus, true),
    (&["position"], Kind::Position, false),
    (&["version"], Kind::Version, false),
    (&["opId"], Kind::OpId, false),
];
const TASK_ONLY: &[Field] = &[(&["taskId", "id"], Kind::TaskId, true), (&["opId"], Kind::OpId, false)];
const AGENT: &[Field] = &[
    (&["id"], Kind::AgentId, true),
    (&["status"], Kind::AgentStatus, true),
    (&["name"], Kind::Name, false),
    (&["currentTaskId"], Kind::CurrentTaskId, false),
    (&["opId"], Kind::OpId, false),
];
const CLAIM: &[Field] =
    &[(&["taskId"], Kind::TaskId, true), (&["agentId"], Kind::AgentId, true), (&["opId"], Kind::OpId, false)];
const NEXT: &[Field] = &[(&["agentId"], Kind::AgentId, true), (&["opId"], Kind::OpId, false)];
const PROGRESS: &[Field] = &[
    (&["taskId"], Kind::TaskId, true),
    (&["message"], Kind::Message, true),
    (&["percent"], Kind::Percent, false),
    (&["opId"], Kind::OpId, false),
];
const JOIN: &[Field] = &[(&["name"], Kind::Name, true)];
const DRAG: &[Field] = &[(&["taskId"], Kind::TaskId, true)];
const NOTHING: &[Field] = &[];
const SUBSCRIBE: &[Field] = &[(&["patterns"], Kind::Patterns, true)];
// REST bodies: the route carries the id (a body may repeat it).
const REST_UPDATE: &[Field] = &[
    (&["id"], Kind::TaskId, false),
    (&["title", "text"], Kind::Title, false),
    (&["description"], Kind::Description, false),
    (&["status"], Kind::TaskStatus, false),
    (&["assignee", "assignedTo"], Kind::Name, false),
    (&["position"], Kind::Position, false),
    (&["version"], Kind::Version, false),
];
const REST_AGENT: &[Field] = &[
    (&["status"], Kind::AgentStatus, true),
    (&["name"], Kind::Name, false),
    (&["currentTaskId"], Kind::CurrentTaskId, false),
];
const REST_CLAIM: &[Field] = &[(&["agentId"], Kind::AgentId, true)];
const REST_PROGRESS: &[Field] = &[(&["message"], Kind::Message, true), (&["percent"], Kind::Percent, false)];

fn plausible_id() -> BoxedStrategy<Value> {
    prop_oneof![4 => (1i64..10).prop_map(|n| json!(n)), 1 => (1i64..10).prop_map(|n| json!(n.to_string()))]
        .boxed()
}

fn plausible_agent() -> BoxedStrategy<Value> {
    prop::sample::select(vec!["bot-1", "bot.2", "Agent_3"]).prop_map(|s| json!(s)).boxed()
}

fn fitting(kind: Kind) -> BoxedStrategy<Value> {
    let text = |re: &'static str| re.prop_map(Value::String).boxed();
    let pick = |xs: &[&'static str]| prop::sample::select(xs.to_vec()).prop_map(|s| json!(s)).boxed();
    match kind {
        Kind::Title => text("[A-Za-z][A-Za-z0-9 ]{0,15}"),
        Kind::Description => text("[A-Za-z0-9 ]{0,30}"),
        Kind::Message => text("[a-z][a-z ]{0,20}"),
        Kind::TaskStatus => pick(&STATUSES),
        Kind::AgentStatus => pick(&["idle", "busy", "error", "offline"]),
        Kind::Name => pick(&["Adam", "nick", "Vera", "bot-1"]),
        Kind::OpId => pick(&["op-1", "op-2", "op-3"]),
        Kind::TaskId => plausible_id(),
        Kind::AgentId => plausible_agent(),
        Kind::Position => (0i64..6).prop_map(|n| json!(n)).boxed(),
        Kind::Version => (1i64..5).prop_map(|n| json!(n)).boxed(),
        Kind::Percent => (-5.0f64..110.0).prop_map(|f| json!(f)).boxed(),
        Kind::CurrentTaskId => prop_oneof![3 => plausible_id(), 1 => Just(Value::Null)].boxed(),
        Kind::Patterns => prop::collection::vec(
            prop_oneof![
                4 => pick(&["task:*:updated", "**", "activity", "task:**", "*", "a:*:b:**", "users:update"]),
                1 => edgy_string().prop_map(Value::String),
            ],
            0..40,
        )
        .prop_map(Value::Array)
        .boxed(),
    }
}

/// A value for a field: usually one that fits it, sometimes anything at all.
fn value(kind: Kind) -> BoxedStrategy<Value> {
    prop_oneof![
        16 => fitting(kind),
        1 => edgy_string().prop_map(Value::String),
        1 => edgy_number(),
        1 => any_json(),
        1 => Just(Value::Null),
        1 => deep(),
    ]
    .boxed()
}

/// A payload for a command that accepts `fields`: mostly an object of some of them (under one
/// of their spellings), now and then with a field no command knows or one that is read-only,
/// and sometimes not an object at all.
fn payload(fields: &'static [Field]) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
        .iter()
        .map(|&(spellings, kind, required)| {
            let entry =
                (prop::sample::select(spellings.to_vec()), value(kind)).prop_map(|(k, v)| (k.to_owned(), v));
            prop::option::weighted(if required { 0.95 } else { 0.4 }, entry).boxed()
        })
        .collect();
    let stranger = prop::option::weighted(0.06, (key(), any_json()));
    let object = (parts, stranger).prop_map(|(parts, stranger)| {
        Value::Object(parts.into_iter().flatten().chain(stranger).collect::<Map<_, _>>())
    });
    prop_oneof![
        16 => object,
        1 => any_json(),
        1 => deep(),
        1 => Just(Value::Null),
    ]
    .boxed()
}

fn raw_body(fields: &'static [Field]) -> BoxedStrategy<(Vec<u8>, Option<String>)> {
    let content_type = prop::option::weighted(
        0.95,
        prop_oneof![
            12 => Just("application/json".to_owned()),
            1 => prop::sample::select(vec![
                "application/json; charset=utf-8",
                "application/merge-patch+json",
                "APPLICATION/JSON",
                "text/plain",
                "application/x-www-form-urlencoded",
                "",
            ])
            .prop_map(str::to_owned),
        ],
    );
    let bytes = prop_oneof![
        16 => payload(fields).prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => prop::sample::select(vec![
            "", " ", "{", "}", "[", "{\"title\":", "{\"title\":\"a\"}garbage", "nul\u{0}l", "{\"a\":1,\"a\":2}",
            "\u{feff}{\"title\":\"bom\"}", "1e999999", "-", "{\"title\":\"\\ud800\"}", "{\"title\":\"x\",}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => (1usize..20_000).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d)).into_bytes()),
    ];
    (bytes, content_type).boxed()
}

fn route_id() -> BoxedStrategy<String> {
    prop_oneof![
        8 => (1i64..10).prop_map(|n| n.to_string()),
        1 => plausible_agent().prop_map(|v| v.as_str().unwrap().to_owned()),
        1 => edgy_string(),
    ]
    .boxed()
}

fn query() -> BoxedStrategy<String> {
    let param = (
        prop::sample::select(vec!["status", "assignee", "q", "limit", "before", "x", ""]),
        prop_oneof![
            prop::sample::select(vec![
                "TODO",
                "done",
                "1",
                "0",
                "-1",
                "500",
                "501",
                "9999999999999999999999",
                "%00",
                "%ZZ",
                "a%20b",
                "&&",
                "=="
            ])
            .prop_map(str::to_owned),
            "[a-z0-9%+]{0,12}",
        ],
    )
        .prop_map(|(k, v)| format!("{k}={v}"));
    prop::collection::vec(param, 0..4).prop_map(|ps| ps.join("&")).boxed()
}

fn header_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        Just(format!("Bearer {KEY}").into_bytes()),
        Just(KEY.as_bytes().to_vec()),
        Just(b"Bearer".to_vec()),
        Just(b"bearer  ".to_vec()),
        Just(format!("Basic {KEY}").into_bytes()),
        Just(b"Bearer wr_0_0".to_vec()),
        Just(format!("Bearer {KEY}\u{0}").into_bytes()),
        prop::collection::vec(any::<u8>(), 0..40),
        edgy_string().prop_map(String::into_bytes),
    ]
    .boxed()
}

fn rest_write() -> BoxedStrategy<Op> {
    let routes = vec![
        RestRoute::Create,
        RestRoute::Put,
        RestRoute::Delete,
        RestRoute::Claim,
        RestRoute::Next,
        RestRoute::Release,
        RestRoute::Progress,
        RestRoute::Agent,
    ];
    prop::sample::select(routes)
        .prop_flat_map(|route| {
            let fields = match route {
                RestRoute::Create => CREATE,
                RestRoute::Put => REST_UPDATE,
                RestRoute::Delete | RestRoute::Release => NOTHING,
                RestRoute::Claim | RestRoute::Next => REST_CLAIM,
                RestRoute::Progress => REST_PROGRESS,
                RestRoute::Agent => REST_AGENT,
            };
            let id = if matches!(route, RestRoute::Agent) {
                prop_oneof![4 => plausible_agent().prop_map(|v| v.as_str().unwrap().to_owned()), 1 => edgy_string()].boxed()
            } else {
                route_id()
            };
            let idempotency = prop::option::weighted(
                0.2,
                prop_oneof![4 => fitting(Kind::OpId).prop_map(|v| v.as_str().unwrap().to_owned()), 1 => edgy_string()],
            );
            (Just(route), id, raw_body(fields), idempotency)
        })
        .prop_map(|(route, id, (body, content_type), idempotency)| Op::Rest { route, id, body, content_type, idempotency })
        .boxed()
}

fn op() -> BoxedStrategy<Op> {
    prop_oneof![
        6 => payload(CREATE).prop_map(Op::Create).boxed(),
        6 => payload(UPDATE).prop_map(Op::Update).boxed(),
        5 => payload(MOVE).prop_map(Op::Move).boxed(),
        2 => payload(TASK_ONLY).prop_map(Op::Delete).boxed(),
        2 => payload(AGENT).prop_map(Op::Agent).boxed(),
        2 => payload(CLAIM).prop_map(Op::Claim).boxed(),
        1 => payload(NEXT).prop_map(Op::Next).boxed(),
        1 => payload(TASK_ONLY).prop_map(Op::Release).boxed(),
        1 => payload(PROGRESS).prop_map(Op::Progress).boxed(),
        1 => payload(JOIN).prop_map(Op::Join).boxed(),
        2 => payload(DRAG).prop_map(Op::DragStart).boxed(),
        1 => payload(DRAG).prop_map(Op::DragEnd).boxed(),
        1 => (payload(NOTHING), any::<bool>()).prop_map(|(p, s)| Op::Typing(p, s)).boxed(),
        1 => payload(SUBSCRIBE).prop_map(Op::Subscribe).boxed(),
        6 => rest_write(),
        2 => (
            prop::sample::select(vec![ReadRoute::List, ReadRoute::One, ReadRoute::History, ReadRoute::Activity, ReadRoute::Agent]),
            route_id(),
            query(),
        )
            .prop_map(|(route, id, query)| Op::RestRead { route, id, query })
            .boxed(),
        1 => (prop::option::of(header_bytes()), prop::option::of(header_bytes()))
            .prop_map(|(authorization, api_key)| Op::Auth { authorization, api_key })
            .boxed(),
    ]
    .boxed()
}

fn case() -> impl Strategy<Value = Vec<(Who, Op)>> {
    let who = prop_oneof![4 => Just(Who::Alice), 2 => Just(Who::Bob), 1 => Just(Who::Viewer)];
    prop::collection::vec((who, op()), 1..24)
}

// ---------------------------------------------------------------------------------------------
// Running a case.

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    })
}

fn actor(who: Who) -> (Actor, &'static str) {
    let (name, credential, conn, role) = match who {
        Who::Alice => ("alice", "team", "conn-a", Role::Admin),
        Who::Bob => ("bob", "team", "conn-b", Role::Admin),
        Who::Viewer => ("Vera", "token:viewer", "conn-v", Role::Viewer),
    };
    (
        Actor {
            name: name.into(),
            credential: credential.into(),
            connection: Some(conn.into()),
            role,
            scope: None,
        },
        conn,
    )
}

/// What a command answered: Ok, or the error's code and message.
type Outcome = Result<(), (&'static str, String)>;

fn outcome<T>(r: Result<T, AppError>) -> Outcome {
    r.map(|_| ()).map_err(|e| (e.code(), e.to_string()))
}

async fn run(app: &App, who: Who, op: Op) -> Outcome {
    let board = &app.board;
    let (actor, conn) = actor(who);
    let rest_actor = Actor { connection: None, ..actor.clone() };
    let b = MAIN_BOARD;
    match op {
        // Typed bodies are parsed as the socket adapter parses them, then handed to the service.
        Op::Create(p) => outcome(async { board.create_task(b, &actor, Input::parse(p)?).await }.await),
        Op::Update(p) => {
            outcome(async { board.update_task(b, &actor, TaskRef::Payload, Input::parse(p)?).await }.await)
        }
        Op::Move(p) => outcome(board.move_task(b, &actor, p).await),
        Op::Delete(p) => outcome(board.delete_task(b, &actor, TaskRef::Payload, p).await),
        Op::Agent(p) => outcome(async { board.report_agent(b, &actor, Input::parse(p)?).await }.await),
        Op::Claim(p) => {
            outcome(async { board.claim_task(b, &actor, TaskRef::Payload, Input::parse(p)?).await }.await)
        }
        Op::Next(p) => outcome(async { board.next_task(b, &actor, Input::parse(p)?).await }.await),
        Op::Release(p) => {
            outcome(async { board.release_task(b, &actor, TaskRef::Payload, Input::parse(p)?).await }.await)
        }
        Op::Progress(p) => outcome(
            async { board.report_progress(b, &actor, TaskRef::Payload, Input::parse(p)?).await }.await,
        ),
        Op::Join(p) => {
            let fixed = matches!(who, Who::Viewer).then_some("Vera");
            outcome(board.join(b, conn, fixed, p).await)
        }
        Op::DragStart(p) => outcome(board.start_drag(b, &actor, conn, p).await),
        Op::DragEnd(p) => outcome(board.release_drag(b, conn, p).await),
        Op::Typing(p, started) => outcome(board.typing(&actor, conn, p, started)),
        Op::Subscribe(p) => outcome(Patterns::parse(p)),
        Op::Rest { route, id, body, content_type, idempotency } => {
            let mut req = Request::builder().method("POST").uri("/api/tasks");
            if let Some(ct) = content_type.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
                req = req.header("content-type", ct);
            }
            if let Some(key) = idempotency.as_deref().and_then(|k| HeaderValue::from_bytes(k.as_bytes()).ok())
            {
                req = req.header("idempotency-key", key);
            }
            let req = req.body(axum::body::Body::from(body)).unwrap();
            let body = match Body::from_request(req, app).await {
                Ok(body) => body,
                Err(e) => return Err((e.code(), e.to_string())),
            };
            let (s, c, r) = (State(app.clone()), Caller(rest_actor), RouteId(id));
            match route {
                RestRoute::Create => outcome(http::tasks::create(s, c, no_query(), body).await),
                RestRoute::Put => outcome(http::tasks::update(s, c, r, body).await),
                RestRoute::Delete => outcome(http::tasks::remove(s, c, r, body).await),
                RestRoute::Claim => outcome(http::tasks::claim(s, c, r, body).await),
                RestRoute::Next => outcome(http::tasks::next(s, c, no_query(), body).await),
                RestRoute::Release => outcome(http::tasks::release(s, c, r, body).await),
                RestRoute::Progress => outcome(http::tasks::progress(s, c, r, body).await),
                RestRoute::Agent => outcome(http::agents::report(s, c, r, no_query(), body).await),
            }
        }
        Op::RestRead { route, id, query } => {
            let uri = format!("/api/tasks?{query}");
            let Ok(req) = Request::builder().uri(uri).body(()) else {
                return Ok(()); // not a URI at all: the HTTP server refuses it before us
            };
            let (mut parts, ()) = req.into_parts();
            let params = match Params::from_request_parts(&mut parts, &()).await {
                Ok(p) => p,
                Err(e) => return Err((e.code(), e.to_string())),
            };
            let (s, c, r) = (State(app.clone()), Caller(rest_actor), RouteId(id));
            match route {
                ReadRoute::List => outcome(http::tasks::list(s, c, params).await),
                ReadRoute::One => outcome(http::tasks::read(s, c, r).await),
                ReadRoute::History => outcome(http::tasks::history(s, c, r, params).await),
                ReadRoute::Activity => outcome(http::activity::list(s, c, params).await),
                ReadRoute::Agent => outcome(http::agents::read(s, c, r).await),
            }
        }
        Op::Auth { authorization, api_key } => {
            let mut req = Request::builder().uri("/api/tasks");
            for (name, value) in [("authorization", authorization), ("x-api-key", api_key)] {
                if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(&v).ok()) {
                    req = req.header(name, v);
                }
            }
            let (mut parts, ()) = req.body(()).unwrap().into_parts();
            let presented = [parts.headers.get("authorization"), parts.headers.get("x-api-key")]
                .into_iter()
                .flatten()
                .any(|v| v.as_bytes().windows(KEY.len()).any(|w| w == KEY.as_bytes()));
            match Caller::from_request_parts(&mut parts, app).await {
                Ok(Caller(a)) if presented && a.credential == "team" => Ok(()),
                Ok(Caller(a)) => Err(("INTERNAL", format!("a caller was let in without the key: {a:?}"))),
                Err(e) => Err((e.code(), e.to_string())),
            }
        }
    }
}

/// How often each command got each answer, to see that cases reach past validation.
fn tally() -> &'static Mutex<BTreeMap<String, u64>> {
    static TALLY: OnceLock<Mutex<BTreeMap<String, u64>>> = OnceLock::new();
    TALLY.get_or_init(Default::default)
}

fn count(op: &Op, answer: &Outcome) {
    let name = format!("{op:?}");
    let name = name.split(['(', ' ']).next().unwrap_or("?");
    let code = answer.as_ref().err().map_or("ok", |(code, _)| code);
    if std::env::var_os("FUZZ_DEBUG").is_some()
        && let Err((_, message)) = answer
    {
        println!("{name} {code}: {}", message.chars().take(120).collect::<String>());
    }
    *tally().lock().unwrap().entry(format!("{name} {code}")).or_default() += 1;
}

/// What the board looks like, for the invariants.
struct Look {
    seq: i64,
    /// id -> (version, status, position)
    tasks: BTreeMap<i64, (i64, String, i64)>,
}

async fn look(app: &App) -> Result<Look, String> {
    let snapshot = app.board.snapshot(MAIN_BOARD).await.map_err(|e| format!("snapshot: {e:?}"))?;
    let listed =
        app.board.tasks(MAIN_BOARD, TaskFilter::default()).await.map_err(|e| format!("tasks: {e:?}"))?;
    let mut tasks = BTreeMap::new();
    let mut places = HashSet::new();
    for t in &listed {
        let title_len = t.title.chars().count();
        let ok = (1..=200).contains(&title_len)
            && t.title.trim() == t.title
            && !t.title.contains('\0')
            && t.description.chars().count() <= 10_000
            && !t.description.contains('\0')
            && t.assignee.as_ref().is_none_or(|a| (1..=64).contains(&a.chars().count()) && a.trim() == a)
            && t.version >= 1
            && t.position >= 0;
        if !ok {
            return Err(format!("a stored task breaks SPEC's limits: {t:?}"));
        }
        if !places.insert((t.status, t.position)) {
            return Err(format!("two tasks share position {} in {}: {listed:?}", t.position, t.status));
        }
        tasks.insert(t.id, (t.version, t.status.to_string(), t.position));
    }
    if snapshot.tasks.len() != listed.len() {
        return Err("sync:full and GET /api/tasks disagree".into());
    }
    Ok(Look { seq: snapshot.seq, tasks })
}

fn compare(before: &Look, after: &Look, what: &str) -> Result<(), String> {
    if after.seq < before.seq {
        return Err(format!("{what}: the sequence number went back from {} to {}", before.seq, after.seq));
    }
    for (id, (version, ..)) in &after.tasks {
        if let Some((old, ..)) = before.tasks.get(id)
            && version < old
        {
            return Err(format!("{what}: task {id} went back from version {old} to {version}"));
        }
    }
    Ok(())
}

/// One case: a fresh board, the commands in order, the invariants after each.
fn check(ops: Vec<(Who, Op)>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let db = dir.path().join("fuzz.db");
    let db = db.to_str().unwrap();
    let cli = Cli::parse_from(["warroom", "serve", "--db", db, "--api-key", KEY, "--durability", "normal"]);
    let Some(Command::Serve(args)) = cli.command else { unreachable!("`serve` parses as serve") };
    let result = runtime().block_on(async {
        let (app, _) = App::open(&args).await.map_err(|e| format!("opening: {e:#}"))?;
        for (conn, credential) in [("conn-a", "team"), ("conn-b", "team"), ("conn-v", "token:viewer")] {
            let seat = app.board.reserve_seat(credential, usize::MAX).expect("no connection limit here");
            app.board.open_connection(conn, MAIN_BOARD, seat);
        }
        // Named, not announced: the viewer is there before the board's first look.
        drop(app.board.arrive(MAIN_BOARD, "conn-v", "Vera").await);
        // A few tasks to aim at, so ids 1..10 often name one.
        let (alice, _) = actor(Who::Alice);
        for (i, status) in [Status::Todo, Status::Todo, Status::Done, Status::Review].into_iter().enumerate()
        {
            let task = NewTask { status, ..NewTask::titled(format!("seed {i}")) };
            app.board
                .create_task(MAIN_BOARD, &alice, CreateTask { op_id: None, task })
                .await
                .map_err(|e| format!("seeding: {e:?}"))?;
        }
        let mut before = look(&app).await?;
        let mut outcome = Ok(());
        for (step, (who, op)) in ops.into_iter().enumerate() {
            let writes = !matches!(op, Op::Join(_) | Op::RestRead { .. } | Op::Auth { .. });
            let what = format!("step {step} ({who:?} {})", short(&op));
            let name = op.clone();
            let answer = run(&app, who, op).await;
            count(&name, &answer);
            if let Err((code, message)) = &answer {
                if !SPEC_CODES.contains(code) {
                    outcome = Err(format!("{what}: answered {code}: {message}"));
                    break;
                }
                if message.is_empty() {
                    outcome = Err(format!("{what}: {code} without a message"));
                    break;
                }
            }
            let after = look(&app).await?;
            if let Err(e) = compare(&before, &after, &what) {
                outcome = Err(e);
                break;
            }
            let refused = answer.is_err() || matches!(who, Who::Viewer);
            if writes && refused && (after.seq != before.seq || after.tasks != before.tasks) {
                outcome = Err(format!("{what}: refused ({answer:?}) but the board changed"));
                break;
            }
            before = after;
        }
        app.board.close().await;
        outcome
    });
    drop(dir);
    result.map_err(TestCaseError::fail)
}

/// An op's name and the start of its payload, for failure messages.
fn short(op: &Op) -> String {
    let text = format!("{op:?}");
    text.chars().take(160).collect()
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        // Every case opens a database: shrinking is slow, so keep it bounded.
        max_shrink_iters: 2048,
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

#[test]
fn any_json_sent_to_any_command_or_rest_route_gets_ok_or_a_spec_error_and_the_board_stays_consistent() {
    let deadline = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let mut batches = 0u32;
    loop {
        let mut runner = TestRunner::new(config());
        match runner.run(&case(), check) {
            Ok(()) => {}
            Err(TestError::Fail(why, ops)) => {
                panic!("fuzzing found a failure (kept in {REGRESSIONS}): {why}\nminimal case: {ops:#?}")
            }
            Err(e) => panic!("fuzzing stopped: {e}"),
        }
        batches += 1;
        if deadline.is_none_or(|d| Instant::now() >= d) {
            break;
        }
    }
    let cases = u64::from(batches) * u64::from(config().cases);
    let tally = tally().lock().unwrap();
    let commands: u64 = tally.values().sum();
    println!(
        "fuzz_inputs: {cases} cases, {commands} commands in {batches} batches, {:.1} s, no failure",
        started.elapsed().as_secs_f64()
    );
    for (answer, n) in tally.iter() {
        println!("  {answer}: {n}");
    }
}

/// No query string: the older routes act on board `main`.
fn no_query() -> Params {
    Params(Default::default())
}
