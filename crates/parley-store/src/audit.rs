//! The audit log of reads: who read which chat (its view, its transcript, its media) and when.
//! Rows are appended and listed, never changed.

use sqlx::{QueryBuilder, Row as _};

use crate::{Result, Store, dispatch, dispatch_write};

/// One read of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRead {
    /// Assigned by the database, increasing; 0 on rows not stored yet.
    pub seq: i64,
    /// "admin" or "agent:ID".
    pub actor: String,
    /// The chat read; `None` for media that belongs to no chat.
    pub chat_id: Option<String>,
    /// What was read: "chat", "transcript" or "media:ID".
    pub what: String,
    /// Epoch milliseconds.
    pub at: i64,
}

/// Which reads to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only reads of this chat.
    pub chat: Option<String>,
    /// Only reads by this actor.
    pub actor: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
}

impl Store {
    /// Appends reads, in order, in one transaction: either all are recorded or none.
    pub async fn record_reads(&self, reads: &[AuditRead]) -> Result<()> {
        if reads.is_empty() {
            return Ok(());
        }
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            for chunk in reads.chunks(crate::CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO audit_reads (actor, chat_id, what, at) ");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.actor.clone()).push_bind(r.chat_id.clone()).push_bind(r.what.clone()).push_bind(r.at);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The reads the filter selects, newest first.
    pub async fn audit_reads(&self, filter: &AuditFilter) -> Result<Vec<AuditRead>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new("SELECT seq, actor, chat_id, what, at FROM audit_reads WHERE 1 = 1");
            if let Some(chat) = &filter.chat {
                q.push(" AND chat_id = ").push_bind(chat.clone());
            }
            if let Some(actor) = &filter.actor {
                q.push(" AND actor = ").push_bind(actor.clone());
            }
            q.push(" ORDER BY seq DESC LIMIT ").push_bind(filter.limit);
            let rows = q.build().fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(AuditRead {
                    seq: row.try_get("seq")?,
                    actor: row.try_get("actor")?,
                    chat_id: row.try_get("chat_id")?,
                    what: row.try_get("what")?,
                    at: row.try_get("at")?,
                });
            }
            Ok(out)
        })
    }
}
