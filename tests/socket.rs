//! The Socket.IO contract as people's screens and agents see it: commands with their
//! acknowledgements, and the events every other socket receives at the same time.

mod common;

use common::{Socket, TestApp, id_of};
use serde_json::{Value, json};

/// A change that everyone sees after everything sent before it: once `observer` has its
/// `task:created`, every event of earlier changes has reached `observer` too (per-socket order).
async fn barrier(writer: &Socket, observer: &Socket) {
    let marker = writer.create_task("barrier").await;
    let id = id_of(&marker);
    observer.wait_for("task:created", |p| p["task"]["id"] == id).await;
}

/// Every event named `event` that `observer` received about task `id`, by name.
fn about(observer: &Socket, id: i64) -> Vec<String> {
    let own = [format!("task:{id}:created"), format!("task:{id}:updated"), format!("task:{id}:deleted")];
    observer
        .inbox
        .all()
        .into_iter()
        .filter(|e| own.contains(&e.name) || e.payload["taskId"] == id || e.payload["task"]["id"] == id)
        .map(|e| e.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_key_is_refused_with_connect_error_unauthorized() {
    let app = TestApp::spawn().await;

    for auth in [
        json!({ "apiKey": "not-the-key", "name": "Mallory" }),
        json!({ "name": "Mallory" }),
        json!({ "apiKey": 42 }),
    ] {
        let refused =
            app.connect(auth.clone()).await.map(|_| ()).expect_err("the handshake should be refused");
        assert_eq!(refused.payload["message"], "Unauthorized", "{auth}");
        let names: Vec<String> = refused.inbox.all().into_iter().map(|e| e.name).collect();
        assert!(
            names.iter().all(|n| n == "connect_error" || n == "disconnect"),
            "nothing else is sent to a refused client: {names:?}"
        );
    }
    assert_eq!(app.get("/api/health").await.body["connections"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_name_at_the_handshake_is_refused_with_validation_error() {
    let app = TestApp::spawn().await;

    let refused = app
        .connect(json!({ "apiKey": app.key, "name": "x".repeat(65) }))
        .await
        .map(|_| ())
        .expect_err("the handshake should be refused");

    let message = refused.payload["message"].as_str().unwrap_or("");
    assert!(message.starts_with("VALIDATION_ERROR"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_starts_with_sync_full_of_tasks_agents_users_and_seq() {
    let app = TestApp::spawn().await;
    let task = app.create_task("already there").await;
    let agent = app.put("/api/agents/bot-7", json!({ "status": "busy" })).await.body;
    let adam = app.socket(Some("Adam")).await;
    // `auth.name` counts as a join, recorded just after Adam's own sync.
    adam.wait_for("activity", |a| a["type"] == "user.joined").await;
    let latest = app.get("/api/activity?limit=1").await.body[0].clone();

    let nick = app.socket(Some("Nick")).await;

    let sync = nick.sync();
    assert_eq!(sync["tasks"], json!([task]));
    assert_eq!(sync["agents"], json!([agent]));
    let users = sync["users"].as_array().expect("users");
    assert!(
        users.iter().any(|u| u["name"] == "Adam" && u["status"] == "online" && u["id"].is_string()),
        "{users:?}"
    );
    assert_eq!(sync["seq"], latest["seq"], "the board's current seq");
    assert_eq!(sync["seq"], 3, "a task, an agent, a person joining");
    assert_eq!(adam.received("sync:full").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_task_acknowledges_the_sender_and_tells_every_socket() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;

    let ack = alice
        .ack_ok(
            "task:create",
            json!({ "text": "Write the tests", "assignedTo": "bob", "description": "all of them" }),
        )
        .await;

    let task = &ack["task"];
    let id = id_of(task);
    assert_eq!(task["title"], "Write the tests", "seed 002's `text`");
    assert_eq!(task["assignee"], "bob", "seed 000's `assignedTo`");
    assert_eq!(task["createdBy"], "Alice");
    assert_eq!(task["version"], 1);
    let created = format!("task:{id}:created");
    for socket in [&alice, &bob] {
        let full = socket.wait_event(&created).await;
        assert_eq!(&full.payload, task, "the full task, sender included");
        let seed = socket.wait_for("task:created", |p| p["task"]["id"] == id).await;
        assert_eq!(&seed.payload["task"], task);
        assert_eq!(seed.payload["user"], "Alice");
        assert!(seed.payload["timestamp"].is_string());
        let activity =
            socket.wait_for("activity", |a| a["type"] == "task.created" && a["taskId"] == id).await;
        assert_eq!(activity.payload["user"], "Alice");
    }
    assert_eq!(app.task(id).await, *task, "acknowledged after it was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_changes_only_the_given_fields_and_sends_only_those() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let before =
        app.create_task_with(json!({ "title": "Draft", "description": "keep me", "assignee": "nick" })).await;
    let id = id_of(&before);

    let ack = alice.ack_ok("task:update", json!({ "id": id, "title": "Final" })).await;

    let task = &ack["task"];
    assert_eq!(task["title"], "Final");
    assert_eq!(task["description"], "keep me");
    assert_eq!(task["assignee"], "nick");
    assert_eq!(task["version"], 2);
    let patch = bob.wait_event(&format!("task:{id}:updated")).await.payload;
    assert_eq!(
        patch,
        json!({ "id": id, "title": "Final", "version": 2, "updatedAt": task["updatedAt"] }),
        "only the changed field, plus id, version and updatedAt"
    );
    let activity = bob.wait_for("activity", |a| a["type"] == "task.updated" && a["taskId"] == id).await;
    assert_eq!(activity.payload["user"], "Alice");
    assert_eq!(activity.payload["changes"], json!({ "title": { "from": "Draft", "to": "Final" } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_with_the_current_values_emits_nothing_and_keeps_the_version() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let before = app.create_task_with(json!({ "title": "Same", "status": "REVIEW" })).await;
    let id = id_of(&before);
    bob.wait_event(&format!("task:{id}:created")).await;

    let ack = alice
        .ack_ok("task:update", json!({ "id": id, "title": "Same", "status": "REVIEW", "version": 1 }))
        .await;

    assert_eq!(ack["task"], before, "the unchanged task");
    barrier(&alice, &bob).await;
    assert_eq!(
        about(&bob, id),
        vec![format!("task:{id}:created"), "task:created".into(), "activity".into()],
        "no event for a change that changed nothing"
    );
    assert_eq!(app.task(id).await["version"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_with_a_stale_version_is_refused_with_conflict() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let id = id_of(&alice.create_task("Budget").await);
    bob.ack_ok("task:update", json!({ "id": id, "title": "Budget v2", "version": 1 })).await;

    let error =
        alice.ack_err("task:update", json!({ "id": id, "title": "Budget (mine)", "version": 1 })).await;

    assert_eq!(error["code"], "CONFLICT");
    let event = alice.wait_event("error").await;
    assert_eq!(event.payload, error, "the failed command also sends `error`");
    assert!(bob.received("error").is_empty(), "only to the sender");
    let task = app.task(id).await;
    assert_eq!(task["title"], "Budget v2");
    assert_eq!(task["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_task_into_done_announces_the_move_and_a_celebration() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let id = id_of(&alice.create_task("Launch").await);

    let review = alice.ack_ok("task:move", json!({ "taskId": id, "status": "REVIEW" })).await;
    assert_eq!(review["task"]["status"], "REVIEW");
    let moved = bob.wait_for("task:moved", |p| p["taskId"] == id && p["newStatus"] == "REVIEW").await;
    assert_eq!(moved.payload["movedBy"], "Alice");

    let done = alice.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;

    assert_eq!(done["task"]["status"], "DONE");
    assert_eq!(done["task"]["version"], 3);
    bob.wait_for("task:moved", |p| p["taskId"] == id && p["newStatus"] == "DONE").await;
    let celebration = bob.wait_for("celebration", |p| p["taskId"] == id).await;
    assert_eq!(celebration.payload, json!({ "user": "Alice", "taskId": id }));
    assert_eq!(bob.received("celebration").len(), 1, "only the move into DONE celebrates");
    alice.wait_for("celebration", |p| p["taskId"] == id).await;
    let patch = bob.wait_for(&format!("task:{id}:updated"), |p| p["status"] == "DONE").await;
    assert_eq!(patch.payload["version"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_task_already_done_does_not_celebrate() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;

    alice.ack_ok("task:create", json!({ "title": "Old news", "status": "DONE" })).await;

    barrier(&alice, &bob).await;
    assert!(bob.received("celebration").is_empty());
    assert!(bob.received("task:moved").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_task_tells_every_socket() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let id = id_of(&alice.create_task("Obsolete").await);

    let ack = alice.ack_ok("task:delete", json!({ "taskId": id })).await;

    assert_eq!(ack, json!({ "ok": true }));
    for socket in [&alice, &bob] {
        let gone = socket.wait_event(&format!("task:{id}:deleted")).await;
        assert_eq!(gone.payload, json!({ "id": id }));
        let seed = socket.wait_for("task:deleted", |p| p["taskId"] == id).await;
        assert_eq!(seed.payload, json!({ "taskId": id, "deletedBy": "Alice" }));
    }
    app.get(&format!("/api/tasks/{id}")).await.assert_error(404, "TASK_NOT_FOUND");
    let again = alice.ack_err("task:delete", json!({ "taskId": id })).await;
    assert_eq!(again["code"], "TASK_NOT_FOUND");
    assert_eq!(again["message"], format!("Task {id} not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dragged_task_is_locked_against_everyone_else_until_the_holder_moves_it() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let id = id_of(&alice.create_task("Hot potato").await);

    alice.ack_ok("task:drag:start", json!({ "taskId": id })).await;

    let dragging = bob.wait_for("task:drag:other", |p| p["taskId"] == id).await;
    assert_eq!(dragging.payload, json!({ "taskId": id, "user": "Alice" }));
    let refused = bob.ack_err("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    assert_eq!(refused["code"], "TASK_LOCKED");
    assert_eq!(bob.wait_event("error").await.payload["code"], "TASK_LOCKED");
    for (event, payload) in [
        ("task:update", json!({ "id": id, "title": "mine" })),
        ("task:delete", json!({ "taskId": id })),
        ("task:drag:start", json!({ "taskId": id })),
    ] {
        assert_eq!(bob.ack_err(event, payload).await["code"], "TASK_LOCKED", "{event}");
    }
    let rest = app.put(&format!("/api/tasks/{id}"), json!({ "status": "DONE" })).await;
    rest.assert_error(409, "TASK_LOCKED");
    assert!(alice.received("task:drag:other").is_empty(), "the dragger is not told about its own drag");
    let untouched = app.task(id).await;
    assert_eq!(untouched["status"], "TODO");
    assert_eq!(untouched["version"], 1);

    let moved = alice.ack_ok("task:move", json!({ "taskId": id, "status": "IN_PROGRESS" })).await;

    assert_eq!(moved["task"]["status"], "IN_PROGRESS");
    bob.wait_for("task:drag:other", |p| p == &json!({ "taskId": id, "user": null })).await;
    let after = bob.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    assert_eq!(after["task"]["status"], "DONE", "the lock ended with the move");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drag_lock_ends_on_drag_end_and_on_disconnect() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let id = id_of(&alice.create_task("Passed around").await);

    alice.ack_ok("task:drag:start", json!({ "taskId": id })).await;
    alice.ack_ok("task:drag:end", json!({ "taskId": id })).await;
    bob.wait_for("task:drag:other", |p| p["user"].is_null()).await;
    bob.ack_ok("task:update", json!({ "id": id, "title": "Bob's now" })).await;

    alice.ack_ok("task:drag:start", json!({ "taskId": id })).await;
    assert_eq!(
        bob.ack_err("task:move", json!({ "taskId": id, "status": "DONE" })).await["code"],
        "TASK_LOCKED"
    );
    alice.close().await;

    bob.wait_for("users:update", |users| {
        users.as_array().is_some_and(|u| u.iter().all(|p| p["name"] != "Alice"))
    })
    .await;
    bob.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    let missing = bob.ack_err("task:drag:start", json!({ "taskId": 9999 })).await;
    assert_eq!(missing["code"], "TASK_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_with_a_name_announces_the_user_to_every_socket() {
    let app = TestApp::spawn().await;
    let anonymous = app.socket(None).await;
    let bob = app.socket(Some("Bob")).await;

    let ack = anonymous.ack_ok("user:join", json!({ "name": "  Alice " })).await;

    assert_eq!(ack["user"]["name"], "Alice");
    for socket in [&anonymous, &bob] {
        let update = socket
            .wait_for("users:update", |users| {
                users.as_array().is_some_and(|u| u.iter().any(|p| p["name"] == "Alice"))
            })
            .await;
        let users = update.payload.as_array().unwrap();
        assert_eq!(users.len(), 2, "Alice and Bob: {users:?}");
        assert!(users.iter().all(|u| u["status"] == "online"));
        socket.wait_for("activity", |a| a["type"] == "user.joined" && a["user"] == "Alice").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_with_two_tabs_is_listed_once() {
    let app = TestApp::spawn().await;
    let observer = app.socket(None).await;
    let _tab1 = app.socket(Some("Adam")).await;
    observer.wait_for("users:update", |u| u.as_array().is_some_and(|u| u.len() == 1)).await;

    let _tab2 = app.socket(Some("adam")).await;
    let third = app.socket(None).await;

    let users = third.sync()["users"].clone();
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    assert_eq!(users[0]["name"], "Adam");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_write_pushes_the_same_events_as_a_socket_write() {
    let app = TestApp::spawn().await;
    let bob = app.socket(Some("Bob")).await;

    let task = app.create_task("From a script").await;
    let id = id_of(&task);
    assert_eq!(bob.wait_event(&format!("task:{id}:created")).await.payload, task);
    let created = bob.wait_for("task:created", |p| p["task"]["id"] == id).await;
    assert_eq!(created.payload["user"], "api");

    let done = app.patch(&format!("/api/tasks/{id}"), json!({ "status": "DONE" })).await.body;
    let patch = bob.wait_event(&format!("task:{id}:updated")).await;
    assert_eq!(patch.payload["status"], "DONE");
    assert_eq!(patch.payload["version"], done["version"]);
    let moved = bob.wait_for("task:moved", |p| p["taskId"] == id).await;
    assert_eq!(moved.payload, json!({ "taskId": id, "newStatus": "DONE", "movedBy": "api" }));
    let celebration = bob.wait_for("celebration", |p| p["taskId"] == id).await;
    assert_eq!(celebration.payload["user"], "api");

    assert_eq!(app.delete(&format!("/api/tasks/{id}")).await.status, 204);
    bob.wait_event(&format!("task:{id}:deleted")).await;
    let deleted = bob.wait_for("task:deleted", |p| p["taskId"] == id).await;
    assert_eq!(deleted.payload["deletedBy"], "api");
    assert!(bob.received("error").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_status_reaches_everyone_and_goes_offline_with_its_socket() {
    let app = TestApp::spawn().await;
    let watcher = app.socket(Some("Nick")).await;
    let agent = app.socket(None).await;

    let ack = agent.ack_ok("agent:status", json!({ "id": "bot-1", "name": "Bot", "status": "busy" })).await;

    assert_eq!(ack["agent"]["status"], "busy");
    let status = watcher.wait_event("agent:bot-1:status").await;
    assert_eq!(status.payload["status"], "busy");
    assert_eq!(status.payload["currentTaskId"], Value::Null);
    assert!(status.payload["lastSeen"].is_string());

    agent.close().await;

    watcher.wait_for("agent:bot-1:status", |p| p["status"] == "offline").await;
    assert_eq!(app.get("/api/agents/bot-1").await.body["status"], "offline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_command_is_refused_with_validation_error() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;

    let error = alice.ack_err("task:explode", json!({})).await;

    assert_eq!(error["code"], "VALIDATION_ERROR");
    assert!(error["message"].as_str().is_some_and(|m| m.starts_with("Unknown command")), "{error}");
    let unknown_field = alice.ack_err("task:create", json!({ "title": "x", "priority": 1 })).await;
    assert_eq!(unknown_field["code"], "VALIDATION_ERROR");
    assert!(unknown_field["message"].as_str().unwrap().contains("priority"));
    assert!(app.tasks().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_persisted_change_carries_the_next_sequence_number() {
    let app = TestApp::spawn().await;
    let alice = app.socket(None).await;
    let start = alice.sync()["seq"].as_i64().expect("sync:full carries seq");

    let id = id_of(&alice.create_task("Counted").await);
    alice.ack_ok("task:update", json!({ "id": id, "title": "Counted twice" })).await;
    alice.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    alice.ack_ok("task:delete", json!({ "taskId": id })).await;
    alice.wait_for("task:deleted", |p| p["taskId"] == id).await;
    alice.wait_for("activity", |a| a["type"] == "task.deleted").await;

    let persisted: Vec<(String, i64)> = alice
        .inbox
        .all()
        .into_iter()
        .filter(|e| e.name != "sync:full")
        .map(|e| {
            let seq = e.seq.unwrap_or_else(|| panic!("{} {} without {{ seq }}", e.name, e.payload));
            (e.name, seq)
        })
        .collect();
    let seq_of =
        |name: &str| -> Vec<i64> { persisted.iter().filter(|(n, _)| n == name).map(|(_, s)| *s).collect() };
    assert_eq!(seq_of(&format!("task:{id}:created")), vec![start + 1]);
    assert_eq!(seq_of("task:created"), vec![start + 1]);
    assert_eq!(seq_of(&format!("task:{id}:updated")), vec![start + 2, start + 3]);
    assert_eq!(seq_of("task:moved"), vec![start + 3]);
    assert_eq!(seq_of("celebration"), vec![start + 3]);
    assert_eq!(seq_of(&format!("task:{id}:deleted")), vec![start + 4]);
    assert_eq!(seq_of("task:deleted"), vec![start + 4]);
    assert_eq!(
        seq_of("activity"),
        vec![start + 1, start + 2, start + 3, start + 4],
        "each activity entry carries its change's seq"
    );
    let order: Vec<i64> = persisted.iter().map(|(_, s)| *s).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "sent in sequence order: {persisted:?}");
    let feed = app.get("/api/activity").await.body;
    assert_eq!(feed[0]["seq"], start + 4, "stored with the same seq");
}
