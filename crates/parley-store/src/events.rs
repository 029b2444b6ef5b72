//! The append-only event log, read for SSE streams and their resumption.

use sqlx::Row as _;

use crate::rows::EventRow;
use crate::{Result, Store, dispatch};

impl Store {
    /// Events with an id above `after`, oldest first.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT id, chat_id, queue, agent, kind, data, at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(EventRow {
                    id: row.try_get("id")?,
                    chat_id: row.try_get("chat_id")?,
                    queue: row.try_get("queue")?,
                    agent: row.try_get("agent")?,
                    kind: row.try_get("kind")?,
                    data: row.try_get("data")?,
                    at: row.try_get("at")?,
                });
            }
            Ok(out)
        })
    }

    /// The newest event id (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM events").fetch_one(pool).await?;
            Ok(id.unwrap_or(0))
        })
    }
}
