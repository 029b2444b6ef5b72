//! Claims with leases, so the workers of every node can run side by side and each piece of work is
//! done by one node at a time. A claim lasts until its lease runs out (epoch ms, from the caller's
//! clock); a node that dies mid-work simply stops renewing, and another node takes the work over once
//! the lease has passed. The outbox (`messages.rs`) and media downloads (`media.rs`) keep their claims
//! on their own rows; this module holds the two that need a table of their own:
//!
//! - **Timer claims** (`timer_claims`): which node ticks a chat whose deadline came due. The engine
//!   owns the `chats` rows (and would wait on any row lock a worker held across a tick), so a claim is
//!   a row of its own per chat, for the one deadline (`due_at`) it was taken for. A handled deadline is
//!   never claimed again; a new deadline of the same chat is a new claim.
//! - **Named leases** (`worker_leases`): a name held by one node at a time ("retention", the bind
//!   slots of an SMPP account), taken again by its holder to renew it.
//!
//! Both run the same SQL on both engines. On PostgreSQL timer claims are taken one node at a time under
//! a transaction-level advisory lock, so two claimers never wait on each other's rows; SQLite's
//! `BEGIN IMMEDIATE` gives the same order.

use sqlx::Row as _;

use crate::{Result, Store, dispatch, dispatch_write};

/// The advisory lock that serializes timer claims on PostgreSQL ("parleytc" as hex digits; the
/// engine's and the migrations' keys are "parley-w…"/"parley-m…").
const TIMER_CLAIM_LOCK: i64 = 0x7061_726c_6579_7463;

/// `claimed_until` of a deadline that was handled: later than any lease.
const HANDLED: i64 = i64::MAX;

/// A chat whose deadline this node claimed: tick it, then report it with
/// [`Store::finish_timer_claims`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerClaim {
    pub chat_id: String,
    /// The deadline the claim is for; the chat's next deadline is another claim.
    pub due_at: i64,
}

/// What became of ticks: handled ones are done for good, the others may be claimed again at `retry_at`.
#[derive(Debug, Clone, Default)]
pub struct TimerOutcomes {
    pub handled: Vec<TimerClaim>,
    pub retry: Vec<TimerClaim>,
    /// When the `retry` claims may be taken again (epoch ms).
    pub retry_at: i64,
}

/// Live chats due at `$1` whose deadline no live claim covers.
const UNCLAIMED_DUE: &str = "SELECT c.id, c.due_at FROM chats c WHERE c.status <> 'finished' \
     AND c.due_at IS NOT NULL AND c.due_at <= $1 AND NOT EXISTS (SELECT 1 FROM timer_claims t \
     WHERE t.chat_id = c.id AND t.due_at = c.due_at AND t.claimed_until > $1) ORDER BY c.due_at, c.id";

impl Store {
    /// Claims up to `limit` live chats whose deadline came due at `now` and that no other claimer
    /// holds, for `lease_ms`, most overdue first. Claims of deadlines that no longer exist (the chat
    /// moved on or ended) are cleared on the way. Looks first without writing, so an idle round takes
    /// no write lock.
    pub async fn claim_due_chats(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<TimerClaim>> {
        let any: Option<(String, i64)> = dispatch!(self, |pool, DB, begin| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{UNCLAIMED_DUE} LIMIT 1")))
                .bind(now)
                .fetch_optional(pool)
                .await?
        });
        if any.is_none() {
            return Ok(vec![]);
        }
        let claim = format!(
            "WITH due AS ({UNCLAIMED_DUE} LIMIT $3) \
             INSERT INTO timer_claims (chat_id, due_at, claimed_until) SELECT id, due_at, $2 FROM due WHERE true \
             ON CONFLICT (chat_id) DO UPDATE SET due_at = excluded.due_at, claimed_until = excluded.claimed_until \
             WHERE timer_claims.claimed_until <= $1 OR timer_claims.due_at <> excluded.due_at \
             RETURNING chat_id, due_at"
        );
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if matches!(self, Store::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(TIMER_CLAIM_LOCK).execute(&mut *tx).await?;
            }
            // Under the lock, so no claimer can be between reading a deadline and claiming it.
            sqlx::query(
                "DELETE FROM timer_claims WHERE NOT EXISTS (SELECT 1 FROM chats c WHERE c.id = timer_claims.chat_id \
                 AND c.status <> 'finished' AND c.due_at = timer_claims.due_at)",
            )
            .execute(&mut *tx)
            .await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(claim))
                .bind(now)
                .bind(now.saturating_add(lease_ms))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(TimerClaim { chat_id: row.try_get("chat_id")?, due_at: row.try_get("due_at")? });
            }
            out.sort_by(|a, b| (a.due_at, &a.chat_id).cmp(&(b.due_at, &b.chat_id)));
            Ok(out)
        })
    }

    /// Records what became of claimed ticks, in one transaction. A claim that was cleared meanwhile
    /// (its chat moved on to another deadline) is left alone.
    pub async fn finish_timer_claims(&self, outcomes: &TimerOutcomes) -> Result<()> {
        if outcomes.handled.is_empty() && outcomes.retry.is_empty() {
            return Ok(());
        }
        let all =
            outcomes.handled.iter().map(|c| (c, HANDLED)).chain(outcomes.retry.iter().map(|c| (c, outcomes.retry_at)));
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            for (claim, until) in all {
                sqlx::query("UPDATE timer_claims SET claimed_until = $1 WHERE chat_id = $2 AND due_at = $3")
                    .bind(until)
                    .bind(&claim.chat_id)
                    .bind(claim.due_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Takes the lease `name` for `holder` until `now + lease_ms`, if it is free, ran out, or is
    /// `holder`'s already (which renews it). Returns whether `holder` holds it now.
    pub async fn take_lease(&self, name: &str, holder: &str, now: i64, lease_ms: i64) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let taken: Option<(String,)> = sqlx::query_as(
                "INSERT INTO worker_leases (name, holder, held_until) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until \
                 WHERE worker_leases.holder = excluded.holder OR worker_leases.held_until <= $4 \
                 RETURNING name",
            )
            .bind(name)
            .bind(holder)
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .fetch_optional(pool)
            .await?;
            Ok(taken.is_some())
        })
    }

    /// Gives the lease `name` back if `holder` holds it, so another node may take it at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query("DELETE FROM worker_leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// The leases whose name starts with `prefix` that someone holds at `now`: `(name, holder)`.
    pub async fn leases_held(&self, prefix: &str, now: i64) -> Result<Vec<(String, String)>> {
        dispatch!(self, |pool, DB, begin| {
            Ok(sqlx::query_as(
                "SELECT name, holder FROM worker_leases WHERE substr(name, 1, length($1)) = $1 AND held_until > $2 \
                 ORDER BY name",
            )
            .bind(prefix)
            .bind(now)
            .fetch_all(pool)
            .await?)
        })
    }
}
