//! `/mcp`: the board's MCP tools over streamable HTTP, on the server itself, authenticated like
//! REST (`Authorization: Bearer` or `X-API-Key`, 401 JSON otherwise) and calling the board
//! service in-process.
//!
//! Served statelessly: every POST carries one JSON-RPC message and is answered in its own
//! response, so the server keeps no MCP sessions (nothing to expire, nothing lost on restart,
//! any instance can answer). Sessions would buy server-to-client requests and notifications,
//! which the board's tools do not use.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;

use super::BoardTools;
use crate::App;
use crate::client::LocalBoard;
use crate::domain::agent::parse_agent_id;
use crate::error::{AppError, AppResult};
use crate::http::Caller;

/// The agent id of a caller that names none.
pub const DEFAULT_AGENT: &str = "mcp";

pub fn router() -> Router<App> {
    Router::new().route("/mcp", any(serve))
}

async fn serve(State(app): State<App>, Caller(actor): Caller, request: Request) -> AppResult<Response> {
    let agent_id = agent_of(&request)?;
    let tools = BoardTools::new(Arc::new(LocalBoard::new(app, actor)), agent_id);
    let service = StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(NeverSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            // The SDK accepts only loopback `Host`s by default, against DNS rebinding; here every
            // request must carry the team key, which a rebinding page does not have, and agents
            // reach the board by its network name.
            .disable_allowed_hosts()
            .with_max_request_body_bytes(crate::http::BODY_LIMIT),
    );
    Ok(service.handle(request).await.into_response())
}

/// Who the caller is on the board: `X-Agent-Id`, or `?agentId=` for hosts that cannot set
/// headers, or `mcp`.
fn agent_of(request: &Request) -> AppResult<String> {
    let header = request
        .headers()
        .get("x-agent-id")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| AppError::validation("`X-Agent-Id` must be visible ASCII"))?;
    let query = match header {
        Some(_) => None,
        None => Query::<HashMap<String, String>>::try_from_uri(request.uri())
            .map_err(|e| AppError::validation(format!("malformed query: {e}")))?
            .0
            .remove("agentId"),
    };
    match header.or(query) {
        Some(id) => parse_agent_id(Value::String(id), "agentId"),
        None => Ok(DEFAULT_AGENT.to_owned()),
    }
}
