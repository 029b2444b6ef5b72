//! The append-only event log, read for SSE streams and their resumption.

use sqlx::Row as _;

use crate::rows::EventRow;
use crate::{Result, Store, dispatch};

/// Inserts one event (`&EventRow`) in the open transaction `$tx`, for a writer outside the engine's
/// batches that writes its event inside its own write turn (a number's state, a disabled webhook).
macro_rules! insert_event {
    ($tx:expr, $event:expr) => {{
        let e: &$crate::rows::EventRow = $event;
        sqlx::query("INSERT INTO events (chat_id, queue, agent, kind, data, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(e.chat_id.clone())
            .bind(e.queue.clone())
            .bind(e.agent.clone())
            .bind(e.kind.clone())
            .bind(e.data.clone())
            .bind(e.at)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use insert_event;

/// An [`EventRow`] from a query that selected the event log's seven columns.
macro_rules! event_row {
    ($row:expr) => {
        EventRow {
            id: $row.try_get("id")?,
            chat_id: $row.try_get("chat_id")?,
            queue: $row.try_get("queue")?,
            agent: $row.try_get("agent")?,
            kind: $row.try_get("kind")?,
            data: $row.try_get("data")?,
            at: $row.try_get("at")?,
        }
    };
}
pub(crate) use event_row;

impl Store {
    /// Events with an id above `after`, oldest first.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT id, chat_id, queue, agent, kind, data, at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(event_row!(row));
            }
            Ok(out)
        })
    }

    /// Events of the three kinds matching on connect acts on (`chat.connected`,
    /// `chat.started_outbound`, `chat.ended`) with an id above `after` and at most `upto`, oldest
    /// first: the matcher skips the rest of the log without reading it.
    pub async fn matching_events(&self, after: i64, upto: i64, limit: i64) -> Result<Vec<EventRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(
                "SELECT id, chat_id, queue, agent, kind, data, at FROM events WHERE id > $1 AND id <= $2 \
                 AND kind IN ('chat.connected', 'chat.started_outbound', 'chat.ended') ORDER BY id LIMIT $3",
            )
            .bind(after)
            .bind(upto)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(event_row!(row));
            }
            Ok(out)
        })
    }

    /// The newest event id (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM events").fetch_one(pool).await?;
            Ok(id.unwrap_or(0))
        })
    }
}

/// The channel on which PostgreSQL tells every node that the setup changed.
pub const SETUP_CHANNEL: &str = "parley_setup";

/// What another node (or this one) told every node through PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Events were committed: read the table after the last id seen.
    Events,
    /// A new setup was saved.
    Setup,
    /// The listening connection was lost and made again: notices may have been missed in between,
    /// so whatever they would have triggered must be done now.
    Reconnected,
}

/// A connection listening for [`Notice`]s (PostgreSQL's LISTEN/NOTIFY).
pub struct Notices {
    listener: sqlx::postgres::PgListener,
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notices").finish_non_exhaustive()
    }
}

impl Notices {
    /// The next notice. An error (the database is unreachable) is the caller's to retry: the next call
    /// connects again and answers [`Notice::Reconnected`] first.
    pub async fn next(&mut self) -> Result<Notice> {
        match self.listener.try_recv().await? {
            Some(n) if n.channel() == SETUP_CHANNEL => Ok(Notice::Setup),
            Some(_) => Ok(Notice::Events),
            None => Ok(Notice::Reconnected),
        }
    }
}

impl Store {
    /// Listens for the notices other nodes send; `None` on SQLite, where one process serves the
    /// database and nothing needs to be told.
    pub async fn listen(&self) -> Result<Option<Notices>> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen_all([crate::batch::EVENTS_CHANNEL, SETUP_CHANNEL]).await?;
                Ok(Some(Notices { listener }))
            }
        }
    }
}
