//! Presence that is true (issue 13, item 1), in real browsers: agents who log in are available while
//! their console is open; an agent whose console closes drops out, their unaccepted offer goes to a
//! colleague, and the supervisor's monitor shows them "offline (disconnected)".

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::json;

use crate::browser::{Browsers, until};
use crate::console::{PASSWORD, agent_field, log_in};
use crate::harness::{ADMIN, SUPPORT, TestApp, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_console_closes_loses_the_offer_to_a_colleague_and_shows_disconnected() {
    const TEST: &str = "presence";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [{"number": SUPPORT, "carrier": "sim", "queues": ["billing"]}],
        "queues": [{"id": "billing", "name": "Billing", "keywords": ["1", "BILLING"]}],
        "agents": [
            {"id": "alice", "name": "Alice Smith", "queues": ["billing"]},
            {"id": "bob", "name": "Bob Jones", "queues": ["billing"]}
        ],
        "teams": [{"id": "blue", "name": "Blue team", "members": ["alice", "bob"]}],
        // An hour: only the closed console can explain what follows.
        "settings": {"brand": "Acme", "presence_timeout_seconds": 3600}
    }))
    .await;
    for user in [
        json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"}),
        json!({"username": "bob", "password": PASSWORD, "role": "agent", "agent": "bob"}),
        json!({"username": "sam", "password": PASSWORD, "role": "supervisor", "teams": ["blue"]}),
    ] {
        app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    }
    let outcome = AssertUnwindSafe(scenario(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn scenario(browsers: &mut Browsers, app: &TestApp) {
    // Nobody has logged in: nobody is offered anything, and the monitor says so.
    for agent in ["alice", "bob"] {
        assert_eq!(agent_field(app, agent, "status").await, "offline", "{agent} before any login");
    }
    let sam = browsers.open("sam").await;
    log_in(&sam, app, "sam").await;
    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    let bob = browsers.open("bob").await;
    log_in(&bob, app, "bob").await;
    // Logging in made them available; their open consoles make them present.
    for agent in ["alice", "bob"] {
        eventually(&format!("{agent} available and connected"), || async {
            match agent_field(app, agent, "status").await.as_str() {
                "available" => Ok(()),
                other => Err(other.to_owned()),
            }
        })
        .await;
    }

    let chat = app.phone("+14155550100").texts("billing").await.chat_id.expect("a chat");
    let first = eventually("the chat offered", || async {
        let c = app.admin().chat(&chat).await;
        match (c.status.as_str(), c.agent.clone()) {
            ("offered", Some(agent)) => Ok(agent),
            _ => Err(format!("{c:?}")),
        }
    })
    .await;
    let (gone, colleague) = if first == "alice" { (&alice, "bob") } else { (&bob, "alice") };

    // The offered agent's console closes (the page is left): the offer goes to the colleague. The
    // server notices within two of the stream's keep-alives (4 s each); an hour of timeout is far off.
    gone.goto("about:blank").await.expect("leaving the console");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let c = app.admin().chat(&chat).await;
        if c.status == "offered" && c.agent.as_deref() == Some(colleague) {
            break;
        }
        if std::time::Instant::now() >= deadline {
            let agents = app.request(Method::GET, "/api/v1/agents", Some(ADMIN), None).await.body;
            panic!("the offer did not move to {colleague}: {c:?}; agents: {agents}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The supervisor's monitor shows it live, with how long.
    let row = format!(
        "return ([...document.querySelectorAll('#agents tr')].find((tr) => tr.innerText.includes({name}))?.innerText ?? '')",
        name = serde_json::to_string(if first == "alice" { "Alice Smith" } else { "Bob Jones" }).unwrap()
    );
    until(
        &sam,
        "the monitor to show the agent disconnected",
        &format!("{row}.includes('offline (disconnected)')"),
        "main",
    )
    .await;
}
