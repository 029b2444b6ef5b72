//! Limits every node shares: throughput counters charged under lock, and failed logins. Two `Store`s
//! on one database stand for two nodes (each has its own pools, as two processes would).

use std::sync::Arc;

use parley_core::message::MessageStatus;
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::rows::MessageRow;
use parley_store::testing::fresh_database_url;
use parley_store::throughput::{CounterRow, CounterSpec};
use tempfile::TempDir;

use crate::support::{BUSINESS, OTHER_BUSINESS, T0, outbound};

/// Two migrated stores on one fresh database; the directory holds the SQLite file.
async fn two_nodes(unique: &str) -> (TempDir, Store, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path(), unique).await.unwrap();
    let a = Store::connect(&url).await.unwrap();
    a.migrate().await.unwrap();
    let b = Store::connect(&url).await.unwrap();
    assert_eq!(b.migrate().await.unwrap(), 0, "the second node finds the schema in place");
    (dir, a, b)
}

fn bucket(name: &str) -> CounterSpec {
    CounterSpec { name: name.to_owned(), window_start: None, numbers: Vec::new() }
}

fn window(name: &str, start: i64, numbers: &[&str]) -> CounterSpec {
    CounterSpec {
        name: name.to_owned(),
        window_start: Some(start),
        numbers: numbers.iter().map(|n| n.to_string()).collect(),
    }
}

/// One segment per 10 characters: a stand-in for the SMS segment count, which the store does not know.
fn tens(body: &str) -> i64 {
    (body.len() as i64 + 9) / 10
}

#[tokio::test]
async fn counters_start_uncounted_and_keep_what_a_charge_wrote() {
    let (_dir, a, b) = two_nodes("limits_counters_round_trip").await;
    let specs = [bucket("number:+1/second"), window("number:+1/minute", T0, &[]), bucket("carrier:c/second")];
    // New counters come sorted by name: a bucket never charged (-1), a window started at its start.
    let seen = a
        .charge_throughput(&specs, T0, tens, |rows| {
            let before = rows.to_vec();
            rows[1].value = 2.0;
            rows[2].start = T0;
            rows[2].value = 4.5;
            before
        })
        .await
        .unwrap();
    assert_eq!(
        seen,
        [
            CounterRow { name: "carrier:c/second".into(), start: -1, value: 0.0 },
            CounterRow { name: "number:+1/minute".into(), start: T0, value: 0.0 },
            CounterRow { name: "number:+1/second".into(), start: -1, value: 0.0 },
        ]
    );
    // The other node reads what the first wrote; a counter the charge left alone is as it was.
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    assert_eq!(
        b.throughput_counters(&names).await.unwrap(),
        [
            CounterRow { name: "carrier:c/second".into(), start: -1, value: 0.0 },
            CounterRow { name: "number:+1/minute".into(), start: T0, value: 2.0 },
            CounterRow { name: "number:+1/second".into(), start: T0, value: 4.5 },
        ]
    );
    // Asking twice for one counter hands it over once.
    let twice = [bucket("number:+1/second"), bucket("number:+1/second")];
    let rows = b.charge_throughput(&twice, T0, tens, |rows| rows.to_vec()).await.unwrap();
    assert_eq!(rows, [CounterRow { name: "number:+1/second".into(), start: T0, value: 4.5 }]);
    // Nothing to charge: no counter, no transaction.
    assert_eq!(a.charge_throughput(&[], T0, tens, |rows| rows.len()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_window_that_starts_over_counts_what_its_numbers_already_sent() {
    let (_dir, a, b) = two_nodes("limits_window_seed").await;
    let accepted = |id: &str, number: &str, body: &str, at: i64| MessageRow {
        number: number.to_owned(),
        status: MessageStatus::Delivered,
        provider_id: Some(format!("p-{id}")),
        updated_at: at,
        ..outbound(id, "chat-1", body)
    };
    let twenty = "x".repeat(20);
    let messages = vec![
        accepted("before", BUSINESS, &twenty, T0 - 1),
        accepted("a", BUSINESS, &twenty, T0),
        accepted("b", OTHER_BUSINESS, "short", T0 + 10),
    ];
    a.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();

    // Sent before the shared counting knew of the window (2 + 1 segments since T0): they count.
    let day = window("campaign:care/day", T0, &[BUSINESS, OTHER_BUSINESS]);
    let seeded = a.charge_throughput(std::slice::from_ref(&day), T0 + 20, tens, |rows| rows[0].value).await.unwrap();
    assert_eq!(seeded, 3.0);
    // Once started, a window keeps its own count: the messages are not counted a second time.
    b.charge_throughput(std::slice::from_ref(&day), T0 + 30, tens, |rows| rows[0].value += 1.0).await.unwrap();
    let value = a.charge_throughput(std::slice::from_ref(&day), T0 + 40, tens, |rows| rows[0].value).await.unwrap();
    assert_eq!(value, 4.0);
    // The next window starts over from what was sent in it (nothing yet).
    let next = window("campaign:care/day", T0 + 86_400_000, &[BUSINESS, OTHER_BUSINESS]);
    let rows = b.charge_throughput(std::slice::from_ref(&next), T0 + 86_400_000, tens, |rows| rows.to_vec()).await;
    assert_eq!(rows.unwrap(), [CounterRow { name: "campaign:care/day".into(), start: T0 + 86_400_000, value: 0.0 }]);
    // A node whose clock is behind, still in the earlier window, finds the later one and keeps it.
    let rows = a.charge_throughput(std::slice::from_ref(&day), T0 + 50, tens, |rows| rows.to_vec()).await;
    assert_eq!(rows.unwrap()[0].start, T0 + 86_400_000);
}

/// Two nodes charge one counter of 60 as fast as they can, 40 times each, concurrently: exactly 60
/// charges succeed. A read that does not lock (or two writers overwriting each other) lets more
/// through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_charging_one_counter_never_both_spend_the_same_allowance() {
    let (_dir, a, b) = two_nodes("limits_concurrent_charges").await;
    const LIMIT: f64 = 60.0;
    let specs = Arc::new([bucket("number:+1/second"), bucket("campaign:care/second")]);
    let mut tasks = Vec::new();
    for (node, store) in [a.clone(), b.clone()].into_iter().enumerate() {
        for i in 0..40 {
            let (store, specs) = (store.clone(), specs.clone());
            tasks.push(tokio::spawn(async move {
                // Alternate the order the specs are given in: the store locks by name either way.
                let specs: Vec<CounterSpec> =
                    if (node + i) % 2 == 0 { specs.to_vec() } else { specs.iter().rev().cloned().collect() };
                store
                    .charge_throughput(&specs, T0, tens, |rows| {
                        if rows.iter().all(|r| r.value < LIMIT) {
                            for row in rows.iter_mut() {
                                row.start = T0;
                                row.value += 1.0;
                            }
                            true
                        } else {
                            false
                        }
                    })
                    .await
                    .unwrap()
            }));
        }
    }
    let mut granted = 0;
    for task in tasks {
        granted += usize::from(task.await.unwrap());
    }
    assert_eq!(granted, LIMIT as usize);
    let names = ["campaign:care/second".to_owned(), "number:+1/second".to_owned()];
    let values: Vec<f64> = a.throughput_counters(&names).await.unwrap().iter().map(|r| r.value).collect();
    assert_eq!(values, [LIMIT, LIMIT]);
}

#[tokio::test]
async fn counters_nobody_charged_for_a_while_are_deleted() {
    let (_dir, a, _b) = two_nodes("limits_forget_counters").await;
    let charge = |name: &str, now: i64| {
        let spec = bucket(name);
        let a = a.clone();
        async move { a.charge_throughput(&[spec], now, tens, |rows| rows[0].value += 1.0).await.unwrap() }
    };
    charge("number:old/second", T0).await;
    charge("number:new/second", T0 + 1000).await;
    assert_eq!(a.forget_throughput_counters(T0 + 1000).await.unwrap(), 1);
    let names = ["number:new/second".to_owned(), "number:old/second".to_owned()];
    let left: Vec<String> = a.throughput_counters(&names).await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(left, ["number:new/second"]);
}

#[tokio::test]
async fn failed_logins_recorded_by_one_node_count_on_the_other() {
    let (_dir, a, b) = two_nodes("limits_login_failures").await;
    let keys = ["user:alice".to_owned(), "ip:192.0.2.1".to_owned()];
    for i in 0..3 {
        a.record_login_failure(&keys, T0 + i, T0 - 900_000).await.unwrap();
    }
    b.record_login_failure(&keys[1..], T0 + 10, T0 - 900_000).await.unwrap();
    // By key, newest first; `after` is exclusive.
    assert_eq!(
        b.login_failures(&keys, T0).await.unwrap(),
        [
            ("ip:192.0.2.1".to_owned(), T0 + 10),
            ("ip:192.0.2.1".to_owned(), T0 + 2),
            ("ip:192.0.2.1".to_owned(), T0 + 1),
            ("user:alice".to_owned(), T0 + 2),
            ("user:alice".to_owned(), T0 + 1),
        ]
    );
    assert!(a.login_failures(&["user:bob".to_owned()], 0).await.unwrap().is_empty());
    assert!(a.login_failures(&[], 0).await.unwrap().is_empty());
    // A success forgets one key only.
    b.clear_login_failures("user:alice").await.unwrap();
    let left = a.login_failures(&keys, 0).await.unwrap();
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(left.iter().all(|(k, _)| k == "ip:192.0.2.1"), "{left:?}");
    // Recording a failure deletes the failures that no longer count, of every key.
    b.record_login_failure(&["user:carol".to_owned()], T0 + 900_002, T0 + 2).await.unwrap();
    let all = ["user:carol".to_owned(), keys[1].clone()];
    assert_eq!(
        a.login_failures(&all, 0).await.unwrap(),
        [("ip:192.0.2.1".to_owned(), T0 + 10), ("user:carol".to_owned(), T0 + 900_002)]
    );
}
