//! Carriers repeat deliveries: a repeated message id is acknowledged and never stored twice.

use futures::future::join_all;
use serde_json::json;

use crate::harness::{SimAck, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_message_id_is_acknowledged_once_and_stored_once() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone("+14155550130");
    let first: SimAck = phone.sends(json!({ "body": "hi", "id": "carrier-msg-1" })).await.parse(201);
    assert!(!first.duplicate);
    let again: SimAck = phone.sends(json!({ "body": "hi", "id": "carrier-msg-1" })).await.parse(200);
    assert!(again.duplicate);
    assert_eq!(
        (again.message_id.as_str(), again.chat_id.as_deref()),
        (first.message_id.as_str(), first.chat_id.as_deref())
    );

    let chat = first.chat_id.expect("a chat");
    let transcript = app.settled(&chat).await;
    assert_eq!(transcript.received(), vec!["hi"], "one inbound message");
    assert_eq!(transcript.sent().len(), 2, "the repeat is not answered again: {:#?}", transcript.sent());
    assert_eq!(phone.thread().await.iter().filter(|m| m.direction == "sent").count(), 1);
    assert_eq!(phone.inbox().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_repeats_of_one_message_store_it_once() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone("+14155550131");
    let replies = join_all((0..8).map(|_| phone.sends(json!({ "body": "2", "id": "carrier-msg-race" })))).await;
    let created = replies.iter().filter(|r| r.status.as_u16() == 201).count();
    let repeated = replies.iter().filter(|r| r.status.as_u16() == 200 && r.body["duplicate"] == true).count();
    assert_eq!((created, repeated), (1, 7), "{replies:#?}");
    let ids: Vec<&serde_json::Value> = replies.iter().map(|r| &r.body["message_id"]).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "every answer names the one stored message: {ids:?}");

    let chats = app.admin().all_chats().await;
    assert_eq!(chats.len(), 1, "one chat: {chats:#?}");
    let transcript = app.settled(&chats[0].id).await;
    assert_eq!(transcript.received(), vec!["2"]);
    assert_eq!(transcript.sent().len(), 2, "notice and queued message, once: {:#?}", transcript.sent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_id_from_another_message_is_still_a_repeat() {
    // The carrier's id is the key: a carrier that reuses an id for different content is broken, and
    // the first content wins rather than a second message appearing.
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone("+14155550132");
    let first: SimAck = phone.sends(json!({ "body": "hi", "id": "carrier-msg-2" })).await.parse(201);
    let other: SimAck = phone.sends(json!({ "body": "something else", "id": "carrier-msg-2" })).await.parse(200);
    assert!(other.duplicate);
    assert_eq!(other.message_id, first.message_id);
    let transcript = app.settled(&first.chat_id.expect("a chat")).await;
    assert_eq!(transcript.received(), vec!["hi"]);
}
