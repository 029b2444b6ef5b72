//! The simulator carrier: "sending" puts the message on a virtual phone. The phones are kept by a
//! [`PhoneBook`] (Parley's database), so deliveries survive restarts, and a delivery repeated after a
//! crash is recognized by its message id.

use crate::{Accepted, BoxFuture, Carrier, OutboundSms, SendError};

/// Where simulated phones keep what they receive.
pub trait PhoneBook: Send + Sync {
    /// Stores the messages on their phones; a message id already stored is skipped.
    fn deliver<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Result<(), String>>;
}

/// The simulator carrier.
pub struct Sim<P> {
    phones: P,
}

impl<P: PhoneBook> Sim<P> {
    /// A simulator delivering to `phones`.
    pub fn new(phones: P) -> Sim<P> {
        Sim { phones }
    }
}

impl<P: PhoneBook> Carrier for Sim<P> {
    fn send<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Vec<Result<Accepted, SendError>>> {
        Box::pin(async move {
            match self.phones.deliver(messages).await {
                Ok(()) => messages
                    .iter()
                    .map(|m| Ok(Accepted { provider_id: format!("sim-{}", m.id), delivered: true }))
                    .collect(),
                Err(e) => messages.iter().map(|_| Err(SendError::Transient(e.clone()))).collect(),
            }
        })
    }
}
