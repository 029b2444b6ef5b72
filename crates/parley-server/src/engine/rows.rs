//! Chats as the store keeps them, and back.

use parley_core::chat::{Chat, ChatStatus, EndReason, Origin};
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::setup::Setup;
use parley_core::time::Timestamp;
use parley_core::timers;
use parley_store::rows::ChatRow;

/// A chat as stored, with the next moment one of its timers (under `setup`) is due.
pub fn chat_to_row(chat: &Chat, setup: &Setup, updated_at: Timestamp) -> ChatRow {
    let due_at = timers::next_due(chat, &setup.timers_for(chat.queue.as_ref())).map(|t| t.0);
    ChatRow {
        id: chat.id.to_string(),
        number: chat.number.to_string(),
        consumer: chat.consumer.to_string(),
        origin: chat.origin.as_str().to_owned(),
        status: chat.status.as_str().to_owned(),
        queue: chat.queue.as_ref().map(ToString::to_string),
        agent: chat.agent.as_ref().map(ToString::to_string),
        opened_at: chat.opened_at.0,
        queued_at: chat.queued_at.map(|t| t.0),
        offered_at: chat.offered_at.map(|t| t.0),
        last_message_at: chat.last_message_at.0,
        warned_at: chat.warned_at.map(|t| t.0),
        due_at,
        ended_at: chat.ended_at.map(|t| t.0),
        end_reason: chat.end_reason.map(|r| r.as_str().to_owned()),
        ended_by: chat.ended_by.clone(),
        updated_at: updated_at.0,
    }
}

/// A stored chat, if the row is well-formed.
pub fn chat_from_row(row: &ChatRow) -> Option<Chat> {
    Some(Chat {
        id: ChatId::new(row.id.clone()),
        number: BusinessNumber::parse(&row.number).ok()?,
        consumer: E164::parse(&row.consumer).ok()?,
        origin: Origin::parse(&row.origin)?,
        status: ChatStatus::parse(&row.status)?,
        queue: row.queue.as_deref().map(QueueId::parse).transpose().ok()?,
        agent: row.agent.as_deref().map(AgentId::parse).transpose().ok()?,
        opened_at: Timestamp(row.opened_at),
        queued_at: row.queued_at.map(Timestamp),
        offered_at: row.offered_at.map(Timestamp),
        // Rows from before timers existed have 0: count from the opening.
        last_message_at: Timestamp(row.last_message_at.max(row.opened_at)),
        warned_at: row.warned_at.map(Timestamp),
        ended_at: row.ended_at.map(Timestamp),
        end_reason: row.end_reason.as_deref().and_then(EndReason::parse),
        ended_by: row.ended_by.clone(),
    })
}
