//! What a number is for, through the API: an outbound-only number answers texts with its
//! `unmonitored` message and opens no chat, an incoming-only number is refused as a sender (422 naming
//! `/outbound_number`), `GET /api/v1/me/numbers` lists where an agent may start outbound chats, a
//! direct number's chat goes to its agent alone (waiting while they are offline), and a reply to a
//! sessionless notification on an auto-reply number shows on the notification's status page.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use parley_server::clock::Clock;

use crate::harness::{ADMIN, SALES, SUPPORT, TestApp, bodies, eventually, standard_setup};

/// 2026-06-01 16:00 UTC: noon in New York, nine in the morning in San Francisco (no quiet hours).
const NOON_IN_NEW_YORK: i64 = 1_780_329_600_000;
const HOUR: i64 = 3_600_000;
const PHONE: &str = "+14155550177";
/// Sends receipts and reminders; nobody reads what comes back.
const RECEIPTS: &str = "+15550003000";
/// Takes chats for tech; never sends first.
const INTAKE: &str = "+15550004000";
/// Carol's direct number.
const CAROL_DIRECT: &str = "+15550005000";
const UNMONITORED: &str = "Acme: This number does not receive replies. Reply HELP for help, STOP to opt out.";

async fn app_at(ms: i64, change: impl FnOnce(&mut Value)) -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(ms));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    let mut setup = standard_setup();
    change(&mut setup);
    app.apply_setup(&setup).await;
    (app, now)
}

fn with_role_numbers(setup: &mut Value) {
    let numbers = setup["numbers"].as_array_mut().expect("numbers");
    numbers.push(
        json!({"number": RECEIPTS, "label": "Receipts", "carrier": "sim", "queues": ["billing"], "role": "outbound"}),
    );
    numbers
        .push(json!({"number": INTAKE, "label": "Intake", "carrier": "sim", "queues": ["tech"], "role": "incoming"}));
}

fn with_carol_direct(setup: &mut Value) {
    setup["agents"].as_array_mut().expect("agents").push(json!({
        "id": "carol", "name": "Carol White", "capacity": 2, "greeting": "Hi, this is {agent_first_name}."
    }));
    setup["numbers"].as_array_mut().expect("numbers").push(json!({
        "number": CAROL_DIRECT, "label": "Carol", "carrier": "sim", "agent": "carol"
    }));
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> crate::harness::Reply {
    app.request(Method::POST, path, Some(token), Some(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_roles_outbound_only_answers_unmonitored_and_incoming_only_never_sends() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, with_role_numbers).await;
    // The setup round-trips the roles.
    let setup = app.setup().await;
    let roles: Vec<&Value> = setup["numbers"].as_array().unwrap().iter().map(|n| &n["role"]).collect();
    assert_eq!(roles, [&Value::Null, &Value::Null, &json!("outbound"), &json!("incoming")], "{setup}");

    // An incoming-only number is no sender, for a notification or a chat, an admin or an agent.
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    for (path, token) in [
        ("/api/v1/outbound/messages", ADMIN),
        ("/api/v1/outbound/chats", ADMIN),
        ("/api/v1/outbound/chats", bob.token.as_str()),
    ] {
        let body = json!({"end_user_number": PHONE, "outbound_number": INTAKE, "message": "Hi"});
        let reply = post(&app, path, token, body).await;
        let message = reply.expect_error(422, "validation_failed");
        assert!(message.contains("role \"incoming\""), "{path}: {message}");
        assert_eq!(reply.body["error"]["details"][0]["field"], "/outbound_number", "{path}: {}", reply.body);
    }
    assert!(app.phone(PHONE).inbox().await.is_empty(), "nothing was sent or stored to be sent");

    // A text to the outbound-only number opens no chat and gets the unmonitored message.
    let phone = app.phone(PHONE).to(RECEIPTS);
    let ack = phone.texts("Is anyone there?").await;
    assert_eq!(ack.chat_id, None, "no chat on an outbound-only number");
    let inbox = phone.receives(1).await;
    assert_eq!(bodies(&inbox), [UNMONITORED]);
    // STOP still opts out, and the opt-out holds on every number.
    phone.texts("STOP").await;
    let inbox = phone.receives(2).await;
    assert!(inbox[1].body.contains("unsubscribed"), "{:?}", bodies(&inbox));
    let body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Hi"});
    post(&app, "/api/v1/outbound/messages", ADMIN, body).await.expect_error(409, "opted_out");

    // Where agents may start outbound chats: numbers that send with a queue of theirs.
    let listed = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|n| n["number"].as_str().unwrap().to_owned()).collect()
    };
    let mine = app.request(Method::GET, "/api/v1/me/numbers", Some(&alice.token), None).await.expect_status(200).body;
    assert_eq!(listed(mine.clone()), [SUPPORT, SALES, RECEIPTS], "{mine}");
    assert_eq!(mine[0]["queues"], json!(["billing"]), "only alice's queues of the menu: {mine}");
    let bobs = app.request(Method::GET, "/api/v1/me/numbers", Some(&bob.token), None).await.expect_status(200).body;
    assert_eq!(listed(bobs.clone()), [SUPPORT], "the incoming-only tech number is not offered: {bobs}");
    let all = app.request(Method::GET, "/api/v1/me/numbers", Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(listed(all), [SUPPORT, SALES, RECEIPTS]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_roles_bad_direct_numbers_are_refused_all_at_once_and_nothing_is_stored() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, |_| {}).await;
    let mut bad = standard_setup();
    let numbers = bad["numbers"].as_array_mut().unwrap();
    numbers.push(json!({"number": "+15550005000", "carrier": "sim", "agent": "zed"}));
    numbers.push(json!({"number": "+15550005001", "carrier": "sim", "agent": "bob", "fallback_queue": "nowhere"}));
    numbers.push(json!({"number": "+15550005002", "carrier": "sim", "agent": "bob", "queues": ["tech"]}));
    numbers.push(json!({"number": "+15550005003", "carrier": "sim", "queues": ["tech"], "role": "sometimes", "sessionless_window_hours": 0}));
    let reply = app.try_apply_setup(&bad).await;
    let message = reply.expect_error(422, "validation_failed");
    let fields: Vec<&str> =
        reply.body["error"]["details"].as_array().unwrap().iter().filter_map(|d| d["field"].as_str()).collect();
    for field in [
        "/numbers/2/agent",
        "/numbers/3/fallback_queue",
        "/numbers/4/queues",
        "/numbers/5/role",
        "/numbers/5/sessionless_window_hours",
    ] {
        assert!(fields.contains(&field), "{field} missing in {fields:?}: {message}");
    }
    assert!(message.contains("agent \"bob\": direct_numbers"), "two direct numbers without the opt-in: {message}");
    assert_eq!(app.setup().await["numbers"].as_array().unwrap().len(), 2, "nothing was applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_roles_a_direct_number_chat_waits_for_its_agent_and_reaches_only_them() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, with_carol_direct).await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let carol = app.agent(&app.agent_token("carol").await);

    // Carol is offline: the chat waits for her, in no queue, with her greeting and no menu.
    let phone = app.phone(PHONE).to(CAROL_DIRECT);
    let ack = phone.texts("Hi Carol, about my renovation").await;
    let chat_id = ack.chat_id.expect("a chat on a direct number");
    let inbox = phone.receives(2).await;
    assert_eq!(inbox[1].body, "Hi, this is Carol.", "{:?}", bodies(&inbox));
    let chat = app.admin().chat(&chat_id).await;
    assert_eq!((chat.status.as_str(), chat.queue.as_deref(), chat.agent.as_deref()), ("queued", None, None));
    // Nobody else takes it or even sees it.
    alice.try_accept(&chat_id).await.expect_error(403, "forbidden");
    assert!(alice.all_chats().await.iter().all(|c| c.id != chat_id), "alice does not see carol's chat");
    assert_eq!(carol.all_chats().await.iter().filter(|c| c.id == chat_id).count(), 1, "carol sees it");

    // Carol logs in: it is offered to her, she takes it and answers.
    carol.set_status("available").await;
    eventually("the chat to be offered to carol", || async {
        let chat = carol.chat(&chat_id).await;
        if chat.status == "offered" && chat.agent.as_deref() == Some("carol") {
            Ok(())
        } else {
            Err(format!("{chat:?}"))
        }
    })
    .await;
    let chat = carol.accept(&chat_id).await;
    assert_eq!((chat.status.as_str(), chat.queue.as_deref()), ("connected", None));
    carol.say(&chat_id, "Hello! Let me look at your plans.").await;
    let inbox = phone.receives(4).await;
    assert_eq!(
        inbox.last().map(|m| m.body.as_str()),
        Some("Hello! Let me look at your plans."),
        "{:?}",
        bodies(&inbox)
    );
    assert!(bodies(&inbox).iter().all(|b| !b.contains("Reply 1")), "no menu on a direct number: {:?}", bodies(&inbox));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_roles_a_notification_reply_gets_the_auto_reply_and_shows_on_its_status_page() {
    let (app, now) = app_at(NOON_IN_NEW_YORK, |setup| {
        setup["numbers"][0]["sessionless_reply"] = json!("auto_reply");
        setup["numbers"][0]["sessionless_window_hours"] = json!(24);
    })
    .await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Your order shipped."});
    let sent = post(&app, "/api/v1/outbound/messages", ADMIN, body).await.expect_status(201).body;
    let id = sent["message_id"].as_str().unwrap().to_owned();
    let phone = app.phone(PHONE);
    phone.receives(2).await;

    let reply = phone.texts("Where is it now?").await;
    assert_eq!(reply.chat_id, None, "a reply within the window opens no chat");
    let inbox = phone.receives(3).await;
    assert_eq!(inbox[2].body, UNMONITORED);
    let status = app
        .request(Method::GET, &format!("/api/v1/outbound/messages/{id}"), Some(ADMIN), None)
        .await
        .expect_status(200)
        .body;
    let replies = status["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "{status}");
    assert_eq!(
        (&replies[0]["body"], &replies[0]["message_id"]),
        (&json!("Where is it now?"), &json!(reply.message_id))
    );
    assert!(replies[0]["received_at"].as_str().is_some_and(|t| t.starts_with("2026-06-01T16:00")), "{status}");

    // After the window the phone's text is a first text again: a chat with the menu.
    now.fetch_add(25 * HOUR, Ordering::SeqCst);
    let later = phone.texts("hello?").await;
    assert!(later.chat_id.is_some(), "after the window a text opens a chat");
    let status = app
        .request(Method::GET, &format!("/api/v1/outbound/messages/{id}"), Some(ADMIN), None)
        .await
        .expect_status(200)
        .body;
    assert_eq!(status["replies"].as_array().unwrap().len(), 1, "{status}");
}
