//! The business writes first: an agent starts a chat, an integration starts one or sends a
//! sessionless notification (`/api/v1/outbound/...`), and consent recorded through the API. Nothing
//! reaches an opted-out phone on any of these paths; quiet hours hold proactive messages in the
//! consumer's local time. The server runs on a clock the test sets, so the time of day is fixed.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use parley_server::clock::Clock;

use crate::harness::{ADMIN, SALES, SUPPORT, SUPPORT_MENU, TestApp, bodies, eventually, standard_setup};

/// 2026-06-01 16:00 UTC: noon in New York, nine in the morning in San Francisco.
const NOON_IN_NEW_YORK: i64 = 1_780_329_600_000;
const HOUR: i64 = 3_600_000;
const PHONE: &str = "+14155550140";
const NOTICE_START: &str = "Acme: Thanks for texting us";

async fn app_at(ms: i64, settings: Value) -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(ms));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    let mut setup = standard_setup();
    if let (Some(target), Some(extra)) = (setup["settings"].as_object_mut(), settings.as_object()) {
        target.extend(extra.clone());
    }
    app.apply_setup(&setup).await;
    (app, now)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> crate::harness::Reply {
    app.request(Method::POST, path, Some(token), Some(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_starts_a_chat_the_phone_gets_the_notice_first_and_its_answer_reaches_the_agent() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, json!({})).await;
    let bob = app.agent(&app.agent_token("bob").await);
    let started = post(
        &app,
        "/api/v1/outbound/chats",
        &bob.token,
        json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Hi, Bob from Acme about your ticket."}),
    )
    .await
    .expect_status(201)
    .body;
    assert_eq!(started["status"], "queued", "{started}");
    assert_eq!(started["send_at"], Value::Null, "{started}");
    let chat = &started["chat"];
    assert_eq!(
        (&chat["status"], &chat["origin"], &chat["agent"], &chat["queue"], &chat["start_type"]),
        (&json!("connected"), &json!("outbound"), &json!("bob"), &json!("tech"), &json!("outbound")),
        "{started}"
    );
    let chat_id = chat["id"].as_str().expect("a chat id").to_owned();

    let phone = app.phone(PHONE);
    let inbox = phone.receives(2).await;
    assert!(inbox[0].body.starts_with(NOTICE_START), "the opt-in notice comes first: {:?}", bodies(&inbox));
    assert_eq!(inbox[1].body, "Hi, Bob from Acme about your ticket.");

    let answer = phone.texts("Thanks, it works now").await;
    assert_eq!(answer.chat_id.as_deref(), Some(chat_id.as_str()), "the answer joins bob's chat");
    bob.say(&chat_id, "Great, closing the ticket.").await;
    let transcript = app.settled(&chat_id).await;
    assert_eq!(transcript.received(), vec!["Thanks, it works now"]);
    let authors: Vec<&str> = transcript.messages.iter().map(|m| m.author.as_str()).collect();
    assert_eq!(authors, vec!["system", "agent:bob", "consumer", "agent:bob"], "{transcript:#?}");
    assert_eq!(phone.receives(3).await.len(), 3, "no menu, no queue message: the chat is bob's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_chat_waits_in_the_menu_and_a_live_chat_is_joined_not_doubled() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, json!({})).await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Your order shipped."});
    let first = post(&app, "/api/v1/outbound/chats", ADMIN, body).await.expect_status(201).body;
    assert_eq!((&first["chat"]["status"], &first["chat"]["agent"]), (&json!("selecting"), &Value::Null), "{first}");
    let chat_id = first["chat"]["id"].as_str().expect("a chat").to_owned();
    let body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Tracking: 1Z999"});
    let second = post(&app, "/api/v1/outbound/chats", ADMIN, body).await.expect_status(201).body;
    assert_eq!(second["chat"]["id"], chat_id.as_str(), "the live chat is joined: {second}");

    let phone = app.phone(PHONE);
    phone.texts("where is it?").await;
    let inbox = phone.receives(4).await;
    assert_eq!(
        bodies(&inbox[1..]),
        vec!["Your order shipped.", "Tracking: 1Z999", SUPPORT_MENU],
        "the consumer's first answer gets the menu, not an 'I did not understand'"
    );
    phone.texts("2").await;
    let chat = app.admin().chat(&chat_id).await;
    assert_eq!((chat.status.as_str(), chat.queue.as_deref()), ("queued", Some("tech")), "{chat:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessionless_message_opens_no_chat_and_the_answer_is_a_first_text() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, json!({})).await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "Your code is 123456"});
    let sent = post(&app, "/api/v1/outbound/messages", ADMIN, body).await.expect_status(201).body;
    assert_eq!((&sent["chat"], &sent["status"]), (&Value::Null, &json!("queued")), "{sent}");
    let phone = app.phone(PHONE).to(SALES);
    let inbox = phone.receives(2).await;
    assert_eq!(inbox[1].body, "Your code is 123456", "{:?}", bodies(&inbox));
    assert!(app.admin().all_chats().await.is_empty(), "no chat was opened");
    let answer = phone.texts("I did not ask for a code").await;
    let chat = app.admin().chat(&answer.chat_id.expect("the answer opens a chat")).await;
    assert_eq!(chat.queue.as_deref(), Some("sales"), "{chat:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opted_out_phone_is_refused_on_every_outbound_path_until_it_opts_in() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, json!({})).await;
    let bob = app.agent(&app.agent_token("bob").await);
    let phone = app.phone(PHONE);
    phone.texts("STOP").await;
    let inbox = phone.receives(1).await;

    let chat = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "Sale today!"});
    let note = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "Your code is 1"});
    for (path, token, body) in [
        ("/api/v1/outbound/chats", ADMIN, &chat),
        ("/api/v1/outbound/chats", bob.token.as_str(), &chat),
        ("/api/v1/outbound/messages", ADMIN, &note),
    ] {
        let message = post(&app, path, token, body.clone()).await.expect_error(409, "opted_out");
        assert!(message.contains("START"), "{message}");
    }
    // Consent given on a paper form lifts the opt-out; it is recorded with its source.
    let consent = json!({"action": "opt_in", "number": SUPPORT, "source": "paper form #1234"});
    let view = post(&app, &format!("/api/v1/phones/{PHONE}/consent"), ADMIN, consent).await.expect_status(200).body;
    assert_eq!(view["opted_out"], false, "{view}");
    let last = view["history"].as_array().and_then(|h| h.last()).cloned().unwrap_or_default();
    assert_eq!((&last["change"], &last["source"]), (&json!("opted_in"), &json!("api: paper form #1234")), "{view}");
    post(&app, "/api/v1/outbound/messages", ADMIN, note).await.expect_status(201);
    // An opted-in phone is a new contact again: the opt-in notice goes first, then the code.
    let after = phone.receives(inbox.len() + 2).await;
    let new = bodies(&after[inbox.len()..]);
    assert!(new[0].starts_with(NOTICE_START), "{new:?}");
    assert_eq!(new[1], "Your code is 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_recorded_through_the_api_has_a_ledger_and_an_opt_out_ends_live_chats() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, json!({})).await;
    let alice = app.agent(&app.agent_token("alice").await);
    let phone = app.phone(PHONE);
    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    let path = format!("/api/v1/phones/{PHONE}/consent");

    for (body, code, needle) in [
        (json!({"action": "maybe", "number": SUPPORT, "source": "x"}), "validation_failed", "opt_in or opt_out"),
        (json!({"action": "opt_out", "number": SUPPORT, "source": "  "}), "validation_failed", "source"),
        (
            json!({"action": "opt_out", "number": "+15559999999", "source": "x"}),
            "validation_failed",
            "not a number of the setup",
        ),
        (json!({"action": "opt_out", "number": "555", "source": "x"}), "validation_failed", "number"),
    ] {
        let message = post(&app, &path, ADMIN, body).await.expect_error(422, code);
        assert!(message.contains(needle), "{message}");
    }
    post(&app, &path, &alice.token, json!({"action": "opt_out", "number": SUPPORT, "source": "call"}))
        .await
        .expect_error(403, "forbidden");
    app.request(Method::GET, &path, Some(&alice.token), None).await.expect_error(403, "forbidden");

    let body = json!({"action": "opt_out", "number": SUPPORT, "source": "phone call with Alice, ticket 77"});
    let view = post(&app, &path, ADMIN, body.clone()).await.expect_status(200).body;
    assert_eq!(view["opted_out"], true, "{view}");
    // Recording the same state again changes nothing and adds no ledger line.
    let again = post(&app, &path, ADMIN, body).await.expect_status(200).body;
    assert_eq!(again["history"], view["history"], "{again}");
    let changes: Vec<&str> = view["history"].as_array().unwrap().iter().filter_map(|e| e["change"].as_str()).collect();
    assert_eq!(changes, vec!["notice_sent", "opted_out"], "{view}");
    let ended = app.admin().chat(&chat).await;
    assert_eq!((ended.status.as_str(), ended.end_reason.as_deref()), ("finished", Some("opted_out")), "{ended:?}");
    let read = app.request(Method::GET, &path, Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(read["history"], view["history"], "{read}");
    alice.try_say(&chat, "hello?").await.expect_error(409, "opted_out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_requests_are_checked_field_by_field() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, json!({})).await;
    let bob = app.agent(&app.agent_token("bob").await);
    let ok = json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "hi"});
    let with = |field: &str, value: Value| {
        let mut body = ok.clone();
        body[field] = value;
        body
    };
    for (path, token, body, status, code, needle) in [
        (
            "/api/v1/outbound/chats",
            ADMIN,
            with("end_user_number", json!("0415 555")),
            422,
            "validation_failed",
            "end_user_number",
        ),
        (
            "/api/v1/outbound/chats",
            ADMIN,
            with("outbound_number", json!("+1")),
            422,
            "validation_failed",
            "outbound_number",
        ),
        ("/api/v1/outbound/chats", ADMIN, with("message", json!("  ")), 422, "validation_failed", "message"),
        ("/api/v1/outbound/chats", ADMIN, with("message", json!("x".repeat(1601))), 422, "validation_failed", "1600"),
        ("/api/v1/outbound/chats", ADMIN, with("agent_id", json!("nobody")), 422, "validation_failed", "agent_id"),
        ("/api/v1/outbound/chats", ADMIN, with("queue", json!("tech")), 422, "validation_failed", "queue"),
        (
            "/api/v1/outbound/chats",
            ADMIN,
            with("outbound_number", json!("+15559999999")),
            422,
            "number_not_set_up",
            "+15559999999",
        ),
        (
            "/api/v1/outbound/chats",
            bob.token.as_str(),
            with("agent_id", json!("alice")),
            403,
            "forbidden",
            "themselves",
        ),
        ("/api/v1/outbound/chats", bob.token.as_str(), with("queue", json!("billing")), 403, "forbidden", "queue"),
        (
            "/api/v1/outbound/chats",
            bob.token.as_str(),
            with("outbound_number", json!(SALES)),
            403,
            "forbidden",
            "queue",
        ),
        ("/api/v1/outbound/messages", bob.token.as_str(), ok.clone(), 403, "forbidden", "admin"),
        ("/api/v1/outbound/messages", ADMIN, with("extra", json!(1)), 422, "validation_failed", "extra"),
    ] {
        let reply = post(&app, path, token, body.clone()).await;
        let message = reply.expect_error(status, code);
        assert!(message.contains(needle), "{path} {body}: {message}");
    }
    app.request(Method::POST, "/api/v1/outbound/messages", None, Some(&ok)).await.expect_error(401, "unauthorized");
    assert!(app.phone(PHONE).inbox().await.is_empty(), "nothing refused was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_that_is_not_enabled_sends_nothing_proactive() {
    let (app, _) = app_at(NOON_IN_NEW_YORK, json!({})).await;
    let mut setup = standard_setup();
    setup["numbers"][1]["type"] = json!("toll_free");
    app.apply_setup(&setup).await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "hi"});
    let message = post(&app, "/api/v1/outbound/messages", ADMIN, body).await.expect_error(409, "number_not_enabled");
    assert!(message.contains("requested") && message.contains("/state"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_schedule_proactive_messages_for_the_morning_in_the_consumers_zone() {
    // 03:00 UTC: 22:00 in New York (quiet), 19:00 in San Francisco (allowed), 04:00 in London (quiet).
    let (app, now) = app_at(NOON_IN_NEW_YORK + 11 * HOUR, json!({})).await;
    let new_york = "+12125550140";
    let note = |to: &str, no_delay: bool| json!({"end_user_number": to, "outbound_number": SALES, "message": format!("for {to}"), "no_delay": no_delay});
    let held = post(&app, "/api/v1/outbound/messages", ADMIN, note(new_york, false)).await.expect_status(201).body;
    assert_eq!(held["status"], "scheduled", "{held}");
    // 08:00 in New York on 2026-06-02 is 12:00 UTC (daylight saving time).
    assert_eq!(held["send_at"], "2026-06-02T12:00:00.000Z", "{held}");
    let refused = post(&app, "/api/v1/outbound/messages", ADMIN, note(new_york, true)).await;
    let message = refused.expect_error(409, "quiet_hours");
    assert!(message.contains("America/New_York") && message.contains("2026-06-02T12:00:00.000Z"), "{message}");
    let sent = post(&app, "/api/v1/outbound/messages", ADMIN, note(PHONE, true)).await.expect_status(201).body;
    assert_eq!(sent["status"], "queued", "San Francisco is not in quiet hours: {sent}");
    app.phone(PHONE).receives(2).await;

    let phone = app.phone(new_york).to(SALES);
    assert!(phone.inbox().await.is_empty(), "nothing goes out at night");
    now.store(NOON_IN_NEW_YORK + 20 * HOUR - 1, Ordering::SeqCst);
    assert!(phone.inbox().await.is_empty(), "still a minute before eight");
    now.store(NOON_IN_NEW_YORK + 20 * HOUR, Ordering::SeqCst);
    let inbox = phone.receives(2).await;
    assert_eq!(bodies(&inbox)[1], format!("for {new_york}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_message_is_never_sent_after_the_phone_opts_out() {
    let (app, now) = app_at(NOON_IN_NEW_YORK + 11 * HOUR, json!({})).await;
    let new_york = "+12125550141";
    let body = json!({"end_user_number": new_york, "outbound_number": SALES, "message": "Sale tomorrow"});
    let held = post(&app, "/api/v1/outbound/messages", ADMIN, body).await.expect_status(201).body;
    assert_eq!(held["status"], "scheduled", "{held}");
    let phone = app.phone(new_york).to(SALES);
    phone.texts("STOP").await;
    let inbox = phone.receives(1).await;
    assert!(inbox[0].body.contains("unsubscribed"), "{:?}", bodies(&inbox));
    now.store(NOON_IN_NEW_YORK + 21 * HOUR, Ordering::SeqCst);
    let id = held["message_id"].as_str().expect("a message id").to_owned();
    // The outbox takes the message when it comes due and suppresses it: the phone opted out since.
    eventually("the scheduled message to be suppressed", || async {
        let path = format!("/api/v1/outbound/messages/{id}");
        let message = app.request(Method::GET, &path, Some(ADMIN), None).await.expect_status(200).body;
        if message["status"] == "suppressed" { Ok(message) } else { Err(message.to_string()) }
    })
    .await;
    assert_eq!(phone.inbox().await.len(), 1, "only the opt-out confirmation reached the phone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_follow_the_settings_and_spare_replies_in_consumer_chats() {
    let settings = json!({"quiet_hours": {"start": "20:00", "end": "09:30", "time_zone": "UTC"}});
    let (app, _) = app_at(NOON_IN_NEW_YORK + 11 * HOUR, settings).await;
    let stored = app.setup().await;
    assert_eq!(stored["settings"]["quiet_hours"]["start"], "20:00", "{stored}");
    // The consumer writes at 22:00 New York time: bob's reply in their chat goes out at once.
    let bob = app.agent(&app.agent_token("bob").await);
    let new_york = "+12125550142";
    let phone = app.phone(new_york);
    let chat = phone.texts("tech").await.chat_id.expect("a chat");
    bob.set_status("available").await;
    bob.accept(&chat).await;
    bob.say(&chat, "We are here late for you").await;
    let transcript = app.settled(&chat).await;
    assert!(transcript.sent().contains(&"We are here late for you".to_owned()), "{transcript:#?}");
    // A new proactive chat waits for 09:30 in New York (13:30 UTC).
    bob.end(&chat).await;
    let body = json!({"end_user_number": new_york, "outbound_number": SUPPORT, "message": "Follow-up"});
    let held = post(&app, "/api/v1/outbound/chats", &bob.token, body).await.expect_status(201).body;
    assert_eq!(
        (&held["status"], &held["send_at"]),
        (&json!("scheduled"), &json!("2026-06-02T13:30:00.000Z")),
        "{held}"
    );

    let off = json!({"quiet_hours": {"enabled": false}});
    let mut setup = standard_setup();
    setup["settings"].as_object_mut().unwrap().extend(off.as_object().unwrap().clone());
    app.apply_setup(&setup).await;
    let body = json!({"end_user_number": "+12125550143", "outbound_number": SALES, "message": "now"});
    let sent = post(&app, "/api/v1/outbound/messages", ADMIN, body).await.expect_status(201).body;
    assert_eq!(sent["status"], "queued", "quiet hours turned off: {sent}");
}
