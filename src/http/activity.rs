//! `/api/activity`: the board's feed, newest first, paged by activity id.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::{Caller, Params};
use crate::App;
use crate::domain::activity::Activity;
use crate::domain::input;
use crate::error::{AppResult, ErrorBody};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

pub fn router() -> Router<App> {
    Router::new().route("/api/activity", get(list))
}

#[utoipa::path(get, path = "/api/activity", tag = "activity",
    params(
        ("limit" = Option<i64>, Query, description = "default 50; above 500 is clamped to 500"),
        ("before" = Option<i64>, Query, description = "an activity id: entries older than it"),
    ),
    responses((status = 200, body = [Activity]), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(
    State(app): State<App>,
    Caller(actor): Caller,
    params: Params,
) -> AppResult<Json<Vec<Activity>>> {
    let board = app.board.board_info(actor.scope.as_deref(), params.board()).await?.id;
    list_on(&app, &board, &params).await
}

/// A page of `board`'s feed (checked by the caller), as `params` ask.
pub async fn list_on(app: &App, board: &str, params: &Params) -> AppResult<Json<Vec<Activity>>> {
    let limit = params.number("limit", input::positive_int)?.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let before = params.number("before", input::positive_int)?;
    Ok(Json(app.board.activity(board, limit, before).await?))
}
