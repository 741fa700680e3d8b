//! Labels of a board (`/api/boards/:board/labels`) and the comments of a task
//! (`/api/tasks/:id/comments`, `/api/comments/:id`), and the caller's notifications.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch};

use super::{Body, Caller, Params, RouteId, route_task_id};
use crate::App;
use crate::domain::board::TaskRef;
use crate::domain::cards::{Comment, CreateComment, CreateLabel, Label, UpdateComment, UpdateLabel};
use crate::domain::input::Input;
use crate::domain::notifications::{Notification, ReadNotifications};
use crate::error::{AppResult, ErrorBody};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/boards/{board}/labels", get(labels).post(create_label))
        .route("/api/boards/{board}/labels/{id}", patch(update_label).delete(delete_label))
        .route("/api/tasks/{id}/comments", get(comments).post(create_comment))
        .route("/api/comments/{id}", patch(update_comment).delete(delete_comment))
        .route("/api/notifications", get(notifications))
        .route("/api/notifications/read", axum::routing::post(read_notifications))
}

/// The caller's notifications, newest first (at most 200); `?unread=true` only the unread.
#[utoipa::path(get, path = "/api/notifications", tag = "cards",
    params(("unread" = Option<bool>, Query, description = "only the unread ones")),
    responses((status = 200, body = [Notification]), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn notifications(
    State(app): State<App>,
    Caller(actor): Caller,
    params: Params,
) -> AppResult<Json<Vec<Notification>>> {
    let unread = params.flag("unread")?;
    Ok(Json(app.board.notifications(&actor, unread).await?))
}

/// `{ ids? }`: marks those (or all) of the caller's notifications read → `{ ids }` marked.
#[utoipa::path(post, path = "/api/notifications/read", tag = "cards",
    request_body = ReadNotifications,
    responses((status = 200, description = "`{ ids }`: those marked now"), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn read_notifications(
    State(app): State<App>,
    Caller(actor): Caller,
    Body(body): Body,
) -> AppResult<Json<serde_json::Value>> {
    let ids = app.board.read_notifications(&actor, ReadNotifications::parse(body)?).await?;
    Ok(Json(serde_json::json!({ "ids": ids })))
}

#[utoipa::path(get, path = "/api/boards/{board}/labels", tag = "cards",
    params(("board" = String, Path)),
    responses((status = 200, body = [Label]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn labels(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
) -> AppResult<Json<Vec<Label>>> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    Ok(Json(app.board.labels(&board).await?))
}

/// `{ name, color }`: a name unique on the board (case aside, else 409), a colour `#rrggbb`.
#[utoipa::path(post, path = "/api/boards/{board}/labels", tag = "cards",
    params(("board" = String, Path)),
    request_body = CreateLabel,
    responses((status = 201, body = Label), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create_label(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    Ok((StatusCode::CREATED, Json(app.board.create_label(&board, &actor, CreateLabel::parse(body)?).await?)))
}

#[utoipa::path(patch, path = "/api/boards/{board}/labels/{id}", tag = "cards",
    params(("board" = String, Path), ("id" = i64, Path)),
    request_body = UpdateLabel,
    responses((status = 200, body = Label), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn update_label(
    State(app): State<App>,
    Caller(actor): Caller,
    Path((board, id)): Path<(String, String)>,
    Body(body): Body,
) -> AppResult<Json<Label>> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    let id = route_task_id(&id)?;
    Ok(Json(app.board.update_label(&board, &actor, Some(id), UpdateLabel::parse(body)?).await?))
}

/// Deletes the label and takes it off its tasks.
#[utoipa::path(delete, path = "/api/boards/{board}/labels/{id}", tag = "cards",
    params(("board" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn delete_label(
    State(app): State<App>,
    Caller(actor): Caller,
    Path((board, id)): Path<(String, String)>,
    Body(body): Body,
) -> AppResult<StatusCode> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    let id = route_task_id(&id)?;
    app.board.delete_label(&board, &actor, Some(id), body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The task's comments, oldest first.
#[utoipa::path(get, path = "/api/tasks/{id}/comments", tag = "cards",
    params(("id" = i64, Path)),
    responses((status = 200, body = [Comment]), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn comments(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
) -> AppResult<Json<Vec<Comment>>> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    Ok(Json(app.board.comments(&board, id).await?))
}

/// `{ body }`: 1–10,000 characters.
#[utoipa::path(post, path = "/api/tasks/{id}/comments", tag = "cards",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateComment,
    responses((status = 201, body = Comment), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create_comment(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    let comment = CreateComment::parse(body)?;
    Ok((
        StatusCode::CREATED,
        Json(app.board.create_comment(&board, &actor, TaskRef::Route(id), comment).await?),
    ))
}

/// `{ body }`, by the comment's author or an admin (else 403).
#[utoipa::path(patch, path = "/api/comments/{id}", tag = "cards",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = UpdateComment,
    responses((status = 200, body = Comment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn update_comment(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<Json<Comment>> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_comment(actor.scope.as_deref(), id).await?;
    Ok(Json(app.board.update_comment(&board, &actor, Some(id), UpdateComment::parse(body)?).await?))
}

/// By the comment's author or an admin (else 403).
#[utoipa::path(delete, path = "/api/comments/{id}", tag = "cards",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn delete_comment(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<StatusCode> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_comment(actor.scope.as_deref(), id).await?;
    app.board.delete_comment(&board, &actor, Some(id), body).await?;
    Ok(StatusCode::NO_CONTENT)
}
