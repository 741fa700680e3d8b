//! `/api/me`: what the presented credential is — its person, role and boards — so a client can
//! offer only what the server will allow (the dashboard shows a viewer a read-only board).

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use super::Authenticated;
use crate::App;

pub fn router() -> Router<App> {
    Router::new().route("/api/me", get(me))
}

/// `{ name, role, boards }`: `name` is a token's person (null for the team key), `boards` the
/// boards it is limited to (null: every board).
#[utoipa::path(get, path = "/api/me", tag = "boards",
    responses((status = 200, description = "`{ name, role, boards }`"), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn me(Authenticated(credential): Authenticated) -> Json<Value> {
    Json(json!({
        "name": credential.person,
        "role": credential.role.as_str(),
        "boards": credential.boards.as_deref(),
    }))
}
