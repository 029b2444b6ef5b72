//! The agent's side of a chat: connecting, accepting, replying, transfers, and ending it.

use crate::ids::AgentId;
use crate::texts::TextKey;

use super::decide::Decider;
use super::{
    Actor, Author, Chat, ChatEvent, ChatStatus, EndReason, Purpose, Refusal, StartType, Transfer, TransferFailure,
    TransferTarget,
};

impl Decider<'_> {
    pub(super) fn connect(&mut self, chat: &mut Chat, agent: AgentId, auto_answered: bool) {
        chat.status = ChatStatus::Connected;
        chat.agent = Some(agent.clone());
        let start = if auto_answered { StartType::Auto } else { StartType::Manual };
        chat.start_type = chat.start_type.or(Some(start));
        chat.answered_at = chat.answered_at.or(Some(self.ctx.now));
        chat.after_hours_until = None;
        // The wait in line is not the consumer's silence: inactivity counts from the agent's arrival.
        chat.last_message_at = self.ctx.now;
        chat.warned_at = None;
        // The consumer is waiting for the agent's first words.
        chat.awaiting_reply_since = Some(self.ctx.now);
        chat.agent_message_at = None;
        self.event(ChatEvent::Connected { agent: agent.clone(), auto_answered });
        self.announce_agent(chat, &agent, TextKey::Connected);
    }

    /// Tells the consumer who they are chatting with now (`key`: connected or transferred).
    fn announce_agent(&mut self, chat: &Chat, agent: &AgentId, key: TextKey) {
        let name = self.ctx.setup.agent(agent).map(|a| a.name.clone()).unwrap_or_else(|| agent.to_string());
        let first = name.split_whitespace().next().unwrap_or(&name).to_owned();
        let queue = chat.queue.as_ref().map(|q| self.queue_name(q)).unwrap_or_default();
        self.system(key, &[("agent", &name), ("agent_first_name", &first), ("queue", &queue)]);
    }

    pub(super) fn accept(&mut self, chat: &mut Chat, agent: &AgentId) -> Result<(), Refusal> {
        let Some(queue) = chat.queue.clone() else {
            return self.accept_direct(chat, agent);
        };
        if !self.ctx.roster.serves(agent, &queue) {
            return Err(Refusal::NotYourQueue);
        }
        match (chat.status, chat.agent.as_ref()) {
            (ChatStatus::Offered, Some(offered)) if offered == agent => {
                self.connect(chat, agent.clone(), false);
                Ok(())
            }
            // Accepting twice is harmless: a retried request must not fail.
            (ChatStatus::Connected, Some(connected)) if connected == agent => Ok(()),
            (ChatStatus::Offered | ChatStatus::Connected, _) => Err(Refusal::TakenByAnother),
            (ChatStatus::Queued, _) => {
                if !self.ctx.roster.has_room(agent, &queue) {
                    return Err(Refusal::AtCapacity);
                }
                self.ctx.roster.assign(agent, self.ctx.now);
                self.connect(chat, agent.clone(), false);
                Ok(())
            }
            (ChatStatus::Selecting, _) => Err(Refusal::NoQueue),
            (ChatStatus::Dismissed, _) => Err(Refusal::IsDismissed),
            (ChatStatus::Finished, _) => Err(Refusal::Ended),
        }
    }

    pub(super) fn reply(&mut self, chat: &mut Chat, agent: &AgentId, text: &str) -> Result<(), Refusal> {
        if chat.status != ChatStatus::Connected {
            return Err(Refusal::NotConnected);
        }
        if chat.agent.as_ref() != Some(agent) {
            return Err(Refusal::TakenByAnother);
        }
        if self.ctx.consent.opted_out {
            return Err(Refusal::OptedOut);
        }
        self.send(text.to_owned(), Author::Agent(agent.clone()), Purpose::Conversation);
        self.event(ChatEvent::AgentMessage { agent: agent.clone() });
        chat.last_message_at = self.ctx.now;
        chat.warned_at = None;
        chat.awaiting_reply_since = None;
        chat.agent_message_at = Some(self.ctx.now);
        Ok(())
    }

    pub(super) fn transfer(
        &mut self,
        chat: &mut Chat,
        from: &AgentId,
        target: &TransferTarget,
        note: &str,
    ) -> Result<(), Refusal> {
        if chat.status != ChatStatus::Connected {
            return Err(Refusal::NotConnected);
        }
        if chat.agent.as_ref() != Some(from) {
            return Err(Refusal::TakenByAnother);
        }
        if chat.transfer.is_some() {
            return Err(Refusal::TransferPending);
        }
        let queue = chat.queue.clone().ok_or(Refusal::NoQueue)?;
        let (offered_to, to_queue) = match target {
            TransferTarget::Agent(to) => {
                if to == from || !self.ctx.roster.serves(to, &queue) {
                    return Err(Refusal::BadTransferTarget);
                }
                let free =
                    self.ctx.roster.seats.iter().any(|s| &s.agent == to && s.takes_chats() && s.active < s.capacity);
                (free.then(|| to.clone()), None)
            }
            TransferTarget::Queue(q) if !self.ctx.setup.queue(q).is_some_and(|q| self.ctx.setup.sms_chat(q)) => {
                return Err(Refusal::BadTransferTarget);
            }
            TransferTarget::Queue(q) => {
                let strategy = self.ctx.setup.queue(q).map(|q| q.strategy).unwrap_or_default();
                let picked =
                    self.ctx.roster.pick_by(q, strategy, Some(from), Some(&chat.language)).filter(|a| a != from);
                (picked, Some(q.clone()))
            }
        };
        let Some(to) = offered_to else {
            let to = match target {
                TransferTarget::Agent(a) => Some(a.clone()),
                TransferTarget::Queue(_) => None,
            };
            self.event(ChatEvent::TransferFailed { from: from.clone(), to, reason: TransferFailure::NobodyAvailable });
            return Ok(());
        };
        // The receiving agent's capacity is held while they decide.
        self.ctx.roster.assign(&to, self.ctx.now);
        chat.transfer = Some(Transfer {
            from: from.clone(),
            target: target.clone(),
            offered_to: to.clone(),
            note: note.to_owned(),
            started_at: self.ctx.now,
        });
        self.event(ChatEvent::TransferStarted { from: from.clone(), to, queue: to_queue, note: note.to_owned() });
        Ok(())
    }

    pub(super) fn answer_transfer(&mut self, chat: &mut Chat, agent: &AgentId, accept: bool) -> Result<(), Refusal> {
        let Some(transfer) = chat.transfer.take_if(|t| &t.offered_to == agent) else {
            return Err(Refusal::NoTransfer);
        };
        if !accept {
            self.ctx.roster.release(agent);
            self.event(ChatEvent::TransferFailed {
                from: transfer.from,
                to: Some(agent.clone()),
                reason: TransferFailure::Declined,
            });
            return Ok(());
        }
        self.ctx.roster.release(&transfer.from);
        chat.agent = Some(agent.clone());
        if let TransferTarget::Queue(queue) = &transfer.target {
            chat.queue = Some(queue.clone());
            self.retext(chat);
        }
        self.event(ChatEvent::TransferEnded { from: transfer.from, to: agent.clone() });
        if chat.queue.as_ref().and_then(|q| self.ctx.setup.queue(q)).is_some_and(|q| q.announce_transfers) {
            self.announce_agent(chat, agent, TextKey::Transferred);
        }
        Ok(())
    }

    pub(super) fn end_by(&mut self, chat: &mut Chat, by: &Actor) -> Result<(), Refusal> {
        let (reason, who) = match by {
            Actor::Admin => (EndReason::EndedByAdmin, "admin".to_owned()),
            Actor::Agent(agent) => {
                let queue = chat.queue.as_ref().ok_or(Refusal::NoQueue)?;
                if !self.ctx.roster.serves(agent, queue) {
                    return Err(Refusal::NotYourQueue);
                }
                if chat.agent.as_ref().is_some_and(|a| a != agent) {
                    return Err(Refusal::TakenByAnother);
                }
                (EndReason::EndedByAgent, agent.to_string())
            }
        };
        self.end(chat, reason, who);
        Ok(())
    }
}
