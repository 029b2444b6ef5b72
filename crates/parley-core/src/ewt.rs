//! The estimated wait time of a chat (or a call) waiting in a queue (docs/ewt.md), from live figures:
//! the agents who take the queue's chats now and their free chat slots, the place in line, the queue's
//! recent handle time and the share of waiting consumers who gave up.
//!
//! The rule, in three cases:
//! - nobody who takes the queue's chats is available: the line as if one slot served it (there is no
//!   better guess, and a consumer should still hear a number): `position × handle`;
//! - a free slot is there for this place in line (`position ≤ free slots`): no wait;
//! - otherwise the consumer waits for `1 + (j − 1)(1 − a)` chats to end before theirs is taken, where
//!   `j` is the place beyond the free slots and `a` the abandonment share (of the `j − 1` ahead, that
//!   many give up rather than take a slot), and chats end at the rate of every slot working through
//!   the handle time: `departures × handle ÷ slots`.
//!
//! The naive estimate the benchmark compares against is `position × handle ÷ agents`, which counts an
//! agent as one chat at a time and ignores free slots and abandonment.

/// What the estimate is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EwtInputs {
    /// The place in line: 1 is next.
    pub position: u32,
    /// Agents available for the queue now.
    pub agents: u32,
    /// Their chat slots (capacities) together.
    pub slots: u32,
    /// Of those, the slots free now.
    pub free_slots: u32,
    /// The queue's recent average handle time.
    pub handle_seconds: u32,
    /// Of the recent consumers who waited in the queue, the share (per mille) who left before an agent
    /// took their chat.
    pub abandonment_permille: u32,
}

/// Which case of the rule made an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EwtRule {
    /// A free slot is there for this place in line.
    FreeSlot,
    /// The line ahead is worked through by every slot.
    Queue,
    /// Nobody available takes the queue's chats.
    NobodyStaffs,
}

impl EwtRule {
    pub fn as_str(self) -> &'static str {
        match self {
            EwtRule::FreeSlot => "free_slot",
            EwtRule::Queue => "queue",
            EwtRule::NobodyStaffs => "nobody_staffs",
        }
    }
}

/// An estimate and the case that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub seconds: u32,
    pub rule: EwtRule,
}

/// The estimated wait of the consumer at `inputs.position`.
pub fn estimate(inputs: &EwtInputs) -> Estimate {
    let position = inputs.position.max(1);
    let handle = f64::from(inputs.handle_seconds);
    if inputs.slots == 0 {
        return Estimate { seconds: clamp(f64::from(position) * handle), rule: EwtRule::NobodyStaffs };
    }
    if position <= inputs.free_slots {
        return Estimate { seconds: 0, rule: EwtRule::FreeSlot };
    }
    let beyond = f64::from(position - inputs.free_slots);
    let stay = 1.0 - f64::from(inputs.abandonment_permille.min(1000)) / 1000.0;
    let departures = 1.0 + (beyond - 1.0) * stay;
    Estimate { seconds: clamp(departures * handle / f64::from(inputs.slots)), rule: EwtRule::Queue }
}

/// The naive estimate: `position × handle ÷ agents` (at least one agent).
pub fn naive(inputs: &EwtInputs) -> u32 {
    clamp(f64::from(inputs.position.max(1)) * f64::from(inputs.handle_seconds) / f64::from(inputs.agents.max(1)))
}

fn clamp(seconds: f64) -> u32 {
    if seconds.is_finite() && seconds > 0.0 { seconds.round().min(f64::from(u32::MAX)) as u32 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(position: u32, slots: u32, free_slots: u32, abandonment_permille: u32) -> EwtInputs {
        EwtInputs { position, agents: slots.div_ceil(3), slots, free_slots, handle_seconds: 300, abandonment_permille }
    }

    #[test]
    fn ewt_a_free_slot_means_no_wait() {
        assert_eq!(estimate(&inputs(2, 6, 2, 0)), Estimate { seconds: 0, rule: EwtRule::FreeSlot });
    }

    #[test]
    fn ewt_the_line_beyond_the_free_slots_is_shared_by_every_slot() {
        // Third in line with one free slot: two chats must end, 300 s each over 6 slots.
        assert_eq!(estimate(&inputs(3, 6, 1, 0)), Estimate { seconds: 100, rule: EwtRule::Queue });
        // The first beyond the free slots waits for one chat to end.
        assert_eq!(estimate(&inputs(2, 6, 1, 0)).seconds, 50);
    }

    #[test]
    fn ewt_abandonment_shortens_the_line_ahead() {
        // Eleventh, nothing free, half of those ahead give up: 1 + 10 × 0.5 = 6 departures.
        assert_eq!(estimate(&inputs(11, 6, 0, 500)).seconds, 300);
        assert_eq!(estimate(&inputs(11, 6, 0, 0)).seconds, 550);
        assert_eq!(estimate(&inputs(11, 6, 0, 5000)).seconds, 50, "a share over 1 counts as 1");
    }

    #[test]
    fn ewt_a_queue_nobody_staffs_is_the_line_as_one_slot() {
        let e = estimate(&EwtInputs { position: 3, handle_seconds: 120, ..EwtInputs::default() });
        assert_eq!(e, Estimate { seconds: 360, rule: EwtRule::NobodyStaffs });
    }

    #[test]
    fn ewt_the_naive_estimate_counts_agents_not_slots() {
        assert_eq!(naive(&inputs(3, 6, 1, 0)), 450);
        assert_eq!(naive(&EwtInputs { position: 2, handle_seconds: 60, ..EwtInputs::default() }), 120);
    }
}
