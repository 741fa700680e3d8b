//! What was acknowledged is still there after a restart, and the board's sequence goes on.

mod common;

use common::{TestApp, id_of};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_and_the_sequence_survive_a_restart() {
    let app = TestApp::spawn().await;
    let first = app.create_task("Survive").await;
    let second = app
        .create_task_with(json!({ "title": "Also survive", "status": "REVIEW", "assignee": "adam" }))
        .await;
    let agent = app.put("/api/agents/bot-1", json!({ "status": "busy" })).await.body;
    let renamed =
        app.put(&format!("/api/tasks/{}", id_of(&first)), json!({ "title": "Survived" })).await.body;
    let doomed = id_of(&app.create_task("Gone for good").await);
    assert_eq!(app.delete(&format!("/api/tasks/{doomed}")).await.status, 204);
    let before = app.tasks().await;
    let activity = app.get("/api/activity").await.body;
    let seq = activity[0]["seq"].as_i64().expect("the latest seq");
    let db = app.stop().await;

    let app = TestApp::spawn_on(db).await;

    assert_eq!(app.tasks().await, before);
    assert_eq!(before, vec![renamed, second]);
    assert_eq!(app.get("/api/agents/bot-1").await.body, agent);
    assert_eq!(app.get("/api/activity").await.body, activity);
    app.get(&format!("/api/tasks/{doomed}")).await.assert_error(404, "TASK_NOT_FOUND");
    let socket = app.socket(None).await;
    assert_eq!(socket.sync()["seq"], seq, "sync:full carries the stored seq");
    assert_eq!(socket.sync()["tasks"], json!(before));

    let next = app.create_task("After the restart").await;

    let created = socket.wait_event(&format!("task:{}:created", id_of(&next))).await;
    assert_eq!(created.seq, Some(seq + 1), "the sequence continues");
    assert!(id_of(&next) > doomed, "ids are not reused: {} after {doomed}", id_of(&next));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_keeps_history_of_deleted_tasks() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create_task("Short-lived").await);
    app.delete(&format!("/api/tasks/{id}")).await;
    let history = app.get(&format!("/api/tasks/{id}/history")).await.body;
    let db = app.stop().await;

    let app = TestApp::spawn_on(db).await;

    let after = app.get(&format!("/api/tasks/{id}/history")).await;
    assert_eq!(after.status, 200, "{after:?}");
    assert_eq!(after.body, history);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_with_a_socket_open_finishes_and_keeps_its_writes() {
    let app = TestApp::spawn().await;
    let alice = app.socket(Some("Alice")).await;
    alice.create_task("acknowledged").await;

    // `stop` fails the test if the server does not finish within the deadline.
    let db = app.stop().await;

    let app = TestApp::spawn_on(db).await;
    assert_eq!(app.tasks().await.len(), 1);
}

/// A database made before boards existed (migrations 0001–0003, as the previous release left
/// it) opens with its tasks and history on `main`, unchanged, and its tokens reaching every board.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_boards_carries_its_tasks_and_history_onto_main() {
    let db = common::Database::fresh();
    {
        let conn = rusqlite::Connection::open(&db.path).unwrap();
        for sql in [
            include_str!("../migrations/sqlite/0001_board.sql"),
            include_str!("../migrations/sqlite/0002_claims.sql"),
            include_str!("../migrations/sqlite/0003_tokens.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 3;
             INSERT INTO tasks (board, title, description, status, position, created_by, created_at, updated_at, version)
             VALUES ('main', 'Old task', 'kept', 'REVIEW', 0, 'Adam', '2026-01-05T10:00:00.000Z', '2026-01-06T10:00:00.000Z', 3);
             INSERT INTO activity (board, seq, kind, user, message, task_id, timestamp)
             VALUES ('main', 7, 'task.created', 'Adam', 'Adam created \"Old task\"', 1, '2026-01-05T10:00:00.000Z');
             UPDATE boards SET seq = 7 WHERE name = 'main';",
        )
        .unwrap();
    }

    let app = TestApp::spawn_on(db).await;

    let task = app.get("/api/tasks/1").await.body;
    assert_eq!(
        (&task["board"], &task["title"], &task["status"], &task["version"], &task["createdAt"]),
        (&json!("main"), &json!("Old task"), &json!("REVIEW"), &json!(3), &json!("2026-01-05T10:00:00.000Z"))
    );
    let history = app.get("/api/tasks/1/history").await.body;
    assert_eq!(history[0]["seq"], 7);
    let main = app.get("/api/boards/main").await.body;
    assert_eq!((&main["name"], &main["archived"]), (&json!("Main"), &json!(false)));
    assert_eq!(main["createdAt"], "2026-01-05T10:00:00.000Z", "dated by its oldest task");
    let socket = app.socket(None).await;
    assert_eq!(socket.sync()["seq"], 7, "the sequence goes on from where it was");
    assert_eq!(socket.sync()["board"]["id"], "main");
}
