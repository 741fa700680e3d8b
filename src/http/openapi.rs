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
        crate::domain::task::ClaimTask, crate::domain::task::ReleaseTask,
        crate::domain::agent::ReportAgent, crate::domain::agent::AgentReport, crate::domain::cards::CreateComment,
        crate::domain::cards::CreateLabel, crate::domain::cards::NewLabel, crate::domain::cards::UpdateLabel,
        crate::domain::cards::LabelPatch, crate::domain::cards::UpdateComment, crate::domain::boards::CreateBoard,
        crate::domain::boards::UpdateBoard, crate::domain::boards::BoardPatch,
        crate::domain::notifications::ReadNotifications, crate::domain::webhooks::CreateWebhook,
        crate::domain::webhooks::UpdateWebhook, crate::domain::invites::CreateInvite,
        crate::domain::invites::AcceptInvite, crate::auth::Role)),
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

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;

    /// The properties a schema gives a JSON object, through `$ref`s and `allOf`s, with the
    /// names of the required ones.
    fn properties(doc: &Value, schema: &Value) -> (Map<String, Value>, Vec<String>) {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/schemas/");
            return properties(doc, &doc["components"]["schemas"][name]);
        }
        let mut props = schema["properties"].as_object().cloned().unwrap_or_default();
        let mut required: Vec<String> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(Into::into))
            .collect();
        for part in schema["allOf"].as_array().into_iter().flatten() {
            let (more, more_required) = properties(doc, part);
            props.extend(more);
            required.extend(more_required);
        }
        (props, required)
    }

    fn request_body(doc: &Value, path: &str, method: &str) -> (Map<String, Value>, Vec<String>) {
        let schema = &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
        assert!(schema["$ref"].is_string(), "{method} {path} names a schema: {schema}");
        properties(doc, schema)
    }

    fn statuses(doc: &Value, property: &Value) -> Value {
        let status = property["oneOf"].as_array().and_then(|o| o.iter().find(|s| s["$ref"].is_string()));
        let name =
            status.unwrap_or(property)["$ref"].as_str().unwrap().trim_start_matches("#/components/schemas/");
        doc["components"]["schemas"][name]["enum"].clone()
    }

    #[test]
    fn the_task_routes_describe_their_request_bodies_with_real_schemas() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let all = serde_json::json!(["TODO", "IN_PROGRESS", "BLOCKED", "REVIEW", "DONE"]);

        let (create, required) = request_body(&doc, "/api/tasks", "post");
        for field in
            ["title", "description", "status", "assignee", "position", "blockedBy", "labels", "dueAt", "opId"]
        {
            assert!(create.contains_key(field), "POST /api/tasks documents `{field}`");
        }
        assert_eq!(required, ["title"]);
        assert_eq!(statuses(&doc, &create["status"]), all);
        assert_eq!(create["title"]["type"], "string");

        let (patch, required) = request_body(&doc, "/api/tasks/{id}", "patch");
        for field in [
            "title",
            "description",
            "status",
            "assignee",
            "position",
            "version",
            "blockedBy",
            "labels",
            "dueAt",
        ] {
            assert!(patch.contains_key(field), "PATCH /api/tasks/{{id}} documents `{field}`");
        }
        assert!(required.is_empty(), "every field of a patch is optional: {required:?}");
        assert_eq!(statuses(&doc, &patch["status"]), all);
        // null clears an assignee or a due date, and is refused for a title.
        assert_eq!(patch["assignee"]["type"], serde_json::json!(["string", "null"]));
        assert_eq!(patch["dueAt"]["type"], serde_json::json!(["string", "null"]));
        assert_eq!(patch["title"]["type"], "string");

        let (next, required) = request_body(&doc, "/api/tasks/next", "post");
        assert!(next.contains_key("wait"));
        assert_eq!(required, ["agentId"]);

        let (rename, required) = request_body(&doc, "/api/boards/{board}/labels/{id}", "patch");
        for field in ["id", "opId", "name", "color"] {
            assert!(rename.contains_key(field), "PATCH a label documents `{field}`");
        }
        assert!(required.is_empty(), "every field of a label patch is optional: {required:?}");
        let (edit, required) = request_body(&doc, "/api/comments/{id}", "patch");
        assert!(edit.contains_key("body"));
        assert_eq!(required, ["body"]);

        let (board, required) = request_body(&doc, "/api/boards", "post");
        for field in ["id", "name", "description"] {
            assert!(board.contains_key(field), "POST /api/boards documents `{field}`");
        }
        assert_eq!(required, ["name"]);
    }

    #[test]
    fn the_webhook_and_invite_routes_describe_their_request_bodies_with_real_schemas() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let formats = serde_json::json!(["json", "slack"]);
        let enum_of = |property: &Value| {
            let name = property["$ref"].as_str().unwrap().trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"][name]["enum"].clone()
        };

        let (hook, required) = request_body(&doc, "/api/boards/{board}/webhooks", "post");
        for field in ["url", "events", "secret", "format"] {
            assert!(hook.contains_key(field), "POST a webhook documents `{field}`");
        }
        assert_eq!(required, ["url"]);
        assert_eq!(hook["url"]["maxLength"], 2048);
        assert_eq!(hook["events"]["maxItems"], 32);
        assert_eq!(hook["secret"]["minLength"], 16);
        assert_eq!(enum_of(&hook["format"]), formats);

        let (patch, required) = request_body(&doc, "/api/webhooks/{id}", "patch");
        for field in ["url", "events", "format", "active"] {
            assert!(patch.contains_key(field), "PATCH a webhook documents `{field}`");
        }
        assert!(!patch.contains_key("secret"), "a secret is set only when the hook is made");
        assert!(required.is_empty(), "every field of a webhook patch is optional: {required:?}");
        assert_eq!(patch["active"]["type"], "boolean");
        assert_eq!(enum_of(&patch["format"]), formats);

        let (invite, required) = request_body(&doc, "/api/invites", "post");
        for field in ["role", "boards", "expiresInHours"] {
            assert!(invite.contains_key(field), "POST /api/invites documents `{field}`");
        }
        assert!(required.is_empty(), "every field of an invite has a default: {required:?}");
        assert_eq!(enum_of(&invite["role"]), serde_json::json!(["viewer", "editor", "admin"]));
        assert_eq!(invite["expiresInHours"]["maximum"], 8760);
        // null boards mean the maker's boards, as an empty list does.
        assert_eq!(invite["boards"]["type"], serde_json::json!(["array", "null"]));

        let (accept, required) = request_body(&doc, "/api/invites/{code}/accept", "post");
        assert!(accept.contains_key("name"));
        assert_eq!(required, ["name"]);
    }
}
