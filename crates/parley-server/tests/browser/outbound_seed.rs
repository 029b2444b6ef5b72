//! The seed platform's outbound fields in the console: a chat an integration started with a
//! `ticket_id` and `context` shows both in the agent's chat header.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::json;

use crate::browser::{Browsers, js, until};
use crate::console::{PASSWORD, log_in, shown};
use crate::harness::{ADMIN, SUPPORT, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedapi_console_shows_the_chats_ticket_and_context_to_its_agent() {
    const TEST: &str = "seedapi_ticket";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::with_standard_setup().await;
    let user = json!({"username": "bob", "password": PASSWORD, "role": "agent", "agent": "bob"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    let outcome = AssertUnwindSafe(scenario(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn scenario(browsers: &mut Browsers, app: &TestApp) {
    let body = json!({
        "end_user_number": "+14155550193", "outbound_number": SUPPORT, "agent_id": "bob",
        "message": "About your router.", "ticket_id": "ZD-77", "context": {"order": "A-1042", "tier": "gold <b>"}
    });
    let started = app.request(Method::POST, "/api/v1/outbound/chats", Some(ADMIN), Some(&body)).await;
    let chat = started.expect_status(201).body["chat"]["id"].as_str().expect("a chat id").to_owned();
    let plain =
        json!({"end_user_number": "+14155550194", "outbound_number": SUPPORT, "agent_id": "bob", "message": "Hi"});
    let other = app.request(Method::POST, "/api/v1/outbound/chats", Some(ADMIN), Some(&plain)).await;
    let other = other.expect_status(201).body["chat"]["id"].as_str().expect("a chat id").to_owned();

    let bob = browsers.open("bob").await;
    log_in(&bob, app, "bob").await;
    bob.goto(format!("{}/console/chats/{chat}", app.base)).await.expect("opening the chat");
    until(&bob, "the chat's ticket in its header", &shown("chat-ticket"), "#conversation").await;
    let shown_ticket = js(&bob, "return document.getElementById('chat-ticket').textContent").await;
    assert_eq!(shown_ticket, "Ticket ZD-77");
    // The context is a key/value list, its text shown as text.
    let pairs = js(
        &bob,
        "return [...document.querySelectorAll('#chat-context dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])",
    )
    .await;
    assert_eq!(pairs, json!([["order", "A-1042"], ["tier", "gold <b>"]]));
    until(&bob, "the context list to be shown", &shown("chat-context"), "#conversation").await;

    // A chat without them shows neither.
    bob.goto(format!("{}/console/chats/{other}", app.base)).await.expect("opening the other chat");
    until(
        &bob,
        "the other chat, with no ticket or context",
        &format!(
            "return document.getElementById('chat').hidden === false && location.pathname.endsWith({}) \
             && document.getElementById('chat-ticket').hidden && document.getElementById('chat-context').hidden",
            crate::browser::lit(&other)
        ),
        "#conversation",
    )
    .await;
}
