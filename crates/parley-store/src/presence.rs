//! Who keeps an agent connected (`agent_links`): a row per agent and holder, refreshed while the
//! holder has them. A holder is a node with the agent's console event stream open, or `"api"` for
//! heartbeats through `PUT /api/v1/me/status`. The engine decides from these rows, under its write
//! turn, whether each agent is connected (see `Desk::connectivity` in the core); a node that dies
//! simply stops refreshing its rows, and they stop counting once they are older than the setup's
//! presence timeout.

use sqlx::Row as _;

use crate::{Result, Store, dispatch, dispatch_write};

/// The holder of heartbeats sent through the API (as opposed to a node's open streams).
pub const API_HOLDER: &str = "api";

/// Rows this much older than the oldest that still counts are deleted when a holder refreshes.
const KEEP_STALE_MS: i64 = 24 * 3_600_000;

impl Store {
    /// Marks `agents` as kept connected by `holder` at `now`, and deletes `holder`'s rows of
    /// `dropped` (agents whose last stream on this node closed).
    pub async fn refresh_links(&self, holder: &str, agents: &[String], dropped: &[String], now: i64) -> Result<()> {
        if agents.is_empty() && dropped.is_empty() {
            return Ok(());
        }
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            for chunk in dropped.chunks(crate::CHUNK) {
                let mut q = sqlx::QueryBuilder::<DB>::new("DELETE FROM agent_links WHERE holder = ");
                q.push_bind(holder).push(" AND agent IN (");
                crate::push_list!(q, chunk);
                q.build().execute(&mut *tx).await?;
            }
            for chunk in agents.chunks(crate::CHUNK) {
                let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO agent_links (agent, holder, seen_at) ");
                q.push_values(chunk, |mut b, agent| {
                    b.push_bind(agent.clone()).push_bind(holder).push_bind(now);
                });
                q.push(" ON CONFLICT (agent, holder) DO UPDATE SET seen_at = excluded.seen_at");
                q.build().execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM agent_links WHERE seen_at < $1")
                .bind(now - KEEP_STALE_MS)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The agents some holder kept connected at `since` or later.
    pub async fn linked_agents(&self, since: i64) -> Result<Vec<String>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query("SELECT DISTINCT agent FROM agent_links WHERE seen_at >= $1")
                .bind(since)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok(r.try_get("agent")?)).collect()
        })
    }
}
