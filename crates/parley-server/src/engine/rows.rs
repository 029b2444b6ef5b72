//! Chats as the store keeps them, and back.

use parley_core::chat::{Chat, EndReason, Origin, StartType, Transfer, TransferTarget};
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::setup::Setup;
use parley_core::ticket::Ticket;
use parley_core::time::Timestamp;
use parley_core::timers;
use parley_store::rows::ChatRow;
use serde_json::{Value, json};

/// A chat as stored, with the next moment one of its timers (under `setup`) is due.
pub fn chat_to_row(chat: &Chat, setup: &Setup, updated_at: Timestamp) -> ChatRow {
    let due_at = timers::next_due(chat, &timers::for_chat(setup, chat)).map(|t| t.0);
    ChatRow {
        id: chat.id.to_string(),
        number: chat.number.to_string(),
        consumer: chat.consumer.to_string(),
        origin: chat.origin.as_str().to_owned(),
        status: chat.status,
        queue: chat.queue.as_ref().map(ToString::to_string),
        agent: chat.agent.as_ref().map(ToString::to_string),
        opened_at: chat.opened_at.0,
        queued_at: chat.queued_at.map(|t| t.0),
        offered_at: chat.offered_at.map(|t| t.0),
        last_message_at: chat.last_message_at.0,
        warned_at: chat.warned_at.map(|t| t.0),
        due_at,
        transfer: chat.transfer.as_ref().map(transfer_json),
        menu_level: chat.menu_level.as_ref().map(ToString::to_string),
        start_type: chat.start_type.map(|s| s.as_str().to_owned()),
        language: chat.language.clone(),
        answered_at: chat.answered_at.map(|t| t.0),
        awaiting_reply_since: chat.awaiting_reply_since.map(|t| t.0),
        agent_message_at: chat.agent_message_at.map(|t| t.0),
        dismissed_at: chat.dismissed_at.map(|t| t.0),
        wait_since: chat.wait_since.map(|t| t.0),
        after_hours_until: chat.after_hours_until.map(|t| t.0),
        ended_at: chat.ended_at.map(|t| t.0),
        end_reason: chat.end_reason.map(|r| r.as_str().to_owned()),
        ended_by: chat.ended_by.clone(),
        updated_at: updated_at.0,
        ticket_id: chat.ticket.id.clone(),
        context: (!chat.ticket.context.is_empty()).then(|| context_json(&chat.ticket.context)),
    }
}

/// A stored chat, if the row is well-formed. `language` is the chat's when the row has none (rows from
/// before chats had languages).
pub fn chat_from_row(row: &ChatRow, language: &str) -> Option<Chat> {
    Some(Chat {
        id: ChatId::new(row.id.clone()),
        number: BusinessNumber::parse(&row.number).ok()?,
        consumer: E164::parse(&row.consumer).ok()?,
        origin: Origin::parse(&row.origin)?,
        status: row.status,
        queue: row.queue.as_deref().map(QueueId::parse).transpose().ok()?,
        menu_level: row.menu_level.as_deref().map(QueueId::parse).transpose().ok()?,
        start_type: row.start_type.as_deref().and_then(StartType::parse),
        agent: row.agent.as_deref().map(AgentId::parse).transpose().ok()?,
        opened_at: Timestamp(row.opened_at),
        queued_at: row.queued_at.map(Timestamp),
        offered_at: row.offered_at.map(Timestamp),
        // Rows from before timers existed have 0: count from the opening.
        last_message_at: Timestamp(row.last_message_at.max(row.opened_at)),
        warned_at: row.warned_at.map(Timestamp),
        transfer: match row.transfer.as_deref() {
            None => None,
            Some(json) => Some(transfer_from_json(json)?),
        },
        language: if row.language.is_empty() { language.to_owned() } else { row.language.clone() },
        answered_at: row.answered_at.map(Timestamp),
        awaiting_reply_since: row.awaiting_reply_since.map(Timestamp),
        agent_message_at: row.agent_message_at.map(Timestamp),
        dismissed_at: row.dismissed_at.map(Timestamp),
        wait_since: row.wait_since.map(Timestamp),
        after_hours_until: row.after_hours_until.map(Timestamp),
        ended_at: row.ended_at.map(Timestamp),
        end_reason: row.end_reason.as_deref().and_then(EndReason::parse),
        ended_by: row.ended_by.clone(),
        ticket: Ticket {
            id: row.ticket_id.clone(),
            context: match row.context.as_deref() {
                None => vec![],
                Some(json) => context_from_json(json)?,
            },
        },
    })
}

/// Context entries as a JSON object, in their order.
fn context_json(context: &[(String, String)]) -> String {
    let object: serde_json::Map<String, Value> =
        context.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    Value::Object(object).to_string()
}

/// Stored context entries; `None` when the text is not an object of strings.
pub(crate) fn context_from_json(text: &str) -> Option<Vec<(String, String)>> {
    let Value::Object(object) = serde_json::from_str(text).ok()? else {
        return None;
    };
    object.into_iter().map(|(k, v)| Some((k, v.as_str()?.to_owned()))).collect()
}

fn transfer_json(t: &Transfer) -> String {
    let (to_agent, to_queue) = match &t.target {
        TransferTarget::Agent(a) => (Some(a.as_str()), None),
        TransferTarget::Queue(q) => (None, Some(q.as_str())),
    };
    json!({
        "from": t.from.as_str(),
        "to_agent": to_agent,
        "to_queue": to_queue,
        "offered_to": t.offered_to.as_str(),
        "note": t.note,
        "started_at": t.started_at.0,
    })
    .to_string()
}

fn transfer_from_json(text: &str) -> Option<Transfer> {
    let v: Value = serde_json::from_str(text).ok()?;
    let target = match (v["to_agent"].as_str(), v["to_queue"].as_str()) {
        (Some(agent), _) => TransferTarget::Agent(AgentId::parse(agent).ok()?),
        (None, Some(queue)) => TransferTarget::Queue(QueueId::parse(queue).ok()?),
        (None, None) => return None,
    };
    Some(Transfer {
        from: AgentId::parse(v["from"].as_str()?).ok()?,
        target,
        offered_to: AgentId::parse(v["offered_to"].as_str()?).ok()?,
        note: v["note"].as_str()?.to_owned(),
        started_at: Timestamp(v["started_at"].as_i64()?),
    })
}
