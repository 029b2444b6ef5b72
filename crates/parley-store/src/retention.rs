//! Retention: transcripts and media of chats that ended long enough ago are deleted. The consent ledger
//! stays: it is the record that a phone opted in or out, which the law asks us to keep.
//!
//! With several nodes, the retention workers take turns through the [`PURGE_LEASE`] lease (see
//! [`crate::claims`]), so one node purges at a time; a purge that ran at the same moment anyway would
//! only find less to delete, as each batch deletes by id in one transaction.

use crate::{Result, Store, dispatch_write};

/// The name of the lease a node holds while it purges.
pub const PURGE_LEASE: &str = "retention";

/// What one purge deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeReport {
    pub chats: u64,
    pub messages: u64,
    pub media: u64,
    pub events: u64,
    pub sim_messages: u64,
}

impl PurgeReport {
    /// Whether the purge found nothing to delete.
    pub fn is_empty(&self) -> bool {
        *self == PurgeReport::default()
    }
}

impl Store {
    /// Deletes up to `limit` chats that ended before `cutoff` (epoch ms) with their messages, media and
    /// events, and messages outside any chat created before `cutoff` (texts from opted-out phones,
    /// confirmations of a STOP sent without a chat) with theirs, in one transaction. Call it again while
    /// it returns chats: each call holds the write lock only for one bounded batch.
    pub async fn purge_before(&self, cutoff: i64, limit: i64) -> Result<PurgeReport> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let ids: Vec<(String,)> = sqlx::query_as(
                "SELECT id FROM chats WHERE status = 'finished' AND ended_at < $1 ORDER BY ended_at LIMIT $2",
            )
            .bind(cutoff)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let mut report = PurgeReport::default();
            for (id,) in &ids {
                report.media += sqlx::query("DELETE FROM media WHERE chat_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                report.events += sqlx::query("DELETE FROM events WHERE chat_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query(
                    "DELETE FROM message_status_changes WHERE message_id IN (SELECT id FROM messages WHERE chat_id = $1)",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                report.messages += sqlx::query("DELETE FROM messages WHERE chat_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM timer_claims WHERE chat_id = $1").bind(id).execute(&mut *tx).await?;
                for table in ["report_chats", "report_visits", "report_agents"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE chat_id = $1")))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                report.chats +=
                    sqlx::query("DELETE FROM chats WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            }
            report.media += sqlx::query("DELETE FROM media WHERE chat_id IS NULL AND created_at < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Outbound messages still waiting to be sent are not history yet. Their Twilio-API rows go
            // with them (a callback still owed is given up, and its kept token with it).
            sqlx::query(
                "DELETE FROM twilio_messages WHERE message_id IN (SELECT id FROM messages WHERE chat_id IS NULL \
                 AND created_at < $1 AND status NOT IN ('scheduled', 'queued', 'sending'))",
            )
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM message_status_changes WHERE message_id IN (SELECT id FROM messages WHERE chat_id IS NULL \
                 AND created_at < $1 AND status NOT IN ('scheduled', 'queued', 'sending'))",
            )
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
            report.messages += sqlx::query(
                "DELETE FROM messages WHERE chat_id IS NULL AND created_at < $1 AND status NOT IN ('scheduled', 'queued', 'sending')",
            )
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            report.events += sqlx::query("DELETE FROM events WHERE chat_id IS NULL AND at < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            report.sim_messages += sqlx::query("DELETE FROM sim_messages WHERE at < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(report)
        })
    }
}
