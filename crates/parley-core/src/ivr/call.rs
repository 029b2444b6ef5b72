//! A call as the IVR reports it, and the rule its reports follow: a call only moves forward
//! (started → queued / over capacity → connected → ended), a report of the state it is in already
//! changes nothing (the IVR may repeat itself), and one that would move it back is refused naming
//! both states.

use crate::ids::AgentId;

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    /// The IVR has the caller; no queue yet.
    Started,
    /// Waiting for an agent.
    Queued,
    /// Waiting, and the voice queue is over its capacity (the wait-time SMS may be offered).
    OverCapacity,
    /// With an agent.
    Connected,
    Ended,
}

impl CallStatus {
    pub const ALL: [CallStatus; 5] =
        [CallStatus::Started, CallStatus::Queued, CallStatus::OverCapacity, CallStatus::Connected, CallStatus::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Started => "started",
            CallStatus::Queued => "queued",
            CallStatus::OverCapacity => "over_capacity",
            CallStatus::Connected => "connected",
            CallStatus::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<CallStatus> {
        CallStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How far along a call is: queued and over capacity are one stage (a queue may go over its
    /// capacity and back while the caller waits).
    fn stage(self) -> u8 {
        match self {
            CallStatus::Started => 0,
            CallStatus::Queued | CallStatus::OverCapacity => 1,
            CallStatus::Connected => 2,
            CallStatus::Ended => 3,
        }
    }

    /// Whether the caller is still waiting for an agent.
    pub fn waiting(self) -> bool {
        self.stage() <= 1
    }
}

/// Why a call ended, as the IVR says (free text, kept) or as Parley ends it.
pub const DEFLECTED: &str = "deflected";

/// A report of the IVR about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallChange {
    Queued { position: Option<u32> },
    OverCapacity,
    Connected { agent: AgentId },
    Ended { reason: String },
}

impl CallChange {
    pub fn status(&self) -> CallStatus {
        match self {
            CallChange::Queued { .. } => CallStatus::Queued,
            CallChange::OverCapacity => CallStatus::OverCapacity,
            CallChange::Connected { .. } => CallStatus::Connected,
            CallChange::Ended { .. } => CallStatus::Ended,
        }
    }
}

/// A report that would move a call back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the call is {} and cannot become {} again", from.as_str(), to.as_str())]
pub struct Backwards {
    pub from: CallStatus,
    pub to: CallStatus,
}

/// What a report does to a call in `current`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The call moves (or its queue position changes).
    Moves(CallStatus),
    /// The call is there already: nothing changes (a repeated report).
    Same,
}

/// Applies `change` to a call in `current` (with `agent` connected, `position` in line).
pub fn apply(
    current: CallStatus,
    agent: Option<&AgentId>,
    position: Option<u32>,
    change: &CallChange,
) -> Result<Applied, Backwards> {
    let to = change.status();
    let same = match change {
        CallChange::Queued { position: p } => current == CallStatus::Queued && (p.is_none() || *p == position),
        CallChange::Connected { agent: a } => current == CallStatus::Connected && Some(a) == agent,
        CallChange::OverCapacity | CallChange::Ended { .. } => current == to,
    };
    if same {
        return Ok(Applied::Same);
    }
    if current == CallStatus::Ended || to.stage() < current.stage() {
        return Err(Backwards { from: current, to });
    }
    // Connected to another agent (a transfer in the IVR) is a move within the stage.
    Ok(Applied::Moves(to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> AgentId {
        AgentId::parse("alice").unwrap()
    }

    #[test]
    fn ivr_a_call_moves_forward_and_a_repeat_changes_nothing() {
        let q = CallChange::Queued { position: Some(3) };
        assert_eq!(apply(CallStatus::Started, None, None, &q), Ok(Applied::Moves(CallStatus::Queued)));
        assert_eq!(apply(CallStatus::Queued, None, Some(3), &q), Ok(Applied::Same));
        assert_eq!(
            apply(CallStatus::Queued, None, Some(3), &CallChange::Queued { position: Some(2) }),
            Ok(Applied::Moves(CallStatus::Queued)),
            "a new place in line"
        );
        assert_eq!(
            apply(CallStatus::Queued, None, None, &CallChange::OverCapacity),
            Ok(Applied::Moves(CallStatus::OverCapacity))
        );
        assert_eq!(
            apply(CallStatus::OverCapacity, None, None, &q),
            Ok(Applied::Moves(CallStatus::Queued)),
            "one stage"
        );
        let c = CallChange::Connected { agent: alice() };
        assert_eq!(apply(CallStatus::Queued, None, None, &c), Ok(Applied::Moves(CallStatus::Connected)));
        assert_eq!(apply(CallStatus::Connected, Some(&alice()), None, &c), Ok(Applied::Same));
        let e = CallChange::Ended { reason: "hangup".into() };
        assert_eq!(apply(CallStatus::Connected, Some(&alice()), None, &e), Ok(Applied::Moves(CallStatus::Ended)));
        assert_eq!(apply(CallStatus::Ended, None, None, &e), Ok(Applied::Same));
    }

    #[test]
    fn ivr_a_report_that_goes_back_names_both_states() {
        let back =
            apply(CallStatus::Connected, Some(&alice()), None, &CallChange::Queued { position: None }).unwrap_err();
        assert_eq!(back, Backwards { from: CallStatus::Connected, to: CallStatus::Queued });
        assert_eq!(back.to_string(), "the call is connected and cannot become queued again");
        assert!(apply(CallStatus::Ended, None, None, &CallChange::Connected { agent: alice() }).is_err());
    }
}
