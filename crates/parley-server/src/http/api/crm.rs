//! `/api/v1/crm/deliveries`: the CRM connectors' deliveries (admins: last error, status, the CRM's
//! answer) and their replay; `/api/v1/chats/{id}/contact/external`: the choice among several
//! contacts of an external CRM (HubSpot) that have the chat's phone. Delivery itself is the worker's
//! (`workers::crm`); docs/crm.md "Connectors" is the guide.

use axum::Json;
use axum::extract::State;
use parley_store::crm::{CrmDeliveryRow, CrmOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::clock::rfc3339;
use crate::config::CrmConfig;
use crate::http::api::chats::{chat_id, visible_chat};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::workers::crm::hubspot::{candidates_key, create_key};

/// The CRM connectors' API, with its OpenAPI paths and tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(CrmDoc::openapi())
        .routes(routes!(list_crm_deliveries))
        .routes(routes!(replay_crm_delivery))
        .routes(routes!(external_candidates, choose_external))
}

#[derive(OpenApi)]
#[openapi(tags((name = "crm", description = "CRM connectors: deliveries of record changes to external CRMs")))]
struct CrmDoc;

/// The most deliveries one page lists.
const MAX_LIMIT: i64 = 500;

/// One record change queued for a connector.
#[derive(Debug, Serialize, ToSchema)]
pub struct CrmDeliveryView {
    pub id: i64,
    pub connector: String,
    /// The event it comes from; `{connector}-{event_id}` is its idempotency key.
    pub event_id: i64,
    /// `crm.record.opened`, ..., `crm.contact.erased` (docs/crm.md).
    #[serde(rename = "type")]
    pub change: String,
    pub chat_id: Option<String>,
    pub contact_id: Option<String>,
    pub record_id: Option<String>,
    /// pending, retrying, delivered or failed.
    pub outcome: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    /// The CRM's last HTTP status.
    pub status_code: Option<i64>,
    pub last_error: Option<String>,
    /// The start of the CRM's last answer.
    pub body_excerpt: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn view(d: &CrmDeliveryRow) -> CrmDeliveryView {
    CrmDeliveryView {
        id: d.id,
        connector: d.connector.clone(),
        event_id: d.event_id,
        change: d.change.clone(),
        chat_id: d.chat_id.clone(),
        contact_id: d.contact_id.clone(),
        record_id: d.record_id.clone(),
        outcome: d.outcome.as_str().to_owned(),
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at.map(rfc3339),
        status_code: d.status_code,
        last_error: d.error.clone(),
        body_excerpt: d.body_excerpt.clone(),
        created_at: rfc3339(d.created_at),
        updated_at: rfc3339(d.updated_at),
    }
}

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// One connector's (its `[crm.NAME]`).
    pub connector: Option<String>,
    /// pending, retrying, delivered or failed.
    pub outcome: Option<String>,
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<i64>,
}

/// The connectors' deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/crm/deliveries", tag = "crm", params(DeliveriesQuery),
    responses((status = 200, body = Vec<CrmDeliveryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "an unknown outcome", body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn list_crm_deliveries(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<Json<Vec<CrmDeliveryView>>, ApiError> {
    who.require_admin()?;
    let outcome = match query.outcome.as_deref() {
        None | Some("") => None,
        Some(text) => Some(CrmOutcome::parse(text).ok_or_else(|| {
            ApiError::invalid_fields(
                format!("no outcome {text}"),
                vec![FieldProblem {
                    field: Some("/outcome".to_owned()),
                    message: "one of pending, retrying, delivered, failed".to_owned(),
                }],
            )
        })?),
    };
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let rows = state.store.crm_deliveries(query.connector.as_deref().filter(|c| !c.is_empty()), outcome, limit).await?;
    Ok(Json(rows.iter().map(view).collect()))
}

/// Queues a delivery again: it goes out before the ones queued after it, with the same idempotency
/// key (a failed one after its cause was fixed, or a delivered one the CRM lost).
#[utoipa::path(post, path = "/api/v1/crm/deliveries/{id}/replay", tag = "crm", params(("id" = i64, Path)),
    responses((status = 200, description = "the delivery, pending again", body = CrmDeliveryView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn replay_crm_delivery(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CrmDeliveryView>, ApiError> {
    who.require_admin()?;
    if !state.store.replay_crm_delivery(id, state.clock.now().0).await? {
        return Err(ApiError::not_found(format!("there is no CRM delivery {id}")));
    }
    let row = state
        .store
        .crm_delivery(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no CRM delivery {id}")))?;
    tracing::info!(delivery = id, connector = row.connector, by = who.actor(), "CRM delivery replayed");
    Ok(Json(view(&row)))
}

/// A contact of an external CRM that has the chat's phone.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExternalCandidate {
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
}

/// A connector's candidates for the chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalChoice {
    pub connector: String,
    pub candidates: Vec<ExternalCandidate>,
}

/// The agent's choice: one of the candidates, or a new contact in that CRM.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalPick {
    pub connector: String,
    pub external_id: Option<String>,
    #[serde(default)]
    pub create: bool,
}

/// The result of a choice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalPicked {
    pub connector: String,
    pub contact_id: String,
    /// The chosen contact's id; `None` when a new one is being created.
    pub external_id: Option<String>,
    pub created: bool,
}

fn hubspot_names(state: &AppState) -> Vec<String> {
    state.config.crm.iter().filter(|(_, c)| matches!(c, CrmConfig::Hubspot { .. })).map(|(n, _)| n.clone()).collect()
}

async fn candidates(state: &AppState, connector: &str, chat: &str) -> Result<Option<Vec<ExternalCandidate>>, ApiError> {
    let Some(text) = state.store.crm_object(connector, &candidates_key(chat)).await? else { return Ok(None) };
    Ok(serde_json::from_str(&text).ok())
}

/// The external CRMs' contacts that share the chat's phone, while the agent has not chosen: the
/// chat's record waits for the choice (earlier changes stay queued, in order).
#[utoipa::path(get, path = "/api/v1/chats/{id}/contact/external", tag = "crm", params(("id" = String, Path, description = "the chat")),
    responses((status = 200, body = Vec<ExternalChoice>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["contacts:read"])))]
pub async fn external_candidates(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<ExternalChoice>>, ApiError> {
    let id = chat_id(&id)?;
    visible_chat(&state, &who, &id).await?;
    let mut out = Vec::new();
    for connector in hubspot_names(&state) {
        if let Some(candidates) = candidates(&state, &connector, id.as_str()).await? {
            out.push(ExternalChoice { connector, candidates });
        }
    }
    Ok(Json(out))
}

/// Links the chat's contact to one of the external candidates, or asks for a new external contact;
/// the held changes then go out in order.
#[utoipa::path(post, path = "/api/v1/chats/{id}/contact/external", tag = "crm", params(("id" = String, Path, description = "the chat")),
    request_body = ExternalPick,
    responses((status = 200, body = ExternalPicked), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "no such chat, or no choice pending for it at that connector", body = ErrorBody),
              (status = 422, description = "neither external_id nor create, or an id that is not a candidate", body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn choose_external(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(pick): ApiJson<ExternalPick>,
) -> Result<Json<ExternalPicked>, ApiError> {
    let id = chat_id(&id)?;
    visible_chat(&state, &who, &id).await?;
    let problem = |field: &str, message: &str| {
        ApiError::invalid_fields(
            message.to_owned(),
            vec![FieldProblem { field: Some(field.to_owned()), message: message.to_owned() }],
        )
    };
    if !hubspot_names(&state).contains(&pick.connector) {
        return Err(problem("/connector", "not a connector with candidates (a [crm.NAME] of kind hubspot)"));
    }
    let Some(list) = candidates(&state, &pick.connector, id.as_str()).await? else {
        return Err(ApiError::not_found(format!("no choice is pending for chat {id} at {}", pick.connector)));
    };
    let link = state.store.chat_contact_link(id.as_str(), i64::MAX).await?;
    let contact_id = link
        .and_then(|e| serde_json::from_str::<Value>(&e.data).ok())
        .and_then(|d| d.get("contact_id").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| ApiError::not_found(format!("chat {id} is not linked to a contact")))?;
    let external_id = match (&pick.external_id, pick.create) {
        (Some(_), true) | (None, false) => {
            return Err(problem("", "give either external_id (one of the candidates) or create: true"));
        }
        (Some(external), false) => {
            if !list.iter().any(|c| c.external_id.as_deref() == Some(external)) {
                return Err(problem("/external_id", "not one of the candidates"));
            }
            state.store.set_crm_external_id(&contact_id, &pick.connector, external).await?;
            Some(external.clone())
        }
        (None, true) => {
            state.store.set_crm_object(&pick.connector, &create_key(&contact_id), "1").await?;
            None
        }
    };
    state.store.delete_crm_object(&pick.connector, &candidates_key(id.as_str())).await?;
    state.store.crm_retry_now(&pick.connector).await?;
    tracing::info!(chat = %id, connector = pick.connector, by = who.actor(), "external CRM contact chosen");
    Ok(Json(ExternalPicked { connector: pick.connector, contact_id, external_id, created: pick.create }))
}
