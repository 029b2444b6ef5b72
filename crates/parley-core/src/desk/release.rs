//! Scheduled messages that came due: the gate of [`crate::scheduled`] on the desk's state, then the
//! input of the message's kind, as if it had been written at that moment.

use crate::chat::{Input, Refusal};
use crate::ids::ChatId;
use crate::scheduled::{Due, DueFacts, Held, HeldKind, gate, refusal_reason};
use crate::setup::Setup;
use crate::ticket::Ticket;
use crate::time::Timestamp;

use super::inputs::{Outbound, Rejection};
use super::{Desk, Recorder};

/// What a due scheduled message became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// Sent through its input; the chat it went to, if any.
    Sent { chat: Option<ChatId> },
    /// Quiet hours: due again at `until`.
    Waiting { until: Timestamp },
    /// Not sent because the consumer opted out.
    Suppressed(String),
    /// Not sent, with the reason.
    Failed(String),
}

impl Desk {
    /// Handles the scheduled message `held` that is due at `now` (see [`crate::scheduled`]). A chat
    /// it opens gets `new_chat_id`. Nothing is reported unless it is sent.
    pub fn release(
        &mut self,
        setup: &Setup,
        held: &Held,
        new_chat_id: &ChatId,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) -> Released {
        let number_state = setup.number(&held.number).map(|n| self.number_state(n));
        let chat = match &held.kind {
            HeldKind::Reply { chat, .. } => self.chats.get(chat),
            HeldKind::Chat { .. } | HeldKind::Sessionless => None,
        };
        let live_chat = self.live_id(&held.consumer, &held.number).and_then(|id| self.chats.get(id));
        let facts = DueFacts {
            opted_out: self.consent_of(&held.consumer).opted_out,
            number_state,
            chat,
            live_chat,
            quiet_hours: setup.settings.quiet_hours.as_ref(),
            now,
        };
        match gate(held, facts) {
            Due::Send => {}
            Due::Wait { until } => return Released::Waiting { until },
            Due::Suppress(reason) => return Released::Suppressed(reason),
            Due::Fail(reason) => return Released::Failed(reason),
        }
        let refused = |r: Rejection| match r {
            Rejection::Refused(Refusal::OptedOut) => Released::Suppressed(refusal_reason(&Refusal::OptedOut)),
            Rejection::Refused(refusal) => Released::Failed(refusal_reason(&refusal)),
            Rejection::NumberNotEnabled(state) => {
                Released::Failed(format!("number {} is {}: it may not send", held.number, state.as_str()))
            }
            Rejection::Blocked(blocked) => Released::Suppressed(format!(
                "{} was blocked before the message was due ({})",
                blocked.number, blocked.reason
            )),
            Rejection::ChatNotFound => Released::Failed("the chat ended before the message was due".to_owned()),
            Rejection::NumberNotSetUp | Rejection::AgentNotSetUp => {
                Released::Failed("the number or the agent left the setup before the message was due".to_owned())
            }
        };
        match &held.kind {
            HeldKind::Reply { chat, agent } => {
                let input = Input::Reply { agent: agent.clone(), text: held.text.clone() };
                match self.chat_action(setup, chat, &input, now, rec) {
                    Ok(_) => Released::Sent { chat: Some(chat.clone()) },
                    Err(r) => refused(r),
                }
            }
            HeldKind::Chat { agent, queue } => {
                let input = Input::Outbound {
                    text: held.text.clone(),
                    agent: agent.clone(),
                    queue: queue.clone(),
                    no_delay: true,
                    ticket: Ticket::default(),
                };
                let request = Outbound { number: &held.number, consumer: &held.consumer, input: &input };
                match self.outbound(setup, request, new_chat_id, now, rec) {
                    Ok(chat) => Released::Sent { chat },
                    Err(r) => refused(r),
                }
            }
            HeldKind::Sessionless => {
                let input = Input::Sessionless { text: held.text.clone(), no_delay: true };
                let request = Outbound { number: &held.number, consumer: &held.consumer, input: &input };
                match self.outbound(setup, request, new_chat_id, now, rec) {
                    Ok(_) => Released::Sent { chat: None },
                    Err(r) => refused(r),
                }
            }
        }
    }
}
