//! Messages the business writes first: an agent starting a chat, the outbound API, sessionless
//! notifications, and the quiet hours that hold them back.

use crate::ids::{AgentId, QueueId};
use crate::ticket::Ticket;
use crate::time::Timestamp;

use super::decide::Decider;
use super::{Author, Chat, ChatEvent, ChatStatus, Origin, Outcome, Purpose, Refusal, StartType};

impl Decider<'_> {
    /// Holds a proactive message back until the consumer's quiet hours are over, or refuses it when the
    /// caller asked not to wait.
    fn quiet_hours(&mut self, no_delay: bool) -> Result<(), Refusal> {
        let Some(rule) = &self.ctx.setup.settings.quiet_hours else {
            return Ok(());
        };
        match rule.check(self.ctx.consumer, self.ctx.now) {
            None => Ok(()),
            Some((until, zones)) if no_delay => Err(Refusal::QuietHours { until, zones }),
            Some((until, _)) => {
                self.not_before = Some(until);
                Ok(())
            }
        }
    }

    pub(super) fn outbound(
        mut self,
        chat: Option<Chat>,
        text: &str,
        agent: Option<&AgentId>,
        queue: Option<&QueueId>,
        no_delay: bool,
        ticket: &Ticket,
    ) -> Outcome {
        let author = agent.map_or(Author::Api, |a| Author::Agent(a.clone()));
        if let Some(chat) = chat {
            // An agent may only write into a live chat that is theirs; the API joins any live chat.
            if let Some(agent) = agent
                && (chat.status != ChatStatus::Connected || chat.agent.as_ref() != Some(agent))
            {
                return Outcome::Refused(Refusal::ChatInProgress);
            }
            if chat.origin == Origin::Outbound
                && let Err(refusal) = self.quiet_hours(no_delay)
            {
                return Outcome::Refused(refusal);
            }
            self.send(text.to_owned(), author, Purpose::Conversation);
            let mut chat = chat;
            if let Some(agent) = agent {
                self.event(ChatEvent::AgentMessage { agent: agent.clone() });
                chat.agent_message_at = Some(self.ctx.now);
            }
            self.decision.chat = Some(chat);
            return Outcome::Done(self.decision);
        }
        if let Err(refusal) = self.quiet_hours(no_delay) {
            return Outcome::Refused(refusal);
        }
        let mut chat = Chat {
            id: self.ctx.new_chat_id.clone(),
            number: self.ctx.number.number.clone(),
            consumer: self.ctx.consumer.clone(),
            origin: Origin::Outbound,
            start_type: Some(StartType::Outbound),
            status: ChatStatus::Selecting,
            queue: None,
            menu_level: None,
            agent: None,
            opened_at: self.ctx.now,
            queued_at: None,
            offered_at: None,
            last_message_at: self.ctx.now,
            warned_at: None,
            transfer: None,
            language: self.language.clone(),
            answered_at: agent.map(|_| self.ctx.now),
            awaiting_reply_since: None,
            agent_message_at: None,
            dismissed_at: None,
            wait_since: None,
            after_hours_until: None,
            ended_at: None,
            end_reason: None,
            ended_by: None,
            ticket: ticket.clone(),
        };
        if let Some(agent) = agent {
            let serves = |q: &QueueId| self.ctx.roster.serves(agent, q);
            // Agents start outbound chats only in queues that let them (`agent_outbound`, inherited).
            let allows = |q: &QueueId| self.ctx.setup.agent_outbound(q);
            let queue = match queue {
                Some(q) if self.ctx.number.queues.contains(q) && serves(q) && !allows(q) => {
                    return Outcome::Refused(Refusal::AgentOutboundOff);
                }
                Some(q) if self.ctx.number.queues.contains(q) && serves(q) => Some(q.clone()),
                Some(_) => return Outcome::Refused(Refusal::NotYourQueue),
                // On their own direct number an agent's chat is theirs, in no queue.
                None if self.ctx.number.agent.as_ref() == Some(agent) => None,
                None => match self.ctx.number.queues.iter().filter(|q| serves(q)).find(|q| allows(q)) {
                    Some(q) => Some(q.clone()),
                    None if self.ctx.number.queues.iter().any(serves) => {
                        return Outcome::Refused(Refusal::AgentOutboundOff);
                    }
                    None => return Outcome::Refused(Refusal::NotYourQueue),
                },
            };
            // The agent chose to start this chat: it counts against their capacity but is not refused by it.
            self.ctx.roster.assign(agent, self.ctx.now);
            chat.queue = queue;
            chat.status = ChatStatus::Connected;
            chat.agent = Some(agent.clone());
            chat.agent_message_at = Some(self.ctx.now);
        }
        self.event(ChatEvent::Opened);
        self.event(ChatEvent::StartedOutbound { agent: agent.cloned() });
        if let Some(agent) = agent {
            self.event(ChatEvent::Connected { agent: agent.clone(), auto_answered: false });
        }
        self.opt_in_notice(false);
        self.send(text.to_owned(), author, Purpose::Conversation);
        if let Some(agent) = agent {
            self.event(ChatEvent::AgentMessage { agent: agent.clone() });
        }
        self.decision.chat = Some(chat);
        Outcome::Done(self.decision)
    }

    /// A caller deflected from the IVR: the chat opens with the platform's first message (after the
    /// opt-in notice where the phone never opted in) and waits in `queue` from `since`, so routing,
    /// which takes the oldest first, keeps the caller's place.
    pub(super) fn deflected(
        mut self,
        chat: Option<Chat>,
        text: &str,
        queue: &QueueId,
        since: Timestamp,
        ticket: &Ticket,
    ) -> Outcome {
        if let Some(chat) = chat {
            // The chat this very call opened (a repeated accept): it has its first message already.
            let same_call = ticket.context.iter().find(|(k, _)| k == "call_id");
            if !same_call.is_some_and(|entry| chat.ticket.context.contains(entry)) {
                self.send(text.to_owned(), Author::System, Purpose::Conversation);
            }
            self.decision.chat = Some(chat);
            return Outcome::Done(self.decision);
        }
        let now = self.ctx.now;
        let mut chat = Chat {
            id: self.ctx.new_chat_id.clone(),
            number: self.ctx.number.number.clone(),
            consumer: self.ctx.consumer.clone(),
            origin: Origin::Outbound,
            start_type: Some(StartType::Deflected),
            status: ChatStatus::Queued,
            queue: Some(queue.clone()),
            menu_level: None,
            agent: None,
            opened_at: now,
            queued_at: Some(Timestamp(since.0.min(now.0))),
            offered_at: None,
            last_message_at: now,
            warned_at: None,
            transfer: None,
            language: self.language.clone(),
            answered_at: None,
            awaiting_reply_since: None,
            agent_message_at: None,
            dismissed_at: None,
            wait_since: Some(now),
            after_hours_until: None,
            ended_at: None,
            end_reason: None,
            ended_by: None,
            ticket: ticket.clone(),
        };
        self.event(ChatEvent::Opened);
        self.opt_in_notice(false);
        self.send(text.to_owned(), Author::System, Purpose::Conversation);
        self.event(ChatEvent::Queued { queue: queue.clone() });
        if !self.closed(&mut chat, queue) {
            if self.pick(&chat, None).is_some() {
                self.route(&mut chat);
            } else {
                self.waiting(&chat);
            }
        }
        self.decision.chat = Some(chat);
        Outcome::Done(self.decision)
    }

    pub(super) fn sessionless(mut self, text: &str, no_delay: bool) -> Outcome {
        if let Err(refusal) = self.quiet_hours(no_delay) {
            return Outcome::Refused(refusal);
        }
        self.opt_in_notice(false);
        self.send(text.to_owned(), Author::Api, Purpose::Conversation);
        Outcome::Done(self.decision)
    }
}
