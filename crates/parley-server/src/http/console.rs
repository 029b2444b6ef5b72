//! The web console: pages rendered here from templates embedded in the binary, filled in and kept
//! live by one plain script (`assets/console.js`) over the JSON API and the event stream. Agents get
//! their workspace, supervisors and admins the monitor, admins also the admin page.
//!
//! `/console/chats/{id}` is the same page with that chat open (the script keeps the address bar on the
//! chat shown, so a link or a reload opens it again). Browser routes answer errors as pages in the
//! console's style ([`html_errors`]); the API keeps its JSON errors.
//!
//! `/console/contacts` is the contacts page of agents and admins (the contacts API's search and edit;
//! what an agent sees there is what the API lets them see, so the page checks nothing more).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use parley_core::routing::Presence;

use crate::AppState;
use crate::http::api::chats::{chat_id, visible_chat};
use crate::http::auth::{self, SessionUser};
use crate::http::error::ApiError;
use crate::http::extract::ApiPath;

const SHELL: &str = include_str!("../../assets/console.html");
const AGENT: &str = include_str!("../../assets/agent.html");
const MONITOR: &str = include_str!("../../assets/monitor.html");
const CONTACTS: &str = include_str!("../../assets/contacts.html");
const ADMIN: &str = include_str!("../../assets/admin.html");
const REPORTS: &str = include_str!("../../assets/reports.html");
const REPORTS_SCRIPT: &str = include_str!("../../assets/reports.js");
const SCRIPT: &str = include_str!("../../assets/console.js");
const ADMIN_SCRIPT: &str = include_str!("../../assets/admin.js");
const STYLE: &str = include_str!("../../assets/console.css");
const ICON: &str = include_str!("../../assets/favicon.svg");
const ADMIN_STYLE: &str = include_str!("../../assets/admin.css");

/// Same-origin scripts, styles, media and connections only; no framing.
const POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; \
                      script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The console's pages and assets (outside the API document: they are not API).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/console", get(workspace))
        .route("/console/chats/{id}", get(chat_page))
        .route("/console/admin", get(admin))
        .route("/console/contacts", get(contacts))
        .route("/console/reports", get(reports))
        .route("/favicon.ico", get(|| async { asset("image/svg+xml", ICON) }))
        .route("/assets/console.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/assets/admin.js", get(|| async { asset("text/javascript; charset=utf-8", ADMIN_SCRIPT) }))
        .route("/assets/reports.js", get(|| async { asset("text/javascript; charset=utf-8", REPORTS_SCRIPT) }))
        .route("/assets/console.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/assets/admin.css", get(|| async { asset("text/css; charset=utf-8", ADMIN_STYLE) }))
}

pub(crate) fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The workspace of agents; the monitor of supervisors and admins.
async fn workspace(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(user) = auth::current(&state, &headers).await? else {
        return Ok(Redirect::to("/login?next=/console").into_response());
    };
    console(&state, &user, None).await
}

/// The console with one chat open: 404 for a chat that does not exist, 403 for one of a queue the
/// user does not see (the same rule as the API's, `Principal::sees`), so a shared link never shows
/// more than the API would.
async fn chat_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    // Text that cannot be a chat id is answered before the login redirect, which puts the id back into
    // a URL (a chat id is letters, digits, '-', '_' and '.').
    let id = chat_id(&id)?;
    let Some(user) = auth::current(&state, &headers).await? else {
        return Ok(Redirect::to(&format!("/login?next=/console/chats/{id}")).into_response());
    };
    // The same check as the API's: who may see the chat sees its page.
    let chat = visible_chat(&state, &user.principal, &id).await?;
    console(&state, &user, Some(&chat.id)).await
}

async fn console(state: &AppState, user: &SessionUser, chat: Option<&str>) -> Result<Response, ApiError> {
    let main = if user.role == "agent" { AGENT } else { MONITOR };
    let status = stored_status(state, user).await?;
    Ok(page(state, user, main, "", status, chat))
}

/// The agent's status as stored, for the status switch: never a default that may be wrong.
async fn stored_status(state: &AppState, user: &SessionUser) -> Result<Presence, ApiError> {
    Ok(match &user.agent {
        Some(agent) => state
            .store
            .agent_states()
            .await?
            .into_iter()
            .find(|s| s.agent == agent.as_str())
            .map(|s| s.status)
            .unwrap_or_default(),
        None => Presence::default(),
    })
}

/// The contacts page: agents (their chats' contacts, as the API says) and admins (every contact).
/// Supervisors watch chats; they read contacts through the chats they watch.
async fn contacts(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(user) = auth::current(&state, &headers).await? else {
        return Ok(Redirect::to("/login?next=/console/contacts").into_response());
    };
    if user.role != "agent" && user.role != "admin" {
        return Err(ApiError::forbidden("the contacts page is for agents and admins"));
    }
    let status = stored_status(&state, &user).await?;
    Ok(page(&state, &user, CONTACTS, "", status, None))
}

/// Numbers, the setup, users and tokens: admins only.
async fn admin(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(user) = auth::current(&state, &headers).await? else {
        return Ok(Redirect::to("/login?next=/console/admin").into_response());
    };
    if user.role != "admin" {
        return Err(ApiError::forbidden("the admin pages are for admins"));
    }
    // The admin page's own script runs after the shared one, whose helpers it uses.
    Ok(page(&state, &user, ADMIN, "<script src=\"/assets/admin.js\" defer></script>", Presence::default(), None))
}

/// The reports (docs/reports.md): supervisors (their teams' queues) and admins.
async fn reports(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(user) = auth::current(&state, &headers).await? else {
        return Ok(Redirect::to("/login?next=/console/reports").into_response());
    };
    if user.role == "agent" {
        return Err(ApiError::forbidden("the reports are for supervisors and admins"));
    }
    let setup = state.engine.setup();
    let visible = user.principal.visible_queues(&state);
    let teams: String = setup
        .teams
        .iter()
        .filter(|t| {
            t.members.iter().any(|m| setup.queues_of(m).iter().any(|q| visible.as_ref().is_none_or(|v| v.contains(q))))
        })
        .map(|t| format!("<option value=\"{}\">{}</option>", escape(t.id.as_str()), escape(&t.name)))
        .collect();
    let main = REPORTS.replace("{{teams}}", &teams);
    Ok(page(&state, &user, &main, "<script src=\"/assets/reports.js\" defer></script>", Presence::default(), None))
}

fn page(
    state: &AppState,
    user: &SessionUser,
    main: &str,
    scripts: &str,
    presence: Presence,
    chat: Option<&str>,
) -> Response {
    let setup = state.engine.setup();
    // The numbers an agent may start chats from, as `GET /api/v1/me/numbers` lists them: numbers that
    // send (not incoming-only) whose menu has a queue they serve, and their own direct numbers.
    let numbers: Vec<String> = match &user.agent {
        Some(agent) => setup.outbound_numbers_of(agent).into_iter().map(|n| n.number.to_string()).collect(),
        None => vec![],
    };
    let status = if user.role == "agent" {
        let options: Vec<String> = [Presence::Available, Presence::Away, Presence::Offline]
            .iter()
            .map(|p| {
                let selected = if *p == presence { " selected" } else { "" };
                let label = match p {
                    Presence::Available => "Available",
                    Presence::Away => "Away",
                    Presence::Offline => "Offline",
                };
                format!("<option value=\"{}\"{selected}>{label}</option>", p.as_str())
            })
            .collect();
        format!("<label>Status <select id=\"status\">{}</select></label>", options.concat())
    } else {
        String::new()
    };
    let mut links = Vec::new();
    match user.role.as_str() {
        "admin" => {
            links.push("<a href=\"/console\">Monitor</a>");
            links.push("<a href=\"/console/contacts\">Contacts</a>");
            links.push("<a href=\"/console/reports\">Reports</a>");
            links.push("<a href=\"/console/admin\">Admin</a>");
        }
        "supervisor" => {
            links.push("<a href=\"/console\">Monitor</a>");
            links.push("<a href=\"/console/reports\">Reports</a>");
        }
        "agent" => {
            links.push("<a href=\"/console\">Chats</a>");
            links.push("<a href=\"/console/contacts\">Contacts</a>");
        }
        _ => {}
    }
    if state.config.sim {
        links.push("<a href=\"/sim/phone\" target=\"_blank\" rel=\"noopener\">Phone simulator</a>");
    }
    let html = SHELL
        .replace("{{csrf}}", &escape(&user.csrf))
        .replace("{{role}}", &escape(&user.role))
        .replace("{{agent}}", &escape(user.agent.as_ref().map(|a| a.as_str()).unwrap_or_default()))
        .replace("{{numbers}}", &escape(&numbers.join(",")))
        .replace("{{idle_away}}", &setup.settings.presence.idle_away_minutes.map(|m| m.to_string()).unwrap_or_default())
        .replace("{{chat}}", &escape(chat.unwrap_or_default()))
        .replace("{{name}}", &escape(&user.display_name))
        .replace("{{status}}", &status)
        .replace("{{links}}", &links.join(" "))
        .replace("{{scripts}}", scripts)
        .replace("{{main}}", main);
    html_response(StatusCode::OK, html)
}

/// A console page with the console's headers: its content policy, never cached, no referrer abroad.
pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, axum::response::Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Whether a path is read by programs (the API, the simulator's API, carriers' webhooks, probes, and
/// `/logout`, which the console's script calls and whose refusals it reads as JSON), whose errors
/// stay JSON; every other path is a page people open in a browser.
fn machine_path(path: &str) -> bool {
    const PREFIXES: [&str; 4] = ["/api/", "/sim/", "/webhooks/", "/2010-04-01/"];
    const EXACT: [&str; 5] = ["/api", "/healthz", "/readyz", "/metrics", "/logout"];
    path != "/sim/phone" && (EXACT.contains(&path) || PREFIXES.iter().any(|p| path.starts_with(p)))
}

/// The largest JSON error body read back to turn into a page; error bodies are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Middleware: on browser paths, a JSON error answer (the one mapping of `http/error.rs`) becomes an
/// HTML page with the same status and message, so people get a page with a way back instead of raw
/// JSON. The message of a 500 carries the request's error id, which the page shows for the log.
pub async fn html_errors(request: Request, next: Next) -> Response {
    if machine_path(request.uri().path()) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || !json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let message = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned)),
        Err(_) => None,
    };
    let mut page = error_page(status, message.as_deref().unwrap_or_default());
    // Keep what the error said beyond its body (Retry-After on a 503, Allow on a 405).
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(value) = parts.headers.get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page
}

fn error_page(status: StatusCode, message: &str) -> Response {
    html_response(status, error_html(status, message))
}

/// An error page in the console's style: what happened in words, the server's message, and links on.
fn error_html(status: StatusCode, message: &str) -> String {
    let (title, help) = match status.as_u16() {
        401 => ("Please log in", "Your session has ended or you have not logged in yet."),
        403 => ("Not for you", "Your login does not give access to this page."),
        404 => ("Page not found", "There is nothing at this address. The link may be old or mistyped."),
        405 => ("Not possible here", "This address does not take that kind of request."),
        503 => ("Try again in a moment", "The server cannot reach its database right now; nothing was changed."),
        500..=599 => ("Something went wrong", "The server failed to answer. Give the id below to whoever runs Parley."),
        _ => ("That did not work", "The server could not answer this request."),
    };
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!("<p class=\"detail\" id=\"error-message\">{}</p>\n", escape(message))
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} · Parley</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="/assets/console.css">
</head>
<body>
<header class="top"><h1>Parley</h1></header>
<main class="error-page" data-status="{code}">
<section class="card">
<p class="code">{code}</p>
<h2>{title}</h2>
<p>{help}</p>
{detail}<p class="actions"><a href="/console">Go to the console</a> <a href="/login">Log in</a></p>
</section>
</main>
</body>
</html>
"#,
        code = status.as_u16()
    )
}

/// Text for HTML content and attribute values (the login page uses it too).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_probe_and_webhook_paths_keep_json_errors() {
        for path in
            ["/api/v1/nothing", "/api", "/sim/messages", "/webhooks/twilio/x", "/healthz", "/metrics", "/logout"]
        {
            assert!(machine_path(path), "{path}");
        }
        for path in ["/console/nothing", "/login", "/sim/phone", "/nowhere", "/apiary", "/favicon.png"] {
            assert!(!machine_path(path), "{path}");
        }
    }

    #[test]
    fn an_error_page_escapes_the_message() {
        let page = error_html(StatusCode::INTERNAL_SERVER_ERROR, "internal error (id <b>1</b>)");
        assert!(page.contains("internal error (id &lt;b&gt;1&lt;/b&gt;)"), "{page}");
        assert!(page.contains("Something went wrong"), "{page}");
    }

    #[test]
    fn escapes_what_html_would_read() {
        assert_eq!(escape(r#"<b>"A&B's"</b>"#), "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;");
    }
}
