//! The outbox sender: claims due outbound messages, checks consent once more, hands them to their
//! carrier and records the result. A message claimed by a sender that crashed is claimed again when its
//! lease runs out; carriers recognize a repeated message id, so nothing is sent twice.
//!
//! Throughput limits are charged once per round, for all its messages, in one transaction on the
//! shared counters ([`crate::workers::throttle`]), so the senders of several nodes together keep them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parley_carriers::{Carrier, OutboundSms, SendError};
use parley_core::chat::Purpose;
use parley_core::message::MessageStatus;
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
use crate::outbound_media::{MediaSigner, upload_id};
use crate::privacy::phone_hash;
use crate::workers::throttle::{Counters, Limit, Throttle, counters_needed};

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
    /// When unused throughput counters were last deleted (the counts themselves are in the store).
    pub throttle: Throttle,
    /// Salts the hashes of erased phones' tombstones.
    pub privacy_secret: Secret,
    /// Turns the uploads a message carries into the signed URLs its carrier fetches them from.
    pub media_signer: Arc<MediaSigner>,
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
            if let Some(before) = self.throttle.cleanup_due(self.clock.now().0)
                && let Err(e) = self.store.forget_throughput_counters(before).await
            {
                tracing::warn!(error = format!("{e:#}"), "deleting unused throughput counters failed");
            }
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

    /// One round: claims due messages and sends them. Returns how many it claimed.
    pub async fn round(&mut self) -> anyhow::Result<usize> {
        let now = self.clock.now().0;
        let elsewhere: Vec<String> =
            self.carriers.iter().filter(|(_, c)| c.sends_elsewhere()).map(|(name, _)| name.clone()).collect();
        let claimed = self.store.claim_outbox_except(now, LEASE_MS, CLAIM, &elsewhere).await?;
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
        // What each message faces before the throughput limits, in the claim's order.
        let mut gates: Vec<Gate> = Vec::with_capacity(claimed.len());
        for m in &claimed {
            // A STOP may have arrived after the message was queued: it wins.
            let gate = if opted_out.get(&m.consumer).copied().unwrap_or(false)
                && m.purpose != Purpose::OptOutConfirmation
            {
                Gate::Done(SendResult::Given {
                    status: MessageStatus::Suppressed,
                    error: "the consumer opted out".to_owned(),
                })
            } else if let Some(blocked) = E164::parse(&m.consumer).ok().and_then(|p| setup.blocked(&p).cloned())
                && m.purpose != Purpose::OptOutConfirmation
            {
                // Queued or scheduled before the phone was blocked: the block wins, as a STOP does.
                Gate::Done(SendResult::Given {
                    status: MessageStatus::Suppressed,
                    error: format!("the phone is on the blocklist ({})", blocked.reason),
                })
            } else if let Some(state) = state_of(&m.number).filter(|s| !s.is_enabled()) {
                // A number that is not enabled sends nothing; the agent sees why on the message.
                let error = format!("number {} is {}: it may not send", m.number, state.as_str());
                Gate::Done(SendResult::Given { status: MessageStatus::Failed, error })
            } else if let Some((head, due)) = heads.get(&(m.number.clone(), m.consumer.clone()))
                && *head < m.seq
                && !claimed_seqs.contains(head)
            {
                Gate::Behind { retry_at: (*due).max(now + 100) }
            } else {
                Gate::Limits { limits: self.limits(&setup, m), cost: segment::count(&m.body).segments.max(1) as f64 }
            };
            gates.push(gate);
        }
        // The limits are charged for the whole round in one transaction, whichever node counts next.
        let specs = counters_needed(
            gates.iter().flat_map(|g| match g {
                Gate::Limits { limits, .. } => limits.as_slice(),
                _ => &[],
            }),
            now,
        );
        let decided = if specs.is_empty() {
            admit(&claimed, &gates, now, |_, _| Ok(()))
        } else {
            let charged = self
                .store
                .charge_throughput(
                    &specs,
                    now,
                    |body| segment::count(body).segments.max(1) as i64,
                    |rows| {
                        let mut counters = Counters::from_rows(rows);
                        let decided = admit(&claimed, &gates, now, |limits, cost| counters.take(limits, cost, now));
                        counters.write_to(rows);
                        decided
                    },
                )
                .await;
            match charged {
                Ok(decided) => decided,
                Err(e) => {
                    // Sending without the shared counts could overrun a carrier's limit: what is
                    // limited waits a second, the rest goes.
                    tracing::warn!(error = format!("{e:#}"), "charging the throughput limits failed");
                    admit(&claimed, &gates, now, |limits, _| if limits.is_empty() { Ok(()) } else { Err(1000) })
                }
            }
        };
        let (mut results, admitted) = decided;
        let mut by_carrier: BTreeMap<&str, Vec<&MessageRow>> = BTreeMap::new();
        for m in admitted {
            by_carrier.entry(m.carrier.as_str()).or_default().push(m);
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
                if let Some(refused) = media_refused(m, name, carrier.as_ref()) {
                    results.push((m, refused));
                    continue;
                }
                match to_sms(m, &self.media_signer, now) {
                    Some(sms) => sendable.push((m, sms)),
                    None => results.push((
                        m,
                        SendResult::Given {
                            status: MessageStatus::Failed,
                            error: "stored phone number is not E.164".to_owned(),
                        },
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
                            status: if accepted.delivered { MessageStatus::Delivered } else { MessageStatus::Sent },
                            provider_id: Some(accepted.provider_id),
                        },
                        Err(SendError::Throttled { retry_after_ms }) => SendResult::Deferred {
                            retry_at: now + retry_after_ms.max(100),
                            reason: "throttled by the carrier".to_owned(),
                        },
                        Err(SendError::Transient(e)) => retry_or_give(m, now, e),
                        Err(e @ SendError::Permanent { .. }) => {
                            SendResult::Given { status: MessageStatus::Failed, error: e.to_string() }
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

/// What one claimed message faces before it may go to its carrier.
enum Gate {
    /// Decided already (suppressed, or its number may not send).
    Done(SendResult),
    /// An earlier message of its conversation waits outside this claim (a retry or a rate limit).
    Behind { retry_at: i64 },
    /// It goes if these limits have room for its segments.
    Limits { limits: Vec<Limit>, cost: f64 },
}

/// Decides, in the claim's order, which messages go: `take` charges a message's limits (or says how
/// long to wait). Once a message of a conversation waits, the later ones of that conversation wait too
/// and charge nothing: a phone gets its messages in the order they were written. Returns the results
/// of the messages that do not go, and those that go.
fn admit<'m>(
    claimed: &'m [MessageRow],
    gates: &[Gate],
    now: i64,
    mut take: impl FnMut(&[Limit], f64) -> Result<(), i64>,
) -> (Vec<(&'m MessageRow, SendResult)>, Vec<&'m MessageRow>) {
    let mut results = Vec::new();
    let mut admitted = Vec::new();
    let mut held: HashMap<(&str, &str), i64> = HashMap::new();
    let waiting =
        |retry_at: i64| SendResult::Deferred { retry_at, reason: "waiting for an earlier message".to_owned() };
    for (m, gate) in claimed.iter().zip(gates) {
        let pair = (m.number.as_str(), m.consumer.as_str());
        match gate {
            Gate::Done(result) => results.push((m, result.clone())),
            Gate::Behind { retry_at } => {
                held.insert(pair, *retry_at);
                results.push((m, waiting(*retry_at)));
            }
            Gate::Limits { limits, cost } => {
                if let Some(retry_at) = held.get(&pair) {
                    results.push((m, waiting(*retry_at)));
                    continue;
                }
                match take(limits, *cost) {
                    Ok(()) => admitted.push(m),
                    Err(wait_ms) => {
                        held.insert(pair, now + wait_ms);
                        let reason = "rate limit".to_owned();
                        results.push((m, SendResult::Deferred { retry_at: now + wait_ms, reason }));
                    }
                }
            }
        }
    }
    (results, admitted)
}

/// What the agents should hear about a message after a round (nothing for a message merely waiting).
fn outcome(m: &MessageRow, r: &SendResult) -> Option<SendOutcome> {
    let (status, provider_id, error) = match r {
        SendResult::Accepted { status, provider_id } => (*status, provider_id.clone(), None),
        SendResult::Given { status, error } => (*status, None, Some(error.clone())),
        SendResult::Retry { error, .. } => (MessageStatus::Queued, None, Some(error.clone())),
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
        return SendResult::Given { status: MessageStatus::Failed, error };
    }
    let base = 1000_i64 << m.attempts.clamp(0, 10);
    // The jitter is derived from the message id: spread across messages, stable for one message.
    let spread = m.id.bytes().fold(0_u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 41;
    let jittered = base * (80 + i64::from(spread)) / 100;
    SendResult::Retry { retry_at: now + jittered, error }
}

/// A message with media for a carrier that carries none fails with the reason. The API refuses such
/// a send; this catches one whose number moved to an SMPP account since, so it never goes out
/// without its media.
fn media_refused(m: &MessageRow, account: &str, carrier: &dyn Carrier) -> Option<SendResult> {
    (!m.media.is_empty() && !carrier.carries_media()).then(|| SendResult::Given {
        status: MessageStatus::Failed,
        error: format!(
            "carrier account \"{account}\" is SMPP, which carries text only: a message with media cannot be sent through it"
        ),
    })
}

/// The message as its carrier gets it: each upload it carries as a signed URL valid from `now`.
fn to_sms(m: &MessageRow, signer: &MediaSigner, now: i64) -> Option<OutboundSms> {
    Some(OutboundSms {
        id: m.id.clone(),
        from: BusinessNumber::parse(&m.number).ok()?,
        to: E164::parse(&m.consumer).ok()?,
        body: m.body.clone(),
        media: m
            .media
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(|url| upload_id(url).map_or_else(|| url.to_owned(), |id| signer.url(id, now)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use parley_carriers::{Accepted, BoxFuture};

    use super::*;

    /// A carrier that carries text only, as SMPP does.
    struct TextOnly;

    impl Carrier for TextOnly {
        fn send<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Vec<Result<Accepted, SendError>>> {
            Box::pin(async move { messages.iter().map(|_| Err(SendError::Transient("unused".into()))).collect() })
        }

        fn carries_media(&self) -> bool {
            false
        }
    }

    fn message(media: &str) -> MessageRow {
        MessageRow {
            media: media.to_owned(),
            ..MessageRow::outbound("m1", "+15550001000", "+14155550100", "smsc", "api", "see", 0)
        }
    }

    #[test]
    fn media_never_goes_to_a_carrier_that_carries_text_only() {
        let refused = media_refused(&message("/api/v1/media/u1"), "smsc", &TextOnly);
        assert!(
            matches!(&refused, Some(SendResult::Given { status: MessageStatus::Failed, error }) if error.contains("SMPP")),
            "{refused:?}"
        );
        assert!(media_refused(&message(""), "smsc", &TextOnly).is_none(), "a text goes");
    }

    #[test]
    fn uploads_go_to_the_carrier_as_signed_urls_and_other_urls_unchanged() {
        let signer = MediaSigner::new(b"k".to_vec(), Some("https://sms.example.com"));
        let sms = to_sms(&message("/api/v1/media/u1\nhttps://elsewhere.example/x.jpg"), &signer, 1_800_000_000_000)
            .expect("a sendable message");
        assert_eq!(sms.media[0], signer.url("u1", 1_800_000_000_000));
        assert!(sms.media[0].starts_with("https://sms.example.com/media/u1?expires="), "{:?}", sms.media);
        assert_eq!(sms.media[1], "https://elsewhere.example/x.jpg");
    }
}
