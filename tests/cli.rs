//! `warroom task …` against a real server: the commands a shell-based agent runs, in text and
//! in `--json`, with a Socket.IO observer seeing what they did.

mod common;

use std::process::Output;

use common::{KEY, TestApp};
use serde_json::{Value, json};

/// Runs `warroom task ARGS` against `app` with `--url`/`--key` given as flags.
async fn task(app: &TestApp, args: &[&str]) -> Output {
    let mut full = vec!["task", "--url", &app.url, "--key", KEY];
    full.extend_from_slice(args);
    warroom(&full, &[]).await
}

/// Runs the binary with a clean environment for the settings it reads.
async fn warroom(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_warroom"));
    command.args(args);
    for name in ["WARROOM_URL", "WAAAH_API_KEY", "WARROOM_AGENT_ID", "WARROOM_BOARD"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    tokio::time::timeout(common::DEADLINE, command.output())
        .await
        .expect("warroom task took too long")
        .expect("running warroom")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).expect("--json prints one JSON value")
}

#[tokio::test]
async fn a_shell_agent_adds_lists_claims_and_finishes_tasks() {
    let app = TestApp::spawn().await;
    let adam = app.socket(Some("Adam")).await;

    let added = json_of(&task(&app, &["add", "Back up the database", "--json", "-d", "nightly"]).await);
    assert_eq!(added["title"], "Back up the database");
    assert_eq!(added["description"], "nightly");
    let id = added["id"].as_i64().unwrap();
    adam.wait_for("task:created", |p| p["task"]["id"] == id).await;
    let text = stdout(&task(&app, &["add", "Prune old logs", "--assignee", "Adam"]).await);
    assert!(text.starts_with("Created #2"), "{text}");
    assert!(text.contains("Prune old logs") && text.contains("Adam"), "{text}");

    let listed = json_of(&task(&app, &["list", "--json"]).await);
    let titles: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Back up the database", "Prune old logs"]);
    let mine = json_of(&task(&app, &["list", "--assignee", "adam", "--json"]).await);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let table = stdout(&task(&app, &["list", "--status", "todo"]).await);
    assert_eq!(table.lines().count(), 2, "{table}");

    // Only the unassigned task is up for claiming.
    let claimed = json_of(&task(&app, &["claim-next", "--agent-id", "bot-cli", "--json"]).await);
    assert_eq!(claimed["id"], id);
    assert_eq!(claimed["claimedBy"], "bot-cli");
    adam.wait_for("task:moved", |p| p["taskId"] == id && p["movedBy"] == "bot-cli").await;
    // A long job keeps its lease with progress notes, which are heartbeats for the holder.
    let noted = json_of(
        &task(
            &app,
            &["progress", &id.to_string(), "half way", "-p", "50", "--agent-id", "bot-cli", "--json"],
        )
        .await,
    );
    assert_eq!(noted["progress"]["message"], "half way");
    adam.wait_for("agent:bot-cli:status", |p| p["status"] == "busy" && p["currentTaskId"] == id).await;
    let none = json_of(&task(&app, &["claim-next", "--agent-id", "bot-cli", "--json"]).await);
    assert_eq!(none, Value::Null);
    let text = stdout(&task(&app, &["claim-next", "--agent-id", "bot-cli"]).await);
    assert!(text.starts_with("Nothing to do"), "{text}");

    let done = json_of(
        &task(&app, &["done", &id.to_string(), "--agent-id", "bot-cli", "-s", "backed up", "--json"]).await,
    );
    assert_eq!(done["status"], "DONE");
    assert_eq!(done["progress"]["message"], "backed up");
    adam.wait_for("celebration", |p| p["taskId"] == id).await;
    adam.wait_for("agent:bot-cli:status", |p| p["status"] == "idle").await;

    let moved = stdout(&task(&app, &["move", "2", "in-progress"]).await);
    assert!(moved.starts_with("Moved #2") && moved.contains("IN_PROGRESS"), "{moved}");
    adam.wait_for("task:moved", |p| p["taskId"] == 2 && p["newStatus"] == "IN_PROGRESS").await;
}

#[tokio::test]
async fn the_url_and_key_may_come_from_the_environment() {
    let app = TestApp::spawn().await;
    let env = [("WARROOM_URL", app.url.as_str()), ("WAAAH_API_KEY", KEY), ("WARROOM_AGENT_ID", "bot-env")];
    let added = warroom(&["task", "add", "From the environment", "--json"], &env).await;
    assert_eq!(json_of(&added)["title"], "From the environment");
    let claimed = warroom(&["task", "claim-next", "--json"], &env).await;
    assert_eq!(json_of(&claimed)["claimedBy"], "bot-env");
}

#[tokio::test]
async fn failures_exit_non_zero_with_the_boards_error() {
    let app = TestApp::spawn().await;

    let missing = task(&app, &["move", "42", "DONE", "--json"]).await;
    assert_eq!(missing.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&missing.stderr).expect("a JSON error on stderr");
    assert_eq!(error["error"]["code"], "TASK_NOT_FOUND");
    assert!(missing.stdout.is_empty());

    let text = task(&app, &["move", "42", "DONE"]).await;
    assert_eq!(text.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&text.stderr).contains("Task 42 not found"));

    let bad_status = task(&app, &["move", "1", "FINISHED"]).await;
    assert!(!bad_status.status.success());
    assert!(String::from_utf8_lossy(&bad_status.stderr).contains("TODO, IN_PROGRESS"));

    let wrong_key = warroom(&["task", "list", "--url", &app.url, "--key", "nope", "--json"], &[]).await;
    assert_eq!(wrong_key.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("UNAUTHORIZED"));

    let no_key = warroom(&["task", "list", "--url", &app.url], &[]).await;
    assert!(!no_key.status.success());
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("WAAAH_API_KEY"));
}

#[tokio::test]
async fn claim_next_with_wait_holds_the_answer_until_the_wait_passes_and_refuses_a_wait_over_a_minute() {
    let app = TestApp::spawn().await;
    let started = std::time::Instant::now();
    let nothing =
        json_of(&task(&app, &["claim-next", "--agent-id", "bot-w", "--wait", "0.5", "--json"]).await);
    assert_eq!(nothing, Value::Null);
    assert!(started.elapsed() >= std::time::Duration::from_millis(450), "{:?}", started.elapsed());
    let refused = task(&app, &["claim-next", "--agent-id", "bot-w", "--wait", "61"]).await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains("VALIDATION_ERROR")
            || String::from_utf8_lossy(&refused.stderr).contains("VALIDATION_ERROR")
    );
}

#[tokio::test]
async fn board_names_the_board_a_shell_works_on() {
    let app = TestApp::spawn().await;
    assert_eq!(app.post("/api/boards", json!({ "id": "ops", "name": "Operations" })).await.status, 201);

    let added = json_of(&task(&app, &["add", "Rotate keys", "--board", "ops", "--json"]).await);
    assert_eq!(added["board"], "ops");
    let on_ops = json_of(&task(&app, &["list", "--board", "ops", "--json"]).await);
    assert_eq!(on_ops.as_array().unwrap().len(), 1);
    let on_main = json_of(&task(&app, &["list", "--json"]).await);
    assert!(on_main.as_array().unwrap().is_empty(), "main by default");
    let env = [("WARROOM_BOARD", "ops")];
    let url_key = ["task", "list", "--url", &app.url, "--key", KEY, "--json"];
    assert_eq!(json_of(&warroom(&url_key, &env).await).as_array().unwrap().len(), 1, "from the environment");

    let unknown = task(&app, &["list", "--board", "nope", "--json"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&unknown.stderr).expect("a JSON error on stderr");
    assert_eq!(error["error"]["code"], "BOARD_NOT_FOUND");
    let malformed = task(&app, &["list", "--board", "Bad Id"]).await;
    assert!(!malformed.status.success());
}
