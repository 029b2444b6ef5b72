//! Numbers nobody reads and numbers that belong to one agent.
//!
//! - A text that opens no chat: on an outbound-only number, or (with `sessionless_reply =
//!   "auto_reply"`) within the number's window after a sessionless notification to the phone. It is
//!   kept and answered with the number's `unmonitored` message; carrier keywords were handled before.
//! - A direct number (`agent = ...`): its chats are in no queue and belong to its agent alone. The
//!   first text gets the agent's greeting and is offered to them when they take chats and have room,
//!   inside their hours. Otherwise it goes to the number's `fallback_queue`, or waits for the agent
//!   (after hours with the after-hours message, as a queue does; a wait that runs out its limit moves
//!   to the fallback queue, or ends). Routing offers such a chat to no one else: [`Decider::route`]
//!   sends it here, and the desk dispatches it when its agent becomes available.

use crate::hours::AfterHours;
use crate::ids::AgentId;
use crate::setup::{NumberRole, SessionlessReply};
use crate::texts::{TextKey, render};

use super::decide::Decider;
use super::{Author, Chat, ChatEvent, ChatStatus, EndReason, Purpose, Refusal};

/// Why a text opens no chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unmonitored {
    /// The number only sends.
    OutboundOnly,
    /// The text answers a recent notification on a number that answers those automatically.
    NotificationReply,
    /// The number carries the SMS of calls, and the phone has no live call thread on it.
    NoCall,
}

impl Decider<'_> {
    /// Whether a text that would open a chat on this number gets the `unmonitored` answer instead.
    pub(super) fn unmonitored(&self) -> Option<Unmonitored> {
        let number = self.ctx.number;
        let window_ms = i64::from(number.sessionless_window_hours) * 3_600_000;
        let recent = self.ctx.last_notification.is_some_and(|at| self.ctx.now.0 - at.0 <= window_ms);
        match (number.role, number.sessionless_reply) {
            (NumberRole::Outbound, _) => Some(Unmonitored::OutboundOnly),
            (NumberRole::InCall, _) => Some(Unmonitored::NoCall),
            (NumberRole::Incoming | NumberRole::Both, SessionlessReply::AutoReply) if recent => {
                Some(Unmonitored::NotificationReply)
            }
            (NumberRole::Incoming | NumberRole::Both, _) => None,
        }
    }

    /// The answer to a text nobody reads: the number's `unmonitored` message, and no chat. A text
    /// within the window of a notification is that notification's reply (also on an outbound-only
    /// number), which its status page shows.
    pub(super) fn answer_unmonitored(&mut self) {
        let window_ms = i64::from(self.ctx.number.sessionless_window_hours) * 3_600_000;
        self.decision.notification_reply =
            self.ctx.last_notification.is_some_and(|at| self.ctx.now.0 - at.0 <= window_ms);
        self.system(TextKey::Unmonitored, &[]);
    }

    /// The agent a chat belongs to on a direct number: its number's agent, while it is in no queue
    /// (a chat moved to the fallback queue, or transferred to one, is an ordinary queued chat).
    pub(super) fn direct_agent(&self, chat: &Chat) -> Option<AgentId> {
        if chat.queue.is_some() {
            return None;
        }
        self.ctx.number.agent.clone()
    }

    /// A first text on a direct number: the chat is the agent's, or the fallback queue's.
    pub(super) fn open_direct(&mut self, chat: &mut Chat, agent: AgentId) {
        let now = self.ctx.now;
        chat.status = ChatStatus::Queued;
        chat.queued_at = Some(now);
        chat.wait_since = Some(now);
        let fallback = self.ctx.number.fallback_queue.clone();
        let hours = self.ctx.setup.agent(&agent).and_then(|a| a.hours.clone());
        if let Some(hours) = hours.filter(|h| !h.is_open(now)) {
            if let Some(queue) = fallback {
                return self.enqueue(chat, queue, false);
            }
            let opens = hours.next_open(now);
            let label = opens.map_or_else(|| "later".to_owned(), |t| hours.local_label(t));
            let name = self.agent_name(&agent);
            let vars = [("queue", name.as_str()), ("opens", label.as_str())];
            match (hours.after_hours, opens) {
                (AfterHours::KeepQueued, Some(opens)) => {
                    chat.after_hours_until = Some(opens);
                    chat.wait_since = None;
                    self.event(ChatEvent::AfterHours { opens: Some(opens) });
                    self.system(TextKey::AfterHours, &vars);
                }
                _ => {
                    self.event(ChatEvent::AfterHours { opens: None });
                    self.system(TextKey::AfterHoursClosed, &vars);
                    self.end(chat, EndReason::AfterHours, "system".to_owned());
                }
            }
            return;
        }
        if !self.ctx.roster.takes_chat(&agent)
            && let Some(queue) = fallback
        {
            return self.enqueue(chat, queue, false);
        }
        self.greet(&agent);
        self.route_direct(chat, &agent);
    }

    /// Offers a waiting direct chat to its agent, if they take chats, have room and are inside their
    /// hours; outside them the chat waits for the opening (a timer routes it then).
    pub(super) fn route_direct(&mut self, chat: &mut Chat, agent: &AgentId) {
        let now = self.ctx.now;
        if chat.status != ChatStatus::Queued {
            return;
        }
        if let Some(hours) = self.ctx.setup.agent(agent).and_then(|a| a.hours.as_ref())
            && !hours.is_open(now)
        {
            if chat.after_hours_until.is_none()
                && hours.after_hours == AfterHours::KeepQueued
                && let Some(opens) = hours.next_open(now)
            {
                chat.after_hours_until = Some(opens);
                chat.wait_since = None;
                self.event(ChatEvent::AfterHours { opens: Some(opens) });
            }
            return;
        }
        if !self.ctx.roster.takes_chat(agent) {
            return;
        }
        self.ctx.roster.assign(agent, now);
        chat.status = ChatStatus::Offered;
        chat.offered_at = Some(now);
        chat.agent = Some(agent.clone());
        self.event(ChatEvent::Offered { agent: agent.clone() });
    }

    /// A direct chat waited its limit: it moves to the fallback queue when the number has one.
    /// False when it has none (the chat then ends as any other).
    pub(super) fn direct_timed_out(&mut self, chat: &mut Chat) -> bool {
        if self.direct_agent(chat).is_none() {
            return false;
        }
        let Some(queue) = self.ctx.number.fallback_queue.clone() else { return false };
        self.enqueue(chat, queue, true);
        true
    }

    /// An agent accepts a chat of a direct number: only its own agent may.
    pub(super) fn accept_direct(&mut self, chat: &mut Chat, agent: &AgentId) -> Result<(), Refusal> {
        if self.direct_agent(chat).as_ref() != Some(agent) {
            return Err(if self.ctx.number.agent.is_some() { Refusal::NotYourQueue } else { Refusal::NoQueue });
        }
        match (chat.status, chat.agent.as_ref()) {
            (ChatStatus::Offered, Some(offered)) if offered == agent => {
                self.connect(chat, agent.clone(), false);
                Ok(())
            }
            (ChatStatus::Connected, Some(connected)) if connected == agent => Ok(()),
            (ChatStatus::Offered | ChatStatus::Connected, _) => Err(Refusal::TakenByAnother),
            (ChatStatus::Queued, _) => {
                if !self.ctx.roster.has_room_for(agent) {
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

    /// The agent's greeting, or the `direct_greeting` text.
    fn greet(&mut self, agent: &AgentId) {
        let name = self.agent_name(agent);
        let first = name.split_whitespace().next().unwrap_or(&name).to_owned();
        let vars = [("agent", name.as_str()), ("agent_first_name", first.as_str())];
        match self.ctx.setup.agent(agent).and_then(|a| a.greeting.clone()) {
            Some(greeting) => {
                let brand = self.ctx.setup.settings.brand.clone();
                let end = self.ctx.setup.settings.commands.end.first().map(|w| w.to_uppercase()).unwrap_or_default();
                let common = [("brand", brand.as_str()), ("business", brand.as_str()), ("end_command", end.as_str())];
                let text = render(&render(&greeting, &vars), &common);
                self.send(text, Author::System, Purpose::Conversation);
            }
            None => self.system(TextKey::DirectGreeting, &vars),
        }
    }

    fn agent_name(&self, agent: &AgentId) -> String {
        self.ctx.setup.agent(agent).map_or_else(|| agent.to_string(), |a| a.name.clone())
    }
}
