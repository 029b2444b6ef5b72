//! Time as a value. The core never reads a clock: callers pass `now` in.

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// This instant plus `minutes`.
    pub fn plus_minutes(self, minutes: i64) -> Timestamp {
        Timestamp(self.0 + minutes * 60_000)
    }
}
