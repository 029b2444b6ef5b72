//! The figures a voice queue's estimated wait is made from (docs/ewt.md "Voice queues"): the same
//! estimator as for SMS chats (`crate::ewt`), where an agent takes one call at a time.

use crate::ewt::EwtInputs;
use crate::ids::AgentId;
use crate::setup::ivr::IvrQueue;

use super::call::CallStatus;

/// Handle time assumed for a queue without history, as for SMS queues.
pub const DEFAULT_HANDLE_SECONDS: u32 = 300;
/// The handle time is the mean of this many most recent answered calls.
pub const HANDLE_SAMPLE: usize = 50;

/// What the estimate needs of one recent call of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFacts {
    pub status: CallStatus,
    pub agent: Option<AgentId>,
    /// Epoch milliseconds.
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
}

/// The inputs for `position` in `queue`, with `available` the agents available now (any queue) and
/// `recent` the queue's recent calls, newest first.
pub fn voice_inputs(queue: &IvrQueue, available: &[AgentId], recent: &[CallFacts], position: u32) -> EwtInputs {
    let staff: Vec<&AgentId> = queue.staff.iter().filter(|a| available.contains(a)).collect();
    let on_a_call = staff
        .iter()
        .filter(|a| recent.iter().any(|c| c.status == CallStatus::Connected && c.agent.as_ref() == Some(**a)))
        .count();
    let agents = staff.len() as u32;
    let handled: Vec<i64> = recent
        .iter()
        .filter_map(|c| Some(c.ended_at? - c.connected_at?))
        .filter(|ms| *ms >= 0)
        .take(HANDLE_SAMPLE)
        .collect();
    let handle_seconds = if handled.is_empty() {
        DEFAULT_HANDLE_SECONDS
    } else {
        let mean_ms = handled.iter().sum::<i64>() / handled.len() as i64;
        u32::try_from(mean_ms / 1000).unwrap_or(u32::MAX).max(1)
    };
    // Of the calls that ended, those that never reached an agent gave up (or left for SMS): either way
    // they no longer stand in line.
    let ended: Vec<&CallFacts> = recent.iter().filter(|c| c.status == CallStatus::Ended).collect();
    let gave_up = ended.iter().filter(|c| c.connected_at.is_none()).count();
    let abandonment_permille = if ended.is_empty() { 0 } else { (gave_up * 1000 / ended.len()) as u32 };
    EwtInputs {
        position,
        agents,
        slots: agents,
        free_slots: agents - on_a_call as u32,
        handle_seconds,
        abandonment_permille,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::QueueId;

    fn agent(id: &str) -> AgentId {
        AgentId::parse(id).unwrap()
    }

    fn queue(staff: &[&str]) -> IvrQueue {
        IvrQueue {
            id: QueueId::parse("voice").unwrap(),
            name: "Voice".into(),
            numbers: vec![],
            staff: staff.iter().map(|a| agent(a)).collect(),
            agents: vec![],
            teams: vec![],
            voice_destination: None,
            in_call_number: None,
            deflection: None,
            wait_sms: None,
        }
    }

    fn call(status: CallStatus, agent_id: Option<&str>, connected: Option<i64>, ended: Option<i64>) -> CallFacts {
        CallFacts { status, agent: agent_id.map(agent), connected_at: connected, ended_at: ended }
    }

    #[test]
    fn ivr_a_voice_agent_takes_one_call_and_only_the_queues_staff_count() {
        let q = queue(&["alice", "bob", "carol"]);
        let available = [agent("alice"), agent("bob"), agent("dave")];
        let recent =
            [call(CallStatus::Connected, Some("alice"), Some(0), None), call(CallStatus::Queued, None, None, None)];
        let inputs = voice_inputs(&q, &available, &recent, 2);
        assert_eq!((inputs.agents, inputs.slots, inputs.free_slots, inputs.position), (2, 2, 1, 2));
        assert_eq!(inputs.handle_seconds, DEFAULT_HANDLE_SECONDS, "no answered call ended yet");
        assert_eq!(inputs.abandonment_permille, 0);
    }

    #[test]
    fn ivr_handle_time_and_abandonment_come_from_the_calls_that_ended() {
        let q = queue(&["alice"]);
        let recent = [
            call(CallStatus::Ended, Some("alice"), Some(10_000), Some(250_000)),
            call(CallStatus::Ended, None, None, Some(90_000)),
            call(CallStatus::Ended, Some("alice"), Some(0), Some(120_000)),
            call(CallStatus::Ended, None, None, Some(5_000)),
        ];
        let inputs = voice_inputs(&q, &[agent("alice")], &recent, 1);
        assert_eq!(inputs.handle_seconds, 180, "(240 + 120) / 2");
        assert_eq!(inputs.abandonment_permille, 500);
        assert_eq!(inputs.free_slots, 1);
    }
}
