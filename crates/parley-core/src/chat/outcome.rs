//! What a decision returns: the chat's next state and the [`Effect`]s to carry out in the same
//! transaction (messages to send, events to record), or the [`Refusal`] of a business-side input.

use crate::ids::{AgentId, QueueId};
use crate::time::Timestamp;

use super::{Chat, ConsentChange, EndReason, TransferFailure};

/// Who wrote a message the chat sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    System,
    Agent(AgentId),
    /// An integration, through the outbound or sessionless API.
    Api,
}

/// Why a message is sent; the outbox lets only opt-out confirmations through to an opted-out phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Conversation,
    OptOutConfirmation,
    /// A note of the transcript (never sent). Decisions never send one; the engine writes notes.
    Internal,
}

impl Purpose {
    /// The purpose as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Conversation => "conversation",
            Purpose::OptOutConfirmation => "opt_out_confirmation",
            Purpose::Internal => "internal",
        }
    }

    /// Parses a stored purpose.
    pub fn parse(text: &str) -> Option<Purpose> {
        [Purpose::Conversation, Purpose::OptOutConfirmation, Purpose::Internal].into_iter().find(|p| p.as_str() == text)
    }
}

/// Something that happened to a chat, recorded in its event log and pushed to the agents who see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    Opened,
    MenuSent,
    Queued {
        queue: QueueId,
    },
    BackToMenu,
    Offered {
        agent: AgentId,
    },
    /// The business opened the chat (an agent or the outbound API).
    StartedOutbound {
        agent: Option<AgentId>,
    },
    /// The agent let the offer time out; it moves on.
    OfferTimedOut {
        agent: AgentId,
    },
    /// The consumer was asked whether they are still there.
    InactivityWarning,
    /// The chat's language changed (a LANG command or a menu choice in another language).
    LanguageChanged {
        language: String,
    },
    /// The queue is closed; the chat waits until `opens` (`None`: it closed instead).
    AfterHours {
        opens: Option<Timestamp>,
    },
    /// The connected agent did not answer the consumer in time; the chat goes to someone else.
    ReplyTimedOut {
        agent: AgentId,
    },
    /// The chat waited its queue's limit and moved on to the overflow queue.
    Overflowed {
        from: QueueId,
        to: QueueId,
    },
    /// A transfer was offered to `to` (in `queue` for a transfer to a queue).
    TransferStarted {
        from: AgentId,
        to: AgentId,
        queue: Option<QueueId>,
        note: String,
    },
    /// The transfer did not happen; `from` keeps the chat.
    TransferFailed {
        from: AgentId,
        to: Option<AgentId>,
        reason: TransferFailure,
    },
    /// `to` took the chat over from `from`.
    TransferEnded {
        from: AgentId,
        to: AgentId,
    },
    OfferWithdrawn {
        agent: AgentId,
    },
    Connected {
        agent: AgentId,
        auto_answered: bool,
    },
    ConsumerMessage,
    AgentMessage {
        agent: AgentId,
    },
    OptedOut,
    Ended {
        reason: EndReason,
        by: String,
    },
    /// The chat was put aside while the consumer is quiet; `by` is "system", "admin" or the agent's id.
    Dismissed {
        by: String,
        reason: DismissReason,
    },
    /// A dismissed chat went back to its queue; `by` is "consumer", "admin" or the agent's id.
    Resumed {
        by: String,
    },
}

/// Why a chat was dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DismissReason {
    /// The dismissal timer: the consumer was quiet for the queue's `after_minutes`.
    ConsumerSilent,
    /// The connected agent dismissed it.
    ByAgent,
    /// An admin dismissed it.
    ByAdmin,
}

impl DismissReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DismissReason::ConsumerSilent => "consumer_silent",
            DismissReason::ByAgent => "by_agent",
            DismissReason::ByAdmin => "by_admin",
        }
    }

    /// Parses a stored reason.
    pub fn parse(text: &str) -> Option<DismissReason> {
        [DismissReason::ConsumerSilent, DismissReason::ByAgent, DismissReason::ByAdmin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// What to carry out, in order, in the same transaction as the chat's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a message to the consumer (through the outbox), not before `not_before` when quiet hours
    /// hold a proactive message back.
    Send { text: String, author: Author, purpose: Purpose, not_before: Option<Timestamp> },
    /// Record an event of the chat.
    Event(ChatEvent),
}

/// A business-side action the chat's state does not allow. Consumers are never refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The agent does not serve the chat's queue.
    NotYourQueue,
    /// The chat is offered to or connected with another agent.
    TakenByAnother,
    /// The agent already has as many chats as their capacity allows.
    AtCapacity,
    /// The chat is not (yet) connected with this agent.
    NotConnected,
    /// The chat has ended.
    Ended,
    /// The consumer opted out: nothing may be sent to them.
    OptedOut,
    /// The chat has no queue yet (the consumer is still in the menu).
    NoQueue,
    /// A proactive message inside the consumer's quiet hours, and the caller asked not to wait:
    /// the first moment it may be sent, and the consumer's time zone(s) that decided it.
    QuietHours { until: Timestamp, zones: String },
    /// The consumer already has a live chat that is not with this agent.
    ChatInProgress,
    /// A transfer of this chat is already waiting for an answer.
    TransferPending,
    /// No transfer of this chat waits for this agent.
    NoTransfer,
    /// The agent to transfer to is the one transferring, or does not serve the chat's queue.
    BadTransferTarget,
    /// The chat's queue (or its parents, or the deployment) sets no dismissal.
    DismissalOff,
    /// The chat cannot be dismissed: it is not an inbound chat in which the agent has written.
    NotDismissable,
    /// The queue's dismissal has `by_agent = false`: only the timer or an admin dismisses.
    DismissByAgentOff,
    /// Only a dismissed chat can be resumed.
    NotDismissed,
    /// The chat is dismissed: resume it before taking it.
    IsDismissed,
    /// The queue does not let agents start outbound chats (`agent_outbound = false`).
    AgentOutboundOff,
    /// The business number only takes chats (`role = "incoming"`): it never writes first.
    IncomingOnly,
    /// The number has role `in_call`: it carries calls' SMS threads, and sends nothing else.
    CallsOnly,
    /// A call's SMS goes out only from an `in_call` number.
    NotInCallNumber,
    /// The chat is not a voice call's SMS thread.
    NotACallThread,
}

/// The result of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one short-lived outcome per input, matched at once; boxing the decision would only add an allocation"
)]
pub enum Outcome {
    Done(Decision),
    Refused(Refusal),
}

/// The state after an input and what to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// The chat after the input; `None` when the input belongs to no chat (a keyword with no chat
    /// open, or a text from an opted-out phone).
    pub chat: Option<Chat>,
    pub consent: Option<ConsentChange>,
    pub effects: Vec<Effect>,
    /// The consumer's text is the reply to the number's latest sessionless notification (answered
    /// with the `unmonitored` message, in no chat).
    pub notification_reply: bool,
}
