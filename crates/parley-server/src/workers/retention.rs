//! The retention worker: once an hour, deletes the transcripts, media and events of chats that ended
//! more than `retention_days` ago (see [`parley_store::Store::purge_before`]), and uploads that were
//! never sent a day after their upload ([`UNSENT_UPLOAD_MS`]). Without a retention setting no chat is
//! ever purged; unsent uploads are deleted all the same.
//!
//! With several nodes, a purge first takes the lease [`PURGE_LEASE`] and renews it with every batch,
//! so one node purges at a time and the others skip their turn; a node that dies mid-purge leaves the
//! lease to run out, and the next purge of any node carries on where it stopped.

use std::time::Duration;

use parley_store::Store;
use parley_store::retention::{PURGE_LEASE, PurgeReport};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::workers::Backoff;

const CHECK_EVERY: Duration = Duration::from_secs(3600);
/// After a failed purge (the database away), the next try comes sooner than the next hour.
const RETRY_FIRST: Duration = Duration::from_secs(60);
/// Chats per transaction, so a large first purge never holds the write lock for long.
const BATCH: i64 = 200;
/// How long the purge lease lasts without renewal; every batch renews it.
const LEASE_MS: i64 = 300_000;

/// How long an upload may wait to be sent (`media_ids`) before it is deleted.
pub const UNSENT_UPLOAD_MS: i64 = 86_400_000;

/// The worker.
pub struct RetentionWorker {
    pub store: Store,
    pub clock: Clock,
    /// None: chats are kept for ever.
    pub retention_days: Option<u32>,
}

impl RetentionWorker {
    /// Purges at start and then every hour, until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Backoff::new(RETRY_FIRST, CHECK_EVERY);
        loop {
            let wait = match self.purge().await {
                Ok(report) => {
                    if !report.is_empty() {
                        tracing::info!(?report, "retention purge");
                    }
                    backoff.succeeded();
                    CHECK_EVERY
                }
                Err(e) => {
                    let wait = backoff.failed();
                    tracing::error!(error = format!("{e:#}"), retry_in = ?wait, "retention purge failed");
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
        }
    }

    /// Deletes everything that is past retention now, unless another node is purging (then it
    /// deletes nothing: that node does it).
    pub async fn purge(&self) -> anyhow::Result<PurgeReport> {
        // Idempotent and quick: every node may do it, no lease needed.
        let unsent = self.store.delete_unattached_uploads(self.clock.now().0 - UNSENT_UPLOAD_MS).await?;
        if unsent > 0 {
            tracing::info!(uploads = unsent, "deleted uploads never sent");
        }
        let Some(retention_days) = self.retention_days else { return Ok(PurgeReport::default()) };
        let holder = format!("retention-{}", uuid::Uuid::new_v4().simple());
        let mut total = PurgeReport::default();
        loop {
            // Taken before the first batch and renewed before each next one.
            if !self.store.take_lease(PURGE_LEASE, &holder, self.clock.now().0, LEASE_MS).await? {
                tracing::debug!("another node is purging; skipping this turn");
                return Ok(total);
            }
            let cutoff = self.clock.now().0 - i64::from(retention_days) * 86_400_000;
            let r = match self.store.purge_before(cutoff, BATCH).await {
                Ok(r) => r,
                Err(e) => {
                    // Best effort: if the database is away the lease runs out by itself.
                    let _ = self.store.release_lease(PURGE_LEASE, &holder).await;
                    return Err(e.into());
                }
            };
            total.chats += r.chats;
            total.messages += r.messages;
            total.media += r.media;
            total.events += r.events;
            total.sim_messages += r.sim_messages;
            if r.chats < BATCH as u64 {
                self.store.release_lease(PURGE_LEASE, &holder).await?;
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicI64;

    use parley_core::chat::ChatStatus;
    use parley_store::batch::Batch;
    use parley_store::rows::ChatRow;

    use super::*;

    fn ended_chat(id: &str, consumer: &str, ended_at: i64) -> ChatRow {
        ChatRow {
            language: "en".to_owned(),
            ended_at: Some(ended_at),
            end_reason: Some("ended_by_agent".to_owned()),
            ended_by: Some("alice".to_owned()),
            ..ChatRow::new(id, "+15550001000", consumer, ChatStatus::Finished, ended_at)
        }
    }

    #[tokio::test]
    async fn purges_what_ended_more_than_the_retention_ago_by_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("r.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let day = 86_400_000;
        let now = 1_800_000_000_000;
        let chats =
            vec![ended_chat("a", "+14155550001", now - 31 * day), ended_chat("b", "+14155550002", now - 29 * day)];
        store.commit_batch(&Batch { chats, ..Batch::default() }).await.unwrap();
        let worker = RetentionWorker {
            store: store.clone(),
            clock: Clock::Manual(Arc::new(AtomicI64::new(now))),
            retention_days: Some(30),
        };
        let report = worker.purge().await.unwrap();
        assert_eq!(report.chats, 1);
        assert!(store.chat("a").await.is_err());
        assert!(store.chat("b").await.is_ok(), "29 days is within retention");
    }

    #[tokio::test]
    async fn a_node_skips_its_purge_while_another_holds_the_purge_lease() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("r.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let day = 86_400_000;
        let now = 1_800_000_000_000;
        store
            .commit_batch(&Batch { chats: vec![ended_chat("a", "+14155550001", now - 31 * day)], ..Batch::default() })
            .await
            .unwrap();
        let worker = RetentionWorker {
            store: store.clone(),
            clock: Clock::Manual(Arc::new(AtomicI64::new(now))),
            retention_days: Some(30),
        };
        // Another node is purging: this one deletes nothing.
        assert!(store.take_lease(PURGE_LEASE, "other-node", now, LEASE_MS).await.unwrap());
        assert!(worker.purge().await.unwrap().is_empty());
        assert!(store.chat("a").await.is_ok(), "left to the node holding the lease");
        // It finished; the next turn purges, and gives the lease back.
        store.release_lease(PURGE_LEASE, "other-node").await.unwrap();
        assert_eq!(worker.purge().await.unwrap().chats, 1);
        assert!(store.chat("a").await.is_err());
        assert!(store.leases_held(PURGE_LEASE, now).await.unwrap().is_empty(), "released after the purge");
    }

    #[tokio::test]
    async fn uploads_never_sent_are_deleted_after_a_day_even_without_a_retention_period() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("r.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let now = 1_800_000_000_000;
        let upload = |id: &str, at: i64| parley_store::media::NewUpload {
            id: id.to_owned(),
            content_type: "image/gif".to_owned(),
            data: b"GIF89a".to_vec(),
            uploaded_by: "admin".to_owned(),
            at,
        };
        store.insert_upload(&upload("old", now - UNSENT_UPLOAD_MS - 1)).await.unwrap();
        store.insert_upload(&upload("new", now - UNSENT_UPLOAD_MS + 1)).await.unwrap();
        let worker = RetentionWorker {
            store: store.clone(),
            clock: Clock::Manual(Arc::new(AtomicI64::new(now))),
            retention_days: None,
        };
        worker.purge().await.unwrap();
        assert!(store.media("old").await.unwrap().is_none(), "a day old and never sent");
        assert!(store.media("new").await.unwrap().is_some(), "younger than a day");
    }
}
