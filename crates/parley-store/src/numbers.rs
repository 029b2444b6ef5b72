//! Registration states of business numbers and their history.

use sqlx::{QueryBuilder, Row as _};

use crate::rows::EventRow;
use crate::{Result, Store, dispatch, dispatch_write, push_list};

/// One state a number was put in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberStateRow {
    pub number: String,
    pub state: String,
    pub reason: Option<String>,
    /// Who changed it: "admin", or the process that did.
    pub actor: String,
    pub at: i64,
}

macro_rules! state_row {
    ($row:expr) => {
        NumberStateRow {
            number: $row.try_get("number")?,
            state: $row.try_get("state")?,
            reason: $row.try_get("reason")?,
            actor: $row.try_get("actor")?,
            at: $row.try_get("at")?,
        }
    };
}

impl Store {
    /// The current state of each of these numbers that has one (numbers never set are left out).
    pub async fn number_states(&self, numbers: &[String]) -> Result<Vec<NumberStateRow>> {
        let mut out = Vec::new();
        for chunk in numbers.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(
                    "SELECT s.number, s.state, s.reason, s.actor, s.at FROM number_states s JOIN \
                     (SELECT MAX(seq) AS last FROM number_states WHERE number IN (",
                );
                push_list!(q, chunk);
                q.push(" GROUP BY number) l ON s.seq = l.last");
                for row in q.build().fetch_all(pool).await? {
                    out.push(state_row!(row));
                }
            });
        }
        Ok(out)
    }

    /// Every state a number was put in, oldest first.
    pub async fn number_state_history(&self, number: &str) -> Result<Vec<NumberStateRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT number, state, reason, actor, at FROM number_states WHERE number = $1 ORDER BY seq",
            )
            .bind(number)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(state_row!(row));
            }
            Ok(out)
        })
    }

    /// Records a number's new state, with its `number.state_changed` event when given.
    pub async fn set_number_state(&self, row: &NumberStateRow, event: Option<&EventRow>) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // Between two engine batches, never in the middle of one (one door for writes).
            crate::take_turn!(self, tx);
            sqlx::query("INSERT INTO number_states (number, state, reason, actor, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(row.number.clone())
                .bind(row.state.clone())
                .bind(row.reason.clone())
                .bind(row.actor.clone())
                .bind(row.at)
                .execute(&mut *tx)
                .await?;
            // The change's event, in the same turn (events are written only inside one).
            if let Some(e) = event {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
