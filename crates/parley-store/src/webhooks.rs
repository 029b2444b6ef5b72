//! Outgoing event webhooks: the endpoints, their cursors in the event log, and every delivery attempt.
//!
//! Rule: the events table is the queue. An endpoint's `cursor` is the id of the last event it is done
//! with; its worker reads the events after it in id order and delivers the first one of its types
//! (the head) until it is delivered or given up, then moves the cursor past it in the same
//! transaction that records the attempt. Why: event ids become visible in id order (they are written
//! inside a write turn), so "after the cursor" is exact, and the ingest path writes nothing per
//! endpoint. Every write of an endpoint's progress is guarded by the cursor it started from, so two
//! nodes can never both move it (one node delivers an endpoint at a time anyway, under a lease).

use sqlx::Row as _;

use crate::rows::EventRow;
use crate::{Result, Store, dispatch, dispatch_write};

/// An endpoint as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookRow {
    /// "wh_" and 32 hex digits.
    pub id: String,
    pub url: String,
    pub description: String,
    /// The subscribed webhook types; `["*"]` for every one.
    pub events: Vec<String>,
    /// "whsec_" + base64; never logged (the `Debug` below leaves it out).
    pub secret: String,
    /// The secret before the last rotation and when it stops signing (epoch ms).
    pub previous_secret: Option<(String, i64)>,
    /// The last event id this endpoint is done with.
    pub cursor: i64,
    /// Attempts made on the head event so far, and when the first of them failed.
    pub head_attempts: i64,
    pub head_failing_since: Option<i64>,
    /// When deliveries started failing with no success since.
    pub failing_since: Option<i64>,
    /// The head's next attempt is not before this.
    pub next_attempt_at: Option<i64>,
    /// When and why the endpoint was disabled; `None` while enabled.
    pub disabled: Option<(i64, String)>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for WebhookRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRow")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("cursor", &self.cursor)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Where an endpoint stands after an attempt: the columns [`Store::record_webhook_attempt`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookProgress {
    pub cursor: i64,
    pub head_attempts: i64,
    pub head_failing_since: Option<i64>,
    pub failing_since: Option<i64>,
    pub next_attempt_at: Option<i64>,
    pub disabled: Option<(i64, String)>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    /// Store-assigned, increasing; 0 before insertion.
    pub id: i64,
    pub endpoint_id: String,
    pub event_id: i64,
    /// The webhook type the body carried.
    pub event_type: String,
    /// 1 for the first attempt at this event.
    pub attempt: i64,
    /// "delivered", "retrying" or "failed".
    pub outcome: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub at: i64,
    pub next_attempt_at: Option<i64>,
    /// An attempt an admin asked for (replay); it never moves the cursor.
    pub replay: bool,
}

const ENDPOINT_COLUMNS: &str = "id, url, description, events, secret, previous_secret, previous_until, cursor, \
     head_attempts, head_failing_since, failing_since, next_attempt_at, disabled_at, disabled_reason, created_at, \
     updated_at";

/// Decodes an endpoint row of [`ENDPOINT_COLUMNS`] (a macro: one text for both engines' row types).
macro_rules! endpoint_row {
    ($row:expr) => {{
        let row = $row;
        let events: String = row.try_get("events")?;
        let previous: Option<String> = row.try_get("previous_secret")?;
        let until: Option<i64> = row.try_get("previous_until")?;
        let disabled_at: Option<i64> = row.try_get("disabled_at")?;
        let reason: Option<String> = row.try_get("disabled_reason")?;
        WebhookRow {
            id: row.try_get("id")?,
            url: row.try_get("url")?,
            description: row.try_get("description")?,
            events: events.split(' ').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
            secret: row.try_get("secret")?,
            previous_secret: previous.zip(until),
            cursor: row.try_get("cursor")?,
            head_attempts: row.try_get("head_attempts")?,
            head_failing_since: row.try_get("head_failing_since")?,
            failing_since: row.try_get("failing_since")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            disabled: disabled_at.map(|at| (at, reason.unwrap_or_default())),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }
    }};
}

/// Decodes an attempt row of [`DELIVERY_COLUMNS`].
macro_rules! delivery_row {
    ($row:expr) => {{
        let row = $row;
        let replay: i64 = row.try_get("replay")?;
        DeliveryRow {
            id: row.try_get("id")?,
            endpoint_id: row.try_get("endpoint_id")?,
            event_id: row.try_get("event_id")?,
            event_type: row.try_get("event_type")?,
            attempt: row.try_get("attempt")?,
            outcome: row.try_get("outcome")?,
            status_code: row.try_get("status_code")?,
            latency_ms: row.try_get("latency_ms")?,
            error: row.try_get("error")?,
            at: row.try_get("at")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            replay: replay != 0,
        }
    }};
}

macro_rules! insert_delivery {
    ($tx:expr, $d:expr) => {
        sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, attempt, outcome, status_code, \
             latency_ms, error, at, next_attempt_at, replay) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             RETURNING id",
        )
        .bind($d.endpoint_id.clone())
        .bind($d.event_id)
        .bind($d.event_type.clone())
        .bind($d.attempt)
        .bind($d.outcome.clone())
        .bind($d.status_code)
        .bind($d.latency_ms)
        .bind($d.error.clone())
        .bind($d.at)
        .bind($d.next_attempt_at)
        .bind(i64::from($d.replay))
        .fetch_one(&mut *$tx)
        .await?
        .try_get::<i64, _>("id")?
    };
}

impl Store {
    /// Stores a new endpoint whose cursor is the newest event id at that moment (a new endpoint gets
    /// the events from now on, no history). `row.cursor` is ignored. Returns the stored row.
    pub async fn create_webhook(&self, row: &WebhookRow) -> Result<WebhookRow> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, url, description, events, secret, cursor, created_at, updated_at) \
                 SELECT $1, $2, $3, $4, $5, COALESCE((SELECT MAX(id) FROM events), 0), $6, $6",
            )
            .bind(row.id.clone())
            .bind(row.url.clone())
            .bind(row.description.clone())
            .bind(row.events.join(" "))
            .bind(row.secret.clone())
            .bind(row.created_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<(), crate::StoreError>(())
        })?;
        self.webhook(&row.id)
            .await?
            .ok_or_else(|| crate::StoreError::Other(anyhow::anyhow!("the new webhook vanished")))
    }

    /// Every endpoint, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        dispatch!(self, |pool, DB, begin| {
            let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
            rows.iter().map(|r| -> Result<WebhookRow> { Ok(endpoint_row!(r)) }).collect()
        })
    }

    /// One endpoint.
    pub async fn webhook(&self, id: &str) -> Result<Option<WebhookRow>> {
        dispatch!(self, |pool, DB, begin| {
            let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(|r| -> Result<WebhookRow> { Ok(endpoint_row!(r)) }).transpose()
        })
    }

    /// The enabled endpoints whose head may be attempted at `now`.
    pub async fn due_webhooks(&self, now: i64) -> Result<Vec<WebhookRow>> {
        dispatch!(self, |pool, DB, begin| {
            let sql = format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE disabled_at IS NULL \
                 AND (next_attempt_at IS NULL OR next_attempt_at <= $1) ORDER BY id"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).fetch_all(pool).await?;
            rows.iter().map(|r| -> Result<WebhookRow> { Ok(endpoint_row!(r)) }).collect()
        })
    }

    /// Writes what an admin may change: URL, description, types, and whether it is disabled. An
    /// endpoint enabled again starts over with no failures behind it (its cursor stays: it resumes
    /// with the event after the last one it was done with). Returns whether the endpoint exists.
    pub async fn update_webhook(&self, row: &WebhookRow, re_enabled: bool, now: i64) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let done = sqlx::query(
                "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, disabled_at = $5, \
                 disabled_reason = $6, updated_at = $7, \
                 failing_since = CASE WHEN $8 = 1 THEN NULL ELSE failing_since END, \
                 head_failing_since = CASE WHEN $8 = 1 THEN NULL ELSE head_failing_since END, \
                 head_attempts = CASE WHEN $8 = 1 THEN 0 ELSE head_attempts END, \
                 next_attempt_at = CASE WHEN $8 = 1 THEN NULL ELSE next_attempt_at END \
                 WHERE id = $1",
            )
            .bind(row.id.clone())
            .bind(row.url.clone())
            .bind(row.description.clone())
            .bind(row.events.join(" "))
            .bind(row.disabled.as_ref().map(|d| d.0))
            .bind(row.disabled.as_ref().map(|d| d.1.clone()))
            .bind(now)
            .bind(i64::from(re_enabled))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    /// Replaces the secret; the current one keeps signing beside it until `previous_until`. Returns
    /// whether the endpoint exists.
    pub async fn rotate_webhook_secret(&self, id: &str, secret: &str, previous_until: i64, now: i64) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let done = sqlx::query(
                "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3, secret = $2, \
                 updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(secret)
            .bind(previous_until)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    /// Deletes an endpoint and its attempts. Returns whether it existed.
    pub async fn delete_webhook(&self, id: &str) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1").bind(id).execute(&mut *tx).await?;
            let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    /// Moves the cursor from `from` to `to` past events none of the endpoint's types match. Returns
    /// false when the cursor was not at `from` any more (someone else moved it).
    pub async fn skip_webhook_events(&self, id: &str, from: i64, to: i64) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let done = sqlx::query("UPDATE webhook_endpoints SET cursor = $3 WHERE id = $1 AND cursor = $2")
                .bind(id)
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    /// Records an attempt at the head event of an endpoint whose cursor was `from`, and where that
    /// leaves the endpoint, in one transaction; with `disabled_event` (the endpoint was disabled), that
    /// event is written in the same transaction, inside a write turn as every event is. Returns false,
    /// writing nothing, when the cursor was not at `from` any more. An endpoint an admin disabled
    /// meanwhile stays disabled.
    pub async fn record_webhook_attempt(
        &self,
        from: i64,
        attempt: &DeliveryRow,
        progress: &WebhookProgress,
        disabled_event: Option<&EventRow>,
    ) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if disabled_event.is_some() {
                crate::take_turn!(self, tx);
            }
            let done = sqlx::query(
                "UPDATE webhook_endpoints SET cursor = $3, head_attempts = $4, head_failing_since = $5, \
                 failing_since = $6, next_attempt_at = $7, disabled_at = COALESCE(disabled_at, $8), \
                 disabled_reason = COALESCE(disabled_reason, $9) \
                 WHERE id = $1 AND cursor = $2",
            )
            .bind(attempt.endpoint_id.clone())
            .bind(from)
            .bind(progress.cursor)
            .bind(progress.head_attempts)
            .bind(progress.head_failing_since)
            .bind(progress.failing_since)
            .bind(progress.next_attempt_at)
            .bind(progress.disabled.as_ref().map(|d| d.0))
            .bind(progress.disabled.as_ref().map(|d| d.1.clone()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                return Ok(false);
            }
            insert_delivery!(tx, attempt);
            if let Some(e) = disabled_event {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records a replayed attempt (it changes nothing of the endpoint's progress); returns its id.
    pub async fn record_webhook_replay(&self, attempt: &DeliveryRow) -> Result<i64> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let id = insert_delivery!(tx, attempt);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// An endpoint's attempts, newest first: up to `limit` with an id below `before` (all when `None`).
    pub async fn webhook_deliveries(&self, id: &str, before: Option<i64>, limit: i64) -> Result<Vec<DeliveryRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT id, endpoint_id, event_id, event_type, attempt, outcome, status_code, latency_ms, error, at, \
                 next_attempt_at, replay FROM webhook_deliveries WHERE endpoint_id = $1 AND id < $2 \
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| -> Result<DeliveryRow> { Ok(delivery_row!(r)) }).collect()
        })
    }

    /// One attempt of an endpoint.
    pub async fn webhook_delivery(&self, id: &str, delivery_id: i64) -> Result<Option<DeliveryRow>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(
                "SELECT id, endpoint_id, event_id, event_type, attempt, outcome, status_code, latency_ms, error, at, \
                 next_attempt_at, replay FROM webhook_deliveries WHERE endpoint_id = $1 AND id = $2",
            )
            .bind(id)
            .bind(delivery_id)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(|r| -> Result<DeliveryRow> { Ok(delivery_row!(r)) }).transpose()
        })
    }

    /// One event of the log, by id.
    pub async fn event(&self, id: i64) -> Result<Option<EventRow>> {
        Ok(self.events_after(id - 1, 1).await?.into_iter().next().filter(|e| e.id == id))
    }
}
