//! Bearer tokens. Tokens are stored as SHA-256 hashes; the bootstrap admin token comes from
//! `PARLEY_ADMIN_TOKEN` and is compared by hash too, so no token is ever compared or logged in clear.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use parley_core::ids::{AgentId, QueueId};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::http::error::ApiError;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Admin,
    Agent(AgentId),
}

impl Principal {
    /// Refuses anyone but an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Principal::Admin => Ok(()),
            Principal::Agent(_) => Err(ApiError::forbidden("this needs an admin token")),
        }
    }

    /// The agent behind the token, or a refusal for admin tokens.
    pub fn require_agent(&self) -> Result<&AgentId, ApiError> {
        match self {
            Principal::Agent(agent) => Ok(agent),
            Principal::Admin => {
                Err(ApiError::forbidden("this needs an agent token (POST /api/v1/tokens {\"agent\": \"ID\"})"))
            }
        }
    }

    /// How the audit log names this caller: "admin" or "agent:ID".
    pub fn actor(&self) -> String {
        match self {
            Principal::Admin => "admin".to_owned(),
            Principal::Agent(agent) => format!("agent:{agent}"),
        }
    }

    /// The queues whose chats this caller sees; `None` means all.
    pub fn visible_queues(&self, state: &AppState) -> Option<Vec<QueueId>> {
        match self {
            Principal::Admin => None,
            Principal::Agent(agent) => Some(state.engine.setup().queues_of(agent)),
        }
    }

    /// Whether this caller may see a chat of `queue` (chats still in the menu have none: admins only).
    pub fn sees(&self, state: &AppState, queue: Option<&str>) -> bool {
        match self.visible_queues(state) {
            None => true,
            Some(queues) => queue.is_some_and(|q| queues.iter().any(|v| v.as_str() == q)),
        }
    }
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token (244 random bits).
pub fn new_token() -> String {
    format!("pt_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer TOKEN header"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be \"Bearer TOKEN\""))?;
        let hash = hash_token(token);
        if let Some(admin) = &state.config.admin_token
            && hash_token(admin.expose()) == hash
        {
            return Ok(Principal::Admin);
        }
        let row = state.store.token(&hash).await?.ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
        match (row.role.as_str(), row.agent) {
            ("admin", _) => Ok(Principal::Admin),
            ("agent", Some(agent)) => {
                let agent =
                    AgentId::parse(&agent).map_err(|_| ApiError::unauthorized("the token's agent id is invalid"))?;
                if state.engine.setup().agent(&agent).is_none() {
                    return Err(ApiError::forbidden(format!("agent \"{agent}\" is no longer in the setup")));
                }
                Ok(Principal::Agent(agent))
            }
            _ => Err(ApiError::unauthorized("unknown or revoked token")),
        }
    }
}
