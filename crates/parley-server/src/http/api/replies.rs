//! Predefined replies (`[[replies]]` in the setup): `GET /api/v1/replies` lists those the caller may
//! use, optionally filled in for one chat; `POST /api/v1/chats/{id}/replies/{reply_id}` sends one into
//! a chat connected with the calling agent, through the same engine input as a typed reply.
//!
//! Filling a reply in follows the masking rule of chat views: `{consumer_last_four}` is filled only
//! for those who may see at least the last four digits (admins, agents of a queue that does not hide
//! the number). A reply that needs a value the chat cannot give is not sent, so a consumer never gets
//! a text with a raw `{placeholder}` in it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::chat::Input;
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::message::check_body;
use parley_core::phone::E164;
use parley_core::replies::{Reply, ReplyVars};
use parley_core::setup::{ConsumerNumber, Setup};
use parley_store::calls::CallRow;
use parley_store::rows::ChatRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::http::api::audit::record_read;
use crate::http::api::chats::{MessageQueued, chat_id, send_later, view_for};
use crate::http::api::messages::parse_send_at;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::outbound_media::OutMedia;

/// A predefined reply as an agent sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyView {
    pub id: String,
    pub title: String,
    /// A grouping for the list; empty when the setup gives none.
    pub category: String,
    /// The word agents type to pick it.
    pub shortcut: String,
    /// The text as written, with its placeholders.
    pub text: String,
    /// The text filled in for the chat asked for with `?chat=`; absent without it. Placeholders this
    /// caller may not see filled (or that the chat has no value for) stay as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<String>,
    /// The opt-in message an agent-started chat opens with.
    pub opt_in: bool,
}

/// The predefined replies the caller may use.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyList {
    pub replies: Vec<ReplyView>,
}

/// Which replies to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RepliesQuery {
    /// Fill each text in for this chat (one the caller may see).
    pub chat: Option<String>,
}

/// Lists the predefined replies available to the calling agent (admins and supervisors: all), in the
/// setup's order.
/// With `?chat=` each is also filled in for that chat; that counts as a read of the chat and is
/// recorded in the audit log ("replies") first.
#[utoipa::path(get, path = "/api/v1/replies", tag = "chats", params(RepliesQuery),
    responses((status = 200, body = ReplyList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "the chat is in a queue the agent does not serve", body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn list_replies(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<RepliesQuery>,
) -> Result<Json<ReplyList>, ApiError> {
    let setup = state.engine.setup();
    let vars = match &q.chat {
        None => None,
        Some(id) => {
            let chat = chat_of(&state, &who, &chat_id(id)?).await?;
            record_read(&state, &who, Some(&chat.id), "replies").await?;
            Some(vars_for(&setup, &who, &chat))
        }
    };
    let replies = setup
        .replies
        .iter()
        .filter(|r| match &who {
            Principal::Admin { .. } | Principal::Supervisor { .. } => true,
            Principal::Agent(agent) => r.available_to(agent, &setup),
        })
        .map(|r| ReplyView {
            id: r.id.to_string(),
            title: r.title.clone(),
            category: r.category.clone(),
            shortcut: r.shortcut.clone(),
            text: r.text.clone(),
            rendered: vars.as_ref().map(|v| r.render(v)),
            opt_in: r.opt_in,
        })
        .collect();
    Ok(Json(ReplyList { replies }))
}

/// When to send a predefined reply.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SendReplyQuery {
    /// Send later: RFC 3339, after now and at most 30 days ahead (see `POST /api/v1/chats/{id}/messages`).
    pub send_at: Option<String>,
}

/// Sends a predefined reply, filled in for the chat, to the consumer of a chat connected with the
/// calling agent: the same as `POST /api/v1/chats/{id}/messages` with that text.
#[utoipa::path(post, path = "/api/v1/chats/{id}/replies/{reply_id}", tag = "chats",
    params(("id" = String, Path), ("reply_id" = String, Path), SendReplyQuery),
    responses((status = 202, body = MessageQueued),
              (status = 403, description = "an admin token, a chat of another queue, or a reply for other queues or teams", body = ErrorBody),
              (status = 404, description = "no such chat or reply", body = ErrorBody),
              (status = 409, description = "not connected, ended, or the consumer opted out (code opted_out)", body = ErrorBody),
              (status = 422, description = "the filled-in text is too long, or the chat cannot fill a placeholder", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn send_reply(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, reply_id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<SendReplyQuery>,
) -> Result<(StatusCode, Json<MessageQueued>), ApiError> {
    let id = chat_id(&id)?;
    let agent = who.require_agent()?.clone();
    let setup = state.engine.setup();
    let reply = reply_for(&setup, &agent, &reply_id)?;
    let chat = chat_of(&state, &who, &id).await?;
    let mut vars = vars_for(&setup, &who, &chat);
    app_links(&state, &setup, reply, &chat.consumer, &chat.number, &mut vars)?;
    let unfilled = reply.unfilled(&vars);
    if !unfilled.is_empty() {
        let names: Vec<String> = unfilled.iter().map(|u| format!("{{{u}}}")).collect();
        return Err(ApiError::invalid(format!(
            "reply \"{reply_id}\" uses {} that this chat cannot fill in for you (a queue that hides the consumer's \
             number has no {{consumer_last_four}}); write the message instead",
            names.join(", ")
        )));
    }
    let text = reply.render(&vars);
    check_body(&text, 0).map_err(|e| ApiError::invalid(format!("reply \"{reply_id}\" filled in: {e}")))?;
    if let Some(send_at) = q.send_at.as_deref() {
        let send_at = parse_send_at(&state, send_at, None)?;
        return send_later(&state, &who, &chat, agent, text, OutMedia::default(), send_at).await;
    }
    let ack = state.engine.chat_action(&id, Input::Reply { agent, text }).await?;
    let message_id = ack.message_id.ok_or_else(|| ApiError::internal("a reply produced no message"))?;
    Ok((StatusCode::ACCEPTED, Json(MessageQueued { message_id, chat: view_for(&state, &who, ack.chat) })))
}

/// The reply called `reply_id`, if this agent may use it.
fn reply_for<'a>(setup: &'a Setup, agent: &AgentId, reply_id: &str) -> Result<&'a Reply, ApiError> {
    let reply = setup
        .replies
        .iter()
        .find(|r| r.id.as_str() == reply_id)
        .ok_or_else(|| ApiError::not_found(format!("no predefined reply with id \"{reply_id}\"")))?;
    if !reply.available_to(agent, setup) {
        return Err(ApiError::forbidden(format!(
            "reply \"{reply_id}\" is for other queues or teams; GET /api/v1/replies lists yours"
        )));
    }
    Ok(reply)
}

/// The chat `id`, if the caller may see it (its queue must be one the agent serves; a call's thread
/// must be theirs).
async fn chat_of(state: &AppState, who: &Principal, id: &ChatId) -> Result<ChatRow, ApiError> {
    crate::http::api::chats::visible_chat(state, who, id).await
}

/// What the placeholders are in `chat` for `who`: the agent is the caller (for an admin or a
/// supervisor, the chat's agent, if any); the consumer's last four digits only where `who` may see them.
fn vars_for(setup: &Setup, who: &Principal, chat: &ChatRow) -> ReplyVars {
    let queue = chat.queue.as_deref().and_then(|q| QueueId::parse(q).ok()).and_then(|q| setup.queue(&q));
    let agent = match who {
        Principal::Agent(agent) => Some(agent.clone()),
        Principal::Admin { .. } | Principal::Supervisor { .. } => {
            chat.agent.as_deref().and_then(|a| AgentId::parse(a).ok())
        }
    };
    let agent = agent.as_ref().and_then(|a| setup.agent(a));
    let masking = match who {
        Principal::Admin { .. } => ConsumerNumber::Full,
        Principal::Agent(_) | Principal::Supervisor { .. } => {
            queue.map_or(ConsumerNumber::Hidden, |q| setup.consumer_number_of(&q.id))
        }
    };
    let consumer = match masking {
        ConsumerNumber::Hidden => None,
        ConsumerNumber::Full | ConsumerNumber::LastFour => E164::parse(&chat.consumer).ok(),
    };
    ReplyVars::for_chat(
        agent.map(|a| a.name.as_str()),
        queue.map(|q| q.name.as_str()),
        &setup.settings.brand,
        consumer.as_ref(),
    )
}

/// The placeholders of a reply sent in a voice call's thread: the agent (if any), the voice queue's
/// name, the brand, the caller's last four digits (the agent is on the phone with them).
pub(crate) fn vars_for_call(setup: &Setup, call: &CallRow, agent: Option<&AgentId>) -> ReplyVars {
    let queue = QueueId::parse(&call.ivr_queue).ok().and_then(|q| setup.ivr_queue(&q)).map(|q| q.name.as_str());
    let agent = agent.and_then(|a| setup.agent(a)).map(|a| a.name.as_str());
    ReplyVars::for_chat(agent, queue, &setup.settings.brand, E164::parse(&call.caller).ok().as_ref())
}

/// Fills an `app_launch` reply's links for the conversation between `consumer` and `number`: the
/// launch link with a fresh signed token (docs/ivr.md), and the download links. Other replies are
/// left alone.
pub(crate) fn app_links(
    state: &AppState,
    setup: &Setup,
    reply: &Reply,
    consumer: &str,
    number: &str,
    vars: &mut ReplyVars,
) -> Result<(), ApiError> {
    let Some(app) = reply.app.as_deref().and_then(|a| setup.app(a)) else { return Ok(()) };
    let exp = state.clock.now().0 / 1000 + i64::from(app.token_minutes) * 60;
    let token = crate::app_tokens::mint(&state.media_signer, &app.id, consumer, number, exp)
        .map_err(|e| ApiError::internal(format!("an app link could not be made: {e}")))?;
    vars.app_link = Some(app.launch_link(&token));
    vars.ios_link = Some(app.ios.clone());
    vars.android_link = Some(app.android.clone());
    Ok(())
}
