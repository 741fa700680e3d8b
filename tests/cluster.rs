//! Two real instances, A and B, on one PostgreSQL database and one Redis, as behind a load
//! balancer: what a client sees on one instance must not depend on which instance the others
//! talk to. Each test makes its own database (`TEST_DATABASE_URL`) and Redis key prefix
//! (`TEST_REDIS_URL`); without them it prints `SKIPPED: …` and passes.

mod common;

use std::time::Duration;

use common::postgres::TestDatabase;
use common::redis::TestRedis;
use common::{Database, TestApp, id_of, serve_args};
use serde_json::json;

/// docs/scaling.md: a dead instance's locks and agents are released within about 6 s (its
/// heartbeat lives 5 s, survivors look every second); the margin is for a loaded machine.
const REAP_DEADLINE: Duration = Duration::from_secs(10);

struct Pair {
    a: TestApp,
    b: TestApp,
    redis: TestRedis,
    // Dropped last: the instances' connections go first.
    _db: TestDatabase,
}

async fn pair(test: &str) -> Option<Pair> {
    let redis = TestRedis::create(test)?;
    let db = TestDatabase::create(test).await?;
    let a = instance(&db, &redis).await;
    let b = instance(&db, &redis).await;
    Some(Pair { a, b, redis, _db: db })
}

async fn instance(db: &TestDatabase, redis: &TestRedis) -> TestApp {
    let (db_url, redis_url, prefix) = (db.url.clone(), redis.url.clone(), redis.prefix.clone());
    TestApp::spawn_with(Database::fresh(), move |args| {
        args.database_url = Some(db_url);
        args.redis_url = Some(redis_url);
        args.redis_prefix = prefix;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_presence_and_typing_on_one_instance_reach_clients_on_the_other() {
    let Some(Pair { a, b, redis: _redis, _db }) =
        pair("a_change_presence_and_typing_on_one_instance_reach_clients_on_the_other").await
    else {
        return;
    };
    let health = a.get("/api/health").await;
    assert_eq!(health.body["redis"], "ok", "{health:?}");
    let bob = b.socket(Some("Bob")).await;
    let alice = a.socket(Some("Alice")).await;

    // Presence: each sees the other, whatever instance they are on.
    bob.wait_for("users:update", |users| {
        users.as_array().is_some_and(|u| u.iter().any(|p| p["id"] == "alice"))
    })
    .await;
    alice
        .wait_for("users:update", |users| {
            users.as_array().is_some_and(|u| u.iter().any(|p| p["id"] == "bob") && u.len() == 2)
        })
        .await;

    // Typing crosses, for the others only.
    alice.ack_ok("typing:start", json!({})).await;
    bob.wait_for("typing:update", |names| *names == json!(["Alice"])).await;

    // A change on A reaches B with the same sequence number.
    let task = alice.create_task("Across instances").await;
    let id = id_of(&task);
    let on_a = alice.wait_event(&format!("task:{id}:created")).await;
    let on_b = bob.wait_event(&format!("task:{id}:created")).await;
    assert_eq!(on_b.payload, task);
    assert!(on_a.seq.is_some());
    assert_eq!(on_a.seq, on_b.seq, "one change, one seq, on every instance");
    let moved = bob.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    alice.wait_for("task:moved", |m| m["taskId"] == id && m["movedBy"] == "Bob").await;
    alice.wait_for("celebration", |c| c["taskId"] == id).await;
    assert_eq!(moved["task"]["version"], 2);

    // Someone leaving B leaves A's list.
    bob.close().await;
    alice
        .wait_for("users:update", |users| {
            users.as_array().is_some_and(|u| u.iter().all(|p| p["id"] != "bob"))
        })
        .await;
    drop(alice);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drag_lock_taken_on_one_instance_refuses_a_move_on_the_other() {
    let Some(Pair { a, b, redis: _redis, _db }) =
        pair("a_drag_lock_taken_on_one_instance_refuses_a_move_on_the_other").await
    else {
        return;
    };
    let carol = a.socket(Some("Carol")).await;
    let dave = b.socket(Some("Dave")).await;
    let id = id_of(&a.create_task("Locked card").await);

    carol.ack_ok("task:drag:start", json!({ "taskId": id })).await;
    dave.wait_for("task:drag:other", |d| d["taskId"] == id && d["user"] == "Carol").await;

    let refused = dave.ack_err("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    assert_eq!(refused["code"], "TASK_LOCKED");
    assert_eq!(dave.ack_err("task:drag:start", json!({ "taskId": id })).await["code"], "TASK_LOCKED");
    b.put(&format!("/api/tasks/{id}"), json!({ "title": "Renamed" })).await.assert_error(409, "TASK_LOCKED");

    // The holder's own move goes through and ends the lock for everyone.
    carol.ack_ok("task:move", json!({ "taskId": id, "status": "REVIEW" })).await;
    dave.wait_for("task:drag:other", |d| d["taskId"] == id && d["user"].is_null()).await;
    dave.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    drop((carol, dave));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_instance_frees_its_drag_locks_and_its_agents_go_offline() {
    let Some(Pair { a, b, redis, _db }) =
        pair("a_crashed_instance_frees_its_drag_locks_and_its_agents_go_offline").await
    else {
        return;
    };
    let carol = a.socket(Some("Carol")).await;
    let agent = a.socket(None).await;
    let dave = b.socket(Some("Dave")).await;
    let id = id_of(&a.create_task("Held by a dying instance").await);
    agent.ack_ok("agent:status", json!({ "id": "bot-1", "status": "busy" })).await;
    dave.wait_for("agent:bot-1:status", |s| s["status"] == "busy").await;
    carol.ack_ok("task:drag:start", json!({ "taskId": id })).await;
    dave.wait_for("task:drag:other", |d| d["taskId"] == id && d["user"] == "Carol").await;
    dave.wait_for("users:update", |u| u.as_array().is_some_and(|u| u.iter().any(|p| p["id"] == "carol")))
        .await;

    // A dies without a word; its sockets stay open to nothing, so only the survivors'
    // reaper can end what A held.
    a.crash().await;

    dave.wait_for_within("task:drag:other", |d| d["taskId"] == id && d["user"].is_null(), REAP_DEADLINE)
        .await;
    dave.wait_for_within("agent:bot-1:status", |s| s["status"] == "offline", REAP_DEADLINE).await;
    dave.wait_for_within(
        "users:update",
        |u| u.as_array().is_some_and(|u| u.iter().all(|p| p["id"] != "carol")),
        REAP_DEADLINE,
    )
    .await;
    dave.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    let agent_now = b.get("/api/agents/bot-1").await;
    assert_eq!(agent_now.body["status"], "offline", "{agent_now:?}");
    assert!(
        !redis.keys().iter().any(|k| k.contains(":lock:")),
        "no drag lock is left in Redis: {:?}",
        redis.keys()
    );
    drop((carol, agent, dave));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_moved_from_one_instance_to_the_other_resumes_without_a_gap() {
    let Some(Pair { a, b, redis: _redis, _db }) =
        pair("a_client_moved_from_one_instance_to_the_other_resumes_without_a_gap").await
    else {
        return;
    };
    let watcher = b.socket(None).await;
    let erin = a.socket(None).await;
    let first = id_of(&erin.create_task("Seen on A").await);
    let last_seen = erin.wait_event(&format!("task:{first}:created")).await.seq.expect("a seq");
    // B has it too, so its ring reaches back to what Erin saw.
    watcher.wait_event(&format!("task:{first}:created")).await;
    erin.close().await;

    // Missed while away: changes made on both instances.
    let missed_a = id_of(&a.create_task("Missed, made on A").await);
    let missed_b = id_of(&b.create_task("Missed, made on B").await);
    watcher.wait_event(&format!("task:{missed_a}:created")).await;
    watcher.wait_event(&format!("task:{missed_b}:created")).await;

    let erin =
        b.connect(json!({ "apiKey": b.key, "lastSeq": last_seen })).await.expect("the resumed connection");

    let all = erin.inbox.all();
    let resumed = all.iter().position(|e| e.name == "sync:resumed").expect("sync:resumed, not sync:full");
    assert!(erin.received("sync:full").is_empty());
    let replayed = &all[..resumed];
    let mut seqs: Vec<i64> =
        replayed.iter().map(|e| e.seq.expect("every replayed event has its seq")).collect();
    seqs.dedup();
    let end = all[resumed].payload["seq"].as_i64().expect("sync:resumed { seq }");
    assert_eq!(seqs, ((last_seen + 1)..=end).collect::<Vec<_>>(), "exactly the missed changes, in order");
    for id in [missed_a, missed_b] {
        assert!(replayed.iter().any(|e| e.name == format!("task:{id}:created")), "task {id} replayed");
    }
    drop((erin, watcher));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_credential_is_rate_limited_across_instances() {
    let Some(redis) = TestRedis::create("a_rest_credential_is_rate_limited_across_instances") else {
        return;
    };
    let Some(db) = TestDatabase::create("a_rest_credential_is_rate_limited_across_instances").await else {
        return;
    };
    let spawn = |rate: u32| {
        let (db_url, redis_url, prefix) = (db.url.clone(), redis.url.clone(), redis.prefix.clone());
        TestApp::spawn_with(Database::fresh(), move |args| {
            args.database_url = Some(db_url);
            args.redis_url = Some(redis_url);
            args.redis_prefix = prefix;
            args.rate_limit = rate;
        })
    };
    let (a, b) = (spawn(1).await, spawn(1).await);

    // One per second with bursts of two: five quick requests span at most two one-second
    // windows, so at most four pass, whichever instance they reach.
    let mut statuses = Vec::new();
    for app in [&a, &b, &a, &b, &a] {
        statuses.push(app.get("/api/tasks").await.status);
    }

    assert!(statuses.contains(&429), "the shared limit refused some: {statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 200).count() <= 4, "{statuses:?}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn redis_without_postgres_refuses_to_start_with_a_clear_message() {
    let db = Database::fresh();
    let mut args = serve_args(&db.path);
    // Never contacted: the configuration is refused before any connection.
    args.redis_url = Some("redis://127.0.0.1:1".to_owned());

    let Err(refusal) = warroom::App::open(&args).await else {
        panic!("REDIS_URL with SQLite must not start");
    };

    let message = format!("{refusal:#}");
    assert!(message.contains("DATABASE_URL"), "{message}");
}
