//! Console logins: users made through the admin API log in at `/login` and get a session cookie;
//! the cookie authenticates API requests (with `X-CSRF-Token` for those that change something) until
//! logout, idle expiry or the 12-hour end. Failed logins are limited, unknown users look like wrong
//! passwords, supervisors watch their teams' chats without acting on them, and no answer ever carries
//! a password hash.
//!
//! A `Browser` here is a client that keeps the session cookie by hand (no cookie store, no redirects
//! followed), so every test can look at exactly what the server set.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use reqwest::header::{COOKIE, HeaderMap, LOCATION, RETRY_AFTER, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;

use parley_server::clock::Clock;

use crate::harness::{ADMIN, DEADLINE, SALES, TestApp, standard_setup};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

/// An answer: status, headers and body (JSON when it parses, else the text as a JSON string).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, headers, body }
    }

    fn text(&self) -> String {
        match &self.body {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    fn error_code(&self, status: u16) -> &str {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self.body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error body: {}", self.body))
    }
}

/// A browser: its own client, the session cookie it was given and the CSRF token of its session.
struct Browser {
    base: String,
    client: Client,
    cookie: Option<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        let client = Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Browser { base: app.base.clone(), client, cookie: None }
    }

    /// Posts the login form; keeps the session cookie if one is set.
    async fn login_form(&mut self, form: &[(&str, &str)]) -> Answer {
        let response = self.client.post(format!("{}/login", self.base)).form(form).send().await.expect("an answer");
        let answer = Answer::read(response).await;
        if let Some(cookie) = answer.header(SET_COOKIE).and_then(session_cookie) {
            self.cookie = Some(cookie);
        }
        answer
    }

    async fn login(&mut self, username: &str, password: &str) -> Answer {
        self.login_form(&[("username", username), ("password", password)]).await
    }

    /// Logs in; it must work.
    async fn logged_in(app: &TestApp, username: &str, password: &str) -> Browser {
        let mut browser = Browser::new(app);
        let answer = browser.login(username, password).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "login of {username}: {}", answer.text());
        assert!(browser.cookie.is_some(), "no session cookie for {username}");
        browser
    }

    /// A request with the session cookie, and `csrf` as `X-CSRF-Token` if given.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>, csrf: Option<&str>) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            req = req.header(COOKIE, format!("parley_session={cookie}"));
        }
        if let Some(csrf) = csrf {
            req = req.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        Answer::read(req.send().await.expect("an answer")).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, None).await
    }

    /// The session as `GET /api/v1/session` shows it; it must be alive.
    async fn session(&self) -> Value {
        let answer = self.get("/api/v1/session").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    async fn csrf(&self) -> String {
        self.session().await["csrf_token"].as_str().expect("a CSRF token").to_owned()
    }

    /// A request that changes something, with the session's CSRF token.
    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let csrf = self.csrf().await;
        self.call(method, path, body, Some(&csrf)).await
    }
}

/// The value `Set-Cookie` gives the session cookie, if it sets it to something.
fn session_cookie(set_cookie: &str) -> Option<String> {
    let value = set_cookie.strip_prefix("parley_session=")?.split(';').next()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The admin creates a console user; returns the user as the API shows it.
async fn create_user(app: &TestApp, user: Value) -> Value {
    let reply = app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await;
    reply.expect_status(201).body
}

async fn agent_user(app: &TestApp, username: &str, agent: &str, password: &str) -> Value {
    create_user(app, json!({"username": username, "role": "agent", "agent": agent, "password": password})).await
}

/// Everything a user shown by the API may hold; a password or its hash is none of it.
fn assert_no_secrets(user: &Value) {
    let mut keys: Vec<&str> = user.as_object().expect("a user object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["agent", "created_at", "disabled", "display_name", "role", "teams", "updated_at", "username"]);
    let text = user.to_string();
    assert!(!text.contains("argon2") && !text.contains("password"), "{text}");
}

async fn manual_clock_app() -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&standard_setup()).await;
    (app, now)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_is_an_accessible_form() {
    let app = TestApp::with_standard_setup().await;
    let page = Browser::new(&app).get("/login?next=/console/chats").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").is_some_and(|c| c.starts_with("text/html")), "{:?}", page.headers);
    let html = page.text();
    for needle in [
        "<label for=\"username\">",
        "<label for=\"password\">",
        "autocomplete=\"username\"",
        "autocomplete=\"current-password\"",
        "name=\"viewport\"",
        "<form method=\"post\" action=\"/login\">",
        "name=\"next\" value=\"/console/chats\"",
    ] {
        assert!(html.contains(needle), "{needle} missing from\n{html}");
    }
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "external assets in\n{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_sets_a_strict_http_only_cookie_and_the_session_names_the_user() {
    let app = TestApp::with_standard_setup().await;
    agent_user(&app, "Alice", "alice", "alice-password-1").await;

    let mut browser = Browser::new(&app);
    let answer = browser.login("ALICE", "alice-password-1").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    assert_eq!(answer.header(LOCATION), Some("/console"));
    let cookie = answer.header(SET_COOKIE).expect("a session cookie").to_owned();
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attributes[0].starts_with("parley_session=") && attributes[0].len() > 60, "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&attribute), "{attribute} missing: {cookie}");
    }
    // Served over plain http on 127.0.0.1 without an https public_url: no Secure, or browsers drop it.
    assert!(!attributes.contains(&"Secure"), "{cookie}");

    let session = browser.session().await;
    assert_eq!(session["username"], "alice");
    assert_eq!(session["display_name"], "Alice Smith", "defaults to the agent's name");
    assert_eq!(session["role"], "agent");
    assert_eq!(session["agent"], "alice");
    assert!(session["csrf_token"].as_str().is_some_and(|t| t.len() >= 32), "{session}");
    // The cookie authenticates the API as the agent.
    let me = browser.get("/api/v1/me").await;
    assert_eq!(
        (me.status, me.body["role"].as_str(), me.body["agent"].as_str()),
        (StatusCode::OK, Some("agent"), Some("alice"))
    );

    // `next` is followed to local paths only.
    let mut again = Browser::new(&app);
    let answer =
        again.login_form(&[("username", "alice"), ("password", "alice-password-1"), ("next", "/api/v1/me")]).await;
    assert_eq!(answer.header(LOCATION), Some("/api/v1/me"));
    let answer = again
        .login_form(&[("username", "alice"), ("password", "alice-password-1"), ("next", "//evil.example/x")])
        .await;
    assert_eq!(answer.header(LOCATION), Some("/console"));
    // A browser already logged in goes straight on from the login page.
    let page = again.get("/login?next=/api/v1/session").await;
    assert_eq!((page.status, page.header(LOCATION)), (StatusCode::SEE_OTHER, Some("/api/v1/session")));
    // A bearer token has no session.
    let bearer = app.request(Method::GET, "/api/v1/session", Some(ADMIN), None).await;
    bearer.expect_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = TestApp::with_standard_setup().await;
    agent_user(&app, "alice", "alice", "alice-password-1").await;

    let mut browser = Browser::new(&app);
    let wrong = browser.login("alice", "not-her-password").await;
    let unknown = browser.login("nobody", "not-her-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text(), unknown.text(), "the two answers must not differ");
    assert!(wrong.text().contains("Wrong username or password."), "{}", wrong.text());
    assert!(wrong.text().contains("<form"), "the login page again");
    assert_eq!(wrong.header(SET_COOKIE), None);
    assert_eq!(unknown.header(SET_COOKIE), None);
    assert!(browser.cookie.is_none());
    // Without a session the API answers 401.
    browser.get("/api/v1/me").await.error_code(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_failed_login_for_a_username_is_refused_with_429_until_fifteen_minutes_pass() {
    let (app, now) = manual_clock_app().await;
    agent_user(&app, "alice", "alice", "alice-password-1").await;
    let mut browser = Browser::new(&app);
    for attempt in 1..=5 {
        let answer = browser.login("alice", &format!("guess-number-{attempt}")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // The sixth attempt is refused before the password is even looked at, the right one included.
    let refused = browser.login("alice", "alice-password-1").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text());
    assert_eq!(refused.header(RETRY_AFTER), Some("900"));
    assert!(refused.text().contains("Too many failed logins"), "{}", refused.text());
    assert!(browser.cookie.is_none());

    now.fetch_add(15 * MINUTE - 1, Ordering::SeqCst);
    let still = browser.login("alice", "alice-password-1").await;
    assert_eq!((still.status, still.header(RETRY_AFTER)), (StatusCode::TOO_MANY_REQUESTS, Some("1")));
    now.fetch_add(1, Ordering::SeqCst);
    let answer = browser.login("alice", "alice-password-1").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    assert_eq!(browser.session().await["username"], "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_from_one_address_are_limited_across_usernames() {
    let app = TestApp::with_standard_setup().await;
    agent_user(&app, "bob", "bob", "bob-password-12").await;
    let mut browser = Browser::new(&app);
    for name in ["ann", "ben", "cat", "dan", "eve"] {
        assert_eq!(browser.login(name, "some-guess-123").await.status, StatusCode::UNAUTHORIZED, "{name}");
    }
    let refused = browser.login("bob", "bob-password-12").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text());
    assert!(refused.header(RETRY_AFTER).is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=900).contains(&s))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_request_that_changes_something_needs_the_csrf_header() {
    let app = TestApp::with_standard_setup().await;
    agent_user(&app, "alice", "alice", "alice-password-1").await;
    let browser = Browser::logged_in(&app, "alice", "alice-password-1").await;
    let away = json!({"status": "away"});

    let missing = browser.call(Method::PUT, "/api/v1/me/status", Some(&away), None).await;
    assert_eq!(missing.error_code(403), "csrf");
    assert!(missing.body["error"]["message"].as_str().is_some_and(|m| m.contains("X-CSRF-Token")));
    let wrong = browser.call(Method::PUT, "/api/v1/me/status", Some(&away), Some("0123456789abcdef")).await;
    assert_eq!(wrong.error_code(403), "csrf");
    // Nothing changed: alice is still available, as logging in made her.
    assert_eq!(browser.get("/api/v1/me").await.body["status"], "available");

    let csrf = browser.csrf().await;
    let done = browser.call(Method::PUT, "/api/v1/me/status", Some(&away), Some(&csrf)).await;
    assert_eq!((done.status, done.body["status"].as_str()), (StatusCode::OK, Some("away")), "{}", done.body);
    assert_eq!(browser.get("/api/v1/me").await.body["status"], "away");
    // Bearer tokens need no CSRF token: no browser sends them by itself.
    let token = app.agent_token("alice").await;
    app.agent(&token).set_status("offline").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_ends_the_session() {
    let app = TestApp::with_standard_setup().await;
    agent_user(&app, "alice", "alice", "alice-password-1").await;
    let browser = Browser::logged_in(&app, "alice", "alice-password-1").await;
    let other = Browser::logged_in(&app, "alice", "alice-password-1").await;

    // Without the CSRF token a logout is refused and the session lives on.
    let refused = browser.call(Method::POST, "/logout", None, None).await;
    assert_eq!(refused.error_code(403), "csrf");
    let csrf = browser.csrf().await;

    // The logout form sends the token as a field.
    let response = browser
        .client
        .post(format!("{}/logout", browser.base))
        .header(COOKIE, format!("parley_session={}", browser.cookie.as_deref().unwrap()))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let answer = Answer::read(response).await;
    assert_eq!((answer.status, answer.header(LOCATION)), (StatusCode::SEE_OTHER, Some("/login")));
    let cleared = answer.header(SET_COOKIE).expect("the cookie is cleared");
    assert!(cleared.starts_with("parley_session=;") && cleared.contains("Max-Age=0"), "{cleared}");

    // The old cookie no longer works anywhere.
    browser.get("/api/v1/session").await.error_code(401);
    let me = browser.get("/api/v1/me").await;
    assert_eq!(me.error_code(401), "unauthorized");
    assert!(me.body["error"]["message"].as_str().is_some_and(|m| m.contains("log in again")), "{}", me.body);
    // Another browser's session of the same user is its own.
    assert_eq!(other.session().await["username"], "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_unused_for_the_idle_minutes_ends() {
    let (app, now) = manual_clock_app().await;
    agent_user(&app, "alice", "alice", "alice-password-1").await;
    let browser = Browser::logged_in(&app, "alice", "alice-password-1").await;

    // Used every 29 minutes it lives on, past the 30 idle minutes counted from the login.
    for _ in 0..3 {
        now.fetch_add(29 * MINUTE, Ordering::SeqCst);
        assert_eq!(browser.get("/api/v1/me").await.status, StatusCode::OK);
    }
    // Unused for 30 minutes (the default session_idle_minutes) it is dead.
    now.fetch_add(30 * MINUTE, Ordering::SeqCst);
    browser.get("/api/v1/session").await.error_code(401);
    browser.get("/api/v1/me").await.error_code(401);
    // Going back in time does not revive it: it was deleted.
    now.fetch_sub(30 * MINUTE, Ordering::SeqCst);
    browser.get("/api/v1/me").await.error_code(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_twelve_hours_after_login_however_busy() {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(
        |c| parley_server::config::Config { session_idle_minutes: 90, ..c },
        Clock::Manual(now.clone()),
    )
    .await;
    app.apply_setup(&standard_setup()).await;
    agent_user(&app, "alice", "alice", "alice-password-1").await;
    let browser = Browser::logged_in(&app, "alice", "alice-password-1").await;

    // 80 minutes between uses is fine with session_idle_minutes = 90 ...
    for _ in 0..8 {
        now.fetch_add(80 * MINUTE, Ordering::SeqCst);
        assert_eq!(browser.get("/api/v1/me").await.status, StatusCode::OK);
    }
    now.fetch_add(79 * MINUTE, Ordering::SeqCst);
    assert_eq!(browser.get("/api/v1/me").await.status, StatusCode::OK, "11 h 59 min after login");
    // ... up to 12 hours after login, however recent the last use.
    now.fetch_add(MINUTE, Ordering::SeqCst);
    browser.get("/api/v1/me").await.error_code(401);
}

/// The support number with a third queue, vip, that team blue does not serve.
fn teams_setup() -> Value {
    let mut setup = standard_setup();
    setup["numbers"][0]["queues"] = json!(["billing", "tech", "vip"]);
    setup["queues"].as_array_mut().unwrap().push(json!({"id": "vip", "name": "VIP", "keywords": ["3", "VIP"]}));
    setup["agents"].as_array_mut().unwrap().push(json!({"id": "carol", "name": "Carol", "queues": ["vip"]}));
    setup["teams"].as_array_mut().unwrap().push(json!({"id": "red", "name": "Red team", "members": ["carol"]}));
    setup
}

/// Reads a `text/event-stream` body until an event with data arrives; returns its data.
async fn next_event(response: &mut reqwest::Response, buffer: &mut Vec<u8>) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = buffer.drain(..end + 2).collect();
            let data: String = String::from_utf8_lossy(&block)
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if !data.is_empty() {
                return serde_json::from_str(&data).expect("event data is JSON");
            }
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("an event in time")
            .expect("reading the stream")
            .expect("the stream goes on");
        buffer.extend_from_slice(&chunk);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_sees_the_chats_of_their_teams_queues_only_and_cannot_act_on_them() {
    let app = TestApp::spawn().await;
    app.apply_setup(&teams_setup()).await;
    create_user(
        &app,
        json!({"username": "sam", "role": "supervisor", "teams": ["blue"], "password": "sam-password-1"}),
    )
    .await;
    let sam = Browser::logged_in(&app, "sam", "sam-password-1").await;
    let me = sam.get("/api/v1/me").await;
    assert_eq!(me.body["role"], "supervisor");
    assert_eq!(me.body["queues"], json!(["billing", "sales", "tech"]), "team blue: alice's and bob's queues");

    // Sam's event stream, opened before anything happens.
    let mut stream = sam
        .client
        .get(format!("{}/api/v1/events", sam.base))
        .header(COOKIE, format!("parley_session={}", sam.cookie.as_deref().unwrap()))
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let vip = app.phone("+14155550801").texts("vip").await.chat_id.expect("a vip chat");
    let billing = app.phone("+14155550802").texts("billing").await.chat_id.expect("a billing chat");
    let first = next_event(&mut stream, &mut Vec::new()).await;
    assert_eq!(
        (first["chat_id"].as_str(), first["queue"].as_str()),
        (Some(billing.as_str()), Some("billing")),
        "{first}"
    );

    let listed = sam.get("/api/v1/chats").await;
    let ids: Vec<&str> = listed.body["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&billing.as_str()) && !ids.contains(&vip.as_str()), "{ids:?}");
    assert_eq!(sam.get(&format!("/api/v1/chats/{billing}")).await.status, StatusCode::OK);
    let transcript = sam.get(&format!("/api/v1/chats/{billing}/transcript")).await;
    assert_eq!(transcript.body["messages"][0]["body"], "billing", "{}", transcript.body);
    assert_eq!(sam.get(&format!("/api/v1/chats/{vip}")).await.error_code(403), "forbidden");
    assert_eq!(sam.get(&format!("/api/v1/chats/{vip}/transcript")).await.error_code(403), "forbidden");

    // Watching only: no accepting, replying, transferring or ending, even with the CSRF token.
    for (path, body) in [
        (format!("/api/v1/chats/{billing}/accept"), None),
        (format!("/api/v1/chats/{billing}/messages"), Some(json!({"body": "Hello from a supervisor"}))),
        (format!("/api/v1/chats/{billing}/transfer"), Some(json!({"to_queue": "tech"}))),
        (format!("/api/v1/chats/{billing}/end"), None),
    ] {
        let refused = sam.send(Method::POST, &path, body.as_ref()).await;
        assert_eq!(refused.error_code(403), "forbidden", "{path}");
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("agent"), "{path}: {message}");
    }
    let chat = app.admin().chat(&billing).await;
    assert_eq!((chat.status.as_str(), chat.agent), ("queued", None));
    assert!(!app.admin().transcript(&billing).await.sent().iter().any(|b| b.contains("supervisor")));
    // The supervisor's reads are in the audit log under their username.
    let audit = app.request(Method::GET, "/api/v1/audit?actor=user:sam", Some(ADMIN), None).await;
    let reads = audit.expect_status(200).body["reads"].as_array().unwrap().len();
    assert_eq!(reads, 2, "the chat view and the transcript");
    // And the admin API is not theirs.
    assert_eq!(sam.get("/api/v1/users").await.error_code(403), "forbidden");
    assert_eq!(sam.get("/api/v1/setup").await.error_code(403), "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_api_is_for_admins_and_never_shows_password_hashes() {
    let app = TestApp::with_standard_setup().await;
    let created = agent_user(&app, "alice", "alice", "alice-password-1").await;
    assert_no_secrets(&created);
    assert_eq!((created["role"].as_str(), created["agent"].as_str()), (Some("agent"), Some("alice")));

    // Agents may not use it, with a token or logged in.
    let token = app.agent_token("alice").await;
    app.request(Method::GET, "/api/v1/users", Some(&token), None).await.expect_error(403, "forbidden");
    let new_user = json!({"username": "mallory", "role": "admin", "password": "mallory-pass-1"});
    app.request(Method::POST, "/api/v1/users", Some(&token), Some(&new_user)).await.expect_error(403, "forbidden");
    let alice = Browser::logged_in(&app, "alice", "alice-password-1").await;
    let promote = json!({"role": "admin"});
    assert_eq!(alice.send(Method::PUT, "/api/v1/users/alice", Some(&promote)).await.error_code(403), "forbidden");

    // Bad input is refused with what to fix.
    let server = &app;
    let post =
        |body: Value| async move { server.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&body)).await };
    let dup = post(json!({"username": "ALICE", "role": "admin", "password": "another-pass-1"})).await;
    assert!(dup.expect_error(409, "conflict").contains("already exists"));
    let short = post(json!({"username": "bob", "role": "agent", "agent": "bob", "password": "short"})).await;
    assert!(short.expect_error(422, "validation_failed").contains("at least 10"));
    let no_agent = post(json!({"username": "bob", "role": "agent", "password": "bob-password-1"})).await;
    no_agent.expect_error(422, "validation_failed");
    let unknown = post(json!({"username": "zed", "role": "agent", "agent": "zed", "password": "zed-password-1"})).await;
    assert!(unknown.expect_error(422, "validation_failed").contains("not in the setup"));

    // An admin logged in with a session uses it too (with the CSRF token).
    create_user(&app, json!({"username": "root", "role": "admin", "password": "root-password-1"})).await;
    let admin = Browser::logged_in(&app, "root", "root-password-1").await;
    let sup = json!({"username": "sam", "role": "supervisor", "teams": ["blue"], "password": "sam-password-1"});
    let made = admin.send(Method::POST, "/api/v1/users", Some(&sup)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_no_secrets(&made.body);

    let list = admin.get("/api/v1/users").await;
    let users = list.body["users"].as_array().expect("users");
    let names: Vec<&str> = users.iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "root", "sam"]);
    users.iter().for_each(assert_no_secrets);

    // A new password ends alice's sessions; only the new one works after.
    let changed = admin.send(Method::PUT, "/api/v1/users/alice", Some(&json!({"password": "alice-password-2"}))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_no_secrets(&changed.body);
    alice.get("/api/v1/me").await.error_code(401);
    assert_eq!(Browser::new(&app).login("alice", "alice-password-1").await.status, StatusCode::UNAUTHORIZED);
    let alice = Browser::logged_in(&app, "alice", "alice-password-2").await;

    // Disabled: sessions end, and the right password gets the generic refusal.
    let disabled = admin.send(Method::PUT, "/api/v1/users/alice", Some(&json!({"disabled": true}))).await;
    assert_eq!(disabled.body["disabled"], true, "{}", disabled.body);
    alice.get("/api/v1/me").await.error_code(401);
    let refused = Browser::new(&app).login("alice", "alice-password-2").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.text().contains("Wrong username or password."));
    let missing = admin.send(Method::PUT, "/api/v1/users/nobody", Some(&json!({"disabled": true}))).await;
    assert_eq!(missing.error_code(404), "not_found");
}

/// A console's event stream lives only as long as its session: disabling the user ends a stream that is
/// already open (within the stream's session check, a few seconds), and before that it delivered events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_event_stream_ends_when_its_user_is_disabled() {
    let app = TestApp::spawn().await;
    app.apply_setup(&standard_setup()).await;
    agent_user(&app, "alice", "alice", "alice-password-1").await;
    let alice = Browser::logged_in(&app, "alice", "alice-password-1").await;
    let cookie = alice.cookie.clone().expect("a session cookie");
    let mut stream = alice
        .client
        .get(format!("{}/api/v1/events?after=0", app.base))
        .header(COOKIE, format!("parley_session={cookie}"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("the event stream");
    assert_eq!(stream.status(), StatusCode::OK);
    // The stream is live: a chat of alice's queue shows on it, offered to her (logging in made her
    // available, and her open stream keeps her present).
    app.phone("+14155550100").texts("billing").await;
    let mut seen = String::new();
    let opened = tokio::time::timeout(DEADLINE, async {
        while !seen.contains("chat.offered") {
            match stream.chunk().await.expect("reading the stream") {
                Some(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                None => panic!("the stream ended early: {seen}"),
            }
        }
    })
    .await;
    assert!(opened.is_ok(), "no chat.offered event on alice's stream: {seen}");

    let reply = app.request(Method::PUT, "/api/v1/users/alice", Some(ADMIN), Some(&json!({"disabled": true}))).await;
    reply.expect_status(200);
    // The stream ends by itself (keep-alive comments may come before the end).
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(bytes) = stream.chunk().await.expect("reading the stream") {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("event: chat"), "a disabled user's stream still delivered: {text}");
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream of a disabled user was still open after 15 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_sees_the_menu_chats_of_numbers_that_offer_their_queues_as_the_admin_does() {
    let app = TestApp::spawn().await;
    let mut setup = teams_setup();
    // SUPPORT's menu offers vip (team red's queue); SALES's menu offers sales and billing only.
    setup["numbers"][1]["queues"] = json!(["sales", "billing"]);
    app.apply_setup(&setup).await;
    create_user(&app, json!({"username": "sam", "role": "supervisor", "teams": ["red"], "password": "sam-password-1"}))
        .await;
    let sam = Browser::logged_in(&app, "sam", "sam-password-1").await;
    let support = app.phone("+14155550811").texts("hello").await.chat_id.expect("a chat in the menu");
    let sales = app.phone("+14155550812").to(SALES).texts("hello").await.chat_id.expect("a chat in the menu");
    let admin = app.admin().try_list("?status=upcoming").await.expect_status(200).body;
    let admin_ids: Vec<&str> = admin["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(admin_ids.contains(&support.as_str()) && admin_ids.contains(&sales.as_str()), "{admin}");
    let listed = sam.get("/api/v1/chats?status=upcoming").await;
    let ids: Vec<&str> = listed.body["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [support.as_str()], "the menu chat of the number offering vip: {}", listed.body);
    assert_eq!(sam.get(&format!("/api/v1/chats/{support}")).await.status, StatusCode::OK);
    assert_eq!(sam.get(&format!("/api/v1/chats/{sales}")).await.status, StatusCode::FORBIDDEN);
}
