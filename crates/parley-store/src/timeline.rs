//! Message timelines and send later. Every status a message takes is kept in
//! `message_status_changes` with its time and what the carrier said, written in the same transaction
//! as the status itself and batched like it (one multi-row INSERT per chunk): at creation (the group
//! commit), when the outbox records a send's outcome (`Store::finish_outbox`), for carrier receipts and
//! for scheduled messages the engine releases, gives up or cancels. The outbox's short-lived "sending"
//! claim is not kept: a rate-limited message is claimed again and again, and its history would only
//! grow.
//!
//! Held (send-later) messages are changed only inside an engine write turn, so a cancel and the
//! release of the same message never race; the outbox does not see them until they are released.

use sqlx::Row as _;

use parley_core::chat::Purpose;
use parley_core::message::{Direction, MessageStatus};

use crate::messages::{COLUMNS, message_row};
use crate::rows::{MessageRow, StatusChangeRow, decode};
use crate::{Result, Store, dispatch};

/// Inserts timeline rows with one statement per call (callers chunk).
macro_rules! insert_status_changes {
    ($db:ty, $conn:expr, $rows:expr) => {
        if !$rows.is_empty() {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO message_status_changes (message_id, status, at, carrier_code, error) ",
            );
            q.push_values($rows.iter(), |mut b, r: &crate::rows::StatusChangeRow| {
                b.push_bind(r.message_id.clone())
                    .push_bind(r.status.as_str())
                    .push_bind(r.at)
                    .push_bind(r.carrier_code.clone())
                    .push_bind(r.error.clone());
            });
            q.build().execute($conn).await?;
        }
    };
}
pub(crate) use insert_status_changes;

/// A `message_status_changes` row (selected as `message_id, status, at, carrier_code, error`).
macro_rules! status_change_row {
    ($row:expr) => {
        $crate::rows::StatusChangeRow {
            message_id: $row.try_get("message_id")?,
            status: $crate::rows::decode(
                "message_status_changes.status",
                $row.try_get("status")?,
                parley_core::message::MessageStatus::parse,
            )?,
            at: $row.try_get("at")?,
            carrier_code: $row.try_get("carrier_code")?,
            error: $row.try_get("error")?,
        }
    };
}
pub(crate) use status_change_row;

impl Store {
    /// The delivery timeline of a message, oldest first.
    pub async fn status_changes(&self, message_id: &str) -> Result<Vec<StatusChangeRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT message_id, status, at, carrier_code, error FROM message_status_changes \
                 WHERE message_id = $1 ORDER BY seq",
            )
            .bind(message_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(status_change_row!(row));
            }
            Ok(out)
        })
    }

    /// Held (send-later) messages due at `now`, earliest first, at most `limit`.
    pub async fn held_due(&self, now: i64, limit: i64) -> Result<Vec<MessageRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM messages WHERE held IS NOT NULL AND status = 'scheduled' \
                 AND next_attempt_at <= $1 ORDER BY next_attempt_at, seq LIMIT $2"
            )))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(message_row!(row));
            }
            Ok(out)
        })
    }

    /// Whether any held message is due at `now` (the worker asks before it spends an engine turn).
    pub async fn any_held_due(&self, now: i64) -> Result<bool> {
        dispatch!(self, |pool, DB, begin| {
            let row: Option<(i64,)> = sqlx::query_as(
                "SELECT seq FROM messages WHERE held IS NOT NULL AND status = 'scheduled' AND next_attempt_at <= $1 LIMIT 1",
            )
            .bind(now)
            .fetch_optional(pool)
            .await?;
            Ok(row.is_some())
        })
    }

    /// A chat's messages that wait to be sent later (held, or held back by quiet hours), in order.
    pub async fn scheduled_of_chat(&self, chat_id: &str) -> Result<Vec<MessageRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM messages WHERE chat_id = $1 AND direction = 'out' AND status = 'scheduled' ORDER BY seq"
            )))
            .bind(chat_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(message_row!(row));
            }
            Ok(out)
        })
    }
}
