//! A voice call's SMS thread (docs/ivr.md): the wait-time SMS and SMS during a call, kept as a chat
//! of start type `call` on an `in_call` number, in no queue. The call decides its life: the thread
//! opens with the business's first message (the platform's wait-time SMS while the caller waits, or
//! the connected agent's text), becomes the agent's when the call connects, and ends when the call
//! ends. Meanwhile the caller's texts and media join it like any chat's, no SMS command applies (a
//! caller's "menu" is just text), no timer of chats runs, and it takes none of the agent's chat
//! capacity: the agent is busy with the call, which the IVR routes.

use crate::ids::AgentId;
use crate::ticket::Ticket;

use super::decide::Decider;
use super::{Author, Chat, ChatEvent, ChatStatus, Origin, Outcome, Purpose, Refusal, StartType};

impl Decider<'_> {
    /// The business writes in the call's thread: the platform (`agent` none) or the call's agent.
    pub(super) fn call_text(
        mut self,
        chat: Option<Chat>,
        text: &str,
        agent: Option<&AgentId>,
        ticket: &Ticket,
    ) -> Outcome {
        let author = agent.map_or(Author::System, |a| Author::Agent(a.clone()));
        let mut chat = match chat {
            // The number opens no chats: a live conversation on it is a call's thread (the server
            // ends a call's thread with its call, so it is this call's).
            Some(chat) => {
                if let Some(agent) = agent
                    && (chat.status != ChatStatus::Connected || chat.agent.as_ref() != Some(agent))
                {
                    return Outcome::Refused(Refusal::NotConnected);
                }
                chat
            }
            None => self.open_thread(agent, ticket),
        };
        self.send(text.to_owned(), author, Purpose::Conversation);
        chat.last_message_at = self.ctx.now;
        if let Some(agent) = agent {
            self.event(ChatEvent::AgentMessage { agent: agent.clone() });
            chat.agent_message_at = Some(self.ctx.now);
            chat.awaiting_reply_since = None;
        }
        self.decision.chat = Some(chat);
        Outcome::Done(self.decision)
    }

    /// A new thread: waiting with the call, or the agent's when they write first.
    fn open_thread(&mut self, agent: Option<&AgentId>, ticket: &Ticket) -> Chat {
        let now = self.ctx.now;
        let chat = Chat {
            id: self.ctx.new_chat_id.clone(),
            number: self.ctx.number.number.clone(),
            consumer: self.ctx.consumer.clone(),
            origin: Origin::Outbound,
            start_type: Some(StartType::Call),
            status: if agent.is_some() { ChatStatus::Connected } else { ChatStatus::Queued },
            queue: None,
            menu_level: None,
            agent: agent.cloned(),
            opened_at: now,
            queued_at: agent.is_none().then_some(now),
            offered_at: None,
            last_message_at: now,
            warned_at: None,
            transfer: None,
            language: self.language.clone(),
            answered_at: agent.map(|_| now),
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
        self.event(ChatEvent::Opened);
        if let Some(agent) = agent {
            self.event(ChatEvent::Connected { agent: agent.clone(), auto_answered: false });
        }
        self.opt_in_notice(false);
        chat
    }

    /// The call is with `agent`: so is its thread (a transfer in the IVR moves it to the new agent).
    pub(super) fn call_connected(&mut self, chat: &mut Chat, agent: &AgentId) -> Result<(), Refusal> {
        if !chat.is_call_thread() {
            return Err(Refusal::NotACallThread);
        }
        if chat.status == ChatStatus::Connected && chat.agent.as_ref() == Some(agent) {
            return Ok(());
        }
        chat.status = ChatStatus::Connected;
        chat.agent = Some(agent.clone());
        chat.answered_at = chat.answered_at.or(Some(self.ctx.now));
        // What the caller wrote while waiting is what the agent answers first.
        chat.awaiting_reply_since = chat.awaiting_reply_since.or_else(|| chat.queued_at.map(|_| self.ctx.now));
        self.event(ChatEvent::Connected { agent: agent.clone(), auto_answered: false });
        Ok(())
    }
}
