//! Messages and the outbox. An outbound message is its own outbox entry: the sender claims rows in
//! status "queued" (or "sending" rows whose claim expired after a crash), hands them to the carrier and
//! marks the result. A carrier delivery keyed by the message id makes a repeated send harmless.

use sqlx::{QueryBuilder, Row as _};

use parley_core::chat::Purpose;
use parley_core::message::{Direction, MessageStatus};

use crate::rows::{MessageRow, PendingReceiptRow, decode};
use crate::{Result, Store, dispatch, dispatch_write, push_list};

/// The class of the advisory locks an outbox claim takes per phone on PostgreSQL ("phon"): the
/// two-key lock space, apart from the one-key locks of write turns ([`crate::WRITE_LOCK`]).
const PHONE_LOCK_CLASS: i32 = 0x7068_6f6e;

pub(crate) const COLUMNS: &str = "seq, id, chat_id, number, consumer, direction, author, body, media, status, purpose, carrier, \
                       provider_id, attempts, next_attempt_at, error, created_at, updated_at, send_at, held, held_queue, \
                       resend_of, resent_as";

macro_rules! message_row {
    ($row:expr) => {
        MessageRow {
            seq: $row.try_get("seq")?,
            id: $row.try_get("id")?,
            chat_id: $row.try_get("chat_id")?,
            number: $row.try_get("number")?,
            consumer: $row.try_get("consumer")?,
            direction: decode("messages.direction", $row.try_get("direction")?, Direction::parse)?,
            author: $row.try_get("author")?,
            body: $row.try_get("body")?,
            media: $row.try_get("media")?,
            status: decode("messages.status", $row.try_get("status")?, MessageStatus::parse)?,
            purpose: decode("messages.purpose", $row.try_get("purpose")?, Purpose::parse)?,
            carrier: $row.try_get("carrier")?,
            provider_id: $row.try_get("provider_id")?,
            attempts: $row.try_get("attempts")?,
            next_attempt_at: $row.try_get("next_attempt_at")?,
            error: $row.try_get("error")?,
            created_at: $row.try_get("created_at")?,
            updated_at: $row.try_get("updated_at")?,
            send_at: $row.try_get("send_at")?,
            held: $row.try_get("held")?,
            held_queue: $row.try_get("held_queue")?,
            resend_of: $row.try_get("resend_of")?,
            resent_as: $row.try_get("resent_as")?,
        }
    };
}

pub(crate) use message_row;

/// [`MessageStatus::rank`] as SQL over the status column `column`: a receipt may only raise it.
pub(crate) fn status_rank_sql(column: &str) -> String {
    let whens: Vec<String> =
        MessageStatus::ALL.iter().map(|s| format!("WHEN '{}' THEN {}", s.as_str(), s.rank())).collect();
    format!("(CASE {column} {} ELSE 0 END)", whens.join(" "))
}

/// The result of handing one outbox message to its carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Accepted by the carrier (sent) or known to be on the phone (delivered).
    Accepted { status: MessageStatus, provider_id: Option<String> },
    /// Try again at `retry_at` (epoch ms).
    Retry { retry_at: i64, error: String },
    /// Not sent yet for a reason that is not the message's fault (a rate limit, the carrier asking to
    /// slow down): due again at `retry_at`, and the attempt does not count.
    Deferred { retry_at: i64, reason: String },
    /// Not sent and never will be: failed, or suppressed (the consumer opted out).
    Given { status: MessageStatus, error: String },
}

impl Store {
    /// Inbound messages already stored for these provider ids of `carrier`:
    /// `(provider_id, message id, chat id)`.
    pub async fn inbound_seen(
        &self,
        carrier: &str,
        provider_ids: &[String],
    ) -> Result<Vec<(String, String, Option<String>)>> {
        let mut out = Vec::new();
        for chunk in provider_ids.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(
                    "SELECT provider_id, id, chat_id FROM messages WHERE direction = 'in' AND carrier = ",
                );
                q.push_bind(carrier.to_owned());
                q.push(" AND provider_id IN (");
                push_list!(q, chunk);
                for row in q.build().fetch_all(pool).await? {
                    out.push((row.try_get("provider_id")?, row.try_get("id")?, row.try_get("chat_id")?));
                }
            });
        }
        Ok(out)
    }

    /// Every message of a chat, in order.
    pub async fn transcript(&self, chat_id: &str) -> Result<Vec<MessageRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM messages WHERE chat_id = $1 ORDER BY seq"
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

    /// Claims up to `limit` outbound messages that are due, for `lease_ms`. Rows left in "sending" by a
    /// crashed sender become claimable again when their lease runs out.
    pub async fn claim_outbox(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<MessageRow>> {
        self.claim_outbox_except(now, lease_ms, limit, &[]).await
    }

    /// [`Store::claim_outbox`], leaving the messages of the carrier accounts in `skip` to other nodes
    /// (accounts whose SMPP binds another node holds).
    pub async fn claim_outbox_except(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
        skip: &[String],
    ) -> Result<Vec<MessageRow>> {
        // Carrier names come from parley.toml's table keys; they are bound, never spliced.
        let skipped = if skip.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = (0..skip.len()).map(|i| format!("${}", i + 4)).collect();
            format!(" AND m.carrier NOT IN ({})", marks.join(", "))
        };
        // One phone's messages reach it in the order they were written: a message is not claimed while
        // an earlier one to the same phone is in flight (claimed by a sender whose lease still runs), and
        // on PostgreSQL a claim takes a lock per phone for its transaction, so two nodes claiming at the
        // same moment never split one phone's messages (the second skips the phone, as SKIP LOCKED skips
        // rows). A phone's messages that are due together are claimed together, in seq order.
        let phone_lock = match self {
            Store::Sqlite(_) => String::new(),
            Store::Postgres(_) => format!(" AND pg_try_advisory_xact_lock({PHONE_LOCK_CLASS}, hashtext(m.consumer))"),
        };
        let pick = format!(
            "SELECT m.seq FROM messages m WHERE m.direction = 'out' AND m.status IN ('scheduled', 'queued', 'sending') AND m.held IS NULL AND \
             ((m.status IN ('scheduled', 'queued') AND m.next_attempt_at <= $2) OR (m.status = 'sending' AND m.claimed_until <= $2)){skipped} \
             AND NOT EXISTS (SELECT 1 FROM messages e WHERE e.consumer = m.consumer AND e.direction = 'out' \
               AND e.status = 'sending' AND e.claimed_until > $2 AND e.seq < m.seq){phone_lock} \
             ORDER BY m.seq LIMIT $3"
        );
        let sql = match self {
            Store::Sqlite(_) => format!(
                "UPDATE messages SET status = 'sending', claimed_until = $1, attempts = attempts + 1, updated_at = $2 \
                 WHERE seq IN ({pick}) RETURNING {COLUMNS}"
            ),
            // SKIP LOCKED lets any number of nodes run senders side by side.
            Store::Postgres(_) => format!(
                "UPDATE messages SET status = 'sending', claimed_until = $1, attempts = attempts + 1, updated_at = $2 \
                 WHERE seq IN ({pick} FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}"
            ),
        };
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now + lease_ms).bind(now).bind(limit);
            for carrier in skip {
                query = query.bind(carrier.clone());
            }
            let rows = query.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(message_row!(row));
            }
            out.sort_by_key(|m| m.seq);
            Ok(out)
        })
    }

    /// Records what became of claimed messages, in one transaction.
    pub async fn finish_outbox(&self, results: &[(i64, SendResult)], now: i64) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        // One UPDATE per chunk joined to a VALUES list: per-row statements would hold the write lock
        // for thousands of round trips at full outbound speed.
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            for chunk in results.chunks(crate::CHUNK) {
                let mut q =
                    QueryBuilder::<DB>::new("WITH v (seq, status, provider_id, error, next_attempt_at, uncount) AS (");
                let mut first = true;
                for (seq, result) in chunk {
                    let (status, provider_id, error, next_attempt_at, uncount): (
                        MessageStatus,
                        Option<String>,
                        Option<String>,
                        Option<i64>,
                        i64,
                    ) = match result {
                        SendResult::Accepted { status, provider_id } => (*status, provider_id.clone(), None, None, 0),
                        SendResult::Retry { retry_at, error } => {
                            (MessageStatus::Queued, None, Some(error.clone()), Some(*retry_at), 0)
                        }
                        SendResult::Deferred { retry_at, reason } => {
                            (MessageStatus::Queued, None, Some(reason.clone()), Some(*retry_at), 1)
                        }
                        SendResult::Given { status, error } => (*status, None, Some(error.clone()), None, 0),
                    };
                    q.push(if first { "VALUES (" } else { ", (" });
                    first = false;
                    q.push_bind(*seq);
                    q.push(", ");
                    q.push_bind(status.as_str());
                    q.push(", ");
                    q.push_bind(provider_id);
                    q.push(", ");
                    q.push_bind(error);
                    q.push(", ");
                    q.push_bind(next_attempt_at);
                    q.push(", ");
                    q.push_bind(uncount);
                    q.push(")");
                }
                q.push(
                    ") UPDATE messages SET status = v.status, provider_id = COALESCE(v.provider_id, messages.provider_id), \
                     error = v.error, next_attempt_at = COALESCE(v.next_attempt_at, messages.next_attempt_at), \
                     attempts = messages.attempts - v.uncount, updated_at = ",
                );
                q.push_bind(now);
                q.push(
                    " FROM v WHERE messages.seq = v.seq AND messages.status = 'sending' \
                     RETURNING messages.seq, messages.id, messages.status, messages.error",
                );
                let rows = q.build().fetch_all(&mut *tx).await?;
                // The timeline keeps each outcome, but not a wait for a rate limit (see crate::timeline).
                let mut changes = Vec::with_capacity(rows.len());
                for row in rows {
                    let seq: i64 = row.try_get("seq")?;
                    if chunk.iter().any(|(s, r)| *s == seq && matches!(r, SendResult::Deferred { .. })) {
                        continue;
                    }
                    changes.push(crate::rows::StatusChangeRow {
                        message_id: row.try_get("id")?,
                        status: decode("messages.status", row.try_get("status")?, MessageStatus::parse)?,
                        at: now,
                        carrier_code: None,
                        error: row.try_get("error")?,
                    });
                }
                crate::timeline::insert_status_changes!(DB, &mut *tx, changes);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Outbound messages of `carrier` with these provider ids.
    pub async fn outbound_by_provider(&self, carrier: &str, provider_ids: &[String]) -> Result<Vec<MessageRow>> {
        let mut out = Vec::new();
        for chunk in provider_ids.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(format!(
                    "SELECT {COLUMNS} FROM messages WHERE direction = 'out' AND carrier = "
                ));
                q.push_bind(carrier.to_owned());
                q.push(" AND provider_id IN (");
                push_list!(q, chunk);
                for row in q.build().fetch_all(pool).await? {
                    out.push(message_row!(row));
                }
            });
        }
        Ok(out)
    }

    /// Messages by their ids (missing ones are left out).
    pub async fn messages_by_ids(&self, ids: &[String]) -> Result<Vec<MessageRow>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM messages WHERE id IN ("));
                push_list!(q, chunk);
                for row in q.build().fetch_all(pool).await? {
                    out.push(message_row!(row));
                }
            });
        }
        Ok(out)
    }

    /// Receipts kept for these provider ids of `carrier`, oldest first.
    pub async fn pending_receipts(&self, carrier: &str, provider_ids: &[String]) -> Result<Vec<PendingReceiptRow>> {
        let mut out = Vec::new();
        for chunk in provider_ids.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(
                    "SELECT carrier, provider_id, status, error, at FROM receipts_pending WHERE carrier = ",
                );
                q.push_bind(carrier.to_owned());
                q.push(" AND provider_id IN (");
                push_list!(q, chunk);
                q.push(" ORDER BY seq");
                for row in q.build().fetch_all(pool).await? {
                    out.push(PendingReceiptRow {
                        carrier: row.try_get("carrier")?,
                        provider_id: row.try_get("provider_id")?,
                        status: decode("receipts_pending.status", row.try_get("status")?, MessageStatus::parse)?,
                        error: row.try_get("error")?,
                        at: row.try_get("at")?,
                    });
                }
            });
        }
        Ok(out)
    }

    /// For each conversation (business number, consumer) among `consumers`, its oldest outbound message
    /// not sent yet: `(number, consumer, seq, next_attempt_at)`. A later message of the conversation
    /// must not overtake it.
    pub async fn outbox_heads(&self, consumers: &[String]) -> Result<Vec<(String, String, i64, i64)>> {
        let mut out = Vec::new();
        for chunk in consumers.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(
                    "SELECT m.number, m.consumer, m.seq, m.next_attempt_at FROM messages m JOIN \
                     (SELECT MIN(seq) AS head FROM messages WHERE direction = 'out' AND status IN ('queued', 'sending') \
                     AND consumer IN (",
                );
                push_list!(q, chunk);
                q.push(" GROUP BY number, consumer) h ON m.seq = h.head");
                for row in q.build().fetch_all(pool).await? {
                    out.push((
                        row.try_get("number")?,
                        row.try_get("consumer")?,
                        row.try_get("seq")?,
                        row.try_get("next_attempt_at")?,
                    ));
                }
            });
        }
        Ok(out)
    }

    /// Outbound messages by status.
    pub async fn outbound_counts(&self) -> Result<Vec<(String, i64)>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT status, COUNT(*) FROM messages WHERE direction = 'out' GROUP BY status")
                    .fetch_all(pool)
                    .await?;
            Ok(rows)
        })
    }

    /// How many outbound messages wait to be sent at `now`: queued, being sent, or scheduled and due
    /// (those scheduled for later are not waiting yet).
    pub async fn outbox_depth(&self, now: i64) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM messages WHERE direction = 'out' AND (status IN ('queued', 'sending') \
                 OR (status = 'scheduled' AND held IS NULL AND next_attempt_at <= $1))",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            Ok(n)
        })
    }
}

impl Store {
    /// The texts a phone sent that opened no chat (from a blocked phone, to a number not enabled),
    /// newest first, at most `limit`: what admins look at for a blocked phone.
    pub async fn texts_without_chat(&self, consumer: &str, limit: i64) -> Result<Vec<MessageRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM messages WHERE consumer = $1 AND direction = 'in' AND chat_id IS NULL \
                 ORDER BY seq DESC LIMIT $2"
            )))
            .bind(consumer)
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
}
