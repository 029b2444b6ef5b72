//! `parley bench seed`: the history it writes is what reports read. Every chat is stored with its
//! events in the one JSON form (each reads back), ends exactly once, and folds into facts with a
//! queue and, when answered, an agent. Runs on SQLite, or on PostgreSQL when
//! `PARLEY_TEST_DATABASE_URL` is set.

use std::collections::BTreeMap;
use std::process::Command;

use parley_core::chat::{Origin, StartType};
use parley_core::event::Event;
use parley_core::ids::QueueId;
use parley_core::report::facts::{ChatHeader, Step, fold};
use parley_core::time::Timestamp;
use parley_server::http::event_json::decode_fact;
use parley_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_seed_writes_chats_the_reports_read() {
    let dir = tempfile::tempdir().unwrap();
    let url = parley_store::testing::fresh_database_url(dir.path(), "cli_bench_seed").await.unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(["bench", "seed", "--chats", "300", "--days", "3", "--agents", "12", "--queues", "4", "--batch", "70"])
        .args(["--database-url", &url, "--quiet"])
        .env_remove("PARLEY_DATABASE_URL")
        .output()
        .expect("the parley binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("seeded 300 chats"), "{stderr}");

    let store = Store::connect(&url).await.unwrap();
    let chats = store.chats_opened_between(0, i64::MAX).await.unwrap();
    assert_eq!(chats.len(), 300);
    let events = store.fact_events_between(0, i64::MAX).await.unwrap();
    let mut steps: BTreeMap<String, Vec<Step>> = BTreeMap::new();
    for row in &events {
        let event = decode_fact(row).unwrap_or_else(|| panic!("an event that does not read back: {row:?}"));
        let queue = row.queue.as_deref().map(|q| QueueId::parse(q).unwrap());
        steps.entry(row.chat_id.clone().unwrap()).or_default().push(Step { at: Timestamp(row.at), queue, event });
    }
    let (mut outbound, mut answered) = (0, 0);
    for chat in &chats {
        let of_chat = &steps[&chat.id];
        let ends = of_chat.iter().filter(|s| matches!(s.event, Event::Ended { .. })).count();
        assert_eq!(ends, 1, "{}", chat.id);
        let header = ChatHeader {
            id: chat.id.clone(),
            number: chat.number.clone(),
            consumer: chat.consumer.clone(),
            origin: Origin::parse(&chat.origin).unwrap(),
            start_type: chat.start_type.as_deref().and_then(StartType::parse),
            status: chat.status,
            opened_at: Timestamp(chat.opened_at),
        };
        let facts = fold(&header, of_chat, Timestamp(i64::MAX));
        assert_eq!(facts.queue.as_ref().map(QueueId::as_str), chat.queue.as_deref(), "{}", chat.id);
        assert_eq!(facts.answered_at.map(|t| t.0), chat.answered_at, "{}", chat.id);
        assert!(facts.messages.inbound + facts.messages.outbound >= 3, "{}", chat.id);
        outbound += usize::from(chat.origin == "outbound");
        answered += usize::from(facts.answered_at.is_some());
    }
    // About 10% outbound and 8% of the others abandoned, from the fixed seed.
    assert!((10..=60).contains(&outbound), "{outbound} outbound");
    assert!(answered > 240, "{answered} answered");
    store.close().await;
}
