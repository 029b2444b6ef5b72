//! `POST /api/v1/chats/{id}/dismiss` and `/resume`: putting a quiet chat aside and back (see the core's
//! `chat/dismissal.rs` for the rules). The connected agent (where the queue's `by_agent` allows) or an
//! admin dismisses; an agent serving the chat's queue or an admin resumes. Supervisors watch only.

use axum::Json;
use axum::extract::State;
use parley_core::chat::{Actor, Input};

use crate::AppState;
use crate::http::api::chats::{ChatView, chat_id, view_for, visible_chat};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;

/// The business side acting on a chat: an agent or an admin; a supervisor is refused.
fn actor(who: &Principal, what: &str) -> Result<Actor, ApiError> {
    match who {
        Principal::Admin { .. } => Ok(Actor::Admin),
        Principal::Agent(agent) => Ok(Actor::Agent(agent.clone())),
        Principal::Supervisor { .. } => Err(ApiError::forbidden(format!(
            "supervisors watch chats but do not {what} them: an agent of the queue or an admin can"
        ))),
    }
}

/// Dismisses a connected inbound chat in which both sides have written, in a queue with dismissal: it
/// leaves the agent's list (freeing their capacity) and waits, its session alive, for the consumer's
/// next text.
#[utoipa::path(post, path = "/api/v1/chats/{id}/dismiss", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ChatView),
              (status = 403, description = "not the chat's agent's queue, a supervisor, or the queue's dismissal has by_agent = false", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "not connected (or with another agent), the queue has no dismissal (code dismissal_off), or not both sides have written (code not_dismissable)", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn dismiss(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatView>, ApiError> {
    let id = chat_id(&id)?;
    visible_chat(&state, &who, &id).await?;
    let by = actor(&who, "dismiss")?;
    let ack = state.engine.chat_action(&id, Input::Dismiss { by }).await?;
    Ok(Json(view_for(&state, &who, ack.chat)))
}

/// Puts a dismissed chat back in its queue, with its history and no menu: the consumer gets the
/// `dismissed_resume` message and the chat is routed (the agent it had first, when they have room).
/// Outside the queue's business hours the consumer gets the after-hours message instead and the chat
/// waits for the opening.
#[utoipa::path(post, path = "/api/v1/chats/{id}/resume", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ChatView),
              (status = 403, description = "not an agent of the chat's queue, or a supervisor", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "the chat is not dismissed (code not_dismissed) or has ended", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn resume(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatView>, ApiError> {
    let id = chat_id(&id)?;
    visible_chat(&state, &who, &id).await?;
    let by = actor(&who, "resume")?;
    let ack = state.engine.chat_action(&id, Input::Resume { by }).await?;
    Ok(Json(view_for(&state, &who, ack.chat)))
}
