//! `/api/v1/messages/{id}`: one message with its delivery timeline, canceling a message scheduled for
//! later (`DELETE`), resending a failed one (`POST …/resend`); and `GET /api/v1/chats/{id}/scheduled`,
//! a chat's messages waiting to be sent later. `send_at` on the send endpoints is parsed here too.
//!
//! Who may: a message of a chat is read by whoever may read the chat (its consumer's number masked as
//! the chat's queue says); canceling and resending are for the chat's agent or the message's author
//! among agents, and for admins. A message outside any chat (a sessionless notification, a chat not
//! opened yet) is the admins' and its author's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::scheduled::check_send_at;
use parley_core::time::Timestamp;
use parley_store::rows::{MessageRow, StatusChangeRow};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::api::audit::record_read;
use crate::http::api::chats::{TranscriptEntry, chat_id, entries, view_for, visible_chat};
use crate::http::api::outbound::OutboundSent;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::ApiPath;

/// `send_at` of a request: RFC 3339, after now and at most 30 days ahead; else 422 naming `send_at`
/// (`pointer` is its JSON Pointer, or `None` for a query parameter).
pub fn parse_send_at(state: &AppState, value: &str, pointer: Option<&str>) -> Result<Timestamp, ApiError> {
    let problem = |message: String| {
        ApiError::invalid_fields(message.clone(), vec![FieldProblem::new(pointer.map(str::to_owned), message)])
    };
    let at = chrono::DateTime::parse_from_rfc3339(value).map_err(|_| {
        problem(format!("send_at \"{value}\" is not an RFC 3339 moment: write it as 2026-12-01T09:00:00Z"))
    })?;
    let at = Timestamp(at.timestamp_millis());
    check_send_at(at, state.clock.now()).map_err(|e| problem(e.to_string()))?;
    Ok(at)
}

/// One status a message took.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    /// scheduled, queued, sent, delivered, undelivered, failed, suppressed, canceled (inbound: received).
    pub status: String,
    pub at: String,
    /// What the carrier said with it: a Twilio ErrorCode, an SMPP receipt's error.
    pub carrier_code: Option<String>,
    pub error: Option<String>,
}

impl From<StatusChangeRow> for StatusChange {
    fn from(c: StatusChangeRow) -> StatusChange {
        StatusChange {
            status: c.status.as_str().to_owned(),
            at: rfc3339(c.at),
            carrier_code: c.carrier_code,
            error: c.error,
        }
    }
}

/// A message with its delivery timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    #[serde(flatten)]
    pub message: TranscriptEntry,
    pub chat_id: Option<String>,
    /// The business number.
    pub number: String,
    /// The consumer's number, masked for agents as the chat's queue says.
    pub consumer: String,
    /// Every status the message took, oldest first.
    pub timeline: Vec<StatusChange>,
}

/// The messages of a chat waiting to be sent later.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduledList {
    pub messages: Vec<TranscriptEntry>,
}

/// Loads a message and checks that `who` may see it; `act`: cancel or resend it (a supervisor may not).
/// Returns it with the consumer's number as `who` may see it.
async fn message_for(state: &AppState, who: &Principal, id: &str, act: bool) -> Result<(MessageRow, String), ApiError> {
    let found = state.store.messages_by_ids(&[id.to_owned()]).await?.into_iter().next();
    let m = found.ok_or_else(|| ApiError::not_found(format!("no message with id {id}")))?;
    if act && matches!(who, Principal::Supervisor { .. }) {
        return Err(ApiError::forbidden("supervisors watch chats but do not send: the agent or an admin can"));
    }
    let authored = |who: &Principal| matches!(who, Principal::Agent(a) if m.author == format!("agent:{a}"));
    let consumer = match &m.chat_id {
        Some(chat) => {
            let chat = visible_chat(state, who, &chat_id(chat)?).await?;
            let theirs = match who {
                Principal::Agent(a) => chat.agent.as_deref() == Some(a.as_str()) || authored(who),
                _ => true,
            };
            if act && !theirs {
                return Err(ApiError::forbidden("this message is in a chat of another agent"));
            }
            record_read(state, who, Some(&chat.id), "message").await?;
            view_for(state, who, chat).consumer
        }
        None => {
            if !matches!(who, Principal::Admin { .. }) && !authored(who) {
                return Err(ApiError::forbidden("a message outside any chat is its author's and the admins'"));
            }
            m.consumer.clone()
        }
    };
    Ok((m, consumer))
}

/// A message with its delivery timeline: every status it took, when, and what the carrier said.
#[utoipa::path(get, path = "/api/v1/messages/{id}", operation_id = "get_message_timeline", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["chats:read"]), ("bearer" = ["sms:send"])))]
pub async fn get_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageView>, ApiError> {
    let (m, consumer) = message_for(&state, &who, &id, false).await?;
    let timeline = state.store.status_changes(&m.id).await?.into_iter().map(StatusChange::from).collect();
    let (chat_id, number) = (m.chat_id.clone(), m.number.clone());
    let message = entries(&state, vec![m]).await?.pop().ok_or_else(|| ApiError::internal("a message made no entry"))?;
    Ok(Json(MessageView { message, chat_id, number, consumer, timeline }))
}

/// Cancels a message scheduled for later that has not left yet (status becomes `canceled`).
#[utoipa::path(delete, path = "/api/v1/messages/{id}", operation_id = "cancel_message", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, description = "the message, canceled", body = TranscriptEntry),
              (status = 403, description = "a chat of another agent, or a supervisor", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "already_sent: it has been handed to the outbox or the carrier; conflict: canceled already", body = ErrorBody)),
    security(("bearer" = ["chats:write"]), ("bearer" = ["sms:send"])))]
pub async fn cancel_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TranscriptEntry>, ApiError> {
    message_for(&state, &who, &id, true).await?;
    let row = state.engine.cancel(&id).await?;
    Ok(Json(TranscriptEntry::from(row)))
}

/// Sends a failed or undelivered outbound message again: a new message with its own id and status,
/// consent and quiet hours checked again, linked to the original (`resend_of`, `resent_as`).
#[utoipa::path(post, path = "/api/v1/messages/{id}/resend", tag = "chats", params(("id" = String, Path)),
    responses((status = 201, body = OutboundSent),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not_resendable (queued, sent, delivered, …, or resent already), opted_out, or the number may not send", body = ErrorBody)),
    security(("bearer" = ["chats:write"]), ("bearer" = ["sms:send"])))]
pub async fn resend_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<OutboundSent>), ApiError> {
    let (original, _) = message_for(&state, &who, &id, true).await?;
    let by = match &who {
        Principal::Agent(a) => format!("agent:{a}"),
        _ => "api".to_owned(),
    };
    let ack = state.engine.resend(&id, &by).await?;
    Ok(crate::http::api::outbound::sent(&state, &who, ack, &original.body))
}

/// The chat's messages waiting to be sent later, in order.
#[utoipa::path(get, path = "/api/v1/chats/{id}/scheduled", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ScheduledList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn scheduled(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduledList>, ApiError> {
    let id = chat_id(&id)?;
    let chat = visible_chat(&state, &who, &id).await?;
    record_read(&state, &who, Some(&chat.id), "scheduled").await?;
    let messages = state.store.scheduled_of_chat(id.as_str()).await?.into_iter().map(TranscriptEntry::from).collect();
    Ok(Json(ScheduledList { messages }))
}
