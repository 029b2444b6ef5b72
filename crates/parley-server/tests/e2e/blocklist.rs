//! The blocklist: admins list, add and remove blocked phones through `/api/v1/blocklist` (agents may
//! not, bad input is refused and stores nothing); a blocked phone's texts are stored with the reason,
//! open no chat, get no answer and are counted in `/metrics`; blocking a phone with a live chat ends
//! it; the business may not write first to a blocked phone; the setup document shows every entry.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Reply, SALES, TestApp};

const BLOCKED: &str = "+14155550166";

async fn block(app: &TestApp, token: Option<&str>, number: &str, reason: &str) -> Reply {
    let body = json!({ "number": number, "reason": reason });
    app.request(Method::POST, "/api/v1/blocklist", token, Some(&body)).await
}

async fn list(app: &TestApp, query: &str) -> Value {
    app.request(Method::GET, &format!("/api/v1/blocklist{query}"), Some(ADMIN), None).await.expect_status(200).body
}

fn numbers(page: &Value) -> Vec<&str> {
    page["entries"].as_array().expect("entries").iter().map(|e| e["number"].as_str().expect("number")).collect()
}

/// The value of a counter in `/metrics` (0 when it has not been counted yet).
async fn counter(app: &TestApp, name: &str) -> f64 {
    let text = app.request(Method::GET, "/metrics", None, None).await.expect_status(200).body;
    let text = text.as_str().expect("metrics are text").to_owned();
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn blocklist_admins_add_list_and_remove_entries_and_the_setup_shows_them() {
    let app = TestApp::with_standard_setup().await;
    let version_before = app.setup().await;
    assert!(version_before.get("blocklist").is_none(), "no entries yet: {version_before}");

    let added = block(&app, Some(ADMIN), BLOCKED, "  Abusive messages ").await.expect_status(201).body;
    assert_eq!((added["number"].as_str(), added["reason"].as_str()), (Some(BLOCKED), Some("Abusive messages")));
    assert_eq!(added["added_by"], "admin", "{added}");
    assert!(added["added_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{added}");
    block(&app, Some(ADMIN), "+14155550100", "Spam").await.expect_status(201);
    block(&app, Some(ADMIN), "+4930123456", "Asked never to be contacted").await.expect_status(201);

    // Listed in number order, filtered by prefix (with or without its +), a page at a time.
    let all = list(&app, "").await;
    assert_eq!(numbers(&all), ["+14155550100", BLOCKED, "+4930123456"]);
    assert_eq!(all["total"], 3);
    assert_eq!(numbers(&list(&app, "?q=%2B1415").await), ["+14155550100", BLOCKED]);
    assert_eq!(numbers(&list(&app, "?q=49").await), ["+4930123456"]);
    let first = list(&app, "?limit=2").await;
    assert_eq!(numbers(&first), ["+14155550100", BLOCKED]);
    assert_eq!(first["next_after"], BLOCKED);
    let second = list(&app, &format!("?limit=2&after=%2B{}", &BLOCKED[1..])).await;
    assert_eq!(numbers(&second), ["+4930123456"]);
    assert!(second["next_after"].is_null(), "{second}");

    // The entries are part of the setup document, as `parley setup export` prints it.
    let setup = app.setup().await;
    let entry = setup["blocklist"].as_array().and_then(|l| l.iter().find(|e| e["number"] == BLOCKED)).cloned();
    let entry = entry.unwrap_or_else(|| panic!("the entry is in the setup: {setup}"));
    assert_eq!((&entry["reason"], &entry["added_by"]), (&json!("Abusive messages"), &json!("admin")));

    // A setup applied again as exported keeps them; one without them removes them.
    app.apply_setup(&setup).await;
    assert_eq!(list(&app, "").await["total"], 3);
    let removed = app.request(Method::DELETE, "/api/v1/blocklist/+14155550100", Some(ADMIN), None).await;
    assert_eq!(removed.expect_status(200).body["reason"], "Spam");
    assert_eq!(numbers(&list(&app, "").await), [BLOCKED, "+4930123456"]);
    let setup = app.setup().await;
    assert_eq!(setup["blocklist"].as_array().map(Vec::len), Some(2), "{setup}");
}

#[tokio::test]
async fn blocklist_agents_and_strangers_are_refused_and_bad_input_stores_nothing() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent_token("alice").await;
    block(&app, None, BLOCKED, "Spam").await.expect_error(401, "unauthorized");
    block(&app, Some(&alice), BLOCKED, "Spam").await.expect_error(403, "forbidden");
    app.request(Method::GET, "/api/v1/blocklist", Some(&alice), None).await.expect_error(403, "forbidden");
    app.request(Method::GET, "/api/v1/blocklist", None, None).await.expect_error(401, "unauthorized");
    let path = format!("/api/v1/blocklist/{BLOCKED}");
    app.request(Method::DELETE, &path, Some(&alice), None).await.expect_error(403, "forbidden");

    // A number that is not E.164 and an empty reason are named together.
    let bad = block(&app, Some(ADMIN), "415 555 0166", " ").await;
    let message = bad.expect_error(422, "validation_failed");
    assert!(message.contains("not an E.164 number") && message.contains("reason must not be empty"), "{message}");
    let fields: Vec<&str> =
        bad.body["error"]["details"].as_array().unwrap().iter().filter_map(|d| d["field"].as_str()).collect();
    assert_eq!(fields, ["/number", "/reason"]);
    let unknown = json!({ "number": BLOCKED, "reason": "Spam", "by": "me" });
    app.request(Method::POST, "/api/v1/blocklist", Some(ADMIN), Some(&unknown))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(list(&app, "").await["total"], 0, "nothing was stored");

    // A duplicate is refused naming the entry there, which stays as it was.
    block(&app, Some(ADMIN), BLOCKED, "Spam").await.expect_status(201);
    let again = block(&app, Some(ADMIN), BLOCKED, "Other reason").await;
    let message = again.expect_error(409, "already_blocked");
    assert!(message.contains("Spam"), "{message}");
    assert_eq!(list(&app, "").await["entries"][0]["reason"], "Spam");

    // Removing a phone that is not blocked, or no phone at all.
    let missing = app.request(Method::DELETE, "/api/v1/blocklist/+14155550199", Some(ADMIN), None).await;
    missing.expect_error(404, "not_found");
    let garbage = app.request(Method::DELETE, "/api/v1/blocklist/not-a-phone", Some(ADMIN), None).await;
    garbage.expect_error(422, "validation_failed");
    app.request(Method::GET, "/api/v1/blocklist?limit=0", Some(ADMIN), None).await.expect_error(400, "bad_request");

    // The setup document refuses bad entries with the rest of its problems, each at its field.
    let mut doc = app.setup().await;
    doc["blocklist"] = json!([
        {"number": "+14155550100", "reason": "Spam"},
        {"number": "4155550100", "reason": "Spam"},
        {"number": "+14155550100", "reason": "Again"}
    ]);
    doc["agents"][0]["capacity"] = json!(0);
    let refused = app.try_apply_setup(&doc).await;
    refused.expect_error(422, "validation_failed");
    let details = refused.body["error"]["details"].as_array().unwrap().clone();
    let at = |field: &str| details.iter().find(|d| d["field"] == field).map(|d| d["message"].clone());
    assert!(at("/blocklist/1/number").is_some_and(|m| m.as_str().unwrap().contains("E.164")), "{details:#?}");
    assert!(at("/blocklist/2/number").is_some_and(|m| m.as_str().unwrap().contains("listed twice")), "{details:#?}");
    assert!(at("/agents/0/capacity").is_some(), "{details:#?}");
    assert_eq!(numbers(&list(&app, "").await), [BLOCKED], "the setup in force is unchanged");
}

#[tokio::test]
async fn blocklist_texts_from_a_blocked_phone_are_stored_with_the_reason_and_get_no_answer() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone(BLOCKED);
    let counted_before = counter(&app, "parley_blocked_texts_total").await;
    block(&app, Some(ADMIN), BLOCKED, "Abusive messages").await.expect_status(201);
    let mut admin_events = app.events(ADMIN, None).await;

    let hi = phone.texts("hi").await;
    assert_eq!(hi.chat_id, None, "no chat for a blocked phone");
    let help = phone.texts("HELP").await;
    assert_eq!(help.chat_id, None);
    app.phone(BLOCKED).to(SALES).texts("anyone?").await;
    // STOP still opts out, and its one confirmation is sent (carriers require it).
    phone.texts("STOP").await;
    let inbox = phone.receives(1).await;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    assert!(inbox[0].body.contains("You are unsubscribed"), "{inbox:#?}");
    let consent = app.request(Method::GET, &format!("/api/v1/phones/{BLOCKED}/consent"), Some(ADMIN), None).await;
    assert_eq!(consent.expect_status(200).body["opted_out"], true);
    assert!(app.admin().all_chats().await.is_empty(), "no chat was opened");

    // The admin sees each text with why it opened no chat.
    let detail = app.request(Method::GET, &format!("/api/v1/blocklist/{BLOCKED}"), Some(ADMIN), None).await;
    let detail = detail.expect_status(200).body;
    assert_eq!(detail["reason"], "Abusive messages");
    let texts = detail["texts"].as_array().expect("texts");
    let bodies: Vec<&str> = texts.iter().map(|t| t["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["STOP", "anyone?", "HELP", "hi"], "newest first");
    assert_eq!(texts[3]["message_id"], hi.message_id.as_str());
    for t in texts {
        let note = t["note"].as_str().unwrap_or_default();
        assert!(note.contains("blocked") && note.contains("Abusive messages"), "{t}");
    }
    assert_eq!(texts[1]["number"], SALES);
    // Admins are told as each text arrives.
    let told =
        admin_events.until(|e| e.kind == "phone.inbound_blocked" && e.data["message_id"] == help.message_id).await;
    let first = told.iter().find(|e| e.kind == "phone.inbound_blocked").expect("an event");
    assert_eq!((&first.data["phone"], &first.data["reason"]), (&json!(BLOCKED), &json!("Abusive messages")));

    // Counted in /metrics: the four texts of this test at least (the recorder is shared by tests).
    let counted = counter(&app, "parley_blocked_texts_total").await;
    assert!(counted - counted_before >= 4.0, "{counted_before} -> {counted}");

    // Unblocked, the phone is served again (once it opts back in).
    app.request(Method::DELETE, &format!("/api/v1/blocklist/{BLOCKED}"), Some(ADMIN), None).await.expect_status(200);
    phone.texts("START").await;
    let chat = phone.texts("billing").await.chat_id;
    assert!(chat.is_some(), "served again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocklist_blocking_a_phone_with_a_live_chat_ends_it_without_a_word_to_the_consumer() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = app.phone(BLOCKED);
    let id = phone.texts("billing").await.chat_id.expect("a chat");
    alice.accept(&id).await;
    alice.say(&id, "Hello, how can I help?").await;
    app.settled(&id).await;
    let before = phone.inbox().await.len();
    let mut stream = app.events(&alice.token, None).await;

    block(&app, Some(ADMIN), BLOCKED, "Threatened an agent").await.expect_status(201);
    let ended = alice.chat(&id).await;
    assert_eq!(ended.status, "finished", "{ended:?}");
    assert_eq!((ended.end_reason.as_deref(), ended.ended_by.as_deref()), (Some("blocked"), Some("admin")));
    let told = stream.until(|e| e.kind == "chat.ended").await;
    assert_eq!(told.last().map(|e| e.data["reason"].clone()), Some(json!("blocked")), "alice is told: {told:#?}");
    // Alice's capacity is free: her chat list has nothing ongoing.
    assert!(alice.chats("ongoing").await.is_empty());

    // Nothing was sent to the consumer for the block, and a later text opens nothing.
    app.settled(&id).await;
    assert_eq!(phone.inbox().await.len(), before, "the block is not announced");
    assert_eq!(phone.texts("are you there?").await.chat_id, None);
    let transcript = app.settled(&id).await;
    assert!(transcript.received().iter().all(|b| b != "are you there?"), "the text joined no chat");
    assert_eq!(phone.inbox().await.len(), before, "and got no answer");
}

#[tokio::test]
async fn blocklist_the_business_may_not_write_first_to_a_blocked_phone() {
    let app = TestApp::with_standard_setup().await;
    block(&app, Some(ADMIN), BLOCKED, "Asked never to be contacted").await.expect_status(201);
    let chat = json!({ "end_user_number": BLOCKED, "outbound_number": SALES, "message": "Your order shipped" });
    let refused = app.request(Method::POST, "/api/v1/outbound/chats", Some(ADMIN), Some(&chat)).await;
    let message = refused.expect_error(409, "blocked");
    assert!(message.contains("Asked never to be contacted"), "{message}");
    let note = json!({ "end_user_number": BLOCKED, "outbound_number": SALES, "message": "Your code is 1234" });
    let refused = app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&note)).await;
    refused.expect_error(409, "blocked");
    assert!(app.admin().all_chats().await.is_empty(), "no chat was opened");
    app.outbox_drained().await;
    assert!(app.phone(BLOCKED).inbox().await.is_empty(), "nothing was sent");
}
