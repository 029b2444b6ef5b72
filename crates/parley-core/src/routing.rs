//! Which agent gets a waiting chat: availability, queue membership and capacity first, then the least
//! busy agent, then the one who has waited longest for a chat.

use crate::ids::{AgentId, QueueId};
use crate::time::Timestamp;

/// One agent's routing state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub agent: AgentId,
    /// Whether the agent takes new chats (status "available").
    pub available: bool,
    /// Chats offered to or connected with this agent now.
    pub active: u32,
    pub capacity: u32,
    pub queues: Vec<QueueId>,
    /// When the agent last got a chat; agents idle longer win ties.
    pub last_assigned: Timestamp,
}

/// Every agent's routing state, as the engine loaded it. Routing decisions update it in place so
/// that several decisions in one batch never overbook an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub seats: Vec<Seat>,
}

impl Roster {
    /// The agent who should get the next chat of `queue`, if any has room.
    pub fn pick(&self, queue: &QueueId) -> Option<AgentId> {
        self.pick_except(queue, None)
    }

    /// [`Roster::pick`], preferring anyone over `except`; `except` still gets the chat when nobody
    /// else can take it.
    pub fn pick_except(&self, queue: &QueueId, except: Option<&AgentId>) -> Option<AgentId> {
        self.seats
            .iter()
            .filter(|s| s.available && s.active < s.capacity && s.queues.contains(queue))
            .min_by_key(|s| (Some(&s.agent) == except, s.active, s.last_assigned, s.agent.clone()))
            .map(|s| s.agent.clone())
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
mod tests {
    use super::*;

    fn seat(id: &str, active: u32, capacity: u32, last: i64) -> Seat {
        Seat {
            agent: AgentId::parse(id).unwrap(),
            available: true,
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
        away.available = false;
        let roster = Roster { seats: vec![seat("a", 2, 2, 0), away] };
        assert_eq!(roster.pick(&q), None);
        assert_eq!(roster.pick(&QueueId::parse("other").unwrap()), None);
    }
}
