//! The report kinds, named after the seed's reports, each as its tables (docs/reports.md has every
//! column).

use std::collections::BTreeMap;

use crate::ids::{AgentId, QueueId};
use crate::setup::Setup;
use crate::time::Timestamp;

use super::facts::{ChatFacts, ChatType};
use super::figures::{self, DEFAULT_SERVICE_LEVEL_SECONDS, Filter};
use super::range::Period;
use super::rollup::{Line, Rolled};
use super::table::{Cell, Table};

/// A report kind, as the URL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UsersTeams,
    Queues,
    CallsChats,
    Performance,
    ChatHistory,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::UsersTeams, Kind::Queues, Kind::CallsChats, Kind::Performance, Kind::ChatHistory];

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UsersTeams => "users-teams",
            Kind::Queues => "queues",
            Kind::CallsChats => "calls-chats",
            Kind::Performance => "performance",
            Kind::ChatHistory => "chat-history",
        }
    }

    /// The seed's name of the report.
    pub fn title(self) -> &'static str {
        match self {
            Kind::UsersTeams => "Users and teams: chat report",
            Kind::Queues => "Queues: chat report",
            Kind::CallsChats => "Calls and chats: chat report",
            Kind::Performance => "Performance metrics",
            Kind::ChatHistory => "Individual chat history",
        }
    }
}

/// An IVR call as the calls-and-chats report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLine {
    pub id: String,
    pub ivr_queue: String,
    pub caller: String,
    pub dialed: String,
    pub agent: Option<String>,
    pub status: String,
    pub end_reason: Option<String>,
    pub deflection: Option<String>,
    pub started_at: Timestamp,
    pub queued_at: Option<Timestamp>,
    pub connected_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// Outbound messages of one carrier and number, by status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: i64,
    pub undelivered: i64,
    pub failed: i64,
    /// Handed over, no receipt yet.
    pub sent: i64,
    /// Not handed over yet (queued, sending, scheduled) or suppressed.
    pub other: i64,
}

impl Delivery {
    pub fn add(&mut self, status: &str, count: i64) {
        match status {
            "delivered" => self.delivered += count,
            "undelivered" => self.undelivered += count,
            "failed" => self.failed += count,
            "sent" => self.sent += count,
            _ => self.other += count,
        }
    }

    /// Delivered of those whose fate is known (delivered, undelivered or failed).
    pub fn success_rate(&self) -> Option<f64> {
        let known = self.delivered + self.undelivered + self.failed;
        (known > 0).then(|| self.delivered as f64 / known as f64)
    }
}

/// What every kind reads.
pub struct Input<'a> {
    pub setup: &'a Setup,
    pub period: &'a Period,
    pub filter: &'a Filter,
    /// The chats folded from their events (those not rolled up yet).
    pub chats: &'a [ChatFacts],
    /// The sums the database read of the rolled-up chats (the filter applied already).
    pub rolled: &'a Rolled,
    pub now: Timestamp,
    /// How the viewer sees a chat's consumer (masking by the chat's queue for supervisors).
    pub consumer: &'a (dyn Fn(&Line) -> String + Sync),
}

impl Input<'_> {
    /// The folded chats' lines, oldest first (the server pages the rolled-up ones in: its
    /// `reports::lines`).
    fn lines(&self) -> Vec<Line> {
        let mut lines: Vec<Line> =
            self.chats.iter().filter(|c| self.filter.keeps(c)).map(|c| Line::of(c, self.now)).collect();
        lines.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
        lines
    }
}

fn queue_name(setup: &Setup, id: &QueueId) -> String {
    setup.queue(id).map_or_else(|| id.to_string(), |q| q.name.clone())
}

fn agent_name(setup: &Setup, id: &AgentId) -> String {
    setup.agent(id).map_or_else(|| id.to_string(), |a| a.name.clone())
}

fn time(period: &Period, at: Option<Timestamp>) -> Cell {
    at.map_or(Cell::Empty, |at| Cell::Text(period.local_time(at)))
}

fn count(n: u32) -> Cell {
    Cell::Int(i64::from(n))
}

pub const QUEUE_COLUMNS: [&str; 20] = [
    "period",
    "queue",
    "queue_name",
    "chats_in",
    "answered",
    "abandoned",
    "timed_out",
    "dismissed",
    "average_wait_seconds",
    "longest_wait_seconds",
    "service_level",
    "service_level_seconds",
    "answered_within_service_level",
    "average_handle_seconds",
    "transfers_in",
    "transfers_out",
    "sms",
    "outbound_sms",
    "call_sms",
    "handle_seconds",
];

/// A queue's service level threshold in milliseconds (its `service_level_seconds`, else 60 s).
pub fn service_level_ms(setup: &Setup, queue: &QueueId) -> i64 {
    i64::from(setup.queue(queue).and_then(|q| q.service_level_seconds).unwrap_or(DEFAULT_SERVICE_LEVEL_SECONDS)) * 1000
}

pub fn queues(input: &Input<'_>) -> Table {
    let threshold = |q: &QueueId| service_level_ms(input.setup, q);
    let rows = figures::queues_onto(
        input.rolled.queues.clone(),
        input.chats,
        input.period,
        input.filter,
        threshold,
        input.now,
    );
    let mut table = Table::new("queues", &QUEUE_COLUMNS);
    for ((bucket, queue), f) in rows {
        let by_type = |t: ChatType| count(f.by_type.get(&t).copied().unwrap_or(0));
        table.push(vec![
            Cell::Text(input.period.label(bucket)),
            Cell::text(queue.as_str()),
            Cell::Text(queue_name(input.setup, &queue)),
            count(f.chats_in),
            count(f.answered),
            count(f.abandoned),
            count(f.timed_out),
            count(f.dismissed),
            Cell::Seconds(f.average_wait_ms()),
            Cell::Seconds(Some(f.longest_wait_ms)),
            Cell::Ratio(f.service_level()),
            Cell::Int(threshold(&queue) / 1000),
            count(f.within_service_level),
            Cell::Seconds(f.average_handle_ms()),
            count(f.transfers_in),
            count(f.transfers_out),
            by_type(ChatType::Sms),
            by_type(ChatType::OutboundSms),
            by_type(ChatType::CallSms),
            Cell::Seconds(Some(f.handle_total_ms)),
        ]);
    }
    table
}

pub const USER_COLUMNS: [&str; 17] = [
    "period",
    "level",
    "id",
    "name",
    "members",
    "chats",
    "offered",
    "answered",
    "missed",
    "transferred_in",
    "transferred_out",
    "handled",
    "average_handle_seconds",
    "total_handle_seconds",
    "average_first_response_seconds",
    "messages_sent",
    "started_outbound",
];

pub fn users_teams(input: &Input<'_>) -> Table {
    let agent_rows = figures::agents_onto(input.rolled.agents.clone(), input.chats, input.period, input.filter);
    let teams: Vec<(&str, &[AgentId])> = input
        .setup
        .teams
        .iter()
        .filter(|t| t.members.iter().any(|m| input.filter.keeps_agent(m)))
        .map(|t| (t.id.as_str(), t.members.as_slice()))
        .collect();
    let team_rows = figures::teams(&agent_rows, teams);
    let mut table = Table::new("users_teams", &USER_COLUMNS);
    let mut push =
        |bucket: Timestamp, level: &str, id: &str, name: String, members: Cell, f: &figures::AgentFigures| {
            table.push(vec![
                Cell::Text(input.period.label(bucket)),
                Cell::text(level),
                Cell::text(id),
                Cell::Text(name),
                members,
                count(f.chats),
                count(f.offered),
                count(f.answered),
                count(f.missed),
                count(f.transferred_in),
                count(f.transferred_out),
                count(f.handled),
                Cell::Seconds(f.average_handle_ms()),
                Cell::Seconds(Some(f.handle_total_ms)),
                Cell::Seconds(f.average_first_response_ms()),
                count(f.messages_sent),
                count(f.started),
            ]);
        };
    for ((bucket, agent), f) in &agent_rows {
        push(*bucket, "agent", agent.as_str(), agent_name(input.setup, agent), Cell::Empty, f);
    }
    for ((bucket, team), f) in &team_rows {
        let setup_team = input.setup.teams.iter().find(|t| t.id.as_str() == team);
        let name = setup_team.map_or_else(|| team.clone(), |t| t.name.clone());
        let members = Cell::Int(setup_team.map_or(0, |t| t.members.len() as i64));
        push(*bucket, "team", team, name, members, f);
    }
    table
}

pub const LINE_COLUMNS: [&str; 18] = [
    "type",
    "id",
    "start_type",
    "queue",
    "agent",
    "agents",
    "number",
    "consumer",
    "opened_at",
    "queue_in_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "handle_seconds",
    "status",
    "end_reason",
    "messages",
    "transcript",
];

/// A chat's row in calls-chats and chat-history; `consumer` is its phone as the viewer may see it.
pub fn line_cells(period: &Period, consumer: String, chat: &Line) -> Vec<Cell> {
    let agents: Vec<&str> = chat.agents.iter().map(AgentId::as_str).collect();
    vec![
        Cell::text(chat.chat_type.as_str()),
        Cell::text(chat.id.as_str()),
        Cell::maybe(chat.start_type.map(|s| s.as_str())),
        Cell::maybe(chat.queue.as_ref().map(QueueId::as_str)),
        Cell::maybe(chat.agent.as_ref().map(AgentId::as_str)),
        Cell::Text(agents.join(" ")),
        Cell::text(chat.number.as_str()),
        Cell::Text(consumer),
        time(period, Some(chat.opened_at)),
        time(period, chat.queue_in_at),
        time(period, chat.answered_at),
        time(period, chat.ended.map(|(at, _)| at)),
        Cell::Seconds(chat.wait_ms),
        Cell::Seconds(chat.handle_ms),
        Cell::text(chat.status.as_str()),
        Cell::maybe(chat.ended.map(|(_, r)| r.as_str())),
        Cell::Int(i64::from(chat.messages.inbound + chat.messages.outbound)),
        Cell::Text(format!("/api/v1/chats/{}/messages", chat.id)),
    ]
}

/// An IVR call's row in calls-chats.
pub fn call_cells(period: &Period, now: Timestamp, call: &CallLine) -> Vec<Cell> {
    let p = period;
    let wait = call.connected_at.or(call.ended_at).unwrap_or(now).0 - call.queued_at.unwrap_or(call.started_at).0;
    let handle = call.connected_at.map(|c| call.ended_at.unwrap_or(now).0 - c.0);
    vec![
        Cell::text("call"),
        Cell::text(call.id.as_str()),
        Cell::maybe(call.deflection.as_ref().filter(|d| *d == "accepted").map(|_| "deflected")),
        Cell::text(call.ivr_queue.as_str()),
        Cell::maybe(call.agent.clone()),
        Cell::Text(call.agent.clone().unwrap_or_default()),
        Cell::text(call.dialed.as_str()),
        Cell::text(call.caller.as_str()),
        time(p, Some(call.started_at)),
        time(p, call.queued_at),
        time(p, call.connected_at),
        time(p, call.ended_at),
        Cell::Seconds(Some(wait.max(0))),
        Cell::Seconds(handle.map(|h| h.max(0))),
        Cell::text(call.status.as_str()),
        Cell::maybe(call.end_reason.clone()),
        Cell::Empty,
        Cell::Text(format!("/api/v1/ivr/calls/{}", call.id)),
    ]
}

/// One row per chat and per IVR call, oldest first.
pub fn calls_chats(input: &Input<'_>, calls: &[CallLine]) -> Table {
    let mut lines: Vec<(Timestamp, Vec<Cell>)> =
        input.lines().iter().map(|c| (c.opened_at, line_cells(input.period, (input.consumer)(c), c))).collect();
    for call in calls {
        lines.push((call.started_at, call_cells(input.period, input.now, call)));
    }
    lines.sort_by_key(|(at, _)| *at);
    let mut table = Table::new("calls_chats", &LINE_COLUMNS);
    for (_, row) in lines {
        table.push(row);
    }
    table
}

/// One consumer's or one agent's chats (the filter says whose), oldest first.
pub fn chat_history(input: &Input<'_>) -> Table {
    let mut table = Table::new("chat_history", &LINE_COLUMNS);
    for line in input.lines() {
        table.push(line_cells(input.period, (input.consumer)(&line), &line));
    }
    table
}

pub const TRAFFIC_COLUMNS: [&str; 10] = [
    "period",
    "type",
    "chats",
    "messages",
    "inbound_messages",
    "outbound_messages",
    "segments",
    "inbound_segments",
    "outbound_segments",
    "share_of_messages",
];

pub const START_COLUMNS: [&str; 4] = ["period", "start_type", "chats", "share_of_chats"];

pub const DELIVERY_COLUMNS: [&str; 9] =
    ["carrier", "number", "outbound_messages", "delivered", "undelivered", "failed", "sent", "other", "success_rate"];

/// Traffic by type, chats by start type, and delivery by carrier and number.
pub fn performance(input: &Input<'_>, delivery: &BTreeMap<(String, String), Delivery>) -> [Table; 3] {
    let rows = figures::performance_onto(input.rolled.performance.clone(), input.chats, input.period, input.filter);
    let mut traffic = Table::new("traffic", &TRAFFIC_COLUMNS);
    let mut starts = Table::new("start_types", &START_COLUMNS);
    for (bucket, p) in &rows {
        let label = input.period.label(*bucket);
        let total_messages = p.total.inbound + p.total.outbound;
        let kinds = std::iter::once(("total", p.total))
            .chain(ChatType::ALL.iter().map(|t| (t.as_str(), p.by_type.get(t).copied().unwrap_or_default())));
        for (name, t) in kinds {
            let messages = t.inbound + t.outbound;
            traffic.push(vec![
                Cell::Text(label.clone()),
                Cell::text(name),
                count(t.chats),
                count(messages),
                count(t.inbound),
                count(t.outbound),
                count(t.inbound_segments + t.outbound_segments),
                count(t.inbound_segments),
                count(t.outbound_segments),
                Cell::Ratio((total_messages > 0).then(|| f64::from(messages) / f64::from(total_messages))),
            ]);
        }
        for (start, chats) in &p.by_start_type {
            starts.push(vec![
                Cell::Text(label.clone()),
                Cell::text(*start),
                count(*chats),
                Cell::Ratio(Some(f64::from(*chats) / f64::from(p.total.chats.max(1)))),
            ]);
        }
    }
    let mut deliveries = Table::new("delivery", &DELIVERY_COLUMNS);
    for ((carrier, number), d) in delivery {
        deliveries.push(vec![
            Cell::text(carrier.as_str()),
            Cell::text(number.as_str()),
            Cell::Int(d.delivered + d.undelivered + d.failed + d.sent + d.other),
            Cell::Int(d.delivered),
            Cell::Int(d.undelivered),
            Cell::Int(d.failed),
            Cell::Int(d.sent),
            Cell::Int(d.other),
            Cell::Ratio(d.success_rate()),
        ]);
    }
    [traffic, starts, deliveries]
}
