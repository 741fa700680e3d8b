//! Safe retries: a repeated `opId` (socket) or `Idempotency-Key` (REST) applies nothing twice.

mod common;

use common::{Reply, TestApp, id_of};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_op_id_twice_on_task_create_creates_one_task() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let bob = app.socket(Some("Bob")).await;
    let command = json!({ "title": "Only once", "opId": "alice-op-1" });

    let first = alice.ack_ok("task:create", command.clone()).await;
    let retry = alice.ack_ok("task:create", command).await;

    assert_eq!(retry["task"], first["task"], "the first result, again");
    let id = id_of(&first["task"]);
    let tasks = app.tasks().await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(id_of(&tasks[0]), id);
    // Everything sent for the retry would reach Bob before the next change's events.
    let marker = id_of(&alice.create_task("after the retry").await);
    bob.wait_for("task:created", |p| p["task"]["id"] == marker).await;
    assert_eq!(bob.received("task:created").len(), 2, "one for the task, one for the marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_op_id_on_an_update_applies_it_once() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let id = id_of(&alice.create_task("Counter").await);
    let command = json!({ "id": id, "title": "Counted", "version": 1, "opId": "op-update" });

    let first = alice.ack_ok("task:update", command.clone()).await;
    let retry = alice.ack_ok("task:update", command).await;

    assert_eq!(retry["task"], first["task"]);
    assert_eq!(app.task(id).await["version"], 2, "not refused as stale, not applied twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_twice_on_post_creates_one_task() {
    let app = TestApp::spawn().await;
    let post = || {
        app.request(Method::POST, "/api/tasks")
            .header("Idempotency-Key", "script-run-42")
            .json(&json!({ "title": "Nightly report" }))
    };

    let first = Reply::of(post()).await;
    let retry = Reply::of(post()).await;

    assert_eq!(first.status, 201, "{first:?}");
    assert!(retry.status == 201 || retry.status == 200, "{retry:?}");
    assert_eq!(retry.body, first.body);
    assert_eq!(app.tasks().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_and_rest_share_one_op_id_namespace_per_credential() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    let from_socket =
        alice.ack_ok("task:create", json!({ "title": "Queued offline", "opId": "shared-1" })).await;

    let from_rest = Reply::of(
        app.request(Method::POST, "/api/tasks")
            .header("Idempotency-Key", "shared-1")
            .json(&json!({ "title": "Queued offline" })),
    )
    .await;

    assert_eq!(from_rest.body, from_socket["task"], "{from_rest:?}");
    assert_eq!(app.tasks().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_command_may_be_retried_with_the_same_op_id() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;

    let failed = alice.ack_err("task:create", json!({ "title": "   ", "opId": "retry-me" })).await;
    assert_eq!(failed["code"], "VALIDATION_ERROR");
    let retried = alice.ack_ok("task:create", json!({ "title": "Fixed title", "opId": "retry-me" })).await;

    assert_eq!(retried["task"]["title"], "Fixed title");
    assert_eq!(app.tasks().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_and_an_op_id_together_are_refused() {
    let app = TestApp::spawn().await;

    let reply = Reply::of(
        app.request(Method::POST, "/api/tasks")
            .header("Idempotency-Key", "a")
            .json(&json!({ "title": "x", "opId": "b" })),
    )
    .await;

    reply.assert_error(400, "VALIDATION_ERROR");
    assert!(app.tasks().await.is_empty());
}
