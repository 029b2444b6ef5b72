//! A database outage, for real: the server reaches PostgreSQL through a small TCP proxy in the test,
//! and the test cuts the proxy (listener and every connection) for a while, then brings it back on the
//! same port. While the database is away the node says so (`/readyz` 503, the API 503 `unavailable`
//! with `Retry-After`, an inbound text refused with a 5xx and not stored); once it is back the node
//! recovers by itself, without a restart: ready again, the carrier's retry of that text stored once,
//! and the workers deliver what the engine queued.
//!
//! PostgreSQL only: a SQLite database is a file inside the server's own process, with no connection
//! to lose.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::harness::{ADMIN, SimAck, TestApp, standard_setup};

/// How long the test waits for the node to notice the outage, or its end. A request during the outage
/// may wait for the pool's acquire timeout before it fails.
const OUTAGE_DEADLINE: Duration = Duration::from_secs(40);
const POLL: Duration = Duration::from_millis(100);

/// A TCP proxy to PostgreSQL that can be cut and brought back on the same address.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    /// The accept loop; it owns every connection's task, so aborting it closes them all.
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let mut proxy = Proxy { addr: "127.0.0.1:0".parse().unwrap(), upstream, task: None };
        proxy.restore().await;
        proxy
    }

    /// Listens again (on the same port once it had one) and forwards new connections.
    async fn restore(&mut self) {
        let deadline = Instant::now() + OUTAGE_DEADLINE;
        let listener = loop {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            match socket.bind(self.addr).and_then(|()| socket.listen(128)) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("binding the proxy at {} again: {e}; retrying", self.addr);
                    tokio::time::sleep(POLL).await;
                }
                Err(e) => panic!("could not listen at {} again: {e}", self.addr),
            }
        };
        self.addr = listener.local_addr().unwrap();
        let upstream = self.upstream;
        self.task = Some(tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { continue };
                        connections.spawn(async move {
                            if let Ok(mut server) = TcpStream::connect(upstream).await {
                                let _ = copy_bidirectional(&mut client, &mut server).await;
                            }
                        });
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        }));
    }

    /// The database becomes unreachable: the port refuses connections and open ones are closed.
    async fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

/// `GET path` without any retry; the status, `Retry-After` and the body.
async fn get(client: &Client, base: &str, path: &str) -> (StatusCode, Option<String>, Value) {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status();
    let retry_after =
        response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    (status, retry_after, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Polls `/readyz` until it answers `want`.
async fn wait_for_readiness(client: &Client, base: &str, want: StatusCode) {
    let deadline = Instant::now() + OUTAGE_DEADLINE;
    loop {
        let (status, _, body) = get(client, base, "/readyz").await;
        if status == want {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz still {status} ({body}) after {OUTAGE_DEADLINE:?}; wanted {want}");
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_answered_503_and_the_node_recovers_by_itself() {
    let base = std::env::var(parley_store::testing::ENV).unwrap_or_default();
    if base.is_empty() {
        eprintln!(
            "outage test: nothing to do on SQLite (a file in the server's process has no connection to lose); \
             it runs when {} names a PostgreSQL server",
            parley_store::testing::ENV
        );
        return;
    }
    let pg = Url::parse(&base).expect("PARLEY_TEST_DATABASE_URL is a URL");
    let host = pg.host_str().expect("a host in PARLEY_TEST_DATABASE_URL");
    let upstream = tokio::net::lookup_host((host, pg.port().unwrap_or(5432)))
        .await
        .expect("resolving the PostgreSQL host")
        .next()
        .expect("an address for the PostgreSQL host");
    let mut proxy = Proxy::start(upstream).await;

    let dir = tempfile::tempdir().unwrap();
    // Named after the process too: while the proxy is cut this database has no connections, so a
    // concurrent run of the same test elsewhere on the server could drop and recreate it.
    let unique = format!("e2e_outage_recovery_{}", std::process::id());
    let direct = parley_store::testing::fresh_database_url(dir.path(), &unique).await.unwrap();
    let mut url = Url::parse(&direct).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.addr.port())).unwrap();
    let app = TestApp::spawn_on(url.to_string()).await;
    app.apply_setup(&standard_setup()).await;
    let client = Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap();

    let phone = app.phone("+14155550190");
    let first = phone.texts("hi").await;
    let chat = first.chat_id.clone().expect("a chat");
    let menu = phone.receives(2).await.len();
    // The outbox records what it handed to the carrier just after; an outage in between would leave
    // those messages "sending" until their lease runs out (and the carrier's id check makes the resend
    // harmless). This test is about the node while the database is away, so it starts from a quiet one.
    app.settled(&chat).await;

    // The database goes away.
    proxy.cut().await;
    wait_for_readiness(&client, &app.base, StatusCode::SERVICE_UNAVAILABLE).await;
    let (status, retry_after, body) = get(&client, &app.base, "/api/v1/chats").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let retry_after: u64 = retry_after.expect("a Retry-After header").parse().expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    // A carrier's delivery is refused with a 5xx, so the carrier delivers it again later.
    let refused = phone.sends(json!({ "body": "2", "id": "carrier-retry-1" })).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "an inbound text during the outage: {}", refused.body);
    assert_eq!(refused.body["error"]["code"], "unavailable", "{}", refused.body);

    // The database comes back on the same address: the node is ready again, unrestarted.
    proxy.restore().await;
    wait_for_readiness(&client, &app.base, StatusCode::OK).await;
    // The carrier's retry is a new message (the refused one was not stored), and stored once.
    let retried: SimAck = phone.sends(json!({ "body": "2", "id": "carrier-retry-1" })).await.parse(201);
    assert!(!retried.duplicate, "the text refused during the outage was stored after all: {retried:?}");
    assert_eq!(retried.chat_id.as_deref(), Some(chat.as_str()));
    let again: SimAck = phone.sends(json!({ "body": "2", "id": "carrier-retry-1" })).await.parse(200);
    assert!(again.duplicate);
    let transcript = app.settled(&chat).await;
    assert_eq!(transcript.received(), ["hi", "2"], "each text once: {:#?}", transcript.messages);
    // The workers carry on: what the retried text caused reaches the phone, as does all before it.
    assert!(transcript.sent().len() > menu, "the retried text was answered: {:#?}", transcript.messages);
    let inbox = phone.receives(transcript.sent().len()).await;
    assert_eq!(crate::harness::bodies(&inbox), transcript.sent());
    let (status, _, body) = get(&client, &app.base, "/api/v1/chats").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
