//! Number registration: a number that is not enabled opens no chats and sends nothing (but STOP still
//! counts); admins move numbers along their registration, and the history is kept.

use reqwest::Method;
use serde_json::json;

use crate::harness::{TestApp, eventually};
use crate::registration;

const REGISTERED: &str = "+15550008800";
const PLAIN: &str = "+15550008900";

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [
            {"number": REGISTERED, "label": "US support", "carrier": "sim", "queues": ["billing"], "type": "us_10dlc",
             "campaign": "care"},
            {"number": PLAIN, "label": "EU support", "carrier": "sim", "queues": ["billing"]}
        ],
        "queues": [{"id": "billing", "name": "Billing"}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["billing"], "capacity": 5}],
        "brands": [registration::brand()],
        "campaigns": [registration::campaign()],
    }))
    .await;
    app
}

async fn set_state(app: &TestApp, number: &str, state: &str) -> crate::harness::Reply {
    app.request(
        Method::PUT,
        &format!("/api/v1/numbers/{number}/state"),
        Some(&app.admin().token),
        Some(&json!({ "state": state, "reason": "test" })),
    )
    .await
}

#[tokio::test]
async fn a_number_waiting_for_registration_opens_no_chat_and_sends_nothing() {
    let app = app().await;
    let numbers =
        app.request(Method::GET, "/api/v1/numbers", Some(&app.admin().token), None).await.expect_status(200).body;
    let state_of = |n: &str| numbers.as_array().unwrap().iter().find(|x| x["number"] == n).map(|x| x["state"].clone());
    assert_eq!(state_of(REGISTERED), Some(json!("requested")), "{numbers}");
    assert_eq!(state_of(PLAIN), Some(json!("enabled")));

    let early = app.phone("+14155550300").to(REGISTERED);
    let ack = early.sends(json!({ "body": "hello?" })).await.expect_status(201).body;
    assert_eq!(ack["chat_id"], serde_json::Value::Null, "no chat on a number that is not enabled");
    // The same phone's STOP still counts, although nothing may answer it.
    early.texts("STOP").await;

    // A later conversation on the plain number is answered; the outbox works in order, so by then the
    // registered number's texts would have been answered too, had anything been queued for them.
    let other = app.phone("+14155550301").to(PLAIN);
    other.texts("hi").await;
    other.receives(2).await;
    assert!(early.inbox().await.is_empty());
    assert!(app.admin().all_chats().await.iter().all(|c| c.number == PLAIN));

    // Registration goes through; the opt-out from before still holds, START lifts it.
    set_state(&app, REGISTERED, "in_review").await.expect_status(200);
    let enabled = set_state(&app, REGISTERED, "enabled").await.expect_status(200).body;
    assert_eq!(enabled["state"], "enabled");
    early.texts("hi again").await;
    early.texts("START").await;
    let inbox = early.receives(1).await;
    assert!(inbox[0].body.contains("subscribed again"), "only the opt-in confirmation: {inbox:?}");
    let detail =
        app.request(Method::GET, &format!("/api/v1/numbers/{REGISTERED}"), Some(&app.admin().token), None).await.body;
    let history: Vec<&str> =
        detail["history"].as_array().unwrap().iter().map(|h| h["state"].as_str().unwrap()).collect();
    assert_eq!(history, ["in_review", "enabled"]);
}

#[tokio::test]
async fn a_suspended_number_fails_its_messages_and_transitions_are_checked() {
    let app = app().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let phone = app.phone("+14155550302").to(PLAIN);
    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    phone.receives(3).await;

    set_state(&app, PLAIN, "suspended").await.expect_status(200);
    let id = alice.say(&chat, "Are you there?").await;
    eventually("the reply to fail", || async {
        let t = app.admin().transcript(&chat).await;
        let m = t.messages.iter().find(|m| m.id == id).cloned().expect("the reply");
        if m.status == "failed" && m.error.as_deref() == Some("number +15550008900 is suspended: it may not send") {
            Ok(())
        } else {
            Err(format!("{m:?}"))
        }
    })
    .await;

    set_state(&app, PLAIN, "in_review").await.expect_error(409, "conflict");
    set_state(&app, PLAIN, "asleep").await.expect_error(422, "validation_failed");
    set_state(&app, "+15550000000", "enabled").await.expect_error(404, "not_found");
    let alice_token = alice.token.clone();
    app.request(Method::GET, "/api/v1/numbers", Some(&alice_token), None).await.expect_error(403, "forbidden");
    set_state(&app, PLAIN, "enabled").await.expect_status(200);
}

#[tokio::test]
async fn a_number_adds_its_own_keywords_to_the_standard_ones() {
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": "+15550008700", "carrier": "sim", "queues": ["billing"],
                     "opt_out_keywords": ["alto", "parar"], "help_keywords": ["ayuda"]}],
        "queues": [{"id": "billing", "name": "Billing"}],
    }))
    .await;
    let exported = app.setup().await;
    assert_eq!(exported["numbers"][0]["opt_out_keywords"], json!(["ALTO", "PARAR"]));
    let phone = app.phone("+14155550310").to("+15550008700");
    let chat = phone.texts("hola").await.chat_id.expect("a chat");
    phone.receives(2).await;
    phone.texts("Ayuda!").await;
    let inbox = phone.receives(3).await;
    assert!(inbox[2].body.contains("support by text"), "the help text: {inbox:?}");
    phone.texts(" alto ").await;
    let inbox = phone.receives(4).await;
    assert!(inbox[3].body.contains("unsubscribed"), "the opt-out confirmation: {inbox:?}");
    assert_eq!(app.admin().chat(&chat).await.end_reason.as_deref(), Some("opted_out"));

    // A keyword that collides with a standard one or a menu choice is refused, naming it.
    let refused = app
        .try_apply_setup(&json!({
            "numbers": [{"number": "+15550008700", "carrier": "sim", "queues": ["billing"], "opt_out_keywords": ["Billing"]}],
            "queues": [{"id": "billing", "name": "Billing"}],
        }))
        .await;
    let message = refused.expect_error(422, "validation_failed");
    assert!(message.contains("keyword \"Billing\" is also a menu choice of this number"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_code_opens_chats_and_sends_once_enabled() {
    const SHORT_CODE: &str = "24273";
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": SHORT_CODE, "label": "Alerts", "carrier": "sim", "queues": ["billing"], "type": "short_code"}],
        "queues": [{"id": "billing", "name": "Billing"}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["billing"], "capacity": 5}],
        "settings": {"quiet_hours": {"enabled": false}},
    }))
    .await;
    let refused = app
        .try_apply_setup(&json!({
            "numbers": [{"number": SHORT_CODE, "carrier": "sim", "queues": ["billing"]}],
            "queues": [{"id": "billing", "name": "Billing"}],
        }))
        .await;
    let message = refused.expect_error(422, "validation_failed");
    assert!(message.contains("say type = \"short_code\""), "{message}");

    let phone = app.phone("+14155550180").to(SHORT_CODE);
    let before = phone.texts("hello").await;
    assert_eq!(before.chat_id, None, "a short code that is not enabled opens no chat");
    set_state(&app, SHORT_CODE, "enabled").await.expect_status(200);
    let chat = phone.texts("hello again").await.chat_id.expect("an enabled short code opens a chat");
    let alice = app.agent(&app.agent_token("alice").await);
    alice.accept(&chat).await;
    alice.say(&chat, "Hi from our short code").await;
    // The notice, the queue message, the connection message and alice's reply.
    let inbox = phone.receives(4).await;
    assert!(inbox.iter().all(|m| m.from == SHORT_CODE), "every answer comes from the short code: {inbox:?}");
    assert_eq!(inbox.last().map(|m| m.body.as_str()), Some("Hi from our short code"));

    let body = json!({"end_user_number": "+14155550181", "outbound_number": SHORT_CODE, "message": "Code 1234"});
    app.request(Method::POST, "/api/v1/outbound/messages", Some(&app.admin().token), Some(&body))
        .await
        .expect_status(201);
    let other = app.phone("+14155550181").receives(2).await;
    assert_eq!((other[1].from.as_str(), other[1].body.as_str()), (SHORT_CODE, "Code 1234"));
}
