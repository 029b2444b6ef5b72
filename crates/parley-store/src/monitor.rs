//! What supervisors watch: chats per queue by status and start type.

use crate::{Result, Store, dispatch};

/// Live chats of one queue in one status, by how they started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCount {
    pub queue: String,
    /// selecting, queued, offered, connected, or finished (for the chats ended since the given moment).
    pub status: String,
    /// manually_answered, auto_answered, outbound, deflected, or empty (no agent yet).
    pub start_type: String,
    pub count: i64,
}

impl Store {
    /// Live chats per queue, status and start type, and the chats that ended since `since` likewise.
    pub async fn queue_counts(&self, since: i64) -> Result<Vec<QueueCount>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
                "SELECT queue, status, COALESCE(start_type, ''), COUNT(*) FROM chats \
                 WHERE queue IS NOT NULL AND (status <> 'finished' OR ended_at >= $1) \
                 GROUP BY queue, status, COALESCE(start_type, '')",
            )
            .bind(since)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(queue, status, start_type, count)| QueueCount { queue, status, start_type, count })
                .collect())
        })
    }
}
