//! The one place the server reads the time, so tests can hold it still.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_core::time::Timestamp;

/// A source of "now".
#[derive(Clone, Debug)]
pub enum Clock {
    /// The system clock.
    System,
    /// A clock tests move by hand.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp(chrono::Utc::now().timestamp_millis()),
            Clock::Manual(ms) => Timestamp(ms.load(Ordering::SeqCst)),
        }
    }
}

/// Formats a timestamp as RFC 3339 UTC with milliseconds.
pub fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
