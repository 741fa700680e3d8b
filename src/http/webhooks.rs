//! Webhooks of a board (`/api/boards/:board/webhooks`, `/api/webhooks/:id`), for admins.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch};

use super::{Body, Caller, RouteId, route_task_id};
use crate::App;
use crate::domain::input::Input;
use crate::domain::webhooks::{CreateWebhook, Delivery, UpdateWebhook, Webhook};
use crate::error::{AppResult, ErrorBody};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/boards/{board}/webhooks", get(list).post(create))
        .route("/api/webhooks/{id}", patch(update).delete(remove))
        .route("/api/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/webhooks/{id}/ping", axum::routing::post(ping))
}

/// The board's webhooks, without their secrets.
#[utoipa::path(get, path = "/api/boards/{board}/webhooks", tag = "webhooks",
    params(("board" = String, Path)),
    responses((status = 200, body = [Webhook]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
) -> AppResult<Json<Vec<Webhook>>> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    Ok(Json(app.board.webhooks(&board, &actor).await?))
}

/// `{ url, events?, secret?, format? }` → the webhook with its secret, shown only here.
#[utoipa::path(post, path = "/api/boards/{board}/webhooks", tag = "webhooks",
    params(("board" = String, Path)),
    request_body = CreateWebhook,
    responses((status = 201, body = Webhook), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    Ok((
        StatusCode::CREATED,
        Json(app.board.create_webhook(&board, &actor, CreateWebhook::parse(body)).await?),
    ))
}

/// `{ url?, events?, format?, active? }`; setting `active` back to true resumes deliveries.
#[utoipa::path(patch, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path)),
    request_body = UpdateWebhook,
    responses((status = 200, body = Webhook), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn update(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<Json<Webhook>> {
    Ok(Json(app.board.update_webhook(&actor, route_task_id(&id)?, UpdateWebhook::parse(body)).await?))
}

/// Deletes the webhook and its deliveries, sent or not.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn remove(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
) -> AppResult<StatusCode> {
    app.board.delete_webhook(&actor, route_task_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The last 100 deliveries, newest first.
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path)),
    responses((status = 200, body = [Delivery]), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn deliveries(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
) -> AppResult<Json<Vec<Delivery>>> {
    Ok(Json(app.board.deliveries(&actor, route_task_id(&id)?).await?))
}

/// Queues a `webhook.ping` delivery now, to try the receiver → 202 with the delivery.
#[utoipa::path(post, path = "/api/webhooks/{id}/ping", tag = "webhooks",
    params(("id" = i64, Path)),
    responses((status = 202, body = Delivery), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn ping(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
) -> AppResult<impl IntoResponse> {
    Ok((StatusCode::ACCEPTED, Json(app.board.ping_webhook(&actor, route_task_id(&id)?).await?)))
}
