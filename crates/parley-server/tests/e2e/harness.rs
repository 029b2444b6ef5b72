//! `TestApp`: one Parley server per test, in process, on its own fresh database, driven only through
//! HTTP with helpers named after what people do (a phone texts, an agent accepts, an admin applies a
//! setup).
//!
//! Nothing here sleeps to wait for a result. The outbox delivers asynchronously, so every helper that
//! needs a delivery polls the public API until a condition holds or a deadline passes, and then fails
//! with what it last saw.

use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash as _, Hasher as _};
use std::time::Duration;

use parley_server::clock::Clock;
use parley_server::config::{Config, Secret};
use reqwest::{Client, Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The bootstrap admin token every test server runs with.
pub(crate) const ADMIN: &str = "e2e-admin-token";
/// The support number of [`standard_setup`]: a menu of billing and tech.
pub(crate) const SUPPORT: &str = "+15550001000";
/// The sales number of [`standard_setup`]: one auto-answered queue, so no menu.
pub(crate) const SALES: &str = "+15550002000";
/// How long a test waits for something asynchronous (a delivery, an event) before it fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);
/// The pause between two looks at the API while waiting for a condition.
const POLL: Duration = Duration::from_millis(20);

/// The setup most tests run with.
///
/// - `SUPPORT` offers a menu: billing ("1", "BILLING") and tech ("2", "TECH").
/// - `SALES` has the one queue sales, answered automatically.
/// - alice serves billing and sales; bob serves tech only.
pub(crate) fn standard_setup() -> Value {
    json!({
        "numbers": [
            {"number": SUPPORT, "label": "Customer support", "carrier": "sim", "queues": ["billing", "tech"]},
            {"number": SALES, "label": "Sales", "carrier": "sim", "queues": ["sales"]}
        ],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1", "BILLING"]},
            {"id": "tech", "name": "Technical support", "keywords": ["2", "TECH"]},
            {"id": "sales", "name": "Sales", "keywords": ["SALES"], "auto_answer": true}
        ],
        "agents": [
            {"id": "alice", "name": "Alice Smith", "queues": ["billing", "sales"], "capacity": 3},
            {"id": "bob", "name": "Bob Jones", "queues": ["tech"], "capacity": 2}
        ],
        "teams": [{"id": "blue", "name": "Blue team", "members": ["alice", "bob"]}],
        "settings": {"brand": "Acme"}
    })
}

/// The menu `SUPPORT` sends with the standard setup and the default texts.
pub(crate) const SUPPORT_MENU: &str =
    "How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.";

/// A running server and a client for it.
pub(crate) struct TestApp {
    pub(crate) base: String,
    client: Client,
    server: JoinHandle<anyhow::Result<()>>,
    shutdown: Option<oneshot::Sender<()>>,
    /// What the server was started with, to start it again on the same database.
    config: Config,
    clock: Clock,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    /// Starts a server on a fresh database, with the simulator on and the admin token [`ADMIN`]. The
    /// listener is bound before the server starts, so requests made before it is ready simply wait.
    pub(crate) async fn spawn() -> TestApp {
        TestApp::spawn_with(|c| c).await
    }

    /// [`TestApp::spawn`] with a changed configuration.
    pub(crate) async fn spawn_with(change: impl FnOnce(Config) -> Config) -> TestApp {
        TestApp::spawn_with_clock(change, Clock::System).await
    }

    /// [`TestApp::spawn_with`] on a clock the test moves (`Clock::Manual`).
    pub(crate) async fn spawn_with_clock(change: impl FnOnce(Config) -> Config, clock: Clock) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = parley_store::testing::fresh_database_url(dir.path(), &unique_name())
            .await
            .expect("a fresh test database (is PARLEY_TEST_DATABASE_URL reachable?)");
        TestApp::spawn_in(dir, url, change, clock).await
    }

    /// [`TestApp::spawn`] on the database at `url`, which the test made (reached through a proxy, say).
    pub(crate) async fn spawn_on(url: String) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary directory");
        TestApp::spawn_in(dir, url, |c| c, Clock::System).await
    }

    async fn spawn_in(
        dir: tempfile::TempDir,
        url: String,
        change: impl FnOnce(Config) -> Config,
        clock: Clock,
    ) -> TestApp {
        let config = change(Config { admin_token: Some(Secret::new(ADMIN)), ..Config::with_database(url) });
        let (base, server, shutdown) = TestApp::start(&config, &clock).await;
        let client = Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("an HTTP client");
        let mut app = TestApp { base, client, server, shutdown: Some(shutdown), config, clock, _dir: dir };
        app.wait_until_ready().await;
        app
    }

    async fn start(config: &Config, clock: &Clock) -> (String, JoinHandle<anyhow::Result<()>>, oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("the listener's address"));
        let (tx, rx) = oneshot::channel::<()>();
        let server =
            tokio::spawn(parley_server::serve_with_clock(config.clone(), listener, clock.clone(), async move {
                let _ = rx.await;
            }));
        (base, server, tx)
    }

    /// Stops the server (gracefully: what it acknowledged is committed) and starts a new one on the
    /// same database and clock, at a new address.
    pub(crate) async fn restart(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match (&mut self.server).await {
            Ok(Ok(())) => {}
            other => panic!("the server did not stop cleanly: {other:?}"),
        }
        let (base, server, shutdown) = TestApp::start(&self.config, &self.clock).await;
        (self.base, self.server, self.shutdown) = (base, server, Some(shutdown));
        self.wait_until_ready().await;
    }

    /// A second server on this one's database, configuration and clock, running beside it: another
    /// node of the same deployment (PostgreSQL only; a second server on a SQLite file is refused).
    pub(crate) async fn second_node(&self) -> TestApp {
        let (base, server, shutdown) = TestApp::start(&self.config, &self.clock).await;
        let client = Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("an HTTP client");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (config, clock) = (self.config.clone(), self.clock.clone());
        let mut node = TestApp { base, client, server, shutdown: Some(shutdown), config, clock, _dir: dir };
        node.wait_until_ready().await;
        node
    }

    /// Waits until no chat timer is due and the outbox has nothing due left to hand to a carrier, in
    /// that order: a timer that fires may send a message. Read from this server's own database (the
    /// `/metrics` gauges say the same, but every server of the test process shares one recorder).
    pub(crate) async fn outbox_drained(&self) {
        let store = parley_store::Store::connect(&self.config.database_url).await.expect("the test database");
        eventually("no chat timer to be due", || async {
            match store.due_chat_count(self.clock.now().0).await.expect("counting due chats") {
                0 => Ok(()),
                n => Err(format!("{n} chat timers due")),
            }
        })
        .await;
        eventually("the outbox to drain", || async {
            match store.outbox_depth(self.clock.now().0).await.expect("counting the outbox") {
                0 => Ok(()),
                n => Err(format!("{n} messages due in the outbox")),
            }
        })
        .await;
        store.close().await;
    }

    /// Waits until the report follower has rolled up every finished chat and read the whole log.
    pub(crate) async fn reports_rolled_up(&self) {
        let store = self.store().await;
        eventually("the report follower to catch up", || async {
            let cursor = store.report_cursor().await.expect("the report cursor");
            let head = store.last_event_id().await.expect("the last event");
            let (finished, rolled) = store.rollup_progress().await.expect("counting rollups");
            if cursor >= head && finished == rolled {
                Ok(())
            } else {
                Err(format!("cursor {cursor} of {head}; {rolled} of {finished} finished chats rolled up"))
            }
        })
        .await;
        store.close().await;
    }

    /// The events committed after `after`, as (id, kind), read from this server's own database: what
    /// a consumer of the event log (a webhook) must see, in order.
    pub(crate) async fn committed_events_after(&self, after: i64) -> Vec<(i64, String)> {
        let store = parley_store::Store::connect(&self.config.database_url).await.expect("the test database");
        let events = store.events_after(after, 100_000).await.expect("reading the event log");
        store.close().await;
        events.into_iter().map(|e| (e.id, e.kind)).collect()
    }

    /// A connection to this server's database, to look at what the API does not show.
    pub(crate) async fn store(&self) -> parley_store::Store {
        parley_store::Store::connect(&self.config.database_url).await.expect("the test database")
    }

    /// [`TestApp::spawn`] with [`standard_setup`] applied.
    pub(crate) async fn with_standard_setup() -> TestApp {
        let app = TestApp::spawn().await;
        app.apply_setup(&standard_setup()).await;
        app
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if self.server.is_finished() {
                let outcome = (&mut self.server).await;
                panic!("the server stopped before it was ready: {outcome:?}");
            }
            let ready = self
                .client
                .get(format!("{}/readyz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "the server was not ready within {DEADLINE:?}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Any request; `body` is sent as JSON.
    pub(crate) async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        Reply::read(&format!("{method} {path}"), req.send().await).await
    }

    /// [`TestApp::request`] with extra headers, authenticated with a bearer token or HTTP basic.
    pub(crate) async fn request_with(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        req = match auth {
            Auth::Bearer(token) => req.bearer_auth(token),
            Auth::Basic(user, password) => req.basic_auth(user, Some(password)),
            Auth::Cookie(cookie) => req.header(reqwest::header::COOKIE, cookie),
        };
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        Reply::read(&format!("{method} {path}"), req.send().await).await
    }

    /// A request with a raw body and content type, for malformed input.
    pub(crate) async fn request_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base)).body(body.to_owned());
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        Reply::read(&format!("{method} {path}"), req.send().await).await
    }

    /// The admin creates a supervisor of `teams`, who logs in: the `Cookie` header of their session.
    pub(crate) async fn supervisor_session(&self, username: &str, teams: &[&str]) -> String {
        let password = format!("{username}-password-1");
        let user = json!({"username": username, "role": "supervisor", "teams": teams, "password": password});
        self.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
        let form = [("username", username), ("password", password.as_str())];
        let answer = client.post(format!("{}/login", self.base)).form(&form).send().await.expect("a login answer");
        let cookie = answer
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("parley_session=").and_then(|v| v.split(';').next()))
            .unwrap_or_else(|| panic!("no session cookie for {username}: {}", answer.status()));
        format!("parley_session={cookie}")
    }

    /// The admin replaces the setup; it must be accepted. Returns the setup as stored.
    pub(crate) async fn apply_setup(&self, doc: &Value) -> Value {
        self.try_apply_setup(doc).await.expect_status(200).body
    }

    /// The admin tries to replace the setup.
    pub(crate) async fn try_apply_setup(&self, doc: &Value) -> Reply {
        self.request(Method::PUT, "/api/v1/setup", Some(ADMIN), Some(doc)).await
    }

    /// The setup in force, as the admin reads it.
    pub(crate) async fn setup(&self) -> Value {
        self.request(Method::GET, "/api/v1/setup", Some(ADMIN), None).await.expect_status(200).body
    }

    /// The admin mints a token for an agent of the setup.
    pub(crate) async fn agent_token(&self, agent: &str) -> String {
        let created = self
            .request(Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&json!({ "agent": agent })))
            .await
            .expect_status(201)
            .body;
        assert_eq!(created["role"], "agent", "{created}");
        assert_eq!(created["agent"], agent, "{created}");
        created["token"].as_str().expect("a token").to_owned()
    }

    /// Someone calling the API with this bearer token.
    pub(crate) fn agent(&self, token: &str) -> Caller<'_> {
        Caller { app: self, token: token.to_owned() }
    }

    /// The bootstrap admin calling the API.
    pub(crate) fn admin(&self) -> Caller<'_> {
        self.agent(ADMIN)
    }

    /// A simulated phone, texting [`SUPPORT`] unless told otherwise with [`Phone::to`].
    pub(crate) fn phone(&self, number: &str) -> Phone<'_> {
        Phone { app: self, number: number.to_owned(), business: SUPPORT.to_owned() }
    }

    /// Opens `GET /api/v1/events` with `token`, resuming after `last_event_id` if given.
    pub(crate) async fn events(&self, token: &str, last_event_id: Option<i64>) -> EventStream {
        self.events_at("/api/v1/events", token, last_event_id).await
    }

    /// Opens an event stream at `path` (for `?after=`).
    pub(crate) async fn events_at(&self, path: &str, token: &str, last_event_id: Option<i64>) -> EventStream {
        let mut req =
            self.client.get(format!("{}{path}", self.base)).bearer_auth(token).timeout(Duration::from_secs(120));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let response = req.send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(content_type.starts_with("text/event-stream"), "content type {content_type:?}");
        EventStream { response, buffer: Vec::new() }
    }

    /// Opens `GET /api/v1/events` with a `Last-Event-ID` header that must be refused (so the answer
    /// is not a stream and can be read whole).
    pub(crate) async fn refused_events(&self, token: &str, last_event_id: &str) -> Reply {
        let req = self
            .client
            .get(format!("{}/api/v1/events", self.base))
            .bearer_auth(token)
            .header("Last-Event-ID", last_event_id);
        Reply::read(&format!("GET /api/v1/events with Last-Event-ID {last_event_id:?}"), req.send().await).await
    }

    /// Waits until the transcript of `chat_id` holds no outbound message still queued or being sent,
    /// and returns it. Once a chat is settled nothing more reaches its phone until someone acts.
    pub(crate) async fn settled(&self, chat_id: &str) -> Transcript {
        let admin = self.admin();
        eventually(&format!("every outbound message of chat {chat_id} to be handed to the carrier"), || async {
            let t = admin.transcript(chat_id).await;
            if t.messages.iter().any(|m| m.direction == "out" && matches!(m.status.as_str(), "queued" | "sending")) {
                Err(format!("{:#?}", t.messages))
            } else {
                Ok(t)
            }
        })
        .await
    }
}

/// A database name unique to the running test, so a failed test's database can be inspected and a
/// rerun replaces it instead of piling up new ones. libtest runs each test on a fresh thread named
/// after it; a test that starts a second server gets a numbered second database.
fn unique_name() -> String {
    thread_local! {
        static APPS: Cell<usize> = const { Cell::new(0) };
    }
    let n = APPS.with(|apps| {
        apps.set(apps.get() + 1);
        apps.get()
    });
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" => name.to_owned(),
        // Not on a named test thread: fall back to a name that is unique anyway.
        _ => uuid::Uuid::new_v4().simple().to_string(),
    };
    let name = if n == 1 { format!("e2e_{test}") } else { format!("e2e_{test}_{n}") };
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    // "parley_test_" and this must fit in PostgreSQL's 63 bytes.
    if name.len() <= 50 {
        name
    } else {
        let mut hasher = DefaultHasher::new();
        name.hash(&mut hasher);
        format!("{}_{:08x}", &name[..41], hasher.finish() as u32)
    }
}

/// Retries `attempt` until it returns `Ok`, for at most [`DEADLINE`]; then fails naming `what` and
/// the last state `attempt` described.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {DEADLINE:?} waiting for {what}; last seen:\n{last}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth<'a> {
    Bearer(&'a str),
    /// HTTP basic: a key's id and its token.
    Basic(&'a str, &'a str),
    /// A console session: the `Cookie` header [`TestApp::supervisor_session`] answers.
    Cookie(&'a str),
}

/// An HTTP answer: its status, headers and body (JSON when it parses, else the text as a JSON string).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) what: String,
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    /// The reply to a request the test made with a client of its own.
    pub(crate) async fn read(what: &str, sent: reqwest::Result<reqwest::Response>) -> Reply {
        let response = sent.unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { what: what.to_owned(), status, headers, body }
    }

    /// Asserts the status; returns the reply for further checks.
    #[track_caller]
    pub(crate) fn expect_status(self, status: u16) -> Reply {
        assert_eq!(self.status.as_u16(), status, "{}: unexpected status; body: {}", self.what, self.body);
        self
    }

    /// Asserts the status and parses the body.
    #[track_caller]
    pub(crate) fn parse<T: DeserializeOwned>(self, status: u16) -> T {
        let reply = self.expect_status(status);
        serde_json::from_value(reply.body.clone()).unwrap_or_else(|e| {
            panic!("{}: the body does not have the expected shape ({e}): {}", reply.what, reply.body)
        })
    }

    /// Asserts an error answer: the status, and the body `{"error": {"code", "message"}}` with this
    /// code and a non-empty message, and nothing else but `details` (a list, with `validation_failed`).
    /// Returns the message.
    #[track_caller]
    pub(crate) fn expect_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{}: unexpected status; body: {}", self.what, self.body);
        self.expect_error_shape(code)
    }

    /// Asserts the error body shape and code, whatever the status. Returns the message.
    #[track_caller]
    pub(crate) fn expect_error_shape(&self, code: &str) -> String {
        let error = self.body.get("error").unwrap_or_else(|| panic!("{}: no \"error\" in {}", self.what, self.body));
        assert_eq!(self.body.as_object().map(|o| o.len()), Some(1), "{}: extra fields in {}", self.what, self.body);
        assert_eq!(error["code"], code, "{}: unexpected code in {}", self.what, self.body);
        let message = error["message"].as_str().unwrap_or_default();
        assert!(!message.trim().is_empty(), "{}: empty message in {}", self.what, self.body);
        let details = error.get("details").map(|d| {
            assert!(code == "validation_failed" && d.is_array(), "{}: details in {}", self.what, self.body);
        });
        let fields = 2 + usize::from(details.is_some());
        assert_eq!(error.as_object().map(|o| o.len()), Some(fields), "{}: extra fields in {}", self.what, self.body);
        message.to_owned()
    }
}

/// A chat as the API shows it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Chat {
    pub(crate) id: String,
    /// manually_answered, auto_answered or outbound.
    pub(crate) start_type: Option<String>,
    pub(crate) number: String,
    pub(crate) consumer: String,
    pub(crate) status: String,
    pub(crate) queue: Option<String>,
    pub(crate) agent: Option<String>,
    pub(crate) opened_at: String,
    pub(crate) queued_at: Option<String>,
    pub(crate) ended_at: Option<String>,
    pub(crate) end_reason: Option<String>,
    pub(crate) ended_by: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChatList {
    chats: Vec<Chat>,
}

/// One message of a transcript.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) at: String,
    pub(crate) direction: String,
    pub(crate) author: String,
    pub(crate) body: String,
    pub(crate) media: Vec<String>,
    pub(crate) status: String,
    pub(crate) error: Option<String>,
}

/// A chat's transcript.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Transcript {
    pub(crate) chat: Chat,
    pub(crate) messages: Vec<Entry>,
}

impl Transcript {
    /// The outbound bodies, in order.
    pub(crate) fn sent(&self) -> Vec<String> {
        self.messages.iter().filter(|m| m.direction == "out").map(|m| m.body.clone()).collect()
    }

    /// The inbound bodies, in order.
    pub(crate) fn received(&self) -> Vec<String> {
        self.messages.iter().filter(|m| m.direction == "in").map(|m| m.body.clone()).collect()
    }
}

/// What `POST /sim/messages` answers.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SimAck {
    pub(crate) message_id: String,
    pub(crate) chat_id: Option<String>,
    pub(crate) duplicate: bool,
}

/// A message on a simulated phone.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SimMessage {
    pub(crate) seq: i64,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) direction: String,
    pub(crate) body: String,
    pub(crate) media: Vec<String>,
    pub(crate) at: String,
}

#[derive(Debug, Deserialize)]
struct SimMessages {
    messages: Vec<SimMessage>,
}

/// Bodies only, for compact assertions.
pub(crate) fn bodies(messages: &[SimMessage]) -> Vec<String> {
    messages.iter().map(|m| m.body.clone()).collect()
}

/// A simulated phone texting one business number.
pub(crate) struct Phone<'a> {
    app: &'a TestApp,
    pub(crate) number: String,
    pub(crate) business: String,
}

impl Phone<'_> {
    /// The same phone, texting another business number.
    pub(crate) fn to(mut self, business: &str) -> Self {
        self.business = business.to_owned();
        self
    }

    /// Texts `body`; the server must take it as a new message (201).
    pub(crate) async fn texts(&self, body: &str) -> SimAck {
        let ack: SimAck = self.sends(json!({ "body": body })).await.parse(201);
        assert!(!ack.duplicate, "a new text was taken for a duplicate: {ack:?}");
        ack
    }

    /// Posts to `/sim/messages` with this phone's `from` and `to` unless `fields` sets them.
    pub(crate) async fn sends(&self, fields: Value) -> Reply {
        let mut msg = json!({ "from": self.number, "to": self.business });
        if let (Some(msg), Some(fields)) = (msg.as_object_mut(), fields.as_object()) {
            for (k, v) in fields {
                msg.insert(k.clone(), v.clone());
            }
        }
        self.app.request(Method::POST, "/sim/messages", None, Some(&msg)).await
    }

    /// What Parley has delivered to this phone so far, oldest first.
    pub(crate) async fn inbox(&self) -> Vec<SimMessage> {
        let path = format!("/sim/phones/{}/messages", self.number);
        let list: SimMessages = self.app.request(Method::GET, &path, None, None).await.parse(200);
        for m in &list.messages {
            assert_eq!(m.direction, "received", "{m:?}");
            assert_eq!(m.to, self.number, "{m:?}");
        }
        list.messages
    }

    /// Both directions of this phone's messages (what it sent is stored too).
    pub(crate) async fn thread(&self) -> Vec<SimMessage> {
        let path = format!("/sim/phones/{}/thread", self.number);
        let list: SimMessages = self.app.request(Method::GET, &path, None, None).await.parse(200);
        list.messages
    }

    /// Waits until the phone has received at least `n` messages; returns all of them.
    pub(crate) async fn receives(&self, n: usize) -> Vec<SimMessage> {
        eventually(&format!("{} to have received {n} messages", self.number), || async {
            let inbox = self.inbox().await;
            if inbox.len() >= n { Ok(inbox) } else { Err(format!("{:#?}", bodies(&inbox))) }
        })
        .await
    }
}

/// Someone calling the API with a bearer token: an agent, or the admin.
pub(crate) struct Caller<'a> {
    app: &'a TestApp,
    pub(crate) token: String,
}

impl Caller<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.app.request(method, path, Some(&self.token), body).await
    }

    /// Sets the calling agent "available" or "away".
    pub(crate) async fn set_status(&self, status: &str) {
        let reply = self.call(Method::PUT, "/api/v1/me/status", Some(&json!({ "status": status }))).await;
        assert_eq!(reply.expect_status(200).body["status"], status);
    }

    /// `GET /api/v1/chats?status=...` ("ongoing", "upcoming" or "past").
    pub(crate) async fn chats(&self, status: &str) -> Vec<Chat> {
        self.try_list(&format!("?status={status}")).await.parse::<ChatList>(200).chats
    }

    /// `GET /api/v1/chats` without a filter.
    pub(crate) async fn all_chats(&self) -> Vec<Chat> {
        self.try_list("").await.parse::<ChatList>(200).chats
    }

    /// `GET /api/v1/chats` with a raw query string.
    pub(crate) async fn try_list(&self, query: &str) -> Reply {
        self.call(Method::GET, &format!("/api/v1/chats{query}"), None).await
    }

    /// One chat.
    pub(crate) async fn chat(&self, id: &str) -> Chat {
        self.try_chat(id).await.parse(200)
    }

    pub(crate) async fn try_chat(&self, id: &str) -> Reply {
        self.call(Method::GET, &format!("/api/v1/chats/{id}"), None).await
    }

    /// Accepts a chat; returns it as it is after.
    pub(crate) async fn accept(&self, id: &str) -> Chat {
        self.try_accept(id).await.parse(200)
    }

    pub(crate) async fn try_accept(&self, id: &str) -> Reply {
        self.call(Method::POST, &format!("/api/v1/chats/{id}/accept"), None).await
    }

    /// Writes to the consumer; returns the new message's id.
    pub(crate) async fn say(&self, id: &str, body: &str) -> String {
        let queued = self.try_say(id, body).await.expect_status(202).body;
        assert_eq!(queued["chat"]["id"], id, "{queued}");
        queued["message_id"].as_str().expect("a message id").to_owned()
    }

    pub(crate) async fn try_say(&self, id: &str, body: &str) -> Reply {
        self.call(Method::POST, &format!("/api/v1/chats/{id}/messages"), Some(&json!({ "body": body }))).await
    }

    /// Ends a chat; returns it as it is after.
    pub(crate) async fn end(&self, id: &str) -> Chat {
        self.try_end(id).await.parse(200)
    }

    pub(crate) async fn try_end(&self, id: &str) -> Reply {
        self.call(Method::POST, &format!("/api/v1/chats/{id}/end"), None).await
    }

    /// A chat's transcript.
    pub(crate) async fn transcript(&self, id: &str) -> Transcript {
        self.try_transcript(id).await.parse(200)
    }

    pub(crate) async fn try_transcript(&self, id: &str) -> Reply {
        self.call(Method::GET, &format!("/api/v1/chats/{id}/transcript"), None).await
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SseEvent {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) data: Value,
}

/// A `text/event-stream` body, read incrementally.
pub(crate) struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl EventStream {
    /// The next event (comments such as keep-alives are skipped); fails after [`DEADLINE`].
    pub(crate) async fn next(&mut self) -> SseEvent {
        let deadline = Instant::now() + DEADLINE;
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&String::from_utf8_lossy(&block)) {
                    return event;
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {DEADLINE:?}"))
                .expect("reading the event stream")
                .expect("the event stream ended");
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// Reads events up to and including the first one `last` holds for.
    pub(crate) async fn until(&mut self, last: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let mut events = Vec::new();
        loop {
            let event = self.next().await;
            let done = last(&event);
            events.push(event);
            if done {
                return events;
            }
        }
    }
}

fn parse_event(block: &str) -> Option<SseEvent> {
    let (mut id, mut kind, mut data) = (None, None, String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().parse::<i64>().expect("a numeric event id"));
        } else if let Some(v) = line.strip_prefix("event:") {
            kind = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    let data = if data.is_empty() { return None } else { serde_json::from_str(&data).expect("event data is JSON") };
    Some(SseEvent { id: id.expect("every event has an id"), kind: kind.expect("every event has a kind"), data })
}
