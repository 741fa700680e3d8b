//! `/api/agents`: list, read, and the upsert that is an agent's REST heartbeat.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::{Body, Caller, RouteId};
use crate::App;
use crate::domain::agent::Agent;
use crate::error::{AppResult, ErrorBody};

pub fn router() -> Router<App> {
    Router::new().route("/api/agents", get(list)).route("/api/agents/{id}", get(read).put(report))
}

#[utoipa::path(get, path = "/api/agents", tag = "agents",
    responses((status = 200, body = [Agent]), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(State(app): State<App>, _caller: Caller) -> AppResult<Json<Vec<Agent>>> {
    Ok(Json(app.board.agents(crate::MAIN_BOARD).await?))
}

#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents",
    params(("id" = String, Path)),
    responses((status = 200, body = Agent), (status = 404, body = ErrorBody, description = "AGENT_NOT_FOUND")),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn read(State(app): State<App>, _caller: Caller, RouteId(id): RouteId) -> AppResult<Json<Agent>> {
    Ok(Json(app.board.agent(crate::MAIN_BOARD, &id).await?))
}

/// Creates or updates the agent and counts as its heartbeat.
#[utoipa::path(put, path = "/api/agents/{id}", tag = "agents",
    params(("id" = String, Path)),
    request_body(content = Object, description = "`{ status, name?, currentTaskId? }`"),
    responses((status = 200, body = Agent), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn report(
    State(app): State<App>,
    super::Caller(actor): super::Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<Json<Agent>> {
    Ok(Json(app.board.report_agent(crate::MAIN_BOARD, &actor, Some(&id), body).await?))
}
