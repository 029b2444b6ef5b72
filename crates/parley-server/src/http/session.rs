//! Console logins: `GET/POST /login`, `POST /logout`, `GET /api/v1/session`. Reading the session
//! cookie of a request (the lookup, the expiry checks, the CSRF check of API requests) is
//! [`crate::http::auth`]'s, the one place that turns a request into a `Principal`.
//!
//! A login creates a session: the browser gets a random 256-bit token in the cookie `parley_session`
//! (HttpOnly, SameSite=Strict, Path=/, no Max-Age so it goes when the browser closes, and `Secure`
//! exactly when [`crate::config::Config::cookies_secure`] says so); the database keeps only its
//! SHA-256, with a CSRF token that requests changing something must echo in `X-CSRF-Token`.
//!
//! A session ends when it is logged out, when it goes unused for `session_idle_minutes` (default 30),
//! 12 hours after login however busy it is, and when its user is disabled, gets a new password or
//! another role. Its last use is written at most once a minute, so idle time is counted to the minute.
//!
//! Failed logins are limited per username and per client address: after 5 failures within 15 minutes
//! further attempts for that username or from that address are answered 429 with `Retry-After` until
//! the oldest failure is 15 minutes old. The failures are rows in the database, so they count for
//! every node of a deployment and survive a restart; each failed login deletes those older than the
//! window. Attempts already past the check while their password is verified are not stopped by a
//! failure recorded meanwhile (on any node), so a burst can pass the limit by the attempts in flight.
//! Unknown usernames take as long as wrong passwords (a dummy argon2 verification) and get the very
//! same answer.
//!
//! Nothing here logs a password, a token, a CSRF token or a cookie.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use parley_store::users::SessionRow;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use parley_core::routing::Presence;

use crate::AppState;
use crate::http::auth::{COOKIE, CSRF_HEADER, Principal, cookie_token, current, hash_token, same_secret};
use crate::http::console::escape;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::users::{parse_username, verify_password_async};

/// Every session ends this long after login, however busy.
pub const MAX_SESSION_MS: i64 = 12 * 60 * 60 * 1000;
/// Failed logins count for this long.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// The failures allowed per username and per client address within the window; the next attempt is 429.
pub const MAX_FAILURES: usize = 5;
/// Where a login goes without a `next`.
const HOME: &str = "/console";

/// The login pages and the session endpoint, with their OpenAPI paths and the `session` scheme.
pub fn routes() -> OpenApiRouter<AppState> {
    let limiter = Arc::new(LoginLimiter::default());
    // The dummy hash is made once, on first use; making it now keeps that cost out of the first
    // unknown user's login, whose answer would otherwise take twice as long as a wrong password's.
    std::thread::spawn(|| {
        crate::users::dummy_hash();
    });
    OpenApiRouter::with_openapi(SessionDoc::openapi())
        .routes(routes!(get_session))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .layer(Extension(limiter))
}

/// The OpenAPI bits this module adds: the `session` security scheme (the cookie) and its tag.
#[derive(OpenApi)]
#[openapi(modifiers(&SessionCookie), tags((name = "session")))]
struct SessionDoc;

struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                COOKIE,
                "The session cookie set by POST /login. Requests other than GET and HEAD must also send the \
                 session's CSRF token in X-CSRF-Token.",
            ))),
        );
    }
}

/// The logged-in user as `GET /api/v1/session` shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub username: String,
    pub display_name: String,
    /// "admin", "supervisor" or "agent".
    pub role: String,
    /// The agent id an agent user acts as.
    pub agent: Option<String>,
    /// Send it back in `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
}

/// The user logged in with the session cookie, and the session's CSRF token.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionInfo),
              (status = 401, description = "no session cookie, or its session has ended (bearer tokens have no session)", body = ErrorBody),
              (status = 403, description = "an agent user whose agent is not in the setup", body = ErrorBody)),
    security(("session" = [])))]
pub async fn get_session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = current(&state, &headers)
        .await?
        .ok_or_else(|| ApiError::unauthorized("no login session: log in at /login (a bearer token has no session)"))?;
    let info = SessionInfo {
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        agent: user.agent.map(|a| a.to_string()),
        csrf_token: user.csrf,
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(info)).into_response())
}

/// `GET /login[?next=/path]`: the login form, or straight on to `next` for a browser already logged in.
async fn login_page(State(state): State<AppState>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let next = form_field(query.as_deref().unwrap_or_default().as_bytes(), "next").unwrap_or_default();
    if let Ok(Some(_)) = current(&state, &headers).await {
        return see_other(local_path(&next), None);
    }
    page(StatusCode::OK, None, &next)
}

/// `POST /login` with `username`, `password` and optionally `next` (form-urlencoded).
async fn login(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<LoginLimiter>>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let username = form_field(&body, "username").unwrap_or_default();
    let password = form_field(&body, "password").unwrap_or_default();
    let next = form_field(&body, "next").unwrap_or_default();
    if cross_site(&headers) {
        return Ok(page(StatusCode::FORBIDDEN, Some("This login came from another site and was refused."), &next));
    }
    if username.trim().is_empty() || password.is_empty() {
        return Ok(page(StatusCode::BAD_REQUEST, Some("Enter your username and your password."), &next));
    }
    let now = state.clock.now().0;
    let name = parse_username(&username).unwrap_or_else(|_| username.trim().to_lowercase());
    let keys = [format!("user:{}", name.chars().take(64).collect::<String>()), format!("ip:{client}")];
    let failures = state.store.login_failures(&keys, now - FAILURE_WINDOW_MS).await?;
    if let Some(wait_ms) = blocked_for(&failures, now) {
        let minutes = (wait_ms + 59_999) / 60_000;
        let message = format!(
            "Too many failed logins for this username or from this address. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        let mut response = page(StatusCode::TOO_MANY_REQUESTS, Some(&message), &next);
        let seconds = (wait_ms + 999) / 1000;
        if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let user = match parse_username(&username) {
        Ok(name) => state.store.user(&name).await?,
        Err(_) => None,
    };
    let matches = {
        let _permit = limiter.checks.acquire().await.map_err(ApiError::internal)?;
        verify_password_async(user.as_ref().map(|u| u.password_hash.clone()), password).await
    };
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        // Unknown, disabled or a wrong password: one answer, so none of them can be told apart.
        _ => {
            state.store.record_login_failure(&keys, now, now - FAILURE_WINDOW_MS).await?;
            return Ok(page(StatusCode::UNAUTHORIZED, Some("Wrong username or password."), &next));
        }
    };
    // A success forgets the username's failures, not the address's: one account an attacker knows
    // must not reset the count for guessing others.
    state.store.clear_login_failures(&keys[0]).await?;
    let principal = match Principal::of_user(&state, &user) {
        Ok(principal) => principal,
        Err(e) => return Ok(page(e.status, Some(&e.message), &next)),
    };
    let token = random_hex()?;
    let session = SessionRow {
        id_hash: hash_token(&token),
        user_id: user.id,
        csrf_token: random_hex()?,
        created_at: now,
        last_seen_at: now,
        expires_at: now + MAX_SESSION_MS,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
    };
    let idle_ms = i64::from(state.config.session_idle_minutes.max(1)) * 60 * 1000;
    state.store.delete_dead_sessions(now, now - idle_ms).await?;
    // A browser logging in again leaves its previous session behind: end it rather than let it linger.
    if let Some(previous) = cookie_token(&headers) {
        state.store.delete_session(&hash_token(previous)).await?;
    }
    state.store.insert_session(&session).await?;
    tracing::info!(user = %user.username, role = %user.role, actor = %principal.actor(), "logged in");
    // Logging in is coming to work: an agent who was offline is available (offered chats once their
    // console's event stream is open). One who chose away stays away.
    if let Principal::Agent(agent) = &principal {
        let stored = state.store.agent_states().await?.into_iter().find(|s| s.agent == agent.as_str());
        if stored.is_none_or(|s| s.status == Presence::Offline) {
            state.engine.set_status(agent.clone(), Presence::Available).await?;
        }
    }
    let cookie = format!("{COOKIE}={token}; {}", cookie_attributes(&state));
    Ok(see_other(local_path(&next), Some(&cookie)))
}

/// `POST /logout`: ends the session (the CSRF token in `X-CSRF-Token` or a `csrf_token` form field),
/// clears the cookie and goes to the login page. Without a live session there is nothing to end.
async fn logout(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let clear = format!("{COOKIE}=; Max-Age=0; {}", cookie_attributes(&state));
    let user = match current(&state, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return Ok(see_other("/login", Some(&clear))),
        // A session that can no longer act (its agent left the setup) is ended without its CSRF token:
        // ending it is all anyone could make it do.
        Err(_) => {
            if let Some(token) = cookie_token(&headers) {
                state.store.delete_session(&hash_token(token)).await?;
            }
            return Ok(see_other("/login", Some(&clear)));
        }
    };
    let sent = match headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        Some(header) => Some(header.trim().to_owned()),
        None => form_field(&body, "csrf_token"),
    };
    if !sent.is_some_and(|sent| same_secret(&sent, &user.csrf)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Csrf,
            "logging out needs the session's CSRF token (X-CSRF-Token header or csrf_token form field)",
        ));
    }
    if let Some(token) = cookie_token(&headers) {
        state.store.delete_session(&hash_token(token)).await?;
    }
    tracing::info!(user = %user.username, "logged out");
    Ok(see_other("/login", Some(&clear)))
}

/// The cookie's attributes besides its value.
fn cookie_attributes(state: &AppState) -> String {
    let secure = if state.config.cookies_secure() { "; Secure" } else { "" };
    format!("HttpOnly; SameSite=Strict; Path=/{secure}")
}

/// A 303 to `location`, optionally setting a cookie; never cached.
fn see_other(location: &str, cookie: Option<&str>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Where a login may go: a path on this server (`/...`, but not `//host` or `/\host`, which browsers
/// read as another site), else the console.
fn local_path(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if local { next } else { HOME }
}

/// Whether the browser says the request comes from another site's page (`Sec-Fetch-Site`).
fn cross_site(headers: &HeaderMap) -> bool {
    headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// The first value of `name` in a form-urlencoded body or query string.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// 256 random bits from the OS, as 64 hex digits.
fn random_hex() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("the OS gave no random bytes: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The client's address, for counting failed logins: the configured proxy header's (the last address
/// of `X-Forwarded-For`, the one the proxy itself added), else the connection's peer.
struct ClientAddr(String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let from_header = state.config.client_ip_header.as_deref().and_then(|name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        });
        let peer = || parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(ClientAddr(from_header.or_else(peer).unwrap_or_else(|| "unknown".to_owned())))
    }
}

/// Failed logins are counted in the database ([`parley_store::Store::login_failures`]), so every node
/// sees every failure; this holds what stays per process: the password checks running at once,
/// bounded: each takes 19 MiB and a core for tens of milliseconds, so a flood of logins from many
/// addresses queues here instead of exhausting memory.
struct LoginLimiter {
    checks: tokio::sync::Semaphore,
}

impl Default for LoginLimiter {
    fn default() -> LoginLimiter {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        LoginLimiter { checks: tokio::sync::Semaphore::new(cores.clamp(2, 8)) }
    }
}

/// How long until a login is allowed again (ms), given the failed logins of its keys (`(key, at)`,
/// any order), or `None` when it is allowed now: a key with [`MAX_FAILURES`] failures inside the
/// window blocks until the oldest of its newest [`MAX_FAILURES`] leaves it.
fn blocked_for(failures: &[(String, i64)], now: i64) -> Option<i64> {
    let mut by_key: HashMap<&str, Vec<i64>> = HashMap::new();
    for (key, at) in failures {
        if *at > now - FAILURE_WINDOW_MS {
            by_key.entry(key.as_str()).or_default().push(*at);
        }
    }
    by_key
        .into_values()
        .filter_map(|mut times| {
            times.sort_unstable_by(|a, b| b.cmp(a));
            times.get(MAX_FAILURES - 1).map(|&oldest| oldest + FAILURE_WINDOW_MS - now)
        })
        .max()
}

/// The login page: a form, and a message when there is one to show.
fn page(status: StatusCode, message: Option<&str>, next: &str) -> Response {
    let alert = message
        .map(|m| format!("<p class=\"alert\" role=\"alert\" id=\"login-error\">{}</p>\n", escape(m)))
        .unwrap_or_default();
    let described = if message.is_some() { " aria-describedby=\"login-error\"" } else { "" };
    let next_field = if next.is_empty() {
        String::new()
    } else {
        format!("<input type=\"hidden\" name=\"next\" value=\"{}\">\n", escape(next))
    };
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Log in · Parley</title>
<style>
  :root {{ color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }}
  body {{ margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }}
  main {{ width: min(22rem, calc(100vw - 2rem)); padding: 1.5rem; box-sizing: border-box;
         border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: .75rem; }}
  h1 {{ font-size: 1.4rem; margin: 0 0 1rem; }}
  label {{ display: block; font-weight: 600; margin: .9rem 0 .3rem; }}
  input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; font: inherit; padding: .6rem;
         border: 1px solid color-mix(in srgb, CanvasText 45%, transparent); border-radius: .4rem; }}
  input:focus-visible, button:focus-visible {{ outline: 3px solid #2563eb; outline-offset: 2px; }}
  button {{ margin-top: 1.2rem; width: 100%; font: inherit; font-weight: 600; padding: .7rem; border: 0;
         border-radius: .4rem; background: #1d4ed8; color: #fff; cursor: pointer; }}
  .alert {{ margin: 0 0 .5rem; padding: .6rem .75rem; border-radius: .4rem; background: #fee2e2; color: #7f1d1d; }}
</style>
</head>
<body>
<main>
<h1>Log in to Parley</h1>
{alert}<form method="post" action="/login">
{next_field}<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus{described}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required{described}>
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>
"#
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_goes_only_to_local_paths() {
        assert_eq!(local_path("/console/chats?id=1"), "/console/chats?id=1");
        assert_eq!(local_path(""), "/console");
        assert_eq!(local_path("https://evil.example/"), "/console");
        assert_eq!(local_path("//evil.example/"), "/console");
        assert_eq!(local_path("/\\evil.example/"), "/console");
        assert_eq!(local_path("/a\r\nSet-Cookie: x=y"), "/console");
        assert_eq!(local_path("console"), "/console");
    }

    #[test]
    fn five_failures_in_fifteen_minutes_block_until_the_oldest_expires() {
        let (user, ip) = ("user:alice".to_owned(), "ip:127.0.0.1".to_owned());
        let t0 = 1_000_000;
        let mut failures = Vec::new();
        for i in 0..5 {
            assert_eq!(blocked_for(&failures, t0 + i * 1000), None, "attempt {}", i + 1);
            failures.push((user.clone(), t0 + i * 1000));
            failures.push((ip.clone(), t0 + i * 1000));
        }
        assert_eq!(blocked_for(&failures, t0 + 5000), Some(FAILURE_WINDOW_MS - 5000));
        // The address is blocked for other usernames too: its failures alone are enough.
        let from_ip: Vec<(String, i64)> = failures.iter().filter(|(k, _)| *k == ip).cloned().collect();
        assert!(blocked_for(&from_ip, t0 + 5000).is_some());
        // Once the first failure is 15 minutes old one more attempt is allowed.
        assert_eq!(blocked_for(&failures, t0 + FAILURE_WINDOW_MS), None);
    }

    #[test]
    fn the_newest_five_failures_decide_whatever_order_they_come_in() {
        let key = "user:bob".to_owned();
        let t0 = 1_000_000;
        // Seven failures, listed out of order: the fifth newest (t0 + 2000) decides.
        let failures: Vec<(String, i64)> = [6, 0, 3, 1, 5, 2, 4].iter().map(|i| (key.clone(), t0 + i * 1000)).collect();
        assert_eq!(blocked_for(&failures, t0 + 7000), Some(2000 + FAILURE_WINDOW_MS - 7000));
        // Three inside the window are not enough, however many older ones there are.
        assert_eq!(blocked_for(&failures, t0 + 3000 + FAILURE_WINDOW_MS), None);
    }

    #[test]
    fn the_page_escapes_what_it_echoes() {
        let response = page(StatusCode::OK, Some("<b>"), "/x\"><script>");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(escape("/x\"><script>"), "/x&quot;&gt;&lt;script&gt;");
    }
}
