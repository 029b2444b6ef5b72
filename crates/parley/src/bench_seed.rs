//! `parley bench seed`: fills a database with realistic history for the reports (docs/reports.md):
//! chats over `--days` days ending now, with a day's rhythm (quiet nights, a morning and an afternoon
//! peak), 90% started by consumers through a menu (a wait in the queue, an offer, sometimes one that
//! times out, 8% abandoned, 10% transferred to a colleague) and 10% outbound, 5 to 30 messages each,
//! inbound and outbound. Every row is what the engine writes for such a chat: the chat, its messages
//! and its events in the one JSON form (`event_json`), committed through the same batch write, so the
//! reports read it as they read live data. The data come from a fixed seed.

use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use parley_core::chat::{ChatStatus, EndReason};
use parley_core::event::Event;
use parley_core::ids::{AgentId, QueueId};
use parley_core::message::{Direction, MessageStatus};
use parley_core::time::Timestamp;
use parley_server::http::event_json::row_of_stored;
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::rows::{ChatRow, EventRow, MessageRow};

use crate::rng::Rng;

/// What to generate.
#[derive(Debug, Args)]
pub(crate) struct SeedArgs {
    /// Chats to create.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) chats: usize,
    /// The days they spread over, ending now.
    #[arg(long, default_value_t = 90)]
    pub(crate) days: u32,
    /// Agents (agent-1 …), each serving two queues.
    #[arg(long, default_value_t = 200)]
    pub(crate) agents: u32,
    /// Queues (queue-1 …), on four numbers.
    #[arg(long, default_value_t = 20)]
    pub(crate) queues: u32,
    /// Chats per transaction.
    #[arg(long, default_value_t = 500)]
    pub(crate) batch: usize,
    /// The database to fill (SQLite or PostgreSQL URL) [default: ./parley-seed.db].
    #[arg(long, visible_alias = "database")]
    pub(crate) database_url: Option<String>,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
}

/// Relative traffic per hour of the day: quiet nights, peaks at 10–12 and 14–16.
const RHYTHM: [u64; 24] = [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 22, 22, 16, 18, 22, 20, 16, 12, 9, 7, 5, 3, 2, 1];

const WORDS: [&str; 12] = [
    "Hi, my order has not arrived yet",
    "Thanks!",
    "Can you check the invoice from last week?",
    "The app shows an error when I pay",
    "Yes, that is right",
    "Order 48213",
    "When will it ship?",
    "OK",
    "I moved, the new address is 12 Main St",
    "Perfect, thank you so much",
    "Is there a fee?",
    "👍",
];

/// One chat's rows.
struct Chat {
    row: ChatRow,
    messages: Vec<MessageRow>,
    events: Vec<EventRow>,
}

struct Writer<'a> {
    chat: &'a mut Chat,
    seq: u32,
}

impl Writer<'_> {
    fn event(&mut self, event: Event, at: i64, queue: Option<&str>) {
        let mut row = row_of_stored(&event, &self.chat.row, Timestamp(at));
        row.queue = queue.map(str::to_owned);
        self.chat.events.push(row);
    }

    fn message(&mut self, direction: Direction, author: &str, body: &str, at: i64, queue: Option<&str>) {
        self.seq += 1;
        let id = format!("{}-{}", self.chat.row.id, self.seq);
        let c = &self.chat.row;
        let mut m = match direction {
            Direction::In => MessageRow::inbound(&id, &c.number, &c.consumer, "sim", format!("seed-{id}"), body, at),
            _ => {
                let mut m = MessageRow::outbound(&id, &c.number, &c.consumer, "sim", author, body, at);
                m.status = MessageStatus::Delivered;
                m.provider_id = Some(format!("seed-{id}"));
                m
            }
        };
        m.chat_id = Some(c.id.clone());
        let status = if direction == Direction::In { MessageStatus::Received } else { MessageStatus::Queued };
        self.chat.messages.push(m);
        let event = Event::Message {
            message_id: id,
            direction,
            author: author.to_owned(),
            body: body.to_owned(),
            media: vec![],
            status,
        };
        self.event(event, at, queue);
    }
}

fn agent_id(n: u64) -> AgentId {
    AgentId::parse(&format!("agent-{n}")).unwrap_or_else(|_| unreachable!("agent ids are slugs"))
}

/// The chat `i` of the history, opened at `opened`.
fn chat(rng: &mut Rng, i: usize, opened: i64, args: &SeedArgs) -> Chat {
    let queue_n = 1 + rng.below(args.queues as usize) as u64;
    let queue = format!("queue-{queue_n}");
    let number = format!("+1555000{:04}", 1000 + queue_n % 4);
    let consumer = format!("+1415{:07}", rng.below(3_000_000));
    // Agent k serves queues k mod Q and k+1 mod Q: pick one of the queue's.
    let serving = |rng: &mut Rng| {
        let per_queue = (u64::from(args.agents) / u64::from(args.queues)).max(1);
        let k = (queue_n - 1 + u64::from(args.queues) * rng.below(per_queue as usize) as u64) % u64::from(args.agents);
        agent_id(k + 1)
    };
    let mut row = ChatRow::new(format!("seed-{i:08}"), number, consumer, ChatStatus::Finished, opened);
    row.queue = Some(queue.clone());
    let mut chat = Chat { row, messages: vec![], events: vec![] };
    let outbound = rng.chance(10);
    let mut w = Writer { chat: &mut chat, seq: 0 };
    let q = Some(queue.as_str());
    let mut at = opened;
    let mut agent = serving(rng);
    let answered;
    if outbound {
        w.chat.row.origin = "outbound".to_owned();
        w.event(Event::Opened, at, q);
        w.event(Event::StartedOutbound { agent: Some(agent.clone()) }, at, q);
        w.event(Event::Connected { agent: agent.clone(), auto_answered: false }, at, q);
        w.message(Direction::Out, &format!("agent:{agent}"), "Hi, this is Acme about your order.", at, q);
        w.chat.row.start_type = Some("outbound".to_owned());
        answered = Some(at);
    } else {
        w.event(Event::Opened, at, None);
        w.message(Direction::In, "consumer", WORDS[rng.below(WORDS.len())], at, None);
        w.message(Direction::Out, "system", "Welcome to Acme. Reply 1 for Orders, 2 for Billing.", at, None);
        w.event(Event::MenuSent, at, None);
        at += 5_000 + rng.below(40_000) as i64;
        w.message(Direction::In, "consumer", "1", at, q);
        w.event(Event::Queued { queue: QueueId::parse(&queue).unwrap_or_else(|_| unreachable!("a slug")) }, at, q);
        w.chat.row.queued_at = Some(at);
        // Waits: mostly short, a long tail.
        let wait = if rng.chance(70) { rng.below(60_000) } else { 60_000 + rng.below(600_000) } as i64;
        if rng.chance(8) {
            at += wait;
            w.message(Direction::In, "consumer", "EXIT", at, q);
            w.event(Event::Ended { reason: EndReason::ConsumerCommand, by: "consumer".to_owned() }, at, q);
            w.chat.row.ended_at = Some(at);
            w.chat.row.end_reason = Some("consumer_command".to_owned());
            w.chat.row.ended_by = Some("consumer".to_owned());
            w.chat.row.updated_at = at;
            w.chat.row.last_message_at = at;
            return chat;
        }
        if rng.chance(10) {
            let first = serving(rng);
            w.event(Event::Offered { agent: first.clone() }, at + wait / 2, q);
            w.event(Event::OfferTimedOut { agent: first }, at + wait / 2 + 30_000, q);
        }
        at += wait;
        w.event(Event::Offered { agent: agent.clone() }, at, q);
        at += 2_000 + rng.below(20_000) as i64;
        w.event(Event::Connected { agent: agent.clone(), auto_answered: false }, at, q);
        w.message(Direction::Out, "system", "You are chatting with an agent now.", at, q);
        w.chat.row.start_type = Some("manually_answered".to_owned());
        answered = Some(at);
    }
    let messages = 5 + rng.below(26);
    let transfer_at = rng.chance(10).then(|| 2 + rng.below(messages.saturating_sub(3).max(1)));
    for n in 0..messages {
        at += 10_000 + rng.below(90_000) as i64;
        if Some(n) == transfer_at {
            let to = serving(rng);
            if to != agent {
                w.event(
                    Event::TransferStarted { from: agent.clone(), to: to.clone(), queue: None, note: String::new() },
                    at,
                    q,
                );
                at += 5_000 + rng.below(30_000) as i64;
                w.event(Event::TransferEnded { from: agent.clone(), to: to.clone() }, at, q);
                agent = to;
            }
        }
        let body = WORDS[rng.below(WORDS.len())];
        if n % 2 == 0 {
            w.message(Direction::In, "consumer", body, at, q);
        } else {
            w.message(Direction::Out, &format!("agent:{agent}"), body, at, q);
        }
    }
    at += 5_000;
    w.event(Event::Ended { reason: EndReason::EndedByAgent, by: agent.to_string() }, at, q);
    w.message(Direction::Out, "system", "Thanks for chatting with Acme.", at, q);
    let row = &mut w.chat.row;
    row.agent = Some(agent.to_string());
    row.answered_at = answered;
    row.ended_at = Some(at);
    row.end_reason = Some("ended_by_agent".to_owned());
    row.ended_by = Some(agent.to_string());
    row.updated_at = at;
    row.last_message_at = at;
    chat
}

pub(crate) async fn run(args: SeedArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.chats > 0 && args.days > 0 && args.batch > 0, "chats, days and batch must be above 0");
    anyhow::ensure!(args.queues > 0 && args.agents >= args.queues, "at least one queue, and an agent per queue");
    let url = args.database_url.clone().unwrap_or_else(|| "sqlite://parley-seed.db".to_owned());
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    eprintln!("seeding {} with {} chats over {} days", crate::cli::redact_url(&url), args.chats, args.days);
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.chats as u64) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} chats {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let now = parley_server::clock::Clock::System.now().0;
    let start = now - i64::from(args.days) * 86_400_000;
    let total_weight: u64 = RHYTHM.iter().sum();
    let mut rng = Rng(0x5EED_2E70_0125);
    let started = Instant::now();
    let (mut made, mut messages, mut events) = (0, 0, 0);
    while made < args.chats {
        let n = args.batch.min(args.chats - made);
        let mut batch = Batch::default();
        for i in made..made + n {
            // Chats spread evenly over the days, and over each day's hours by the rhythm.
            let day = (i as u64 * u64::from(args.days)) / args.chats as u64;
            let mut pick = rng.below(total_weight as usize) as u64;
            let hour = RHYTHM
                .iter()
                .position(|w| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap_or(12);
            let opened = start + (day as i64) * 86_400_000 + hour as i64 * 3_600_000 + rng.below(3_600_000) as i64;
            let c = chat(&mut rng, i, opened.min(now - 3_600_000), &args);
            messages += c.messages.len();
            events += c.events.len();
            batch.chats.push(c.row);
            batch.messages.extend(c.messages);
            batch.events.extend(c.events);
        }
        store.commit_batch(&batch).await?;
        made += n;
        bar.set_position(made as u64);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {made} chats, {messages} messages and {events} events in {seconds:.0} s ({:.0} chats/s)",
        made as f64 / seconds
    );
    store.analyze().await?;
    // The reports read finished chats from their rollups: written here so they are ready at once.
    crate::reports::rebuild(&store, args.quiet).await
}
