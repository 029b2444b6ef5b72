//! The chat lifecycle's acceptance scenario, end to end on one server: two business numbers, a
//! two-level menu, three agents, a language switch, an offer that times out, a declined and an
//! accepted transfer, a restart with timers pending, an inactivity warning and close, and a session
//! that expires so that the next text opens a new chat. Time only moves when the test moves the
//! server's clock; every count of the phone's inbox is exact, so a message lost or sent twice fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use parley_server::clock::Clock;

use crate::harness::{ADMIN, Phone, Reply, SseEvent, TestApp, bodies, eventually};

/// 2026-06-01 16:00 UTC, a Monday.
const T0: i64 = 1_780_329_600_000;
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60_000;
/// A menu: support (a submenu of billing and tech) or sales.
const MAIN: &str = "+15550008100";
/// Sales only, answered automatically; its sessions last an hour, with no inactivity warning.
const SALES_LINE: &str = "+15550008200";
const PHONE: &str = "+14155550180";

const NOTICE: &str = "Acme: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.";
const TOP_MENU: &str = "How can we help? Reply 1 for Support, 2 for Sales.";
const SUBMENU: &str = "How can we help? Reply 1 for Billing, 2 for Tech.";
const LANGUAGE_CHANGED: &str = "Listo, le escribiremos en español.";
const SUBMENU_ES: &str = "¿En qué podemos ayudarle? Responda 1 para Facturación, 2 para Soporte técnico.";
const QUEUED_ES: &str =
    "Gracias. Está en la cola de Soporte técnico; un agente le responderá pronto. Responda EXIT para salir.";
const WARNING_ES: &str = "¿Sigue ahí? Este chat se cierra en 5 minutos si no responde.";
const CLOSED_ES: &str = "Cerramos este chat porque no tuvimos respuesta. Escríbanos cuando quiera.";

fn setup() -> Value {
    json!({
        "numbers": [
            {"number": MAIN, "label": "Support", "carrier": "sim", "queues": ["support", "sales"]},
            {"number": SALES_LINE, "label": "Sales", "carrier": "sim", "queues": ["sales"]}
        ],
        "queues": [
            {"id": "support", "name": "Support", "keywords": ["1"]},
            {"id": "billing", "name": "Billing", "keywords": ["1"], "parent": "support",
             "languages": {"es": {"name": "Facturación"}}},
            {"id": "tech", "name": "Tech", "keywords": ["2"], "parent": "support",
             "languages": {"es": {"name": "Soporte técnico"}}},
            {"id": "sales", "name": "Sales", "keywords": ["2"], "auto_answer": true,
             "timers": {"session_expiration_minutes": 60, "inactivity_warning_minutes": 0}}
        ],
        "agents": [
            {"id": "alice", "name": "Alice Smith", "queues": ["billing", "sales"], "capacity": 3},
            {"id": "bob", "name": "Bob Jones", "queues": ["tech"], "capacity": 3},
            {"id": "carol", "name": "Carol White", "queues": ["tech"], "capacity": 3, "languages": ["es", "en"]}
        ],
        "settings": {
            "brand": "Acme",
            "quiet_hours": {"enabled": false},
            "timers": {"offer_timeout_seconds": 30},
            "languages": {"es": {"name": "español", "messages": {
                "language_changed": "Listo, le escribiremos en {language}.",
                "menu": "¿En qué podemos ayudarle? Responda {menu}.",
                "menu_choice": "{keywords} para {queue}",
                "menu_or": "o",
                "queued": "Gracias. Está en la cola de {queue}; un agente le responderá pronto. Responda {end_command} para salir.",
                "connected": "Le atiende {agent_first_name}.",
                "inactivity_warning": "¿Sigue ahí? Este chat se cierra en {minutes} minutos si no responde.",
                "inactivity_closed": "Cerramos este chat porque no tuvimos respuesta. Escríbanos cuando quiera."
            }}}
        }
    })
}

/// The chat as an admin reads it, with every field of the view.
async fn chat(app: &TestApp, id: &str) -> Value {
    app.admin().try_chat(id).await.expect_status(200).body
}

/// Waits until the chat satisfies `check`; returns it.
async fn chat_until(app: &TestApp, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || async {
        let c = chat(app, id).await;
        if check(&c) { Ok(c) } else { Err(c.to_string()) }
    })
    .await
}

/// The fields of a chat that this scenario follows: status, queue, agent, language, start type.
fn state(c: &Value) -> (String, Value, Value, String, Value) {
    let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    (text("status"), c["queue"].clone(), c["agent"].clone(), text("language"), c["start_type"].clone())
}

/// Waits until the phone has received `n` messages, lets every due timer and queued message run out,
/// and checks that there are still exactly `n`: nothing more is on its way. Returns the bodies.
async fn inbox_exactly(app: &TestApp, phone: &Phone<'_>, n: usize) -> Vec<String> {
    phone.receives(n).await;
    app.outbox_drained().await;
    let inbox = bodies(&phone.inbox().await);
    assert_eq!(inbox.len(), n, "{inbox:#?}");
    inbox
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.request(Method::POST, path, Some(token), Some(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_lives_through_menus_languages_offers_transfers_a_restart_and_its_timers() {
    let now = Arc::new(AtomicI64::new(T0));
    let mut app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&setup()).await;
    let mut tokens = Vec::new();
    for agent in ["alice", "bob", "carol"] {
        let token = app.agent_token(agent).await;
        app.agent(&token).set_status("available").await;
        tokens.push(token);
    }
    let (alice_token, bob_token, carol_token) = (tokens[0].clone(), tokens[1].clone(), tokens[2].clone());

    let (main_chat, sales_chat) = {
        let (alice, bob, carol) = (app.agent(&alice_token), app.agent(&bob_token), app.agent(&carol_token));
        let phone = app.phone(PHONE).to(MAIN);

        // A one-word greeting tells no language: the chat is in English, with the top menu.
        let main_chat = phone.texts("hi").await.chat_id.expect("the first text opens a chat");
        assert_eq!(inbox_exactly(&app, &phone, 2).await, [NOTICE, TOP_MENU]);
        assert_eq!(state(&chat(&app, &main_chat).await).0, "selecting");
        assert_eq!(chat(&app, &main_chat).await["language"], "en");

        // The submenu, then LANG es: the confirmation and the same submenu, in the Spanish texts.
        phone.texts("1").await;
        assert_eq!(inbox_exactly(&app, &phone, 3).await[2], SUBMENU);
        phone.texts("LANG es").await;
        let inbox = inbox_exactly(&app, &phone, 5).await;
        assert_eq!(inbox[3..], [LANGUAGE_CHANGED, SUBMENU_ES]);
        let spanish = chat(&app, &main_chat).await;
        assert_eq!((spanish["status"].as_str(), spanish["language"].as_str()), (Some("selecting"), Some("es")));

        // Tech: bob and carol are equally free, and carol writes Spanish, so she is asked first.
        let ack = phone.texts("2").await;
        assert_eq!(ack.chat_id.as_deref(), Some(main_chat.as_str()), "the answer joins the open chat");
        assert_eq!(inbox_exactly(&app, &phone, 6).await[5], QUEUED_ES);
        let offered = chat(&app, &main_chat).await;
        assert_eq!(
            state(&offered),
            ("offered".into(), json!("tech"), json!("carol"), "es".into(), Value::Null),
            "{offered}"
        );
        assert!(offered["queued_at"].is_string() && offered["answered_at"].is_null(), "{offered}");

        // Carol lets the offer ring out: at 29 s it is still hers, at 30 s it moves to bob.
        now.fetch_add(29 * SECOND, Ordering::SeqCst);
        app.outbox_drained().await;
        assert_eq!(chat(&app, &main_chat).await["agent"], "carol", "29 s: still carol's");
        now.fetch_add(SECOND, Ordering::SeqCst);
        let moved = chat_until(&app, &main_chat, "the offer to move to bob", |c| c["agent"] == "bob").await;
        assert_eq!(moved["status"], "offered", "{moved}");
        carol.try_accept(&main_chat).await.expect_error(409, "conflict");
        let connected = bob.accept(&main_chat).await;
        assert_eq!(
            (connected.status.as_str(), connected.start_type.as_deref()),
            ("connected", Some("manually_answered"))
        );
        assert!(chat(&app, &main_chat).await["answered_at"].is_string());
        bob.say(&main_chat, "Hola, soy Bob. ¿En qué le ayudo?").await;
        let inbox = inbox_exactly(&app, &phone, 8).await;
        assert_eq!(inbox[6..], ["Le atiende Bob.", "Hola, soy Bob. ¿En qué le ayudo?"]);
        phone.texts("Me cobraron dos veces la factura").await;

        // Bob asks carol to take over; she declines and the chat stays his.
        let transfer = format!("/api/v1/chats/{main_chat}/transfer");
        post(&app, &transfer, &bob_token, json!({"to_agent": "carol", "note": "Cobro doble"})).await.expect_status(202);
        post(&app, &format!("{transfer}/decline"), &carol_token, json!({})).await.expect_status(200);
        let declined = chat(&app, &main_chat).await;
        assert_eq!((&declined["agent"], &declined["queue"]), (&json!("bob"), &json!("tech")), "{declined}");

        // Then to billing, where alice takes it. The chat keeps its language in its new queue.
        post(&app, &transfer, &bob_token, json!({"to_queue": "billing", "note": "Factura"})).await.expect_status(202);
        let taken = post(&app, &format!("{transfer}/accept"), &alice_token, json!({})).await.expect_status(200).body;
        assert_eq!(
            state(&taken),
            ("connected".into(), json!("billing"), json!("alice"), "es".into(), json!("manually_answered")),
            "{taken}"
        );
        bob.try_say(&main_chat, "¿Sigue ahí?").await.expect_error(403, "forbidden");
        alice.say(&main_chat, "Hola, soy Alice. Reviso su factura.").await;
        assert_eq!(inbox_exactly(&app, &phone, 9).await[8], "Hola, soy Alice. Reviso su factura.");

        // The same phone texts the sales line: a chat of its own, in English, connected at once.
        let sales = app.phone(PHONE).to(SALES_LINE);
        let sales_chat = sales.texts("Do you ship to Canada?").await.chat_id.expect("a second chat");
        assert_ne!(sales_chat, main_chat);
        let inbox = inbox_exactly(&app, &phone, 12).await;
        assert_eq!(
            inbox[9..],
            [
                NOTICE,
                "Thanks! You are in the Sales queue. An agent will answer shortly. Reply EXIT to leave.",
                "You are now chatting with Alice Smith."
            ]
        );
        let auto = chat(&app, &sales_chat).await;
        assert_eq!(
            state(&auto),
            ("connected".into(), json!("sales"), json!("alice"), "en".into(), json!("auto_answered")),
            "{auto}"
        );
        (main_chat, sales_chat)
    };

    // A restart with two timers pending: the main chat's inactivity warning and the sales chat's
    // session expiry. Nothing is lost and nothing is sent again.
    let before = (chat(&app, &main_chat).await, chat(&app, &sales_chat).await);
    app.restart().await;
    let phone = app.phone(PHONE).to(MAIN);
    let alice = app.agent(&alice_token);
    inbox_exactly(&app, &phone, 12).await;
    assert_eq!((chat(&app, &main_chat).await, chat(&app, &sales_chat).await), before, "the chats are as they were");

    // The conversation goes on where it was.
    let ack = phone.texts("Gracias, sigo aquí").await;
    assert_eq!(ack.chat_id.as_deref(), Some(main_chat.as_str()));
    alice.say(&main_chat, "Listo, le devolvimos el cobro.").await;
    assert_eq!(inbox_exactly(&app, &phone, 13).await[12], "Listo, le devolvimos el cobro.");

    // Fifteen quiet minutes: the warning, in Spanish. Five more: the chat closes, once.
    now.fetch_add(15 * MINUTE, Ordering::SeqCst);
    assert_eq!(inbox_exactly(&app, &phone, 14).await[13], WARNING_ES);
    now.fetch_add(5 * MINUTE - 1, Ordering::SeqCst);
    app.outbox_drained().await;
    assert_eq!(chat(&app, &main_chat).await["status"], "connected", "a millisecond before the close");
    now.fetch_add(1, Ordering::SeqCst);
    let closed = chat_until(&app, &main_chat, "the silent chat to close", |c| c["status"] == "finished").await;
    assert_eq!((&closed["end_reason"], &closed["ended_by"]), (&json!("consumer_silent"), &json!("system")));
    assert_eq!(closed["agent"], "alice", "the agent is kept for reports");
    assert_eq!(inbox_exactly(&app, &phone, 15).await[14], CLOSED_ES);

    // The sales session is an hour old at T0 + 30 s + 60 min: it expires then, and not before.
    let sales = app.phone(PHONE).to(SALES_LINE);
    now.store(T0 + 30 * SECOND + 60 * MINUTE - 1, Ordering::SeqCst);
    app.outbox_drained().await;
    assert_eq!(chat(&app, &sales_chat).await["status"], "connected", "a millisecond before the expiry");
    now.fetch_add(1, Ordering::SeqCst);
    let expired = chat_until(&app, &sales_chat, "the session to expire", |c| c["status"] == "finished").await;
    assert_eq!((&expired["end_reason"], &expired["ended_by"]), (&json!("expired"), &json!("system")));
    assert_eq!(
        inbox_exactly(&app, &phone, 16).await[15],
        "This chat has expired. Text us any time to start a new one."
    );

    // The next text opens a new chat, with the notice again, and alice gets it.
    let next = sales.texts("Hello again, about shipping").await.chat_id.expect("a new chat");
    assert_ne!(next, sales_chat);
    let inbox = inbox_exactly(&app, &phone, 19).await;
    assert_eq!(inbox[16], NOTICE);
    let fresh = chat(&app, &next).await;
    assert_eq!(
        state(&fresh),
        ("connected".into(), json!("sales"), json!("alice"), "en".into(), json!("auto_answered")),
        "{fresh}"
    );

    // The main chat's transcript, in order: every message once, and the transfers as notes.
    let transcript = app.settled(&main_chat).await;
    let seen: Vec<(&str, &str)> = transcript.messages.iter().map(|m| (m.direction.as_str(), m.body.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            ("in", "hi"),
            ("out", NOTICE),
            ("out", TOP_MENU),
            ("in", "1"),
            ("out", SUBMENU),
            ("in", "LANG es"),
            ("out", LANGUAGE_CHANGED),
            ("out", SUBMENU_ES),
            ("in", "2"),
            ("out", QUEUED_ES),
            ("out", "Le atiende Bob."),
            ("out", "Hola, soy Bob. ¿En qué le ayudo?"),
            ("in", "Me cobraron dos veces la factura"),
            ("note", "bob asked carol to take the chat over: Cobro doble"),
            ("note", "The transfer to carol failed (declined); bob keeps the chat"),
            ("note", "bob asked alice in billing to take the chat over: Factura"),
            ("note", "alice took the chat over from bob"),
            ("out", "Hola, soy Alice. Reviso su factura."),
            ("in", "Gracias, sigo aquí"),
            ("out", "Listo, le devolvimos el cobro."),
            ("out", WARNING_ES),
            ("out", CLOSED_ES),
        ]
    );
    let from_main: Vec<String> = phone.inbox().await.into_iter().filter(|m| m.from == MAIN).map(|m| m.body).collect();
    assert_eq!(from_main, transcript.sent(), "the phone got each of the main chat's messages once, in order");

    // The event log, read back after the restart: who was offered the chat, the offer that timed out,
    // the transfers, and the timers, each once.
    let mut stream = app.events(ADMIN, Some(0)).await;
    let events = stream.until(|e| e.kind == "chat.connected" && e.data["chat_id"] == next.as_str()).await;
    let of_main: Vec<(String, String)> = events
        .iter()
        .filter(|e| e.data["chat_id"] == main_chat.as_str() && !matches!(e.kind.as_str(), "message" | "message.status"))
        // Matching links the chat to its contact beside the decisions, at its own pace: where its
        // event falls among these is not the chat's story (it is checked once below).
        .filter(|e| !e.kind.starts_with("contact."))
        .map(summary)
        .collect();
    let expected: Vec<(String, String)> = [
        ("chat.opened", ""),
        ("chat.menu_sent", ""),
        ("chat.menu_sent", ""),
        ("chat.language_changed", "es"),
        ("chat.menu_sent", ""),
        ("chat.queued", "tech"),
        ("chat.offered", "carol"),
        ("chat.offer_timed_out", "carol"),
        ("chat.offered", "bob"),
        ("chat.connected", "bob"),
        ("chat.transfer_started", "bob -> carol"),
        ("chat.transfer_failed", "bob -> carol: declined"),
        ("chat.transfer_started", "bob -> alice"),
        ("chat.transfer_ended", "bob -> alice"),
        ("chat.inactivity_warning", ""),
        ("chat.ended", "consumer_silent"),
    ]
    .into_iter()
    .map(|(k, d)| (k.to_owned(), d.to_owned()))
    .collect();
    assert_eq!(of_main, expected);
    let links = events.iter().filter(|e| e.data["chat_id"] == main_chat.as_str() && e.kind == "contact.linked").count();
    assert!(links <= 1, "matching links the chat once at most");
}

/// An event as (kind, the detail that matters for it).
fn summary(e: &SseEvent) -> (String, String) {
    let d = &e.data;
    let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
    let detail = match e.kind.as_str() {
        "chat.language_changed" => s("language"),
        "chat.queued" => s("queue"),
        "chat.offered" | "chat.offer_timed_out" | "chat.connected" => s("agent"),
        "chat.transfer_started" | "chat.transfer_ended" => format!("{} -> {}", s("from"), s("to")),
        "chat.transfer_failed" => format!("{} -> {}: {}", s("from"), s("to"), s("reason")),
        "chat.ended" => s("reason"),
        _ => String::new(),
    };
    (e.kind.clone(), detail)
}
