//! `GET /api/v1/me/numbers`: the business numbers the caller may start outbound chats from, for the
//! console's "new outbound chat" form and for integrations acting as an agent.
//!
//! An agent gets the numbers that send (role outbound or both) whose menu has a queue of theirs, and
//! their own direct numbers that send; each with the queues the chat may be started in (none on a
//! direct number: such a chat is the agent's, in no queue). An admin gets every number that sends, with
//! its menu. Incoming-only numbers are never listed: they cannot be an `outbound_number`.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};

/// A number the caller may start outbound chats from.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboundNumber {
    /// E.164 or a short code: the `outbound_number` of `POST /api/v1/outbound/chats`.
    pub number: String,
    pub label: String,
    /// "outbound" or "both".
    pub role: String,
    /// The agent of a direct number (the caller, for an agent).
    pub agent: Option<String>,
    /// The queues a chat from it may be started in, in menu order: for an agent, those they serve.
    pub queues: Vec<String>,
}

/// The numbers the caller may start outbound chats from.
#[utoipa::path(get, path = "/api/v1/me/numbers", tag = "agents",
    responses((status = 200, body = [OutboundNumber]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn my_numbers(State(state): State<AppState>, who: Principal) -> Result<Json<Vec<OutboundNumber>>, ApiError> {
    let setup = state.engine.setup();
    let view = |n: &parley_core::setup::Number, queues: Vec<String>| OutboundNumber {
        number: n.number.to_string(),
        label: n.label.clone(),
        role: n.role.as_str().to_owned(),
        agent: n.agent.as_ref().map(ToString::to_string),
        queues,
    };
    let numbers = match who {
        Principal::Admin { .. } => setup
            .numbers
            .iter()
            .filter(|n| n.role.sends())
            .map(|n| view(n, n.queues.iter().map(ToString::to_string).collect()))
            .collect(),
        Principal::Agent(id) => {
            let mine = setup.queues_of(&id);
            setup
                .outbound_numbers_of(&id)
                .into_iter()
                .map(|n| view(n, n.queues.iter().filter(|q| mine.contains(q)).map(ToString::to_string).collect()))
                .collect()
        }
        Principal::Supervisor { .. } => {
            return Err(ApiError::forbidden("supervisors watch chats but do not start them"));
        }
    };
    Ok(Json(numbers))
}
