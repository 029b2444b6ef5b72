//! Real processes for the multi-node test: `parley serve --sim` nodes on one database, each on its own
//! port, and HAProxy in front of them, run from the very configuration `docs/deployment.md` shows
//! (`docs/haproxy.cfg.example`), so the documented setup is the tested one.
//!
//! Nothing here sleeps to wait for a result: starting a node or HAProxy polls a readiness condition
//! with a deadline, as a load balancer would. Every child process is killed when its handle drops, and
//! its log is shown (the end of it) when the test failed.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

/// The admin bearer token every node is started with.
pub(crate) const ADMIN: &str = "multinode-admin-token";
/// Where Debian's `haproxy` package puts the binary.
pub(crate) const HAPROXY: &str = "/usr/sbin/haproxy";
/// The HAProxy configuration of `docs/deployment.md`, which the test runs.
pub(crate) const HAPROXY_TEMPLATE: &str = include_str!("../../../../docs/haproxy.cfg.example");
/// The response header the HAProxy configuration sets to the name of the node that answered.
pub(crate) const NODE_HEADER: &str = "x-parley-node";
/// How long starting a process, or waiting for one thing to happen, may take.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);
/// How often a condition on a real process is polled.
pub(crate) const POLL: Duration = Duration::from_millis(25);
/// Lines of a child's log shown when the test failed.
const LOG_TAIL: usize = 60;

/// A port nobody listens on right now. A child process cannot be handed a bound socket, so the test
/// binds port 0, reads the port the kernel chose and lets it go for the child to bind.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("an address").port()
}

/// An HTTP client that never goes through a proxy of the environment.
pub(crate) fn client(timeout: Option<Duration>) -> Client {
    let builder = Client::builder().no_proxy().connect_timeout(Duration::from_secs(5));
    let builder = match timeout {
        Some(t) => builder.timeout(t),
        None => builder,
    };
    builder.build().expect("an HTTP client")
}

/// One `parley serve --sim` node. It keeps its port across restarts, so HAProxy finds it again.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) port: u16,
    dir: PathBuf,
    database_url: String,
    child: Option<Child>,
    runs: usize,
    logs: Vec<PathBuf>,
}

impl Node {
    /// Starts a node without waiting for it (several nodes start at once, as after a deployment).
    pub(crate) fn spawn(dir: &Path, database_url: &str, name: &str) -> Node {
        let mut node = Node {
            name: name.to_owned(),
            port: free_port(),
            dir: dir.to_owned(),
            database_url: database_url.to_owned(),
            child: None,
            runs: 0,
            logs: Vec::new(),
        };
        node.run();
        node
    }

    fn run(&mut self) {
        self.runs += 1;
        let log = self.dir.join(format!("{}-run{}.log", self.name, self.runs));
        let out = File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_parley"))
            .args(["serve", "--sim", "--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--database-url", &self.database_url])
            // No parley.toml of the developer's is picked up from the working directory.
            .current_dir(&self.dir)
            .env("PARLEY_ADMIN_TOKEN", ADMIN)
            .env("PARLEY_PRIVACY_SECRET", "multinode-test-privacy-secret")
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
        self.child = Some(child);
        self.logs.push(log);
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls the node's own `/readyz` until it answers 200.
    pub(crate) async fn wait_until_ready(&mut self) {
        let client = client(Some(Duration::from_secs(2)));
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().expect("checking the child")
            {
                panic!("{} exited with {status} before it was ready", self.name);
            }
            let ready =
                client.get(format!("{}/readyz", self.base())).send().await.is_ok_and(|r| r.status() == StatusCode::OK);
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "{} was not ready within {DEADLINE:?}", self.name);
            tokio::time::sleep(POLL).await;
        }
    }

    /// SIGKILL: no graceful shutdown, no flushing, nothing finished.
    pub(crate) fn kill(&mut self) {
        let mut child = self.child.take().expect("a running node");
        child.kill().expect("killing parley serve");
        child.wait().expect("reaping parley serve");
    }

    /// Starts the node again on the same port and database, and waits until it is ready.
    pub(crate) async fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        self.run();
        self.wait_until_ready().await;
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for log in &self.logs {
                show_tail(log);
            }
        }
    }
}

fn show_tail(log: &Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n");
    eprintln!("----- {} (last {LOG_TAIL} lines) -----\n{tail}", log.display());
}

/// The HAProxy configuration for `servers` (name, port) behind `port`: the documented file with its
/// `bind` port replaced and one `server` line per node, each written like the file's first one.
pub(crate) fn haproxy_config(template: &str, port: u16, servers: &[(String, u16)]) -> String {
    let binds: Vec<&str> = template.lines().filter(|l| l.trim_start().starts_with("bind ")).collect();
    assert_eq!(binds, ["    bind 127.0.0.1:8080"], "the HAProxy example binds one address");
    let first = template.lines().find(|l| l.trim_start().starts_with("server ")).expect("a server line");
    let fields: Vec<&str> = first.split_whitespace().collect();
    assert!(
        fields.len() >= 3 && fields[1] == "node1" && fields[2] == "127.0.0.1:8081",
        "the first server line names node1 at 127.0.0.1:8081: {first:?}"
    );
    let indent = &first[..first.len() - first.trim_start().len()];
    let options = fields[3..].join(" ");
    let mut out = String::new();
    let mut servers_written = false;
    for line in template.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("bind ") {
            out.push_str(&format!("{indent}bind 127.0.0.1:{port}\n"));
        } else if trimmed.starts_with("server ") {
            if !servers_written {
                for (name, node_port) in servers {
                    out.push_str(&format!("{indent}server {name} 127.0.0.1:{node_port} {options}\n"));
                }
                servers_written = true;
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// HAProxy in the foreground (`haproxy -f CFG -db`), killed when dropped.
pub(crate) struct Haproxy {
    pub(crate) port: u16,
    child: Child,
    log: PathBuf,
}

impl Haproxy {
    /// Starts HAProxy in front of `servers` (name, port) on a free port.
    pub(crate) fn start(dir: &Path, servers: &[(String, u16)]) -> Haproxy {
        let port = free_port();
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(&cfg, haproxy_config(HAPROXY_TEMPLATE, port, servers)).expect("writing haproxy.cfg");
        let check = Command::new(HAPROXY).arg("-c").arg("-f").arg(&cfg).output().expect("running haproxy -c");
        assert!(
            check.status.success(),
            "haproxy refuses the configuration of docs/haproxy.cfg.example:\n{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let log = dir.join("haproxy.log");
        let out = File::create(&log).expect("a log file");
        let child = Command::new(HAPROXY)
            .arg("-f")
            .arg(&cfg)
            .arg("-db")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("a log file handle"))
            .stderr(out)
            .spawn()
            .expect("starting haproxy");
        Haproxy { port, child, log }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/readyz` through HAProxy until each of `names` has answered 200 (round robin gets to
    /// every node that is in rotation).
    pub(crate) async fn wait_until_routing_to(&mut self, names: &[&str]) {
        let client = client(Some(Duration::from_secs(2)));
        let deadline = Instant::now() + DEADLINE;
        let mut seen = BTreeSet::new();
        loop {
            if let Some(status) = self.child.try_wait().expect("checking haproxy") {
                panic!("haproxy exited with {status}");
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base())).send().await
                && r.status() == StatusCode::OK
                && let Some(node) = r.headers().get(NODE_HEADER).and_then(|v| v.to_str().ok())
            {
                seen.insert(node.to_owned());
            }
            if names.iter().all(|n| seen.contains(*n)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "HAProxy did not route to all of {names:?} within {DEADLINE:?}; it routed to {seen:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            show_tail(&self.log);
        }
    }
}

/// The HTTP API at one address (a node, or HAProxy).
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) client: Client,
    pub(crate) base: String,
}

impl Api {
    pub(crate) fn new(base: &str) -> Api {
        Api { client: client(Some(Duration::from_secs(15))), base: base.to_owned() }
    }

    /// One request; `Err` when no answer came (a node killed, a connection refused).
    pub(crate) async fn try_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), String> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let response = req.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// A request that must be answered.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let what = format!("{method} {}{path}", self.base);
        self.try_call(method, path, token, body).await.unwrap_or_else(|e| panic!("{what}: no answer: {e}"))
    }

    /// A request that must answer `status`; returns the body.
    pub(crate) async fn expect(
        &self,
        status: u16,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Value {
        let (got, answer) = self.call(method.clone(), path, token, body).await;
        assert_eq!(got.as_u16(), status, "{method} {}{path}: {answer}", self.base);
        answer
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SseEvent {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) data: Value,
}

/// Why a stream gave no further event.
#[derive(Debug)]
pub(crate) enum StreamEnd {
    /// The connection ended or failed (the node was killed).
    Broke(String),
    /// Nothing came before the deadline.
    TimedOut,
}

/// `GET /api/v1/events`, read event by event.
pub(crate) struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl EventStream {
    /// Opens the stream at `base` with `token`, from `?after=` and/or a `Last-Event-ID` header.
    pub(crate) async fn open(
        base: &str,
        token: &str,
        after: Option<i64>,
        last_event_id: Option<i64>,
    ) -> Result<EventStream, String> {
        let path = match after {
            Some(after) => format!("/api/v1/events?after={after}"),
            None => "/api/v1/events".to_owned(),
        };
        // No overall timeout: the stream is read for as long as the test needs it.
        let mut req = client(None).get(format!("{base}{path}")).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let response = req.send().await.map_err(|e| format!("GET {base}{path}: {e}"))?;
        if response.status() != StatusCode::OK {
            let status = response.status();
            return Err(format!("GET {base}{path}: {status} {}", response.text().await.unwrap_or_default()));
        }
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !content_type.starts_with("text/event-stream") {
            return Err(format!("GET {base}{path}: content type {content_type:?}"));
        }
        Ok(EventStream { response, buffer: Vec::new() })
    }

    /// The next event (keep-alive comments are skipped), if one comes before `deadline`.
    pub(crate) async fn next_before(&mut self, deadline: Instant) -> Result<SseEvent, StreamEnd> {
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&String::from_utf8_lossy(&block)) {
                    return Ok(event);
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return Err(StreamEnd::TimedOut),
                Ok(Err(e)) => return Err(StreamEnd::Broke(e.to_string())),
                Ok(Ok(None)) => return Err(StreamEnd::Broke("the stream ended".to_owned())),
                Ok(Ok(Some(chunk))) => self.buffer.extend_from_slice(&chunk),
            }
        }
    }

    /// Reads events up to and including the first one `last` holds for; fails naming `what` when the
    /// stream ends or nothing more comes within `within`.
    pub(crate) async fn until(
        &mut self,
        within: Duration,
        what: &str,
        last: impl Fn(&SseEvent) -> bool,
    ) -> Vec<SseEvent> {
        let deadline = Instant::now() + within;
        let mut events = Vec::new();
        loop {
            match self.next_before(deadline).await {
                Ok(event) => {
                    let done = last(&event);
                    events.push(event);
                    if done {
                        return events;
                    }
                }
                Err(end) => panic!("waiting for {what}: {end:?} after {within:?}; got {}", summary(&events)),
            }
        }
    }
}

/// Events in one line each: id, kind, and the body or agent they carry.
pub(crate) fn summary(events: &[SseEvent]) -> String {
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            let what = e.data["body"].as_str().or(e.data["agent"].as_str()).or(e.data["status"].as_str());
            format!("  {} {} {}", e.id, e.kind, what.unwrap_or_default())
        })
        .collect();
    format!("{} events:\n{}", events.len(), lines.join("\n"))
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
    if data.is_empty() {
        return None;
    }
    let data = serde_json::from_str(&data).expect("event data is JSON");
    Some(SseEvent { id: id.expect("every event has an id"), kind: kind.expect("every event has a kind"), data })
}
