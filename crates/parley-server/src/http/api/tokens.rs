//! `/api/v1/tokens`: API keys. Admins mint them (an agent's, an admin's, or a key with scopes for an
//! integration), list them and revoke them. A token is shown once, when it is made, and stored only as
//! a hash; a key is named by its public id (`SK…`) everywhere else.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::ids::AgentId;
use parley_store::keys::{KeyRow, NewKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::auth::{DEFAULT_KEY_RATE, Principal, hash_token, new_token};
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::scope::Scope;

/// The most sending requests per second a key may be given.
const MAX_KEY_RATE: i64 = 1000;

/// A key to mint. Without `scopes` the key has its role's whole reach: an agent's when `agent` is
/// given, else an admin's (`{}` or no body at all). With `scopes` it may do only what they allow,
/// with an admin's reach (or the agent's, when `agent` is given).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the key is for, shown in the list (e.g. "order-system"); at most 100 characters.
    pub name: Option<String>,
    /// The agent's id; without it the key is an admin's.
    pub agent: Option<String>,
    /// "agent" (default when `agent` is given) or "admin" (default without an agent).
    pub role: Option<String>,
    /// Only these scopes: sms:send, chats:read, chats:write, setup:read, setup:write, consent:write,
    /// webhooks:manage, contacts:read, contacts:write, reports:read, ivr.
    pub scopes: Option<Vec<String>>,
    /// RFC 3339; the key stops working then.
    pub expires_at: Option<String>,
    /// Sending requests per second (outbound chats and messages, chat messages, replies, resends,
    /// media uploads, Messages.json) for the whole deployment; default 10.
    pub rate_per_second: Option<i64>,
}

/// A key as listed (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// `SK…`: the key's public id (the username of HTTP basic auth).
    pub id: String,
    pub name: String,
    pub role: String,
    pub agent: Option<String>,
    /// `null`: the role's whole reach.
    pub scopes: Option<Vec<String>>,
    pub rate_per_second: i64,
    pub created: String,
    pub last_used: Option<String>,
    pub expires_at: Option<String>,
}

/// The new key with its token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    pub id: String,
    pub token: String,
    /// The deployment's account SID (`AC…`), for the Twilio-compatible API.
    pub account_sid: String,
    pub name: String,
    pub role: String,
    pub agent: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub rate_per_second: i64,
    pub expires_at: Option<String>,
}

/// The keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

fn view(key: KeyRow) -> TokenView {
    TokenView {
        rate_per_second: key.rate_per_second.unwrap_or(DEFAULT_KEY_RATE),
        created: rfc3339(key.created_at),
        last_used: key.last_used_at.map(rfc3339),
        expires_at: key.expires_at.map(rfc3339),
        id: key.id,
        name: key.name,
        role: key.role,
        agent: key.agent,
        scopes: key.scopes,
    }
}

/// A new key id: `SK` and 32 hex digits, as Twilio's API key SIDs look.
pub fn new_key_id() -> String {
    format!("SK{}", uuid::Uuid::new_v4().simple())
}

/// Checks a request for a key, listing every problem at once.
fn check(state: &AppState, req: NewToken) -> Result<NewKey, ApiError> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| problems.push(FieldProblem::new(Some(field.to_owned()), message));
    let name = req.name.unwrap_or_default().trim().to_owned();
    if name.chars().count() > 100 {
        problem("/name", "the name is longer than 100 characters".to_owned());
    }
    let mut role = "admin";
    let mut agent = None;
    match (req.role.as_deref(), req.agent) {
        (Some("admin") | None, None) => {}
        (None | Some("agent"), Some(named)) => match AgentId::parse(&named) {
            Ok(id) if state.engine.setup().agent(&id).is_some() => {
                role = "agent";
                agent = Some(id.to_string());
            }
            Ok(id) => problem("/agent", format!("there is no agent \"{id}\" in the setup")),
            Err(e) => problem("/agent", e.to_string()),
        },
        (Some("admin"), Some(_)) => problem("/agent", "an admin key names no agent".to_owned()),
        (Some("agent"), None) => problem("/agent", "name the agent: {\"agent\": \"ID\"}".to_owned()),
        (Some(other), _) => problem("/role", format!("unknown role \"{other}\": use \"agent\" or \"admin\"")),
    }
    let scopes = req.scopes.map(|scopes| {
        let mut kept: Vec<String> = Vec::new();
        for (i, scope) in scopes.iter().enumerate() {
            match Scope::parse(scope) {
                Some(s) if !kept.iter().any(|k| k == s.as_str()) => kept.push(s.as_str().to_owned()),
                Some(_) => {}
                None => problem(
                    &format!("/scopes/{i}"),
                    format!("unknown scope \"{scope}\"; the scopes are: {}", Scope::known()),
                ),
            }
        }
        if scopes.is_empty() {
            problem("/scopes", format!("a key with scopes needs at least one; the scopes are: {}", Scope::known()));
        }
        kept
    });
    let now = state.clock.now().0;
    let expires_at = req.expires_at.and_then(|text| match chrono::DateTime::parse_from_rfc3339(&text) {
        Ok(at) if at.timestamp_millis() > now => Some(at.timestamp_millis()),
        Ok(_) => {
            problem("/expires_at", format!("{text} is not in the future"));
            None
        }
        Err(_) => {
            problem("/expires_at", format!("\"{text}\" is not an RFC 3339 time (e.g. 2027-01-31T00:00:00Z)"));
            None
        }
    });
    if let Some(rate) = req.rate_per_second
        && !(1..=MAX_KEY_RATE).contains(&rate)
    {
        problem("/rate_per_second", format!("{rate} is not between 1 and {MAX_KEY_RATE}"));
    }
    if !problems.is_empty() {
        let first = problems[0].message.clone();
        return Err(ApiError::invalid_fields(first, problems));
    }
    Ok(NewKey {
        id: new_key_id(),
        hash: String::new(),
        name,
        role: role.to_owned(),
        agent,
        scopes,
        expires_at,
        rate_per_second: req.rate_per_second,
    })
}

/// Mints an API key: an agent's when the body names one, else an admin's; with `scopes`, one that may
/// do only what they allow.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body(content = Option<NewToken>, description = "optional: without a body (or with `{}`) the key is an admin's"),
    responses((status = 201, description = "the key and its token, shown this once", body = TokenCreated),
              (status = 403, description = "only admins (with a role token or a session) mint keys", body = ErrorBody),
              (status = 422, description = "an unknown agent, role or scope (the message lists the scopes), an expiry in the past, a rate out of range", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    who: Principal,
    req: Option<ApiJson<NewToken>>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    who.require_admin()?;
    let req = req.map_or_else(NewToken::default, |ApiJson(req)| req);
    let mut key = check(&state, req)?;
    let token = new_token();
    key.hash = hash_token(&token);
    state.store.insert_key(&key, state.clock.now().0).await?;
    tracing::info!(key = %key.id, name = %key.name, role = %key.role, scopes = ?key.scopes, "API key minted");
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            account_sid: state.store.account_sid().await?,
            rate_per_second: key.rate_per_second.unwrap_or(DEFAULT_KEY_RATE),
            expires_at: key.expires_at.map(rfc3339),
            id: key.id,
            token,
            name: key.name,
            role: key.role,
            agent: key.agent,
            scopes: key.scopes,
        }),
    ))
}

/// The API keys, oldest first (never their tokens).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 403, description = "admins only", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tokens(State(state): State<AppState>, who: Principal) -> Result<Json<TokenList>, ApiError> {
    who.require_admin()?;
    let items = state.store.keys().await?.into_iter().map(view).collect();
    Ok(Json(TokenList { items }))
}

/// Revokes a key at once: the next request with its token is refused (401) on every node.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "the key's id, SK…")),
    responses((status = 204), (status = 403, description = "admins only", body = ErrorBody),
              (status = 404, description = "no key has that id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    if !state.store.delete_key(&id).await? {
        return Err(ApiError::not_found(format!("there is no key \"{id}\" (GET /api/v1/tokens lists them)")));
    }
    tracing::info!(key = %id, by = %who.actor(), "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}
