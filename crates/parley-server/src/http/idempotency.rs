//! `Idempotency-Key`: a POST sent again with the same key gets the first answer again and does
//! nothing more, also after a restart and on another node.
//!
//! The record lives in the database ([`parley_store::keys`]), keyed by the caller (a hash of the
//! credentials or the session cookie, so two callers' keys never meet) and the key. A request claims
//! its record before it runs; the claim is one statement, so of two copies arriving at once on two
//! nodes one runs and the other is told to retry (409 `idempotency_in_progress`). The answer is stored
//! when the request is done: a retry with the same request (method, path and body hash alike) gets it
//! back with `Idempotent-Replayed: true`; the same key with another request is refused (422
//! `idempotency_key_reused`). Answers that a retry should not get back are not stored, and their claim
//! is released: a 5xx (the server or its database failed), a 429 (rate limited), a 401.
//!
//! What the request submits to the engine marks its claim `committed` in the same transaction as its
//! effects ([`engine::on_behalf_of`]). A claim whose node died while running it, before anything was
//! committed, stays pending until its lease ([`LEASE_MS`]) runs out; a retry after that runs the
//! request again. One whose node died after the commit and before the answer was kept is never run
//! again: a retry gets 409 `idempotent_answer_lost`, saying where to look the result up. Records are kept for 24 hours ([`KEEP_MS`]); an older one
//! counts as absent, and each node deletes them about once an hour, from here, whether or not a
//! retention is configured.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_store::keys::IdempotencyClaim;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::engine;
use crate::http::auth::{cookie_token, hash_token};
use crate::http::error::{ApiError, ErrorCode};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The answer header that says an answer is a stored one.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key is remembered.
pub const KEEP_MS: i64 = 24 * 3600 * 1000;
/// How long a running request holds its claim before another may take it over (a node that died).
pub const LEASE_MS: i64 = 60 * 1000;
/// The largest body buffered to hash it: a media upload (5 MiB) with its multipart frame. Each route
/// still applies its own limit to what it reads.
const MAX_BODY: usize = 6 * 1024 * 1024;
/// The largest answer kept (answers of sending requests are small JSON).
const MAX_ANSWER: usize = 1024 * 1024;
/// The longest key accepted.
const MAX_KEY_CHARS: usize = 255;
/// How often a node deletes records older than [`KEEP_MS`].
const PURGE_EVERY_MS: i64 = 3600 * 1000;

/// Deletes expired records when this node has not done so for [`PURGE_EVERY_MS`], off the request.
fn purge_now_and_then(state: &AppState, now: i64) {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
    let last = LAST.load(Ordering::Relaxed);
    if now.saturating_sub(last) < PURGE_EVERY_MS
        || LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
    {
        return;
    }
    let store = state.store.clone();
    tokio::spawn(async move {
        match store.purge_idempotency(now - KEEP_MS).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(records = n, "expired idempotency records deleted"),
            Err(e) => tracing::warn!(error = %e, "expired idempotency records could not be deleted"),
        }
    });
}

/// A key as sent: 1 to 255 visible ASCII characters.
fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    let text = value.to_str().ok().map(str::trim).unwrap_or_default();
    if text.is_empty() || text.len() > MAX_KEY_CHARS || !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(ApiError::bad_request(format!(
            "the Idempotency-Key header must be 1 to {MAX_KEY_CHARS} visible ASCII characters (a UUID is a good key)"
        )));
    }
    Ok(text.to_owned())
}

/// Whose key it is: the hash of the request's credentials, or of its session cookie. `None`: the
/// request has neither and will be refused by authentication anyway.
fn owner(request: &Request) -> Option<String> {
    if let Some(credentials) = request.headers().get(header::AUTHORIZATION) {
        return Some(format!("auth:{}", hash_token(credentials.to_str().unwrap_or_default())));
    }
    cookie_token(request.headers()).map(|token| format!("session:{}", hash_token(token)))
}

/// What a stored answer may be: a retry gets back what the first request decided, not a passing
/// failure or a refusal it should try again past.
fn keep(status: StatusCode) -> bool {
    !(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::UNAUTHORIZED)
}

/// The layer: every POST with an `Idempotency-Key` header goes through here.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match parse_key(value) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    let Some(owner) = owner(&request) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {} MiB", MAX_BODY / (1024 * 1024)),
        )
        .into_response();
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path_and_query().map_or("", |p| p.as_str()).as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let request_hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let now = state.clock.now().0;
    purge_now_and_then(&state, now);
    let claim = state.store.claim_idempotency(&owner, &key, &request_hash, now, LEASE_MS, now - KEEP_MS).await;
    match claim {
        Err(e) => ApiError::from(e).into_response(),
        Ok(IdempotencyClaim::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request in the last 24 hours; use a new key for a new request",
        )
        .into_response(),
        Ok(IdempotencyClaim::InProgress) => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::IdempotencyInProgress,
            "the request with this Idempotency-Key is still running; try again in a moment to get its answer",
        )
        .retry_after(1)
        .into_response(),
        Ok(IdempotencyClaim::Replay { status, content_type, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(&ct).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
            response
        }
        Ok(IdempotencyClaim::AnswerLost) => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::IdempotentAnswerLost,
            "the request with this Idempotency-Key was carried out, but the server stopped before it kept the \
             answer; it is not done again: look its result up (GET /api/v1/chats, /api/v1/messages/{id})",
        )
        .into_response(),
        Ok(IdempotencyClaim::Run) => {
            let request = Request::from_parts(parts, Body::from(bytes));
            let response = engine::on_behalf_of((owner.clone(), key.clone()), next.run(request)).await;
            finish(&state, &owner, &key, response).await
        }
    }
}

/// Stores the answer for retries (or releases the claim) and hands it on.
async fn finish(state: &AppState, owner: &str, key: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    if !keep(parts.status) {
        if let Err(e) = state.store.release_idempotency(owner, key).await {
            // The claim then runs out with its lease; the answer itself is not lost.
            tracing::warn!(error = %e, "could not release an idempotency claim");
        }
        return Response::from_parts(parts, body);
    }
    let bytes = match to_bytes(body, MAX_ANSWER).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return ApiError::internal(format!("an answer could not be buffered for its Idempotency-Key: {e}"))
                .into_response();
        }
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if let Err(e) = state.store.finish_idempotency(owner, key, parts.status.as_u16(), content_type, &bytes).await {
        // The request was carried out; its answer goes back. A retry within the lease is told to wait,
        // after it the request runs again: say so in the log, where an operator looks.
        tracing::error!(error = %e, "an answer could not be stored for its Idempotency-Key");
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_characters() {
        assert_eq!(parse_key(&HeaderValue::from_static("7c1e-42")).unwrap(), "7c1e-42");
        assert!(parse_key(&HeaderValue::from_static("")).is_err());
        assert!(parse_key(&HeaderValue::from_static("   ")).is_err());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(255)).unwrap()).is_ok());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_err());
        assert!(parse_key(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()).is_err());
    }

    #[test]
    fn passing_failures_are_not_kept() {
        assert!(keep(StatusCode::CREATED));
        assert!(keep(StatusCode::CONFLICT), "an opted-out phone stays refused for the retry");
        assert!(keep(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(!keep(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!keep(StatusCode::TOO_MANY_REQUESTS));
        assert!(!keep(StatusCode::UNAUTHORIZED));
    }
}
