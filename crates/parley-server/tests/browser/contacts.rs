//! The built-in CRM in the console (docs/crm.md "In the console"): the contact panel beside an agent's
//! chat fills itself when matching links the chat (no reload), edits the contact in place, and lets the
//! agent pick among several contacts with the chat's phone; the contacts page finds contacts by a
//! name prefix.
//!
//! Matching runs in the server's background worker; every wait is a poll for what the page shows.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

use crate::browser::{Browsers, click_when, console_problems, js, lit, until};
use crate::console::{PASSWORD, becomes_available, log_in, open_chat_in_list, shown};
use crate::harness::{ADMIN, SALES, TestApp, standard_setup};

/// The standard setup with sales' record policy set to `policy`.
fn setup_with_policy(policy: Option<&str>) -> Value {
    let mut setup = standard_setup();
    if let Some(policy) = policy {
        let queues = setup["queues"].as_array_mut().expect("queues");
        let sales = queues.iter_mut().find(|q| q["id"] == "sales").expect("the sales queue");
        sales["record_policy"] = json!(policy);
    }
    setup
}

/// A server with `setup` and the console user alice (agent alice).
async fn app_with(setup: &Value) -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(setup).await;
    let user = json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    app
}

/// The admin creates a contact; its id.
async fn contact(app: &TestApp, body: Value) -> String {
    let created = app.request(Method::POST, "/api/v1/contacts", Some(ADMIN), Some(&body)).await.expect_status(201).body;
    created["id"].as_str().expect("a contact id").to_owned()
}

/// The value of a form control.
async fn value_of(session: &WebDriver, id: &str) -> Value {
    js(session, &format!("const e = document.getElementById({}); return e ? e.value : null;", lit(id))).await
}

/// What the browser's console said that a page of ours must never cause: script errors and refusals
/// of the content policy (an inline style or script would be one).
async fn script_problems(session: &WebDriver) -> Vec<String> {
    console_problems(session)
        .await
        .into_iter()
        .filter(|p| p.contains("Content Security Policy") || p.contains("Uncaught") || p.contains("TypeError"))
        .collect()
}

/// Opens alice's console, available, with her sales chat from `phone` open; the chat's id.
async fn alices_sales_chat(session: &WebDriver, app: &TestApp, phone: &str) -> String {
    log_in(session, app, "alice").await;
    becomes_available(session, app, "alice").await;
    // Sales answers automatically: the chat connects to alice, the only agent of sales.
    let chat = app.phone(phone).to(SALES).texts("Hello, it's me").await.chat_id.expect("a chat");
    open_chat_in_list(session, "mine", "Sales", "the sales chat in alice's #mine").await;
    until(session, "the contact panel beside the chat", &shown("contact-panel"), "#workspace").await;
    chat
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_the_panel_fills_itself_when_the_chat_is_linked_and_saves_edits() {
    const TEST: &str = "contacts_panel_live";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    // Matched at the consumer's second message, so the panel is open and waiting when the link comes.
    let app = app_with(&setup_with_policy(Some("create_after_messages = 2"))).await;
    let outcome = AssertUnwindSafe(panel_live(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn panel_live(browsers: &mut Browsers, app: &TestApp) {
    const PHONE: &str = "+14155550601";
    let ada = contact(
        app,
        json!({"name": "Ada Lovelace", "company": "Analytical Engines", "phones": [PHONE], "tags": ["vip"], "notes": "Prefers texts"}),
    )
    .await;
    let alice = browsers.open("alice").await;
    let chat = alices_sales_chat(&alice, app, PHONE).await;
    until(
        &alice,
        "the panel to say it is matching (the link waits for the second message)",
        "const p = document.getElementById('contact-panel'); return p.dataset.state === 'waiting' \
         && document.getElementById('contact-status').innerText.startsWith('Matching')",
        "#contact-panel",
    )
    .await;
    // A mark in the page's memory: a reload would lose it.
    js(&alice, "window.parleyTestMark = 'no reload'; return true;").await;

    app.phone(PHONE).to(SALES).texts("Are you there?").await;
    until(
        &alice,
        "the panel to show Ada, linked by matching, without a reload",
        "return window.parleyTestMark === 'no reload' \
         && document.getElementById('contact-panel').dataset.state === 'linked' \
         && document.getElementById('contact-edit-name')?.value === 'Ada Lovelace' \
         && document.getElementById('contact-edit-company')?.value === 'Analytical Engines' \
         && document.getElementById('contact-edit-notes')?.value === 'Prefers texts' \
         && document.getElementById('contact-edit-tags')?.value === 'vip' \
         && document.getElementById('contact-how').innerText.includes('matched by phone') \
         && document.getElementById('contact-status').innerText.includes('linked to Ada Lovelace')",
        "#contact-panel",
    )
    .await;
    let phones = js(&alice, "return document.getElementById('contact-edit-phones').innerText").await;
    assert_eq!(phones, PHONE, "sales shows whole numbers, so the panel shows the phone as it is");

    // A bad e-mail is refused beside its field, and nothing is saved.
    let email = alice.find(By::Id("contact-edit-email")).await.expect("the e-mail field");
    email.send_keys("not-an-email").await.expect("typing");
    alice.find(By::Id("contact-edit-save")).await.expect("Save").click().await.expect("clicking Save");
    until(
        &alice,
        "the e-mail's problem beside the e-mail field",
        "const err = document.getElementById('contact-edit-email-err'); \
         return !err.hidden && err.innerText.length > 0 \
         && document.getElementById('contact-edit-email').getAttribute('aria-invalid') === 'true' \
         && document.getElementById('contact-edit-name-err').hidden",
        "#contact-panel",
    )
    .await;
    let stored =
        app.request(Method::GET, &format!("/api/v1/contacts/{ada}"), Some(ADMIN), None).await.expect_status(200);
    assert_eq!(stored.body["email"], Value::Null, "a refused save changes nothing: {}", stored.body);

    // The e-mail cleared again, new notes: saved, and the API has them.
    email.clear().await.expect("clearing the e-mail");
    let notes = alice.find(By::Id("contact-edit-notes")).await.expect("the notes");
    notes.clear().await.expect("clearing the notes");
    notes.send_keys("Called back; wants the gold plan").await.expect("typing the notes");
    alice.find(By::Id("contact-edit-save")).await.expect("Save").click().await.expect("clicking Save");
    until(
        &alice,
        "the panel to say the contact was saved",
        "return document.getElementById('contact-edit-saved').innerText.startsWith('Saved at')",
        "#contact-panel",
    )
    .await;
    let stored =
        app.request(Method::GET, &format!("/api/v1/contacts/{ada}"), Some(ADMIN), None).await.expect_status(200);
    assert_eq!(stored.body["notes"], "Called back; wants the gold plan", "{}", stored.body);
    assert_eq!(stored.body["email"], Value::Null, "{}", stored.body);
    assert_eq!(stored.body["name"], "Ada Lovelace", "fields not changed are not sent: {}", stored.body);
    assert_eq!(value_of(&alice, "contact-edit-notes").await, "Called back; wants the gold plan");

    let link =
        app.request(Method::GET, &format!("/api/v1/chats/{chat}/contact"), Some(ADMIN), None).await.expect_status(200);
    assert_eq!(
        (link.body["state"].as_str(), link.body["how"].as_str()),
        (Some("linked"), Some("matched")),
        "{}",
        link.body
    );
    let problems = script_problems(&alice).await;
    assert!(problems.is_empty(), "the browser's console reported: {problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_the_agent_picks_one_of_two_contacts_with_the_phone() {
    const TEST: &str = "contacts_panel_pick";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = app_with(&setup_with_policy(None)).await;
    let outcome = AssertUnwindSafe(panel_pick(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn panel_pick(browsers: &mut Browsers, app: &TestApp) {
    const PHONE: &str = "+14155550602";
    let ada = contact(app, json!({"name": "Ada Lovelace", "company": "Analytical Engines", "phones": [PHONE]})).await;
    let augusta =
        contact(app, json!({"name": "Augusta King", "email": "augusta@example.com", "phones": [PHONE]})).await;
    let alice = browsers.open("alice").await;
    let chat = alices_sales_chat(&alice, app, PHONE).await;
    until(
        &alice,
        "the prompt to list both contacts with the phone",
        &format!(
            "const items = [...document.querySelectorAll('#contact-candidates li')]; \
             return document.getElementById('contact-panel').dataset.state === 'pending' && items.length === 2 \
             && items.some((li) => li.dataset.contact === {} && li.innerText.includes('Ada Lovelace') && li.innerText.includes('Analytical Engines')) \
             && items.some((li) => li.dataset.contact === {} && li.innerText.includes('Augusta King') && li.innerText.includes('augusta@example.com'))",
            lit(&ada),
            lit(&augusta)
        ),
        "#contact-panel",
    )
    .await;
    let still_pending =
        app.request(Method::GET, &format!("/api/v1/chats/{chat}/contact"), Some(ADMIN), None).await.expect_status(200);
    assert_eq!(still_pending.body["state"], "pending", "nothing is guessed: {}", still_pending.body);

    click_when(
        &alice,
        "Augusta's \"This is them\" button",
        &format!("return document.querySelector('#contact-candidates li[data-contact={}] button.pick')", lit(&augusta)),
        "#contact-panel",
    )
    .await;
    until(
        &alice,
        "the panel to show Augusta, picked by alice",
        "return document.getElementById('contact-panel').dataset.state === 'linked' \
         && document.getElementById('contact-pending').hidden \
         && document.getElementById('contact-edit-name')?.value === 'Augusta King' \
         && document.getElementById('contact-edit-email')?.value === 'augusta@example.com' \
         && document.getElementById('contact-how').innerText.includes('picked by you')",
        "#contact-panel",
    )
    .await;
    let link =
        app.request(Method::GET, &format!("/api/v1/chats/{chat}/contact"), Some(ADMIN), None).await.expect_status(200);
    assert_eq!(
        (link.body["state"].as_str(), link.body["how"].as_str(), link.body["by"].as_str()),
        (Some("linked"), Some("picked"), Some("alice")),
        "{}",
        link.body
    );
    assert_eq!(link.body["contact"]["id"], augusta.as_str(), "{}", link.body);
    let problems = script_problems(&alice).await;
    assert!(problems.is_empty(), "the browser's console reported: {problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_the_contacts_page_finds_a_contact_by_a_name_prefix() {
    const TEST: &str = "contacts_page_search";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = app_with(&setup_with_policy(None)).await;
    let outcome = AssertUnwindSafe(page_search(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

/// A script: whether the page's table lists exactly these contacts, in this order.
fn listed_is(ids: &[&str]) -> String {
    format!(
        "return JSON.stringify([...document.querySelectorAll('#contact-rows tr')].map((tr) => tr.dataset.contact)) === {}",
        lit(&serde_json::to_string(ids).unwrap())
    )
}

async fn page_search(browsers: &mut Browsers, app: &TestApp) {
    let root = json!({"username": "root", "password": PASSWORD, "role": "admin"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&root)).await.expect_status(201);
    let ada = contact(app, json!({"name": "Ada Lovelace", "phones": ["+14155550611"], "tags": ["vip"]})).await;
    let adam = contact(app, json!({"name": "Adam Smith", "company": "Wealth of Nations"})).await;
    let grace = contact(app, json!({"name": "Grace Hopper", "email": "grace@example.com"})).await;

    let admin = browsers.open("root").await;
    log_in(&admin, app, "root").await;
    click_when(
        &admin,
        "the header's Contacts link",
        "return [...document.querySelectorAll('header.top a')].find((a) => a.innerText === 'Contacts') ?? null",
        "header",
    )
    .await;
    until(&admin, "the contacts page", "return location.pathname === '/console/contacts'", "body").await;
    until(&admin, "the contacts page listing all three contacts", &listed_is(&[&ada, &adam, &grace]), "#contacts-page")
        .await;

    // Typing searches by itself (no Enter): "ad" is the start of two names, not of Grace's.
    let search = admin.find(By::Id("contacts-q")).await.expect("the search box");
    search.send_keys("ad").await.expect("typing");
    until(&admin, "Ada and Adam, not Grace", &listed_is(&[&ada, &adam]), "#contacts-page").await;
    search.send_keys("a l").await.expect("typing");
    until(&admin, "only Ada Lovelace for \"ada l\"", &listed_is(&[&ada]), "#contacts-page").await;
    let row = js(&admin, "return document.querySelector('#contact-rows tr').innerText").await;
    let row = row.as_str().unwrap_or_default();
    assert!(row.contains("Ada Lovelace") && row.contains("+14155550611") && row.contains("vip"), "{row}");

    // A click opens the contact: its details and the editor.
    click_when(
        &admin,
        "Ada's name in the table",
        "return document.querySelector('#contact-rows tr button')",
        "#contacts-page",
    )
    .await;
    until(
        &admin,
        "Ada's details and editor",
        &format!(
            "return {} && document.getElementById('contact-detail').dataset.contact === {} \
             && document.getElementById('contact-detail-h').innerText === 'Ada Lovelace' \
             && document.getElementById('contact-facts').innerText.includes('+14155550611') \
             && document.getElementById('contact-page-name')?.value === 'Ada Lovelace'",
            shown("contact-detail").trim_start_matches("return "),
            lit(&ada)
        ),
        "#contact-detail",
    )
    .await;
    let problems = script_problems(&admin).await;
    assert!(problems.is_empty(), "the browser's console reported: {problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_an_agent_whose_queues_mask_numbers_is_told_why_a_digit_search_is_refused() {
    const TEST: &str = "contacts_page_masked";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let mut setup = setup_with_policy(None);
    let queues = setup["queues"].as_array_mut().expect("queues");
    queues.iter_mut().find(|q| q["id"] == "sales").expect("the sales queue")["consumer_number"] = json!("last_four");
    let app = app_with(&setup).await;
    let outcome = AssertUnwindSafe(page_masked(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn page_masked(browsers: &mut Browsers, app: &TestApp) {
    const PHONE: &str = "+14155550621";
    let ada = contact(app, json!({"name": "Ada Lovelace", "phones": [PHONE]})).await;
    // A chat from Ada's phone in sales, a queue of alice's: Ada is one of her chats' contacts.
    app.phone(PHONE).to(SALES).texts("Hello").await.chat_id.expect("a chat");

    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    alice.goto(format!("{}/console/contacts", app.base)).await.expect("opening the contacts page");
    until(&alice, "Ada listed, her phone masked", &listed_is(&[&ada]), "#contacts-page").await;
    let row = js(&alice, "return document.querySelector('#contact-rows tr').innerText").await;
    let row = row.as_str().unwrap_or_default();
    assert!(row.contains("0621") && !row.contains(PHONE), "sales shows the last four digits only: {row}");

    alice.find(By::Id("contacts-q")).await.expect("the search box").send_keys("1415").await.expect("typing");
    until(
        &alice,
        "the API's refusal of a digit search, in words, and no list",
        "const m = document.getElementById('contacts-msg'); \
         return !m.hidden && m.classList.contains('error') && m.innerText.includes('search contacts by name or e-mail instead') \
         && document.querySelectorAll('#contact-rows tr').length === 0",
        "#contacts-page",
    )
    .await;
    let problems = script_problems(&alice).await;
    assert!(problems.is_empty(), "the browser's console reported: {problems:#?}");
}
