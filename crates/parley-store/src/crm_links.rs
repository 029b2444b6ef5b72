//! Chats linked to contacts and the CRM records they are kept in (docs/crm.md "Matching on
//! connect", "Records"). The matching worker writes a chat's link, its record, the contact it
//! creates, its events and its cursor in the event log in one transaction ([`Store::write_match`]):
//! the cursor moves only from the place the worker read it at, so an event read again after a
//! restart, or by a second node whose lease ran out, changes nothing twice.
//!
//! A link is `linked`, `pending` (several contacts have the phone: the agent chooses) or `waiting`
//! (the queue's record policy `create_after_messages = N` holds matching back until the consumer's
//! Nth message). A `linked` link is never replaced: [`Store::write_match`] refuses to.

use sqlx::Row as _;

use crate::contacts::ContactRow;
use crate::rows::EventRow;
use crate::{Result, Store, dispatch, dispatch_write};

/// A chat's link to its contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatContactRow {
    pub chat_id: String,
    /// `None` while pending.
    pub contact_id: Option<String>,
    /// "linked" or "pending".
    pub state: String,
    /// `parley_core::crm::ContactLink::as_str` when linked.
    pub how: Option<String>,
    /// Who linked it: "system", an agent id, "admin" or "api".
    pub by: String,
    /// The candidates' contact ids while pending (empty when linked).
    pub candidates: Vec<String>,
    pub record_id: Option<String>,
    pub at: i64,
}

/// A contact's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub id: String,
    pub contact_id: String,
    pub queue: Option<String>,
    pub opened_at: i64,
    /// `None` while one of its chats is live.
    pub closed_at: Option<i64>,
}

/// Where a linked chat goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordWrite {
    /// A new record.
    New(RecordRow),
    /// The record `id`, open already or reopened (its `closed_at` is cleared).
    Join(String),
}

/// The matching worker's move of its cursor in the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorMove {
    pub name: String,
    /// The cursor as the worker read it; nothing is written unless it is still there.
    pub from: i64,
    /// The cursor afterwards.
    pub to: i64,
}

/// One matching step, or an agent's choice: everything written together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchWrite {
    /// The worker's cursor move; `None` for a choice made through the API.
    pub cursor: Option<CursorMove>,
    /// A contact created with the link (matching's for a phone nobody has, or the agent's).
    pub contact: Option<ContactRow>,
    pub link: Option<ChatContactRow>,
    pub record: Option<RecordWrite>,
    pub events: Vec<EventRow>,
}

macro_rules! link_row {
    ($row:expr) => {{
        let candidates: String = $row.try_get("candidates")?;
        ChatContactRow {
            chat_id: $row.try_get("chat_id")?,
            contact_id: $row.try_get("contact_id")?,
            state: $row.try_get("state")?,
            how: $row.try_get("how")?,
            by: $row.try_get("by_who")?,
            candidates: candidates.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            record_id: $row.try_get("record_id")?,
            at: $row.try_get("at")?,
        }
    }};
}

macro_rules! record_row {
    ($row:expr) => {
        RecordRow {
            id: $row.try_get("id")?,
            contact_id: $row.try_get("contact_id")?,
            queue: $row.try_get("queue")?,
            opened_at: $row.try_get("opened_at")?,
            closed_at: $row.try_get("closed_at")?,
        }
    };
}

impl Store {
    /// The ids of the contacts that have `phone` (E.164), in id order.
    pub async fn match_candidates(&self, phone: &str) -> Result<Vec<String>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT DISTINCT contact_id FROM contact_phones WHERE phone = $1 ORDER BY contact_id")
                    .bind(phone)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Where the cursor `name` is in the event log (0 before its first move).
    pub async fn matcher_cursor(&self, name: &str) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let row: Option<(i64,)> = sqlx::query_as("SELECT event_id FROM crm_cursors WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await?;
            Ok(row.map_or(0, |(id,)| id))
        })
    }

    /// The chat's link, if it has one.
    pub async fn chat_contact(&self, chat_id: &str) -> Result<Option<ChatContactRow>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(
                "SELECT chat_id, contact_id, state, how, by_who, candidates, record_id, at FROM chat_contacts \
                 WHERE chat_id = $1",
            )
            .bind(chat_id)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                Some(row) => Some(link_row!(row)),
                None => None,
            })
        })
    }

    /// The contact's records, oldest first.
    pub async fn contact_records(&self, contact_id: &str) -> Result<Vec<RecordRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT id, contact_id, queue, opened_at, closed_at FROM crm_records WHERE contact_id = $1 \
                 ORDER BY opened_at, id",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(record_row!(row));
            }
            Ok(out)
        })
    }

    /// The chats of the record, in the order they joined it.
    pub async fn record_chats(&self, record_id: &str) -> Result<Vec<String>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT chat_id FROM crm_record_chats WHERE record_id = $1 ORDER BY joined_at, chat_id")
                    .bind(record_id)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Writes one matching step, in one write turn, if the cursor is still at `w.from`; returns
    /// whether it did (false: another node or an earlier run did it already, and nothing changed).
    pub async fn write_match(&self, w: &MatchWrite) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // Events are written only inside a turn, between two engine batches.
            crate::take_turn!(self, tx);
            if let Some(cursor) = &w.cursor {
                let current: Option<(i64,)> = sqlx::query_as("SELECT event_id FROM crm_cursors WHERE name = $1")
                    .bind(cursor.name.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                if current.map_or(0, |(id,)| id) != cursor.from {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO crm_cursors (name, event_id) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET event_id = excluded.event_id",
                )
                .bind(cursor.name.clone())
                .bind(cursor.to)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(l) = &w.link {
                // A chat linked once stays linked to that contact (a second node, or an agent racing
                // the matcher, finds it so and writes nothing).
                let state: Option<(String,)> = sqlx::query_as("SELECT state FROM chat_contacts WHERE chat_id = $1")
                    .bind(l.chat_id.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                if state.is_some_and(|(s,)| s == "linked") {
                    tx.rollback().await?;
                    return Ok(false);
                }
            }
            if let Some(c) = &w.contact {
                crate::contacts::write_contact!(tx, c, true);
            }
            if let Some(record) = &w.record {
                let id = match record {
                    RecordWrite::New(r) => {
                        sqlx::query(
                            "INSERT INTO crm_records (id, contact_id, queue, opened_at, closed_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(r.id.clone())
                        .bind(r.contact_id.clone())
                        .bind(r.queue.clone())
                        .bind(r.opened_at)
                        .bind(r.closed_at)
                        .execute(&mut *tx)
                        .await?;
                        r.id.clone()
                    }
                    RecordWrite::Join(id) => {
                        sqlx::query("UPDATE crm_records SET closed_at = NULL WHERE id = $1")
                            .bind(id.clone())
                            .execute(&mut *tx)
                            .await?;
                        id.clone()
                    }
                };
                if let Some(link) = &w.link {
                    sqlx::query(
                        "INSERT INTO crm_record_chats (record_id, chat_id, joined_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (record_id, chat_id) DO NOTHING",
                    )
                    .bind(id)
                    .bind(link.chat_id.clone())
                    .bind(link.at)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if let Some(l) = &w.link {
                sqlx::query(
                    "INSERT INTO chat_contacts (chat_id, contact_id, state, how, by_who, candidates, record_id, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (chat_id) DO UPDATE SET \
                     contact_id = excluded.contact_id, state = excluded.state, how = excluded.how, \
                     by_who = excluded.by_who, candidates = excluded.candidates, record_id = excluded.record_id, \
                     at = excluded.at",
                )
                .bind(l.chat_id.clone())
                .bind(l.contact_id.clone())
                .bind(l.state.clone())
                .bind(l.how.clone())
                .bind(l.by.clone())
                .bind(l.candidates.join(","))
                .bind(l.record_id.clone())
                .bind(l.at)
                .execute(&mut *tx)
                .await?;
            }
            for e in &w.events {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The chats whose matching waits for the consumer's Nth message, oldest first.
    pub async fn waiting_links(&self, limit: i64) -> Result<Vec<String>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT chat_id FROM chat_contacts WHERE state = 'waiting' ORDER BY at, chat_id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Forgets a waiting link (its chat ended before the consumer's Nth message: no contact, no
    /// record). A link in any other state is left alone.
    pub async fn drop_waiting_link(&self, chat_id: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query("DELETE FROM chat_contacts WHERE chat_id = $1 AND state = 'waiting'")
                .bind(chat_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// How many messages the consumer sent in the chat.
    pub async fn consumer_messages_in(&self, chat_id: &str) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND direction = 'in'")
                .bind(chat_id)
                .fetch_one(pool)
                .await?;
            Ok(n)
        })
    }

    /// The chats linked to the contact, newest link first (its earlier chats in the console).
    pub async fn chats_of_contact(&self, contact_id: &str, limit: i64) -> Result<Vec<String>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT chat_id FROM chat_contacts WHERE contact_id = $1 AND state = 'linked' \
                 ORDER BY at DESC, chat_id DESC LIMIT $2",
            )
            .bind(contact_id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Closes the record of `chat_id` at `at` when none of its chats is live any more (the rule of
    /// `parley_core::crm::record`: a record is open while one of its chats has not ended).
    pub async fn close_records_of(&self, chat_id: &str, at: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query(
                "UPDATE crm_records SET closed_at = $2 WHERE closed_at IS NULL AND id IN \
                 (SELECT record_id FROM crm_record_chats WHERE chat_id = $1) AND NOT EXISTS \
                 (SELECT 1 FROM crm_record_chats rc JOIN chats c ON c.id = rc.chat_id \
                  WHERE rc.record_id = crm_records.id AND c.status <> 'finished')",
            )
            .bind(chat_id)
            .bind(at)
            .execute(pool)
            .await?;
            Ok(())
        })
    }
}
