//! The console in a real browser: a chat from the phone simulator page to an agent's workspace, a
//! transfer to a colleague and the supervisor's history, all through clicks and typing; and the
//! checks people notice first (labelled login fields, no sideways scrolling on a laptop or a phone).
//!
//! Waits are polls with a deadline ([`crate::browser::until`]), never fixed sleeps; the workspace must
//! update itself (server-sent events): no test reloads a page to see something new.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use crate::browser::{Browsers, click_when, element, js, lit, until};
use crate::harness::{ADMIN, Chat, SUPPORT, TestApp, eventually};

/// Every user's password here (the minimum is 10 characters).
pub(crate) const PASSWORD: &str = "correct horse battery";

/// One support number with a menu of billing and tech; alice and bob both serve both queues, so
/// either can take the other's billing chat; the supervisor sam watches their team.
async fn contact_center() -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "label": "Customer support", "carrier": "sim", "queues": ["billing", "tech"]}],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1", "BILLING"]},
            {"id": "tech", "name": "Technical support", "keywords": ["2", "TECH"]}
        ],
        "agents": [
            {"id": "alice", "name": "Alice Smith", "queues": ["billing", "tech"], "capacity": 3},
            {"id": "bob", "name": "Bob Jones", "queues": ["billing", "tech"], "capacity": 3}
        ],
        "teams": [{"id": "blue", "name": "Blue team", "members": ["alice", "bob"]}],
        "settings": {"brand": "Acme"}
    }))
    .await;
    for user in [
        json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"}),
        json!({"username": "bob", "password": PASSWORD, "role": "agent", "agent": "bob"}),
        json!({"username": "sam", "password": PASSWORD, "role": "supervisor", "teams": ["blue"]}),
    ] {
        app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    }
    app
}

/// The chats the admin sees in `status` ("ongoing", "past", ...).
async fn chats(app: &TestApp, status: &str) -> Vec<Chat> {
    app.admin().chats(status).await
}

/// The status an agent chose, as the server has it (their status menu shows it).
pub(crate) async fn presence(app: &TestApp, agent: &str) -> String {
    agent_field(app, agent, "chosen").await
}

/// What the monitor shows of the agent (`status`: offline while not connected) or another field of
/// `GET /api/v1/agents`.
pub(crate) async fn agent_field(app: &TestApp, agent: &str, field: &str) -> String {
    let agents = app.request(Method::GET, "/api/v1/agents", Some(ADMIN), None).await.expect_status(200).body;
    let found = agents["agents"].as_array().and_then(|a| a.iter().find(|a| a["id"] == agent));
    found
        .and_then(|a| a[field].as_str())
        .unwrap_or_else(|| panic!("no {field} of agent {agent} in {agents}"))
        .to_owned()
}

/// Fills in and sends the login form; lands on the console.
pub(crate) async fn log_in(session: &WebDriver, app: &TestApp, username: &str) {
    session.goto(format!("{}/login", app.base)).await.expect("opening /login");
    session.find(By::Id("username")).await.expect("the username field").send_keys(username).await.expect("typing");
    session.find(By::Id("password")).await.expect("the password field").send_keys(PASSWORD).await.expect("typing");
    session.find(By::Css("form button[type=submit]")).await.expect("the login button").click().await.expect("click");
    until(
        session,
        &format!("{username}'s login to land on the console"),
        "return location.pathname === '/console' && document.querySelector('script[src=\"/assets/console.js\"]') !== null",
        "body",
    )
    .await;
}

/// Waits until the agent's workspace is live (its event stream is open and it shows the status the
/// server has), then picks "available" in the status menu and waits until the server has it.
pub(crate) async fn becomes_available(session: &WebDriver, app: &TestApp, agent: &str) {
    until(session, &format!("{agent}'s event stream to open"), "return document.body.dataset.live === 'true'", "body")
        .await;
    let status = presence(app, agent).await;
    until(
        session,
        &format!("{agent}'s status menu to show the server's status ({status})"),
        &format!("return document.getElementById('status').value === {}", lit(&status)),
        "header",
    )
    .await;
    if status != "available" {
        let menu = session.find(By::Id("status")).await.expect("the #status menu");
        SelectElement::new(&menu).await.expect("a select").select_by_value("available").await.expect("picking");
    }
    // Available as chosen, and connected (the open console): routing offers them chats now.
    eventually(&format!("the server to have {agent} available and connected"), || async {
        match agent_field(app, agent, "status").await.as_str() {
            "available" => Ok(()),
            other => Err(other.to_owned()),
        }
    })
    .await;
}

/// The button of a chat in one of the workspace's lists (`offers`, `mine`, `waiting`) whose text
/// holds `text`.
pub(crate) async fn chat_in_list(session: &WebDriver, list: &str, text: &str, what: &str) -> WebElement {
    element(session, what, &chat_button(list, text), "nav").await
}

/// Opens the chat of a workspace list whose button's text holds `text`, finding it again if the list
/// was redrawn meanwhile.
pub(crate) async fn open_chat_in_list(session: &WebDriver, list: &str, text: &str, what: &str) {
    click_when(session, what, &chat_button(list, text), "nav").await;
}

pub(crate) fn chat_button(list: &str, text: &str) -> String {
    format!(
        "return [...document.querySelectorAll('#{list} li button')].find((b) => b.innerText.includes({})) ?? null",
        lit(text)
    )
}

/// A visible button with exactly this text inside `within` (a CSS selector).
pub(crate) async fn button(session: &WebDriver, within: &str, text: &str, what: &str) -> WebElement {
    let script = format!(
        "return [...document.querySelectorAll({})].find((b) => b.innerText.trim() === {} && b.offsetParent !== null) ?? null",
        lit(&format!("{within} button")),
        lit(text)
    );
    element(session, what, &script, within).await
}

/// Whether the element with this id is shown (in the page, not hidden, with a size).
pub(crate) fn shown(id: &str) -> String {
    format!(
        "return (() => {{ const e = document.getElementById({}); return !!e && e.offsetParent !== null && e.getBoundingClientRect().width > 0; }})()",
        lit(id)
    )
}

/// Clicks an element by its id.
pub(crate) async fn click(session: &WebDriver, id: &str) {
    let target = session.find(By::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    target.click().await.unwrap_or_else(|e| panic!("clicking #{id}: {e}"));
}

/// Waits for the `confirm()` the page opens and answers OK; returns its text.
async fn confirm(session: &WebDriver, what: &str) -> String {
    let text = eventually(what, || async { session.get_alert_text().await.map_err(|e| e.to_string()) }).await;
    session.accept_alert().await.expect("accepting the confirmation");
    text
}

/// The phone simulator page for `phone`, texting [`SUPPORT`].
pub(crate) async fn phone_page(session: &WebDriver, app: &TestApp, phone: &str) {
    session
        .goto(format!("{}/sim/phone?phone={}", app.base, phone.replace('+', "%2B")))
        .await
        .expect("opening /sim/phone");
    let to = element(
        session,
        "the simulator to list the support number",
        &format!(
            "return document.querySelector('#to option[value=\"{SUPPORT}\"]') ? document.getElementById('to') : null"
        ),
        "main",
    )
    .await;
    SelectElement::new(&to).await.expect("a select").select_by_value(SUPPORT).await.expect("picking the number");
}

/// The consumer types a text on the simulator page and sends it.
async fn phone_texts(session: &WebDriver, body: &str) {
    session.find(By::Id("body")).await.expect("the message field").send_keys(body).await.expect("typing");
    click(session, "send").await;
    until(
        session,
        &format!("the phone's thread to show the sent text {body:?}"),
        &format!(
            "return [...document.querySelectorAll('#thread .bubble.sent')].some((b) => b.innerText === {})",
            lit(body)
        ),
        "main",
    )
    .await;
}

/// Fails unless the page fits the window's width (no horizontal scrolling) and the conversation,
/// its reply box and send button are on screen, at `width`×`height`.
pub(crate) async fn fits(session: &WebDriver, width: u32, height: u32) {
    session.set_window_rect(0, 0, width, height).await.expect("resizing the window");
    let probe = r#"
        const box = (id) => { const r = document.getElementById(id)?.getBoundingClientRect();
                              return r ? { left: Math.round(r.left), right: Math.round(r.right), width: Math.round(r.width) } : null; };
        return { inner: window.innerWidth, scroll: document.documentElement.scrollWidth,
                 conversation: box('conversation'), body: box('body'), send: box('send') };"#;
    eventually(&format!("the console to fit {width}×{height} without horizontal scrolling"), || async {
        let seen = js(session, probe).await;
        let inner = seen["inner"].as_i64().unwrap_or(0);
        let inside = |key: &str| {
            seen[key]["width"].as_i64().unwrap_or(0) > 0
                && seen[key]["left"].as_i64().unwrap_or(-1) >= 0
                && seen[key]["right"].as_i64().unwrap_or(i64::MAX) <= inner
        };
        let resized = inner > 0 && inner <= i64::from(width);
        let no_sideways = seen["scroll"].as_i64().unwrap_or(i64::MAX) <= inner;
        if resized && no_sideways && inside("conversation") && inside("body") && inside("send") {
            Ok(())
        } else {
            Err(format!("{seen:#}"))
        }
    })
    .await;
}

/// Issue 6, item 7: a consumer texts from the phone simulator; alice, live in her workspace, gets the
/// offer without reloading, accepts and answers, and the phone shows the answer; she transfers the
/// chat to bob with a note; bob takes it and ends it; the supervisor finds it under Past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_from_the_phone_page_through_two_agents_to_the_supervisors_history() {
    const TEST: &str = "chat_through_two_agents";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = contact_center().await;
    let outcome = AssertUnwindSafe(chat_through_two_agents(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn chat_through_two_agents(browsers: &mut Browsers, app: &TestApp) {
    const PHONE: &str = "+14155550171";
    const REPLY: &str = "Hi! Alice from billing here, let me look at your invoice.";
    const NOTE: &str = "Invoice question, needs a refund";

    // alice logs in and makes herself available.
    let alice = browsers.open("a-alice").await;
    log_in(&alice, app, "alice").await;
    becomes_available(&alice, app, "alice").await;

    // The consumer texts BILLING to the support number from the simulator page.
    let phone = browsers.open("c-phone").await;
    phone_page(&phone, app, PHONE).await;
    phone_texts(&phone, "billing").await;

    // The offer reaches alice's open workspace over the event stream: no reload.
    open_chat_in_list(&alice, "offers", "Billing", "the Billing chat in alice's #offers (no reload)").await;
    let chat =
        app.admin().all_chats().await.into_iter().find(|c| c.queue.as_deref() == Some("billing")).expect("the chat");
    until(&alice, "the offer to open with an Accept button", &shown("accept"), "#conversation").await;
    let composer = js(&alice, &shown("composer")).await;
    assert_eq!(composer, false, "the reply box (#composer) must stay hidden until alice accepts the offer");
    click(&alice, "accept").await;
    until(
        &alice,
        "the chat to show as connected once alice has accepted",
        "return document.getElementById('chat-meta').innerText.includes('connected') && document.getElementById('accept').offsetParent === null",
        "#conversation",
    )
    .await;
    until(&alice, "the reply box once alice has accepted", &shown("composer"), "#conversation").await;
    // The contact panel beside the chat fills in when the CRM links the chat (just after it connects)
    // and moves the composer as it does: click Send once the page has settled, not where it was.
    until(
        &alice,
        "the contact panel to show the chat's contact",
        "return (document.getElementById('contact-status')?.innerText ?? '').includes('linked to a contact')",
        "#conversation",
    )
    .await;
    alice.find(By::Id("body")).await.expect("#body").send_keys(REPLY).await.expect("typing the reply");
    click(&alice, "send").await;
    until(
        &alice,
        "alice's reply in her transcript",
        &format!("return document.getElementById('transcript').innerText.includes({})", lit(REPLY)),
        "#conversation",
    )
    .await;
    until(
        &phone,
        "alice's reply on the phone",
        &format!(
            "return [...document.querySelectorAll('#thread .bubble.received')].some((b) => b.innerText.includes({}))",
            lit(REPLY)
        ),
        "main",
    )
    .await;

    // bob logs in and makes himself available; alice transfers the chat to him with a note.
    let bob = browsers.open("b-bob").await;
    log_in(&bob, app, "bob").await;
    becomes_available(&bob, app, "bob").await;
    click(&alice, "transfer").await;
    let target = element(
        &alice,
        "bob among the transfer targets",
        "return document.querySelector('#transfer-dialog[open] #transfer-target option[value=\"agent:bob\"]') ? document.getElementById('transfer-target') : null",
        "#transfer-dialog",
    )
    .await;
    SelectElement::new(&target).await.expect("a select").select_by_value("agent:bob").await.expect("picking bob");
    alice.find(By::Id("transfer-note")).await.expect("#transfer-note").send_keys(NOTE).await.expect("typing the note");
    alice
        .find(By::Css("#transfer-form button[type=submit]"))
        .await
        .expect("the Transfer button")
        .click()
        .await
        .expect("click");
    until(&alice, "the transfer dialog to close", "return !document.getElementById('transfer-dialog').open", "#notice")
        .await;

    // bob is told (with the note) and takes it; it moves to his chats; he ends it.
    let take = button(&bob, "#notice", "Take it", "a \"Take it\" button in bob's #notice").await;
    let notice = js(&bob, "return document.getElementById('notice').innerText").await;
    assert!(
        notice.as_str().is_some_and(|n| n.contains(NOTE)),
        "bob's notice should carry alice's note; it says {notice}"
    );
    take.click().await.expect("taking the chat");
    chat_in_list(&bob, "mine", "Billing", "the chat in bob's #mine").await;
    until(&bob, "bob's End chat button", &shown("end"), "#conversation").await;
    click(&bob, "end").await;
    let question = confirm(&bob, "the confirmation before ending the chat").await;
    assert!(question.contains("End this chat"), "unexpected confirmation: {question:?}");
    eventually("the chat to be finished", || async {
        let past = chats(app, "past").await;
        past.into_iter().find(|c| c.id == chat.id).ok_or_else(|| "not under past yet".to_owned())
    })
    .await;
    until(
        &bob,
        "bob's #mine to empty once the chat ended",
        "return document.querySelectorAll('#mine li button').length === 0",
        "nav",
    )
    .await;

    // The supervisor (in alice's window, after she logs out) finds it under Past.
    click(&alice, "logout").await;
    until(&alice, "the log-out to end at the login page", "return location.pathname === '/login'", "body").await;
    log_in(&alice, app, "sam").await;
    let ended = chats(app, "past").await.into_iter().find(|c| c.id == chat.id).expect("the finished chat");
    let start_type = ended.start_type.clone().unwrap_or_default().replace('_', " ");
    button(&alice, ".tabs:not(#today-tabs)", "Past", "the Past tab").await.click().await.expect("opening Past");
    let rows = r#"return [...document.querySelectorAll('#chat-rows tr')].map((tr) => [...tr.cells].map((td) => td.innerText.trim()))"#;
    let row = eventually("the chat under Past with its queue, agent and start type", || async {
        let seen = js(&alice, rows).await;
        let found = seen.as_array().and_then(|rows| {
            // Names, not ids: the queue billing is "Billing", the agent bob "Bob Jones".
            rows.iter().find(|r| r[1] == "Billing" && r[3] == "Bob Jones" && r[4] == Value::String(start_type.clone()))
        });
        found
            .cloned()
            .ok_or_else(|| format!("rows (consumer, queue, status, agent, start type, language, opened): {seen:#}"))
    })
    .await;
    assert_eq!(row[2], "finished", "{row}");
    assert!(!start_type.is_empty(), "the API gave no start type: {ended:?}");
    // Its transcript is one click away, note and reply included.
    click_when(
        &alice,
        "the chat's button in its Past row",
        "return document.querySelector('#chat-rows tr td button')",
        "#chat-rows",
    )
    .await;
    until(
        &alice,
        "the transcript with alice's reply and the transfer note",
        &format!(
            "const t = document.getElementById('transcript').innerText; return t.includes({}) && t.includes({})",
            lit(REPLY),
            lit(NOTE)
        ),
        "#conversation",
    )
    .await;
}

/// The login form's fields have labels (screen readers, and clicking the label focuses the field),
/// and the agent workspace with a conversation open needs no horizontal scrolling on a 1280×800
/// laptop nor on a 390×844 phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_is_labelled_and_the_console_fits_a_laptop_and_a_phone() {
    const TEST: &str = "login_labels_and_widths";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = contact_center().await;
    let outcome = AssertUnwindSafe(labels_and_widths(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn labels_and_widths(browsers: &mut Browsers, app: &TestApp) {
    let alice = browsers.open("alice").await;
    alice.goto(format!("{}/login", app.base)).await.expect("opening /login");
    let fields = js(
        &alice,
        r#"return [...document.querySelectorAll('form input:not([type=hidden]), form button')].map((e) => ({
             id: e.id, tag: e.tagName,
             label: e.tagName === 'BUTTON' ? e.innerText.trim() : [...e.labels].map((l) => l.innerText.trim()).join(' ') }))"#,
    )
    .await;
    let fields = fields.as_array().expect("a list of fields");
    let labels: Vec<(&str, &str)> =
        fields.iter().map(|f| (f["id"].as_str().unwrap_or(""), f["label"].as_str().unwrap_or(""))).collect();
    assert_eq!(labels, [("username", "Username"), ("password", "Password"), ("", "Log in")], "{fields:#?}");

    // A chat connected to alice through the API, then opened in her workspace.
    let token = app.agent_token("alice").await;
    let agent = app.agent(&token);
    agent.set_status("available").await;
    let chat = app.phone("+14155550172").texts("billing").await.chat_id.expect("a chat");
    eventually("the chat to be offered to alice", || async {
        let chat = agent.chat(&chat).await;
        if chat.status == "offered" { Ok(()) } else { Err(format!("{chat:?}")) }
    })
    .await;
    agent.accept(&chat).await;
    log_in(&alice, app, "alice").await;
    open_chat_in_list(&alice, "mine", "Billing", "the chat in alice's #mine").await;
    until(&alice, "the conversation with its reply box", &shown("composer"), "#conversation").await;
    fits(&alice, 1280, 800).await;
    fits(&alice, 390, 844).await;
}

/// Issue 6, item 4: an admin finds the numbers with their state, is told every problem of a setup
/// that does not validate (and nothing changes), and adds a user who can then log in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_numbers_is_told_what_is_wrong_with_a_setup_and_adds_a_user() {
    const TEST: &str = "admin_page";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = contact_center().await;
    let outcome = AssertUnwindSafe(admin_page(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn admin_page(browsers: &mut Browsers, app: &TestApp) {
    let user = json!({"username": "root", "password": PASSWORD, "role": "admin"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    let admin = browsers.open("admin").await;
    log_in(&admin, app, "root").await;
    // Admins land on the monitor; the header links to the admin page.
    until(&admin, "the monitor's agents table", "return document.querySelectorAll('#agents tr').length === 2", "main")
        .await;
    admin.find(By::LinkText("Admin")).await.expect("the Admin link").click().await.expect("click");
    until(
        &admin,
        "the support number with its state",
        &format!(
            "return [...document.querySelectorAll('#numbers tr')].some((r) => r.innerText.includes({}) && r.querySelector('select')?.value === 'enabled')",
            lit(SUPPORT)
        ),
        "#admin",
    )
    .await;
    until(
        &admin,
        "the setup in the editor",
        "return document.getElementById('setup').value.includes('\"billing\"')",
        "#admin",
    )
    .await;

    // A menu naming a queue that does not exist: refused, the problem listed, the setup unchanged.
    let before = app.setup().await;
    js(
        &admin,
        r#"const e = document.getElementById('setup'); const doc = JSON.parse(e.value);
           doc.numbers[0].queues.push('nowhere'); e.value = JSON.stringify(doc, null, 2); return true"#,
    )
    .await;
    // The document is the expert's view, in a section opened first.
    js(&admin, "document.getElementById('expert').open = true; return true").await;
    click(&admin, "setup-save").await;
    until(
        &admin,
        "the problem listed under the editor",
        "return document.getElementById('setup-errors').innerText.includes('nowhere')",
        "#admin",
    )
    .await;
    assert_eq!(app.setup().await, before, "a refused setup changes nothing");

    // A new agent login, added through the form, works.
    admin.find(By::Id("user-name")).await.expect("#user-name").send_keys("dana").await.expect("typing");
    let agent = admin.find(By::Id("user-agent")).await.expect("#user-agent");
    SelectElement::new(&agent).await.expect("a select").select_by_value("bob").await.expect("picking bob");
    admin.find(By::Id("user-password")).await.expect("#user-password").send_keys(PASSWORD).await.expect("typing");
    admin.find(By::Css("#user-form button[type=submit]")).await.expect("the add button").click().await.expect("click");
    until(
        &admin,
        "dana in the users table",
        "return [...document.querySelectorAll('#users tr')].some((r) => r.innerText.includes('dana') && r.innerText.includes('Bob Jones'))",
        "#admin",
    )
    .await;
    let dana = browsers.open("dana").await;
    log_in(&dana, app, "dana").await;
    until(&dana, "dana's workspace", "return document.getElementById('workspace') !== null", "body").await;

    // Chat settings and a system message, through their forms; the setup has them after saving.
    let offer = admin.find(By::Id("timer-offer_timeout_seconds")).await.expect("the offer timeout field");
    offer.clear().await.expect("clearing");
    offer.send_keys("45").await.expect("typing");
    admin.find(By::Css("#settings-form button[type=submit]")).await.expect("save").click().await.expect("click");
    eventually("the offer timeout to be saved", || async {
        let setup = app.setup().await;
        match setup["settings"]["timers"]["offer_timeout_seconds"].as_i64() {
            Some(45) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    // Saving fills the forms in again from the stored setup, then says so.
    until(
        &admin,
        "the line under the form saying the settings were saved",
        "return document.getElementById('settings-feedback').innerText.includes('Chat settings saved.')",
        "#settings-card",
    )
    .await;
    let queued = admin.find(By::Css("#text-fields textarea[data-text=queued]")).await.expect("the queued text");
    queued.clear().await.expect("clearing");
    queued.send_keys("In line for {queue}, thanks for waiting.").await.expect("typing");
    admin.find(By::Css("#texts-form button[type=submit]")).await.expect("save").click().await.expect("click");
    eventually("the queued message to be saved", || async {
        let setup = app.setup().await;
        match setup["settings"]["messages"]["queued"].as_str() {
            Some("In line for {queue}, thanks for waiting.") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}
