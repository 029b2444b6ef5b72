//! What reports read beyond chats: the events of the chats of a period, and outbound messages'
//! delivery by carrier and number.

use sqlx::{QueryBuilder, Row as _};

use crate::events::event_row;
use crate::rows::EventRow;
use crate::{Result, Store, dispatch, dispatch_write, push_list};

/// The event kinds a chat's report facts are folded from (parley_core::report::facts).
pub const FACT_KINDS: [&str; 16] = [
    "chat.queued",
    "chat.back_to_menu",
    "chat.offered",
    "chat.started_outbound",
    "chat.offer_withdrawn",
    "chat.connected",
    "chat.offer_timed_out",
    "chat.reply_timed_out",
    "chat.overflowed",
    "chat.transfer_started",
    "chat.transfer_failed",
    "chat.transfer_ended",
    "chat.ended",
    "chat.dismissed",
    "chat.resumed",
    "message",
];

/// Outbound messages of one carrier and number in one status, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCount {
    pub carrier: String,
    pub number: String,
    pub status: String,
    pub count: i64,
}

impl Store {
    /// The report events ([`FACT_KINDS`]) of the chats opened in `[from, to)`, by chat and then in
    /// the order they were stored.
    pub async fn fact_events_between(&self, from: i64, to: i64) -> Result<Vec<EventRow>> {
        let kinds = FACT_KINDS.map(|k| format!("'{k}'")).join(", ");
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT e.id, e.chat_id, e.queue, e.agent, e.kind, e.data, e.at FROM chats c \
                 JOIN events e ON e.chat_id = c.id \
                 WHERE c.opened_at >= $1 AND c.opened_at < $2 AND e.kind IN ({kinds}) ORDER BY e.chat_id, e.id"
            )))
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(event_row!(row));
            }
            Ok(out)
        })
    }

    /// The report events of these chats, by chat and then in the order they were stored.
    pub async fn fact_events_of(&self, chat_ids: &[String]) -> Result<Vec<EventRow>> {
        let kinds = FACT_KINDS.map(|k| format!("'{k}'")).join(", ");
        let mut out = Vec::new();
        for chunk in chat_ids.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(format!(
                    "SELECT id, chat_id, queue, agent, kind, data, at FROM events WHERE kind IN ({kinds}) AND chat_id IN ("
                ));
                push_list!(q, chunk);
                q.push(" ORDER BY chat_id, id");
                for row in q.build().fetch_all(pool).await? {
                    out.push(event_row!(row));
                }
            });
        }
        Ok(out)
    }

    /// Outbound messages created in `[from, to)` that were for a consumer (not notes), by carrier,
    /// number and status: from the delivery rollup (migration 0037) when the period is whole quarter
    /// hours, else counted in the messages.
    pub async fn delivery_counts(&self, from: i64, to: i64) -> Result<Vec<DeliveryCount>> {
        let slot = parley_core::report::rollup::SLOT_MS;
        let sql = if from % slot == 0 && to % slot == 0 {
            "SELECT carrier, number, status, CAST(SUM(n) AS BIGINT) FROM ( \
             SELECT carrier, number, status, messages AS n FROM report_delivery WHERE slot >= $1 AND slot < $2 \
             UNION ALL SELECT carrier, number, status, change AS n FROM report_delivery_changes \
             WHERE slot >= $1 AND slot < $2) d GROUP BY carrier, number, status ORDER BY carrier, number, status"
        } else {
            "SELECT carrier, number, status, COUNT(*) FROM messages \
             WHERE direction = 'out' AND created_at >= $1 AND created_at < $2 \
             GROUP BY carrier, number, status ORDER BY carrier, number, status"
        };
        let (a, b) = if from % slot == 0 && to % slot == 0 { (from / slot, to / slot) } else { (from, to) };
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String, String, String, i64)> = sqlx::query_as(sql).bind(a).bind(b).fetch_all(pool).await?;
            Ok(rows
                .into_iter()
                .filter(|(_, _, _, count)| *count != 0)
                .map(|(carrier, number, status, count)| DeliveryCount { carrier, number, status, count })
                .collect())
        })
    }

    /// Folds up to `limit` of the delivery changes the triggers wrote into the delivery rollup,
    /// deleting exactly the rows it adds; returns how many it folded.
    pub async fn fold_delivery_changes(&self, limit: i64) -> Result<usize> {
        // Looked at first, so a quiet round takes no write lock.
        let pending = dispatch!(self, |pool, DB, begin| {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM report_delivery_changes LIMIT 1").fetch_optional(pool).await?;
            Ok::<bool, crate::StoreError>(row.is_some())
        })?;
        if !pending {
            return Ok(0);
        }
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
                "DELETE FROM report_delivery_changes WHERE id IN \
                 (SELECT id FROM report_delivery_changes ORDER BY id LIMIT $1) \
                 RETURNING slot, carrier, number, status, change",
            )
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let mut sums: std::collections::BTreeMap<(i64, String, String, String), i64> = Default::default();
            for (slot, carrier, number, status, change) in &rows {
                *sums.entry((*slot, carrier.clone(), number.clone(), status.clone())).or_default() += change;
            }
            // In key order, so two nodes folding at once take the rows' locks in the same order.
            for ((slot, carrier, number, status), change) in sums {
                sqlx::query(
                    "INSERT INTO report_delivery (slot, carrier, number, status, messages) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (slot, carrier, number, status) DO UPDATE \
                     SET messages = report_delivery.messages + excluded.messages",
                )
                .bind(slot)
                .bind(carrier)
                .bind(number)
                .bind(status)
                .bind(change)
                .execute(&mut *tx)
                .await?;
            }
            if !rows.is_empty() {
                sqlx::query("DELETE FROM report_delivery WHERE messages = 0").execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(rows.len())
        })
    }
}
