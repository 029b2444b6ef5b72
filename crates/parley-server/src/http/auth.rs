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

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use parley_core::ids::{AgentId, QueueId};
use parley_store::keys::KeyRow;
use parley_store::users::UserRow;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::scope::{Gate, Scope, is_sending};
use crate::workers::throttle::{Counters, Limit, counters_needed};

/// The session cookie's name.
pub const COOKIE: &str = "parley_session";
/// The header a cookie-authenticated request that changes something carries the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The admin token, an admin's key, or a logged-in admin user. `key`: the id of the scoped key
    /// that acts as an admin within its scopes (the audit log names it), `None` for the others.
    Admin { key: Option<String> },
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
            Principal::Admin { .. } => Ok(()),
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
            Principal::Admin { .. } => {
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
            Principal::Admin { key: None } => "admin".to_owned(),
            Principal::Admin { key: Some(key) } => format!("key:{key}"),
            Principal::Agent(agent) => format!("agent:{agent}"),
            Principal::Supervisor { user, .. } => format!("user:{user}"),
        }
    }

    /// The queues whose chats this caller sees; `None` means all.
    pub fn visible_queues(&self, state: &AppState) -> Option<Vec<QueueId>> {
        match self {
            Principal::Admin { .. } => None,
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
            Principal::Admin { .. } => vec![],
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

    /// Whether this caller may see `chat`: by its queue (with no queue yet: in the menu, or on a direct
    /// number). A voice call's SMS thread is in no queue: its agent sees it, as do the supervisors of
    /// the queues that agent serves.
    pub fn sees_chat(&self, state: &AppState, chat: &parley_store::rows::ChatRow) -> bool {
        if chat.start_type.as_deref() == Some(parley_core::chat::StartType::Call.as_str()) {
            let agent = chat.agent.as_deref().and_then(|a| AgentId::parse(a).ok());
            return match self {
                Principal::Admin { .. } => true,
                Principal::Agent(me) => agent.as_ref() == Some(me),
                Principal::Supervisor { queues, .. } => {
                    agent.is_some_and(|a| state.engine.setup().queues_of(&a).iter().any(|q| queues.contains(q)))
                }
            };
        }
        let (number, queue) = (chat.number.as_str(), chat.queue.as_deref());
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
            ("admin", _) => Ok(Principal::Admin { key: None }),
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

/// How a request proves who it is in its `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Bearer TOKEN`.
    Bearer(String),
    /// `Basic base64(KEY_ID:TOKEN)`, as Twilio's helper libraries send it.
    Basic { key_id: String, token: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer([redacted])"),
            Credentials::Basic { key_id, .. } => write!(f, "Basic({key_id}, [redacted])"),
        }
    }
}

impl Credentials {
    /// The credentials of an `Authorization` header value.
    pub fn parse(header: &axum::http::HeaderValue) -> Result<Credentials, AuthError> {
        let text = header.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, rest) = text.split_once(' ').ok_or(AuthError::Malformed)?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Ok(Credentials::Bearer(rest.to_owned()));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD.decode(rest).map_err(|_| AuthError::Malformed)?;
            let decoded = String::from_utf8(decoded).map_err(|_| AuthError::Malformed)?;
            let (key_id, token) = decoded.split_once(':').ok_or(AuthError::Malformed)?;
            if key_id.is_empty() || token.is_empty() {
                return Err(AuthError::Malformed);
            }
            return Ok(Credentials::Basic { key_id: key_id.to_owned(), token: token.to_owned() });
        }
        Err(AuthError::Malformed)
    }

    /// The token presented (the password of basic auth).
    pub fn token(&self) -> &str {
        match self {
            Credentials::Bearer(token) | Credentials::Basic { token, .. } => token,
        }
    }
}

/// Why a request with credentials is not let through. The HTTP API answers these as
/// [`ApiError`]s; the Twilio-compatible API in Twilio's own error shape.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header must be \"Bearer TOKEN\" (or HTTP basic with a key id and its token)")]
    Malformed,
    #[error("unknown or revoked token")]
    Unknown,
    #[error("this key expired at {0}")]
    Expired(String),
    #[error("{0}")]
    Forbidden(String),
    /// A scoped key without what the operation needs.
    #[error("this key lacks the scope this operation needs: {needs}")]
    InsufficientScope { needs: String },
    /// A scoped key calling an operation no scope grants.
    #[error("no scope grants this operation: it needs an admin or agent token (or a console session)")]
    RoleOnly,
    /// Over the key's rate for sending requests.
    #[error("this key sends at most {per_second} requests per second; try again in {retry_after_ms} ms")]
    RateLimited { per_second: i64, retry_after_ms: i64 },
    #[error(transparent)]
    Store(#[from] parley_store::StoreError),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::Malformed | AuthError::Unknown | AuthError::Expired(_) => ApiError::unauthorized(e.to_string()),
            AuthError::Forbidden(message) => ApiError::forbidden(message),
            AuthError::InsufficientScope { .. } | AuthError::RoleOnly => {
                ApiError::new(StatusCode::FORBIDDEN, ErrorCode::InsufficientScope, e.to_string())
            }
            AuthError::RateLimited { retry_after_ms, .. } => {
                let seconds = (retry_after_ms.max(1) as u64).div_ceil(1000);
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited, e.to_string()).retry_after(seconds)
            }
            AuthError::Store(cause) => ApiError::from(cause),
        }
    }
}

/// A caller who authenticated with credentials.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The stored key the credentials belong to (`None`: the bootstrap admin token).
    pub key: Option<KeyRow>,
}

/// Sending requests per second a key may make when it sets no rate of its own (the seed platform's).
pub const DEFAULT_KEY_RATE: i64 = 10;
/// A key's last use is written at most this often.
const KEY_TOUCH_EVERY_MS: i64 = 60 * 1000;

/// Authenticates `credentials` for the operation at `method` and `route` (the matched route
/// template, if the request matched one): the key must exist and not have expired; a scoped key must
/// hold what the operation needs ([`Gate`]); a stored key's sending requests count against its rate,
/// for the whole deployment.
pub async fn authenticate(
    state: &AppState,
    credentials: &Credentials,
    method: &Method,
    route: Option<&str>,
) -> Result<Caller, AuthError> {
    let hash = hash_token(credentials.token());
    if let Credentials::Bearer(_) = credentials
        && let Some(admin) = &state.config.admin_token
        && hash_token(admin.expose()) == hash
    {
        return Ok(Caller { principal: Principal::Admin { key: None }, key: None });
    }
    let key = match credentials {
        Credentials::Bearer(_) => state.store.key_by_hash(&hash).await?,
        Credentials::Basic { key_id, .. } => match state.store.key_by_id(key_id).await? {
            Some((key, stored)) if same_secret(&stored, &hash) => Some(key),
            _ => None,
        },
    };
    let key = key.ok_or(AuthError::Unknown)?;
    let now = state.clock.now().0;
    if let Some(expires_at) = key.expires_at
        && expires_at <= now
    {
        return Err(AuthError::Expired(crate::clock::rfc3339(expires_at)));
    }
    if let Some(scopes) = &key.scopes {
        let held: Vec<Scope> = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
        let needs = route.and_then(|r| Gate::served().needs(method, r)).ok_or(AuthError::RoleOnly)?;
        if !needs.allow(&held) {
            return Err(match needs.describe() {
                Some(needs) => AuthError::InsufficientScope { needs },
                None => AuthError::RoleOnly,
            });
        }
    }
    let principal = match (key.role.as_str(), key.agent.as_deref()) {
        ("admin", _) => Principal::Admin { key: key.scopes.as_ref().map(|_| key.id.clone()) },
        ("agent", Some(agent)) => {
            let agent = AgentId::parse(agent).map_err(|_| AuthError::Unknown)?;
            if state.engine.setup().agent(&agent).is_none() {
                return Err(AuthError::Forbidden(format!("agent \"{agent}\" is no longer in the setup")));
            }
            Principal::Agent(agent)
        }
        _ => return Err(AuthError::Unknown),
    };
    if route.is_some_and(|r| is_sending(method, r)) {
        charge_rate(state, &key, now).await?;
    }
    if key.last_used_at.is_none_or(|at| now - at >= KEY_TOUCH_EVERY_MS) {
        state.store.touch_key(&key.id, now).await?;
    }
    Ok(Caller { principal, key: Some(key) })
}

/// Counts one sending request against the key's rate: a token bucket of the key's rate per second,
/// in the counters every node shares ([`parley_store::throughput`]).
async fn charge_rate(state: &AppState, key: &KeyRow, now: i64) -> Result<(), AuthError> {
    let per_second = key.rate_per_second.unwrap_or(DEFAULT_KEY_RATE);
    let limit = Limit { key: format!("api_key:{}", key.id), per_second: Some(per_second as f64), ..Limit::default() };
    let specs = counters_needed([&limit], now);
    let taken = state
        .store
        .charge_throughput(
            &specs,
            now,
            |_| 1,
            |rows| {
                let mut counters = Counters::from_rows(rows);
                let taken = counters.take(std::slice::from_ref(&limit), 1.0, now);
                counters.write_to(rows);
                taken
            },
        )
        .await?;
    taken.map_err(|retry_after_ms| AuthError::RateLimited { per_second, retry_after_ms })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
            return from_session(parts, state).await;
        };
        let credentials = Credentials::parse(header)?;
        let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned());
        let caller = authenticate(state, &credentials, &parts.method, route.as_deref()).await?;
        Ok(caller.principal)
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
