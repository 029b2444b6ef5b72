//! The reports' rollups (migration 0037): finished chats' facts as rows, written by the report
//! follower, and the sums the reports read of them with GROUP BY in quarter-hour slots.
//!
//! Derived data only: the events are the truth. A row is written from a fold of the chat's events,
//! and the cursor says up to which event the follower has looked: a chat with a report event after it
//! is folded from its events by the reader instead (`excluded` below), so a report never counts a
//! chat twice or misses one while the follower catches up.

use parley_core::chat::{ChatStatus, EndReason, StartType};
use parley_core::ids::{AgentId, QueueId};
use parley_core::report::facts::{ChatType, MessageCounts};
use parley_core::report::figures::{AgentFigures, Filter, QueueFigures, Traffic};
use parley_core::report::rollup::{ChatRollup, Line, SLOT_MS};
use parley_core::time::Timestamp;
use sqlx::{QueryBuilder, Row as _};

use crate::reports::FACT_KINDS;
use crate::{Result, Store, dispatch, dispatch_write, push_list};

/// Rows per multi-row insert.
const INSERT_ROWS: usize = 400;

/// What a report reads of the rollups: the chats opened in `[from, to)` that the filter keeps, but
/// those in `excluded` (the reader folds them from their events).
#[derive(Debug, Clone, Copy)]
pub struct RolledQuery<'a> {
    pub from: i64,
    pub to: i64,
    pub filter: &'a Filter,
    pub excluded: &'a [String],
    /// Chats that ended in `[from, to)` instead of opened then (the live monitor's past chats).
    pub by_end: bool,
}

/// Which table a filtered query reads, so its conditions are direct where they can be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Over {
    Chats,
    Visits,
    Agents,
}

/// Pushes ` WHERE ...` for `query` over the table aliased `t` (one of [`Over`]).
macro_rules! push_where {
    ($q:expr, $over:expr, $query:expr) => {{
        let query: RolledQuery<'_> = $query;
        let over: Over = $over;
        let time = if query.by_end { "ended_at" } else { "opened_at" };
        $q.push(format!(" WHERE t.{time} >= "))
            .push_bind(query.from)
            .push(format!(" AND t.{time} < "))
            .push_bind(query.to);
        // The semi-joins below read the period's rows by their index, when the period is by opening.
        let (sub_from, sub_to) = if query.by_end { (i64::MIN, i64::MAX) } else { (query.from, query.to) };
        if let Some(queues) = &query.filter.queues {
            let queues: Vec<String> = queues.iter().map(|q| q.as_str().to_owned()).collect();
            if queues.is_empty() {
                $q.push(" AND 1 = 0");
            } else if over == Over::Visits {
                $q.push(" AND t.queue IN (");
                push_list!($q, &queues);
            } else {
                $q.push(" AND t.chat_id IN (SELECT fv.chat_id FROM report_visits fv WHERE fv.opened_at >= ")
                    .push_bind(sub_from)
                    .push(" AND fv.opened_at < ")
                    .push_bind(sub_to)
                    .push(" AND fv.queue IN (");
                push_list!($q, &queues);
                $q.push(")");
            }
        }
        if let Some(agents) = &query.filter.agents {
            let agents: Vec<String> = agents.iter().map(|a| a.as_str().to_owned()).collect();
            if agents.is_empty() {
                $q.push(" AND 1 = 0");
            } else if over == Over::Agents {
                $q.push(" AND t.agent IN (");
                push_list!($q, &agents);
            } else {
                $q.push(" AND t.chat_id IN (SELECT fa.chat_id FROM report_agents fa WHERE fa.opened_at >= ")
                    .push_bind(sub_from)
                    .push(" AND fa.opened_at < ")
                    .push_bind(sub_to)
                    .push(" AND fa.agent IN (");
                push_list!($q, &agents);
                $q.push(")");
            }
        }
        for (column, value) in [("number", &query.filter.number), ("consumer", &query.filter.consumer)] {
            if let Some(value) = value {
                if over == Over::Chats {
                    $q.push(format!(" AND t.{column} = ")).push_bind(value.clone());
                } else {
                    $q.push(format!(
                        " AND EXISTS (SELECT 1 FROM report_chats fc WHERE fc.chat_id = t.chat_id AND fc.{column} = "
                    ))
                    .push_bind(value.clone())
                    .push(")");
                }
            }
        }
        if !query.excluded.is_empty() {
            $q.push(" AND t.chat_id NOT IN (");
            push_list!($q, query.excluded);
        }
    }};
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

impl Store {
    /// The last event the report follower has looked at (0 before its first round).
    pub async fn report_cursor(&self) -> Result<i64> {
        dispatch!(self, |pool, DB, begin| {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT event_id FROM report_cursor WHERE id = 1").fetch_optional(pool).await?;
            Ok(row.map_or(0, |(id,)| id))
        })
    }

    /// The finished chats with a report event after event `after` and up to `upto`, each once (a
    /// live chat has no rollup: it is folded whenever it is read).
    pub async fn report_chats_after(&self, after: i64, upto: i64) -> Result<Vec<String>> {
        let kinds = FACT_KINDS.map(|k| format!("'{k}'")).join(", ");
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                // CROSS JOIN: SQLite then reads the events by their id range first, not every
                // finished chat (PostgreSQL plans it as the inner join it is).
                "SELECT DISTINCT e.chat_id FROM events e CROSS JOIN chats c \
                 WHERE c.id = e.chat_id AND e.id > $1 AND e.id <= $2 AND e.kind IN ({kinds}) AND c.status = 'finished'"
            )))
            .bind(after)
            .bind(upto)
            .fetch_all(pool)
            .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        })
    }

    /// The next `limit` chats after chat id `after`, in id order, and which of them have finished
    /// (rebuilding the rollups a page at a time). By the primary key alone: a status condition would
    /// have the database read every finished chat's id and sort them, once per page.
    pub async fn chats_after(&self, after: &str, limit: i64) -> Result<Vec<(String, bool)>> {
        dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT id, status FROM chats WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after.to_owned())
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().map(|(id, status)| (id, status == "finished")).collect())
        })
    }

    /// Updates the planner's statistics (after a bulk load: PostgreSQL otherwise plans the rebuild's
    /// reads of fresh tables by guesses, 50 times slower there).
    pub async fn analyze(&self) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            sqlx::query("ANALYZE").execute(pool).await?;
            Ok(())
        })
    }

    /// How many chats have finished, and how many of them are rolled up.
    pub async fn rollup_progress(&self) -> Result<(i64, i64)> {
        dispatch!(self, |pool, DB, begin| {
            let (finished,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM chats WHERE status = 'finished'").fetch_one(pool).await?;
            let (rolled,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM report_chats").fetch_one(pool).await?;
            Ok((finished, rolled))
        })
    }

    /// Replaces the rows of these chats with `rollups`, in one transaction. With `cursor =
    /// Some((from, to))` the cursor moves from `from` to `to` in it, only if it is still at `from`:
    /// false, and nothing written, if another node moved it first.
    pub async fn write_rollups(&self, cursor: Option<(i64, i64)>, rollups: &[ChatRollup]) -> Result<bool> {
        let replaced: Vec<String> = rollups.iter().map(|r| r.line.id.clone()).collect();
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            if let Some((from, to)) = cursor {
                let current: Option<(i64,)> =
                    sqlx::query_as("SELECT event_id FROM report_cursor WHERE id = 1").fetch_optional(&mut *tx).await?;
                if current.map_or(0, |(id,)| id) != from {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO report_cursor (id, event_id) VALUES (1, $1) \
                     ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id",
                )
                .bind(to)
                .execute(&mut *tx)
                .await?;
            }
            for chunk in replaced.chunks(crate::CHUNK) {
                for table in ["report_chats", "report_visits", "report_agents"] {
                    let mut q = QueryBuilder::<DB>::new(format!("DELETE FROM {table} WHERE chat_id IN ("));
                    push_list!(q, chunk);
                    q.build().execute(&mut *tx).await?;
                }
            }
            for chunk in rollups.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO report_chats (chat_id, opened_at, number, consumer, chat_type, start_type, status, \
                     queue_in_at, answered_at, ended_at, end_reason, queue, agent, agents, inbound, outbound, \
                     inbound_segments, outbound_segments, wait_ms, handle_ms) ",
                );
                q.push_values(chunk, |mut b, r| {
                    let l = &r.line;
                    let agents: Vec<&str> = l.agents.iter().map(AgentId::as_str).collect();
                    b.push_bind(l.id.clone())
                        .push_bind(l.opened_at.0)
                        .push_bind(l.number.clone())
                        .push_bind(l.consumer.clone())
                        .push_bind(l.chat_type.as_str())
                        .push_bind(l.start_type.map(StartType::as_str))
                        .push_bind(l.status.as_str())
                        .push_bind(l.queue_in_at.map(|t| t.0))
                        .push_bind(l.answered_at.map(|t| t.0))
                        .push_bind(l.ended.map(|(t, _)| t.0))
                        .push_bind(l.ended.map(|(_, r)| r.as_str()))
                        .push_bind(l.queue.as_ref().map(|q| q.as_str().to_owned()))
                        .push_bind(l.agent.as_ref().map(|a| a.as_str().to_owned()))
                        .push_bind(agents.join(" "))
                        .push_bind(i64::from(l.messages.inbound))
                        .push_bind(i64::from(l.messages.outbound))
                        .push_bind(i64::from(l.messages.inbound_segments))
                        .push_bind(i64::from(l.messages.outbound_segments))
                        .push_bind(l.wait_ms)
                        .push_bind(l.handle_ms);
                });
                q.build().execute(&mut *tx).await?;
            }
            let visits: Vec<(&ChatRollup, usize)> =
                rollups.iter().flat_map(|r| (0..r.visits.len()).map(move |n| (r, n))).collect();
            for chunk in visits.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO report_visits (chat_id, n, opened_at, queue, chat_type, answered, abandoned, \
                     timed_out, dismissed, transfer_in, transfer_out, wait_ms, handle_ms) ",
                );
                q.push_values(chunk, |mut b, (r, n)| {
                    let v = &r.visits[*n];
                    b.push_bind(r.line.id.clone())
                        .push_bind(*n as i64)
                        .push_bind(r.line.opened_at.0)
                        .push_bind(v.queue.as_str().to_owned())
                        .push_bind(r.line.chat_type.as_str())
                        .push_bind(flag(v.answered))
                        .push_bind(flag(v.abandoned))
                        .push_bind(flag(v.timed_out))
                        .push_bind(flag(v.dismissed))
                        .push_bind(flag(v.transfer_in))
                        .push_bind(flag(v.transfer_out))
                        .push_bind(v.wait_ms)
                        .push_bind(v.handle_ms);
                });
                q.build().execute(&mut *tx).await?;
            }
            let agents: Vec<(&ChatRollup, usize)> =
                rollups.iter().flat_map(|r| (0..r.agents.len()).map(move |n| (r, n))).collect();
            for chunk in agents.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO report_agents (chat_id, agent, opened_at, offered, answered, missed, \
                     transferred_in, transferred_out, handled, handle_ms, first_response_ms, messages_sent, started) ",
                );
                q.push_values(chunk, |mut b, (r, n)| {
                    let a = &r.agents[*n];
                    b.push_bind(r.line.id.clone())
                        .push_bind(a.agent.as_str().to_owned())
                        .push_bind(r.line.opened_at.0)
                        .push_bind(i64::from(a.offered))
                        .push_bind(i64::from(a.answered))
                        .push_bind(i64::from(a.missed))
                        .push_bind(i64::from(a.transferred_in))
                        .push_bind(i64::from(a.transferred_out))
                        .push_bind(flag(a.handled))
                        .push_bind(a.handle_ms)
                        .push_bind(a.first_response_ms)
                        .push_bind(i64::from(a.messages_sent))
                        .push_bind(flag(a.started));
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// After a rebuild: removes the rows of chats that are no longer finished (or gone) and moves the
    /// cursor up to `head` if it is behind (every chat with an event up to it was just rolled up).
    pub async fn drop_stale_rollups(&self, head: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            for table in ["report_visits", "report_agents", "report_chats"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE NOT EXISTS \
                     (SELECT 1 FROM chats c WHERE c.id = {table}.chat_id AND c.status = 'finished')"
                )))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO report_cursor (id, event_id) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET event_id = excluded.event_id WHERE report_cursor.event_id < excluded.event_id",
            )
            .bind(head)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Per quarter-hour slot and queue: the rolled-up visits' figures. `thresholds` are the queues'
    /// service level thresholds in milliseconds; others have `default_ms`.
    pub async fn rolled_queue_sums(
        &self,
        query: RolledQuery<'_>,
        thresholds: &[(QueueId, i64)],
        default_ms: i64,
    ) -> Result<Vec<(i64, QueueId, QueueFigures)>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT t.opened_at / {SLOT_MS} AS slot, t.queue, COUNT(*), \
                 CAST(SUM(CASE WHEN t.chat_type = 'sms' THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN t.chat_type = 'outbound_sms' THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN t.chat_type = 'call_sms' THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(t.answered) AS BIGINT), CAST(SUM(t.abandoned) AS BIGINT), \
                 CAST(SUM(t.timed_out) AS BIGINT), CAST(SUM(t.dismissed) AS BIGINT), \
                 CAST(SUM(t.transfer_in) AS BIGINT), CAST(SUM(t.transfer_out) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN t.answered = 1 THEN t.wait_ms END), 0) AS BIGINT), \
                 CAST(COALESCE(MAX(t.wait_ms), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(t.handle_ms), 0) AS BIGINT), \
                 CAST(SUM(CASE WHEN t.answered = 1 AND t.wait_ms <= "
            ));
            if thresholds.is_empty() {
                q.push_bind(default_ms);
            } else {
                q.push("(CASE t.queue");
                for (queue, ms) in thresholds {
                    q.push(" WHEN ").push_bind(queue.as_str().to_owned()).push(" THEN ").push_bind(*ms);
                }
                q.push(" ELSE ").push_bind(default_ms).push(" END)");
            }
            q.push(" THEN 1 ELSE 0 END) AS BIGINT) FROM report_visits t");
            push_where!(q, Over::Visits, query);
            q.push(" GROUP BY slot, t.queue");
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                let Ok(queue) = QueueId::parse(&row.try_get::<String, _>(1)?) else { continue };
                let n = |i: usize| row.try_get::<i64, _>(i);
                let mut f = QueueFigures {
                    chats_in: count(n(2)?),
                    answered: count(n(6)?),
                    abandoned: count(n(7)?),
                    timed_out: count(n(8)?),
                    dismissed: count(n(9)?),
                    transfers_in: count(n(10)?),
                    transfers_out: count(n(11)?),
                    wait_total_ms: n(12)?,
                    longest_wait_ms: n(13)?,
                    handle_total_ms: n(14)?,
                    within_service_level: count(n(15)?),
                    ..QueueFigures::default()
                };
                f.service_level_base = f.answered + f.abandoned + f.timed_out;
                for (t, i) in [(ChatType::Sms, 3), (ChatType::OutboundSms, 4), (ChatType::CallSms, 5)] {
                    if n(i)? > 0 {
                        f.by_type.insert(t, count(n(i)?));
                    }
                }
                out.push((n(0)?, queue, f));
            }
            Ok(out)
        })
    }

    /// Per quarter-hour slot and agent: the rolled-up agents' figures.
    pub async fn rolled_agent_sums(&self, query: RolledQuery<'_>) -> Result<Vec<(i64, AgentId, AgentFigures)>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT t.opened_at / {SLOT_MS} AS slot, t.agent, COUNT(*), CAST(SUM(t.offered) AS BIGINT), \
                 CAST(SUM(t.answered) AS BIGINT), CAST(SUM(t.missed) AS BIGINT), \
                 CAST(SUM(t.transferred_in) AS BIGINT), CAST(SUM(t.transferred_out) AS BIGINT), \
                 CAST(SUM(t.handled) AS BIGINT), CAST(SUM(t.handle_ms) AS BIGINT), \
                 CAST(COALESCE(SUM(t.first_response_ms), 0) AS BIGINT), COUNT(t.first_response_ms), \
                 CAST(SUM(t.messages_sent) AS BIGINT), CAST(SUM(t.started) AS BIGINT) FROM report_agents t"
            ));
            push_where!(q, Over::Agents, query);
            q.push(" GROUP BY slot, t.agent");
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                let Ok(agent) = AgentId::parse(&row.try_get::<String, _>(1)?) else { continue };
                let n = |i: usize| row.try_get::<i64, _>(i);
                let f = AgentFigures {
                    chats: count(n(2)?),
                    offered: count(n(3)?),
                    answered: count(n(4)?),
                    missed: count(n(5)?),
                    transferred_in: count(n(6)?),
                    transferred_out: count(n(7)?),
                    handled: count(n(8)?),
                    handle_total_ms: n(9)?,
                    first_response_total_ms: n(10)?,
                    first_responses: count(n(11)?),
                    messages_sent: count(n(12)?),
                    started: count(n(13)?),
                };
                out.push((n(0)?, agent, f));
            }
            Ok(out)
        })
    }

    /// Per quarter-hour slot, chat type and start type: the rolled-up chats' messages and segments.
    pub async fn rolled_traffic(
        &self,
        query: RolledQuery<'_>,
    ) -> Result<Vec<(i64, ChatType, Option<StartType>, Traffic)>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!(
                "SELECT t.opened_at / {SLOT_MS} AS slot, t.chat_type, t.start_type, COUNT(*), \
                 CAST(SUM(t.inbound) AS BIGINT), CAST(SUM(t.outbound) AS BIGINT), \
                 CAST(SUM(t.inbound_segments) AS BIGINT), CAST(SUM(t.outbound_segments) AS BIGINT) \
                 FROM report_chats t"
            ));
            push_where!(q, Over::Chats, query);
            q.push(" GROUP BY slot, t.chat_type, t.start_type");
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                let Some(chat_type) = ChatType::parse(&row.try_get::<String, _>(1)?) else { continue };
                let start_type = row.try_get::<Option<String>, _>(2)?.as_deref().and_then(StartType::parse);
                let n = |i: usize| row.try_get::<i64, _>(i);
                let t = Traffic {
                    chats: count(n(3)?),
                    inbound: count(n(4)?),
                    outbound: count(n(5)?),
                    inbound_segments: count(n(6)?),
                    outbound_segments: count(n(7)?),
                };
                out.push((n(0)?, chat_type, start_type, t));
            }
            Ok(out)
        })
    }

    /// The rolled-up chats' lines, oldest first (by opening, then id): up to `limit` after `after`.
    pub async fn rolled_lines(
        &self,
        query: RolledQuery<'_>,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<Line>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(
                "SELECT t.chat_id, t.opened_at, t.number, t.consumer, t.chat_type, t.start_type, t.status, \
                 t.queue_in_at, t.answered_at, t.ended_at, t.end_reason, t.queue, t.agent, t.agents, t.inbound, \
                 t.outbound, t.inbound_segments, t.outbound_segments, t.wait_ms, t.handle_ms FROM report_chats t",
            );
            push_where!(q, Over::Chats, query);
            if let Some((at, id)) = after {
                q.push(" AND (t.opened_at > ").push_bind(at).push(" OR (t.opened_at = ").push_bind(at);
                q.push(" AND t.chat_id > ").push_bind(id.to_owned()).push("))");
            }
            q.push(" ORDER BY t.opened_at, t.chat_id LIMIT ").push_bind(limit);
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                let text = |i: usize| row.try_get::<String, _>(i);
                let maybe = |i: usize| row.try_get::<Option<String>, _>(i);
                let at = |i: usize| row.try_get::<Option<i64>, _>(i).map(|t| t.map(Timestamp));
                let n = |i: usize| row.try_get::<i64, _>(i).map(count);
                let ended = match (at(9)?, maybe(10)?.as_deref().and_then(EndReason::parse)) {
                    (Some(t), Some(r)) => Some((t, r)),
                    _ => None,
                };
                out.push(Line {
                    id: text(0)?,
                    opened_at: Timestamp(row.try_get(1)?),
                    number: text(2)?,
                    consumer: text(3)?,
                    chat_type: ChatType::parse(&text(4)?).unwrap_or(ChatType::Sms),
                    start_type: maybe(5)?.as_deref().and_then(StartType::parse),
                    status: ChatStatus::parse(&text(6)?).unwrap_or(ChatStatus::Finished),
                    queue_in_at: at(7)?,
                    answered_at: at(8)?,
                    ended,
                    queue: maybe(11)?.and_then(|q| QueueId::parse(&q).ok()),
                    agent: maybe(12)?.and_then(|a| AgentId::parse(&a).ok()),
                    agents: text(13)?.split(' ').filter_map(|a| AgentId::parse(a).ok()).collect(),
                    messages: MessageCounts {
                        inbound: n(14)?,
                        outbound: n(15)?,
                        inbound_segments: n(16)?,
                        outbound_segments: n(17)?,
                    },
                    wait_ms: row.try_get(18)?,
                    handle_ms: row.try_get(19)?,
                });
            }
            Ok(out)
        })
    }
}
