//! The settings tree over the API: `GET /api/v1/queues/{id}/settings` shows each effective setting of
//! a sub-sub-queue with where it comes from, masking follows the inherited `consumer_number`, and the
//! inherited `agent_outbound` switch refuses an agent's outbound chat.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, TestApp};

const SUPPORT: &str = "+15550007400";
/// A line straight to the hot leads (no menu).
const HOT_LINE: &str = "+15550007401";

fn tree() -> Value {
    json!({
        "numbers": [
            {"number": SUPPORT, "carrier": "sim", "queues": ["sales", "tech"]},
            {"number": HOT_LINE, "carrier": "sim", "queues": ["hot"]}
        ],
        "queues": [
            {"id": "sales", "name": "Sales", "keywords": ["1"], "consumer_number": "last_four",
             "agent_outbound": true, "timers": {"offer_timeout_seconds": 20},
             "messages": {"queued": "Sales line: you are in {queue}."},
             "dismissal": {"after_minutes": 45, "by_agent": false}},
            {"id": "leads", "name": "Leads", "parent": "sales",
             "hours": {"time_zone": "UTC", "mon": ["09:00-17:00"]}},
            {"id": "hot", "name": "Hot leads", "parent": "leads", "keywords": ["1"]},
            {"id": "tech", "name": "Tech", "keywords": ["2"]}
        ],
        "agents": [
            {"id": "alice", "name": "Alice", "queues": ["hot", "sales"]},
            {"id": "bob", "name": "Bob", "queues": ["tech"]}
        ],
        "settings": {"brand": "Acme", "quiet_hours": {"enabled": false}, "agent_outbound": false,
                     "timers": {"inactivity_warning_minutes": 12}}
    })
}

async fn get(app: &TestApp, path: &str, token: &str) -> crate::harness::Reply {
    app.request(Method::GET, path, Some(token), None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_tree_a_sub_sub_queue_shows_each_value_and_its_source() {
    let app = TestApp::spawn().await;
    app.apply_setup(&tree()).await;
    let body = get(&app, "/api/v1/queues/hot/settings", ADMIN).await.expect_status(200).body;
    assert_eq!((&body["queue"], &body["parents"]), (&json!("hot"), &json!(["leads", "sales"])), "{body}");
    let s = &body["settings"];
    let pair = |name: &str| (s[name]["value"].clone(), s[name]["source"].clone());
    assert_eq!(pair("offer_timeout_seconds"), (json!(20), json!("queue:sales")));
    assert_eq!(pair("inactivity_warning_minutes"), (json!(12), json!("deployment")));
    assert_eq!(pair("queue_wait_minutes"), (json!(0), json!("deployment")));
    assert_eq!(pair("consumer_number"), (json!("last_four"), json!("queue:sales")));
    assert_eq!(pair("agent_outbound"), (json!(true), json!("queue:sales")));
    assert_eq!(pair("sms_chat"), (json!(true), json!("deployment")));
    assert_eq!(s["hours"]["source"], json!("queue:leads"), "{body}");
    assert_eq!(s["hours"]["value"]["mon"], json!(["09:00-17:00"]), "{body}");
    assert_eq!(
        pair("dismissal"),
        (json!({"after_minutes": 45, "notice_minutes_before": null, "by_agent": false}), json!("queue:sales"))
    );
    let texts = &body["texts"];
    assert_eq!(texts["queued"], json!({"value": "Sales line: you are in {queue}.", "source": "queue:sales"}));
    assert_eq!(texts["dismissed_resume"]["source"], json!("deployment"));
    // Tech sets nothing: everything is the deployment's, and there is no dismissal.
    let tech = get(&app, "/api/v1/queues/tech/settings", ADMIN).await.expect_status(200).body;
    assert_eq!(tech["settings"]["dismissal"], json!({"value": null, "source": "deployment"}));
    assert_eq!(tech["settings"]["agent_outbound"], json!({"value": false, "source": "deployment"}));
    assert_eq!(tech["settings"]["hours"], json!({"value": null, "source": "deployment"}));

    // Agents read the queues they serve; an unknown queue is 404.
    let alice = app.agent_token("alice").await;
    let bob = app.agent_token("bob").await;
    get(&app, "/api/v1/queues/hot/settings", &alice).await.expect_status(200);
    get(&app, "/api/v1/queues/hot/settings", &bob).await.expect_error(403, "forbidden");
    get(&app, "/api/v1/queues/nope/settings", ADMIN).await.expect_error(404, "not_found");
    get(&app, "/api/v1/queues/hot/settings", "no-such-token").await.expect_error(401, "unauthorized");

    // The export keeps what was written: the sub-queues still set nothing of their own.
    let stored = app.setup().await;
    let hot = stored["queues"].as_array().unwrap().iter().find(|q| q["id"] == "hot").unwrap().clone();
    assert_eq!(hot["consumer_number"], json!(""), "{hot}");
    assert!(hot.get("dismissal").is_none() && hot.get("timers").is_none(), "{hot}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_tree_masking_and_the_agent_outbound_switch_are_inherited() {
    let app = TestApp::spawn().await;
    app.apply_setup(&tree()).await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    // The menu offers sales' only child line: 1 picks sales, whose child leads has one child, hot.
    let chat = app.phone("+14155550180").to(SUPPORT).texts("1").await.chat_id.expect("a chat");
    let seen = alice.chat(&chat).await;
    assert_eq!(seen.queue.as_deref(), Some("hot"));
    assert_eq!(seen.consumer, "+*******0180", "hot inherits sales' last_four");

    let start =
        |number: &str| json!({"end_user_number": "+14155550181", "outbound_number": number, "message": "Hello"});
    // Tech sets nothing: the deployment's agent_outbound = false.
    let bob = app.agent_token("bob").await;
    let body = start(SUPPORT);
    let refused = app.request(Method::POST, "/api/v1/outbound/chats", Some(&bob), Some(&body)).await;
    let message = refused.expect_error(403, "agent_outbound_off");
    assert!(message.contains("agent_outbound"), "{message}");
    // Sales turns it on again for itself and its children: hot, two levels below, inherits it.
    let body =
        json!({"end_user_number": "+14155550181", "outbound_number": HOT_LINE, "message": "Hello", "queue": "hot"});
    let started = app.request(Method::POST, "/api/v1/outbound/chats", Some(&alice.token), Some(&body)).await;
    let started = started.expect_status(201).body;
    assert_eq!(started["chat"]["queue"], json!("hot"), "{started}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_tree_dismissal_minutes_out_of_range_are_refused_with_pointers_and_nothing_stored() {
    let app = TestApp::spawn().await;
    app.apply_setup(&tree()).await;
    let before = app.setup().await;
    let mut doc = tree();
    doc["queues"][0]["dismissal"] = json!({"after_minutes": 10081});
    doc["queues"][1]["dismissal"] = json!({"after_minutes": 30, "notice_minutes_before": 30});
    let reply = app.try_apply_setup(&doc).await;
    reply.expect_error(422, "validation_failed");
    let details = reply.body["error"]["details"].as_array().unwrap().clone();
    let field_of = |needle: &str| {
        details.iter().find(|d| d["message"].as_str().is_some_and(|m| m.contains(needle))).map(|d| d["field"].clone())
    };
    assert_eq!(field_of("between 1 and 10080"), Some(json!("/queues/0/dismissal/after_minutes")), "{details:?}");
    assert_eq!(
        field_of("less than dismissal.after_minutes"),
        Some(json!("/queues/1/dismissal/notice_minutes_before")),
        "{details:?}"
    );
    assert_eq!(app.setup().await, before, "nothing stored");
    // Unknown keys in a dismissal are refused as well.
    doc = tree();
    doc["queues"][0]["dismissal"] = json!({"after_minutes": 30, "after_hours": 2});
    app.try_apply_setup(&doc).await.expect_error(422, "validation_failed");
}
