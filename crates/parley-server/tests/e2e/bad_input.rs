//! Bad input is refused with the error shape and a fitting status, and nothing of it is stored.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SUPPORT, TestApp, bodies, standard_setup};

const PHONE: &str = "+14155550150";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_or_unknown_json_is_refused_and_nothing_is_stored() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone(PHONE);
    let json_type = Some("application/json");

    let broken = format!(r#"{{"from": "{PHONE}", "to": "{SUPPORT}", "body": "hi""#);
    app.request_raw(Method::POST, "/sim/messages", None, json_type, &broken).await.expect_error(400, "bad_request");
    app.request_raw(Method::POST, "/sim/messages", None, json_type, "").await.expect_error(400, "bad_request");
    app.request_raw(Method::PUT, "/api/v1/setup", Some(ADMIN), json_type, "{numbers: []}")
        .await
        .expect_error(400, "bad_request");

    // Well-formed JSON of the wrong shape: an unknown field, a wrong type, a missing field.
    let unknown = phone.sends(json!({ "body": "hi", "priority": "high" })).await;
    let message = unknown.expect_error(422, "validation_failed");
    assert!(message.contains("priority"), "the message names the field: {message}");
    phone.sends(json!({ "body": 42 })).await.expect_error(422, "validation_failed");
    app.request(Method::POST, "/sim/messages", None, Some(&json!({ "from": PHONE, "body": "hi" })))
        .await
        .expect_error(422, "validation_failed");
    let mut setup = standard_setup();
    setup["queues"][0]["colour"] = json!("blue");
    let message = app.try_apply_setup(&setup).await.expect_error(422, "validation_failed");
    assert!(message.contains("colour"), "{message}");

    // Not JSON at all.
    let plain = app.request_raw(Method::POST, "/sim/messages", None, Some("text/plain"), "hi").await;
    assert_eq!(plain.status.as_u16(), 415, "{plain:?}");
    plain.expect_error_shape("unsupported_media_type");
    let none = app.request_raw(Method::POST, "/sim/messages", None, None, &broken).await;
    assert_eq!(none.status.as_u16(), 415, "{none:?}");

    // Not one of these reached the phone's thread or opened a chat.
    assert!(phone.thread().await.is_empty());
    assert!(app.admin().all_chats().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_with_bad_numbers_or_bodies_are_refused_with_422() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone(PHONE);

    // A number that is not set up.
    let unknown = app.phone(PHONE).to("+15559999999");
    let message = unknown.sends(json!({ "body": "hi" })).await.expect_error(422, "number_not_set_up");
    assert!(message.contains("+15559999999"), "{message}");

    // Phone numbers that are not E.164, in either field.
    for bad in ["4155550150", "+1 415 555 0150", "+0415555015", "+1234", "+1234567890123456", "", "tel:+14155550150"] {
        let message = phone.sends(json!({ "from": bad, "body": "hi" })).await.expect_error(422, "validation_failed");
        assert!(message.starts_with("from"), "{bad:?}: {message}");
        let message = phone.sends(json!({ "to": bad, "body": "hi" })).await.expect_error(422, "validation_failed");
        assert!(message.starts_with("to"), "{bad:?}: {message}");
    }

    // Bodies: over 1600 characters (counted as characters, not bytes), or empty without media.
    let message = phone.sends(json!({ "body": "a".repeat(1601) })).await.expect_error(422, "validation_failed");
    assert!(message.contains("1600"), "{message}");
    phone.sends(json!({ "body": "é".repeat(1601) })).await.expect_error(422, "validation_failed");
    phone.sends(json!({ "body": "" })).await.expect_error(422, "validation_failed");
    phone.sends(json!({ "body": "  \n " })).await.expect_error(422, "validation_failed");
    phone.sends(json!({})).await.expect_error(422, "validation_failed");
    let media: Vec<String> = (0..11).map(|i| format!("https://example.com/{i}.jpg")).collect();
    phone.sends(json!({ "body": "pics", "media": media })).await.expect_error(422, "validation_failed");
    phone.sends(json!({ "body": "hi", "id": "" })).await.expect_error(422, "validation_failed");
    phone.sends(json!({ "body": "hi", "id": "x".repeat(129) })).await.expect_error(422, "validation_failed");

    // Nothing was stored: no chat, nothing in the phone's thread.
    assert!(app.admin().all_chats().await.is_empty());
    assert!(phone.thread().await.is_empty());

    // At the limits, texts are taken: exactly 1600 characters, or media without a body.
    let long = "é".repeat(1600);
    let chat = phone.texts(&long).await.chat_id.expect("a chat");
    let photo = phone.sends(json!({ "body": "", "media": ["https://example.com/a.jpg"] })).await.expect_status(201);
    assert_eq!(photo.body["chat_id"], chat.as_str());
    let transcript = app.settled(&chat).await;
    assert_eq!(transcript.received(), vec![long.clone(), String::new()]);
    let photo = transcript.messages.iter().find(|m| m.direction == "in" && m.body.is_empty()).expect("the photo");
    assert_eq!(photo.media, vec!["https://example.com/a.jpg"]);
    let sent =
        phone.thread().await.into_iter().find(|m| m.direction == "sent" && m.body.is_empty()).expect("on the phone");
    assert_eq!(sent.media, vec!["https://example.com/a.jpg"]);
    // The phone got the answers of its own texts only: nothing from the number that is not set up.
    let inbox = phone.inbox().await;
    assert_eq!(bodies(&inbox), transcript.sent());
    assert!(inbox.iter().all(|m| m.from == SUPPORT));
    assert!(unknown.inbox().await.iter().all(|m| m.from != "+15559999999"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_sends_with_bad_bodies_or_unknown_chats_are_refused() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let chat = app.phone(PHONE).texts("billing").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    let before = app.settled(&chat).await.messages.len();

    alice.try_say(&chat, &"a".repeat(1601)).await.expect_error(422, "validation_failed");
    alice.try_say(&chat, "").await.expect_error(422, "validation_failed");
    alice.try_say(&chat, "   ").await.expect_error(422, "validation_failed");
    let path = format!("/api/v1/chats/{chat}/messages");
    app.request(Method::POST, &path, Some(&alice.token), Some(&json!({ "body": "hi", "html": "<b>hi</b>" })))
        .await
        .expect_error(422, "validation_failed");
    app.request_raw(Method::POST, &path, Some(&alice.token), Some("application/json"), "{\"body\": ")
        .await
        .expect_error(400, "bad_request");
    assert_eq!(app.settled(&chat).await.messages.len(), before, "nothing was stored");

    let missing = "0190d7a2-0000-7000-8000-000000000000";
    alice.try_chat(missing).await.expect_error(404, "not_found");
    alice.try_accept(missing).await.expect_error(404, "not_found");
    alice.try_say(missing, "hello").await.expect_error(404, "not_found");
    alice.try_end(missing).await.expect_error(404, "not_found");
    alice.try_transcript(missing).await.expect_error(404, "not_found");
    app.admin().try_transcript(missing).await.expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_paths_and_methods_get_the_error_shape() {
    let app = TestApp::with_standard_setup().await;
    let admin = app.admin();
    admin.try_list("?status=open").await.expect_error(400, "bad_request");
    admin.try_list("?limit=0").await.expect_error(400, "bad_request");
    admin.try_list("?limit=1001").await.expect_error(400, "bad_request");
    admin.try_list("?limit=ten").await.expect_error(400, "bad_request");
    admin.try_list("?sort=newest").await.expect_error(400, "bad_request");
    app.request(Method::GET, "/api/v1/nothing-here", Some(ADMIN), None).await.expect_error(404, "not_found");
    app.request(Method::DELETE, "/api/v1/setup", Some(ADMIN), None).await.expect_error(405, "method_not_allowed");
    app.request(Method::GET, "/sim/phones/not-a-phone/messages", None, None)
        .await
        .expect_error(422, "validation_failed");
    app.request(Method::GET, "/api/v1/events?after=yesterday", Some(ADMIN), None)
        .await
        .expect_error(400, "bad_request");
}

/// A change that breaks the standard setup.
type Change = Box<dyn Fn(&mut Value)>;

fn with(change: impl Fn(&mut Value) + 'static) -> Change {
    Box::new(change)
}

/// Each broken setup is refused with 422 naming the problem, and the setup in force stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_setup_is_refused_whole_and_names_each_problem() {
    let app = TestApp::with_standard_setup().await;
    let in_force = app.setup().await;

    let cases: Vec<(&str, Change, Vec<&str>)> = vec![
        (
            "unknown queue",
            with(|s| s["numbers"][0]["queues"] = json!(["billing", "tech", "refunds"])),
            vec!["unknown queue \"refunds\""],
        ),
        (
            "agent of an unknown queue",
            with(|s| s["agents"][1]["queues"] = json!(["helpdesk"])),
            vec!["agent \"bob\" refers to unknown queue \"helpdesk\""],
        ),
        (
            "duplicate number",
            with(|s| s["numbers"][1]["number"] = json!(SUPPORT)),
            vec!["number +15550001000 is listed twice"],
        ),
        (
            "keyword of two queues on one number",
            with(|s| s["queues"][1]["keywords"] = json!(["2", "TECH", "billing"])),
            vec!["keyword \"BILLING\" is used by queues \"billing\" and \"tech\""],
        ),
        ("invalid E.164", with(|s| s["numbers"][0]["number"] = json!("5550001000")), vec!["number 1", "5550001000"]),
        (
            "reserved keyword",
            with(|s| s["queues"][0]["keywords"] = json!(["1", "STOP"])),
            vec!["reserved word \"STOP\""],
        ),
        (
            "reserved keyword with punctuation",
            with(|s| s["queues"][0]["keywords"] = json!(["1", "Help!"])),
            vec!["reserved word \"Help!\""],
        ),
        ("reserved queue name", with(|s| s["queues"][1]["name"] = json!("Exit")), vec!["reserved word \"Exit\""]),
        (
            "unknown carrier",
            with(|s| s["numbers"][1]["carrier"] = json!("twilio-main")),
            vec!["carrier \"twilio-main\""],
        ),
        ("zero capacity", with(|s| s["agents"][0]["capacity"] = json!(0)), vec!["agent \"alice\" has capacity 0"]),
        ("empty brand", with(|s| s["settings"]["brand"] = json!(" ")), vec!["settings.brand"]),
        (
            "several problems at once",
            with(|s| {
                s["numbers"][0]["queues"] = json!(["billing", "nope"]);
                s["queues"][2]["keywords"] = json!(["QUIT"]);
            }),
            vec!["unknown queue \"nope\"", "reserved word \"QUIT\""],
        ),
    ];
    for (name, change, expected) in cases {
        let mut doc = standard_setup();
        change(&mut doc);
        let message = app.try_apply_setup(&doc).await.expect_error(422, "validation_failed");
        for fragment in expected {
            assert!(message.contains(fragment), "{name}: {fragment:?} is not named in: {message}");
        }
        assert_eq!(app.setup().await, in_force, "{name}: the setup in force changed");
    }

    // The setup in force still works: a text gets the menu.
    let chat = app.phone(PHONE).texts("hi").await.chat_id.expect("a chat");
    assert_eq!(app.settled(&chat).await.sent().len(), 2);
}
