//! `GET /api/v1/queues/{id}/settings`: the settings tree as it applies to one queue. Each inherited
//! setting (timers, masking, hours, dismissal, the switches, every system message) with its effective
//! value and where it comes from: `deployment` or `queue:<id>` (the queue itself or the parent that
//! sets it). The values are resolved by the core (`setup/tree.rs`), the same resolution chats get.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use parley_core::ids::QueueId;
use parley_core::setup::Sourced;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;
use crate::setup_doc::HoursDoc;

/// One effective setting.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourcedValue {
    /// The value chats of the queue get: a number (timers; 0 is off), a string, a boolean, an object
    /// (hours, dismissal) or null (no hours: always open; no dismissal).
    pub value: Value,
    /// "deployment", or "queue:<id>" for the queue (itself or a parent) that sets it.
    pub source: String,
}

/// The effective settings of a queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueSettingsView {
    pub queue: String,
    /// The queue's parents, nearest first.
    pub parents: Vec<String>,
    /// Timers by name (offer_timeout_seconds, inactivity_warning_minutes, inactivity_close_minutes,
    /// session_expiration_minutes, queue_wait_minutes, agent_response_minutes), consumer_number,
    /// hours, dismissal, sms_chat and agent_outbound.
    pub settings: BTreeMap<String, SourcedValue>,
    /// Every system message by name, in the deployment's language, as the queue's chats get it (a
    /// number's own texts and translations aside).
    pub texts: BTreeMap<String, SourcedValue>,
}

fn shown<T>(s: &Sourced<T>, value: impl FnOnce(&T) -> Value) -> SourcedValue {
    SourcedValue { value: value(&s.value), source: s.source.label() }
}

/// The effective settings of a queue and where each comes from. Admins and supervisors read any
/// queue's; agents those of queues they serve.
#[utoipa::path(get, path = "/api/v1/queues/{id}/settings", tag = "monitor", params(("id" = String, Path)),
    responses((status = 200, body = QueueSettingsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["setup:read"])))]
pub async fn queue_settings(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<QueueSettingsView>, ApiError> {
    let setup = state.engine.setup();
    let Some(queue) = QueueId::parse(&id).ok().filter(|q| setup.queue(q).is_some()) else {
        return Err(ApiError::not_found(format!("no queue with id {id}")));
    };
    if let Principal::Agent(agent) = &who
        && !setup.queues_of(agent).contains(&queue)
    {
        return Err(ApiError::forbidden("this queue is not one you serve"));
    }
    let s = setup.queue_settings(&queue);
    let mut settings: BTreeMap<String, SourcedValue> =
        s.timers.iter().map(|(name, v)| ((*name).to_owned(), shown(v, |n| json!(n)))).collect();
    settings.insert("consumer_number".to_owned(), shown(&s.consumer_number, |c| json!(c.as_str())));
    settings.insert(
        "hours".to_owned(),
        shown(&s.hours, |h| h.as_ref().map_or(Value::Null, |h| json!(HoursDoc::from_core(&h.to_draft())))),
    );
    settings.insert(
        "dismissal".to_owned(),
        shown(&s.dismissal, |d| {
            d.map_or(Value::Null, |d| {
                json!({
                    "after_minutes": d.after_minutes,
                    "notice_minutes_before": d.notice_minutes_before,
                    "by_agent": d.by_agent,
                })
            })
        }),
    );
    settings.insert("sms_chat".to_owned(), shown(&s.sms_chat, |b| json!(b)));
    settings.insert("agent_outbound".to_owned(), shown(&s.agent_outbound, |b| json!(b)));
    let texts = s.texts.iter().map(|(key, v)| (key.name().to_owned(), shown(v, |t| json!(t)))).collect();
    let parents = setup.lineage(Some(&queue)).iter().skip(1).map(|q| q.id.to_string()).collect();
    Ok(Json(QueueSettingsView { queue: queue.to_string(), parents, settings, texts }))
}
