//! Sessionless notifications and their replies: the latest notification each phone got from each
//! number (the engine loads it so the desk can tell a reply from a first text), and the texts kept as
//! a notification's replies (its status page lists them).
//!
//! A notification is a `messages` row written by the sessionless API: outbound, in no chat, by
//! author "api". Its replies are rows of `notification_replies`, written with the reply's message in
//! the engine's batch.

use sqlx::{QueryBuilder, Row as _};

use crate::rows::MessageRow;
use crate::{Result, Store, dispatch, push_list};

/// The latest sessionless notification a phone got from a business number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub consumer: String,
    pub number: String,
    pub message_id: String,
    pub created_at: i64,
}

/// A consumer's text kept as the reply to a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationReplyRow {
    pub message_id: String,
    pub notification_id: String,
    pub created_at: i64,
}

impl Store {
    /// The latest notification each of these phones got from each number since `since` (epoch ms).
    pub async fn latest_notifications(&self, consumers: &[String], since: i64) -> Result<Vec<NotificationRow>> {
        let mut latest: std::collections::HashMap<(String, String), NotificationRow> = Default::default();
        for chunk in consumers.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(
                    "SELECT consumer, number, id, created_at FROM messages WHERE direction = 'out' \
                     AND chat_id IS NULL AND author = 'api' AND created_at >= ",
                );
                q.push_bind(since);
                q.push(" AND consumer IN (");
                push_list!(q, chunk);
                for row in q.build().fetch_all(pool).await? {
                    let found = NotificationRow {
                        consumer: row.try_get("consumer")?,
                        number: row.try_get("number")?,
                        message_id: row.try_get("id")?,
                        created_at: row.try_get("created_at")?,
                    };
                    let key = (found.consumer.clone(), found.number.clone());
                    // Ties (one millisecond) go to the later id: ids are time-ordered UUIDs.
                    let newer = latest
                        .get(&key)
                        .is_none_or(|l| (l.created_at, &l.message_id) < (found.created_at, &found.message_id));
                    if newer {
                        latest.insert(key, found);
                    }
                }
            });
        }
        let mut out: Vec<NotificationRow> = latest.into_values().collect();
        out.sort_by(|a, b| (&a.consumer, &a.number).cmp(&(&b.consumer, &b.number)));
        Ok(out)
    }

    /// The texts kept as replies to the notification `notification_id`, oldest first.
    pub async fn notification_replies(&self, notification_id: &str) -> Result<Vec<MessageRow>> {
        let ids: Vec<String> = dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT message_id FROM notification_replies WHERE notification_id = $1 ORDER BY created_at, message_id",
            )
            .bind(notification_id.to_owned())
            .fetch_all(pool)
            .await?;
            rows.into_iter().map(|(id,)| id).collect()
        });
        let mut messages = self.messages_by_ids(&ids).await?;
        messages.sort_by_key(|m| m.seq);
        Ok(messages)
    }
}
