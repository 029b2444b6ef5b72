//! The OpenAPI document's frame; paths and schemas come from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's info, tags and security scheme.
#[derive(OpenApi)]
#[openapi(
    info(title = "Parley API", description = "The HTTP API of Parley, a self-hosted SMS contact center. Authenticate with `Authorization: Bearer TOKEN`. Errors are `{\"error\": {\"code\", \"message\"}}`."),
    modifiers(&Bearer),
    components(schemas(crate::http::error::ErrorCode)),
    tags((name = "setup"), (name = "tokens"), (name = "agents"), (name = "chats"), (name = "events"), (name = "sms"), (name = "numbers"), (name = "outbound"), (name = "privacy"), (name = "simulator"))
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
        }
    }
}
