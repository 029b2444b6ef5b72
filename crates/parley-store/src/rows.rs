//! The stored shapes. Plain values, except the few closed sets of words a column holds (a chat's status,
//! a message's direction, status and purpose): those are the core's enums, stored under their
//! `as_str` names and read back through [`decode`], so a query never compares a misspelt status.
//! Conversions from and to the rest of the domain types live with the engine, so renaming a domain
//! field never silently changes the schema.

use parley_core::chat::{ChatStatus, Purpose};
use parley_core::message::{Direction, MessageStatus};
use parley_core::routing::Presence;

use crate::{Result, StoreError};

/// A closed set of stored words (the enums above), read back from the column `column`; a word this
/// version does not know is an error that names it, never a silent default.
pub(crate) fn decode<T>(column: &str, text: String, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(&text).ok_or_else(|| {
        StoreError::Other(anyhow::anyhow!("{column} holds \"{text}\", which this version does not know"))
    })
}

/// A chat row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRow {
    pub id: String,
    pub number: String,
    pub consumer: String,
    /// "inbound" (the consumer wrote first) or "outbound" (an agent or the API did).
    pub origin: String,
    pub status: ChatStatus,
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub opened_at: i64,
    pub queued_at: Option<i64>,
    pub offered_at: Option<i64>,
    pub last_message_at: i64,
    pub warned_at: Option<i64>,
    /// The next moment one of the chat's timers is due (epoch ms); `None` when none runs.
    pub due_at: Option<i64>,
    /// A transfer waiting for an answer, as JSON.
    pub transfer: Option<String>,
    /// The submenu the consumer is in.
    pub menu_level: Option<String>,
    /// manually_answered, auto_answered or outbound; `None` until the chat has an agent.
    pub start_type: Option<String>,
    /// The language tag system messages are written in.
    pub language: String,
    /// When an agent first took the chat.
    pub answered_at: Option<i64>,
    /// The consumer's oldest message the connected agent has not answered.
    pub awaiting_reply_since: Option<i64>,
    /// The connected agent's last message (dismissal counts from here).
    pub agent_message_at: Option<i64>,
    /// When the chat was dismissed (while it is).
    pub dismissed_at: Option<i64>,
    /// When the queue's wait limit started counting.
    pub wait_since: Option<i64>,
    /// After hours: when the queue opens.
    pub after_hours_until: Option<i64>,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
    pub ended_by: Option<String>,
    pub updated_at: i64,
    /// The outbound API's ticket id; written when the chat opens, never changed.
    pub ticket_id: Option<String>,
    /// The outbound API's context, a JSON object of strings; written when the chat opens.
    pub context: Option<String>,
}

impl ChatRow {
    /// A chat the consumer wrote first to `number`, opened at `at` and now in `status`, with no queue,
    /// agent, timer or end yet and the setup's language; set the rest with struct update syntax.
    pub fn new(
        id: impl Into<String>,
        number: impl Into<String>,
        consumer: impl Into<String>,
        status: ChatStatus,
        at: i64,
    ) -> ChatRow {
        ChatRow {
            id: id.into(),
            number: number.into(),
            consumer: consumer.into(),
            origin: "inbound".to_owned(),
            status,
            queue: None,
            agent: None,
            opened_at: at,
            queued_at: None,
            offered_at: None,
            last_message_at: 0,
            warned_at: None,
            due_at: None,
            transfer: None,
            menu_level: None,
            start_type: None,
            language: String::new(),
            answered_at: None,
            awaiting_reply_since: None,
            agent_message_at: None,
            dismissed_at: None,
            wait_since: None,
            after_hours_until: None,
            ended_at: None,
            end_reason: None,
            ended_by: None,
            updated_at: at,
            ticket_id: None,
            context: None,
        }
    }
}

/// A message, inbound or outbound. Outbound rows double as the outbox: `status` moves
/// queued → sending → sent/delivered, or failed/suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Store-assigned order; 0 before insertion.
    pub seq: i64,
    pub id: String,
    pub chat_id: Option<String>,
    /// The business number.
    pub number: String,
    pub consumer: String,
    pub direction: Direction,
    /// "consumer", "system" or "agent:ID".
    pub author: String,
    pub body: String,
    /// Media URLs, newline-separated.
    pub media: String,
    pub status: MessageStatus,
    /// Only an opt-out confirmation reaches an opted-out phone.
    pub purpose: Purpose,
    /// The carrier account the message came in through or goes out by.
    pub carrier: String,
    pub provider_id: Option<String>,
    pub attempts: i64,
    /// When the outbox may next try it (epoch ms): a retry's time, or the end of the consumer's quiet
    /// hours for a scheduled message.
    pub next_attempt_at: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Send later: the moment the message was scheduled for (epoch ms).
    pub send_at: Option<i64>,
    /// Send later: while the message waits for its time, what it becomes when due ("reply", "chat" or
    /// "sessionless"; see the 0022 migration). The outbox never claims a held message; the engine looks
    /// at it at `next_attempt_at`.
    pub held: Option<String>,
    /// The queue a held "chat" opens in, when one was asked for.
    pub held_queue: Option<String>,
    /// A resend: the message it sends again.
    pub resend_of: Option<String>,
    /// A message sent again: its resend.
    pub resent_as: Option<String>,
}

impl MessageRow {
    /// A consumer's text to `number`, received through `carrier` under the carrier's `provider_id`, in
    /// no chat yet and without media; set the rest with struct update syntax.
    pub fn inbound(
        id: impl Into<String>,
        number: impl Into<String>,
        consumer: impl Into<String>,
        carrier: impl Into<String>,
        provider_id: impl Into<String>,
        body: impl Into<String>,
        at: i64,
    ) -> MessageRow {
        MessageRow {
            direction: Direction::In,
            author: "consumer".to_owned(),
            status: MessageStatus::Received,
            provider_id: Some(provider_id.into()),
            ..MessageRow::blank(id.into(), number.into(), consumer.into(), carrier.into(), body.into(), at)
        }
    }

    /// A message by `author` ("system", "api" or "agent:ID") to the consumer, queued for the outbox
    /// through `carrier` now, in no chat yet.
    pub fn outbound(
        id: impl Into<String>,
        number: impl Into<String>,
        consumer: impl Into<String>,
        carrier: impl Into<String>,
        author: impl Into<String>,
        body: impl Into<String>,
        at: i64,
    ) -> MessageRow {
        MessageRow {
            direction: Direction::Out,
            author: author.into(),
            status: MessageStatus::Queued,
            ..MessageRow::blank(id.into(), number.into(), consumer.into(), carrier.into(), body.into(), at)
        }
    }

    /// An internal line of a chat's transcript, written by the system: agents read it, the consumer
    /// never gets it and the outbox never sees it.
    pub fn note(
        id: impl Into<String>,
        chat_id: impl Into<String>,
        number: impl Into<String>,
        consumer: impl Into<String>,
        carrier: impl Into<String>,
        body: impl Into<String>,
        at: i64,
    ) -> MessageRow {
        MessageRow {
            chat_id: Some(chat_id.into()),
            direction: Direction::Note,
            author: "system".to_owned(),
            status: MessageStatus::Internal,
            purpose: Purpose::Internal,
            ..MessageRow::blank(id.into(), number.into(), consumer.into(), carrier.into(), body.into(), at)
        }
    }

    /// The fields every kind shares; the constructors above set direction, author and status.
    fn blank(id: String, number: String, consumer: String, carrier: String, body: String, at: i64) -> MessageRow {
        MessageRow {
            seq: 0,
            id,
            chat_id: None,
            number,
            consumer,
            direction: Direction::Out,
            author: String::new(),
            body,
            media: String::new(),
            status: MessageStatus::Queued,
            purpose: Purpose::Conversation,
            carrier,
            provider_id: None,
            attempts: 0,
            next_attempt_at: 0,
            error: None,
            created_at: at,
            updated_at: at,
            send_at: None,
            held: None,
            held_queue: None,
            resend_of: None,
            resent_as: None,
        }
    }
}

/// One line of a message's delivery timeline: a status it took, when, and what the carrier said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChangeRow {
    pub message_id: String,
    pub status: MessageStatus,
    pub at: i64,
    /// The carrier's status or error code (a Twilio ErrorCode, an SMPP receipt's err).
    pub carrier_code: Option<String>,
    pub error: Option<String>,
}

/// A held (send-later) message the engine looked at: still held until `next_attempt_at` when its
/// status stays scheduled (quiet hours), else given up (failed, suppressed) or canceled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldUpdate {
    pub seq: i64,
    pub message_id: String,
    pub status: MessageStatus,
    pub next_attempt_at: i64,
    pub error: Option<String>,
    pub at: i64,
}

/// One event of the append-only log: transcript markers, audit, SSE resume point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Store-assigned, increasing; 0 before insertion.
    pub id: i64,
    pub chat_id: Option<String>,
    /// The queue of the chat when the event happened: decides which agents see it.
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub kind: String,
    /// JSON object with the event's details.
    pub data: String,
    pub at: i64,
}

/// A phone's consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub phone: String,
    pub opted_out: bool,
    pub notice_sent: bool,
    pub updated_at: i64,
}

/// One change in the consent ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEntry {
    pub phone: String,
    /// "notice_sent", "opted_out" or "opted_in".
    pub change: String,
    pub keyword: Option<String>,
    /// The business number the change came through.
    pub number: String,
    /// Where it came from: "sms", "api", ...
    pub source: String,
    pub at: i64,
}

/// An agent's presence and routing memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStateRow {
    pub agent: String,
    /// The status the agent chose (stored as "available", "away" or "offline").
    pub status: Presence,
    /// Whether they had a console stream or an API heartbeat within the presence timeout when the
    /// engine last looked (see `presence`).
    pub connected: bool,
    pub last_assigned: i64,
    pub updated_at: i64,
    /// When the status or the connection last changed (epoch ms; set by the store on write).
    pub status_since: i64,
}

/// A message on a simulated phone: sent by it ("mo") or delivered to it ("mt").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRow {
    /// Store-assigned; 0 before insertion.
    pub seq: i64,
    pub phone: String,
    pub business: String,
    pub direction: String,
    pub body: String,
    pub media: String,
    /// For "mt": the outbound message id, which makes a repeated delivery a no-op.
    pub message_id: Option<String>,
    pub at: i64,
}

/// A delivery receipt kept until its message is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReceiptRow {
    pub carrier: String,
    pub provider_id: String,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub at: i64,
}

/// A new delivery status for an outbound message. Applied only if it moves the message forward
/// (queued/sending → sent → delivered, undelivered or failed), so late or repeated receipts never undo
/// a later state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub seq: i64,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub at: i64,
}

/// Where a piece of inbound media is in its download, stored under these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStatus {
    /// Waiting for its (next) download attempt.
    Pending,
    /// A node has claimed its download.
    Fetching,
    /// Its bytes are stored.
    Stored,
    /// Kept as the carrier's link (too large to store, or storing turned off).
    Linked,
    /// The download failed for good.
    Failed,
}

impl MediaStatus {
    const ALL: [MediaStatus; 5] =
        [MediaStatus::Pending, MediaStatus::Fetching, MediaStatus::Stored, MediaStatus::Linked, MediaStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaStatus::Pending => "pending",
            MediaStatus::Fetching => "fetching",
            MediaStatus::Stored => "stored",
            MediaStatus::Linked => "linked",
            MediaStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<MediaStatus> {
        MediaStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A piece of media (its bytes are read separately): inbound, announced by a consumer's message, or
/// uploaded to be sent (outbound MMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRow {
    pub id: String,
    /// The message it came with or was sent with; none for an upload not attached yet.
    pub message_id: Option<String>,
    pub chat_id: Option<String>,
    pub carrier: String,
    pub source_url: String,
    pub content_type: String,
    pub size: i64,
    pub status: MediaStatus,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: i64,
    /// Who uploaded it ("agent:ID" or "admin"); none for media a consumer sent. An upload belongs to
    /// its uploader until it is attached to a message.
    pub uploaded_by: Option<String>,
}
