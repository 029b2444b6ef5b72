//! `GET /api/v1/audit`: the audit log of reads, for admins. Every chat view (`GET /api/v1/chats/{id}`),
//! transcript and media served is recorded with who read it and when, by [`record_read`].
//!
//! The record is written after the caller was allowed to read and before anything is served, straight
//! to the store (not through the engine's writer, so reads never queue behind chat traffic). If it
//! cannot be written the request fails with 500 (503 while the database is out of reach): a read that cannot be audited is not served. A
//! refused read (401, 403, 404) is not a read and is not recorded.

use axum::Json;
use axum::extract::State;
use parley_store::audit::{AuditFilter, AuditRead};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;

/// Records that `who` read `what` ("chat", "transcript" or "media:ID") of `chat`. Call it only after
/// the caller was authorized; its error (500) must fail the request.
pub async fn record_read(state: &AppState, who: &Principal, chat: Option<&str>, what: &str) -> Result<(), ApiError> {
    let read = AuditRead {
        seq: 0,
        actor: who.actor(),
        chat_id: chat.map(str::to_owned),
        what: what.to_owned(),
        at: state.clock.now().0,
    };
    state.store.record_reads(std::slice::from_ref(&read)).await.map_err(|e| {
        if e.is_unavailable() {
            ApiError::from(e)
        } else {
            ApiError::internal(format!("recording a read in the audit log: {e:#}"))
        }
    })
}

/// One recorded read.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Increasing with every read recorded.
    pub seq: i64,
    /// "admin", "agent:ID", or "user:USERNAME" (a logged-in supervisor).
    pub actor: String,
    /// The chat read (null for media that belongs to no chat).
    pub chat_id: Option<String>,
    /// What was read: "chat" (the chat view), "transcript" or "media:ID".
    pub what: String,
    pub at: String,
}

/// Recorded reads, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub reads: Vec<AuditEntry>,
}

/// Which reads to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only reads of this chat.
    pub chat: Option<String>,
    /// Only reads by this actor ("admin", "agent:ID" or "user:USERNAME").
    pub actor: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Who read which chat and when, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "privacy", params(AuditQuery),
    responses((status = 200, body = AuditList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_reads(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    who.require_admin()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let filter = AuditFilter { chat: q.chat, actor: q.actor, limit };
    let reads = state.store.audit_reads(&filter).await?;
    let reads = reads
        .into_iter()
        .map(|r| AuditEntry { seq: r.seq, actor: r.actor, chat_id: r.chat_id, what: r.what, at: rfc3339(r.at) })
        .collect();
    Ok(Json(AuditList { reads }))
}
