//! The REST adapter: one file per resource, each with its `router()`, over the board service.
//!
//! Extractors here turn every kind of bad request (no key, a body that is too large or not
//! JSON, a malformed query) into the one error type, so REST errors always have the same shape.

pub mod activity;
pub mod agents;
pub mod boards;
pub mod cards;
pub mod health;
pub mod me;
pub mod openapi;
pub mod tasks;
pub mod webhooks;

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::App;
use crate::auth::Credential;
use crate::domain::board::Actor;
use crate::error::{AppError, AppResult};

/// SPEC: REST bodies over 1 MiB get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn router() -> Router<App> {
    Router::new()
        .merge(health::router())
        .merge(me::router())
        .merge(tasks::router())
        .merge(boards::router())
        .merge(cards::router())
        .merge(agents::router())
        .merge(activity::router())
        .merge(webhooks::router())
        .merge(openapi::router())
        .route("/metrics", axum::routing::get(metrics))
        .route_layer(axum::middleware::from_fn(time_request))
        .route_layer(axum::middleware::from_fn(read_body_first))
        // Added after the 1 MiB body reader: imports take up to 50 MiB.
        .merge(boards::import_router().route_layer(axum::middleware::from_fn(time_request)))
        // Boards are JSON that compresses some 15 times (5,000 tasks: 1.8 MB, 115 KB in brotli): a
        // first visit, an export or an agent's listing over a real network waits on those bytes.
        // At the fastest setting it costs no time even on localhost (16 ms for those 5,000, as
        // plain); the default one took 15–30 ms more for 70 KB. Answers under 32 bytes stay plain.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
}

/// Prometheus text format; no key, like `/api/health`: it holds counts, never board data.
async fn metrics(axum::extract::State(app): axum::extract::State<App>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        crate::metrics::render(app.board.connection_count()),
    )
}

/// Reads the whole body (up to the limit) before any extractor can refuse the request: a
/// refusal (a wrong key, say) that left the body unread would close the connection under a
/// reverse proxy still sending it, which then answers 502 instead of our 401.
async fn read_body_first(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    read_first(req, next, BODY_LIMIT).await
}

/// `read_body_first` for a route with a limit of its own.
pub(crate) async fn read_first(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    limit: usize,
) -> Response {
    let (parts, body) = req.into_parts();
    match read_within(body, limit).await {
        Some(bytes) => {
            next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
        }
        None => AppError::PayloadTooLarge.into_response(),
    }
}

/// How much of a body over the limit is still read, and for how long, so that its sender gets
/// the 413: a server that answers and closes while the client is still sending resets the
/// connection, and the client sees "connection reset" or EPIPE instead of the answer. Past
/// these the connection is closed without waiting for the rest.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The whole body when it holds at most `limit` bytes; `None` when it holds more (read to its
/// end and dropped as it arrives, within `DRAIN_LIMIT` and `DRAIN_TIME`) or the client went
/// away mid-body, when no answer is read anyway.
async fn read_within(body: axum::body::Body, limit: usize) -> Option<axum::body::Bytes> {
    use futures_util::StreamExt;
    let mut chunks = body.into_data_stream();
    let mut kept = Vec::new();
    let mut read = 0usize;
    let drain_until = tokio::time::Instant::now() + DRAIN_TIME;
    loop {
        let chunk = if read > limit {
            match tokio::time::timeout_at(drain_until, chunks.next()).await {
                Ok(chunk) => chunk,
                Err(_) => return None,
            }
        } else {
            chunks.next().await
        };
        match chunk {
            None if read > limit => return None,
            None => return Some(kept.into()),
            Some(Err(_)) => return None,
            Some(Ok(bytes)) => {
                read = read.saturating_add(bytes.len());
                if read > DRAIN_LIMIT {
                    return None;
                }
                if read <= limit {
                    kept.extend_from_slice(&bytes);
                } else {
                    kept = Vec::new();
                }
            }
        }
    }
}

/// Records each REST request's latency under its route pattern (`PUT /api/tasks/{id}`).
async fn time_request(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
    let label = format!("{} {}", req.method(), route.as_deref().unwrap_or("unmatched"));
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    crate::metrics::command_done(&label, started.elapsed());
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        crate::metrics::error_answered(self.code());
        self.log("a REST request");
        let status = StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(serde_json::json!({ "error": self.body() }))).into_response()
    }
}

/// An authenticated, rate-limited REST caller (`Authorization: Bearer` or `X-API-Key`), acting
/// as the person `X-Warroom-Name` names (see `Credential::rest_name`).
pub struct Caller(pub Actor);

impl FromRequestParts<App> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        let Authenticated(credential) = Authenticated::from_request_parts(parts, app).await?;
        let name = credential.rest_name(named_person(&parts.headers)?)?;
        Ok(Caller(Actor {
            name,
            credential: credential.id,
            connection: None,
            role: credential.role,
            scope: credential.boards,
        }))
    }
}

/// The credential of a rate-limited REST request, for routes that read with it for longer
/// than one answer (Server-Sent Events check it is still valid while they stream).
pub struct Authenticated(pub Credential);

impl FromRequestParts<App> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        let key = presented_key(&parts.headers).ok_or(AppError::Unauthorized)?;
        let credential = app.keys.identify(key).ok_or(AppError::Unauthorized)?;
        app.limits.check_rest(&credential.id).await?;
        Ok(Authenticated(credential))
    }
}

/// The person `X-Warroom-Name` names, validated like any name. Browsers can only send Latin-1
/// in a header, so the value may be percent-encoded UTF-8 (`encodeURIComponent(name)`); raw
/// UTF-8 is accepted too.
fn named_person(headers: &HeaderMap) -> AppResult<Option<String>> {
    let Some(value) = headers.get(NAME_HEADER) else {
        return Ok(None);
    };
    let decoded = percent_encoding::percent_decode(value.as_bytes())
        .decode_utf8()
        .map_err(|_| AppError::validation("`X-Warroom-Name` must be UTF-8, percent-encoded or not"))?;
    crate::domain::input::name(Value::String(decoded.into_owned()), "X-Warroom-Name").map(Some)
}

/// The header by which the dashboard's REST fallback (or a script) says who it writes as.
pub const NAME_HEADER: &str = "x-warroom-name";

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok())
}

/// A JSON body of at most 1 MiB, any shape: handlers parse it into the command's typed input
/// (`Input::parse`) once they know the caller may act on the board, as the socket adapter does.
/// An `Idempotency-Key` header becomes the command's `opId`.
pub struct Body(pub Value);

impl FromRequest<App> for Body {
    type Rejection = AppError;

    async fn from_request(req: Request, app: &App) -> Result<Self, AppError> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let idempotency_key = req.headers().get("idempotency-key").map(|v| v.to_str().map(str::to_owned));
        let bytes = Bytes::from_request(req, app).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::validation(format!("could not read the body: {rejection}"))
            }
        })?;
        let mut value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            let is_json = content_type.as_deref().is_some_and(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
            if !is_json {
                return Err(AppError::validation("the body must be JSON (Content-Type: application/json)"));
            }
            serde_json::from_slice(&bytes)
                .map_err(|e| AppError::validation(format!("the body is not valid JSON: {e}")))?
        };
        if let Some(key) = idempotency_key {
            let key = key.map_err(|_| AppError::validation("`Idempotency-Key` must be visible ASCII"))?;
            match &mut value {
                Value::Object(map) if !map.contains_key("opId") => {
                    map.insert("opId".into(), Value::String(key));
                }
                Value::Object(_) => {
                    return Err(AppError::validation(
                        "send either an `Idempotency-Key` header or an `opId`, not both",
                    ));
                }
                // Not an object: the service refuses it with the right message.
                _ => {}
            }
        }
        Ok(Body(value))
    }
}

/// Query parameters, with a malformed query answered as VALIDATION_ERROR.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::validation(format!("malformed query: {e}")))?;
        Ok(Params(map))
    }
}

impl Params {
    /// `?board=`: the board the older routes act on; `main` without it.
    pub fn board(&self) -> &str {
        self.0.get("board").map_or(crate::MAIN_BOARD, String::as_str)
    }

    /// A numeric parameter, checked by `check` as the same field of a JSON body would be.
    pub fn number(&self, name: &str, check: fn(Value, &str) -> AppResult<i64>) -> AppResult<Option<i64>> {
        self.0.get(name).map(|v| check(Value::String(v.clone()), name)).transpose()
    }

    /// A yes/no parameter: `true` or `false`, false when absent.
    pub fn flag(&self, name: &str) -> AppResult<bool> {
        match self.0.get(name).map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(crate::error::AppError::validation(format!("`{name}` must be true or false"))),
        }
    }
}

/// A task id from the route.
pub fn route_task_id(raw: &str) -> Result<i64, AppError> {
    crate::domain::input::task_id(Value::String(raw.to_owned()), "id")
}

/// The `:id` segment of a route, with a malformed one answered as VALIDATION_ERROR.
pub struct RouteId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RouteId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Path(id) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::validation(format!("malformed route: {e}")))?;
        Ok(RouteId(id))
    }
}
