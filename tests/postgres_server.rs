//! The whole server on PostgreSQL (`DATABASE_URL`): started on port 0 against a fresh
//! database from `TEST_DATABASE_URL`, used over REST and Socket.IO as on SQLite.
//! Without `TEST_DATABASE_URL` each test prints `SKIPPED: TEST_DATABASE_URL not set` and passes.

mod common;

use common::postgres::TestDatabase;
use common::{Database, TestApp, id_of};
use serde_json::json;

async fn spawn_on(db: &TestDatabase) -> TestApp {
    let url = db.url.clone();
    TestApp::spawn_with(Database::fresh(), move |args| args.database_url = Some(url)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_postgres_creates_a_task_over_rest_and_reads_it_back() {
    let Some(db) =
        TestDatabase::create("a_server_on_postgres_creates_a_task_over_rest_and_reads_it_back").await
    else {
        return;
    };
    let app = spawn_on(&db).await;
    let socket = app.socket(Some("bea")).await;

    let created = app.create_task_with(json!({ "title": "Ship it", "assignee": "adam" })).await;

    assert_eq!(created["title"], "Ship it");
    assert_eq!(created["version"], 1);
    let id = id_of(&created);
    assert_eq!(app.task(id).await, created);
    assert_eq!(app.tasks().await, vec![created.clone()]);
    let event = socket.wait_event(&format!("task:{id}:created")).await;
    let history = app.get(&format!("/api/tasks/{id}/history")).await.body;
    assert_eq!(event.seq, history[0]["seq"].as_i64(), "the event carries the change's stored seq");
    assert!(event.seq > socket.sync()["seq"].as_i64());
    app.get("/api/tasks/9999").await.assert_error(404, "TASK_NOT_FOUND");
    drop(socket);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_on_postgres_keeps_its_tasks_and_continues_the_sequence() {
    let Some(db) =
        TestDatabase::create("a_restarted_server_on_postgres_keeps_its_tasks_and_continues_the_sequence")
            .await
    else {
        return;
    };
    let app = spawn_on(&db).await;
    let kept = app.create_task("Kept").await;
    let renamed = app.put(&format!("/api/tasks/{}", id_of(&kept)), json!({ "title": "Kept, renamed" })).await;
    assert_eq!(renamed.status, 200, "{renamed:?}");
    let activity = app.get("/api/activity").await.body;
    let seq = activity[0]["seq"].as_i64().expect("the latest seq");
    app.stop().await;

    let app = spawn_on(&db).await;

    assert_eq!(app.tasks().await, vec![renamed.body]);
    assert_eq!(app.get("/api/activity").await.body, activity);
    let socket = app.socket(None).await;
    assert_eq!(socket.sync()["seq"], seq, "sync:full carries the stored seq");
    let next = app.create_task("After the restart").await;
    let created = socket.wait_event(&format!("task:{}:created", id_of(&next))).await;
    assert_eq!(created.seq, Some(seq + 1), "the sequence continues");
    drop(socket);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_postgres_carries_on_after_the_database_drops_its_connections() {
    let Some(db) =
        TestDatabase::create("a_server_on_postgres_carries_on_after_the_database_drops_its_connections")
            .await
    else {
        return;
    };
    let app = spawn_on(&db).await;
    let before = app.create_task("Before").await;
    assert_eq!(app.task(id_of(&before)).await, before);

    let ended = db.terminate_connections().await;

    assert!(ended >= 2, "the writer and a reader were connected: {ended}");
    let after = app.create_task("After").await;
    assert_eq!(app.task(id_of(&after)).await, after);
    assert_eq!(app.tasks().await, vec![before, after]);
    app.stop().await;
}
