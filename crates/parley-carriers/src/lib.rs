//! Carrier adapters: how Parley talks to carriers. Every adapter implements [`Carrier`]; messages and
//! receipts coming in are handed to a [`Sink`] (the engine), which answers only once they are committed.
//!
//! - [`sim`]: the built-in simulator, whose virtual phones live in Parley's own database.
//! - `twilio`: Twilio-compatible HTTP (signed webhooks in, REST out, status callbacks).
//! - `smpp`: SMPP 3.4 to an SMSC or aggregator.
//!
//! The outbox sender decides from a [`SendError`] whether to retry.

pub mod sim;
pub mod smpp;
pub mod twilio;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use parley_core::phone::{BusinessNumber, E164};

/// A boxed future, so carriers can sit behind `dyn Carrier`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// Parley's message id; carriers that support it use it as the idempotency key.
    pub id: String,
    /// The business number sending.
    pub from: BusinessNumber,
    pub to: E164,
    pub body: String,
    /// Media URLs (MMS), where the carrier supports them.
    pub media: Vec<String>,
}

/// The carrier took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The carrier's id for the message; receipts name it.
    pub provider_id: String,
    /// The carrier already knows the message reached the phone (the simulator does).
    pub delivered: bool,
}

/// Why a send did not go through; the variant decides whether the outbox retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The carrier asks us to slow down; retry after the pause, without counting an attempt against
    /// the message.
    #[error("throttled by the carrier; retry in {retry_after_ms} ms")]
    Throttled { retry_after_ms: i64 },
    /// Worth retrying with backoff (timeouts, 5xx, a dropped connection).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Will never go through (invalid number, blocked by the consumer, ...). `code` is the carrier's.
    #[error("rejected by the carrier ({code}): {message}")]
    Permanent { code: String, message: String },
}

/// A piece of media that came with an inbound message, as the carrier announced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMedia {
    /// Where to fetch it (with the carrier account's credentials).
    pub url: String,
    /// The content type the carrier announced (checked again when fetched).
    pub content_type: String,
}

/// A message a consumer sent to one of our numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The carrier account it came through.
    pub carrier: String,
    /// The carrier's id for it: a repeat with the same id is acknowledged, not stored twice.
    pub provider_id: String,
    pub from: E164,
    pub to: BusinessNumber,
    pub body: String,
    pub media: Vec<InboundMedia>,
}

/// Where a sent message stands, as the carrier reports it. Ordered: a message never goes back to an
/// earlier state, whatever order receipts arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryStatus {
    /// Accepted by the carrier, not yet on its way.
    Queued,
    /// Handed to the network.
    Sent,
    /// On the phone.
    Delivered,
    /// The network gave up (unreachable, expired, ...).
    Undelivered,
    /// Refused.
    Failed,
}

impl DeliveryStatus {
    /// The status as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Undelivered => "undelivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// A carrier's report on a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub carrier: String,
    /// The carrier's id for the message (as returned when it was accepted).
    pub provider_id: String,
    pub status: DeliveryStatus,
    /// The carrier's error code, for undelivered and failed messages.
    pub error_code: Option<String>,
}

/// Why a sink could not take a message or receipt; the carrier must not acknowledge it then, so the
/// carrier delivers it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// Where carriers hand what comes in. Each call returns only once the input is committed.
pub trait Sink: Send + Sync {
    /// A consumer's message.
    fn inbound(&self, sms: InboundSms) -> BoxFuture<'_, Result<(), SinkError>>;
    /// A delivery receipt.
    fn receipt(&self, receipt: Receipt) -> BoxFuture<'_, Result<(), SinkError>>;
}

/// Media downloaded from a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMedia {
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Why media could not be downloaded; the media worker retries only `Transient`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("this carrier offers no media download")]
    Unsupported,
    #[error("temporary failure: {0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

/// A carrier account Parley sends through.
pub trait Carrier: Send + Sync {
    /// Sends messages; returns one result per message, in the same order.
    fn send<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Vec<Result<Accepted, SendError>>>;

    /// Whether the carrier can send right now (an SMPP bind is up); shown by `/readyz`.
    fn ready(&self) -> bool {
        true
    }

    /// Whether this node leaves the account's messages to other nodes now: an SMPP account with a
    /// deployment-wide `max_binds` whose bind is not up here (another node holds the slots, or this
    /// one is binding). Its messages wait for a node that sends, instead of failing attempts here.
    fn sends_elsewhere(&self) -> bool {
        false
    }

    /// Whether the carrier can send media (MMS). SMPP carries text only: the outbox fails a message
    /// with media for such a carrier instead of handing it over.
    fn carries_media(&self) -> bool {
        true
    }

    /// Downloads media a consumer sent (MMS), with the account's credentials.
    fn fetch_media<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<FetchedMedia, MediaError>> {
        let _ = url;
        Box::pin(async { Err(MediaError::Unsupported) })
    }

    /// Runs the carrier's own connections (SMPP binds, ...) until `shutdown` turns true, handing what
    /// comes in to `sink`. Carriers that receive through webhooks have nothing to run.
    fn run(
        self: Arc<Self>,
        sink: Arc<dyn Sink>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        let _ = (sink, shutdown);
        Box::pin(async {})
    }
}
