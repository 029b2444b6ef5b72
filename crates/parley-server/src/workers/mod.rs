//! Background workers. Each claims its work from the database with a lease, so any number of nodes may
//! run them side by side: a row is worked on by one node at a time, and a node that dies mid-work
//! leaves it to another once the lease has passed (see `parley_store::claims`).
//!
//! A worker never stops on an error: a round that failed (the database unreachable, most often) is
//! logged and tried again after a [`Backoff`], so every node recovers by itself once the database is
//! back, without flooding the log while it is away.

use std::time::Duration;

pub mod binds;
pub mod crm;
pub mod crm_matcher;
pub mod media;
pub mod outbox;
pub mod presence;
pub mod report_follower;
pub mod retention;
pub mod scheduled;
pub mod throttle;
pub mod timers;
pub mod twilio_callbacks;
pub mod webhooks;

/// How long a worker waits before its next round after failures: `first` after one, doubling with
/// each failure in a row up to `max`, and back to `first` after a round that worked.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// A backoff that starts at `first` and never waits longer than `max`.
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff { first, max, next: first }
    }

    /// A round failed: how long to wait before the next one.
    pub fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }

    /// A round worked: the next failure waits `first` again.
    pub fn succeeded(&mut self) {
        self.next = self.first;
    }
}

/// Runs `round` until `shutdown` turns true: again at once while a round says more is due now, after
/// `poll` when it found nothing left, after a growing [`Backoff`] (up to `max_backoff`) while rounds
/// fail. `what` names the worker in its logs.
pub async fn poll_rounds<F, Fut>(
    what: &'static str,
    poll: Duration,
    max_backoff: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let mut backoff = Backoff::new(poll, max_backoff);
    loop {
        let wait = match round().await {
            Ok(more) => {
                backoff.succeeded();
                if more {
                    continue;
                }
                poll
            }
            Err(e) => {
                let wait = backoff.failed();
                tracing::error!(worker = what, error = format!("{e:#}"), retry_in = ?wait, "worker round failed");
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
    tracing::info!(worker = what, "worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_limit_and_starts_over_after_a_success() {
        let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(1));
        let waits: Vec<u128> = (0..4).map(|_| b.failed().as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 1000]);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_millis(250));
    }
}
