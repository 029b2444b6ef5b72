//! A finished chat's facts as the rows the database sums (the rollups), and the sums read back.
//!
//! The fold (`facts`) stays the one definition of every figure: a rollup row is a finished chat's
//! facts worked out once (its times are all closed, so `now` no longer matters), and the database
//! adds rows up with the same rules `figures` uses for the chats it folds. The reports add both.

use std::collections::BTreeMap;

use crate::chat::{ChatStatus, EndReason, StartType};
use crate::ids::{AgentId, QueueId};
use crate::time::Timestamp;

use super::facts::{Arrival, ChatFacts, ChatType, Leaving};
use super::figures::{AgentFigures, Performance, QueueFigures, Traffic};
use super::range::Period;

/// The database sums rollup rows in slots of this many milliseconds: every zone's hours, days, weeks
/// and months start on a quarter hour, so a slot lies in one bucket (`Period::slots_fit`).
pub const SLOT_MS: i64 = 900_000;

/// One chat as the row-per-chat reports show it (calls-chats, chat-history, the live monitor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: String,
    pub chat_type: ChatType,
    pub start_type: Option<StartType>,
    pub status: ChatStatus,
    pub number: String,
    pub consumer: String,
    pub queue: Option<QueueId>,
    pub agent: Option<AgentId>,
    /// The agents who answered or started it, in the order they first took part.
    pub agents: Vec<AgentId>,
    pub opened_at: Timestamp,
    pub queue_in_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    pub ended: Option<(Timestamp, EndReason)>,
    pub wait_ms: Option<i64>,
    pub handle_ms: Option<i64>,
    pub messages: crate::report::facts::MessageCounts,
}

impl Line {
    /// The line of a chat's facts, times still running counted until `now`.
    pub fn of(chat: &ChatFacts, now: Timestamp) -> Line {
        Line {
            id: chat.id.clone(),
            chat_type: chat.chat_type,
            start_type: chat.start_type,
            status: chat.status,
            number: chat.number.clone(),
            consumer: chat.consumer.clone(),
            queue: chat.queue.clone(),
            agent: chat.agent.clone(),
            agents: chat.agents.iter().filter(|(_, p)| p.answered > 0 || p.started).map(|(a, _)| a.clone()).collect(),
            opened_at: chat.opened_at,
            queue_in_at: chat.queue_in_at,
            answered_at: chat.answered_at,
            ended: chat.ended,
            wait_ms: chat.wait_ms(now),
            handle_ms: chat.handle_ms(now),
            messages: chat.messages,
        }
    }
}

/// A visit's row: 0 or 1 in each count; a visit the business started in the queue counts none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRow {
    pub queue: QueueId,
    pub answered: bool,
    pub abandoned: bool,
    pub timed_out: bool,
    pub dismissed: bool,
    pub transfer_in: bool,
    pub transfer_out: bool,
    /// `None` for a started visit.
    pub wait_ms: Option<i64>,
    /// Only for an answered visit.
    pub handle_ms: Option<i64>,
}

/// An agent's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub agent: AgentId,
    pub offered: u32,
    pub answered: u32,
    pub missed: u32,
    pub transferred_in: u32,
    pub transferred_out: u32,
    /// They answered or started it; `handle_ms` counts only then.
    pub handled: bool,
    pub handle_ms: i64,
    pub first_response_ms: Option<i64>,
    pub messages_sent: u32,
    pub started: bool,
}

/// Every row of one finished chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRollup {
    pub line: Line,
    pub visits: Vec<VisitRow>,
    pub agents: Vec<AgentRow>,
}

impl ChatRollup {
    /// The rows of a chat's facts, by the rules of `figures::queues` and `figures::agents`.
    pub fn of(chat: &ChatFacts, now: Timestamp) -> ChatRollup {
        let visits = chat
            .visits
            .iter()
            .map(|v| {
                if v.arrival == Arrival::Started {
                    return VisitRow {
                        queue: v.queue.clone(),
                        answered: false,
                        abandoned: false,
                        timed_out: false,
                        dismissed: false,
                        transfer_in: false,
                        transfer_out: false,
                        wait_ms: None,
                        handle_ms: None,
                    };
                }
                let handle_ms = v.handle_ms(now);
                let unanswered = if handle_ms.is_none() { v.unanswered_end() } else { None };
                VisitRow {
                    queue: v.queue.clone(),
                    answered: handle_ms.is_some(),
                    abandoned: unanswered.is_some_and(|r| r != EndReason::QueueTimeout),
                    timed_out: unanswered == Some(EndReason::QueueTimeout),
                    dismissed: v.dismissed,
                    transfer_in: matches!(v.arrival, Arrival::Transfer | Arrival::Overflow),
                    transfer_out: matches!(v.left, Some((_, Leaving::Transfer | Leaving::Overflow))),
                    wait_ms: Some(v.wait_ms(now)),
                    handle_ms,
                }
            })
            .collect();
        let agents = chat
            .agents
            .iter()
            .map(|(agent, p)| {
                let handled = p.answered > 0 || p.started;
                AgentRow {
                    agent: agent.clone(),
                    offered: p.offered,
                    answered: p.answered,
                    missed: p.missed,
                    transferred_in: p.transferred_in,
                    transferred_out: p.transferred_out,
                    handled,
                    handle_ms: if handled { p.handle_ms } else { 0 },
                    first_response_ms: p.first_response_ms,
                    messages_sent: p.messages_sent,
                    started: p.started,
                }
            })
            .collect();
        ChatRollup { line: Line::of(chat, now), visits, agents }
    }
}

/// What the database summed of the rolled-up chats, by bucket: the reports add the chats they fold
/// to these.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rolled {
    pub queues: BTreeMap<(Timestamp, QueueId), QueueFigures>,
    pub agents: BTreeMap<(Timestamp, AgentId), AgentFigures>,
    pub performance: BTreeMap<Timestamp, Performance>,
}

impl Rolled {
    /// The bucket of the slot starting at `slot` (in slots since the epoch): the period's rows of the
    /// slot all opened at or after `period.from`.
    fn bucket(period: &Period, slot: i64) -> Timestamp {
        period.bucket(Timestamp((slot * SLOT_MS).max(period.from.0)))
    }

    pub fn add_queue(&mut self, period: &Period, slot: i64, queue: QueueId, sums: &QueueFigures) {
        self.queues.entry((Rolled::bucket(period, slot), queue)).or_default().add(sums);
    }

    pub fn add_agent(&mut self, period: &Period, slot: i64, agent: AgentId, sums: &AgentFigures) {
        self.agents.entry((Rolled::bucket(period, slot), agent)).or_default().add(sums);
    }

    /// Traffic of one chat type and start type (`None`: no agent had the chat).
    pub fn add_traffic(
        &mut self,
        period: &Period,
        slot: i64,
        chat_type: ChatType,
        start_type: Option<StartType>,
        t: Traffic,
    ) {
        let row = self.performance.entry(Rolled::bucket(period, slot)).or_default();
        row.add_chats(chat_type, start_type, t);
    }
}
