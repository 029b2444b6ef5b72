//! One chat's facts for reports, folded from its events in the order they were stored.
//!
//! The fold is the one definition of every per-chat figure (docs/reports.md): when the chat entered a
//! queue and was answered, each queue it passed through (a visit) and how the visit ended, each agent
//! it was put to and what they did with it, and its messages counted by direction and segment. The
//! reports only add these up.

use crate::chat::{ChatStatus, EndReason, Origin, StartType, TransferFailure};
use crate::event::Event;
use crate::ids::{AgentId, QueueId};
use crate::message::Direction;
use crate::text::segment;
use crate::time::Timestamp;

/// The seed's chat types: a chat the consumer started, one the business started, a call's SMS thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChatType {
    Sms,
    OutboundSms,
    CallSms,
}

impl ChatType {
    pub const ALL: [ChatType; 3] = [ChatType::Sms, ChatType::OutboundSms, ChatType::CallSms];

    pub fn of(origin: Origin, start_type: Option<StartType>) -> ChatType {
        match (origin, start_type) {
            (_, Some(StartType::Call)) => ChatType::CallSms,
            (Origin::Outbound, _) => ChatType::OutboundSms,
            (Origin::Inbound, _) => ChatType::Sms,
        }
    }

    pub fn parse(text: &str) -> Option<ChatType> {
        ChatType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChatType::Sms => "sms",
            ChatType::OutboundSms => "outbound_sms",
            ChatType::CallSms => "call_sms",
        }
    }
}

/// What the chats row says of a chat, beside its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatHeader {
    pub id: String,
    pub number: String,
    pub consumer: String,
    pub origin: Origin,
    pub start_type: Option<StartType>,
    pub status: ChatStatus,
    pub opened_at: Timestamp,
}

/// One stored event of the chat: when, the chat's queue after it, and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: Timestamp,
    pub queue: Option<QueueId>,
    pub event: Event,
}

/// How a chat came into a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// From the menu, a keyword, the outbound API or a deflected call: its first queue.
    First,
    /// Moved there by a transfer, or overflowed after waiting its limit elsewhere.
    Transfer,
    Overflow,
    /// Back in a queue after leaving for the menu.
    Menu,
    /// The business started the chat there (an outbound chat): it never waited.
    Started,
}

/// How a chat left a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    Ended(EndReason),
    /// To another queue (a transfer) or to its overflow queue.
    Transfer,
    Overflow,
    /// The consumer went back to the menu.
    Menu,
}

/// A chat's time in one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub queue: QueueId,
    pub arrival: Arrival,
    pub entered_at: Timestamp,
    /// The first agent's answer in this queue.
    pub answered_at: Option<Timestamp>,
    pub left: Option<(Timestamp, Leaving)>,
    pub dismissed: bool,
}

impl Visit {
    /// The wait in this queue: until an agent answered, else until the chat left it, else until `now`.
    pub fn wait_ms(&self, now: Timestamp) -> i64 {
        let until = self.answered_at.or(self.left.map(|(at, _)| at)).unwrap_or(now);
        (until.0 - self.entered_at.0).max(0)
    }

    /// The time with agents in this queue, from the answer until the chat left it (or `now`).
    pub fn handle_ms(&self, now: Timestamp) -> Option<i64> {
        let answered = self.answered_at?;
        let until = self.left.map_or(now, |(at, _)| at);
        Some((until.0 - answered.0).max(0))
    }

    /// Ended before any agent answered it here.
    pub fn unanswered_end(&self) -> Option<EndReason> {
        match (self.answered_at, self.left) {
            (None, Some((_, Leaving::Ended(reason)))) => Some(reason),
            _ => None,
        }
    }
}

/// One agent's part in a chat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentPart {
    /// Times the chat was put to them: an offer, a transfer to them, or a connection that needed none
    /// (auto-answer, or taking it from the queue).
    pub offered: u32,
    /// Times they took it: accepted, auto-answered, taken from the queue, or a transfer they accepted.
    pub answered: u32,
    /// Offers that timed out, and transfers to them they declined or let time out.
    pub missed: u32,
    pub transferred_in: u32,
    pub transferred_out: u32,
    /// The time the chat was theirs, in milliseconds (live chats: until `now`).
    pub handle_ms: i64,
    /// From their taking the chat to their first text in it, the first time they took it.
    pub first_response_ms: Option<i64>,
    pub messages_sent: u32,
    /// Whether the business started the chat as theirs (an outbound chat).
    pub started: bool,
}

/// Messages of a chat, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub inbound: u32,
    pub outbound: u32,
    pub inbound_segments: u32,
    pub outbound_segments: u32,
}

/// Everything the reports read of one chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatFacts {
    pub id: String,
    pub number: String,
    pub consumer: String,
    pub chat_type: ChatType,
    pub start_type: Option<StartType>,
    pub status: ChatStatus,
    pub opened_at: Timestamp,
    /// When it first entered a queue.
    pub queue_in_at: Option<Timestamp>,
    /// When an agent first had it (answered it, or started it).
    pub answered_at: Option<Timestamp>,
    pub ended: Option<(Timestamp, EndReason)>,
    pub queue: Option<QueueId>,
    /// The last agent who had it.
    pub agent: Option<AgentId>,
    pub visits: Vec<Visit>,
    /// By agent, in the order they first took part.
    pub agents: Vec<(AgentId, AgentPart)>,
    pub messages: MessageCounts,
    pub dismissed: bool,
}

impl ChatFacts {
    /// The wait before the first answer (or, unanswered, before the end or `now`); `None` for a chat
    /// that never waited in a queue.
    pub fn wait_ms(&self, now: Timestamp) -> Option<i64> {
        let queued = self.queue_in_at?;
        let until = self.answered_at.or(self.ended.map(|(at, _)| at)).unwrap_or(now);
        Some((until.0 - queued.0).max(0))
    }

    /// From the first answer to the end (or `now`).
    pub fn handle_ms(&self, now: Timestamp) -> Option<i64> {
        let answered = self.answered_at?;
        let until = self.ended.map_or(now, |(at, _)| at);
        Some((until.0 - answered.0).max(0))
    }

    pub fn part(&self, agent: &AgentId) -> Option<&AgentPart> {
        self.agents.iter().find(|(a, _)| a == agent).map(|(_, p)| p)
    }
}

/// Folds a chat's steps (oldest first) into its facts; time still running counts until `now`.
pub fn fold(header: &ChatHeader, steps: &[Step], now: Timestamp) -> ChatFacts {
    let mut f = Folder {
        facts: ChatFacts {
            id: header.id.clone(),
            number: header.number.clone(),
            consumer: header.consumer.clone(),
            chat_type: ChatType::of(header.origin, header.start_type),
            start_type: header.start_type,
            status: header.status,
            opened_at: header.opened_at,
            queue_in_at: None,
            answered_at: None,
            ended: None,
            queue: None,
            agent: None,
            visits: vec![],
            agents: vec![],
            messages: MessageCounts::default(),
            dismissed: false,
        },
        holder: None,
        offered_to: None,
        left_for_menu: false,
    };
    for step in steps {
        f.step(step);
    }
    if let Some((agent, since, _)) = f.holder.take() {
        f.part(&agent).handle_ms += (now.0 - since.0).max(0);
    }
    f.facts
}

struct Folder {
    facts: ChatFacts,
    /// Who has the chat now, since when, and whether they have written since.
    holder: Option<(AgentId, Timestamp, bool)>,
    /// The agent an offer is out to.
    offered_to: Option<AgentId>,
    left_for_menu: bool,
}

impl Folder {
    fn part(&mut self, agent: &AgentId) -> &mut AgentPart {
        let index = match self.facts.agents.iter().position(|(a, _)| a == agent) {
            Some(i) => i,
            None => {
                self.facts.agents.push((agent.clone(), AgentPart::default()));
                self.facts.agents.len() - 1
            }
        };
        &mut self.facts.agents[index].1
    }

    /// `agent` has the chat from `at`; `waiting` for their first words (not when they started it).
    fn take(&mut self, agent: &AgentId, at: Timestamp, waiting: bool) {
        self.release(at);
        self.holder = Some((agent.clone(), at, !waiting));
        self.facts.agent = Some(agent.clone());
        self.facts.answered_at.get_or_insert(at);
        if let Some(visit) = self.facts.visits.last_mut().filter(|v| v.left.is_none()) {
            visit.answered_at.get_or_insert(at);
        }
    }

    fn release(&mut self, at: Timestamp) {
        if let Some((agent, since, _)) = self.holder.take() {
            self.part(&agent).handle_ms += (at.0 - since.0).max(0);
        }
    }

    /// Follows the chat's queue: a different queue after an event closes the visit and opens another.
    fn follow_queue(&mut self, step: &Step) {
        let current = self.facts.visits.last().filter(|v| v.left.is_none()).map(|v| v.queue.clone());
        if current == step.queue {
            return;
        }
        let (leaving, arrival) = match &step.event {
            Event::Overflowed { .. } => (Leaving::Overflow, Arrival::Overflow),
            Event::TransferStarted { .. } | Event::TransferEnded { .. } => (Leaving::Transfer, Arrival::Transfer),
            Event::BackToMenu => (Leaving::Menu, Arrival::Menu),
            _ if self.left_for_menu => (Leaving::Menu, Arrival::Menu),
            _ if self.facts.visits.is_empty() => (Leaving::Transfer, Arrival::First),
            _ => (Leaving::Transfer, Arrival::Transfer),
        };
        if let Some(visit) = self.facts.visits.last_mut().filter(|v| v.left.is_none()) {
            visit.left = Some((step.at, leaving));
        }
        if let Some(queue) = &step.queue {
            self.facts.visits.push(Visit {
                queue: queue.clone(),
                arrival,
                entered_at: step.at,
                answered_at: None,
                left: None,
                dismissed: false,
            });
            if arrival != Arrival::Started {
                self.facts.queue_in_at.get_or_insert(step.at);
            }
            self.facts.queue = Some(queue.clone());
            self.left_for_menu = false;
        }
    }

    fn step(&mut self, step: &Step) {
        let at = step.at;
        // What follows the end (its closing message) is of no queue visit.
        if self.facts.ended.is_none() && !matches!(step.event, Event::Ended { .. }) {
            self.follow_queue(step);
        }
        match &step.event {
            Event::Offered { agent } => {
                self.part(agent).offered += 1;
                self.offered_to = Some(agent.clone());
            }
            Event::OfferTimedOut { agent } => {
                self.part(agent).missed += 1;
                self.offered_to = None;
            }
            Event::OfferWithdrawn { .. } => self.offered_to = None,
            // The agent who started the chat is connected to it at once: not an answer.
            Event::Connected { agent, .. } if self.holder.as_ref().is_some_and(|(h, _, _)| h == agent) => {}
            Event::Connected { agent, .. } => {
                let unoffered = self.offered_to.take().as_ref() != Some(agent);
                let part = self.part(agent);
                part.answered += 1;
                part.offered += u32::from(unoffered);
                self.take(agent, at, true);
            }
            Event::StartedOutbound { agent: Some(agent) } => {
                // The business opened the chat in its queue for this agent: it never waited there.
                if let Some(visit) = self.facts.visits.last_mut().filter(|v| v.left.is_none()) {
                    visit.arrival = Arrival::Started;
                    if self.facts.visits.len() == 1 {
                        self.facts.queue_in_at = None;
                    }
                }
                self.part(agent).started = true;
                self.take(agent, at, false);
            }
            Event::TransferStarted { to, .. } => self.part(to).offered += 1,
            Event::TransferFailed {
                to: Some(to),
                reason: TransferFailure::Declined | TransferFailure::TimedOut,
                ..
            } => {
                self.part(to).missed += 1;
            }
            Event::TransferEnded { from, to } => {
                self.part(from).transferred_out += 1;
                let part = self.part(to);
                part.transferred_in += 1;
                part.answered += 1;
                self.take(to, at, true);
            }
            Event::ReplyTimedOut { .. } => self.release(at),
            Event::BackToMenu => {
                self.release(at);
                self.left_for_menu = true;
            }
            Event::Dismissed { .. } => {
                self.release(at);
                self.facts.dismissed = true;
                if let Some(visit) = self.facts.visits.last_mut().filter(|v| v.left.is_none()) {
                    visit.dismissed = true;
                }
            }
            Event::Ended { reason, .. } => {
                self.release(at);
                self.facts.ended = Some((at, *reason));
                if let Some(visit) = self.facts.visits.last_mut().filter(|v| v.left.is_none()) {
                    visit.left = Some((at, Leaving::Ended(*reason)));
                }
            }
            Event::Message { direction, author, body, .. } => {
                let segments = segment::count(body).segments as u32;
                let counts = &mut self.facts.messages;
                match direction {
                    Direction::In => {
                        counts.inbound += 1;
                        counts.inbound_segments += segments;
                    }
                    Direction::Out => {
                        counts.outbound += 1;
                        counts.outbound_segments += segments;
                        if let Some(agent) = author.strip_prefix("agent:").and_then(|a| AgentId::parse(a).ok()) {
                            self.part(&agent).messages_sent += 1;
                            if let Some((holder, since, written)) = &mut self.holder
                                && *holder == agent
                                && !*written
                            {
                                *written = true;
                                let since = *since;
                                let part = self.part(&agent);
                                part.first_response_ms.get_or_insert((at.0 - since.0).max(0));
                            }
                        }
                    }
                    Direction::Note => {}
                }
            }
            _ => {}
        }
    }
}
