//! The report follower: keeps the reports' rollups (docs/reports.md "How fast") up with the event
//! log, and folds the delivery changes the messages' triggers write into the delivery rollup. Each round reads the chats with a report event after its cursor, folds the finished ones
//! from their events into rollup rows, and writes the rows with the cursor's move in one transaction,
//! under the lease [`LEASE`] so one node follows at a time. A round repeated after a crash writes
//! the same rows again; a report never waits for it (what is not rolled up yet is folded when read).
//!
//! [`rebuild`] writes every finished chat's rows again from the events (`parley reports rebuild`),
//! holding the same lease so the follower waits meanwhile.

use std::time::Duration;

use parley_store::Store;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::report_facts::rollups_of;

/// The cursor's lease.
pub const LEASE: &str = "report_follower";
const LEASE_MS: i64 = 60_000;
/// Events looked at per round.
const WINDOW: i64 = 20_000;
const POLL: Duration = Duration::from_millis(500);
/// Delivery changes folded per round.
const DELIVERY_PAGE: i64 = 20_000;
/// Chats rebuilt per transaction.
const REBUILD_PAGE: i64 = 500;

pub struct ReportFollower {
    pub store: Store,
    pub clock: Clock,
    /// This node's name as a lease holder.
    pub holder: String,
}

impl ReportFollower {
    pub fn new(store: Store, clock: Clock) -> ReportFollower {
        ReportFollower { store, clock, holder: format!("report-follower-{}", uuid::Uuid::new_v4().simple()) }
    }

    /// Follows until `shutdown` turns true, then gives the lease back.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        crate::workers::poll_rounds("report_follower", POLL, Duration::from_secs(30), shutdown, || self.round()).await;
        // Best effort: a lease not given back runs out by itself.
        let _ = self.store.release_lease(LEASE, &self.holder).await;
    }

    /// Rolls up the chats of the next stretch of the log; true when more is due at once.
    pub async fn round(&self) -> anyhow::Result<bool> {
        let delivery = self.store.fold_delivery_changes(DELIVERY_PAGE).await?;
        let cursor = self.store.report_cursor().await?;
        // Ids are given in commit order (docs/events.md): nothing at or below `head` commits later.
        let head = self.store.last_event_id().await?;
        if head <= cursor {
            return Ok(delivery == DELIVERY_PAGE as usize);
        }
        // The lease is the wall clock's: it says whether a node is alive, which a moved test clock
        // must not change.
        let wall = chrono::Utc::now().timestamp_millis();
        if !self.store.take_lease(LEASE, &self.holder, wall, LEASE_MS).await? {
            return Ok(false);
        }
        let upto = head.min(cursor.saturating_add(WINDOW));
        let chats = self.store.report_chats_after(cursor, upto).await?;
        let rollups = rollups_of(&self.store, &chats, self.clock.now()).await?;
        if !self.store.write_rollups(Some((cursor, upto)), &rollups).await? {
            // Another node moved the cursor (its lease had passed ours): start again from it.
            return Ok(true);
        }
        if !rollups.is_empty() {
            metrics::counter!("parley_report_rollups_total").increment(rollups.len() as u64);
        }
        Ok(upto < head)
    }
}

/// Writes the rollups of every finished chat again from its events, a page at a time, calling
/// `progress(done, total)` after each; returns how many chats it rolled up. Holds the follower's
/// lease meanwhile (waiting for it while a node holds it), and leaves the cursor at least where the
/// log ended when it started.
pub async fn rebuild(store: &Store, clock: &Clock, mut progress: impl FnMut(u64, u64)) -> anyhow::Result<u64> {
    let holder = format!("report-rebuild-{}", uuid::Uuid::new_v4().simple());
    let take = || async {
        let wall = chrono::Utc::now().timestamp_millis();
        store.take_lease(LEASE, &holder, wall, LEASE_MS).await
    };
    while !take().await? {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let head = store.last_event_id().await?;
    let (total, _) = store.rollup_progress().await?;
    let total = u64::try_from(total).unwrap_or(0);
    let mut done = 0u64;
    let mut after = String::new();
    loop {
        let page = store.chats_after(&after, REBUILD_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.clone();
        let ids: Vec<String> = page.into_iter().filter(|(_, finished)| *finished).map(|(id, _)| id).collect();
        let rollups = rollups_of(store, &ids, clock.now()).await?;
        store.write_rollups(None, &rollups).await?;
        done += ids.len() as u64;
        progress(done, total.max(done));
        if !take().await? {
            anyhow::bail!("lost the report follower's lease while rebuilding; run the rebuild again");
        }
    }
    store.drop_stale_rollups(head).await?;
    store.release_lease(LEASE, &holder).await?;
    Ok(done)
}
