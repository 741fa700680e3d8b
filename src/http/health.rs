//! `/api/health`: liveness for load balancers and people, without a key.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;

pub fn router() -> Router<App> {
    Router::new().route("/api/health", get(health))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `online` when the server answers.
    status: &'static str,
    /// Authenticated sockets open now.
    connections: usize,
    version: &'static str,
    uptime_seconds: u64,
}

#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health(State(app): State<App>) -> Json<Health> {
    Json(Health {
        status: "online",
        connections: app.board.presence().connection_count(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: app.started.elapsed().as_secs(),
    })
}
