//! The setup document and agent presence (API tokens are in [`crate::keys`]).

use sqlx::Row as _;

use parley_core::routing::Presence;

use crate::rows::{AgentStateRow, decode};
use crate::{Result, Store, dispatch, dispatch_write};

impl Store {
    /// The current setup document and its version, if one was ever saved.
    pub async fn setup_document(&self) -> Result<Option<(i64, String)>> {
        dispatch!(self, |pool, DB, begin| {
            let row: Option<(i64, String)> =
                sqlx::query_as("SELECT version, document FROM setup WHERE id = 1").fetch_optional(pool).await?;
            Ok(row)
        })
    }

    /// Saves a new setup document (already validated as a whole); returns its version.
    pub async fn save_setup_document(&self, document: &str, now: i64) -> Result<i64> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // Between two engine batches, never in the middle of one (one door for writes).
            crate::take_turn!(self, tx);
            let (version,): (i64,) = sqlx::query_as(
                "INSERT INTO setup (id, version, document, updated_at) VALUES (1, 1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET version = setup.version + 1, document = excluded.document, updated_at = excluded.updated_at \
                 RETURNING version",
            )
            .bind(document)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if matches!(self, Store::Postgres(_)) {
                // Every node reloads the setup when this commits, not only at its next batch.
                sqlx::query("SELECT pg_notify($1, '')").bind(crate::events::SETUP_CHANNEL).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(version)
        })
    }

    /// Every agent's presence.
    pub async fn agent_states(&self) -> Result<Vec<AgentStateRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT agent, status, connected, last_assigned, updated_at, status_since FROM agent_states",
            )
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(AgentStateRow {
                    agent: row.try_get("agent")?,
                    status: decode("agent_states.status", row.try_get("status")?, Presence::parse)?,
                    connected: row.try_get::<i64, _>("connected")? != 0,
                    last_assigned: row.try_get("last_assigned")?,
                    updated_at: row.try_get("updated_at")?,
                    status_since: row.try_get("status_since")?,
                });
            }
            Ok(out)
        })
    }
}

impl Store {
    /// The version of the current setup document (0 when none was saved): cheap enough to check on
    /// every batch, so a setup applied by another process or node is picked up.
    pub async fn setup_version(&self) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT version FROM setup WHERE id = 1").fetch_optional(pool).await?;
            Ok(row.map_or(0, |(v,)| v))
        })
    }
}
