//! Issue 17's console in a real browser: the agent a call connects to sees the call's SMS thread
//! (with the call's id and the photo the caller sent while waiting), answers in it, and sees "app
//! opened" live; the supervisor sees the voice queue with its estimate, today's wait-time SMS and the
//! live call, updated without a reload.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

use crate::browser::{Browsers, click_when, lit, until};
use crate::console::{PASSWORD, click, log_in, open_chat_in_list};
use crate::harness::{ADMIN, TestApp, eventually, standard_setup};

const VOICE: &str = "+15550009000";
const IN_CALL: &str = "+15550007000";
const CALLER: &str = "+14155550871";

fn setup() -> Value {
    let mut doc = standard_setup();
    doc["numbers"].as_array_mut().unwrap().push(json!({"number": IN_CALL, "carrier": "sim", "role": "in_call"}));
    doc["replies"] = json!([
        {"id": "wait", "title": "While you wait", "shortcut": "wait", "text": "Reply with a photo while you wait."},
        {"id": "app", "title": "Open the app", "shortcut": "app", "kind": "app_launch", "app": "acme", "text": "Open {app_link}"}
    ]);
    doc["apps"] = json!([{"id": "acme", "name": "Acme app", "ios": "https://apps.apple.com/app/id1",
        "android": "https://play.google.com/store/apps/details?id=com.acme", "launch": "https://app.acme.example/open?t={token}"}]);
    doc["ivr_queues"] = json!([{"id": "voice", "name": "Voice support", "numbers": [VOICE], "agents": ["alice"],
        "in_call_number": IN_CALL,
        "wait_sms": {"consent_prompt": "Press 1 for a text.", "sent_prompt": "Sent.", "reply_id": "wait"}}]);
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_the_agent_answers_a_calls_thread_and_the_supervisor_watches_the_voice_queue() {
    const TEST: &str = "calls";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::spawn().await;
    app.apply_setup(&setup()).await;
    let outcome = AssertUnwindSafe(scenario(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn ivr(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    app.request(method, &format!("/api/v1/ivr{path}"), Some(ADMIN), Some(&body)).await.body
}

async fn scenario(browsers: &mut Browsers, app: &TestApp) {
    for user in [
        json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"}),
        json!({"username": "sam", "password": PASSWORD, "role": "supervisor", "teams": ["blue"]}),
    ] {
        app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    }
    ivr(app, Method::POST, "/calls", json!({"call_id": "CA7", "caller": CALLER, "dialed": VOICE})).await;
    ivr(app, Method::PUT, "/calls/CA7", json!({"state": "over_capacity"})).await;
    let sent = ivr(app, Method::POST, "/calls/CA7/wait-sms", json!({"consent": true})).await;
    assert_eq!(sent["sent"], true, "{sent}");
    let caller = app.phone(CALLER).to(IN_CALL);
    caller
        .sends(json!({"body": "this is the error", "media": ["https://media.example/screen.png"]}))
        .await
        .expect_status(201);

    // The supervisor's monitor: the voice queue, today's wait-time SMS, the live call.
    let sam = browsers.open("sam").await;
    log_in(&sam, app, "sam").await;
    until(
        &sam,
        "the voice queue with one caller waiting and one wait-time SMS sent",
        "const row = document.querySelector('[data-voice-queue=voice]'); \
         return !document.getElementById('voice').hidden && !!row && row.cells[1].innerText === '1' \
           && row.cells[5].innerText === '1, 0'",
        "#voice",
    )
    .await;
    until(
        &sam,
        "the live call waiting",
        "const row = document.querySelector('[data-call=CA7]'); return !!row && row.innerText.includes('over capacity')",
        "#voice",
    )
    .await;

    // The call connects to alice: the thread is in her chats, named by the call, with the photo.
    ivr(app, Method::PUT, "/calls/CA7", json!({"state": "connected", "agent_id": "alice"})).await;
    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    open_chat_in_list(&alice, "mine", "Call CA7", "the call's thread in alice's chats").await;
    until(
        &alice,
        "the thread with the wait-time SMS, the caller's photo and the call's id",
        "const t = document.getElementById('transcript'); \
         const photo = [...t.querySelectorAll(':scope > li')].find((l) => l.innerText.includes('this is the error')); \
         return t.innerText.includes('Reply with a photo while you wait.') \
           && !!photo?.querySelector('[src^=\"/api/v1/media/\"], [href^=\"/api/v1/media/\"]') \
           && document.getElementById('chat-context').innerText.includes('CA7') \
           && !document.getElementById('composer').hidden && document.getElementById('end').hidden",
        "#conversation",
    )
    .await;
    until(
        &alice,
        "the predefined replies loaded for the thread (no error under the composer)",
        "return document.getElementById('composer-msg').hidden && document.querySelectorAll('#replies option').length === 3",
        "#composer",
    )
    .await;
    alice.find(By::Id("body")).await.expect("the composer").send_keys("I see it, one moment").await.expect("typing");
    click(&alice, "send").await;
    eventually("the caller to get alice's text from the in_call number", || async {
        let inbox = caller.inbox().await;
        inbox
            .iter()
            .find(|m| m.body == "I see it, one moment" && m.from == IN_CALL)
            .map(|_| ())
            .ok_or(format!("{inbox:?}"))
    })
    .await;
    until(
        &sam,
        "the call connected on the monitor, without a reload",
        "const row = document.querySelector('[data-call=CA7]'); return !!row && row.innerText.includes('connected')",
        "#voice",
    )
    .await;

    // The caller opens the app from the link alice sends: her console says so at once.
    let token = app.agent_token("alice").await;
    let body = json!({"reply_id": "app"});
    app.request(Method::POST, "/api/v1/ivr/calls/CA7/messages", Some(&token), Some(&body)).await.expect_status(202);
    let link = eventually("the app link on the phone", || async {
        caller
            .inbox()
            .await
            .into_iter()
            .find(|m| m.body.starts_with("Open "))
            .map(|m| m.body)
            .ok_or("not yet".to_owned())
    })
    .await;
    let token = link.split("?t=").nth(1).unwrap();
    app.request(Method::POST, &format!("/api/v1/app-sessions/{token}"), None, None).await.expect_status(200);
    until(
        &alice,
        "the app-opened notice and the line in the thread",
        &format!(
            "return document.body.innerText.includes({}) && document.getElementById('transcript').innerText.includes('opened the app (Acme app)')",
            lit("App opened on call CA7.")
        ),
        "body",
    )
    .await;
    click_when(
        &alice,
        "the notice's Open button",
        "return [...document.querySelectorAll('.banner button.primary')].find((b) => b.innerText === 'Open') ?? null",
        "body",
    )
    .await;
}
