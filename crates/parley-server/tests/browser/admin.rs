//! The admin page in a real browser (issue 13, item 3): every object of the setup created, edited and
//! deleted through its form, a problem shown next to the field it concerns, users edited, disabled,
//! enabled and given a new password, and the page's day-one bugs (an admin token from an empty agent
//! field, timer labels beside the wrong boxes, ids where names belong, feedback out of view, a phone's
//! width).
//!
//! Each check reads the result where it lands: the stored setup or users through the API, and the
//! page's own text next to the form. Waits are polls with a deadline, never sleeps.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use crate::browser::{Browsers, js, lit, until};
use crate::console::PASSWORD;
use crate::harness::{ADMIN, SUPPORT, TestApp, eventually};

/// The support number's menu of billing and tech, alice and bob in the blue team, an agent user dana
/// and the admin user root who drives the page.
async fn floor() -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "label": "Customer support", "carrier": "sim", "queues": ["billing", "tech"]}],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1", "BILLING"]},
            {"id": "tech", "name": "Technical support", "keywords": ["2", "TECH"]}
        ],
        "agents": [
            {"id": "alice", "name": "Alice Smith", "queues": ["billing", "tech"], "capacity": 3},
            {"id": "bob", "name": "Bob Jones", "queues": ["billing"], "capacity": 2}
        ],
        "teams": [{"id": "blue", "name": "Blue team", "members": ["alice", "bob"]}],
        "settings": {"brand": "Acme", "languages": {"es": {"name": "español"}}}
    }))
    .await;
    for user in [
        json!({"username": "root", "password": PASSWORD, "role": "admin"}),
        json!({"username": "dana", "password": PASSWORD, "role": "agent", "agent": "bob"}),
    ] {
        app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    }
    app
}

/// Runs `scenario` in its own browsers, saving screenshots when it fails.
macro_rules! browser_test {
    ($name:ident, $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(mut browsers) = Browsers::start(stringify!($name)) else { return };
            let app = floor().await;
            let outcome = AssertUnwindSafe($scenario(&mut browsers, &app)).catch_unwind().await;
            browsers.finish(outcome).await;
        }
    };
}

/// Logs in through the form; true when it landed on the console, false when the form said no.
async fn log_in_with(session: &WebDriver, app: &TestApp, username: &str, password: &str) -> bool {
    session.goto(format!("{}/login", app.base)).await.expect("opening /login");
    session.find(By::Id("username")).await.expect("the username field").send_keys(username).await.expect("typing");
    session.find(By::Id("password")).await.expect("the password field").send_keys(password).await.expect("typing");
    session.find(By::Css("form button[type=submit]")).await.expect("the login button").click().await.expect("click");
    eventually(&format!("{username}'s login to land on the console or be refused"), || async {
        let seen = js(session, "return location.pathname === '/console' && !!document.getElementById('logout') ? 'in' : (document.getElementById('login-error') ? 'refused' : 'waiting')").await;
        match seen.as_str() {
            Some("in") => Ok(true),
            Some("refused") => Ok(false),
            _ => Err(format!("{seen}")),
        }
    })
    .await
}

/// The admin page as root, loaded (the numbers table and the setup's forms filled in).
async fn admin_page(browsers: &mut Browsers, app: &TestApp) -> WebDriver {
    let admin = browsers.open("admin").await;
    assert!(log_in_with(&admin, app, "root", PASSWORD).await, "root logs in");
    admin.goto(format!("{}/console/admin", app.base)).await.expect("opening the admin page");
    until(
        &admin,
        "the admin page to load",
        "return document.querySelectorAll('#queues-rows tr[data-id]').length === 2",
        "#admin",
    )
    .await;
    admin
}

/// Replaces the text of the input or text area `id`.
async fn fill(session: &WebDriver, id: &str, text: &str) {
    let field = session.find(By::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    field.clear().await.unwrap_or_else(|e| panic!("clearing #{id}: {e}"));
    if !text.is_empty() {
        field.send_keys(text).await.unwrap_or_else(|e| panic!("typing into #{id}: {e}"));
    }
}

/// Picks the option with this value in the select `id`.
async fn pick(session: &WebDriver, id: &str, value: &str) {
    let select = session.find(By::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    SelectElement::new(&select)
        .await
        .expect("a select")
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("picking {value} in #{id}: {e}"));
}

/// Clicks the checkbox labelled `label` in the fieldset `id` (a list of choices).
async fn choose(session: &WebDriver, id: &str, label: &str) {
    let script = format!(
        "return [...document.querySelectorAll('#{id} label')].find((l) => l.innerText.trim() === {}) ?? null",
        lit(label)
    );
    let found = session.execute(script, Vec::new()).await.expect("finding the choice");
    found.element().unwrap_or_else(|e| panic!("no choice {label:?} in #{id}: {e}")).click().await.expect("click");
}

/// Clicks the button whose accessible name (aria-label, else its text) is `name`.
async fn press(session: &WebDriver, name: &str) {
    let script = format!(
        "return [...document.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? b.innerText.trim()) === {} && b.offsetParent !== null) ?? null",
        lit(name)
    );
    eventually(&format!("the button {name:?}"), || async {
        let ret = session.execute(script.as_str(), Vec::new()).await.map_err(|e| e.to_string())?;
        if ret.json().is_null() {
            return Err("not on the page".to_owned());
        }
        ret.element().map_err(|e| e.to_string())?.click().await.map_err(|e| e.to_string())
    })
    .await;
}

/// Opens the editor with the button `name` and waits for it.
async fn open_editor(session: &WebDriver, name: &str, title: &str) {
    press(session, name).await;
    until(
        session,
        &format!("the editor {title:?}"),
        &format!(
            "return document.getElementById('editor').open && document.getElementById('editor-title').innerText === {}",
            lit(title)
        ),
        "#editor",
    )
    .await;
}

/// Saves the editor and waits until it closed and `feedback` (an element id) says `says`.
async fn save_editor(session: &WebDriver, feedback: &str, says: &str) {
    session.find(By::Id("editor-save")).await.expect("the save button").click().await.expect("click");
    until(
        session,
        &format!("the editor to close and #{feedback} to say {says:?}"),
        &format!(
            "return !document.getElementById('editor').open && document.getElementById({}).innerText.includes({})",
            lit(feedback),
            lit(says)
        ),
        "body",
    )
    .await;
    in_view(session, feedback).await;
}

/// Fails unless the element `id` is inside the window (feedback a person sees without scrolling).
async fn in_view(session: &WebDriver, id: &str) {
    let probe = format!(
        "const r = document.getElementById({}).getBoundingClientRect(); return {{ top: r.top, bottom: r.bottom, height: r.height, window: window.innerHeight }}",
        lit(id)
    );
    eventually(&format!("#{id} to be in view"), || async {
        let r = js(session, &probe).await;
        let (top, bottom, height, window) =
            (r["top"].as_f64(), r["bottom"].as_f64(), r["height"].as_f64(), r["window"].as_f64());
        match (top, bottom, height, window) {
            // Scrolled to the window's edge, a box may end a fraction of a pixel past it.
            (Some(t), Some(b), Some(h), Some(w)) if h > 0.0 && t >= -1.0 && b <= w + 1.0 => Ok(()),
            _ => Err(format!("{r}")),
        }
    })
    .await;
}

/// Saves the editor expecting a refusal of field `id`: the problem is shown next to it (its error
/// element, named by `aria-describedby`, with `aria-invalid` set), the editor stays open, and the
/// stored setup is `before`.
async fn refused_at(session: &WebDriver, app: &TestApp, id: &str, says: &str, before: &Value) {
    session.find(By::Id("editor-save")).await.expect("the save button").click().await.expect("click");
    field_says(session, id, says).await;
    assert!(js(session, "return document.getElementById('editor').open").await == json!(true), "the editor stays open");
    assert_eq!(&app.setup().await, before, "a refused change changes nothing");
}

/// Waits until the field `id` is marked invalid with a message holding `says` next to it.
async fn field_says(session: &WebDriver, id: &str, says: &str) {
    until(
        session,
        &format!("#{id} to be marked invalid, saying {says:?} next to it"),
        &format!(
            r#"const f = document.getElementById({id}); const e = document.getElementById({id} + '-error');
               return !!f && !!e && f.getAttribute('aria-invalid') === 'true' && !e.hidden
                 && (f.getAttribute('aria-describedby') ?? '').split(' ').includes(e.id)
                 && e.innerText.toLowerCase().includes({says})
                 && f.closest('.field') === e.closest('.field')"#,
            id = lit(id),
            says = lit(&says.to_lowercase())
        ),
        "#editor, #admin",
    )
    .await;
}

/// Answers the page's `confirm()` with OK; returns its question.
async fn confirm(session: &WebDriver, what: &str) -> String {
    let text = eventually(what, || async { session.get_alert_text().await.map_err(|e| e.to_string()) }).await;
    session.accept_alert().await.expect("accepting the confirmation");
    text
}

/// The object of the stored setup's `kind` whose `key` is `id`.
async fn stored(app: &TestApp, kind: &str, key: &str, id: &str) -> Option<Value> {
    let setup = app.setup().await;
    setup[kind].as_array().and_then(|list| list.iter().find(|o| o[key] == id).cloned())
}

// ---------------------------------------------------------------------------------------------------

browser_test!(queues_and_numbers_are_created_edited_and_deleted_through_forms, queues_and_numbers);

async fn queues_and_numbers(browsers: &mut Browsers, app: &TestApp) {
    let admin = admin_page(browsers, app).await;
    // Names where a person reads them: the menu column shows queue names, not ids.
    until(
        &admin,
        "the number's menu by queue names",
        &format!(
            "return document.querySelector('#numbers tr[data-id={}]').innerText.includes('Billing, Technical support')",
            lit(SUPPORT)
        ),
        "#numbers",
    )
    .await;

    // A new queue: its name is required, checked by the browser before anything is sent.
    open_editor(&admin, "Add a queue", "New queue").await;
    fill(&admin, "ed-queues-id", "sales").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-queues-name", "fill", &before).await;
    fill(&admin, "ed-queues-name", "Sales").await;
    fill(&admin, "ed-queues-keywords", "3, SALES").await;
    fill(&admin, "ed-queues-languages-es-name", "Ventas").await;
    fill(&admin, "ed-queues-timers-offer_timeout_seconds", "30").await;
    pick(&admin, "ed-queues-consumer_number", "last_four").await;
    pick(&admin, "ed-queues-overflow", "billing").await;
    fill(&admin, "ed-queues-hours-time_zone", "America/New_York").await;
    fill(&admin, "ed-queues-hours-mon", "09:00-17:00").await;
    save_editor(&admin, "queues-feedback", "Queue Sales added.").await;
    let sales = stored(app, "queues", "id", "sales").await.expect("the new queue stored");
    assert_eq!(sales["name"], "Sales");
    assert_eq!(sales["keywords"], json!(["3", "SALES"]));
    assert_eq!(sales["languages"]["es"]["name"], "Ventas");
    assert_eq!(sales["timers"]["offer_timeout_seconds"], 30);
    assert_eq!(sales["consumer_number"], "last_four");
    assert_eq!(sales["overflow"], "billing");
    assert_eq!(sales["hours"]["time_zone"], "America/New_York");
    assert_eq!(sales["hours"]["mon"], json!(["09:00-17:00"]));

    // Edited: a bad opening time is caught next to its field; then a keyword is added.
    open_editor(&admin, "Edit queue Sales", "Edit queue Sales").await;
    fill(&admin, "ed-queues-hours-tue", "9 to 5").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-queues-hours-tue", "hh:mm-hh:mm", &before).await;
    fill(&admin, "ed-queues-hours-tue", "").await;
    fill(&admin, "ed-queues-keywords", "3, SALES, VENTAS").await;
    save_editor(&admin, "queues-feedback", "Queue Sales saved.").await;
    let sales = stored(app, "queues", "id", "sales").await.expect("the queue");
    assert_eq!(sales["keywords"], json!(["3", "SALES", "VENTAS"]));
    assert!(sales["hours"].get("tue").is_none(), "{sales}");
    assert_eq!(sales["timers"]["offer_timeout_seconds"], 30, "fields not touched stay");

    // A problem only the server sees (an unknown time zone) is shown in the editor: next to the time
    // zone when the server names the field, else in the editor's own error area.
    open_editor(&admin, "Edit queue Sales", "Edit queue Sales").await;
    fill(&admin, "ed-queues-hours-time_zone", "Mars/Olympus_Mons").await;
    let before = app.setup().await;
    admin.find(By::Id("editor-save")).await.expect("save").click().await.expect("click");
    until(
        &admin,
        "the server's problem with the time zone in the editor",
        r#"const near = document.getElementById('ed-queues-hours-time_zone-error');
           const area = document.getElementById('editor-errors');
           return (!near.hidden && near.innerText.includes('Mars')) || (!area.hidden && area.innerText.includes('Mars'))"#,
        "#editor",
    )
    .await;
    assert_eq!(app.setup().await, before, "a refused change changes nothing");
    press(&admin, "Cancel").await;

    // A number: its menu must list a queue (checked before sending), then it is added with Sales.
    open_editor(&admin, "Add a number", "New number").await;
    fill(&admin, "ed-numbers-number", "+15550009000").await;
    fill(&admin, "ed-numbers-label", "Sales line").await;
    fill(&admin, "ed-numbers-carrier", "sim").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-numbers-queues", "at least one queue", &before).await;
    choose(&admin, "ed-numbers-queues", "Sales").await;
    fill(&admin, "ed-numbers-opt_out_keywords", "ALTO").await;
    save_editor(&admin, "numbers-feedback", "Number +15550009000 (Sales line) added.").await;
    let number = stored(app, "numbers", "number", "+15550009000").await.expect("the new number");
    assert_eq!(number["queues"], json!(["sales"]));
    assert_eq!(number["opt_out_keywords"], json!(["ALTO"]));
    until(
        &admin,
        "the new number in the table",
        "return !!document.querySelector('#numbers tr[data-id=\"+15550009000\"]')",
        "#numbers",
    )
    .await;

    // Edited: Billing joins its menu after Sales (the menu keeps its order).
    open_editor(&admin, "Edit number +15550009000 (Sales line)", "Edit number +15550009000 (Sales line)").await;
    choose(&admin, "ed-numbers-queues", "Billing").await;
    fill(&admin, "ed-numbers-label", "Sales and billing").await;
    save_editor(&admin, "numbers-feedback", "saved.").await;
    let number = stored(app, "numbers", "number", "+15550009000").await.expect("the number");
    assert_eq!(number["queues"], json!(["sales", "billing"]));
    assert_eq!(number["label"], "Sales and billing");

    // Deleting a queue a menu uses: the question says who uses it, the server refuses, and the
    // section says why next to its list.
    press(&admin, "Delete queue Sales").await;
    let question = confirm(&admin, "the question before deleting Sales").await;
    assert!(question.contains("the menu of Sales and billing"), "{question}");
    until(
        &admin,
        "the refusal next to the queues",
        "const f = document.getElementById('queues-feedback'); return f.classList.contains('error') && f.innerText.includes('not deleted') && f.innerText.includes('Sales and billing')",
        "#queues-card",
    )
    .await;
    in_view(&admin, "queues-feedback").await;
    assert!(stored(app, "queues", "id", "sales").await.is_some(), "a refused delete keeps the queue");

    // The number goes first, then the queue.
    press(&admin, "Delete number +15550009000 (Sales and billing)").await;
    confirm(&admin, "the question before deleting the number").await;
    until(
        &admin,
        "the number deleted",
        "return document.getElementById('numbers-feedback').innerText.includes('Deleted number')",
        "#numbers-card",
    )
    .await;
    assert!(stored(app, "numbers", "number", "+15550009000").await.is_none());
    press(&admin, "Delete queue Sales").await;
    let question = confirm(&admin, "the question before deleting Sales again").await;
    assert_eq!(question, "Delete queue Sales?");
    until(
        &admin,
        "the queue deleted",
        "return document.getElementById('queues-feedback').innerText.includes('Deleted queue Sales.')",
        "#queues-card",
    )
    .await;
    assert!(stored(app, "queues", "id", "sales").await.is_none());
}

browser_test!(agents_teams_and_replies_are_created_edited_and_deleted_through_forms, agents_teams_replies);

async fn agents_teams_replies(browsers: &mut Browsers, app: &TestApp) {
    let admin = admin_page(browsers, app).await;
    // Names, not ids: the agents' queues and teams.
    until(
        &admin,
        "alice's row by names",
        "const r = document.querySelector('#agents-rows tr[data-id=alice]').innerText; return r.includes('Alice Smith') && r.includes('Billing, Technical support') && r.includes('Blue team')",
        "#agents-card",
    )
    .await;

    // Agents: capacity outside 1 to 50 is caught next to the field.
    open_editor(&admin, "Add an agent", "New agent").await;
    fill(&admin, "ed-agents-id", "carol").await;
    fill(&admin, "ed-agents-name", "Carol King").await;
    choose(&admin, "ed-agents-queues", "Technical support").await;
    choose(&admin, "ed-agents-languages", "español (es)").await;
    fill(&admin, "ed-agents-capacity", "0").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-agents-capacity", "1", &before).await;
    fill(&admin, "ed-agents-capacity", "4").await;
    save_editor(&admin, "agents-feedback", "Agent Carol King added.").await;
    let carol = stored(app, "agents", "id", "carol").await.expect("carol stored");
    assert_eq!(
        (carol["name"].clone(), carol["queues"].clone(), carol["capacity"].clone(), carol["languages"].clone()),
        (json!("Carol King"), json!(["tech"]), json!(4), json!(["es"]))
    );
    open_editor(&admin, "Edit agent Carol King", "Edit agent Carol King").await;
    fill(&admin, "ed-agents-capacity", "6").await;
    choose(&admin, "ed-agents-queues", "Billing").await;
    save_editor(&admin, "agents-feedback", "Agent Carol King saved.").await;
    let carol = stored(app, "agents", "id", "carol").await.expect("carol");
    assert_eq!((carol["capacity"].clone(), carol["queues"].clone()), (json!(6), json!(["tech", "billing"])));

    // Teams: an id already taken is caught before sending.
    open_editor(&admin, "Add a team", "New team").await;
    fill(&admin, "ed-teams-id", "blue").await;
    fill(&admin, "ed-teams-name", "Red team").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-teams-id", "already one", &before).await;
    fill(&admin, "ed-teams-id", "red").await;
    choose(&admin, "ed-teams-members", "Carol King").await;
    save_editor(&admin, "teams-feedback", "Team Red team added.").await;
    assert_eq!(stored(app, "teams", "id", "red").await.expect("red")["members"], json!(["carol"]));
    open_editor(&admin, "Edit team Red team", "Edit team Red team").await;
    choose(&admin, "ed-teams-members", "Bob Jones").await;
    choose(&admin, "ed-teams-queues", "Billing").await;
    save_editor(&admin, "teams-feedback", "Team Red team saved.").await;
    let red = stored(app, "teams", "id", "red").await.expect("red");
    assert_eq!((red["members"].clone(), red["queues"].clone()), (json!(["carol", "bob"]), json!(["billing"])));

    // Predefined replies: the text is required; then one for the red team.
    open_editor(&admin, "Add a reply", "New reply").await;
    fill(&admin, "ed-replies-id", "hello").await;
    fill(&admin, "ed-replies-title", "Hello").await;
    fill(&admin, "ed-replies-shortcut", "hi").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-replies-text", "fill", &before).await;
    fill(&admin, "ed-replies-text", "Hi, this is {agent_first_name}. How can I help?").await;
    choose(&admin, "ed-replies-teams", "Red team").await;
    save_editor(&admin, "replies-feedback", "Reply Hello added.").await;
    let hello = stored(app, "replies", "id", "hello").await.expect("the reply");
    assert_eq!((hello["shortcut"].clone(), hello["teams"].clone()), (json!("hi"), json!(["red"])));
    open_editor(&admin, "Edit reply Hello", "Edit reply Hello").await;
    fill(&admin, "ed-replies-category", "Greetings").await;
    save_editor(&admin, "replies-feedback", "Reply Hello saved.").await;
    assert_eq!(stored(app, "replies", "id", "hello").await.expect("the reply")["category"], "Greetings");

    // The server's problems, as the validation contract has them (a JSON Pointer per problem), go
    // next to the field they name; one naming nothing on the form goes to the editor's error area.
    // The answer is the server's contract, played by the page's fetch, so this holds whichever
    // server version runs.
    js(
        &admin,
        r#"const real = window.fetch;
           window.fetch = (url, init) => url === '/api/v1/setup' && init?.method === 'PUT'
             ? Promise.resolve(new Response(JSON.stringify({ error: { code: 'validation_failed',
                 message: 'the setup was not applied: agent "carol" has capacity 7; number 9 is odd',
                 details: [{ field: '/agents/2/capacity', message: 'agent "carol" has capacity 7: use 1 to 5' },
                           { field: '/numbers/9', message: 'number 9 is odd' }] } }),
                 { status: 422, headers: { 'Content-Type': 'application/json' } }))
             : real(url, init);
           return true"#,
    )
    .await;
    open_editor(&admin, "Edit agent Carol King", "Edit agent Carol King").await;
    fill(&admin, "ed-agents-capacity", "7").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-agents-capacity", "use 1 to 5", &before).await;
    until(
        &admin,
        "the unplaced problem in the editor's error area",
        "const a = document.getElementById('editor-errors'); return !a.hidden && a.innerText.includes('number 9 is odd') && !a.innerText.includes('capacity 7')",
        "#editor",
    )
    .await;
    press(&admin, "Cancel").await;
    admin.refresh().await.expect("reloading the page");
    until(
        &admin,
        "the admin page again",
        "return document.querySelectorAll('#agents-rows tr[data-id]').length === 3",
        "#admin",
    )
    .await;

    // Deleting: the reply, then the team the reply named (it asks first), then carol.
    press(&admin, "Delete team Red team").await;
    let question = confirm(&admin, "the question before deleting the red team").await;
    assert!(question.contains("reply Hello"), "{question}");
    until(
        &admin,
        "the refusal next to the teams",
        "return document.getElementById('teams-feedback').innerText.includes('not deleted')",
        "#teams-card",
    )
    .await;
    press(&admin, "Delete reply Hello").await;
    confirm(&admin, "deleting the reply").await;
    until(
        &admin,
        "the reply deleted",
        "return document.getElementById('replies-feedback').innerText.includes('Deleted reply Hello.')",
        "#replies-card",
    )
    .await;
    press(&admin, "Delete team Red team").await;
    confirm(&admin, "deleting the team").await;
    until(
        &admin,
        "the team deleted",
        "return document.getElementById('teams-feedback').innerText.includes('Deleted team Red team.')",
        "#teams-card",
    )
    .await;
    press(&admin, "Delete agent Carol King").await;
    confirm(&admin, "deleting carol").await;
    until(
        &admin,
        "carol deleted",
        "return document.getElementById('agents-feedback').innerText.includes('Deleted agent Carol King.')",
        "#agents-card",
    )
    .await;
    let setup = app.setup().await;
    assert!(
        stored(app, "agents", "id", "carol").await.is_none() && stored(app, "teams", "id", "red").await.is_none(),
        "{setup}"
    );
    assert!(setup["replies"].as_array().is_none_or(|r| r.is_empty()), "{setup}");
}

browser_test!(campaigns_and_brands_are_created_edited_and_deleted_through_forms, campaigns_and_brands);

async fn campaigns_and_brands(browsers: &mut Browsers, app: &TestApp) {
    let admin = admin_page(browsers, app).await;
    // A brand: a country is two capital letters.
    open_editor(&admin, "Add a brand", "New brand").await;
    fill(&admin, "ed-brands-id", "acme").await;
    fill(&admin, "ed-brands-legal_name", "Acme Inc.").await;
    fill(&admin, "ed-brands-tax_id_country", "us").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-brands-tax_id_country", "", &before).await;
    fill(&admin, "ed-brands-tax_id_country", "US").await;
    pick(&admin, "ed-brands-vertical", "retail").await;
    fill(&admin, "ed-brands-address-city", "Springfield").await;
    save_editor(&admin, "brands-feedback", "Brand Acme Inc. added.").await;
    let acme = stored(app, "brands", "id", "acme").await.expect("the brand");
    assert_eq!(
        (acme["tax_id_country"].clone(), acme["vertical"].clone(), acme["address"].clone()),
        (json!("US"), json!("retail"), json!({"city": "Springfield"}))
    );
    open_editor(&admin, "Edit brand Acme Inc.", "Edit brand Acme Inc.").await;
    fill(&admin, "ed-brands-website", "https://acme.example").await;
    save_editor(&admin, "brands-feedback", "Brand Acme Inc. saved.").await;
    assert_eq!(stored(app, "brands", "id", "acme").await.expect("the brand")["website"], "https://acme.example");

    // A campaign of that brand: a description shorter than 40 characters is caught.
    open_editor(&admin, "Add a campaign", "New campaign").await;
    fill(&admin, "ed-campaigns-id", "care").await;
    fill(&admin, "ed-campaigns-name", "Customer care").await;
    pick(&admin, "ed-campaigns-brand", "acme").await;
    pick(&admin, "ed-campaigns-use_case", "customer_care").await;
    fill(&admin, "ed-campaigns-description", "Too short.").await;
    let before = app.setup().await;
    refused_at(&admin, app, "ed-campaigns-description", "40", &before).await;
    fill(&admin, "ed-campaigns-description", "Answers to customers who text our support line about their orders.")
        .await;
    fill(&admin, "ed-campaigns-segments_per_second", "2.5").await;
    save_editor(&admin, "campaigns-feedback", "Campaign Customer care added.").await;
    let care = stored(app, "campaigns", "id", "care").await.expect("the campaign");
    assert_eq!(
        (care["brand"].clone(), care["use_case"].clone(), care["segments_per_second"].clone()),
        (json!("acme"), json!("customer_care"), json!(2.5))
    );
    open_editor(&admin, "Edit campaign Customer care", "Edit campaign Customer care").await;
    fill(&admin, "ed-campaigns-expected_volume", "1000").await;
    save_editor(&admin, "campaigns-feedback", "Campaign Customer care saved.").await;
    assert_eq!(stored(app, "campaigns", "id", "care").await.expect("the campaign")["expected_volume"], 1000);

    // The brand cannot go while its campaign names it; the campaign can, then the brand.
    press(&admin, "Delete brand Acme Inc.").await;
    let question = confirm(&admin, "deleting the brand").await;
    assert!(question.contains("campaign Customer care"), "{question}");
    until(
        &admin,
        "the refusal next to the brands",
        "return document.getElementById('brands-feedback').innerText.includes('not deleted')",
        "#brands-card",
    )
    .await;
    press(&admin, "Delete campaign Customer care").await;
    confirm(&admin, "deleting the campaign").await;
    until(
        &admin,
        "the campaign deleted",
        "return document.getElementById('campaigns-feedback').innerText.includes('Deleted campaign')",
        "#campaigns-card",
    )
    .await;
    press(&admin, "Delete brand Acme Inc.").await;
    confirm(&admin, "deleting the brand again").await;
    until(
        &admin,
        "the brand deleted",
        "return document.getElementById('brands-feedback').innerText.includes('Deleted brand')",
        "#brands-card",
    )
    .await;
    let setup = app.setup().await;
    assert!(
        setup.get("brands").is_none_or(|b| b == &json!([])) && setup.get("campaigns").is_none_or(|c| c == &json!([])),
        "{setup}"
    );
}

browser_test!(users_are_edited_disabled_enabled_and_given_a_new_password, users);

async fn users(browsers: &mut Browsers, app: &TestApp) {
    let admin = admin_page(browsers, app).await;
    // Names, not ids: dana acts as Bob Jones.
    until(
        &admin,
        "dana's row",
        "return document.querySelector('#users tr[data-user=dana]')?.innerText.includes('Bob Jones')",
        "#users",
    )
    .await;

    // dana becomes a supervisor of the blue team; a supervisor without a team is caught first.
    open_editor(&admin, "Edit user dana", "Edit user dana").await;
    pick(&admin, "ed-user-role", "supervisor").await;
    admin.find(By::Id("editor-save")).await.expect("save").click().await.expect("click");
    field_says(&admin, "ed-user-teams", "at least one team").await;
    choose(&admin, "ed-user-teams", "Blue team").await;
    save_editor(&admin, "users-feedback", "dana saved.").await;
    let list = app.request(Method::GET, "/api/v1/users", Some(ADMIN), None).await.expect_status(200).body;
    let dana =
        list["users"].as_array().and_then(|u| u.iter().find(|u| u["username"] == "dana").cloned()).expect("dana");
    assert_eq!(
        (dana["role"].clone(), dana["teams"].clone(), dana["agent"].clone()),
        (json!("supervisor"), json!(["blue"]), Value::Null)
    );
    until(
        &admin,
        "dana's row as a supervisor",
        "return document.querySelector('#users tr[data-user=dana]').innerText.includes('Blue team')",
        "#users",
    )
    .await;

    // Disabled: dana cannot log in; enabled: she can.
    press(&admin, "Disable user dana").await;
    confirm(&admin, "disabling dana").await;
    until(
        &admin,
        "dana disabled",
        "return document.getElementById('users-feedback').innerText.includes('dana is disabled')",
        "#users-card",
    )
    .await;
    in_view(&admin, "users-feedback").await;
    let dana = browsers.open("dana").await;
    assert!(!log_in_with(&dana, app, "dana", PASSWORD).await, "a disabled user cannot log in");
    press(&admin, "Enable user dana").await;
    until(
        &admin,
        "dana enabled",
        "return document.getElementById('users-feedback').innerText.includes('dana is enabled')",
        "#users-card",
    )
    .await;
    assert!(log_in_with(&dana, app, "dana", PASSWORD).await, "an enabled user logs in");

    // A new password: too short is caught next to it; then the new one works and the old does not.
    open_editor(&admin, "Edit user dana", "Edit user dana").await;
    fill(&admin, "ed-user-password", "short").await;
    admin.find(By::Id("editor-save")).await.expect("save").click().await.expect("click");
    field_says(&admin, "ed-user-password", "10").await;
    fill(&admin, "ed-user-password", "a brand new passphrase").await;
    save_editor(&admin, "users-feedback", "with a new password").await;
    let again = browsers.open("dana-again").await;
    assert!(!log_in_with(&again, app, "dana", PASSWORD).await, "the old password no longer works");
    assert!(log_in_with(&again, app, "dana", "a brand new passphrase").await, "the new password works");
}

browser_test!(admin_tokens_timer_labels_feedback_and_a_phone_width, tokens_labels_and_width);

async fn tokens_labels_and_width(browsers: &mut Browsers, app: &TestApp) {
    let admin = admin_page(browsers, app).await;

    // The token bug: "nobody" (an admin token) used to send {} and get 422. The token shown works.
    pick(&admin, "token-agent", "").await;
    admin.find(By::Css("#token-form button[type=submit]")).await.expect("create").click().await.expect("click");
    let token = eventually("the new admin token on the page", || async {
        let t = js(&admin, "return document.querySelector('#token-out code')?.innerText ?? null").await;
        t.as_str().map(str::to_owned).ok_or_else(|| t.to_string())
    })
    .await;
    assert!(
        js(&admin, "return document.getElementById('token-out').innerText")
            .await
            .as_str()
            .unwrap_or("")
            .contains("(admin)")
    );
    app.request(Method::GET, "/api/v1/users", Some(&token), None).await.expect_status(200);
    // An agent's token says whose it is, by name.
    pick(&admin, "token-agent", "alice").await;
    admin.find(By::Css("#token-form button[type=submit]")).await.expect("create").click().await.expect("click");
    until(
        &admin,
        "alice's token",
        "return document.getElementById('token-out').innerText.includes('for Alice Smith')",
        "#tokens-card",
    )
    .await;
    // A key for an integration: a name and one scope; it is listed without its token, it may do only
    // what the scope allows, and Revoke ends it at once.
    pick(&admin, "token-agent", "").await;
    admin.find(By::Id("token-name")).await.expect("name").send_keys("order-system").await.expect("type");
    admin.find(By::Css("input[name=token-scope][value='sms:send']")).await.expect("scope").click().await.expect("tick");
    admin.find(By::Css("#token-form button[type=submit]")).await.expect("create").click().await.expect("click");
    until(&admin, "the key in the list", "return [...document.querySelectorAll('#tokens tr')].some((r) => r.innerText.includes('order-system') && r.innerText.includes('sms:send'))", "#tokens-card").await;
    let scoped = js(&admin, "return document.querySelector('#token-out code').innerText").await;
    let scoped = scoped.as_str().expect("the key's token").to_owned();
    assert!(
        !js(&admin, "return document.getElementById('tokens').innerText")
            .await
            .as_str()
            .unwrap_or("")
            .contains(&scoped),
        "the list never shows a token"
    );
    app.request(Method::GET, "/api/v1/chats", Some(&scoped), None).await.expect_error(403, "insufficient_scope");
    admin
        .find(By::Css("button[aria-label='Revoke key order-system']"))
        .await
        .expect("the revoke button")
        .click()
        .await
        .expect("click");
    admin.accept_alert().await.expect("accepting the confirmation");
    until(
        &admin,
        "the key gone from the list",
        "return ![...document.querySelectorAll('#tokens tr')].some((r) => r.innerText.includes('order-system'))",
        "#tokens-card",
    )
    .await;
    app.request(Method::GET, "/api/v1/chats", Some(&scoped), None).await.expect_error(401, "unauthorized");

    // The labels bug: each label of the timers and commands is bound (`for`) to the box right after
    // it, and is the label nearest to that box on screen.
    let seen = js(
        &admin,
        r#"const out = [];
           const labels = [...document.querySelectorAll('#timer-fields label, #command-fields label')];
           const boxes = labels.map((l) => l.nextElementSibling);
           const centre = (e) => { const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; };
           const gap = (a, b) => { const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
             const dx = Math.max(0, s.left - r.right, r.left - s.right), dy = Math.max(0, s.top - r.bottom, r.top - s.bottom);
             return Math.hypot(dx, dy); };
           labels.forEach((l, i) => {
             const box = boxes[i];
             const nearest = labels.reduce((best, m) => gap(m, box) < gap(best, box) ? m : best, labels[0]);
             out.push({ label: l.innerText, for: l.htmlFor, next: box?.id ?? null, control: l.control?.id ?? null,
                        nearest: nearest === l, above: l.getBoundingClientRect().bottom <= box.getBoundingClientRect().top + 1 });
           });
           return out"#,
    )
    .await;
    let fields = seen.as_array().expect("the labels");
    assert_eq!(fields.len(), 11, "six timers and five commands: {seen:#}");
    for f in fields {
        assert!(
            f["for"].as_str().is_some_and(|s| !s.is_empty()) && f["for"] == f["next"] && f["for"] == f["control"],
            "{f}"
        );
        assert!(f["nearest"] == json!(true) && f["above"] == json!(true), "the label sits with its own box: {f}");
    }
    assert_eq!(fields[3]["label"], "Session expires after (minutes)");
    assert_eq!(fields[3]["for"], "timer-session_expiration_minutes");

    // A negative timer is caught next to its box; a saved one says so next to the form, in view.
    fill(&admin, "timer-queue_wait_minutes", "-1").await;
    admin.find(By::Css("#settings-form button[type=submit]")).await.expect("save").click().await.expect("click");
    field_says(&admin, "timer-queue_wait_minutes", "0").await;
    fill(&admin, "timer-queue_wait_minutes", "20").await;
    admin.find(By::Css("#settings-form button[type=submit]")).await.expect("save").click().await.expect("click");
    until(
        &admin,
        "the settings saved, next to the form",
        "return document.getElementById('settings-feedback').innerText.includes('Chat settings saved.')",
        "#settings-card",
    )
    .await;
    in_view(&admin, "settings-feedback").await;
    assert_eq!(app.setup().await["settings"]["timers"]["queue_wait_minutes"], 20);

    // A system message with a placeholder the server does not know: refused, said in that form.
    fill(&admin, "text-queued", "In line for {nowhere}.").await;
    admin.find(By::Css("#texts-form button[type=submit]")).await.expect("save").click().await.expect("click");
    until(
        &admin,
        "the refused message said in its form",
        r#"const near = document.getElementById('text-queued-error'), area = document.getElementById('texts-errors');
           return (!near.hidden && near.innerText.includes('nowhere')) || (!area.hidden && area.innerText.includes('nowhere'))"#,
        "#texts-card",
    )
    .await;

    // The preview panel stays out while the server has no preview, and shows the menu when it does.
    let offered = app
        .request(
            Method::POST,
            "/api/v1/setup/preview",
            Some(ADMIN),
            Some(&json!({"setup": app.setup().await, "number": SUPPORT})),
        )
        .await;
    if offered.status == 404 {
        assert_eq!(js(&admin, "return document.getElementById('preview-card').hidden").await, json!(true));
    } else {
        until(&admin, "the menu preview", "return !document.getElementById('preview-card').hidden && document.getElementById('preview-menu').innerText.length > 0", "#preview-card").await;
    }
    js(
        &admin,
        r#"const real = window.fetch;
           window.fetch = (url, init) => url === '/api/v1/setup/preview'
             ? Promise.resolve(new Response(JSON.stringify({ menu: 'Acme: reply 1 for Billing, 2 for Technical support' }), { status: 200, headers: { 'Content-Type': 'application/json' } }))
             : real(url, init);
           window.parleyAdmin.preview(); return true"#,
    )
    .await;
    until(&admin, "the preview panel", "return !document.getElementById('preview-card').hidden && document.getElementById('preview-menu').innerText.includes('2 for Technical support')", "#preview-card").await;

    // At 390 px: no sideways scrolling, on the page nor in the editor.
    admin.set_window_rect(0, 0, 390, 844).await.expect("resizing");
    let fits = "return window.innerWidth <= 390 && document.documentElement.scrollWidth <= window.innerWidth";
    until(&admin, "the admin page to fit 390 px", fits, "body").await;
    open_editor(&admin, "Edit queue Billing", "Edit queue Billing").await;
    until(
        &admin,
        "the editor to fit 390 px",
        "const d = document.getElementById('editor'); const r = d.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && d.scrollWidth <= d.clientWidth",
        "#editor",
    )
    .await;
}

browser_test!(blocklist_entries_are_added_and_removed_on_the_admin_page, blocklist);

/// Issue 14, item 3: the Blocklist section adds an entry (a bad number and a duplicate refused in
/// words next to the form), lists it with its reason and who blocked it, and removes it; the stored
/// setup follows, and a setup form saved afterwards keeps the entry.
async fn blocklist(browsers: &mut Browsers, app: &TestApp) {
    let admin = admin_page(browsers, app).await;
    let entries = || async {
        let page = app.request(Method::GET, "/api/v1/blocklist", Some(ADMIN), None).await.expect_status(200).body;
        page["entries"].as_array().cloned().unwrap_or_default()
    };

    // A number that is not E.164 is caught next to its field, and nothing is stored.
    fill(&admin, "block-number", "415 555 0166").await;
    fill(&admin, "block-reason", "Abusive messages").await;
    press(&admin, "Block").await;
    field_says(&admin, "block-number", "e.164").await;
    assert!(entries().await.is_empty(), "nothing was blocked");

    fill(&admin, "block-number", "+14155550166").await;
    press(&admin, "Block").await;
    until(
        &admin,
        "the block to be confirmed and listed",
        "return document.getElementById('block-feedback').innerText.includes('+14155550166 is blocked')
           && !!document.querySelector('#blocklist tr[data-blocked=\"+14155550166\"]')",
        "#blocklist-card",
    )
    .await;
    in_view(&admin, "block-feedback").await;
    let row =
        js(&admin, "return document.querySelector('#blocklist tr[data-blocked=\"+14155550166\"]').innerText").await;
    let row = row.as_str().unwrap_or_default().to_owned();
    assert!(row.contains("Abusive messages") && row.contains("root"), "the row names the reason and root: {row}");
    let stored = entries().await;
    assert_eq!((stored.len(), &stored[0]["added_by"]), (1, &json!("root")), "{stored:?}");

    // The same phone again: refused in words, the entry stays as it was.
    fill(&admin, "block-number", "+14155550166").await;
    fill(&admin, "block-reason", "Another reason").await;
    press(&admin, "Block").await;
    until(
        &admin,
        "the duplicate to be refused in words",
        "const e = document.getElementById('block-errors'); return !e.hidden && e.innerText.includes('blocked already')",
        "#blocklist-card",
    )
    .await;
    assert_eq!(entries().await[0]["reason"], "Abusive messages");

    // A setup form saved after the block keeps it: the page reloaded the setup.
    press(&admin, "Save the chat settings").await;
    until(
        &admin,
        "the settings to be saved",
        "return document.getElementById('settings-feedback').innerText.length > 0",
        "#settings-card",
    )
    .await;
    assert_eq!(entries().await.len(), 1, "saving the settings kept the blocklist");

    press(&admin, "Unblock +14155550166").await;
    let question = confirm(&admin, "the question before unblocking").await;
    assert!(question.contains("+14155550166"), "{question}");
    until(
        &admin,
        "the entry to be gone",
        "return document.getElementById('blocklist-feedback').innerText.includes('no longer blocked')
           && !document.querySelector('#blocklist tr[data-blocked]')",
        "#blocklist-card",
    )
    .await;
    assert!(entries().await.is_empty(), "the entry was removed");
}
