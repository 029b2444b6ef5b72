//! The OpenAPI document's frame; paths and schemas come from the handlers' annotations, and
//! [`complete`] adds what every route of a kind answers, so no operation forgets a status it can give.

use axum::http::Method;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use crate::http::scope;

/// The document's info, tags and security scheme.
#[derive(OpenApi)]
#[openapi(
    info(title = "Parley API", description = "The HTTP API of Parley, a self-hosted SMS contact center. Authenticate with `Authorization: Bearer TOKEN` (or HTTP basic auth with a key's id and token). A key with scopes may call an operation only with the scope its description names (403 `insufficient_scope` otherwise). Every POST takes an `Idempotency-Key` header. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`: `details` lists each problem of a request body with `field`, the JSON Pointer of the value at fault."),
    modifiers(&Bearer),
    components(schemas(crate::http::error::ErrorCode, crate::http::error::ErrorBody, crate::http::twilio_api::error::TwilioErrorBody)),
    tags((name = "setup"), (name = "tokens"), (name = "agents"), (name = "reports", description = "The seed's reports over a period: JSON tables, CSV, SVG charts (docs/reports.md)"), (name = "chats"), (name = "events"), (name = "sms"), (name = "numbers"), (name = "outbound"), (name = "privacy"), (name = "simulator"), (name = "twilio", description = "The Twilio-compatible Messages API: HTTP basic auth with a key id (SK…) and its token; answers and errors in Twilio's shapes"))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
            // The Twilio-compatible API: the key id (SK…) as the username, its token as the password.
            components.add_security_scheme(
                "basic",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
            );
        }
    }
}

/// Lists on every operation the error statuses that the shared layers can answer (authentication,
/// the extractors, a database outage), and gives every response without one a description. A
/// status an operation documents itself keeps its own description.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        // The Twilio-compatible API answers its errors in Twilio's shape.
        let error_schema = if path.starts_with("/2010-04-01/") { "TwilioErrorBody" } else { "ErrorBody" };
        let operations = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ];
        for (method, op) in operations {
            if let Some(op) = op {
                complete_operation(op, error_schema);
                describe_access(op, method, path, error_schema);
            }
        }
    }
}

/// Says in each secured operation's description which scope a scoped key needs, and documents what
/// the shared layers add to POSTs (`Idempotency-Key`) and sending requests (the key's rate limit).
fn describe_access(op: &mut Operation, method: &str, path: &str, error_schema: &str) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    if secured {
        let access = match scope::needs_of(op).describe() {
            Some(needs) => format!(
                "**Scope:** `{}` (for keys with scopes).",
                needs.replace(" or ", "` or `").replace(" and ", "` and `")
            ),
            None => "**Scope:** none grants it: an admin or agent key without scopes, or a console session.".to_owned(),
        };
        let description = op.description.take().unwrap_or_default();
        op.description = Some(if description.is_empty() { access } else { format!("{description}\n\n{access}") });
    }
    if method == "POST" {
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Send the same key again (with the same request) to get the first answer back instead of doing it \
                 twice, for 24 hours, on any node; 1 to 255 visible ASCII characters.",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255))))
            .build();
        op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(parameter));
        for (status, description) in [
            (
                "409",
                "the request conflicts with the current state, or the request with this Idempotency-Key is still running (code idempotency_in_progress, with Retry-After)",
            ),
            (
                "422",
                "a value is not valid, or the Idempotency-Key was used with another request (code idempotency_key_reused)",
            ),
        ] {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| error_response(description, error_schema));
        }
    }
    if scope::is_sending(&Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET), path) {
        op.responses.responses.entry("429".to_owned()).or_insert_with(|| {
            error_response(
                "the key made more sending requests than its rate allows; retry after Retry-After seconds (code rate_limited)",
                error_schema,
            )
        });
    }
}

fn error_response(description: &str, schema: &str) -> RefOr<Response> {
    let mut response = Response::new(description);
    response.content.insert("application/json".to_owned(), RefOr::T(Content::new(Some(Ref::from_schema_name(schema)))));
    RefOr::T(response)
}

fn complete_operation(op: &mut Operation, error_schema: &str) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let params_in = |place: ParameterIn| {
        op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let (query, path) = (params_in(ParameterIn::Query), params_in(ParameterIn::Path));
    let body = op.request_body.is_some();
    let mut shared: Vec<(&str, &str)> = vec![];
    if secured {
        shared.push(("401", "no, an unknown or an expired bearer token or session (code unauthorized)"));
        shared.push((
            "403",
            "the caller's role or queues do not allow this, a key lacks the scope it needs (code \
             insufficient_scope), or a cookie session's write came without its X-CSRF-Token (codes \
             forbidden, csrf)",
        ));
    }
    if body {
        shared.push(("400", "the body is not JSON; the message gives the line and column (code bad_request)"));
        shared.push(("413", "the body is too large (code payload_too_large)"));
        shared.push(("415", "the body is not sent as application/json (code unsupported_media_type)"));
        shared.push((
            "422",
            "a value of the body is not valid; `details` names each field by its JSON Pointer (code \
             validation_failed)",
        ));
    } else if query || path {
        shared.push(("400", "a query or path parameter is malformed (code bad_request)"));
    }
    if path {
        shared.push(("404", "nothing has that id (code not_found)"));
    }
    shared.push(("500", "a failure inside the server; the message has an id to find in its log (code internal)"));
    shared.push((
        "503",
        "the server is shutting down or its database does not answer; try again after Retry-After seconds \
         (code unavailable)",
    ));
    for (status, description) in shared {
        op.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description, error_schema));
    }
    for (status, response) in &mut op.responses.responses {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = default_description(status).to_owned();
        }
    }
}

/// What a status means where its operation says nothing more.
fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "the answer",
        "201" => "created",
        "202" => "accepted: the work is queued",
        "204" => "done; no body",
        "400" => "the request is malformed (code bad_request)",
        "401" => "no, an unknown or an expired bearer token or session (code unauthorized)",
        "403" => "the caller's role or queues do not allow this (code forbidden)",
        "404" => "not found (code not_found)",
        "409" => "the request conflicts with the current state; the message says which (code conflict)",
        "413" => "the body is too large (code payload_too_large)",
        "415" => "the body is not sent as application/json (code unsupported_media_type)",
        "422" => "a value is not valid; the message (and `details`, for a body) says which (code validation_failed)",
        "429" => "too many attempts; try again later",
        _ => "see the error body's code and message",
    }
}
