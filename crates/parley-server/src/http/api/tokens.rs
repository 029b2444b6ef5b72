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

/// Whom the token is for: an agent of the setup, or `"role": "admin"`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub agent: Option<String>,
    /// "agent" (default when `agent` is given) or "admin".
    pub role: Option<String>,
}

/// The new token; it is shown once and stored only as a hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    pub token: String,
    pub role: String,
    pub agent: Option<String>,
}

/// Mints a bearer token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = TokenCreated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    who.require_admin()?;
    let (role, agent) = match (req.role.as_deref(), req.agent) {
        (Some("admin"), None) => ("admin", None),
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
        _ => return Err(ApiError::invalid("name the agent: {\"agent\": \"ID\"}, or ask for {\"role\": \"admin\"}")),
    };
    let token = new_token();
    state.store.insert_token(&hash_token(&token), role, agent.as_deref(), state.clock.now().0).await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token, role: role.to_owned(), agent })))
}
