//! Parley's storage: one concrete [`Store`] over SQLite (the embedded default) or PostgreSQL, chosen
//! by the database URL. Every query is written once; the [`dispatch!`] macro compiles it for each
//! engine, so callers never see which one runs.
//!
//! - [`batch`]: the engine's group commit, everything one batch of inputs changed, in one transaction.
//! - [`chats`], [`messages`] (and the outbox), [`media`] (MMS), [`events`], [`consent`], [`admin`] (setup document,
//!   agent states), [`keys`] (API keys, the deployment's account SID, idempotency records), [`sim`] (the simulator's phones).
//! - [`erasure`]: everything of one phone deleted on request, a hashed tombstone kept for its opt-out.
//! - [`monitor`]: chats per queue, status and start type, and agents' handled chats, for supervisors.
//! - [`throughput`]: the shared counters of the outbox's limits (per second, minute and day), locked
//!   and charged per claimed batch so every node counts against the same rows.
//! - [`claims`]: due timers, media downloads and named leases, each given to one node at a time;
//!   [`outage`]: which errors mean the database is out of reach.
//! - [`users`]: console users (hashed passwords, roles) and their login sessions.
//! - [`webhooks`]: outgoing event webhooks, their cursors in the event log and every delivery attempt.
//! - [`rows`]: the stored shapes; plain values, except the core's status enums (chat status, message
//!   direction, status and purpose), decoded from their stored names in [`rows`] and nowhere else.

pub mod admin;
pub mod app_sessions;
pub mod audit;
pub mod batch;
pub mod calls;
pub mod chats;
pub mod claims;
pub mod consent;
pub mod contacts;
pub mod crm;
pub mod crm_links;
pub mod erasure;
pub mod events;
pub mod keys;
pub mod media;
pub mod messages;
mod migrate;
pub mod monitor;
pub mod notifications;
pub mod numbers;
pub mod outage;
pub mod presence;
pub mod report_rollups;
pub mod reports;
pub mod retention;
pub mod rows;
pub mod sim;
pub mod throughput;
pub mod timeline;
pub mod twilio;
pub mod users;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// The database, SQLite or PostgreSQL. Cheap to clone (pool handles).
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. Writes go through a pool of one connection, so waiting writers
/// queue in the pool (woken at once) instead of in SQLite's busy handler (which sleeps in steps of
/// milliseconds); reads use the other pool and, thanks to WAL, never wait for the writer.
#[derive(Clone, Debug)]
pub struct SqlitePools {
    read: SqlitePool,
    write: SqlitePool,
}

/// What callers branch on; everything else is `Other`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_owned()),
            _ => StoreError::Other(anyhow::Error::new(e)),
        }
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs `$body` once per engine with `$pool` bound to the pool, `$db` to the sqlx database type and
/// `$begin` to the statement that opens a write transaction. SQLite must take its write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that later writes fails at once with SQLITE_BUSY.
/// `dispatch!` binds SQLite's read pool, `dispatch_write!` its single writer connection.
macro_rules! dispatch_on {
    ($store:expr, $field:ident, |$pool:ident, $db:ident, $begin:ident| $body:block) => {
        match $store {
            $crate::Store::Sqlite(pools) => {
                let $pool = &pools.$field;
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                #[allow(unused_variables)]
                let $begin = "BEGIN IMMEDIATE";
                $body
            }
            $crate::Store::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                #[allow(unused_variables)]
                let $begin = "BEGIN";
                $body
            }
        }
    };
}
macro_rules! dispatch {
    ($store:expr, |$pool:ident, $db:ident, $begin:ident| $body:block) => {
        $crate::dispatch_on!($store, read, |$pool, $db, $begin| $body)
    };
}
macro_rules! dispatch_write {
    ($store:expr, |$pool:ident, $db:ident, $begin:ident| $body:block) => {
        $crate::dispatch_on!($store, write, |$pool, $db, $begin| $body)
    };
}
pub(crate) use dispatch;
pub(crate) use dispatch_on;
pub(crate) use dispatch_write;

/// Binds `values` as a parenthesized list, closing the parenthesis the query text opened:
/// `q.push("... IN ("); push_list!(q, values);`.
macro_rules! push_list {
    ($q:expr, $values:expr) => {{
        let mut list = $q.separated(", ");
        for value in $values {
            list.push_bind(value.clone());
        }
        $q.push(")");
    }};
}
pub(crate) use push_list;

/// The advisory lock every engine write turn holds on PostgreSQL, with the writers outside the engine
/// that change what it decides on (erasure, setup, number states): "parley-write" as hex digits.
pub(crate) const WRITE_LOCK: i64 = 0x7061_726c_6579_7772;

/// Takes the engine's write turn inside the open transaction `$tx` and evaluates to the new write
/// epoch. On PostgreSQL one statement waits for [`WRITE_LOCK`] (held until the transaction ends),
/// lets PostgreSQL end the transaction if it sits idle for 30 s (a node that hangs holding the lock
/// frees it), queues a NOTIFY on [`batch::EVENTS_CHANNEL`] (delivered only if the turn commits) and
/// advances the epoch: one round trip, because a turn is taken per batch. On SQLite it only advances
/// the epoch.
macro_rules! take_turn {
    ($store:expr, $tx:expr) => {{
        let (epoch,): (i64,) = if matches!($store, $crate::Store::Postgres(_)) {
            sqlx::query_as(
                "WITH turn AS (SELECT pg_advisory_xact_lock($1)::text AS locked, \
                 set_config('idle_in_transaction_session_timeout', '30s', true) AS idle, \
                 pg_notify($2, '')::text AS notified) \
                 UPDATE write_epoch SET seq = seq + 1 FROM turn WHERE id = 1 RETURNING seq",
            )
            .bind($crate::WRITE_LOCK)
            .bind($crate::batch::EVENTS_CHANNEL)
            .fetch_one(&mut *$tx)
            .await?
        } else {
            sqlx::query_as("UPDATE write_epoch SET seq = seq + 1 WHERE id = 1 RETURNING seq")
                .fetch_one(&mut *$tx)
                .await?
        };
        epoch
    }};
}
pub(crate) use take_turn;

/// Rows per multi-row INSERT: keeps every statement well under both engines' bind-parameter limits.
pub(crate) const CHUNK: usize = 400;

impl Store {
    /// Connects to `sqlite://path` (created if missing, WAL, synchronous FULL) or `postgres://...`.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("parsing the SQLite URL {url}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Pages come from the OS page cache without a read() call each, and hot pages stay in
                // SQLite's own cache (64 MiB per connection).
                .pragma("mmap_size", "268435456")
                .pragma("cache_size", "-65536");
            // The writer connects first, so the file and its WAL mode exist before the readers open it.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await
                .with_context(|| format!("opening the SQLite database {url}"))?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .with_context(|| format!("opening the SQLite database {url}"))?;
            Ok(Store::Sqlite(SqlitePools { read, write }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // During a database outage a request fails (503, retry later) after this long rather
                // than holding its caller; under load a connection frees up long before.
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Store::Postgres(pool))
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://FILE or postgres://...")
        }
    }

    /// Applies the migrations this database has not seen yet; returns how many ran.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        migrate::run(self).await
    }

    /// Which engine this is, for logs and health output.
    pub fn engine(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, |pool, DB, begin| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection (after in-flight work).
    pub async fn close(&self) {
        match self {
            Store::Sqlite(pools) => {
                pools.read.close().await;
                pools.write.close().await;
            }
            Store::Postgres(pool) => pool.close().await,
        }
    }
}

pub mod testing {
    //! Fresh databases for tests: a temporary SQLite file, or a uniquely named PostgreSQL database
    //! when `PARLEY_TEST_DATABASE_URL` is set.

    use anyhow::Context as _;
    use sqlx::Connection as _;

    /// The environment variable naming the PostgreSQL server tests use.
    pub const ENV: &str = "PARLEY_TEST_DATABASE_URL";

    /// A database URL for one test. `dir` holds the SQLite file when no PostgreSQL URL is set.
    pub async fn fresh_database_url(dir: &std::path::Path, unique: &str) -> anyhow::Result<String> {
        match std::env::var(ENV) {
            Ok(base) if !base.is_empty() => {
                // PostgreSQL folds unquoted names to lower case and cuts them at 63 bytes; the URL below
                // must name the database that was actually created.
                let name = format!("parley_test_{}", unique.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
                    .to_ascii_lowercase();
                anyhow::ensure!(name.len() <= 63, "the test database name {name} is longer than PostgreSQL's 63 bytes");
                let mut conn =
                    sqlx::PgConnection::connect(&base).await.context("connecting to PARLEY_TEST_DATABASE_URL")?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                    .execute(&mut conn)
                    .await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
                conn.close().await?;
                // Keep the options (`?sslmode=disable`, ...) of the base URL.
                let (path, query) = base.split_once('?').map_or((base.as_str(), ""), |(p, q)| (p, q));
                let (prefix, _) = path.rsplit_once('/').context("PARLEY_TEST_DATABASE_URL has no database name")?;
                let query = if query.is_empty() { String::new() } else { format!("?{query}") };
                Ok(format!("{prefix}/{name}{query}"))
            }
            _ => Ok(format!("sqlite://{}", dir.join("parley.db").display())),
        }
    }
}
