//! Limits hold for the deployment, not per node: two outbox senders on one database together keep a
//! number's segments per second, and failed logins counted by one server are refused by another.
//!
//! The two senders are two complete sender stacks (store pools, engine, sender) in this process,
//! stepped by hand on one manual clock: at each instant both run rounds at the same time until
//! neither finds anything due, then the clock moves on. Nothing depends on how fast the machine is.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use parley_carriers::{Accepted, BoxFuture, Carrier, OutboundSms, SendError};
use parley_core::text::segment;
use parley_server::bus::Bus;
use parley_server::clock::Clock;
use parley_server::config::Secret;
use parley_server::engine::{Engine, Workers};
use parley_server::workers::outbox::OutboxSender;
use parley_server::workers::throttle::Throttle;
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::rows::MessageRow;
use reqwest::header::RETRY_AFTER;
use reqwest::{Client, StatusCode};
use serde_json::json;
use tokio::sync::{Notify, watch};

use crate::harness::{ADMIN, TestApp};

/// The limited number, and the segments per second it may send.
const NUMBER: &str = "+15550009000";
const RATE: f64 = 200.0;
/// More than one claim (500) holds, so both senders get messages at the same instant.
const MESSAGES: usize = 1000;
/// How far the clock moves between two instants.
const STEP_MS: i64 = 250;
/// 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000_000 / 86_400_000 * 86_400_000 + 8 * 3_600_000;

/// A message as a carrier received it: which node handed it over, and when (on the shared clock).
#[derive(Debug, Clone)]
struct Received {
    node: &'static str,
    id: String,
    at: i64,
    segments: usize,
}

/// A carrier that takes everything and writes down who sent what when.
struct Recorder {
    node: &'static str,
    clock: Clock,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Carrier for Recorder {
    fn send<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Vec<Result<Accepted, SendError>>> {
        let at = self.clock.now().0;
        let mut log = self.log.lock().unwrap();
        let out = messages
            .iter()
            .map(|m| {
                log.push(Received {
                    node: self.node,
                    id: m.id.clone(),
                    at,
                    segments: segment::count(&m.body).segments.max(1),
                });
                Ok(Accepted { provider_id: format!("rec-{}", m.id), delivered: false })
            })
            .collect();
        Box::pin(async move { out })
    }
}

/// One node's sending side: its own pools on the shared database, its engine and its sender.
struct Node {
    store: Store,
    sender: OutboxSender,
    /// Rounds in which this node's sender claimed something.
    busy_rounds: usize,
    _stop: watch::Sender<bool>,
}

impl Node {
    async fn start(url: &str, clock: &Clock, node: &'static str, log: &Arc<Mutex<Vec<Received>>>) -> Node {
        let store = Store::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        let (version, setup) = parley_server::load_setup(&store, &["sim"]).await.unwrap();
        assert!(setup.numbers.iter().any(|n| n.number.to_string() == NUMBER), "the stored setup has the number");
        let (stop, stop_rx) = watch::channel(false);
        let (bus, _tail) = Bus::start(store.clone(), 64, stop_rx).await.unwrap();
        let secret = Secret::new("e2e-privacy");
        let (engine, _task) = Engine::start(
            store.clone(),
            clock.clone(),
            bus,
            Workers::default(),
            Arc::new(setup),
            version,
            vec!["sim".to_owned()],
            secret.clone(),
        );
        let recorder: Arc<dyn Carrier> = Arc::new(Recorder { node, clock: clock.clone(), log: log.clone() });
        let sender = OutboxSender {
            store: store.clone(),
            clock: clock.clone(),
            carriers: Arc::new(BTreeMap::from([("sim".to_owned(), recorder)])),
            carrier_rates: BTreeMap::new(),
            engine: engine.clone(),
            wake: Arc::new(Notify::new()),
            throttle: Throttle::default(),
            privacy_secret: secret,
            media_signer: Arc::new(parley_server::outbound_media::MediaSigner::new(b"test".to_vec(), None)),
        };
        Node { store, sender, busy_rounds: 0, _stop: stop }
    }
}

/// `MESSAGES` one-segment messages from [`NUMBER`], each to a phone of its own (so no conversation
/// waits for another), queued at once.
fn queued_messages() -> Vec<MessageRow> {
    (0..MESSAGES)
        .map(|i| {
            let consumer = format!("+1415{:07}", 1_000 + i);
            let body = format!("Your order {i} has shipped.");
            MessageRow::outbound(format!("shared-{i:05}"), NUMBER, consumer, "sim", "api", body, T0)
        })
        .collect()
}

/// The largest excess over what a token bucket of `rate` per second holding one second's worth lets
/// through: over every span from one send time to a later one, the segments sent in it minus
/// `rate × (1 + span in seconds)`. Positive means the limit was broken.
fn worst_excess(log: &[Received], rate: f64) -> (f64, i64, i64) {
    let mut per_instant: BTreeMap<i64, usize> = BTreeMap::new();
    for r in log {
        *per_instant.entry(r.at).or_default() += r.segments;
    }
    let instants: Vec<(i64, usize)> = per_instant.into_iter().collect();
    let mut worst = (f64::NEG_INFINITY, 0, 0);
    for (i, &(from, _)) in instants.iter().enumerate() {
        let mut sent = 0;
        for &(to, segments) in &instants[i..] {
            sent += segments;
            let excess = sent as f64 - rate * (1.0 + (to - from) as f64 / 1000.0);
            if excess > worst.0 {
                worst = (excess, from, to);
            }
        }
    }
    worst
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_senders_together_keep_a_numbers_segments_per_second() {
    let dir = tempfile::tempdir().unwrap();
    let url = parley_store::testing::fresh_database_url(dir.path(), "e2e_two_senders_share_a_rate").await.unwrap();
    // The setup is stored, as an admin would have applied it: each node's engine loads it from there.
    let doc = json!({
        "numbers": [{"number": NUMBER, "carrier": "sim", "queues": ["q"], "segments_per_second": RATE}],
        "queues": [{"id": "q", "name": "Queue"}],
    });
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.save_setup_document(&doc.to_string(), T0).await.unwrap();
    let now = Arc::new(AtomicI64::new(T0));
    let clock = Clock::Manual(now.clone());
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut a = Node::start(&url, &clock, "a", &log).await;
    let mut b = Node::start(&url, &clock, "b", &log).await;
    a.store.commit_batch(&Batch { messages: queued_messages(), ..Batch::default() }).await.unwrap();

    // All the segments beyond the first second's worth at the rate, and a step to spare.
    let total_segments = MESSAGES as f64;
    let enough = T0 + ((total_segments - RATE) / RATE * 1000.0) as i64 + STEP_MS;
    while log.lock().unwrap().len() < MESSAGES {
        assert!(now.load(Ordering::SeqCst) <= enough, "the senders were slower than the limit asks");
        // Both senders at once, as two machines would, until neither finds anything due now.
        loop {
            let (claimed_a, claimed_b) = tokio::join!(a.sender.round(), b.sender.round());
            let (claimed_a, claimed_b) = (claimed_a.unwrap(), claimed_b.unwrap());
            a.busy_rounds += usize::from(claimed_a > 0);
            b.busy_rounds += usize::from(claimed_b > 0);
            if claimed_a == 0 && claimed_b == 0 {
                break;
            }
        }
        now.fetch_add(STEP_MS, Ordering::SeqCst);
    }

    let log = log.lock().unwrap().clone();
    // Both nodes were sending the number's messages side by side.
    assert!(a.busy_rounds > 0 && b.busy_rounds > 0, "rounds with messages: a {}, b {}", a.busy_rounds, b.busy_rounds);
    // Every message went out, once.
    let mut times_sent: HashMap<&str, usize> = HashMap::new();
    for r in &log {
        *times_sent.entry(r.id.as_str()).or_default() += 1;
    }
    assert_eq!(times_sent.len(), MESSAGES);
    assert!(
        times_sent.values().all(|&n| n == 1),
        "sent twice: {:?}",
        times_sent.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    let counts: HashMap<String, i64> = a.store.outbound_counts().await.unwrap().into_iter().collect();
    assert_eq!(counts.get("sent").copied(), Some(MESSAGES as i64), "{counts:?}");
    // Together they kept the number's rate: never more than the bucket allows over any span (so no
    // instant holds more than one second's worth, and no second more than two).
    let (excess, from, to) = worst_excess(&log, RATE);
    let by_node = |node: &str| log.iter().filter(|r| r.node == node && r.at >= from && r.at <= to).count();
    assert!(
        excess <= 0.0,
        "{excess} segments over the limit from {from} to {to} (a sent {}, b sent {})",
        by_node("a"),
        by_node("b")
    );
    // And the first instant used the whole second's worth: the limit is not stricter than asked.
    let first: usize = log.iter().filter(|r| r.at == T0).map(|r| r.segments).sum();
    assert_eq!(first, RATE as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_on_one_server_are_refused_by_another() {
    let now = Arc::new(AtomicI64::new(T0));
    let mut app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    let user = json!({"username": "dana", "role": "admin", "password": "dana-password-1"});
    app.request(reqwest::Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    let client = Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = |base: String, password: &'static str| {
        let client = client.clone();
        async move {
            let form = [("username", "dana"), ("password", password)];
            client.post(format!("{base}/login")).form(&form).send().await.unwrap()
        }
    };
    for _ in 0..5 {
        assert_eq!(login(app.base.clone(), "wrong-guess-1").await.status(), StatusCode::UNAUTHORIZED);
    }
    // Another server on the same database: on PostgreSQL a second node running beside the first; on
    // SQLite, which serves one node, the same server after a restart. Either way not this process's
    // memory: the right password is refused for 15 minutes after the five failures.
    let postgres = std::env::var(parley_store::testing::ENV).is_ok_and(|url| !url.is_empty());
    let other = if postgres { Some(app.second_node().await) } else { None };
    if other.is_none() {
        app.restart().await;
    }
    let base = other.as_ref().map_or_else(|| app.base.clone(), |node| node.base.clone());
    let refused = login(base.clone(), "dana-password-1").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("900"));
    now.fetch_add(15 * 60_000, Ordering::SeqCst);
    assert_eq!(login(base, "dana-password-1").await.status(), StatusCode::SEE_OTHER);
}
