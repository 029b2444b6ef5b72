//! Send later, cancel and resend in the batch: the held rows a batch loads, and what the desk's
//! [`Desk::release`](parley_core::desk::Desk::release) made of them, written as rows.
//!
//! A held (send-later) message is a `messages` row in status scheduled with `held` set; the outbox
//! never claims it. When it is due, the desk decides (consent, the number's state, the chat, quiet
//! hours at that moment); a message it sends replaces the held row under the same id, so the id the
//! caller got when scheduling is the id of the message that goes out. Held rows change only in an
//! engine turn, which is why a cancel and a release can never both win.

use std::collections::BTreeSet;

use parley_core::chat::{ChatStatus, Refusal};
use parley_core::desk::Released;
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::message::{Direction, MessageStatus};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::scheduled::{Held, HeldKind};
use parley_core::setup::Setup;
use parley_core::time::Timestamp;
use parley_store::Store;
use parley_store::rows::{HeldUpdate, MessageRow};

use super::{Record, Working, link_media, push_message};
use crate::engine::rows::chat_to_row;
use crate::engine::{Answer, Command, EngineError, OutboundAck, ScheduleRequest};
use crate::outbound_media::OutMedia;

/// How many due held messages one batch releases; the worker comes back for the rest at once.
pub(in crate::engine) const RELEASE_BATCH: i64 = 200;

/// The stored word of a held kind, and the queue a held chat opens in.
pub(in crate::engine) fn held_words(kind: &HeldKind) -> (&'static str, Option<String>) {
    match kind {
        HeldKind::Reply { .. } => ("reply", None),
        HeldKind::Chat { queue, .. } => ("chat", queue.as_ref().map(ToString::to_string)),
        HeldKind::Sessionless => ("sessionless", None),
    }
}

/// What a held row becomes when due; `None` for a row this version cannot read.
fn held_of(m: &MessageRow) -> Option<Held> {
    let agent = m.author.strip_prefix("agent:").and_then(|a| AgentId::parse(a).ok());
    let kind = match m.held.as_deref()? {
        "reply" => HeldKind::Reply { chat: ChatId::parse(m.chat_id.as_deref()?).ok()?, agent: agent? },
        "chat" => HeldKind::Chat { agent, queue: m.held_queue.as_deref().and_then(|q| QueueId::parse(q).ok()) },
        "sessionless" => HeldKind::Sessionless,
        _ => return None,
    };
    Some(Held {
        number: BusinessNumber::parse(&m.number).ok()?,
        consumer: E164::parse(&m.consumer).ok()?,
        text: m.body.clone(),
        kind,
    })
}

impl Working {
    /// Loads the messages the batch's scheduled, cancel and resend inputs name, and the due held
    /// messages; adds their chats, phones and numbers to what the batch loads.
    pub(super) async fn load_later(
        &mut self,
        store: &Store,
        commands: &[&Command],
        consumers: &mut BTreeSet<String>,
        numbers: &mut BTreeSet<String>,
        chat_ids: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let mut ids = Vec::new();
        let mut due_at = None;
        for command in commands {
            match command {
                Command::Schedule(r) => {
                    consumers.insert(r.consumer.to_string());
                    numbers.insert(r.number.to_string());
                    if let HeldKind::Reply { chat, .. } = &r.kind {
                        chat_ids.push(chat.to_string());
                    }
                }
                Command::Cancel { message_id } | Command::Resend { message_id, .. } => ids.push(message_id.clone()),
                Command::ReleaseDue { now } => due_at = Some(due_at.map_or(*now, |d: i64| d.max(*now))),
                _ => {}
            }
        }
        let mut rows = store.messages_by_ids(&ids).await?;
        if let Some(now) = due_at {
            self.held = store.held_due(now, RELEASE_BATCH).await?;
            rows.extend(self.held.iter().cloned());
        }
        for m in rows {
            consumers.insert(m.consumer.clone());
            numbers.insert(m.number.clone());
            chat_ids.extend(m.chat_id.clone());
            self.messages.insert(m.id.clone(), m);
        }
        Ok(())
    }

    /// Stores a message to send later (see [`ScheduleRequest`]). Consent, the number's state and quiet
    /// hours are looked at when it is due; a reply must be into a chat connected with its agent now.
    pub(in crate::engine) fn schedule(
        &mut self,
        setup: &Setup,
        request: &ScheduleRequest,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let number =
            setup.number(&request.number).ok_or_else(|| EngineError::NumberNotSetUp(request.number.to_string()))?;
        let chat = match &request.kind {
            HeldKind::Reply { chat, agent } => {
                let chat = self.desk.chat(chat).ok_or_else(|| EngineError::ChatNotFound(chat.clone()))?;
                if chat.status == ChatStatus::Finished {
                    return Err(EngineError::Refused(Refusal::Ended));
                }
                if chat.status != ChatStatus::Connected {
                    return Err(EngineError::Refused(Refusal::NotConnected));
                }
                if chat.agent.as_ref() != Some(agent) {
                    return Err(EngineError::Refused(Refusal::TakenByAnother));
                }
                Some(chat)
            }
            HeldKind::Chat { .. } | HeldKind::Sessionless => None,
        };
        let (held, held_queue) = held_words(&request.kind);
        let row = MessageRow {
            chat_id: chat.map(|c| c.id.to_string()),
            status: MessageStatus::Scheduled,
            next_attempt_at: request.send_at.0,
            send_at: Some(request.send_at.0),
            held: Some(held.to_owned()),
            held_queue,
            ..MessageRow::outbound(
                uuid::Uuid::now_v7().to_string(),
                number.number.to_string(),
                request.consumer.to_string(),
                &number.carrier,
                request.author.clone(),
                request.text.clone(),
                now.0,
            )
        };
        // The uploads are the held message's from now on; its release keeps its id and so them.
        let row = MessageRow { media: request.media.column(), ..row };
        link_media(&mut self.batch, &request.media, &row, now);
        let ack = OutboundAck {
            chat: chat.map(|c| chat_to_row(c, setup, now)),
            message_id: row.id.clone(),
            status: MessageStatus::Scheduled,
            send_at: Some(request.send_at.0),
        };
        push_message(&mut self.batch, row, chat, now);
        Ok(Answer::Outbound(Box::new(ack)))
    }

    /// Releases the held messages that came due (loaded by [`Working::load_later`]).
    pub(in crate::engine) fn release_due(&mut self, setup: &Setup, now: Timestamp) {
        for m in std::mem::take(&mut self.held) {
            if self.canceled.contains(&m.id) || self.released.contains(&m.id) {
                continue;
            }
            let Some(held) = held_of(&m) else {
                self.give_up(
                    &m,
                    MessageStatus::Failed,
                    "this scheduled message cannot be read: it was not sent".into(),
                    now,
                );
                continue;
            };
            match self.send_held(setup, &held, &m.author, m.id.clone(), OutMedia::from_column(&m.media), now) {
                Released::Sent { .. } => {
                    self.released.insert(m.id.clone());
                    self.batch.held_released.push(m.seq);
                    if let Some(row) = self.batch.messages.iter_mut().rev().find(|r| r.id == m.id) {
                        row.send_at = m.send_at;
                        row.resend_of = m.resend_of.clone();
                    }
                }
                Released::Waiting { until } => self.batch.held_updates.push(HeldUpdate {
                    seq: m.seq,
                    message_id: m.id.clone(),
                    status: MessageStatus::Scheduled,
                    next_attempt_at: until.0,
                    error: Some("waiting for the end of the consumer's quiet hours".to_owned()),
                    at: now.0,
                }),
                Released::Suppressed(reason) => self.give_up(&m, MessageStatus::Suppressed, reason, now),
                Released::Failed(reason) => self.give_up(&m, MessageStatus::Failed, reason, now),
            }
        }
    }

    /// Runs a held message through the desk; the message it sends gets `id` and carries `media`.
    fn send_held(
        &mut self,
        setup: &Setup,
        held: &Held,
        author: &str,
        id: String,
        media: OutMedia,
        now: Timestamp,
    ) -> Released {
        let new_chat_id = ChatId::new(uuid::Uuid::now_v7().to_string());
        let source = if author.starts_with("agent:") { author } else { "api" };
        let mut rec = Record { batch: &mut self.batch, source, inbound: None, reuse_id: Some(id.clone()), media };
        let released = self.desk.release(setup, held, &new_chat_id, now, &mut rec);
        if matches!(released, Released::Sent { .. }) && !self.batch.messages.iter().any(|r| r.id == id) {
            // Not reached: every input a held message is sent through writes its message.
            tracing::error!(message = id, "a released scheduled message wrote no message");
        }
        released
    }

    fn give_up(&mut self, m: &MessageRow, status: MessageStatus, reason: String, now: Timestamp) {
        self.batch.held_updates.push(HeldUpdate {
            seq: m.seq,
            message_id: m.id.clone(),
            status,
            next_attempt_at: m.next_attempt_at,
            error: Some(reason.clone()),
            at: now.0,
        });
        self.status_event(&m.id, m.chat_id.as_deref(), status, Some(reason), now);
    }

    /// Cancels a message that waits to be sent later. One that left (or was let go to the outbox) is
    /// 409 `already_sent`.
    pub(in crate::engine) fn cancel(&mut self, message_id: &str, now: Timestamp) -> Result<Answer, EngineError> {
        let m = self
            .messages
            .get(message_id)
            .cloned()
            .ok_or_else(|| EngineError::MessageNotFound(message_id.to_owned()))?;
        if m.direction != Direction::Out {
            return Err(EngineError::AlreadySent(format!("message {message_id} is not an outbound message")));
        }
        if self.canceled.contains(&m.id) || m.status == MessageStatus::Canceled {
            return Err(EngineError::Conflict(format!("message {message_id} was canceled already")));
        }
        if m.status != MessageStatus::Scheduled || m.held.is_none() || self.released.contains(&m.id) {
            let status = if self.released.contains(&m.id) { MessageStatus::Queued } else { m.status };
            return Err(EngineError::AlreadySent(format!(
                "message {message_id} is {}: it has been handed to the outbox and can no longer be canceled",
                status.as_str()
            )));
        }
        self.canceled.insert(m.id.clone());
        let error = "canceled before it was due".to_owned();
        self.batch.held_updates.push(HeldUpdate {
            seq: m.seq,
            message_id: m.id.clone(),
            status: MessageStatus::Canceled,
            next_attempt_at: m.next_attempt_at,
            error: Some(error.clone()),
            at: now.0,
        });
        self.status_event(&m.id, m.chat_id.as_deref(), MessageStatus::Canceled, Some(error.clone()), now);
        let row = MessageRow { status: MessageStatus::Canceled, error: Some(error), updated_at: now.0, ..m };
        Ok(Answer::Message(Box::new(row)))
    }

    /// Sends a failed or undelivered outbound message again as a new message, through the input a
    /// message written now would take (consent and quiet hours checked again): a reply into its chat
    /// when that chat is still connected with the agent who wrote it, a message into the phone's live
    /// chat on the number otherwise, and a sessionless message when no chat lives.
    pub(in crate::engine) fn resend(
        &mut self,
        setup: &Setup,
        message_id: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let m = self
            .messages
            .get(message_id)
            .cloned()
            .ok_or_else(|| EngineError::MessageNotFound(message_id.to_owned()))?;
        if m.direction != Direction::Out || !m.status.resendable() {
            let what = if m.direction == Direction::Out { m.status.as_str() } else { m.direction.as_str() };
            return Err(EngineError::NotResendable(format!(
                "message {message_id} is {what}: only a failed or undelivered outbound message can be resent"
            )));
        }
        if let Some(resend) = m.resent_as.as_ref().or_else(|| self.resent.get(&m.id)) {
            return Err(EngineError::NotResendable(format!(
                "message {message_id} was resent already as {resend}: resend that one if it fails too"
            )));
        }
        let held = resend_as_held(&m, self.desk.chat(&ChatId::new(m.chat_id.clone().unwrap_or_default()))).ok_or_else(
            || EngineError::Conflict(format!("message {message_id} has no number or phone to resend to")),
        )?;
        let new_id = uuid::Uuid::now_v7().to_string();
        let author = if m.author.starts_with("agent:") { m.author.clone() } else { by.to_owned() };
        // A resend carries the same uploads (they stay linked to the message first sent with them).
        let released = self.send_held(setup, &held, &author, new_id.clone(), OutMedia::from_column(&m.media), now);
        let (status, send_at, chat) = match released {
            Released::Sent { chat } => {
                let Some(row) = self.batch.messages.iter_mut().rev().find(|r| r.id == new_id) else {
                    return Err(EngineError::Internal(anyhow::anyhow!("a resend wrote no message")));
                };
                row.resend_of = Some(m.id.clone());
                let send_at = (row.status == MessageStatus::Scheduled).then_some(row.next_attempt_at);
                (row.status, send_at, chat)
            }
            Released::Waiting { until } => {
                // Quiet hours: the resend waits as a held message, released like any other.
                let number = setup.number(&held.number).ok_or_else(|| EngineError::NumberNotSetUp(m.number.clone()))?;
                let (word, held_queue) = held_words(&held.kind);
                let chat = held_chat(&held.kind).and_then(|id| self.desk.chat(&id));
                let row = MessageRow {
                    chat_id: chat.map(|c| c.id.to_string()),
                    status: MessageStatus::Scheduled,
                    next_attempt_at: until.0,
                    send_at: Some(until.0),
                    held: Some(word.to_owned()),
                    held_queue,
                    resend_of: Some(m.id.clone()),
                    media: m.media.clone(),
                    ..MessageRow::outbound(
                        new_id.clone(),
                        m.number.clone(),
                        m.consumer.clone(),
                        &number.carrier,
                        author,
                        m.body.clone(),
                        now.0,
                    )
                };
                let chat_id = chat.map(|c| c.id.clone());
                push_message(&mut self.batch, row, chat, now);
                (MessageStatus::Scheduled, Some(until.0), chat_id)
            }
            Released::Suppressed(_) => return Err(EngineError::Refused(Refusal::OptedOut)),
            Released::Failed(reason) => return Err(EngineError::Conflict(format!("not resent: {reason}"))),
        };
        self.resent.insert(m.id.clone(), new_id.clone());
        self.batch.resent.push((m.seq, new_id.clone()));
        let chat = chat.and_then(|id| self.desk.chat(&id)).map(|c| chat_to_row(c, setup, now));
        Ok(Answer::Outbound(Box::new(OutboundAck { chat, message_id: new_id, status, send_at })))
    }
}

/// The chat a held message goes into, for a reply.
fn held_chat(kind: &HeldKind) -> Option<ChatId> {
    match kind {
        HeldKind::Reply { chat, .. } => Some(chat.clone()),
        HeldKind::Chat { .. } | HeldKind::Sessionless => None,
    }
}

/// What a resend of `m` is sent as, given its chat as it is now.
fn resend_as_held(m: &MessageRow, chat: Option<&parley_core::chat::Chat>) -> Option<Held> {
    let agent = m.author.strip_prefix("agent:").and_then(|a| AgentId::parse(a).ok());
    let kind = match chat.filter(|c| c.is_live()) {
        Some(c) if c.status == ChatStatus::Connected && agent.is_some() && c.agent == agent => {
            HeldKind::Reply { chat: c.id.clone(), agent: agent? }
        }
        Some(_) => HeldKind::Chat { agent: None, queue: None },
        None => HeldKind::Sessionless,
    };
    Some(Held {
        number: BusinessNumber::parse(&m.number).ok()?,
        consumer: E164::parse(&m.consumer).ok()?,
        text: m.body.clone(),
        kind,
    })
}
