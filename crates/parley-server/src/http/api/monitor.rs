//! What the console shows beside the chats: agents and their status (for supervisors, and for agents
//! choosing whom to transfer to), queues with their counts, and an agent's own figures beside their
//! team's.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use parley_core::chat::ChatStatus;
use parley_core::ids::QueueId;
use parley_core::routing::Presence;
use parley_store::chats::ChatFilter;
use parley_store::rows::AgentStateRow;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::event_json::shown_status;

/// One agent as the console shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    /// What routing goes by: available, away or offline; always offline while the agent is not
    /// connected (see `reason`).
    pub status: String,
    /// The status the agent chose; it applies again when they reconnect.
    pub chosen: String,
    /// Whether the agent is really there: a console event stream open, or an API heartbeat, within
    /// the setup's `presence_timeout_seconds`.
    pub connected: bool,
    /// "disconnected" while the agent is not connected; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When `status` (or the connection) last changed, RFC 3339; absent for an agent who never had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_since: Option<String>,
    /// Chats offered to or connected with the agent now.
    pub active: i64,
    pub capacity: u32,
    pub queues: Vec<String>,
    pub languages: Vec<String>,
    /// The ids of their live chats (in queues the caller sees).
    pub chats: Vec<String>,
}

/// Agents the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<AgentView>,
}

/// The agents serving the queues the caller sees (all of them for admins), with their status and live
/// chats; agents use it to pick a colleague to transfer to.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = AgentList), (status = 401, body = ErrorBody)), security(("bearer" = ["reports:read"])))]
pub async fn list_agents(State(state): State<AppState>, who: Principal) -> Result<Json<AgentList>, ApiError> {
    let setup = state.engine.setup();
    let visible = who.visible_queues(&state);
    let sees = |q: &QueueId| visible.as_ref().is_none_or(|v| v.contains(q));
    let states: BTreeMap<String, AgentStateRow> =
        state.store.agent_states().await?.into_iter().map(|s| (s.agent.clone(), s)).collect();
    let filter = ChatFilter {
        statuses: vec![ChatStatus::Offered, ChatStatus::Connected],
        queues: visible.as_ref().map(|qs| qs.iter().map(ToString::to_string).collect()),
        limit: 1000,
        ..ChatFilter::default()
    };
    let mut live: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for chat in state.store.list_chats(&filter).await? {
        if let Some(agent) = chat.agent {
            live.entry(agent).or_default().push(chat.id);
        }
    }
    let active: BTreeMap<String, i64> = state.store.active_chat_counts().await?.into_iter().collect();
    let agents = setup
        .agents
        .iter()
        .filter_map(|a| {
            let queues = setup.queues_of(&a.id);
            if !queues.iter().any(sees) {
                return None;
            }
            let stored = states.get(a.id.as_str());
            let chosen = stored.map(|s| s.status).unwrap_or_default();
            let connected = stored.is_some_and(|s| s.connected);
            let languages =
                if a.languages.is_empty() { vec![setup.settings.language.clone()] } else { a.languages.clone() };
            Some(AgentView {
                id: a.id.to_string(),
                name: a.name.clone(),
                status: shown_status(chosen, connected).to_owned(),
                chosen: chosen.as_str().to_owned(),
                connected,
                reason: (!connected).then(|| "disconnected".to_owned()),
                status_since: stored.filter(|s| s.status_since > 0).map(|s| rfc3339(s.status_since)),
                active: active.get(a.id.as_str()).copied().unwrap_or(0),
                capacity: a.capacity,
                queues: queues.iter().map(ToString::to_string).collect(),
                languages,
                chats: live.remove(a.id.as_str()).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(AgentList { agents }))
}

/// Chats of one queue, counted.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct QueueView {
    pub id: String,
    pub name: String,
    pub hidden: bool,
    /// Whether the queue is within its business hours (always, without hours).
    pub open: bool,
    /// Chats waiting for an agent (queued), offered to one, and connected.
    pub waiting: i64,
    pub offered: i64,
    pub connected: i64,
    /// Chats put aside while their consumer is quiet (dismissed); they wait for the consumer's next
    /// text.
    pub dismissed: i64,
    /// Chats that ended since midnight UTC.
    pub ended_today: i64,
    /// Live chats and those ended today, by how they got their agent: manually_answered, auto_answered,
    /// outbound, deflected.
    pub by_start_type: BTreeMap<String, i64>,
    /// Agents of the queue who are available and connected now.
    pub agents_available: usize,
}

/// Queues the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueList {
    pub queues: Vec<QueueView>,
}

/// The start of the current UTC day, in epoch milliseconds.
fn midnight(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(86_400_000)
}

/// The queues the caller sees, with their chats counted by status and start type.
#[utoipa::path(get, path = "/api/v1/queues", tag = "agents",
    responses((status = 200, body = QueueList), (status = 401, body = ErrorBody)), security(("bearer" = ["reports:read"])))]
pub async fn list_queues(State(state): State<AppState>, who: Principal) -> Result<Json<QueueList>, ApiError> {
    let setup = state.engine.setup();
    let visible = who.visible_queues(&state);
    let now = state.clock.now();
    let available: BTreeSet<String> = state
        .store
        .agent_states()
        .await?
        .into_iter()
        .filter(|s| s.connected && s.status == Presence::Available)
        .map(|s| s.agent)
        .collect();
    let mut views: BTreeMap<String, QueueView> = setup
        .queues
        .iter()
        .filter(|q| visible.as_ref().is_none_or(|v| v.contains(&q.id)))
        .map(|q| {
            let view = QueueView {
                id: q.id.to_string(),
                name: q.name.clone(),
                hidden: q.hidden,
                open: setup.hours_of(&q.id).is_none_or(|h| h.is_open(now)),
                agents_available: setup
                    .agents
                    .iter()
                    .filter(|a| available.contains(a.id.as_str()) && setup.queues_of(&a.id).contains(&q.id))
                    .count(),
                ..QueueView::default()
            };
            (q.id.to_string(), view)
        })
        .collect();
    for count in state.store.queue_counts(midnight(now.0)).await? {
        let Some(view) = views.get_mut(&count.queue) else { continue };
        match count.status.as_str() {
            "queued" => view.waiting += count.count,
            "offered" => view.offered += count.count,
            "connected" => view.connected += count.count,
            "dismissed" => view.dismissed += count.count,
            "finished" => view.ended_today += count.count,
            _ => {}
        }
        if !count.start_type.is_empty() {
            *view.by_start_type.entry(count.start_type).or_default() += count.count;
        }
    }
    Ok(Json(QueueList { queues: views.into_values().collect() }))
}
