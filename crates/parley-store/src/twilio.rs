//! The Twilio-compatible Messages API's rows (`twilio_messages`, migration 0027): which messages it
//! sent, with the campaign named as `MessagingServiceSid`, and the status callbacks still owed.
//!
//! The callback queue is each message's own timeline: `message_status_changes` rows are committed in the
//! same transaction as the status they record, so a callback can never be lost between a status change
//! and its queueing. `delivered_seq` is the cursor of the last change delivered (or given up on); a
//! node claims a message's next change with a lease (`claimed_until`), so one node at a time delivers
//! it, in timeline order. The key's token, kept for signing, is dropped once the message is final and
//! every change was delivered or given up on.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row as _};

use parley_core::chat::Purpose;
use parley_core::message::{Direction, MessageStatus};

use crate::messages::{COLUMNS, message_row};
use crate::rows::{MessageRow, StatusChangeRow, decode};
use crate::{Result, Store, dispatch, dispatch_write, push_list};

/// A message sent through the Twilio-compatible API, to record beside its `messages` row.
#[derive(Clone, PartialEq, Eq)]
pub struct NewTwilioMessage {
    pub message_id: String,
    /// The key that sent it (`SK…`); `None` for the bootstrap admin token.
    pub key_id: Option<String>,
    pub messaging_service_sid: Option<String>,
    /// `StatusCallback` and the token its requests are signed with.
    pub callback: Option<(String, String)>,
    pub created_at: i64,
}

impl std::fmt::Debug for NewTwilioMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTwilioMessage")
            .field("message_id", &self.message_id)
            .field("key_id", &self.key_id)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("callback", &self.callback.as_ref().map(|(url, _)| url))
            .finish_non_exhaustive()
    }
}

/// Which sent messages [`Store::twilio_sent`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentFilter {
    /// The consumer's phone.
    pub to: Option<String>,
    /// The business number.
    pub from: Option<String>,
    /// Created at or after (epoch ms).
    pub since: Option<i64>,
    /// Created before (epoch ms).
    pub until: Option<i64>,
    /// Only messages older than this one (`seq`): a page token.
    pub before_seq: Option<i64>,
    /// Only messages newer than this one (`seq`), the oldest of them first: a page token going back.
    pub after_seq: Option<i64>,
    /// Skip this many first.
    pub offset: i64,
    pub limit: i64,
}

/// A status callback due now, claimed by this node.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackDue {
    pub message_id: String,
    pub url: String,
    /// The token the request is signed with.
    pub auth_token: String,
    /// Tries of this change so far.
    pub attempts: i64,
    pub to: String,
    pub from: String,
    /// The timeline row to deliver.
    pub seq: i64,
    pub status: MessageStatus,
    pub carrier_code: Option<String>,
    pub error: Option<String>,
}

impl std::fmt::Debug for CallbackDue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackDue")
            .field("message_id", &self.message_id)
            .field("url", &self.url)
            .field("seq", &self.seq)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What became of one callback attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// Answered 2xx: the next change follows.
    Delivered,
    /// Failed; tried again at `at` (epoch ms).
    Retry { at: i64, error: String },
    /// Failed for the last time: the next change follows.
    GaveUp { error: String },
}

/// Where a message's status callbacks are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackState {
    /// Whether the token for signing is still kept.
    pub token_kept: bool,
    /// When its last callback was delivered or given up (epoch ms).
    pub finished_at: Option<i64>,
    /// Tries of the change now owed.
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Statuses after which a message changes no more.
const FINAL: &str = "'delivered', 'undelivered', 'failed', 'suppressed', 'canceled'";

impl Store {
    /// The `MessagingServiceSid` each of `ids` was sent with, for those sent through the
    /// Twilio-compatible API (`None`: sent with `From`).
    pub async fn twilio_service_sids(&self, ids: &[String]) -> Result<HashMap<String, Option<String>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(
                "SELECT message_id, messaging_service_sid FROM twilio_messages WHERE message_id IN (",
            );
            push_list!(q, ids);
            let rows: Vec<(String, Option<String>)> = q.build_query_as().fetch_all(pool).await?;
            Ok(rows.into_iter().collect())
        })
    }

    /// Where the status callbacks of `message_id` are; `None` when it asked for none.
    pub async fn twilio_callback(&self, message_id: &str) -> Result<Option<CallbackState>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(
                "SELECT CASE WHEN auth_token IS NULL THEN 0 ELSE 1 END AS kept, finished_at, attempts, last_error \
                 FROM twilio_messages WHERE message_id = $1 AND callback_url IS NOT NULL",
            )
            .bind(message_id)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(CallbackState {
                token_kept: row.try_get::<i32, _>("kept")? == 1,
                finished_at: row.try_get("finished_at")?,
                attempts: row.try_get("attempts")?,
                last_error: row.try_get("last_error")?,
            }))
        })
    }

    /// The messages the Twilio-compatible API sent, newest first (oldest first with `after_seq`).
    pub async fn twilio_sent(&self, f: &SentFilter) -> Result<Vec<MessageRow>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT {COLUMNS} FROM messages WHERE direction = '{}' \
                 AND id IN (SELECT message_id FROM twilio_messages)",
                Direction::Out.as_str()
            ));
            if let Some(to) = &f.to {
                q.push(" AND consumer = ").push_bind(to.clone());
            }
            if let Some(from) = &f.from {
                q.push(" AND number = ").push_bind(from.clone());
            }
            if let Some(since) = f.since {
                q.push(" AND created_at >= ").push_bind(since);
            }
            if let Some(until) = f.until {
                q.push(" AND created_at < ").push_bind(until);
            }
            if let Some(before) = f.before_seq {
                q.push(" AND seq < ").push_bind(before);
            }
            if let Some(after) = f.after_seq {
                q.push(" AND seq > ").push_bind(after);
            }
            q.push(if f.after_seq.is_some() { " ORDER BY seq ASC" } else { " ORDER BY seq DESC" });
            q.push(" LIMIT ").push_bind(f.limit).push(" OFFSET ").push_bind(f.offset);
            let rows = q.build().fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(message_row!(row));
            }
            Ok(out)
        })
    }

    /// The timelines of `ids`, each oldest first.
    pub async fn status_changes_of(&self, ids: &[String]) -> Result<Vec<StatusChangeRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(
                "SELECT message_id, status, at, carrier_code, error FROM message_status_changes WHERE message_id IN (",
            );
            push_list!(q, ids);
            q.push(" ORDER BY seq");
            let rows = q.build().fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(crate::timeline::status_change_row!(row));
            }
            Ok(out)
        })
    }

    /// Claims up to `limit` messages whose next status change is owed to their callback and due at
    /// `now`, for `lease_ms`: each claim is one conditional update, so of two nodes only one gets it.
    pub async fn claim_twilio_callbacks(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<CallbackDue>> {
        let candidates = dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT t.message_id, t.callback_url, t.auth_token, t.attempts, m.consumer, m.number, \
                 s.seq, s.status, s.carrier_code, s.error \
                 FROM twilio_messages t JOIN messages m ON m.id = t.message_id \
                 JOIN message_status_changes s ON s.seq = (SELECT MIN(c.seq) FROM message_status_changes c \
                   WHERE c.message_id = t.message_id AND c.seq > t.delivered_seq) \
                 WHERE t.callback_url IS NOT NULL AND t.auth_token IS NOT NULL AND t.finished_at IS NULL \
                 AND t.next_attempt_at <= $1 AND t.claimed_until <= $1 \
                 ORDER BY t.next_attempt_at, s.seq LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(CallbackDue {
                    message_id: row.try_get("message_id")?,
                    url: row.try_get("callback_url")?,
                    auth_token: row.try_get("auth_token")?,
                    attempts: row.try_get("attempts")?,
                    to: row.try_get("consumer")?,
                    from: row.try_get("number")?,
                    seq: row.try_get("seq")?,
                    status: decode("message_status_changes.status", row.try_get("status")?, MessageStatus::parse)?,
                    carrier_code: row.try_get("carrier_code")?,
                    error: row.try_get("error")?,
                });
            }
            out
        });
        let mut claimed = Vec::with_capacity(candidates.len());
        for due in candidates {
            let taken = dispatch_write!(self, |pool, DB, begin| {
                sqlx::query(
                    "UPDATE twilio_messages SET claimed_until = $1 WHERE message_id = $2 AND claimed_until <= $3 \
                     AND finished_at IS NULL AND delivered_seq < $4",
                )
                .bind(now + lease_ms)
                .bind(&due.message_id)
                .bind(now)
                .bind(due.seq)
                .execute(pool)
                .await?
                .rows_affected()
            });
            if taken == 1 {
                claimed.push(due);
            }
        }
        Ok(claimed)
    }

    /// Records what became of the callback for the timeline row `seq` of `message_id`, and frees the
    /// claim.
    pub async fn finish_twilio_callback(&self, message_id: &str, seq: i64, outcome: &CallbackOutcome) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            match outcome {
                CallbackOutcome::Delivered => {
                    sqlx::query(
                        "UPDATE twilio_messages SET delivered_seq = $1, attempts = 0, claimed_until = 0, \
                         last_error = NULL WHERE message_id = $2 AND delivered_seq < $1",
                    )
                    .bind(seq)
                    .bind(message_id)
                    .execute(pool)
                    .await?;
                }
                CallbackOutcome::GaveUp { error } => {
                    sqlx::query(
                        "UPDATE twilio_messages SET delivered_seq = $1, attempts = 0, claimed_until = 0, \
                         last_error = $2 WHERE message_id = $3 AND delivered_seq < $1",
                    )
                    .bind(seq)
                    .bind(error)
                    .bind(message_id)
                    .execute(pool)
                    .await?;
                }
                CallbackOutcome::Retry { at, error } => {
                    sqlx::query(
                        "UPDATE twilio_messages SET attempts = attempts + 1, next_attempt_at = $1, claimed_until = 0, \
                         last_error = $2 WHERE message_id = $3 AND delivered_seq < $4",
                    )
                    .bind(at)
                    .bind(error)
                    .bind(message_id)
                    .bind(seq)
                    .execute(pool)
                    .await?;
                }
            }
            Ok(())
        })
    }

    /// Ends the callbacks of messages that are final (or gone: purged, erased) and owe nothing more,
    /// and of messages sent before `stale_before` whatever they owe (a message never receipted stays
    /// "sent"), dropping the token kept for signing. Returns how many ended.
    pub async fn close_twilio_callbacks(&self, now: i64, stale_before: i64) -> Result<u64> {
        let done = |stale: &str| {
            format!(
                "finished_at IS NULL AND callback_url IS NOT NULL AND (created_at < {stale} OR (\
                 NOT EXISTS (SELECT 1 FROM message_status_changes s WHERE s.message_id = twilio_messages.message_id \
                   AND s.seq > twilio_messages.delivered_seq) \
                 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = twilio_messages.message_id \
                   AND m.status NOT IN ({FINAL}))))"
            )
        };
        // Looks first without writing, so an idle round takes no write lock.
        let any: Option<(String,)> = dispatch!(self, |pool, DB, begin| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT message_id FROM twilio_messages WHERE {} LIMIT 1",
                done("$1")
            )))
            .bind(stale_before)
            .fetch_optional(pool)
            .await?
        });
        if any.is_none() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE twilio_messages SET finished_at = $1, auth_token = NULL, claimed_until = 0 WHERE {}",
            done("$2")
        );
        dispatch_write!(self, |pool, DB, begin| {
            Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(stale_before).execute(pool).await?.rows_affected())
        })
    }
}
