//! App-launch tokens that opened (docs/ivr.md "SMS to launch the app"): one row per token, by its
//! nonce, so a token opens once on any node; written with its event in one transaction.

use sqlx::QueryBuilder;

use crate::rows::EventRow;
use crate::{Result, Store, dispatch_write};

/// An app-launch token that opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSessionRow {
    pub nonce: String,
    pub app: String,
    pub consumer: String,
    pub number: String,
    /// The live chat between the two when it opened, if any.
    pub chat_id: Option<String>,
    pub opened_at: i64,
}

impl Store {
    /// Records a token as opened, with its events; `false` (and nothing written) when it had opened
    /// already.
    pub async fn insert_app_session(&self, session: &AppSessionRow, events: &[EventRow]) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO app_sessions (nonce, app, consumer, number, chat_id, opened_at) VALUES (",
            );
            q.separated(", ")
                .push_bind(session.nonce.clone())
                .push_bind(session.app.clone())
                .push_bind(session.consumer.clone())
                .push_bind(session.number.clone())
                .push_bind(session.chat_id.clone())
                .push_bind(session.opened_at);
            q.push(") ON CONFLICT (nonce) DO NOTHING");
            if q.build().execute(&mut *tx).await?.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            for e in events {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}
