//! The Twilio Voice front (docs/ivr.md "Twilio Voice"): a business on Twilio Voice points its voice
//! numbers here and needs no IVR code of its own. Parley answers TwiML:
//!
//! - `POST /webhooks/twilio-voice/{carrier}` (the number's "A call comes in" webhook): the call is
//!   stored in the voice queue listing the dialed number, and waits; when pre-session deflection
//!   applies, the offer is read in a `<Gather numDigits="1">`, otherwise the call goes to the queue's
//!   `voice_destination` (`<Dial>` a number or SIP URI, `<Redirect>` to a TwiML URL);
//! - `POST /webhooks/twilio-voice/{carrier}/gather` (the `<Gather>`'s action): `1` accepts (a `<Say>`,
//!   `<Hangup/>`, and the SMS chat starts), any other key or none declines and connects the call;
//! - `POST /webhooks/twilio-voice/{carrier}/status` (the number's call status callback): a call Twilio
//!   reports over (`completed`, `busy`, `failed`, `no-answer`, `canceled`) ends.
//!
//! Every request is signed as Twilio signs messaging webhooks and checked the same way (403 and
//! nothing stored otherwise); Twilio retries a request that gets a 5xx, and every step is idempotent
//! by `CallSid`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parley_carriers::twilio::twiml::{Verb, render};
use parley_carriers::twilio::webhook::{self, VoiceRequest};
use parley_core::ivr::call::{CallChange, CallStatus};
use parley_core::setup::ivr::IvrQueue;

use super::twilio::{authenticate, malformed};
use crate::AppState;
use crate::http::api::ivr::{calls, deflection};
use crate::http::error::ApiError;
use crate::http::extract::ApiPath;

/// What the caller hears after pressing 1, before the call ends and the text arrives.
pub const ACCEPTED_SAY: &str = "Thank you. We are sending you a text message now. Goodbye.";
/// What a caller hears when their call has nowhere to go.
const NOWHERE_SAY: &str = "Sorry, nobody can take your call now. Please call again later.";
/// Seconds the offer waits for a key.
const GATHER_TIMEOUT: u32 = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/twilio-voice/{carrier}", post(incoming))
        .route("/webhooks/twilio-voice/{carrier}/gather", post(gathered))
        .route("/webhooks/twilio-voice/{carrier}/status", post(status))
}

fn twiml(verbs: &[Verb]) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], render(verbs)).into_response()
}

/// The signed request, read.
fn read(
    state: &AppState,
    carrier: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<VoiceRequest, ApiError> {
    authenticate(state, carrier, uri, headers, body)?;
    webhook::parse_voice(body).map_err(|e| malformed(carrier, &e))
}

/// Where a call goes when it is not moved to SMS.
fn connect(queue: &IvrQueue) -> Vec<Verb> {
    match queue.voice_destination.as_deref() {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => vec![Verb::Redirect(url.to_owned())],
        Some(target) => vec![Verb::Dial(target.to_owned())],
        None => vec![Verb::Say(NOWHERE_SAY.to_owned()), Verb::Hangup],
    }
}

/// An incoming call.
pub async fn incoming(
    State(state): State<AppState>,
    ApiPath(carrier): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let call = read(&state, &carrier, &uri, &headers, &body)?;
    let setup = state.engine.setup();
    let Some(queue) = setup.ivr_queue_of_number(&call.to) else {
        tracing::warn!(%carrier, to = %call.to, "a call to a number no voice queue lists");
        return Ok(twiml(&[Verb::Say(NOWHERE_SAY.to_owned()), Verb::Hangup]));
    };
    let (_, stored) = calls::start(&state, &call.call_sid, &call.from, &call.to, queue, None, None).await?;
    match stored.status {
        CallStatus::Ended => return Ok(twiml(&[Verb::Hangup])),
        // Twilio asking again about a call that has moved on: it keeps going where it went.
        CallStatus::Connected => return Ok(twiml(&connect(queue))),
        _ => {}
    }
    calls::report(&state, &stored.id, &CallChange::Queued { position: None }).await?;
    let offer = deflection::offer(&state, &stored.id).await?;
    match offer.prompt {
        Some(prompt) => {
            let public_url = state.config.public_url.as_deref().unwrap_or_default().trim_end_matches('/');
            let action = format!("{public_url}/webhooks/twilio-voice/{carrier}/gather");
            Ok(twiml(&[
                Verb::Gather { action: action.clone(), num_digits: 1, timeout: GATHER_TIMEOUT, prompt },
                // No key pressed: the same action without digits, which connects the call.
                Verb::Redirect(action),
            ]))
        }
        None => Ok(twiml(&connect(queue))),
    }
}

/// The caller's answer to the offer.
pub async fn gathered(
    State(state): State<AppState>,
    ApiPath(carrier): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let call = read(&state, &carrier, &uri, &headers, &body)?;
    let setup = state.engine.setup();
    let Some(queue) = setup.ivr_queue_of_number(&call.to) else {
        return Ok(twiml(&[Verb::Say(NOWHERE_SAY.to_owned()), Verb::Hangup]));
    };
    if call.digits.as_deref() == Some("1") {
        match deflection::accept(&state, &call.call_sid).await {
            Ok(_) => return Ok(twiml(&[Verb::Say(ACCEPTED_SAY.to_owned()), Verb::Hangup])),
            // The caller can no longer be moved (opted out meanwhile, the offer gone): they keep the call.
            Err(e) if e.status == StatusCode::CONFLICT => {
                tracing::info!(call = %call.call_sid, error = %e.message, "deflection refused; the call goes on");
            }
            Err(e) => return Err(e),
        }
    } else {
        match deflection::decline(&state, &call.call_sid).await {
            Ok(_) => {}
            Err(e) if e.status == StatusCode::CONFLICT => {}
            Err(e) => return Err(e),
        }
    }
    Ok(twiml(&connect(queue)))
}

/// A call status callback: a call Twilio reports over ends; other statuses are acknowledged.
pub async fn status(
    State(state): State<AppState>,
    ApiPath(carrier): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let call = read(&state, &carrier, &uri, &headers, &body)?;
    if call.ended() {
        let ended = CallChange::Ended { reason: call.call_status.clone() };
        match calls::report(&state, &call.call_sid, &ended).await {
            Ok(_) => {}
            // A call this server never answered (another webhook URL took it): nothing to end.
            Err(e) if e.status == StatusCode::NOT_FOUND => {
                tracing::debug!(call = %call.call_sid, "status callback for a call parley does not know");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(twiml(&[]))
}
