//! Who is calling: a bearer token, or the session cookie of a user logged in at `/login`.
//!
//! Tokens are stored as SHA-256 hashes; the bootstrap admin token comes from `PARLEY_ADMIN_TOKEN` and
//! is compared by hash too, so no token is ever compared or logged in clear. A request that carries an
//! `Authorization` header is judged by it alone, whatever cookie it also has.
//!
//! A request authenticated by the cookie that may change something (any method but GET and HEAD) must
//! also carry the session's CSRF token in `X-CSRF-Token`: the cookie is `SameSite=Strict` already, and
//! the header is the second lock, which another site's page cannot set.
//!
//! This is the one place that turns a request into a [`Principal`]: the bearer token here, and the
//! session cookie here too ([`current`] looks the session up, ends it when it has expired or its user
//! was disabled, and counts the use). Logging in and out, which create and end sessions, live in
//! [`crate::http::session`], which uses this module and is never used by it.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use parley_core::ids::{AgentId, QueueId};
use parley_store::users::UserRow;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::http::error::{ApiError, ErrorCode};

/// The session cookie's name.
pub const COOKIE: &str = "parley_session";
/// The header a cookie-authenticated request that changes something carries the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The admin token, an admin's minted token, or a logged-in admin user.
    Admin,
    /// An agent's token, or a logged-in agent user.
    Agent(AgentId),
    /// A logged-in supervisor: sees the chats of `queues` (their teams' queues and the queues of the
    /// teams' members, as the setup says when the request came in) and takes no part in them.
    Supervisor { user: String, queues: Vec<QueueId> },
}

impl Principal {
    /// Refuses anyone but an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Principal::Admin => Ok(()),
            Principal::Agent(_) => Err(ApiError::forbidden("this needs an admin token")),
            Principal::Supervisor { .. } => {
                Err(ApiError::forbidden("this needs an admin; supervisors only watch chats"))
            }
        }
    }

    /// The agent behind the token or the login, or a refusal for admins and supervisors.
    pub fn require_agent(&self) -> Result<&AgentId, ApiError> {
        match self {
            Principal::Agent(agent) => Ok(agent),
            Principal::Admin => {
                Err(ApiError::forbidden("this needs an agent token (POST /api/v1/tokens {\"agent\": \"ID\"})"))
            }
            Principal::Supervisor { .. } => Err(ApiError::forbidden(
                "this needs an agent: supervisors see their teams' chats but cannot accept, reply to, transfer or \
                 end them",
            )),
        }
    }

    /// How the audit log names this caller: "admin", "agent:ID", or "user:USERNAME" for a supervisor.
    /// Agents are named by their agent id however they authenticated, so one agent's reads are found
    /// under one name.
    pub fn actor(&self) -> String {
        match self {
            Principal::Admin => "admin".to_owned(),
            Principal::Agent(agent) => format!("agent:{agent}"),
            Principal::Supervisor { user, .. } => format!("user:{user}"),
        }
    }

    /// The queues whose chats this caller sees; `None` means all.
    pub fn visible_queues(&self, state: &AppState) -> Option<Vec<QueueId>> {
        match self {
            Principal::Admin => None,
            Principal::Agent(agent) => Some(state.engine.setup().queues_of(agent)),
            Principal::Supervisor { queues, .. } => Some(queues.clone()),
        }
    }

    /// The business numbers whose chats in no queue this caller sees: a supervisor sees those of the
    /// numbers whose menu offers one of their queues (chats still in the menu), as an admin would; an
    /// agent sees those of their own direct numbers (a direct chat is in no queue), and any other chat
    /// only once it is in one of their queues.
    pub fn menu_numbers(&self, state: &AppState) -> Vec<String> {
        match self {
            Principal::Admin => vec![],
            Principal::Agent(agent) => {
                state.engine.setup().direct_numbers_of(agent).map(|n| n.number.to_string()).collect()
            }
            Principal::Supervisor { queues, .. } => state
                .engine
                .setup()
                .numbers
                .iter()
                .filter(|n| n.queues.iter().any(|q| queues.contains(q)))
                .map(|n| n.number.to_string())
                .collect(),
        }
    }

    /// Whether this caller may see a chat of `number` and `queue` (with no queue yet: in the menu).
    pub fn sees_chat(&self, state: &AppState, number: &str, queue: Option<&str>) -> bool {
        match queue {
            None if matches!(self, Principal::Supervisor { .. } | Principal::Agent(_)) => {
                self.menu_numbers(state).iter().any(|n| n == number)
            }
            _ => self.sees(state, queue),
        }
    }

    /// Whether this caller may see a chat of `queue` (chats still in the menu have none: admins only).
    pub fn sees(&self, state: &AppState, queue: Option<&str>) -> bool {
        match self.visible_queues(state) {
            None => true,
            Some(queues) => queue.is_some_and(|q| queues.iter().any(|v| v.as_str() == q)),
        }
    }

    /// The principal a logged-in user acts as. An agent user whose agent left the setup is refused
    /// (403), as an agent token would be.
    pub fn of_user(state: &AppState, user: &UserRow) -> Result<Principal, ApiError> {
        match (user.role.as_str(), user.agent.as_deref()) {
            ("admin", _) => Ok(Principal::Admin),
            ("agent", Some(agent)) => {
                let agent =
                    AgentId::parse(agent).map_err(|_| ApiError::unauthorized("the user's agent id is invalid"))?;
                if state.engine.setup().agent(&agent).is_none() {
                    return Err(ApiError::forbidden(format!(
                        "agent \"{agent}\" is not in the setup; an admin must add it before \"{}\" can work",
                        user.username
                    )));
                }
                Ok(Principal::Agent(agent))
            }
            ("supervisor", _) => Ok(Principal::Supervisor {
                user: user.username.clone(),
                queues: crate::users::supervised_queues(&state.engine.setup(), &user.teams),
            }),
            _ => Err(ApiError::unauthorized("this user has no role Parley knows")),
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

/// Compares two secrets in time that depends on their lengths only.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Methods that never change anything, so a cookie alone may authenticate them.
fn is_safe(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
            return from_session(parts, state).await;
        };
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

/// A logged-in user, as the console renders them.
#[derive(Clone)]
pub struct SessionUser {
    pub username: String,
    pub display_name: String,
    /// "admin", "supervisor" or "agent".
    pub role: String,
    /// The agent an agent user acts as.
    pub agent: Option<AgentId>,
    /// The session's CSRF token: put it in the page (`<meta name="csrf-token">`) for requests to send
    /// back in `X-CSRF-Token`. Never log it.
    pub csrf: String,
    /// What the user may do, as for API requests.
    pub principal: Principal,
}

impl fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionUser")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("agent", &self.agent)
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// Whether the request authenticates with an API token (`Authorization`) rather than a session
/// cookie: a principal is taken from the header whenever it is there.
pub fn by_token(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
}

/// The session token in the request's `Cookie` headers, if there is one.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The user logged in with the request's session cookie: `None` without a cookie, or when its session
/// is unknown or has ended (an ended session is deleted on the way). Counts as a use of the session.
/// An agent user whose agent left the setup is an error (403), not `None`.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<SessionUser>, ApiError> {
    let Some(token) = cookie_token(headers) else { return Ok(None) };
    let id_hash = hash_token(token);
    let Some((session, user)) = state.store.session(&id_hash).await? else { return Ok(None) };
    let now = state.clock.now().0;
    let idle_ms = i64::from(state.config.session_idle_minutes.max(1)) * 60 * 1000;
    if user.disabled || now >= session.expires_at || now - session.last_seen_at >= idle_ms {
        state.store.delete_session(&id_hash).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY_MS {
        state.store.touch_session(&id_hash, now).await?;
    }
    let principal = Principal::of_user(state, &user)?;
    Ok(Some(SessionUser {
        agent: user.agent.as_deref().and_then(|a| AgentId::parse(a).ok()),
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        csrf: session.csrf_token,
        principal,
    }))
}

/// The caller by their session cookie, with the CSRF check for requests that may change something.
async fn from_session(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    if cookie_token(&parts.headers).is_none() {
        return Err(ApiError::unauthorized(
            "missing Authorization: Bearer TOKEN header (or log in at /login for a session cookie)",
        ));
    }
    let user = current(state, &parts.headers).await?.ok_or_else(|| {
        ApiError::unauthorized("your session has ended (logged out, or unused for too long): log in again at /login")
    })?;
    if !is_safe(&parts.method) {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        match sent {
            Some(sent) if same_secret(sent.trim(), &user.csrf) => {}
            Some(_) => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::Csrf,
                    "the X-CSRF-Token header does not match this session's token (GET /api/v1/session has it)",
                ));
            }
            None => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::Csrf,
                    "a request with the session cookie that changes something needs the X-CSRF-Token header \
                     (GET /api/v1/session has the token)",
                ));
            }
        }
    }
    Ok(user.principal)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        assert_eq!(cookie_token(&headers), None);
        headers.append(header::COOKIE, HeaderValue::from_static("theme=dark; parley_session=abc123; x=y"));
        assert_eq!(cookie_token(&headers), Some("abc123"));
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("theme=dark"));
        headers.append(header::COOKIE, HeaderValue::from_static("parley_session=def"));
        assert_eq!(cookie_token(&headers), Some("def"));
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("parley_session_old=zzz; parley_session="));
        assert_eq!(cookie_token(&headers), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
