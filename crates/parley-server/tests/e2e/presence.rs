//! Presence that is true: an agent is offered chats only while available *and* connected (a console
//! event stream open, on any node, or an API heartbeat within `presence_timeout_seconds`). A closed
//! stream moves the agent's offers to a colleague at once; a lapsed heartbeat after the timeout; a
//! stream on another node keeps the agent present for this node's routing.

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::harness::{ADMIN, TestApp, standard_setup};

/// Billing served by Alice and Carol, with the given presence timeout.
fn setup(timeout_seconds: u32) -> Value {
    let mut doc = standard_setup();
    doc["agents"].as_array_mut().unwrap().push(json!({"id": "carol", "name": "Carol White", "queues": ["billing"]}));
    doc["settings"]["presence_timeout_seconds"] = json!(timeout_seconds);
    doc
}

/// Polls `attempt` until it answers `Some`, for at most `limit`.
async fn within<T, F, Fut>(limit: Duration, what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => panic!("no {what} within {limit:?}; last seen: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// An agent as `GET /api/v1/agents` shows them to the admin.
async fn agent(app: &TestApp, id: &str) -> Value {
    let list = app.request(Method::GET, "/api/v1/agents", Some(ADMIN), None).await.expect_status(200).body;
    list["agents"].as_array().unwrap().iter().find(|a| a["id"] == id).cloned().unwrap_or(Value::Null)
}

/// Waits until `id` is shown connected (or not).
async fn until_connected(app: &TestApp, id: &str, connected: bool) -> Value {
    within(Duration::from_secs(15), &format!("{id} connected={connected}"), || async {
        let a = agent(app, id).await;
        if a["connected"] == connected { Ok(a) } else { Err(a.to_string()) }
    })
    .await
}

/// The agent a chat is offered to, once it is offered to one other than `not`.
async fn offered_to(app: &TestApp, chat_id: &str, not: Option<&str>, limit: Duration) -> String {
    within(limit, "an offer", || async {
        let chat = app.request(Method::GET, &format!("/api/v1/chats/{chat_id}"), Some(ADMIN), None).await.body;
        match (chat["status"].as_str(), chat["agent"].as_str()) {
            (Some("offered"), Some(agent)) if Some(agent) != not => Ok(agent.to_owned()),
            _ => Err(chat.to_string()),
        }
    })
    .await
}

async fn set_status(app: &TestApp, token: &str, status: &str) {
    let body = json!({ "status": status });
    app.request(Method::PUT, "/api/v1/me/status", Some(token), Some(&body)).await.expect_status(200);
}

/// An agent's console session: status changes through it are no heartbeat (only its stream is).
struct Console {
    base: String,
    client: Client,
    cookie: String,
}

impl Console {
    /// Creates the user `agent` and logs in as them (which makes them available).
    async fn login(app: &TestApp, agent: &str) -> Console {
        let password = format!("{agent}-password-1");
        let user = json!({"username": agent, "role": "agent", "agent": agent, "password": password});
        app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
        let client = Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let login = client
            .post(format!("{}/login", app.base))
            .form(&[("username", agent), ("password", password.as_str())])
            .send()
            .await
            .expect("the login answer");
        assert_eq!(login.status(), StatusCode::SEE_OTHER);
        let cookie = login
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("parley_session=").and_then(|v| v.split(';').next()))
            .expect("a session cookie")
            .to_owned();
        Console { base: app.base.clone(), client, cookie }
    }

    async fn status(&self, status: &str) {
        let cookie = format!("parley_session={}", self.cookie);
        let session: Value = self
            .client
            .get(format!("{}/api/v1/session", self.base))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .expect("the session")
            .json()
            .await
            .expect("JSON");
        let csrf = session["csrf_token"].as_str().expect("a CSRF token");
        let answer = self
            .client
            .put(format!("{}/api/v1/me/status", self.base))
            .header(reqwest::header::COOKIE, &cookie)
            .header("X-CSRF-Token", csrf)
            .json(&json!({ "status": status }))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stream_moves_the_agents_offer_to_a_colleague_at_once_and_keeps_their_chats() {
    let app = TestApp::spawn().await;
    // An hour of timeout: only the closed stream can explain what follows.
    app.apply_setup(&setup(3600)).await;
    let (alice, carol) = (app.agent_token("alice").await, app.agent_token("carol").await);
    let (alice_console, carol_console) = (Console::login(&app, "alice").await, Console::login(&app, "carol").await);
    let alice_stream = app.events(&alice, None).await;
    let carol_stream = app.events(&carol, None).await;
    until_connected(&app, "alice", true).await;
    until_connected(&app, "carol", true).await;

    // Carol is away a moment, so that Alice holds both a chat and an offer.
    carol_console.status("away").await;
    let first = app.phone("+14155550100").texts("billing").await.chat_id.expect("a chat");
    assert_eq!(offered_to(&app, &first, None, Duration::from_secs(10)).await, "alice");
    app.agent(&alice).accept(&first).await;
    let second = app.phone("+14155550101").texts("billing").await.chat_id.expect("a chat");
    assert_eq!(offered_to(&app, &second, None, Duration::from_secs(10)).await, "alice");
    carol_console.status("available").await;

    // Alice's console closes (her only stream): the offer goes to Carol well before any timeout, the
    // connected chat stays Alice's, and the monitor says why. (The server notices a closed stream
    // within two of its keep-alives, every 4 s.)
    drop(alice_stream);
    assert_eq!(offered_to(&app, &second, Some("alice"), Duration::from_secs(15)).await, "carol");
    let shown = until_connected(&app, "alice", false).await;
    assert_eq!(
        (shown["status"].as_str(), shown["reason"].as_str()),
        (Some("offline"), Some("disconnected")),
        "{shown}"
    );
    assert_eq!(shown["chosen"], "available", "{shown}");
    assert!(shown["status_since"].is_string(), "{shown}");
    let chat = app.request(Method::GET, &format!("/api/v1/chats/{first}"), Some(ADMIN), None).await.body;
    assert_eq!((chat["status"].as_str(), chat["agent"].as_str()), (Some("connected"), Some("alice")), "{chat}");
    // The event stream says so too, in the event's own words.
    let mut events = app.events(ADMIN, Some(0)).await;
    let seen =
        events.until(|e| e.kind == "agent.status" && e.data["agent"] == "alice" && e.data["connected"] == false).await;
    let last = &seen.last().expect("an agent.status event").data;
    assert_eq!((last["status"].as_str(), last["chosen"].as_str()), (Some("offline"), Some("available")), "{last}");
    // Changing status from the console is no heartbeat: Alice stays disconnected.
    alice_console.status("available").await;
    assert_eq!(agent(&app, "alice").await["connected"], false);
    drop(carol_stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_that_lapses_past_the_timeout_disconnects_and_sending_it_again_reconnects() {
    let app = TestApp::spawn().await;
    // The shortest timeout there is: ten seconds.
    app.apply_setup(&setup(10)).await;
    let (alice, carol) = (app.agent_token("alice").await, app.agent_token("carol").await);
    // Alice integrates through the API: one heartbeat, then nothing. Carol has her console open.
    let _carol_stream = app.events(&carol, None).await;
    set_status(&app, &carol, "away").await;
    set_status(&app, &alice, "available").await;
    assert_eq!(until_connected(&app, "alice", true).await["status"], "available");
    let chat = app.phone("+14155550100").texts("billing").await.chat_id.expect("a chat");
    assert_eq!(offered_to(&app, &chat, None, Duration::from_secs(10)).await, "alice");
    set_status(&app, &carol, "available").await;

    // Ten seconds on without a heartbeat, Alice's unaccepted offer goes to Carol.
    assert_eq!(offered_to(&app, &chat, Some("alice"), Duration::from_secs(30)).await, "carol");
    let shown = until_connected(&app, "alice", false).await;
    assert_eq!((shown["status"].as_str(), shown["chosen"].as_str()), (Some("offline"), Some("available")));
    // The status sent again is a heartbeat: Alice is back, as she chose.
    set_status(&app, &alice, "available").await;
    let me = app.request(Method::GET, "/api/v1/me", Some(&alice), None).await.expect_status(200).body;
    assert_eq!((me["status"].as_str(), me["connected"].as_bool()), (Some("available"), Some(true)), "{me}");
}

/// Logging in makes an agent available (no heartbeat: only a console stream makes them present); a
/// stream on another node (when the suite runs on PostgreSQL; on SQLite, which serves one node, the
/// same node) keeps them present for this node's routing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_on_another_node_keeps_an_agent_present_for_this_nodes_routing() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup(3600)).await;
    let user = json!({"username": "alice", "role": "agent", "agent": "alice", "password": "alice-password-1"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    let client = Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client
        .post(format!("{}/login", app.base))
        .form(&[("username", "alice"), ("password", "alice-password-1")])
        .send()
        .await
        .expect("the login answer");
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let shown = agent(&app, "alice").await;
    assert_eq!((shown["chosen"].as_str(), shown["connected"].as_bool()), (Some("available"), Some(false)), "{shown}");
    let first = app.phone("+14155550100").texts("billing").await.chat_id.expect("a chat");
    let waiting = within(Duration::from_secs(10), "the chat queued", || async {
        let chat = app.request(Method::GET, &format!("/api/v1/chats/{first}"), Some(ADMIN), None).await.body;
        if chat["status"] == "queued" { Ok(chat) } else { Err(chat.to_string()) }
    })
    .await;
    assert!(waiting["agent"].is_null(), "offered to an agent who is not there: {waiting}");

    let postgres = std::env::var(parley_store::testing::ENV).is_ok_and(|url| !url.is_empty());
    let other = if postgres { Some(app.second_node().await) } else { None };
    let node_b = other.as_ref().unwrap_or(&app);
    let alice = app.agent_token("alice").await;
    let stream = node_b.events(&alice, None).await;
    // Present now, Alice gets the chat that waited; this node routes it.
    assert_eq!(offered_to(&app, &first, None, Duration::from_secs(10)).await, "alice");
    assert_eq!(until_connected(&app, "alice", true).await["status"], "available");

    // Her stream on node B closes: this node offers her nothing more.
    drop(stream);
    until_connected(&app, "alice", false).await;
    let next = app.phone("+14155550101").texts("billing").await.chat_id.expect("a chat");
    let waiting = within(Duration::from_secs(10), "the chat queued", || async {
        let chat = app.request(Method::GET, &format!("/api/v1/chats/{next}"), Some(ADMIN), None).await.body;
        if chat["status"] == "queued" { Ok(chat) } else { Err(chat.to_string()) }
    })
    .await;
    assert!(waiting["agent"].is_null(), "{waiting}");
}

/// The presence settings are checked with the rest of the setup: out of range, nothing is applied and
/// the answer says what fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_settings_out_of_range_are_refused_in_words() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup(60)).await;
    for (key, value, words) in [
        ("presence_timeout_seconds", json!(5), "between 10 and 86400"),
        ("idle_away_minutes", json!(0), "between 1 and 1440"),
    ] {
        let mut doc = setup(60);
        doc["settings"][key] = value;
        let reply = app.request(Method::PUT, "/api/v1/setup", Some(ADMIN), Some(&doc)).await;
        let message = reply.expect_error(422, "validation_failed");
        assert!(message.contains(words), "{key}: {message}");
        assert!(reply.body.to_string().contains(key), "{key} named: {}", reply.body);
    }
    let kept = app.request(Method::GET, "/api/v1/setup", Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(kept["settings"]["presence_timeout_seconds"], 60);
}
