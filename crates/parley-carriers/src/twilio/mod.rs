//! Twilio-compatible HTTP carriers: Twilio itself and the providers that copy its API.
//!
//! - [`signature`]: the `X-Twilio-Signature` every webhook carries (pure).
//! - [`webhook`]: inbound-message and status-callback forms into [`crate::InboundSms`] and
//!   [`crate::Receipt`] (pure).
//! - [`rest`]: the [`Twilio`] carrier, which sends through the Messages REST resource and downloads
//!   inbound media (`Carrier::fetch_media`).
//!
//! The HTTP endpoints that receive webhooks live in `parley-server` (`http/webhooks/twilio.rs`); this
//! module knows the wire formats, not the server.

pub mod rest;
pub mod signature;
pub mod twiml;
pub mod webhook;

pub use rest::{DEFAULT_API_BASE, DownloadError, MAX_MEDIA_BYTES, Twilio, TwilioSettings};
