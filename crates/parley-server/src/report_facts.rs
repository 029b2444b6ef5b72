//! The chats' report facts: folded from their events, or summed by the database from the rollups the
//! report follower wrote (docs/reports.md "How fast").
//!
//! A report reads every rolled-up chat of its period as sums (GROUP BY in the database) and folds the
//! rest from their events: the live chats, and those with an event after the follower's cursor (ended
//! or changed since its last round). Both give the same figures by construction (a rollup row is the
//! fold's facts of a finished chat), so a report is exact whether the follower is ahead or behind.

use std::collections::BTreeMap;

use parley_core::chat::{ChatStatus, Origin, StartType};
use parley_core::ids::QueueId;
use parley_core::report::facts::{ChatFacts, ChatHeader, Step, fold};
use parley_core::report::figures::{DEFAULT_SERVICE_LEVEL_SECONDS, Filter};
use parley_core::report::kinds::Kind;
use parley_core::report::range::Period;
use parley_core::report::rollup::{ChatRollup, Line, Rolled, SLOT_MS};
use parley_core::setup::Setup;
use parley_core::time::Timestamp;
use parley_store::Store;
use parley_store::report_rollups::RolledQuery;
use parley_store::rows::{ChatRow, EventRow};

use crate::http::event_json::decode_fact;

/// Past this many chats changed after the follower's cursor (a rebuild under way, a follower far
/// behind) a report folds its whole period from the events: slower, as exact.
const MOST_EXCLUDED: usize = 5_000;

/// A period's chats for a report: those folded here and the database's sums of the rest.
#[derive(Debug, Default)]
pub struct PeriodFacts {
    pub chats: Vec<ChatFacts>,
    pub rolled: Rolled,
    /// The finished chats folded here although they may have rows: the database leaves them out.
    pub excluded: Vec<String>,
    /// False when the whole period was folded (nothing is to be read of the rollups).
    pub from_database: bool,
}

/// The facts `kind` reads of the chats opened in `period` that `filter` keeps (folded chats come
/// unfiltered: the report kinds filter them).
pub async fn period_facts(
    store: &Store,
    setup: &Setup,
    kind: Kind,
    period: &Period,
    filter: &Filter,
    now: Timestamp,
) -> parley_store::Result<PeriodFacts> {
    let cursor = store.report_cursor().await?;
    let changed = store.report_chats_after(cursor, i64::MAX).await?;
    if changed.len() > MOST_EXCLUDED || !period.slots_fit(SLOT_MS) {
        let chats = all_folded(store, period, now).await?;
        return Ok(PeriodFacts { chats, rolled: Rolled::default(), excluded: vec![], from_database: false });
    }
    let (from, to) = (period.from.0, period.to.0);
    let mut fold_rows = store.live_chats_opened_between(from, to).await?;
    let mut excluded = Vec::new();
    for row in store.chats_by_ids(&changed).await? {
        excluded.push(row.id.clone());
        if period.contains(Timestamp(row.opened_at)) {
            fold_rows.push(row);
        }
    }
    let chats = facts_of(store, &fold_rows, now).await?;
    let query = RolledQuery { from, to, filter, excluded: &excluded, by_end: false };
    let mut rolled = Rolled::default();
    match kind {
        Kind::Queues => {
            let thresholds: Vec<(QueueId, i64)> = setup
                .queues
                .iter()
                .map(|q| (q.id.clone(), parley_core::report::kinds::service_level_ms(setup, &q.id)))
                .collect();
            let default_ms = i64::from(DEFAULT_SERVICE_LEVEL_SECONDS) * 1000;
            for (slot, queue, sums) in store.rolled_queue_sums(query, &thresholds, default_ms).await? {
                rolled.add_queue(period, slot, queue, &sums);
            }
        }
        Kind::UsersTeams => {
            for (slot, agent, sums) in store.rolled_agent_sums(query).await? {
                rolled.add_agent(period, slot, agent, &sums);
            }
        }
        Kind::Performance => {
            for (slot, chat_type, start_type, traffic) in store.rolled_traffic(query).await? {
                rolled.add_traffic(period, slot, chat_type, start_type, traffic);
            }
        }
        // Read a page at a time by the report (`http::api::reports::lines`).
        Kind::CallsChats | Kind::ChatHistory => {}
    }
    Ok(PeriodFacts { chats, rolled, excluded, from_database: true })
}

/// The lines of the chats that ended in `[from, to)` (the live monitor's past chats), oldest first:
/// rolled-up ones from the database, the rest folded.
pub async fn ended_between(
    store: &Store,
    from: i64,
    to: i64,
    filter: &Filter,
    now: Timestamp,
) -> parley_store::Result<Vec<Line>> {
    let cursor = store.report_cursor().await?;
    let changed = store.report_chats_after(cursor, i64::MAX).await?;
    let (rows, excluded, from_database) = if changed.len() > MOST_EXCLUDED {
        (store.chats_live_or_ended_since(from).await?, vec![], false)
    } else {
        let rows = store.chats_by_ids(&changed).await?;
        let excluded = rows.iter().map(|c| c.id.clone()).collect();
        (rows, excluded, true)
    };
    let ended: Vec<ChatRow> = rows
        .into_iter()
        .filter(|c| c.status == ChatStatus::Finished && c.ended_at.is_some_and(|at| from <= at && at < to))
        .collect();
    let mut lines: Vec<Line> =
        facts_of(store, &ended, now).await?.iter().filter(|c| filter.keeps(c)).map(|c| Line::of(c, now)).collect();
    if from_database {
        let query = RolledQuery { from, to, filter, excluded: &excluded, by_end: true };
        lines.extend(store.rolled_lines(query, None, i64::MAX).await?);
    }
    lines.sort_by(|a, b| (a.ended.map(|(at, _)| at), &a.id).cmp(&(b.ended.map(|(at, _)| at), &b.id)));
    Ok(lines)
}

/// The facts of every chat opened in the period, folded from the events.
pub async fn all_folded(store: &Store, period: &Period, now: Timestamp) -> parley_store::Result<Vec<ChatFacts>> {
    let chats = store.chats_opened_between(period.from.0, period.to.0).await?;
    let events = store.fact_events_between(period.from.0, period.to.0).await?;
    Ok(fold_all(&chats, events, now))
}

/// The facts of these chats, folded from their events.
pub async fn facts_of(store: &Store, chats: &[ChatRow], now: Timestamp) -> parley_store::Result<Vec<ChatFacts>> {
    let ids: Vec<String> = chats.iter().map(|c| c.id.clone()).collect();
    let events = store.fact_events_of(&ids).await?;
    Ok(fold_all(chats, events, now))
}

fn fold_all(chats: &[ChatRow], events: Vec<EventRow>, now: Timestamp) -> Vec<ChatFacts> {
    let mut steps: BTreeMap<String, Vec<Step>> = BTreeMap::new();
    for row in events {
        let (Some(chat_id), Some(event)) = (row.chat_id.clone(), decode_fact(&row)) else { continue };
        let queue = row.queue.as_deref().and_then(|q| QueueId::parse(q).ok());
        steps.entry(chat_id).or_default().push(Step { at: Timestamp(row.at), queue, event });
    }
    chats
        .iter()
        .map(|c| {
            let header = ChatHeader {
                id: c.id.clone(),
                number: c.number.clone(),
                consumer: c.consumer.clone(),
                origin: Origin::parse(&c.origin).unwrap_or(Origin::Inbound),
                start_type: c.start_type.as_deref().and_then(StartType::parse),
                status: c.status,
                opened_at: Timestamp(c.opened_at),
            };
            fold(&header, steps.get(&c.id).map_or(&[][..], Vec::as_slice), now)
        })
        .collect()
}

/// The rollups of these chats (finished ones; any other is left out).
pub async fn rollups_of(store: &Store, ids: &[String], now: Timestamp) -> parley_store::Result<Vec<ChatRollup>> {
    let finished: Vec<ChatRow> =
        store.chats_by_ids(ids).await?.into_iter().filter(|c| c.status == ChatStatus::Finished).collect();
    let facts = facts_of(store, &finished, now).await?;
    Ok(facts.iter().map(|f| ChatRollup::of(f, now)).collect())
}
