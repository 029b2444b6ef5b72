//! `/api/v1/chats`: list, read, accept, reply, end, transcript. Agents see and act on chats of their
//! queues only; supervisors see (but do not act on) the chats of their teams' queues; admins see all.
//!
//! Every chat view an agent gets passes through [`view_for`], which masks the consumer's number as the
//! chat's queue says (`consumer_number` in the setup); admins always get the whole number. Reading a
//! chat or its transcript is recorded in the audit log first (see `api::audit`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use parley_core::chat::{Actor, ChatStatus, Input};
use parley_core::ids::ChatId;
use parley_core::message::{Direction, check_body};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::scheduled::HeldKind;
use parley_core::setup::{ConsumerNumber, mask};
use parley_store::chats::ChatFilter;
use parley_store::rows::{ChatRow, MessageRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::clock::rfc3339;
use crate::engine::ScheduleRequest;
use crate::engine::rows::context_from_json;
use crate::http::api::audit::record_read;
use crate::http::api::media::{Attachment, attachable};
use crate::http::api::messages::parse_send_at;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::outbound_media::OutMedia;

/// A chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatView {
    pub id: String,
    /// The business number the consumer texted.
    pub number: String,
    /// The consumer's number. Agents see it as their queue's `consumer_number` setting says: whole,
    /// masked to its last four digits ("+*******0100") or "hidden". Admins always see it whole.
    pub consumer: String,
    /// "inbound" (the consumer wrote first) or "outbound" (an agent or the outbound API did).
    pub origin: String,
    /// How the chat got its agent: manually_answered, auto_answered, outbound or deflected (none before).
    pub start_type: Option<String>,
    /// selecting, queued, offered, connected, dismissed or finished.
    pub status: String,
    pub queue: Option<String>,
    pub agent: Option<String>,
    /// The language the chat's system messages are in (a tag of the setup); write to the consumer in it.
    pub language: String,
    pub opened_at: String,
    pub queued_at: Option<String>,
    /// When an agent first took the chat.
    pub answered_at: Option<String>,
    /// After hours: when the chat's queue opens and the chat is routed.
    pub waiting_until: Option<String>,
    /// While the chat is dismissed: since when. `agent` is then the agent it had.
    pub dismissed_at: Option<String>,
    pub ended_at: Option<String>,
    /// ended_by_agent, ended_by_admin, consumer_command, opted_out, expired, consumer_silent,
    /// queue_timeout or after_hours.
    pub end_reason: Option<String>,
    /// An agent id, "admin" or "consumer".
    pub ended_by: Option<String>,
    /// The ticket id the outbound API started the chat with (the integration's reference).
    pub ticket_id: Option<String>,
    /// Key-values the outbound API started the chat with, for the agent to read; empty for others.
    pub context: BTreeMap<String, String>,
}

impl From<ChatRow> for ChatView {
    fn from(c: ChatRow) -> ChatView {
        ChatView {
            id: c.id,
            number: c.number,
            consumer: c.consumer,
            origin: c.origin,
            start_type: c.start_type,
            status: c.status.as_str().to_owned(),
            queue: c.queue,
            agent: c.agent,
            language: c.language,
            opened_at: rfc3339(c.opened_at),
            queued_at: c.queued_at.map(rfc3339),
            answered_at: c.answered_at.map(rfc3339),
            waiting_until: c.after_hours_until.map(rfc3339),
            dismissed_at: c.dismissed_at.map(rfc3339),
            ended_at: c.ended_at.map(rfc3339),
            end_reason: c.end_reason,
            ended_by: c.ended_by,
            ticket_id: c.ticket_id,
            // A stored context this version cannot read (it never should be) shows as none.
            context: c.context.as_deref().and_then(context_from_json).unwrap_or_default().into_iter().collect(),
        }
    }
}

/// The view of `chat` for `who`: agents and supervisors get the consumer's number masked as the chat's
/// queue says.
/// A chat whose queue is not (or no longer) in the setup shows agents nothing of the number.
pub fn view_for(state: &AppState, who: &Principal, chat: ChatRow) -> ChatView {
    let masking = match who {
        Principal::Admin { .. } => ConsumerNumber::Full,
        Principal::Agent(_) | Principal::Supervisor { .. } => {
            let setup = state.engine.setup();
            // The queue's own setting, else its parents', else the deployment's (the settings tree).
            setup
                .queues
                .iter()
                .find(|q| chat.queue.as_deref() == Some(q.id.as_str()))
                .map_or(ConsumerNumber::Hidden, |q| setup.consumer_number_of(&q.id))
        }
    };
    let consumer = match (masking, E164::parse(&chat.consumer)) {
        (ConsumerNumber::Full, _) => chat.consumer.clone(),
        (masking, Ok(number)) => mask(&number, masking),
        // Not a number (it never should be): show nothing rather than risk showing it.
        (_, Err(_)) => "hidden".to_owned(),
    };
    ChatView { consumer, ..ChatView::from(chat) }
}

/// A page of chats, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatList {
    pub chats: Vec<ChatView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Which chats to list. Every parameter given must hold.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// ongoing (offered or connected), dismissed, upcoming (waiting: queued, dismissed, or in the menu, for admins and for
    /// supervisors on numbers whose menu offers their queues) or past.
    pub status: Option<String>,
    /// At most this many per page (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Words of the transcript (chats with a message holding every word; whole words, any case), or
    /// digits of the consumer's number (at least 3; only in queues that show the caller whole numbers).
    pub q: Option<String>,
    /// The consumer's number, E.164 (`+14155550100`).
    pub phone: Option<String>,
    /// Chats offered to or handled by this agent (id).
    pub agent: Option<String>,
    /// Chats of this queue (id).
    pub queue: Option<String>,
    /// Opened at or after: RFC 3339 (`2026-12-01T09:00:00Z`) or a day (`2026-12-01`, from its start, UTC).
    pub from: Option<String>,
    /// Opened before: RFC 3339, or a day (`2026-12-01`: up to its end, UTC).
    pub to: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A moment of `from`/`to`: RFC 3339, or a day in UTC (its start; with `end_of_day`, the next day's).
fn moment(name: &str, value: &str, end_of_day: bool) -> Result<i64, ApiError> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(at.timestamp_millis());
    }
    let day = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!(
            "{name} \"{value}\" is not a moment: use RFC 3339 (2026-12-01T09:00:00Z) or a day (2026-12-01)"
        ))
    })?;
    let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
    Ok(day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis())
}

/// The opaque cursor after a chat: its opening time and id, as hex so clients do not parse it.
pub(crate) fn cursor_after(chat: &ChatRow) -> String {
    format!("{}:{}", chat.opened_at, chat.id).bytes().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn parse_cursor(cursor: &str) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::bad_request("cursor is not one this server gave: pass next_cursor as it came");
    let bytes: Vec<u8> = (0..cursor.len())
        .step_by(2)
        .map(|i| cursor.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_owned()))
}

/// Lists the chats the caller may see, newest first, filtered and paged.
#[utoipa::path(get, path = "/api/v1/chats", tag = "chats", params(ListQuery),
    responses((status = 200, description = "a page of chats; `next_cursor` leads to the next", body = ChatList),
              (status = 400, description = "an unknown status, a limit out of range, a bad moment, phone or cursor", body = ErrorBody),
              (status = 401, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn list_chats(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ChatList>, ApiError> {
    let statuses = match q.status.as_deref() {
        None => vec![],
        Some("ongoing") => vec![ChatStatus::Offered, ChatStatus::Connected],
        Some("upcoming") => vec![ChatStatus::Selecting, ChatStatus::Queued, ChatStatus::Dismissed],
        Some("dismissed") => vec![ChatStatus::Dismissed],
        Some("past") => vec![ChatStatus::Finished],
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown status \"{other}\": use ongoing, upcoming, dismissed or past"
            )));
        }
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let consumer = match q.phone.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(phone) => Some(
            E164::parse(phone)
                .map_err(|e| ApiError::bad_request(format!("phone \"{phone}\": {e}; write it as +14155550100")))?
                .to_string(),
        ),
    };
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    // Digits search the consumer's number only where the caller sees it whole.
    let digits = text.as_deref().and_then(|t| {
        let phone_like = t.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        (phone_like && digits.len() >= 3).then_some(digits)
    });
    let setup = state.engine.setup();
    let digits_queues = match &who {
        Principal::Admin { .. } => None,
        _ => Some(
            setup
                .queues
                .iter()
                .filter(|q| setup.consumer_number_of(&q.id) == ConsumerNumber::Full)
                .map(|q| q.id.to_string())
                .collect(),
        ),
    };
    let (opened_from, opened_before) = (
        q.from.as_deref().map(|v| moment("from", v, false)).transpose()?,
        q.to.as_deref().map(|v| moment("to", v, true)).transpose()?,
    );
    let filter = ChatFilter {
        statuses,
        queues: who.visible_queues(&state).map(|qs| qs.iter().map(ToString::to_string).collect()),
        menu_numbers: who.menu_numbers(&state),
        thread_agent: match &who {
            Principal::Agent(agent) => Some(agent.to_string()),
            Principal::Admin { .. } | Principal::Supervisor { .. } => None,
        },
        agent: q.agent.filter(|a| !a.is_empty()),
        queue: q.queue.filter(|a| !a.is_empty()),
        consumer,
        text,
        digits,
        digits_queues,
        opened_from,
        opened_before,
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
    Ok(Json(ChatList { chats: chats.into_iter().map(|c| view_for(&state, &who, c)).collect(), next_cursor }))
}

/// A chat id from a URL path, parsed once at the edge; text that cannot be one names no chat.
pub fn chat_id(text: &str) -> Result<ChatId, ApiError> {
    ChatId::parse(text).map_err(|_| ApiError::not_found(format!("no chat with id {text}")))
}

/// Loads a chat the caller may see.
pub(crate) async fn visible_chat(state: &AppState, who: &Principal, id: &ChatId) -> Result<ChatRow, ApiError> {
    let chat = state.store.chat(id.as_str()).await.map_err(|e| match e {
        parley_store::StoreError::NotFound => ApiError::not_found(format!("no chat with id {id}")),
        other => other.into(),
    })?;
    if !who.sees_chat(state, &chat) {
        return Err(ApiError::forbidden("this chat is in a queue you do not serve"));
    }
    Ok(chat)
}

/// One chat.
#[utoipa::path(get, path = "/api/v1/chats/{id}", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn get_chat(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatView>, ApiError> {
    let id = chat_id(&id)?;
    let chat = visible_chat(&state, &who, &id).await?;
    record_read(&state, &who, Some(&chat.id), "chat").await?;
    Ok(Json(view_for(&state, &who, chat)))
}

/// Accepts a chat offered to the calling agent (or takes a queued one of their queues).
#[utoipa::path(post, path = "/api/v1/chats/{id}/accept", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn accept(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatView>, ApiError> {
    let id = chat_id(&id)?;
    let agent = who.require_agent()?.clone();
    visible_chat(&state, &who, &id).await?;
    let ack = state.engine.chat_action(&id, Input::Accept { agent }).await?;
    Ok(Json(view_for(&state, &who, ack.chat)))
}

/// A reply to the consumer. SMS is plain text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Up to 1600 characters; may be empty when `media_ids` names media.
    #[serde(default)]
    pub body: String,
    /// Uploads to send with it (`POST /api/v1/media`), at most 10, each the caller's own and not sent
    /// yet. Refused (422 `media_not_supported`) when the chat's number sends through SMPP.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// Send later: RFC 3339, after now and at most 30 days ahead. The message waits as `scheduled`;
    /// consent, the number's state and quiet hours are checked when it is due.
    pub send_at: Option<String>,
}

/// The message as queued for sending.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageQueued {
    pub message_id: String,
    pub chat: ChatView,
}

/// Sends a message to the consumer of a chat connected with the calling agent.
#[utoipa::path(post, path = "/api/v1/chats/{id}/messages", tag = "chats", params(("id" = String, Path)), request_body = NewMessage,
    responses((status = 202, description = "queued, or with send_at scheduled", body = MessageQueued), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not connected, ended, or the consumer opted out (code opted_out)", body = ErrorBody),
              (status = 422, description = "a bad field (an unknown or already sent media id names /media_ids/N), or media_ids in a chat whose number is on an SMPP account (code media_not_supported)", body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn send_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(msg): ApiJson<NewMessage>,
) -> Result<(axum::http::StatusCode, Json<MessageQueued>), ApiError> {
    let id = chat_id(&id)?;
    let agent = who.require_agent()?.clone();
    check_body(&msg.body, msg.media_ids.len()).map_err(|e| ApiError::invalid(e.to_string()))?;
    let send_at = msg.send_at.as_deref().map(|v| parse_send_at(&state, v, Some("/send_at"))).transpose()?;
    let chat = visible_chat(&state, &who, &id).await?;
    let number =
        BusinessNumber::parse(&chat.number).map_err(|_| ApiError::internal("a stored chat's number does not parse"))?;
    let media = attachable(&state, &who, &msg.media_ids, &number).await?;
    if let Some(send_at) = send_at {
        return send_later(&state, &who, &chat, agent, msg.body, media, send_at).await;
    }
    let ack = state.engine.chat_action_with_media(&id, Input::Reply { agent, text: msg.body }, media).await?;
    let message_id = ack.message_id.ok_or_else(|| ApiError::internal("a reply produced no message"))?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(MessageQueued { message_id, chat: view_for(&state, &who, ack.chat) })))
}

/// Schedules an agent's message into `chat` for `send_at` (see `api::messages`).
pub(crate) async fn send_later(
    state: &AppState,
    who: &Principal,
    chat: &ChatRow,
    agent: parley_core::ids::AgentId,
    text: String,
    media: OutMedia,
    send_at: parley_core::time::Timestamp,
) -> Result<(axum::http::StatusCode, Json<MessageQueued>), ApiError> {
    let (number, consumer) = match (BusinessNumber::parse(&chat.number), E164::parse(&chat.consumer)) {
        (Ok(n), Ok(c)) => (n, c),
        _ => return Err(ApiError::internal("a stored chat has numbers that do not parse")),
    };
    let kind = HeldKind::Reply { chat: ChatId::new(chat.id.clone()), agent: agent.clone() };
    let request = ScheduleRequest { number, consumer, text, kind, send_at, author: format!("agent:{agent}"), media };
    let ack = state.engine.schedule(request).await?;
    let chat = ack.chat.ok_or_else(|| ApiError::internal("a scheduled reply has no chat"))?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(MessageQueued { message_id: ack.message_id, chat: view_for(state, who, chat) }),
    ))
}

/// Ends a chat (the consumer gets the closing message). Ending an ended chat changes nothing. Its agent
/// or an admin may; a supervisor may not.
#[utoipa::path(post, path = "/api/v1/chats/{id}/end", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = ["chats:write"])))]
pub async fn end(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatView>, ApiError> {
    let id = chat_id(&id)?;
    let chat = visible_chat(&state, &who, &id).await?;
    if chat.status == ChatStatus::Finished {
        return Ok(Json(view_for(&state, &who, chat)));
    }
    let by = match &who {
        Principal::Admin { .. } => Actor::Admin,
        Principal::Agent(agent) => Actor::Agent(agent.clone()),
        Principal::Supervisor { .. } => {
            return Err(ApiError::forbidden(
                "supervisors watch chats but do not end them: the chat's agent or an admin can",
            ));
        }
    };
    let ack = state.engine.chat_action(&id, Input::End { by }).await?;
    Ok(Json(view_for(&state, &who, ack.chat)))
}

/// One message of a transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptEntry {
    pub id: String,
    pub at: String,
    /// "in" (from the consumer) or "out" (to the consumer).
    pub direction: String,
    /// "consumer", "system" or "agent:ID".
    pub author: String,
    pub body: String,
    /// The media URLs as the carrier announced them.
    pub media: Vec<String>,
    /// The media as Parley keeps it, each with a URL agents can open.
    pub attachments: Vec<Attachment>,
    /// received (inbound); scheduled, queued, sending, sent, delivered, undelivered, failed, suppressed or
    /// canceled (outbound).
    pub status: String,
    pub error: Option<String>,
    /// Sent later: the moment it was scheduled for.
    pub send_at: Option<String>,
    /// While scheduled: when it is looked at next (its time, or the end of the consumer's quiet hours).
    pub due_at: Option<String>,
    /// A resend: the id of the message it sends again.
    pub resend_of: Option<String>,
    /// Resent: the id of the new attempt.
    pub resent_as: Option<String>,
}

impl From<MessageRow> for TranscriptEntry {
    fn from(m: MessageRow) -> TranscriptEntry {
        TranscriptEntry {
            id: m.id,
            at: rfc3339(m.created_at),
            direction: m.direction.as_str().to_owned(),
            author: m.author,
            body: m.body,
            media: m.media.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            attachments: vec![],
            due_at: (m.status == parley_core::message::MessageStatus::Scheduled).then(|| rfc3339(m.next_attempt_at)),
            status: m.status.as_str().to_owned(),
            error: m.error,
            send_at: m.send_at.map(rfc3339),
            resend_of: m.resend_of,
            resent_as: m.resent_as,
        }
    }
}

/// A chat's transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transcript {
    pub chat: ChatView,
    pub messages: Vec<TranscriptEntry>,
}

/// Every consumer, agent and system message of a chat, in order, with its delivery status.
#[utoipa::path(get, path = "/api/v1/chats/{id}/transcript", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, body = Transcript), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn transcript(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Transcript>, ApiError> {
    let id = chat_id(&id)?;
    let chat = visible_chat(&state, &who, &id).await?;
    record_read(&state, &who, Some(&chat.id), "transcript").await?;
    let messages = entries(&state, state.store.transcript(id.as_str()).await?).await?;
    Ok(Json(Transcript { chat: view_for(&state, &who, chat), messages }))
}

/// Transcript entries of `messages`, each with its attachments: a consumer's media by the message it
/// came with, uploads by the ids its `media` names, in that order (so a resend shows its original's).
pub(crate) async fn entries(state: &AppState, messages: Vec<MessageRow>) -> Result<Vec<TranscriptEntry>, ApiError> {
    let inbound: Vec<String> =
        messages.iter().filter(|m| m.direction == Direction::In && !m.media.is_empty()).map(|m| m.id.clone()).collect();
    let mut media = state.store.media_of_messages(&inbound).await?;
    let uploads: Vec<String> = messages
        .iter()
        .filter(|m| m.direction == Direction::Out)
        .flat_map(|m| OutMedia::from_column(&m.media).0)
        .collect();
    let uploaded = state.store.media_by_ids(&uploads).await?;
    Ok(messages
        .into_iter()
        .map(|m| {
            let id = m.id.clone();
            let named = if m.direction == Direction::Out { OutMedia::from_column(&m.media).0 } else { vec![] };
            let mut entry = TranscriptEntry::from(m);
            entry.attachments = if named.is_empty() {
                media.extract_if(.., |a| a.message_id.as_deref() == Some(id.as_str())).map(Attachment::from).collect()
            } else {
                named
                    .iter()
                    .filter_map(|n| uploaded.iter().find(|u| &u.id == n).cloned())
                    .map(Attachment::from)
                    .collect()
            };
            entry
        })
        .collect())
}
