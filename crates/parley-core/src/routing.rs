//! Which agent gets a waiting chat: availability, queue membership and capacity first, then the least
//! busy agent, then the one who has waited longest for a chat.

use crate::ids::{AgentId, QueueId};
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
    /// Whether the agent takes new chats (only when available).
    pub presence: Presence,
    /// Chats offered to or connected with this agent now.
    pub active: u32,
    pub capacity: u32,
    pub queues: Vec<QueueId>,
    /// When the agent last got a chat; agents idle longer win ties.
    pub last_assigned: Timestamp,
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

/// Every agent's routing state, as the engine loaded it. Routing decisions update it in place so
/// that several decisions in one batch never overbook an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub seats: Vec<Seat>,
}

impl Roster {
    /// The agent who should get the next chat of `queue` (least busy first), if any has room.
    pub fn pick(&self, queue: &QueueId) -> Option<AgentId> {
        self.pick_by(queue, Strategy::LeastBusy, None)
    }

    /// The agent `strategy` picks for the next chat of `queue`, preferring anyone over `except`;
    /// `except` still gets the chat when nobody else can take it. Ties go to the agent id, so the
    /// choice never depends on the order seats were loaded in.
    pub fn pick_by(&self, queue: &QueueId, strategy: Strategy, except: Option<&AgentId>) -> Option<AgentId> {
        let ready = self
            .seats
            .iter()
            .filter(|s| s.presence == Presence::Available && s.active < s.capacity && s.queues.contains(queue));
        let seat = match strategy {
            Strategy::LeastBusy => {
                ready.min_by_key(|s| (Some(&s.agent) == except, s.active, s.last_assigned, s.agent.clone()))
            }
            Strategy::LongestIdle => {
                ready.min_by_key(|s| (Some(&s.agent) == except, s.last_assigned, s.active, s.agent.clone()))
            }
        };
        seat.map(|s| s.agent.clone())
    }

    /// Whether `agent` serves `queue` and has room for one more chat (available or not: an agent who
    /// is away may still take a chat by hand).
    pub fn has_room(&self, agent: &AgentId, queue: &QueueId) -> bool {
        self.seat(agent).is_some_and(|s| s.active < s.capacity && s.queues.contains(queue))
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

    fn seat(&self, agent: &AgentId) -> Option<&Seat> {
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
            active,
            capacity: 5,
            queues: vec![QueueId::parse("q").unwrap()],
            last_assigned: Timestamp(last),
        };
        // a is idle longest but busy; b has the fewest chats but got one lately.
        let roster = Roster { seats: vec![seat("a", 2, 100), seat("b", 0, 900)] };
        let q = QueueId::parse("q").unwrap();
        assert_eq!(roster.pick_by(&q, Strategy::LeastBusy, None).unwrap().as_str(), "b");
        assert_eq!(roster.pick_by(&q, Strategy::LongestIdle, None).unwrap().as_str(), "a");
        let a = AgentId::parse("a").unwrap();
        assert_eq!(roster.pick_by(&q, Strategy::LongestIdle, Some(&a)).unwrap().as_str(), "b", "a is passed over");
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
            active,
            capacity,
            queues: vec![QueueId::parse("q").unwrap()],
            last_assigned: Timestamp(last),
        }
    }

    #[test]
    fn least_busy_then_longest_idle() {
        let q = QueueId::parse("q").unwrap();
        let mut roster = Roster { seats: vec![seat("a", 1, 3, 0), seat("b", 0, 3, 50), seat("c", 0, 3, 10)] };
        assert_eq!(roster.pick(&q).unwrap().as_str(), "c");
        roster.assign(&AgentId::parse("c").unwrap(), Timestamp(100));
        assert_eq!(roster.pick(&q).unwrap().as_str(), "b");
    }

    #[test]
    fn capacity_and_availability_are_respected() {
        let q = QueueId::parse("q").unwrap();
        let mut away = seat("b", 0, 1, 0);
        away.presence = Presence::Away;
        let roster = Roster { seats: vec![seat("a", 2, 2, 0), away] };
        assert_eq!(roster.pick(&q), None);
        assert_eq!(roster.pick(&QueueId::parse("other").unwrap()), None);
    }
}
