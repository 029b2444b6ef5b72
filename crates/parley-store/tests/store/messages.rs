//! Inbound idempotency and transcripts.

use parley_core::message::MessageStatus;
use parley_store::StoreError;
use parley_store::batch::Batch;
use parley_store::rows::MessageRow;

use crate::support::{ANN, BOB, T0, chat, fresh, inbound, outbound};

/// Owned copies, for the store's `&[String]` parameters.
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn inbound_messages_are_unique_per_carrier_and_provider_id() {
    let store = fresh("messages_inbound_unique").await;
    let first =
        Batch { chats: vec![chat("chat-1", ANN)], messages: vec![inbound("m-1", "chat-1", "p-1")], ..Batch::default() };
    store.commit_batch(&first).await.unwrap();

    let again = Batch { messages: vec![inbound("m-2", "chat-1", "p-1")], ..Batch::default() };
    let err = store.commit_batch(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.transcript("chat-1").await.unwrap().len(), 1, "the duplicate was not stored");

    let in_one_batch =
        Batch { messages: vec![inbound("m-3", "chat-1", "p-3"), inbound("m-4", "chat-1", "p-3")], ..Batch::default() };
    assert!(matches!(store.commit_batch(&in_one_batch).await, Err(StoreError::Conflict(_))));

    // The same provider id is fine on another carrier account, and for outbound messages.
    let elsewhere = Batch {
        messages: vec![
            MessageRow { carrier: "twilio-main".into(), ..inbound("m-5", "chat-1", "p-1") },
            MessageRow {
                provider_id: Some("p-1".into()),
                status: MessageStatus::Sent,
                ..outbound("m-6", "chat-1", "re")
            },
            MessageRow {
                provider_id: Some("p-1".into()),
                status: MessageStatus::Sent,
                ..outbound("m-7", "chat-1", "re")
            },
        ],
        ..Batch::default()
    };
    store.commit_batch(&elsewhere).await.unwrap();

    // Message ids are unique whatever the direction.
    let same_id = Batch { messages: vec![outbound("m-1", "chat-1", "dup")], ..Batch::default() };
    assert!(matches!(store.commit_batch(&same_id).await, Err(StoreError::Conflict(_))));

    let transcript = store.transcript("chat-1").await.unwrap();
    assert_eq!(transcript.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m-1", "m-5", "m-6", "m-7"]);
}

#[tokio::test]
async fn inbound_seen_finds_stored_messages_of_that_carrier() {
    let store = fresh("messages_inbound_seen").await;
    let batch = Batch {
        messages: vec![
            inbound("m-1", "chat-1", "p-1"),
            MessageRow { chat_id: None, ..inbound("m-2", "", "p-2") },
            MessageRow { carrier: "twilio-main".into(), ..inbound("m-3", "chat-1", "p-3") },
            MessageRow { provider_id: Some("p-4".into()), ..outbound("m-4", "chat-1", "out") },
        ],
        ..Batch::default()
    };
    store.commit_batch(&batch).await.unwrap();

    let mut seen = store.inbound_seen("sim", &strings(&["p-1", "p-2", "p-3", "p-4", "p-5"])).await.unwrap();
    seen.sort();
    assert_eq!(
        seen,
        [("p-1".to_owned(), "m-1".to_owned(), Some("chat-1".to_owned())), ("p-2".to_owned(), "m-2".to_owned(), None)],
        "other carriers, outbound messages and unknown ids are left out"
    );
    let twilio = store.inbound_seen("twilio-main", &strings(&["p-1", "p-3"])).await.unwrap();
    assert_eq!(twilio, [("p-3".to_owned(), "m-3".to_owned(), Some("chat-1".to_owned()))]);
    assert!(store.inbound_seen("sim", &[]).await.unwrap().is_empty());

    // Lookups larger than one statement are split without losing anything.
    let many: Vec<String> = (0..1000).map(|i| format!("x-{i}")).chain(["p-1".to_owned()]).collect();
    assert_eq!(store.inbound_seen("sim", &many).await.unwrap().len(), 1);
}

#[tokio::test]
async fn transcript_returns_a_chats_messages_in_insertion_order() {
    let store = fresh("messages_transcript").await;
    let hello = inbound("m-b", "chat-1", "p-1");
    let reply = MessageRow {
        media: "https://example.test/a.png\nhttps://example.test/b.png".into(),
        ..outbound("m-a", "chat-1", "hi ann")
    };
    let other = MessageRow { consumer: BOB.into(), ..inbound("m-x", "chat-2", "p-2") };
    store
        .commit_batch(&Batch { messages: vec![hello.clone(), other, reply.clone()], ..Batch::default() })
        .await
        .unwrap();
    // Later rows with earlier timestamps and smaller ids still come after: the order is insertion.
    let late = MessageRow { created_at: T0 - 1000, updated_at: T0 - 1000, ..inbound("m-0", "chat-1", "p-3") };
    store.commit_batch(&Batch { messages: vec![late.clone()], ..Batch::default() }).await.unwrap();

    let transcript = store.transcript("chat-1").await.unwrap();
    assert_eq!(transcript.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m-b", "m-a", "m-0"]);
    assert!(transcript.windows(2).all(|w| w[0].seq < w[1].seq), "seq follows insertion");
    assert!(transcript[0].seq > 0, "the store assigns seq");
    for (stored, written) in transcript.iter().zip([hello, reply, late]) {
        assert_eq!(*stored, MessageRow { seq: stored.seq, ..written }, "every field round-trips");
    }
    assert_eq!(store.transcript("chat-2").await.unwrap().len(), 1);
    assert!(store.transcript("chat-none").await.unwrap().is_empty());
}

#[tokio::test]
async fn blocklist_texts_without_chat_are_a_phones_chatless_texts_newest_first() {
    let store = fresh("blocklist_texts_without_chat").await;
    let chatless = |id: &str, consumer: &str| MessageRow {
        chat_id: None,
        consumer: consumer.to_owned(),
        error: Some("blocked: on the blocklist (Spam); no chat was opened".to_owned()),
        ..inbound(id, "unused", &format!("p-{id}"))
    };
    let batch = Batch {
        chats: vec![chat("chat-1", ANN)],
        messages: vec![
            chatless("m-1", ANN),
            inbound("m-2", "chat-1", "p-m-2"),
            chatless("m-3", ANN),
            chatless("m-4", BOB),
            MessageRow { chat_id: None, consumer: ANN.to_owned(), ..outbound("m-5", "unused", "sessionless") },
            chatless("m-6", ANN),
        ],
        ..Batch::default()
    };
    store.commit_batch(&batch).await.unwrap();
    let ids = |rows: Vec<MessageRow>| rows.into_iter().map(|m| m.id).collect::<Vec<_>>();
    // Not the text of a chat, not another phone's, not an outbound message; newest first, limited.
    assert_eq!(ids(store.texts_without_chat(ANN, 10).await.unwrap()), ["m-6", "m-3", "m-1"]);
    assert_eq!(ids(store.texts_without_chat(ANN, 2).await.unwrap()), ["m-6", "m-3"]);
    let first = store.texts_without_chat(ANN, 10).await.unwrap().pop().unwrap();
    assert_eq!(first.error.as_deref(), Some("blocked: on the blocklist (Spam); no chat was opened"));
    assert!(store.texts_without_chat("+15550109", 10).await.unwrap().is_empty());
}
