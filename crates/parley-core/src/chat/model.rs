//! The chat as it is kept between inputs: where it stands, how it began and ended, the transfer it
//! waits on, and what the consent ledger knows of its phone.

use crate::ids::{AgentId, ChatId, QueueId};
use crate::phone::{BusinessNumber, E164};
use crate::ticket::Ticket;
use crate::time::Timestamp;

/// Where a chat stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStatus {
    /// The consumer is choosing a queue from the menu.
    Selecting,
    /// Waiting for an agent.
    Queued,
    /// Offered to one agent, who has not accepted yet.
    Offered,
    /// An agent and the consumer are talking.
    Connected,
    /// Put aside while the consumer is quiet (dismissal): off the agent's list, the session lives on;
    /// the consumer's next text (or a resume) puts it back in its queue.
    Dismissed,
    /// Over; a later text starts a new chat.
    Finished,
}

impl ChatStatus {
    /// The status as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Selecting => "selecting",
            ChatStatus::Queued => "queued",
            ChatStatus::Offered => "offered",
            ChatStatus::Connected => "connected",
            ChatStatus::Dismissed => "dismissed",
            ChatStatus::Finished => "finished",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<ChatStatus> {
        [
            ChatStatus::Selecting,
            ChatStatus::Queued,
            ChatStatus::Offered,
            ChatStatus::Connected,
            ChatStatus::Dismissed,
            ChatStatus::Finished,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Who wrote first: the consumer, or the business (an agent or the outbound API). Quiet hours bind
/// only the business's first contact; replies inside a chat the consumer started are exempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    #[default]
    Inbound,
    Outbound,
}

impl Origin {
    /// The origin as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Inbound => "inbound",
            Origin::Outbound => "outbound",
        }
    }

    /// Parses a stored origin.
    pub fn parse(text: &str) -> Option<Origin> {
        [Origin::Inbound, Origin::Outbound].into_iter().find(|o| o.as_str() == text)
    }
}

/// How a chat got its agent, for reports: the seed platform's start types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartType {
    /// An agent accepted the offer (or took the chat from the queue).
    Manual,
    /// The queue connected it at once.
    Auto,
    /// The business started it.
    Outbound,
    /// A caller left the IVR's voice queue for it (pre-session deflection).
    Deflected,
    /// The SMS thread of a voice call (the wait-time SMS, SMS during a call): the call gives it its
    /// agent and ends it, and no timer of chats runs on it.
    Call,
}

impl StartType {
    pub fn as_str(self) -> &'static str {
        match self {
            StartType::Manual => "manually_answered",
            StartType::Auto => "auto_answered",
            StartType::Outbound => "outbound",
            StartType::Deflected => "deflected",
            StartType::Call => "call",
        }
    }

    pub fn parse(text: &str) -> Option<StartType> {
        [StartType::Manual, StartType::Auto, StartType::Outbound, StartType::Deflected, StartType::Call]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Why a chat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The agent ended it.
    EndedByAgent,
    /// An admin ended it.
    EndedByAdmin,
    /// The consumer sent the end-chat command.
    ConsumerCommand,
    /// The consumer opted out.
    OptedOut,
    /// The session lasted longer than the session expiration.
    Expired,
    /// The consumer did not answer the inactivity warning.
    ConsumerSilent,
    /// No agent took the chat within the queue's wait limit.
    QueueTimeout,
    /// The queue was closed and does not keep chats after hours.
    AfterHours,
    /// An admin blocked the consumer's phone (the blocklist); the consumer is not told.
    Blocked,
    /// The voice call the thread belongs to ended (the consumer is not told: the call ending says it).
    CallEnded,
}

impl EndReason {
    /// The reason as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::EndedByAgent => "ended_by_agent",
            EndReason::EndedByAdmin => "ended_by_admin",
            EndReason::ConsumerCommand => "consumer_command",
            EndReason::OptedOut => "opted_out",
            EndReason::Expired => "expired",
            EndReason::ConsumerSilent => "consumer_silent",
            EndReason::QueueTimeout => "queue_timeout",
            EndReason::AfterHours => "after_hours",
            EndReason::Blocked => "blocked",
            EndReason::CallEnded => "call_ended",
        }
    }

    /// Parses a stored reason.
    pub fn parse(text: &str) -> Option<EndReason> {
        [
            EndReason::EndedByAgent,
            EndReason::EndedByAdmin,
            EndReason::ConsumerCommand,
            EndReason::OptedOut,
            EndReason::Expired,
            EndReason::ConsumerSilent,
            EndReason::QueueTimeout,
            EndReason::AfterHours,
            EndReason::Blocked,
            EndReason::CallEnded,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// One chat between a consumer's phone and a business number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub id: ChatId,
    /// The business number the consumer texted.
    pub number: BusinessNumber,
    pub consumer: E164,
    pub origin: Origin,
    pub status: ChatStatus,
    /// Set once the consumer has picked a queue (or the number has only one).
    pub queue: Option<QueueId>,
    /// The submenu the consumer is in (a queue with child queues); `None`: the number's own menu.
    pub menu_level: Option<QueueId>,
    /// The agent the chat is offered to or connected with; kept after the end for reports.
    pub agent: Option<AgentId>,
    pub opened_at: Timestamp,
    /// When the chat last entered the queue; the queue is served oldest first.
    pub queued_at: Option<Timestamp>,
    /// When the current offer was made (its timeout counts from here).
    pub offered_at: Option<Timestamp>,
    /// The last message either way; inactivity counts from here.
    pub last_message_at: Timestamp,
    /// When the consumer was asked whether they are still there (cleared by the next message).
    pub warned_at: Option<Timestamp>,
    /// A transfer offered to another agent and not answered yet; the chat stays with its agent.
    pub transfer: Option<Transfer>,
    /// How the chat got its first agent; `None` until it has one (outbound chats: from the start).
    pub start_type: Option<StartType>,
    /// The language system messages are written in (a tag of the setup); agents see it, and routing
    /// prefers agents who write it.
    pub language: String,
    /// When an agent first took the chat (handle times count from here).
    pub answered_at: Option<Timestamp>,
    /// The consumer's oldest message the connected agent has not answered yet.
    pub awaiting_reply_since: Option<Timestamp>,
    /// The connected agent's last message; dismissal counts from here (`None`: the agent has not
    /// written since the chat was last connected).
    pub agent_message_at: Option<Timestamp>,
    /// When the chat was dismissed (while it is).
    pub dismissed_at: Option<Timestamp>,
    /// When the queue's wait limit started counting: on joining the queue, or when it opened.
    pub wait_since: Option<Timestamp>,
    /// The queue is closed: the chat waits for this moment, when it opens.
    pub after_hours_until: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub end_reason: Option<EndReason>,
    /// Who ended the chat: an agent id, "admin" or "consumer".
    pub ended_by: Option<String>,
    /// What the integration that started the chat attached to it (empty for other chats).
    pub ticket: Ticket,
}

impl Chat {
    /// Whether the chat still takes messages.
    pub fn is_live(&self) -> bool {
        self.status != ChatStatus::Finished
    }

    /// Whether this is a voice call's SMS thread rather than a chat of a queue.
    pub fn is_call_thread(&self) -> bool {
        self.start_type == Some(StartType::Call)
    }
}

/// Where an agent sends a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// A colleague serving the chat's queue.
    Agent(AgentId),
    /// Another queue: its best available agent (never the one transferring) is asked.
    Queue(QueueId),
}

/// A transfer waiting for the receiving agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub from: AgentId,
    pub target: TransferTarget,
    /// The agent asked to take the chat.
    pub offered_to: AgentId,
    /// For the receiving agent; never sent to the consumer.
    pub note: String,
    pub started_at: Timestamp,
}

/// Why a transfer did not happen; the chat stays with the agent who started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferFailure {
    Declined,
    TimedOut,
    NobodyAvailable,
}

impl TransferFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferFailure::Declined => "declined",
            TransferFailure::TimedOut => "timed_out",
            TransferFailure::NobodyAvailable => "nobody_available",
        }
    }

    /// Parses a stored reason.
    pub fn parse(text: &str) -> Option<TransferFailure> {
        [TransferFailure::Declined, TransferFailure::TimedOut, TransferFailure::NobodyAvailable]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// What the consent ledger knows about a consumer's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consent {
    /// The phone texted an opt-out keyword and has not opted in since.
    pub opted_out: bool,
    /// The opt-in notice has been sent to this phone at least once.
    pub notice_sent: bool,
}

/// A change to record in the consent ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentChange {
    NoticeSent,
    OptedOut { keyword: String },
    OptedIn { keyword: String },
}
