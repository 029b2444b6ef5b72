//! Chat languages and queue business hours, over HTTP and the simulator: the language of a first text
//! (detected, or the number's), routing to agents who write it, a closed queue that keeps chats until
//! it opens, the place in line, overflow to another queue, and the setup checks for commands and
//! system messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};

use parley_server::clock::Clock;

use crate::harness::{Phone, TestApp, bodies, eventually};

/// 2026-06-01 16:00 UTC: Monday noon in New York.
const T0: i64 = 1_780_329_600_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// An English number with a menu of billing and tech.
const EN_LINE: &str = "+15550008300";
/// The same menu, on a number whose language is Spanish.
const ES_LINE: &str = "+15550008400";
/// A number whose one queue is tech.
const TECH_LINE: &str = "+15550008500";

const NOTICE: &str = "Acme: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.";
const NOTICE_ES: &str = "Acme: Gracias por escribirnos. Responda AYUDA para ayuda, ALTO para no recibir más.";

/// Spanish besides English, with the texts of a first contact.
fn spanish() -> Value {
    json!({"es": {
        "name": "español",
        "opt_out_keywords": ["ALTO"],
        "help_keywords": ["AYUDA"],
        "messages": {
            "opt_in_notice": "{brand}: Gracias por escribirnos. Responda AYUDA para ayuda, ALTO para no recibir más.",
            "menu": "¿En qué podemos ayudarle? Responda {menu}.",
            "menu_choice": "{keywords} para {queue}",
            "menu_or": "o"
        }
    }})
}

fn settings() -> Value {
    json!({
        "brand": "Acme",
        "quiet_hours": {"enabled": false},
        "languages": spanish(),
        "language_detection": {"enabled": true, "min_confidence": 0.7}
    })
}

async fn spawn(at: i64, setup: &Value) -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(at));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(setup).await;
    (app, now)
}

/// The chat as an admin reads it, with every field of the view.
async fn chat(app: &TestApp, id: &str) -> Value {
    app.admin().try_chat(id).await.expect_status(200).body
}

async fn chat_until(app: &TestApp, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || async {
        let c = chat(app, id).await;
        if check(&c) { Ok(c) } else { Err(c.to_string()) }
    })
    .await
}

/// Waits for `n` messages on the phone, lets everything due run out, and checks there are exactly `n`.
async fn inbox_exactly(app: &TestApp, phone: &Phone<'_>, n: usize) -> Vec<String> {
    phone.receives(n).await;
    app.outbox_drained().await;
    let inbox = bodies(&phone.inbox().await);
    assert_eq!(inbox.len(), n, "{inbox:#?}");
    inbox
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_text_sets_the_chat_language_and_a_short_one_keeps_the_numbers() {
    let menu = json!([
        {"id": "billing", "name": "Billing", "keywords": ["1"], "languages": {"es": {"name": "Facturación"}}},
        {"id": "tech", "name": "Tech", "keywords": ["2"], "languages": {"es": {"name": "Soporte"}}}
    ]);
    let mut setup = json!({
        "numbers": [
            {"number": EN_LINE, "carrier": "sim", "queues": ["billing", "tech"]},
            {"number": ES_LINE, "carrier": "sim", "queues": ["billing", "tech"], "language": "es"}
        ],
        "queues": menu,
        "settings": settings()
    });
    let (app, _) = spawn(T0, &setup).await;
    let english_menu = "How can we help? Reply 1 for Billing, 2 for Tech.";
    let spanish_menu = "¿En qué podemos ayudarle? Responda 1 para Facturación, 2 para Soporte.";

    // (phone, number, first text, the chat's language, what the phone gets)
    let cases = [
        ("+14155550190", EN_LINE, "Hola, necesito ayuda con mi factura, por favor", "es", [NOTICE_ES, spanish_menu]),
        ("+14155550191", EN_LINE, "Hi, I need some help with my bill please", "en", [NOTICE, english_menu]),
        ("+14155550192", EN_LINE, "ok", "en", [NOTICE, english_menu]),
        ("+14155550193", ES_LINE, "ok", "es", [NOTICE_ES, spanish_menu]),
        ("+14155550194", ES_LINE, "Hi, I need some help with my bill please", "en", [NOTICE, english_menu]),
    ];
    for (number, business, text, language, expected) in cases {
        let phone = app.phone(number).to(business);
        let id = phone.texts(text).await.chat_id.expect("a chat");
        assert_eq!(inbox_exactly(&app, &phone, 2).await, expected, "{text:?} to {business}");
        let c = chat(&app, &id).await;
        assert_eq!((c["language"].as_str(), c["status"].as_str()), (Some(language), Some("selecting")), "{text:?}");
    }

    // With detection off, the clear Spanish text keeps the English number's language.
    setup["settings"]["language_detection"]["enabled"] = json!(false);
    app.apply_setup(&setup).await;
    let phone = app.phone("+14155550195").to(EN_LINE);
    let id = phone.texts("Hola, necesito ayuda con mi factura, por favor").await.chat_id.expect("a chat");
    assert_eq!(inbox_exactly(&app, &phone, 2).await, [NOTICE, english_menu]);
    assert_eq!(chat(&app, &id).await["language"], "en");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spanish_chat_goes_to_the_agent_who_writes_spanish() {
    // Adam wins every tie on his id; only the language can give zoe the chat.
    let setup = json!({
        "numbers": [{"number": TECH_LINE, "carrier": "sim", "queues": ["tech"]}],
        "queues": [{"id": "tech", "name": "Tech", "keywords": ["TECH"]}],
        "agents": [
            {"id": "adam", "name": "Adam", "queues": ["tech"], "capacity": 2, "languages": ["en"]},
            {"id": "zoe", "name": "Zoe", "queues": ["tech"], "capacity": 2, "languages": ["es", "en"]}
        ],
        "settings": settings()
    });
    let (app, _) = spawn(T0, &setup).await;
    for agent in ["adam", "zoe"] {
        app.agent(&app.agent_token(agent).await).set_status("available").await;
    }
    let offered = |c: &Value| (c["status"].as_str().map(str::to_owned), c["agent"].as_str().map(str::to_owned));

    let first = app.phone("+14155550196").to(TECH_LINE);
    let id = first.texts("Hola, necesito ayuda con mi factura, por favor").await.chat_id.expect("a chat");
    let c = chat(&app, &id).await;
    assert_eq!(c["language"], "es", "{c}");
    assert_eq!(offered(&c), (Some("offered".into()), Some("zoe".into())), "{c}");

    // Zoe already has a chat and adam none: the language still comes before the load.
    let second = app.phone("+14155550197").to(TECH_LINE);
    let id = second.texts("Buenas tardes, mi internet no funciona desde ayer").await.chat_id.expect("a chat");
    let c = chat(&app, &id).await;
    assert_eq!((c["language"].as_str(), offered(&c)), (Some("es"), (Some("offered".into()), Some("zoe".into()))));

    // An English chat goes by load: to adam.
    let third = app.phone("+14155550198").to(TECH_LINE);
    let id = third.texts("Hello, my internet has been down since yesterday").await.chat_id.expect("a chat");
    let c = chat(&app, &id).await;
    assert_eq!((c["language"].as_str(), offered(&c)), (Some("en"), (Some("offered".into()), Some("adam".into()))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_queue_keeps_the_chat_until_it_opens_or_closes_it() {
    // Monday 2026-06-01 19:00 in New York (23:00 UTC): tech closed at 17:00 and opens Tuesday 09:00
    // (13:00 UTC); claims is closed too, and does not keep chats.
    let at = T0 + 7 * HOUR;
    let hours = |after_hours: &str| {
        let day = json!(["09:00-17:00"]);
        json!({"time_zone": "America/New_York", "mon": day, "tue": day, "wed": day, "thu": day, "fri": day,
               "after_hours": after_hours})
    };
    let claims_line = "+15550008600";
    let setup = json!({
        "numbers": [
            {"number": TECH_LINE, "carrier": "sim", "queues": ["tech"]},
            {"number": claims_line, "carrier": "sim", "queues": ["claims"]}
        ],
        "queues": [
            {"id": "tech", "name": "Tech", "keywords": ["TECH"], "hours": hours("keep_queued")},
            {"id": "claims", "name": "Claims", "keywords": ["CLAIMS"], "hours": hours("close")}
        ],
        "agents": [{"id": "bob", "name": "Bob", "queues": ["tech", "claims"], "capacity": 2}],
        "settings": settings()
    });
    let (app, now) = spawn(at, &setup).await;
    assert_eq!(app.setup().await["queues"][0]["hours"]["after_hours"], "keep_queued");
    let bob = app.agent(&app.agent_token("bob").await);
    bob.set_status("available").await;

    let phone = app.phone("+14155550199").to(TECH_LINE);
    let id = phone.texts("My router is down").await.chat_id.expect("a chat");
    let inbox = inbox_exactly(&app, &phone, 2).await;
    assert_eq!(
        inbox[1],
        "Tech is closed now and opens Tue 09:00. Your chat stays in line and an agent will answer then. Reply EXIT to leave."
    );
    let waiting = chat(&app, &id).await;
    assert_eq!((waiting["status"].as_str(), &waiting["agent"]), (Some("queued"), &Value::Null), "{waiting}");
    assert_eq!(waiting["waiting_until"], "2026-06-02T13:00:00.000Z", "{waiting}");
    assert!(bob.chats("ongoing").await.is_empty(), "bob is available, but the queue is closed");

    // Claims closes after hours: the chat ends with the message naming the opening.
    let claimant = app.phone("+14155550203").to(claims_line);
    let claim = claimant.texts("I want to file a claim").await.chat_id.expect("a chat");
    let ended = chat(&app, &claim).await;
    assert_eq!((ended["status"].as_str(), ended["end_reason"].as_str()), (Some("finished"), Some("after_hours")));
    assert_eq!(
        inbox_exactly(&app, &claimant, 2).await,
        [NOTICE, "Claims is closed now and opens Tue 09:00. Please text us again then."]
    );

    // A millisecond before the opening nothing has changed; at the opening bob is asked.
    now.store(at + 14 * HOUR - 1, Ordering::SeqCst);
    app.outbox_drained().await;
    let still = chat(&app, &id).await;
    assert_eq!((still["status"].as_str(), &still["agent"]), (Some("queued"), &Value::Null), "{still}");
    now.fetch_add(1, Ordering::SeqCst);
    let open = chat_until(&app, &id, "the chat to be offered at the opening", |c| c["status"] == "offered").await;
    assert_eq!((&open["agent"], &open["waiting_until"]), (&json!("bob"), &Value::Null), "{open}");
    inbox_exactly(&app, &phone, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_message_and_agent_tell_the_place_in_line() {
    let setup = json!({
        "numbers": [{"number": TECH_LINE, "carrier": "sim", "queues": ["tech"]}],
        "queues": [{"id": "tech", "name": "Tech", "keywords": ["TECH"]}],
        "agents": [{"id": "bob", "name": "Bob", "queues": ["tech"], "capacity": 2}],
        "settings": settings()
    });
    let (app, _) = spawn(T0, &setup).await;
    app.agent(&app.agent_token("bob").await).set_status("away").await;
    let line = |n: u32, minutes: u32| {
        format!(
            "Thanks! You are number {n} in the Tech queue. Estimated wait: about {minutes} min. Reply EXIT to leave."
        )
    };
    let first = app.phone("+14155550200").to(TECH_LINE);
    let second = app.phone("+14155550201").to(TECH_LINE);
    let one = first.texts("My router is down").await.chat_id.expect("a chat");
    assert_eq!(inbox_exactly(&app, &first, 2).await[1], line(1, 5));
    second.texts("My phone line is dead").await;
    assert_eq!(inbox_exactly(&app, &second, 2).await[1], line(2, 10));
    assert_eq!(chat(&app, &one).await["status"], "queued");

    first.texts("AGENT").await;
    assert_eq!(inbox_exactly(&app, &first, 3).await[2], line(1, 5));
    second.texts("agent").await;
    assert_eq!(inbox_exactly(&app, &second, 3).await[2], line(2, 10));

    // The first leaves the line: the second moves up.
    first.texts("EXIT").await;
    assert_eq!(inbox_exactly(&app, &first, 4).await[3], "This chat has ended. Text us any time to start a new one.");
    second.texts("Agent!").await;
    assert_eq!(inbox_exactly(&app, &second, 4).await[3], line(1, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_that_waited_its_limit_moves_to_the_overflow_queue() {
    let setup = json!({
        "numbers": [
            {"number": TECH_LINE, "carrier": "sim", "queues": ["tech"]},
            {"number": EN_LINE, "carrier": "sim", "queues": ["billing"]}
        ],
        "queues": [
            {"id": "tech", "name": "Tech", "keywords": ["TECH"], "timers": {"queue_wait_minutes": 10},
             "overflow": "billing"},
            {"id": "billing", "name": "Billing", "keywords": ["BILLING"]}
        ],
        "agents": [
            {"id": "alice", "name": "Alice", "queues": ["billing"], "capacity": 2},
            {"id": "bob", "name": "Bob", "queues": ["tech"], "capacity": 2}
        ],
        "settings": settings()
    });
    let (app, now) = spawn(T0, &setup).await;
    assert_eq!(app.setup().await["queues"][0]["overflow"], "billing");
    app.agent(&app.agent_token("alice").await).set_status("available").await;
    app.agent(&app.agent_token("bob").await).set_status("away").await;
    let phone = app.phone("+14155550202").to(TECH_LINE);
    let id = phone.texts("My router is down").await.chat_id.expect("a chat");
    assert!(inbox_exactly(&app, &phone, 2).await[1].starts_with("Thanks! You are number 1 in the Tech queue."));

    now.fetch_add(10 * MINUTE - 1, Ordering::SeqCst);
    app.outbox_drained().await;
    let waiting = chat(&app, &id).await;
    assert_eq!((waiting["status"].as_str(), waiting["queue"].as_str()), (Some("queued"), Some("tech")), "{waiting}");
    now.fetch_add(1, Ordering::SeqCst);
    let moved = chat_until(&app, &id, "the chat to move to billing", |c| c["queue"] == "billing").await;
    assert_eq!((moved["status"].as_str(), moved["agent"].as_str()), (Some("offered"), Some("alice")), "{moved}");
    assert_eq!(
        inbox_exactly(&app, &phone, 3).await[2],
        "Sorry for the wait. We moved your chat to Billing; an agent there will answer."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_are_carrier_keywords_and_unknown_messages_are_refused() {
    let valid = json!({
        "numbers": [{"number": TECH_LINE, "carrier": "sim", "queues": ["tech"]}],
        "queues": [{"id": "tech", "name": "Tech", "keywords": ["TECH"]}],
        "settings": settings()
    });
    let (app, _) = spawn(T0, &valid).await;
    let stored = app.setup().await;
    assert_eq!(stored["settings"]["commands"]["end"], json!(["EXIT", "CLOSE"]), "{stored}");

    let mut stop = valid.clone();
    stop["settings"]["commands"] = json!({"end": ["STOP"]});
    let message = app.try_apply_setup(&stop).await.expect_error(422, "validation_failed");
    assert!(message.contains("commands.end \"STOP\""), "{message}");
    assert!(message.contains("carrier keyword"), "{message}");

    let mut typo = valid.clone();
    typo["settings"]["messages"] = json!({"qeued": "In line"});
    let message = app.try_apply_setup(&typo).await.expect_error(422, "validation_failed");
    assert!(message.contains("unknown system message `qeued`"), "{message}");
    assert!(message.contains("queued"), "the known names are listed: {message}");

    let mut placeholder = valid.clone();
    placeholder["queues"][0]["messages"] = json!({"queued": "You are in {qeue}."});
    let message = app.try_apply_setup(&placeholder).await.expect_error(422, "validation_failed");
    assert!(message.contains("messages.queued"), "{message}");
    assert!(message.contains("unknown placeholder {qeue}"), "{message}");

    assert_eq!(app.setup().await, stored, "a refused setup changes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_kept_overnight_is_not_warned_the_moment_an_agent_takes_it() {
    // Monday 19:00 in New York; tech opens Tuesday 09:00, fourteen hours later.
    let at = T0 + 7 * HOUR;
    let day = json!(["09:00-17:00"]);
    let setup = json!({
        "numbers": [{"number": TECH_LINE, "carrier": "sim", "queues": ["tech"]}],
        "queues": [{"id": "tech", "name": "Tech", "keywords": ["TECH"],
                    "hours": {"time_zone": "America/New_York", "mon": day, "tue": day}}],
        "agents": [{"id": "bob", "name": "Bob", "queues": ["tech"], "capacity": 2}],
        "settings": settings()
    });
    let (app, now) = spawn(at, &setup).await;
    let bob = app.agent(&app.agent_token("bob").await);
    bob.set_status("available").await;
    let phone = app.phone("+14155550204").to(TECH_LINE);
    let id = phone.texts("My router is down").await.chat_id.expect("a chat");
    inbox_exactly(&app, &phone, 2).await;
    now.store(at + 14 * HOUR, Ordering::SeqCst);
    chat_until(&app, &id, "the chat to be offered at the opening", |c| c["status"] == "offered").await;
    bob.accept(&id).await;

    // The notice, the after-hours message and "You are now chatting with Bob." and nothing else: the
    // consumer has had nobody to answer yet. Today a fourth message follows at once, "Are you still
    // there? This chat closes in 5 minutes unless you reply.", and the chat closes five minutes later.
    let inbox = inbox_exactly(&app, &phone, 3).await;
    assert_eq!(inbox[2], "You are now chatting with Bob.");
}
