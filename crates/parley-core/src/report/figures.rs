//! The reports' sums over chats' facts: per queue, per agent (and team), and over the whole period.
//! Every chat counts in the bucket of the moment it opened, with all its figures (docs/reports.md).

use std::collections::{BTreeMap, BTreeSet};

use crate::chat::{EndReason, StartType};
use crate::ids::{AgentId, QueueId};
use crate::time::Timestamp;

use super::facts::{Arrival, ChatFacts, ChatType, Leaving};
use super::range::Period;

/// The service level threshold of a queue that sets none.
pub const DEFAULT_SERVICE_LEVEL_SECONDS: u32 = 60;

/// Which chats a report reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Chats that passed through one of these queues (`None`: any, and chats in none).
    pub queues: Option<BTreeSet<QueueId>>,
    /// Chats one of these agents took part in.
    pub agents: Option<BTreeSet<AgentId>>,
    /// Chats on this business number.
    pub number: Option<String>,
    /// Chats of this consumer's phone.
    pub consumer: Option<String>,
}

impl Filter {
    pub fn keeps(&self, chat: &ChatFacts) -> bool {
        self.queues.as_ref().is_none_or(|qs| chat.visits.iter().any(|v| qs.contains(&v.queue)))
            && self.agents.as_ref().is_none_or(|agents| chat.agents.iter().any(|(a, _)| agents.contains(a)))
            && self.number.as_ref().is_none_or(|n| *n == chat.number)
            && self.consumer.as_ref().is_none_or(|c| *c == chat.consumer)
    }

    pub fn keeps_queue(&self, queue: &QueueId) -> bool {
        self.queues.as_ref().is_none_or(|qs| qs.contains(queue))
    }

    pub fn keeps_agent(&self, agent: &AgentId) -> bool {
        self.agents.as_ref().is_none_or(|agents| agents.contains(agent))
    }
}

/// One queue's figures in one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFigures {
    /// Visits: chats that entered the queue (a chat that came back counts again).
    pub chats_in: u32,
    pub answered: u32,
    /// Ended in the queue before an agent answered, for any reason but the queue's wait limit.
    pub abandoned: u32,
    /// Ended by the queue's wait limit (`queue_timeout`) before an agent answered.
    pub timed_out: u32,
    pub dismissed: u32,
    /// Came in by a transfer or overflow; left for another queue by one.
    pub transfers_in: u32,
    pub transfers_out: u32,
    /// Waits of the answered visits (their sum and count), and the longest wait of any visit.
    pub wait_total_ms: i64,
    pub longest_wait_ms: i64,
    /// Answered within the threshold, of the visits answered, abandoned or timed out.
    pub within_service_level: u32,
    pub service_level_base: u32,
    pub handle_total_ms: i64,
    /// Visits by chat type.
    pub by_type: BTreeMap<ChatType, u32>,
}

impl QueueFigures {
    pub fn average_wait_ms(&self) -> Option<i64> {
        average(self.wait_total_ms, self.answered)
    }

    pub fn average_handle_ms(&self) -> Option<i64> {
        average(self.handle_total_ms, self.answered)
    }

    /// The share answered within the threshold; `None` with nothing to measure.
    pub fn service_level(&self) -> Option<f64> {
        (self.service_level_base > 0).then(|| f64::from(self.within_service_level) / f64::from(self.service_level_base))
    }

    pub fn add(&mut self, other: &QueueFigures) {
        self.chats_in += other.chats_in;
        self.answered += other.answered;
        self.abandoned += other.abandoned;
        self.timed_out += other.timed_out;
        self.dismissed += other.dismissed;
        self.transfers_in += other.transfers_in;
        self.transfers_out += other.transfers_out;
        self.wait_total_ms += other.wait_total_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(other.longest_wait_ms);
        self.within_service_level += other.within_service_level;
        self.service_level_base += other.service_level_base;
        self.handle_total_ms += other.handle_total_ms;
        for (t, n) in &other.by_type {
            *self.by_type.entry(*t).or_default() += n;
        }
    }
}

/// A whole-millisecond average, `None` of nothing.
pub fn average(total: i64, count: u32) -> Option<i64> {
    (count > 0).then(|| total / i64::from(count))
}

/// Per queue and bucket. `threshold_ms` gives a queue's service level threshold.
pub fn queues(
    chats: &[ChatFacts],
    period: &Period,
    filter: &Filter,
    threshold_ms: impl Fn(&QueueId) -> i64,
    now: Timestamp,
) -> BTreeMap<(Timestamp, QueueId), QueueFigures> {
    queues_onto(BTreeMap::new(), chats, period, filter, threshold_ms, now)
}

/// [`queues`], added to `rows` (the sums of the rolled-up chats).
pub fn queues_onto(
    mut rows: BTreeMap<(Timestamp, QueueId), QueueFigures>,
    chats: &[ChatFacts],
    period: &Period,
    filter: &Filter,
    threshold_ms: impl Fn(&QueueId) -> i64,
    now: Timestamp,
) -> BTreeMap<(Timestamp, QueueId), QueueFigures> {
    for chat in chats.iter().filter(|c| filter.keeps(c)) {
        let bucket = period.bucket(chat.opened_at);
        for visit in chat.visits.iter().filter(|v| filter.keeps_queue(&v.queue)) {
            let row = rows.entry((bucket, visit.queue.clone())).or_default();
            row.chats_in += 1;
            *row.by_type.entry(chat.chat_type).or_default() += 1;
            // A chat the business started in the queue never waited there: no wait, answer or abandon.
            if visit.arrival == Arrival::Started {
                continue;
            }
            let wait = visit.wait_ms(now);
            row.longest_wait_ms = row.longest_wait_ms.max(wait);
            if visit.arrival == Arrival::Transfer || visit.arrival == Arrival::Overflow {
                row.transfers_in += 1;
            }
            if matches!(visit.left, Some((_, Leaving::Transfer | Leaving::Overflow))) {
                row.transfers_out += 1;
            }
            if visit.dismissed {
                row.dismissed += 1;
            }
            if let Some(handle) = visit.handle_ms(now) {
                row.answered += 1;
                row.wait_total_ms += wait;
                row.handle_total_ms += handle;
                row.service_level_base += 1;
                if wait <= threshold_ms(&visit.queue) {
                    row.within_service_level += 1;
                }
            } else if let Some(reason) = visit.unanswered_end() {
                row.service_level_base += 1;
                if reason == EndReason::QueueTimeout {
                    row.timed_out += 1;
                } else {
                    row.abandoned += 1;
                }
            }
        }
    }
    rows
}

/// One agent's (or one team's) figures in one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFigures {
    /// Chats they took part in.
    pub chats: u32,
    pub offered: u32,
    pub answered: u32,
    pub missed: u32,
    pub transferred_in: u32,
    pub transferred_out: u32,
    /// Chats they answered or started, and the time those were theirs.
    pub handled: u32,
    pub handle_total_ms: i64,
    pub first_response_total_ms: i64,
    pub first_responses: u32,
    pub messages_sent: u32,
    /// Outbound chats started as theirs.
    pub started: u32,
}

impl AgentFigures {
    pub fn average_handle_ms(&self) -> Option<i64> {
        average(self.handle_total_ms, self.handled)
    }

    pub fn average_first_response_ms(&self) -> Option<i64> {
        average(self.first_response_total_ms, self.first_responses)
    }

    pub fn add(&mut self, other: &AgentFigures) {
        self.chats += other.chats;
        self.offered += other.offered;
        self.answered += other.answered;
        self.missed += other.missed;
        self.transferred_in += other.transferred_in;
        self.transferred_out += other.transferred_out;
        self.handled += other.handled;
        self.handle_total_ms += other.handle_total_ms;
        self.first_response_total_ms += other.first_response_total_ms;
        self.first_responses += other.first_responses;
        self.messages_sent += other.messages_sent;
        self.started += other.started;
    }
}

/// Per agent and bucket.
pub fn agents(chats: &[ChatFacts], period: &Period, filter: &Filter) -> BTreeMap<(Timestamp, AgentId), AgentFigures> {
    agents_onto(BTreeMap::new(), chats, period, filter)
}

/// [`agents`], added to `rows` (the sums of the rolled-up chats).
pub fn agents_onto(
    mut rows: BTreeMap<(Timestamp, AgentId), AgentFigures>,
    chats: &[ChatFacts],
    period: &Period,
    filter: &Filter,
) -> BTreeMap<(Timestamp, AgentId), AgentFigures> {
    for chat in chats.iter().filter(|c| filter.keeps(c)) {
        let bucket = period.bucket(chat.opened_at);
        for (agent, part) in chat.agents.iter().filter(|(a, _)| filter.keeps_agent(a)) {
            let row = rows.entry((bucket, agent.clone())).or_default();
            row.chats += 1;
            row.offered += part.offered;
            row.answered += part.answered;
            row.missed += part.missed;
            row.transferred_in += part.transferred_in;
            row.transferred_out += part.transferred_out;
            if part.answered > 0 || part.started {
                row.handled += 1;
                row.handle_total_ms += part.handle_ms;
            }
            if let Some(first) = part.first_response_ms {
                row.first_response_total_ms += first;
                row.first_responses += 1;
            }
            row.messages_sent += part.messages_sent;
            row.started += u32::from(part.started);
        }
    }
    rows
}

/// Per team and bucket: the sums of its members' rows (an agent of two teams counts in both), and how
/// many members the team has.
pub fn teams<'a>(
    agent_rows: &BTreeMap<(Timestamp, AgentId), AgentFigures>,
    teams: impl IntoIterator<Item = (&'a str, &'a [AgentId])>,
) -> BTreeMap<(Timestamp, String), AgentFigures> {
    let mut rows: BTreeMap<(Timestamp, String), AgentFigures> = BTreeMap::new();
    for (team, members) in teams {
        for ((bucket, agent), figures) in agent_rows {
            if members.contains(agent) {
                rows.entry((*bucket, team.to_owned())).or_default().add(figures);
            }
        }
    }
    rows
}

/// Messages and segments of chats of one type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub chats: u32,
    pub inbound: u32,
    pub outbound: u32,
    pub inbound_segments: u32,
    pub outbound_segments: u32,
}

impl Traffic {
    fn add(&mut self, other: Traffic) {
        self.chats += other.chats;
        self.inbound += other.inbound;
        self.outbound += other.outbound;
        self.inbound_segments += other.inbound_segments;
        self.outbound_segments += other.outbound_segments;
    }
}

/// The period's traffic in one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Performance {
    pub total: Traffic,
    pub by_type: BTreeMap<ChatType, Traffic>,
    /// Chats by start type ("none" for chats no agent had).
    pub by_start_type: BTreeMap<&'static str, u32>,
}

/// Per bucket.
pub fn performance(chats: &[ChatFacts], period: &Period, filter: &Filter) -> BTreeMap<Timestamp, Performance> {
    performance_onto(BTreeMap::new(), chats, period, filter)
}

/// [`performance`], added to `rows` (the sums of the rolled-up chats).
pub fn performance_onto(
    mut rows: BTreeMap<Timestamp, Performance>,
    chats: &[ChatFacts],
    period: &Period,
    filter: &Filter,
) -> BTreeMap<Timestamp, Performance> {
    for chat in chats.iter().filter(|c| filter.keeps(c)) {
        let m = chat.messages;
        let traffic = Traffic {
            chats: 1,
            inbound: m.inbound,
            outbound: m.outbound,
            inbound_segments: m.inbound_segments,
            outbound_segments: m.outbound_segments,
        };
        rows.entry(period.bucket(chat.opened_at)).or_default().add_chats(chat.chat_type, chat.start_type, traffic);
    }
    rows
}

impl Performance {
    /// Adds `t`, the traffic of chats of one type and start type (`None`: no agent had them).
    pub fn add_chats(&mut self, chat_type: ChatType, start_type: Option<StartType>, t: Traffic) {
        self.total.add(t);
        self.by_type.entry(chat_type).or_default().add(t);
        *self.by_start_type.entry(start_type.map_or("none", StartType::as_str)).or_default() += t.chats;
    }
}

#[cfg(test)]
mod tests;
