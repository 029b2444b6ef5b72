//! `POST /api/v1/tokens`: admins mint tokens for agents (or other admins).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::ids::AgentId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::auth::{Principal, hash_token, new_token};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiJson;

/// Whom the token is for: an agent of the setup, or an admin (`"role": "admin"`, or no agent: `{}` or
/// no body at all).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The agent's id; without it the token is an admin's.
    pub agent: Option<String>,
    /// "agent" (default when `agent` is given) or "admin" (default without an agent).
    pub role: Option<String>,
}

/// The new token; it is shown once and stored only as a hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    pub token: String,
    pub role: String,
    pub agent: Option<String>,
}

/// Mints a bearer token: an agent's when the body names one, else an admin's.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body(content = Option<NewToken>, description = "optional: without a body (or with `{}`) the token is an admin's"),
    responses((status = 201, description = "the token, shown this once", body = TokenCreated),
              (status = 400, description = "the body is not JSON", body = ErrorBody),
              (status = 401, description = "no or an unknown bearer token", body = ErrorBody),
              (status = 403, description = "only admins mint tokens", body = ErrorBody),
              (status = 415, description = "the body is not application/json", body = ErrorBody),
              (status = 422, description = "an unknown agent or role", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    who: Principal,
    req: Option<ApiJson<NewToken>>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    who.require_admin()?;
    let req = req.map_or(NewToken { agent: None, role: None }, |ApiJson(req)| req);
    let (role, agent) = match (req.role.as_deref(), req.agent) {
        (Some("admin") | None, None) => ("admin", None),
        (None | Some("agent"), Some(agent)) => {
            let id = AgentId::parse(&agent).map_err(|e| ApiError::invalid(e.to_string()))?;
            if state.engine.setup().agent(&id).is_none() {
                return Err(ApiError::invalid(format!("there is no agent \"{id}\" in the setup")));
            }
            ("agent", Some(id.to_string()))
        }
        (Some("admin"), Some(_)) => return Err(ApiError::invalid("an admin token names no agent")),
        (Some(other), _) if other != "agent" => {
            return Err(ApiError::invalid(format!("unknown role \"{other}\": use \"agent\" or \"admin\"")));
        }
        _ => return Err(ApiError::invalid("name the agent: {\"agent\": \"ID\"}")),
    };
    let token = new_token();
    state.store.insert_token(&hash_token(&token), role, agent.as_deref(), state.clock.now().0).await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token, role: role.to_owned(), agent })))
}
