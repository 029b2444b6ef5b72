//! `/api/v1/outbound`: messages the business sends first. `POST /api/v1/outbound/chats` starts a chat
//! (or joins the live one with that phone), `POST /api/v1/outbound/messages` sends a sessionless
//! notification that belongs to no chat. The field names are the seed platform's (`end_user_number`,
//! `outbound_number`, `message`, `agent_id`).
//!
//! Both refuse a phone that opted out (409 `opted_out`), a number that is not enabled (409
//! `number_not_enabled`) and an incoming-only number (422 naming `/outbound_number`; the core refuses
//! it, `Refusal::IncomingOnly`). Inside the consumer's quiet hours the message is scheduled for the first
//! allowed moment (`status: "scheduled"`, `send_at`), or refused (409 `quiet_hours`) when the caller
//! set `no_delay`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::chat::Input;
use parley_core::ids::{AgentId, QueueId};
use parley_core::message::{Direction, MAX_BODY_CHARS, MessageStatus};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::scheduled::HeldKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::rfc3339;
use crate::engine::{OutboundAck, OutboundRequest, ScheduleRequest};
use crate::http::api::chats::{ChatView, view_for};
use crate::http::api::media::attachable;
use crate::http::api::messages::parse_send_at;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::{ApiJson, ApiPath};

/// A chat the business starts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundChat {
    /// The consumer's phone, E.164.
    pub end_user_number: String,
    /// The business number to send from, E.164; it must be in the setup and enabled. A chat for an
    /// agent may leave it out: it then goes out from the number of the phone's latest chat in the
    /// queue (or the agent's queues), while that queue keeps `sticky_sender` on, else from the first
    /// number whose menu offers the queue.
    pub outbound_number: Option<String>,
    /// Up to 1600 characters; may be empty (or left out) when `media_ids` names media.
    #[serde(default)]
    pub message: String,
    /// Uploads to send with the message (`POST /api/v1/media`), at most 10, each the caller's own and
    /// not sent yet; 422 `media_not_supported` from a number on an SMPP carrier account.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// The agent who holds the chat; agent tokens may only name themselves (and default to
    /// themselves). Without an agent the consumer's answer enters the number's menu.
    pub agent_id: Option<String>,
    /// The queue the agent's chat belongs to (default: the number's first queue the agent serves).
    pub queue: Option<String>,
    /// Refuse (409 `quiet_hours`) instead of scheduling when the consumer's quiet hours hold.
    #[serde(default)]
    pub no_delay: bool,
    /// Send later: RFC 3339, after now and at most 30 days ahead. Nothing happens until then (for a
    /// chat: it opens when the message is due); consent, the number's state and quiet hours are
    /// checked at that time, not now.
    pub send_at: Option<String>,
}

/// A sessionless notification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundMessage {
    /// The consumer's phone, E.164.
    pub end_user_number: String,
    /// The business number to send from, E.164.
    pub outbound_number: String,
    /// Up to 1600 characters; may be empty (or left out) when `media_ids` names media.
    #[serde(default)]
    pub message: String,
    /// Uploads to send with the message, as on `POST /api/v1/outbound/chats`.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// Refuse (409 `quiet_hours`) instead of scheduling when the consumer's quiet hours hold.
    #[serde(default)]
    pub no_delay: bool,
    /// Send later: RFC 3339, after now and at most 30 days ahead. Nothing happens until then (for a
    /// chat: it opens when the message is due); consent, the number's state and quiet hours are
    /// checked at that time, not now.
    pub send_at: Option<String>,
}

/// What became of an outbound message.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboundSent {
    pub message_id: String,
    /// "queued" (goes out now), or "scheduled": sent later as asked (`send_at`), or held by the
    /// consumer's quiet hours until `send_at`.
    pub status: String,
    pub send_at: Option<String>,
    /// The chat the message opened or joined (none for a sessionless message).
    pub chat: Option<ChatView>,
}

fn phone(field: &str, value: &str) -> Result<E164, ApiError> {
    E164::parse(value).map_err(|e| ApiError::invalid(format!("{field}: {e}")))
}

fn business_number(value: &str) -> Result<BusinessNumber, ApiError> {
    BusinessNumber::parse(value).map_err(|e| ApiError::invalid(format!("outbound_number: {e}")))
}

fn message(text: &str, media: usize) -> Result<String, ApiError> {
    let characters = text.chars().count();
    if text.trim().is_empty() && media == 0 {
        return Err(ApiError::invalid("message must not be empty (unless media_ids names media)"));
    }
    if characters > MAX_BODY_CHARS {
        return Err(ApiError::invalid(format!("message has {characters} characters; the limit is {MAX_BODY_CHARS}")));
    }
    Ok(text.to_owned())
}

pub(crate) fn sent(state: &AppState, who: &Principal, ack: OutboundAck) -> (StatusCode, Json<OutboundSent>) {
    let body = OutboundSent {
        message_id: ack.message_id,
        status: ack.status.as_str().to_owned(),
        send_at: ack.send_at.map(rfc3339),
        chat: ack.chat.map(|c| view_for(state, who, c)),
    };
    (StatusCode::CREATED, Json(body))
}

/// Starts a chat with a consumer, or writes into the live chat between the two numbers. A chat started
/// for an agent goes to a queue whose `agent_outbound` switch (inherited) is on: the named queue, or
/// the number's first that the agent serves and that allows it.
#[utoipa::path(post, path = "/api/v1/outbound/chats", tag = "outbound", request_body = OutboundChat,
    responses((status = 201, body = OutboundSent), (status = 401, body = ErrorBody),
              (status = 403, description = "not allowed, or agents may not start outbound chats in the queue (code agent_outbound_off: `agent_outbound = false` on the queue, a parent or the settings)", body = ErrorBody),
              (status = 409, description = "opted_out, blocked (the phone is on the blocklist), quiet_hours (with no_delay), number_not_enabled, or a live chat held by someone else", body = ErrorBody),
              (status = 422, description = "a bad field (an unknown or already sent media id names /media_ids/N), an outbound_number whose role is incoming, or media_ids from a number on an SMPP account (code media_not_supported)", body = ErrorBody)),
    security(("bearer" = ["sms:send"])))]
pub async fn start_chat(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<OutboundChat>,
) -> Result<(StatusCode, Json<OutboundSent>), ApiError> {
    let consumer = phone("end_user_number", &req.end_user_number)?;
    let text = message(&req.message, req.media_ids.len())?;
    let agent = match (&who, req.agent_id.as_deref()) {
        (Principal::Agent(me), None) => Some(me.clone()),
        (Principal::Agent(me), Some(named)) if named == me.as_str() => Some(me.clone()),
        (Principal::Agent(_), Some(_)) => {
            return Err(ApiError::forbidden("agent tokens start chats for themselves only: leave agent_id out"));
        }
        (Principal::Admin { .. }, None) => None,
        (Principal::Supervisor { .. }, _) => {
            return Err(ApiError::forbidden(
                "supervisors watch chats but do not start them: this needs an agent or an admin",
            ));
        }
        (Principal::Admin { .. }, Some(named)) => {
            let id = AgentId::parse(named).map_err(|e| ApiError::invalid(format!("agent_id: {e}")))?;
            if state.engine.setup().agent(&id).is_none() {
                return Err(ApiError::invalid(format!("agent_id: no agent \"{named}\" in the setup")));
            }
            Some(id)
        }
    };
    let queue = match req.queue.as_deref() {
        None => None,
        Some(_) if agent.is_none() => {
            return Err(ApiError::invalid("queue: only a chat started for an agent takes a queue"));
        }
        Some(q) => Some(QueueId::parse(q).map_err(|e| ApiError::invalid(format!("queue: {e}")))?),
    };
    let (number, queue) = match (req.outbound_number.as_deref(), &agent) {
        (Some(number), _) => (business_number(number)?, queue),
        (None, Some(agent)) => {
            let (number, queue) = sticky_sender(&state, &consumer, agent, queue).await?;
            (number, Some(queue))
        }
        (None, None) => {
            return Err(ApiError::invalid_fields(
                "outbound_number: name the number to send from (only a chat for an agent may leave it out)",
                vec![FieldProblem::new(Some("/outbound_number".to_owned()), "required for a chat without an agent")],
            ));
        }
    };
    let source = agent.as_ref().map_or("api".to_owned(), |a| format!("agent:{a}"));
    let media = attachable(&state, &who, &req.media_ids, &number).await?;
    if let Some(send_at) = req.send_at.as_deref() {
        let send_at = parse_send_at(&state, send_at, Some("/send_at"))?;
        let kind = HeldKind::Chat { agent, queue };
        let request = ScheduleRequest { number, consumer, text, kind, send_at, author: source, media };
        let ack = state.engine.schedule(request).await?;
        return Ok(sent(&state, &who, ack));
    }
    let input = Input::Outbound { text, agent, queue, no_delay: req.no_delay };
    let ack = state.engine.outbound(OutboundRequest { number, consumer, input, source, media }).await?;
    Ok(sent(&state, &who, ack))
}

/// The number (and queue) an agent's chat goes out from when the request names no number: the
/// phone's latest chat in `queue` (or in the agent's queues) keeps its number, see
/// [`parley_core::setup::Setup::reply_from`].
async fn sticky_sender(
    state: &AppState,
    consumer: &E164,
    agent: &AgentId,
    queue: Option<QueueId>,
) -> Result<(BusinessNumber, QueueId), ApiError> {
    let setup = state.engine.setup();
    // A named queue is checked by the core (`agent_outbound`, the agent's queues); otherwise only the
    // agent's queues that let agents write first can keep a thread.
    let queues = match queue {
        Some(q) => vec![q],
        None => setup.queues_of(agent).into_iter().filter(|q| setup.agent_outbound(q)).collect(),
    };
    let names: Vec<String> = queues.iter().map(ToString::to_string).collect();
    let latest = state.store.latest_in_queues(consumer.as_str(), &names).await?;
    // A stored value this version cannot read names no number: fall back as if there were none.
    let latest = latest.and_then(|(n, q)| Some((BusinessNumber::parse(&n).ok()?, QueueId::parse(&q).ok()?)));
    match setup.reply_from(&queues, latest.as_ref().map(|(n, q)| (n, q))) {
        Some((number, queue)) => Ok((number.number.clone(), queue)),
        None => Err(ApiError::invalid_fields(
            format!("outbound_number: no number's menu offers {}; name the number to send from", names.join(", ")),
            vec![FieldProblem::new(Some("/outbound_number".to_owned()), "required: no number offers the chat's queue")],
        )),
    }
}

/// Sends a notification that belongs to no chat; the consumer's answer is handled like a first text,
/// or, on a number with `sessionless_reply = "auto_reply"`, kept as the notification's reply.
#[utoipa::path(post, path = "/api/v1/outbound/messages", operation_id = "send_outbound_message", tag = "outbound", request_body = OutboundMessage,
    responses((status = 201, body = OutboundSent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "opted_out, blocked (the phone is on the blocklist), quiet_hours (with no_delay) or number_not_enabled", body = ErrorBody),
              (status = 422, description = "a bad field (an unknown or already sent media id names /media_ids/N), an outbound_number whose role is incoming, or media_ids from a number on an SMPP account (code media_not_supported)", body = ErrorBody)),
    security(("bearer" = ["sms:send"])))]
pub async fn send_message(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<OutboundMessage>,
) -> Result<(StatusCode, Json<OutboundSent>), ApiError> {
    who.require_admin()?;
    let consumer = phone("end_user_number", &req.end_user_number)?;
    let number = business_number(&req.outbound_number)?;
    let text = message(&req.message, req.media_ids.len())?;
    let media = attachable(&state, &who, &req.media_ids, &number).await?;
    if let Some(send_at) = req.send_at.as_deref() {
        let send_at = parse_send_at(&state, send_at, Some("/send_at"))?;
        let kind = HeldKind::Sessionless;
        let author = "api".to_owned();
        let ack =
            state.engine.schedule(ScheduleRequest { number, consumer, text, kind, send_at, author, media }).await?;
        return Ok(sent(&state, &who, ack));
    }
    let input = Input::Sessionless { text, no_delay: req.no_delay };
    let source = "api".to_owned();
    let ack = state.engine.outbound(OutboundRequest { number, consumer, input, source, media }).await?;
    Ok(sent(&state, &who, ack))
}

/// An outbound message as its sender tracks it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboundStatus {
    pub message_id: String,
    pub end_user_number: String,
    pub outbound_number: String,
    /// The chat it belongs to; none for a sessionless message.
    pub chat_id: Option<String>,
    /// scheduled, queued, sending, sent, delivered, undelivered, failed, or suppressed (the phone opted
    /// out before it went out).
    pub status: String,
    /// When a scheduled message goes out.
    pub send_at: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    /// A sessionless notification's replies: the consumer's texts within the number's
    /// `sessionless_window_hours`, on a number with `sessionless_reply = "auto_reply"` (or an
    /// outbound-only one), each answered with its `unmonitored` message. Oldest first.
    pub replies: Vec<NotificationReply>,
}

/// A consumer's text that answered a notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationReply {
    pub message_id: String,
    pub body: String,
    pub received_at: String,
}

/// The delivery status of a message sent through the outbound API (or any outbound message).
#[utoipa::path(get, path = "/api/v1/outbound/messages/{id}", tag = "outbound", params(("id" = String, Path)),
    responses((status = 200, body = OutboundStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = ["sms:send"]), ("bearer" = ["chats:read"])))]
pub async fn get_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OutboundStatus>, ApiError> {
    who.require_admin()?;
    let found = state.store.messages_by_ids(std::slice::from_ref(&id)).await?.into_iter().next();
    let Some(m) = found.filter(|m| m.direction == Direction::Out) else {
        return Err(ApiError::not_found(format!("no outbound message with id {id}")));
    };
    let replies = if m.chat_id.is_none() { state.store.notification_replies(&m.id).await? } else { vec![] };
    let replies = replies
        .into_iter()
        .map(|r| NotificationReply { message_id: r.id, body: r.body, received_at: rfc3339(r.created_at) })
        .collect();
    Ok(Json(OutboundStatus {
        replies,
        send_at: m.send_at.or((m.status == MessageStatus::Scheduled).then_some(m.next_attempt_at)).map(rfc3339),
        message_id: m.id,
        end_user_number: m.consumer,
        outbound_number: m.number,
        chat_id: m.chat_id,
        status: m.status.as_str().to_owned(),
        error: m.error,
        created_at: rfc3339(m.created_at),
    }))
}
