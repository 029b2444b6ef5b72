//! Crash safety of the real `parley` binary: `parley serve --sim` is killed with SIGKILL in the middle
//! of a burst of inbound texts and started again on the same database (SQLite, or PostgreSQL when
//! `PARLEY_TEST_DATABASE_URL` is set).
//!
//! What must hold afterwards: every text acknowledged with 2xx before the kill is stored; a carrier
//! redelivering the texts it got no answer for stores each of them once; every outbound message
//! reaches its phone exactly once; and the conversations go on. Besides, what the running server
//! writes into the setup (a blocked phone) is what `parley setup export` prints.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

const ADMIN: &str = "restart-admin-token";
/// A menu of billing and tech; alice takes billing chats by hand.
const SUPPORT: &str = "+15550001000";
/// One auto-answered queue; carol (capacity 50) gets every chat at once.
const SALES: &str = "+15550002000";
/// The phone alice talks with across the crash.
const CUSTOMER: &str = "+14155550100";
/// Phones texting during the burst, besides `CUSTOMER`.
const BURST_PHONES: usize = 20;
/// Most texts one phone sends in the burst.
const BURST_TEXTS: usize = 40;
/// The server is killed once this many burst texts were acknowledged, long before the burst ends.
const KILL_AFTER: usize = 150;
/// How long starting the binary or waiting for a delivery may take.
const DEADLINE: Duration = Duration::from_secs(20);
/// How long the outbox may take to settle after the restart. A message the killed process had claimed
/// is claimed again only when its lease runs out (60 s, `LEASE_MS` in the outbox sender); the burst
/// itself causes no outbound messages, so in practice nothing waits for a lease.
const SETTLE: Duration = Duration::from_secs(75);
const POLL: Duration = Duration::from_millis(25);

fn setup() -> Value {
    json!({
        "numbers": [
            {"number": SUPPORT, "label": "Support", "carrier": "sim", "queues": ["billing", "tech"]},
            {"number": SALES, "label": "Sales", "carrier": "sim", "queues": ["sales"]}
        ],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1", "BILLING"]},
            {"id": "tech", "name": "Tech", "keywords": ["2", "TECH"]},
            {"id": "sales", "name": "Sales", "auto_answer": true}
        ],
        "agents": [
            {"id": "alice", "name": "Alice", "queues": ["billing"], "capacity": 3},
            {"id": "carol", "name": "Carol", "queues": ["sales"], "capacity": 50}
        ],
        // The agents set their status once through the API; the test may outlast the default 60 s of
        // presence, which is not what it tests.
        "settings": {"brand": "Acme", "presence_timeout_seconds": 3600}
    })
}

/// A `parley serve` child process; killed (and its log shown, if the test failed) when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    async fn start(dir: &Path, database_url: &str, run: usize) -> Server {
        let port = free_port();
        let log = dir.join(format!("parley-serve-{run}.log"));
        let out = File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_parley"))
            .args(["serve", "--sim", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
            // No parley.toml of the developer's is picked up from the working directory.
            .current_dir(dir)
            .env("PARLEY_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "info,sqlx=warn")
            .env_remove("PARLEY_CONFIG")
            .env_remove("PARLEY_LISTEN")
            .env_remove("PARLEY_DATABASE_URL")
            .env_remove("PARLEY_LOG_FORMAT")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("a log file handle"))
            .stderr(out)
            .spawn()
            .expect("starting parley serve");
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), log };
        server.wait_until_ready().await;
        server
    }

    async fn wait_until_ready(&mut self) {
        let client = Client::builder().no_proxy().timeout(Duration::from_secs(2)).build().unwrap();
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("checking the child") {
                panic!("parley serve exited with {status} before it was ready");
            }
            let ready =
                client.get(format!("{}/readyz", self.base)).send().await.is_ok_and(|r| r.status() == StatusCode::OK);
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "parley serve was not ready within {DEADLINE:?}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// SIGKILL: no graceful shutdown, no flushing, nothing finished.
    fn kill(&mut self) {
        self.child.kill().expect("killing parley serve");
        self.child.wait().expect("reaping parley serve");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("----- {} -----\n{log}", self.log.display());
        }
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("an address").port()
}

/// The HTTP API of one server.
#[derive(Clone)]
struct Api {
    client: Client,
    base: String,
}

impl Api {
    fn new(server: &Server) -> Api {
        Api {
            client: Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap(),
            base: server.base.clone(),
        }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let response = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A call that must answer `status`; returns the body.
    async fn expect(
        &self,
        status: u16,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Value {
        let (got, answer) = self.call(method.clone(), path, token, body).await;
        assert_eq!(got.as_u16(), status, "{method} {path}: {answer}");
        answer
    }

    async fn agent_token(&self, agent: &str) -> String {
        let created =
            self.expect(201, Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&json!({ "agent": agent }))).await;
        created["token"].as_str().expect("a token").to_owned()
    }

    async fn available(&self, token: &str) {
        self.expect(200, Method::PUT, "/api/v1/me/status", Some(token), Some(&json!({ "status": "available" }))).await;
    }

    /// A phone texts a business number; the text must be taken. Returns its chat id.
    async fn text(&self, phone: &str, business: &str, body: &str) -> String {
        let msg = json!({ "from": phone, "to": business, "body": body });
        let ack = self.expect(201, Method::POST, "/sim/messages", None, Some(&msg)).await;
        ack["chat_id"].as_str().expect("a chat").to_owned()
    }

    async fn say(&self, token: &str, chat: &str, body: &str) {
        let path = format!("/api/v1/chats/{chat}/messages");
        self.expect(202, Method::POST, &path, Some(token), Some(&json!({ "body": body }))).await;
    }

    async fn chat(&self, chat: &str) -> Value {
        self.expect(200, Method::GET, &format!("/api/v1/chats/{chat}"), Some(ADMIN), None).await
    }

    async fn transcript(&self, chat: &str) -> Vec<Value> {
        let t = self.expect(200, Method::GET, &format!("/api/v1/chats/{chat}/transcript"), Some(ADMIN), None).await;
        t["messages"].as_array().expect("messages").clone()
    }

    async fn inbox(&self, phone: &str) -> Vec<String> {
        let list = self.expect(200, Method::GET, &format!("/sim/phones/{phone}/messages"), None, None).await;
        list["messages"].as_array().expect("messages").iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect()
    }

    /// Waits until no chat has an outbound message still queued or being sent, then checks that each
    /// phone received exactly its chat's outbound messages, once each and in order.
    async fn settle_and_check_deliveries(&self, chats: &BTreeMap<String, String>, within: Duration) {
        let deadline = Instant::now() + within;
        for (phone, chat) in chats {
            loop {
                let messages = self.transcript(chat).await;
                let pending: Vec<&Value> = messages
                    .iter()
                    .filter(|m| m["direction"] == "out" && (m["status"] == "queued" || m["status"] == "sending"))
                    .collect();
                if pending.is_empty() {
                    let sent: Vec<String> = messages
                        .iter()
                        .filter(|m| m["direction"] == "out")
                        .map(|m| {
                            assert_eq!(m["status"], "delivered", "{m}");
                            m["body"].as_str().unwrap().to_owned()
                        })
                        .collect();
                    assert_eq!(self.inbox(phone).await, sent, "{phone} got each outbound message of chat {chat} once");
                    break;
                }
                assert!(Instant::now() < deadline, "chat {chat} still has undelivered messages: {pending:#?}");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// One burst text and what became of it before the kill.
#[derive(Debug, Clone)]
struct Attempt {
    phone: String,
    business: String,
    id: String,
    body: String,
    /// The status the server answered with; `None` when the request got no answer (the kill).
    answered: Option<u16>,
}

/// One phone texting as fast as it can until the server stops answering.
async fn burst(
    client: Client,
    base: String,
    phone: String,
    business: String,
    acked: mpsc::UnboundedSender<()>,
) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    for k in 0..BURST_TEXTS {
        let id = format!("{phone}-burst-{k}");
        let body = format!("burst text {k} from {phone}");
        let msg = json!({ "from": phone, "to": business, "body": body, "id": id });
        let answered =
            client.post(format!("{base}/sim/messages")).json(&msg).send().await.ok().map(|r| r.status().as_u16());
        if answered.is_some_and(|s| (200..300).contains(&s)) {
            let _ = acked.send(());
        }
        let stop = answered.is_none();
        attempts.push(Attempt { phone: phone.clone(), business: business.clone(), id, body, answered });
        if stop {
            break;
        }
    }
    attempts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_texts_survive_a_kill_and_the_conversation_goes_on() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = parley_store::testing::fresh_database_url(dir.path(), "restart_kill_mid_burst")
        .await
        .expect("a fresh database");
    let mut first = Server::start(dir.path(), &url, 1).await;
    let api = Api::new(&first);

    // Before the crash: a setup, a conversation with alice, and twenty chats connected with carol.
    api.expect(200, Method::PUT, "/api/v1/setup", Some(ADMIN), Some(&setup())).await;
    let alice = api.agent_token("alice").await;
    let carol = api.agent_token("carol").await;
    api.available(&alice).await;
    api.available(&carol).await;
    let conversation = api.text(CUSTOMER, SUPPORT, "hi").await;
    assert_eq!(api.text(CUSTOMER, SUPPORT, "billing").await, conversation);
    api.expect(200, Method::POST, &format!("/api/v1/chats/{conversation}/accept"), Some(&alice), None).await;
    api.say(&alice, &conversation, "Hello, this is Alice from billing.").await;
    assert_eq!(api.text(CUSTOMER, SUPPORT, "My invoice is wrong").await, conversation);

    let mut chats = BTreeMap::from([(CUSTOMER.to_owned(), conversation.clone())]);
    let mut senders = vec![(CUSTOMER.to_owned(), SUPPORT.to_owned())];
    for i in 0..BURST_PHONES {
        let phone = format!("+1415555{:04}", 3000 + i);
        let chat = api.text(&phone, SALES, "hello").await;
        assert_eq!(api.chat(&chat).await["status"], "connected", "sales chats are answered at once");
        chats.insert(phone.clone(), chat);
        senders.push((phone, SALES.to_owned()));
    }
    // Everything sent so far is on the phones, so the burst below starts with an idle outbox: texts
    // into connected chats cause no outbound messages.
    api.settle_and_check_deliveries(&chats, DEADLINE).await;

    // The burst: every phone texts as fast as it can; the server is killed mid-way.
    let (acked_tx, mut acked_rx) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    for (phone, business) in &senders {
        tasks.spawn(burst(api.client.clone(), api.base.clone(), phone.clone(), business.clone(), acked_tx.clone()));
    }
    drop(acked_tx);
    for _ in 0..KILL_AFTER {
        acked_rx.recv().await.expect("the burst ended before the kill");
    }
    first.kill();
    let mut attempts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        attempts.extend(done.expect("a burst task"));
    }
    let acked: Vec<&Attempt> = attempts.iter().filter(|a| a.answered.is_some()).collect();
    let unanswered: Vec<&Attempt> = attempts.iter().filter(|a| a.answered.is_none()).collect();
    assert!(acked.iter().all(|a| a.answered == Some(201)), "every answer before the kill was 201: {acked:#?}");
    assert!(acked.len() >= KILL_AFTER, "{} acknowledged", acked.len());
    assert!(!unanswered.is_empty(), "the kill landed in the middle of the burst");
    assert!(attempts.len() < senders.len() * BURST_TEXTS, "the burst was cut short");

    // After the restart on the same database: every acknowledged text is stored, once.
    let second = Server::start(dir.path(), &url, 2).await;
    let api = Api::new(&second);
    let mut stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (phone, chat) in &chats {
        let inbound = api
            .transcript(chat)
            .await
            .into_iter()
            .filter(|m| m["direction"] == "in")
            .map(|m| m["body"].as_str().unwrap().to_owned());
        stored.insert(phone.clone(), inbound.collect());
    }
    for a in &acked {
        let n = stored[&a.phone].iter().filter(|b| **b == a.body).count();
        assert_eq!(n, 1, "acknowledged text {:?} of {} is stored {n} times", a.body, a.phone);
    }

    // The carrier redelivers what it got no answer for: each is stored once, whether or not the
    // killed server had committed it, and a repeat of an acknowledged text stays a repeat.
    let mut committed_unanswered = 0;
    for a in &unanswered {
        let msg = json!({ "from": a.phone, "to": a.business, "body": a.body, "id": a.id });
        let (status, ack) = api.call(Method::POST, "/sim/messages", None, Some(&msg)).await;
        match status.as_u16() {
            200 => {
                assert_eq!(ack["duplicate"], true, "{ack}");
                committed_unanswered += 1;
            }
            201 => assert_eq!(ack["duplicate"], false, "{ack}"),
            other => panic!("redelivering {}: {other} {ack}", a.id),
        }
        assert_eq!(ack["chat_id"].as_str(), Some(chats[&a.phone].as_str()), "{ack}");
    }
    eprintln!(
        "{} texts acknowledged before the kill, {} unanswered ({committed_unanswered} of them committed anyway)",
        acked.len(),
        unanswered.len()
    );
    let repeat = acked[0];
    let msg = json!({ "from": repeat.phone, "to": repeat.business, "body": repeat.body, "id": repeat.id });
    let (status, ack) = api.call(Method::POST, "/sim/messages", None, Some(&msg)).await;
    assert_eq!((status.as_u16(), &ack["duplicate"]), (200, &json!(true)), "{ack}");
    for (phone, chat) in &chats {
        let inbound: Vec<String> = api
            .transcript(chat)
            .await
            .into_iter()
            .filter(|m| m["direction"] == "in")
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect();
        for a in attempts.iter().filter(|a| &a.phone == phone) {
            assert_eq!(inbound.iter().filter(|b| **b == a.body).count(), 1, "{:?} of {phone}", a.body);
        }
        // Texts of one phone were sent one after another, so they are stored in the order sent.
        let burst: Vec<&String> = inbound.iter().filter(|b| b.starts_with("burst text")).collect();
        let sent: Vec<&String> = attempts.iter().filter(|a| &a.phone == phone).map(|a| &a.body).collect();
        assert_eq!(burst, sent, "{phone}");
    }

    // Every outbound message reached its phone exactly once, before or after the crash.
    api.settle_and_check_deliveries(&chats, SETTLE).await;

    // The conversation goes on: alice's token, her chat and its state survived the crash.
    let chat = api.chat(&conversation).await;
    assert_eq!((chat["status"].as_str(), chat["agent"].as_str()), (Some("connected"), Some("alice")));
    api.say(&alice, &conversation, "Sorry for the wait: your invoice is fixed.").await;
    assert_eq!(api.text(CUSTOMER, SUPPORT, "Thank you!").await, conversation);
    let (phone, chat) = chats.iter().nth(1).expect("a sales chat");
    api.say(&carol, chat, "Still there? Carol from sales here.").await;
    api.settle_and_check_deliveries(&chats, DEADLINE).await;
    let inbox = api.inbox(CUSTOMER).await;
    assert_eq!(inbox.last().map(String::as_str), Some("Sorry for the wait: your invoice is fixed."));
    assert_eq!(api.inbox(phone).await.last().map(String::as_str), Some("Still there? Carol from sales here."));
    let transcript = api.transcript(&conversation).await;
    assert_eq!(transcript.last().map(|m| m["body"].clone()), Some(json!("Thank you!")));
}

/// Issue 14, item 3: a phone blocked through the API of the real server is in the setup that
/// `parley setup export` prints afterwards, as a `[[blocklist]]` entry, and the export applies again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocklist_entries_added_through_the_api_are_in_the_exported_setup() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url =
        parley_store::testing::fresh_database_url(dir.path(), "blocklist_cli_export").await.expect("a fresh database");
    let mut server = Server::start(dir.path(), &url, 1).await;
    let api = Api::new(&server);
    api.expect(200, Method::PUT, "/api/v1/setup", Some(ADMIN), Some(&setup())).await;
    let entry = json!({ "number": "+14155550166", "reason": "Abusive messages" });
    api.expect(201, Method::POST, "/api/v1/blocklist", Some(ADMIN), Some(&entry)).await;
    server.kill();

    let export = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_parley"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("PARLEY_DATABASE_URL")
            .env_remove("PARLEY_CONFIG")
            .output()
            .expect("the parley binary runs")
    };
    let exported = export(&["setup", "export", "--database-url", &url]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let text = String::from_utf8(exported.stdout).expect("utf-8");
    let doc: toml::Value = toml::from_str(&text).expect("the export is TOML");
    let blocked = &doc["blocklist"][0];
    assert_eq!(blocked["number"].as_str(), Some("+14155550166"), "{text}");
    assert_eq!(blocked["reason"].as_str(), Some("Abusive messages"), "{text}");
    assert_eq!(blocked["added_by"].as_str(), Some("admin"), "{text}");
    assert!(blocked["added_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{text}");
    std::fs::write(dir.path().join("again.toml"), &text).expect("writing the export");
    let again = export(&["setup", "apply", "again.toml", "--database-url", &url]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}
