//! The events Parley records in its event log: one [`Event`] variant per kind, with its fields typed.
//!
//! Rule: everything the engine records is an `Event`. Its kind name is [`Event::kind`], its JSON is made
//! in one place (`parley-server`'s `http::event_json`) and its schema is `docs/events.md`, which a test
//! holds to the code. Why: the console's event stream, signed webhooks, CRM connectors and reports all
//! read the same events, and a payload written ad hoc where an event happens drifts from the others.
//! The matches below are exhaustive, so a new variant cannot be recorded without a kind name (and an
//! encoding, and a line in the schema).
//!
//! [`chat::decide`](crate::chat::decide) reports what happened to a chat as [`ChatEvent`]s;
//! [`Event::from_chat`] turns them into recorded events. Messages, delivery status, agent presence and
//! texts refused by a number are recorded by the engine around the decision.

use crate::chat::{ChatEvent, DismissReason, EndReason, TransferFailure};
use crate::crm::{ContactChange, ContactLink};
use crate::ids::{AgentId, QueueId};
use crate::message::{Direction, MessageStatus};
use crate::number::NumberState;
use crate::phone::{BusinessNumber, E164};
use crate::routing::Presence;
use crate::time::Timestamp;

/// One entry of the event log. Events of a chat also carry the chat's id, status and queue after the
/// decision that caused them; that envelope is the event log's, not the variant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A consumer's first text opened the chat.
    Opened,
    /// The consumer was sent the menu to choose a queue.
    MenuSent,
    /// The chat waits in `queue` for an agent.
    Queued { queue: QueueId },
    /// The consumer went back to the menu (the chat left its queue and agent).
    BackToMenu,
    /// The chat was offered to `agent`, who has not accepted yet.
    Offered { agent: AgentId },
    /// The business opened the chat: `agent`, or the outbound API when `None`.
    StartedOutbound { agent: Option<AgentId> },
    /// `agent` went away before accepting; the chat waits in its queue again.
    OfferWithdrawn { agent: AgentId },
    /// `agent` and the consumer are talking; `auto_answered` when no accept was needed.
    Connected { agent: AgentId, auto_answered: bool },
    /// `agent` let the offer time out; the chat moves on.
    OfferTimedOut { agent: AgentId },
    /// The consumer was asked whether they are still there.
    InactivityWarning,
    /// The chat's language changed (a LANG command, a menu choice, or the guess of a first text).
    LanguageChanged { language: String },
    /// The queue is closed; the chat waits until `opens` (`None`: nothing opens it, it ends instead).
    AfterHours { opens: Option<Timestamp> },
    /// The connected `agent` did not answer the consumer in time; the chat goes to someone else.
    ReplyTimedOut { agent: AgentId },
    /// The chat waited its queue's limit in `from` and moved on to the overflow queue `to`.
    Overflowed { from: QueueId, to: QueueId },
    /// `from` asked `to` (in `queue`, for a transfer to a queue) to take the chat over.
    TransferStarted { from: AgentId, to: AgentId, queue: Option<QueueId>, note: String },
    /// The transfer did not happen; `from` keeps the chat.
    TransferFailed { from: AgentId, to: Option<AgentId>, reason: TransferFailure },
    /// `to` took the chat over from `from`.
    TransferEnded { from: AgentId, to: AgentId },
    /// The consumer opted out (STOP, or an opt-out given through the API).
    OptedOut,
    /// The chat is over: why, and who ended it ("consumer", "system", "admin" or the agent's id).
    Ended { reason: EndReason, by: String },
    /// The chat was dismissed while the consumer is quiet: who ("system", "admin" or the agent's id)
    /// and why. It left its agent's list; its session lives on.
    Dismissed { by: String, reason: DismissReason },
    /// A dismissed chat went back to its queue: who resumed it ("consumer", "admin" or the agent's id).
    Resumed { by: String },
    /// A message of the chat's transcript was stored: the consumer's text, one sent to the consumer, or an
    /// internal note. The values are the message's as the messages API shows them.
    Message {
        message_id: String,
        direction: Direction,
        /// "consumer", "system", "api" or "agent:<id>".
        author: String,
        body: String,
        /// Media URLs, in the order the message holds them.
        media: Vec<String>,
        /// The message's status when it was stored (received, queued, scheduled or internal).
        status: MessageStatus,
    },
    /// An outbound message moved forward: the outbox handed it over or gave up, or a receipt came.
    MessageStatus {
        message_id: String,
        /// sent, delivered, undelivered, failed or suppressed.
        status: MessageStatus,
        /// The carrier's or the outbox's reason, for a message that did not make it.
        error: Option<String>,
    },
    /// An agent's presence changed: the status they chose, or whether they are connected (an agent who
    /// is not is "offline (disconnected)" whatever they chose).
    AgentStatus { agent: AgentId, presence: Presence, connected: bool },
    /// A text reached a number that is not enabled: it was stored, but opened no chat.
    InboundRefused { message_id: String, number: BusinessNumber, state: NumberState },
    /// A text came from a blocked phone: it was stored with the entry's reason, but opened no chat.
    InboundBlocked { message_id: String, number: BusinessNumber, phone: E164, reason: String },
    /// A phone opted out of or back in to texts from `number`: by a keyword it texted (`keyword`), or
    /// given outside SMS through the API (`keyword` is `None`). `source` says where the change came
    /// from ("sms", or the API caller's source).
    ConsentChanged { phone: E164, number: BusinessNumber, opted_out: bool, keyword: Option<String>, source: String },
    /// An admin moved a number's registration state from `from` to `to`.
    NumberStateChanged { number: BusinessNumber, from: NumberState, to: NumberState, reason: Option<String> },
    /// An outgoing webhook endpoint was disabled: its deliveries kept failing since `failing_since`.
    WebhookDisabled { webhook_id: String, url: String, failing_since: Timestamp },
    /// The chat was linked to the contact `contact_id` of the built-in CRM: how, and by whom ("system",
    /// "admin", "api" or the agent's id). `record_id` is the record (activity) on the contact the chat
    /// is part of: a new one, or one the queue's record policy appended it to or reopened.
    ContactLinked { contact_id: String, record_id: String, how: ContactLink, by: String },
    /// Several contacts have the chat's phone: the agent is asked to pick one (`candidates`, contact
    /// ids) or create a new one. The chat goes on meanwhile.
    ContactMatchPending { candidates: Vec<String> },
    /// A contact was created, changed, merged into another or deleted, by whom (as for
    /// `ContactLinked`). Not of a chat.
    ContactChanged { contact_id: String, change: ContactChange, by: String },
    /// Erasing a phone removed it from the contact `contact_id`; `deleted` when nothing was left of it.
    /// `external_ids` are the contact's ids in the connectors' CRMs, as `connector:id`, so each
    /// connector can erase its copy. Not of a chat, and without the phone.
    ContactErased { contact_id: String, deleted: bool, external_ids: Vec<String> },
    /// The IVR reported a call (docs/ivr.md): it entered the voice queue `ivr_queue`. Not of a chat;
    /// the caller's number is kept with the call, not in the event.
    CallStarted { call_id: String, ivr_queue: String },
    /// The call waits for an agent (`position` in line, as the IVR says), or the voice queue went over
    /// its capacity while it waits.
    CallQueued { call_id: String, position: Option<u32>, over_capacity: bool },
    /// The call is with `agent`.
    CallConnected { call_id: String, agent: AgentId },
    /// The call ended (`reason` as the IVR says, or `deflected`).
    CallEnded { call_id: String, reason: String },
    /// A step of pre-session deflection: the offer made or not (with why not), accepted (the SMS chat
    /// `sms_chat_id` started) or declined.
    CallDeflection {
        call_id: String,
        outcome: String,
        reason: Option<String>,
        ewt_seconds: u32,
        sms_chat_id: Option<String>,
    },
    /// The caller's answer to the wait-time SMS: `sent` (into the call's SMS thread `thread_chat_id`)
    /// or `declined` (not asked again on this call).
    CallWaitSms { call_id: String, outcome: String, thread_chat_id: Option<String> },
    /// The consumer opened the app from an app-launch link (`[[apps]]`), in the chat `chat_id` (a call's
    /// thread names its `call_id`).
    AppOpened { app: String, call_id: Option<String> },
}

/// Every kind's name, in the order of [`Event`]'s variants: what a webhook may subscribe to by name.
pub const KINDS: [&str; 40] = [
    "chat.opened",
    "chat.menu_sent",
    "chat.queued",
    "chat.back_to_menu",
    "chat.offered",
    "chat.started_outbound",
    "chat.offer_withdrawn",
    "chat.connected",
    "chat.offer_timed_out",
    "chat.inactivity_warning",
    "chat.language_changed",
    "chat.after_hours",
    "chat.reply_timed_out",
    "chat.overflowed",
    "chat.transfer_started",
    "chat.transfer_failed",
    "chat.transfer_ended",
    "consumer.opted_out",
    "chat.ended",
    "chat.dismissed",
    "chat.resumed",
    "message",
    "message.status",
    "agent.status",
    "number.inbound_refused",
    "phone.inbound_blocked",
    "consent.changed",
    "number.state_changed",
    "webhook.disabled",
    "contact.linked",
    "contact.match_pending",
    "contact.changed",
    "contact.erased",
    "call.started",
    "call.queued",
    "call.connected",
    "call.ended",
    "call.deflection",
    "call.wait_sms",
    "app.opened",
];

/// The webhook types that are not a kind's own name: names integrators know from other platforms,
/// each standing for the kinds (or the part of a kind) [`Event::webhook_types`] says.
pub const WEBHOOK_ALIASES: [&str; 4] = ["chat.started", "chat.transferred", "message.received", "message.sent"];

impl Event {
    /// The kind's name, as stored in the log and sent as the SSE event name.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Opened => "chat.opened",
            Event::MenuSent => "chat.menu_sent",
            Event::Queued { .. } => "chat.queued",
            Event::BackToMenu => "chat.back_to_menu",
            Event::Offered { .. } => "chat.offered",
            Event::StartedOutbound { .. } => "chat.started_outbound",
            Event::OfferWithdrawn { .. } => "chat.offer_withdrawn",
            Event::Connected { .. } => "chat.connected",
            Event::OfferTimedOut { .. } => "chat.offer_timed_out",
            Event::InactivityWarning => "chat.inactivity_warning",
            Event::LanguageChanged { .. } => "chat.language_changed",
            Event::AfterHours { .. } => "chat.after_hours",
            Event::ReplyTimedOut { .. } => "chat.reply_timed_out",
            Event::Overflowed { .. } => "chat.overflowed",
            Event::TransferStarted { .. } => "chat.transfer_started",
            Event::TransferFailed { .. } => "chat.transfer_failed",
            Event::TransferEnded { .. } => "chat.transfer_ended",
            Event::OptedOut => "consumer.opted_out",
            Event::Ended { .. } => "chat.ended",
            Event::Dismissed { .. } => "chat.dismissed",
            Event::Resumed { .. } => "chat.resumed",
            Event::Message { .. } => "message",
            Event::MessageStatus { .. } => "message.status",
            Event::AgentStatus { .. } => "agent.status",
            Event::InboundRefused { .. } => "number.inbound_refused",
            Event::InboundBlocked { .. } => "phone.inbound_blocked",
            Event::ConsentChanged { .. } => "consent.changed",
            Event::NumberStateChanged { .. } => "number.state_changed",
            Event::WebhookDisabled { .. } => "webhook.disabled",
            Event::ContactLinked { .. } => "contact.linked",
            Event::ContactMatchPending { .. } => "contact.match_pending",
            Event::ContactChanged { .. } => "contact.changed",
            Event::ContactErased { .. } => "contact.erased",
            Event::CallStarted { .. } => "call.started",
            Event::CallQueued { .. } => "call.queued",
            Event::CallConnected { .. } => "call.connected",
            Event::CallEnded { .. } => "call.ended",
            Event::CallDeflection { .. } => "call.deflection",
            Event::CallWaitSms { .. } => "call.wait_sms",
            Event::AppOpened { .. } => "app.opened",
        }
    }

    /// The webhook types this event counts as: its kind's name, and the aliases of
    /// [`WEBHOOK_ALIASES`] it falls under. A chat starts when a consumer's text opens it or the
    /// business opens it; a transfer is done when the other agent took the chat over; a message is
    /// received or sent by its direction (an internal note is neither).
    pub fn webhook_types(&self) -> Vec<&'static str> {
        let alias = match self {
            Event::Opened | Event::StartedOutbound { .. } => Some("chat.started"),
            Event::TransferEnded { .. } => Some("chat.transferred"),
            Event::Message { direction: Direction::In, .. } => Some("message.received"),
            Event::Message { direction: Direction::Out, .. } => Some("message.sent"),
            _ => None,
        };
        std::iter::once(self.kind()).chain(alias).collect()
    }

    /// The event a decision's [`ChatEvent`] records. `None` for the two message markers
    /// (`ConsumerMessage`, `AgentMessage`): they say where a message falls among the chat's events, and
    /// the engine records that message as [`Event::Message`], with its text, at that place.
    pub fn from_chat(event: &ChatEvent) -> Option<Event> {
        let event = match event.clone() {
            ChatEvent::Opened => Event::Opened,
            ChatEvent::MenuSent => Event::MenuSent,
            ChatEvent::Queued { queue } => Event::Queued { queue },
            ChatEvent::BackToMenu => Event::BackToMenu,
            ChatEvent::Offered { agent } => Event::Offered { agent },
            ChatEvent::StartedOutbound { agent } => Event::StartedOutbound { agent },
            ChatEvent::OfferWithdrawn { agent } => Event::OfferWithdrawn { agent },
            ChatEvent::Connected { agent, auto_answered } => Event::Connected { agent, auto_answered },
            ChatEvent::OfferTimedOut { agent } => Event::OfferTimedOut { agent },
            ChatEvent::InactivityWarning => Event::InactivityWarning,
            ChatEvent::LanguageChanged { language } => Event::LanguageChanged { language },
            ChatEvent::AfterHours { opens } => Event::AfterHours { opens },
            ChatEvent::ReplyTimedOut { agent } => Event::ReplyTimedOut { agent },
            ChatEvent::Overflowed { from, to } => Event::Overflowed { from, to },
            ChatEvent::TransferStarted { from, to, queue, note } => Event::TransferStarted { from, to, queue, note },
            ChatEvent::TransferFailed { from, to, reason } => Event::TransferFailed { from, to, reason },
            ChatEvent::TransferEnded { from, to } => Event::TransferEnded { from, to },
            ChatEvent::OptedOut => Event::OptedOut,
            ChatEvent::Ended { reason, by } => Event::Ended { reason, by },
            ChatEvent::Dismissed { by, reason } => Event::Dismissed { by, reason },
            ChatEvent::Resumed { by } => Event::Resumed { by },
            ChatEvent::ConsumerMessage | ChatEvent::AgentMessage { .. } => return None,
        };
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_markers_record_no_event_of_their_own() {
        let agent = AgentId::parse("bob").unwrap();
        assert_eq!(Event::from_chat(&ChatEvent::ConsumerMessage), None);
        assert_eq!(Event::from_chat(&ChatEvent::AgentMessage { agent: agent.clone() }), None);
        let connected = Event::from_chat(&ChatEvent::Connected { agent: agent.clone(), auto_answered: true });
        assert_eq!(connected, Some(Event::Connected { agent, auto_answered: true }));
        assert_eq!(connected.map(|e| e.kind()), Some("chat.connected"));
    }

    #[test]
    fn webhook_types_are_the_kind_and_the_alias_it_falls_under() {
        let message = |direction| Event::Message {
            message_id: "m1".to_owned(),
            direction,
            author: "consumer".to_owned(),
            body: "hi".to_owned(),
            media: vec![],
            status: MessageStatus::Received,
        };
        assert_eq!(Event::Opened.webhook_types(), ["chat.opened", "chat.started"]);
        assert_eq!(Event::StartedOutbound { agent: None }.webhook_types(), ["chat.started_outbound", "chat.started"]);
        assert_eq!(message(Direction::In).webhook_types(), ["message", "message.received"]);
        assert_eq!(message(Direction::Out).webhook_types(), ["message", "message.sent"]);
        assert_eq!(message(Direction::Note).webhook_types(), ["message"]);
        assert_eq!(Event::MenuSent.webhook_types(), ["chat.menu_sent"]);
        for alias in WEBHOOK_ALIASES {
            assert!(!KINDS.contains(&alias), "{alias} is a kind's name and an alias");
        }
    }
}
