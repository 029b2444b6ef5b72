//! Media (MMS). Inbound: rows written with their message, bytes fetched later by the media worker.
//! Outbound: uploads stored at once with their uploader, linked to the message they are sent with in
//! the engine's batch ([`MediaLink`]); uploads never attached are deleted after a day.

use sqlx::{QueryBuilder, Row as _};

use crate::rows::{MediaRow, MediaStatus, decode};
use crate::{Result, Store, dispatch, dispatch_write, push_list};

const COLUMNS: &str = "id, message_id, chat_id, carrier, source_url, content_type, size, status, attempts, error, \
                       created_at, uploaded_by";

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
            status: decode("media.status", $row.try_get("status")?, MediaStatus::parse)?,
            attempts: $row.try_get("attempts")?,
            error: $row.try_get("error")?,
            created_at: $row.try_get("created_at")?,
            uploaded_by: $row.try_get("uploaded_by")?,
        }
    };
}

/// An upload attached to the message it is sent with, written in the engine's batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLink {
    pub media_id: String,
    pub message_id: String,
    /// The message's chat (none for a sessionless message): who may see the chat may see the media.
    pub chat_id: Option<String>,
    pub at: i64,
}

/// An upload to store: its bytes are checked by the caller (type, size, magic numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub id: String,
    pub content_type: String,
    pub data: Vec<u8>,
    /// "agent:ID" or "admin".
    pub uploaded_by: String,
    pub at: i64,
}

/// The carrier column of uploaded media: not fetched from any carrier.
pub const UPLOAD_CARRIER: &str = "upload";

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
                    .push_bind(m.status.as_str())
                    .push_bind(m.attempts)
                    .push_bind(m.created_at)
                    .push_bind(m.created_at);
            });
            q.build().execute($conn).await?;
        }
    };
}
pub(crate) use insert_media_rows;

/// Media claimed for download by one claimer. `claimed_until` ends the claim's lease and also names
/// the claim: a later claim of the same row always ends later, so a download finished by a claimer
/// whose lease ran out and was taken over is recognized and dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaClaim {
    pub media: MediaRow,
    pub claimed_until: i64,
}

impl Store {
    /// Claims media due for fetching, for `lease_ms`.
    pub async fn claim_media(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<MediaRow>> {
        Ok(self.claim_media_downloads(now, lease_ms, limit).await?.into_iter().map(|c| c.media).collect())
    }

    /// Claims up to `limit` pieces of media due for fetching (pending and due, or left "fetching" by a
    /// claimer whose lease ran out), for `lease_ms`, oldest first. On PostgreSQL rows another node is
    /// claiming at the same moment are skipped, not waited for.
    pub async fn claim_media_downloads(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<MediaClaim>> {
        let pick = "SELECT id FROM media WHERE status IN ('pending', 'fetching') AND \
                    ((status = 'pending' AND next_attempt_at <= $2) OR (status = 'fetching' AND claimed_until <= $2)) \
                    ORDER BY created_at LIMIT $3";
        let lock = match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE media SET status = 'fetching', claimed_until = $1, attempts = attempts + 1, updated_at = $2 \
             WHERE id IN ({pick}{lock}) RETURNING {COLUMNS}, claimed_until"
        );
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now.saturating_add(lease_ms))
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(MediaClaim { media: media_row!(row), claimed_until: row.try_get("claimed_until")? });
            }
            out.sort_by(|a, b| (a.media.created_at, &a.media.id).cmp(&(b.media.created_at, &b.media.id)));
            Ok(out)
        })
    }

    /// Records what became of a fetch of media being fetched, whoever claimed it.
    pub async fn finish_media(&self, id: &str, result: &MediaResult, now: i64) -> Result<()> {
        self.finish_fetch(id, None, result, now).await.map(|_| ())
    }

    /// Records what became of the download `claim`, if the claim still stands (no other claimer took
    /// the row over after its lease ran out). Returns whether it did; when it did not, the result is
    /// dropped and the other claimer's counts.
    pub async fn finish_media_download(&self, claim: &MediaClaim, result: &MediaResult, now: i64) -> Result<bool> {
        self.finish_fetch(&claim.media.id, Some(claim.claimed_until), result, now).await
    }

    async fn finish_fetch(&self, id: &str, claim: Option<i64>, result: &MediaResult, now: i64) -> Result<bool> {
        // What each result writes; `None` keeps the column as it is (error: cleared unless given).
        let (status, content_type, data, next_attempt_at, error): (MediaStatus, _, _, _, _) = match result {
            MediaResult::Stored { content_type, data } => {
                (MediaStatus::Stored, Some(content_type.clone()), Some(data.clone()), None, None)
            }
            MediaResult::Linked => (MediaStatus::Linked, None, None, None, None),
            MediaResult::Retry { retry_at, error } => {
                (MediaStatus::Pending, None, None, Some(*retry_at), Some(error.clone()))
            }
            MediaResult::Failed { error } => (MediaStatus::Failed, None, None, None, Some(error.clone())),
        };
        let size = data.as_ref().map(|d: &Vec<u8>| i64::try_from(d.len()).unwrap_or(i64::MAX));
        // Only a row still being fetched (by this claim, when one is named) takes a result: a late
        // answer never overwrites what a newer claimer stored.
        let updated = dispatch_write!(self, |pool, DB, begin| {
            sqlx::query(
                "UPDATE media SET status = $1, content_type = COALESCE($2, content_type), data = COALESCE($3, data), \
                 size = COALESCE($4, size), next_attempt_at = COALESCE($5, next_attempt_at), error = $6, \
                 updated_at = $7 WHERE id = $8 AND status = 'fetching' AND ($9 IS NULL OR claimed_until = $9)",
            )
            .bind(status.as_str())
            .bind(content_type)
            .bind(data)
            .bind(size)
            .bind(next_attempt_at)
            .bind(error)
            .bind(now)
            .bind(id)
            .bind(claim)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
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

    /// Stores an upload (status stored, attached to no message yet).
    pub async fn insert_upload(&self, upload: &NewUpload) -> Result<MediaRow> {
        let size = i64::try_from(upload.data.len()).unwrap_or(i64::MAX);
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query(
                "INSERT INTO media (id, message_id, chat_id, carrier, source_url, content_type, size, data, status, \
                 attempts, created_at, updated_at, uploaded_by) \
                 VALUES ($1, NULL, NULL, $2, '', $3, $4, $5, 'stored', 0, $6, $6, $7)",
            )
            .bind(&upload.id)
            .bind(UPLOAD_CARRIER)
            .bind(&upload.content_type)
            .bind(size)
            .bind(&upload.data)
            .bind(upload.at)
            .bind(&upload.uploaded_by)
            .execute(pool)
            .await?;
        });
        Ok(MediaRow {
            id: upload.id.clone(),
            message_id: None,
            chat_id: None,
            carrier: UPLOAD_CARRIER.to_owned(),
            source_url: String::new(),
            content_type: upload.content_type.clone(),
            size,
            status: MediaStatus::Stored,
            attempts: 0,
            error: None,
            created_at: upload.at,
            uploaded_by: Some(upload.uploaded_by.clone()),
        })
    }

    /// The media with these ids (without their bytes), in no particular order; unknown ids are left out.
    pub async fn media_by_ids(&self, ids: &[String]) -> Result<Vec<MediaRow>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM media WHERE id IN ("));
                push_list!(q, chunk);
                for row in q.build().fetch_all(pool).await? {
                    out.push(media_row!(row));
                }
            });
        }
        Ok(out)
    }

    /// Deletes uploads never attached to a message that were made before `cutoff`; returns how many.
    pub async fn delete_unattached_uploads(&self, cutoff: i64) -> Result<u64> {
        Ok(dispatch_write!(self, |pool, DB, begin| {
            sqlx::query("DELETE FROM media WHERE message_id IS NULL AND uploaded_by IS NOT NULL AND created_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// The signing key named `name`, shared by every node: the stored one, or `fresh` stored now when
    /// there is none yet (the first node to store one wins; the others read it back).
    pub async fn signing_key(&self, name: &str, fresh: &str, now: i64) -> Result<String> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query(
                "INSERT INTO signing_keys (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(fresh)
            .bind(now)
            .execute(pool)
            .await?;
            let row = sqlx::query("SELECT secret FROM signing_keys WHERE name = $1").bind(name).fetch_one(pool).await?;
            Ok(row.try_get("secret")?)
        })
    }
}
