//! Writers on several nodes. A reader that resumes "after id N" (SSE's `Last-Event-ID`, each node's
//! event tailer) is exact only if no event with a lower id can become visible after a higher one.
//! With plain concurrent transactions that happens: ids are handed out at insert, not at commit. The
//! engine's write turns (one advisory lock from before loading to commit, on PostgreSQL) make ids
//! visible in id order. The first test shows the hazard with naive writers and that the same
//! choreography cannot happen with turns; the second runs many writers against a tailing reader.

use std::time::Duration;

use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::rows::EventRow;
use parley_store::testing::fresh_database_url;
use sqlx::postgres::PgPool;
use tokio::time::Instant;

use crate::support::{T0, event, postgres_requested};

/// Two stores on one fresh database (two nodes) and a plain pool for the naive writers.
async fn nodes(unique: &str) -> (tempfile::TempDir, Store, Store, PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path(), unique).await.unwrap();
    let a = Store::connect(&url).await.unwrap();
    a.migrate().await.unwrap();
    let b = Store::connect(&url).await.unwrap();
    let raw = PgPool::connect(&url).await.unwrap();
    (dir, a, b, raw)
}

/// A reader that resumes after the highest id it has seen, like an SSE client.
#[derive(Default)]
struct Reader {
    last: i64,
    seen: Vec<EventRow>,
}

impl Reader {
    async fn read(&mut self, store: &Store) {
        let page = store.events_after(self.last, 10_000).await.unwrap();
        if let Some(e) = page.last() {
            self.last = e.id;
        }
        self.seen.extend(page);
    }

    fn kinds(&self) -> Vec<&str> {
        self.seen.iter().map(|e| e.kind.as_str()).collect()
    }
}

async fn waiting_for_advisory_lock(raw: &PgPool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            .fetch_one(raw)
            .await
            .unwrap();
        if n >= 1 {
            return;
        }
        assert!(Instant::now() < deadline, "the second writer never waited for the writers' lock");
        tokio::task::yield_now().await;
    }
}

fn batch_of(kind: &str) -> Batch {
    Batch { events: vec![event("chat-1", kind, T0)], ..Batch::default() }
}

#[tokio::test]
async fn resuming_after_an_id_skips_nothing_when_two_nodes_write() {
    if !postgres_requested() {
        eprintln!("SQLite has one writer per database file: the hazard needs PostgreSQL, nothing to check");
        return;
    }
    let (_dir, a, b, raw) = nodes("turns_resume_choreography").await;
    let mut reader = Reader::default();

    // Naive writers: the first inserts (lower id) and stays open; the second inserts and commits.
    let mut first = raw.begin().await.unwrap();
    let (low,): (i64,) = sqlx::query_as(
        "INSERT INTO events (chat_id, queue, agent, kind, data, at) VALUES ('c', 'q', NULL, 'naive-first', '{}', 0) RETURNING id",
    )
    .fetch_one(&mut *first)
    .await
    .unwrap();
    let mut second = raw.begin().await.unwrap();
    let (high,): (i64,) = sqlx::query_as(
        "INSERT INTO events (chat_id, queue, agent, kind, data, at) VALUES ('c', 'q', NULL, 'naive-second', '{}', 0) RETURNING id",
    )
    .fetch_one(&mut *second)
    .await
    .unwrap();
    assert!(low < high);
    second.commit().await.unwrap();
    reader.read(&a).await;
    first.commit().await.unwrap();
    reader.read(&a).await;
    assert_eq!(
        reader.kinds(),
        ["naive-second"],
        "with naive writers the reader resumes after {high} and never sees {low}: the hazard is real"
    );

    // The same choreography with write turns: the second node cannot insert while the first holds
    // its turn, so it cannot commit a higher id first.
    let turn = a.begin_turn().await.unwrap();
    let node_b = {
        let b = b.clone();
        tokio::spawn(async move {
            let turn = b.begin_turn().await.unwrap();
            b.commit_turn(turn, &batch_of("turn-second")).await.unwrap()
        })
    };
    waiting_for_advisory_lock(&raw).await;
    reader.read(&a).await;
    assert_eq!(reader.kinds(), ["naive-second"], "nothing is visible while the first turn is open");
    let first_ids = a.commit_turn(turn, &batch_of("turn-first")).await.unwrap().event_ids;
    let second_ids = node_b.await.unwrap().event_ids;
    assert!(first_ids[0] < second_ids[0], "ids follow the turns: {first_ids:?} then {second_ids:?}");
    reader.read(&a).await;
    assert_eq!(reader.kinds(), ["naive-second", "turn-first", "turn-second"]);
}

#[tokio::test]
async fn a_tailing_reader_sees_every_event_of_many_writers_once_in_order() {
    if !postgres_requested() {
        eprintln!("SQLite has one writer per database file: nothing concurrent to check");
        return;
    }
    let (_dir, a, b, _raw) = nodes("turns_resume_many_writers").await;
    const WRITERS: usize = 6;
    const BATCHES: usize = 40;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        // Half the writers on each node's pool.
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        writers.spawn(async move {
            for i in 0..BATCHES {
                let turn = store.begin_turn().await.unwrap();
                let events = (0..3).map(|k| event(&format!("w{w}"), &format!("w{w}-{i}-{k}"), T0)).collect();
                store.commit_turn(turn, &Batch { events, ..Batch::default() }).await.unwrap();
            }
        });
    }
    let mut reader = Reader::default();
    let total = WRITERS * BATCHES * 3;
    let deadline = Instant::now() + Duration::from_secs(60);
    while reader.seen.len() < total {
        assert!(Instant::now() < deadline, "the reader saw {} of {total} events", reader.seen.len());
        reader.read(&a).await;
    }
    while writers.join_next().await.is_some() {}
    reader.read(&a).await;
    let all = a.events_after(0, 100_000).await.unwrap();
    assert_eq!(all.len(), total);
    assert_eq!(
        reader.seen.iter().map(|e| e.id).collect::<Vec<_>>(),
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        "the reader saw exactly the table's events, in id order"
    );
    // Each writer's batches are in its own order too.
    for w in 0..WRITERS {
        let mine: Vec<&str> = reader.kinds().into_iter().filter(|k| k.starts_with(&format!("w{w}-"))).collect();
        let expected: Vec<String> = (0..BATCHES).flat_map(|i| (0..3).map(move |k| format!("w{w}-{i}-{k}"))).collect();
        assert_eq!(mine, expected.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
