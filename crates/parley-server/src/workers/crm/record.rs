//! Record changes: which events of the log a connector is sent, and what each carries.
//!
//! A chat is part of a record from its `contact.linked` event on: that event is the change
//! `crm.record.opened`, carrying the record as it stands (chat details, transfers, media and the
//! transcript so far), so every earlier event of the chat reaches the CRM then, in order. After it, the
//! chat's transfers, the consumer's media and its end are changes of their own, each again with the
//! whole record up to that event (a connector that keeps one object per record, as the HubSpot note,
//! rewrites it; one that appends reads `data`). Contact changes and erasures are not of a chat.
//!
//! Everything is read from the log and the chat row at delivery time, so a retry sends the same thing.

use parley_store::Store;
use parley_store::crm::{CrmContact, CrmDeliveryRow};
use parley_store::rows::EventRow;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::outbound_media::{MediaSigner, upload_id};

/// Every change type, as the webhook kind's `type` says it.
pub const TYPES: [&str; 8] = [
    "crm.record.opened",
    "crm.record.transfer_started",
    "crm.record.transfer_failed",
    "crm.record.transfer_ended",
    "crm.record.media",
    "crm.record.ended",
    "crm.contact.changed",
    "crm.contact.erased",
];

/// One change as a connector gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordChange {
    pub connector: String,
    pub delivery_id: i64,
    pub event_id: i64,
    /// `{connector}-{event_id}`: the same for every attempt, so the CRM can drop a repeat.
    pub idempotency_key: String,
    /// One of [`TYPES`].
    pub change: String,
    pub chat_id: Option<String>,
    pub contact_id: Option<String>,
    pub record_id: Option<String>,
    /// When the event happened (epoch ms).
    pub at: i64,
    /// What is particular to this change (see docs/crm.md "### webhook").
    pub data: Value,
    /// The contact as it is now; `None` for a contact gone (deleted, erased).
    pub contact: Option<CrmContact>,
    /// The record up to this change, for the `crm.record.*` types.
    pub record: Option<Record>,
}

/// A chat as a record on a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub chat_id: String,
    /// `sms` (the consumer wrote first) or `outbound_sms`.
    pub chat_type: String,
    pub number: String,
    pub consumer: String,
    pub queue: Option<String>,
    pub language: String,
    pub ticket_id: Option<String>,
    pub start_type: Option<String>,
    pub opened_at: i64,
    /// The agents connected to the chat, in order.
    pub agents: Vec<String>,
    /// `{"event": "started"|"failed"|"ended", "from", "to", "reason", "at"}`.
    pub transfers: Vec<Value>,
    /// Links to what the consumer sent.
    pub media: Vec<String>,
    /// `{"reason", "by", "duration_seconds", "at"}` once ended.
    pub ended: Option<Value>,
    pub transcript: Vec<Line>,
}

/// One message of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at: i64,
    /// `consumer`, `system` or `agent:ID`.
    pub author: String,
    /// `in` or `out`.
    pub direction: String,
    pub body: String,
    pub media: Vec<String>,
}

impl Record {
    /// The record as JSON (the webhook kind's `data.record`).
    pub fn json(&self) -> Value {
        json!({
            "chat_id": self.chat_id,
            "type": self.chat_type,
            "number": self.number,
            "consumer": self.consumer,
            "queue": self.queue,
            "language": self.language,
            "ticket_id": self.ticket_id,
            "start_type": self.start_type,
            "opened_at": rfc3339(self.opened_at),
            "agents": self.agents,
            "transfers": self.transfers,
            "media": self.media,
            "ended": self.ended,
            "transcript": self.transcript.iter().map(|l| json!({
                "at": rfc3339(l.at),
                "author": l.author,
                "direction": l.direction,
                "body": l.body,
                "media": l.media,
            })).collect::<Vec<_>>(),
        })
    }
}

fn data_of(event: &EventRow) -> Value {
    serde_json::from_str(&event.data).unwrap_or(Value::Null)
}

fn text(data: &Value, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// An agent as an event names it: a string, or an object with an `id`.
fn agent_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        other => other.get("id").and_then(Value::as_str).map(str::to_owned),
    }
}

/// The change type of a chat's event, when it is one (before the chat's link is looked up).
fn chat_change(event: &EventRow) -> Option<&'static str> {
    match event.kind.as_str() {
        "chat.transfer_started" => Some("crm.record.transfer_started"),
        "chat.transfer_failed" => Some("crm.record.transfer_failed"),
        "chat.transfer_ended" => Some("crm.record.transfer_ended"),
        "chat.ended" => Some("crm.record.ended"),
        "message" => {
            let data = data_of(event);
            let media = data.get("media").and_then(Value::as_array).is_some_and(|m| !m.is_empty());
            (text(&data, "direction").as_deref() == Some("in") && media).then_some("crm.record.media")
        }
        _ => None,
    }
}

/// The change `event` is for every connector, or `None` when it is none (a chat's event before the
/// chat is linked to a contact is part of the `crm.record.opened` change instead). The row's
/// connector and times are the caller's to set.
pub async fn change_of(store: &Store, event: &EventRow) -> anyhow::Result<Option<CrmDeliveryRow>> {
    let data = data_of(event);
    let mut d = CrmDeliveryRow::new("", event.id, "", 0);
    match event.kind.as_str() {
        "contact.linked" => {
            d.change = "crm.record.opened".to_owned();
            d.chat_id.clone_from(&event.chat_id);
            d.contact_id = text(&data, "contact_id");
            d.record_id = text(&data, "record_id");
        }
        "contact.changed" => {
            d.change = "crm.contact.changed".to_owned();
            d.contact_id = text(&data, "contact_id");
        }
        "contact.erased" => {
            d.change = "crm.contact.erased".to_owned();
            d.contact_id = text(&data, "contact_id");
        }
        _ => {
            let (Some(chat_id), Some(change)) = (event.chat_id.as_deref(), chat_change(event)) else {
                return Ok(None);
            };
            let Some(link) = store.chat_contact_link(chat_id, event.id).await? else { return Ok(None) };
            let link = data_of(&link);
            d.change = change.to_owned();
            d.chat_id = Some(chat_id.to_owned());
            d.contact_id = text(&link, "contact_id");
            d.record_id = text(&link, "record_id");
        }
    }
    Ok(Some(d))
}

/// A link a CRM can open to a medium: an upload's signed URL, or the stored URL as is.
pub fn link(signer: &MediaSigner, url: &str, now: i64) -> String {
    upload_id(url).map_or_else(|| url.to_owned(), |id| signer.url(id, now))
}

/// The record of `chat_id` up to event `until`; `None` when the chat is gone.
pub async fn record(
    store: &Store,
    signer: &MediaSigner,
    chat_id: &str,
    until: i64,
    now: i64,
) -> anyhow::Result<Option<Record>> {
    let chat = match store.chat(chat_id).await {
        Ok(chat) => chat,
        Err(parley_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut r = Record {
        chat_id: chat.id.clone(),
        chat_type: if chat.origin == "outbound" { "outbound_sms" } else { "sms" }.to_owned(),
        number: chat.number.clone(),
        consumer: chat.consumer.clone(),
        queue: chat.queue.clone(),
        language: chat.language.clone(),
        ticket_id: chat.ticket_id.clone(),
        start_type: chat.start_type.clone(),
        opened_at: chat.opened_at,
        agents: Vec::new(),
        transfers: Vec::new(),
        media: Vec::new(),
        ended: None,
        transcript: Vec::new(),
    };
    for event in store.chat_events_until(chat_id, until).await? {
        let data = data_of(&event);
        let transfer = |what: &str| {
            json!({
                "event": what,
                "from": agent_of(data.get("from")),
                "to": agent_of(data.get("to")),
                "reason": text(&data, "reason"),
                "at": rfc3339(event.at),
            })
        };
        match event.kind.as_str() {
            "chat.queued" => r.queue = event.queue.clone().or(r.queue.take()),
            "chat.connected" => {
                if let Some(agent) = agent_of(data.get("agent"))
                    && !r.agents.contains(&agent)
                {
                    r.agents.push(agent);
                }
            }
            "chat.transfer_started" => r.transfers.push(transfer("started")),
            "chat.transfer_failed" => r.transfers.push(transfer("failed")),
            "chat.transfer_ended" => r.transfers.push(transfer("ended")),
            "chat.ended" => {
                r.ended = Some(json!({
                    "reason": text(&data, "reason"),
                    "by": text(&data, "by"),
                    "duration_seconds": (event.at - chat.opened_at).max(0) / 1000,
                    "at": rfc3339(event.at),
                }));
            }
            "message" => {
                let direction = text(&data, "direction").unwrap_or_default();
                if direction == "note" {
                    continue; // an agents' note is not an SMS of the transcript
                }
                let media: Vec<String> = data
                    .get("media")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|u| link(signer, u, now))
                    .collect();
                if direction == "in" {
                    r.media.extend(media.iter().cloned());
                }
                r.transcript.push(Line {
                    at: event.at,
                    author: text(&data, "author").unwrap_or_default(),
                    direction,
                    body: text(&data, "body").unwrap_or_default(),
                    media,
                });
            }
            _ => {}
        }
    }
    Ok(Some(r))
}

/// The change delivery `d` stands for, read from the log; `None` when its event or chat is gone.
pub async fn build(
    store: &Store,
    signer: &MediaSigner,
    d: &CrmDeliveryRow,
    now: i64,
) -> anyhow::Result<Option<RecordChange>> {
    let Some(event) = store.event(d.event_id).await? else { return Ok(None) };
    let data = data_of(&event);
    let record = match &d.chat_id {
        Some(chat_id) if d.change.starts_with("crm.record.") => {
            match record(store, signer, chat_id, event.id, now).await? {
                Some(r) => Some(r),
                None => return Ok(None),
            }
        }
        _ => None,
    };
    let contact = match &d.contact_id {
        Some(id) => store.crm_contact(id).await?,
        None => None,
    };
    let data = match d.change.as_str() {
        "crm.record.opened" => json!({ "how": data.get("how"), "by": data.get("by") }),
        "crm.record.transfer_started" | "crm.record.transfer_failed" | "crm.record.transfer_ended" => json!({
            "from": agent_of(data.get("from")),
            "to": agent_of(data.get("to")),
            "reason": text(&data, "reason"),
        }),
        "crm.record.media" => {
            let links: Vec<String> = data
                .get("media")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|u| link(signer, u, now))
                .collect();
            json!({ "message_id": data.get("message_id"), "links": links })
        }
        "crm.record.ended" => record.as_ref().and_then(|r| r.ended.clone()).unwrap_or(Value::Null),
        _ => data,
    };
    Ok(Some(RecordChange {
        connector: d.connector.clone(),
        delivery_id: d.id,
        event_id: d.event_id,
        idempotency_key: format!("{}-{}", d.connector, d.event_id),
        change: d.change.clone(),
        chat_id: d.chat_id.clone(),
        contact_id: d.contact_id.clone(),
        record_id: d.record_id.clone(),
        at: event.at,
        data,
        contact,
        record,
    }))
}

/// The contact as JSON (the webhook kind's `contact`).
pub fn contact_json(c: &CrmContact) -> Value {
    json!({ "id": c.id, "name": c.name, "email": c.email, "company": c.company, "phones": c.phones })
}
