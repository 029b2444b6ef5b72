//! The `StatusCallback` worker of the Twilio-compatible Messages API: POSTs each status change of a
//! message sent with a `StatusCallback` to that URL, with Twilio's form fields (`MessageSid`,
//! `SmsSid`, `MessageStatus`, `SmsStatus`, `ErrorCode` when there is one, `To`, `From`, `AccountSid`,
//! `ApiVersion`), signed with `X-Twilio-Signature` as Twilio signs its own requests
//! ([`parley_carriers::twilio::signature::compute`], the code that verifies Twilio's inbound webhooks),
//! keyed with the token of the key that sent the message.
//!
//! The queue is the message's timeline, committed with each status (see [`parley_store::twilio`]):
//! changes go out one at a time per message, in order, at least once (a receiver de-duplicates by
//! `MessageSid` and `MessageStatus`). A 2xx answer within [`TIMEOUT`] is success; anything else is tried
//! again after a growing delay with jitter, [`MAX_ATTEMPTS`] times in all, then given up. Redirects are
//! not followed. One node delivers a message's change at a time (a lease of [`LEASE_MS`]).

use std::time::Duration;

use parley_core::message::MessageStatus;
use parley_store::Store;
use parley_store::twilio::{CallbackDue, CallbackOutcome};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::http::twilio_api::resource::{API_VERSION, sid_of, status_of};
use crate::workers::poll_rounds;

const POLL: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Tries of one change before it is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// The first retry waits this long; each next one twice as long (5 s, 10 s, … about 10 min at the
/// 8th), up to [`MAX_RETRY_MS`].
const FIRST_RETRY_MS: i64 = 5_000;
const MAX_RETRY_MS: i64 = 3_600_000;
/// Longer than [`TIMEOUT`], so a lease never runs out while its request may still be answered.
const LEASE_MS: i64 = 30_000;
const BATCH: i64 = 32;
/// A message that reports nothing more for a week (a "sent" never receipted) owes no more callbacks,
/// and its kept token is dropped.
const STALE_MS: i64 = 7 * 86_400_000;

pub struct CallbackWorker {
    pub store: Store,
    pub clock: Clock,
    pub client: reqwest::Client,
}

impl CallbackWorker {
    /// The worker, with the webhooks' HTTP client: no redirects, no proxy, [`TIMEOUT`], and private,
    /// loopback and link-local addresses refused where a host name resolves to one unless
    /// `allow_private` (`[webhooks] allow_private`; an address written in the URL was checked when the
    /// message was sent).
    pub fn new(store: Store, clock: Clock, allow_private: bool) -> anyhow::Result<CallbackWorker> {
        let client = crate::workers::webhooks::target::client(allow_private, TIMEOUT)?;
        Ok(CallbackWorker { store, clock, client })
    }

    /// Delivers callbacks until `shutdown` turns true.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        poll_rounds("twilio status callbacks", POLL, MAX_BACKOFF, shutdown, || async { self.round().await }).await;
    }

    /// One round: ends what owes nothing more, then delivers what is due. Whether a full batch was due.
    pub async fn round(&self) -> anyhow::Result<bool> {
        let now = self.clock.now().0;
        self.store.close_twilio_callbacks(now, now - STALE_MS).await?;
        let due = self.store.claim_twilio_callbacks(now, LEASE_MS, BATCH).await?;
        if due.is_empty() {
            return Ok(false);
        }
        let account_sid = self.store.account_sid().await?;
        let full = due.len() as i64 == BATCH;
        let outcomes = futures::future::join_all(due.iter().map(|d| self.deliver(&account_sid, d))).await;
        for (d, outcome) in due.iter().zip(outcomes) {
            if let CallbackOutcome::GaveUp { error } = &outcome {
                tracing::warn!(message_id = %d.message_id, status = d.status.as_str(), %error, "gave up a status callback");
            }
            self.store.finish_twilio_callback(&d.message_id, d.seq, &outcome).await?;
        }
        Ok(full)
    }

    async fn deliver(&self, account_sid: &str, due: &CallbackDue) -> CallbackOutcome {
        let failed = |error: String| {
            let attempts = due.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                return CallbackOutcome::GaveUp { error };
            }
            let delay = FIRST_RETRY_MS.saturating_mul(1 << (attempts - 1).min(20)).min(MAX_RETRY_MS);
            // Up to a fifth more, so receivers that failed together are not retried together.
            let jitter = (uuid::Uuid::new_v4().as_u128() % (delay as u128 / 5 + 1)) as i64;
            CallbackOutcome::Retry { at: self.clock.now().0 + delay + jitter, error }
        };
        if !(due.url.starts_with("http://") || due.url.starts_with("https://")) {
            return CallbackOutcome::GaveUp { error: "the StatusCallback is not an http(s) URL".to_owned() };
        }
        let params = form(account_sid, due);
        let signature = parley_carriers::twilio::signature::compute(&due.auth_token, &due.url, &params);
        let sent = self
            .client
            .post(&due.url)
            .header(parley_carriers::twilio::signature::HEADER, signature)
            .form(&params)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => CallbackOutcome::Delivered,
            Ok(response) => failed(format!("the receiver answered {}", response.status())),
            Err(e) => failed(format!("no answer: {e}")),
        }
    }
}

/// Twilio's code for a change: the carrier's numeric code when it gave one, 21610 for a message not
/// sent because the consumer opted out, 30008 (unknown) for another failure; none otherwise.
fn error_code(due: &CallbackDue) -> Option<String> {
    let carrier = due.carrier_code.as_deref().filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()));
    match due.status {
        MessageStatus::Suppressed => Some("21610".to_owned()),
        MessageStatus::Failed | MessageStatus::Undelivered => Some(carrier.unwrap_or("30008").to_owned()),
        _ => None,
    }
}

/// The form of one callback, in Twilio's field names.
fn form(account_sid: &str, due: &CallbackDue) -> Vec<(&'static str, String)> {
    let sid = sid_of(&due.message_id);
    let status = status_of(due.status).to_owned();
    let mut params = vec![
        ("AccountSid", account_sid.to_owned()),
        ("ApiVersion", API_VERSION.to_owned()),
        ("From", due.from.clone()),
        ("MessageSid", sid.clone()),
        ("MessageStatus", status.clone()),
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("To", due.to.clone()),
    ];
    if let Some(code) = error_code(due) {
        params.push(("ErrorCode", code));
    }
    params
}
