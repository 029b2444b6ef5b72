//! Carrier adapters: how Parley hands an outbound SMS to a carrier. The outbox sender decides from a
//! [`SendError`] whether to retry.
//!
//! - [`sim`]: the built-in simulator, whose virtual phones live in Parley's own database.
//!
//! Twilio-compatible HTTP and SMPP 3.4 adapters implement the same [`Carrier`] trait.

pub mod sim;

use std::future::Future;
use std::pin::Pin;

use parley_core::phone::E164;

/// A boxed future, so carriers can sit behind `dyn Carrier`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// Parley's message id; carriers that support it use it as the idempotency key.
    pub id: String,
    /// The business number sending.
    pub from: E164,
    pub to: E164,
    pub body: String,
    pub media: Vec<String>,
}

/// The carrier took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The carrier's id for the message (for receipts).
    pub provider_id: String,
    /// The carrier already knows the message reached the phone (the simulator does).
    pub delivered: bool,
}

/// Why a send did not go through; the variant decides whether the outbox retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("throttled by the carrier; retry in {retry_after_ms} ms")]
    Throttled { retry_after_ms: i64 },
    #[error("temporary failure: {0}")]
    Transient(String),
    #[error("rejected by the carrier ({code}): {message}")]
    Permanent { code: String, message: String },
}

/// A carrier account Parley sends through.
pub trait Carrier: Send + Sync {
    /// Sends messages in order; returns one result per message, in the same order.
    fn send<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Vec<Result<Accepted, SendError>>>;
}
