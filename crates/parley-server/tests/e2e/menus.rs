//! A two-level menu over the API: a queue with child queues opens a submenu (kept across a restart),
//! a team serves the child queues, and a hidden queue is never offered but takes transfers.

use serde_json::json;

use crate::harness::TestApp;

const SUPPORT: &str = "+15550007200";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submenu_survives_a_restart_and_hidden_queues_take_only_transfers() {
    let mut app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "carrier": "sim", "queues": ["billing", "tech", "vip"]}],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1"]},
            {"id": "invoices", "name": "Invoices", "keywords": ["1"], "parent": "billing"},
            {"id": "refunds", "name": "Refunds", "keywords": ["2"], "parent": "billing"},
            {"id": "tech", "name": "Tech", "keywords": ["2"]},
            {"id": "vip", "name": "VIP", "keywords": ["VIP"], "hidden": true}
        ],
        "agents": [
            {"id": "alice", "name": "Alice", "queues": [], "capacity": 2},
            {"id": "bob", "name": "Bob", "queues": ["tech", "vip"], "capacity": 2}
        ],
        "teams": [{"id": "money", "name": "Money", "members": ["alice"], "queues": ["invoices", "refunds"]}],
        "settings": {"brand": "Acme", "quiet_hours": {"enabled": false}}
    }))
    .await;
    let exported = app.setup().await;
    assert_eq!(exported["queues"][1]["parent"], "billing", "{exported}");
    assert_eq!(exported["queues"][4]["hidden"], true, "{exported}");
    assert_eq!(exported["teams"][0]["queues"], json!(["invoices", "refunds"]), "{exported}");

    let phone = app.phone("+14155550170").to(SUPPORT);
    let chat = phone.texts("hello").await.chat_id.expect("a chat");
    let inbox = phone.receives(2).await;
    assert_eq!(inbox[1].body, "How can we help? Reply 1 for Billing, 2 for Tech.", "vip is hidden");
    phone.texts("VIP").await;
    phone.texts("1").await;
    let inbox = phone.receives(4).await;
    assert!(inbox[2].body.starts_with("Sorry, we did not understand \"VIP\""), "{:?}", inbox[2]);
    assert_eq!(inbox[3].body, "How can we help? Reply 1 for Invoices, 2 for Refunds.");

    app.restart().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    alice.set_status("available").await;
    bob.set_status("available").await;
    app.phone("+14155550170").to(SUPPORT).texts("2").await;
    let picked = app.admin().chat(&chat).await;
    assert_eq!((picked.queue.as_deref(), picked.agent.as_deref()), (Some("refunds"), Some("alice")), "{picked:?}");
    alice.accept(&chat).await;

    let path = format!("/api/v1/chats/{chat}/transfer");
    app.request(reqwest::Method::POST, &path, Some(&alice.token), Some(&json!({"to_queue": "vip"})))
        .await
        .expect_status(202);
    app.request(reqwest::Method::POST, &format!("{path}/accept"), Some(&bob.token), Some(&json!({})))
        .await
        .expect_status(200);
    let moved = app.admin().chat(&chat).await;
    assert_eq!((moved.queue.as_deref(), moved.agent.as_deref()), (Some("vip"), Some("bob")), "{moved:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_menu_that_loops_or_names_unknown_parents_is_refused() {
    let app = TestApp::spawn().await;
    let reply = app
        .try_apply_setup(&json!({
            "numbers": [{"number": SUPPORT, "carrier": "sim", "queues": ["a"]}],
            "queues": [
                {"id": "a", "name": "A", "parent": "b"},
                {"id": "b", "name": "B", "parent": "a"},
                {"id": "c", "name": "C", "parent": "nowhere"},
                {"id": "d", "name": "D", "keywords": ["1"], "parent": "a"},
                {"id": "e", "name": "E", "keywords": ["1"], "parent": "a"}
            ]
        }))
        .await;
    let message = reply.expect_error(422, "validation_failed");
    for needle in [
        "queue \"a\": parent: the menu would loop",
        "queue \"c\" (parent) refers to unknown queue \"nowhere\"",
        "queue \"a\" (its menu): keyword \"1\": used by both \"d\" and \"e\"",
    ] {
        assert!(message.contains(needle), "missing {needle:?} in {message}");
    }
}
