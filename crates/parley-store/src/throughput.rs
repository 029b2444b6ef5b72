//! What sender numbers already sent: the counts a restarted outbox sender seeds its per-minute and
//! per-day throughput windows with.

use sqlx::{QueryBuilder, Row as _};

use crate::{Result, Store, dispatch, push_list};

impl Store {
    /// The segments of the outbound messages these numbers handed to a carrier at or after `since`
    /// (epoch ms); `segments` counts one body's segments (the store knows no SMS encoding).
    ///
    /// A message counts once a carrier accepted it (it has a provider id), whatever receipt came
    /// since: "undelivered" or "failed" after acceptance still used the carrier's throughput, while a
    /// message refused at the send did not. The time compared is `updated_at`, the acceptance or a
    /// later receipt: never before the send, so a message sent just before the window started may be
    /// counted in it (too strict, briefly), never one sent inside it left out.
    pub async fn sent_segments_since(
        &self,
        numbers: &[String],
        since: i64,
        segments: impl Fn(&str) -> i64,
    ) -> Result<i64> {
        let mut total = 0;
        for chunk in numbers.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                // Grouped by body: system texts (the opt-in notice, the menu) repeat, so each distinct
                // text is counted once and fetched once.
                let mut q = QueryBuilder::<DB>::new(
                    "SELECT body, COUNT(*) AS n FROM messages WHERE direction = 'out' AND provider_id IS NOT NULL \
                     AND updated_at >= ",
                );
                q.push_bind(since);
                q.push(" AND number IN (");
                push_list!(q, chunk);
                q.push(" GROUP BY body");
                for row in q.build().fetch_all(pool).await? {
                    let body: String = row.try_get("body")?;
                    let n: i64 = row.try_get("n")?;
                    total += segments(&body) * n;
                }
            });
        }
        Ok(total)
    }
}
