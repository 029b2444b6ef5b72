//! The IVR reports a call (`POST /api/v1/ivr/calls`) and its states (`PUT /api/v1/ivr/calls/{id}`);
//! supervisors list them. Reports are idempotent: the same call or the same state again changes
//! nothing and answers the call; a state that would move the call back is refused (409, naming both).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::event::Event;
use parley_core::ids::{AgentId, QueueId};
use parley_core::ivr::call::{Applied, CallChange, CallStatus, apply};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::setup::ivr::IvrQueue;
use parley_store::calls::{CallFilter, CallRow};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{CallView, call_event, stored_call};
use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode, FieldProblem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};

/// The longest call id taken.
const MAX_CALL_ID: usize = 64;
/// How many reports racing on one call are retried before giving up (409).
const RACE_RETRIES: usize = 5;

/// A call the IVR reports.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// The IVR's id of the call (1 to 64 letters, digits, `.`, `_`, `-` or `:`); reporting it again
    /// answers the call stored.
    pub call_id: String,
    /// E.164 of the caller, and of the voice number they dialed.
    pub caller: String,
    pub dialed: String,
    /// The voice queue (`[[ivr_queues]]`); by default the queue that lists `dialed` in its numbers.
    pub ivr_queue: Option<String>,
    /// The caller's language, if the IVR knows it (a BCP 47 tag).
    pub language: Option<String>,
    /// Whether the caller's phone takes SMS (false: a landline), if the IVR or the carrier knows.
    pub caller_mobile: Option<bool>,
}

fn problem(pointer: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::invalid_fields(
        format!("{}: {message}", &pointer[1..]),
        vec![FieldProblem::new(Some(pointer.to_owned()), message)],
    )
}

/// Reports a new call: it entered a voice queue. 201 with the call; 200 with the call stored when the
/// IVR reports the same call again.
#[utoipa::path(post, path = "/api/v1/ivr/calls", tag = "ivr", request_body = NewCall,
    responses((status = 201, body = CallView), (status = 200, description = "the call was reported already", body = CallView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "the call id is taken by another caller or queue", body = ErrorBody),
              (status = 422, description = "a bad call id, phone or number, or an unknown voice queue", body = ErrorBody)),
    security(("bearer" = ["ivr"])))]
pub async fn create_call(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(new): ApiJson<NewCall>,
) -> Result<(StatusCode, Json<CallView>), ApiError> {
    who.require_admin()?;
    let id_ok = (1..=MAX_CALL_ID).contains(&new.call_id.chars().count())
        && new.call_id.chars().all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c));
    if !id_ok {
        return Err(problem("/call_id", "1 to 64 letters, digits, '.', '_', '-' or ':'"));
    }
    let caller = E164::parse(&new.caller).map_err(|e| problem("/caller", e.to_string()))?;
    let dialed = BusinessNumber::parse(&new.dialed).map_err(|e| problem("/dialed", e.to_string()))?;
    if new.language.as_deref().is_some_and(|l| l.is_empty() || l.len() > 35) {
        return Err(problem("/language", "a language tag such as en or es-MX"));
    }
    let setup = state.engine.setup();
    let queue = match new.ivr_queue.as_deref() {
        Some(q) => QueueId::parse(q).ok().and_then(|q| setup.ivr_queue(&q)).ok_or_else(|| {
            problem("/ivr_queue", format!("there is no voice queue {q:?} in the setup ([[ivr_queues]])"))
        })?,
        None => setup.ivr_queue_of_number(&dialed).ok_or_else(|| {
            problem("/ivr_queue", format!("no voice queue lists {dialed} in its numbers: name the queue"))
        })?,
    };
    let (created, call) =
        start(&state, &new.call_id, &caller, &dialed, queue, new.language.clone(), new.caller_mobile).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(CallView::from(&call))))
}

/// Stores a new call in `queue` (`true`), or answers the call stored under the id (`false`); the same
/// id with another caller or queue is 409.
pub(crate) async fn start(
    state: &AppState,
    id: &str,
    caller: &E164,
    dialed: &BusinessNumber,
    queue: &IvrQueue,
    language: Option<String>,
    caller_mobile: Option<bool>,
) -> Result<(bool, CallRow), ApiError> {
    let now = state.clock.now();
    let call = CallRow {
        id: id.to_owned(),
        caller: caller.as_str().to_owned(),
        dialed: dialed.to_string(),
        caller_mobile,
        ivr_queue: queue.id.to_string(),
        language,
        status: CallStatus::Started,
        position: None,
        agent: None,
        end_reason: None,
        deflection: None,
        sms_chat_id: None,
        thread_chat_id: None,
        wait_sms: None,
        started_at: now.0,
        queued_at: None,
        connected_at: None,
        ended_at: None,
        version: 1,
    };
    let event = Event::CallStarted { call_id: call.id.clone(), ivr_queue: call.ivr_queue.clone() };
    if state.store.insert_call(&call, &[call_event(state, &event)]).await? {
        state.bus.written();
        tracing::info!(call = %call.id, ivr_queue = %call.ivr_queue, "call started");
        return Ok((true, call));
    }
    let stored = stored_call(state, &call.id).await?;
    if stored.caller != call.caller || stored.ivr_queue != call.ivr_queue {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            format!("call {} was reported already with another caller or voice queue", call.id),
        ));
    }
    Ok((false, stored))
}

/// A state change of a call.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum CallStateChange {
    /// Waiting for an agent, at `position` in line if the IVR knows it.
    Queued { position: Option<u32> },
    /// The voice queue is over its capacity while the call waits.
    OverCapacity,
    /// With the agent `agent_id`.
    Connected { agent_id: String },
    /// Over: `reason` as the IVR has it (`hangup`, `completed`…).
    Ended { reason: String },
}

/// Reports a call's new state. The same state again changes nothing; a state behind the call's is
/// refused (409).
#[utoipa::path(put, path = "/api/v1/ivr/calls/{id}", tag = "ivr", params(("id" = String, Path)), request_body = CallStateChange,
    responses((status = 200, body = CallView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "the state would move the call back (both states named)", body = ErrorBody),
              (status = 422, description = "an unknown state or agent, or an empty reason", body = ErrorBody)),
    security(("bearer" = ["ivr"])))]
pub async fn update_call(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(reported): ApiJson<CallStateChange>,
) -> Result<Json<CallView>, ApiError> {
    who.require_admin()?;
    let change = match reported {
        CallStateChange::Queued { position } => CallChange::Queued { position },
        CallStateChange::OverCapacity => CallChange::OverCapacity,
        CallStateChange::Connected { agent_id } => {
            let agent = AgentId::parse(&agent_id)
                .ok()
                .filter(|a| state.engine.setup().agent(a).is_some())
                .ok_or_else(|| problem("/agent_id", format!("there is no agent {agent_id:?} in the setup")))?;
            CallChange::Connected { agent }
        }
        CallStateChange::Ended { reason } => {
            let reason = reason.trim().to_owned();
            if reason.is_empty() || reason.chars().count() > 64 {
                return Err(problem("/reason", "why the call ended, 1 to 64 characters (hangup, completed…)"));
            }
            CallChange::Ended { reason }
        }
    };
    Ok(Json(CallView::from(&report(&state, &id, &change).await?)))
}

/// Applies a report to the stored call: the call after it (unchanged when it was there already).
pub(crate) async fn report(state: &AppState, id: &str, change: &CallChange) -> Result<CallRow, ApiError> {
    for _ in 0..RACE_RETRIES {
        let call = stored_call(state, id).await?;
        let agent = call.agent.as_deref().and_then(|a| AgentId::parse(a).ok());
        let applied = apply(call.status, agent.as_ref(), call.position, change)
            .map_err(|b| ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, format!("call {id}: {b}")))?;
        if applied == Applied::Same {
            // A repeat also finishes what a crash may have left: the thread follows the call.
            super::thread::sync(state, &call).await?;
            return Ok(call);
        }
        let (next, event) = moved(state, &call, change);
        if state.store.update_call(&next, call.version, &[call_event(state, &event)]).await? {
            state.bus.written();
            tracing::info!(call = %id, status = next.status.as_str(), "call changed");
            super::thread::sync(state, &next).await?;
            return Ok(next);
        }
    }
    Err(ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, format!("call {id} kept changing; report again")))
}

/// The call after `change`, and its event.
fn moved(state: &AppState, call: &CallRow, change: &CallChange) -> (CallRow, Event) {
    let now = state.clock.now().0;
    let mut next = CallRow { status: change.status(), version: call.version + 1, ..call.clone() };
    let call_id = call.id.clone();
    let event = match change {
        CallChange::Queued { position } => {
            next.position = position.or(call.position);
            next.queued_at = call.queued_at.or(Some(now));
            Event::CallQueued { call_id, position: next.position, over_capacity: false }
        }
        CallChange::OverCapacity => {
            next.queued_at = call.queued_at.or(Some(now));
            Event::CallQueued { call_id, position: call.position, over_capacity: true }
        }
        CallChange::Connected { agent } => {
            next.agent = Some(agent.to_string());
            next.connected_at = call.connected_at.or(Some(now));
            Event::CallConnected { call_id, agent: agent.clone() }
        }
        CallChange::Ended { reason } => {
            next.end_reason = Some(reason.clone());
            next.ended_at = Some(now);
            Event::CallEnded { call_id, reason: reason.clone() }
        }
    };
    (next, event)
}

/// One call.
#[utoipa::path(get, path = "/api/v1/ivr/calls/{id}", tag = "ivr", params(("id" = String, Path)),
    responses((status = 200, body = CallView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = ["ivr"]), ("bearer" = ["reports:read"])))]
pub async fn get_call(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CallView>, ApiError> {
    reads_calls(&who)?;
    Ok(Json(CallView::from(&stored_call(&state, &id).await?)))
}

/// Which calls to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    /// Only calls in these states, comma-separated (`queued,over_capacity`); `live` for every state but
    /// `ended`.
    pub status: Option<String>,
    /// Only the calls of this voice queue.
    pub ivr_queue: Option<String>,
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<i64>,
}

/// The calls, newest first.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CallList {
    pub calls: Vec<CallView>,
}

/// Calls, newest first: for admins, supervisors and the IVR.
#[utoipa::path(get, path = "/api/v1/ivr/calls", tag = "ivr", params(CallQuery),
    responses((status = 200, body = CallList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "an unknown status or a limit out of range", body = ErrorBody)),
    security(("bearer" = ["ivr"]), ("bearer" = ["reports:read"])))]
pub async fn list_calls(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<CallQuery>,
) -> Result<Json<CallList>, ApiError> {
    reads_calls(&who)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(problem("/limit", "between 1 and 500"));
    }
    let mut statuses = Vec::new();
    for word in query.status.as_deref().unwrap_or("").split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word {
            "live" => statuses.extend(CallStatus::ALL.into_iter().filter(|s| *s != CallStatus::Ended)),
            _ => statuses.push(CallStatus::parse(word).ok_or_else(|| {
                problem(
                    "/status",
                    format!("{word:?} is not a call state: started, queued, over_capacity, connected, ended or live"),
                )
            })?),
        }
    }
    let filter = CallFilter { statuses, ivr_queues: query.ivr_queue.map(|q| vec![q]), since: None, until: None, limit };
    let calls = state.store.calls(&filter).await?;
    Ok(Json(CallList { calls: calls.iter().map(CallView::from).collect() }))
}

/// Admins (and the IVR's key) and supervisors read calls; agents do not.
fn reads_calls(who: &Principal) -> Result<(), ApiError> {
    match who {
        Principal::Admin { .. } | Principal::Supervisor { .. } => Ok(()),
        Principal::Agent(_) => Err(ApiError::forbidden("calls are for supervisors, admins and the IVR")),
    }
}
