//! The consent ledger: each phone's current state and every change with time, number and source.

use sqlx::{QueryBuilder, Row as _};

use crate::rows::{ConsentEntry, ConsentRow};
use crate::{Result, Store, dispatch, push_list};

impl Store {
    /// The consent rows of these phones (phones never seen are left out).
    pub async fn consents(&self, phones: &[String]) -> Result<Vec<ConsentRow>> {
        let mut out = Vec::new();
        for chunk in phones.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q = QueryBuilder::<DB>::new(
                    "SELECT phone, opted_out, notice_sent, updated_at FROM consents WHERE phone IN (",
                );
                push_list!(q, chunk);
                for row in q.build().fetch_all(pool).await? {
                    out.push(ConsentRow {
                        phone: row.try_get("phone")?,
                        opted_out: row.try_get::<i64, _>("opted_out")? != 0,
                        notice_sent: row.try_get::<i64, _>("notice_sent")? != 0,
                        updated_at: row.try_get("updated_at")?,
                    });
                }
            });
        }
        Ok(out)
    }

    /// The ledger of one phone, oldest first.
    pub async fn consent_ledger(&self, phone: &str) -> Result<Vec<ConsentEntry>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT phone, change, keyword, number, source, at FROM consent_ledger WHERE phone = $1 ORDER BY seq",
            )
            .bind(phone)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(ConsentEntry {
                    phone: row.try_get("phone")?,
                    change: row.try_get("change")?,
                    keyword: row.try_get("keyword")?,
                    number: row.try_get("number")?,
                    source: row.try_get("source")?,
                    at: row.try_get("at")?,
                });
            }
            Ok(out)
        })
    }
}
