//! Dismissal in the console: the agent dismisses a connected chat with the Dismiss button (shown
//! because the queue lets agents dismiss), it leaves "My chats" and appears under "Upcoming" with its
//! age; the consumer texts, and it comes back to the agent as an offer, with no reload.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::json;

use crate::browser::{Browsers, click_when, js, until};
use crate::console::{PASSWORD, chat_button, click, log_in, open_chat_in_list, shown};
use crate::harness::{ADMIN, SUPPORT, TestApp, eventually};

async fn floor() -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "label": "Customer support", "carrier": "sim", "queues": ["billing", "tech"]}],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1", "BILLING"],
             "dismissal": {"after_minutes": 60}},
            {"id": "tech", "name": "Technical support", "keywords": ["2", "TECH"]}
        ],
        "agents": [{"id": "alice", "name": "Alice Smith", "queues": ["billing", "tech"], "capacity": 3}],
        "settings": {"brand": "Acme", "quiet_hours": {"enabled": false}}
    }))
    .await;
    let user = json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dismissal_an_agent_dismisses_in_the_console_and_the_consumers_text_brings_it_back() {
    const TEST: &str = "dismissal_console";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = floor().await;
    let outcome = AssertUnwindSafe(dismiss_and_back(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn dismiss_and_back(browsers: &mut Browsers, app: &TestApp) {
    let token = app.agent_token("alice").await;
    let agent = app.agent(&token);
    agent.set_status("available").await;
    let phone = app.phone("+14155550190");
    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    eventually("the chat to be offered", || async {
        let c = agent.chat(&chat).await;
        if c.status == "offered" { Ok(()) } else { Err(format!("{c:?}")) }
    })
    .await;
    agent.accept(&chat).await;
    agent.say(&chat, "Your bill is fixed").await;

    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    open_chat_in_list(&alice, "mine", "Billing", "the billing chat in alice's #mine").await;
    until(&alice, "the Dismiss button (billing dismisses)", &shown("dismiss"), "#conversation").await;
    click(&alice, "dismiss").await;
    until(
        &alice,
        "the chat under Upcoming",
        &format!("return !!({})", chat_button("upcoming", "Billing").trim_start_matches("return ")),
        "nav",
    )
    .await;
    let upcoming = js(&alice, "return document.getElementById('upcoming').innerText").await;
    assert!(upcoming.as_str().is_some_and(|t| t.contains("dismissed") && t.contains("ago")), "its age: {upcoming}");
    let mine = js(&alice, "return document.getElementById('mine').innerText").await;
    assert!(mine.as_str().is_some_and(|t| t.contains("No chats.")), "it left My chats: {mine}");
    until(&alice, "the Resume button on the dismissed chat", &shown("resume"), "#conversation").await;
    let dismiss_shown = js(&alice, "return document.getElementById('dismiss').offsetParent !== null").await;
    assert_eq!(dismiss_shown, false, "no Dismiss on a dismissed chat");

    // The consumer texts again: the chat is back, offered to alice (who had it), with no reload.
    phone.texts("one more thing").await;
    click_when(&alice, "the chat back among alice's offers", &chat_button("offers", "Billing"), "nav").await;
    let upcoming = js(&alice, "return document.getElementById('upcoming').innerText").await;
    assert!(upcoming.as_str().is_some_and(|t| t.contains("No dismissed chats.")), "{upcoming}");
    until(
        &alice,
        "the dismissed_resume message in the transcript",
        "return document.getElementById('transcript').innerText.includes('Welcome back! Your chat is back in the Billing queue')",
        "#transcript",
    )
    .await;
}
