//! The simulator's HTTP face (only with `--sim` or in `parley demo`): phones text Parley with
//! `POST /sim/messages`, read what Parley sent them with `GET /sim/phones/{e164}/messages`, and a
//! person can do both in the browser on the phone page at `/sim/phone`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use parley_core::message::check_body;
use parley_core::phone::{BusinessNumber, E164};
use parley_store::rows::SimRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::clock::rfc3339;
use crate::engine::InboundSms;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use parley_carriers::InboundMedia;

/// A text from a simulated phone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimInbound {
    /// The phone, E.164.
    pub from: String,
    /// A business number of the setup, E.164.
    pub to: String,
    #[serde(default)]
    pub body: String,
    /// Media URLs (MMS).
    #[serde(default)]
    pub media: Vec<String>,
    /// The carrier's message id; repeating an id is acknowledged without storing twice. Default: a new id.
    pub id: Option<String>,
}

/// The text is committed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimAccepted {
    pub message_id: String,
    pub chat_id: Option<String>,
    /// This id was delivered before; nothing new was stored.
    pub duplicate: bool,
}

/// Delivers a text as a phone would. Answers only once the message and everything it caused are committed.
#[utoipa::path(post, path = "/sim/messages", tag = "simulator", request_body = SimInbound,
    responses((status = 201, body = SimAccepted), (status = 200, description = "a repeated id", body = SimAccepted),
              (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_message(
    State(state): State<AppState>,
    ApiJson(msg): ApiJson<SimInbound>,
) -> Result<(StatusCode, Json<SimAccepted>), ApiError> {
    let from = E164::parse(&msg.from).map_err(|e| ApiError::invalid(format!("from: {e}")))?;
    let to = BusinessNumber::parse(&msg.to).map_err(|e| ApiError::invalid(format!("to: {e}")))?;
    check_body(&msg.body, msg.media.len()).map_err(|e| ApiError::invalid(e.to_string()))?;
    if msg.media.len() > 10 {
        return Err(ApiError::invalid("at most 10 media items per message"));
    }
    let provider_id = match msg.id {
        Some(id) if id.is_empty() || id.len() > 128 => {
            return Err(ApiError::invalid("id must have 1 to 128 characters"));
        }
        Some(id) => id,
        None => uuid::Uuid::now_v7().to_string(),
    };
    let media = msg.media.into_iter().map(|url| InboundMedia { url, content_type: String::new() }).collect();
    let ack = state
        .engine
        .inbound(InboundSms { carrier: "sim".to_owned(), provider_id, from, to, body: msg.body, media })
        .await?;
    let status = if ack.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((
        status,
        Json(SimAccepted {
            message_id: ack.message_id,
            chat_id: ack.chat_id.map(|id| id.to_string()),
            duplicate: ack.duplicate,
        }),
    ))
}

/// A message on a simulated phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimMessage {
    pub seq: i64,
    pub from: String,
    pub to: String,
    /// "received" (Parley sent it to the phone) or "sent" (the phone sent it).
    pub direction: String,
    pub body: String,
    pub media: Vec<String>,
    pub at: String,
}

/// A phone's messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimMessages {
    pub messages: Vec<SimMessage>,
}

/// Only what comes after this sequence number.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct After {
    pub after: Option<i64>,
}

fn view(r: SimRow) -> SimMessage {
    let (from, to, direction) =
        if r.direction == "mt" { (r.business, r.phone, "received") } else { (r.phone, r.business, "sent") };
    SimMessage {
        seq: r.seq,
        from,
        to,
        direction: direction.to_owned(),
        body: r.body,
        media: r.media.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        at: rfc3339(r.at),
    }
}

async fn thread(state: &AppState, phone: &str, after: Option<i64>) -> Result<Vec<SimMessage>, ApiError> {
    let phone = E164::parse(phone).map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(state.store.sim_thread(phone.as_str(), after.unwrap_or(0)).await?.into_iter().map(view).collect())
}

/// What Parley delivered to a phone, oldest first.
#[utoipa::path(get, path = "/sim/phones/{e164}/messages", tag = "simulator", params(("e164" = String, Path), After),
    responses((status = 200, body = SimMessages), (status = 422, body = ErrorBody)))]
pub async fn phone_messages(
    State(state): State<AppState>,
    ApiPath(phone): ApiPath<String>,
    ApiQuery(q): ApiQuery<After>,
) -> Result<Json<SimMessages>, ApiError> {
    let messages = thread(&state, &phone, q.after).await?.into_iter().filter(|m| m.direction == "received").collect();
    Ok(Json(SimMessages { messages }))
}

/// Both directions of a phone's messages, for the phone page.
#[utoipa::path(get, path = "/sim/phones/{e164}/thread", tag = "simulator", params(("e164" = String, Path), After),
    responses((status = 200, body = SimMessages), (status = 422, body = ErrorBody)))]
pub async fn phone_thread(
    State(state): State<AppState>,
    ApiPath(phone): ApiPath<String>,
    ApiQuery(q): ApiQuery<After>,
) -> Result<Json<SimMessages>, ApiError> {
    Ok(Json(SimMessages { messages: thread(&state, &phone, q.after).await? }))
}

/// A business number a simulated phone can text.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimNumber {
    pub number: String,
    pub label: String,
}

/// The simulator's business numbers.
#[utoipa::path(get, path = "/sim/numbers", tag = "simulator", responses((status = 200, body = Vec<SimNumber>)))]
pub async fn numbers(State(state): State<AppState>) -> Json<Vec<SimNumber>> {
    let setup = state.engine.setup();
    Json(
        setup
            .numbers
            .iter()
            .filter(|n| n.carrier == "sim")
            .map(|n| SimNumber { number: n.number.to_string(), label: n.label.clone() })
            .collect(),
    )
}

/// The phone page.
pub async fn phone_page() -> Html<&'static str> {
    Html(include_str!("../../assets/phone.html"))
}
