//! Erasing a phone on request: everything stored about it goes in one transaction, other phones keep
//! everything, and a tombstone keyed by the caller's hash remembers whether the phone was opted out.

use parley_core::message::MessageStatus;
use parley_store::StoreError;
use parley_store::batch::Batch;
use parley_store::erasure::ErasureReport;
use parley_store::rows::{ChatRow, EventRow, MediaRow, MediaStatus, MessageRow, PendingReceiptRow};

use crate::support::*;

/// Media announced by message `message_id`.
fn media(id: &str, message_id: &str) -> MediaRow {
    MediaRow {
        id: id.to_owned(),
        message_id: Some(message_id.to_owned()),
        chat_id: None,
        carrier: "sim".to_owned(),
        source_url: format!("https://media.example/{id}"),
        content_type: "image/jpeg".to_owned(),
        size: 0,
        status: MediaStatus::Pending,
        attempts: 0,
        error: None,
        created_at: T0,
        uploaded_by: None,
    }
}

/// A message of `consumer`, in chat `chat_id` (or none).
fn of(consumer: &str, chat_id: Option<&str>, message: MessageRow) -> MessageRow {
    MessageRow { consumer: consumer.to_owned(), chat_id: chat_id.map(str::to_owned), ..message }
}

/// An outbound message the carrier accepted with `provider_id`.
fn sent(id: &str, chat_id: &str, provider_id: &str) -> MessageRow {
    MessageRow { status: MessageStatus::Sent, provider_id: Some(provider_id.to_owned()), ..outbound(id, chat_id, "hi") }
}

/// The "message" event of a text outside any chat, as the engine writes it.
fn loose_event(message_id: &str) -> EventRow {
    EventRow {
        chat_id: None,
        queue: None,
        data: format!(r#"{{"author":"consumer","body":"are you there?","message_id":"{message_id}"}}"#),
        ..event("", "message", T0 + 1)
    }
}

/// The `contact.erased` events of a test without contacts (never called).
fn no_contacts(id: &str, _deleted: bool, _external: Vec<String>) -> EventRow {
    panic!("contact {id} was not expected")
}

fn receipt(provider_id: &str, status: &str) -> PendingReceiptRow {
    PendingReceiptRow {
        carrier: "sim".to_owned(),
        provider_id: provider_id.to_owned(),
        status: MessageStatus::parse(status).unwrap(),
        error: None,
        at: T0,
    }
}

/// Everything stored about `phone` through the store's own reads, to compare before and after.
async fn everything_of(store: &parley_store::Store, phone: &str, chats: &[&str], messages: &[&str]) -> String {
    let chat_ids: Vec<String> = chats.iter().map(|c| (*c).to_owned()).collect();
    let message_ids: Vec<String> = messages.iter().map(|m| (*m).to_owned()).collect();
    let mut transcripts = Vec::new();
    for chat in chats {
        transcripts.push(store.transcript(chat).await.unwrap());
    }
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.chats_by_ids(&chat_ids).await.unwrap(),
        transcripts,
        sorted_by(&store.messages_by_ids(&message_ids).await.unwrap(), |m| m.seq),
        store.media_of_messages(&message_ids).await.unwrap(),
        store.sim_thread(phone, 0).await.unwrap(),
        store.consents(&[phone.to_owned()]).await.unwrap(),
        store.consent_ledger(phone).await.unwrap(),
    )
}

#[tokio::test]
async fn erasing_a_phone_deletes_everything_of_it_and_nothing_else() {
    let store = fresh("erasure_everything").await;
    let agent_status =
        EventRow { chat_id: None, queue: None, agent: Some("alice".into()), ..event("", "agent.status", T0) };
    store
        .commit_batch(&Batch {
            chats: vec![
                finished(chat("chat-a1", ANN), T0 + 10),
                ChatRow { number: OTHER_BUSINESS.to_owned(), ..finished(chat("chat-a2", ANN), T0 + 10) },
                finished(chat("chat-b1", BOB), T0 + 10),
            ],
            messages: vec![
                of(ANN, Some("chat-a1"), inbound("a-in", "chat-a1", "p-a1")),
                of(ANN, Some("chat-a1"), sent("a-out", "chat-a1", "SM-a")),
                of(ANN, Some("chat-a2"), outbound("a-out2", "chat-a2", "sales here")),
                // A text from the phone while it was opted out: stored, but in no chat.
                of(ANN, None, inbound("a-loose", "", "p-a2")),
                of(BOB, Some("chat-b1"), inbound("b-in", "chat-b1", "p-b1")),
                of(BOB, Some("chat-b1"), sent("b-out", "chat-b1", "SM-b")),
                of(BOB, None, inbound("b-loose", "", "p-b2")),
            ],
            media: vec![media("ma-1", "a-in"), media("ma-2", "a-in"), media("mb-1", "b-in")],
            events: vec![
                event("chat-a1", "chat.opened", T0),
                event("chat-a1", "message", T0),
                event("chat-a2", "chat.opened", T0),
                loose_event("a-loose"),
                EventRow { kind: "number.inbound_refused".to_owned(), ..loose_event("a-loose") },
                event("chat-b1", "chat.opened", T0),
                loose_event("b-loose"),
                agent_status,
            ],
            sim: vec![sim_mo(ANN, "hi", T0), sim_mt(ANN, "a-out", "hi", T0), sim_mo(BOB, "hello", T0)],
            consents: vec![consent(ANN, true, true, T0), consent(BOB, false, true, T0)],
            ledger: vec![
                ledger(ANN, "notice_sent", None, T0),
                ledger(ANN, "opted_out", Some("STOP"), T0 + 1),
                ledger(BOB, "notice_sent", None, T0),
            ],
            pending_receipts: vec![
                receipt("SM-a", "sent"),
                receipt("SM-a", "delivered"),
                receipt("SM-b", "delivered"),
                receipt("SM-x", "failed"),
            ],
            ..Batch::default()
        })
        .await
        .unwrap();
    let bob_before = everything_of(&store, BOB, &["chat-b1"], &["b-in", "b-out", "b-loose"]).await;
    let events_before = store.events_after(0, 100).await.unwrap();

    let report = store.erase_phone(ANN, "hash-ann", "api:admin", T0 + 100, &no_contacts).await.unwrap();
    assert_eq!(
        report,
        ErasureReport {
            messages: 4,
            media: 2,
            events: 5,
            chats: 2,
            sim_messages: 2,
            consents: 1,
            consent_ledger: 2,
            pending_receipts: 2,
            contacts_changed: 0,
            contacts_deleted: 0,
            opted_out: true,
        }
    );

    // Nothing of ANN can be read back by any query.
    let ann = ["a-in", "a-out", "a-out2", "a-loose"];
    assert_eq!(everything_of(&store, ANN, &["chat-a1", "chat-a2"], &ann).await, "[]\n[[], []]\n[]\n[]\n[]\n[]\n[]");
    assert!(store.live_chats_of(&[ANN.to_owned()]).await.unwrap().is_empty());
    assert!(store.inbound_seen("sim", &["p-a1".to_owned(), "p-a2".to_owned()]).await.unwrap().is_empty());
    assert!(store.outbound_by_provider("sim", &["SM-a".to_owned()]).await.unwrap().is_empty());
    assert!(store.pending_receipts("sim", &["SM-a".to_owned()]).await.unwrap().is_empty());

    // BOB keeps every row, and so do the events and receipts that are not about ANN.
    assert_eq!(everything_of(&store, BOB, &["chat-b1"], &["b-in", "b-out", "b-loose"]).await, bob_before);
    let kept: Vec<EventRow> = events_before
        .into_iter()
        .filter(|e| !matches!(e.chat_id.as_deref(), Some("chat-a1" | "chat-a2")) && !e.data.contains("a-loose"))
        .collect();
    assert_eq!(kept.len(), 3);
    assert_eq!(store.events_after(0, 100).await.unwrap(), kept);
    let receipts = store.pending_receipts("sim", &["SM-b".to_owned(), "SM-x".to_owned()]).await.unwrap();
    assert_eq!(receipts.iter().map(|r| r.provider_id.as_str()).collect::<Vec<_>>(), ["SM-b", "SM-x"]);

    // The tombstone keeps the opt-out, under the hash only.
    assert!(store.erased_opt_out("hash-ann").await.unwrap());
    assert!(!store.erased_opt_out("hash-bob").await.unwrap());
    let hashes = ["hash-bob".to_owned(), "hash-ann".to_owned(), "nope".to_owned()];
    assert_eq!(store.erased_opt_outs(&hashes).await.unwrap(), ["hash-ann"]);

    // Erasing again finds nothing, and the tombstone stays as it was.
    let again = store.erase_phone(ANN, "hash-ann", "api:admin", T0 + 200, &no_contacts).await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert!(again.opted_out, "the report still says what the tombstone keeps");
    assert!(store.erased_opt_out("hash-ann").await.unwrap());
}

#[tokio::test]
async fn a_live_chat_is_refused_and_nothing_is_deleted() {
    let store = fresh("erasure_live_chat").await;
    store
        .commit_batch(&Batch {
            chats: vec![chat("chat-c1", CAT)],
            messages: vec![of(CAT, Some("chat-c1"), inbound("c-in", "chat-c1", "p-c1"))],
            consents: vec![consent(CAT, false, true, T0)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let before = everything_of(&store, CAT, &["chat-c1"], &["c-in"]).await;

    let refused = store.erase_phone(CAT, "hash-cat", "cli:ops", T0 + 1, &no_contacts).await.unwrap_err();
    let StoreError::Conflict(message) = refused else { panic!("a conflict, got {refused:?}") };
    assert!(message.contains("chat-c1") && message.contains(CAT), "{message}");
    assert_eq!(everything_of(&store, CAT, &["chat-c1"], &["c-in"]).await, before, "nothing was deleted");
    assert!(!store.erased_opt_out("hash-cat").await.unwrap());

    // Once the chat has ended the phone can be erased; it never opted out, and the tombstone says so.
    store
        .commit_batch(&Batch { chats: vec![finished(chat("chat-c1", CAT), T0 + 2)], ..Batch::default() })
        .await
        .unwrap();
    let report = store.erase_phone(CAT, "hash-cat", "cli:ops", T0 + 3, &no_contacts).await.unwrap();
    assert_eq!(report, ErasureReport { messages: 1, chats: 1, consents: 1, ..ErasureReport::default() });
    assert!(!store.erased_opt_out("hash-cat").await.unwrap());
}

#[tokio::test]
async fn the_tombstone_follows_the_phone_when_it_comes_back() {
    let store = fresh("erasure_comes_back").await;
    // A phone nothing is known about: nothing to erase, and no tombstone is written.
    let nothing = store.erase_phone(CAT, "hash-cat", "api:admin", T0, &no_contacts).await.unwrap();
    assert_eq!(nothing, ErasureReport::default());
    assert!(nothing.is_empty());

    store
        .commit_batch(&Batch {
            consents: vec![consent(ANN, true, true, T0)],
            ledger: vec![ledger(ANN, "opted_out", Some("STOP"), T0)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let first = store.erase_phone(ANN, "hash-ann", "api:admin", T0 + 1, &no_contacts).await.unwrap();
    assert_eq!(first, ErasureReport { consents: 1, consent_ledger: 1, opted_out: true, ..ErasureReport::default() });

    // It texts again while opted out: a message is stored, but no consent row. Erasing again keeps
    // the opt-out the first erasure remembered.
    store
        .commit_batch(&Batch { messages: vec![of(ANN, None, inbound("a-2", "", "p-2"))], ..Batch::default() })
        .await
        .unwrap();
    let second = store.erase_phone(ANN, "hash-ann", "api:admin", T0 + 2, &no_contacts).await.unwrap();
    assert_eq!(second, ErasureReport { messages: 1, opted_out: true, ..ErasureReport::default() });
    assert!(store.erased_opt_out("hash-ann").await.unwrap());

    // It texts START: its consent row says subscribed, and the next erasure's tombstone follows it.
    store
        .commit_batch(&Batch {
            consents: vec![consent(ANN, false, false, T0 + 3)],
            ledger: vec![ledger(ANN, "opted_in", Some("START"), T0 + 3)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let third = store.erase_phone(ANN, "hash-ann", "api:admin", T0 + 4, &no_contacts).await.unwrap();
    assert_eq!(third, ErasureReport { consents: 1, consent_ledger: 1, opted_out: false, ..ErasureReport::default() });
    assert!(!store.erased_opt_out("hash-ann").await.unwrap());
    assert!(!store.erased_opt_out("hash-cat").await.unwrap());
}
