//! Issue 14, item 8 in a real browser: beside a live chat the agent sees the consumer's earlier chats
//! (on every number of their queues) and opens one with a click.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::json;

use crate::browser::{Browsers, click_when, lit, until};
use crate::console::{PASSWORD, log_in, open_chat_in_list, shown};
use crate::harness::{ADMIN, TestApp, eventually};

const PHONE: &str = "+14155550191";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_sees_the_consumers_earlier_chats_beside_the_live_one() {
    const TEST: &str = "thread_beside_chat";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::with_standard_setup().await;
    let outcome = AssertUnwindSafe(earlier_chats(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

/// A chat from `PHONE` in billing, offered to alice and accepted.
async fn billing_chat(app: &TestApp, token: &str) -> String {
    let agent = app.agent(token);
    let phone = app.phone(PHONE);
    let chat = phone.texts("hello").await.chat_id.expect("a chat");
    phone.texts("1").await;
    eventually("the chat to be offered to alice", || async {
        let chat = agent.chat(&chat).await;
        if chat.status == "offered" { Ok(()) } else { Err(format!("{chat:?}")) }
    })
    .await;
    agent.accept(&chat).await;
    chat
}

async fn earlier_chats(browsers: &mut Browsers, app: &TestApp) {
    let user = json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    let token = app.agent_token("alice").await;
    app.agent(&token).set_status("available").await;
    let earlier = billing_chat(app, &token).await;
    app.agent(&token).end(&earlier).await;
    let live = billing_chat(app, &token).await;

    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    open_chat_in_list(&alice, "mine", "Billing", "the live chat in alice's #mine").await;
    until(&alice, "the earlier chats beside the live one", &shown("thread"), "#conversation").await;
    until(
        &alice,
        "one earlier chat, the ended one",
        &format!(
            "return document.getElementById('thread-count').textContent === '1' && !!document.querySelector('[data-thread-chat={}]')",
            lit(&earlier)
        ),
        "#thread",
    )
    .await;
    // Open the summary, click the earlier chat: it is shown, and its own thread lists the live one.
    click_when(&alice, "the thread's summary", "return document.querySelector('#thread summary')", "#thread").await;
    click_when(
        &alice,
        "the earlier chat's link",
        &format!("return document.querySelector('[data-thread-chat={}]')", lit(&earlier)),
        "#thread",
    )
    .await;
    until(
        &alice,
        "the earlier chat to be shown",
        &format!(
            "return location.pathname === {} && !!document.querySelector('[data-thread-chat={}]')",
            lit(&format!("/console/chats/{earlier}")),
            lit(&live)
        ),
        "#conversation",
    )
    .await;
}
