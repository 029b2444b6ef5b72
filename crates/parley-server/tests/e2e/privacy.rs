//! Erasing a phone on request (`DELETE /api/v1/phones/{e164}`): its chats, transcripts and simulator
//! thread are gone and other phones keep theirs; a live chat is never cut off; and a phone that opted
//! out stays opted out after the erasure (its tombstone) until it texts START, while a phone that never
//! did starts afresh with a new opt-in notice.

use parley_server::config::{Config, Secret};
use reqwest::Method;
use serde_json::json;

use crate::harness::{ADMIN, TestApp, bodies, standard_setup};

const PHONE: &str = "+14155550190";
const OTHER: &str = "+14155550191";
const OPTED_OUT: &str = "Acme: You are unsubscribed and will receive no more messages. Reply START to resubscribe.";
const OPTED_IN: &str = "Acme: You are subscribed again. Reply HELP for help, STOP to opt out.";
const NOTICE: &str = "Acme: Thanks for texting us.";
const MENU: &str = "How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.";

fn path(phone: &str) -> String {
    format!("/api/v1/phones/{phone}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_phone_leaves_no_trace_but_stays_opted_out_until_start() {
    let app = TestApp::spawn_with(|c| Config { privacy_secret: Some(Secret::new("e2e-privacy-secret")), ..c }).await;
    app.apply_setup(&standard_setup()).await;
    let admin = app.admin();
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = app.phone(PHONE);
    let other = app.phone(OTHER);

    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    alice.say(&chat, "Hello, how can I help?").await;
    let kept = other.texts("billing").await.chat_id.expect("a chat of the other phone");
    alice.accept(&kept).await;
    alice.say(&kept, "Hello other").await;
    app.settled(&chat).await;
    let kept_before = app.settled(&kept).await;

    // A live chat is never cut off: the erasure is refused, naming the chat, and the chat goes on.
    let refused = app.request(Method::DELETE, &path(PHONE), Some(ADMIN), None).await;
    let message = refused.expect_error(409, "conflict");
    assert!(message.contains(&chat), "the refusal names the live chat: {message}");
    assert_eq!(alice.chat(&chat).await.status, "connected");
    // Only admins erase, and only E.164 numbers.
    app.request(Method::DELETE, &path(PHONE), Some(&alice.token), None).await.expect_error(403, "forbidden");
    app.request(Method::DELETE, &path(PHONE), None, None).await.expect_error(401, "unauthorized");
    app.request(Method::DELETE, &path("12345"), Some(ADMIN), None).await.expect_error(422, "validation_failed");

    // The phone opts out, which ends its chat, and texts once more while opted out (stored, no chat).
    let before = phone.inbox().await.len();
    phone.texts("STOP").await;
    assert_eq!(phone.receives(before + 1).await[before].body, OPTED_OUT);
    assert_eq!(phone.texts("are you still there?").await.chat_id, None);
    let transcript = app.settled(&chat).await;
    assert_eq!(transcript.chat.status, "finished");
    let thread = phone.thread().await;

    let erased = app.request(Method::DELETE, &path(PHONE), Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(erased["phone"], PHONE, "{erased}");
    assert_eq!(erased["opted_out"], true, "{erased}");
    let deleted = &erased["deleted"];
    assert_eq!(deleted["chats"], 1, "{erased}");
    assert_eq!(deleted["messages"], transcript.messages.len() + 1, "the chat's and the one outside it: {erased}");
    assert_eq!(deleted["sim_messages"], thread.len(), "{erased}");
    assert_eq!(deleted["consents"], 1, "{erased}");
    assert_eq!(deleted["consent_ledger"], 2, "the notice and the opt-out: {erased}");
    assert_eq!(deleted["media"], 0, "{erased}");
    assert!(deleted["events"].as_u64().is_some_and(|n| n > 0), "{erased}");

    // Gone for everyone: the chat, its transcript, the admin's listing, the simulator's thread.
    admin.try_chat(&chat).await.expect_error(404, "not_found");
    admin.try_transcript(&chat).await.expect_error(404, "not_found");
    alice.try_transcript(&chat).await.expect_error(404, "not_found");
    let listed = admin.all_chats().await;
    assert!(listed.iter().all(|c| c.consumer != PHONE), "{listed:#?}");
    assert!(phone.thread().await.is_empty());
    // The other phone keeps everything.
    assert!(listed.iter().any(|c| c.id == kept), "{listed:#?}");
    assert_eq!(admin.transcript(&kept).await.messages.len(), kept_before.messages.len());
    assert!(!other.thread().await.is_empty());
    // Erasing again finds nothing (the plus may come percent-encoded).
    app.request(Method::DELETE, &path("%2B14155550190"), Some(ADMIN), None).await.expect_error(404, "not_found");

    // Texting again gets no answer: the tombstone kept the opt-out. START re-subscribes; had the first
    // text been answered, the outbox's order would put that answer before the confirmation.
    assert_eq!(phone.texts("hi").await.chat_id, None, "no chat for an opted-out phone");
    assert_eq!(phone.texts("START").await.chat_id, None);
    assert_eq!(bodies(&phone.receives(1).await), [OPTED_IN]);

    // Subscribed again, the phone is a new contact: the opt-in notice comes first.
    let again = phone.texts("hi").await.chat_id.expect("a new chat");
    let sent = app.settled(&again).await.sent();
    assert!(sent.len() == 2 && sent[0].starts_with(NOTICE) && sent[1] == MENU, "{sent:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_that_never_opted_out_starts_afresh_after_erasure() {
    // The notice goes out on a phone's first contact only, so a second notice shows the phone is new.
    let mut setup = standard_setup();
    setup["settings"] = json!({ "brand": "Acme", "opt_in_notice_every_chat": false });
    let app = TestApp::spawn().await;
    app.apply_setup(&setup).await;
    let admin = app.admin();
    let phone = app.phone(PHONE);

    let first = phone.texts("hi").await.chat_id.expect("a chat");
    admin.end(&first).await;
    let sent = app.settled(&first).await.sent();
    assert!(sent[0].starts_with(NOTICE), "{sent:#?}");
    let second = phone.texts("hi").await.chat_id.expect("a second chat");
    admin.end(&second).await;
    let sent = app.settled(&second).await.sent();
    assert!(sent.iter().all(|s| !s.starts_with(NOTICE)), "no second notice for a known phone: {sent:#?}");

    let erased = app.request(Method::DELETE, &path(PHONE), Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(erased["opted_out"], false, "{erased}");
    assert_eq!(erased["deleted"]["chats"], 2, "{erased}");
    assert_eq!(erased["deleted"]["consent_ledger"], 1, "{erased}");
    assert!(admin.all_chats().await.is_empty());

    let fresh = phone.texts("hi").await.chat_id.expect("a new chat");
    let sent = app.settled(&fresh).await.sent();
    assert!(sent.len() == 2 && sent[0].starts_with(NOTICE) && sent[1] == MENU, "a new opt-in notice: {sent:#?}");
    assert_eq!(bodies(&phone.inbox().await), sent, "the phone's thread starts with the new chat");
}
