//! Errors of the Twilio-compatible API, in Twilio's own shape
//! (`{"code", "message", "more_info", "status"}`), which its helper libraries turn into their
//! exceptions (`TwilioRestException.code` in Python). Every refusal Parley's own API can give maps to
//! Twilio's closest code here, once; docs/integrations.md lists them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parley_core::chat::Refusal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::engine::EngineError;
use crate::http::auth::AuthError;
use crate::http::error::ApiError;

/// Twilio's error codes that Parley answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwilioCode {
    /// A malformed parameter (Twilio's plain "Bad Request").
    BadRequest = 400,
    /// No, unknown, expired or revoked credentials.
    Authenticate = 20003,
    /// The key lacks the scope (`sms:send`), or its role may not send.
    Forbidden = 20403,
    /// No such message, or another account's SID.
    NotFound = 20404,
    /// Over the key's sending rate.
    TooManyRequests = 20429,
    Internal = 20500,
    Unavailable = 20503,
    /// `To` is not a phone number.
    InvalidTo = 21211,
    /// Neither `Body` nor `MediaUrl`.
    BodyRequired = 21602,
    /// Neither `From` nor `MessagingServiceSid`.
    FromRequired = 21603,
    /// `From` is not a sending number of this deployment.
    FromNotOurs = 21606,
    /// `StatusCallback` is not an http(s) URL.
    InvalidStatusCallback = 21609,
    /// The recipient opted out (texted STOP).
    Unsubscribed = 21610,
    /// `Body` is longer than 1600 characters.
    BodyTooLong = 21617,
    /// `MediaUrl` given: this deployment cannot send media yet.
    InvalidMedia = 21620,
    /// `MessagingServiceSid` names no campaign of the setup.
    NoSuchService = 21701,
    /// The campaign has no enabled number that may send.
    ServiceWithoutNumber = 21703,
    /// The recipient is on the blocklist.
    Blocked = 30004,
    /// `From` is not enabled (its registration is pending, rejected or suspended).
    Unregistered = 30034,
}

/// A Twilio-shaped error answer.
#[derive(Debug, Clone)]
pub struct TwilioError {
    pub status: StatusCode,
    pub code: TwilioCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

/// The body of an error answer, as Twilio sends it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwilioErrorBody {
    /// Twilio's error code (21211, 21610, 20003, …).
    pub code: u32,
    pub message: String,
    /// Twilio's page about the code.
    pub more_info: String,
    /// The HTTP status, repeated.
    pub status: u16,
}

impl TwilioError {
    pub fn new(status: StatusCode, code: TwilioCode, message: impl Into<String>) -> TwilioError {
        TwilioError { status, code, message: message.into(), retry_after: None }
    }

    /// 400 with `code`: what Twilio answers for a parameter it refuses.
    pub fn invalid(code: TwilioCode, message: impl Into<String>) -> TwilioError {
        TwilioError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> TwilioError {
        TwilioError::new(StatusCode::NOT_FOUND, TwilioCode::NotFound, message)
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let code = self.code as u32;
        let body = TwilioErrorBody {
            code,
            message: self.message,
            more_info: format!("https://www.twilio.com/docs/errors/{code}"),
            status: self.status.as_u16(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Parley\""));
        }
        response
    }
}

impl From<AuthError> for TwilioError {
    fn from(e: AuthError) -> TwilioError {
        match e {
            AuthError::Malformed | AuthError::Unknown | AuthError::Expired(_) => {
                let message = format!("Authenticate: {e} (use HTTP basic auth: the key id SK… and its token)");
                TwilioError::new(StatusCode::UNAUTHORIZED, TwilioCode::Authenticate, message)
            }
            AuthError::Forbidden(_) | AuthError::InsufficientScope { .. } | AuthError::RoleOnly => {
                TwilioError::new(StatusCode::FORBIDDEN, TwilioCode::Forbidden, e.to_string())
            }
            AuthError::RateLimited { retry_after_ms, .. } => TwilioError {
                retry_after: Some((retry_after_ms.max(1) as u64).div_ceil(1000)),
                ..TwilioError::new(StatusCode::TOO_MANY_REQUESTS, TwilioCode::TooManyRequests, e.to_string())
            },
            AuthError::Store(cause) => TwilioError::from(ApiError::from(cause)),
        }
    }
}

/// The failures Parley's shared layers answer as [`ApiError`] (the store, the engine's outages).
impl From<ApiError> for TwilioError {
    fn from(e: ApiError) -> TwilioError {
        let code = match e.status {
            StatusCode::UNAUTHORIZED => TwilioCode::Authenticate,
            StatusCode::FORBIDDEN => TwilioCode::Forbidden,
            StatusCode::NOT_FOUND => TwilioCode::NotFound,
            StatusCode::TOO_MANY_REQUESTS => TwilioCode::TooManyRequests,
            StatusCode::SERVICE_UNAVAILABLE => TwilioCode::Unavailable,
            s if s.is_client_error() => TwilioCode::BadRequest,
            _ => TwilioCode::Internal,
        };
        let retry_after = e.retry_after.or((e.status == StatusCode::SERVICE_UNAVAILABLE).then_some(5));
        TwilioError { retry_after, ..TwilioError::new(e.status, code, e.message) }
    }
}

impl From<parley_store::StoreError> for TwilioError {
    fn from(e: parley_store::StoreError) -> TwilioError {
        TwilioError::from(ApiError::from(e))
    }
}

/// What the engine's refusal of a send is in Twilio's terms; `from` is the sending number.
pub fn refused_send(e: EngineError, from: &str) -> TwilioError {
    use TwilioCode::*;
    match e {
        EngineError::NumberNotSetUp(_) => TwilioError::invalid(
            FromNotOurs,
            format!("The From phone number {from} is not a number of this Parley deployment: add it to the setup"),
        ),
        EngineError::NumberNotEnabled { .. } => TwilioError::invalid(Unregistered, e.to_string()),
        EngineError::Blocked(_) => TwilioError::invalid(Blocked, e.to_string()),
        EngineError::Refused(Refusal::OptedOut) => TwilioError::invalid(
            Unsubscribed,
            "Attempt to send to unsubscribed recipient: the consumer opted out (texted STOP); nothing is sent to \
             them until they text START",
        ),
        EngineError::Refused(Refusal::IncomingOnly) => TwilioError::invalid(
            FromNotOurs,
            format!("The From phone number {from} has role \"incoming\" in the setup: it never sends first"),
        ),
        other => TwilioError::from(ApiError::from(other)),
    }
}
