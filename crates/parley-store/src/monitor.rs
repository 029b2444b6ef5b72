//! What supervisors watch: chats per queue by status and start type, and agents' handled chats.

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

/// One agent's chats that ended since a moment, after they answered them: had them when they ended, or
/// wrote to the consumer in them (so a chat handed over by transfer counts for each agent who wrote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledChats {
    pub agent: String,
    pub chats: i64,
    /// The average time from the first answer to the end, in milliseconds.
    pub average_ms: i64,
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

    /// Per agent, the answered chats that ended since `since` that they had at the end or wrote to the
    /// consumer in, with the average length of those chats from their first answer to their end.
    pub async fn handled_chats(&self, since: i64) -> Result<Vec<HandledChats>> {
        dispatch!(self, |pool, DB, begin| {
            // SUBSTR(author, 7) is the agent id of "agent:ID".
            let rows: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT agent, COUNT(*), CAST(AVG(length) AS BIGINT) FROM (\
                   SELECT agent, id, ended_at - answered_at AS length FROM chats \
                   WHERE status = 'finished' AND agent IS NOT NULL AND answered_at IS NOT NULL AND ended_at >= $1 \
                   UNION \
                   SELECT SUBSTR(m.author, 7), c.id, c.ended_at - c.answered_at \
                   FROM chats c JOIN messages m ON m.chat_id = c.id \
                   WHERE c.status = 'finished' AND c.answered_at IS NOT NULL AND c.ended_at >= $1 \
                     AND m.direction = 'out' AND m.author LIKE 'agent:%'\
                 ) answered GROUP BY agent",
            )
            .bind(since)
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(|(agent, chats, average_ms)| HandledChats { agent, chats, average_ms }).collect())
        })
    }
}
