//! Delivery timeline and resend (issue 14 item 7): every status a message takes is kept with its
//! time, `GET /api/v1/messages/{id}` answers it, and a failed or undelivered outbound message can be
//! sent again as a new message linked to the original. A message fails here the way it does in
//! production when a number may not send: the outbox gives it up while the number is suspended.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Caller, Reply, SUPPORT, TestApp, bodies, eventually};

const PHONE: &str = "+14155550188";

async fn chat_with_alice(app: &TestApp) -> (Caller<'_>, String) {
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = app.phone(PHONE);
    phone.texts("hi").await;
    let chat = phone.texts("1").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    (alice, chat)
}

async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
    app.request(method, path, Some(token), body.as_ref()).await
}

async fn message_until(app: &TestApp, token: &str, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || async {
        let m = call(app, Method::GET, &format!("/api/v1/messages/{id}"), token, None).await.expect_status(200).body;
        if check(&m) { Ok(m) } else { Err(m.to_string()) }
    })
    .await
}

fn statuses(m: &Value) -> Vec<String> {
    m["timeline"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_owned()).collect()
}

async fn set_state(app: &TestApp, state: &str) {
    let body = json!({"state": state, "reason": "test"});
    call(app, Method::PUT, &format!("/api/v1/numbers/{SUPPORT}/state"), ADMIN, Some(body)).await.expect_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_a_failed_message_goes_out_again_as_a_new_message_linked_to_it() {
    let app = TestApp::with_standard_setup().await;
    let (alice, chat) = chat_with_alice(&app).await;
    set_state(&app, "suspended").await;
    let failed = alice.say(&chat, "Your code is 1234").await;
    let m = message_until(&app, &alice.token, &failed, "the message to fail", |m| m["status"] == "failed").await;
    assert_eq!(statuses(&m), ["queued", "failed"], "{m}");
    assert!(m["timeline"][1]["error"].as_str().unwrap().contains("suspended"), "{m}");

    // Checked again on resend: the number still may not send.
    let refused = call(&app, Method::POST, &format!("/api/v1/messages/{failed}/resend"), &alice.token, None).await;
    assert!(refused.expect_error(409, "conflict").contains("suspended"), "{}", refused.body);
    let bob = app.agent(&app.agent_token("bob").await);
    let other = call(&app, Method::POST, &format!("/api/v1/messages/{failed}/resend"), &bob.token, None).await;
    assert_eq!(other.status, 403, "{}", other.body);

    set_state(&app, "enabled").await;
    let resent = call(&app, Method::POST, &format!("/api/v1/messages/{failed}/resend"), &alice.token, None).await;
    let resent = resent.expect_status(201).body;
    let new_id = resent["message_id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, failed);
    assert_eq!(resent["chat"]["id"], chat.as_str(), "a reply into the same chat: {resent}");
    let new =
        message_until(&app, &alice.token, &new_id, "the resend to be delivered", |m| m["status"] == "delivered").await;
    assert_eq!(new["resend_of"], failed.as_str(), "{new}");
    assert_eq!(new["author"], "agent:alice");
    let original = message_until(&app, &alice.token, &failed, "the link", |m| !m["resent_as"].is_null()).await;
    assert_eq!((&original["resent_as"], &original["status"]), (&json!(new_id), &json!("failed")), "{original}");
    let phone = app.phone(PHONE);
    let inbox = bodies(&phone.inbox().await);
    assert_eq!(inbox.iter().filter(|b| *b == "Your code is 1234").count(), 1, "{inbox:?}");
    let transcript = alice.transcript(&chat).await;
    let attempts: Vec<_> = transcript.messages.iter().filter(|m| m.body == "Your code is 1234").collect();
    assert_eq!(attempts.len(), 2, "both attempts are in the transcript: {attempts:?}");

    let twice = call(&app, Method::POST, &format!("/api/v1/messages/{failed}/resend"), &alice.token, None).await;
    assert!(twice.expect_error(409, "not_resendable").contains(&new_id), "{}", twice.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_a_delivered_message_is_409_not_resendable_and_its_timeline_shows_the_delivery() {
    let app = TestApp::with_standard_setup().await;
    let (alice, chat) = chat_with_alice(&app).await;
    let id = alice.say(&chat, "Thanks, all done").await;
    let m = message_until(&app, &alice.token, &id, "the delivery", |m| m["status"] == "delivered").await;
    assert_eq!(statuses(&m), ["queued", "delivered"], "{m}");
    assert_eq!((&m["chat_id"], &m["number"], &m["direction"]), (&json!(chat), &json!(SUPPORT), &json!("out")), "{m}");
    let refused = call(&app, Method::POST, &format!("/api/v1/messages/{id}/resend"), &alice.token, None).await;
    assert!(refused.expect_error(409, "not_resendable").contains("delivered"), "{}", refused.body);
    let unknown = call(&app, Method::POST, "/api/v1/messages/nothing-here/resend", &alice.token, None).await;
    unknown.expect_error(404, "not_found");
    // The consumer's own text is no outbound message.
    let transcript = alice.transcript(&chat).await;
    let inbound = transcript.messages.iter().find(|m| m.direction == "in").expect("the consumer's text");
    let refused = call(&app, Method::POST, &format!("/api/v1/messages/{}/resend", inbound.id), ADMIN, None).await;
    refused.expect_error(409, "not_resendable");
    let read = call(&app, Method::GET, &format!("/api/v1/messages/{}", inbound.id), &alice.token, None).await;
    assert_eq!(statuses(&read.expect_status(200).body), ["received"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_to_a_phone_that_opted_out_is_refused() {
    let app = TestApp::with_standard_setup().await;
    let (alice, chat) = chat_with_alice(&app).await;
    set_state(&app, "suspended").await;
    let failed = alice.say(&chat, "One more thing").await;
    message_until(&app, &alice.token, &failed, "the message to fail", |m| m["status"] == "failed").await;
    set_state(&app, "enabled").await;
    app.phone(PHONE).texts("STOP").await;
    let refused = call(&app, Method::POST, &format!("/api/v1/messages/{failed}/resend"), ADMIN, None).await;
    refused.expect_error(409, "opted_out");
}
