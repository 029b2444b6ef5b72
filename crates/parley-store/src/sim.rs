//! The simulator's phones: what each virtual phone sent and what Parley delivered to it. Stored, so
//! the phone page and `GET /sim/phones/{e164}/messages` survive restarts.

use sqlx::{QueryBuilder, Row as _};

use crate::rows::SimRow;
use crate::{Result, Store, dispatch, dispatch_write};

/// Inserts simulator rows with one statement; shared by delivery and the engine's batch.
macro_rules! insert_sim_rows {
    ($db:ty, $conn:expr, $rows:expr) => {
        if !$rows.is_empty() {
            let mut q = QueryBuilder::<$db>::new(
                "INSERT INTO sim_messages (phone, business, direction, body, media, message_id, at) ",
            );
            q.push_values($rows.iter(), |mut b, r: &SimRow| {
                b.push_bind(r.phone.clone())
                    .push_bind(r.business.clone())
                    .push_bind(r.direction.clone())
                    .push_bind(r.body.clone())
                    .push_bind(r.media.clone())
                    .push_bind(r.message_id.clone())
                    .push_bind(r.at);
            });
            q.push(" ON CONFLICT (message_id) DO NOTHING");
            q.build().execute($conn).await?;
        }
    };
}
pub(crate) use insert_sim_rows;

impl Store {
    /// Delivers messages to simulated phones. A message id already delivered is skipped, so a send
    /// repeated after a crash shows up once.
    pub async fn sim_deliver(&self, rows: &[SimRow]) -> Result<()> {
        for chunk in rows.chunks(crate::CHUNK) {
            dispatch_write!(self, |pool, DB, begin| {
                let mut tx = pool.begin_with(begin).await?;
                insert_sim_rows!(DB, &mut *tx, chunk);
                tx.commit().await?;
            });
        }
        Ok(())
    }

    /// The messages of one phone with a sequence above `after`, oldest first.
    pub async fn sim_thread(&self, phone: &str, after: i64) -> Result<Vec<SimRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT seq, phone, business, direction, body, media, message_id, at FROM sim_messages \
                 WHERE phone = $1 AND seq > $2 ORDER BY seq",
            )
            .bind(phone)
            .bind(after)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(SimRow {
                    seq: row.try_get("seq")?,
                    phone: row.try_get("phone")?,
                    business: row.try_get("business")?,
                    direction: row.try_get("direction")?,
                    body: row.try_get("body")?,
                    media: row.try_get("media")?,
                    message_id: row.try_get("message_id")?,
                    at: row.try_get("at")?,
                });
            }
            Ok(out)
        })
    }
}
