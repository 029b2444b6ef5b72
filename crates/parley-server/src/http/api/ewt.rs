//! `GET /api/v1/queues/{id}/ewt`: a queue's estimated wait time now, with the figures it was made
//! from (docs/ewt.md). The estimate is the core's (`parley_core::ewt`), the one the consumer's waiting
//! message ("about {wait_minutes} min") uses; the figures are read from the store as every node sees
//! them: the agents available for the queue and their free slots, the chats waiting, the queue's
//! handle time and abandonment over the past day.

use axum::Json;
use axum::extract::State;
use parley_core::ewt::{estimate, naive};
use parley_core::ids::QueueId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::{ApiPath, ApiQuery};

/// What an estimate was made from (of an SMS queue, or of a voice queue where an agent takes one call
/// at a time: docs/ewt.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct EwtInputsView {
    /// The place in line estimated for: 1 is next.
    pub position: u32,
    /// Chats (or calls) waiting in the queue now.
    pub waiting: u32,
    /// Agents available for the queue now, their slots together, and the slots free.
    pub agents: u32,
    pub slots: u32,
    pub free_slots: u32,
    /// The queue's average handle time over the past day (300 without history).
    pub handle_seconds: u32,
    /// Of those that waited in the queue over the past day, the share (per mille) that ended before
    /// an agent took them.
    pub abandonment_permille: u32,
}

/// A queue's estimated wait.
#[derive(Debug, Serialize, ToSchema)]
pub struct EwtView {
    pub queue: String,
    pub seconds: u32,
    /// As the consumer's waiting message says it: whole minutes, at least one.
    pub minutes: u32,
    /// Which case of the estimator made it: `free_slot`, `queue` or `nobody_staffs`.
    pub rule: String,
    pub inputs: EwtInputsView,
    /// The naive estimate (position × handle time ÷ agents), for comparison.
    pub naive_seconds: u32,
}

/// For which place in line.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EwtQuery {
    /// The place in line (1 is next; default: behind every chat waiting now, as a new chat would be).
    pub position: Option<u32>,
}

/// The queue's estimated wait now, for a place in line.
#[utoipa::path(get, path = "/api/v1/queues/{id}/ewt", tag = "chats", params(("id" = String, Path), EwtQuery),
    responses((status = 200, body = EwtView), (status = 401, body = ErrorBody),
              (status = 403, description = "a queue the caller does not see", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "a position of 0", body = ErrorBody)),
    security(("bearer" = ["reports:read"]), ("bearer" = ["chats:read"])))]
pub async fn queue_ewt(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<EwtQuery>,
) -> Result<Json<EwtView>, ApiError> {
    let setup = state.engine.setup();
    let queue = QueueId::parse(&id)
        .ok()
        .filter(|q| setup.queues.iter().any(|s| &s.id == q))
        .ok_or_else(|| ApiError::not_found(format!("there is no queue {id}")))?;
    if !who.sees(&state, Some(queue.as_str())) {
        return Err(ApiError::forbidden(format!("queue {queue} is not one of yours")));
    }
    if query.position == Some(0) {
        return Err(ApiError::invalid_fields(
            "position counts from 1 (next in line)",
            vec![FieldProblem::new(Some("/position".to_owned()), "at least 1")],
        ));
    }
    let roster =
        crate::engine::live_roster(&state.store, &setup, state.clock.now()).await.map_err(ApiError::internal)?;
    let waiting = roster.waiting.get(&queue).copied().unwrap_or(0);
    let position = query.position.unwrap_or(waiting + 1);
    let inputs = roster.ewt_inputs(&queue, position);
    let e = estimate(&inputs);
    Ok(Json(EwtView {
        queue: queue.to_string(),
        seconds: e.seconds,
        minutes: roster.wait_minutes(&queue, position),
        rule: e.rule.as_str().to_owned(),
        naive_seconds: naive(&inputs),
        inputs: EwtInputsView {
            position,
            waiting,
            agents: inputs.agents,
            slots: inputs.slots,
            free_slots: inputs.free_slots,
            handle_seconds: inputs.handle_seconds,
            abandonment_permille: inputs.abandonment_permille,
        },
    }))
}
