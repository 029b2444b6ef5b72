//! `/api/v1/outbound`: messages the business sends first. `POST /api/v1/outbound/chats` starts a chat
//! (or joins the live one with that phone), `POST /api/v1/outbound/messages` sends a sessionless
//! notification that belongs to no chat. The field names are the seed platform's (`end_user_number`,
//! `outbound_number`, `message` or `predefined_id` with `variables`, `agent_id` or `agent_email`,
//! `ticket_id`, `context`). The answer says how the text travels (`segments`, `encoding`), as
//! `POST /api/v1/sms/segments` counts it.
//!
//! Both refuse a phone that opted out (409 `opted_out`), a number that is not enabled (409
//! `number_not_enabled`) and an incoming-only number (422 naming `/outbound_number`; the core refuses
//! it, `Refusal::IncomingOnly`). Inside the consumer's quiet hours the message is scheduled for the first
//! allowed moment (`status: "scheduled"`, `send_at`), or refused (409 `quiet_hours`) when the caller
//! set `no_delay`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::chat::Input;
use parley_core::ids::{AgentId, QueueId};
use parley_core::message::{Direction, MAX_BODY_CHARS, MessageStatus};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::replies::{PLACEHOLDERS, ReplyVars};
use parley_core::scheduled::HeldKind;
use parley_core::setup::Setup;
use parley_core::text::segment;
use parley_core::ticket::Ticket;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::rfc3339;
use crate::engine::{OutboundAck, OutboundRequest, ScheduleRequest};
use crate::http::api::chats::{ChatView, view_for};
use crate::http::api::media::attachable;
use crate::http::api::messages::parse_send_at;
use crate::http::api::replies::app_links;
use crate::http::api::sms::encoding_name;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem, PointerSegment, pointer};
use crate::http::extract::{ApiJson, ApiPath};

/// A chat the business starts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundChat {
    /// The consumer's phone, E.164.
    pub end_user_number: String,
    /// The business number to send from, E.164; it must be in the setup and enabled. A chat for an
    /// agent may leave it out: it then goes out from the number of the phone's latest chat in the
    /// queue (or the agent's queues), while that queue keeps `sticky_sender` on, else from the first
    /// number whose menu offers the queue.
    pub outbound_number: Option<String>,
    /// The text to send (up to 1600 characters); or leave it out and name a `predefined_id` (exactly
    /// one of the two). It may be left out when `media_ids` names media.
    pub message: Option<String>,
    /// A predefined reply of the setup to send instead of `message`, filled in with `variables`.
    pub predefined_id: Option<String>,
    /// Values for the predefined reply's placeholders, by name without braces (`{"agent": "Ann"}`):
    /// any of agent_first_name, agent, queue, brand, consumer_last_four. They replace what Parley
    /// fills in itself (brand; the agent's name and queue for an agent's chat; the consumer's last
    /// four digits); a placeholder left without a value is refused.
    pub variables: Option<BTreeMap<String, String>>,
    /// Uploads to send with the message (`POST /api/v1/media`), at most 10, each the caller's own and
    /// not sent yet; 422 `media_not_supported` from a number on an SMPP carrier account.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// The agent who holds the chat; agent tokens may only name themselves (and default to
    /// themselves). Without an agent the consumer's answer enters the number's menu.
    pub agent_id: Option<String>,
    /// The agent by the e-mail address the setup gives them, instead of `agent_id` (not both).
    pub agent_email: Option<String>,
    /// Your reference for the chat (a ticket, a case, an order), up to 100 characters: kept on the
    /// chat, shown to the agent, and in the `ticket_id` of every event of the chat. A chat that is
    /// joined (live already) keeps its own.
    pub ticket_id: Option<String>,
    /// Up to 20 key-values (keys up to 40 characters, values up to 500) shown to the agent with the
    /// chat. A chat that is joined keeps its own.
    pub context: Option<BTreeMap<String, String>>,
    /// The queue the agent's chat belongs to (default: the number's first queue the agent serves).
    pub queue: Option<String>,
    /// Refuse (409 `quiet_hours`) instead of scheduling when the consumer's quiet hours hold.
    #[serde(default)]
    pub no_delay: bool,
    /// Send later: RFC 3339, after now and at most 30 days ahead. Nothing happens until then (for a
    /// chat: it opens when the message is due); consent, the number's state and quiet hours are
    /// checked at that time, not now.
    pub send_at: Option<String>,
}

/// A sessionless notification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundMessage {
    /// The consumer's phone, E.164.
    pub end_user_number: String,
    /// The business number to send from, E.164.
    pub outbound_number: String,
    /// The text to send (up to 1600 characters); or leave it out and name a `predefined_id` (exactly
    /// one of the two). It may be left out when `media_ids` names media.
    pub message: Option<String>,
    /// A predefined reply of the setup to send instead of `message`, filled in with `variables`.
    pub predefined_id: Option<String>,
    /// Values for the predefined reply's placeholders, as for `POST /api/v1/outbound/chats` (a
    /// sessionless message has no agent or queue: Parley fills in brand and consumer_last_four).
    pub variables: Option<BTreeMap<String, String>>,
    /// Uploads to send with the message, as on `POST /api/v1/outbound/chats`.
    #[serde(default)]
    pub media_ids: Vec<String>,
    /// Refuse (409 `quiet_hours`) instead of scheduling when the consumer's quiet hours hold.
    #[serde(default)]
    pub no_delay: bool,
    /// Send later: RFC 3339, after now and at most 30 days ahead. Nothing happens until then (for a
    /// chat: it opens when the message is due); consent, the number's state and quiet hours are
    /// checked at that time, not now.
    pub send_at: Option<String>,
}

/// What became of an outbound message.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboundSent {
    pub message_id: String,
    /// "queued" (goes out now), or "scheduled": sent later as asked (`send_at`), or held by the
    /// consumer's quiet hours until `send_at`.
    pub status: String,
    pub send_at: Option<String>,
    /// How many SMS the text takes (as `POST /api/v1/sms/segments` counts it).
    pub segments: usize,
    /// "gsm7" when every character is in the GSM 03.38 alphabet, else "ucs2".
    pub encoding: String,
    /// The chat the message opened or joined (none for a sessionless message).
    pub chat: Option<ChatView>,
}

fn phone(field: &str, value: &str) -> Result<E164, ApiError> {
    E164::parse(value).map_err(|e| ApiError::invalid(format!("{field}: {e}")))
}

fn business_number(value: &str) -> Result<BusinessNumber, ApiError> {
    BusinessNumber::parse(value).map_err(|e| ApiError::invalid(format!("outbound_number: {e}")))
}

fn message(text: &str, media: usize) -> Result<String, ApiError> {
    let characters = text.chars().count();
    if text.trim().is_empty() && media == 0 {
        return Err(ApiError::invalid("message must not be empty (unless media_ids names media)"));
    }
    if characters > MAX_BODY_CHARS {
        return Err(ApiError::invalid(format!("message has {characters} characters; the limit is {MAX_BODY_CHARS}")));
    }
    Ok(text.to_owned())
}

/// The answer to a send of `text`.
pub(crate) fn sent(
    state: &AppState,
    who: &Principal,
    ack: OutboundAck,
    text: &str,
) -> (StatusCode, Json<OutboundSent>) {
    let info = segment::count(text);
    let body = OutboundSent {
        message_id: ack.message_id,
        status: ack.status.as_str().to_owned(),
        send_at: ack.send_at.map(rfc3339),
        segments: info.segments,
        encoding: encoding_name(info.encoding).to_owned(),
        chat: ack.chat.map(|c| view_for(state, who, c)),
    };
    (StatusCode::CREATED, Json(body))
}

/// Starts a chat with a consumer, or writes into the live chat between the two numbers. A chat started
/// for an agent goes to a queue whose `agent_outbound` switch (inherited) is on: the named queue, or
/// the number's first that the agent serves and that allows it.
#[utoipa::path(post, path = "/api/v1/outbound/chats", tag = "outbound", request_body = OutboundChat,
    responses((status = 201, body = OutboundSent), (status = 401, body = ErrorBody),
              (status = 403, description = "not allowed, or agents may not start outbound chats in the queue (code agent_outbound_off: `agent_outbound = false` on the queue, a parent or the settings)", body = ErrorBody),
              (status = 409, description = "opted_out, blocked (the phone is on the blocklist), quiet_hours (with no_delay), number_not_enabled, or a live chat held by someone else", body = ErrorBody),
              (status = 422, description = "a bad field (an unknown or already sent media id names /media_ids/N), an outbound_number whose role is incoming, or media_ids from a number on an SMPP account (code media_not_supported)", body = ErrorBody)),
    security(("bearer" = ["sms:send"])))]
pub async fn start_chat(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<OutboundChat>,
) -> Result<(StatusCode, Json<OutboundSent>), ApiError> {
    let consumer = phone("end_user_number", &req.end_user_number)?;
    let named = named_agent(&state, req.agent_id.as_deref(), req.agent_email.as_deref())?;
    let agent = match (&who, named.as_deref()) {
        (Principal::Agent(me), None) => Some(me.clone()),
        (Principal::Agent(me), Some(named)) if named == me.as_str() => Some(me.clone()),
        (Principal::Agent(_), Some(_)) => {
            return Err(ApiError::forbidden(
                "agent tokens start chats for themselves only: leave agent_id and agent_email out",
            ));
        }
        (Principal::Admin { .. }, None) => None,
        (Principal::Supervisor { .. }, _) => {
            return Err(ApiError::forbidden(
                "supervisors watch chats but do not start them: this needs an agent or an admin",
            ));
        }
        (Principal::Admin { .. }, Some(named)) => {
            let id = AgentId::parse(named).map_err(|e| ApiError::invalid(format!("agent_id: {e}")))?;
            if state.engine.setup().agent(&id).is_none() {
                return Err(ApiError::invalid(format!("agent_id: no agent \"{named}\" in the setup")));
            }
            Some(id)
        }
    };
    let queue = match req.queue.as_deref() {
        None => None,
        Some(_) if agent.is_none() => {
            return Err(ApiError::invalid("queue: only a chat started for an agent takes a queue"));
        }
        Some(q) => Some(QueueId::parse(q).map_err(|e| ApiError::invalid(format!("queue: {e}")))?),
    };
    let (number, queue) = match (req.outbound_number.as_deref(), &agent) {
        (Some(number), _) => (business_number(number)?, queue),
        (None, Some(agent)) => {
            let (number, queue) = sticky_sender(&state, &consumer, agent, queue).await?;
            (number, Some(queue))
        }
        (None, None) => {
            return Err(ApiError::invalid_fields(
                "outbound_number: name the number to send from (only a chat for an agent may leave it out)",
                vec![FieldProblem::new(Some("/outbound_number".to_owned()), "required for a chat without an agent")],
            ));
        }
    };
    let ticket = ticket(req.ticket_id.as_deref(), req.context)?;
    let text = {
        let setup = state.engine.setup();
        let mut vars = ReplyVars::for_chat(
            agent.as_ref().and_then(|a| setup.agent(a)).map(|a| a.name.as_str()),
            queue.as_ref().and_then(|q| setup.queue(q)).map(|q| q.name.as_str()),
            &setup.settings.brand,
            Some(&consumer),
        );
        if let Some(reply) =
            req.predefined_id.as_deref().and_then(|id| setup.replies.iter().find(|r| r.id.as_str() == id))
        {
            app_links(&state, &setup, reply, consumer.as_str(), &number.to_string(), &mut vars)?;
        }
        let reply = Predefined { id: req.predefined_id.as_deref(), variables: req.variables, agent: agent.as_ref() };
        text_of(&setup, &who, req.message.as_deref(), reply, &mut vars, req.media_ids.len())?
    };
    let source = agent.as_ref().map_or("api".to_owned(), |a| format!("agent:{a}"));
    let media = attachable(&state, &who, &req.media_ids, &number).await?;
    if let Some(send_at) = req.send_at.as_deref() {
        let send_at = parse_send_at(&state, send_at, Some("/send_at"))?;
        if !ticket.is_empty() {
            // A held chat keeps only its text, agent and queue until it opens (the 0022 migration).
            return Err(ApiError::invalid_fields(
                "send_at: a chat scheduled for later does not keep ticket_id or context yet; send it now, or leave them out",
                vec![FieldProblem::new(Some("/send_at".to_owned()), "not with ticket_id or context")],
            ));
        }
        let kind = HeldKind::Chat { agent, queue };
        let request = ScheduleRequest { number, consumer, text: text.clone(), kind, send_at, author: source, media };
        let ack = state.engine.schedule(request).await?;
        return Ok(sent(&state, &who, ack, &text));
    }
    let input = Input::Outbound { text: text.clone(), agent, queue, no_delay: req.no_delay, ticket };
    let ack = state.engine.outbound(OutboundRequest { number, consumer, input, source, media, twilio: None }).await?;
    Ok(sent(&state, &who, ack, &text))
}

/// The agent a request names, as an id: `agent_id` as written, or the agent whose e-mail is
/// `agent_email` (not both).
fn named_agent(state: &AppState, id: Option<&str>, email: Option<&str>) -> Result<Option<String>, ApiError> {
    match (id, email) {
        (Some(_), Some(_)) => Err(ApiError::invalid_fields(
            "agent_id and agent_email name the same thing: give one of them",
            vec![FieldProblem::new(Some("/agent_email".to_owned()), "not together with agent_id")],
        )),
        (Some(id), None) => Ok(Some(id.to_owned())),
        (None, Some(email)) => match state.engine.setup().agent_by_email(email) {
            Some(agent) => Ok(Some(agent.id.to_string())),
            None => Err(ApiError::invalid_fields(
                format!("agent_email: no agent has the e-mail \"{email}\" in the setup"),
                vec![FieldProblem::new(Some("/agent_email".to_owned()), "no agent has this e-mail")],
            )),
        },
        (None, None) => Ok(None),
    }
}

/// The ticket id and context checked against their limits; a refusal names the value at fault.
fn ticket(id: Option<&str>, context: Option<BTreeMap<String, String>>) -> Result<Ticket, ApiError> {
    Ticket::parse(id, context.unwrap_or_default().into_iter().collect()).map_err(|problem| {
        ApiError::invalid_fields(problem.to_string(), vec![FieldProblem::new(Some(problem.pointer), problem.reason)])
    })
}

/// The predefined reply a request names instead of a message, and who it is for.
struct Predefined<'a> {
    id: Option<&'a str>,
    variables: Option<BTreeMap<String, String>>,
    /// The chat's agent: an agent's own token sends only the replies meant for them.
    agent: Option<&'a AgentId>,
}

fn variable_pointer(name: &str) -> Option<String> {
    Some(pointer([PointerSegment::Key("variables"), PointerSegment::Key(name)]))
}

/// The text to send: `message` as written, or the predefined reply filled in with `vars` (what
/// Parley knows of the chat) and the request's `variables` over them. Exactly one of the two.
fn text_of(
    setup: &Setup,
    who: &Principal,
    text: Option<&str>,
    predefined: Predefined<'_>,
    vars: &mut ReplyVars,
    media: usize,
) -> Result<String, ApiError> {
    let reply_id = match (text, predefined.id) {
        // Media alone needs no text.
        (None, None) if media > 0 && predefined.variables.is_none() => return Ok(String::new()),
        (Some(text), None) => {
            if predefined.variables.is_some() {
                return Err(ApiError::invalid_fields(
                    "variables fill in a predefined reply: send them with predefined_id, or leave them out",
                    vec![FieldProblem::new(Some("/variables".to_owned()), "only with predefined_id")],
                ));
            }
            return message(text, media);
        }
        (None, Some(id)) => id,
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::invalid_fields(
                "give exactly one of message and predefined_id",
                vec![FieldProblem::new(Some("/message".to_owned()), "exactly one of message and predefined_id")],
            ));
        }
    };
    let Some(reply) = setup.replies.iter().find(|r| r.id.as_str() == reply_id) else {
        return Err(ApiError::invalid_fields(
            format!("predefined_id: no predefined reply \"{reply_id}\" in the setup; GET /api/v1/replies lists them"),
            vec![FieldProblem::new(Some("/predefined_id".to_owned()), "no such predefined reply")],
        ));
    };
    if let (Principal::Agent(_), Some(agent)) = (who, predefined.agent)
        && !reply.available_to(agent, setup)
    {
        return Err(ApiError::forbidden(format!(
            "reply \"{reply_id}\" is for other queues or teams; GET /api/v1/replies lists yours"
        )));
    }
    let unknown: Vec<FieldProblem> = predefined
        .variables
        .iter()
        .flatten()
        .filter(|(name, value)| !vars.set(name, value))
        .map(|(name, _)| FieldProblem::new(variable_pointer(name), format!("no placeholder is called {{{name}}}")))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<String> = PLACEHOLDERS.iter().map(|k| (*k).to_owned()).collect();
        return Err(ApiError::invalid_fields(
            format!("variables: a predefined reply's placeholders are {}", known.join(", ")),
            unknown,
        ));
    }
    let missing = reply.unfilled(vars);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|m| format!("{{{m}}}")).collect();
        let details = missing.iter().map(|m| FieldProblem::new(variable_pointer(m), "missing")).collect();
        return Err(ApiError::invalid_fields(
            format!("predefined reply \"{reply_id}\" uses {}: give a value in variables", names.join(", ")),
            details,
        ));
    }
    message(&reply.render(vars), media)
        .map_err(|e| ApiError::invalid(format!("predefined reply \"{reply_id}\" filled in: {}", e.message)))
}

/// The number (and queue) an agent's chat goes out from when the request names no number: the
/// phone's latest chat in `queue` (or in the agent's queues) keeps its number, see
/// [`parley_core::setup::Setup::reply_from`].
async fn sticky_sender(
    state: &AppState,
    consumer: &E164,
    agent: &AgentId,
    queue: Option<QueueId>,
) -> Result<(BusinessNumber, QueueId), ApiError> {
    let setup = state.engine.setup();
    // A named queue is checked by the core (`agent_outbound`, the agent's queues); otherwise only the
    // agent's queues that let agents write first can keep a thread.
    let queues = match queue {
        Some(q) => vec![q],
        None => setup.queues_of(agent).into_iter().filter(|q| setup.agent_outbound(q)).collect(),
    };
    let names: Vec<String> = queues.iter().map(ToString::to_string).collect();
    let latest = state.store.latest_in_queues(consumer.as_str(), &names).await?;
    // A stored value this version cannot read names no number: fall back as if there were none.
    let latest = latest.and_then(|(n, q)| Some((BusinessNumber::parse(&n).ok()?, QueueId::parse(&q).ok()?)));
    match setup.reply_from(&queues, latest.as_ref().map(|(n, q)| (n, q))) {
        Some((number, queue)) => Ok((number.number.clone(), queue)),
        None => Err(ApiError::invalid_fields(
            format!("outbound_number: no number's menu offers {}; name the number to send from", names.join(", ")),
            vec![FieldProblem::new(Some("/outbound_number".to_owned()), "required: no number offers the chat's queue")],
        )),
    }
}

/// Sends a notification that belongs to no chat; the consumer's answer is handled like a first text,
/// or, on a number with `sessionless_reply = "auto_reply"`, kept as the notification's reply.
#[utoipa::path(post, path = "/api/v1/outbound/messages", operation_id = "send_outbound_message", tag = "outbound", request_body = OutboundMessage,
    responses((status = 201, body = OutboundSent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "opted_out, blocked (the phone is on the blocklist), quiet_hours (with no_delay) or number_not_enabled", body = ErrorBody),
              (status = 422, description = "a bad field (an unknown or already sent media id names /media_ids/N), an outbound_number whose role is incoming, or media_ids from a number on an SMPP account (code media_not_supported)", body = ErrorBody)),
    security(("bearer" = ["sms:send"])))]
pub async fn send_message(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<OutboundMessage>,
) -> Result<(StatusCode, Json<OutboundSent>), ApiError> {
    who.require_admin()?;
    let consumer = phone("end_user_number", &req.end_user_number)?;
    let number = business_number(&req.outbound_number)?;
    let text = {
        let setup = state.engine.setup();
        let mut vars = ReplyVars::for_chat(None, None, &setup.settings.brand, Some(&consumer));
        if let Some(reply) =
            req.predefined_id.as_deref().and_then(|id| setup.replies.iter().find(|r| r.id.as_str() == id))
        {
            app_links(&state, &setup, reply, consumer.as_str(), &number.to_string(), &mut vars)?;
        }
        let reply = Predefined { id: req.predefined_id.as_deref(), variables: req.variables, agent: None };
        text_of(&setup, &who, req.message.as_deref(), reply, &mut vars, req.media_ids.len())?
    };
    let media = attachable(&state, &who, &req.media_ids, &number).await?;
    if let Some(send_at) = req.send_at.as_deref() {
        let send_at = parse_send_at(&state, send_at, Some("/send_at"))?;
        let kind = HeldKind::Sessionless;
        let author = "api".to_owned();
        let request = ScheduleRequest { number, consumer, text: text.clone(), kind, send_at, author, media };
        let ack = state.engine.schedule(request).await?;
        return Ok(sent(&state, &who, ack, &text));
    }
    let input = Input::Sessionless { text: text.clone(), no_delay: req.no_delay };
    let source = "api".to_owned();
    let ack = state.engine.outbound(OutboundRequest { number, consumer, input, source, media, twilio: None }).await?;
    Ok(sent(&state, &who, ack, &text))
}

/// An outbound message as its sender tracks it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboundStatus {
    pub message_id: String,
    pub end_user_number: String,
    pub outbound_number: String,
    /// The chat it belongs to; none for a sessionless message.
    pub chat_id: Option<String>,
    /// scheduled, queued, sending, sent, delivered, undelivered, failed, or suppressed (the phone opted
    /// out before it went out).
    pub status: String,
    /// When a scheduled message goes out.
    pub send_at: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    /// A sessionless notification's replies: the consumer's texts within the number's
    /// `sessionless_window_hours`, on a number with `sessionless_reply = "auto_reply"` (or an
    /// outbound-only one), each answered with its `unmonitored` message. Oldest first.
    pub replies: Vec<NotificationReply>,
}

/// A consumer's text that answered a notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationReply {
    pub message_id: String,
    pub body: String,
    pub received_at: String,
}

/// The delivery status of a message sent through the outbound API (or any outbound message).
#[utoipa::path(get, path = "/api/v1/outbound/messages/{id}", tag = "outbound", params(("id" = String, Path)),
    responses((status = 200, body = OutboundStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = ["sms:send"]), ("bearer" = ["chats:read"])))]
pub async fn get_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OutboundStatus>, ApiError> {
    who.require_admin()?;
    let found = state.store.messages_by_ids(std::slice::from_ref(&id)).await?.into_iter().next();
    let Some(m) = found.filter(|m| m.direction == Direction::Out) else {
        return Err(ApiError::not_found(format!("no outbound message with id {id}")));
    };
    let replies = if m.chat_id.is_none() { state.store.notification_replies(&m.id).await? } else { vec![] };
    let replies = replies
        .into_iter()
        .map(|r| NotificationReply { message_id: r.id, body: r.body, received_at: rfc3339(r.created_at) })
        .collect();
    Ok(Json(OutboundStatus {
        replies,
        send_at: m.send_at.or((m.status == MessageStatus::Scheduled).then_some(m.next_attempt_at)).map(rfc3339),
        message_id: m.id,
        end_user_number: m.consumer,
        outbound_number: m.number,
        chat_id: m.chat_id,
        status: m.status.as_str().to_owned(),
        error: m.error,
        created_at: rfc3339(m.created_at),
    }))
}
