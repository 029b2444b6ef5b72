//! Twilio's webhooks: `POST /webhooks/twilio/{carrier}` (an inbound message) and
//! `POST /webhooks/twilio/{carrier}/status` (a status callback for a message we sent), where
//! `{carrier}` is the account's name in `parley.toml`.
//!
//! Every request must carry a valid `X-Twilio-Signature`, checked against `public_url` plus the path
//! and query the request arrived with (never the `Host` header, which proxies rewrite). Answers:
//! - 503 while `public_url` is not configured (no signature can be checked without it);
//! - 404 for a carrier name that is not a Twilio account;
//! - 403 for a missing or wrong signature, and nothing is stored;
//! - 422 for a form that cannot be read;
//! - otherwise 200 with an empty TwiML `<Response/>` once the engine has committed the input. A repeated
//!   `MessageSid` is acknowledged the same way without being stored twice.
//!
//! Whenever the input could not be stored (the database does not answer, or any other failure), the
//! answer is a 5xx (503 `unavailable` with `Retry-After` for an outage, 500 otherwise) and nothing was
//! stored, so Twilio retries the request later; the retry is stored once, as any repeated `MessageSid`.

use std::fmt;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parley_carriers::twilio::signature;
use parley_carriers::twilio::webhook::{self, WebhookError};

use crate::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::ApiPath;

/// The routes, relative to the server root (the signed URL is `public_url` + the request's path, so
/// these routes must not be nested under a prefix the proxy does not also strip).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/twilio/{carrier}", post(inbound))
        .route("/webhooks/twilio/{carrier}/status", post(status))
}

/// What the webhooks need to know about a Twilio account: the token its requests are signed with.
#[derive(Clone)]
pub struct TwilioWebhookAccount {
    /// The account's auth token. Never printed: `Debug` redacts it.
    pub auth_token: String,
}

impl fmt::Debug for TwilioWebhookAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioWebhookAccount").field("auth_token", &"[redacted]").finish()
    }
}

/// The status callback URL to give Twilio with each message sent through `carrier`.
pub fn status_callback_url(public_url: &str, carrier: &str) -> String {
    format!("{}/webhooks/twilio/{carrier}/status", public_url.trim_end_matches('/'))
}

/// The inbound-message webhook URL to configure on the account's numbers in Twilio's console.
pub fn inbound_url(public_url: &str, carrier: &str) -> String {
    format!("{}/webhooks/twilio/{carrier}", public_url.trim_end_matches('/'))
}

/// An inbound message: stored (or recognized as a repeat) before the answer.
pub async fn inbound(
    State(state): State<AppState>,
    ApiPath(carrier): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authenticate(&state, &carrier, &uri, &headers, &body)?;
    let sms = webhook::parse_inbound(&carrier, &body).map_err(|e| malformed(&carrier, &e))?;
    let provider_id = sms.provider_id.clone();
    let ack = state.engine.inbound(sms).await?;
    tracing::debug!(%carrier, %provider_id, message_id = %ack.message_id, duplicate = ack.duplicate, "twilio inbound");
    Ok(empty_twiml())
}

/// A status callback: the receipt is committed before the answer. Statuses Parley does not track are
/// acknowledged and dropped, so Twilio does not log them as webhook failures.
pub async fn status(
    State(state): State<AppState>,
    ApiPath(carrier): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authenticate(&state, &carrier, &uri, &headers, &body)?;
    let receipt = match webhook::parse_status(&carrier, &body) {
        Ok(receipt) => receipt,
        Err(WebhookError::UntrackedStatus(status)) => {
            tracing::debug!(%carrier, %status, "twilio status callback with a status parley does not track");
            return Ok(empty_twiml());
        }
        Err(e) => return Err(malformed(&carrier, &e)),
    };
    state.engine.receipt(receipt).await?;
    Ok(empty_twiml())
}

/// Checks that the request comes from the named Twilio account.
pub(super) fn authenticate(
    state: &AppState,
    carrier: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(public_url) = state.config.public_url.as_deref() else {
        rejected("no_public_url");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "Twilio webhooks are off until public_url is set in parley.toml to the URL Twilio calls this server at \
             (e.g. https://sms.example.com): signatures are checked against it",
        ));
    };
    let Some(account) = state.twilio.get(carrier) else {
        rejected("unknown_carrier");
        return Err(ApiError::not_found(format!(
            "no Twilio carrier account is named \"{carrier}\"; the webhook URL must end in the name of a \
             [carriers.NAME] entry of kind \"twilio\""
        )));
    };
    let Some(given) = headers.get(signature::HEADER) else {
        rejected("no_signature");
        return Err(ApiError::forbidden(
            "the request has no X-Twilio-Signature header; only Twilio's signed requests are accepted",
        ));
    };
    let path_and_query = uri.path_and_query().map_or_else(|| uri.path(), |pq| pq.as_str());
    let url = format!("{}{path_and_query}", public_url.trim_end_matches('/'));
    let checked = match given.to_str() {
        Ok(given) => signature::verify_form(&account.auth_token, &url, body, given),
        Err(_) => Err(signature::SignatureError::Malformed),
    };
    if let Err(e) = checked {
        rejected("bad_signature");
        // The URL goes to the log, not the answer: a mismatch is most often a public_url that differs
        // from the URL configured in Twilio's console.
        tracing::warn!(%carrier, %url, error = %e, "rejected a twilio webhook");
        return Err(ApiError::forbidden(format!(
            "{e}; nothing was stored (the signature is checked against public_url plus the request path)"
        )));
    }
    Ok(())
}

pub(super) fn malformed(carrier: &str, e: &WebhookError) -> ApiError {
    rejected("malformed");
    tracing::warn!(%carrier, error = %e, "a signed twilio webhook could not be read");
    ApiError::invalid(e.to_string())
}

fn rejected(reason: &'static str) {
    metrics::counter!("parley_webhook_rejected_total", "carrier_kind" => "twilio", "reason" => reason).increment(1);
}

/// The answer Twilio expects: TwiML that does nothing (no auto-reply).
fn empty_twiml() -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], "<Response/>").into_response()
}
