//! The event bus: committed events fanned out to live subscribers (SSE streams) on this node, in id
//! order, whichever node committed them.
//!
//! One task per node, the tailer, is the only publisher. It learns of commits two ways: this node's
//! engine hands it each committed batch ([`Bus::committed`]), and on PostgreSQL every node's batch
//! sends a NOTIFY that the tailer LISTENs for. Either way it publishes the events after the last id
//! it published: directly when the engine's batch follows on from that id, otherwise by reading the
//! events table. Reading "after id N" is exact because event ids become visible in id order (the
//! engine's batches hold one advisory lock from loading to commit, see `parley_store::batch`).
//! A lost listening connection is followed by a read of the table, and the table is read every
//! second besides, so a lost notice costs at most a second, never an event. Subscribers that fall
//! behind re-read from the table, so the bus may drop, never lose.
//!
//! Writers beside the engine that commit events in a write turn of their own (the CRM matcher) say so
//! with [`Bus::written`], and the tailer reads the table: on SQLite no NOTIFY would tell it, and the
//! events would wait for the engine's next batch.

use std::sync::Arc;
use std::time::Duration;

use parley_store::Store;
use parley_store::events::{Notice, Notices};
use parley_store::rows::EventRow;
use tokio::sync::{Notify, broadcast, mpsc, watch};

/// Events read from the table at a time.
const PAGE: i64 = 500;
/// How often the tailer reads the table even without a notice (PostgreSQL only).
const RESYNC_EVERY: Duration = Duration::from_secs(1);
/// How long the tailer waits before listening again after the database failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Publishes committed events; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Arc<EventRow>>,
    feed: mpsc::UnboundedSender<Vec<EventRow>>,
    /// What another node changed besides events (a new setup), for whoever keeps a copy of it.
    setup_changed: Arc<watch::Sender<u64>>,
    /// Events were committed on this node outside the engine's batches: read the table. A `Notify`
    /// keeps one wake-up while the tailer is busy, so none is lost.
    written: Arc<Notify>,
}

impl Bus {
    /// A bus buffering `capacity` events per slow subscriber, and its tailer task, which runs until
    /// `stop` turns true. Call it before the engine starts: events committed before are in the table.
    pub async fn start(
        store: Store,
        capacity: usize,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<(Bus, tokio::task::JoinHandle<()>)> {
        let last = store.last_event_id().await?;
        let (tx, _) = broadcast::channel(capacity);
        let (feed, feed_rx) = mpsc::unbounded_channel();
        let (setup_changed, _) = watch::channel(0);
        let bus = Bus { tx, feed, setup_changed: Arc::new(setup_changed), written: Arc::new(Notify::new()) };
        let task = tokio::spawn(bus.clone().tail(store, last, feed_rx, stop));
        Ok((bus, task))
    }

    /// Hands over the events of a committed batch (with their ids), in id order.
    pub fn committed(&self, events: Vec<EventRow>) {
        if !events.is_empty() {
            // The tailer is gone only at shutdown; the events are in the table for the next start.
            let _ = self.feed.send(events);
        }
    }

    /// Says that events were committed outside the engine's batches (after the commit), so the tailer
    /// publishes them now instead of at the engine's next batch.
    pub fn written(&self) {
        self.written.notify_one();
    }

    /// A new subscription, starting with the next published event.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRow>> {
        self.tx.subscribe()
    }

    /// Changes whenever another node saved a new setup (or notices may have been missed).
    pub fn setup_changes(&self) -> watch::Receiver<u64> {
        self.setup_changed.subscribe()
    }

    fn publish(&self, event: EventRow, last: &mut i64) {
        *last = event.id;
        // No subscriber is fine: the event is in the table for whoever connects later.
        let _ = self.tx.send(Arc::new(event));
    }

    async fn tail(
        self,
        store: Store,
        mut last: i64,
        mut feed: mpsc::UnboundedReceiver<Vec<EventRow>>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut notices: Option<Notices> = None;
        let multi_node = matches!(store, Store::Postgres(_));
        let mut resync = tokio::time::interval(RESYNC_EVERY);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if multi_node && notices.is_none() {
                match store.listen().await {
                    Ok(listening) => {
                        notices = listening;
                        // Whatever was notified before the listener existed is read now.
                        self.catch_up(&store, &mut last).await;
                        self.setup_changed.send_modify(|n| *n += 1);
                    }
                    Err(e) => tracing::warn!(error = %e, "listening for other nodes' events failed; retrying"),
                }
            }
            tokio::select! {
                batch = feed.recv() => match batch {
                    Some(batch) => self.take(&store, batch, &mut last).await,
                    None => return,
                },
                notice = next_notice(&mut notices) => match notice {
                    Ok(Notice::Events) => self.catch_up(&store, &mut last).await,
                    Ok(Notice::Setup) => self.setup_changed.send_modify(|n| *n += 1),
                    Ok(Notice::Reconnected) => {
                        tracing::info!("listening for other nodes' events again");
                        self.catch_up(&store, &mut last).await;
                        self.setup_changed.send_modify(|n| *n += 1);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the connection that listens for other nodes' events");
                        notices = None;
                        tokio::select! {
                            _ = tokio::time::sleep(RETRY_AFTER) => {}
                            _ = stop.changed() => return,
                        }
                    }
                },
                _ = resync.tick(), if multi_node => self.catch_up(&store, &mut last).await,
                _ = self.written.notified() => self.catch_up(&store, &mut last).await,
                _ = stop.changed() => return,
            }
        }
    }

    /// Publishes this node's committed batch: directly when it follows on from the last id published,
    /// else by reading the table (another node committed in between, or ids were skipped).
    async fn take(&self, store: &Store, batch: Vec<EventRow>, last: &mut i64) {
        let follows = batch.iter().enumerate().all(|(i, e)| e.id == *last + 1 + i as i64);
        if follows {
            for event in batch {
                self.publish(event, last);
            }
        } else if batch.last().is_some_and(|e| e.id > *last) {
            self.catch_up(store, last).await;
        }
    }

    async fn catch_up(&self, store: &Store, last: &mut i64) {
        loop {
            match store.events_after(*last, PAGE).await {
                Ok(page) => {
                    let full = page.len() as i64 == PAGE;
                    for event in page {
                        self.publish(event, last);
                    }
                    if !full {
                        return;
                    }
                }
                Err(e) => {
                    // The next batch, notice or resync tick reads again from the same id.
                    tracing::warn!(error = %e, "reading new events failed");
                    return;
                }
            }
        }
    }
}

async fn next_notice(notices: &mut Option<Notices>) -> parley_store::Result<Notice> {
    match notices {
        Some(n) => n.next().await,
        None => std::future::pending().await,
    }
}
