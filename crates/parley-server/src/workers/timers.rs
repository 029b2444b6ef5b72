//! The timer worker: hands every live chat whose next deadline has come (`due_at`, stored with the
//! chat) to the engine as `Input::Tick`. Because the deadline lives in the database, a timer survives a
//! restart; because the engine decides again at the current time and firing changes the chat (and its
//! deadline), a tick that comes late or twice does nothing more than one on time.

use std::time::Duration;

use futures::future::join_all;
use parley_core::chat::Input;
use parley_store::Store;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::engine::{Engine, EngineError};

/// Chats ticked per round; a full round is followed by another at once.
const BATCH: i64 = 200;
/// How often the worker looks for deadlines that came due. Timers are minutes and seconds long;
/// a quarter second late is not noticeable.
const POLL: Duration = Duration::from_millis(250);

pub struct TimerWorker {
    pub store: Store,
    pub clock: Clock,
    pub engine: Engine,
}

impl TimerWorker {
    /// Ticks due chats until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.round().await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = format!("{e:#}"), "timer round failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!("timer worker stopped");
    }

    /// One round: ticks every chat due now (submitted together, so the engine commits them in one
    /// batch). Returns how many it ticked.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let due = self.store.due_chats(self.clock.now().0, BATCH).await?;
        let results = join_all(due.iter().map(|id| self.engine.chat_action(id, Input::Tick))).await;
        for (id, result) in due.iter().zip(results) {
            match result {
                Ok(_) => {}
                // Ended or gone between the query and the tick: nothing is due any more.
                Err(EngineError::Refused(_) | EngineError::ChatNotFound(_)) => {}
                Err(e) => tracing::warn!(chat = %id, error = %e, "a chat timer could not fire"),
            }
        }
        Ok(due.len())
    }
}
