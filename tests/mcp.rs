//! The board as MCP tools: `warroom mcp` over stdio, driven by the official Rust SDK's client
//! exactly as an MCP host drives it (a child process), and `/mcp` over streamable HTTP. A
//! Socket.IO observer and the REST history check that the board saw every step.

mod common;

use common::{DEADLINE, KEY, TestApp};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

/// `warroom mcp` for agent `agent_id`, started the way Claude Desktop and other hosts start it.
async fn mcp_over_stdio(url: &str, agent_id: &str) -> RunningService<RoleClient, ()> {
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_warroom")).configure(|cmd| {
        cmd.args(["mcp", "--url", url, "--key", KEY, "--agent-id", agent_id])
            .env_remove("WARROOM_URL")
            .env_remove("WAAAH_API_KEY")
            .env_remove("WARROOM_AGENT_ID")
            .env("RUST_LOG", "warn");
    });
    let transport = TokioChildProcess::new(command).expect("starting warroom mcp");
    tokio::time::timeout(DEADLINE, ().serve(transport))
        .await
        .expect("the MCP handshake took too long")
        .expect("the MCP handshake failed")
}

/// Calls a tool; gives its structured result and whether it is an error.
async fn call(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> (Value, bool) {
    let Value::Object(args) = args else { panic!("tool arguments are an object") };
    let result: CallToolResult = tokio::time::timeout(
        DEADLINE,
        client.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args)),
    )
    .await
    .unwrap_or_else(|_| panic!("{tool} did not answer in time"))
    .unwrap_or_else(|e| panic!("calling {tool}: {e}"));
    let value =
        result.structured_content.clone().unwrap_or_else(|| panic!("{tool} gave no structured result"));
    (value, result.is_error == Some(true))
}

async fn call_ok(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> Value {
    let (value, failed) = call(client, tool, args.clone()).await;
    assert!(!failed, "{tool} {args} failed: {value}");
    value
}

const TOOLS: [&str; 12] = [
    "add_comment",
    "claim_next_task",
    "complete_task",
    "create_task",
    "get_task",
    "list_boards",
    "list_comments",
    "list_notifications",
    "list_tasks",
    "report_progress",
    "report_status",
    "update_task",
];

fn kinds(history: &Value) -> Vec<&str> {
    let mut kinds: Vec<&str> =
        history.as_array().expect("history is an array").iter().filter_map(|e| e["type"].as_str()).collect();
    kinds.reverse(); // oldest first
    kinds
}

#[tokio::test]
async fn an_agent_works_through_its_day_over_stdio_and_the_board_sees_every_step() {
    let app = TestApp::spawn().await;
    let adam = app.socket(Some("Adam")).await;
    let first = app.create_task("Write the release notes").await;
    let second = app.create_task("Tag the release").await;
    let client = mcp_over_stdio(&app.url, "bot-1").await;

    // The host lists the tools: exactly the board's twelve, each described, each with a schema.
    let tools = client.list_all_tools().await.expect("listing tools");
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, TOOLS);
    for tool in &tools {
        assert!(tool.description.as_ref().is_some_and(|d| d.len() > 40), "{} needs a description", tool.name);
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{} schema", tool.name);
    }
    let progress = tools.iter().find(|t| t.name == "report_progress").unwrap();
    assert_eq!(progress.input_schema["required"], json!(["taskId", "message"]));
    let listed = call_ok(&client, "list_tasks", json!({ "status": "TODO" })).await;
    assert_eq!(listed["tasks"].as_array().unwrap().len(), 2);
    let top = call_ok(&client, "list_tasks", json!({ "status": "TODO", "limit": 1 })).await;
    assert_eq!(top["tasks"], json!([listed["tasks"][0]]), "limit keeps the top of the column");

    // Claim: the top TODO task, for this agent, and everyone sees it move.
    let claimed = call_ok(&client, "claim_next_task", json!({})).await["task"].clone();
    assert_eq!(claimed["id"], first["id"]);
    assert_eq!(claimed["status"], "IN_PROGRESS");
    assert_eq!(claimed["claimedBy"], "bot-1");
    assert!(claimed["leaseExpiresAt"].is_string());
    let id = claimed["id"].as_i64().unwrap();
    adam.wait_for("task:moved", |p| {
        p["taskId"] == id && p["newStatus"] == "IN_PROGRESS" && p["movedBy"] == "bot-1"
    })
    .await;

    // Progress: on the card and in the feed; it also renews the lease (a heartbeat).
    let noted =
        call_ok(&client, "report_progress", json!({ "taskId": id, "message": "drafted", "percent": 50 }))
            .await["task"]
            .clone();
    assert_eq!(noted["progress"]["message"], "drafted");
    assert_eq!(noted["progress"]["percent"], 50.0);
    adam.wait_for("activity", |p| p["type"] == "task.progress" && p["taskId"] == id).await;
    adam.wait_for("agent:bot-1:status", |p| p["status"] == "busy" && p["currentTaskId"] == id).await;

    // Complete: DONE, a celebration for everyone, and the agent is idle again.
    let done =
        call_ok(&client, "complete_task", json!({ "taskId": id, "summary": "published" })).await["task"]
            .clone();
    assert_eq!(done["status"], "DONE");
    assert_eq!(done["claimedBy"], Value::Null);
    adam.wait_for("celebration", |p| p["taskId"] == id).await;
    adam.wait_for("agent:bot-1:status", |p| p["status"] == "idle" && p["currentTaskId"].is_null()).await;

    let history = app.get(&format!("/api/tasks/{id}/history")).await.body;
    let steps = kinds(&history);
    for step in ["task.created", "task.claimed", "task.progress", "task.moved"] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }
    let moved = history.as_array().unwrap().iter().find(|e| e["type"] == "task.moved").unwrap();
    assert_eq!(moved["changes"]["status"]["to"], "DONE");

    // The next one, then nothing left: a null task, not an error.
    let next = call_ok(&client, "claim_next_task", json!({})).await["task"].clone();
    assert_eq!(next["id"], second["id"]);
    call_ok(&client, "complete_task", json!({ "taskId": next["id"] })).await;
    let nothing = call_ok(&client, "claim_next_task", json!({})).await;
    assert_eq!(nothing, json!({ "task": null }));

    let status = call_ok(&client, "report_status", json!({ "status": "idle", "name": "Release bot" })).await;
    assert_eq!(status["agent"]["name"], "Release bot");
    let agent = app.get("/api/agents/bot-1").await;
    assert_eq!(agent.body["status"], "idle");

    client.cancel().await.expect("closing the MCP session");
}

#[tokio::test]
async fn tools_create_read_and_update_tasks_and_refusals_reach_the_model_with_their_code() {
    let app = TestApp::spawn().await;
    let client = mcp_over_stdio(&app.url, "bot-2").await;

    let created = call_ok(
        &client,
        "create_task",
        json!({ "title": "  Triage the inbox ", "description": "every morning", "assignee": "Adam" }),
    )
    .await["task"]
        .clone();
    assert_eq!(created["title"], "Triage the inbox");
    assert_eq!(created["assignee"], "Adam");
    let id = created["id"].as_i64().unwrap();

    let updated =
        call_ok(&client, "update_task", json!({ "taskId": id, "status": "REVIEW", "version": 1 })).await;
    assert_eq!(updated["task"]["status"], "REVIEW");
    assert_eq!(updated["task"]["description"], "every morning", "fields not given stay");
    let read = call_ok(&client, "get_task", json!({ "taskId": id })).await;
    assert_eq!(read["task"]["version"], 2);

    let (stale, failed) =
        call(&client, "update_task", json!({ "taskId": id, "title": "x", "version": 1 })).await;
    assert!(failed);
    assert_eq!(stale["error"]["code"], "CONFLICT");
    let (missing, failed) = call(&client, "get_task", json!({ "taskId": 999 })).await;
    assert!(failed);
    assert_eq!(missing["error"], json!({ "code": "TASK_NOT_FOUND", "message": "Task 999 not found" }));
    let (empty, failed) = call(&client, "create_task", json!({ "title": "   " })).await;
    assert!(failed);
    assert_eq!(empty["error"]["code"], "VALIDATION_ERROR");

    client.cancel().await.expect("closing the MCP session");
}

#[tokio::test]
async fn an_agent_that_does_not_hold_a_task_cannot_report_progress_on_it_or_complete_it() {
    let app = TestApp::spawn().await;
    let client = mcp_over_stdio(&app.url, "bot-late").await;
    let id = app.post("/api/tasks", json!({ "title": "Taken by someone else" })).await.body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.post(&format!("/api/tasks/{id}/claim"), json!({ "agentId": "bot-other" })).await.status,
        200
    );

    let (refused, failed) =
        call(&client, "report_progress", json!({ "taskId": id, "message": "mine?" })).await;
    assert!(failed);
    assert_eq!(refused["error"]["code"], "CONFLICT");
    let (refused, failed) = call(&client, "complete_task", json!({ "taskId": id, "summary": "done?" })).await;
    assert!(failed);
    assert_eq!(refused["error"]["code"], "CONFLICT");
    let task = app.get(&format!("/api/tasks/{id}")).await.body;
    assert_eq!((task["status"].as_str(), task["version"].as_i64()), (Some("IN_PROGRESS"), Some(2)));
    assert_eq!(task["progress"], Value::Null, "nothing was written");

    client.cancel().await.expect("closing the MCP session");
}

#[tokio::test]
async fn claim_next_task_with_wait_seconds_waits_for_a_task_created_meanwhile_or_answers_null() {
    let app = TestApp::spawn().await;
    let client = mcp_over_stdio(&app.url, "bot-waits").await;

    let started = std::time::Instant::now();
    let (nothing, failed) = call(&client, "claim_next_task", json!({ "wait_seconds": 1 })).await;
    assert!(!failed, "{nothing}");
    assert_eq!(nothing, json!({ "task": null }));
    assert!(started.elapsed() >= std::time::Duration::from_millis(950), "it waited");

    let waiting = call(&client, "claim_next_task", json!({ "wait_seconds": 20 }));
    let create = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.post("/api/tasks", json!({ "title": "Arrives while the agent waits" })).await.body
    };
    let ((claimed, failed), created) = tokio::join!(waiting, create);
    assert!(!failed, "{claimed}");
    assert_eq!(claimed["task"]["id"], created["id"]);
    assert_eq!(claimed["task"]["claimedBy"], "bot-waits");

    let (refused, failed) = call(&client, "claim_next_task", json!({ "wait_seconds": 61 })).await;
    assert!(failed);
    assert_eq!(refused["error"]["code"], "VALIDATION_ERROR");
    client.cancel().await.expect("closing the MCP session");
}

#[tokio::test]
async fn tasks_made_with_blocked_by_are_claimed_only_once_their_blockers_are_done() {
    let app = TestApp::spawn().await;
    let client = mcp_over_stdio(&app.url, "bot-plan").await;
    let first = call_ok(&client, "create_task", json!({ "title": "First" })).await["task"]["id"].clone();
    let second = call_ok(&client, "create_task", json!({ "title": "Second", "blockedBy": [first] })).await;
    assert_eq!(second["task"]["blockedBy"], json!([first]));
    let second = second["task"]["id"].clone();
    let (cycle, failed) =
        call(&client, "update_task", json!({ "taskId": first, "blockedBy": [second] })).await;
    assert!(failed);
    assert_eq!(cycle["error"]["code"], "VALIDATION_ERROR");

    assert_eq!(call_ok(&client, "claim_next_task", json!({})).await["task"]["id"], first);
    assert_eq!(call_ok(&client, "claim_next_task", json!({})).await, json!({ "task": null }), "Second waits");
    call_ok(&client, "complete_task", json!({ "taskId": first })).await;
    assert_eq!(call_ok(&client, "claim_next_task", json!({})).await["task"]["id"], second);
    let cleared = call_ok(&client, "update_task", json!({ "taskId": second, "blockedBy": [] })).await;
    assert_eq!(cleared["task"]["blockedBy"], json!([]));
    client.cancel().await.expect("closing the MCP session");
}

#[tokio::test]
async fn a_board_that_cannot_be_reached_is_a_tool_error_not_a_dead_server() {
    // A port nobody listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = mcp_over_stdio(&format!("http://127.0.0.1:{port}"), "bot-3").await;
    let (answer, failed) = call(&client, "list_tasks", json!({})).await;
    assert!(failed);
    assert_eq!(answer["error"]["code"], "UNREACHABLE");
    client.cancel().await.expect("closing the MCP session");
}

// ---- /mcp over streamable HTTP ----

/// One JSON-RPC message to `/mcp`, as an MCP host sends it; the answer's status and message.
async fn post_mcp(app: &TestApp, key: Option<&str>, agent: Option<&str>, message: Value) -> (u16, Value) {
    let mut request = app
        .anonymous(reqwest::Method::POST, "/mcp")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&message);
    if let Some(key) = key {
        request = request.header("X-API-Key", key);
    }
    if let Some(agent) = agent {
        request = request.header("X-Agent-Id", agent);
    }
    let response = request.send().await.expect("posting to /mcp");
    let status = response.status().as_u16();
    let event_stream = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let text = response.text().await.expect("reading /mcp");
    let body = if event_stream {
        // The last `data:` line carries the response.
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .rfind(|d| !d.is_empty())
            .map_or(Value::Null, |d| serde_json::from_str(d).expect("an SSE data line is JSON"))
    } else if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

fn initialize() -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": { "name": "warroom-test", "version": "1.0" } } })
}

fn tool_call(id: i64, name: &str, arguments: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": name, "arguments": arguments } })
}

#[tokio::test]
async fn mcp_over_http_needs_the_key_like_rest() {
    let app = TestApp::spawn().await;
    let (status, body) = post_mcp(&app, None, None, initialize()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    let (status, body) = post_mcp(&app, Some("wrong"), None, initialize()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    let bearer =
        app.request(reqwest::Method::POST, "/mcp").header("Accept", "application/json, text/event-stream");
    let response = bearer.json(&initialize()).send().await.unwrap();
    assert_eq!(response.status(), 200, "Authorization: Bearer works too");
    let (status, body) = post_mcp(&app, Some(KEY), Some("not/an id"), initialize()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
}

#[tokio::test]
async fn mcp_over_http_serves_the_same_tools_in_process() {
    let app = TestApp::spawn().await;
    let adam = app.socket(Some("Adam")).await;
    let task = app.create_task("Rotate the logs").await;
    let id = task["id"].as_i64().unwrap();

    let (status, init) = post_mcp(&app, Some(KEY), Some("bot-http"), initialize()).await;
    assert_eq!(status, 200, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "warroom");
    assert!(init["result"]["capabilities"]["tools"].is_object());
    assert!(init["result"]["instructions"].as_str().unwrap().contains("bot-http"));
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (status, _) = post_mcp(&app, Some(KEY), Some("bot-http"), initialized).await;
    assert_eq!(status, 202);

    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let (_, tools) = post_mcp(&app, Some(KEY), Some("bot-http"), list).await;
    let mut names: Vec<&str> =
        tools["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, TOOLS);

    let (_, claimed) =
        post_mcp(&app, Some(KEY), Some("bot-http"), tool_call(3, "claim_next_task", json!({}))).await;
    let result = &claimed["result"];
    assert_eq!(result["isError"], false, "{claimed}");
    assert_eq!(result["structuredContent"]["task"]["id"], id);
    assert_eq!(result["structuredContent"]["task"]["claimedBy"], "bot-http");
    adam.wait_for("task:moved", |p| p["taskId"] == id && p["movedBy"] == "bot-http").await;

    let progress = tool_call(4, "report_progress", json!({ "taskId": id, "message": "half", "percent": 50 }));
    let (_, noted) = post_mcp(&app, Some(KEY), Some("bot-http"), progress).await;
    assert_eq!(noted["result"]["structuredContent"]["task"]["progress"]["message"], "half");
    let (_, done) =
        post_mcp(&app, Some(KEY), Some("bot-http"), tool_call(5, "complete_task", json!({ "taskId": id })))
            .await;
    assert_eq!(done["result"]["structuredContent"]["task"]["status"], "DONE");
    adam.wait_for("celebration", |p| p["taskId"] == id).await;
    let steps = kinds(&app.get(&format!("/api/tasks/{id}/history")).await.body).join(" ");
    assert_eq!(steps, "task.created task.claimed task.progress task.moved");

    // A refusal is a tool result the model can read, with the board's code.
    let (_, missing) =
        post_mcp(&app, Some(KEY), None, tool_call(6, "get_task", json!({ "taskId": 999 }))).await;
    assert_eq!(missing["result"]["isError"], true);
    assert_eq!(missing["result"]["structuredContent"]["error"]["code"], "TASK_NOT_FOUND");

    // Without X-Agent-Id the caller is agent `mcp`; `?agentId=` names it for hosts without headers.
    let other = app.create_task("Renew the certificate").await;
    let (_, by_default) = post_mcp(&app, Some(KEY), None, tool_call(7, "claim_next_task", json!({}))).await;
    assert_eq!(by_default["result"]["structuredContent"]["task"]["claimedBy"], "mcp");
    assert_eq!(by_default["result"]["structuredContent"]["task"]["id"], other["id"]);
    app.create_task("Water the plants").await;
    let response = app
        .anonymous(reqwest::Method::POST, "/mcp?agentId=bot-query")
        .header("X-API-Key", KEY)
        .header("Accept", "application/json, text/event-stream")
        .json(&tool_call(8, "claim_next_task", json!({})))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"]["structuredContent"]["task"]["claimedBy"], "bot-query");
}

/// Boards, comments and notifications through the tools: a `board` argument reaches another
/// board (the default is main), a comment with `@name` notifies, and `list_notifications`
/// shows the caller's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tools_reach_other_boards_comments_and_notifications() {
    let app = TestApp::spawn().await;
    let made = app.post("/api/boards", json!({ "id": "ops", "name": "Operations" })).await;
    assert_eq!(made.status, 201);
    let client = mcp_over_stdio(&app.url, "bot-ops").await;

    let boards = call_ok(&client, "list_boards", json!({})).await;
    let ids: Vec<&str> =
        boards["boards"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["main", "ops"]);
    let task =
        call_ok(&client, "create_task", json!({ "title": "Rotate keys", "board": "ops" })).await["task"]
            .clone();
    assert_eq!(task["board"], "ops");
    let on_ops = call_ok(&client, "list_tasks", json!({ "board": "ops" })).await;
    assert_eq!(on_ops["tasks"].as_array().unwrap().len(), 1);
    let on_main = call_ok(&client, "list_tasks", json!({})).await;
    assert!(on_main["tasks"].as_array().unwrap().is_empty(), "the default board is main");
    let (refused, failed) = call(&client, "list_tasks", json!({ "board": "nope" })).await;
    assert!(failed && refused["error"]["code"] == "BOARD_NOT_FOUND", "{refused}");
    let claimed = call_ok(&client, "claim_next_task", json!({ "board": "ops" })).await;
    assert_eq!(claimed["task"]["id"], task["id"]);

    let id = task["id"].as_i64().unwrap();
    let said =
        call_ok(&client, "add_comment", json!({ "taskId": id, "body": "Started; @Adam can review" })).await;
    assert_eq!(said["comment"]["author"], "api");
    let thread = call_ok(&client, "list_comments", json!({ "taskId": id })).await;
    assert_eq!(thread["comments"][0]["body"], "Started; @Adam can review");
    let mine = call_ok(&client, "list_notifications", json!({})).await;
    assert!(mine["notifications"].as_array().unwrap().is_empty(), "the caller (api) was not mentioned");
}
