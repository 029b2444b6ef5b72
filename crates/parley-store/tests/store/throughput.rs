//! What sender numbers already sent: the segments of accepted outbound messages since a time, per
//! number or for several numbers together (a campaign).

use parley_core::message::MessageStatus;
use parley_store::batch::Batch;
use parley_store::rows::MessageRow;

use crate::support::{BUSINESS, OTHER_BUSINESS, T0, fresh, inbound, outbound};

/// One segment per 10 characters: a stand-in for the SMS segment count, which the store does not know.
fn tens(body: &str) -> i64 {
    (body.len() as i64 + 9) / 10
}

fn accepted(id: &str, number: &str, body: &str, at: i64) -> MessageRow {
    MessageRow {
        number: number.to_owned(),
        status: MessageStatus::Delivered,
        provider_id: Some(format!("p-{id}")),
        updated_at: at,
        ..outbound(id, "chat-1", body)
    }
}

#[tokio::test]
async fn counts_the_segments_carriers_accepted_since_a_time() {
    let store = fresh("throughput_sent_segments").await;
    let twenty = "x".repeat(20);
    let messages = vec![
        accepted("old", BUSINESS, &twenty, T0 - 1),
        accepted("a", BUSINESS, &twenty, T0),
        accepted("b", BUSINESS, &twenty, T0 + 500),
        MessageRow { status: MessageStatus::Undelivered, ..accepted("c", BUSINESS, "short", T0 + 600) },
        accepted("other", OTHER_BUSINESS, &"y".repeat(35), T0 + 700),
        // Not counted: still queued, refused at the send (no provider id), and inbound.
        MessageRow { updated_at: T0 + 800, ..outbound("queued", "chat-1", &twenty) },
        MessageRow {
            status: MessageStatus::Failed,
            error: Some("rejected".into()),
            updated_at: T0 + 900,
            ..outbound("refused", "chat-1", &twenty)
        },
        MessageRow { updated_at: T0 + 1000, ..inbound("in", "chat-1", "p-in") },
    ];
    store.commit_batch(&Batch { messages, ..Batch::default() }).await.unwrap();

    let business = [BUSINESS.to_owned()];
    // a and b (2 segments each, the same body counted twice) and c (1).
    assert_eq!(store.sent_segments_since(&business, T0, tens).await.unwrap(), 5);
    assert_eq!(store.sent_segments_since(&business, T0 - 1, tens).await.unwrap(), 7, "the bound is inclusive");
    assert_eq!(store.sent_segments_since(&business, T0 + 501, tens).await.unwrap(), 1);
    let both = [BUSINESS.to_owned(), OTHER_BUSINESS.to_owned()];
    assert_eq!(store.sent_segments_since(&both, T0, tens).await.unwrap(), 9, "a campaign counts all its numbers");
    assert_eq!(store.sent_segments_since(&[], T0, tens).await.unwrap(), 0);
    assert_eq!(store.sent_segments_since(&["+15559999".to_owned()], T0, tens).await.unwrap(), 0);
}
