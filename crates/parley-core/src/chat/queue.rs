//! Waiting in a queue: joining it, business hours, the consumer's place in line, and routing the
//! chat to the best agent with room.

use crate::hours::AfterHours;
use crate::ids::{AgentId, QueueId};
use crate::texts::TextKey;

use super::decide::Decider;
use super::{Chat, ChatEvent, ChatStatus, EndReason};

impl Decider<'_> {
    /// The chat joins `queue` (`moved`: from another queue whose wait limit ran out). Outside the
    /// queue's hours it waits for the opening or ends, as the queue says; otherwise the best agent is
    /// asked, or the consumer learns their place in line.
    pub(super) fn enqueue(&mut self, chat: &mut Chat, queue: QueueId, moved: bool) {
        let now = self.ctx.now;
        chat.status = ChatStatus::Queued;
        chat.queue = Some(queue.clone());
        // A chat moved on keeps its place by age; its new queue's wait limit starts now.
        chat.queued_at = if moved { chat.queued_at.or(Some(now)) } else { Some(now) };
        chat.wait_since = Some(now);
        chat.after_hours_until = None;
        self.retext(chat);
        self.event(ChatEvent::Queued { queue: queue.clone() });
        if self.closed(chat, &queue) {
            return;
        }
        let name = self.queue_name(&queue);
        let vars = [("queue", name.as_str())];
        if moved {
            self.system(TextKey::QueueMoved, &vars);
            self.route(chat);
        } else if self.pick(chat, None).is_some() {
            self.system(TextKey::Queued, &vars);
            self.route(chat);
        } else {
            self.waiting(chat);
        }
    }

    /// Outside the queue's hours (its own or inherited) a chat just queued waits for the opening or
    /// ends, as the queue says, and the consumer is told. True when the queue is closed.
    pub(super) fn closed(&mut self, chat: &mut Chat, queue: &QueueId) -> bool {
        let now = self.ctx.now;
        let Some(hours) = self.ctx.setup.hours_of(queue).filter(|h| !h.is_open(now)) else {
            return false;
        };
        let name = self.queue_name(queue);
        let opens = hours.next_open(now);
        let label = opens.map_or_else(|| "later".to_owned(), |t| hours.local_label(t));
        let after_hours = hours.after_hours;
        let vars = [("queue", name.as_str()), ("opens", label.as_str())];
        match (after_hours, opens) {
            (AfterHours::KeepQueued, Some(opens)) => {
                chat.after_hours_until = Some(opens);
                chat.wait_since = None;
                self.event(ChatEvent::AfterHours { opens: Some(opens) });
                self.system(TextKey::AfterHours, &vars);
            }
            // A queue that never opens again cannot keep anyone waiting.
            _ => {
                self.event(ChatEvent::AfterHours { opens: None });
                self.system(TextKey::AfterHoursClosed, &vars);
                self.end(chat, EndReason::AfterHours, "system".to_owned());
            }
        }
        true
    }

    /// A chat that was already waiting when its queue closed waits for the opening like one that came
    /// after hours (a durable timer routes it then; its wait limit rests meanwhile). True when it does.
    pub(super) fn hold_until_opening(&mut self, chat: &mut Chat) -> bool {
        if chat.status != ChatStatus::Queued || chat.after_hours_until.is_some() {
            return false;
        }
        let Some(hours) = chat.queue.as_ref().and_then(|q| self.ctx.setup.hours_of(q)) else {
            return false;
        };
        if hours.is_open(self.ctx.now) || hours.after_hours != AfterHours::KeepQueued {
            return false;
        }
        let Some(opens) = hours.next_open(self.ctx.now) else { return false };
        chat.after_hours_until = Some(opens);
        chat.wait_since = None;
        self.event(ChatEvent::AfterHours { opens: Some(opens) });
        true
    }

    /// The consumer's place in line and the estimated wait.
    pub(super) fn waiting(&mut self, chat: &Chat) {
        let Some(queue) = chat.queue.clone() else { return };
        let position = self.ctx.roster.position(&chat.id, &queue);
        let minutes = self.ctx.roster.wait_minutes(&queue, position);
        let name = self.queue_name(&queue);
        let (position, minutes) = (position.to_string(), minutes.to_string());
        self.system(
            TextKey::Waiting,
            &[("queue", name.as_str()), ("position", position.as_str()), ("wait_minutes", minutes.as_str())],
        );
    }

    /// The agent routing would offer the chat to now: none while its queue is closed; agents who write
    /// the chat's language first.
    pub(super) fn pick(&self, chat: &Chat, except: Option<&AgentId>) -> Option<AgentId> {
        let queue = chat.queue.as_ref()?;
        let q = self.ctx.setup.queue(queue);
        if self.ctx.setup.hours_of(queue).is_some_and(|h| !h.is_open(self.ctx.now)) {
            return None;
        }
        let strategy = q.map(|q| q.strategy).unwrap_or_default();
        self.ctx.roster.pick_by(queue, strategy, except, Some(&chat.language))
    }

    /// Offers a queued chat to the best agent with room, connecting it at once on auto-answer queues.
    pub(super) fn route(&mut self, chat: &mut Chat) {
        self.route_except(chat, None);
    }

    /// [`Decider::route`], passing over `except` (the agent who just let the offer time out) when
    /// anyone else can take the chat.
    pub(super) fn route_except(&mut self, chat: &mut Chat, except: Option<&AgentId>) {
        let Some(queue) = chat.queue.clone() else {
            // A direct number's chat is its agent's, and nobody else's.
            if let Some(agent) = self.direct_agent(chat) {
                self.route_direct(chat, &agent);
            }
            return;
        };
        if self.hold_until_opening(chat) {
            return;
        }
        let Some(agent) = self.pick(chat, except) else {
            return;
        };
        self.offer(chat, &queue, agent);
    }

    /// Offers the chat to `agent`, who has room, connecting it at once on auto-answer queues.
    pub(super) fn offer(&mut self, chat: &mut Chat, queue: &QueueId, agent: AgentId) {
        self.ctx.roster.assign(&agent, self.ctx.now);
        chat.status = ChatStatus::Offered;
        chat.offered_at = Some(self.ctx.now);
        chat.agent = Some(agent.clone());
        self.event(ChatEvent::Offered { agent: agent.clone() });
        if self.ctx.setup.queue(queue).is_some_and(|q| q.auto_answer) {
            self.connect(chat, agent, true);
        }
    }
}
