//! Retention: chats that ended before the cutoff go with their messages, media and events; live chats,
//! recent chats, unsent messages and the consent ledger stay.

use parley_store::batch::Batch;
use parley_store::rows::{ChatRow, MessageRow};

use crate::support::*;

const DAY: i64 = 86_400_000;

fn message_in(id: &str, chat: &str, consumer: &str, at: i64) -> MessageRow {
    MessageRow { consumer: consumer.to_owned(), created_at: at, updated_at: at, ..inbound(id, chat, id) }
}

#[tokio::test]
async fn old_finished_chats_go_and_everything_else_stays() {
    let store = fresh("retention_purge").await;
    let old = finished(chat("old", ANN), T0);
    let recent = finished(chat("recent", BOB), T0 + 40 * DAY);
    let live = ChatRow { opened_at: T0, ..chat("live", "+15550103") };
    let mut loose = message_in("loose", "x", "+15550104", T0);
    loose.chat_id = None;
    let mut unsent = outbound("unsent", "x", "still to go");
    unsent.chat_id = None;
    store
        .commit_batch(&Batch {
            chats: vec![old, recent, live],
            messages: vec![
                message_in("m-old", "old", ANN, T0),
                message_in("m-recent", "recent", BOB, T0 + 40 * DAY),
                message_in("m-live", "live", "+15550103", T0),
                loose,
                unsent,
            ],
            events: vec![event("old", "chat.ended", T0), event("recent", "chat.ended", T0 + 40 * DAY)],
            ledger: vec![ledger(ANN, "opted_out", Some("STOP"), T0)],
            ..Batch::default()
        })
        .await
        .unwrap();

    let report = store.purge_before(T0 + 30 * DAY, 100).await.unwrap();
    assert_eq!((report.chats, report.messages, report.events), (1, 2, 1), "{report:?}");
    assert!(store.chat("old").await.is_err());
    assert!(store.transcript("old").await.unwrap().is_empty());
    assert_eq!(store.transcript("recent").await.unwrap().len(), 1);
    assert_eq!(store.transcript("live").await.unwrap().len(), 1, "a live chat is never purged");
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 1, "an unsent message is not history");
    assert_eq!(store.consent_ledger(ANN).await.unwrap().len(), 1, "the consent ledger is kept");
    assert!(store.purge_before(T0 + 30 * DAY, 100).await.unwrap().is_empty(), "nothing left to purge");
}
