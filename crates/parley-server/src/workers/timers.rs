//! The timer worker: hands every live chat whose next deadline has come (`due_at`, stored with the
//! chat) to the engine as `Input::Tick`. Because the deadline lives in the database, a timer survives a
//! restart; because the engine decides again at the current time and firing changes the chat (and its
//! deadline), a tick that comes late or twice does nothing more than one on time.
//!
//! With several nodes, each deadline is claimed before it is ticked (`Store::claim_due_chats`), so
//! one node ticks it and the others do not spend an engine turn on a tick that would do nothing. A
//! node that dies between its claim and its tick leaves the deadline to another node after
//! [`LEASE_MS`].

use std::time::Duration;

use futures::future::join_all;
use parley_core::chat::Input;
use parley_core::ids::ChatId;
use parley_store::Store;
use parley_store::claims::TimerOutcomes;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::engine::{Engine, EngineError};
use crate::workers::poll_rounds;

/// Chats ticked per round; a full round is followed by another at once.
const BATCH: i64 = 200;
/// How often the worker looks for deadlines that came due. Timers are minutes and seconds long;
/// a quarter second late is not noticeable.
const POLL: Duration = Duration::from_millis(250);
/// The longest wait between rounds while they keep failing.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a claimed deadline is this node's alone. A tick waits in the engine's queue with
/// everything else, so this is far longer than a tick takes even under load.
pub const LEASE_MS: i64 = 30_000;
/// When a tick that failed (the engine could not store it) may be claimed again.
const RETRY_MS: i64 = 2_000;

pub struct TimerWorker {
    pub store: Store,
    pub clock: Clock,
    pub engine: Engine,
}

impl TimerWorker {
    /// Ticks due chats until `shutdown` turns true.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        poll_rounds("timers", POLL, MAX_BACKOFF, shutdown, || async { Ok(self.round().await? as i64 == BATCH) }).await;
    }

    /// One round: claims the chats due now, ticks them (submitted together, so the engine commits them
    /// in one batch) and records which ticks were handled. Returns how many it ticked.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let claims = self.store.claim_due_chats(self.clock.now().0, LEASE_MS, BATCH).await?;
        if claims.is_empty() {
            return Ok(0);
        }
        let ids: Vec<ChatId> = claims.iter().map(|c| ChatId::new(c.chat_id.clone())).collect();
        let results = join_all(ids.iter().map(|id| self.engine.chat_action(id, Input::Tick))).await;
        let ticked = claims.len();
        let mut outcomes = TimerOutcomes { retry_at: self.clock.now().0 + RETRY_MS, ..TimerOutcomes::default() };
        for (claim, result) in claims.into_iter().zip(results) {
            match result {
                // Ended or gone between the claim and the tick: nothing is due any more.
                Ok(_) | Err(EngineError::Refused(_) | EngineError::ChatNotFound(_)) => outcomes.handled.push(claim),
                Err(e) => {
                    tracing::warn!(chat = %claim.chat_id, error = %e, "a chat timer could not fire");
                    outcomes.retry.push(claim);
                }
            }
        }
        self.store.finish_timer_claims(&outcomes).await?;
        Ok(ticked)
    }
}
