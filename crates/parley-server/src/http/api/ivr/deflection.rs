//! Pre-session deflection (docs/ivr.md): the IVR asks whether to offer a waiting caller to continue
//! by SMS (`POST …/deflection`), and reports the answer. Accepting ends the call's part and starts an
//! SMS chat in the queue's `sms_queue`, from its `sms_number`, with its `first_message` (the opt-in
//! notice first where the phone never opted in), in line where the call was.
//!
//! An accept is safe to repeat: the call remembers the chat it started, and the chat opened for this
//! call (its context names the call) takes no second first message if the answer was lost before the
//! call was written.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::chat::Input;
use parley_core::event::Event;
use parley_core::ivr::call::{CallStatus, DEFLECTED};
use parley_core::ivr::deflection::{Caller, decide};
use parley_core::phone::E164;
use parley_core::ticket::Ticket;
use parley_core::time::Timestamp;
use parley_store::calls::CallRow;
use serde::Serialize;
use utoipa::ToSchema;

use super::queues::voice_estimate;
use super::{CallView, call_event, ivr_queue_of, stored_call};
use crate::AppState;
use crate::engine::OutboundRequest;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::ApiPath;

const OFFERED: &str = "offered";
const ACCEPTED: &str = "accepted";
const DECLINED: &str = "declined";

/// Whether to offer the caller SMS.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeflectionOffer {
    pub offer: bool,
    /// What the IVR says when it offers.
    pub prompt: Option<String>,
    /// The estimated wait the decision saw.
    pub ewt_seconds: u32,
    /// Why not, when there is no offer: `not_configured`, `disabled`, `call_not_waiting`, `answered`,
    /// `opted_out`, `blocked`, `not_mobile` or `under_threshold`.
    pub reason: Option<String>,
}

/// The call after an accept, and the SMS chat it started.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeflectionAccepted {
    pub sms_chat_id: String,
    pub call: CallView,
}

fn conflict(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
}

/// Asks whether to offer the caller to continue by SMS: an offer only when the voice queue has
/// deflection on, the call still waits, the caller can receive SMS and the estimated wait is over the
/// queue's threshold. Each answer is a `call.deflection` event.
#[utoipa::path(post, path = "/api/v1/ivr/calls/{id}/deflection", tag = "ivr", params(("id" = String, Path)),
    responses((status = 200, body = DeflectionOffer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = ["ivr"])))]
pub async fn ask_deflection(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeflectionOffer>, ApiError> {
    who.require_admin()?;
    Ok(Json(offer(&state, &id).await?))
}

/// Decides whether to offer the caller of call `id` SMS, and records the decision.
pub(crate) async fn offer(state: &AppState, id: &str) -> Result<DeflectionOffer, ApiError> {
    let setup = state.engine.setup();
    loop {
        let call = stored_call(state, id).await?;
        let queue = ivr_queue_of(&setup, &call);
        let ewt_seconds = match queue {
            Some(queue) => voice_estimate(state, queue, Some(&call)).await?.estimate.seconds,
            None => 0,
        };
        let phone = E164::parse(&call.caller).map_err(|_| ApiError::internal("a stored call has no caller"))?;
        let opted_out =
            state.store.consents(std::slice::from_ref(&call.caller)).await?.first().is_some_and(|c| c.opted_out);
        let caller = Caller { opted_out, blocked: setup.blocked(&phone).is_some(), mobile: call.caller_mobile };
        let answered = matches!(call.deflection.as_deref(), Some(ACCEPTED | DECLINED));
        let deflection = queue.and_then(|q| q.deflection.as_ref());
        let decision = decide(deflection, call.status, answered, caller, ewt_seconds);
        let (outcome, reason) = match decision {
            Ok(()) => (OFFERED, None),
            Err(no) => ("not_offered", Some(no.as_str().to_owned())),
        };
        let event = Event::CallDeflection {
            call_id: call.id.clone(),
            outcome: outcome.to_owned(),
            reason: reason.clone(),
            ewt_seconds,
            sms_chat_id: None,
        };
        let mut next = CallRow { version: call.version + 1, ..call.clone() };
        if decision.is_ok() {
            next.deflection = Some(OFFERED.to_owned());
        }
        if !state.store.update_call(&next, call.version, &[call_event(state, &event)]).await? {
            continue;
        }
        state.bus.written();
        let prompt = decision.ok().and(deflection).map(|d| d.prompt.clone());
        return Ok(DeflectionOffer { offer: prompt.is_some(), prompt, ewt_seconds, reason });
    }
}

/// The caller accepted: the call's part ends (`ended`, reason `deflected`) and the SMS chat starts,
/// ahead of the chats that arrived after the call did. Repeating it answers the same chat.
#[utoipa::path(post, path = "/api/v1/ivr/calls/{id}/deflection/accept", tag = "ivr", params(("id" = String, Path)),
    responses((status = 200, body = DeflectionAccepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "no offer was made on the call, it was declined, the call ended, or the caller can no longer be texted (opted_out, blocked)", body = ErrorBody)),
    security(("bearer" = ["ivr"])))]
pub async fn accept_deflection(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeflectionAccepted>, ApiError> {
    who.require_admin()?;
    Ok(Json(accept(&state, &id).await?))
}

/// Carries out the caller's accept of the offer on call `id`.
pub(crate) async fn accept(state: &AppState, id: &str) -> Result<DeflectionAccepted, ApiError> {
    let call = stored_call(state, id).await?;
    if let Some(done) = accepted_already(&call) {
        return Ok(done);
    }
    offered(&call)?;
    if call.status == CallStatus::Ended {
        return Err(conflict(format!("call {id} has ended; the caller can no longer be moved to SMS")));
    }
    let setup = state.engine.setup();
    let deflection = ivr_queue_of(&setup, &call)
        .and_then(|q| q.deflection.clone())
        .ok_or_else(|| conflict(format!("voice queue {} has no deflection any more", call.ivr_queue)))?;
    let consumer = E164::parse(&call.caller).map_err(|_| ApiError::internal("a stored call has no caller"))?;
    let context = vec![("call_id".to_owned(), call.id.clone()), ("ivr_queue".to_owned(), call.ivr_queue.clone())];
    let ticket = Ticket::parse(None, context).map_err(|e| ApiError::internal(format!("the call's context: {e}")))?;
    let input = Input::Deflected {
        text: deflection.first_message.clone(),
        queue: deflection.sms_queue.clone(),
        since: Timestamp(call.queued_at.unwrap_or(call.started_at)),
        ticket,
    };
    let request = OutboundRequest {
        number: deflection.sms_number.clone(),
        consumer,
        input,
        media: Default::default(),
        source: "ivr".to_owned(),
        twilio: None,
    };
    let ack = state.engine.outbound(request).await?;
    let chat_id = ack.chat.map(|c| c.id).ok_or_else(|| ApiError::internal("a deflection opened no chat"))?;
    tracing::info!(call = %id, chat = %chat_id, "call deflected to SMS");
    loop {
        let call = stored_call(state, id).await?;
        // An accept racing this one wrote the call first (the engine gave both the same chat).
        if let Some(done) = accepted_already(&call) {
            return Ok(done);
        }
        let now = state.clock.now().0;
        let mut next = CallRow {
            deflection: Some(ACCEPTED.to_owned()),
            sms_chat_id: Some(chat_id.clone()),
            version: call.version + 1,
            ..call.clone()
        };
        let mut events = vec![Event::CallDeflection {
            call_id: call.id.clone(),
            outcome: ACCEPTED.to_owned(),
            reason: None,
            ewt_seconds: 0,
            sms_chat_id: Some(chat_id.clone()),
        }];
        if call.status != CallStatus::Ended {
            next.status = CallStatus::Ended;
            next.end_reason = Some(DEFLECTED.to_owned());
            next.ended_at = Some(now);
            events.push(Event::CallEnded { call_id: call.id.clone(), reason: DEFLECTED.to_owned() });
        }
        let rows: Vec<_> = events.iter().map(|e| call_event(state, e)).collect();
        if state.store.update_call(&next, call.version, &rows).await? {
            state.bus.written();
            super::thread::sync(state, &next).await?;
            return Ok(DeflectionAccepted { sms_chat_id: chat_id, call: CallView::from(&next) });
        }
    }
}

/// The caller declined: recorded, and the call keeps waiting. Repeating it changes nothing.
#[utoipa::path(post, path = "/api/v1/ivr/calls/{id}/deflection/decline", tag = "ivr", params(("id" = String, Path)),
    responses((status = 200, body = CallView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "no offer was made on the call, or it was accepted", body = ErrorBody)),
    security(("bearer" = ["ivr"])))]
pub async fn decline_deflection(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CallView>, ApiError> {
    who.require_admin()?;
    Ok(Json(CallView::from(&decline(&state, &id).await?)))
}

/// Records the caller's decline of the offer on call `id`.
pub(crate) async fn decline(state: &AppState, id: &str) -> Result<CallRow, ApiError> {
    loop {
        let call = stored_call(state, id).await?;
        if call.deflection.as_deref() == Some(DECLINED) {
            return Ok(call);
        }
        offered(&call)?;
        let next = CallRow { deflection: Some(DECLINED.to_owned()), version: call.version + 1, ..call.clone() };
        let event = Event::CallDeflection {
            call_id: call.id.clone(),
            outcome: DECLINED.to_owned(),
            reason: None,
            ewt_seconds: 0,
            sms_chat_id: None,
        };
        if state.store.update_call(&next, call.version, &[call_event(state, &event)]).await? {
            state.bus.written();
            return Ok(next);
        }
    }
}

/// The answer of an accept that was carried out already.
fn accepted_already(call: &CallRow) -> Option<DeflectionAccepted> {
    match (call.deflection.as_deref(), &call.sms_chat_id) {
        (Some(ACCEPTED), Some(chat)) => {
            Some(DeflectionAccepted { sms_chat_id: chat.clone(), call: CallView::from(call) })
        }
        _ => None,
    }
}

/// Refuses an answer to an offer that was not made (or was answered the other way).
fn offered(call: &CallRow) -> Result<(), ApiError> {
    match call.deflection.as_deref() {
        Some(OFFERED) => Ok(()),
        Some(other) => Err(conflict(format!("the offer on call {} was {other} already", call.id))),
        None => Err(conflict(format!(
            "no SMS offer was made on call {}: ask POST /api/v1/ivr/calls/{}/deflection first",
            call.id, call.id
        ))),
    }
}
