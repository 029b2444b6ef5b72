//! Send later and resend in the console (issue 14, items 6 and 7), in a real browser: an agent
//! schedules a message from the composer, sees it in the transcript as scheduled with its time, and
//! cancels it; a message that failed (its number was suspended) shows its timeline on a click of its
//! status and is resent with one button once the number may send again.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::browser::{Browsers, click_when, js, lit, until};
use crate::console::{PASSWORD, becomes_available, click, log_in};
use crate::harness::{ADMIN, SUPPORT, TestApp, bodies, eventually, standard_setup};

const PHONE: &str = "+14155550199";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_later_an_agent_schedules_and_cancels_a_message_and_resends_a_failed_one() {
    const TEST: &str = "send_later";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::spawn().await;
    app.apply_setup(&standard_setup()).await;
    let user = json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    let outcome = AssertUnwindSafe(scenario(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

/// The transcript line whose text holds `text`, as a script returning it (or null).
fn line(text: &str) -> String {
    format!(
        "return [...document.querySelectorAll('#transcript > li')].filter((li) => li.innerText.includes({})).pop() ?? null",
        lit(text)
    )
}

/// A script that finds the transcript line holding `text` as `li` and returns `condition` of it.
fn of_line(text: &str, condition: &str) -> String {
    let find = line(text);
    format!("const li = (() => {{ {find} }})(); return {condition}")
}

async fn type_and_send(session: &WebDriver, body: &str) {
    session.find(By::Id("body")).await.expect("the composer").send_keys(body).await.expect("typing");
    click(session, "send").await;
}

async fn set_number(app: &TestApp, state: &str) {
    let body = json!({"state": state, "reason": "browser test"});
    app.request(Method::PUT, &format!("/api/v1/numbers/{SUPPORT}/state"), Some(ADMIN), Some(&body))
        .await
        .expect_status(200);
}

async fn scenario(browsers: &mut Browsers, app: &TestApp) {
    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    becomes_available(&alice, app, "alice").await;
    let phone = app.phone(PHONE);
    phone.texts("hi").await;
    let chat = phone.texts("1").await.chat_id.expect("a billing chat");
    app.agent(&app.agent_token("alice").await).accept(&chat).await;
    alice.goto(format!("{}/console/chats/{chat}", app.base)).await.expect("opening the chat");
    until(&alice, "the composer to show", "return !document.getElementById('composer').hidden", "main").await;

    // Send later: an hour from now, in the agent's own time.
    js(
        &alice,
        "const d = new Date(Date.now() + 3600e3); d.setSeconds(0, 0); \
         document.getElementById('send-at').value = new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16); \
         return true",
    )
    .await;
    type_and_send(&alice, "See you tomorrow").await;
    let scheduled = of_line(
        "See you tomorrow",
        "!!li && li.dataset.status === 'scheduled' && li.innerText.includes('scheduled for') \
         && [...li.querySelectorAll('button')].some((b) => b.innerText.trim() === 'Cancel')",
    );
    until(&alice, "the transcript to show the message as scheduled, with Cancel", &scheduled, "#transcript").await;
    assert_eq!(js(&alice, "return document.getElementById('send-at').value").await, "", "the time is cleared");
    let listed = app.request(Method::GET, &format!("/api/v1/chats/{chat}/scheduled"), Some(ADMIN), None).await;
    assert_eq!(listed.expect_status(200).body["messages"].as_array().map(Vec::len), Some(1));

    // The transcript redraws on every event of the chat: the button is found again for the click.
    let cancel = of_line("See you tomorrow", "li?.querySelector('button.cancel-scheduled') ?? null");
    click_when(&alice, "the Cancel button", &cancel, "#transcript").await;
    let canceled = of_line("See you tomorrow", "!!li && li.dataset.status === 'canceled'");
    until(&alice, "the message to show canceled", &canceled, "#transcript").await;
    let listed = app.request(Method::GET, &format!("/api/v1/chats/{chat}/scheduled"), Some(ADMIN), None).await;
    assert_eq!(listed.expect_status(200).body["messages"], json!([]));

    // A message that fails: the number may not send.
    set_number(app, "suspended").await;
    type_and_send(&alice, "Your code is 42").await;
    let failed = of_line(
        "Your code is 42",
        "!!li && li.dataset.status === 'failed' \
         && [...li.querySelectorAll('button')].some((b) => b.innerText.trim() === 'Resend')",
    );
    until(&alice, "the message to show failed, with Resend", &failed, "#transcript").await;
    // Its timeline, on a click of its status.
    click_when(
        &alice,
        "the failed message's status",
        &of_line("Your code is 42", "li?.querySelector('button.status') ?? null"),
        "#transcript",
    )
    .await;
    until(
        &alice,
        "the timeline to list queued then failed",
        &of_line(
            "Your code is 42",
            "!!li && [...li.querySelectorAll('ol.timeline li')].map((x) => x.dataset.status).join(',') === 'queued,failed'",
        ),
        "#transcript",
    )
    .await;

    set_number(app, "enabled").await;
    let resend = of_line("Your code is 42", "li?.querySelector('button.resend') ?? null");
    click_when(&alice, "the Resend button", &resend, "#transcript").await;
    until(
        &alice,
        "the resend to show delivered, linked to the first attempt",
        "return [...document.querySelectorAll('#transcript > li')].some((li) => li.innerText.includes('Your code is 42') \
         && li.innerText.includes('a resend of an earlier attempt') && li.dataset.status === 'delivered')",
        "#transcript",
    )
    .await;
    let inbox = eventually("the phone to get the resend", || async {
        let inbox = bodies(&phone.inbox().await);
        if inbox.contains(&"Your code is 42".to_owned()) { Ok(inbox) } else { Err(format!("{inbox:?}")) }
    })
    .await;
    assert!(!inbox.contains(&"See you tomorrow".to_owned()), "the canceled message never went: {inbox:?}");
}
