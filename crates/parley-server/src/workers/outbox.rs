//! The outbox sender: claims due outbound messages, checks consent once more, hands them to their
//! carrier and records the result. A message claimed by a sender that crashed is claimed again when its
//! lease runs out; carriers recognize a repeated message id, so nothing is sent twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parley_carriers::{Carrier, OutboundSms, SendError};
use parley_core::number::NumberState;
use parley_core::phone::{BusinessNumber, E164};
use parley_core::setup::Setup;
use parley_core::text::segment;
use parley_store::Store;
use parley_store::messages::SendResult;
use parley_store::rows::MessageRow;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::Secret;
use crate::engine::{Engine, SendOutcome};
use crate::privacy::phone_hash;
use crate::workers::throttle::{Limit, Throttle};

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
    /// Segments per second each carrier account accepts, by account name (none: unlimited).
    pub carrier_rates: BTreeMap<String, f64>,
    pub engine: Engine,
    pub wake: Arc<Notify>,
    pub throttle: Throttle,
    /// Salts the hashes of erased phones' tombstones.
    pub privacy_secret: Secret,
}

impl OutboxSender {
    /// Sends until `shutdown` turns true, then finishes the round in hand.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.round().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = format!("{e:#}"), "outbox round failed"),
            }
            if *shutdown.borrow() {
                break;
            }
            self.throttle.forget_idle(self.clock.now().0);
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("outbox sender stopped");
    }

    /// The limits a message must pass: its sender number's, its campaign's and its carrier account's.
    fn limits(&self, setup: &Setup, m: &MessageRow) -> Vec<Limit> {
        let mut limits = Vec::new();
        let number = BusinessNumber::parse(&m.number).ok().and_then(|n| setup.number(&n));
        if let Some(n) = number {
            let extra = setup.registration(&n.number);
            let limit = Limit {
                key: format!("number:{}", m.number),
                per_second: n.segments_per_second,
                per_minute: extra.and_then(|r| r.segments_per_minute),
                per_day: extra.and_then(|r| r.segments_per_day),
                numbers: vec![m.number.clone()],
            };
            if limit.per_second.is_some() || limit.per_minute.is_some() || limit.per_day.is_some() {
                limits.push(limit);
            }
        }
        if let Some(c) = number.and_then(|n| n.campaign.as_ref()).and_then(|c| setup.campaign(c))
            && (c.segments_per_second.is_some() || c.segments_per_minute.is_some() || c.segments_per_day.is_some())
        {
            limits.push(Limit {
                key: format!("campaign:{}", c.id),
                per_second: c.segments_per_second,
                per_minute: c.segments_per_minute,
                per_day: c.segments_per_day,
                numbers: setup
                    .numbers
                    .iter()
                    .filter(|n| n.campaign.as_ref() == Some(&c.id))
                    .map(|n| n.number.to_string())
                    .collect(),
            });
        }
        if let Some(per_second) = self.carrier_rates.get(&m.carrier) {
            limits.push(Limit {
                key: format!("carrier:{}", m.carrier),
                per_second: Some(*per_second),
                ..Limit::default()
            });
        }
        limits
    }

    /// Seeds the per-minute and per-day windows this sender has not seen yet with what their numbers
    /// sent in them already (before a restart, or by a sender that stopped), so a restart does not
    /// hand out a day's allowance twice.
    async fn seed_windows(&mut self, limits: &[Limit], now: i64) -> anyhow::Result<()> {
        for seed in self.throttle.unseeded(limits, now) {
            let used = self
                .store
                .sent_segments_since(&seed.numbers, seed.since, |body| segment::count(body).segments.max(1) as i64)
                .await?;
            self.throttle.seed(&seed, used as f64);
        }
        Ok(())
    }

    /// One round: claims due messages and sends them. Returns how many it claimed.
    pub async fn round(&mut self) -> anyhow::Result<usize> {
        let now = self.clock.now().0;
        let claimed = self.store.claim_outbox(now, LEASE_MS, CLAIM).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let setup = self.engine.setup();
        let phones: Vec<String> = claimed.iter().map(|m| m.consumer.clone()).collect();
        let mut opted_out: HashMap<String, bool> =
            self.store.consents(&phones).await?.into_iter().map(|c| (c.phone, c.opted_out)).collect();
        // A phone without a consent row may have been erased after opting out: its tombstone counts.
        let unknown: Vec<(String, String)> = phones
            .iter()
            .filter(|p| !opted_out.contains_key(*p))
            .filter_map(|p| E164::parse(p).ok().map(|e| (phone_hash(self.privacy_secret.expose(), &e), p.clone())))
            .collect();
        if !unknown.is_empty() {
            let hashes: Vec<String> = unknown.iter().map(|(h, _)| h.clone()).collect();
            let erased = self.store.erased_opt_outs(&hashes).await?;
            for (hash, phone) in unknown {
                if erased.contains(&hash) {
                    opted_out.insert(phone, true);
                }
            }
        }
        // The oldest unsent message of each conversation: one waiting outside this claim (a retry or
        // a rate limit) holds back the later ones.
        let heads: HashMap<(String, String), (i64, i64)> = self
            .store
            .outbox_heads(&phones)
            .await?
            .into_iter()
            .map(|(number, consumer, seq, due)| ((number, consumer), (seq, due)))
            .collect();
        let claimed_seqs: std::collections::HashSet<i64> = claimed.iter().map(|m| m.seq).collect();
        let senders: Vec<String> =
            claimed.iter().map(|m| m.number.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let stored_states: HashMap<String, NumberState> = self
            .store
            .number_states(&senders)
            .await?
            .into_iter()
            .filter_map(|r| NumberState::parse(&r.state).map(|s| (r.number, s)))
            .collect();
        let state_of = |number: &str| {
            stored_states.get(number).copied().or_else(|| {
                BusinessNumber::parse(number).ok().and_then(|n| setup.number(&n).map(|n| n.kind.initial_state()))
            })
        };
        let mut results: Vec<(&MessageRow, SendResult)> = Vec::with_capacity(claimed.len());
        let mut by_carrier: BTreeMap<&str, Vec<&MessageRow>> = BTreeMap::new();
        // Once a message of a conversation waits, the later ones of that conversation wait too: a
        // phone gets its messages in the order they were written.
        let mut held: HashMap<(&str, &str), i64> = HashMap::new();
        for m in &claimed {
            let pair = (m.number.as_str(), m.consumer.as_str());
            // A STOP may have arrived after the message was queued: it wins.
            if opted_out.get(&m.consumer).copied().unwrap_or(false) && m.purpose != "opt_out_confirmation" {
                results
                    .push((m, SendResult::Given { status: "suppressed", error: "the consumer opted out".to_owned() }));
                continue;
            }
            // A number that is not enabled sends nothing; the agent sees why on the message.
            if let Some(state) = state_of(&m.number).filter(|s| !s.is_enabled()) {
                let error = format!("number {} is {}: it may not send", m.number, state.as_str());
                results.push((m, SendResult::Given { status: "failed", error }));
                continue;
            }
            if let Some((head, due)) = heads.get(&(m.number.clone(), m.consumer.clone()))
                && *head < m.seq
                && !claimed_seqs.contains(head)
            {
                let retry_at = (*due).max(now + 100);
                held.insert(pair, retry_at);
                let reason = "waiting for an earlier message".to_owned();
                results.push((m, SendResult::Deferred { retry_at, reason }));
                continue;
            }
            if let Some(retry_at) = held.get(&pair) {
                let reason = "waiting for an earlier message".to_owned();
                results.push((m, SendResult::Deferred { retry_at: *retry_at, reason }));
                continue;
            }
            let cost = segment::count(&m.body).segments.max(1) as f64;
            let limits = self.limits(&setup, m);
            if let Err(e) = self.seed_windows(&limits, now).await {
                // Sending without knowing today's count could overrun a carrier's daily cap: wait.
                tracing::warn!(error = format!("{e:#}"), "counting the segments already sent failed");
                held.insert(pair, now + 1000);
                results.push((m, SendResult::Deferred { retry_at: now + 1000, reason: "rate limit".to_owned() }));
                continue;
            }
            match self.throttle.take(&limits, cost, now) {
                Ok(()) => by_carrier.entry(m.carrier.as_str()).or_default().push(m),
                Err(wait_ms) => {
                    held.insert(pair, now + wait_ms);
                    results
                        .push((m, SendResult::Deferred { retry_at: now + wait_ms, reason: "rate limit".to_owned() }));
                }
            }
        }
        for (name, messages) in by_carrier {
            let Some(carrier) = self.carriers.get(name) else {
                for m in messages {
                    results.push((m, retry_or_give(m, now, format!("carrier account \"{name}\" is not configured"))));
                }
                continue;
            };
            let mut sendable = Vec::new();
            for m in messages {
                match to_sms(m) {
                    Some(sms) => sendable.push((m, sms)),
                    None => results.push((
                        m,
                        SendResult::Given { status: "failed", error: "stored phone number is not E.164".to_owned() },
                    )),
                }
            }
            // Waves: the first message of every conversation, then the second, ... A conversation whose
            // message did not go stops there, so no later message overtakes it.
            let mut waves: Vec<Vec<(&MessageRow, OutboundSms)>> = Vec::new();
            let mut depth: HashMap<(&str, &str), usize> = HashMap::new();
            for (m, sms) in sendable {
                let k = depth.entry((m.number.as_str(), m.consumer.as_str())).or_insert(0);
                if waves.len() <= *k {
                    waves.push(Vec::new());
                }
                waves[*k].push((m, sms));
                *k += 1;
            }
            let mut stopped: HashMap<(&str, &str), i64> = HashMap::new();
            for wave in waves {
                let (go, wait): (Vec<_>, Vec<_>) = wave
                    .into_iter()
                    .partition(|(m, _)| !stopped.contains_key(&(m.number.as_str(), m.consumer.as_str())));
                for (m, _) in wait {
                    let retry_at = stopped.get(&(m.number.as_str(), m.consumer.as_str())).copied().unwrap_or(now + 100);
                    let reason = "waiting for an earlier message".to_owned();
                    results.push((m, SendResult::Deferred { retry_at, reason }));
                }
                let sms: Vec<OutboundSms> = go.iter().map(|(_, s)| s.clone()).collect();
                let outcomes = carrier.send(&sms).await;
                for ((m, _), outcome) in go.into_iter().zip(outcomes) {
                    let result = match outcome {
                        Ok(accepted) => SendResult::Accepted {
                            status: if accepted.delivered { "delivered" } else { "sent" },
                            provider_id: Some(accepted.provider_id),
                        },
                        Err(SendError::Throttled { retry_after_ms }) => SendResult::Deferred {
                            retry_at: now + retry_after_ms.max(100),
                            reason: "throttled by the carrier".to_owned(),
                        },
                        Err(SendError::Transient(e)) => retry_or_give(m, now, e),
                        Err(e @ SendError::Permanent { .. }) => {
                            SendResult::Given { status: "failed", error: e.to_string() }
                        }
                    };
                    if let SendResult::Deferred { retry_at, .. } | SendResult::Retry { retry_at, .. } = &result {
                        stopped.insert((m.number.as_str(), m.consumer.as_str()), *retry_at);
                    }
                    results.push((m, result));
                }
            }
        }
        let sent = results.iter().filter(|(_, r)| matches!(r, SendResult::Accepted { .. })).count();
        metrics::counter!("parley_outbound_messages_total").increment(sent as u64);
        let rows: Vec<(i64, SendResult)> = results.iter().map(|(m, r)| (m.seq, r.clone())).collect();
        self.store.finish_outbox(&rows, self.clock.now().0).await?;
        let outcomes: Vec<SendOutcome> = results.iter().filter_map(|(m, r)| outcome(m, r)).collect();
        self.engine.sent(outcomes).await?;
        Ok(claimed.len())
    }
}

/// What the agents should hear about a message after a round (nothing for a message merely waiting).
fn outcome(m: &MessageRow, r: &SendResult) -> Option<SendOutcome> {
    let (status, provider_id, error) = match r {
        SendResult::Accepted { status, provider_id } => (status.to_string(), provider_id.clone(), None),
        SendResult::Given { status, error } => (status.to_string(), None, Some(error.clone())),
        SendResult::Retry { error, .. } => ("queued".to_owned(), None, Some(error.clone())),
        SendResult::Deferred { .. } => return None,
    };
    Some(SendOutcome {
        seq: m.seq,
        message_id: m.id.clone(),
        chat_id: m.chat_id.clone(),
        carrier: m.carrier.clone(),
        status,
        provider_id,
        error,
    })
}

/// Exponential backoff (1 s, 2 s, 4 s, ... up to about 17 min) with ±20 % jitter, so messages that
/// failed together do not all come back at the same instant; after the last attempt, given up.
fn retry_or_give(m: &MessageRow, now: i64, error: String) -> SendResult {
    if m.attempts >= MAX_ATTEMPTS {
        return SendResult::Given { status: "failed", error };
    }
    let base = 1000_i64 << m.attempts.clamp(0, 10);
    // The jitter is derived from the message id: spread across messages, stable for one message.
    let spread = m.id.bytes().fold(0_u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 41;
    let jittered = base * (80 + i64::from(spread)) / 100;
    SendResult::Retry { retry_at: now + jittered, error }
}

fn to_sms(m: &MessageRow) -> Option<OutboundSms> {
    Some(OutboundSms {
        id: m.id.clone(),
        from: BusinessNumber::parse(&m.number).ok()?,
        to: E164::parse(&m.consumer).ok()?,
        body: m.body.clone(),
        media: m.media.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    })
}
