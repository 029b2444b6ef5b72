//! `parley bench fanout`: how long an event committed on one node takes to reach an SSE stream held
//! on another. Two nodes run in this process on one PostgreSQL database; an admin's event stream is
//! opened on node B, and new phones text node A one after another (a few at a time). For each text
//! the latency runs from A's acknowledgment (sent right after the commit) to the first event of its
//! chat on B's stream, so it covers the NOTIFY, B's read of the events table and its SSE write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::bench::{ms, put_setup, start_node, uuid_like};

/// What to measure.
#[derive(Debug, Args)]
pub(crate) struct FanoutArgs {
    /// The PostgreSQL database both nodes share (a fresh, empty database is best).
    #[arg(long)]
    pub(crate) database_url: String,
    /// Texts to send to node A, each from a new phone.
    #[arg(long, short = 'n', default_value_t = 1_000)]
    pub(crate) messages: usize,
    /// Texts in flight at once.
    #[arg(long, short = 'c', default_value_t = 8)]
    pub(crate) concurrency: usize,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

const NUMBER: &str = "+15550009000";

/// When each chat's first event reached node B's stream, by chat id.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

pub(crate) async fn run(args: FanoutArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.database_url.starts_with("postgres"),
        "fan-out across nodes needs PostgreSQL: pass --database-url postgres://..."
    );
    anyhow::ensure!(args.messages > 0 && args.concurrency > 0, "messages and concurrency must be above 0");
    let admin = format!("bench-{}", uuid_like());
    let (a, node_a) = start_node(&args.database_url, &admin).await?;
    let (b, node_b) = start_node(&args.database_url, &admin).await?;
    put_setup(&a, &admin).await?;
    eprintln!("node A at {a}, node B at {b}, on {}", args.database_url);

    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let stream = client
        .get(format!("{b}/api/v1/events"))
        .bearer_auth(&admin)
        .send()
        .await
        .context("opening the event stream on node B")?;
    anyhow::ensure!(stream.status().is_success(), "node B's event stream answered {}", stream.status());
    let arrivals: Arrivals = Arc::default();
    let reader = tokio::spawn(read_stream(stream, arrivals.clone()));

    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.messages as u64) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} texts {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let acks: Vec<anyhow::Result<(String, Instant)>> = futures::stream::iter(0..args.messages)
        .map(|i| {
            let (client, url, bar) = (client.clone(), format!("{a}/sim/messages"), bar.clone());
            async move {
                let body = serde_json::json!({ "from": format!("+1628{:07}", i), "to": NUMBER, "body": "hello" });
                let resp = client.post(url).json(&body).send().await?;
                let acked = Instant::now();
                bar.inc(1);
                anyhow::ensure!(resp.status().is_success(), "node A answered {}", resp.status());
                let ack: serde_json::Value = resp.json().await?;
                let chat = ack["chat_id"].as_str().context("the answer names no chat")?.to_owned();
                Ok((chat, acked))
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    bar.finish_and_clear();

    // Every acknowledged chat must show up on B; wait for the stragglers, then measure.
    let acked: Vec<(String, Instant)> = acks.into_iter().collect::<anyhow::Result<_>>()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let missing = {
            let seen = arrivals.lock().map_err(|_| anyhow::anyhow!("the stream reader panicked"))?;
            acked.iter().filter(|(chat, _)| !seen.contains_key(chat)).count()
        };
        if missing == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "{missing} chats committed on A never reached B's stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    reader.abort();
    let seen = arrivals.lock().map_err(|_| anyhow::anyhow!("the stream reader panicked"))?.clone();
    // An event can reach B before A's answer reaches the bench: that counts as 0.
    let mut latencies: Vec<Duration> =
        acked.iter().map(|(chat, at)| seen[chat].saturating_duration_since(*at)).collect();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("texts        {} to node A, {} in flight; stream on node B", acked.len(), args.concurrency);
    println!(
        "A's ack → B's stream  p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(pct(1.0))
    );
    for (stop, task) in [node_a, node_b] {
        let _ = stop.send(());
        task.await.context("a bench node panicked")??;
    }
    Ok(())
}

/// Records when the first event of each chat arrives on the stream.
async fn read_stream(mut resp: reqwest::Response, arrivals: Arrivals) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let now = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            for line in frame.lines() {
                let Some(data) = line.strip_prefix("data:") else { continue };
                let Ok(event) = serde_json::from_str::<serde_json::Value>(data.trim()) else { continue };
                if let (Some(chat), Ok(mut seen)) = (event["chat_id"].as_str(), arrivals.lock()) {
                    seen.entry(chat.to_owned()).or_insert(now);
                }
            }
        }
    }
}
