//! One thread per consumer: every chat of a phone, on every business number, newest first.
//!
//! `GET /api/v1/phones/{e164}/chats` lists them by the phone's number: admins get all, agents and
//! supervisors the chats of the queues they see, and of those only the queues that show them whole
//! numbers (a queue that masks the number must not confirm that a number someone typed has chats
//! there). `GET /api/v1/chats/{id}/thread` lists the same phone's chats starting from a chat the
//! caller may see, so an agent whose queue masks the number still sees the consumer's earlier chats
//! beside the live one (each masked as its own queue says). Both are listings: reading one of the
//! chats is audited as always, by `GET /api/v1/chats/{id}` or its transcript.

use axum::Json;
use axum::extract::State;
use parley_core::phone::E164;
use parley_core::setup::ConsumerNumber;
use parley_store::chats::ChatFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::http::api::chats::{ChatList, chat_id, cursor_after, parse_cursor, view_for, visible_chat};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};

/// A page of a thread.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ThreadQuery {
    /// At most this many per page (default 50, at most 1000).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The chats of `consumer` in `queues` (`None`: all), newest first, one page.
async fn page(
    state: &AppState,
    who: &Principal,
    consumer: &E164,
    queues: Option<Vec<String>>,
    q: ThreadQuery,
) -> Result<ChatList, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let filter = ChatFilter {
        statuses: vec![],
        queues,
        // Chats still in a menu have no queue: only admins see them here.
        menu_numbers: vec![],
        thread_agent: None,
        agent: None,
        queue: None,
        consumer: Some(consumer.to_string()),
        text: None,
        digits: None,
        digits_queues: None,
        opened_from: None,
        opened_before: None,
        after: q.cursor.as_deref().map(parse_cursor).transpose()?,
        limit: limit + 1,
    };
    let mut chats = state.store.list_chats(&filter).await?;
    let next_cursor = if chats.len() as i64 > limit {
        chats.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        chats.last().map(cursor_after)
    } else {
        None
    };
    Ok(ChatList { chats: chats.into_iter().map(|c| view_for(state, who, c)).collect(), next_cursor })
}

/// A phone's chats on every business number, newest first.
#[utoipa::path(get, path = "/api/v1/phones/{e164}/chats", tag = "chats",
    params(("e164" = String, Path, description = "The consumer's number, E.164"), ThreadQuery),
    responses((status = 200, body = ChatList),
              (status = 400, description = "a limit out of range or a bad cursor", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 422, description = "not an E.164 number", body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn phone_chats(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(e164): ApiPath<String>,
    ApiQuery(q): ApiQuery<ThreadQuery>,
) -> Result<Json<ChatList>, ApiError> {
    let consumer = E164::parse(&e164)
        .map_err(|e| ApiError::invalid(format!("\"{e164}\" is not a phone number: {e}; write it as +14155550100")))?;
    let queues = who.visible_queues(&state).map(|visible| {
        let setup = state.engine.setup();
        visible
            .iter()
            .filter(|id| setup.consumer_number_of(id) == ConsumerNumber::Full)
            .map(ToString::to_string)
            .collect()
    });
    Ok(Json(page(&state, &who, &consumer, queues, q).await?))
}

/// The chats of this chat's consumer that the caller may see (this one included), newest first.
#[utoipa::path(get, path = "/api/v1/chats/{id}/thread", tag = "chats", params(("id" = String, Path), ThreadQuery),
    responses((status = 200, body = ChatList), (status = 400, description = "a limit out of range or a bad cursor", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn chat_thread(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ThreadQuery>,
) -> Result<Json<ChatList>, ApiError> {
    let chat = visible_chat(&state, &who, &chat_id(&id)?).await?;
    let consumer = E164::parse(&chat.consumer).map_err(|_| ApiError::internal("a stored chat has no phone number"))?;
    let queues = who.visible_queues(&state).map(|qs| qs.iter().map(ToString::to_string).collect());
    Ok(Json(page(&state, &who, &consumer, queues, q).await?))
}
