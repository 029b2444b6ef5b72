//! The scheduled-message worker: asks the engine to look at held (send-later) messages once one is
//! due. The decision and the writes happen in the engine's write turn, which re-reads the due rows
//! inside the turn (on PostgreSQL under the writers' lock), so several nodes asking at once release
//! each message once: the second turn finds it no longer held. No claim is needed.

use std::time::Duration;

use parley_store::Store;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::engine::Engine;
use crate::workers::poll_rounds;

/// How often the worker looks for due held messages: a scheduled message goes out within a second.
const POLL: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub struct ScheduledWorker {
    pub store: Store,
    pub clock: Clock,
    pub engine: Engine,
}

impl ScheduledWorker {
    /// Releases due messages until `shutdown` turns true.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        poll_rounds("scheduled messages", POLL, MAX_BACKOFF, shutdown, || async { self.round().await }).await;
    }

    /// One round: whether something was due (and handed to the engine).
    pub async fn round(&self) -> anyhow::Result<bool> {
        let now = self.clock.now().0;
        if !self.store.any_held_due(now).await? {
            return Ok(false);
        }
        self.engine.release_due(now).await?;
        // More than one engine batch was due: the next round follows at once.
        Ok(self.store.any_held_due(now).await?)
    }
}
