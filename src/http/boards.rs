//! `/api/boards` and the board-scoped routes, and `/api/invites`: a team's boards, what is on
//! each, and invite links that bring a new person in with a role and boards.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Body, Caller, Params};
use crate::App;
use crate::domain::activity::Activity;
use crate::domain::boards::{BoardInfo, CreateBoard, UpdateBoard};
use crate::domain::input::Input;
use crate::domain::invites::{self, AcceptInvite, CreateInvite};
use crate::domain::task::{CreateTask, Task};
use crate::error::{AppError, AppResult, ErrorBody};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/boards", get(list).post(create))
        .route("/api/boards/{board}", get(read).patch(update).delete(remove))
        .route("/api/boards/{board}/tasks", get(tasks).post(create_task))
        .route("/api/boards/{board}/activity", get(activity))
        .route("/api/boards/{board}/export", get(export))
        .route("/api/invites", post(invite))
        .route("/api/invites/{code}/accept", post(accept))
}

/// The boards the caller's credential reaches, by id.
#[utoipa::path(get, path = "/api/boards", tag = "boards",
    responses((status = 200, body = [BoardInfo]), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(State(app): State<App>, Caller(actor): Caller) -> AppResult<Json<Vec<BoardInfo>>> {
    Ok(Json(app.board.boards_for(actor.scope.as_deref()).await?.to_vec()))
}

/// Creates a board (admins): `{ id?, name, description? }`; the id is made from the name when
/// not given.
#[utoipa::path(post, path = "/api/boards", tag = "boards",
    request_body = CreateBoard,
    responses((status = 201, body = BoardInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the id is taken")),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create(
    State(app): State<App>,
    Caller(actor): Caller,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(app.board.create_board(&actor, CreateBoard::parse(body)?).await?)))
}

#[utoipa::path(get, path = "/api/boards/{board}", tag = "boards",
    params(("board" = String, Path)),
    responses((status = 200, body = BoardInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn read(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
) -> AppResult<Json<BoardInfo>> {
    Ok(Json(app.board.board_info(actor.scope.as_deref(), &board).await?))
}

/// Renames, describes, archives or restores a board (admins); `main` cannot be archived.
#[utoipa::path(patch, path = "/api/boards/{board}", tag = "boards",
    params(("board" = String, Path)),
    request_body = UpdateBoard,
    responses((status = 200, body = BoardInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn update(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    Body(body): Body,
) -> AppResult<Json<BoardInfo>> {
    Ok(Json(app.board.update_board(&actor, Some(&board), UpdateBoard::parse(body)?).await?))
}

/// Deletes a board and everything on it (admins); `main` always exists.
#[utoipa::path(delete, path = "/api/boards/{board}", tag = "boards",
    params(("board" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn remove(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    Body(body): Body,
) -> AppResult<StatusCode> {
    app.board.delete_board(&actor, Some(&board), body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The board's tasks, filtered as `GET /api/tasks`.
#[utoipa::path(get, path = "/api/boards/{board}/tasks", tag = "boards",
    params(("board" = String, Path)),
    responses((status = 200, body = [Task]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn tasks(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    params: Params,
) -> AppResult<Json<Vec<Task>>> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    super::tasks::list_on(&app, &board, &params).await
}

/// Creates a task on the board, as `POST /api/tasks`.
#[utoipa::path(post, path = "/api/boards/{board}/tasks", tag = "boards",
    params(("board" = String, Path)),
    request_body = CreateTask,
    responses((status = 201, body = Task), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn create_task(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    let task = app.board.create_task(&board, &actor, CreateTask::parse(body)?).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// The board's activity, as `GET /api/activity`.
#[utoipa::path(get, path = "/api/boards/{board}/activity", tag = "boards",
    params(("board" = String, Path)),
    responses((status = 200, body = [Activity]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn activity(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    params: Params,
) -> AppResult<Json<Vec<Activity>>> {
    let board = app.board.board_info(actor.scope.as_deref(), &board).await?.id;
    super::activity::list_on(&app, &board, &params).await
}

/// Everything on the board as `{ format: "warroom-board", version: 1, board, labels, tasks,
/// comments, activity }` (comments and activity oldest first); `?format=csv`: the tasks as CSV.
#[utoipa::path(get, path = "/api/boards/{board}/export", tag = "boards",
    params(("board" = String, Path), ("format" = Option<String>, Query, description = "`json` (default) or `csv`")),
    responses((status = 200, description = "the export"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn export(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    params: Params,
) -> AppResult<axum::response::Response> {
    let export = app.board.export(actor.scope.as_deref(), &board).await?;
    let file = |ext: &str| format!("attachment; filename=\"warroom-{}.{ext}\"", export.board.id);
    Ok(match params.0.get("format").map(String::as_str) {
        None | Some("json") => ([(header::CONTENT_DISPOSITION, file("json"))], Json(&export)).into_response(),
        Some("csv") => {
            let csv = crate::domain::transfer::tasks_csv(&export.tasks, &export.labels)?;
            let headers = [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, file("csv")),
            ];
            (headers, csv).into_response()
        }
        Some(_) => return Err(AppError::validation("`format` must be json or csv")),
    })
}

/// SPEC: an import body may be up to 50 MiB.
pub const IMPORT_LIMIT: usize = 50 * 1024 * 1024;

/// The import route, with its own body limit (every other route reads at most 1 MiB).
pub fn import_router() -> Router<App> {
    Router::new()
        .route("/api/boards/{board}/import", post(import))
        .route_layer(axum::middleware::from_fn(read_import_first))
        .layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT))
}

async fn read_import_first(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    super::read_first(req, next, IMPORT_LIMIT).await
}

/// Imports a warroom export, a Trello board export (JSON) or CSV with a header row (admins),
/// all or nothing, as one change: every socket on the board gets a fresh `sync:full`.
/// `?dryRun=true` answers what it would import and skip, and writes nothing.
#[utoipa::path(post, path = "/api/boards/{board}/import", tag = "boards",
    params(("board" = String, Path),
        ("dryRun" = Option<bool>, Query, description = "plan only: the same answer, nothing written")),
    request_body(content = String, description = "the file: JSON or CSV, up to 50 MiB"),
    responses((status = 200, description = "`{ imported: { tasks, labels, comments }, skipped: [{ item, reason }] }`"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn import(
    State(app): State<App>,
    Caller(actor): Caller,
    Path(board): Path<String>,
    params: Params,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult<Json<Value>> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        _ => AppError::validation(format!("could not read the body: {rejection}")),
    })?;
    let dry_run = params.flag("dryRun")?;
    Ok(Json(app.board.import(&board, &actor, &body, dry_run).await?))
}

/// Makes an invite link (admins): `{ role, boards?, expiresInHours? }` → `{ code, url,
/// expiresAt }`. The code is shown only in this answer.
#[utoipa::path(post, path = "/api/invites", tag = "boards",
    request_body = CreateInvite,
    responses((status = 201, description = "`{ code, url, expiresAt, role, boards }`"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn invite(
    State(app): State<App>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    let (code, invite) = app.board.create_invite(&actor, CreateInvite::parse(body)).await?;
    let url = invites::url(&public_base(&headers), &code);
    let body = json!({
        "code": code,
        "url": url,
        "expiresAt": invite.expires_at,
        "role": invite.role,
        "boards": invite.boards,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// Exchanges an invite code for a personal token (no key needed): `{ name }` → `{ token,
/// name, role, boards }`. A used, expired or unknown code is 401.
#[utoipa::path(post, path = "/api/invites/{code}/accept", tag = "boards",
    params(("code" = String, Path)),
    request_body = AcceptInvite,
    responses((status = 201, description = "`{ token, name, role, boards }`"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn accept(
    State(app): State<App>,
    Path(code): Path<String>,
    Body(body): Body,
) -> AppResult<impl IntoResponse> {
    let (token, stored) = app.board.accept_invite(&app.keys, &code, AcceptInvite::parse(body)?).await?;
    let body = json!({ "token": token, "name": stored.name, "role": stored.role, "boards": stored.boards });
    Ok((StatusCode::CREATED, Json(body)))
}

/// Where the caller reached the dashboard: the browser's `Origin`, else the `Host` it asked.
fn public_base(headers: &HeaderMap) -> String {
    let header = |name| headers.get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
    match (header(header::ORIGIN), header(header::HOST)) {
        (Some(origin), _) if origin != "null" => origin.to_owned(),
        (_, Some(host)) => format!("http://{host}"),
        _ => String::new(),
    }
}
