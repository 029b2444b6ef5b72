//! Send later (issue 14 item 6): a message scheduled by an agent or the API waits durably as
//! `scheduled` and goes out when due; consent, the number's state and quiet hours are looked at then,
//! not when it was scheduled. The server runs on a clock the test moves; the scheduled-message worker
//! notices the new time by itself, so nothing here sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use parley_server::clock::{Clock, rfc3339};

use crate::harness::{ADMIN, Caller, Reply, SUPPORT, TestApp, bodies, eventually, standard_setup};

/// 2026-06-01 16:00 UTC: noon in New York, nine in the morning in San Francisco (the phones here).
const T0: i64 = 1_780_329_600_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const PHONE: &str = "+14155550177";

async fn app() -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&standard_setup()).await;
    (app, now)
}

/// A billing chat between `PHONE` and alice, connected.
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

async fn message(app: &TestApp, token: &str, id: &str) -> Value {
    call(app, Method::GET, &format!("/api/v1/messages/{id}"), token, None).await.expect_status(200).body
}

async fn message_until(app: &TestApp, token: &str, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || async {
        let m = message(app, token, id).await;
        if check(&m) { Ok(m) } else { Err(m.to_string()) }
    })
    .await
}

fn statuses(m: &Value) -> Vec<String> {
    m["timeline"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_later_a_reply_waits_as_scheduled_then_goes_out_when_due() {
    let (app, now) = app().await;
    let (alice, chat) = chat_with_alice(&app).await;
    let send_at = rfc3339(T0 + 2 * HOUR);
    let path = format!("/api/v1/chats/{chat}/messages");
    let body = json!({"body": "Your refund went out today.", "send_at": send_at});
    let queued = call(&app, Method::POST, &path, &alice.token, Some(body)).await.expect_status(202).body;
    let id = queued["message_id"].as_str().unwrap().to_owned();

    let scheduled = call(&app, Method::GET, &format!("/api/v1/chats/{chat}/scheduled"), &alice.token, None).await;
    let scheduled = scheduled.expect_status(200).body;
    assert_eq!(scheduled["messages"].as_array().unwrap().len(), 1, "{scheduled}");
    assert_eq!(scheduled["messages"][0]["id"], id.as_str());
    assert_eq!(scheduled["messages"][0]["status"], "scheduled");
    assert_eq!(scheduled["messages"][0]["send_at"], send_at.as_str());
    let transcript = alice.transcript(&chat).await;
    let entry = transcript.messages.iter().find(|m| m.id == id).expect("the scheduled message is in the transcript");
    assert_eq!(entry.status, "scheduled");
    app.outbox_drained().await;
    let phone = app.phone(PHONE);
    assert!(!bodies(&phone.inbox().await).contains(&"Your refund went out today.".to_owned()), "not before its time");

    now.store(T0 + 2 * HOUR, Ordering::SeqCst);
    let sent =
        message_until(&app, &alice.token, &id, "the message to be delivered", |m| m["status"] == "delivered").await;
    assert_eq!(sent["send_at"], send_at.as_str(), "{sent}");
    assert_eq!(statuses(&sent), ["scheduled", "queued", "delivered"], "{sent}");
    assert!(bodies(&phone.inbox().await).contains(&"Your refund went out today.".to_owned()));
    let scheduled = call(&app, Method::GET, &format!("/api/v1/chats/{chat}/scheduled"), &alice.token, None).await;
    assert_eq!(scheduled.expect_status(200).body["messages"], json!([]));
    let transcript = alice.transcript(&chat).await;
    let sent: Vec<_> = transcript.messages.iter().filter(|m| m.id == id).collect();
    assert_eq!(sent.len(), 1, "the message shows once: {:?}", transcript.messages);
    assert_eq!(sent[0].status, "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_later_send_at_in_the_past_or_beyond_30_days_is_refused_and_nothing_stored() {
    let (app, _) = app().await;
    let (alice, chat) = chat_with_alice(&app).await;
    let before = alice.transcript(&chat).await.messages.len();
    let path = format!("/api/v1/chats/{chat}/messages");
    for (send_at, words) in [
        (rfc3339(T0 - HOUR), "in the past"),
        (rfc3339(T0 + 30 * DAY + HOUR), "more than 30 days ahead"),
        ("tomorrow at nine".to_owned(), "not an RFC 3339 moment"),
    ] {
        let reply =
            call(&app, Method::POST, &path, &alice.token, Some(json!({"body": "Hi", "send_at": send_at}))).await;
        let message = reply.expect_error(422, "validation_failed");
        assert!(message.contains(words), "{message}");
        assert_eq!(reply.body["error"]["details"][0]["field"], "/send_at", "{}", reply.body);
        let sessionless =
            json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Hi", "send_at": send_at});
        let reply = call(&app, Method::POST, "/api/v1/outbound/messages", ADMIN, Some(sessionless)).await;
        assert!(reply.expect_error(422, "validation_failed").contains(words));
        let started =
            json!({"end_user_number": "+14155550178", "outbound_number": SUPPORT, "message": "Hi", "send_at": send_at});
        let reply = call(&app, Method::POST, "/api/v1/outbound/chats", ADMIN, Some(started)).await;
        assert!(reply.expect_error(422, "validation_failed").contains(words));
    }
    let reply =
        call(&app, Method::POST, &format!("/api/v1/chats/{chat}/replies/nope?send_at=x"), &alice.token, None).await;
    assert_eq!(reply.status, 404, "an unknown reply is named first: {}", reply.body);
    assert_eq!(alice.transcript(&chat).await.messages.len(), before, "nothing was stored");
    let scheduled = call(&app, Method::GET, &format!("/api/v1/chats/{chat}/scheduled"), &alice.token, None).await;
    assert_eq!(scheduled.expect_status(200).body["messages"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_later_cancel_before_it_is_due_and_409_once_it_has_left() {
    let (app, now) = app().await;
    let (alice, chat) = chat_with_alice(&app).await;
    let path = format!("/api/v1/chats/{chat}/messages");
    let later = |body: &str, at: i64| json!({"body": body, "send_at": rfc3339(at)});
    let first = call(&app, Method::POST, &path, &alice.token, Some(later("Never mind", T0 + HOUR))).await;
    let first = first.expect_status(202).body["message_id"].as_str().unwrap().to_owned();
    let bob = app.agent(&app.agent_token("bob").await);
    let refused = call(&app, Method::DELETE, &format!("/api/v1/messages/{first}"), &bob.token, None).await;
    assert_eq!(refused.status, 403, "bob serves another queue: {}", refused.body);
    let canceled = call(&app, Method::DELETE, &format!("/api/v1/messages/{first}"), &alice.token, None).await;
    let canceled = canceled.expect_status(200).body;
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    let again = call(&app, Method::DELETE, &format!("/api/v1/messages/{first}"), &alice.token, None).await;
    again.expect_error(409, "conflict");
    let gone = call(&app, Method::DELETE, "/api/v1/messages/no-such-message", &alice.token, None).await;
    gone.expect_error(404, "not_found");

    let second = call(&app, Method::POST, &path, &alice.token, Some(later("See you soon", T0 + HOUR))).await;
    let second = second.expect_status(202).body["message_id"].as_str().unwrap().to_owned();
    now.store(T0 + HOUR, Ordering::SeqCst);
    message_until(&app, &alice.token, &second, "the second message to leave", |m| m["status"] == "delivered").await;
    let late = call(&app, Method::DELETE, &format!("/api/v1/messages/{second}"), &alice.token, None).await;
    assert!(late.expect_error(409, "already_sent").contains("delivered"), "{}", late.body);
    // The canceled one never went out, even after its time.
    let phone = app.phone(PHONE);
    let inbox = bodies(&phone.inbox().await);
    assert!(inbox.contains(&"See you soon".to_owned()) && !inbox.contains(&"Never mind".to_owned()), "{inbox:?}");
    let first = message(&app, &alice.token, &first).await;
    assert_eq!(statuses(&first), ["scheduled", "canceled"], "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_later_an_opt_out_before_it_is_due_suppresses_it() {
    let (app, now) = app().await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Your order shipped",
                      "send_at": rfc3339(T0 + HOUR)});
    let sent = call(&app, Method::POST, "/api/v1/outbound/messages", ADMIN, Some(body)).await.expect_status(201).body;
    assert_eq!(sent["status"], "scheduled", "{sent}");
    let id = sent["message_id"].as_str().unwrap().to_owned();
    let phone = app.phone(PHONE);
    phone.texts("STOP").await;
    now.store(T0 + HOUR, Ordering::SeqCst);
    let m = message_until(&app, ADMIN, &id, "the message to be suppressed", |m| m["status"] == "suppressed").await;
    assert!(m["error"].as_str().unwrap().contains("opted out before the message was due"), "{m}");
    app.outbox_drained().await;
    assert!(!bodies(&phone.inbox().await).contains(&"Your order shipped".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_later_a_number_suspended_at_due_time_fails_the_message() {
    let (app, now) = app().await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Reminder",
                      "send_at": rfc3339(T0 + HOUR)});
    let sent = call(&app, Method::POST, "/api/v1/outbound/messages", ADMIN, Some(body)).await.expect_status(201).body;
    let id = sent["message_id"].as_str().unwrap().to_owned();
    let state = json!({"state": "suspended", "reason": "carrier audit"});
    call(&app, Method::PUT, &format!("/api/v1/numbers/{SUPPORT}/state"), ADMIN, Some(state)).await.expect_status(200);
    now.store(T0 + HOUR, Ordering::SeqCst);
    let m = message_until(&app, ADMIN, &id, "the message to fail", |m| m["status"] == "failed").await;
    assert_eq!(m["error"], format!("number {SUPPORT} is suspended: it may not send"), "{m}");
    assert_eq!(statuses(&m), ["scheduled", "failed"], "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_later_an_outbound_chat_opens_when_due_and_waits_out_quiet_hours() {
    let (app, now) = app().await;
    let bob = app.agent(&app.agent_token("bob").await);
    // Due at 22:00 in San Francisco: inside the default quiet hours (21:00 to 08:00).
    let due = T0 + 13 * HOUR;
    let morning = T0 + 23 * HOUR;
    let body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "About your ticket",
                      "send_at": rfc3339(due)});
    let sent = call(&app, Method::POST, "/api/v1/outbound/chats", &bob.token, Some(body)).await.expect_status(201).body;
    assert_eq!(
        (&sent["status"], &sent["chat"]),
        (&json!("scheduled"), &Value::Null),
        "no chat until it is due: {sent}"
    );
    let id = sent["message_id"].as_str().unwrap().to_owned();
    assert!(bob.all_chats().await.is_empty(), "nothing in the agent's lists meanwhile");

    now.store(due, Ordering::SeqCst);
    let waiting = message_until(&app, &bob.token, &id, "the message to wait for the morning", |m| {
        m["due_at"] == rfc3339(morning).as_str()
    })
    .await;
    assert_eq!(waiting["status"], "scheduled", "{waiting}");
    assert!(bob.all_chats().await.is_empty(), "still no chat at night");

    now.store(morning, Ordering::SeqCst);
    let m =
        message_until(&app, &bob.token, &id, "the chat to open and the message to go", |m| m["status"] == "delivered")
            .await;
    let chat = m["chat_id"].as_str().expect("the message is in the chat it opened").to_owned();
    let opened = bob.chat(&chat).await;
    assert_eq!((opened.status.as_str(), opened.agent.as_deref()), ("connected", Some("bob")), "{opened:?}");
    let phone = app.phone(PHONE);
    assert!(bodies(&phone.inbox().await).contains(&"About your ticket".to_owned()));
}
