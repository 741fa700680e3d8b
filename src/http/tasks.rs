//! `/api/tasks`: list, create, read, change, delete, and a task's history.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::{Body, Caller, Params, RouteId, route_task_id};
use crate::App;
use crate::domain::activity::Activity;
use crate::domain::board::TaskRef;
use crate::domain::input::{self, Input};
use crate::domain::storage::TaskFilter;
use crate::domain::task::{
    ClaimTask, CreateTask, NextTask, ReleaseTask, ReportProgress, Status, Task, UpdateTask,
};
use crate::error::{AppError, AppResult, ErrorBody};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/tasks", get(list).post(create))
        .route("/api/tasks/{id}", get(read).put(update).patch(update).delete(remove))
        .route("/api/tasks/{id}/history", get(history))
        .route("/api/tasks/next", post(next))
        .route("/api/tasks/{id}/claim", post(claim))
        .route("/api/tasks/{id}/release", post(release))
        .route("/api/tasks/{id}/progress", post(progress))
}

/// Tasks in display order (column, then position), optionally filtered and paged.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks",
    params(
        ("status" = Option<Status>, Query, description = "only this status"),
        ("assignee" = Option<String>, Query, description = "only this assignee (case-insensitive)"),
        ("q" = Option<String>, Query, description = "text in the title or description"),
        ("limit" = Option<i64>, Query, description = "at most this many (default: all)"),
        ("offset" = Option<i64>, Query, description = "skip this many first (default 0)"),
    ),
    responses((status = 200, body = [Task]), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(
    State(app): State<App>,
    Caller(actor): Caller,
    params: Params,
) -> AppResult<Json<Vec<Task>>> {
    let board = app.board.board_info(actor.scope.as_deref(), params.board()).await?.id;
    list_on(&app, &board, &params).await
}

/// The tasks of `board` (checked by the caller) as `params` filter them.
pub async fn list_on(app: &App, board: &str, params: &Params) -> AppResult<Json<Vec<Task>>> {
    let filter = TaskFilter {
        status: params.0.get("status").map(|s| s.parse()).transpose()?,
        assignee: params.0.get("assignee").filter(|a| !a.is_empty()).cloned(),
        q: params.0.get("q").filter(|q| !q.is_empty()).cloned(),
        limit: params.number("limit", input::positive_int)?,
        offset: params.number("offset", input::non_negative_int)?.unwrap_or(0),
        label: match params.0.get("label").filter(|l| !l.is_empty()) {
            // No such label on the board: no task has it.
            Some(label) => match app.board.label_id(board, label).await? {
                Some(id) => Some(id),
                None => return Ok(Json(Vec::new())),
            },
            None => None,
        },
        due_before: params
            .0
            .get("dueBefore")
            .map(|d| crate::domain::cards::due_at(serde_json::Value::String(d.clone())))
            .transpose()?
            .flatten(),
    };
    Ok(Json(app.board.tasks(board, filter).await?))
}

/// Creates a task.
#[utoipa::path(post, path = "/api/tasks", tag = "tasks",
    request_body = CreateTask,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe retries")),
    responses((status = 201, body = Task), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create(
    State(app): State<App>,
    Caller(actor): Caller,
    params: Params,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    let board = app.board.board_info(actor.scope.as_deref(), params.board()).await?.id;
    let task = app.board.create_task(&board, &actor, CreateTask::parse(body)?).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path)),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn read(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
) -> AppResult<Json<Task>> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    Ok(Json(app.board.task(&board, id).await?))
}

/// Changes only the given fields; `version` makes it conditional (409 when stale).
#[utoipa::path(method(put, patch), path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = UpdateTask,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "stale version, or someone is dragging the task")),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn update(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<Json<Task>> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    Ok(Json(app.board.update_task(&board, &actor, TaskRef::Route(id), UpdateTask::parse(body)?).await?))
}

#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn remove(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<StatusCode> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    app.board.delete_task(&board, &actor, TaskRef::Route(id), body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything that happened to a task, newest first; kept after it is deleted.
#[utoipa::path(get, path = "/api/tasks/{id}/history", tag = "tasks",
    params(("id" = i64, Path)),
    responses((status = 200, body = [Activity]), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn history(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    params: Params,
) -> AppResult<Json<Vec<Activity>>> {
    let id = route_task_id(&id)?;
    let scope = actor.scope.as_deref();
    // A deleted task keeps its history but no row that names its board: `?board=` then does.
    let board = match app.board.task_exists(id).await? {
        true => app.board.board_of_task(scope, id).await?,
        false => app.board.board_info(scope, params.board()).await?.id,
    };
    let entries = app.board.task_history(&board, id).await?;
    if entries.is_empty() {
        return Err(AppError::TaskNotFound(id));
    }
    Ok(Json(entries))
}

/// Claims the task for an agent: assigned to it and IN_PROGRESS, atomically.
#[utoipa::path(post, path = "/api/tasks/{id}/claim", tag = "agents",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ClaimTask,
    responses((status = 200, body = Task), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "claimed, assigned to someone else, or DONE")),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn claim(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<Json<Task>> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    Ok(Json(app.board.claim_task(&board, &actor, TaskRef::Route(id), ClaimTask::parse(body)?).await?))
}

/// Claims the unassigned, ready TODO task at the top of its column; with `wait`, waits up to
/// that many seconds (0–60) for one; 204 when there is none.
#[utoipa::path(post, path = "/api/tasks/next", tag = "agents",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = NextTask,
    responses((status = 200, body = Task), (status = 204, description = "nothing left to do"),
        (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn next(
    State(app): State<App>,
    Caller(actor): Caller,
    params: Params,
    Body(body): Body,
) -> AppResult<axum::response::Response> {
    let board = app.board.board_info(actor.scope.as_deref(), params.board()).await?.id;
    Ok(match app.board.next_task(&board, &actor, NextTask::parse(body)?).await? {
        Some(task) => Json(task).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Gives the task back: TODO, unassigned, unclaimed.
#[utoipa::path(post, path = "/api/tasks/{id}/release", tag = "agents",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReleaseTask,
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn release(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<Json<Task>> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    Ok(Json(app.board.release_task(&board, &actor, TaskRef::Route(id), ReleaseTask::parse(body)?).await?))
}

/// Records a progress note in the task's activity and on its card.
#[utoipa::path(post, path = "/api/tasks/{id}/progress", tag = "agents",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReportProgress,
    responses((status = 200, body = Task), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn progress(
    State(app): State<App>,
    Caller(actor): Caller,
    RouteId(id): RouteId,
    Body(body): Body,
) -> AppResult<Json<Task>> {
    let id = route_task_id(&id)?;
    let board = app.board.board_of_task(actor.scope.as_deref(), id).await?;
    let note = ReportProgress::parse(body)?;
    Ok(Json(app.board.report_progress(&board, &actor, TaskRef::Route(id), note).await?))
}
