//! The IVR's calls (docs/ivr.md): created once per call id, changed by compare-and-set on `version`
//! so two reports racing on one call cannot both apply, each change written with its events in one
//! transaction (the engine's write turn on PostgreSQL, so event ids stay in commit order).

use parley_core::ivr::call::CallStatus;
use sqlx::{QueryBuilder, Row as _};

use crate::rows::EventRow;
use crate::{Result, Store, StoreError, dispatch, dispatch_write, push_list};

/// A stored call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    /// The IVR's id of the call.
    pub id: String,
    /// E.164 of the caller, and of the number they dialed.
    pub caller: String,
    pub dialed: String,
    /// Whether the caller's phone takes SMS, where the IVR knows it.
    pub caller_mobile: Option<bool>,
    pub ivr_queue: String,
    pub language: Option<String>,
    pub status: CallStatus,
    /// The place in line the IVR last reported.
    pub position: Option<u32>,
    pub agent: Option<String>,
    pub end_reason: Option<String>,
    /// The pre-session deflection's last step: `offered`, `accepted` or `declined`.
    pub deflection: Option<String>,
    pub sms_chat_id: Option<String>,
    /// The call's SMS thread (a chat of start type `call`), once it has one.
    pub thread_chat_id: Option<String>,
    /// The caller's answer to the wait-time SMS: `sent` or `declined` (asked once).
    pub wait_sms: Option<String>,
    /// Epoch milliseconds.
    pub started_at: i64,
    pub queued_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Grows by one with every change.
    pub version: i64,
}

/// Which calls to list.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub statuses: Vec<CallStatus>,
    /// Only calls of these voice queues (`None`: all).
    pub ivr_queues: Option<Vec<String>>,
    /// Only calls started at or after (epoch milliseconds).
    pub since: Option<i64>,
    /// Only calls started before (epoch milliseconds).
    pub until: Option<i64>,
    pub limit: i64,
}

const COLUMNS: &str = "id, caller, caller_mobile, dialed, ivr_queue, language, status, position, agent, end_reason, deflection, \
                       sms_chat_id, thread_chat_id, wait_sms, started_at, queued_at, connected_at, ended_at, version";

macro_rules! decode_call {
    ($row:expr) => {{
        let row = $row;
        let status: String = row.try_get("status")?;
        let position: Option<i64> = row.try_get("position")?;
        let mobile: Option<i64> = row.try_get("caller_mobile")?;
        CallRow {
            id: row.try_get("id")?,
            caller: row.try_get("caller")?,
            caller_mobile: mobile.map(|m| m != 0),
            dialed: row.try_get("dialed")?,
            ivr_queue: row.try_get("ivr_queue")?,
            language: row.try_get("language")?,
            status: CallStatus::parse(&status).ok_or_else(|| {
                StoreError::Other(anyhow::anyhow!("calls.status holds {status:?}, which this version does not know"))
            })?,
            position: position.and_then(|p| u32::try_from(p).ok()),
            agent: row.try_get("agent")?,
            end_reason: row.try_get("end_reason")?,
            deflection: row.try_get("deflection")?,
            sms_chat_id: row.try_get("sms_chat_id")?,
            thread_chat_id: row.try_get("thread_chat_id")?,
            wait_sms: row.try_get("wait_sms")?,
            started_at: row.try_get("started_at")?,
            queued_at: row.try_get("queued_at")?,
            connected_at: row.try_get("connected_at")?,
            ended_at: row.try_get("ended_at")?,
            version: row.try_get("version")?,
        }
    }};
}

impl Store {
    /// Stores a new call with its events; `false` (and nothing written) when the id is taken.
    pub async fn insert_call(&self, call: &CallRow, events: &[EventRow]) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            let mut q = QueryBuilder::<DB>::new(format!("INSERT INTO calls ({COLUMNS}) VALUES ("));
            {
                let mut v = q.separated(", ");
                v.push_bind(call.id.clone())
                    .push_bind(call.caller.clone())
                    .push_bind(call.caller_mobile.map(i64::from))
                    .push_bind(call.dialed.clone())
                    .push_bind(call.ivr_queue.clone())
                    .push_bind(call.language.clone())
                    .push_bind(call.status.as_str())
                    .push_bind(call.position.map(i64::from))
                    .push_bind(call.agent.clone())
                    .push_bind(call.end_reason.clone())
                    .push_bind(call.deflection.clone())
                    .push_bind(call.sms_chat_id.clone())
                    .push_bind(call.thread_chat_id.clone())
                    .push_bind(call.wait_sms.clone())
                    .push_bind(call.started_at)
                    .push_bind(call.queued_at)
                    .push_bind(call.connected_at)
                    .push_bind(call.ended_at)
                    .push_bind(call.version);
            }
            q.push(") ON CONFLICT (id) DO NOTHING");
            if q.build().execute(&mut *tx).await?.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            for e in events {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Writes `call` (its `version` one past `expected`) with its events, if the stored call is still
    /// at `expected`; `false` (and nothing written) when another change came first.
    pub async fn update_call(&self, call: &CallRow, expected: i64, events: &[EventRow]) -> Result<bool> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            let mut q = QueryBuilder::<DB>::new("UPDATE calls SET status = ");
            q.push_bind(call.status.as_str())
                .push(", position = ")
                .push_bind(call.position.map(i64::from))
                .push(", agent = ")
                .push_bind(call.agent.clone())
                .push(", end_reason = ")
                .push_bind(call.end_reason.clone())
                .push(", deflection = ")
                .push_bind(call.deflection.clone())
                .push(", sms_chat_id = ")
                .push_bind(call.sms_chat_id.clone())
                .push(", thread_chat_id = ")
                .push_bind(call.thread_chat_id.clone())
                .push(", wait_sms = ")
                .push_bind(call.wait_sms.clone())
                .push(", queued_at = ")
                .push_bind(call.queued_at)
                .push(", connected_at = ")
                .push_bind(call.connected_at)
                .push(", ended_at = ")
                .push_bind(call.ended_at)
                .push(", version = ")
                .push_bind(call.version)
                .push(" WHERE id = ")
                .push_bind(call.id.clone())
                .push(" AND version = ")
                .push_bind(expected);
            if q.build().execute(&mut *tx).await?.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            for e in events {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// One call.
    pub async fn call(&self, id: &str) -> Result<Option<CallRow>> {
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM calls WHERE id = "));
            q.push_bind(id.to_owned());
            match q.build().fetch_optional(pool).await? {
                Some(row) => Ok(Some(decode_call!(&row))),
                None => Ok(None),
            }
        })
    }

    /// The calls the filter selects, newest first.
    pub async fn calls(&self, filter: &CallFilter) -> Result<Vec<CallRow>> {
        if filter.ivr_queues.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM calls WHERE 1 = 1"));
            if !filter.statuses.is_empty() {
                q.push(" AND status IN (");
                let words: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
                push_list!(q, words);
            }
            if let Some(queues) = &filter.ivr_queues {
                q.push(" AND ivr_queue IN (");
                push_list!(q, queues);
            }
            if let Some(since) = filter.since {
                q.push(" AND started_at >= ").push_bind(since);
            }
            if let Some(until) = filter.until {
                q.push(" AND started_at < ").push_bind(until);
            }
            q.push(" ORDER BY started_at DESC, id DESC LIMIT ").push_bind(filter.limit);
            let rows = q.build().fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(decode_call!(row));
            }
            Ok(out)
        })
    }
}
