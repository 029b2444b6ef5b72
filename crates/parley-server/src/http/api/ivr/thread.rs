//! A voice call's SMS thread (docs/ivr.md "The call's SMS thread"): the chat of start type `call`, on
//! the voice queue's `in_call_number`, that carries the wait-time SMS and SMS during the call. The
//! call leads it: [`sync`] gives the thread the call's agent when the call connects and ends it when
//! the call ends, after every report of the IVR (a repeated report heals a thread a crash left
//! behind). The connected agent texts the caller here (`POST …/messages`); the caller's answers join
//! the thread as any chat's, and its transcript stays with the call (`GET …/messages`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::chat::{Input, Refusal};
use parley_core::ids::{AgentId, ChatId};
use parley_core::ivr::call::CallStatus;
use parley_core::message::check_body;
use parley_core::phone::E164;
use parley_core::ticket::Ticket;
use parley_store::calls::CallRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CallView, ivr_queue_of, stored_call};
use crate::AppState;
use crate::engine::{EngineError, OutboundRequest};
use crate::http::api::audit::record_read;
use crate::http::api::chats::{TranscriptEntry, entries};
use crate::http::api::media::attachable;
use crate::http::api::replies::{app_links, vars_for_call};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath};
use crate::outbound_media::OutMedia;

fn conflict(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
}

/// Brings the call's thread to the call's state: the connected agent's, or ended with the call.
pub(crate) async fn sync(state: &AppState, call: &CallRow) -> Result<(), ApiError> {
    let Some(chat) = call.thread_chat_id.as_deref() else { return Ok(()) };
    let input = match (call.status, call.agent.as_deref().map(AgentId::parse)) {
        (CallStatus::Connected, Some(Ok(agent))) => Input::CallConnected { agent },
        (CallStatus::Ended, _) => Input::CallEnded,
        _ => return Ok(()),
    };
    match state.engine.chat_action(&ChatId::new(chat.to_owned()), input).await {
        // Ended already (the call's end was applied, or the consumer opted out meanwhile).
        Ok(_) | Err(EngineError::Refused(Refusal::Ended)) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// Writes `text` into the call's thread, opening it on the voice queue's in_call number when the call
/// has none live: from the platform (`agent` none: the wait-time SMS) or the call's agent. The call
/// after it (naming its thread) and the message's id.
pub(crate) async fn write(
    state: &AppState,
    call: &CallRow,
    text: String,
    agent: Option<AgentId>,
    media: OutMedia,
) -> Result<(CallRow, String), ApiError> {
    let setup = state.engine.setup();
    let queue = ivr_queue_of(&setup, call)
        .ok_or_else(|| conflict(format!("voice queue {} is no longer in the setup", call.ivr_queue)))?;
    let number = queue.in_call_number.clone().ok_or_else(|| {
        conflict(format!(
            "voice queue {} has no in_call_number: a call's SMS goes out from a number with role = \"in_call\"",
            queue.id
        ))
    })?;
    let consumer = E164::parse(&call.caller).map_err(|_| ApiError::internal("a stored call has no caller"))?;
    let context = vec![("call_id".to_owned(), call.id.clone()), ("ivr_queue".to_owned(), call.ivr_queue.clone())];
    let ticket = Ticket::parse(None, context).map_err(|e| ApiError::internal(format!("the call's context: {e}")))?;
    let source = agent.as_ref().map_or_else(|| "ivr".to_owned(), |a| format!("agent:{a}"));
    let input = Input::CallText { text, agent, ticket };
    let request = OutboundRequest { number, consumer, input, media, source, twilio: None };
    let ack = state.engine.outbound(request).await?;
    let thread = ack.chat.map(|c| c.id).ok_or_else(|| ApiError::internal("a call's SMS opened no thread"))?;
    loop {
        let call = stored_call(state, &call.id).await?;
        if call.thread_chat_id.as_deref() == Some(thread.as_str()) {
            return Ok((call, ack.message_id));
        }
        let next = CallRow { thread_chat_id: Some(thread.clone()), version: call.version + 1, ..call.clone() };
        if state.store.update_call(&next, call.version, &[]).await? {
            // The call may have ended while the text was on its way: its thread ends too.
            sync(state, &next).await?;
            return Ok((next, ack.message_id));
        }
    }
}

/// A text of the agent to the caller of a connected call.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCallMessage {
    /// Up to 1600 characters; may be empty when `media_ids` names media. Leave it out with `reply_id`.
    #[serde(default)]
    pub body: String,
    /// A predefined reply (`[[replies]]`) to send instead of `body`, filled in for the call (an
    /// `app_launch` reply gets its link).
    pub reply_id: Option<String>,
    /// Uploads (`POST /api/v1/media`) to send as MMS, where the number's carrier carries them.
    #[serde(default)]
    pub media_ids: Vec<String>,
}

/// The text as queued, and the call's thread it went into.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallMessageQueued {
    pub message_id: String,
    pub thread_chat_id: String,
    pub call: CallView,
}

/// The connected agent texts the caller during the call (SMS during a call), from the voice queue's
/// in_call number: their own text, or a predefined reply. The caller's answers come back into the
/// same thread, shown beside the call in the console.
#[utoipa::path(post, path = "/api/v1/ivr/calls/{id}/messages", tag = "ivr", params(("id" = String, Path)),
    request_body = NewCallMessage,
    responses((status = 202, body = CallMessageQueued), (status = 401, body = ErrorBody),
              (status = 403, description = "not an agent, or the call is with another agent, or a reply for other queues", body = ErrorBody),
              (status = 404, description = "no such call or reply", body = ErrorBody),
              (status = 409, description = "the call is not connected (waiting or ended), the queue has no in_call_number, or the caller opted out (code opted_out)", body = ErrorBody),
              (status = 422, description = "an empty or too long text, both body and reply_id, or a bad media id", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn send_call_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(msg): ApiJson<NewCallMessage>,
) -> Result<(StatusCode, Json<CallMessageQueued>), ApiError> {
    let agent = who.require_agent()?.clone();
    let call = stored_call(&state, &id).await?;
    match (call.status, call.agent.as_deref()) {
        (CallStatus::Connected, Some(with)) if with == agent.as_str() => {}
        (CallStatus::Connected, Some(with)) => {
            return Err(ApiError::forbidden(format!("call {id} is with agent {with}, not you")));
        }
        (CallStatus::Ended, _) => {
            return Err(conflict(format!("call {id} has ended: its SMS thread ended with it")));
        }
        (status, _) => {
            return Err(conflict(format!(
                "call {id} is {}: an agent texts the caller once the call is connected with them",
                status.as_str()
            )));
        }
    }
    let setup = state.engine.setup();
    let text = match msg.reply_id.as_deref() {
        Some(_) if !msg.body.is_empty() => {
            return Err(ApiError::invalid("give body or reply_id, not both"));
        }
        Some(reply_id) => {
            let reply = setup
                .replies
                .iter()
                .find(|r| r.id.as_str() == reply_id)
                .ok_or_else(|| ApiError::not_found(format!("no predefined reply with id \"{reply_id}\"")))?;
            if !reply.available_to(&agent, &setup) {
                return Err(ApiError::forbidden(format!(
                    "reply \"{reply_id}\" is for other queues or teams; GET /api/v1/replies lists yours"
                )));
            }
            let mut vars = vars_for_call(&setup, &call, Some(&agent));
            let number = ivr_queue_of(&setup, &call).and_then(|q| q.in_call_number.as_ref()).map(ToString::to_string);
            app_links(&state, &setup, reply, &call.caller, &number.unwrap_or_default(), &mut vars)?;
            let unfilled = reply.unfilled(&vars);
            if !unfilled.is_empty() {
                return Err(ApiError::invalid(format!(
                    "reply \"{reply_id}\" uses {} that a call cannot fill in; write the message instead",
                    unfilled.iter().map(|u| format!("{{{u}}}")).collect::<Vec<_>>().join(", ")
                )));
            }
            reply.render(&vars)
        }
        None => msg.body,
    };
    check_body(&text, msg.media_ids.len()).map_err(|e| ApiError::invalid(e.to_string()))?;
    let media = match ivr_queue_of(&setup, &call).and_then(|q| q.in_call_number.clone()) {
        Some(number) => attachable(&state, &who, &msg.media_ids, &number).await?,
        None => OutMedia::default(),
    };
    // A thread a crash left behind the call (waiting while the call connected) is the agent's first.
    sync(&state, &call).await?;
    let (call, message_id) = write(&state, &call, text, Some(agent), media).await?;
    let thread_chat_id = call.thread_chat_id.clone().unwrap_or_default();
    Ok((StatusCode::ACCEPTED, Json(CallMessageQueued { message_id, thread_chat_id, call: CallView::from(&call) })))
}

/// A call's SMS thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallThread {
    pub call: CallView,
    /// The thread's chat (start type `call`), null while the call has none.
    pub thread_chat_id: Option<String>,
    /// Every message of the thread, in order: the wait-time SMS, the agent's and the caller's texts and
    /// media.
    pub messages: Vec<TranscriptEntry>,
}

/// The SMS thread of a call, live or ended: for the call's agent, supervisors, admins and the IVR.
/// Recorded in the audit log as a read of the thread's chat.
#[utoipa::path(get, path = "/api/v1/ivr/calls/{id}/messages", tag = "ivr", params(("id" = String, Path)),
    responses((status = 200, body = CallThread), (status = 401, body = ErrorBody),
              (status = 403, description = "an agent who is not the call's", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["ivr"]), ("bearer" = ["chats:read"])))]
pub async fn call_thread(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CallThread>, ApiError> {
    let call = stored_call(&state, &id).await?;
    if let Principal::Agent(agent) = &who
        && call.agent.as_deref() != Some(agent.as_str())
    {
        return Err(ApiError::forbidden(format!("call {id} is not with you")));
    }
    let messages = match call.thread_chat_id.as_deref() {
        Some(chat) => {
            record_read(&state, &who, Some(chat), "call thread").await?;
            entries(&state, state.store.transcript(chat).await?).await?
        }
        None => vec![],
    };
    Ok(Json(CallThread { thread_chat_id: call.thread_chat_id.clone(), call: CallView::from(&call), messages }))
}
