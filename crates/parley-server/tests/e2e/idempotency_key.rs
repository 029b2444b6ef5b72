//! `Idempotency-Key` (docs/integrations.md "Idempotent requests"): a retried send returns the first
//! answer and sends nothing more, after a restart and on another node; another request under the same
//! key is refused; copies racing each other send once.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_server::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Auth, Reply, SALES, TestApp, standard_setup};

const PHONE: &str = "+14155550177";
/// A moment outside every US quiet hours, so a send goes out at once.
const NOON_IN_NEW_YORK: i64 = 1_780_329_600_000;

/// A server on a clock stopped at noon in New York, with the standard setup.
async fn app_at_noon() -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(NOON_IN_NEW_YORK));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&standard_setup()).await;
    (app, now)
}

async fn send(app: &TestApp, token: &str, key: &str, body: &Value) -> Reply {
    app.request_with(
        Method::POST,
        "/api/v1/outbound/messages",
        Auth::Bearer(token),
        &[("Idempotency-Key", key)],
        Some(body),
    )
    .await
}

fn replayed(reply: &Reply) -> bool {
    reply.headers.get("idempotent-replayed").is_some_and(|v| v == "true")
}

/// How many texts with `body` the simulator phone got.
async fn received(app: &TestApp, body: &str) -> usize {
    app.outbox_drained().await;
    app.phone(PHONE).to(SALES).inbox().await.iter().filter(|m| m.body == body).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_a_retried_send_returns_the_first_answer_and_sends_once_across_a_restart() {
    let (mut app, _) = app_at_noon().await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "Your order 1001 shipped"});
    let first = send(&app, ADMIN, "order-1001-shipped", &body).await.expect_status(201);
    assert!(!replayed(&first));
    let again = send(&app, ADMIN, "order-1001-shipped", &body).await.expect_status(201);
    assert!(replayed(&again), "{:?}", again.headers);
    assert_eq!(again.body, first.body, "the same answer, the same message id");

    app.restart().await;
    let after_restart = send(&app, ADMIN, "order-1001-shipped", &body).await.expect_status(201);
    assert_eq!(after_restart.body, first.body);
    assert_eq!(received(&app, "Your order 1001 shipped").await, 1, "sent once");

    let other = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "Your order 1002 shipped"});
    let reused = send(&app, ADMIN, "order-1001-shipped", &other).await;
    let message = reused.expect_error(422, "idempotency_key_reused");
    assert!(message.contains("different request"), "{message}");
    // Another caller's key of the same name is theirs alone.
    let key = app.request(Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&json!({"scopes": ["sms:send"]}))).await;
    let token = key.body["token"].as_str().unwrap().to_owned();
    let theirs = send(&app, &token, "order-1001-shipped", &other).await.expect_status(201);
    assert_ne!(theirs.body["message_id"], first.body["message_id"]);
    assert_eq!(received(&app, "Your order 1002 shipped").await, 1);

    if std::env::var(parley_store::testing::ENV).is_ok_and(|url| !url.is_empty()) {
        let node = app.second_node().await;
        let on_other_node = send(&node, ADMIN, "order-1001-shipped", &body).await.expect_status(201);
        assert_eq!(on_other_node.body, first.body, "another node gives the same answer");
        assert_eq!(received(&app, "Your order 1001 shipped").await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_copies_racing_each_other_send_once() {
    let (app, _) = app_at_noon().await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "Raced"});
    let replies = futures::future::join_all((0..6).map(|_| send(&app, ADMIN, "race-1", &body))).await;
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert!(!created.is_empty(), "{replies:?}");
    assert!(created.iter().all(|r| r.body == created[0].body), "every 201 is the one answer: {replies:?}");
    for reply in replies.iter().filter(|r| r.status != 201) {
        reply.expect_error(409, "idempotency_in_progress");
        assert_eq!(reply.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    }
    assert_eq!(received(&app, "Raced").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_are_checked_and_a_failed_answer_is_not_kept() {
    let (app, _) = app_at_noon().await;
    let body = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "Hello"});
    let long = "k".repeat(256);
    for bad in ["", "   ", long.as_str()] {
        let message = send(&app, ADMIN, bad, &body).await.expect_error(400, "bad_request");
        assert!(message.contains("Idempotency-Key"), "{message}");
    }
    // A refusal is the answer a retry gets too: it was decided, not a passing failure.
    let refused = json!({"end_user_number": PHONE, "outbound_number": "+15550009999", "message": "Hello"});
    let first = send(&app, ADMIN, "k-refused", &refused).await;
    assert!(first.status.is_client_error(), "{first:?}");
    let again = send(&app, ADMIN, "k-refused", &refused).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert!(replayed(&again));
    // A GET ignores the header.
    let listed = app
        .request_with(Method::GET, "/api/v1/chats", Auth::Bearer(ADMIN), &[("Idempotency-Key", "k-refused")], None)
        .await;
    listed.expect_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_a_rate_limited_request_is_not_kept_and_runs_when_retried_later() {
    let (app, now) = app_at_noon().await;
    let key = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            Some(ADMIN),
            Some(&json!({"scopes": ["sms:send"], "rate_per_second": 1})),
        )
        .await;
    let token = key.body["token"].as_str().unwrap().to_owned();
    let body = |text: &str| json!({"end_user_number": PHONE, "outbound_number": SALES, "message": text});
    send(&app, &token, "k-a", &body("First")).await.expect_status(201);
    send(&app, &token, "k-b", &body("Second")).await.expect_error(429, "rate_limited");
    now.fetch_add(1000, Ordering::SeqCst);
    let later = send(&app, &token, "k-b", &body("Second")).await.expect_status(201);
    assert!(!replayed(&later), "the 429 was not kept as the key's answer");
    assert_eq!(received(&app, "Second").await, 1);
}
