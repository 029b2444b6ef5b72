//! The outbound API as the seed platform has it: `agent_email` for `agent_id`, `ticket_id` and
//! `context` kept on the chat (shown to the agent, the ticket id in every event of the chat),
//! `predefined_id` with `variables` for `message`, and the answer's `segments` and `encoding`. Each
//! field works, and each bad use is refused with 422 naming the field, and stores nothing.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use parley_server::clock::Clock;
use parley_server::setup_doc::SetupDocument;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Reply, SUPPORT, TestApp, bodies, eventually, standard_setup};

const PHONE: &str = "+14155550160";

/// The standard setup with e-mail addresses for alice and bob, and two predefined replies.
fn seed_setup() -> Value {
    let mut doc = standard_setup();
    doc["agents"][0]["email"] = json!("alice@acme.example");
    doc["agents"][1]["email"] = json!("Bob.Jones@Acme.example");
    doc["replies"] = json!([
        {
            "id": "shipped", "title": "Order shipped", "shortcut": "shipped",
            "text": "{brand}: {agent} here, your order is on its way to the phone ending {consumer_last_four}."
        },
        {"id": "hello", "title": "Hello", "shortcut": "hello", "text": "Hi, {agent_first_name} of {brand} here."}
    ]);
    doc
}

/// A server at 2026-06-01 16:00 UTC (nine in the morning in San Francisco, the phones' area), so no
/// quiet hours hold the messages back.
async fn app() -> TestApp {
    let now = Arc::new(AtomicI64::new(1_780_329_600_000));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now)).await;
    app.apply_setup(&seed_setup()).await;
    app
}

async fn post(app: &TestApp, path: &str, body: Value) -> Reply {
    app.request(Method::POST, path, Some(ADMIN), Some(&body)).await
}

async fn start(app: &TestApp, fields: Value) -> Reply {
    let mut body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT});
    body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    post(app, "/api/v1/outbound/chats", body).await
}

async fn notify(app: &TestApp, fields: Value) -> Reply {
    let mut body = json!({"end_user_number": PHONE, "outbound_number": SUPPORT});
    body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    post(app, "/api/v1/outbound/messages", body).await
}

/// The JSON Pointers a 422 names, after asserting its shape.
#[track_caller]
fn pointers(reply: &Reply) -> Vec<String> {
    reply.expect_error(422, "validation_failed");
    let details = reply.body["error"]["details"].as_array().cloned().unwrap_or_default();
    details.iter().map(|d| d["field"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn chat_count(app: &TestApp) -> usize {
    app.admin().all_chats().await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_agent_email_names_the_agent_and_round_trips_through_the_setup() {
    let app = app().await;
    // The export keeps each address as written; its TOML reads back the same.
    let exported = app.setup().await;
    assert_eq!(exported["agents"][1]["email"], "Bob.Jones@Acme.example", "{exported}");
    let parsed: SetupDocument = serde_json::from_value(exported.clone()).expect("the export is a setup document");
    let toml = parsed.to_toml().expect("TOML");
    assert!(toml.contains("email = \"Bob.Jones@Acme.example\""), "{toml}");
    let back = SetupDocument::from_toml(&toml).expect("the TOML parses");
    assert_eq!(serde_json::to_value(&back).unwrap(), exported);
    assert_eq!(app.apply_setup(&exported).await, exported, "applying the export changes nothing");

    // Compared ignoring case, as the setup keeps addresses unique that way.
    let started = start(&app, json!({"message": "About your router.", "agent_email": "bob.jones@acme.example"}))
        .await
        .expect_status(201)
        .body;
    assert_eq!((&started["chat"]["agent"], &started["chat"]["queue"]), (&json!("bob"), &json!("tech")), "{started}");

    let unknown = start(&app, json!({"message": "Hi", "agent_email": "carol@acme.example"})).await;
    assert_eq!(pointers(&unknown), ["/agent_email"]);
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("carol@acme.example"), "{}", unknown.body);
    let both = start(&app, json!({"message": "Hi", "agent_email": "alice@acme.example", "agent_id": "alice"})).await;
    assert_eq!(pointers(&both), ["/agent_email"]);
    // An agent's own token names only its agent, by e-mail as by id.
    let alice = app.agent_token("alice").await;
    let body = json!({"end_user_number": PHONE, "outbound_number": "+15550002000", "message": "Hi",
                      "agent_email": "bob.jones@acme.example"});
    let other = app.request(Method::POST, "/api/v1/outbound/chats", Some(&alice), Some(&body)).await;
    other.expect_error(403, "forbidden");
    assert_eq!(chat_count(&app).await, 1, "a refused request opens no chat");

    // The setup refuses an implausible address and one two agents share (ignoring case).
    let mut bad = seed_setup();
    bad["agents"][0]["email"] = json!("alice at acme");
    let refused = app.try_apply_setup(&bad).await;
    refused.expect_error(422, "validation_failed");
    assert!(refused.body.to_string().contains("alice at acme"), "{}", refused.body);
    let mut shared = seed_setup();
    shared["agents"][0]["email"] = json!("bob.jones@acme.example");
    let refused = app.try_apply_setup(&shared).await;
    refused.expect_error(422, "validation_failed");
    assert!(refused.body.to_string().contains("is also the e-mail of agent"), "{}", refused.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_ticket_and_context_are_kept_on_the_chat_and_the_ticket_in_its_events() {
    let app = app().await;
    let mut events = app.events(ADMIN, Some(0)).await;
    let context = json!({"order": "A-1042", "tier": "gold"});
    let started = start(
        &app,
        json!({"message": "Your order shipped.", "agent_id": "bob", "ticket_id": "ZD-77", "context": context}),
    )
    .await
    .expect_status(201)
    .body;
    let chat_id = started["chat"]["id"].as_str().expect("a chat id").to_owned();
    assert_eq!((&started["chat"]["ticket_id"], &started["chat"]["context"]), (&json!("ZD-77"), &context), "{started}");

    // A request that joins the live chat keeps the chat's own ticket and context.
    let joined = start(&app, json!({"message": "One more thing.", "ticket_id": "ZD-78", "context": {"x": "y"}}))
        .await
        .expect_status(201)
        .body;
    assert_eq!(joined["chat"]["id"], chat_id.as_str(), "{joined}");
    assert_eq!((&joined["chat"]["ticket_id"], &joined["chat"]["context"]), (&json!("ZD-77"), &context), "{joined}");

    // The agent sees both with the chat.
    let bob = app.agent_token("bob").await;
    let seen = app.request(Method::GET, &format!("/api/v1/chats/{chat_id}"), Some(&bob), None).await;
    let seen = seen.expect_status(200).body;
    assert_eq!((&seen["ticket_id"], &seen["context"]), (&json!("ZD-77"), &context), "{seen}");

    // Every event of the chat carries the ticket id, from its opening to its end.
    app.agent(&bob).end(&chat_id).await;
    let log = events.until(|e| e.kind == "chat.ended").await;
    let kinds: Vec<&str> = log.iter().map(|e| e.kind.as_str()).collect();
    for kind in ["chat.opened", "chat.started_outbound", "chat.connected", "chat.ended"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    for e in log.iter().filter(|e| e.data["chat_id"] == chat_id.as_str()) {
        assert_eq!(e.data["ticket_id"], "ZD-77", "{}: {}", e.kind, e.data);
    }

    // A chat started without one has none, and null in its events.
    let other = post(
        &app,
        "/api/v1/outbound/chats",
        json!({"end_user_number": "+14155550161", "outbound_number": SUPPORT, "message": "Hello"}),
    )
    .await
    .expect_status(201)
    .body;
    assert_eq!((&other["chat"]["ticket_id"], &other["chat"]["context"]), (&Value::Null, &json!({})), "{other}");
    let opened = events.until(|e| e.kind == "chat.started_outbound").await;
    let last = opened.last().unwrap();
    assert_eq!(last.data["ticket_id"], Value::Null, "{}", last.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_ticket_and_context_over_their_limits_are_refused_naming_the_value() {
    let app = app().await;
    let long_id = "T".repeat(101);
    assert_eq!(pointers(&start(&app, json!({"message": "Hi", "ticket_id": long_id})).await), ["/ticket_id"]);
    let many: serde_json::Map<String, Value> = (0..21).map(|i| (format!("k{i:02}"), json!("v"))).collect();
    assert_eq!(pointers(&start(&app, json!({"message": "Hi", "context": many})).await), ["/context"]);
    let long_key = "k".repeat(41);
    let reply = start(&app, json!({"message": "Hi", "context": {long_key.clone(): "v"}})).await;
    assert_eq!(pointers(&reply), [format!("/context/{long_key}")]);
    let reply = start(&app, json!({"message": "Hi", "context": {"a/b": "v".repeat(501)}})).await;
    assert_eq!(pointers(&reply), ["/context/a~1b"]);
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("limit is 500"), "{}", reply.body);
    // Values are strings.
    start(&app, json!({"message": "Hi", "context": {"order": 42}})).await.expect_error(422, "validation_failed");
    // Twenty entries at the limits are kept.
    let full: serde_json::Map<String, Value> =
        (0..20).map(|i| (format!("{i:02}{}", "k".repeat(38)), json!("v".repeat(500)))).collect();
    let kept = start(&app, json!({"message": "Hi", "ticket_id": "T".repeat(100), "context": full.clone()})).await;
    assert_eq!(kept.expect_status(201).body["chat"]["context"], Value::Object(full));
    // A chat scheduled for later does not keep them (yet): refused rather than dropped.
    let later = start(&app, json!({"message": "Hi", "ticket_id": "T-9", "send_at": "2026-06-02T16:00:00Z"})).await;
    assert_eq!(pointers(&later), ["/send_at"]);
    assert_eq!(chat_count(&app).await, 1, "only the request within the limits opened a chat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_predefined_reply_is_filled_in_with_variables_and_what_parley_knows() {
    let app = app().await;
    // A sessionless notification knows the brand and the consumer's digits; {agent} comes from variables.
    let sent = notify(&app, json!({"predefined_id": "shipped", "variables": {"agent": "Ann"}})).await;
    sent.expect_status(201);
    let phone = app.phone(PHONE);
    let inbox = phone.receives(2).await;
    assert_eq!(inbox[1].body, "Acme: Ann here, your order is on its way to the phone ending 0160.");

    // A chat for an agent fills in the agent's own name; variables win over what Parley knows.
    let chat = start(
        &app,
        json!({"predefined_id": "hello", "agent_email": "alice@acme.example", "outbound_number": "+15550002000"}),
    )
    .await
    .expect_status(201)
    .body;
    assert_eq!(chat["chat"]["agent"], "alice", "{chat}");
    let wanted = "Hi, Alice of Acme here.";
    eventually("alice's filled-in reply to reach the phone", || async {
        let inbox = phone.inbox().await;
        if inbox.iter().any(|m| m.body == wanted) { Ok(()) } else { Err(format!("{:?}", bodies(&inbox))) }
    })
    .await;
    let other = "+14155550162";
    let body = json!({"end_user_number": other, "outbound_number": SUPPORT, "predefined_id": "hello",
                      "variables": {"agent_first_name": "Team", "brand": "Acme Support"}});
    post(&app, "/api/v1/outbound/messages", body).await.expect_status(201);
    assert_eq!(app.phone(other).receives(2).await[1].body, "Hi, Team of Acme Support here.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_predefined_reply_refusals_name_the_reply_or_the_missing_variable() {
    let app = app().await;
    let missing = notify(&app, json!({"predefined_id": "shipped"})).await;
    assert_eq!(pointers(&missing), ["/variables/agent"]);
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("{agent}"), "{}", missing.body);
    let unknown = notify(&app, json!({"predefined_id": "nope"})).await;
    assert_eq!(pointers(&unknown), ["/predefined_id"]);
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("\"nope\""), "{}", unknown.body);
    let typo = notify(&app, json!({"predefined_id": "shipped", "variables": {"agent": "Ann", "order_id": "1"}})).await;
    assert_eq!(pointers(&typo), ["/variables/order_id"]);
    let both = notify(&app, json!({"predefined_id": "shipped", "message": "Hi"})).await;
    assert_eq!(pointers(&both), ["/message"]);
    assert_eq!(pointers(&notify(&app, json!({})).await), ["/message"]);
    let stray = notify(&app, json!({"message": "Hi", "variables": {"agent": "Ann"}})).await;
    assert_eq!(pointers(&stray), ["/variables"]);
    let chat = start(&app, json!({"predefined_id": "nope"})).await;
    assert_eq!(pointers(&chat), ["/predefined_id"]);
    app.outbox_drained().await;
    assert!(app.phone(PHONE).inbox().await.is_empty(), "nothing was sent");
    assert_eq!(chat_count(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_answer_gives_the_segments_and_encoding_of_the_text() {
    let app = app().await;
    let short = notify(&app, json!({"message": "Your order shipped."})).await.expect_status(201).body;
    assert_eq!((&short["segments"], &short["encoding"]), (&json!(1), &json!("gsm7")), "{short}");
    let long = notify(&app, json!({"end_user_number": "+14155550163", "message": "x".repeat(161)})).await;
    let long = long.expect_status(201).body;
    assert_eq!((&long["segments"], &long["encoding"]), (&json!(2), &json!("gsm7")), "{long}");
    let emoji = start(&app, json!({"end_user_number": "+14155550164", "message": "Shipped 📦"})).await;
    let emoji = emoji.expect_status(201).body;
    assert_eq!((&emoji["segments"], &emoji["encoding"]), (&json!(1), &json!("ucs2")), "{emoji}");
    // A filled-in reply is counted as sent: a value outside the GSM alphabet makes it UCS-2, and
    // its 90 UTF-16 units then take two segments (67 a part).
    let body = json!({"end_user_number": "+14155550165", "outbound_number": SUPPORT, "predefined_id": "shipped",
                      "variables": {"agent": "Zoë 🙂 of the shipping desk"}});
    let filled = post(&app, "/api/v1/outbound/messages", body).await.expect_status(201).body;
    assert_eq!((&filled["segments"], &filled["encoding"]), (&json!(2), &json!("ucs2")), "{filled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_both_sends_need_the_sms_send_scope_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.request(Method::GET, "/api/v1/openapi.json", None, None).await.expect_status(200).body;
    for path in ["/api/v1/outbound/chats", "/api/v1/outbound/messages"] {
        assert_eq!(doc["paths"][path]["post"]["security"], json!([{"bearer": ["sms:send"]}]), "{path}");
    }
}
