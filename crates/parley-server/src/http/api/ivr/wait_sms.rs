//! The wait-time SMS (docs/ivr.md): while a call waits in a voice queue that is over its capacity, the
//! IVR asks the caller whether to text them, and reports the answer here once. Yes sends the queue's
//! predefined reply (`wait_sms.reply_id`) from its in_call number into the call's SMS thread, where
//! the caller's answers (text, photos, videos) wait for the agent the call connects to; no is kept,
//! and the caller is not asked again on that call.
//!
//! A repeated answer is refused (409) rather than sent twice: the call remembers the first, and the
//! IVR that lost the response learns from the 409 what it was.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::event::Event;
use parley_core::ivr::call::CallStatus;
use parley_store::calls::CallRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CallView, call_event, ivr_queue_of, stored_call, thread};
use crate::AppState;
use crate::http::api::replies::{app_links, vars_for_call};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath};

const SENT: &str = "sent";
const DECLINED: &str = "declined";

/// The caller's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitSmsConsent {
    /// Whether the caller wants the text.
    pub consent: bool,
}

/// What became of the answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitSmsAnswer {
    /// Whether the text went out.
    pub sent: bool,
    /// What the IVR says now (`wait_sms.sent_prompt`), when it was sent.
    pub prompt: Option<String>,
    /// The call's SMS thread and the message, when it was sent.
    pub thread_chat_id: Option<String>,
    pub message_id: Option<String>,
    pub call: CallView,
}

fn conflict(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
}

/// Reports the caller's answer to the wait-time SMS: `consent: true` sends the voice queue's
/// predefined reply by SMS into the call's thread; `false` is recorded. Once per call. The answer is a
/// `call.wait_sms` event.
#[utoipa::path(post, path = "/api/v1/ivr/calls/{id}/wait-sms", tag = "ivr", params(("id" = String, Path)),
    request_body = WaitSmsConsent,
    responses((status = 200, body = WaitSmsAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "asked twice on the call, the call is not over capacity, the voice queue has no wait-time SMS, or the caller opted out (code opted_out)", body = ErrorBody)),
    security(("bearer" = ["ivr"])))]
pub async fn wait_sms(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(answer): ApiJson<WaitSmsConsent>,
) -> Result<Json<WaitSmsAnswer>, ApiError> {
    who.require_admin()?;
    let call = stored_call(&state, &id).await?;
    if let Some(first) = call.wait_sms.as_deref() {
        return Err(conflict(format!(
            "the caller on call {id} answered the wait-time SMS already ({first}): a caller is asked once per call"
        )));
    }
    let setup = state.engine.setup();
    let queue = ivr_queue_of(&setup, &call)
        .ok_or_else(|| conflict(format!("voice queue {} is no longer in the setup", call.ivr_queue)))?;
    let config = queue.wait_sms.as_ref().filter(|w| w.enabled).ok_or_else(|| {
        conflict(format!("voice queue {} has no wait-time SMS on (wait_sms in [[ivr_queues]])", queue.id))
    })?;
    if call.status != CallStatus::OverCapacity {
        return Err(conflict(format!(
            "call {id} is {}: the wait-time SMS is for a caller waiting while the queue is over capacity \
             (report over_capacity first)",
            call.status.as_str()
        )));
    }
    if !answer.consent {
        let call = record(&state, &id, DECLINED, None).await?;
        let answer = WaitSmsAnswer { sent: false, prompt: None, thread_chat_id: None, message_id: None, call };
        return Ok(Json(answer));
    }
    let reply =
        setup.replies.iter().find(|r| r.id == config.reply_id).ok_or_else(|| {
            conflict(format!("the wait-time SMS's reply {} is no longer in the setup", config.reply_id))
        })?;
    let mut vars = vars_for_call(&setup, &call, None);
    let number = queue.in_call_number.as_ref().map(ToString::to_string).unwrap_or_default();
    app_links(&state, &setup, reply, &call.caller, &number, &mut vars)?;
    let unfilled = reply.unfilled(&vars);
    if !unfilled.is_empty() {
        let names: Vec<String> = unfilled.iter().map(|u| format!("{{{u}}}")).collect();
        return Err(conflict(format!(
            "the wait-time SMS's reply {} uses {}, which a waiting call cannot fill (no agent yet): change the reply",
            reply.id,
            names.join(", ")
        )));
    }
    let (call, message_id) = thread::write(&state, &call, reply.render(&vars), None, Default::default()).await?;
    let thread_chat_id = call.thread_chat_id.clone();
    let call = record(&state, &id, SENT, thread_chat_id.clone()).await?;
    tracing::info!(call = %id, "wait-time SMS sent");
    Ok(Json(WaitSmsAnswer {
        sent: true,
        prompt: Some(config.sent_prompt.clone()),
        thread_chat_id,
        message_id: Some(message_id),
        call,
    }))
}

/// Writes the caller's answer on the call, with its event.
async fn record(state: &AppState, id: &str, outcome: &str, thread: Option<String>) -> Result<CallView, ApiError> {
    loop {
        let call = stored_call(state, id).await?;
        if let Some(first) = call.wait_sms.as_deref() {
            return Err(conflict(format!("the caller on call {id} answered the wait-time SMS already ({first})")));
        }
        let next = CallRow { wait_sms: Some(outcome.to_owned()), version: call.version + 1, ..call.clone() };
        let event =
            Event::CallWaitSms { call_id: id.to_owned(), outcome: outcome.to_owned(), thread_chat_id: thread.clone() };
        if state.store.update_call(&next, call.version, &[call_event(state, &event)]).await? {
            state.bus.written();
            return Ok(CallView::from(&next));
        }
    }
}
