//! The event bus: committed events fanned out to live subscribers (SSE streams) on this node.
//! Subscribers that fall behind re-read from the events table, so the bus may drop, never lose.

use std::sync::Arc;

use parley_store::rows::EventRow;
use tokio::sync::broadcast;

/// Publishes committed events; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Arc<EventRow>>,
}

impl Bus {
    /// A bus buffering `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Bus {
        let (tx, _) = broadcast::channel(capacity);
        Bus { tx }
    }

    /// Publishes an event that is committed.
    pub fn publish(&self, event: EventRow) {
        // No subscriber is fine: the event is in the table for whoever connects later.
        let _ = self.tx.send(Arc::new(event));
    }

    /// A new subscription, starting with the next published event.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRow>> {
        self.tx.subscribe()
    }
}
