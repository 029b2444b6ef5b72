//! Send later and the delivery timeline: held messages wait outside the outbox until the engine
//! releases them, a release keeps the message's id, a cancel or give-up holds only while the message is
//! still held, and every status a message takes (creation, the outbox's outcome, a receipt that moves
//! it forward) joins its timeline; a rate-limit wait does not.

use parley_core::message::MessageStatus;
use parley_store::batch::Batch;
use parley_store::messages::SendResult;
use parley_store::rows::{HeldUpdate, MessageRow, StatusUpdate};

use crate::support::{T0, fresh, outbound};

const LEASE: i64 = 30_000;

/// A reply held for `at`.
fn held(id: &str, at: i64) -> MessageRow {
    MessageRow {
        status: MessageStatus::Scheduled,
        next_attempt_at: at,
        send_at: Some(at),
        held: Some("reply".to_owned()),
        ..outbound(id, "chat-1", "later")
    }
}

fn statuses(changes: &[parley_store::rows::StatusChangeRow]) -> Vec<MessageStatus> {
    changes.iter().map(|c| c.status).collect()
}

#[tokio::test]
async fn timeline_held_messages_wait_outside_the_outbox_until_due() {
    let store = fresh("timeline_held_wait").await;
    // A message quiet hours hold back is the outbox's; a held one is the engine's.
    let quiet = MessageRow {
        status: MessageStatus::Scheduled,
        next_attempt_at: T0 + 1_000,
        ..outbound("quiet", "chat-1", "q")
    };
    let messages = vec![held("later", T0 + 1_000), quiet];
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();
    let listed: Vec<String> = store.scheduled_of_chat("chat-1").await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(listed, ["later", "quiet"]);
    assert!(!store.any_held_due(T0 + 999).await.unwrap());
    assert!(store.held_due(T0 + 999, 10).await.unwrap().is_empty());
    assert!(store.any_held_due(T0 + 1_000).await.unwrap());
    let due = store.held_due(T0 + 1_000, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].id.as_str(), due[0].send_at, due[0].held.as_deref()),
        ("later", Some(T0 + 1_000), Some("reply"))
    );
    assert_eq!(store.outbox_depth(T0 + 2_000).await.unwrap(), 1, "the held message is not in the outbox");
    let claimed = store.claim_outbox(T0 + 2_000, LEASE, 10).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["quiet"], "the outbox never claims a held message");
}

#[tokio::test]
async fn timeline_a_released_message_keeps_its_id_and_its_history() {
    let store = fresh("timeline_release").await;
    store.commit_batch(&Batch { messages: vec![held("later", T0 + 1_000)], ..Batch::default() }).await.unwrap();
    let seq = store.held_due(T0 + 1_000, 10).await.unwrap()[0].seq;
    let sent = MessageRow { send_at: Some(T0 + 1_000), created_at: T0 + 1_000, ..outbound("later", "chat-1", "later") };
    let release = Batch { held_released: vec![seq], messages: vec![sent], ..Batch::default() };
    store.commit_batch(&release).await.unwrap();
    let transcript = store.transcript("chat-1").await.unwrap();
    assert_eq!(transcript.len(), 1, "one message under the id: {transcript:?}");
    assert_eq!((transcript[0].status, transcript[0].held.as_deref()), (MessageStatus::Queued, None));
    assert!(!store.any_held_due(T0 + 5_000).await.unwrap());
    let claimed = store.claim_outbox(T0 + 1_000, LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let done = SendResult::Accepted { status: MessageStatus::Delivered, provider_id: Some("sim-later".into()) };
    store.finish_outbox(&[(claimed[0].seq, done)], T0 + 1_100).await.unwrap();
    let changes = store.status_changes("later").await.unwrap();
    assert_eq!(statuses(&changes), [MessageStatus::Scheduled, MessageStatus::Queued, MessageStatus::Delivered]);
    assert_eq!(changes.iter().map(|c| c.at).collect::<Vec<_>>(), [T0, T0 + 1_000, T0 + 1_100]);
}

#[tokio::test]
async fn timeline_a_cancel_holds_only_while_the_message_is_held() {
    let store = fresh("timeline_cancel").await;
    store.commit_batch(&Batch { messages: vec![held("later", T0 + 1_000)], ..Batch::default() }).await.unwrap();
    let seq = store.held_due(T0 + 1_000, 10).await.unwrap()[0].seq;
    let cancel = HeldUpdate {
        seq,
        message_id: "later".into(),
        status: MessageStatus::Canceled,
        next_attempt_at: T0 + 1_000,
        error: Some("canceled".into()),
        at: T0 + 10,
    };
    store.commit_batch(&Batch { held_updates: vec![cancel.clone()], ..Batch::default() }).await.unwrap();
    // A second update finds it no longer held and changes nothing.
    let again = HeldUpdate { status: MessageStatus::Failed, at: T0 + 20, ..cancel };
    store.commit_batch(&Batch { held_updates: vec![again], ..Batch::default() }).await.unwrap();
    let row = &store.transcript("chat-1").await.unwrap()[0];
    assert_eq!(row.status, MessageStatus::Canceled);
    assert!(store.held_due(T0 + 5_000, 10).await.unwrap().is_empty());
    assert!(store.scheduled_of_chat("chat-1").await.unwrap().is_empty());
    let changes = store.status_changes("later").await.unwrap();
    assert_eq!(statuses(&changes), [MessageStatus::Scheduled, MessageStatus::Canceled]);
}

#[tokio::test]
async fn timeline_keeps_outcomes_and_receipts_but_not_rate_limit_waits() {
    let store = fresh("timeline_outcomes").await;
    let messages = vec![outbound("a", "chat-1", "one"), outbound("b", "chat-1", "two")];
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();
    let claimed = store.claim_outbox(T0 + 1, LEASE, 10).await.unwrap();
    let (a, b) = (claimed[0].seq, claimed[1].seq);
    let results = [
        (a, SendResult::Accepted { status: MessageStatus::Sent, provider_id: Some("p-a".into()) }),
        (b, SendResult::Deferred { retry_at: T0 + 500, reason: "rate limit".into() }),
    ];
    store.finish_outbox(&results, T0 + 2).await.unwrap();
    assert_eq!(statuses(&store.status_changes("b").await.unwrap()), [MessageStatus::Queued]);
    // A receipt that moves the message on joins its timeline with the carrier's code; a late one that
    // would move it back does not.
    let undelivered =
        StatusUpdate { seq: a, status: MessageStatus::Undelivered, error: Some("30003".into()), at: T0 + 3 };
    let late = StatusUpdate { seq: a, status: MessageStatus::Sent, error: None, at: T0 + 4 };
    store.commit_batch(&Batch { status_updates: vec![undelivered], ..Batch::default() }).await.unwrap();
    store.commit_batch(&Batch { status_updates: vec![late], ..Batch::default() }).await.unwrap();
    let changes = store.status_changes("a").await.unwrap();
    assert_eq!(statuses(&changes), [MessageStatus::Queued, MessageStatus::Sent, MessageStatus::Undelivered]);
    assert_eq!(changes[2].carrier_code.as_deref(), Some("30003"));
    let resent = Batch { resent: vec![(a, "a2".into())], ..Batch::default() };
    store.commit_batch(&resent).await.unwrap();
    let row = store.messages_by_ids(&["a".into()]).await.unwrap().remove(0);
    assert_eq!(row.resent_as.as_deref(), Some("a2"));
}
