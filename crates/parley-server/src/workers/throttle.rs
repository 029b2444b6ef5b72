//! Outbound throughput limits: per sender number, per campaign and per carrier account. A message
//! passes only if every limit it is under has room: a token bucket per second, and fixed windows per
//! minute and per day.
//!
//! The limits hold for the deployment, not per node: their counts are rows in the database
//! ([`parley_store::throughput`]), and a sender charges a whole round of messages in one transaction
//! that holds the counters it needs locked ([`parley_store::Store::charge_throughput`]). This module is
//! the pure part: which counters a round needs ([`counters_needed`]), and the decisions taken on the
//! locked copy ([`Counters::take`]), one message after the other in the round's order.
//!
//! - Per second, a token bucket: it refills at its rate and holds one second's worth, so a sender never
//!   bursts past what the carrier accepts. A bucket rather than a counter per clock second: a fixed
//!   1-second window lets twice the rate through across a boundary (a full second's worth at x.999 and
//!   another at y.000), while the bucket lets through at most one second's worth at once and then the
//!   rate, evenly: over any span of `t` seconds at most `rate × (1 + t)` segments. A bucket is one row
//!   whatever the traffic, where windows would need a row (or a log) per second.
//! - Per minute and per day, fixed windows aligned on the clock (UTC minutes and UTC days): a count of
//!   segments that starts again when the next window starts. Fixed rather than sliding because a
//!   carrier's daily cap is a count per calendar day, and because "wait until the next minute/day" is a
//!   time a deferred message can be given. A fixed window lets up to twice its limit pass across a
//!   boundary (the end of one window and the start of the next); the per-second bucket still smooths
//!   that burst. A window that starts over is seeded with what its numbers already sent in it
//!   ([`parley_store::throughput::CounterSpec::window_start`]), so what was sent while nobody counted
//!   (before an upgrade, or while the limit was not configured) is not handed out again.
//!
//! A reservation is made before the send and never given back: a message that then fails at the
//! carrier, or whose node dies between the charge and the send, stays counted. That is over-counting
//! (the limit is briefly stricter than configured), never under-counting. Clocks of several nodes may
//! differ a little: a bucket's refill time and a window's start never move backwards here, so a node
//! whose clock is behind neither refills a bucket twice nor reopens a window another node closed.

use std::collections::HashMap;

use parley_store::throughput::{CounterRow, CounterSpec};

/// How long a counter stays unused before it is deleted (two days: longer than any window).
const FORGET_AFTER_MS: i64 = 2 * 86_400_000;
/// How often a sender deletes unused counters.
const CLEANUP_EVERY_MS: i64 = 3_600_000;

/// A fixed window's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Minute,
    Day,
}

impl Period {
    /// The window's length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Period::Minute => 60_000,
            Period::Day => 86_400_000,
        }
    }

    /// When the window holding `now_ms` started (epoch ms, aligned on UTC minutes or days).
    pub fn start(self, now_ms: i64) -> i64 {
        now_ms.div_euclid(self.millis()) * self.millis()
    }

    /// The period as counter names spell it.
    fn as_str(self) -> &'static str {
        match self {
            Period::Minute => "minute",
            Period::Day => "day",
        }
    }
}

/// The stored name of a limit's per-second bucket.
fn bucket_name(key: &str) -> String {
    format!("{key}/second")
}

/// The stored name of a limit's window.
fn window_name(key: &str, period: Period) -> String {
    format!("{key}/{}", period.as_str())
}

/// One limit a message must pass: a key (e.g. "number:+15550001000"), its rates in segments, and the
/// sender numbers it covers (whose sent messages seed its windows when they start over).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Limit {
    pub key: String,
    pub per_second: Option<f64>,
    pub per_minute: Option<u32>,
    pub per_day: Option<u32>,
    /// The sender numbers whose messages count against this limit (empty for a carrier account).
    pub numbers: Vec<String>,
}

impl Limit {
    fn windows(&self) -> impl Iterator<Item = (Period, u32)> + '_ {
        [(Period::Minute, self.per_minute), (Period::Day, self.per_day)]
            .into_iter()
            .filter_map(|(p, limit)| limit.map(|l| (p, l)))
    }
}

/// The stored counters that messages under `limits` need at `now_ms`, each once.
pub fn counters_needed<'a>(limits: impl IntoIterator<Item = &'a Limit>, now_ms: i64) -> Vec<CounterSpec> {
    let mut specs: HashMap<String, CounterSpec> = HashMap::new();
    for limit in limits {
        if limit.per_second.is_some() {
            let name = bucket_name(&limit.key);
            specs.entry(name.clone()).or_insert(CounterSpec { name, window_start: None, numbers: Vec::new() });
        }
        for (period, _) in limit.windows() {
            let name = window_name(&limit.key, period);
            specs.entry(name.clone()).or_insert_with(|| CounterSpec {
                name,
                window_start: Some(period.start(now_ms)),
                numbers: limit.numbers.clone(),
            });
        }
    }
    let mut specs: Vec<CounterSpec> = specs.into_values().collect();
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    specs
}

#[derive(Debug, Clone, PartialEq)]
struct Bucket {
    /// `None`: never charged, so full.
    tokens: Option<f64>,
    last_ms: i64,
}

impl Bucket {
    /// The tokens at `now_ms` for a message of `cost` segments: refilled at `rate` since the last
    /// refill, up to one second's worth (or the message's cost, so a long text can pass a full bucket).
    fn refilled(&self, rate: f64, cost: f64, now_ms: i64) -> f64 {
        let capacity = rate.max(cost);
        match self.tokens {
            None => capacity,
            Some(tokens) => {
                let elapsed = (now_ms - self.last_ms).max(0) as f64 / 1000.0;
                (tokens + elapsed * rate).min(capacity)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Window {
    start: i64,
    used: f64,
}

impl Window {
    /// The window that counts at `now_ms`: this one, or an empty one when this one ended. (The store
    /// starts windows over, seeded, for the round's now; an empty one here only follows a caller
    /// passing a later now than it loaded for.) A window that starts later than ours (opened by a node
    /// whose clock is ahead) is kept.
    fn at(&self, period: Period, now_ms: i64) -> Window {
        let start = period.start(now_ms);
        if self.start < start { Window { start, used: 0.0 } } else { self.clone() }
    }
}

/// The counters of one round, as loaded under lock; [`Counters::take`] charges them in memory and
/// [`Counters::write_to`] puts the result back into the rows the store writes.
#[derive(Debug, Default)]
pub struct Counters {
    buckets: HashMap<String, Bucket>,
    windows: HashMap<(String, Period), Window>,
}

impl Counters {
    /// The counters of stored rows (names this module did not make are ignored).
    pub fn from_rows(rows: &[CounterRow]) -> Counters {
        let mut counters = Counters::default();
        for row in rows {
            let Some((key, period)) = row.name.rsplit_once('/') else { continue };
            let period = match period {
                "second" => {
                    let tokens = (row.start >= 0).then_some(row.value);
                    counters.buckets.insert(key.to_owned(), Bucket { tokens, last_ms: row.start });
                    continue;
                }
                "minute" => Period::Minute,
                "day" => Period::Day,
                _ => continue,
            };
            counters.windows.insert((key.to_owned(), period), Window { start: row.start, used: row.value });
        }
        counters
    }

    /// Writes the counters' state into the rows they were loaded from.
    pub fn write_to(&self, rows: &mut [CounterRow]) {
        for row in rows {
            let Some((key, period)) = row.name.rsplit_once('/') else { continue };
            let period = match period {
                "second" => {
                    if let Some(Bucket { tokens: Some(tokens), last_ms }) = self.buckets.get(key) {
                        (row.start, row.value) = (*last_ms, *tokens);
                    }
                    continue;
                }
                "minute" => Period::Minute,
                "day" => Period::Day,
                _ => continue,
            };
            if let Some(w) = self.windows.get(&(key.to_owned(), period)) {
                (row.start, row.value) = (w.start, w.used);
            }
        }
    }

    /// Takes `cost` segments from every bucket and window of `limits` if all of them have room;
    /// otherwise takes nothing and returns how long to wait (ms) until the one that blocks longest
    /// would: a bucket's refill, or the start of the next minute or day.
    ///
    /// A message that costs more than a whole limit passes when that bucket is full or that window is
    /// still empty, so a long text is never held back forever. A counter that was not loaded blocks
    /// for a second (it cannot be charged safely; the next round loads it).
    pub fn take(&mut self, limits: &[Limit], cost: f64, now_ms: i64) -> Result<(), i64> {
        let mut wait_ms: i64 = 0;
        for limit in limits {
            if let Some(rate) = limit.per_second {
                let Some(bucket) = self.buckets.get(&limit.key) else { return Err(1000) };
                let tokens = bucket.refilled(rate, cost, now_ms);
                if tokens < cost {
                    let missing = cost - tokens;
                    wait_ms = wait_ms.max((missing / rate * 1000.0).ceil() as i64);
                }
            }
            for (period, max) in limit.windows() {
                let Some(window) = self.windows.get(&(limit.key.clone(), period)) else { return Err(1000) };
                let window = window.at(period, now_ms);
                if window.used > 0.0 && window.used + cost > f64::from(max) {
                    // A window a node with a clock ahead opened ends later than ours would.
                    wait_ms = wait_ms.max(window.start + period.millis() - now_ms);
                }
            }
        }
        if wait_ms > 0 {
            return Err(wait_ms);
        }
        // Every limit has room: charge them all. Nothing was changed above, so a refusal leaves the
        // counters (and their rows) as loaded.
        for limit in limits {
            if let Some(rate) = limit.per_second
                && let Some(bucket) = self.buckets.get_mut(&limit.key)
            {
                let tokens = bucket.refilled(rate, cost, now_ms);
                // A refill time another node set later than our now stays.
                *bucket = Bucket { tokens: Some(tokens - cost), last_ms: bucket.last_ms.max(now_ms) };
            }
            for (period, _) in limit.windows() {
                if let Some(window) = self.windows.get_mut(&(limit.key.clone(), period)) {
                    let mut current = window.at(period, now_ms);
                    current.used += cost;
                    *window = current;
                }
            }
        }
        Ok(())
    }
}

/// What a sender keeps between rounds: only when it last deleted unused counters. Every count lives
/// in the database.
#[derive(Debug, Default)]
pub struct Throttle {
    cleaned_at: Option<i64>,
}

impl Throttle {
    /// Whether counters are due for deletion at `now_ms` (at start, then once an hour); if so, the
    /// time before which an untouched counter may go.
    pub fn cleanup_due(&mut self, now_ms: i64) -> Option<i64> {
        if self.cleaned_at.is_some_and(|at| now_ms - at < CLEANUP_EVERY_MS) {
            return None;
        }
        self.cleaned_at = Some(now_ms);
        Some(now_ms - FORGET_AFTER_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(key: &str, per_second: f64) -> Limit {
        Limit { key: key.to_owned(), per_second: Some(per_second), ..Limit::default() }
    }

    fn windowed(key: &str, per_minute: Option<u32>, per_day: Option<u32>) -> Limit {
        Limit { key: key.to_owned(), per_minute, per_day, numbers: vec!["+15550001000".into()], ..Limit::default() }
    }

    /// 2026-01-01T10:00:00Z, a minute and a day boundary apart from nothing in particular.
    const T0: i64 = 1_767_261_600_000;

    /// Fresh counters for `limits`, as the store hands them over the first time (windows already
    /// started over at `now`, seeded with `seed` segments).
    fn fresh(limits: &[Limit], now: i64, seed: f64) -> Counters {
        let rows: Vec<CounterRow> = counters_needed(limits, now)
            .into_iter()
            .map(|spec| match spec.window_start {
                Some(start) => CounterRow { name: spec.name, start, value: seed },
                None => CounterRow { name: spec.name, start: -1, value: 0.0 },
            })
            .collect();
        Counters::from_rows(&rows)
    }

    /// Every counter of `limits` in one map, for tests that charge several limit sets.
    fn fresh_all(limits: &[&[Limit]], now: i64) -> Counters {
        let all: Vec<Limit> = limits.iter().flat_map(|l| l.iter().cloned()).collect();
        fresh(&all, now, 0.0)
    }

    #[test]
    fn a_bucket_holds_one_second_and_refills_at_its_rate() {
        let l = [limit("number:a", 2.0)];
        let mut t = fresh(&l, 0, 0.0);
        assert_eq!(t.take(&l, 1.0, 0), Ok(()));
        assert_eq!(t.take(&l, 1.0, 0), Ok(()));
        assert_eq!(t.take(&l, 1.0, 0), Err(500));
        assert_eq!(t.take(&l, 1.0, 499), Err(2));
        assert_eq!(t.take(&l, 1.0, 500), Ok(()));
    }

    #[test]
    fn every_limit_must_pass_and_a_refusal_takes_nothing() {
        let both = [limit("number:a", 10.0), limit("carrier:c", 1.0)];
        let other = [limit("number:a", 10.0)];
        let mut t = fresh_all(&[&both, &other], 0);
        assert_eq!(t.take(&both, 1.0, 0), Ok(()));
        assert_eq!(t.take(&both, 1.0, 0), Err(1000));
        // The number's bucket was not charged by the refusal: 9 tokens remain for another carrier.
        for _ in 0..9 {
            assert_eq!(t.take(&other, 1.0, 0), Ok(()));
        }
        assert!(t.take(&other, 1.0, 0).is_err());
    }

    #[test]
    fn a_long_message_costs_its_segments() {
        let l = [limit("carrier:c", 1.0)];
        let mut t = fresh(&l, 0, 0.0);
        // A 3-segment message may go at once from an idle bucket, then waits 3 s worth.
        assert_eq!(t.take(&l, 3.0, 0), Ok(()));
        assert_eq!(t.take(&l, 1.0, 0), Err(1000));
        assert_eq!(t.take(&l, 3.0, 2000), Err(1000));
    }

    #[test]
    fn a_minute_window_blocks_until_the_next_minute() {
        let l = [windowed("number:a", Some(3), None)];
        let at = T0 + 15_000;
        let mut t = fresh(&l, at, 0.0);
        for _ in 0..3 {
            assert_eq!(t.take(&l, 1.0, at), Ok(()));
        }
        // Full until 10:01:00, 45 s later, not 60 s after the first send.
        assert_eq!(t.take(&l, 1.0, at), Err(45_000));
        assert_eq!(t.take(&l, 1.0, T0 + 59_999), Err(1));
        assert_eq!(t.take(&l, 1.0, T0 + 60_000), Ok(()));
        // The new minute has room for 3: one and two segments fill it.
        assert_eq!(t.take(&l, 2.0, T0 + 60_000), Ok(()));
        assert_eq!(t.take(&l, 1.0, T0 + 60_000), Err(60_000));
    }

    #[test]
    fn the_day_window_blocks_until_midnight_utc_and_every_window_must_pass() {
        let l = [windowed("campaign:care", Some(10), Some(4))];
        let mut t = fresh(&l, T0, 0.0);
        for _ in 0..4 {
            assert_eq!(t.take(&l, 1.0, T0), Ok(()));
        }
        let midnight = Period::Day.start(T0) + 86_400_000;
        assert_eq!(t.take(&l, 1.0, T0 + 120_000), Err(midnight - T0 - 120_000));
        assert_eq!(t.take(&l, 1.0, midnight), Ok(()));
    }

    #[test]
    fn a_refused_window_takes_nothing_from_the_others() {
        let number = windowed("number:a", Some(100), None);
        let campaign = windowed("campaign:care", Some(1), None);
        let mut t = fresh(&[number.clone(), campaign.clone()], T0, 0.0);
        assert_eq!(t.take(&[number.clone(), campaign.clone()], 1.0, T0), Ok(()));
        assert!(t.take(&[number.clone(), campaign], 1.0, T0).is_err());
        // 99 left on the number's own window: the refusal charged nothing.
        for _ in 0..99 {
            assert_eq!(t.take(std::slice::from_ref(&number), 1.0, T0), Ok(()));
        }
        assert!(t.take(&[number], 1.0, T0).is_err());
    }

    #[test]
    fn a_message_longer_than_the_window_passes_in_an_empty_window() {
        let l = [windowed("number:a", Some(2), None)];
        let mut t = fresh(&l, T0, 0.0);
        assert_eq!(t.take(&l, 5.0, T0), Ok(()));
        assert_eq!(t.take(&l, 1.0, T0), Err(60_000));
    }

    #[test]
    fn the_counters_a_round_needs_are_named_once_with_their_windows_and_numbers() {
        let number = Limit { per_second: Some(5.0), ..windowed("number:a", Some(100), Some(50)) };
        let carrier = limit("carrier:c", 10.0);
        let specs = counters_needed([&number, &carrier, &number], T0 + 5_000);
        let described: Vec<(&str, Option<i64>)> = specs.iter().map(|s| (s.name.as_str(), s.window_start)).collect();
        assert_eq!(
            described,
            [
                ("carrier:c/second", None),
                ("number:a/day", Some(Period::Day.start(T0))),
                ("number:a/minute", Some(T0)),
                ("number:a/second", None),
            ]
        );
        assert_eq!(specs[1].numbers, ["+15550001000"]);
        assert!(specs[0].numbers.is_empty());
    }

    #[test]
    fn a_seeded_window_counts_what_was_already_sent() {
        // 49 segments went out earlier today (before an upgrade, say): one more fits, then the day is full.
        let l = [windowed("number:a", Some(100), Some(50))];
        let mut rows: Vec<CounterRow> = counters_needed(&l, T0 + 5_000)
            .into_iter()
            .map(|s| CounterRow {
                value: if s.name.ends_with("/day") { 49.0 } else { 0.0 },
                start: s.window_start.unwrap_or(-1),
                name: s.name,
            })
            .collect();
        let mut t = Counters::from_rows(&rows);
        assert_eq!(t.take(&l, 1.0, T0 + 5_000), Ok(()));
        assert!(t.take(&l, 1.0, T0 + 5_000).unwrap_err() > 3_600_000);
        t.write_to(&mut rows);
        assert_eq!(rows.iter().map(|r| r.value).collect::<Vec<_>>(), [50.0, 1.0]);
    }

    #[test]
    fn charged_counters_go_back_into_their_rows_and_load_the_same() {
        let l = [Limit { per_second: Some(2.0), ..windowed("number:a", Some(10), None) }];
        let mut rows: Vec<CounterRow> = counters_needed(&l, T0)
            .into_iter()
            .map(|s| CounterRow { start: s.window_start.unwrap_or(-1), value: 0.0, name: s.name })
            .collect();
        let mut t = Counters::from_rows(&rows);
        assert_eq!(t.take(&l, 1.0, T0), Ok(()));
        t.write_to(&mut rows);
        assert_eq!(
            rows,
            [
                CounterRow { name: "number:a/minute".into(), start: T0, value: 1.0 },
                CounterRow { name: "number:a/second".into(), start: T0, value: 1.0 },
            ]
        );
        // Another node loads what this one wrote: one token left this instant, the next 500 ms later.
        let mut other = Counters::from_rows(&rows);
        assert_eq!(other.take(&l, 1.0, T0), Ok(()));
        assert_eq!(other.take(&l, 1.0, T0), Err(500));
    }

    #[test]
    fn an_uncharged_bucket_stays_as_stored() {
        let l = [limit("number:a", 1.0), windowed("campaign:c", Some(1), None)];
        let mut rows: Vec<CounterRow> = counters_needed(&l, T0)
            .into_iter()
            .map(|s| CounterRow {
                start: s.window_start.unwrap_or(-1),
                value: if s.window_start.is_some() { 1.0 } else { 0.0 },
                name: s.name,
            })
            .collect();
        let before = rows.clone();
        let mut t = Counters::from_rows(&rows);
        // The campaign's minute is full: the message waits and the untouched bucket is not written.
        assert_eq!(t.take(&l, 1.0, T0), Err(60_000));
        t.write_to(&mut rows);
        assert_eq!(rows, before);
    }

    #[test]
    fn a_clock_behind_another_nodes_neither_refills_twice_nor_reopens_a_window() {
        let l = [Limit { per_second: Some(1.0), ..windowed("number:a", Some(1), None) }];
        // A node whose clock is 2 s ahead charged both at T0 + 60_000 (the next minute, for it).
        let rows = [
            CounterRow { name: "number:a/minute".into(), start: T0 + 60_000, value: 1.0 },
            CounterRow { name: "number:a/second".into(), start: T0 + 60_000, value: 0.0 },
        ];
        let mut t = Counters::from_rows(&rows);
        // At T0 + 58_000 here: the bucket does not count the 2 s as refill, and the minute the other
        // node opened is full until it ends.
        assert_eq!(t.take(&l, 1.0, T0 + 58_000), Err(62_000));
        assert_eq!(t.buckets["number:a"], Bucket { tokens: Some(0.0), last_ms: T0 + 60_000 });
    }

    #[test]
    fn a_counter_that_was_not_loaded_blocks() {
        let mut t = Counters::default();
        assert_eq!(t.take(&[limit("number:a", 5.0)], 1.0, T0), Err(1000));
        assert_eq!(t.take(&[windowed("number:a", Some(5), None)], 1.0, T0), Err(1000));
        assert_eq!(t.take(&[], 1.0, T0), Ok(()));
    }

    #[test]
    fn unused_counters_are_deleted_at_start_and_then_hourly() {
        let mut t = Throttle::default();
        assert_eq!(t.cleanup_due(T0), Some(T0 - FORGET_AFTER_MS));
        assert_eq!(t.cleanup_due(T0 + CLEANUP_EVERY_MS - 1), None);
        assert_eq!(t.cleanup_due(T0 + CLEANUP_EVERY_MS), Some(T0 + CLEANUP_EVERY_MS - FORGET_AFTER_MS));
    }
}
