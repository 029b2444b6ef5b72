//! CRM connectors' delivery queue: a cursor per connector in the event log, one delivery row per
//! record change, the objects a connector created in its CRM, and the contact data connectors send.
//!
//! Rule: the events table is the source. A connector's cursor is the last event it has looked at; the
//! events that are record changes for it are turned into `crm_deliveries` rows in the same
//! transaction that moves the cursor (guarded by the cursor it started from), so nothing is queued
//! twice or skipped, and the ingest path writes nothing per connector. Deliveries go out in id order
//! per connector; an outage only grows the queue, the engine never waits for it.

use sqlx::Row as _;

use crate::rows::EventRow;
use crate::{Result, Store, dispatch, dispatch_write};

/// The outcomes of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrmOutcome {
    /// Not attempted yet.
    Pending,
    /// Attempted and failed; attempted again at `next_attempt_at`.
    Retrying,
    Delivered,
    /// Refused by the CRM (a 4xx other than 408 and 429): not retried, kept with the answer.
    Failed,
}

impl CrmOutcome {
    pub const ALL: [CrmOutcome; 4] =
        [CrmOutcome::Pending, CrmOutcome::Retrying, CrmOutcome::Delivered, CrmOutcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            CrmOutcome::Pending => "pending",
            CrmOutcome::Retrying => "retrying",
            CrmOutcome::Delivered => "delivered",
            CrmOutcome::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<CrmOutcome> {
        CrmOutcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// One record change queued for a connector, and how its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmDeliveryRow {
    /// Store-assigned, increasing; 0 before insertion.
    pub id: i64,
    pub connector: String,
    /// The event the change comes from (the idempotency key's source).
    pub event_id: i64,
    /// The record change type, `crm.record.opened` and so on.
    pub change: String,
    pub chat_id: Option<String>,
    pub contact_id: Option<String>,
    pub record_id: Option<String>,
    pub outcome: CrmOutcome,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub body_excerpt: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl CrmDeliveryRow {
    /// A change of `event_id` not attempted yet.
    pub fn new(connector: &str, event_id: i64, change: &str, now: i64) -> CrmDeliveryRow {
        CrmDeliveryRow {
            id: 0,
            connector: connector.to_owned(),
            event_id,
            change: change.to_owned(),
            chat_id: None,
            contact_id: None,
            record_id: None,
            outcome: CrmOutcome::Pending,
            attempts: 0,
            next_attempt_at: None,
            status_code: None,
            error: None,
            body_excerpt: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// What a connector sends of a contact.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrmContact {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    /// E.164, the primary first.
    pub phones: Vec<String>,
}

const COLUMNS: &str = "id, connector, event_id, change, chat_id, contact_id, record_id, outcome, attempts, \
     next_attempt_at, status_code, error, body_excerpt, created_at, updated_at";

macro_rules! delivery_row {
    ($row:expr) => {{
        let row = $row;
        let outcome: String = row.try_get("outcome")?;
        CrmDeliveryRow {
            id: row.try_get("id")?,
            connector: row.try_get("connector")?,
            event_id: row.try_get("event_id")?,
            change: row.try_get("change")?,
            chat_id: row.try_get("chat_id")?,
            contact_id: row.try_get("contact_id")?,
            record_id: row.try_get("record_id")?,
            outcome: CrmOutcome::parse(&outcome)
                .ok_or_else(|| crate::StoreError::Other(anyhow::anyhow!("unknown delivery outcome {outcome}")))?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            status_code: row.try_get("status_code")?,
            error: row.try_get("error")?,
            body_excerpt: row.try_get("body_excerpt")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }
    }};
}

use crate::events::event_row;

impl Store {
    /// The connector's cursor; a connector seen for the first time starts at the newest event (it
    /// gets the changes from now on, no history).
    pub async fn crm_cursor(&self, connector: &str) -> Result<i64> {
        // Read first: the worker asks every round, and a write each time would take turns from the
        // engine for nothing.
        let known: Option<i64> = dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query("SELECT cursor FROM crm_connector_cursors WHERE connector = $1")
                .bind(connector)
                .fetch_optional(pool)
                .await?;
            row.map(|r| r.try_get::<i64, _>("cursor")).transpose().map_err(crate::StoreError::from)
        })?;
        if let Some(cursor) = known {
            return Ok(cursor);
        }
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO crm_connector_cursors (connector, cursor) SELECT $1, COALESCE((SELECT MAX(id) FROM events), 0) \
                 ON CONFLICT (connector) DO NOTHING",
            )
            .bind(connector)
            .execute(&mut *tx)
            .await?;
            let cursor: i64 = sqlx::query("SELECT cursor FROM crm_connector_cursors WHERE connector = $1")
                .bind(connector)
                .fetch_one(&mut *tx)
                .await?
                .try_get("cursor")?;
            tx.commit().await?;
            Ok(cursor)
        })
    }

    /// Moves the connector's cursor from `from` to `to` and queues `changes` (the record changes among
    /// the events in between), in one transaction. Returns false, writing nothing, when the cursor was
    /// not at `from` any more.
    pub async fn feed_crm(&self, connector: &str, from: i64, to: i64, changes: &[CrmDeliveryRow]) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let done = sqlx::query("UPDATE crm_connector_cursors SET cursor = $3 WHERE connector = $1 AND cursor = $2")
                .bind(connector)
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done != 1 {
                return Ok(false);
            }
            for d in changes {
                sqlx::query(
                    "INSERT INTO crm_deliveries (connector, event_id, change, chat_id, contact_id, record_id, outcome, \
                     attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) \
                     ON CONFLICT (connector, event_id) DO NOTHING",
                )
                .bind(connector)
                .bind(d.event_id)
                .bind(d.change.clone())
                .bind(d.chat_id.clone())
                .bind(d.contact_id.clone())
                .bind(d.record_id.clone())
                .bind(d.outcome.as_str())
                .bind(d.created_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The connector's oldest delivery not delivered or failed: the only one it may attempt (changes
    /// go out in order).
    pub async fn crm_head(&self, connector: &str) -> Result<Option<CrmDeliveryRow>> {
        dispatch!(self, |pool, DB, begin| {
            let sql = format!(
                "SELECT {COLUMNS} FROM crm_deliveries WHERE connector = $1 AND outcome IN ('pending', 'retrying') \
                 ORDER BY id LIMIT 1"
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(connector).fetch_optional(pool).await?;
            row.as_ref().map(|r| -> Result<CrmDeliveryRow> { Ok(delivery_row!(r)) }).transpose()
        })
    }

    /// Writes the outcome of an attempt at `d` (its outcome, attempts, next attempt and the answer).
    pub async fn record_crm_attempt(&self, d: &CrmDeliveryRow) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "UPDATE crm_deliveries SET outcome = $2, attempts = $3, next_attempt_at = $4, status_code = $5, \
                 error = $6, body_excerpt = $7, updated_at = $8 WHERE id = $1",
            )
            .bind(d.id)
            .bind(d.outcome.as_str())
            .bind(d.attempts)
            .bind(d.next_attempt_at)
            .bind(d.status_code)
            .bind(d.error.clone())
            .bind(d.body_excerpt.clone())
            .bind(d.updated_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deliveries, newest first, of one connector and one outcome when given.
    pub async fn crm_deliveries(
        &self,
        connector: Option<&str>,
        outcome: Option<CrmOutcome>,
        limit: i64,
    ) -> Result<Vec<CrmDeliveryRow>> {
        dispatch!(self, |pool, DB, begin| {
            let sql = format!(
                "SELECT {COLUMNS} FROM crm_deliveries WHERE ($1 IS NULL OR connector = $1) \
                 AND ($2 IS NULL OR outcome = $2) ORDER BY id DESC LIMIT $3"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(connector)
                .bind(outcome.map(CrmOutcome::as_str))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| -> Result<CrmDeliveryRow> { Ok(delivery_row!(r)) }).collect()
        })
    }

    /// One delivery.
    pub async fn crm_delivery(&self, id: i64) -> Result<Option<CrmDeliveryRow>> {
        dispatch!(self, |pool, DB, begin| {
            let sql = format!("SELECT {COLUMNS} FROM crm_deliveries WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(|r| -> Result<CrmDeliveryRow> { Ok(delivery_row!(r)) }).transpose()
        })
    }

    /// Queues a delivery again (an admin's replay): pending, with no attempts behind it. Returns
    /// whether it exists.
    pub async fn replay_crm_delivery(&self, id: i64, now: i64) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let done = sqlx::query(
                "UPDATE crm_deliveries SET outcome = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = $2 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    /// The id of the object the connector created in its CRM for `key`.
    pub async fn crm_object(&self, connector: &str, key: &str) -> Result<Option<String>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query("SELECT external_id FROM crm_objects WHERE connector = $1 AND key = $2")
                .bind(connector)
                .bind(key)
                .fetch_optional(pool)
                .await?;
            row.map(|r| r.try_get::<String, _>("external_id")).transpose().map_err(Into::into)
        })
    }

    /// Records the object the connector created for `key` (the CRM just answered with its id).
    pub async fn set_crm_object(&self, connector: &str, key: &str, external_id: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO crm_objects (connector, key, external_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (connector, key) DO UPDATE SET external_id = excluded.external_id",
            )
            .bind(connector)
            .bind(key)
            .bind(external_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The chat's latest `contact.linked` event up to event `until`: from it on the chat is a record.
    pub async fn chat_contact_link(&self, chat_id: &str, until: i64) -> Result<Option<EventRow>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(
                "SELECT id, chat_id, queue, agent, kind, data, at FROM events WHERE chat_id = $1 \
                 AND kind = 'contact.linked' AND id <= $2 ORDER BY id DESC LIMIT 1",
            )
            .bind(chat_id)
            .bind(until)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(|r| -> Result<EventRow> { Ok(event_row!(r)) }).transpose()
        })
    }

    /// The chat's events up to event `until`, oldest first.
    pub async fn chat_events_until(&self, chat_id: &str, until: i64) -> Result<Vec<EventRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT id, chat_id, queue, agent, kind, data, at FROM events WHERE chat_id = $1 AND id <= $2 \
                 ORDER BY id",
            )
            .bind(chat_id)
            .bind(until)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| -> Result<EventRow> { Ok(event_row!(r)) }).collect()
        })
    }

    /// A contact as connectors send it; `None` when there is no such contact (any more).
    pub async fn crm_contact(&self, id: &str) -> Result<Option<CrmContact>> {
        dispatch!(self, |pool, DB, begin| {
            let Some(row) = sqlx::query("SELECT id, name, email, company FROM contacts WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
            else {
                return Ok(None);
            };
            let phones = sqlx::query(
                "SELECT phone FROM contact_phones WHERE contact_id = $1 ORDER BY is_primary DESC, position, phone",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("phone"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(Some(CrmContact {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                email: row.try_get("email")?,
                company: row.try_get("company")?,
                phones,
            }))
        })
    }

    /// The contact's id in the connector's CRM.
    pub async fn crm_external_id(&self, contact_id: &str, connector: &str) -> Result<Option<String>> {
        dispatch!(self, |pool, DB, begin| {
            let row =
                sqlx::query("SELECT external_id FROM contact_external_ids WHERE contact_id = $1 AND connector = $2")
                    .bind(contact_id)
                    .bind(connector)
                    .fetch_optional(pool)
                    .await?;
            row.map(|r| r.try_get::<String, _>("external_id")).transpose().map_err(Into::into)
        })
    }

    /// Keeps the contact's id in the connector's CRM (replacing an earlier one).
    pub async fn set_crm_external_id(&self, contact_id: &str, connector: &str, external_id: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("DELETE FROM contact_external_ids WHERE connector = $1 AND external_id = $2")
                .bind(connector)
                .bind(external_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO contact_external_ids (contact_id, connector, external_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (contact_id, connector) DO UPDATE SET external_id = excluded.external_id",
            )
            .bind(contact_id)
            .bind(connector)
            .bind(external_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Writes one event outside the engine's batches, inside a write turn as every event is (so ids
    /// become visible in order); returns its id. For writers of `contact.*` events and for tests.
    pub async fn append_event(&self, e: &EventRow) -> Result<i64> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            crate::events::insert_event!(tx, e);
            let (id,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM events").fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Forgets the object kept for `key`.
    pub async fn delete_crm_object(&self, connector: &str, key: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("DELETE FROM crm_objects WHERE connector = $1 AND key = $2")
                .bind(connector)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Makes the connector's retrying deliveries due at once (what they waited for has happened).
    pub async fn crm_retry_now(&self, connector: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "UPDATE crm_deliveries SET next_attempt_at = NULL WHERE connector = $1 AND outcome = 'retrying'",
            )
            .bind(connector)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Writes a contact row and its phones as they are, for tests of the connectors (the contacts
    /// API is the way in otherwise).
    #[doc(hidden)]
    pub async fn testing_insert_contact(&self, c: &CrmContact, now: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO contacts (id, name, name_key, email, email_key, company, owner, notes, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, '', $7, $7)",
            )
            .bind(c.id.clone())
            .bind(c.name.clone())
            .bind(c.name.as_ref().map(|n| n.to_lowercase()))
            .bind(c.email.clone())
            .bind(c.email.as_ref().map(|e| e.to_lowercase()))
            .bind(c.company.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for (i, phone) in c.phones.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO contact_phones (contact_id, phone, is_primary, position) VALUES ($1, $2, $3, $4)",
                )
                .bind(c.id.clone())
                .bind(phone.clone())
                .bind(i64::from(i == 0))
                .bind(i64::try_from(i).unwrap_or(0))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
