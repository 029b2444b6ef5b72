//! Delivery receipts: statuses only move forward, and receipts that come before their message is known
//! wait in `receipts_pending`.

use parley_core::message::MessageStatus;
use parley_store::batch::Batch;
use parley_store::messages::SendResult;
use parley_store::rows::{PendingReceiptRow, StatusUpdate};

use crate::support::*;

#[tokio::test]
async fn a_status_only_moves_forward() {
    let store = fresh("receipts_forward").await;
    store
        .commit_batch(&Batch {
            chats: vec![chat("chat-1", ANN)],
            messages: vec![outbound("m-1", "chat-1", "hi")],
            ..Batch::default()
        })
        .await
        .unwrap();
    let claimed = store.claim_outbox(T0, 60_000, 10).await.unwrap();
    let seq = claimed[0].seq;
    store
        .finish_outbox(
            &[(seq, SendResult::Accepted { status: MessageStatus::Sent, provider_id: Some("SM1".into()) })],
            T0 + 1,
        )
        .await
        .unwrap();
    let found = store.outbound_by_provider("sim", &["SM1".to_owned()]).await.unwrap();
    assert_eq!(found.iter().map(|m| (m.id.as_str(), m.status.as_str())).collect::<Vec<_>>(), [("m-1", "sent")]);
    assert!(store.outbound_by_provider("other", &["SM1".to_owned()]).await.unwrap().is_empty(), "per carrier");

    let update =
        |status: &str, at: i64| StatusUpdate { seq, status: MessageStatus::parse(status).unwrap(), error: None, at };
    store.commit_batch(&Batch { status_updates: vec![update("delivered", T0 + 2)], ..Batch::default() }).await.unwrap();
    // A late "sent" and a contradicting "failed" after delivery change nothing.
    store
        .commit_batch(&Batch {
            status_updates: vec![update("sent", T0 + 3), update("failed", T0 + 4)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let messages = store.transcript("chat-1").await.unwrap();
    assert_eq!(messages[0].status, MessageStatus::Delivered);
    assert_eq!(messages[0].updated_at, T0 + 2);
}

#[tokio::test]
async fn receipts_wait_for_their_message() {
    let store = fresh("receipts_pending").await;
    let pending = |provider_id: &str, status: &str, at: i64| PendingReceiptRow {
        carrier: "smsc".to_owned(),
        provider_id: provider_id.to_owned(),
        status: MessageStatus::parse(status).unwrap(),
        error: Some("000".to_owned()),
        at,
    };
    store
        .commit_batch(&Batch {
            pending_receipts: vec![
                pending("a", "sent", T0),
                pending("a", "delivered", T0 + 1),
                pending("b", "failed", T0),
            ],
            ..Batch::default()
        })
        .await
        .unwrap();
    let waiting = store.pending_receipts("smsc", &["a".to_owned(), "zzz".to_owned()]).await.unwrap();
    assert_eq!(waiting.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), ["sent", "delivered"], "oldest first");
    assert!(store.pending_receipts("other", &["a".to_owned()]).await.unwrap().is_empty());

    store
        .commit_batch(&Batch { applied_receipts: vec![("smsc".into(), "a".into())], ..Batch::default() })
        .await
        .unwrap();
    assert!(store.pending_receipts("smsc", &["a".to_owned()]).await.unwrap().is_empty());
    assert_eq!(store.pending_receipts("smsc", &["b".to_owned()]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_deferred_message_keeps_its_attempts() {
    let store = fresh("outbox_deferred").await;
    store
        .commit_batch(&Batch {
            chats: vec![chat("chat-1", ANN)],
            messages: vec![outbound("m-1", "chat-1", "hi")],
            ..Batch::default()
        })
        .await
        .unwrap();
    let first = store.claim_outbox(T0, 60_000, 10).await.unwrap();
    assert_eq!(first[0].attempts, 1);
    let deferred = SendResult::Deferred { retry_at: T0 + 500, reason: "rate limit".into() };
    store.finish_outbox(&[(first[0].seq, deferred)], T0).await.unwrap();
    assert!(store.claim_outbox(T0 + 499, 60_000, 10).await.unwrap().is_empty(), "not due before retry_at");
    let again = store.claim_outbox(T0 + 500, 60_000, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1, "waiting for a rate limit is not a failed attempt");
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 1);
}
