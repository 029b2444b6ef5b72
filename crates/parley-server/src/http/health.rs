//! Health, readiness, metrics and the landing page.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};

use crate::AppState;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers: this node can take traffic.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer")
        }
    }
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(depth) = state.store.outbox_depth().await {
        metrics::gauge!("parley_outbox_depth").set(depth as f64);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

/// The landing page: where to go next.
pub async fn index(State(state): State<AppState>) -> Html<String> {
    let sim = if state.config.sim {
        "<li><a href=\"/sim/phone\">Phone simulator</a>: text the support numbers as a consumer.</li>"
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Parley</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\">\
         <h1>Parley</h1><p>A self-hosted SMS contact center.</p><ul>{sim}\
         <li><a href=\"/api/v1/openapi.json\">API (OpenAPI document)</a>: agents and integrations use <code>/api/v1</code> with a bearer token.</li>\
         <li><a href=\"/metrics\">Metrics</a> · <a href=\"/readyz\">Readiness</a></li></ul></body></html>"
    ))
}
