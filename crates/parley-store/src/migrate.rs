//! Schema migrations, embedded per engine. A migration is never edited after release: add a new one.

use anyhow::Context as _;

use crate::{Store, dispatch_write};

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
];

pub(crate) async fn run(store: &Store) -> anyhow::Result<usize> {
    let migrations = match store {
        Store::Sqlite(_) => SQLITE,
        Store::Postgres(_) => POSTGRES,
    };
    dispatch_write!(store, |pool, DB, begin| {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS parley_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(pool)
        .await
        .context("creating the migrations table")?;
        let mut applied = 0;
        for (version, sql) in migrations {
            let mut tx = pool.begin_with(begin).await?;
            let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM parley_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await.with_context(|| format!("applying migration {version}"))?;
            sqlx::query("INSERT INTO parley_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(version)
                .bind(0_i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            applied += 1;
        }
        Ok(applied)
    })
}
