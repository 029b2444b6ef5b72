//! Which agent gets a waiting chat: availability, queue membership and capacity first, then agents who
//! write the chat's language, then the queue's strategy. And what a waiting consumer is told: their
//! place in line and an estimate of the wait.

use std::collections::BTreeMap;

use crate::ewt::{EwtInputs, estimate};
use crate::ids::{AgentId, ChatId, QueueId};
use crate::time::Timestamp;

/// An agent's status: only available agents are offered chats; away agents keep theirs and may take
/// one by hand; offline agents have left (logged out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Presence {
    Available,
    #[default]
    Away,
    Offline,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Available => "available",
            Presence::Away => "away",
            Presence::Offline => "offline",
        }
    }

    pub fn parse(text: &str) -> Option<Presence> {
        [Presence::Available, Presence::Away, Presence::Offline].into_iter().find(|p| p.as_str() == text)
    }
}

/// One agent's routing state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub agent: AgentId,
    /// The status the agent chose; they take new chats only when available and connected.
    pub presence: Presence,
    /// Whether the agent is really there: a console event stream open or an API heartbeat within the
    /// setup's presence timeout. An agent who is not is shown "offline (disconnected)" whatever they
    /// chose, and is offered nothing; the status they chose comes back when they reconnect.
    pub connected: bool,
    /// Chats offered to or connected with this agent now.
    pub active: u32,
    pub capacity: u32,
    pub queues: Vec<QueueId>,
    /// When the agent last got a chat; agents idle longer win ties.
    pub last_assigned: Timestamp,
    /// Language tags the agent writes.
    pub languages: Vec<String>,
}

impl Seat {
    /// Whether routing may offer this agent a chat: available and connected.
    pub fn takes_chats(&self) -> bool {
        self.presence == Presence::Available && self.connected
    }
}

/// How a queue picks among the agents who can take a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The agent with the fewest chats, then the one idle longest (spreads the load).
    #[default]
    LeastBusy,
    /// The agent who got their last chat longest ago, then the least busy (spreads the turns).
    LongestIdle,
}

impl Strategy {
    pub const ALLOWED: &'static str = "least_busy or longest_idle";

    /// Parses the setup document's value; empty is the default.
    pub fn parse(text: &str) -> Option<Strategy> {
        match text {
            "" | "least_busy" => Some(Strategy::LeastBusy),
            "longest_idle" => Some(Strategy::LongestIdle),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LeastBusy => "least_busy",
            Strategy::LongestIdle => "longest_idle",
        }
    }
}

/// The handle time assumed for a queue with no answered chats to learn from: five minutes.
pub const DEFAULT_HANDLE_SECONDS: u32 = 300;

/// Every agent's routing state, and the queues' lines, as the engine loaded them. Routing decisions
/// update the seats in place so that several decisions in one batch never overbook an agent; the
/// engine keeps `waiting` current as chats join and leave queues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub seats: Vec<Seat>,
    /// Chats waiting (queued, not offered) per queue.
    pub waiting: BTreeMap<QueueId, u32>,
    /// How many chats were ahead of a waiting chat in its queue when it was loaded.
    pub ahead: BTreeMap<(ChatId, QueueId), u32>,
    /// The recent average time an agent spends on a chat of the queue, in seconds.
    pub handle_seconds: BTreeMap<QueueId, u32>,
    /// Of the recent chats that waited in the queue, the share (per mille) that ended before an agent
    /// took them.
    pub abandonment_permille: BTreeMap<QueueId, u32>,
}

impl Roster {
    /// The agent who should get the next chat of `queue` (least busy first), if any has room.
    pub fn pick(&self, queue: &QueueId) -> Option<AgentId> {
        self.pick_by(queue, Strategy::LeastBusy, None, None)
    }

    /// The agent `strategy` picks for the next chat of `queue`, preferring agents who write `language`
    /// and anyone over `except`; `except` still gets the chat when nobody else can take it. Ties go to
    /// the agent id, so the choice never depends on the order seats were loaded in.
    pub fn pick_by(
        &self,
        queue: &QueueId,
        strategy: Strategy,
        except: Option<&AgentId>,
        language: Option<&str>,
    ) -> Option<AgentId> {
        let ready = self.seats.iter().filter(|s| s.takes_chats() && s.active < s.capacity && s.queues.contains(queue));
        let foreign = |s: &Seat| language.is_some_and(|l| !s.languages.iter().any(|x| x == l));
        let seat =
            match strategy {
                Strategy::LeastBusy => ready
                    .min_by_key(|s| (Some(&s.agent) == except, foreign(s), s.active, s.last_assigned, s.agent.clone())),
                Strategy::LongestIdle => ready
                    .min_by_key(|s| (Some(&s.agent) == except, foreign(s), s.last_assigned, s.active, s.agent.clone())),
            };
        seat.map(|s| s.agent.clone())
    }

    /// A waiting chat's place in line in `queue` (1: next). A chat that just joined is behind every
    /// chat already waiting.
    pub fn position(&self, chat: &ChatId, queue: &QueueId) -> u32 {
        let ahead = self
            .ahead
            .get(&(chat.clone(), queue.clone()))
            .copied()
            .unwrap_or_else(|| self.waiting.get(queue).copied().unwrap_or(0));
        ahead + 1
    }

    /// What the wait estimate of the chat at `position` in `queue` is made from: the agents who take
    /// the queue's chats now, their slots and free slots, the queue's recent handle time (five minutes
    /// without history) and abandonment.
    pub fn ewt_inputs(&self, queue: &QueueId, position: u32) -> EwtInputs {
        let ready: Vec<&Seat> = self.seats.iter().filter(|s| s.takes_chats() && s.queues.contains(queue)).collect();
        EwtInputs {
            position,
            agents: u32::try_from(ready.len()).unwrap_or(u32::MAX),
            slots: ready.iter().map(|s| s.capacity).sum(),
            free_slots: ready.iter().map(|s| s.capacity.saturating_sub(s.active)).sum(),
            handle_seconds: self.handle_seconds.get(queue).copied().unwrap_or(DEFAULT_HANDLE_SECONDS),
            abandonment_permille: self.abandonment_permille.get(queue).copied().unwrap_or(0),
        }
    }

    /// The estimated wait, in whole minutes (at least one), of the chat at `position` in `queue`
    /// ([`crate::ewt::estimate`], docs/ewt.md).
    pub fn wait_minutes(&self, queue: &QueueId, position: u32) -> u32 {
        let seconds = estimate(&self.ewt_inputs(queue, position)).seconds;
        seconds.div_ceil(60).max(1)
    }

    /// Whether `agent` serves `queue` and has room for one more chat (available or not: an agent who
    /// is away may still take a chat by hand).
    pub fn has_room(&self, agent: &AgentId, queue: &QueueId) -> bool {
        self.seat(agent).is_some_and(|s| s.active < s.capacity && s.queues.contains(queue))
    }

    /// Whether routing may offer `agent` a chat of their own (a direct number's) now: they take
    /// chats and have room.
    pub fn takes_chat(&self, agent: &AgentId) -> bool {
        self.seat(agent).is_some_and(|s| s.takes_chats() && s.active < s.capacity)
    }

    /// Whether `agent` has room for one more chat, whatever their status.
    pub fn has_room_for(&self, agent: &AgentId) -> bool {
        self.seat(agent).is_some_and(|s| s.active < s.capacity)
    }

    /// Whether `agent` serves `queue`.
    pub fn serves(&self, agent: &AgentId, queue: &QueueId) -> bool {
        self.seat(agent).is_some_and(|s| s.queues.contains(queue))
    }

    /// Counts one more chat for `agent`.
    pub fn assign(&mut self, agent: &AgentId, now: Timestamp) {
        if let Some(s) = self.seats.iter_mut().find(|s| &s.agent == agent) {
            s.active += 1;
            s.last_assigned = now;
        }
    }

    /// Counts one chat less for `agent`.
    pub fn release(&mut self, agent: &AgentId) {
        if let Some(s) = self.seats.iter_mut().find(|s| &s.agent == agent) {
            s.active = s.active.saturating_sub(1);
        }
    }

    pub(crate) fn seat(&self, agent: &AgentId) -> Option<&Seat> {
        self.seats.iter().find(|s| &s.agent == agent)
    }
}

#[cfg(test)]
mod strategy_tests {
    use super::*;

    #[test]
    fn each_strategy_orders_by_its_own_rule_first() {
        let seat = |id: &str, active, last| Seat {
            agent: AgentId::parse(id).unwrap(),
            presence: Presence::Available,
            connected: true,
            active,
            capacity: 5,
            queues: vec![QueueId::parse("q").unwrap()],
            last_assigned: Timestamp(last),
            languages: vec!["en".into()],
        };
        // a is idle longest but busy; b has the fewest chats but got one lately.
        let roster = Roster { seats: vec![seat("a", 2, 100), seat("b", 0, 900)], ..Roster::default() };
        let q = QueueId::parse("q").unwrap();
        assert_eq!(roster.pick_by(&q, Strategy::LeastBusy, None, None).unwrap().as_str(), "b");
        assert_eq!(roster.pick_by(&q, Strategy::LongestIdle, None, None).unwrap().as_str(), "a");
        let a = AgentId::parse("a").unwrap();
        assert_eq!(
            roster.pick_by(&q, Strategy::LongestIdle, Some(&a), None).unwrap().as_str(),
            "b",
            "a is passed over"
        );
        assert_eq!(Strategy::parse(""), Some(Strategy::LeastBusy));
        assert_eq!(Strategy::parse("round_robin"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(id: &str, active: u32, capacity: u32, last: i64) -> Seat {
        Seat {
            agent: AgentId::parse(id).unwrap(),
            presence: Presence::Available,
            connected: true,
            active,
            capacity,
            queues: vec![QueueId::parse("q").unwrap()],
            last_assigned: Timestamp(last),
            languages: vec!["en".into()],
        }
    }

    #[test]
    fn least_busy_then_longest_idle() {
        let q = QueueId::parse("q").unwrap();
        let mut roster =
            Roster { seats: vec![seat("a", 1, 3, 0), seat("b", 0, 3, 50), seat("c", 0, 3, 10)], ..Roster::default() };
        assert_eq!(roster.pick(&q).unwrap().as_str(), "c");
        roster.assign(&AgentId::parse("c").unwrap(), Timestamp(100));
        assert_eq!(roster.pick(&q).unwrap().as_str(), "b");
    }

    #[test]
    fn capacity_and_availability_are_respected() {
        let q = QueueId::parse("q").unwrap();
        let mut away = seat("b", 0, 1, 0);
        away.presence = Presence::Away;
        let roster = Roster { seats: vec![seat("a", 2, 2, 0), away], ..Roster::default() };
        assert_eq!(roster.pick(&q), None);
        assert_eq!(roster.pick(&QueueId::parse("other").unwrap()), None);
    }

    #[test]
    fn agents_who_write_the_language_come_first_but_others_still_serve() {
        let q = QueueId::parse("q").unwrap();
        let mut spanish = seat("b", 1, 3, 50);
        spanish.languages = vec!["es".into()];
        let roster = Roster { seats: vec![seat("a", 0, 3, 0), spanish], ..Roster::default() };
        assert_eq!(roster.pick_by(&q, Strategy::LeastBusy, None, Some("es")).unwrap().as_str(), "b");
        assert_eq!(roster.pick_by(&q, Strategy::LeastBusy, None, Some("en")).unwrap().as_str(), "a");
        assert_eq!(
            roster.pick_by(&q, Strategy::LeastBusy, None, Some("fr")).unwrap().as_str(),
            "a",
            "nobody writes it"
        );
    }

    #[test]
    fn the_wait_is_the_line_beyond_the_free_slots_shared_by_the_slots() {
        let q = QueueId::parse("q").unwrap();
        let chat = ChatId::new("c1".to_owned());
        let mut roster = Roster { seats: vec![seat("a", 2, 2, 0), seat("b", 1, 2, 0)], ..Roster::default() };
        roster.waiting.insert(q.clone(), 5);
        roster.handle_seconds.insert(q.clone(), 240);
        // Sixth in line, 4 minutes a chat, 4 slots of which one is free: 5 chats must end, 5 minutes.
        assert_eq!(roster.position(&chat, &q), 6);
        assert_eq!(roster.wait_minutes(&q, 6), 5);
        assert_eq!(roster.wait_minutes(&q, 1), 1, "a free slot: never less than a minute");
        roster.abandonment_permille.insert(q.clone(), 500);
        // Of the 4 ahead beyond the free slot, half give up: 3 must end.
        assert_eq!(roster.wait_minutes(&q, 6), 3);
        roster.ahead.insert((chat.clone(), q.clone()), 1);
        assert_eq!(roster.position(&chat, &q), 2, "a loaded chat knows who is ahead of it");
        // Nobody available: the line as one slot; no history: five minutes a chat.
        let empty = Roster::default();
        assert_eq!(empty.wait_minutes(&q, 3), 15);
    }
}
