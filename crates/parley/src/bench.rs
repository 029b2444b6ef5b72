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
    let dir = tempfile::tempdir()?;
    let mut server = None;
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let db = args
                .database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
            let admin = format!("bench-{}", uuid_like());
            let config = Config { admin_token: Some(Secret::new(admin.clone())), ..Config::with_database(db.clone()) };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let base = format!("http://{}", listener.local_addr()?);
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(parley_server::serve(config, listener, async move {
                let _ = stopped.await;
            }));
            server = Some((stop, task));
            wait_ready(&base).await?;
            put_setup(&base, &admin).await?;
            eprintln!("bench server at {base} on {db}");
            base
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
            let url = format!("{base}/sim/messages");
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
    if let Some((stop, task)) = server {
        let _ = stop.send(());
        task.await.context("the bench server panicked")??;
    }
    anyhow::ensure!(failures.is_empty(), "{} messages were not accepted", failures.len());
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn uuid_like() -> String {
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

async fn put_setup(base: &str, admin: &str) -> anyhow::Result<()> {
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
