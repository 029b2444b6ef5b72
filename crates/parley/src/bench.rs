//! `parley bench ingest`: many phones text Parley at once through `POST /sim/messages`; every answer
//! means the message and everything it caused is committed. Reports accepted msgs/s and the
//! acknowledgment latency distribution.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use parley_server::config::{Config, Secret};

/// What to drive.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// Inbound messages to send.
    #[arg(long, short = 'n', default_value_t = 20_000)]
    pub(crate) messages: usize,
    /// Distinct phones sending them (each phone's texts go in order).
    #[arg(long, default_value_t = 2_000)]
    pub(crate) phones: usize,
    /// Requests in flight at once.
    #[arg(long, short = 'c', default_value_t = 256)]
    pub(crate) concurrency: usize,
    /// Database of the server the bench starts [default: a fresh SQLite file in a temp dir].
    #[arg(long)]
    pub(crate) database_url: Option<String>,
    /// Drive an already running server (started with --sim and the bench's setup) instead of starting one.
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Nodes to start on the same database, taking the texts in turn (several need PostgreSQL).
    #[arg(long, default_value_t = 1)]
    pub(crate) nodes: usize,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

const NUMBER: &str = "+15550009000";

pub(crate) async fn ingest(args: IngestArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.messages > 0 && args.phones > 0 && args.concurrency > 0,
        "messages, phones and concurrency must be above 0"
    );
    anyhow::ensure!(args.nodes > 0, "nodes must be above 0");
    let dir = tempfile::tempdir()?;
    let mut servers = Vec::new();
    let bases: Vec<String> = match &args.url {
        Some(url) => vec![url.trim_end_matches('/').to_owned()],
        None => {
            let db = args
                .database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
            let admin = format!("bench-{}", uuid_like());
            let mut bases = Vec::new();
            for _ in 0..args.nodes {
                let (base, server) = start_node(&db, &admin).await?;
                servers.push(server);
                bases.push(base);
            }
            put_setup(&bases[0], &admin).await?;
            eprintln!("bench server(s) at {} on {db}", bases.join(", "));
            bases
        }
    };
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).timeout(Duration::from_secs(60)).build()?;
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.messages as u64) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} msgs {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    // Message i comes from phone i % phones, so each phone's texts are spread over the run.
    let started = Instant::now();
    let results: Vec<Result<Duration, String>> = futures::stream::iter(0..args.messages)
        .map(|i| {
            let client = client.clone();
            let url = format!("{}/sim/messages", bases[i % bases.len()]);
            let bar = bar.clone();
            let phone = format!("+1415{:07}", i % args.phones);
            async move {
                let t = Instant::now();
                let body = serde_json::json!({ "from": phone, "to": NUMBER, "body": format!("message {i}") });
                let r = client.post(url).json(&body).send().await;
                bar.inc(1);
                match r {
                    Ok(resp) if resp.status().is_success() => Ok(t.elapsed()),
                    Ok(resp) => Err(format!("HTTP {}", resp.status())),
                    Err(e) => Err(e.to_string()),
                }
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    bar.finish_and_clear();

    let mut latencies: Vec<Duration> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!("messages     {} from {} phones, {} in flight", args.messages, args.phones, args.concurrency);
    println!(
        "accepted     {} ({} failed{})",
        latencies.len(),
        failures.len(),
        failures.first().map(|f| format!(", first: {f}")).unwrap_or_default()
    );
    println!("elapsed      {:.2} s", elapsed.as_secs_f64());
    println!("throughput   {:.0} msgs/s", latencies.len() as f64 / elapsed.as_secs_f64());
    println!(
        "ack latency  p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(pct(1.0))
    );
    for (stop, task) in servers {
        let _ = stop.send(());
        task.await.context("the bench server panicked")??;
    }
    anyhow::ensure!(failures.is_empty(), "{} messages were not accepted", failures.len());
    Ok(())
}

/// A node the bench stops when it is done.
pub(crate) type Node = (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>);

/// Starts `parley serve --sim` in this process on `db` with admin token `admin`; returns its base URL.
pub(crate) async fn start_node(db: &str, admin: &str) -> anyhow::Result<(String, Node)> {
    let config = Config { admin_token: Some(Secret::new(admin.to_owned())), ..Config::with_database(db.to_owned()) };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(parley_server::serve(config, listener, async move {
        let _ = stopped.await;
    }));
    wait_ready(&base).await?;
    Ok((base, (stop, task)))
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    )
}

async fn wait_ready(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the bench server did not become ready")
}

pub(crate) async fn put_setup(base: &str, admin: &str) -> anyhow::Result<()> {
    let doc = serde_json::json!({
        "numbers": [{"number": NUMBER, "label": "Bench", "carrier": "sim", "queues": ["billing", "tech"]}],
        "queues": [{"id": "billing", "name": "Billing", "keywords": ["1"]}, {"id": "tech", "name": "Tech", "keywords": ["2"]}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["billing"], "capacity": 5}],
    });
    let resp = reqwest::Client::new().put(format!("{base}/api/v1/setup")).bearer_auth(admin).json(&doc).send().await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "applying the bench setup failed: {}",
        resp.text().await.unwrap_or_default()
    );
    Ok(())
}

/// What to drive through SMPP.
#[derive(Debug, Args)]
pub(crate) struct OutboundArgs {
    /// The SMSC, HOST:PORT (for example the simulator in crates/parley-carriers/tests/peers/smsc).
    #[arg(long)]
    pub(crate) smsc: String,
    #[arg(long, default_value = "parley")]
    pub(crate) system_id: String,
    #[arg(long, default_value = "secret")]
    pub(crate) password: String,
    /// Outbound messages to send.
    #[arg(long, short = 'n', default_value_t = 20_000)]
    pub(crate) messages: usize,
    /// Distinct consumer phones they go to.
    #[arg(long, default_value_t = 2_000)]
    pub(crate) phones: usize,
    /// submit_sm in flight on the bind.
    #[arg(long, default_value_t = 64)]
    pub(crate) window: usize,
    /// Database of the server the bench starts [default: a fresh SQLite file in a temp dir].
    #[arg(long)]
    pub(crate) database_url: Option<String>,
}

const SMPP_NUMBER: &str = "+15550008000";

/// `parley bench outbound`: N messages committed to the outbox at once; the sender submits them over
/// SMPP and the SMSC's receipts come back. Reports how fast messages were durably marked sent (the
/// SMSC acknowledged them) and delivered (their receipt was recorded).
pub(crate) async fn outbound(args: OutboundArgs) -> anyhow::Result<()> {
    use parley_server::config::CarrierConfig;
    use parley_store::Store;
    use parley_store::batch::Batch;
    use parley_store::rows::MessageRow;

    anyhow::ensure!(
        args.messages > 0 && args.phones > 0 && args.window > 0,
        "messages, phones and window must be above 0"
    );
    let (host, port) = args.smsc.rsplit_once(':').context("--smsc must be HOST:PORT")?;
    let port: u16 = port.parse().context("--smsc must be HOST:PORT")?;
    let dir = tempfile::tempdir()?;
    let db = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let admin = format!("bench-{}", uuid_like());
    let mut config =
        Config { admin_token: Some(Secret::new(admin.clone())), sim: false, ..Config::with_database(db.clone()) };
    config.carriers.insert("smsc".to_owned(), {
        let mut smpp = CarrierConfig::smpp(host, port, args.system_id.clone(), args.password.clone());
        if let CarrierConfig::Smpp { window, .. } = &mut smpp {
            *window = Some(args.window);
        }
        smpp
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(parley_server::serve(config, listener, async move {
        let _ = stopped.await;
    }));
    wait_ready(&base).await?;
    let doc = serde_json::json!({
        "numbers": [{"number": SMPP_NUMBER, "label": "Bench", "carrier": "smsc", "queues": ["q"]}],
        "queues": [{"id": "q", "name": "Queue"}],
    });
    let client = reqwest::Client::new();
    let resp = client.put(format!("{base}/api/v1/setup")).bearer_auth(&admin).json(&doc).send().await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "applying the bench setup failed: {}",
        resp.text().await.unwrap_or_default()
    );
    // The bind is up when /readyz says so.
    let mut bound = false;
    for _ in 0..400 {
        let ready: serde_json::Value = client.get(format!("{base}/readyz")).send().await?.json().await?;
        if ready["carriers"]["smsc"] == true {
            bound = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::ensure!(bound, "the SMPP bind to {} did not come up", args.smsc);

    let store = Store::connect(&db).await?;
    let now = parley_server::clock::Clock::System.now().0;
    let rows: Vec<MessageRow> = (0..args.messages)
        .map(|i| {
            let consumer = format!("+1415{:07}", i % args.phones);
            let body = format!("Your order {i} has shipped.");
            MessageRow::outbound(format!("bench-{i:08}"), SMPP_NUMBER, consumer, "smsc", "system", body, now)
        })
        .collect();
    store.commit_batch(&Batch { messages: rows, ..Batch::default() }).await?;
    let started = Instant::now();
    let bar = ProgressBar::new(args.messages as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} delivered {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut all_sent = None;
    let deadline = started + Duration::from_secs(600);
    let delivered_at = loop {
        let counts: std::collections::HashMap<String, i64> = store.outbound_counts().await?.into_iter().collect();
        let delivered = counts.get("delivered").copied().unwrap_or(0);
        let sent = counts.get("sent").copied().unwrap_or(0) + delivered;
        bar.set_position(delivered as u64);
        if all_sent.is_none() && sent as usize >= args.messages {
            all_sent = Some(started.elapsed());
        }
        if delivered as usize >= args.messages {
            break started.elapsed();
        }
        let failed = counts.get("failed").copied().unwrap_or(0) + counts.get("undelivered").copied().unwrap_or(0);
        anyhow::ensure!(failed == 0, "{failed} messages failed: {counts:?}");
        anyhow::ensure!(Instant::now() < deadline, "not all delivered within 10 minutes: {counts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    bar.finish_and_clear();
    let sent_at = all_sent.unwrap_or(delivered_at);
    println!(
        "messages     {} to {} phones over SMPP ({}), window {}",
        args.messages, args.phones, args.smsc, args.window
    );
    println!(
        "submitted    all acknowledged by the SMSC and marked sent after {:.2} s: {:.0} msgs/s",
        sent_at.as_secs_f64(),
        args.messages as f64 / sent_at.as_secs_f64()
    );
    println!(
        "delivered    every receipt recorded after {:.2} s: {:.0} msgs/s",
        delivered_at.as_secs_f64(),
        args.messages as f64 / delivered_at.as_secs_f64()
    );
    store.close().await;
    let _ = stop.send(());
    task.await.context("the bench server panicked")??;
    Ok(())
}
