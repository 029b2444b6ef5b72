//! Transfers over the API: a declined transfer leaves the chat with its agent, an accepted one to a
//! queue moves it (agent and queue), a transfer nobody answers fails at the offer timeout, and every
//! step is an event for the agents concerned and a line in the transcript.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use parley_server::clock::Clock;

use crate::harness::{TestApp, eventually};

const T0: i64 = 1_780_329_600_000;
const SUPPORT: &str = "+15550007100";

async fn app() -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "carrier": "sim", "queues": ["tech", "billing"]}],
        "queues": [
            {"id": "tech", "name": "Tech", "keywords": ["1"]},
            {"id": "billing", "name": "Billing", "keywords": ["2"], "announce_transfers": true}
        ],
        "agents": [
            {"id": "alice", "name": "Alice", "queues": ["billing"], "capacity": 2},
            {"id": "bob", "name": "Bob", "queues": ["tech"], "capacity": 2},
            {"id": "carol", "name": "Carol", "queues": ["tech"], "capacity": 2}
        ],
        "settings": {"brand": "Acme", "quiet_hours": {"enabled": false}, "timers": {"offer_timeout_seconds": 30}}
    }))
    .await;
    (app, now)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> crate::harness::Reply {
    app.request(Method::POST, path, Some(token), Some(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_transfer_keeps_the_chat_and_an_accepted_one_moves_it() {
    let (app, _) = app().await;
    let [alice, bob, carol] = ["alice", "bob", "carol"];
    let mut tokens = Vec::new();
    for agent in [alice, bob, carol] {
        let token = app.agent_token(agent).await;
        app.agent(&token).set_status("available").await;
        tokens.push(token);
    }
    let (alice, bob, carol) = (app.agent(&tokens[0]), app.agent(&tokens[1]), app.agent(&tokens[2]));
    let phone = app.phone("+14155550160").to(SUPPORT);
    let chat = phone.texts("1").await.chat_id.expect("a chat");
    assert_eq!(app.admin().chat(&chat).await.start_type, None, "no agent yet");
    assert_eq!(bob.accept(&chat).await.start_type.as_deref(), Some("manually_answered"));
    let mut carols_events = app.events(&carol.token, None).await;

    let path = format!("/api/v1/chats/{chat}/transfer");
    let body = json!({"to_agent": "carol", "note": "Wants a refund, ticket 42"});
    let pending = post(&app, &path, &bob.token, body).await.expect_status(202).body;
    assert_eq!((&pending["agent"], &pending["status"]), (&json!("bob"), &json!("connected")), "{pending}");
    let started = loop {
        let event = carols_events.next().await;
        if event.kind == "chat.transfer_started" {
            break event;
        }
    };
    assert_eq!((&started.data["from"], &started.data["note"]), (&json!("bob"), &json!("Wants a refund, ticket 42")));
    assert_eq!(started.data["to_queue"], json!(null), "a transfer to an agent names no queue: {started:?}");
    post(&app, &path, &bob.token, json!({"to_agent": "carol"})).await.expect_error(409, "conflict");
    post(&app, &format!("{path}/accept"), &alice.token, json!({})).await.expect_error(409, "conflict");
    post(&app, &format!("{path}/decline"), &carol.token, json!({})).await.expect_status(200);
    assert_eq!(app.admin().chat(&chat).await.agent.as_deref(), Some("bob"), "bob keeps the declined chat");
    bob.say(&chat, "Still with you").await;

    let mut alices_events = app.events(&alice.token, None).await;
    post(&app, &path, &bob.token, json!({"to_queue": "billing", "note": "Invoice question"})).await.expect_status(202);
    let asked = alices_events.until(|e| e.kind == "chat.transfer_started").await.pop().expect("the transfer");
    // The queue asked is its own field: the envelope's `queue` stays the chat's until the transfer happens.
    assert_eq!((&asked.data["to"], &asked.data["to_queue"]), (&json!("alice"), &json!("billing")), "{asked:?}");
    assert_ne!(asked.data["queue"], json!("billing"), "{asked:?}");
    let taken = post(&app, &format!("{path}/accept"), &alice.token, json!({})).await.expect_status(200).body;
    assert_eq!((&taken["agent"], &taken["queue"]), (&json!("alice"), &json!("billing")), "{taken}");
    bob.try_say(&chat, "me again").await.expect_error(403, "forbidden");
    alice.say(&chat, "Alice here, about the invoice").await;

    let transcript = app.settled(&chat).await;
    let notes: Vec<&str> =
        transcript.messages.iter().filter(|m| m.direction == "note").map(|m| m.body.as_str()).collect();
    assert_eq!(
        notes,
        vec![
            "bob asked carol to take the chat over: Wants a refund, ticket 42",
            "The transfer to carol failed (declined); bob keeps the chat",
            "bob asked alice in billing to take the chat over: Invoice question",
            "alice took the chat over from bob",
        ]
    );
    // Billing announces transfers: the consumer learns who took over, and never sees the notes.
    let inbox: Vec<String> = phone.inbox().await.into_iter().map(|m| m.body).collect();
    assert!(inbox.contains(&"Alice has taken over your chat.".to_owned()), "{inbox:?}");
    assert!(inbox.iter().all(|b| !b.contains("Invoice question") && !b.contains("refund")), "{inbox:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_nobody_answers_fails_at_the_offer_timeout_and_bad_ones_are_refused() {
    let (app, now) = app().await;
    let bob = app.agent(&app.agent_token("bob").await);
    let carol = app.agent(&app.agent_token("carol").await);
    bob.set_status("available").await;
    carol.set_status("available").await;
    let chat = app.phone("+14155550161").to(SUPPORT).texts("1").await.chat_id.expect("a chat");
    bob.accept(&chat).await;
    let path = format!("/api/v1/chats/{chat}/transfer");

    for (body, status, code) in [
        (json!({"to_agent": "alice"}), 422, "validation_failed"),
        (json!({"to_agent": "bob"}), 422, "validation_failed"),
        (json!({"to_agent": "nobody"}), 422, "validation_failed"),
        (json!({"to_queue": "nowhere"}), 422, "validation_failed"),
        (json!({"to_agent": "carol", "to_queue": "billing"}), 422, "validation_failed"),
        (json!({"to_agent": "carol", "note": "x".repeat(501)}), 422, "validation_failed"),
    ] {
        post(&app, &path, &bob.token, body).await.expect_error(status, code);
    }
    post(&app, &path, &app.admin().token, json!({"to_agent": "carol"})).await.expect_error(403, "forbidden");
    post(&app, &path, &carol.token, json!({"to_agent": "bob"})).await.expect_error(409, "conflict");

    post(&app, &path, &bob.token, json!({"to_agent": "carol"})).await.expect_status(202);
    now.fetch_add(30_000, Ordering::SeqCst);
    eventually("the transfer to time out", || async {
        let t = app.admin().transcript(&chat).await;
        let failed = t.messages.iter().any(|m| m.direction == "note" && m.body.contains("failed (timed_out)"));
        if failed { Ok(()) } else { Err(format!("{:#?}", t.messages)) }
    })
    .await;
    post(&app, &format!("{path}/accept"), &carol.token, json!({})).await.expect_error(409, "conflict");
    assert_eq!(app.admin().chat(&chat).await.agent.as_deref(), Some("bob"));
}
