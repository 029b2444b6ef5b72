//! CRM connectors (`[crm.NAME]` in `parley.toml`; docs/crm.md "Connectors"): every record change of
//! the built-in CRM goes to each connector through a durable queue, so a CRM outage never blocks a
//! chat (the engine writes events and never waits for a connector).
//!
//! The queue (`parley_store::crm`): under the lease `crm:{name}` (one node works a connector at a
//! time), a round reads the events after the connector's cursor, turns those that are record changes
//! ([`record::change_of`]) into delivery rows in the transaction that moves the cursor, then attempts
//! the connector's head (its oldest delivery not yet delivered or failed). Changes go out in order: a
//! failing head holds the ones behind it, which is what "pending updates applied, none lost" needs.
//! A 2xx answer delivers; 408, 429, 5xx, timeouts and unreachable CRMs are retried with a doubling
//! backoff with jitter ([`webhooks::retry_in`](super::webhooks::retry_in)), 429 after the wait the CRM
//! asked for; any other answer fails the delivery at once (kept with the answer's body for the admins,
//! replayable). After [`GIVE_UP_ATTEMPTS`] (about a day of retries) a delivery fails too, so one
//! poisoned change cannot hold a connector forever.
//!
//! Idempotency: every change carries the key `{connector}-{event_id}` (the webhook kind's
//! `webhook-id`); the HubSpot kind keeps the ids of what it created (the contact in
//! `contact_external_ids`, the record's note in `crm_objects`) as soon as HubSpot answers, and
//! searches before it creates a contact, so a retry after a crash updates instead of creating twice.
//!
//! Time: backoff runs on the server's clock (tests move it); leases on the wall clock, as the
//! webhooks' do.

pub mod hubspot;
pub mod record;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use parley_store::Store;
use parley_store::crm::{CrmDeliveryRow, CrmOutcome};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::{Config, CrmConfig};
use crate::outbound_media::MediaSigner;
pub use record::RecordChange;

/// How long a CRM has to answer one request.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts after which a change that keeps failing is given up (the backoff reaches its ten-minute
/// ceiling after eight; this is about 24 hours of retries).
pub const GIVE_UP_ATTEMPTS: i64 = 150;
/// The longest wait a CRM's rate-limit answer may impose before the next attempt.
const MAX_RATE_LIMIT_WAIT_MS: i64 = 3_600_000;
/// How long a node holds a connector without renewing (every round renews it).
const LEASE_MS: i64 = 60_000;
/// Events read per look after the cursor.
const PAGE: i64 = 200;
/// The pause between rounds that found nothing to do.
const POLL: Duration = Duration::from_millis(200);
/// The most of a CRM's answer kept with a delivery.
pub const EXCERPT_CHARS: usize = 2_000;

/// What one attempt at a change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    Delivered {
        status: Option<i64>,
    },
    /// Try again later: after `wait_ms` when the CRM said how long (a 429), else after the backoff.
    Retry {
        status: Option<i64>,
        error: String,
        body: Option<String>,
        wait_ms: Option<i64>,
    },
    /// Refused for good (a 4xx other than 408 and 429, or a change that cannot be sent).
    Refused {
        status: Option<i64>,
        error: String,
        body: Option<String>,
    },
}

impl Attempted {
    /// A change that cannot be sent, for a reason of Parley's own.
    pub fn refused(error: impl Into<String>) -> Attempted {
        Attempted::Refused { status: None, error: error.into(), body: None }
    }

    /// How an HTTP answer with `status` is taken: 2xx delivered; 408, 429 and 5xx retried; the rest
    /// (redirects are not followed) refused. `wait_ms` is the rate-limit wait the answer asked for.
    pub fn of_status(status: u16, body: String, wait_ms: Option<i64>) -> Attempted {
        let code = Some(i64::from(status));
        let body = (!body.is_empty()).then(|| excerpt(&body));
        match status {
            200..=299 => Attempted::Delivered { status: code },
            408 | 429 | 500..=599 => {
                Attempted::Retry { status: code, error: format!("the CRM answered {status}"), body, wait_ms }
            }
            _ => Attempted::Refused { status: code, error: format!("the CRM answered {status}"), body },
        }
    }

    /// A request that got no answer (refused connection, timeout, refused address): retried.
    pub fn unreachable(e: &reqwest::Error) -> Attempted {
        let error = if e.is_timeout() {
            format!("no answer within {} s", TIMEOUT.as_secs())
        } else {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        };
        Attempted::Retry { status: None, error, body: None, wait_ms: None }
    }
}

/// The start of a CRM's answer, at most [`EXCERPT_CHARS`] characters.
pub fn excerpt(body: &str) -> String {
    body.chars().take(EXCERPT_CHARS).collect()
}

/// One CRM: turns one record change into calls on it. Implementations keep whatever they need to
/// stay idempotent (see the module docs); the worker owns ordering, retries and the record of attempts.
pub trait Connector: Send + Sync {
    /// Whether this connector wants changes of type `change` (all, unless configured otherwise).
    fn wants(&self, change: &str) -> bool;

    /// Sends `change` once.
    fn deliver<'a>(&'a self, change: &'a RecordChange) -> BoxFuture<'a, Attempted>;
}

/// Where `d` stands after `attempted` at `now`.
pub fn after_attempt(d: &CrmDeliveryRow, attempted: &Attempted, now: i64, jitter: f64) -> CrmDeliveryRow {
    let mut next = d.clone();
    next.attempts = d.attempts + 1;
    next.updated_at = now;
    match attempted {
        Attempted::Delivered { status } => {
            (next.outcome, next.status_code, next.error, next.next_attempt_at) =
                (CrmOutcome::Delivered, *status, None, None);
        }
        Attempted::Refused { status, error, body } => {
            (next.outcome, next.status_code, next.error, next.body_excerpt, next.next_attempt_at) =
                (CrmOutcome::Failed, *status, Some(error.clone()), body.clone(), None);
        }
        Attempted::Retry { status, error, body, wait_ms } => {
            (next.status_code, next.error, next.body_excerpt) = (*status, Some(error.clone()), body.clone());
            if next.attempts >= GIVE_UP_ATTEMPTS {
                next.outcome = CrmOutcome::Failed;
                next.next_attempt_at = None;
                next.error = Some(format!("{error} (given up after {} attempts)", next.attempts));
            } else {
                let backoff = super::webhooks::retry_in(next.attempts, jitter);
                let wait = wait_ms.map_or(backoff, |w| w.clamp(0, MAX_RATE_LIMIT_WAIT_MS));
                next.outcome = CrmOutcome::Retrying;
                next.next_attempt_at = Some(now + wait);
            }
        }
    }
    next
}

/// A random fraction in 0.0..1.0 for the backoff's jitter (0.5 if the OS has no randomness to give).
fn jitter() -> f64 {
    let mut bytes = [0u8; 2];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u16::from_le_bytes(bytes)) / 65_536.0,
        Err(_) => 0.5,
    }
}

/// A configured connector.
pub struct Configured {
    pub name: String,
    pub connector: Arc<dyn Connector>,
}

/// Checks the `[crm.NAME]` tables before start-up: names are slugs, targets follow the webhooks'
/// address rule in form (the addresses are checked at every request), a webhook has a valid secret.
pub fn check(config: &Config) -> anyhow::Result<()> {
    for (name, crm) in &config.crm {
        anyhow::ensure!(
            crate::config::is_connector_name(name),
            "[crm.{name}]: a connector's name is a slug: lower-case letters, digits, - and _, a letter first"
        );
        super::webhooks::target::check_form(crm.target(), config.webhooks_allow_private)
            .map_err(|e| anyhow::anyhow!("[crm.{name}]: {e}"))?;
        if let CrmConfig::Webhook { secret, .. } = crm {
            let valid =
                secret.as_ref().is_some_and(|s| super::webhooks::signing::sign(s.expose(), "check", 0, "").is_some());
            if !valid {
                let fresh = super::webhooks::signing::new_secret()?;
                anyhow::bail!(
                    "[crm.{name}]: a webhook connector needs secret = \"whsec_...\" (base64 after whsec_); \
                     here is a new one to paste: secret = \"{fresh}\""
                );
            }
        }
    }
    Ok(())
}

/// The connectors of `config`, each with its HTTP client.
pub fn connectors(config: &Config, store: &Store, clock: &Clock) -> anyhow::Result<Vec<Configured>> {
    let mut out = Vec::new();
    for (name, crm) in &config.crm {
        let client = super::webhooks::target::client(config.webhooks_allow_private, TIMEOUT)?;
        let connector: Arc<dyn Connector> = match crm {
            CrmConfig::Webhook { url, secret, events } => Arc::new(webhook::WebhookConnector {
                name: name.clone(),
                url: url.clone(),
                secret: secret.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default(),
                events: events.clone(),
                client,
                allow_private: config.webhooks_allow_private,
            }),
            CrmConfig::Hubspot { token, api_base } => Arc::new(hubspot::HubSpot {
                name: name.clone(),
                token: token.clone(),
                api_base: api_base
                    .as_deref()
                    .unwrap_or(crate::config::HUBSPOT_API_BASE)
                    .trim_end_matches('/')
                    .to_owned(),
                client,
                store: store.clone(),
                clock: clock.clone(),
                allow_private: config.webhooks_allow_private,
            }),
        };
        out.push(Configured { name: name.clone(), connector });
    }
    Ok(out)
}

/// The worker: feeds and delivers every configured connector.
pub struct CrmWorker {
    pub store: Store,
    pub clock: Clock,
    pub connectors: Vec<Configured>,
    pub media_signer: Arc<MediaSigner>,
    /// This node's name as a lease holder.
    pub holder: String,
}

impl CrmWorker {
    pub fn new(store: Store, clock: Clock, connectors: Vec<Configured>, media_signer: Arc<MediaSigner>) -> CrmWorker {
        let holder = format!("crm-{}", uuid::Uuid::new_v4().simple());
        CrmWorker { store, clock, connectors, media_signer, holder }
    }

    /// Works until `shutdown` turns true, then gives its leases back.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        if self.connectors.is_empty() {
            return;
        }
        crate::workers::poll_rounds("crm", POLL, Duration::from_secs(30), shutdown, || self.round()).await;
        for c in &self.connectors {
            // Best effort: a lease not given back runs out by itself.
            let _ = self.store.release_lease(&format!("crm:{}", c.name), &self.holder).await;
        }
    }

    /// One step of every connector this node holds, side by side (a slow CRM delays only itself);
    /// true when one of them has more to do now.
    pub async fn round(&self) -> anyhow::Result<bool> {
        let mut held = Vec::new();
        for c in &self.connectors {
            let wall = chrono::Utc::now().timestamp_millis();
            if self.store.take_lease(&format!("crm:{}", c.name), &self.holder, wall, LEASE_MS).await? {
                held.push(c);
            }
        }
        let steps = futures::future::join_all(held.iter().map(|c| self.step(c))).await;
        let mut more = false;
        for step in steps {
            more |= step?;
        }
        Ok(more)
    }

    /// Queues the connector's new changes, then makes one attempt at its head if it is due.
    async fn step(&self, c: &Configured) -> anyhow::Result<bool> {
        let fed = self.feed(c).await?;
        let Some(head) = self.store.crm_head(&c.name).await? else { return Ok(fed) };
        let now = self.clock.now().0;
        if head.next_attempt_at.is_some_and(|at| at > now) {
            return Ok(fed);
        }
        let attempted = match record::build(&self.store, &self.media_signer, &head, now).await? {
            Some(change) => c.connector.deliver(&change).await,
            None => Attempted::refused("the chat or event of this change is gone (erased or past retention)"),
        };
        let now = self.clock.now().0;
        let next = after_attempt(&head, &attempted, now, jitter());
        self.store.record_crm_attempt(&next).await?;
        metrics::counter!("parley_crm_deliveries_total", "connector" => c.name.clone(), "outcome" => next.outcome.as_str())
            .increment(1);
        if let Some(error) = &next.error {
            tracing::info!(
                connector = c.name,
                delivery = head.id,
                change = head.change,
                outcome = next.outcome.as_str(),
                error,
                "CRM delivery failed"
            );
        }
        Ok(fed || next.outcome != CrmOutcome::Retrying)
    }

    /// Moves the cursor past the next page of events, queueing the record changes among them. True
    /// when it moved.
    async fn feed(&self, c: &Configured) -> anyhow::Result<bool> {
        let cursor = self.store.crm_cursor(&c.name).await?;
        let events = self.store.events_after(cursor, PAGE).await?;
        let Some(last) = events.last() else { return Ok(false) };
        let now = self.clock.now().0;
        let mut changes = Vec::new();
        for event in &events {
            if let Some(mut d) = record::change_of(&self.store, event).await?
                && c.connector.wants(&d.change)
            {
                d.connector.clone_from(&c.name);
                d.created_at = now;
                d.updated_at = now;
                changes.push(d);
            }
        }
        Ok(self.store.feed_crm(&c.name, cursor, last.id, &changes).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued() -> CrmDeliveryRow {
        CrmDeliveryRow::new("hs", 7, "crm.record.opened", 0)
    }

    #[test]
    fn answers_are_delivered_retried_or_refused_by_status() {
        assert_eq!(Attempted::of_status(201, String::new(), None), Attempted::Delivered { status: Some(201) });
        for retried in [408, 429, 500, 503] {
            assert!(matches!(Attempted::of_status(retried, "x".into(), None), Attempted::Retry { .. }), "{retried}");
        }
        for refused in [301, 400, 401, 404, 409] {
            assert!(matches!(Attempted::of_status(refused, "x".into(), None), Attempted::Refused { .. }), "{refused}");
        }
    }

    #[test]
    fn a_retry_waits_the_backoff_or_what_the_crm_asked_and_is_given_up_at_last() {
        let retry = |wait_ms| Attempted::Retry { status: Some(500), error: "e".into(), body: None, wait_ms };
        let next = after_attempt(&queued(), &retry(None), 1_000, 0.0);
        assert_eq!((next.outcome, next.attempts, next.next_attempt_at), (CrmOutcome::Retrying, 1, Some(6_000)));
        let next = after_attempt(&next, &retry(Some(2_500)), 2_000, 0.0);
        assert_eq!((next.attempts, next.next_attempt_at), (2, Some(4_500)));
        let mut late = next.clone();
        late.attempts = GIVE_UP_ATTEMPTS - 1;
        let given_up = after_attempt(&late, &retry(None), 9_000, 0.0);
        assert_eq!((given_up.outcome, given_up.next_attempt_at), (CrmOutcome::Failed, None));
        let refused = Attempted::Refused { status: Some(400), error: "bad".into(), body: Some("{\"x\":1}".into()) };
        let failed = after_attempt(&queued(), &refused, 1_000, 0.0);
        assert_eq!((failed.outcome, failed.body_excerpt.as_deref()), (CrmOutcome::Failed, Some("{\"x\":1}")));
        let done = after_attempt(&failed, &Attempted::Delivered { status: Some(200) }, 2_000, 0.0);
        assert_eq!((done.outcome, done.error), (CrmOutcome::Delivered, None));
    }

    #[test]
    fn excerpts_are_cut_at_a_character_boundary() {
        let long = "é".repeat(EXCERPT_CHARS + 10);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS);
    }
}
