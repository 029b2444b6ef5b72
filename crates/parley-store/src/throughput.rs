//! The outbound throughput counters every node shares, and what sender numbers already sent.
//!
//! A limit holds for the deployment only if its count lives in one place: each limit's counter is a
//! row of `throughput_counters`, and a sender charges the counters a round of messages needs in one
//! transaction that holds those rows locked from the read to the write ([`Store::charge_throughput`]).
//! Two nodes charging the same counter therefore take turns, and neither spends what the other
//! already took. What the counts mean (token buckets, windows) is the server's business; the store
//! knows rows, window starts and who sent what.
//!
//! Missing rows are created first, in the same transaction, then all of a charge's rows are locked by
//! one `SELECT ... ORDER BY name FOR UPDATE`: the same order on every node, so two senders whose
//! rounds share several counters never wait on each other in a circle.

use sqlx::{QueryBuilder, Row as _};

use crate::{Result, Store, dispatch, dispatch_write, push_list};

/// One throughput counter as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterRow {
    /// "KEY/PERIOD", e.g. "number:+15550001000/second" or "campaign:care/day".
    pub name: String,
    /// A token bucket's last refill, or the start of the window `value` counts (epoch ms); -1 for a
    /// counter that was never charged.
    pub start: i64,
    /// A token bucket's tokens left, or the segments sent in the window.
    pub value: f64,
}

/// A counter a charge needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterSpec {
    pub name: String,
    /// For a window, the start of the current one. A stored count of an earlier window (or of none)
    /// starts over at what `numbers` had carriers accept since this start, so what was sent while
    /// nobody counted (before the upgrade that brought shared counting, or while the limit was not
    /// configured) still counts. A stored window that starts later (a node whose clock is ahead
    /// opened it) is kept. `None` for a token bucket, which is never reset.
    pub window_start: Option<i64>,
    /// The sender numbers whose sent messages count against the window.
    pub numbers: Vec<String>,
}

/// Sums `segments(body) * count` over the outbound messages of `$numbers` that a carrier accepted
/// (they have a provider id) with `updated_at >= $since`, on `$conn` (a pool or a transaction).
macro_rules! sent_segments {
    ($conn:expr, $db:ty, $numbers:expr, $since:expr, $segments:expr) => {{
        let mut total: i64 = 0;
        for chunk in $numbers.chunks(crate::CHUNK) {
            // Grouped by body: system texts (the opt-in notice, the menu) repeat, so each distinct text
            // is counted once and fetched once.
            let mut q = QueryBuilder::<$db>::new(
                "SELECT body, COUNT(*) AS n FROM messages WHERE direction = 'out' AND provider_id IS NOT NULL \
                 AND updated_at >= ",
            );
            q.push_bind($since);
            q.push(" AND number IN (");
            push_list!(q, chunk);
            q.push(" GROUP BY body");
            for row in q.build().fetch_all($conn).await? {
                let body: String = row.try_get("body")?;
                let n: i64 = row.try_get("n")?;
                total += $segments(&body) * n;
            }
        }
        total
    }};
}

impl Store {
    /// The segments of the outbound messages these numbers handed to a carrier at or after `since`
    /// (epoch ms); `segments` counts one body's segments (the store knows no SMS encoding).
    ///
    /// A message counts once a carrier accepted it (it has a provider id), whatever receipt came
    /// since: "undelivered" or "failed" after acceptance still used the carrier's throughput, while a
    /// message refused at the send did not. The time compared is `updated_at`, the acceptance or a
    /// later receipt: never before the send, so a message sent just before the window started may be
    /// counted in it (too strict, briefly), never one sent inside it left out.
    pub async fn sent_segments_since(
        &self,
        numbers: &[String],
        since: i64,
        segments: impl Fn(&str) -> i64,
    ) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| { Ok(sent_segments!(pool, DB, numbers, since, segments)) })
    }

    /// Charges throughput counters atomically for every node: in one transaction, locks the counters
    /// of `specs` (creating missing ones with `start = -1`), starts windows over as
    /// [`CounterSpec::window_start`] says (counting what was sent with `segments`), hands the rows,
    /// sorted by name, to `charge`, and writes back those `charge` changed (with `touched_at = now`).
    /// Returns what `charge` returned.
    ///
    /// `charge` runs while the rows are locked, so it must be quick and must not wait on anything.
    pub async fn charge_throughput<T>(
        &self,
        specs: &[CounterSpec],
        now: i64,
        segments: impl Fn(&str) -> i64,
        charge: impl FnOnce(&mut [CounterRow]) -> T,
    ) -> Result<T> {
        if specs.is_empty() {
            return Ok(charge(&mut []));
        }
        let mut specs: Vec<&CounterSpec> = specs.iter().collect();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        specs.dedup_by(|a, b| a.name == b.name);
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        // SQLite's write transaction already excludes every other writer; PostgreSQL locks the rows.
        let lock = match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => " FOR UPDATE",
        };
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let mut loaded: Vec<CounterRow> = Vec::with_capacity(names.len());
            // Most rounds find every counter: the insert of missing ones is a second pass only when
            // the first read came up short.
            for pass in 0..2 {
                if pass == 1 {
                    for chunk in names.chunks(crate::CHUNK) {
                        let mut q = QueryBuilder::<DB>::new(
                            "INSERT INTO throughput_counters (name, start, value, touched_at) ",
                        );
                        q.push_values(chunk, |mut row, name| {
                            row.push_bind(name.clone()).push_bind(-1_i64).push_bind(0.0_f64).push_bind(now);
                        });
                        q.push(" ON CONFLICT (name) DO NOTHING");
                        q.build().execute(&mut *tx).await?;
                    }
                }
                loaded.clear();
                for chunk in names.chunks(crate::CHUNK) {
                    let mut q =
                        QueryBuilder::<DB>::new("SELECT name, start, value FROM throughput_counters WHERE name IN (");
                    push_list!(q, chunk);
                    q.push(" ORDER BY name");
                    q.push(lock);
                    for row in q.build().fetch_all(&mut *tx).await? {
                        loaded.push(CounterRow {
                            name: row.try_get("name")?,
                            start: row.try_get("start")?,
                            value: row.try_get("value")?,
                        });
                    }
                }
                if loaded.len() == names.len() {
                    break;
                }
                if pass == 0 {
                    // Start again with the inserts, so that rows are still locked in name order.
                    tx.rollback().await?;
                    tx = pool.begin_with(begin).await?;
                }
            }
            if loaded.len() != names.len() {
                return Err(anyhow::anyhow!("throughput counters missing after creating them").into());
            }
            // The database's collation may order names differently from Rust: hand them over in one
            // order whatever the engine, and find each row's spec by name.
            loaded.sort_by(|a, b| a.name.cmp(&b.name));
            let stored = loaded.clone();
            for row in loaded.iter_mut() {
                let Ok(at) = specs.binary_search_by(|s| s.name.as_str().cmp(&row.name)) else { continue };
                if let Some(window_start) = specs[at].window_start
                    && row.start < window_start
                {
                    row.start = window_start;
                    row.value = sent_segments!(&mut *tx, DB, specs[at].numbers, window_start, segments) as f64;
                }
            }
            let out = charge(&mut loaded);
            let changed: Vec<&CounterRow> =
                loaded.iter().zip(&stored).filter(|(after, before)| after != before).map(|(after, _)| after).collect();
            for chunk in changed.chunks(crate::CHUNK) {
                let mut q =
                    QueryBuilder::<DB>::new("INSERT INTO throughput_counters (name, start, value, touched_at) ");
                q.push_values(chunk, |mut row, counter| {
                    row.push_bind(counter.name.clone())
                        .push_bind(counter.start)
                        .push_bind(counter.value)
                        .push_bind(now);
                });
                q.push(
                    " ON CONFLICT (name) DO UPDATE SET start = excluded.start, value = excluded.value, \
                     touched_at = excluded.touched_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Deletes the counters nobody charged since `before`; returns how many. A counter unused for
    /// longer than a day is worth nothing (its bucket is full again, its windows ended), so deleting
    /// it loses no count; limits removed from the setup leave no rows behind this way.
    pub async fn forget_throughput_counters(&self, before: i64) -> Result<u64> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let done = sqlx::query("DELETE FROM throughput_counters WHERE touched_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    /// The throughput counters with these names, sorted by name (for tests and inspection).
    pub async fn throughput_counters(&self, names: &[String]) -> Result<Vec<CounterRow>> {
        let mut out = Vec::new();
        for chunk in names.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q =
                    QueryBuilder::<DB>::new("SELECT name, start, value FROM throughput_counters WHERE name IN (");
                push_list!(q, chunk);
                q.push(" ORDER BY name");
                for row in q.build().fetch_all(pool).await? {
                    out.push(CounterRow {
                        name: row.try_get("name")?,
                        start: row.try_get("start")?,
                        value: row.try_get("value")?,
                    });
                }
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
