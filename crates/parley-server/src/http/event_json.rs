//! The one JSON form of an event: [`row`] turns a typed [`Event`] into the row the event log stores,
//! [`wire`] turns a stored row into the object clients get (the SSE stream today; webhooks and CRM
//! connectors later, unchanged). `docs/events.md` is the schema, and the test below holds both to it.
//!
//! Rule: no other code writes an event's JSON. Why: every reader of events (the console, integrations,
//! reports) sees the same fields for a kind, and a kind cannot gain a field in one place only. The
//! match in [`fields`] is exhaustive, so a new kind does not compile until it has an encoding.
//!
//! The stored `data` holds the kind's own fields and the chat's status after the decision (the events
//! table has no column for it); [`wire`] adds the envelope from the row's columns. Rows written before
//! this module (whose data also held `chat_id`) come out the same.

use parley_core::chat::{Chat, ChatStatus, DismissReason, EndReason, TransferFailure};
use parley_core::crm::ContactChange;
use parley_core::event::Event;
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::message::{Direction, MessageStatus};
use parley_core::routing::Presence;
use parley_core::time::Timestamp;
use parley_store::rows::EventRow;
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;

/// The envelope: the fields every event has, whatever its kind. No kind's own field reuses a name.
pub const ENVELOPE: [&str; 7] = ["id", "kind", "at", "chat_id", "chat_status", "queue", "ticket_id"];

/// The row to store for `event` of `chat` (as the decision left it), addressed to `agent`.
pub fn row(event: &Event, chat: Option<&Chat>, agent: Option<&AgentId>, at: Timestamp) -> EventRow {
    let chat = chat.map(|c| OfChat {
        id: &c.id,
        status: c.status,
        queue: c.queue.as_ref(),
        ticket_id: c.ticket.id.as_deref(),
    });
    row_of(event, chat, agent, at)
}

/// What the envelope takes from the chat an event belongs to.
struct OfChat<'a> {
    id: &'a ChatId,
    status: ChatStatus,
    queue: Option<&'a QueueId>,
    /// The outbound API's ticket id, so that an integration finds its chat in every event of it.
    ticket_id: Option<&'a str>,
}

fn row_of(event: &Event, chat: Option<OfChat<'_>>, agent: Option<&AgentId>, at: Timestamp) -> EventRow {
    let mut data = fields(event);
    if let Some(chat) = &chat {
        data.insert("chat_status".to_owned(), json!(chat.status.as_str()));
        if let Some(ticket_id) = chat.ticket_id {
            data.insert("ticket_id".to_owned(), json!(ticket_id));
        }
    }
    EventRow {
        id: 0,
        chat_id: chat.as_ref().map(|c| c.id.to_string()),
        queue: chat.as_ref().and_then(|c| c.queue).map(ToString::to_string),
        agent: agent.map(ToString::to_string),
        kind: event.kind().to_owned(),
        data: Value::Object(data).to_string(),
        at: at.0,
    }
}

/// The row to store for `event` of the chat `beside` (a stored event) belongs to, with the chat's
/// envelope and addressee as `beside` has them: for writers outside the engine's batches (matching a
/// chat's contact) that act on an event of a chat without deciding on the chat.
pub fn row_beside(event: &Event, beside: &EventRow, at: Timestamp) -> EventRow {
    let mut data = fields(event);
    if let Ok(Value::Object(stored)) = serde_json::from_str::<Value>(&beside.data) {
        for key in ["chat_status", "ticket_id"] {
            if let Some(value) = stored.get(key) {
                data.insert(key.to_owned(), value.clone());
            }
        }
    }
    EventRow {
        id: 0,
        chat_id: beside.chat_id.clone(),
        queue: beside.queue.clone(),
        agent: beside.agent.clone(),
        kind: event.kind().to_owned(),
        data: Value::Object(data).to_string(),
        at: at.0,
    }
}

/// The row to store for `event` of the stored chat `chat`, addressed to its agent: for writers outside
/// the engine's batches that act on a chat without an event of it at hand (an agent's choice of the
/// chat's contact).
pub fn row_of_stored(event: &Event, chat: &parley_store::rows::ChatRow, at: Timestamp) -> EventRow {
    let mut data = fields(event);
    data.insert("chat_status".to_owned(), json!(chat.status.as_str()));
    if let Some(ticket_id) = &chat.ticket_id {
        data.insert("ticket_id".to_owned(), json!(ticket_id));
    }
    EventRow {
        id: 0,
        chat_id: Some(chat.id.clone()),
        queue: chat.queue.clone(),
        agent: chat.agent.clone(),
        kind: event.kind().to_owned(),
        data: Value::Object(data).to_string(),
        at: at.0,
    }
}

/// The event as clients get it: the kind's fields and the envelope, in one JSON object.
pub fn wire(row: &EventRow) -> String {
    let mut object = match serde_json::from_str::<Value>(&row.data) {
        Ok(Value::Object(object)) => object,
        _ => {
            tracing::warn!(event = row.id, "an event's stored data is not a JSON object");
            Map::new()
        }
    };
    let chat_status = object.remove("chat_status").unwrap_or(Value::Null);
    let ticket_id = object.remove("ticket_id").unwrap_or(Value::Null);
    object.insert("id".to_owned(), row.id.into());
    object.insert("kind".to_owned(), row.kind.clone().into());
    object.insert("at".to_owned(), rfc3339(row.at).into());
    object.insert("chat_id".to_owned(), row.chat_id.clone().into());
    object.insert("chat_status".to_owned(), chat_status);
    object.insert("queue".to_owned(), row.queue.clone().into());
    object.insert("ticket_id".to_owned(), ticket_id);
    Value::Object(object).to_string()
}

/// The kind's own fields.
fn fields(event: &Event) -> Map<String, Value> {
    let agent = |a: &AgentId| json!(a.as_str());
    let value = match event {
        Event::Opened
        | Event::MenuSent
        | Event::Queued { .. }
        | Event::BackToMenu
        | Event::InactivityWarning
        | Event::OptedOut => json!({}),
        Event::Offered { agent: a }
        | Event::OfferWithdrawn { agent: a }
        | Event::OfferTimedOut { agent: a }
        | Event::ReplyTimedOut { agent: a } => json!({ "agent": agent(a) }),
        Event::StartedOutbound { agent: a } => json!({ "agent": a.as_ref().map(AgentId::as_str) }),
        Event::Connected { agent: a, auto_answered } => json!({ "agent": agent(a), "auto_answered": auto_answered }),
        Event::LanguageChanged { language } => json!({ "language": language }),
        Event::AfterHours { opens } => json!({ "opens": opens.map(|t| t.0) }),
        Event::Overflowed { from, to } => json!({ "from": from.as_str(), "to": to.as_str() }),
        Event::TransferStarted { from, to, queue, note } => json!({
            "from": from.as_str(),
            "to": to.as_str(),
            "to_queue": queue.as_ref().map(QueueId::as_str),
            "note": note,
        }),
        Event::TransferFailed { from, to, reason } => json!({
            "from": from.as_str(),
            "to": to.as_ref().map(AgentId::as_str),
            "reason": reason.as_str(),
        }),
        Event::TransferEnded { from, to } => json!({ "from": from.as_str(), "to": to.as_str() }),
        Event::Ended { reason, by } => json!({ "reason": reason.as_str(), "by": by }),
        Event::Dismissed { by, reason } => json!({ "by": by, "reason": reason.as_str() }),
        Event::Resumed { by } => json!({ "by": by }),
        Event::Message { message_id, direction, author, body, media, status } => json!({
            "message_id": message_id,
            "direction": direction.as_str(),
            "author": author,
            "body": body,
            "media": media,
            "status": status.as_str(),
        }),
        Event::MessageStatus { message_id, status, error } => {
            json!({ "message_id": message_id, "status": status.as_str(), "error": error })
        }
        Event::AgentStatus { agent: a, presence, connected } => json!({
            "agent": agent(a),
            "status": shown_status(*presence, *connected),
            "chosen": presence.as_str(),
            "connected": connected,
            "reason": (!connected).then_some("disconnected"),
        }),
        Event::InboundRefused { message_id, number, state } => {
            json!({ "message_id": message_id, "number": number.as_str(), "state": state.as_str() })
        }
        Event::InboundBlocked { message_id, number, phone, reason } => {
            json!({ "message_id": message_id, "number": number.as_str(), "phone": phone.as_str(), "reason": reason })
        }
        Event::ConsentChanged { phone, number, opted_out, keyword, source } => json!({
            "phone": phone.as_str(),
            "number": number.as_str(),
            "opted_out": opted_out,
            "keyword": keyword,
            "source": source,
        }),
        Event::NumberStateChanged { number, from, to, reason } => json!({
            "number": number.as_str(),
            "from": from.as_str(),
            "to": to.as_str(),
            "reason": reason,
        }),
        Event::WebhookDisabled { webhook_id, url, failing_since } => {
            json!({ "webhook_id": webhook_id, "url": url, "failing_since": failing_since.0 })
        }
        Event::ContactLinked { contact_id, record_id, how, by } => {
            json!({ "contact_id": contact_id, "record_id": record_id, "how": how.as_str(), "by": by })
        }
        Event::ContactMatchPending { candidates } => json!({ "candidates": candidates }),
        Event::ContactChanged { contact_id, change, by } => {
            let into = match change {
                ContactChange::Merged { into } => Some(into),
                _ => None,
            };
            json!({ "contact_id": contact_id, "change": change.as_str(), "into": into, "by": by })
        }
        Event::ContactErased { contact_id, deleted, external_ids } => {
            json!({ "contact_id": contact_id, "deleted": deleted, "external_ids": external_ids })
        }
        Event::CallStarted { call_id, ivr_queue } => json!({ "call_id": call_id, "ivr_queue": ivr_queue }),
        Event::CallQueued { call_id, position, over_capacity } => {
            json!({ "call_id": call_id, "position": position, "over_capacity": over_capacity })
        }
        Event::CallConnected { call_id, agent } => json!({ "call_id": call_id, "agent": agent.as_str() }),
        Event::CallEnded { call_id, reason } => json!({ "call_id": call_id, "reason": reason }),
        Event::CallDeflection { call_id, outcome, reason, ewt_seconds, sms_chat_id } => json!({
            "call_id": call_id, "outcome": outcome, "reason": reason, "ewt_seconds": ewt_seconds, "sms_chat_id": sms_chat_id
        }),
        Event::CallWaitSms { call_id, outcome, thread_chat_id } => {
            json!({ "call_id": call_id, "outcome": outcome, "thread_chat_id": thread_chat_id })
        }
        Event::AppOpened { app, call_id } => json!({ "app": app, "call_id": call_id }),
    };
    // `json!({ .. })` always makes an object.
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The webhook types a stored event counts as: [`Event::webhook_types`] of the event the row holds,
/// read from the row's kind and, for a message, the direction its data holds (the only field the
/// mapping looks at; the test below holds this to the typed mapping for every kind and direction).
pub fn webhook_types(row: &EventRow) -> Vec<&str> {
    let alias = match row.kind.as_str() {
        "chat.opened" | "chat.started_outbound" => Some("chat.started"),
        "chat.transfer_ended" => Some("chat.transferred"),
        "message" => {
            let direction = serde_json::from_str::<Value>(&row.data)
                .ok()
                .and_then(|d| d.get("direction").and_then(Value::as_str).and_then(Direction::parse));
            match direction {
                Some(Direction::In) => Some("message.received"),
                Some(Direction::Out) => Some("message.sent"),
                Some(Direction::Note) | None => None,
            }
        }
        _ => None,
    };
    std::iter::once(row.kind.as_str()).chain(alias).collect()
}

/// The event a stored row of the chat kinds reports read (`parley_store::reports::FACT_KINDS`) holds,
/// read back from its JSON; `None` for another kind, or data this version cannot read (logged).
pub fn decode_fact(row: &EventRow) -> Option<Event> {
    let decoded = decode_chat_event(row);
    if decoded.is_none() && parley_store::reports::FACT_KINDS.contains(&row.kind.as_str()) {
        tracing::warn!(event = row.id, kind = %row.kind, "a stored event's data does not read back; reports leave it out");
    }
    decoded
}

fn decode_chat_event(row: &EventRow) -> Option<Event> {
    let data: Value = serde_json::from_str(&row.data).ok()?;
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    let agent = |key: &str| text(key).and_then(|a| AgentId::parse(a).ok());
    let queue = |key: &str| text(key).and_then(|q| QueueId::parse(q).ok());
    Some(match row.kind.as_str() {
        "chat.queued" => Event::Queued { queue: row.queue.as_deref().and_then(|q| QueueId::parse(q).ok())? },
        "chat.back_to_menu" => Event::BackToMenu,
        "chat.offered" => Event::Offered { agent: agent("agent")? },
        "chat.started_outbound" => Event::StartedOutbound { agent: agent("agent") },
        "chat.offer_withdrawn" => Event::OfferWithdrawn { agent: agent("agent")? },
        "chat.connected" => Event::Connected {
            agent: agent("agent")?,
            auto_answered: data.get("auto_answered").and_then(Value::as_bool).unwrap_or(false),
        },
        "chat.offer_timed_out" => Event::OfferTimedOut { agent: agent("agent")? },
        "chat.reply_timed_out" => Event::ReplyTimedOut { agent: agent("agent")? },
        "chat.overflowed" => Event::Overflowed { from: queue("from")?, to: queue("to")? },
        "chat.transfer_started" => Event::TransferStarted {
            from: agent("from")?,
            to: agent("to")?,
            queue: queue("to_queue"),
            note: String::new(),
        },
        "chat.transfer_failed" => Event::TransferFailed {
            from: agent("from")?,
            to: agent("to"),
            reason: TransferFailure::parse(text("reason")?)?,
        },
        "chat.transfer_ended" => Event::TransferEnded { from: agent("from")?, to: agent("to")? },
        "chat.ended" => Event::Ended { reason: EndReason::parse(text("reason")?)?, by: text("by")?.to_owned() },
        "chat.dismissed" => {
            Event::Dismissed { by: text("by")?.to_owned(), reason: DismissReason::parse(text("reason")?)? }
        }
        "chat.resumed" => Event::Resumed { by: text("by")?.to_owned() },
        "message" => Event::Message {
            message_id: text("message_id")?.to_owned(),
            direction: Direction::parse(text("direction")?)?,
            author: text("author")?.to_owned(),
            body: text("body")?.to_owned(),
            media: vec![],
            status: MessageStatus::parse(text("status")?)?,
        },
        _ => return None,
    })
}

/// What the monitor shows of an agent: the status they chose while connected, "offline" while they
/// are not (with the reason "disconnected" beside it).
pub fn shown_status(presence: Presence, connected: bool) -> &'static str {
    if connected { presence.as_str() } else { Presence::Offline.as_str() }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use parley_core::chat::{DismissReason, EndReason, TransferFailure};
    use parley_core::message::MessageStatus;
    use parley_core::number::NumberState;
    use parley_core::phone::BusinessNumber;

    use super::*;

    /// The schema every event is held to.
    const DOC: &str = include_str!("../../../../docs/events.md");
    /// The console, which listens for events by kind.
    const CONSOLE: &str = include_str!("../../assets/console.js");

    /// The documented fields and their types, by section: "envelope", or a kind's name.
    fn documented() -> BTreeMap<String, BTreeMap<String, String>> {
        let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut current = None;
        for line in DOC.lines() {
            if line.starts_with("## ") || line.starts_with("### ") {
                let title = line.trim_start_matches('#').trim();
                current = if title == "Envelope" {
                    Some("envelope".to_owned())
                } else if line.starts_with("### `") {
                    Some(title.trim_matches('`').to_owned())
                } else {
                    None
                };
                if let Some(name) = &current {
                    assert!(sections.insert(name.clone(), BTreeMap::new()).is_none(), "{name} is documented twice");
                }
                continue;
            }
            let Some(section) = current.as_ref().and_then(|name| sections.get_mut(name)) else { continue };
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if let [_, name, ty, _meaning, ..] = cells.as_slice()
                && name.starts_with('`')
            {
                let previous = section.insert(name.trim_matches('`').to_owned(), (*ty).to_owned());
                assert!(previous.is_none(), "{name} is documented twice in one section");
            }
        }
        sections
    }

    fn has_type(value: &Value, ty: &str) -> bool {
        if let Some(ty) = ty.strip_suffix(" or null") {
            return value.is_null() || has_type(value, ty);
        }
        match ty {
            "string" => value.is_string(),
            "integer" => value.is_i64(),
            "boolean" => value.is_boolean(),
            "array of strings" => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            other => panic!("docs/events.md names a type the test does not know: {other:?}"),
        }
    }

    /// One event of every kind, and whether it belongs to a chat. Optional fields are set, so that
    /// their documented type is checked, not only their null.
    fn samples() -> Vec<(Event, bool)> {
        let bob = AgentId::parse("bob").unwrap();
        let carol = AgentId::parse("carol").unwrap();
        let tech = QueueId::parse("tech").unwrap();
        let billing = QueueId::parse("billing").unwrap();
        let samples = vec![
            (Event::Opened, true),
            (Event::MenuSent, true),
            (Event::Queued { queue: tech.clone() }, true),
            (Event::BackToMenu, true),
            (Event::Offered { agent: bob.clone() }, true),
            (Event::StartedOutbound { agent: Some(bob.clone()) }, true),
            (Event::OfferWithdrawn { agent: bob.clone() }, true),
            (Event::Connected { agent: bob.clone(), auto_answered: false }, true),
            (Event::OfferTimedOut { agent: bob.clone() }, true),
            (Event::InactivityWarning, true),
            (Event::LanguageChanged { language: "es".to_owned() }, true),
            (Event::AfterHours { opens: Some(Timestamp(1_736_240_400_000)) }, true),
            (Event::ReplyTimedOut { agent: bob.clone() }, true),
            (Event::Overflowed { from: tech.clone(), to: billing.clone() }, true),
            (
                Event::TransferStarted {
                    from: bob.clone(),
                    to: carol.clone(),
                    queue: Some(billing),
                    note: "wants a refund".to_owned(),
                },
                true,
            ),
            (
                Event::TransferFailed { from: bob.clone(), to: Some(carol.clone()), reason: TransferFailure::Declined },
                true,
            ),
            (Event::TransferEnded { from: bob.clone(), to: carol }, true),
            (Event::OptedOut, true),
            (Event::Ended { reason: EndReason::EndedByAgent, by: "bob".to_owned() }, true),
            (Event::Dismissed { by: "system".to_owned(), reason: DismissReason::ConsumerSilent }, true),
            (Event::Resumed { by: "consumer".to_owned() }, true),
            (
                Event::Message {
                    message_id: "0194403a-6f1e-7c52-9d0e-000000000001".to_owned(),
                    direction: Direction::In,
                    author: "consumer".to_owned(),
                    body: "my modem is down".to_owned(),
                    media: vec!["https://media.example/1.jpg".to_owned()],
                    status: MessageStatus::Received,
                },
                true,
            ),
            (
                Event::MessageStatus {
                    message_id: "0194403a-6f1e-7c52-9d0e-000000000002".to_owned(),
                    status: MessageStatus::Failed,
                    error: Some("30003".to_owned()),
                },
                true,
            ),
            (Event::AgentStatus { agent: bob, presence: Presence::Away, connected: true }, false),
            (
                Event::InboundRefused {
                    message_id: "0194403a-6f1e-7c52-9d0e-000000000003".to_owned(),
                    number: BusinessNumber::parse("+15550001111").unwrap(),
                    state: NumberState::InReview,
                },
                false,
            ),
            (
                Event::InboundBlocked {
                    message_id: "0194403a-6f1e-7c52-9d0e-000000000004".to_owned(),
                    number: BusinessNumber::parse("+15550001111").unwrap(),
                    phone: parley_core::phone::E164::parse("+14155550100").unwrap(),
                    reason: "Abusive messages".to_owned(),
                },
                false,
            ),
            (
                Event::ConsentChanged {
                    phone: parley_core::phone::E164::parse("+14155550100").unwrap(),
                    number: BusinessNumber::parse("+15550001111").unwrap(),
                    opted_out: true,
                    keyword: Some("STOP".to_owned()),
                    source: "sms".to_owned(),
                },
                false,
            ),
            (
                Event::NumberStateChanged {
                    number: BusinessNumber::parse("+15550001111").unwrap(),
                    from: NumberState::InReview,
                    to: NumberState::Enabled,
                    reason: Some("campaign approved".to_owned()),
                },
                false,
            ),
            (
                Event::WebhookDisabled {
                    webhook_id: "wh_0194403a6f1e7c529d0e000000000005".to_owned(),
                    url: "https://crm.example/hooks/parley".to_owned(),
                    failing_since: Timestamp(1_736_172_187_120),
                },
                false,
            ),
            (
                Event::ContactLinked {
                    contact_id: "CT0194403a6f1e7c529d0e000000000006".to_owned(),
                    record_id: "RC0194403a6f1e7c529d0e000000000008".to_owned(),
                    how: parley_core::crm::ContactLink::Picked,
                    by: "bob".to_owned(),
                },
                true,
            ),
            (
                Event::ContactMatchPending {
                    candidates: vec![
                        "CT0194403a6f1e7c529d0e000000000006".to_owned(),
                        "CT0194403a6f1e7c529d0e000000000007".to_owned(),
                    ],
                },
                true,
            ),
            (
                Event::ContactChanged {
                    contact_id: "CT0194403a6f1e7c529d0e000000000007".to_owned(),
                    change: ContactChange::Merged { into: "CT0194403a6f1e7c529d0e000000000006".to_owned() },
                    by: "admin".to_owned(),
                },
                false,
            ),
            (
                Event::ContactErased {
                    contact_id: "CT0194403a6f1e7c529d0e000000000006".to_owned(),
                    deleted: true,
                    external_ids: vec!["hubspot:51".to_owned()],
                },
                false,
            ),
            (Event::CallStarted { call_id: "CA1".to_owned(), ivr_queue: "voice-billing".to_owned() }, false),
            (Event::CallQueued { call_id: "CA1".to_owned(), position: Some(4), over_capacity: true }, false),
            (Event::CallConnected { call_id: "CA1".to_owned(), agent: AgentId::parse("alice").unwrap() }, false),
            (Event::CallEnded { call_id: "CA1".to_owned(), reason: "deflected".to_owned() }, false),
            (
                Event::CallDeflection {
                    call_id: "CA1".to_owned(),
                    outcome: "accepted".to_owned(),
                    reason: None,
                    ewt_seconds: 540,
                    sms_chat_id: Some("0194403a-6f1e-7c52-9d0e-000000000009".to_owned()),
                },
                false,
            ),
            (
                Event::CallWaitSms {
                    call_id: "CA1".to_owned(),
                    outcome: "sent".to_owned(),
                    thread_chat_id: Some("0194403a-6f1e-7c52-9d0e-00000000000a".to_owned()),
                },
                false,
            ),
            (Event::AppOpened { app: "acme".to_owned(), call_id: Some("CA1".to_owned()) }, true),
        ];
        // A new variant does not compile here until it is listed: give it a sample above and a section
        // in docs/events.md.
        for (event, _) in &samples {
            match event {
                Event::Opened
                | Event::MenuSent
                | Event::Queued { .. }
                | Event::BackToMenu
                | Event::Offered { .. }
                | Event::StartedOutbound { .. }
                | Event::OfferWithdrawn { .. }
                | Event::Connected { .. }
                | Event::OfferTimedOut { .. }
                | Event::InactivityWarning
                | Event::LanguageChanged { .. }
                | Event::AfterHours { .. }
                | Event::ReplyTimedOut { .. }
                | Event::Overflowed { .. }
                | Event::TransferStarted { .. }
                | Event::TransferFailed { .. }
                | Event::TransferEnded { .. }
                | Event::OptedOut
                | Event::Ended { .. }
                | Event::Dismissed { .. }
                | Event::Resumed { .. }
                | Event::Message { .. }
                | Event::MessageStatus { .. }
                | Event::AgentStatus { .. }
                | Event::InboundRefused { .. }
                | Event::InboundBlocked { .. }
                | Event::ConsentChanged { .. }
                | Event::NumberStateChanged { .. }
                | Event::WebhookDisabled { .. }
                | Event::ContactLinked { .. }
                | Event::ContactMatchPending { .. }
                | Event::ContactChanged { .. }
                | Event::ContactErased { .. }
                | Event::CallStarted { .. }
                | Event::CallQueued { .. }
                | Event::CallConnected { .. }
                | Event::CallEnded { .. }
                | Event::CallDeflection { .. }
                | Event::CallWaitSms { .. }
                | Event::AppOpened { .. } => {}
            }
        }
        samples
    }

    #[test]
    fn every_kind_encodes_to_the_fields_docs_events_md_lists() {
        let doc = documented();
        let envelope = &doc["envelope"];
        assert_eq!(envelope.keys().map(String::as_str).collect::<BTreeSet<_>>(), BTreeSet::from(ENVELOPE));
        let chat_id = ChatId::new("0194403a-6f1e-7c52-9d0e-2b8f0a3c4d5e");
        let queue = QueueId::parse("tech").unwrap();
        let at = Timestamp(1_736_172_187_120);
        let mut kinds = BTreeSet::new();
        for (event, of_chat) in samples() {
            let kind = event.kind();
            assert!(kinds.insert(kind), "two samples of {kind}");
            let Some(own) = doc.get(kind) else { panic!("{kind} has no section in docs/events.md") };
            for name in fields(&event).keys().chain(own.keys()) {
                assert!(!ENVELOPE.contains(&name.as_str()), "{kind}'s field {name} hides the envelope's");
            }
            let chat = of_chat.then_some(OfChat {
                id: &chat_id,
                status: ChatStatus::Offered,
                queue: Some(&queue),
                ticket_id: Some("T-1001"),
            });
            let row = EventRow { id: 42, ..row_of(&event, chat, None, at) };
            let Value::Object(json) = serde_json::from_str(&wire(&row)).unwrap() else { panic!("not an object") };
            let keys: BTreeSet<&str> = json.keys().map(String::as_str).collect();
            let expected: BTreeSet<&str> = ENVELOPE.into_iter().chain(own.keys().map(String::as_str)).collect();
            assert_eq!(keys, expected, "{kind}: the fields sent are the fields documented");
            for (name, ty) in envelope.iter().chain(own) {
                assert!(has_type(&json[name], ty), "{kind}: {name} is {}, documented as {ty}", json[name]);
            }
            assert_eq!((&json["id"], &json["kind"], &json["at"]), (&json!(42), &json!(kind), &json!(rfc3339(at.0))));
            if of_chat {
                let chat = (&json["chat_id"], &json["chat_status"], &json["queue"], &json["ticket_id"]);
                let expected = (&json!(chat_id.as_str()), &json!("offered"), &json!("tech"), &json!("T-1001"));
                assert_eq!(chat, expected, "{kind}");
            } else {
                let chat = (&json["chat_id"], &json["chat_status"], &json["queue"], &json["ticket_id"]);
                assert_eq!(chat, (&Value::Null, &Value::Null, &Value::Null, &Value::Null), "{kind}");
            }
        }
        let documented: BTreeSet<&str> = doc.keys().map(String::as_str).filter(|k| *k != "envelope").collect();
        assert_eq!(documented, kinds, "docs/events.md documents exactly the kinds there are");
    }

    #[test]
    fn the_console_listens_for_every_kind_it_can_show() {
        let list = CONSOLE.split_once("const KINDS = [").and_then(|(_, rest)| rest.split_once("];")).unwrap().0;
        let listened: BTreeSet<&str> = list.split(',').map(|k| k.trim().trim_matches('"')).collect();
        // The console shows no texts refused by a number or from a blocked phone, and no voice calls
        // (those are the IVR's, not a chat's); every other kind changes what it shows.
        let hidden = [
            "number.inbound_refused",
            "phone.inbound_blocked",
            "consent.changed",
            "number.state_changed",
            "webhook.disabled",
            "contact.changed",
            "contact.erased",
            "call.started",
            "call.queued",
            "call.connected",
            "call.ended",
            "call.deflection",
            "call.wait_sms",
        ];
        let shown: BTreeSet<&str> = samples().iter().map(|(e, _)| e.kind()).filter(|k| !hidden.contains(k)).collect();
        assert_eq!(listened, shown);
    }

    #[test]
    fn webhook_types_of_a_stored_row_are_those_of_its_typed_event() {
        let mut samples = samples();
        for direction in [Direction::Out, Direction::Note] {
            samples.push((
                Event::Message {
                    message_id: "m".to_owned(),
                    direction,
                    author: "system".to_owned(),
                    body: "hello".to_owned(),
                    media: vec![],
                    status: MessageStatus::Queued,
                },
                true,
            ));
        }
        let chat_id = ChatId::new("0194403a-6f1e-7c52-9d0e-2b8f0a3c4d5e");
        let kinds: BTreeSet<&str> = samples.iter().map(|(e, _)| e.kind()).collect();
        assert_eq!(kinds, parley_core::event::KINDS.into_iter().collect(), "KINDS lists every kind");
        for (event, of_chat) in samples {
            let chat =
                of_chat.then_some(OfChat { id: &chat_id, status: ChatStatus::Connected, queue: None, ticket_id: None });
            let row = row_of(&event, chat, None, Timestamp(0));
            assert_eq!(webhook_types(&row), event.webhook_types(), "{}", event.kind());
        }
    }

    #[test]
    fn rows_stored_before_typed_events_are_sent_in_the_same_shape() {
        // An older row's data also held chat_id; the row's column wins, and the envelope is complete.
        let row = EventRow {
            id: 9,
            chat_id: Some("c1".to_owned()),
            queue: Some("tech".to_owned()),
            agent: Some("bob".to_owned()),
            kind: "chat.offered".to_owned(),
            data: r#"{"agent":"bob","chat_id":"c1","chat_status":"offered"}"#.to_owned(),
            at: 0,
        };
        let json: Value = serde_json::from_str(&wire(&row)).unwrap();
        let expected = json!({
            "agent": "bob", "id": 9, "kind": "chat.offered", "at": rfc3339(0),
            "chat_id": "c1", "chat_status": "offered", "queue": "tech", "ticket_id": null,
        });
        assert_eq!(json, expected);
        let broken = EventRow { data: "not json".to_owned(), chat_id: None, queue: None, ..row };
        let json: Value = serde_json::from_str(&wire(&broken)).unwrap();
        assert_eq!(
            json,
            json!({ "id": 9, "kind": "chat.offered", "at": rfc3339(0), "chat_id": null, "chat_status": null, "queue": null, "ticket_id": null })
        );
    }

    #[test]
    fn the_report_kinds_read_back_as_the_events_they_were() {
        let mut read = BTreeSet::new();
        for (event, _) in samples() {
            let mut stored = row(&event, None, None, Timestamp(5));
            if let Event::Queued { queue } = &event {
                // A queued event's queue is the envelope's: the chat's queue after the decision.
                stored.queue = Some(queue.to_string());
            }
            let Some(back) = decode_fact(&stored) else {
                assert!(
                    !parley_store::reports::FACT_KINDS.contains(&event.kind()),
                    "{} does not read back",
                    event.kind()
                );
                continue;
            };
            // What reports do not read comes back empty: a transfer's note, a message's media.
            let expected = match event.clone() {
                Event::TransferStarted { from, to, queue, .. } => {
                    Event::TransferStarted { from, to, queue, note: String::new() }
                }
                Event::Message { message_id, direction, author, body, status, .. } => {
                    Event::Message { message_id, direction, author, body, media: vec![], status }
                }
                other => other,
            };
            assert_eq!(back, expected);
            read.insert(event.kind());
        }
        assert_eq!(read, BTreeSet::from(parley_store::reports::FACT_KINDS), "every report kind has a sample");
    }
}
