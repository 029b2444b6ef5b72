//! What the desk reports: each decision as it is made, in order, to a [`Recorder`].
//!
//! Rule: the desk reports, its adapter records. The engine turns a report into message, event and
//! ledger rows; the conversation scripts turn it into a transcript. Why: the order of what happened
//! (a timer that fired before the text, the chats an opt-out ended after it) is the desk's to decide,
//! and how it is stored is not; reports borrow the chat as the decision left it, so recording costs no
//! copy of it.

use crate::chat::{Chat, ConsentChange, Effect};
use crate::ids::AgentId;
use crate::number::NumberState;
use crate::phone::{BusinessNumber, E164};
use crate::routing::Presence;
use crate::setup::{Blocked, Number};
use crate::time::Timestamp;

/// Why the desk ran a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The input the desk was given.
    Input,
    /// A timer of the phone's live chat came due before the worker fired it (the server was down, say):
    /// it fires before the text is handled (`Input::Tick`).
    DueFirst,
    /// The phone opted out in another chat or through the API: this chat ends too
    /// (`Input::OptedOutElsewhere`).
    OptedOutElsewhere,
    /// The agent the chat was offered to went away (`Input::Withdraw`).
    Withdrawn,
    /// Capacity freed up in the chat's queue (`Input::Route`).
    Routed,
    /// An admin blocked the chat's phone (`Input::Blocked`).
    Blocked,
}

/// One decision, as the desk is about to keep it.
#[derive(Debug)]
pub struct Decided<'a> {
    pub step: Step,
    /// The chat before the decision; `None` for an input that opened a chat or belongs to none.
    pub before: Option<&'a Chat>,
    /// The chat after it; `None` when the input belongs to no chat (a keyword with no chat open, a
    /// text from an opted-out phone, a sessionless message).
    pub chat: Option<&'a Chat>,
    pub consent: Option<&'a ConsentChange>,
    /// The messages to send and the events to record, in order.
    pub effects: Vec<Effect>,
    /// The business number the decision is about (for a chat whose number left the setup, a stand-in
    /// with no carrier).
    pub number: &'a Number,
    pub consumer: &'a E164,
    pub now: Timestamp,
    /// The consumer's text is the reply to this sessionless notification: the id of its message
    /// (`None`: the text is no notification's reply, or the notification was sent in this batch and
    /// its id is not known to the desk).
    pub reply_to: Option<&'a str>,
}

/// Takes the desk's reports. The engine writes rows from them; the scripts write a transcript.
pub trait Recorder {
    /// A decision on a chat (or on no chat).
    fn decided(&mut self, decided: Decided<'_>);

    /// A consent change that is no decision's: given through the API, or a keyword texted to a number
    /// that is not enabled.
    fn consent(&mut self, phone: &E164, number: &BusinessNumber, change: &ConsentChange, now: Timestamp);

    /// A text to `number`, which is in `state` (not enabled): it is kept and shown to admins, but it
    /// opens no chat and gets no answer.
    fn refused_text(&mut self, number: &Number, consumer: &E164, state: NumberState, now: Timestamp);

    /// A text from a blocked phone: it is kept with the entry's reason and shown to admins, but it
    /// opens no chat and gets no answer (an opt-out still gets its one confirmation, reported as a
    /// decision after this).
    fn blocked_text(&mut self, number: &Number, blocked: &Blocked, now: Timestamp);

    /// An agent's presence changed: the status they chose, or whether they are connected.
    fn presence(&mut self, agent: &AgentId, presence: Presence, connected: bool, now: Timestamp);
}
