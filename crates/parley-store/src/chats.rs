//! Chat queries.

use sqlx::{QueryBuilder, Row as _};

use parley_core::chat::ChatStatus;

use crate::rows::{ChatRow, decode};
use crate::{Result, Store, StoreError, dispatch, push_list};

const COLUMNS: &str = "id, number, consumer, origin, status, queue, agent, opened_at, queued_at, offered_at, \
                       last_message_at, warned_at, due_at, transfer, menu_level, start_type, language, answered_at, \
                       awaiting_reply_since, wait_since, after_hours_until, ended_at, end_reason, ended_by, updated_at, \
                       agent_message_at, dismissed_at, ticket_id, context";

macro_rules! chat_row {
    ($row:expr) => {
        ChatRow {
            id: $row.try_get("id")?,
            number: $row.try_get("number")?,
            consumer: $row.try_get("consumer")?,
            origin: $row.try_get("origin")?,
            status: decode("chats.status", $row.try_get("status")?, ChatStatus::parse)?,
            queue: $row.try_get("queue")?,
            agent: $row.try_get("agent")?,
            opened_at: $row.try_get("opened_at")?,
            queued_at: $row.try_get("queued_at")?,
            offered_at: $row.try_get("offered_at")?,
            last_message_at: $row.try_get("last_message_at")?,
            warned_at: $row.try_get("warned_at")?,
            due_at: $row.try_get("due_at")?,
            transfer: $row.try_get("transfer")?,
            menu_level: $row.try_get("menu_level")?,
            start_type: $row.try_get("start_type")?,
            language: $row.try_get("language")?,
            answered_at: $row.try_get("answered_at")?,
            awaiting_reply_since: $row.try_get("awaiting_reply_since")?,
            agent_message_at: $row.try_get("agent_message_at")?,
            dismissed_at: $row.try_get("dismissed_at")?,
            wait_since: $row.try_get("wait_since")?,
            after_hours_until: $row.try_get("after_hours_until")?,
            ended_at: $row.try_get("ended_at")?,
            end_reason: $row.try_get("end_reason")?,
            ended_by: $row.try_get("ended_by")?,
            updated_at: $row.try_get("updated_at")?,
            ticket_id: $row.try_get("ticket_id")?,
            context: $row.try_get("context")?,
        }
    };
}

/// Which chats a listing wants. Every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct ChatFilter {
    /// Statuses to include; empty means all.
    pub statuses: Vec<ChatStatus>,
    /// Queues to include; `None` means every queue (and chats without one).
    pub queues: Option<Vec<String>>,
    /// With `queues`: the chats in no queue of these business numbers too (still in the menu, or
    /// direct numbers' chats).
    pub menu_numbers: Vec<String>,
    /// With `queues`: the voice calls' SMS threads (start type `call`) of this agent too.
    pub thread_agent: Option<String>,
    /// Only chats offered to or handled by this agent.
    pub agent: Option<String>,
    /// Only chats of this queue.
    pub queue: Option<String>,
    /// Only chats of this consumer (E.164).
    pub consumer: Option<String>,
    /// Text to find: chats with a message holding all these words, or (with `digits`) whose consumer's
    /// number holds these digits.
    pub text: Option<String>,
    /// With `text`: digits that may match the consumer's number instead.
    pub digits: Option<String>,
    /// With `digits`: the queues whose chats may match by number (`None`: all); the others show their
    /// number masked, so a search must not reveal it.
    pub digits_queues: Option<Vec<String>>,
    /// Opened at or after this moment (ms).
    pub opened_from: Option<i64>,
    /// Opened before this moment (ms).
    pub opened_before: Option<i64>,
    /// Keyset page: only chats older than this `(opened_at, id)` in the listing's order.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// At most this many messages found by words have their chats handed to the listing by id. Rare words
/// are looked up first and the few chats that hold them fetched by id, newest first; words so common
/// that more messages hold them are matched while the listing walks the chats newest first, which
/// stops at its page well before the end. Either way a search stays fast at a million chats
/// (BENCHMARKS.md).
const FEW_MATCHES: usize = 2_000;

/// FTS5 query text that matches messages holding every word of `text` (each word quoted, so no
/// character of it is FTS5 syntax).
fn fts5_words(text: &str) -> String {
    text.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

impl Store {
    /// One chat.
    pub async fn chat(&self, id: &str) -> Result<ChatRow> {
        self.chats_by_ids(&[id.to_owned()]).await?.into_iter().next().ok_or(StoreError::NotFound)
    }

    /// The chats with these ids (missing ones are left out).
    pub async fn chats_by_ids(&self, ids: &[String]) -> Result<Vec<ChatRow>> {
        self.chats_where("id", ids, false).await
    }

    /// The chats opened in `[from, to)`, oldest first (reports).
    pub async fn chats_opened_between(&self, from: i64, to: i64) -> Result<Vec<ChatRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM chats WHERE opened_at >= $1 AND opened_at < $2 ORDER BY opened_at, id");
        self.chats_selected(sql, &[from, to]).await
    }

    /// The chats opened in `[from, to)` that have not finished, oldest first (reports fold them).
    pub async fn live_chats_opened_between(&self, from: i64, to: i64) -> Result<Vec<ChatRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM chats WHERE status <> 'finished' AND opened_at >= $1 AND opened_at < $2 \
             ORDER BY opened_at, id"
        );
        self.chats_selected(sql, &[from, to]).await
    }

    /// Every live chat, oldest first (by the partial index of the live ones).
    pub async fn live_chats(&self) -> Result<Vec<ChatRow>> {
        let sql = format!("SELECT {COLUMNS} FROM chats WHERE status <> 'finished' ORDER BY opened_at");
        self.chats_selected(sql, &[]).await
    }

    /// The live chats and those that ended at or after `since`, oldest first (the live monitor).
    pub async fn chats_live_or_ended_since(&self, since: i64) -> Result<Vec<ChatRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM chats WHERE status <> 'finished' \
             UNION ALL SELECT {COLUMNS} FROM chats WHERE status = 'finished' AND ended_at >= $1 ORDER BY opened_at, id"
        );
        self.chats_selected(sql, &[since]).await
    }

    /// The chats a query of this module selects (`{COLUMNS}`, numbers bound in order).
    async fn chats_selected(&self, sql: String, binds: &[i64]) -> Result<Vec<ChatRow>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for value in binds {
                q = q.bind(*value);
            }
            let rows = q.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(chat_row!(row));
            }
            Ok(out)
        })
    }

    /// How many live chats have a timer due at `now`.
    pub async fn due_chat_count(&self, now: i64) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM chats WHERE status <> 'finished' AND due_at IS NOT NULL AND due_at <= $1",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            Ok(n)
        })
    }

    /// How many chats wait (queued, not offered) in each queue.
    pub async fn waiting_counts(&self) -> Result<Vec<(String, i64)>> {
        dispatch!(self, |pool, DB, begin| {
            Ok(sqlx::query_as(
                "SELECT queue, COUNT(*) FROM chats WHERE status = 'queued' AND queue IS NOT NULL GROUP BY queue",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// How many chats waiting in `queue` joined it before the chat `id`, which joined at `queued_at`
    /// (ids break ties, as the queue is served).
    pub async fn waiting_ahead(&self, queue: &str, queued_at: i64, id: &str) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM chats WHERE status = 'queued' AND queue = $1 \
                 AND (queued_at < $2 OR (queued_at = $2 AND id < $3))",
            )
            .bind(queue)
            .bind(queued_at)
            .bind(id)
            .fetch_one(pool)
            .await?;
            Ok(n)
        })
    }

    /// The average handle time in seconds (first answer to end) per queue, over the chats that ended
    /// since `since` after an agent took them.
    pub async fn handle_times(&self, since: i64) -> Result<Vec<(String, i64)>> {
        dispatch!(self, |pool, DB, begin| {
            Ok(sqlx::query_as(
                "SELECT queue, CAST(AVG(ended_at - answered_at) / 1000 AS BIGINT) FROM chats \
                 WHERE answered_at IS NOT NULL AND ended_at >= $1 AND queue IS NOT NULL GROUP BY queue",
            )
            .bind(since)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Per queue, of the chats that waited in it and ended since `since` (epoch ms): how many, and how
    /// many ended before an agent took them (the abandonment the wait estimate counts with).
    pub async fn abandonment(&self, since: i64) -> Result<Vec<(String, i64, i64)>> {
        dispatch!(self, |pool, DB, begin| {
            Ok(sqlx::query_as(
                "SELECT queue, COUNT(*), CAST(SUM(CASE WHEN answered_at IS NULL THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM chats WHERE queued_at IS NOT NULL AND ended_at >= $1 AND queue IS NOT NULL GROUP BY queue",
            )
            .bind(since)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The live (not finished) chats of these consumer phones.
    pub async fn live_chats_of(&self, consumers: &[String]) -> Result<Vec<ChatRow>> {
        self.chats_where("consumer", consumers, true).await
    }

    /// The number and queue of `consumer`'s latest chat in one of `queues` (the sender a chat the
    /// business starts there keeps, so the consumer's thread stays on one number).
    pub async fn latest_in_queues(&self, consumer: &str, queues: &[String]) -> Result<Option<(String, String)>> {
        if queues.is_empty() {
            return Ok(None);
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new("SELECT number, queue FROM chats WHERE consumer = ");
            q.push_bind(consumer.to_owned());
            q.push(" AND queue IN (");
            push_list!(q, queues);
            q.push(" ORDER BY opened_at DESC, id DESC LIMIT 1");
            Ok(q.build_query_as::<(String, String)>().fetch_optional(pool).await?)
        })
    }

    async fn chats_where(&self, column: &'static str, values: &[String], live_only: bool) -> Result<Vec<ChatRow>> {
        let mut out = Vec::new();
        for chunk in values.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM chats WHERE {column} IN ("));
                push_list!(q, chunk);
                if live_only {
                    q.push(" AND status <> 'finished'");
                }
                for row in q.build().fetch_all(pool).await? {
                    out.push(chat_row!(row));
                }
            });
        }
        Ok(out)
    }

    /// The chats of the messages holding every word of `text`, if at most [`FEW_MATCHES`] messages
    /// do; `None` when more do. (Counting messages, not chats, lets the index stop at the limit.)
    async fn chats_with_words(&self, text: &str) -> Result<Option<Vec<String>>> {
        let limit = i64::try_from(FEW_MATCHES + 1).unwrap_or(i64::MAX);
        let found: Vec<Option<String>> = dispatch!(self, |pool, DB, begin| {
            let rows = match self {
                Store::Sqlite(_) => {
                    sqlx::query(
                        "SELECT m.chat_id FROM messages_fts f JOIN messages m ON m.seq = f.rowid \
                         WHERE messages_fts MATCH $1 LIMIT $2",
                    )
                    .bind(fts5_words(text))
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
                }
                Store::Postgres(_) => {
                    sqlx::query(
                        "SELECT chat_id FROM messages WHERE to_tsvector('simple', body) @@ \
                         plainto_tsquery('simple', $1) LIMIT $2",
                    )
                    .bind(text)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
                }
            };
            rows.iter().map(|r| r.try_get("chat_id")).collect::<std::result::Result<_, _>>()?
        });
        if found.len() > FEW_MATCHES {
            return Ok(None);
        }
        let ids: std::collections::BTreeSet<String> = found.into_iter().flatten().collect();
        Ok(Some(ids.into_iter().collect()))
    }

    /// Chats for a listing, newest first.
    pub async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<ChatRow>> {
        if filter.queues.as_ref().is_some_and(Vec::is_empty)
            && filter.menu_numbers.is_empty()
            && filter.thread_agent.is_none()
        {
            return Ok(vec![]);
        }
        let text = filter.text.as_deref().filter(|t| !t.trim().is_empty());
        let few = match text {
            Some(text) => self.chats_with_words(text).await?,
            None => None,
        };
        // A common word is checked per chat as the listing walks the chats newest first. SQLite would
        // rather start from a filter's index (queue, agent) and check every chat it names before
        // sorting, which is seconds at a million chats; walking in order stops at the page.
        let walk = if text.is_some() && few.is_none() && matches!(self, Store::Sqlite(_)) {
            " INDEXED BY chats_opened"
        } else {
            ""
        };
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM chats{walk} WHERE 1 = 1"));
            if !filter.statuses.is_empty() {
                q.push(" AND status IN (");
                let names: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
                push_list!(q, &names);
            }
            if let Some(queues) = &filter.queues {
                // An agent with no queue but a direct number sees that number's chats only.
                if queues.is_empty() {
                    q.push(" AND (1 = 0");
                } else {
                    q.push(" AND (queue IN (");
                    push_list!(q, queues);
                }
                if !filter.menu_numbers.is_empty() {
                    q.push(" OR (queue IS NULL AND number IN (");
                    push_list!(q, &filter.menu_numbers);
                    q.push(")");
                }
                if let Some(agent) = &filter.thread_agent {
                    q.push(" OR (start_type = 'call' AND agent = ").push_bind(agent.clone()).push(")");
                }
                q.push(")");
            }
            if let Some(agent) = &filter.agent {
                q.push(" AND agent = ");
                q.push_bind(agent.clone());
            }
            if let Some(queue) = &filter.queue {
                q.push(" AND queue = ");
                q.push_bind(queue.clone());
            }
            if let Some(consumer) = &filter.consumer {
                q.push(" AND consumer = ");
                q.push_bind(consumer.clone());
            }
            if let Some(from) = filter.opened_from {
                q.push(" AND opened_at >= ");
                q.push_bind(from);
            }
            if let Some(before) = filter.opened_before {
                q.push(" AND opened_at < ");
                q.push_bind(before);
            }
            if let Some((opened_at, id)) = &filter.after {
                q.push(" AND (opened_at < ");
                q.push_bind(*opened_at);
                q.push(" OR (opened_at = ");
                q.push_bind(*opened_at);
                q.push(" AND id < ");
                q.push_bind(id.clone());
                q.push("))");
            }
            if let Some(text) = text {
                // The words go through the index of message bodies (migration 0019): FTS5 on SQLite, a
                // GIN index of to_tsvector('simple', body) on PostgreSQL. The few chats of rare words
                // come as ids; common words are matched as the listing walks the chats.
                q.push(" AND (id IN (");
                match (&few, self) {
                    (Some(ids), _) if ids.is_empty() => {
                        q.push("NULL");
                    }
                    (Some(ids), _) => {
                        let mut list = q.separated(", ");
                        for id in ids {
                            list.push_bind(id.clone());
                        }
                    }
                    // SQLite would build the whole set of a common word's chats first; asking per chat, as
                    // the listing walks newest first, stops at the page.
                    (None, Store::Sqlite(_)) => {
                        q.push("SELECT m.chat_id FROM messages m WHERE m.chat_id = chats.id AND EXISTS ");
                        q.push("(SELECT 1 FROM messages_fts WHERE messages_fts MATCH ");
                        q.push_bind(fts5_words(text));
                        q.push(" AND rowid = m.seq)");
                    }
                    (None, Store::Postgres(_)) => {
                        q.push("SELECT chat_id FROM messages WHERE to_tsvector('simple', body) @@ ");
                        q.push("plainto_tsquery('simple', ");
                        q.push_bind(text.to_owned());
                        q.push(")");
                    }
                }
                q.push(")");
                if let Some(digits) = &filter.digits {
                    q.push(" OR (consumer LIKE ");
                    q.push_bind(format!("%{digits}%"));
                    if let Some(queues) = &filter.digits_queues {
                        if queues.is_empty() {
                            q.push(" AND 1 = 0");
                        } else {
                            q.push(" AND queue IN (");
                            push_list!(q, queues);
                        }
                    }
                    q.push(")");
                }
                q.push(")");
            }
            q.push(" ORDER BY opened_at DESC, id DESC LIMIT ");
            q.push_bind(filter.limit);
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                out.push(chat_row!(row));
            }
            Ok(out)
        })
    }

    /// Queued chats of these queues, oldest first: the order they are offered in.
    pub async fn queued_chats(&self, queues: &[String], limit: i64) -> Result<Vec<ChatRow>> {
        if queues.is_empty() {
            return Ok(vec![]);
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q =
                QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM chats WHERE status = 'queued' AND queue IN ("));
            push_list!(q, queues);
            q.push(" ORDER BY queued_at, id LIMIT ");
            q.push_bind(limit);
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                out.push(chat_row!(row));
            }
            Ok(out)
        })
    }

    /// The queued chats of direct numbers (in no queue) on these business numbers, oldest first: the
    /// chats waiting for a direct number's agent.
    pub async fn queued_direct_chats(&self, numbers: &[String], limit: i64) -> Result<Vec<ChatRow>> {
        if numbers.is_empty() {
            return Ok(vec![]);
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT {COLUMNS} FROM chats WHERE status = 'queued' AND queue IS NULL AND number IN ("
            ));
            push_list!(q, numbers);
            q.push(" ORDER BY queued_at, id LIMIT ");
            q.push_bind(limit);
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                out.push(chat_row!(row));
            }
            Ok(out)
        })
    }

    /// How many chats each agent holds now (offered or connected).
    pub async fn active_chat_counts(&self) -> Result<Vec<(String, i64)>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT agent, COUNT(*) FROM chats WHERE status IN ('offered', 'connected') AND agent IS NOT NULL \
                 AND (start_type IS NULL OR start_type <> 'call') GROUP BY agent",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows)
        })
    }
}
