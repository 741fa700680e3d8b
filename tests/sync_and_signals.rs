//! Catching up after a reconnect, narrowing events with `subscribe`, ephemeral signals
//! (typing), and the limits a socket meets.

mod common;

use std::time::{Duration, Instant};

use common::{DEADLINE, Socket, TestApp, id_of};
use serde_json::{Value, json};

/// Names of the events received after the first `skip`, leaving out the greeting.
fn names_after(socket: &Socket, skip: usize) -> Vec<String> {
    socket.inbox.all().into_iter().skip(skip).map(|e| e.name).filter(|n| n != "sync:full").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_reconnecting_with_last_seq_gets_exactly_what_it_missed() {
    let app = TestApp::spawn().await;
    let alice = app.socket(None).await;
    let bob = app.socket(None).await;
    let seen = bob.sync()["seq"].as_i64().unwrap();
    bob.close().await;
    let id = id_of(&alice.create_task("While Bob was away").await);
    alice.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;

    let bob = app.connect(json!({ "apiKey": app.key, "lastSeq": seen })).await.expect("reconnecting");

    let resumed = bob.wait_event("sync:resumed").await;
    assert_eq!(resumed.payload, json!({ "seq": seen + 2 }));
    let missed: Vec<(String, Option<i64>)> = bob
        .inbox
        .all()
        .into_iter()
        .take_while(|e| e.name != "sync:resumed")
        .map(|e| (e.name, e.seq))
        .collect();
    let created = seen + 1;
    let moved = seen + 2;
    assert_eq!(
        missed,
        vec![
            (format!("task:{id}:created"), Some(created)),
            ("task:created".into(), Some(created)),
            ("activity".into(), Some(created)),
            (format!("task:{id}:updated"), Some(moved)),
            ("task:moved".into(), Some(moved)),
            ("celebration".into(), Some(moved)),
            ("activity".into(), Some(moved)),
        ],
        "each missed event once, in order, with its seq"
    );
    assert!(bob.received("sync:full").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_seq_the_server_cannot_serve_gets_sync_full() {
    let app = TestApp::spawn().await;
    app.create_task("on the board").await;

    let socket = app.connect(json!({ "apiKey": app.key, "lastSeq": 10_000 })).await.expect("connecting");

    assert_eq!(socket.sync()["tasks"].as_array().unwrap().len(), 1);
    assert!(socket.received("sync:resumed").is_empty());
}

/// Each `users:update` with a seq lists exactly the people whose joins and leaves up to that
/// seq say are online, even while people come and go at the same moment: a leave committed
/// just after someone else arrived must not list them before their own join.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_users_update_lists_the_people_online_as_of_its_seq() {
    let app = TestApp::spawn().await;
    let watcher = app.socket(None).await;
    let first = watcher.sync()["seq"].as_i64().unwrap();
    let names: Vec<String> = (0..24).map(|i| format!("Person{i}")).collect();
    let mut staying = Vec::new();
    for round in 0..3 {
        // Everyone joins at once (the odd ones again, in a second tab); then the even ones leave.
        let joined = futures_util::future::join_all(names.iter().map(|n| app.socket(Some(n)))).await;
        let mut leaving = Vec::new();
        for (i, socket) in joined.into_iter().enumerate() {
            if i % 2 == 0 { leaving.push(socket) } else { staying.push(socket) }
        }
        futures_util::future::join_all(leaving.into_iter().map(Socket::close)).await;
        // Their leaves come after the presence grace; back before it, they would not have left.
        let deadline = Instant::now() + DEADLINE;
        while watcher.received("activity").iter().filter(|a| a.payload["type"] == "user.left").count()
            < 12 * (round + 1)
        {
            assert!(Instant::now() < deadline, "round {round}: the leaves did not come within {DEADLINE:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    futures_util::future::join_all(staying.into_iter().map(Socket::close)).await;
    // Wait for the last leave, then replay the joins and leaves in seq order.
    let last = watcher.wait_for("users:update", |users| users.as_array().is_some_and(|u| u.is_empty())).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let events = loop {
        // Its activity entry follows the list.
        let events = watcher.inbox.all();
        if events.iter().any(|e| e.name == "activity" && e.seq == last.seq) || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let mut online = std::collections::BTreeSet::new();
    let mut by_seq: std::collections::BTreeMap<i64, (Vec<Value>, Option<Value>)> = Default::default();
    for e in events.iter().filter(|e| e.seq.is_some_and(|s| s > first)) {
        let slot = by_seq.entry(e.seq.unwrap()).or_default();
        match e.name.as_str() {
            "activity" => slot.0.push(e.payload.clone()),
            "users:update" => slot.1 = Some(e.payload.clone()),
            _ => {}
        }
    }
    let mut checked = 0;
    for (seq, (activity, users)) in by_seq {
        for a in &activity {
            let who = a["user"].as_str().unwrap().to_owned();
            match a["type"].as_str() {
                Some("user.joined") => assert!(online.insert(who), "seq {seq}: a second join"),
                Some("user.left") => assert!(online.remove(&who), "seq {seq}: a leave of someone absent"),
                _ => {}
            }
        }
        if let Some(users) = users {
            let listed: std::collections::BTreeSet<String> =
                users.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_owned()).collect();
            assert_eq!(listed, online, "the users:update of seq {seq}");
            checked += 1;
        }
    }
    assert!(checked >= 24 * 4, "only {checked} users:update events were checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_with_one_segment_wildcards_narrows_the_events() {
    let app = TestApp::spawn().await;
    let alice = app.socket(None).await;
    let bob = app.socket(None).await;

    let ack = bob.ack_ok("subscribe", json!({ "patterns": ["task:*"] })).await;

    assert_eq!(ack["patterns"], json!(["task:*"]));
    let skip = bob.inbox.all().len();
    let first = id_of(&alice.create_task("first").await);
    alice.ack_ok("task:move", json!({ "taskId": first, "status": "DONE" })).await;
    let last = id_of(&alice.create_task("last").await);
    bob.wait_for("task:created", |p| p["task"]["id"] == last).await;
    assert_eq!(
        names_after(&bob, skip),
        vec!["task:created", "task:moved", "task:created"],
        "`*` is exactly one segment: no task:{{id}}:created, no activity, no celebration"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_with_double_wildcards_and_with_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.socket(None).await;
    let bob = app.socket(None).await;
    bob.ack_ok("subscribe", json!({ "patterns": ["task:**"] })).await;
    let skip = bob.inbox.all().len();

    let id = id_of(&alice.create_task("deep").await);

    bob.wait_for("task:created", |p| p["task"]["id"] == id).await;
    assert_eq!(names_after(&bob, skip), vec![format!("task:{id}:created"), "task:created".into()]);

    bob.ack_ok("subscribe", json!({ "patterns": [] })).await;
    let skip = bob.inbox.all().len();
    let hidden = id_of(&alice.create_task("hidden").await);
    // Alice gets everything: once her last event of that change is in, Bob's was decided.
    alice.wait_for("activity", |a| a["taskId"] == hidden).await;
    bob.ack_ok("subscribe", json!({ "patterns": ["task:created"] })).await;
    let shown = id_of(&alice.create_task("shown").await);
    bob.wait_for("task:created", |p| p["task"]["id"] == shown).await;
    assert_eq!(names_after(&bob, skip), vec!["task:created"]);
    let error = bob.ack_err("subscribe", json!({ "patterns": "task:*" })).await;
    assert_eq!(error["code"], "VALIDATION_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_is_shown_to_the_others_and_ends_on_stop() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;

    alice.ack_ok("typing:start", json!({})).await;
    bob.wait_for("typing:update", |names| names == &json!(["Alice"])).await;
    bob.ack_ok("typing:start", json!({})).await;
    alice
        .wait_for("typing:update", |names| names.as_array().is_some_and(|n| n.contains(&json!("Bob"))))
        .await;
    alice.ack_ok("typing:stop", json!({})).await;

    bob.wait_for("typing:update", |names| names == &json!(["Bob"])).await;
    assert!(
        alice.received("typing:update").iter().all(|e| e.payload.as_array().unwrap().contains(&json!("Bob"))),
        "typing goes to the others only: {:?}",
        alice.received("typing:update")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_ends_by_itself_three_seconds_after_the_last_start() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;

    alice.ack_ok("typing:start", json!({})).await;
    bob.wait_for("typing:update", |names| names == &json!(["Alice"])).await;
    let started = Instant::now();

    bob.wait_for_within("typing:update", |names| names == &json!([]), Duration::from_secs(6)).await;
    assert!(started.elapsed() >= Duration::from_millis(2500), "ended after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_message_over_one_mebibyte_is_refused_and_others_carry_on() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;

    let error = alice
        .ack_err(
            "task:create",
            json!({ "title": "huge", "description": "a".repeat(1024 * 1024 + 100 * 1024) }),
        )
        .await;

    assert_eq!(error["code"], "PAYLOAD_TOO_LARGE");
    assert!(app.tasks().await.is_empty(), "nothing written");
    let after = alice.create_task("still connected").await;
    bob.wait_for("task:created", |p| p["task"]["id"] == after["id"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_without_position_puts_the_task_at_the_end_of_its_new_column() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let first = id_of(&app.create_task_with(json!({ "title": "r1", "status": "REVIEW" })).await);
    let second = id_of(&app.create_task_with(json!({ "title": "r2", "status": "REVIEW" })).await);
    let mover = id_of(&app.create_task("todo").await);

    alice.ack_ok("task:move", json!({ "taskId": mover.to_string(), "status": "REVIEW" })).await;

    let column: Vec<i64> =
        app.get("/api/tasks?status=REVIEW").await.body.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(column, vec![first, second, mover], "listed in column order");
    alice.ack_ok("task:move", json!({ "taskId": mover, "status": "REVIEW", "position": 0 })).await;
    let column: Vec<i64> =
        app.get("/api/tasks?status=REVIEW").await.body.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(column, vec![mover, first, second]);
    let positions: Vec<Value> = app
        .get("/api/tasks?status=REVIEW")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["position"].clone())
        .collect();
    let sorted = {
        let mut p: Vec<i64> = positions.iter().map(|v| v.as_i64().unwrap()).collect();
        p.sort();
        p.dedup();
        p
    };
    assert_eq!(sorted.len(), 3, "distinct positions: {positions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_too_big_for_the_transport_closes_only_that_socket() {
    let app = TestApp::spawn().await;
    let mallory = app.socket(Some("Mallory")).await;
    let bob = app.socket(Some("Bob")).await;

    mallory.emit("task:create", json!({ "title": "x", "description": "a".repeat(9 * 1024 * 1024) })).await;

    bob.wait_for("users:update", |users| {
        users == &json!([{ "id": "bob", "name": "Bob", "status": "online" }])
    })
    .await;
    assert_eq!(app.get("/api/health").await.body["connections"], 1);
    let task = bob.create_task("business as usual").await;
    assert_eq!(app.tasks().await, vec![task]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_json_past_the_parser_limit_is_refused_with_validation_error() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    // 300 levels: past the server's limit, still within what the client can serialise.
    let mut deep = json!("x");
    for _ in 0..300 {
        deep = json!([deep]);
    }

    let error = alice.ack_err("task:create", json!({ "title": deep })).await;

    assert_eq!(error["code"], "VALIDATION_ERROR");
    assert!(app.tasks().await.is_empty());
    alice.create_task("the socket still works").await;
}
