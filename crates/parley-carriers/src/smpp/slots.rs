//! Bind slots: how an SMPP account with a deployment-wide limit on binds (`max_binds`, the number of
//! binds the SMSC accepts for one system_id) is shared by several nodes. Before it binds, the carrier
//! asks its [`BindSlots`] for a slot and waits until it gets one; it holds its bind only while the slot
//! stays its own, unbinds when the slot is lost, and gives the slot back when the bind ends. Who holds
//! which slot is decided elsewhere (Parley's server keeps it as leases in its database), so this crate
//! needs no database: it only asks and obeys.

use tokio::sync::watch;

use crate::BoxFuture;

/// Hands out the bind slots of one SMPP account.
pub trait BindSlots: Send + Sync {
    /// Waits until this node holds a free slot, and returns it. Called again after each bind ends.
    fn acquire(&self) -> BoxFuture<'_, BindSlot>;
}

/// One slot, held for one bind. Dropping it gives the slot back.
pub struct BindSlot {
    /// Which of the account's slots this is, for logs.
    pub number: u32,
    /// Turns true (or closes) when the slot is no longer this node's, for instance when it could not
    /// be renewed in time: the carrier then unbinds at once.
    pub lost: watch::Receiver<bool>,
    /// Gives the slot back; run when the slot is dropped.
    release: Option<Box<dyn FnOnce() + Send>>,
}

impl BindSlot {
    /// A slot that `release` gives back.
    pub fn new(number: u32, lost: watch::Receiver<bool>, release: impl FnOnce() + Send + 'static) -> BindSlot {
        BindSlot { number, lost, release: Some(Box::new(release)) }
    }

    /// Resolves once the slot is lost.
    pub(crate) async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
    }
}

impl Drop for BindSlot {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

impl std::fmt::Debug for BindSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BindSlot").field("number", &self.number).field("lost", &*self.lost.borrow()).finish()
    }
}
