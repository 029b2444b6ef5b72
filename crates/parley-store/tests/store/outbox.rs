//! The outbox: claiming due outbound messages under a lease, recovering expired claims, and recording
//! what the carrier made of each message.

use std::collections::BTreeSet;

use parley_core::message::MessageStatus;
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::messages::SendResult;
use parley_store::rows::MessageRow;

use crate::support::{BOB, CAT, T0, fresh, inbound, outbound};

const LEASE: i64 = 30_000;

fn seqs(rows: &[MessageRow]) -> Vec<i64> {
    rows.iter().map(|m| m.seq).collect()
}

fn msg_ids(rows: &[MessageRow]) -> Vec<&str> {
    rows.iter().map(|m| m.id.as_str()).collect()
}

/// The stored row of message `id` (all test messages belong to chat-1).
async fn stored(store: &Store, id: &str) -> MessageRow {
    store.transcript("chat-1").await.unwrap().into_iter().find(|m| m.id == id).unwrap()
}

/// `row` to another phone.
fn to(phone: &str, row: MessageRow) -> MessageRow {
    MessageRow { consumer: phone.to_owned(), ..row }
}

/// Three queued outbound messages (the first two to one phone, the third to another), between rows
/// the sender must never touch.
async fn seed(store: &Store) {
    let messages = vec![
        inbound("in-1", "chat-1", "p-1"),
        outbound("o-1", "chat-1", "one"),
        MessageRow { status: MessageStatus::Sent, ..outbound("done", "chat-1", "already sent") },
        outbound("o-2", "chat-1", "two"),
        MessageRow { status: MessageStatus::Failed, ..outbound("dead", "chat-1", "gave up") },
        MessageRow { status: MessageStatus::Suppressed, ..outbound("muted", "chat-1", "opted out") },
        to(BOB, outbound("o-3", "chat-1", "three")),
    ];
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();
}

#[tokio::test]
async fn claims_due_queued_outbound_messages_in_order_under_a_lease() {
    let store = fresh("outbox_claims").await;
    seed(&store).await;
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 3);

    let now = T0 + 1_000;
    let first = store.claim_outbox(now, LEASE, 2).await.unwrap();
    assert_eq!(msg_ids(&first), ["o-1", "o-2"], "the oldest first, up to the limit");
    assert!(first[0].seq < first[1].seq);
    for m in &first {
        assert_eq!((m.status.as_str(), m.attempts, m.updated_at), ("sending", 1, now), "{m:?}");
    }
    assert_eq!(stored(&store, "o-1").await.status, MessageStatus::Sending, "the claim is stored, not just returned");

    let rest = store.claim_outbox(now, LEASE, 10).await.unwrap();
    assert_eq!(msg_ids(&rest), ["o-3"], "claimed rows are not handed out twice");
    assert!(store.claim_outbox(now, LEASE, 10).await.unwrap().is_empty(), "nothing is left while the leases hold");
    assert!(
        store.claim_outbox(now + LEASE - 1, LEASE, 10).await.unwrap().is_empty(),
        "the lease holds to its last millisecond"
    );
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 3, "sending messages still count as waiting");
    assert!(store.claim_outbox(now, LEASE, 0).await.unwrap().is_empty());

    // The sender crashed: once the lease runs out the same rows are claimable again, attempts counting up.
    let later = now + LEASE;
    let recovered = store.claim_outbox(later, LEASE, 10).await.unwrap();
    assert_eq!(seqs(&recovered), [seqs(&first), seqs(&rest)].concat());
    assert!(
        recovered.iter().all(|m| m.status == MessageStatus::Sending && m.attempts == 2 && m.updated_at == later),
        "{recovered:?}"
    );
    assert!(store.claim_outbox(later, LEASE, 10).await.unwrap().is_empty(), "the new lease holds");

    // Untouched: the inbound row and the outbound rows that are no longer waiting.
    for (id, status) in [("in-1", "received"), ("done", "sent"), ("dead", "failed"), ("muted", "suppressed")] {
        let m = stored(&store, id).await;
        assert_eq!((m.status.as_str(), m.attempts), (status, 0), "{id}");
    }
}

#[tokio::test]
async fn finish_outbox_records_acceptance_retries_and_giving_up() {
    let store = fresh("outbox_finish").await;
    seed(&store).await;
    let now = T0 + 1_000;
    let claimed = store.claim_outbox(now, LEASE, 10).await.unwrap();
    assert_eq!(msg_ids(&claimed), ["o-1", "o-2", "o-3"]);
    let (o1, o2, o3) = (claimed[0].seq, claimed[1].seq, claimed[2].seq);

    let done = now + 100;
    let retry_at = now + 60_000;
    store
        .finish_outbox(
            &[
                (o1, SendResult::Accepted { status: MessageStatus::Sent, provider_id: Some("SM1".into()) }),
                (o2, SendResult::Retry { retry_at, error: "throttled".into() }),
                (o3, SendResult::Given { status: MessageStatus::Failed, error: "invalid destination".into() }),
            ],
            done,
        )
        .await
        .unwrap();

    let m1 = stored(&store, "o-1").await;
    assert_eq!(
        (m1.status.as_str(), m1.provider_id.as_deref(), m1.error.as_deref(), m1.updated_at),
        ("sent", Some("SM1"), None, done)
    );
    let m2 = stored(&store, "o-2").await;
    assert_eq!(
        (m2.status.as_str(), m2.error.as_deref(), m2.attempts, m2.updated_at),
        ("queued", Some("throttled"), 1, done)
    );
    let m3 = stored(&store, "o-3").await;
    assert_eq!((m3.status.as_str(), m3.error.as_deref(), m3.updated_at), ("failed", Some("invalid destination"), done));
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 1, "only the retry still waits");

    // The retry is not due before retry_at, even after every lease has run out.
    assert!(store.claim_outbox(retry_at - 1, LEASE, 10).await.unwrap().is_empty());
    let again = store.claim_outbox(retry_at, LEASE, 10).await.unwrap();
    assert_eq!(msg_ids(&again), ["o-2"]);
    assert_eq!(again[0].attempts, 2);

    // Accepted without a provider id keeps none; "delivered" is accepted as well; the error is cleared.
    store
        .finish_outbox(
            &[(o2, SendResult::Accepted { status: MessageStatus::Delivered, provider_id: None })],
            retry_at + 1,
        )
        .await
        .unwrap();
    let m2 = stored(&store, "o-2").await;
    assert_eq!((m2.status.as_str(), m2.provider_id, m2.error), ("delivered", None, None));
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 0);

    // A late result for a message that is no longer being sent changes nothing.
    store
        .finish_outbox(&[(o1, SendResult::Given { status: MessageStatus::Failed, error: "late".into() })], retry_at + 2)
        .await
        .unwrap();
    assert_eq!(stored(&store, "o-1").await, m1);
    store.finish_outbox(&[], retry_at + 3).await.unwrap();

    assert!(
        store.claim_outbox(retry_at + 10 * LEASE, LEASE, 10).await.unwrap().is_empty(),
        "finished messages stay finished"
    );
}

#[tokio::test]
async fn given_up_messages_can_be_suppressed() {
    let store = fresh("outbox_suppressed").await;
    store.commit_batch(&Batch { messages: vec![outbound("o-1", "chat-1", "hi")], ..Batch::default() }).await.unwrap();
    let claimed = store.claim_outbox(T0, LEASE, 1).await.unwrap();
    store
        .finish_outbox(
            &[(claimed[0].seq, SendResult::Given { status: MessageStatus::Suppressed, error: "opted out".into() })],
            T0 + 1,
        )
        .await
        .unwrap();
    let m = stored(&store, "o-1").await;
    assert_eq!((m.status.as_str(), m.error.as_deref()), ("suppressed", Some("opted out")));
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 0);
}

/// Senders running side by side (several nodes on PostgreSQL, tasks on SQLite) never share a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_hand_out_a_row_twice() {
    let store = fresh("outbox_concurrent").await;
    let messages: Vec<MessageRow> =
        (0..40).map(|i| to(&format!("+1555020{i:04}"), outbound(&format!("o-{i:02}"), "chat-1", "x"))).collect();
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();

    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.store.clone();
        tasks.push(tokio::spawn(async move { store.claim_outbox(T0, LEASE, 5).await.unwrap() }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(seqs(&task.await.unwrap()));
    }
    loop {
        let more = store.claim_outbox(T0, LEASE, 7).await.unwrap();
        if more.is_empty() {
            break;
        }
        claimed.extend(seqs(&more));
    }
    let unique: BTreeSet<i64> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a row was claimed twice: {claimed:?}");
    assert_eq!(unique.len(), 40, "every row was claimed");
}

#[tokio::test]
async fn a_scheduled_message_waits_for_its_time_then_goes_like_any_other() {
    let store = fresh("outbox_scheduled").await;
    let later = T0 + 3_600_000;
    let batch = Batch {
        messages: vec![MessageRow {
            status: MessageStatus::Scheduled,
            next_attempt_at: later,
            ..outbound("held", "chat-1", "good morning")
        }],
        ..Batch::default()
    };
    store.commit_batch(&batch).await.unwrap();
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 0, "a message scheduled for later is not waiting yet");
    assert!(store.claim_outbox(later - 1, 60_000, 10).await.unwrap().is_empty(), "not claimed before its time");
    assert_eq!(store.outbox_depth(later).await.unwrap(), 1, "due: it waits like a queued one");
    let claimed = store.claim_outbox(later, 60_000, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec!["held"]);
    assert_eq!(claimed[0].status, MessageStatus::Sending);
    store
        .finish_outbox(
            &[(claimed[0].seq, SendResult::Accepted { status: MessageStatus::Sent, provider_id: None })],
            later,
        )
        .await
        .unwrap();
    assert_eq!(store.outbox_depth(later).await.unwrap(), 0);
}

/// A node whose SMPP account is bound on another node (max_binds) leaves that account's messages to
/// the other node: it claims the rest, and the skipped messages stay due for whoever sends them.
#[tokio::test]
async fn a_claim_can_leave_some_carrier_accounts_to_other_nodes() {
    let store = fresh("outbox_claim_except").await;
    let messages = vec![
        MessageRow { carrier: "smpp-a".into(), ..outbound("a-1", "chat-1", "one") },
        MessageRow { carrier: "sim".into(), ..to(BOB, outbound("s-1", "chat-1", "two")) },
        MessageRow { carrier: "smpp-b".into(), ..to(CAT, outbound("b-1", "chat-1", "three")) },
    ];
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();
    let now = T0 + 1_000;
    let skip = ["smpp-a".to_owned(), "smpp-b".to_owned()];
    let here = store.claim_outbox_except(now, LEASE, 10, &skip).await.unwrap();
    assert_eq!(msg_ids(&here), ["s-1"]);
    assert_eq!(stored(&store, "a-1").await.attempts, 0, "a skipped message spends no attempt");
    let elsewhere = store.claim_outbox(now, LEASE, 10).await.unwrap();
    assert_eq!(msg_ids(&elsewhere), ["a-1", "b-1"]);
}

/// A phone gets its messages in the order they were written: while one is in flight (claimed, its
/// lease running) a later one to the same phone is not handed to another sender; messages of a phone
/// that are due together go together.
#[tokio::test]
async fn a_phones_later_message_waits_while_an_earlier_one_is_in_flight() {
    let store = fresh("outbox_phone_order").await;
    let messages = vec![
        outbound("ann-1", "chat-1", "one"),
        outbound("ann-2", "chat-1", "two"),
        to(BOB, outbound("bob-1", "chat-1", "hi")),
    ];
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();
    let now = T0 + 1_000;
    let first = store.claim_outbox(now, LEASE, 1).await.unwrap();
    assert_eq!(msg_ids(&first), ["ann-1"]);
    let next = store.claim_outbox(now, LEASE, 10).await.unwrap();
    assert_eq!(msg_ids(&next), ["bob-1"], "ann-2 waits for ann-1, another phone does not");
    store
        .finish_outbox(&[(first[0].seq, SendResult::Accepted { status: MessageStatus::Sent, provider_id: None })], now)
        .await
        .unwrap();
    assert_eq!(msg_ids(&store.claim_outbox(now, LEASE, 10).await.unwrap()), ["ann-2"]);

    // A sender that died holding a claim does not hold the phone past its lease.
    let more = vec![outbound("ann-3", "chat-1", "three")];
    store.commit_batch(&Batch { messages: more, ..Batch::default() }).await.unwrap();
    assert!(store.claim_outbox(now, LEASE, 10).await.unwrap().is_empty());
    let recovered = store.claim_outbox(now + LEASE, LEASE, 10).await.unwrap();
    assert_eq!(msg_ids(&recovered), ["ann-2", "bob-1", "ann-3"], "all due again: ann's two claimed together, in order");
}

/// Senders claiming at the same moment (several nodes on PostgreSQL) never split one phone's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_split_one_phones_messages() {
    let store = fresh("outbox_phone_split").await;
    let messages: Vec<MessageRow> =
        (0..60).map(|i| to(&format!("+1555030{:04}", i % 20), outbound(&format!("m-{i:02}"), "chat-1", "x"))).collect();
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.store.clone();
        tasks.push(tokio::spawn(async move { store.claim_outbox(T0, LEASE, 100).await.unwrap() }));
    }
    let mut owner: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut total = 0;
    for (claimer, task) in tasks.into_iter().enumerate() {
        for m in task.await.unwrap() {
            total += 1;
            let first = *owner.entry(m.consumer.clone()).or_insert(claimer);
            assert_eq!(first, claimer, "{}'s messages were split between two claims", m.consumer);
        }
    }
    assert_eq!(total, 60, "every message was claimed by one of them");
}
