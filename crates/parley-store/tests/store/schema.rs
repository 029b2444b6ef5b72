//! Connecting, the engine in use, and migrations.

use crate::support::{T0, connect, fresh, postgres_requested};

/// A CI run meant for PostgreSQL that silently fell back to SQLite must fail, not pass.
#[tokio::test]
async fn engine_matches_environment() {
    let store = fresh("engine_matches_environment").await;
    let expected = if postgres_requested() { "postgres" } else { "sqlite" };
    assert_eq!(store.engine(), expected);
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let (_dir, store) = connect("migrate_is_idempotent").await;
    let first = store.migrate().await.unwrap();
    assert!(first >= 1, "a fresh database applies every migration, got {first}");
    assert_eq!(store.migrate().await.unwrap(), 0, "a second run applies nothing");
    assert_eq!(store.migrate().await.unwrap(), 0, "nor does a third");
    // The schema is usable after the repeated runs.
    assert_eq!(store.last_event_id().await.unwrap(), 0);
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 0);
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    let err = parley_store::Store::connect("mysql://localhost/parley").await.unwrap_err();
    assert!(err.to_string().contains("unsupported database URL"), "{err:#}");
}

/// Test names become PostgreSQL database names, which are folded to lower case: a mixed-case name
/// must still lead to the database that was created.
#[tokio::test]
async fn fresh_databases_accept_mixed_case_names() {
    let store = fresh("Schema::Mixed-Case").await;
    assert_eq!(store.save_setup_document("{}", 0).await.unwrap(), 1);
}
