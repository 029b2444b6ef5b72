//! SMPP bind slots across nodes: an account with `max_binds` has that many slots, each a lease in the
//! database named `smpp:ACCOUNT:N` (see `parley_store::claims`). A node binds only while it holds a
//! slot, renews it every [`RENEW_EVERY`], and gives it back when its bind ends; so all nodes together
//! never hold more than `max_binds` binds, which is what SMSCs count per system_id. A node that finds
//! every slot taken asks again every [`RETRY_EVERY`] and stays unbound meanwhile.
//!
//! A node that cannot renew its slot before the lease would run out (the database away for longer
//! than [`LEASE_MS`] minus a margin) unbinds: another node may take the slot once the lease has passed,
//! and two binds on one slot would break the limit. Shorter outages keep the bind.
//!
//! Leases run on the wall clock, whatever clock the rest of the server is given: binds are real
//! connections to a real SMSC.

use std::sync::Arc;
use std::time::Duration;

use parley_carriers::BoxFuture;
use parley_carriers::smpp::slots::{BindSlot, BindSlots};
use parley_store::Store;
use tokio::sync::{oneshot, watch};

use crate::clock::Clock;

/// How long a slot is held without renewal.
pub const LEASE_MS: i64 = 30_000;
/// How often the holder renews its slot.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// Unbind when the lease would run out within this margin and could not be renewed.
const MARGIN_MS: i64 = 5_000;
/// How often a node without a slot asks again.
pub const RETRY_EVERY: Duration = Duration::from_secs(10);

/// The lease name of slot `n` of `account`.
pub fn slot_name(account: &str, n: u32) -> String {
    format!("smpp:{account}:{n}")
}

/// The slots of one SMPP account, as this node takes them.
pub struct BindLeases {
    store: Store,
    account: String,
    max_binds: u32,
    /// This node, in the names of the holders of its leases.
    node: String,
    renew_every: Duration,
    retry_every: Duration,
}

impl BindLeases {
    /// Slots `0..max_binds` of `account`, taken for a holder unique to this process.
    pub fn new(store: Store, account: &str, max_binds: u32) -> BindLeases {
        BindLeases {
            store,
            account: account.to_owned(),
            max_binds,
            node: format!("node-{}", uuid::Uuid::new_v4().simple()),
            renew_every: RENEW_EVERY,
            retry_every: RETRY_EVERY,
        }
    }

    /// The same slots, renewed and asked for at other intervals (tests).
    pub fn with_intervals(mut self, renew_every: Duration, retry_every: Duration) -> BindLeases {
        self.renew_every = renew_every;
        self.retry_every = retry_every;
        self
    }

    /// Takes the first free slot, if any.
    pub async fn try_take(&self) -> parley_store::Result<Option<BindSlot>> {
        let now = Clock::System.now().0;
        // A holder of its own for each slot taken: a slot this node gives back is released by its old
        // holder, never mistaken for (or renewed as) the one it takes next.
        let holder = format!("{}-{}", self.node, uuid::Uuid::new_v4().simple());
        for n in 0..self.max_binds {
            let name = slot_name(&self.account, n);
            if !self.store.take_lease(&name, &holder, now, LEASE_MS).await? {
                continue;
            }
            let (lost_tx, lost) = watch::channel(false);
            let (stop, stopped) = oneshot::channel::<()>();
            let renewal = Renewal {
                store: self.store.clone(),
                name,
                holder,
                held_until: now + LEASE_MS,
                every: self.renew_every,
            };
            tokio::spawn(renewal.run(lost_tx, stopped));
            return Ok(Some(BindSlot::new(n, lost, move || {
                let _ = stop.send(());
            })));
        }
        Ok(None)
    }
}

impl BindSlots for BindLeases {
    fn acquire(&self) -> BoxFuture<'_, BindSlot> {
        Box::pin(async move {
            loop {
                match self.try_take().await {
                    Ok(Some(slot)) => return slot,
                    Ok(None) => tracing::debug!(
                        carrier = %self.account,
                        max_binds = self.max_binds,
                        "every bind slot is held by another node; not binding for now"
                    ),
                    Err(e) => tracing::warn!(carrier = %self.account, error = %e, "could not ask for a bind slot"),
                }
                tokio::time::sleep(self.retry_every).await;
            }
        })
    }
}

/// Keeps one slot's lease until the slot is dropped, or says it is lost.
struct Renewal {
    store: Store,
    name: String,
    holder: String,
    held_until: i64,
    every: Duration,
}

impl Renewal {
    async fn run(mut self, lost: watch::Sender<bool>, mut stopped: oneshot::Receiver<()>) {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tokio::time::sleep(self.every) => {}
            }
            let asked = Clock::System.now().0;
            match self.store.take_lease(&self.name, &self.holder, asked, LEASE_MS).await {
                Ok(true) => self.held_until = asked + LEASE_MS,
                Ok(false) => {
                    tracing::warn!(slot = %self.name, "another node holds this bind slot now; unbinding");
                    lost.send_replace(true);
                    let _ = (&mut stopped).await;
                    return;
                }
                Err(e) if Clock::System.now().0 + MARGIN_MS < self.held_until => {
                    tracing::warn!(slot = %self.name, error = %e, "could not renew a bind slot; trying again");
                }
                Err(e) => {
                    tracing::error!(slot = %self.name, error = %e, "could not renew a bind slot before it runs out; unbinding");
                    lost.send_replace(true);
                    let _ = (&mut stopped).await;
                    break;
                }
            }
        }
        // Given back so another node may bind at once; if the database is away, the lease runs out.
        if let Err(e) = self.store.release_lease(&self.name, &self.holder).await {
            tracing::warn!(slot = %self.name, error = %e, "could not give a bind slot back; it runs out by itself");
        }
    }
}

/// The slots of `account` if it has `max_binds`, for [`parley_carriers::smpp::Smpp::with_bind_slots`].
pub fn bind_slots(store: &Store, account: &str, max_binds: Option<u32>) -> Option<Arc<dyn BindSlots>> {
    max_binds.map(|max| Arc::new(BindLeases::new(store.clone(), account, max)) as Arc<dyn BindSlots>)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &tempfile::TempDir) -> Store {
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("b.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn nodes_together_hold_at_most_max_binds_slots() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let nodes: Vec<BindLeases> = (0..3)
            .map(|_| BindLeases::new(store.clone(), "smsc", 2).with_intervals(RENEW_EVERY, Duration::from_millis(10)))
            .collect();
        let a = nodes[0].try_take().await.unwrap().expect("a free slot");
        let b = nodes[1].try_take().await.unwrap().expect("the second slot");
        assert_ne!(a.number, b.number);
        assert!(nodes[2].try_take().await.unwrap().is_none(), "a third bind would pass max_binds");
        assert!(nodes[0].try_take().await.unwrap().is_none(), "one bind per slot, also for its holder");
        let held = store.leases_held("smpp:smsc:", Clock::System.now().0).await.unwrap();
        assert_eq!(held.len(), 2, "{held:?}");

        // A bind ends: its slot goes back, and the waiting node gets it.
        let freed = a.number;
        drop(a);
        let c = tokio::time::timeout(Duration::from_secs(10), nodes[2].acquire()).await;
        assert_eq!(c.expect("the freed slot").number, freed);
    }

    #[tokio::test]
    async fn a_slot_taken_by_another_node_is_reported_lost() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let node = BindLeases::new(store.clone(), "smsc", 1).with_intervals(Duration::from_millis(20), RETRY_EVERY);
        let mut slot = node.try_take().await.unwrap().expect("a free slot");
        assert!(!*slot.lost.borrow());
        // As if this node's lease had run out and another node had taken the slot.
        let name = slot_name("smsc", 0);
        let (_, holder) = store.leases_held(&name, Clock::System.now().0).await.unwrap().remove(0);
        assert!(holder.starts_with(&node.node), "{holder}");
        store.release_lease(&name, &holder).await.unwrap();
        assert!(store.take_lease(&name, "other-node", Clock::System.now().0, LEASE_MS).await.unwrap());
        tokio::time::timeout(Duration::from_secs(10), slot.lost.wait_for(|lost| *lost)).await.unwrap().unwrap();
        drop(slot);
        // Giving a lost slot back leaves the other node's lease alone.
        let held = store.leases_held("smpp:", Clock::System.now().0).await.unwrap();
        assert_eq!(held, [(name, "other-node".to_owned())]);
    }
}
