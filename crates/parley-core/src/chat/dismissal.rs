//! Dismissal: a quiet chat put aside instead of closed, and put back when the consumer writes again
//! (or the business resumes it).
//!
//! Only a connected inbound chat in which the agent has written can be dismissed, and only in a queue
//! whose dismissal (inherited, see `setup/tree.rs`) is on: by its timer (see [`crate::timers`]), by
//! the connected agent (unless `by_agent = false`) or by an admin. A dismissed chat frees its agent's
//! capacity, keeps its session (the session expiration still ends it) and runs no wait timer; it
//! keeps the agent it had, whom a resume asks first. A resume puts the chat back in its queue without
//! the menu: the `dismissed_resume` message first, then routing as for any queued chat; outside the
//! queue's hours the after-hours message instead, and the chat waits for the opening (or ends, on a
//! queue that closes chats after hours). The start type stays the one of the chat's first answer.

use super::decide::Decider;
use super::{Actor, Chat, ChatEvent, ChatStatus, DismissReason, Origin, Refusal};
use crate::texts::TextKey;

impl Decider<'_> {
    /// The connected agent or an admin dismisses the chat.
    pub(super) fn dismiss_by(&mut self, chat: &mut Chat, by: &Actor) -> Result<(), Refusal> {
        if chat.status != ChatStatus::Connected {
            return Err(Refusal::NotConnected);
        }
        let rule = self.ctx.setup.dismissal_of(chat.queue.as_ref()).ok_or(Refusal::DismissalOff)?;
        let (reason, who) = match by {
            Actor::Admin => (DismissReason::ByAdmin, "admin".to_owned()),
            Actor::Agent(agent) => {
                if chat.agent.as_ref() != Some(agent) {
                    return Err(Refusal::TakenByAnother);
                }
                if !rule.by_agent {
                    return Err(Refusal::DismissByAgentOff);
                }
                (DismissReason::ByAgent, agent.to_string())
            }
        };
        if chat.transfer.is_some() {
            return Err(Refusal::TransferPending);
        }
        // Both sides have written: the consumer opened the chat, and the agent has answered.
        if chat.origin != Origin::Inbound || chat.agent_message_at.is_none() {
            return Err(Refusal::NotDismissable);
        }
        self.dismiss(chat, reason, who);
        Ok(())
    }

    /// The chat leaves its agent's list (their capacity is freed) and waits, dismissed.
    pub(super) fn dismiss(&mut self, chat: &mut Chat, reason: DismissReason, by: String) {
        if let Some(agent) = &chat.agent {
            self.ctx.roster.release(agent);
        }
        chat.status = ChatStatus::Dismissed;
        chat.dismissed_at = Some(self.ctx.now);
        chat.warned_at = None;
        chat.awaiting_reply_since = None;
        self.event(ChatEvent::Dismissed { by, reason });
    }

    /// An agent of the chat's queue or an admin puts the dismissed chat back in its queue.
    pub(super) fn resume_by(&mut self, chat: &mut Chat, by: &Actor) -> Result<(), Refusal> {
        if chat.status != ChatStatus::Dismissed {
            return Err(Refusal::NotDismissed);
        }
        let who = match by {
            Actor::Admin => "admin".to_owned(),
            Actor::Agent(agent) => {
                let queue = chat.queue.as_ref().ok_or(Refusal::NoQueue)?;
                if !self.ctx.roster.serves(agent, queue) {
                    return Err(Refusal::NotYourQueue);
                }
                agent.to_string()
            }
        };
        self.resume(chat, who);
        Ok(())
    }

    /// The dismissed chat goes back to its queue (`by`: "consumer", "admin" or an agent's id), its
    /// wait counting from now.
    pub(super) fn resume(&mut self, chat: &mut Chat, by: String) {
        let Some(queue) = chat.queue.clone() else { return };
        let previous = chat.agent.take();
        let now = self.ctx.now;
        chat.status = ChatStatus::Queued;
        chat.queued_at = Some(now);
        chat.wait_since = Some(now);
        chat.offered_at = None;
        chat.after_hours_until = None;
        chat.dismissed_at = None;
        chat.warned_at = None;
        chat.agent_message_at = None;
        self.event(ChatEvent::Resumed { by });
        self.event(ChatEvent::Queued { queue: queue.clone() });
        if self.closed(chat, &queue) {
            return;
        }
        let name = self.queue_name(&queue);
        self.system(TextKey::DismissedResume, &[("queue", &name)]);
        // The agent the chat had is asked first, when they can take it now.
        let had = previous.filter(|a| {
            self.ctx.roster.seat(a).is_some_and(|s| s.takes_chats()) && self.ctx.roster.has_room(a, &queue)
        });
        match had {
            Some(agent) => self.offer(chat, &queue, agent),
            None => self.route(chat),
        }
    }
}
