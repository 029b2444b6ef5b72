//! Masking of consumer numbers per queue: agents of a `last_four` queue see `+*******0100`, agents of
//! a `hidden` queue see `hidden`, admins always see the whole number, and the whole number appears in
//! none of an agent's answers (list, chat, accept, reply, end, transcript, events).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Reply, SALES, TestApp, standard_setup};

const PHONE: &str = "+14155550100";
const MASKED: &str = "+*******0100";
const OTHER: &str = "+14155550177";

/// The standard setup with billing masked to the last four digits and tech hidden (sales stays full).
fn masked_setup() -> Value {
    let mut doc = standard_setup();
    doc["queues"][0]["consumer_number"] = json!("last_four");
    doc["queues"][1]["consumer_number"] = json!("hidden");
    doc
}

/// Asserts the raw JSON of an agent's answer shows nothing of `phone` beyond its last four digits.
#[track_caller]
fn no_full_number(reply: &Reply, phone: &str) {
    let raw = reply.body.to_string();
    let digits = phone.trim_start_matches('+');
    assert!(!raw.contains(digits), "{}: the full number {phone} leaks: {raw}", reply.what);
    assert!(!raw.contains(&digits[..digits.len() - 4]), "{}: the hidden digits of {phone} leak: {raw}", reply.what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_of_a_last_four_queue_see_only_the_last_four_digits() {
    let app = TestApp::spawn().await;
    let stored = app.apply_setup(&masked_setup()).await;
    let modes: Vec<&str> =
        stored["queues"].as_array().unwrap().iter().map(|q| q["consumer_number"].as_str().unwrap()).collect();
    // A queue that sets none inherits (here the deployment's "full"): the export keeps it unset, so it
    // round-trips.
    assert_eq!(modes, ["last_four", "hidden", ""], "the export keeps each queue's masking as written");
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let mut events = app.events(&alice.token, None).await;

    let phone = app.phone(PHONE);
    let chat = phone.texts("hi").await.chat_id.expect("a chat");
    phone.texts("1").await;
    phone.receives(3).await;

    let mut replies = Vec::new();
    let list = alice.try_list("").await.expect_status(200);
    let listed = list.body["chats"].as_array().unwrap().iter().find(|c| c["id"] == chat.as_str()).cloned();
    assert_eq!(listed.expect("the chat is listed")["consumer"], MASKED);
    replies.push(list);
    let one = alice.try_chat(&chat).await.expect_status(200);
    assert_eq!(one.body["consumer"], MASKED);
    replies.push(one);
    let accepted = alice.try_accept(&chat).await.expect_status(200);
    assert_eq!((&accepted.body["status"], &accepted.body["consumer"]), (&json!("connected"), &json!(MASKED)));
    replies.push(accepted);
    let said = alice.try_say(&chat, "Hello, how can I help?").await.expect_status(202);
    assert_eq!(said.body["chat"]["consumer"], MASKED);
    replies.push(said);
    phone.texts("My bill is wrong").await;
    let transcript = alice.try_transcript(&chat).await.expect_status(200);
    assert_eq!(transcript.body["chat"]["consumer"], MASKED);
    replies.push(transcript);
    let ended = alice.try_end(&chat).await.expect_status(200);
    assert_eq!((&ended.body["status"], &ended.body["consumer"]), (&json!("finished"), &json!(MASKED)));
    replies.push(ended);
    let again = alice.try_end(&chat).await.expect_status(200);
    assert_eq!(again.body["consumer"], MASKED, "ending an ended chat masks too");
    replies.push(again);
    let past = alice.try_list("?status=past").await.expect_status(200);
    assert_eq!(past.body["chats"][0]["consumer"], MASKED);
    replies.push(past);
    for reply in &replies {
        no_full_number(reply, PHONE);
    }

    // The agent's event stream carries no consumer number at all.
    let seen = events.until(|e| e.kind == "chat.ended").await;
    for event in &seen {
        let raw = event.data.to_string();
        assert!(!raw.contains("1415555"), "event {} leaks the number: {raw}", event.kind);
    }

    // The admin sees the whole number everywhere.
    let admin = app.admin();
    assert_eq!(admin.chat(&chat).await.consumer, PHONE);
    assert_eq!(admin.transcript(&chat).await.chat.consumer, PHONE);
    assert!(admin.all_chats().await.iter().any(|c| c.id == chat && c.consumer == PHONE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_queue_hides_the_number_and_a_full_queue_shows_it() {
    let app = TestApp::spawn().await;
    app.apply_setup(&masked_setup()).await;
    let bob = app.agent(&app.agent_token("bob").await);
    let alice = app.agent(&app.agent_token("alice").await);
    bob.set_status("available").await;

    let phone = app.phone(OTHER);
    let chat = phone.texts("hi").await.chat_id.expect("a chat");
    phone.texts("2").await;
    phone.receives(3).await;

    let mut replies = vec![bob.try_list("").await.expect_status(200)];
    assert_eq!(replies[0].body["chats"][0]["consumer"], "hidden");
    let one = bob.try_chat(&chat).await.expect_status(200);
    assert_eq!(one.body["consumer"], "hidden");
    replies.push(one);
    let accepted = bob.try_accept(&chat).await.expect_status(200);
    assert_eq!(accepted.body["consumer"], "hidden");
    replies.push(accepted);
    let transcript = bob.try_transcript(&chat).await.expect_status(200);
    assert_eq!(transcript.body["chat"]["consumer"], "hidden");
    replies.push(transcript);
    for reply in &replies {
        no_full_number(reply, OTHER);
        assert!(!reply.body.to_string().contains("0177"), "{}: even the last four leak: {}", reply.what, reply.body);
    }
    assert_eq!(app.admin().chat(&chat).await.consumer, OTHER);

    // Sales has no consumer_number: the default, full.
    let sales = app.phone(PHONE).to(SALES);
    let sales_chat = sales.texts("hi").await.chat_id.expect("a chat");
    assert_eq!(alice.chat(&sales_chat).await.consumer, PHONE);
}

#[tokio::test]
async fn an_unknown_masking_is_refused_naming_the_queue_and_the_choices() {
    let app = TestApp::spawn().await;
    let mut doc = standard_setup();
    doc["queues"][2]["consumer_number"] = json!("first_four");
    let reply = app.request(Method::PUT, "/api/v1/setup", Some(ADMIN), Some(&doc)).await;
    assert!(reply.status.is_client_error(), "{}: {}", reply.status, reply.body);
    let raw = reply.body.to_string();
    assert!(
        raw.contains(r#"queue \"sales\" has consumer_number \"first_four\": use full, last_four or hidden"#),
        "{raw}"
    );
}
