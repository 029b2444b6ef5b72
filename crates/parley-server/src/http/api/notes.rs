//! `POST /api/v1/chats/{id}/notes`: a private note on a chat. It is a line of the chat's transcript
//! (direction "note", by its author) that agents and supervisors of the queue read and the consumer
//! never gets: the outbox never sees it. A note may be added while the chat lives and after it ended
//! (a wrap-up), by whoever sees the chat; it goes through the engine like every chat write, so it takes
//! its place in the transcript's order and reaches the console as a `message` event.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::api::chats::{ChatView, chat_id, view_for, visible_chat};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};

/// The longest note, in characters.
pub const MAX_NOTE: usize = 2_000;

/// A note to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// 1 to 2,000 characters; never sent to the consumer.
    pub body: String,
}

/// The note added.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteAdded {
    /// The note's id in the transcript.
    pub message_id: String,
    pub chat: ChatView,
}

/// Adds a private note to a chat the caller sees (an agent of its queue, a supervisor of a team that
/// serves it, an admin).
#[utoipa::path(post, path = "/api/v1/chats/{id}/notes", tag = "chats", params(("id" = String, Path, description = "the chat")),
    request_body = NewNote,
    responses((status = 201, description = "the note is in the transcript", body = NoteAdded),
              (status = 403, description = "the chat is in a queue the caller does not serve", body = ErrorBody),
              (status = 404, description = "no such chat", body = ErrorBody),
              (status = 422, description = "the note is empty or longer than 2,000 characters", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn add_note(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(note): ApiJson<NewNote>,
) -> Result<(StatusCode, Json<NoteAdded>), ApiError> {
    let id = chat_id(&id)?;
    let body = note.body.trim();
    if body.is_empty() {
        return Err(ApiError::invalid("the note is empty: write what colleagues should know about this chat"));
    }
    let length = body.chars().count();
    if length > MAX_NOTE {
        return Err(ApiError::invalid(format!("the note has {length} characters; at most {MAX_NOTE} fit")));
    }
    visible_chat(&state, &who, &id).await?;
    let ack = state.engine.add_note(id, who.actor(), body.to_owned()).await?;
    let message_id = ack.message_id.ok_or_else(|| ApiError::internal("a note produced no message"))?;
    Ok((StatusCode::CREATED, Json(NoteAdded { message_id, chat: view_for(&state, &who, ack.chat) })))
}
