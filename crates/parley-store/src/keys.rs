//! API keys, the deployment's identity and the answers kept for `Idempotency-Key`.
//!
//! A key is a row of `api_tokens`: the token's SHA-256 (the token itself is never stored), a public id
//! (`SK…`), a name, a role (`admin` or `agent`, with the agent) and either no scopes (the role's whole
//! reach, as every token had before scopes) or a list of them. What a scope allows is the server's
//! business; the store keeps the names.
//!
//! Idempotency records are claimed before the request runs ([`Store::claim_idempotency`]) and
//! completed after ([`Store::finish_idempotency`]); the claim is one statement, so two nodes that get
//! the same key at once cannot both run it. A record goes `pending` → (`committed`, in the engine
//! batch that carried the request out, [`crate::batch::Batch::idempotent_requests`]) → `done` (with the
//! answer). Only a `pending` claim whose lease ran out is taken over: a `committed` one is never run
//! again.

use sqlx::Row as _;

use crate::{Result, Store, dispatch, dispatch_write};

/// A stored API key (only its token's hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// `SK` and 32 hex digits.
    pub id: String,
    pub name: String,
    /// "admin" or "agent".
    pub role: String,
    pub agent: Option<String>,
    /// `None`: the role's whole reach; else only these scopes.
    pub scopes: Option<Vec<String>>,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// Sending requests per second; `None`: the default.
    pub rate_per_second: Option<i64>,
}

/// A key to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub id: String,
    /// The SHA-256 of the token, hex.
    pub hash: String,
    pub name: String,
    pub role: String,
    pub agent: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub expires_at: Option<i64>,
    pub rate_per_second: Option<i64>,
}

macro_rules! key_columns {
    () => {
        "id, name, role, agent, scopes, created_at, last_used_at, expires_at, rate_per_second"
    };
}

macro_rules! key_row {
    ($row:expr) => {
        KeyRow {
            id: $row.try_get("id")?,
            name: $row.try_get("name")?,
            role: $row.try_get("role")?,
            agent: $row.try_get("agent")?,
            scopes: $row
                .try_get::<Option<String>, _>("scopes")?
                .map(|s| s.split_whitespace().map(str::to_owned).collect()),
            created_at: $row.try_get("created_at")?,
            last_used_at: $row.try_get("last_used_at")?,
            expires_at: $row.try_get("expires_at")?,
            rate_per_second: $row.try_get::<Option<i32>, _>("rate_per_second")?.map(i64::from),
        }
    };
}

/// What a claim of an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new (or its earlier claim was abandoned): the caller runs the request and then
    /// finishes or releases the claim.
    Run,
    /// The same request ran before: its answer.
    Replay { status: u16, content_type: Option<String>, body: Vec<u8> },
    /// The key was used with another request.
    Mismatch,
    /// The same request is running now (another node, or a parallel retry).
    InProgress,
    /// The same request was carried out (its engine batch committed), but its answer was never
    /// stored: its node stopped in between. It is not run again.
    AnswerLost,
}

impl Store {
    /// Stores a new key.
    pub async fn insert_key(&self, key: &NewKey, now: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO api_tokens (hash, id, name, role, agent, scopes, created_at, expires_at, rate_per_second) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&key.hash)
            .bind(&key.id)
            .bind(&key.name)
            .bind(&key.role)
            .bind(&key.agent)
            .bind(key.scopes.as_ref().map(|s| s.join(" ")))
            .bind(now)
            .bind(key.expires_at)
            .bind(key.rate_per_second.map(|r| r as i32))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The key whose token has this hash, if any.
    pub async fn key_by_hash(&self, hash: &str) -> Result<Option<KeyRow>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(concat!("SELECT ", key_columns!(), " FROM api_tokens WHERE hash = $1"))
                .bind(hash)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(key_row!(row)),
                None => None,
            })
        })
    }

    /// The key with this id and this token hash (HTTP basic auth names both), if any.
    pub async fn key_by_id(&self, id: &str) -> Result<Option<(KeyRow, String)>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(concat!("SELECT hash, ", key_columns!(), " FROM api_tokens WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some((key_row!(row), row.try_get("hash")?)),
                None => None,
            })
        })
    }

    /// Every key, oldest first.
    pub async fn keys(&self) -> Result<Vec<KeyRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(concat!("SELECT ", key_columns!(), " FROM api_tokens ORDER BY created_at, id"))
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(key_row!(row));
            }
            Ok(out)
        })
    }

    /// Deletes a key; false when there is none with that id.
    pub async fn delete_key(&self, id: &str) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1").bind(id).execute(pool).await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Records a use of a key (callers write it at most about once a minute per key).
    pub async fn touch_key(&self, id: &str, now: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// The deployment's account SID (`AC…`), made once by the migration.
    pub async fn account_sid(&self) -> Result<String> {
        dispatch!(self, |pool, DB, begin| {
            let (sid,): (String,) =
                sqlx::query_as("SELECT account_sid FROM deployment WHERE id = 1").fetch_one(pool).await?;
            Ok(sid)
        })
    }

    /// Claims `(owner, key)` for a request whose hash is `request_hash`. A record older than
    /// `since` is expired and claimed anew; a pending one whose lease (`locked_until`) ran out was
    /// abandoned (its node stopped) and is taken over.
    pub async fn claim_idempotency(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        lease_ms: i64,
        since: i64,
    ) -> Result<IdempotencyClaim> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // One statement claims a new key, an expired record or an abandoned claim; it changes nothing
            // when the record is live, which the read below then tells apart.
            let claimed = sqlx::query(
                "INSERT INTO idempotency_keys (owner, idem_key, request_hash, state, locked_until, created_at) \
                 VALUES ($1, $2, $3, 'pending', $4, $5) \
                 ON CONFLICT (owner, idem_key) DO UPDATE SET request_hash = excluded.request_hash, state = 'pending', \
                   status = NULL, content_type = NULL, body = NULL, locked_until = excluded.locked_until, \
                   created_at = CASE WHEN idempotency_keys.created_at < $6 THEN excluded.created_at ELSE idempotency_keys.created_at END \
                 WHERE idempotency_keys.created_at < $6 \
                   OR (idempotency_keys.state = 'pending' AND idempotency_keys.locked_until <= $5 \
                       AND idempotency_keys.request_hash = excluded.request_hash)",
            )
            .bind(owner)
            .bind(key)
            .bind(request_hash)
            .bind(now + lease_ms)
            .bind(now)
            .bind(since)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            let outcome = if claimed {
                IdempotencyClaim::Run
            } else {
                let row = sqlx::query(
                    "SELECT request_hash, state, status, content_type, body FROM idempotency_keys \
                     WHERE owner = $1 AND idem_key = $2",
                )
                .bind(owner)
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
                let hash: String = row.try_get("request_hash")?;
                let state: String = row.try_get("state")?;
                if hash != request_hash {
                    IdempotencyClaim::Mismatch
                } else if state == "committed" {
                    IdempotencyClaim::AnswerLost
                } else if state == "done" {
                    IdempotencyClaim::Replay {
                        status: row.try_get::<Option<i32>, _>("status")?.unwrap_or(200) as u16,
                        content_type: row.try_get("content_type")?,
                        body: row.try_get::<Option<Vec<u8>>, _>("body")?.unwrap_or_default(),
                    }
                } else {
                    IdempotencyClaim::InProgress
                }
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// Stores the answer of a claimed request, for retries to get.
    pub async fn finish_idempotency(
        &self,
        owner: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query(
                "UPDATE idempotency_keys SET state = 'done', status = $3, content_type = $4, body = $5 \
                 WHERE owner = $1 AND idem_key = $2",
            )
            .bind(owner)
            .bind(key)
            .bind(i32::from(status))
            .bind(content_type)
            .bind(body)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Gives a claim up (the request failed in a way worth retrying): the next request with the key
    /// runs anew.
    pub async fn release_idempotency(&self, owner: &str, key: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query("DELETE FROM idempotency_keys WHERE owner = $1 AND idem_key = $2 AND state = 'pending'")
                .bind(owner)
                .bind(key)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Deletes idempotency records made before `before`; returns how many.
    pub async fn purge_idempotency(&self, before: i64) -> Result<u64> {
        dispatch_write!(self, |pool, DB, begin| {
            let done =
                sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(before).execute(pool).await?;
            Ok(done.rows_affected())
        })
    }
}
