//! The web console: pages rendered here from templates embedded in the binary, filled in and kept
//! live by one plain script (`assets/console.js`) over the JSON API and the event stream. Agents get
//! their workspace, supervisors and admins the monitor, admins also the admin page.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use parley_core::routing::Presence;

use crate::AppState;
use crate::http::auth::{self, SessionUser};
use crate::http::error::ApiError;

const SHELL: &str = include_str!("../../assets/console.html");
const AGENT: &str = include_str!("../../assets/agent.html");
const MONITOR: &str = include_str!("../../assets/monitor.html");
const ADMIN: &str = include_str!("../../assets/admin.html");
const SCRIPT: &str = include_str!("../../assets/console.js");
const ADMIN_SCRIPT: &str = include_str!("../../assets/admin.js");
const STYLE: &str = include_str!("../../assets/console.css");
const ADMIN_STYLE: &str = include_str!("../../assets/admin.css");

/// Same-origin scripts, styles, media and connections only; no framing.
const POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; \
                      script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The console's pages and assets (outside the API document: they are not API).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/console", get(workspace))
        .route("/console/admin", get(admin))
        .route("/assets/console.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/assets/admin.js", get(|| async { asset("text/javascript; charset=utf-8", ADMIN_SCRIPT) }))
        .route("/assets/console.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/assets/admin.css", get(|| async { asset("text/css; charset=utf-8", ADMIN_STYLE) }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The workspace of agents; the monitor of supervisors and admins.
async fn workspace(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(user) = auth::current(&state, &headers).await? else {
        return Ok(Redirect::to("/login?next=/console").into_response());
    };
    let main = if user.role == "agent" { AGENT } else { MONITOR };
    // The status switch shows the agent's status as stored, never a default that may be wrong.
    let status = match &user.agent {
        Some(agent) => state
            .store
            .agent_states()
            .await?
            .into_iter()
            .find(|s| s.agent == agent.as_str())
            .and_then(|s| Presence::parse(&s.status))
            .unwrap_or_default(),
        None => Presence::default(),
    };
    Ok(page(&state, &user, main, "", status))
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
    Ok(page(&state, &user, ADMIN, "<script src=\"/assets/admin.js\" defer></script>", Presence::default()))
}

fn page(state: &AppState, user: &SessionUser, main: &str, scripts: &str, presence: Presence) -> Response {
    let setup = state.engine.setup();
    // The numbers an agent may start chats from: those whose menu has a queue they serve.
    let numbers: Vec<String> = match &user.agent {
        Some(agent) => {
            let queues = setup.queues_of(agent);
            setup
                .numbers
                .iter()
                .filter(|n| n.queues.iter().any(|q| queues.contains(q)))
                .map(|n| n.number.to_string())
                .collect()
        }
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
    if user.role == "admin" {
        links.push("<a href=\"/console\">Monitor</a>");
        links.push("<a href=\"/console/admin\">Admin</a>");
    }
    if state.config.sim {
        links.push("<a href=\"/sim/phone\" target=\"_blank\" rel=\"noopener\">Phone simulator</a>");
    }
    let html = SHELL
        .replace("{{csrf}}", &escape(&user.csrf))
        .replace("{{role}}", &escape(&user.role))
        .replace("{{agent}}", &escape(user.agent.as_ref().map(|a| a.as_str()).unwrap_or_default()))
        .replace("{{numbers}}", &escape(&numbers.join(",")))
        .replace("{{name}}", &escape(&user.display_name))
        .replace("{{status}}", &status)
        .replace("{{links}}", &links.join(" "))
        .replace("{{scripts}}", scripts)
        .replace("{{main}}", main);
    let mut response = axum::response::Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
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
    fn escapes_what_html_would_read() {
        assert_eq!(escape(r#"<b>"A&B's"</b>"#), "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;");
    }
}
