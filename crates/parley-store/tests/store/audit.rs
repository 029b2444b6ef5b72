//! The audit log of reads: appended in order, listed newest first by chat and/or actor.

use parley_store::audit::{AuditFilter, AuditRead};

use crate::support::*;

fn read(actor: &str, chat: Option<&str>, what: &str, at: i64) -> AuditRead {
    AuditRead { seq: 0, actor: actor.to_owned(), chat_id: chat.map(str::to_owned), what: what.to_owned(), at }
}

fn filter(chat: Option<&str>, actor: Option<&str>, limit: i64) -> AuditFilter {
    AuditFilter { chat: chat.map(str::to_owned), actor: actor.map(str::to_owned), limit }
}

fn shape(reads: &[AuditRead]) -> Vec<(&str, Option<&str>, &str, i64)> {
    reads.iter().map(|r| (r.actor.as_str(), r.chat_id.as_deref(), r.what.as_str(), r.at)).collect()
}

#[tokio::test]
async fn reads_are_listed_newest_first_by_chat_and_actor() {
    let store = fresh("audit_reads_listed").await;
    assert!(store.audit_reads(&filter(None, None, 10)).await.unwrap().is_empty());
    store.record_reads(&[]).await.unwrap();
    store
        .record_reads(&[
            read("agent:alice", Some("c1"), "chat", T0),
            read("agent:alice", Some("c1"), "transcript", T0 + 1),
        ])
        .await
        .unwrap();
    store.record_reads(&[read("admin", Some("c1"), "media:m1", T0 + 2)]).await.unwrap();
    store.record_reads(&[read("agent:bob", Some("c2"), "chat", T0 + 3)]).await.unwrap();
    store.record_reads(&[read("admin", None, "media:m9", T0 + 4)]).await.unwrap();

    let all = store.audit_reads(&filter(None, None, 100)).await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first: {all:?}");
    assert_eq!(all[4].at, T0);

    let c1 = store.audit_reads(&filter(Some("c1"), None, 100)).await.unwrap();
    assert_eq!(
        shape(&c1),
        [
            ("admin", Some("c1"), "media:m1", T0 + 2),
            ("agent:alice", Some("c1"), "transcript", T0 + 1),
            ("agent:alice", Some("c1"), "chat", T0),
        ]
    );
    let alice = store.audit_reads(&filter(None, Some("agent:alice"), 100)).await.unwrap();
    assert_eq!(alice.iter().map(|r| r.what.as_str()).collect::<Vec<_>>(), ["transcript", "chat"]);
    let admin_c1 = store.audit_reads(&filter(Some("c1"), Some("admin"), 100)).await.unwrap();
    assert_eq!(shape(&admin_c1), [("admin", Some("c1"), "media:m1", T0 + 2)]);
    let limited = store.audit_reads(&filter(None, None, 2)).await.unwrap();
    assert_eq!(limited.iter().map(|r| r.at).collect::<Vec<_>>(), [T0 + 4, T0 + 3]);
    assert!(store.audit_reads(&filter(Some("c3"), None, 100)).await.unwrap().is_empty());
}

/// A batch larger than one multi-row INSERT is recorded whole, in order.
#[tokio::test]
async fn a_large_batch_is_recorded_in_order() {
    let store = fresh("audit_reads_large_batch").await;
    let reads: Vec<AuditRead> = (0..1000).map(|i| read("admin", Some("c1"), "chat", T0 + i)).collect();
    store.record_reads(&reads).await.unwrap();
    let listed = store.audit_reads(&filter(Some("c1"), None, 1000)).await.unwrap();
    assert_eq!(listed.len(), 1000);
    assert_eq!(listed.iter().map(|r| r.at).collect::<Vec<_>>(), (0..1000).rev().map(|i| T0 + i).collect::<Vec<_>>());
}
