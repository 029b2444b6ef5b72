//! The outbox sender: claims due outbound messages, checks consent once more, hands them to their
//! carrier and records the result. A message claimed by a sender that crashed is claimed again when its
//! lease runs out; carriers recognize a repeated message id, so nothing is sent twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parley_carriers::{Carrier, OutboundSms, SendError};
use parley_core::phone::E164;
use parley_store::Store;
use parley_store::messages::SendResult;
use parley_store::rows::MessageRow;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;

/// How long a claim lasts before another sender may take the message over.
const LEASE_MS: i64 = 60_000;
/// Messages claimed per round.
const CLAIM: i64 = 500;
/// Attempts before a message that keeps failing is given up.
const MAX_ATTEMPTS: i64 = 8;
/// How often an idle sender looks for retries that came due.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// The carriers by account name.
pub type Carriers = Arc<BTreeMap<String, Arc<dyn Carrier>>>;

/// The sender.
pub struct OutboxSender {
    pub store: Store,
    pub clock: Clock,
    pub carriers: Carriers,
    pub wake: Arc<Notify>,
}

impl OutboxSender {
    /// Sends until `shutdown` turns true, then finishes the round in hand.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.round().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = format!("{e:#}"), "outbox round failed"),
            }
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("outbox sender stopped");
    }

    /// One round: claims due messages and sends them. Returns how many it handled.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let now = self.clock.now().0;
        let claimed = self.store.claim_outbox(now, LEASE_MS, CLAIM).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let phones: Vec<String> = claimed.iter().map(|m| m.consumer.clone()).collect();
        let opted_out: HashMap<String, bool> =
            self.store.consents(&phones).await?.into_iter().map(|c| (c.phone, c.opted_out)).collect();
        let mut results = Vec::with_capacity(claimed.len());
        let mut by_carrier: BTreeMap<&str, Vec<&MessageRow>> = BTreeMap::new();
        for m in &claimed {
            // A STOP may have arrived after the message was queued: it wins.
            if opted_out.get(&m.consumer).copied().unwrap_or(false) && m.purpose != "opt_out_confirmation" {
                results.push((
                    m.seq,
                    SendResult::Given { status: "suppressed", error: "the consumer opted out".to_owned() },
                ));
            } else {
                by_carrier.entry(m.carrier.as_str()).or_default().push(m);
            }
        }
        for (name, messages) in by_carrier {
            let Some(carrier) = self.carriers.get(name) else {
                for m in messages {
                    results
                        .push((m.seq, retry_or_give(m, now, format!("carrier account \"{name}\" is not configured"))));
                }
                continue;
            };
            let mut sendable = Vec::new();
            for m in messages {
                match to_sms(m) {
                    Some(sms) => sendable.push((m, sms)),
                    None => results.push((
                        m.seq,
                        SendResult::Given { status: "failed", error: "stored phone number is not E.164".to_owned() },
                    )),
                }
            }
            let sms: Vec<OutboundSms> = sendable.iter().map(|(_, s)| s.clone()).collect();
            let outcomes = carrier.send(&sms).await;
            for ((m, _), outcome) in sendable.into_iter().zip(outcomes) {
                let result = match outcome {
                    Ok(accepted) => SendResult::Accepted {
                        status: if accepted.delivered { "delivered" } else { "sent" },
                        provider_id: Some(accepted.provider_id),
                    },
                    Err(SendError::Throttled { retry_after_ms }) => SendResult::Retry {
                        retry_at: now + retry_after_ms,
                        error: "throttled by the carrier".to_owned(),
                    },
                    Err(SendError::Transient(e)) => retry_or_give(m, now, e),
                    Err(e @ SendError::Permanent { .. }) => {
                        SendResult::Given { status: "failed", error: e.to_string() }
                    }
                };
                results.push((m.seq, result));
            }
        }
        let sent = results.iter().filter(|(_, r)| matches!(r, SendResult::Accepted { .. })).count();
        metrics::counter!("parley_outbound_messages_total").increment(sent as u64);
        self.store.finish_outbox(&results, self.clock.now().0).await?;
        Ok(claimed.len())
    }
}

/// Exponential backoff (1 s, 2 s, 4 s, ...) until the attempts run out.
fn retry_or_give(m: &MessageRow, now: i64, error: String) -> SendResult {
    if m.attempts >= MAX_ATTEMPTS {
        SendResult::Given { status: "failed", error }
    } else {
        SendResult::Retry { retry_at: now + 1000 * (1 << m.attempts.clamp(0, 10)), error }
    }
}

fn to_sms(m: &MessageRow) -> Option<OutboundSms> {
    Some(OutboundSms {
        id: m.id.clone(),
        from: E164::parse(&m.number).ok()?,
        to: E164::parse(&m.consumer).ok()?,
        body: m.body.clone(),
        media: m.media.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    })
}
