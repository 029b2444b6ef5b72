//! `GET /api/v1/me` and `PUT /api/v1/me/status`: the calling agent (or admin, or supervisor).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use parley_core::routing::Presence;
use parley_store::presence::API_HOLDER;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::Clock;
use crate::http::auth::{Principal, by_token};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiJson;

/// An agent's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Takes new chats.
    Available,
    /// Takes no new chats; keeps the ones they have.
    Away,
    /// Gone for the day (logged out): takes no new chats.
    Offline,
}

impl AgentStatus {
    fn presence(self) -> Presence {
        match self {
            AgentStatus::Available => Presence::Available,
            AgentStatus::Away => Presence::Away,
            AgentStatus::Offline => Presence::Offline,
        }
    }

    fn from_presence(presence: Presence) -> AgentStatus {
        match presence {
            Presence::Available => AgentStatus::Available,
            Presence::Away => AgentStatus::Away,
            Presence::Offline => AgentStatus::Offline,
        }
    }
}

/// A status change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: AgentStatus,
}

/// Who the token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// "admin", "supervisor" or "agent".
    pub role: String,
    pub agent: Option<String>,
    /// The agent's name; a supervisor's username.
    pub name: Option<String>,
    /// An agent's own and their teams' queues; the queues a supervisor watches.
    pub queues: Vec<String>,
    /// The status an agent chose (it applies while they are connected).
    pub status: Option<AgentStatus>,
    /// Whether the agent is really there: a console event stream open, or a heartbeat (this status
    /// sent again) within the setup's `presence_timeout_seconds`. Routing offers chats only then.
    pub connected: Option<bool>,
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "agents",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_me(State(state): State<AppState>, who: Principal) -> Result<Json<Me>, ApiError> {
    match who {
        Principal::Admin { .. } => Ok(Json(Me {
            role: "admin".to_owned(),
            agent: None,
            name: None,
            queues: vec![],
            status: None,
            connected: None,
        })),
        Principal::Supervisor { user, queues } => Ok(Json(Me {
            role: "supervisor".to_owned(),
            agent: None,
            name: Some(user),
            queues: queues.iter().map(ToString::to_string).collect(),
            status: None,
            connected: None,
        })),
        Principal::Agent(id) => {
            let setup = state.engine.setup();
            let agent = setup.agent(&id).ok_or_else(|| ApiError::forbidden("you are no longer in the setup"))?;
            let stored = state.store.agent_states().await?.into_iter().find(|s| s.agent == id.as_str());
            let presence = stored.as_ref().map(|s| s.status).unwrap_or_default();
            Ok(Json(Me {
                role: "agent".to_owned(),
                agent: Some(id.to_string()),
                name: Some(agent.name.clone()),
                queues: setup.queues_of(&id).iter().map(ToString::to_string).collect(),
                status: Some(AgentStatus::from_presence(presence)),
                connected: Some(stored.is_some_and(|s| s.connected)),
            }))
        }
    }
}

/// Sets the calling agent available (new chats are offered to them while connected), away or offline.
/// Sent with an API token, it is a heartbeat too: an integration that keeps an agent present without a
/// console sends it again at least once per `presence_timeout_seconds` (setup `[settings]`, default 60).
#[utoipa::path(put, path = "/api/v1/me/status", tag = "agents", request_body = StatusChange,
    responses((status = 200, body = StatusChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_status(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<StatusChange>, ApiError> {
    let agent = who.require_agent()?;
    // A call with an API token is a heartbeat, stored first so the engine's turn finds the agent
    // connected (presence lives in wall-clock time: see workers::presence). The console's own calls
    // are not: its open event stream is what keeps its agent present, so closing the tab right after
    // a change of status still lets the agent drop out.
    if by_token(&headers) {
        let now = Clock::System.now().0;
        state.store.refresh_links(API_HOLDER, &[agent.to_string()], &[], now).await?;
    }
    state.engine.set_status(agent.clone(), change.status.presence()).await?;
    Ok(Json(change))
}
