//! `/api/v1/chats/{id}/transfer`: the connected agent hands a chat to a colleague of its queue or to
//! another queue, with a note only agents read; the receiving agent accepts or declines. Until they
//! accept, the chat stays with the agent who started the transfer; a transfer that is declined, times
//! out (the offer timeout) or finds nobody available fails and changes nothing else. Started, failed
//! and ended transfers are events (`chat.transfer_*`) and lines in the transcript (direction "note").

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::chat::{Input, TransferTarget};
use parley_core::ids::{AgentId, ChatId, QueueId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::api::chats::{ChatView, chat_id, view_for};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};

/// Where to transfer a chat: exactly one of `to_agent` and `to_queue`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// A colleague who serves the chat's queue.
    pub to_agent: Option<String>,
    /// A queue; its best available agent (not you) is asked.
    pub to_queue: Option<String>,
    /// For the receiving agent (at most 500 characters); never sent to the consumer.
    #[serde(default)]
    pub note: String,
}

/// The longest note.
const MAX_NOTE_CHARS: usize = 500;

/// Starts a transfer. 202: asked (or, with nobody available, already failed: see the chat's events).
#[utoipa::path(post, path = "/api/v1/chats/{id}/transfer", tag = "chats", params(("id" = String, Path)),
    request_body = TransferRequest,
    responses((status = 202, body = ChatView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "not your connected chat, or a transfer is pending", body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn transfer(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> Result<(StatusCode, Json<ChatView>), ApiError> {
    let id = chat_id(&id)?;
    let from = who.require_agent()?.clone();
    let setup = state.engine.setup();
    let target = match (req.to_agent.as_deref(), req.to_queue.as_deref()) {
        (Some(agent), None) => {
            let agent = AgentId::parse(agent).map_err(|e| ApiError::invalid(format!("to_agent: {e}")))?;
            if setup.agent(&agent).is_none() {
                return Err(ApiError::invalid(format!("to_agent: no agent \"{agent}\" in the setup")));
            }
            TransferTarget::Agent(agent)
        }
        (None, Some(queue)) => {
            let queue = QueueId::parse(queue).map_err(|e| ApiError::invalid(format!("to_queue: {e}")))?;
            if setup.queue(&queue).is_none() {
                return Err(ApiError::invalid(format!("to_queue: no queue \"{queue}\" in the setup")));
            }
            TransferTarget::Queue(queue)
        }
        _ => return Err(ApiError::invalid("give exactly one of to_agent and to_queue")),
    };
    let note = req.note.trim().to_owned();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::invalid(format!("note: at most {MAX_NOTE_CHARS} characters")));
    }
    let ack = state.engine.chat_action(&id, Input::Transfer { from, target, note }).await?;
    Ok((StatusCode::ACCEPTED, Json(view_for(&state, &who, ack.chat))))
}

/// The receiving agent takes the chat over.
#[utoipa::path(post, path = "/api/v1/chats/{id}/transfer/accept", operation_id = "accept_transfer", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ChatView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "no transfer waits for you", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn accept(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatView>, ApiError> {
    let id = chat_id(&id)?;
    answer(state, who, id, true).await
}

/// The receiving agent declines; the chat stays where it was.
#[utoipa::path(post, path = "/api/v1/chats/{id}/transfer/decline", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ChatView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "no transfer waits for you", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn decline(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatView>, ApiError> {
    let id = chat_id(&id)?;
    answer(state, who, id, false).await
}

async fn answer(state: AppState, who: Principal, id: ChatId, accept: bool) -> Result<Json<ChatView>, ApiError> {
    let agent = who.require_agent()?.clone();
    let ack = state.engine.chat_action(&id, Input::AnswerTransfer { agent, accept }).await?;
    Ok(Json(view_for(&state, &who, ack.chat)))
}
