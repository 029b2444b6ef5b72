//! Inbound media (MMS): rows written with their message, bytes fetched later by the media worker.

use sqlx::{QueryBuilder, Row as _};

use crate::rows::MediaRow;
use crate::{Result, Store, dispatch, dispatch_write, push_list};

const COLUMNS: &str =
    "id, message_id, chat_id, carrier, source_url, content_type, size, status, attempts, error, created_at";

macro_rules! media_row {
    ($row:expr) => {
        MediaRow {
            id: $row.try_get("id")?,
            message_id: $row.try_get("message_id")?,
            chat_id: $row.try_get("chat_id")?,
            carrier: $row.try_get("carrier")?,
            source_url: $row.try_get("source_url")?,
            content_type: $row.try_get("content_type")?,
            size: $row.try_get("size")?,
            status: $row.try_get("status")?,
            attempts: $row.try_get("attempts")?,
            error: $row.try_get("error")?,
            created_at: $row.try_get("created_at")?,
        }
    };
}

/// What became of one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaResult {
    Stored {
        content_type: String,
        data: Vec<u8>,
    },
    /// The carrier offers no download: keep the source URL only.
    Linked,
    Retry {
        retry_at: i64,
        error: String,
    },
    Failed {
        error: String,
    },
}

/// Inserts media rows with one statement per chunk; used by the engine's batch.
macro_rules! insert_media_rows {
    ($db:ty, $conn:expr, $rows:expr) => {
        if !$rows.is_empty() {
            let mut q = QueryBuilder::<$db>::new(
                "INSERT INTO media (id, message_id, chat_id, carrier, source_url, content_type, size, status, attempts, \
                 created_at, updated_at) ",
            );
            q.push_values($rows.iter(), |mut b, m: &MediaRow| {
                b.push_bind(m.id.clone())
                    .push_bind(m.message_id.clone())
                    .push_bind(m.chat_id.clone())
                    .push_bind(m.carrier.clone())
                    .push_bind(m.source_url.clone())
                    .push_bind(m.content_type.clone())
                    .push_bind(m.size)
                    .push_bind(m.status.clone())
                    .push_bind(m.attempts)
                    .push_bind(m.created_at)
                    .push_bind(m.created_at);
            });
            q.build().execute($conn).await?;
        }
    };
}
pub(crate) use insert_media_rows;

impl Store {
    /// Claims media due for fetching, for `lease_ms`.
    pub async fn claim_media(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<MediaRow>> {
        let pick = "SELECT id FROM media WHERE status IN ('pending', 'fetching') AND \
                    ((status = 'pending' AND next_attempt_at <= $2) OR (status = 'fetching' AND claimed_until <= $2)) \
                    ORDER BY created_at LIMIT $3";
        let lock = match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE media SET status = 'fetching', claimed_until = $1, attempts = attempts + 1, updated_at = $2 \
             WHERE id IN ({pick}{lock}) RETURNING {COLUMNS}"
        );
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now + lease_ms)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(media_row!(row));
            }
            out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            Ok(out)
        })
    }

    /// Records what became of a fetch.
    pub async fn finish_media(&self, id: &str, result: &MediaResult, now: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            match result {
                MediaResult::Stored { content_type, data } => {
                    sqlx::query(
                        "UPDATE media SET status = 'stored', content_type = $1, data = $2, size = $3, error = NULL, \
                         updated_at = $4 WHERE id = $5",
                    )
                    .bind(content_type.clone())
                    .bind(data.clone())
                    .bind(i64::try_from(data.len()).unwrap_or(i64::MAX))
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                MediaResult::Linked => {
                    sqlx::query("UPDATE media SET status = 'linked', updated_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                MediaResult::Retry { retry_at, error } => {
                    sqlx::query(
                        "UPDATE media SET status = 'pending', next_attempt_at = $1, error = $2, updated_at = $3 WHERE id = $4",
                    )
                    .bind(retry_at)
                    .bind(error.clone())
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                MediaResult::Failed { error } => {
                    sqlx::query("UPDATE media SET status = 'failed', error = $1, updated_at = $2 WHERE id = $3")
                        .bind(error.clone())
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The media of these messages.
    pub async fn media_of_messages(&self, message_ids: &[String]) -> Result<Vec<MediaRow>> {
        let mut out = Vec::new();
        for chunk in message_ids.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM media WHERE message_id IN ("));
                push_list!(q, chunk);
                q.push(" ORDER BY created_at, id");
                for row in q.build().fetch_all(pool).await? {
                    out.push(media_row!(row));
                }
            });
        }
        Ok(out)
    }

    /// One piece of media and its bytes (empty until stored).
    pub async fn media(&self, id: &str) -> Result<Option<(MediaRow, Vec<u8>)>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS}, data FROM media WHERE id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            match row {
                None => Ok(None),
                Some(row) => {
                    let data: Option<Vec<u8>> = row.try_get("data")?;
                    Ok(Some((media_row!(row), data.unwrap_or_default())))
                }
            }
        })
    }
}
