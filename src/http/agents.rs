//! `/api/agents`: list and read (team-wide, whatever board an agent reports on), and the upsert
//! that is an agent's REST heartbeat on one board.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::{Body, Caller, Params, RouteId};
use crate::App;
use crate::domain::agent::{Agent, ReportAgent};
use crate::error::{AppResult, ErrorBody};

pub fn router() -> Router<App> {
    Router::new().route("/api/agents", get(list)).route("/api/agents/{id}", get(read).put(report))
}

#[utoipa::path(get, path = "/api/agents", tag = "agents",
    responses((status = 200, body = [Agent]), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(State(app): State<App>, _: Caller) -> AppResult<Json<Vec<Agent>>> {
    Ok(Json(app.board.agents().await?))
}

#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents",
    params(("id" = String, Path)),
    responses((status = 200, body = Agent), (status = 404, body = ErrorBody, description = "AGENT_NOT_FOUND")),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn read(State(app): State<App>, _: Caller, RouteId(id): RouteId) -> AppResult<Json<Agent>> {
    Ok(Json(app.board.agent(&id).await?))
}

/// Creates or updates the agent and counts as its heartbeat.
#[utoipa::path(put, path = "/api/agents/{id}", tag = "agents",
    params(("id" = String, Path)),
    request_body = ReportAgent,
    responses((status = 200, body = Agent), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn report(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    params: Params,
    Body(body): Body,
) -> AppResult<Json<Agent>> {
    let board = app.board.board_info(actor.scope.as_deref(), params.board()).await?.id;
    Ok(Json(app.board.report_agent(&board, &actor, ReportAgent::parse_at(body, Some(&id))?).await?))
}
