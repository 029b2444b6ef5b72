//! The one mapping from failures to HTTP answers: `{"error": {"code": "...", "message": "...",
//! "details": [{"field": "/agents/0/capacity", "message": "..."}]}}`. Codes are part of the public
//! contract; a 5xx never shows internals (they are logged with a request id instead).
//!
//! `details` is there only when the request's content was at fault (422 `validation_failed`): one entry
//! per problem, `field` the JSON Pointer (RFC 6901) into the request body of the value it concerns, left
//! out for a problem of the whole document, so a form can show each message beside its field.
//!
//! A database that cannot be reached (a broken connection, a pool that timed out waiting for one; see
//! `parley_store::outage`) is not an internal error: it is answered 503 `unavailable` with a
//! `Retry-After` header, so clients, load balancers and carriers (Twilio retries a 5xx) try again.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parley_core::chat::Refusal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::engine::EngineError;

/// Machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (bad JSON, bad query, wrong content type).
    BadRequest,
    /// No or an unknown bearer token.
    Unauthorized,
    /// The token's role or queues do not allow this.
    Forbidden,
    /// A request authenticated by the session cookie that changes something came without the session's
    /// `X-CSRF-Token` header (or with another value).
    Csrf,
    NotFound,
    /// What the request names existed but is no more usable: an app-launch link that expired or opened.
    Gone,
    MethodNotAllowed,
    /// The request conflicts with the chat's state (or, erasing a phone, with its live chat).
    Conflict,
    /// The consumer opted out; nothing may be sent to them.
    OptedOut,
    /// A proactive message inside the consumer's quiet hours, sent with `no_delay`.
    QuietHours,
    /// The business number is not enabled (its registration is not through, or it is suspended).
    NumberNotEnabled,
    /// The consumer's phone is on the blocklist: the business sends it nothing.
    Blocked,
    /// The phone is on the blocklist already.
    AlreadyBlocked,
    /// Canceling a scheduled message that has already been handed to the outbox or the carrier.
    AlreadySent,
    /// Resending a message that is not failed or undelivered (or was resent already).
    NotResendable,
    /// A field is well-formed JSON but not a valid value.
    ValidationFailed,
    /// Dismissing a chat whose queue (or its parents, or the deployment) sets no dismissal.
    DismissalOff,
    /// Dismissing a chat that is not an inbound chat in which both the consumer and the agent wrote.
    NotDismissable,
    /// Resuming (or taking) a chat that is not dismissed (or is).
    NotDismissed,
    /// An agent starting an outbound chat in a queue with `agent_outbound = false`.
    AgentOutboundOff,
    /// The destination number is not set up in this deployment.
    NumberNotSetUp,
    /// A message with media from a number whose carrier account cannot carry media (SMPP).
    MediaNotSupported,
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The server is shutting down or its database does not answer.
    Unavailable,
    /// A scoped API key without the scope the operation needs (the message names it).
    InsufficientScope,
    /// The key sent more requests to sending endpoints than its rate allows; retry after
    /// `Retry-After` seconds.
    RateLimited,
    /// An `Idempotency-Key` used before with a different request.
    IdempotencyKeyReused,
    /// The request with this `Idempotency-Key` is still running; retry after `Retry-After` seconds.
    IdempotencyInProgress,
    /// The request with this `Idempotency-Key` was carried out but its answer was lost (its node
    /// stopped in between); it is not done again.
    IdempotentAnswerLost,
    Internal,
}

/// Seconds a client is asked to wait (`Retry-After`) before it tries an `unavailable` request again.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// One entry per problem of the request's content (empty: the body has no `details`).
    pub details: Vec<FieldProblem>,
    /// Seconds for `Retry-After` (an `unavailable` answer always has one).
    pub retry_after: Option<u64>,
}

/// The error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error's code and a message a person can act on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// With `validation_failed`: each problem of the request body, with the field it concerns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldProblem>,
}

/// One problem of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The JSON Pointer (RFC 6901) of the value at fault, e.g. `/agents/0/capacity`; absent when the
    /// problem concerns the whole document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The problem in words.
    pub message: String,
}

impl FieldProblem {
    /// A problem of the value at `pointer` (`None`: of the whole document).
    pub fn new(pointer: Option<String>, message: impl Into<String>) -> FieldProblem {
        FieldProblem { field: pointer, message: message.into() }
    }
}

/// The JSON Pointer (RFC 6901) of a path of object keys and list indexes: `~` and `/` in a key are
/// escaped as `~0` and `~1`.
pub fn pointer<'a>(segments: impl IntoIterator<Item = PointerSegment<'a>>) -> String {
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        match segment {
            PointerSegment::Key(key) => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            PointerSegment::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

/// One step of a JSON Pointer.
#[derive(Debug, Clone, Copy)]
pub enum PointerSegment<'a> {
    Key(&'a str),
    Index(usize),
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: vec![], retry_after: None }
    }

    /// The same error, asking the client to wait `seconds` before trying again.
    pub fn retry_after(self, seconds: u64) -> ApiError {
        ApiError { retry_after: Some(seconds.max(1)), ..self }
    }

    /// 422 `validation_failed` with one entry per problem of the body.
    pub fn invalid_fields(message: impl Into<String>, details: Vec<FieldProblem>) -> ApiError {
        ApiError { details, ..ApiError::invalid(message) }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed, message)
    }

    /// The database does not answer: logged with its cause, answered 503 `unavailable`.
    pub fn unavailable(cause: impl std::fmt::Display) -> ApiError {
        tracing::warn!(error = %cause, "answered 503: the database does not answer");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the database does not answer; nothing was changed, try again in a few seconds",
        )
    }

    /// A failure inside the server: logged with its cause, answered with a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(error_id = %id, error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            format!("internal error (id {id}); the server log has the details"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry =
            self.retry_after.or((self.code == ErrorCode::Unavailable).then_some(u64::from(RETRY_AFTER_SECONDS)));
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message, details: self.details } };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = retry {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<parley_store::StoreError> for ApiError {
    fn from(e: parley_store::StoreError) -> ApiError {
        match e {
            parley_store::StoreError::NotFound => ApiError::not_found("not found"),
            other if other.is_unavailable() => ApiError::unavailable(format!("{other:#}")),
            other => ApiError::internal(format!("{other:#}")),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::NumberNotSetUp(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::NumberNotSetUp, e.to_string())
            }
            EngineError::ChatNotFound(_) | EngineError::MessageNotFound(_) => ApiError::not_found(e.to_string()),
            EngineError::AlreadySent(message) => ApiError::new(StatusCode::CONFLICT, ErrorCode::AlreadySent, message),
            EngineError::NotResendable(message) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::NotResendable, message)
            }
            EngineError::NumberNotEnabled { .. } => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::NumberNotEnabled, e.to_string())
            }
            EngineError::Refused(refusal) => refused(refusal),
            EngineError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message),
            EngineError::AlreadyBlocked(_) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::AlreadyBlocked, e.to_string())
            }
            EngineError::NotBlocked(_) => ApiError::not_found(e.to_string()),
            EngineError::Blocked(_) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Blocked, e.to_string()),
            EngineError::ShuttingDown => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the server is shutting down; try again",
            ),
            EngineError::Internal(cause) if parley_store::outage::is_unavailable(&cause) => {
                ApiError::unavailable(format!("{cause:#}"))
            }
            EngineError::Internal(cause) => ApiError::internal(format!("{cause:#}")),
        }
    }
}

fn refused(refusal: Refusal) -> ApiError {
    let (status, code, message) = match refusal {
        Refusal::NotYourQueue => {
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden, "this chat is in a queue you do not serve")
        }
        Refusal::TakenByAnother => {
            (StatusCode::CONFLICT, ErrorCode::Conflict, "this chat is offered to or handled by another agent")
        }
        Refusal::AtCapacity => {
            (StatusCode::CONFLICT, ErrorCode::Conflict, "you are at your capacity: end a chat before taking another")
        }
        Refusal::NotConnected => {
            (StatusCode::CONFLICT, ErrorCode::Conflict, "the chat is not connected with you: accept it first")
        }
        Refusal::Ended => (StatusCode::CONFLICT, ErrorCode::Conflict, "the chat has ended"),
        Refusal::OptedOut => (
            StatusCode::CONFLICT,
            ErrorCode::OptedOut,
            "the consumer opted out (texted STOP): no message may be sent to them until they text START",
        ),
        Refusal::NoQueue => (StatusCode::CONFLICT, ErrorCode::Conflict, "the consumer has not picked a queue yet"),
        Refusal::ChatInProgress => (
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "the consumer already has a live chat on this number that is not yours: accept or take it over instead",
        ),
        Refusal::TransferPending => {
            (StatusCode::CONFLICT, ErrorCode::Conflict, "a transfer of this chat is already waiting for an answer")
        }
        Refusal::NoTransfer => (StatusCode::CONFLICT, ErrorCode::Conflict, "no transfer of this chat waits for you"),
        Refusal::BadTransferTarget => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "transfer to a colleague who serves this chat's queue (not yourself), or to a queue",
        ),
        Refusal::DismissalOff => (
            StatusCode::CONFLICT,
            ErrorCode::DismissalOff,
            "this chat's queue does not dismiss chats: set dismissal on the queue, a parent queue or the settings",
        ),
        Refusal::NotDismissable => (
            StatusCode::CONFLICT,
            ErrorCode::NotDismissable,
            "only an inbound chat in which both the consumer and the agent have written can be dismissed",
        ),
        Refusal::DismissByAgentOff => (
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this queue's dismissal has by_agent = false: the timer or an admin dismisses its chats",
        ),
        Refusal::NotDismissed => {
            (StatusCode::CONFLICT, ErrorCode::NotDismissed, "only a dismissed chat can be resumed")
        }
        Refusal::IsDismissed => (
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "the chat is dismissed: resume it (POST /api/v1/chats/{id}/resume) to put it back in its queue",
        ),
        Refusal::AgentOutboundOff => (
            StatusCode::FORBIDDEN,
            ErrorCode::AgentOutboundOff,
            "agents may not start outbound chats in this queue (agent_outbound = false in the setup)",
        ),
        // Every business-first request names its sender as `outbound_number` (the seed platform's name).
        Refusal::IncomingOnly => {
            let message = "outbound_number: the number has role \"incoming\": it takes chats but never sends first; \
                           send from a number whose role is outbound or both";
            return ApiError::invalid_fields(
                message,
                vec![FieldProblem::new(Some("/outbound_number".to_owned()), message)],
            );
        }
        Refusal::CallsOnly => {
            let message = "outbound_number: the number has role \"in_call\": it carries the SMS of voice calls only; \
                           send from a number whose role is outbound or both";
            return ApiError::invalid_fields(
                message,
                vec![FieldProblem::new(Some("/outbound_number".to_owned()), message)],
            );
        }
        Refusal::NotInCallNumber => (
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "a call's SMS goes out from the voice queue's in_call_number, and this number is not one",
        ),
        Refusal::NotACallThread => {
            (StatusCode::CONFLICT, ErrorCode::Conflict, "this chat is not the SMS thread of a voice call")
        }
        Refusal::QuietHours { until, zones } => {
            let message = format!(
                "it is quiet hours for the consumer ({zones}): the message may go out from {}; send it without \
                 no_delay to have it scheduled",
                crate::clock::rfc3339(until.0)
            );
            return ApiError::new(StatusCode::CONFLICT, ErrorCode::QuietHours, message);
        }
    };
    ApiError::new(status, code, message)
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let status = r.status();
        let message = r.body_text();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(status, ErrorCode::PayloadTooLarge, "the request body is too large");
        }
        if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            return ApiError::new(
                status,
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            );
        }
        // Unknown fields and wrong types are well-formed JSON with bad content: 422, like other invalid values.
        let code = if status == StatusCode::UNPROCESSABLE_ENTITY {
            ErrorCode::ValidationFailed
        } else {
            ErrorCode::BadRequest
        };
        ApiError::new(status, code, message)
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_request(r.body_text())
    }
}
