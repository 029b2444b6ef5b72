//! Outbound throughput limits: per sender number, per campaign and per carrier account. A message
//! passes only if every limit it is under has room: a token bucket per second, and fixed windows per
//! minute and per day.
//!
//! - Per second, a token bucket: it refills at its rate and holds one second's worth, so a sender never
//!   bursts past what the carrier accepts.
//! - Per minute and per day, fixed windows aligned on the clock (UTC minutes and UTC days): a count of
//!   segments that starts again at 0 when the next window starts. Fixed rather than sliding because a
//!   carrier's daily cap is a count per calendar day, because a window's count is one range query in
//!   the store (so a restarted sender can seed it, see [`Throttle::unseeded`]), and because "wait
//!   until the next minute/day" is a time a deferred message can be given. A fixed window lets up to
//!   twice its limit pass across a boundary (the end of one window and the start of the next); the
//!   per-second bucket still smooths that burst.

use std::collections::HashMap;

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
}

/// One limit a message must pass: a key (e.g. "number:+15550001000"), its rates in segments, and the
/// sender numbers it covers (whose sent messages seed its windows after a restart).
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

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
}

#[derive(Debug, Clone)]
struct Window {
    start: i64,
    used: f64,
}

/// A window that must be seeded from the store before it counts: the sender has not seen its key yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    pub key: String,
    pub period: Period,
    /// The start of the current window: count what was sent since.
    pub since: i64,
    pub numbers: Vec<String>,
}

/// Every bucket and window of one sender process.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: HashMap<String, Bucket>,
    windows: HashMap<(String, Period), Window>,
}

impl Throttle {
    /// Takes `cost` segments from every bucket and window of `limits` if all of them have room;
    /// otherwise takes nothing and returns how long to wait (ms) until the one that blocks longest
    /// would: a bucket's refill, or the start of the next minute or day.
    ///
    /// A message that costs more than a whole limit passes when that bucket is full or that window is
    /// still empty, so a long text is never held back forever.
    pub fn take(&mut self, limits: &[Limit], cost: f64, now_ms: i64) -> Result<(), i64> {
        let mut wait_ms: i64 = 0;
        for limit in limits {
            if let Some(rate) = limit.per_second {
                let capacity = rate.max(cost);
                let bucket =
                    self.buckets.entry(limit.key.clone()).or_insert(Bucket { tokens: capacity, last_ms: now_ms });
                let elapsed = (now_ms - bucket.last_ms).max(0) as f64 / 1000.0;
                bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
                bucket.last_ms = now_ms;
                if bucket.tokens < cost {
                    let missing = cost - bucket.tokens;
                    wait_ms = wait_ms.max((missing / rate * 1000.0).ceil() as i64);
                }
            }
            for (period, max) in limit.windows() {
                let start = period.start(now_ms);
                let window = self.windows.entry((limit.key.clone(), period)).or_insert(Window { start, used: 0.0 });
                if window.start != start {
                    // A new window. This sender saw every send of the key since it first saw the key,
                    // so nothing was sent in the new window that it does not know of.
                    *window = Window { start, used: 0.0 };
                }
                if window.used > 0.0 && window.used + cost > f64::from(max) {
                    wait_ms = wait_ms.max(start + period.millis() - now_ms);
                }
            }
        }
        if wait_ms > 0 {
            return Err(wait_ms);
        }
        for limit in limits {
            if limit.per_second.is_some()
                && let Some(bucket) = self.buckets.get_mut(&limit.key)
            {
                bucket.tokens -= cost;
            }
            for (period, _) in limit.windows() {
                if let Some(window) = self.windows.get_mut(&(limit.key.clone(), period)) {
                    window.used += cost;
                }
            }
        }
        Ok(())
    }

    /// The windows of `limits` this sender has not seen yet: before [`Throttle::take`] counts them, the
    /// segments already sent in them (before a restart, say) go in with [`Throttle::seed`].
    pub fn unseeded(&self, limits: &[Limit], now_ms: i64) -> Vec<Seed> {
        let mut out = Vec::new();
        for limit in limits {
            for (period, _) in limit.windows() {
                if !self.windows.contains_key(&(limit.key.clone(), period)) {
                    out.push(Seed {
                        key: limit.key.clone(),
                        period,
                        since: period.start(now_ms),
                        numbers: limit.numbers.clone(),
                    });
                }
            }
        }
        out
    }

    /// Starts a window with the segments sent in it before this sender saw its key.
    pub fn seed(&mut self, seed: &Seed, used: f64) {
        self.windows.insert((seed.key.clone(), seed.period), Window { start: seed.since, used });
    }

    /// Forgets buckets that are full again (idle senders) and windows that ended, so the maps do not
    /// grow without end. A forgotten window is seeded again from the store when its key comes back.
    pub fn forget_idle(&mut self, now_ms: i64) {
        self.buckets.retain(|_, b| now_ms - b.last_ms < 60_000);
        self.windows.retain(|(_, period), w| w.start == period.start(now_ms));
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

    #[test]
    fn a_bucket_holds_one_second_and_refills_at_its_rate() {
        let mut t = Throttle::default();
        let l = [limit("number:a", 2.0)];
        assert_eq!(t.take(&l, 1.0, 0), Ok(()));
        assert_eq!(t.take(&l, 1.0, 0), Ok(()));
        assert_eq!(t.take(&l, 1.0, 0), Err(500));
        assert_eq!(t.take(&l, 1.0, 499), Err(2));
        assert_eq!(t.take(&l, 1.0, 500), Ok(()));
    }

    #[test]
    fn every_limit_must_pass_and_a_refusal_takes_nothing() {
        let mut t = Throttle::default();
        let both = [limit("number:a", 10.0), limit("carrier:c", 1.0)];
        assert_eq!(t.take(&both, 1.0, 0), Ok(()));
        assert_eq!(t.take(&both, 1.0, 0), Err(1000));
        // The number's bucket was not charged by the refusal: 9 tokens remain for another carrier.
        let other = [limit("number:a", 10.0)];
        for _ in 0..9 {
            assert_eq!(t.take(&other, 1.0, 0), Ok(()));
        }
        assert!(t.take(&other, 1.0, 0).is_err());
    }

    #[test]
    fn a_long_message_costs_its_segments() {
        let mut t = Throttle::default();
        let l = [limit("carrier:c", 1.0)];
        // A 3-segment message may go at once from an idle bucket, then waits 3 s worth.
        assert_eq!(t.take(&l, 3.0, 0), Ok(()));
        assert_eq!(t.take(&l, 1.0, 0), Err(1000));
        assert_eq!(t.take(&l, 3.0, 2000), Err(1000));
    }

    #[test]
    fn a_minute_window_blocks_until_the_next_minute() {
        let mut t = Throttle::default();
        let l = [windowed("number:a", Some(3), None)];
        let at = T0 + 15_000;
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
        let mut t = Throttle::default();
        let l = [windowed("campaign:care", Some(10), Some(4))];
        for _ in 0..4 {
            assert_eq!(t.take(&l, 1.0, T0), Ok(()));
        }
        let midnight = Period::Day.start(T0) + 86_400_000;
        assert_eq!(t.take(&l, 1.0, T0 + 120_000), Err(midnight - T0 - 120_000));
        assert_eq!(t.take(&l, 1.0, midnight), Ok(()));
    }

    #[test]
    fn a_refused_window_takes_nothing_from_the_others() {
        let mut t = Throttle::default();
        let number = windowed("number:a", Some(100), None);
        let campaign = windowed("campaign:care", Some(1), None);
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
        let mut t = Throttle::default();
        let l = [windowed("number:a", Some(2), None)];
        assert_eq!(t.take(&l, 5.0, T0), Ok(()));
        assert_eq!(t.take(&l, 1.0, T0), Err(60_000));
    }

    #[test]
    fn unseen_windows_are_seeded_once_and_count() {
        let mut t = Throttle::default();
        let l = [windowed("number:a", Some(100), Some(50)), limit("carrier:c", 10.0)];
        let seeds = t.unseeded(&l, T0 + 5_000);
        assert_eq!(
            seeds.iter().map(|s| (s.period, s.since)).collect::<Vec<_>>(),
            [(Period::Minute, T0), (Period::Day, Period::Day.start(T0))]
        );
        assert_eq!(seeds[1].numbers, ["+15550001000"]);
        // 49 segments went out earlier today (before a restart): one more fits, then the day is full.
        t.seed(&seeds[0], 0.0);
        t.seed(&seeds[1], 49.0);
        assert!(t.unseeded(&l, T0 + 5_000).is_empty());
        assert_eq!(t.take(&l, 1.0, T0 + 5_000), Ok(()));
        assert!(t.take(&l, 1.0, T0 + 5_000).unwrap_err() > 3_600_000);
        // Ended windows are forgotten, and then seeded again.
        t.forget_idle(T0 + 60_000);
        assert_eq!(t.unseeded(&l, T0 + 60_000).len(), 1);
    }
}
