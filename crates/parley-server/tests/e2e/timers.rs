//! Chat timers on the server's clock, which the test moves: an offer that is not accepted moves to the
//! next agent, a silent consumer is warned and then closed, a session expires (also across a restart),
//! and a queue's wait limit closes chats nobody took. Each timer fires once.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};

use parley_server::clock::Clock;

use crate::harness::{Chat, TestApp, eventually};

/// 2026-06-01 16:00 UTC.
const T0: i64 = 1_780_329_600_000;
const SUPPORT: &str = "+15550007000";
const MINUTE: i64 = 60_000;

fn setup() -> Value {
    json!({
        "numbers": [{"number": SUPPORT, "carrier": "sim", "queues": ["tech", "claims"]}],
        "queues": [
            {"id": "tech", "name": "Tech", "keywords": ["1"]},
            {"id": "claims", "name": "Claims", "keywords": ["2"], "timers": {"queue_wait_minutes": 10}}
        ],
        "agents": [
            {"id": "bob", "name": "Bob", "queues": ["tech"], "capacity": 2},
            {"id": "carol", "name": "Carol", "queues": ["tech"], "capacity": 2}
        ],
        "settings": {"brand": "Acme", "timers": {"offer_timeout_seconds": 30}, "quiet_hours": {"enabled": false}}
    })
}

async fn app() -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&setup()).await;
    (app, now)
}

async fn chat_until(app: &TestApp, id: &str, what: &str, check: impl Fn(&Chat) -> bool) -> Chat {
    eventually(what, || async {
        let chat = app.admin().chat(id).await;
        if check(&chat) { Ok(chat) } else { Err(format!("{chat:?}")) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_that_is_not_accepted_moves_to_the_next_agent() {
    let (app, now) = app().await;
    let stored = app.setup().await;
    assert_eq!(stored["queues"][1]["timers"]["queue_wait_minutes"], 10, "{stored}");
    assert_eq!(stored["settings"]["timers"]["offer_timeout_seconds"], 30, "{stored}");
    assert_eq!(stored["settings"]["timers"]["session_expiration_minutes"], 1440, "the defaults are spelled out");
    let bob = app.agent(&app.agent_token("bob").await);
    let carol = app.agent(&app.agent_token("carol").await);
    bob.set_status("available").await;
    carol.set_status("available").await;
    let chat = app.phone("+14155550150").to(SUPPORT).texts("1").await.chat_id.expect("a chat");
    let first = app.admin().chat(&chat).await;
    assert_eq!((first.status.as_str(), first.agent.as_deref()), ("offered", Some("bob")));
    let mut events = app.events(&app.admin().token, None).await;

    now.fetch_add(29_000, Ordering::SeqCst);
    app.outbox_drained().await;
    assert_eq!(app.admin().chat(&chat).await.agent.as_deref(), Some("bob"), "29 s: still bob's");
    now.fetch_add(1_000, Ordering::SeqCst);
    let moved = chat_until(&app, &chat, "the offer to move on", |c| c.agent.as_deref() == Some("carol")).await;
    assert_eq!(moved.status, "offered");
    let timed_out = loop {
        let event = events.next().await;
        if event.kind == "chat.offer_timed_out" {
            break event;
        }
    };
    assert_eq!(timed_out.data["agent"], "bob", "{timed_out:?}");
    bob.try_accept(&chat).await.expect_error(409, "conflict");
    carol.accept(&chat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_consumer_is_warned_then_the_chat_closes() {
    let (app, now) = app().await;
    let bob = app.agent(&app.agent_token("bob").await);
    bob.set_status("available").await;
    let phone = app.phone("+14155550151").to(SUPPORT);
    let chat = phone.texts("1").await.chat_id.expect("a chat");
    bob.accept(&chat).await;
    bob.say(&chat, "How can I help?").await;
    let before = phone.receives(4).await.len();

    now.fetch_add(15 * MINUTE, Ordering::SeqCst);
    let warned = phone.receives(before + 1).await;
    assert_eq!(warned[before].body, "Are you still there? This chat closes in 5 minutes unless you reply.");
    now.fetch_add(5 * MINUTE - 1, Ordering::SeqCst);
    app.outbox_drained().await;
    assert_eq!(app.admin().chat(&chat).await.status, "connected", "a millisecond before the close");
    now.fetch_add(1, Ordering::SeqCst);
    let closed = chat_until(&app, &chat, "the chat to close", |c| c.status == "finished").await;
    assert_eq!((closed.end_reason.as_deref(), closed.ended_by.as_deref()), (Some("consumer_silent"), Some("system")));
    let inbox = phone.receives(before + 2).await;
    assert!(inbox[before + 1].body.starts_with("We closed this chat"), "{inbox:?}");
    // Fired once: more time changes nothing.
    now.fetch_add(60 * MINUTE, Ordering::SeqCst);
    app.outbox_drained().await;
    assert_eq!(phone.inbox().await.len(), before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_expires_across_a_restart_and_the_next_text_starts_a_new_chat() {
    let (mut app, now) = app().await;
    let phone_number = "+14155550152";
    let chat = app.phone(phone_number).to(SUPPORT).texts("hi").await.chat_id.expect("a chat");
    // The consumer keeps the chat alive with a text every ten minutes for a day.
    for _ in 0..(24 * 6 - 1) {
        now.fetch_add(10 * MINUTE, Ordering::SeqCst);
        app.phone(phone_number).to(SUPPORT).texts("still here").await;
    }
    app.restart().await;
    now.fetch_add(10 * MINUTE, Ordering::SeqCst);
    let expired = chat_until(&app, &chat, "the session to expire", |c| c.status == "finished").await;
    assert_eq!(expired.end_reason.as_deref(), Some("expired"));
    let next = app.phone(phone_number).to(SUPPORT).texts("hello again").await.chat_id.expect("a new chat");
    assert_ne!(next, chat);
    let inbox = app.phone(phone_number).receives(3).await;
    assert!(inbox.iter().any(|m| m.body == "This chat has expired. Text us any time to start a new one."), "{inbox:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_wait_limit_closes_chats_nobody_took() {
    let (app, now) = app().await;
    let phone = app.phone("+14155550153").to(SUPPORT);
    let chat = phone.texts("2").await.chat_id.expect("a chat");
    assert_eq!(app.admin().chat(&chat).await.status, "queued", "claims has no agent");
    now.fetch_add(10 * MINUTE, Ordering::SeqCst);
    let closed = chat_until(&app, &chat, "the wait limit", |c| c.status == "finished").await;
    assert_eq!(closed.end_reason.as_deref(), Some("queue_timeout"));
    let inbox = phone.receives(3).await;
    assert_eq!(inbox[2].body, "Sorry, no agent could take your chat. Please text us again later.");
}
