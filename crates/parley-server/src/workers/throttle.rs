//! Token buckets for outbound throughput: per sender number and per carrier account (and, once
//! registrations exist, per campaign). A bucket refills at its rate and holds one second's worth, so a
//! sender never bursts past what the carrier accepts.

use std::collections::HashMap;

/// One limit a message must pass: a key (e.g. "number:+15550001000") and its rate in segments per second.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub key: String,
    pub per_second: f64,
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// Every bucket of one sender process.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: HashMap<String, Bucket>,
}

impl Throttle {
    /// Takes `cost` tokens from every bucket of `limits` if all of them have enough; otherwise takes
    /// nothing and returns how long to wait (ms) until they would.
    pub fn take(&mut self, limits: &[Limit], cost: f64, now_ms: i64) -> Result<(), i64> {
        let mut wait_ms: i64 = 0;
        for limit in limits {
            let capacity = limit.per_second.max(cost);
            let bucket = self.buckets.entry(limit.key.clone()).or_insert(Bucket { tokens: capacity, last_ms: now_ms });
            let elapsed = (now_ms - bucket.last_ms).max(0) as f64 / 1000.0;
            bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(capacity);
            bucket.last_ms = now_ms;
            if bucket.tokens < cost {
                let missing = cost - bucket.tokens;
                wait_ms = wait_ms.max((missing / limit.per_second * 1000.0).ceil() as i64);
            }
        }
        if wait_ms > 0 {
            return Err(wait_ms);
        }
        for limit in limits {
            if let Some(bucket) = self.buckets.get_mut(&limit.key) {
                bucket.tokens -= cost;
            }
        }
        Ok(())
    }

    /// Forgets buckets that are full again (idle senders), so the map does not grow without end.
    pub fn forget_idle(&mut self, now_ms: i64) {
        self.buckets.retain(|_, b| now_ms - b.last_ms < 60_000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(key: &str, per_second: f64) -> Limit {
        Limit { key: key.to_owned(), per_second }
    }

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
}
