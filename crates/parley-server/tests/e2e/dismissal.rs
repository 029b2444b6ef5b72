//! Dismissal and resume over the API: the connected agent dismisses a chat (it leaves their list and
//! waits under upcoming), the consumer's next text brings it back with the `dismissed_resume` message,
//! the business resumes one, the timer dismisses with a notice first, and every refusal is a 409 (or
//! 403) with its own code.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use parley_server::clock::Clock;

use crate::harness::{Chat, TestApp, eventually};

const T0: i64 = 1_780_329_600_000;
const MINUTE: i64 = 60_000;
const SUPPORT: &str = "+15550007300";

async fn app() -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "carrier": "sim", "queues": ["sales", "tech"]}],
        "queues": [
            {"id": "sales", "name": "Sales", "keywords": ["1"],
             "dismissal": {"after_minutes": 30, "notice_minutes_before": 5}},
            {"id": "tech", "name": "Tech", "keywords": ["2"]}
        ],
        "agents": [
            {"id": "alice", "name": "Alice", "queues": ["sales"], "capacity": 1},
            {"id": "carol", "name": "Carol", "queues": ["sales"], "capacity": 1},
            {"id": "bob", "name": "Bob", "queues": ["tech"], "capacity": 1}
        ],
        "settings": {"brand": "Acme", "quiet_hours": {"enabled": false}}
    }))
    .await;
    (app, now)
}

async fn post(app: &TestApp, path: &str, token: &str) -> crate::harness::Reply {
    app.request(Method::POST, path, Some(token), Some(&json!({}))).await
}

async fn chat_until(app: &TestApp, id: &str, what: &str, check: impl Fn(&Chat) -> bool) -> Chat {
    eventually(what, || async {
        let chat = app.admin().chat(id).await;
        if check(&chat) { Ok(chat) } else { Err(format!("{chat:?}")) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dismissal_by_the_agent_frees_them_and_the_consumers_text_brings_the_chat_back() {
    let (app, _) = app().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let carol = app.agent(&app.agent_token("carol").await);
    let bob = app.agent(&app.agent_token("bob").await);
    alice.set_status("available").await;
    let phone = app.phone("+14155550170").to(SUPPORT);
    let chat = phone.texts("1").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    let dismiss = format!("/api/v1/chats/{chat}/dismiss");
    let message = post(&app, &dismiss, &alice.token).await.expect_error(409, "not_dismissable");
    assert!(message.contains("both the consumer and the agent"), "{message}");
    alice.say(&chat, "Here is your quote").await;
    post(&app, &dismiss, &carol.token).await.expect_error(409, "conflict");
    post(&app, &dismiss, &bob.token).await.expect_error(403, "forbidden");
    let mut events = app.events(&alice.token, None).await;

    let dismissed = post(&app, &dismiss, &alice.token).await.expect_status(200).body;
    assert_eq!((&dismissed["status"], &dismissed["agent"]), (&json!("dismissed"), &json!("alice")), "{dismissed}");
    assert!(dismissed["dismissed_at"].is_string(), "{dismissed}");
    let event = events.until(|e| e.kind == "chat.dismissed").await.pop().expect("the event");
    assert_eq!((&event.data["by"], &event.data["reason"]), (&json!("alice"), &json!("by_agent")), "{event:?}");
    assert_eq!(event.data["chat_status"], json!("dismissed"), "{event:?}");
    assert!(alice.chats("ongoing").await.is_empty(), "a dismissed chat leaves the agent's list");
    let upcoming: Vec<(String, String)> = alice.chats("upcoming").await.into_iter().map(|c| (c.id, c.status)).collect();
    assert_eq!(upcoming, vec![(chat.clone(), "dismissed".to_owned())]);
    post(&app, &dismiss, &alice.token).await.expect_error(409, "conflict");
    // Alice's capacity (1) is free again: a new chat is offered to her.
    let second = app.phone("+14155550171").to(SUPPORT).texts("1").await.chat_id.expect("a chat");
    assert_eq!(app.admin().chat(&second).await.agent.as_deref(), Some("alice"));
    alice.accept(&second).await;

    let before = phone.inbox().await.len();
    phone.texts("one more question").await;
    let back = chat_until(&app, &chat, "the chat to be back in its queue", |c| c.status != "dismissed").await;
    // Alice is busy with the second chat: the chat waits in its queue, with its history, for her or carol.
    assert_eq!((back.status.as_str(), back.queue.as_deref()), ("queued", Some("sales")));
    let inbox = phone.receives(before + 1).await;
    assert_eq!(
        inbox[before].body, "Welcome back! Your chat is back in the Sales queue; an agent will answer shortly.",
        "no menu: the dismissed_resume message"
    );
    let resumed = events.until(|e| e.kind == "chat.resumed").await.pop().expect("the event");
    assert_eq!(resumed.data["by"], json!("consumer"), "{resumed:?}");
    carol.set_status("available").await;
    let offered = chat_until(&app, &chat, "the chat to be offered", |c| c.status == "offered").await;
    assert_eq!(offered.agent.as_deref(), Some("carol"));
    let taken = carol.accept(&chat).await;
    assert_eq!(taken.start_type.as_deref(), Some("manually_answered"), "the start type stays the first answer's");
    let transcript = app.settled(&chat).await;
    assert!(transcript.received().contains(&"one more question".to_owned()), "{:?}", transcript.received());
    assert!(transcript.sent().contains(&"Here is your quote".to_owned()), "the history stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dismissal_resume_by_the_business_and_its_refusals() {
    let (app, _) = app().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    alice.set_status("available").await;
    bob.set_status("available").await;
    let chat = app.phone("+14155550172").to(SUPPORT).texts("1").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    alice.say(&chat, "Anything else?").await;
    let resume = format!("/api/v1/chats/{chat}/resume");
    post(&app, &resume, &alice.token).await.expect_error(409, "not_dismissed");
    let dismissed = post(&app, &format!("/api/v1/chats/{chat}/dismiss"), crate::harness::ADMIN).await;
    assert_eq!(dismissed.expect_status(200).body["status"], json!("dismissed"));
    post(&app, &resume, &bob.token).await.expect_error(403, "forbidden");
    let resumed: Value = post(&app, &resume, &alice.token).await.expect_status(200).body;
    // Alice had it and has room: she is asked first.
    assert_eq!((&resumed["status"], &resumed["agent"]), (&json!("offered"), &json!("alice")), "{resumed}");
    post(&app, &resume, &alice.token).await.expect_error(409, "not_dismissed");

    // Tech sets no dismissal (nor do its parents or the settings).
    let tech = app.phone("+14155550173").to(SUPPORT).texts("2").await.chat_id.expect("a chat");
    bob.accept(&tech).await;
    bob.say(&tech, "Hi").await;
    let refused = post(&app, &format!("/api/v1/chats/{tech}/dismiss"), &bob.token).await;
    let message = refused.expect_error(409, "dismissal_off");
    assert!(message.contains("does not dismiss"), "{message}");
    post(&app, "/api/v1/chats/0194403a-6f1e-7c52-9d0e-2b8f0a3c4d5e/dismiss", &bob.token)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dismissal_by_the_timer_comes_after_its_notice_and_runs_no_inactivity_close() {
    let (app, now) = app().await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = app.phone("+14155550174").to(SUPPORT);
    let chat = phone.texts("1").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    alice.say(&chat, "Your order shipped").await;
    let before = phone.receives(4).await.len();
    let mut events = app.events(&app.admin().token, None).await;

    // The inactivity warning (15 min by default) does not run: this queue dismisses instead.
    now.fetch_add(25 * MINUTE - 1, Ordering::SeqCst);
    app.outbox_drained().await;
    assert_eq!(phone.inbox().await.len(), before, "nothing before the notice");
    now.fetch_add(1, Ordering::SeqCst);
    let noticed = phone.receives(before + 1).await;
    assert_eq!(
        noticed[before].body,
        "We will set this chat aside in 5 minutes unless you reply. Text us any time to pick it up again."
    );
    now.fetch_add(5 * MINUTE, Ordering::SeqCst);
    let dismissed = chat_until(&app, &chat, "the chat to be dismissed", |c| c.status == "dismissed").await;
    assert_eq!(dismissed.ended_at, None, "the session lives on");
    let event = events.until(|e| e.kind == "chat.dismissed").await.pop().expect("the event");
    assert_eq!((&event.data["by"], &event.data["reason"]), (&json!("system"), &json!("consumer_silent")));
    // Fired once: more time (short of the session's day) changes nothing.
    now.fetch_add(60 * MINUTE, Ordering::SeqCst);
    app.outbox_drained().await;
    assert_eq!(phone.inbox().await.len(), before + 1);
    assert_eq!(app.admin().chat(&chat).await.status, "dismissed");
}
