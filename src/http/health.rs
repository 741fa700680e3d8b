//! `/api/health`: liveness and readiness for load balancers and people, without a key.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;

pub fn router() -> Router<App> {
    Router::new().route("/api/health", get(health))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `online`; `degraded` (with HTTP 503) while the store does not answer.
    status: &'static str,
    /// Authenticated sockets open now.
    connections: usize,
    version: &'static str,
    uptime_seconds: u64,
    /// `ok` or `unreachable`: a read of the store within a second.
    store: &'static str,
    /// `ok` or `unreachable` (a PING within a second) with `REDIS_URL`; `disabled` without.
    /// Informative only: without Redis the instance still serves its own sockets.
    redis: &'static str,
}

/// 200 while the server can serve; 503 while its store does not answer, so a load balancer
/// stops sending it traffic.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health, description = "the store does not answer")))]
pub async fn health(State(app): State<App>) -> (StatusCode, Json<Health>) {
    let store_ok = app.board.store_answers(Duration::from_secs(1)).await;
    let redis = match &app.cluster {
        Some(cluster) => cluster.health().await,
        None => "disabled",
    };
    let status = if store_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let health = Health {
        status: if store_ok { "online" } else { "degraded" },
        connections: app.board.connection_count(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: app.started.elapsed().as_secs(),
        store: if store_ok { "ok" } else { "unreachable" },
        redis,
    };
    (status, Json(health))
}
