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

use parley_core::ids::AgentId;
use parley_core::report::facts::ChatType;
use parley_core::report::figures::{self, Filter};
use parley_core::report::kinds::{self, Kind};
use parley_core::report::table::Cell;

use crate::clock::rfc3339;
use crate::http::api::live::{self, TodayQuery};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::event_json::shown_status;
use crate::http::extract::ApiQuery;
use crate::{AppState, report_facts};

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
    /// The channel the agent is assigned: Parley's agents take SMS chats ("sms").
    pub channel: &'static str,
    /// Chats they answered among those opened today (the viewer's day, `tz`), as the users-teams
    /// report counts them.
    pub answered_today: u32,
}

/// Agents the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<AgentView>,
}

/// The agents serving the queues the caller sees (all of them for admins), with their status and live
/// chats; agents use it to pick a colleague to transfer to.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", params(TodayQuery),
    responses((status = 200, body = AgentList), (status = 401, body = ErrorBody)), security(("bearer" = ["reports:read"])))]
pub async fn list_agents(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<TodayQuery>,
) -> Result<Json<AgentList>, ApiError> {
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
    let today = live::today(&state, query.tz.as_deref())?;
    let now = state.clock.now();
    let all = Filter::default();
    let facts = report_facts::period_facts(&state.store, &setup, Kind::UsersTeams, &today, &all, now).await?;
    let answered: BTreeMap<AgentId, u32> = figures::agents_onto(facts.rolled.agents, &facts.chats, &today, &all)
        .into_iter()
        .map(|((_, agent), f)| (agent, f.answered))
        .collect();
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
                channel: "sms",
                answered_today: answered.get(&a.id).copied().unwrap_or(0),
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
    /// Chats that ended since the viewer's midnight (`tz`, default UTC).
    pub ended_today: i64,
    /// Live chats and those ended today, by how they got their agent: manually_answered, auto_answered,
    /// outbound, deflected.
    pub by_start_type: BTreeMap<String, i64>,
    /// Agents of the queue who are available and connected now.
    pub agents_available: usize,
    /// The longest wait of the chats waiting in the queue now, in seconds.
    pub longest_wait_seconds: f64,
    /// The queue's figures of the chats opened today (the viewer's day, `tz`), as the queues report
    /// has them (docs/reports.md).
    pub today: QueueToday,
}

/// A queue's day so far.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct QueueToday {
    pub chats_in: u32,
    pub answered: u32,
    pub abandoned: u32,
    pub timed_out: u32,
    /// Seconds; null before any answer.
    pub average_wait_seconds: Option<f64>,
    pub average_handle_seconds: Option<f64>,
    /// Answered within `service_level_seconds`, of those answered, abandoned or timed out; null
    /// before any.
    pub service_level: Option<f64>,
    pub service_level_seconds: i64,
    /// Chats in by type: inbound SMS (`sms`), outbound SMS, a call's SMS thread.
    pub sms: u32,
    pub outbound_sms: u32,
    pub call_sms: u32,
}

/// Queues the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueList {
    pub queues: Vec<QueueView>,
}

/// The queues the caller sees, with their chats counted by status and start type.
#[utoipa::path(get, path = "/api/v1/queues", tag = "agents", params(TodayQuery),
    responses((status = 200, body = QueueList), (status = 401, body = ErrorBody)), security(("bearer" = ["reports:read"])))]
pub async fn list_queues(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<TodayQuery>,
) -> Result<Json<QueueList>, ApiError> {
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
    let today = live::today(&state, query.tz.as_deref())?;
    let threshold = |q: &QueueId| kinds::service_level_ms(&setup, q);
    let all = Filter::default();
    let facts = report_facts::period_facts(&state.store, &setup, Kind::Queues, &today, &all, now).await?;
    let figures = figures::queues_onto(facts.rolled.queues, &facts.chats, &today, &all, threshold, now);
    for ((_, queue), f) in figures {
        let Some(view) = views.get_mut(queue.as_str()) else { continue };
        let by_type = |t: ChatType| f.by_type.get(&t).copied().unwrap_or(0);
        view.today = QueueToday {
            chats_in: f.chats_in,
            answered: f.answered,
            abandoned: f.abandoned,
            timed_out: f.timed_out,
            average_wait_seconds: f.average_wait_ms().map(Cell::seconds),
            average_handle_seconds: f.average_handle_ms().map(Cell::seconds),
            service_level: f.service_level().map(Cell::ratio),
            service_level_seconds: 0,
            sms: by_type(ChatType::Sms),
            outbound_sms: by_type(ChatType::OutboundSms),
            call_sms: by_type(ChatType::CallSms),
        };
    }
    for view in views.values_mut() {
        if let Ok(id) = QueueId::parse(&view.id) {
            view.today.service_level_seconds = threshold(&id) / 1000;
        }
    }
    for chat in live::live_facts(&state).await?.iter().filter(|c| c.status == ChatStatus::Queued) {
        let Some(visit) = chat.visits.last().filter(|v| v.left.is_none()) else { continue };
        if let Some(view) = views.get_mut(visit.queue.as_str()) {
            view.longest_wait_seconds = view.longest_wait_seconds.max(Cell::seconds(visit.wait_ms(now)));
        }
    }
    for count in state.store.queue_counts(today.from.0).await? {
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
