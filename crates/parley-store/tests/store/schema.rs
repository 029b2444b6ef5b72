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

/// Nodes that start together migrate once: each run holds the migration lock, so the others wait
/// and then find nothing to do (on SQLite the single writer connection serializes them the same way).
#[tokio::test]
async fn nodes_starting_at_once_migrate_once() {
    let (_dir, first) = connect("nodes_starting_at_once_migrate").await;
    let nodes: Vec<parley_store::Store> = (0..3).map(|_| first.clone()).collect();
    let mut runs = tokio::task::JoinSet::new();
    for (i, store) in nodes.into_iter().enumerate() {
        // On PostgreSQL each run takes a connection of its own from the pool, as separate nodes would.
        runs.spawn(async move { (i, store.migrate().await.unwrap()) });
    }
    let mut applied = Vec::new();
    while let Some(run) = runs.join_next().await {
        applied.push(run.unwrap().1);
    }
    applied.sort_unstable();
    assert_eq!(applied[..2], [0, 0], "only one run applied migrations: {applied:?}");
    assert!(applied[2] >= 15, "one run applied all of them: {applied:?}");
    assert_eq!(first.last_event_id().await.unwrap(), 0);
}
