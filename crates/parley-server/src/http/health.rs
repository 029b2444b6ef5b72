//! Health, readiness, metrics and the landing page.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use serde_json::json;

use crate::AppState;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// How long `/readyz` waits for the database. A load balancer's health check gives up after a few
/// seconds; a node whose database takes longer than this to answer a `SELECT 1` is not ready either.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether this node can take traffic: the database answers within [`READY_TIMEOUT`], so a load
/// balancer takes the node out while it cannot reach the database and back in once it can (the pool
/// reconnects by itself). The body also tells which carrier accounts can send now (an SMPP bind that
/// is down does not stop the API or webhooks).
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let carriers: serde_json::Map<String, serde_json::Value> =
        state.carriers.iter().map(|(name, c)| (name.clone(), serde_json::Value::Bool(c.ready()))).collect();
    let unready = match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({ "database": "ok", "carriers": carriers }))),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
    };
    tracing::warn!(error = %unready, "not ready: the database does not answer");
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "database": "unavailable", "carriers": carriers })))
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let now = state.clock.now().0;
    if let Ok(depth) = state.store.outbox_depth(now).await {
        metrics::gauge!("parley_outbox_depth").set(depth as f64);
    }
    // Timers that came due and have not fired yet: above zero for long, the timer worker is behind.
    if let Ok(due) = state.store.due_chat_count(now).await {
        metrics::gauge!("parley_chat_timers_due").set(due as f64);
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
         <h1>Parley</h1><p>A self-hosted SMS contact center.</p><ul>\
         <li><a href=\"/console\">Console</a>: agents, supervisors and admins log in here.</li>{sim}\
         <li><a href=\"/api/v1\">API reference</a> (and its <a href=\"/api/v1/openapi.json\">OpenAPI document</a>): agents and integrations use <code>/api/v1</code> with a bearer token.</li>\
         <li><a href=\"/metrics\">Metrics</a> · <a href=\"/readyz\">Readiness</a></li></ul></body></html>"
    ))
}
