//! `/api/openapi.json`: the REST API's OpenAPI 3 document, generated from the handlers.

use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::App;

#[derive(OpenApi)]
#[openapi(
    info(title = "warroom", description = "A real-time task board for humans and AI agents. \
        Every write here is also pushed to every Socket.IO client."),
    paths(
        super::health::health,
        super::me::me,
        super::tasks::list, super::tasks::create, super::tasks::read, super::tasks::update,
        super::tasks::remove, super::tasks::history,
        super::tasks::claim, super::tasks::next, super::tasks::release, super::tasks::progress,
        super::agents::list, super::agents::read, super::agents::report,
        super::activity::list,
        super::boards::list, super::boards::create, super::boards::read, super::boards::update,
        super::boards::remove, super::boards::tasks, super::boards::create_task, super::boards::activity,
        super::boards::invite, super::boards::accept, super::boards::export, super::boards::import,
        super::cards::labels, super::cards::create_label, super::cards::update_label, super::cards::delete_label,
        super::cards::comments, super::cards::create_comment, super::cards::update_comment,
        super::cards::delete_comment, super::cards::notifications, super::cards::read_notifications,
        super::webhooks::list, super::webhooks::create, super::webhooks::update, super::webhooks::remove,
        super::webhooks::deliveries, super::webhooks::ping,
    ),
    components(schemas(crate::error::ErrorBody, crate::domain::boards::BoardInfo,
        crate::domain::cards::Label, crate::domain::cards::Comment,
        crate::domain::notifications::Notification, crate::domain::webhooks::Webhook,
        crate::domain::webhooks::Format, crate::domain::webhooks::Delivery,
        crate::domain::task::CreateTask, crate::domain::task::NewTask, crate::domain::task::UpdateTask,
        crate::domain::task::TaskPatch, crate::domain::task::ReportProgress, crate::domain::task::NextTask,
        crate::domain::agent::ReportAgent, crate::domain::agent::AgentReport)),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

pub fn router() -> Router<App> {
    Router::new().route("/api/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
