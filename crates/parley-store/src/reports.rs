//! What reports read beyond chats: the events of the chats of a period, and outbound messages'
//! delivery by carrier and number.

use sqlx::{QueryBuilder, Row as _};

use crate::events::event_row;
use crate::rows::EventRow;
use crate::{Result, Store, dispatch, push_list};

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
    /// number and status.
    pub async fn delivery_counts(&self, from: i64, to: i64) -> Result<Vec<DeliveryCount>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
                "SELECT carrier, number, status, COUNT(*) FROM messages \
                 WHERE direction = 'out' AND created_at >= $1 AND created_at < $2 \
                 GROUP BY carrier, number, status ORDER BY carrier, number, status",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(carrier, number, status, count)| DeliveryCount { carrier, number, status, count })
                .collect())
        })
    }
}
