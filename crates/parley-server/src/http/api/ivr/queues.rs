//! The voice queues (`[[ivr_queues]]`) and their estimated wait, from the calls stored and the agents
//! available now: the same estimator as for SMS queues (`parley_core::ewt`), an agent taking one call
//! at a time (`parley_core::ivr::wait`, docs/ewt.md "Voice queues").

use axum::Json;
use axum::extract::State;
use parley_core::ewt::{Estimate, EwtInputs, estimate, naive};
use parley_core::ids::{AgentId, QueueId};
use parley_core::ivr::call::CallStatus;
use parley_core::ivr::wait::{CallFacts, voice_inputs};
use parley_core::setup::ivr::IvrQueue;
use parley_store::calls::{CallFilter, CallRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::http::api::ewt::EwtInputsView;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::{ApiPath, ApiQuery};

/// How far back the calls the estimate reads go, and how many at most.
const HISTORY_MS: i64 = 24 * 3600 * 1000;
const HISTORY_CALLS: i64 = 1000;
/// The most calls of a day (or connected now) the queue list counts.
const TODAY_CALLS: i64 = 100_000;

/// A voice queue's estimate: what it was made from and its result.
pub(super) struct VoiceEstimate {
    pub inputs: EwtInputs,
    pub estimate: Estimate,
    /// Calls waiting in the queue now.
    pub waiting: u32,
}

/// The estimate for `call` (its place in line: as the IVR reported it, else behind the calls that
/// started before it), or for a new caller when `call` is `None`.
pub(super) async fn voice_estimate(
    state: &AppState,
    queue: &IvrQueue,
    call: Option<&CallRow>,
) -> Result<VoiceEstimate, ApiError> {
    let now = state.clock.now();
    let filter = CallFilter {
        statuses: vec![],
        ivr_queues: Some(vec![queue.id.to_string()]),
        since: Some(now.0 - HISTORY_MS),
        until: None,
        limit: HISTORY_CALLS,
    };
    let recent = state.store.calls(&filter).await?;
    let waiting: Vec<&CallRow> = recent.iter().filter(|c| c.status.waiting()).collect();
    let position = match call {
        Some(call) => call.position.unwrap_or_else(|| {
            1 + waiting.iter().filter(|c| (c.started_at, &c.id) < (call.started_at, &call.id)).count() as u32
        }),
        None => waiting.len() as u32 + 1,
    };
    let setup = state.engine.setup();
    let roster = crate::engine::live_roster(&state.store, &setup, now).await.map_err(ApiError::internal)?;
    let available: Vec<AgentId> = roster.seats.iter().filter(|s| s.takes_chats()).map(|s| s.agent.clone()).collect();
    let facts: Vec<CallFacts> = recent
        .iter()
        .map(|c| CallFacts {
            status: c.status,
            agent: c.agent.as_deref().and_then(|a| AgentId::parse(a).ok()),
            connected_at: c.connected_at,
            ended_at: c.ended_at,
        })
        .collect();
    let inputs = voice_inputs(queue, &available, &facts, position);
    Ok(VoiceEstimate { inputs, estimate: estimate(&inputs), waiting: waiting.len() as u32 })
}

/// A voice queue's estimated wait.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceEwtView {
    pub ivr_queue: String,
    pub seconds: u32,
    /// Whole minutes, at least one, as a prompt would say it.
    pub minutes: u32,
    /// Which case of the estimator made it: `free_slot`, `queue` or `nobody_staffs`.
    pub rule: String,
    pub inputs: EwtInputsView,
    /// The naive estimate (position × handle time ÷ agents), for comparison.
    pub naive_seconds: u32,
}

impl VoiceEwtView {
    fn of(queue: &QueueId, e: &VoiceEstimate) -> VoiceEwtView {
        VoiceEwtView {
            ivr_queue: queue.to_string(),
            seconds: e.estimate.seconds,
            minutes: e.estimate.seconds.div_ceil(60).max(1),
            rule: e.estimate.rule.as_str().to_owned(),
            naive_seconds: naive(&e.inputs),
            inputs: EwtInputsView {
                position: e.inputs.position,
                waiting: e.waiting,
                agents: e.inputs.agents,
                slots: e.inputs.slots,
                free_slots: e.inputs.free_slots,
                handle_seconds: e.inputs.handle_seconds,
                abandonment_permille: e.inputs.abandonment_permille,
            },
        }
    }
}

/// For which place in line.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VoiceEwtQuery {
    /// The place in line (1 is next; default: behind every call waiting now, as a new caller would be).
    pub position: Option<u32>,
}

fn readers(who: &Principal) -> Result<(), ApiError> {
    match who {
        Principal::Admin { .. } | Principal::Supervisor { .. } => Ok(()),
        Principal::Agent(_) => Err(ApiError::forbidden("voice queues are for supervisors, admins and the IVR")),
    }
}

/// A voice queue's estimated wait now, for a place in line.
#[utoipa::path(get, path = "/api/v1/ivr/queues/{id}/ewt", tag = "ivr", params(("id" = String, Path), VoiceEwtQuery),
    responses((status = 200, body = VoiceEwtView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "a position of 0", body = ErrorBody)),
    security(("bearer" = ["ivr"]), ("bearer" = ["reports:read"])))]
pub async fn ivr_queue_ewt(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<VoiceEwtQuery>,
) -> Result<Json<VoiceEwtView>, ApiError> {
    readers(&who)?;
    let setup = state.engine.setup();
    let queue = QueueId::parse(&id)
        .ok()
        .and_then(|q| setup.ivr_queue(&q))
        .ok_or_else(|| ApiError::not_found(format!("there is no voice queue {id}")))?;
    if query.position == Some(0) {
        return Err(ApiError::invalid_fields(
            "position counts from 1 (next in line)",
            vec![FieldProblem::new(Some("/position".to_owned()), "at least 1")],
        ));
    }
    let mut e = voice_estimate(&state, queue, None).await?;
    if let Some(position) = query.position {
        e.inputs.position = position;
        e.estimate = estimate(&e.inputs);
    }
    Ok(Json(VoiceEwtView::of(&queue.id, &e)))
}

/// A voice queue with its figures now.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceQueueView {
    pub id: String,
    pub name: String,
    /// The voice numbers whose calls enter it.
    pub numbers: Vec<String>,
    /// Whether pre-session deflection is on, and over which estimated wait it offers SMS.
    pub deflection_enabled: bool,
    pub ewt_threshold_seconds: Option<u32>,
    /// The estimate for a caller joining now.
    pub ewt: VoiceEwtView,
    /// Calls waiting and with an agent now.
    pub waiting: u32,
    pub connected: u32,
    /// The SMS services on the calls that started today (UTC).
    pub today: ServicesToday,
}

/// What the SMS services did on a voice queue's calls today.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ServicesToday {
    pub calls: u32,
    /// Pre-session deflection: offers made, and the callers' answers.
    pub deflection_offered: u32,
    pub deflection_accepted: u32,
    pub deflection_declined: u32,
    /// The wait-time SMS: sent, and declined by the caller.
    pub wait_sms_sent: u32,
    pub wait_sms_declined: u32,
}

impl ServicesToday {
    fn count(&mut self, call: &CallRow) {
        self.calls += 1;
        let deflection = call.deflection.as_deref();
        self.deflection_offered += u32::from(deflection.is_some());
        self.deflection_accepted += u32::from(deflection == Some("accepted"));
        self.deflection_declined += u32::from(deflection == Some("declined"));
        self.wait_sms_sent += u32::from(call.wait_sms.as_deref() == Some("sent"));
        self.wait_sms_declined += u32::from(call.wait_sms.as_deref() == Some("declined"));
    }
}

/// The voice queues.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceQueueList {
    pub queues: Vec<VoiceQueueView>,
}

/// Every voice queue with its calls waiting and estimated wait now.
#[utoipa::path(get, path = "/api/v1/ivr/queues", tag = "ivr",
    responses((status = 200, body = VoiceQueueList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = ["ivr"]), ("bearer" = ["reports:read"])))]
pub async fn list_ivr_queues(State(state): State<AppState>, who: Principal) -> Result<Json<VoiceQueueList>, ApiError> {
    readers(&who)?;
    let setup = state.engine.setup();
    let now = state.clock.now().0;
    let today = CallFilter {
        statuses: vec![],
        ivr_queues: None,
        since: Some(now - now.rem_euclid(86_400_000)),
        until: None,
        limit: TODAY_CALLS,
    };
    let today = state.store.calls(&today).await?;
    let connected = CallFilter {
        statuses: vec![CallStatus::Connected],
        ivr_queues: None,
        since: None,
        until: None,
        limit: TODAY_CALLS,
    };
    let connected = state.store.calls(&connected).await?;
    let mut queues = Vec::with_capacity(setup.ivr_queues.len());
    for queue in &setup.ivr_queues {
        let e = voice_estimate(&state, queue, None).await?;
        let mut services = ServicesToday::default();
        today.iter().filter(|c| c.ivr_queue == queue.id.as_str()).for_each(|c| services.count(c));
        queues.push(VoiceQueueView {
            id: queue.id.to_string(),
            name: queue.name.clone(),
            numbers: queue.numbers.iter().map(ToString::to_string).collect(),
            deflection_enabled: queue.deflection.as_ref().is_some_and(|d| d.enabled),
            ewt_threshold_seconds: queue.deflection.as_ref().map(|d| d.ewt_threshold_seconds),
            ewt: VoiceEwtView::of(&queue.id, &e),
            waiting: e.waiting,
            connected: connected.iter().filter(|c| c.ivr_queue == queue.id.as_str()).count() as u32,
            today: services,
        });
    }
    Ok(Json(VoiceQueueList { queues }))
}
