//! Issue 13 in a real browser: the transfer dialog offers only who can take the chat and says what
//! became of a transfer; figures are rounded for people; long and empty replies are explained before
//! anything is sent; keyboard shortcuts; per-chat URLs; error pages for people (and JSON for the API);
//! the favicon; the supervisor's search of chats.
//!
//! As in `console.rs`, every wait is a poll with a deadline and no page is reloaded to see news, except
//! where opening an address is the point (per-chat URLs, error pages).

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use crate::browser::{Browsers, click_when, js, lit, until};
use crate::console::{PASSWORD, click, log_in, open_chat_in_list, shown};
use crate::harness::{ADMIN, SUPPORT, TestApp, eventually};

/// The text of the predefined reply the `/` search sends.
const REFUND: &str = "Your refund is on its way; it shows within 5 days.";

/// One support number with billing, tech and vip; alice and bob serve billing and tech, carol tech
/// and vip (alice sees carol, but not the vip queue nor its chats); all three are the blue team (so a team average is a third of a chat); sam supervises them.
async fn floor() -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "label": "Customer support", "carrier": "sim", "queues": ["billing", "tech", "vip"]}],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1", "BILLING"]},
            {"id": "tech", "name": "Technical support", "keywords": ["2", "TECH"]},
            {"id": "vip", "name": "Private clients", "keywords": ["3", "VIP"]}
        ],
        "agents": [
            {"id": "alice", "name": "Alice Smith", "queues": ["billing", "tech"], "capacity": 3},
            {"id": "bob", "name": "Bob Jones", "queues": ["billing", "tech"], "capacity": 3},
            {"id": "carol", "name": "Carol White", "queues": ["tech", "vip"], "capacity": 3}
        ],
        "teams": [{"id": "blue", "name": "Blue team", "members": ["alice", "bob", "carol"]}],
        "replies": [
            {"id": "welcome", "title": "Welcome", "shortcut": "hello", "text": "Hello, how can I help?"},
            {"id": "refund", "title": "Refund on its way", "category": "Billing", "shortcut": "refund", "text": REFUND}
        ],
        "settings": {"brand": "Acme"}
    }))
    .await;
    for user in [
        json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"}),
        json!({"username": "sam", "password": PASSWORD, "role": "supervisor", "teams": ["blue"]}),
    ] {
        app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    }
    app
}

/// An agent's API token, set to `status`.
async fn agent_at(app: &TestApp, agent: &str, status: &str) -> String {
    let token = app.agent_token(agent).await;
    app.agent(&token).set_status(status).await;
    token
}

/// A chat from `phone` choosing `keyword`, offered to the agent of `token` (the only one available
/// for it) and accepted through the API.
async fn connected(app: &TestApp, token: &str, phone: &str, keyword: &str) -> String {
    let agent = app.agent(token);
    let chat = app.phone(phone).texts(keyword).await.chat_id.expect("a chat");
    eventually("the chat to be offered", || async {
        let chat = agent.chat(&chat).await;
        if chat.status == "offered" { Ok(()) } else { Err(format!("{chat:?}")) }
    })
    .await;
    agent.accept(&chat).await;
    chat
}

/// The values of the transfer dialog's targets, once it is open.
async fn transfer_targets(session: &WebDriver) -> Vec<String> {
    click(session, "transfer").await;
    until(session, "the transfer dialog to open", "return document.getElementById('transfer-dialog').open", "body")
        .await;
    let values =
        js(session, "return [...document.querySelectorAll('#transfer-target option')].map((o) => o.value)").await;
    values.as_array().expect("a list").iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

async fn close_transfer(session: &WebDriver) {
    click(session, "transfer-cancel").await;
    until(session, "the transfer dialog to close", "return !document.getElementById('transfer-dialog').open", "body")
        .await;
}

/// Issue 13, item 2: the dialog never offers the sender nor anyone who cannot take the chat, says
/// "nobody can take it now" instead of sending a request that must fail, and after a transfer its
/// notice waits for the outcome and says it in words (as the transcript does): no raw codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transfer_dialog_offers_only_who_can_take_the_chat_and_tells_what_happened() {
    const TEST: &str = "transfer_dialog";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = floor().await;
    let outcome = AssertUnwindSafe(transfer_dialog(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn transfer_dialog(browsers: &mut Browsers, app: &TestApp) {
    let alice_token = agent_at(app, "alice", "available").await;
    let bob = agent_at(app, "bob", "offline").await;
    let carol = agent_at(app, "carol", "offline").await;
    let chat = connected(app, &alice_token, "+14155550181", "billing").await;

    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    open_chat_in_list(&alice, "mine", "Billing", "the billing chat in alice's #mine").await;
    until(&alice, "alice's Transfer button", &shown("transfer"), "#conversation").await;

    // Only alice is available, and she is the sender: nobody can take it.
    let targets = transfer_targets(&alice).await;
    assert!(targets.is_empty(), "with only the sender available the dialog must offer nobody; it offers {targets:?}");
    until(&alice, "the dialog to say nobody can take it now", &shown("transfer-nobody"), "#transfer-dialog").await;
    let said = js(&alice, "return document.getElementById('transfer-nobody').innerText").await;
    assert!(said.as_str().is_some_and(|s| s.contains("Nobody can take it now")), "{said}");
    let disabled = js(&alice, "return document.getElementById('transfer-send').disabled").await;
    assert_eq!(disabled, true, "the Transfer button must be off when nobody can take the chat");
    close_transfer(&alice).await;

    // carol is available but does not serve billing: the tech queue can take it, carol herself cannot.
    app.agent(&carol).set_status("available").await;
    let targets = transfer_targets(&alice).await;
    assert_eq!(targets, ["queue:tech"], "only a queue with someone available (not alice) may be offered");
    close_transfer(&alice).await;

    // bob is available: he and his queues are offered, alice never.
    app.agent(&bob).set_status("available").await;
    let targets = transfer_targets(&alice).await;
    for wanted in ["agent:bob", "queue:billing", "queue:tech"] {
        assert!(targets.iter().any(|t| t == wanted), "{wanted} missing from {targets:?}");
    }
    assert!(!targets.iter().any(|t| t == "agent:alice" || t == "agent:carol"), "{targets:?}");
    let select = alice.find(By::Id("transfer-target")).await.expect("#transfer-target");
    SelectElement::new(&select).await.expect("a select").select_by_value("agent:bob").await.expect("picking bob");
    alice.find(By::Id("transfer-send")).await.expect("#transfer-send").click().await.expect("click");

    // The notice waits for bob's answer; he declines (through the API, once the request is in).
    until(
        &alice,
        "the notice that bob was asked and the chat stays alice's until he answers",
        "return document.getElementById('notice').innerText.includes('Asked Bob Jones to take this chat')",
        "#notice",
    )
    .await;
    eventually("bob to decline the transfer", || async {
        let reply =
            app.request(Method::POST, &format!("/api/v1/chats/{chat}/transfer/decline"), Some(&bob), None).await;
        if reply.status.as_u16() == 200 { Ok(()) } else { Err(format!("{} {}", reply.status, reply.body)) }
    })
    .await;
    until(
        &alice,
        "the notice to say in words that the transfer failed",
        "return document.getElementById('notice').innerText.includes('The transfer to Bob Jones failed: they declined.')",
        "#notice",
    )
    .await;
    let notice = js(&alice, "return document.getElementById('notice').innerText").await;
    let notice = notice.as_str().unwrap_or_default();
    assert!(!notice.contains("Asked Bob Jones"), "the outcome replaces the waiting notice: {notice}");
    assert!(notice.contains("is still yours"), "{notice}");
    until(
        &alice,
        "the transcript's transfer line in words",
        "return document.getElementById('transcript').innerText.includes('The transfer to Bob Jones failed: they declined; Alice Smith keeps the chat.')",
        "#transcript",
    )
    .await;
    let transcript = js(&alice, "return document.getElementById('transcript').innerText").await;
    assert!(!transcript.as_str().unwrap_or_default().contains("(declined)"), "raw code in {transcript}");
}

/// Issue 13, items 2 and 5: the figures are rounded for people; a reply over 1,600 characters is
/// neither cut nor sent but explained, a long one shows its segments, an empty one says why nothing
/// went; Ctrl+Enter sends; `/` finds a predefined reply by its shortcut and sends it; the address
/// follows the chat shown, and opening it again opens that chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_is_told_about_long_and_empty_replies_and_works_from_the_keyboard() {
    const TEST: &str = "replies_and_keys";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = floor().await;
    let outcome = AssertUnwindSafe(replies_and_keys(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn replies_and_keys(browsers: &mut Browsers, app: &TestApp) {
    let token = agent_at(app, "alice", "available").await;
    // Two chats answered today (one ended, one going on): alice has 2, the team of three 0.7 each.
    let done = connected(app, &token, "+14155550182", "billing").await;
    app.agent(&token).end(&done).await;
    let chat = connected(app, &token, "+14155550183", "billing").await;

    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    until(
        &alice,
        "the figures rounded to one decimal",
        "const s = document.getElementById('stats').innerText; return s.includes('Today: 2 answered') && s.includes('team average: 0.7 answered')",
        "#stats",
    )
    .await;

    // Opening a chat puts it in the address bar.
    open_chat_in_list(&alice, "mine", "Billing", "the open chat in alice's #mine").await;
    until(
        &alice,
        "the address to name the chat shown",
        &format!("return location.pathname === {}", lit(&format!("/console/chats/{chat}"))),
        "body",
    )
    .await;
    until(&alice, "the reply box", &shown("composer"), "#conversation").await;
    let body = alice.find(By::Id("body")).await.expect("#body");
    let maxlength = js(&alice, "return document.getElementById('body').hasAttribute('maxlength')").await;
    assert_eq!(maxlength, false, "a maxlength on the reply box cuts pasted text silently");

    // 2,000 characters: kept whole, refused with a message, nothing sent.
    let sent_before = app.agent(&token).transcript(&chat).await.sent().len();
    body.send_keys("a".repeat(2000)).await.expect("typing 2,000 characters");
    let length = js(&alice, "return document.getElementById('body').value.length").await;
    assert_eq!(length, 2000, "the reply box must keep all 2,000 characters");
    until(
        &alice,
        "the counter to warn that the text is over the limit",
        "return document.getElementById('segments').innerText.includes('400 over the limit of 1,600')",
        "#composer",
    )
    .await;
    click(&alice, "send").await;
    until(
        &alice,
        "the refusal next to the reply box",
        "const m = document.getElementById('composer-msg'); return !m.hidden && m.innerText.includes('Not sent: the message has 2,000 characters and the limit is 1,600')",
        "#composer",
    )
    .await;
    assert_eq!(app.agent(&token).transcript(&chat).await.sent().len(), sent_before, "nothing may be sent");

    // 200 characters: two segments, said before sending.
    body.clear().await.expect("clearing");
    body.send_keys("b".repeat(200)).await.expect("typing 200 characters");
    until(
        &alice,
        "the counter to show two segments",
        "const s = document.getElementById('segments').innerText; return s.includes('2 segments') && s.includes('2 texts')",
        "#composer",
    )
    .await;

    // Empty: nothing sent, and the page says why.
    body.clear().await.expect("clearing");
    click(&alice, "send").await;
    until(
        &alice,
        "the reason nothing was sent",
        "const m = document.getElementById('composer-msg'); return !m.hidden && m.innerText.includes('the message is empty')",
        "#composer",
    )
    .await;

    // Ctrl+Enter sends.
    const TYPED: &str = "Sent from the keyboard";
    body.send_keys(TYPED).await.expect("typing");
    body.send_keys(Key::Control + Key::Enter).await.expect("Ctrl+Enter");
    until(
        &alice,
        "the reply sent with Ctrl+Enter in the transcript",
        &format!("return document.getElementById('transcript').innerText.includes({})", lit(TYPED)),
        "#transcript",
    )
    .await;
    assert!(app.agent(&token).transcript(&chat).await.sent().iter().any(|s| s == TYPED), "sent to the consumer");

    // `/` (outside a text box) opens the search of replies; its shortcut finds it; Enter sends it.
    js(&alice, "document.activeElement.blur(); return true").await;
    alice.action_chain().send_keys("/").perform().await.expect("pressing /");
    until(&alice, "the reply search to open", "return document.getElementById('reply-search').open", "body").await;
    let search = alice.find(By::Id("reply-search-q")).await.expect("#reply-search-q");
    search.send_keys("refu").await.expect("typing the shortcut");
    until(
        &alice,
        "the refund reply to be the first match",
        "return document.querySelector('#reply-search-list li[aria-selected=true]')?.dataset.reply === 'refund'",
        "#reply-search",
    )
    .await;
    search.send_keys(Key::Enter).await.expect("Enter");
    until(
        &alice,
        "the predefined reply in the transcript",
        &format!("return document.getElementById('transcript').innerText.includes({})", lit(REFUND)),
        "#transcript",
    )
    .await;
    until(&alice, "the reply search to close", "return !document.getElementById('reply-search').open", "body").await;

    // `?` lists the shortcuts.
    js(&alice, "document.activeElement.blur(); return true").await;
    alice.action_chain().send_keys("?").perform().await.expect("pressing ?");
    until(&alice, "the list of shortcuts", "return document.getElementById('shortcuts-dialog').open", "body").await;
    alice.action_chain().send_keys(Key::Escape).perform().await.expect("Esc");

    // The per-chat address opens that chat, in a fresh page.
    alice.goto(format!("{}/console/chats/{chat}", app.base)).await.expect("opening the chat's URL");
    until(
        &alice,
        "the chat's URL to open it with its transcript",
        &format!(
            "return !document.getElementById('chat').hidden && document.getElementById('transcript').innerText.includes({})",
            lit(TYPED)
        ),
        "#conversation",
    )
    .await;
}

/// Issue 13, item 8: an unknown console path and a chat the user may not see answer pages for
/// people in the console's style, the API keeps its JSON errors, and there is a favicon; at phone
/// width, tapping a chat shows it, with a way back to the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_paths_answer_error_pages_the_api_json_and_the_phone_layout_has_a_way_back() {
    const TEST: &str = "pages_for_people";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = floor().await;
    let outcome = AssertUnwindSafe(pages_for_people(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn pages_for_people(browsers: &mut Browsers, app: &TestApp) {
    let token = agent_at(app, "alice", "available").await;
    let mine = connected(app, &token, "+14155550184", "billing").await;
    let carol = agent_at(app, "carol", "available").await;
    let private = connected(app, &carol, "+14155550185", "vip").await;

    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;

    // The page of an unknown console path: HTML, status 404, in words, with a way on.
    alice.goto(format!("{}/console/nowhere", app.base)).await.expect("opening /console/nowhere");
    until(
        &alice,
        "the 404 page",
        "return document.querySelector('main.error-page')?.dataset.status === '404' && document.querySelector('h2').innerText === 'Page not found' && !!document.querySelector('a[href=\"/console\"]')",
        "body",
    )
    .await;
    // Status and type as the server sent them (fetched from the page, with alice's cookie).
    let probe = r#"const done = arguments[arguments.length - 1];
        Promise.all(['/console/nowhere', '/api/v1/nowhere', '/favicon.ico', arguments[0]].map((p) => fetch(p).then(async (r) =>
          ({ path: p, status: r.status, type: r.headers.get('content-type'), text: await r.text() }))))
          .then(done, (e) => done(String(e)));"#;
    let seen = alice
        .execute_async(probe, vec![Value::String(format!("/console/chats/{private}"))])
        .await
        .expect("fetching from the page")
        .json()
        .clone();
    let answer = |i: usize| (seen[i]["status"].as_u64(), seen[i]["type"].as_str().unwrap_or_default().to_owned());
    let (status, kind) = answer(0);
    assert!(status == Some(404) && kind.starts_with("text/html"), "/console/nowhere: {:#}", seen[0]);
    let (status, kind) = answer(1);
    assert!(status == Some(404) && kind.starts_with("application/json"), "/api/v1/nowhere: {:#}", seen[1]);
    let api: Value = serde_json::from_str(seen[1]["text"].as_str().unwrap_or_default()).expect("a JSON error");
    assert_eq!(api["error"]["code"], "not_found", "{api}");
    let (status, kind) = answer(2);
    assert!(status == Some(200) && kind.starts_with("image/svg+xml"), "/favicon.ico: {:#}", seen[2]);
    assert!(seen[2]["text"].as_str().is_some_and(|t| t.contains("<svg")), "{:#}", seen[2]);
    let (status, kind) = answer(3);
    assert!(status == Some(403) && kind.starts_with("text/html"), "a chat of carol's queue: {:#}", seen[3]);

    // A chat of a queue alice does not serve: the 403 page, not the chat.
    alice.goto(format!("{}/console/chats/{private}", app.base)).await.expect("opening carol's chat");
    until(
        &alice,
        "the 403 page for a chat of a queue alice does not serve",
        "return document.querySelector('main.error-page')?.dataset.status === '403' && document.getElementById('error-message').innerText.includes('queue you do not serve')",
        "body",
    )
    .await;

    // At phone width: the lists, a tap shows the chat, Back returns to the lists.
    alice.set_window_rect(0, 0, 390, 844).await.expect("resizing the window");
    alice.goto(format!("{}/console", app.base)).await.expect("opening the console");
    click_when(&alice, "the chat in #mine", &crate::console::chat_button("mine", "Billing"), "nav").await;
    until(&alice, "the chat, shown alone", &shown("composer"), "#conversation").await;
    let lists = js(&alice, &shown("mine")).await;
    assert_eq!(lists, false, "at 390 px the lists give way to the chat");
    until(
        &alice,
        "the address of the chat",
        &format!("return location.pathname === {}", lit(&format!("/console/chats/{mine}"))),
        "body",
    )
    .await;
    click(&alice, "back").await;
    until(&alice, "the lists again after Back", &shown("mine"), "nav").await;
    let conversation = js(&alice, &shown("conversation")).await;
    assert_eq!(conversation, false, "after Back the lists show, not the chat");
}

/// Issue 13, item 7: the supervisor searches chats by phone in the monitor and finds that one chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_searches_chats_in_the_monitor() {
    const TEST: &str = "monitor_search";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = floor().await;
    let outcome = AssertUnwindSafe(monitor_search(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn monitor_search(browsers: &mut Browsers, app: &TestApp) {
    const PHONE: &str = "+14155550186";
    let token = agent_at(app, "alice", "available").await;
    let wanted = connected(app, &token, PHONE, "billing").await;
    app.agent(&token).say(&wanted, "Your order number is 7731").await;
    connected(app, &token, "+14155550187", "tech").await;

    let sam = browsers.open("sam").await;
    log_in(&sam, app, "sam").await;
    until(
        &sam,
        "both chats in the Ongoing tab",
        "return document.querySelectorAll('#chat-rows tr').length === 2",
        "main",
    )
    .await;
    let rows = "return [...document.querySelectorAll('#chat-rows tr')].map((tr) => tr.cells[1].innerText.trim())";

    // By phone.
    sam.find(By::Id("search-phone")).await.expect("#search-phone").send_keys(PHONE).await.expect("typing");
    sam.find(By::Css("#search-form button[type=submit]")).await.expect("Search").click().await.expect("click");
    eventually("only the chat of that phone", || async {
        let seen = js(&sam, rows).await;
        if seen == json!(["Billing"]) { Ok(()) } else { Err(format!("{seen}")) }
    })
    .await;

    // By words of the transcript.
    click(&sam, "search-clear").await;
    sam.find(By::Id("search-q")).await.expect("#search-q").send_keys("7731").await.expect("typing");
    sam.find(By::Css("#search-form button[type=submit]")).await.expect("Search").click().await.expect("click");
    eventually("only the chat whose transcript has the words", || async {
        let seen = js(&sam, rows).await;
        if seen == json!(["Billing"]) { Ok(()) } else { Err(format!("{seen}")) }
    })
    .await;
    let summary = js(&sam, "return document.getElementById('search-msg').innerText").await;
    assert!(summary.as_str().is_some_and(|s| s.starts_with("1 chat found")), "{summary}");
}
