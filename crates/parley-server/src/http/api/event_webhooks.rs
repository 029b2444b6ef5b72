//! `/api/v1/webhooks`: outgoing event webhooks (signed per Standard Webhooks), their secrets, their
//! delivery attempts and replays. Scope `webhooks:manage`; admins too. Delivery itself is the
//! worker's (`workers::webhooks`); docs/integrations.md "Webhooks" is the integrator's guide.
//!
//! (The carriers' inbound webhooks are `http/webhooks/`: another thing altogether.)

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::event::{KINDS, WEBHOOK_ALIASES};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::workers::webhooks::{self as worker, signing, target};
use parley_store::webhooks::{DeliveryRow, WebhookRow};

/// The webhooks API, with its OpenAPI paths and tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(WebhooksDoc::openapi())
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(replay_delivery))
}

/// The OpenAPI tag of the webhooks API.
#[derive(OpenApi)]
#[openapi(tags((name = "webhooks", description = "Signed event webhooks to your systems (Standard Webhooks)")))]
struct WebhooksDoc;

/// How long a rotated-out secret keeps signing beside the new one.
const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;
/// The most attempts one page lists.
const MAX_LIMIT: i64 = 500;

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to POST events: `https://` (or `http://` and private addresses with
    /// `[webhooks] allow_private`).
    pub url: String,
    /// Webhook types (see docs/integrations.md), or `["*"]` for every one.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// Changes to a webhook; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// false disables it; true enables it again (it resumes after the last event it was done with).
    pub enabled: Option<bool>,
}

/// A webhook as admins see it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// "wh_" and 32 hex digits.
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why it was disabled (24 hours of failures, or an admin), while it is.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    /// Since when deliveries fail without a success, while they do.
    pub failing_since: Option<String>,
    /// The next attempt at the event it is retrying, while it retries.
    pub next_attempt_at: Option<String>,
    /// The id of the last event it is done with.
    pub last_event_id: i64,
    /// Until when the secret before the last rotation still signs beside the current one.
    pub previous_secret_until: Option<String>,
    pub created_at: String,
}

/// A new webhook with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_` + base64: verify deliveries with it (a Standard Webhooks library does).
    pub secret: String,
}

/// A new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    pub secret: String,
    /// Until then deliveries are signed with the old secret too.
    pub previous_secret_until: String,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The event's id: the `webhook-id` header.
    pub event_id: i64,
    /// The webhook type the body carried.
    #[serde(rename = "type")]
    pub event_type: String,
    /// 1 for the first attempt at this event.
    pub attempt: i64,
    /// delivered, retrying or failed (given up after 24 hours).
    pub outcome: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub at: String,
    pub next_attempt_at: Option<String>,
    /// An attempt an admin asked for with replay.
    pub replay: bool,
}

/// A page of attempts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// Paging of the attempts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Attempts with an id below this one.
    pub before: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
}

fn view(row: &WebhookRow) -> WebhookView {
    WebhookView {
        id: row.id.clone(),
        url: row.url.clone(),
        description: row.description.clone(),
        events: row.events.clone(),
        enabled: row.disabled.is_none(),
        disabled_reason: row.disabled.as_ref().map(|d| d.1.clone()),
        disabled_at: row.disabled.as_ref().map(|d| rfc3339(d.0)),
        failing_since: row.failing_since.map(rfc3339),
        next_attempt_at: row.next_attempt_at.map(rfc3339),
        last_event_id: row.cursor,
        previous_secret_until: row.previous_secret.as_ref().map(|p| rfc3339(p.1)),
        created_at: rfc3339(row.created_at),
    }
}

fn delivery_view(d: &DeliveryRow) -> DeliveryView {
    DeliveryView {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type.clone(),
        attempt: d.attempt,
        outcome: d.outcome.clone(),
        status_code: d.status_code,
        latency_ms: d.latency_ms,
        error: d.error.clone(),
        at: rfc3339(d.at),
        next_attempt_at: d.next_attempt_at.map(rfc3339),
        replay: d.replay,
    }
}

/// The subscribed types, checked: `["*"]`, or known types only (422 listing the known ones).
fn check_events(events: &[String]) -> Result<Vec<String>, ApiError> {
    if events.is_empty() {
        return Err(ApiError::invalid("events: name at least one webhook type, or [\"*\"] for every one"));
    }
    if events.iter().any(|e| e == "*") {
        return if events.len() == 1 {
            Ok(vec!["*".to_owned()])
        } else {
            Err(ApiError::invalid("events: \"*\" means every type; name no others beside it"))
        };
    }
    let known = || WEBHOOK_ALIASES.iter().chain(KINDS.iter());
    let unknown: Vec<&str> = events.iter().map(String::as_str).filter(|e| !known().any(|k| k == e)).collect();
    if !unknown.is_empty() {
        let list: Vec<&str> = known().copied().collect();
        return Err(ApiError::invalid(format!(
            "events: unknown webhook type {}: use \"*\" or any of {}",
            unknown.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", "),
            list.join(", ")
        )));
    }
    let mut unique: Vec<String> = Vec::with_capacity(events.len());
    for e in events {
        if !unique.contains(e) {
            unique.push(e.clone());
        }
    }
    Ok(unique)
}

async fn check_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    target::check(url, state.config.webhooks_allow_private)
        .await
        .map(|u| u.to_string())
        .map_err(|e| ApiError::invalid(format!("url: {e}")))
}

async fn find(state: &AppState, id: &str) -> Result<WebhookRow, ApiError> {
    state.store.webhook(id).await?.ok_or_else(|| ApiError::not_found(format!("there is no webhook {id}")))
}

/// Every webhook.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn list_webhooks(State(state): State<AppState>, who: Principal) -> Result<Json<Vec<WebhookView>>, ApiError> {
    who.require_admin()?;
    Ok(Json(state.store.webhooks().await?.iter().map(view).collect()))
}

/// Makes a webhook; it gets the events committed from now on. Answers its secret, this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, description = "the webhook and its secret, shown this once", body = CreatedWebhook),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "a URL that is not https (or http with allow_private), carries credentials or resolves to a private address; an unknown webhook type (the known ones are listed)", body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn create_webhook(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    who.require_admin()?;
    let events = check_events(&req.events)?;
    let url = check_url(&state, &req.url).await?;
    let secret = signing::new_secret().map_err(ApiError::internal)?;
    let now = state.clock.now().0;
    let row = WebhookRow {
        id: format!("wh_{}", uuid::Uuid::now_v7().simple()),
        url,
        description: req.description,
        events,
        secret: secret.clone(),
        previous_secret: None,
        cursor: 0,
        head_attempts: 0,
        head_failing_since: None,
        failing_since: None,
        next_attempt_at: None,
        disabled: None,
        created_at: now,
        updated_at: now,
    };
    let stored = state.store.create_webhook(&row).await?;
    tracing::info!(webhook = stored.id, url = stored.url, "webhook created");
    Ok((StatusCode::CREATED, Json(CreatedWebhook { webhook: view(&stored), secret })))
}

/// One webhook.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn get_webhook(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WebhookView>, ApiError> {
    who.require_admin()?;
    Ok(Json(view(&find(&state, &id).await?)))
}

/// Changes a webhook's URL, types or description, or disables or enables it.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = WebhookChange,
    responses((status = 200, body = WebhookView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "a refused URL or an unknown webhook type", body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn update_webhook(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<WebhookChange>,
) -> Result<Json<WebhookView>, ApiError> {
    who.require_admin()?;
    let mut row = find(&state, &id).await?;
    if let Some(events) = &change.events {
        row.events = check_events(events)?;
    }
    if let Some(url) = &change.url {
        row.url = check_url(&state, url).await?;
    }
    if let Some(description) = change.description {
        row.description = description;
    }
    let now = state.clock.now().0;
    let re_enabled = change.enabled == Some(true) && row.disabled.is_some();
    match change.enabled {
        Some(true) => row.disabled = None,
        Some(false) if row.disabled.is_none() => row.disabled = Some((now, "disabled by an admin".to_owned())),
        _ => {}
    }
    if !state.store.update_webhook(&row, re_enabled, now).await? {
        return Err(ApiError::not_found(format!("there is no webhook {id}")));
    }
    Ok(Json(view(&find(&state, &id).await?)))
}

/// Deletes a webhook and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    if !state.store.delete_webhook(&id).await? {
        return Err(ApiError::not_found(format!("there is no webhook {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a webhook a new secret, answered this once; the old one keeps signing beside it for 24 hours.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = RotatedSecret), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RotatedSecret>, ApiError> {
    who.require_admin()?;
    let secret = signing::new_secret().map_err(ApiError::internal)?;
    let now = state.clock.now().0;
    let until = now + ROTATION_OVERLAP_MS;
    if !state.store.rotate_webhook_secret(&id, &secret, until, now).await? {
        return Err(ApiError::not_found(format!("there is no webhook {id}")));
    }
    tracing::info!(webhook = id, "webhook secret rotated");
    Ok(Json(RotatedSecret { secret, previous_secret_until: rfc3339(until) }))
}

/// A webhook's delivery attempts, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path), DeliveryQuery),
    responses((status = 200, body = DeliveryPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    who.require_admin()?;
    find(&state, &id).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let rows = state.store.webhook_deliveries(&id, query.before, limit).await?;
    let next_before = (rows.len() as i64 == limit).then(|| rows.last().map(|d| d.id)).flatten();
    Ok(Json(DeliveryPage { deliveries: rows.iter().map(delivery_view).collect(), next_before }))
}

/// Sends an attempt's event again, at once, with the same `webhook-id`; answers the new attempt. It
/// changes nothing of the webhook's progress through the event log.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = i64, Path)),
    responses((status = 200, description = "the replayed attempt (its outcome says whether the receiver took it)", body = DeliveryView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "no such webhook or attempt, or its event was purged", body = ErrorBody)),
    security(("bearer" = ["webhooks:manage"])))]
pub async fn replay_delivery(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, delivery_id)): ApiPath<(String, i64)>,
) -> Result<Json<DeliveryView>, ApiError> {
    who.require_admin()?;
    let endpoint = find(&state, &id).await?;
    let Some(original) = state.store.webhook_delivery(&id, delivery_id).await? else {
        return Err(ApiError::not_found(format!("webhook {id} has no delivery {delivery_id}")));
    };
    let Some(event) = state.store.event(original.event_id).await? else {
        return Err(ApiError::not_found(format!("event {} is no longer stored (past retention)", original.event_id)));
    };
    let allow_private = state.config.webhooks_allow_private;
    let client = target::client(allow_private, worker::TIMEOUT).map_err(ApiError::internal)?;
    let now = state.clock.now().0;
    let posted = worker::post(&client, &endpoint, &event, &original.event_type, now, allow_private).await;
    let outcome = if posted.error.is_none() { "delivered" } else { "failed" };
    metrics::counter!("parley_webhook_deliveries_total", "outcome" => outcome).increment(1);
    let mut attempt = DeliveryRow {
        id: 0,
        endpoint_id: id,
        event_id: event.id,
        event_type: original.event_type,
        attempt: 1,
        outcome: outcome.to_owned(),
        status_code: posted.status_code,
        latency_ms: posted.latency_ms,
        error: posted.error,
        at: state.clock.now().0,
        next_attempt_at: None,
        replay: true,
    };
    attempt.id = state.store.record_webhook_replay(&attempt).await?;
    Ok(Json(delivery_view(&attempt)))
}
