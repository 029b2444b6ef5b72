//! What can happen to a chat: one [`Input`] per kind, from the consumer, an agent, an admin, the
//! API, routing or the clock.

use crate::ids::{AgentId, QueueId};
use crate::ticket::Ticket;
use crate::time::Timestamp;

use super::TransferTarget;

/// Who does something to a chat on the business side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Agent(AgentId),
    Admin,
}

/// One input to a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The consumer texted the business number. `language`: what a detector made of the text, used
    /// when it opens a chat.
    Inbound { text: String, media: usize, language: Option<String> },
    /// An agent accepts a chat offered to them (or picks one from their queue).
    Accept { agent: AgentId },
    /// An agent writes to the consumer.
    Reply { agent: AgentId, text: String },
    /// An agent or an admin ends the chat.
    End { by: Actor },
    /// Capacity may have freed up: offer a queued chat if an agent has room.
    Route,
    /// The agent a chat is offered to went away: the offer is withdrawn and the chat waits in its queue
    /// again (keeping its place).
    Withdraw,
    /// The consumer opted out through another chat (another business number): this chat ends too,
    /// so no agent keeps waiting on a phone that may not be texted.
    OptedOutElsewhere,
    /// An admin blocked the consumer's phone: the chat ends at once, ended `by` that admin, and the
    /// consumer is sent nothing (a block is not announced).
    Blocked { by: String },
    /// The business writes first: an agent starts a chat (`agent`, in `queue` or the first queue of the
    /// number they serve), or the outbound API sends (no agent). A live chat with the phone is joined
    /// instead of opening a second one. `no_delay`: refuse rather than wait out quiet hours.
    Outbound {
        text: String,
        agent: Option<AgentId>,
        queue: Option<QueueId>,
        no_delay: bool,
        /// The integration's ticket id and context, kept on a chat this opens (a live chat joined keeps
        /// its own).
        ticket: Ticket,
    },
    /// A caller accepted to leave the IVR's voice queue for SMS (pre-session deflection): a chat opens
    /// with the platform's `text` and waits in `queue` as if queued `since` (the call's start), so the
    /// caller keeps their place ahead of chats that came after the call. A live chat with the phone on
    /// the number gets the text instead.
    Deflected { text: String, queue: QueueId, since: Timestamp, ticket: Ticket },
    /// A message of the business in a voice call's SMS thread (docs/ivr.md): the platform's wait-time
    /// SMS (`agent` none, the caller waiting) or the connected agent's text. Opens the thread on the
    /// in-call number when the phone has none live; `ticket` names the call.
    CallText { text: String, agent: Option<AgentId>, ticket: Ticket },
    /// The call the thread belongs to is with `agent` now: the thread is theirs.
    CallConnected { agent: AgentId },
    /// The call the thread belongs to ended: so does the thread.
    CallEnded,
    /// A message that belongs to no chat (a notification): the consumer's answer is handled like any
    /// first text.
    Sessionless { text: String, no_delay: bool },
    /// Time passed: whatever timer of the chat is due fires (see [`crate::timers`]).
    Tick,
    /// The connected agent hands the chat to a colleague or another queue, with a note for them.
    Transfer { from: AgentId, target: TransferTarget, note: String },
    /// The agent a transfer is offered to takes the chat or declines it.
    AnswerTransfer { agent: AgentId, accept: bool },
    /// The connected agent or an admin dismisses a quiet chat (see `chat/dismissal.rs`).
    Dismiss { by: Actor },
    /// An agent of the queue or an admin puts a dismissed chat back in its queue.
    Resume { by: Actor },
}
