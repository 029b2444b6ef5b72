//! Schema migrations, embedded per engine. A migration is never edited after release: add a new one.

use anyhow::Context as _;

use crate::Store;

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_receipts.sql")),
    (3, include_str!("../migrations/sqlite/0003_media.sql")),
    (4, include_str!("../migrations/sqlite/0004_erasure.sql")),
    (5, include_str!("../migrations/sqlite/0005_number_states.sql")),
    (6, include_str!("../migrations/sqlite/0006_audit.sql")),
    (7, include_str!("../migrations/sqlite/0007_outbound.sql")),
    (8, include_str!("../migrations/sqlite/0008_sent_by_number.sql")),
    (9, include_str!("../migrations/sqlite/0009_chat_timers.sql")),
    (10, include_str!("../migrations/sqlite/0010_transfers.sql")),
    (11, include_str!("../migrations/sqlite/0011_menu_level.sql")),
    (12, include_str!("../migrations/sqlite/0012_start_type.sql")),
    (13, include_str!("../migrations/sqlite/0013_chat_lifecycle.sql")),
    (14, include_str!("../migrations/sqlite/0014_users.sql")),
    (15, include_str!("../migrations/sqlite/0015_write_epoch.sql")),
    (16, include_str!("../migrations/sqlite/0016_shared_limits.sql")),
    (17, include_str!("../migrations/sqlite/0017_worker_leases.sql")),
    (18, include_str!("../migrations/sqlite/0018_agent_presence.sql")),
    (19, include_str!("../migrations/sqlite/0019_chat_search.sql")),
    (20, include_str!("../migrations/sqlite/0020_dismissal.sql")),
    (21, include_str!("../migrations/sqlite/0021_notification_replies.sql")),
    (22, include_str!("../migrations/sqlite/0022_send_later.sql")),
    (23, include_str!("../migrations/sqlite/0023_api_keys.sql")),
    (24, include_str!("../migrations/sqlite/0024_event_webhooks.sql")),
    (25, include_str!("../migrations/sqlite/0025_outbound_media.sql")),
    (26, include_str!("../migrations/sqlite/0026_chat_ticket.sql")),
    (27, include_str!("../migrations/sqlite/0027_twilio_messages.sql")),
    (28, include_str!("../migrations/sqlite/0028_contacts.sql")),
    (29, include_str!("../migrations/sqlite/0029_crm_records.sql")),
    (30, include_str!("../migrations/sqlite/0030_crm_connectors.sql")),
    (31, include_str!("../migrations/sqlite/0031_crm_waiting.sql")),
    (32, include_str!("../migrations/sqlite/0032_chats_waited.sql")),
    (33, include_str!("../migrations/sqlite/0033_contact_search.sql")),
    (34, include_str!("../migrations/sqlite/0034_calls.sql")),
    (35, include_str!("../migrations/sqlite/0035_call_threads.sql")),
    (36, include_str!("../migrations/sqlite/0036_chats_ended.sql")),
    (37, include_str!("../migrations/sqlite/0037_report_rollups.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_receipts.sql")),
    (3, include_str!("../migrations/postgres/0003_media.sql")),
    (4, include_str!("../migrations/postgres/0004_erasure.sql")),
    (5, include_str!("../migrations/postgres/0005_number_states.sql")),
    (6, include_str!("../migrations/postgres/0006_audit.sql")),
    (7, include_str!("../migrations/postgres/0007_outbound.sql")),
    (8, include_str!("../migrations/postgres/0008_sent_by_number.sql")),
    (9, include_str!("../migrations/postgres/0009_chat_timers.sql")),
    (10, include_str!("../migrations/postgres/0010_transfers.sql")),
    (11, include_str!("../migrations/postgres/0011_menu_level.sql")),
    (12, include_str!("../migrations/postgres/0012_start_type.sql")),
    (13, include_str!("../migrations/postgres/0013_chat_lifecycle.sql")),
    (14, include_str!("../migrations/postgres/0014_users.sql")),
    (15, include_str!("../migrations/postgres/0015_write_epoch.sql")),
    (16, include_str!("../migrations/postgres/0016_shared_limits.sql")),
    (17, include_str!("../migrations/postgres/0017_worker_leases.sql")),
    (18, include_str!("../migrations/postgres/0018_agent_presence.sql")),
    (19, include_str!("../migrations/postgres/0019_chat_search.sql")),
    (20, include_str!("../migrations/postgres/0020_dismissal.sql")),
    (21, include_str!("../migrations/postgres/0021_notification_replies.sql")),
    (22, include_str!("../migrations/postgres/0022_send_later.sql")),
    (23, include_str!("../migrations/postgres/0023_api_keys.sql")),
    (24, include_str!("../migrations/postgres/0024_event_webhooks.sql")),
    (25, include_str!("../migrations/postgres/0025_outbound_media.sql")),
    (26, include_str!("../migrations/postgres/0026_chat_ticket.sql")),
    (27, include_str!("../migrations/postgres/0027_twilio_messages.sql")),
    (28, include_str!("../migrations/postgres/0028_contacts.sql")),
    (29, include_str!("../migrations/postgres/0029_crm_records.sql")),
    (30, include_str!("../migrations/postgres/0030_crm_connectors.sql")),
    (31, include_str!("../migrations/postgres/0031_crm_waiting.sql")),
    (32, include_str!("../migrations/postgres/0032_chats_waited.sql")),
    (33, include_str!("../migrations/postgres/0033_contact_search.sql")),
    (34, include_str!("../migrations/postgres/0034_calls.sql")),
    (35, include_str!("../migrations/postgres/0035_call_threads.sql")),
    (36, include_str!("../migrations/postgres/0036_chats_ended.sql")),
    (37, include_str!("../migrations/postgres/0037_report_rollups.sql")),
];

/// Applies `$migrations` not applied yet on one connection, each in its own transaction; evaluates to
/// how many ran. A macro, not a generic function: sqlx's bounds for "any database" are longer than
/// the body.
macro_rules! apply {
    ($db:ty, $conn:expr, $migrations:expr, $begin:expr) => {{
        let conn = $conn;
        sqlx::query::<$db>(
            "CREATE TABLE IF NOT EXISTS parley_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *conn)
        .await
        .context("creating the migrations table")?;
        let mut applied = 0;
        for (version, sql) in $migrations {
            let mut tx = sqlx::Connection::begin_with(&mut *conn, $begin).await?;
            let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM parley_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await.with_context(|| format!("applying migration {version}"))?;
            sqlx::query("INSERT INTO parley_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(0_i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            applied += 1;
        }
        anyhow::Ok(applied)
    }};
}

/// The advisory lock key that migrations hold on PostgreSQL ("parley-migrate" as hex digits).
const MIGRATION_LOCK: i64 = 0x7061_726c_6579_6d69;

/// Applies the migrations not applied yet. On PostgreSQL several nodes may start at once: each holds
/// the migration lock on one connection for the whole run, so the second node waits for the first and
/// then finds nothing to do (the lock is a session lock because every migration commits on its own).
pub(crate) async fn run(store: &Store) -> anyhow::Result<usize> {
    match store {
        Store::Sqlite(pools) => {
            let mut conn = pools.write.acquire().await.context("opening the database for migrations")?;
            apply!(sqlx::Sqlite, &mut *conn, SQLITE, "BEGIN IMMEDIATE")
        }
        Store::Postgres(pool) => {
            let mut conn = pool.acquire().await.context("connecting to PostgreSQL for migrations")?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *conn)
                .await
                .context("waiting for the migration lock")?;
            let result = async { apply!(sqlx::Postgres, &mut *conn, POSTGRES, "BEGIN") }.await;
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await;
            if unlocked.is_err() {
                // The connection is broken; the lock ends with it. Do not hand it back to the pool.
                conn.detach();
            }
            result
        }
    }
}
