//! The webhook worker: delivers the event log to each enabled endpoint, in id order, signed per the
//! Standard Webhooks specification ([`signing`]), to targets [`target`] allows.
//!
//! Each endpoint keeps a cursor in the event log (see `parley_store::webhooks`). A round takes the
//! endpoints whose next attempt is due; for each, under the lease `webhook:{id}` (one node delivers an
//! endpoint at a time), it reads the events after the cursor, finds the first of the endpoint's types
//! (the head) and posts it. A 2xx answer within [`TIMEOUT`] moves the cursor past it in the same
//! transaction that records the attempt; anything else (a 3xx too: redirects are not followed) is
//! retried after a backoff with jitter ([`retry_in`]) until [`GIVE_UP_MS`] after the head's first
//! failure, when the attempt is recorded as failed and the cursor moves on. An endpoint whose
//! deliveries have failed without a success for [`GIVE_UP_MS`] is disabled, and a `webhook.disabled`
//! event tells the admins. Retries carry the same `webhook-id` (the event id), so receivers de-duplicate.
//!
//! Time: backoff, retry windows and rotation overlaps run on the server's clock (tests move it);
//! `webhook-timestamp` is the wall clock's, because receivers compare it with theirs to refuse replays,
//! and so are the leases, which say whether a node is alive and working (a moved test clock must not
//! hand an endpoint to a second node in the middle of a delivery). A worker that stops gives its
//! leases back, so a restarted node carries on at once; a node that dies leaves them to run out.

pub mod signing;
pub mod target;

use std::time::{Duration, Instant};

use parley_core::event::Event;
use parley_core::time::Timestamp;
use parley_store::Store;
use parley_store::rows::EventRow;
use parley_store::webhooks::{DeliveryRow, WebhookProgress, WebhookRow};
use tokio::sync::watch;

use crate::clock::{Clock, rfc3339};
use crate::http::event_json;

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The first retry's delay; each next one doubles, up to [`MAX_RETRY_MS`].
pub const FIRST_RETRY_MS: i64 = 5_000;
/// The longest delay between two attempts.
pub const MAX_RETRY_MS: i64 = 600_000;
/// How long an event is retried from its first failure, and how long an endpoint may fail before it
/// is disabled.
pub const GIVE_UP_MS: i64 = 24 * 3600 * 1000;
/// How long a node holds an endpoint without renewing (every attempt renews it).
const LEASE_MS: i64 = 60_000;
/// Events read per look after the cursor.
const PAGE: i64 = 200;
/// The pause between rounds that found nothing due.
const POLL: Duration = Duration::from_millis(200);

/// The webhook type `types` (an event's, [`event_json::webhook_types`]) is delivered as to an endpoint
/// subscribed to `subscribed`, or `None` when it is not of the endpoint's types. An alias
/// ("message.received") wins over the kind's own name ("message") when both are subscribed, as with `*`.
pub fn delivered_as<'a>(subscribed: &[String], types: &[&'a str]) -> Option<&'a str> {
    let all = subscribed.iter().any(|s| s == "*");
    types.iter().rev().find(|t| all || subscribed.iter().any(|s| s == *t)).copied()
}

/// The delay before attempt `attempts + 1`, after `attempts` failures: [`FIRST_RETRY_MS`] doubling up
/// to [`MAX_RETRY_MS`], less up to a fifth by `jitter` (0.0 to 1.0), so endpoints that failed together
/// do not all come back at once.
pub fn retry_in(attempts: i64, jitter: f64) -> i64 {
    let doublings = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    let base = FIRST_RETRY_MS.saturating_mul(1 << doublings).min(MAX_RETRY_MS);
    #[expect(clippy::cast_possible_truncation, clippy::cast_precision_loss, reason = "milliseconds, far below 2^52")]
    let cut = (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    base - cut
}

/// What an attempt at the head `head` (an event id) leaves of `endpoint`, at `now`: its progress, the
/// attempt's outcome and, when it failed, when the next attempt comes.
pub fn after_attempt(
    endpoint: &WebhookRow,
    head: i64,
    delivered: bool,
    now: i64,
    jitter: f64,
) -> (WebhookProgress, &'static str) {
    if delivered {
        let progress = WebhookProgress {
            cursor: head,
            head_attempts: 0,
            head_failing_since: None,
            failing_since: None,
            next_attempt_at: None,
            disabled: None,
        };
        return (progress, "delivered");
    }
    let attempts = endpoint.head_attempts + 1;
    let head_since = endpoint.head_failing_since.unwrap_or(now);
    let failing_since = endpoint.failing_since.unwrap_or(now);
    let disabled = (now - failing_since >= GIVE_UP_MS)
        .then(|| (now, format!("deliveries failed for 24 hours without a success (since {})", rfc3339(failing_since))));
    if now - head_since >= GIVE_UP_MS {
        let progress = WebhookProgress {
            cursor: head,
            head_attempts: 0,
            head_failing_since: None,
            failing_since: Some(failing_since),
            next_attempt_at: None,
            disabled,
        };
        return (progress, "failed");
    }
    let progress = WebhookProgress {
        cursor: endpoint.cursor,
        head_attempts: attempts,
        head_failing_since: Some(head_since),
        failing_since: Some(failing_since),
        next_attempt_at: Some(now + retry_in(attempts, jitter)),
        disabled,
    };
    (progress, "retrying")
}

/// What one POST to the receiver came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    /// Why it is not a success; `None` for a 2xx.
    pub error: Option<String>,
}

/// The body of a delivery: the webhook type, the event's time and the event exactly as the event
/// stream sends it (`data` is [`event_json::wire`] byte for byte).
pub fn body(webhook_type: &str, event: &EventRow) -> String {
    let ty = serde_json::Value::from(webhook_type).to_string();
    let at = serde_json::Value::from(rfc3339(event.at)).to_string();
    format!(r#"{{"type":{ty},"timestamp":{at},"data":{}}}"#, event_json::wire(event))
}

/// The secrets that sign at `now`: the current one, and the previous one during its overlap.
fn signing_secrets(endpoint: &WebhookRow, now: i64) -> Vec<&str> {
    let previous = endpoint.previous_secret.as_ref().filter(|(_, until)| *until > now).map(|(s, _)| s.as_str());
    std::iter::once(endpoint.secret.as_str()).chain(previous).collect()
}

/// Posts `event` as `webhook_type` to `endpoint` once, signed with the secrets valid at `now`.
pub async fn post(
    client: &reqwest::Client,
    endpoint: &WebhookRow,
    event: &EventRow,
    webhook_type: &str,
    now: i64,
    allow_private: bool,
) -> Posted {
    let started = Instant::now();
    let elapsed = |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    // A host given as an address is never resolved, so the resolver's check does not see it.
    let url = match target::check_form(&endpoint.url, allow_private) {
        Ok(url) => url,
        Err(e) => return Posted { status_code: None, latency_ms: 0, error: Some(e.to_string()) },
    };
    if let Some(ip) = url.host_str().and_then(|h| h.trim_matches(['[', ']']).parse().ok())
        && let Err(e) = target::check_addr(url.host_str().unwrap_or_default(), ip, allow_private)
    {
        return Posted { status_code: None, latency_ms: 0, error: Some(e.to_string()) };
    }
    let id = event.id.to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let body = body(webhook_type, event);
    let signature = signing::header(&signing_secrets(endpoint, now), &id, timestamp, &body);
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status();
            let latency_ms = elapsed(started);
            let error = (!status.is_success()).then(|| match status.is_redirection() {
                true => format!("the receiver answered {status}: redirects are not followed"),
                false => format!("the receiver answered {status}"),
            });
            Posted { status_code: Some(i64::from(status.as_u16())), latency_ms, error }
        }
        Err(e) => {
            let error = if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else {
                // The chain says why (refused connection, a private address refused by the resolver).
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    text = format!("{text}: {cause}");
                    source = cause.source();
                }
                text
            };
            Posted { status_code: None, latency_ms: elapsed(started), error: Some(error) }
        }
    }
}

/// A random fraction in 0.0..1.0 for the backoff's jitter (0.5 if the OS has no randomness to give).
fn jitter() -> f64 {
    let mut bytes = [0u8; 2];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u16::from_le_bytes(bytes)) / 65_536.0,
        Err(_) => 0.5,
    }
}

/// The worker.
pub struct WebhookWorker {
    pub store: Store,
    pub clock: Clock,
    pub client: reqwest::Client,
    pub allow_private: bool,
    /// This node's name as a lease holder.
    pub holder: String,
}

impl WebhookWorker {
    /// A worker for `store` on `clock`, with its own HTTP client.
    pub fn new(store: Store, clock: Clock, allow_private: bool) -> anyhow::Result<WebhookWorker> {
        let client = target::client(allow_private, TIMEOUT)?;
        let holder = format!("webhooks-{}", uuid::Uuid::new_v4().simple());
        Ok(WebhookWorker { store, clock, client, allow_private, holder })
    }

    /// Delivers until `shutdown` turns true, then gives its leases back.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        crate::workers::poll_rounds("webhooks", POLL, Duration::from_secs(30), shutdown, || self.round()).await;
        if let Ok(endpoints) = self.store.webhooks().await {
            for endpoint in endpoints {
                // Best effort: a lease not given back runs out by itself.
                let _ = self.store.release_lease(&format!("webhook:{}", endpoint.id), &self.holder).await;
            }
        }
    }

    /// One look at every due endpoint; true when one of them has more to deliver now. The endpoints
    /// this node holds are stepped side by side, so a receiver that times out delays only itself.
    pub async fn round(&self) -> anyhow::Result<bool> {
        let mut held = Vec::new();
        for endpoint in self.store.due_webhooks(self.clock.now().0).await? {
            let lease = format!("webhook:{}", endpoint.id);
            let wall = chrono::Utc::now().timestamp_millis();
            if self.store.take_lease(&lease, &self.holder, wall, LEASE_MS).await? {
                held.push(endpoint);
            }
        }
        let steps = futures::future::join_all(held.iter().map(|e| self.step(e))).await;
        let mut more = false;
        for step in steps {
            more |= step?;
        }
        Ok(more)
    }

    /// Moves `endpoint` on by one event: past events none of its types match, or one attempt at its
    /// head. True when it moved (there may be more to do now).
    async fn step(&self, endpoint: &WebhookRow) -> anyhow::Result<bool> {
        let events = self.store.events_after(endpoint.cursor, PAGE).await?;
        let Some(last) = events.last() else { return Ok(false) };
        let head = events.iter().find_map(|e| {
            let types = event_json::webhook_types(e);
            delivered_as(&endpoint.events, &types).map(|t| (e, t.to_owned()))
        });
        let Some((event, webhook_type)) = head else {
            return Ok(self.store.skip_webhook_events(&endpoint.id, endpoint.cursor, last.id).await?);
        };
        let posted = post(&self.client, endpoint, event, &webhook_type, self.clock.now().0, self.allow_private).await;
        let now = self.clock.now().0;
        let (progress, outcome) = after_attempt(endpoint, event.id, posted.error.is_none(), now, jitter());
        let attempt = DeliveryRow {
            id: 0,
            endpoint_id: endpoint.id.clone(),
            event_id: event.id,
            event_type: webhook_type,
            attempt: endpoint.head_attempts + 1,
            outcome: outcome.to_owned(),
            status_code: posted.status_code,
            latency_ms: posted.latency_ms,
            error: posted.error.clone(),
            at: now,
            next_attempt_at: progress.next_attempt_at,
            replay: false,
        };
        let newly_disabled = progress.disabled.is_some() && endpoint.disabled.is_none();
        let disabled_event = newly_disabled.then(|| {
            let event = Event::WebhookDisabled {
                webhook_id: endpoint.id.clone(),
                url: endpoint.url.clone(),
                failing_since: Timestamp(progress.failing_since.unwrap_or(now)),
            };
            event_json::row(&event, None, None, Timestamp(now))
        });
        let recorded =
            self.store.record_webhook_attempt(endpoint.cursor, &attempt, &progress, disabled_event.as_ref()).await?;
        if !recorded {
            return Ok(false);
        }
        metrics::counter!("parley_webhook_deliveries_total", "outcome" => outcome).increment(1);
        if let Some(error) = &posted.error {
            tracing::info!(webhook = endpoint.id, event = event.id, outcome, error, "webhook delivery failed");
        }
        if newly_disabled {
            metrics::counter!("parley_webhooks_disabled_total").increment(1);
            tracing::warn!(webhook = endpoint.id, url = endpoint.url, "webhook disabled after 24 hours of failures");
        }
        Ok(outcome != "retrying")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> WebhookRow {
        WebhookRow {
            id: "wh_1".to_owned(),
            url: "https://crm.example/hook".to_owned(),
            description: String::new(),
            events: vec!["*".to_owned()],
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            previous_secret: None,
            cursor: 10,
            head_attempts: 0,
            head_failing_since: None,
            failing_since: None,
            next_attempt_at: None,
            disabled: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn retries_double_from_five_seconds_up_to_ten_minutes_less_jitter() {
        let waits: Vec<i64> = (1..=9).map(|n| retry_in(n, 0.0)).collect();
        assert_eq!(waits, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000]);
        assert_eq!(retry_in(1, 1.0), 4_000);
        assert_eq!(retry_in(30, 0.5), 540_000);
    }

    #[test]
    fn a_failing_head_is_retried_for_24_hours_then_given_up_and_the_endpoint_disabled() {
        let mut e = endpoint();
        let (p, outcome) = after_attempt(&e, 11, false, 1_000, 0.0);
        assert_eq!((outcome, p.cursor, p.head_attempts, p.next_attempt_at), ("retrying", 10, 1, Some(6_000)));
        assert_eq!((p.head_failing_since, p.failing_since, p.disabled.is_some()), (Some(1_000), Some(1_000), false));
        (e.head_attempts, e.head_failing_since, e.failing_since) =
            (p.head_attempts, p.head_failing_since, p.failing_since);
        let (p, outcome) = after_attempt(&e, 11, false, 1_000 + GIVE_UP_MS, 0.0);
        assert_eq!((outcome, p.cursor, p.head_attempts, p.next_attempt_at), ("failed", 11, 0, None));
        assert!(p.disabled.is_some(), "failing for 24 hours disables the endpoint");
        let (p, outcome) = after_attempt(&e, 11, true, 2_000, 0.0);
        assert_eq!((outcome, p.cursor, p.failing_since, p.disabled), ("delivered", 11, None, None));
    }

    #[test]
    fn an_alias_is_delivered_as_itself_and_unsubscribed_events_not_at_all() {
        let star = vec!["*".to_owned()];
        assert_eq!(delivered_as(&star, &["message", "message.received"]), Some("message.received"));
        assert_eq!(delivered_as(&star, &["chat.queued"]), Some("chat.queued"));
        let some = vec!["message".to_owned(), "chat.ended".to_owned()];
        assert_eq!(delivered_as(&some, &["message", "message.sent"]), Some("message"));
        assert_eq!(delivered_as(&some, &["chat.queued"]), None);
    }

    #[test]
    fn the_body_carries_the_event_as_the_stream_sends_it() {
        let row = EventRow {
            id: 7,
            chat_id: None,
            queue: None,
            agent: None,
            kind: "chat.queued".to_owned(),
            data: "{}".to_owned(),
            at: 0,
        };
        let body: serde_json::Value = serde_json::from_str(&body("chat.queued", &row)).unwrap();
        let data: serde_json::Value = serde_json::from_str(&event_json::wire(&row)).unwrap();
        assert_eq!(body, serde_json::json!({"type": "chat.queued", "timestamp": rfc3339(0), "data": data}));
    }
}
