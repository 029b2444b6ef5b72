//! Agent statistics as the seed lists them: *your stats* beside the *team average*, and an agent's
//! *individual stats* (chats answered, average duration), for today, this week, this month or a
//! period. The figures are the `users-teams` report's (docs/reports.md), so the two always agree.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use parley_core::ids::AgentId;
use parley_core::report::figures::{self, AgentFigures, Filter};
use parley_core::report::kinds::Kind;
use parley_core::report::range::{self, GroupBy, Period, bucket_start};
use parley_core::report::table::Cell;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::http::api::reports::problem;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::report_facts;

/// Which period the figures cover.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// today (default), week (since Monday), month (since the first), or period (with from and to).
    pub range: Option<String>,
    /// With range=period: as the reports take them (docs/reports.md).
    pub from: Option<String>,
    pub to: Option<String>,
    /// The viewer's IANA time zone (default UTC).
    pub tz: Option<String>,
}

/// One agent's figures, or a team's per member.
#[derive(Debug, Serialize, ToSchema)]
pub struct Figures {
    /// Chats answered (per member, for a team average).
    pub answered: f64,
    /// The average handle time of the chats answered or started, in whole seconds.
    pub average_seconds: i64,
    /// Chats answered or started (per member for a team).
    pub handled: f64,
    /// Offers that timed out and transfers declined (per member for a team).
    pub missed: f64,
    /// The average first response, seconds with one decimal; null without one.
    pub average_first_response_seconds: Option<f64>,
    /// Texts to consumers (per member for a team).
    pub messages_sent: f64,
}

/// An agent's figures beside their team's average.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub agent: String,
    /// today, week, month or period.
    pub range: String,
    /// The period, RFC 3339 in the viewer's zone.
    pub from: String,
    pub to: String,
    pub mine: Figures,
    /// Per agent of the agent's teams (or, without a team, of the agents sharing a queue with them).
    pub team_average: Figures,
    /// How many agents the team average is over (the agent included).
    pub team_size: usize,
}

/// The calling agent's figures beside their team's average.
#[utoipa::path(get, path = "/api/v1/me/stats", tag = "agents", params(StatsQuery),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody), (status = 403, description = "not an agent", body = ErrorBody),
              (status = 422, description = "a range, period or time zone that does not read", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn my_stats(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<Stats>, ApiError> {
    let agent = who.require_agent()?.clone();
    Ok(Json(stats(&state, agent, &query).await?))
}

/// One agent's figures beside their team's average, for supervisors (of the agent's queues) and admins.
#[utoipa::path(get, path = "/api/v1/agents/{id}/stats", tag = "agents", params(("id" = String, Path), StatsQuery),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody),
              (status = 403, description = "an agent, or a supervisor of none of the agent's queues", body = ErrorBody),
              (status = 404, description = "no such agent", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = ["reports:read"])))]
pub async fn agent_stats(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<Stats>, ApiError> {
    let setup = state.engine.setup();
    let agent = AgentId::parse(&id)
        .ok()
        .filter(|a| setup.agent(a).is_some())
        .ok_or_else(|| ApiError::not_found(format!("no agent {id:?} in the setup")))?;
    match &who {
        Principal::Agent(_) => {
            return Err(ApiError::forbidden("an agent sees their own figures only: GET /api/v1/me/stats"));
        }
        Principal::Supervisor { queues, .. } if !setup.queues_of(&agent).iter().any(|q| queues.contains(q)) => {
            return Err(ApiError::forbidden(format!("agent {id:?} serves none of your teams' queues")));
        }
        _ => {}
    }
    Ok(Json(stats(&state, agent, &query).await?))
}

async fn stats(state: &AppState, agent: AgentId, query: &StatsQuery) -> Result<Stats, ApiError> {
    let now = state.clock.now();
    let zone = range::zone(query.tz.as_deref().unwrap_or("UTC")).map_err(|e| problem("tz", e.to_string()))?;
    let name = query.range.as_deref().unwrap_or("today");
    let period = match name {
        "today" | "week" | "month" => {
            let unit = match name {
                "today" => GroupBy::Day,
                "week" => GroupBy::Week,
                _ => GroupBy::Month,
            };
            Period {
                from: bucket_start(now, zone, unit),
                to: parley_core::time::Timestamp(now.0 + 1),
                zone,
                group_by: None,
            }
        }
        "period" => Period::parse(query.from.as_deref(), query.to.as_deref(), zone, None, now)
            .map_err(|e| problem(e.param(), e.to_string()))?,
        other => return Err(problem("range", format!("{other:?} is none of today, week, month, period"))),
    };
    let setup = state.engine.setup();
    let mut team: BTreeSet<AgentId> =
        setup.teams.iter().filter(|t| t.members.contains(&agent)).flat_map(|t| t.members.iter().cloned()).collect();
    if team.is_empty() {
        let mine = setup.queues_of(&agent);
        team = setup
            .agents
            .iter()
            .filter(|a| setup.queues_of(&a.id).iter().any(|q| mine.contains(q)))
            .map(|a| a.id.clone())
            .collect();
    }
    team.insert(agent.clone());
    let filter = Filter { agents: Some(team.clone()), ..Filter::default() };
    let facts = report_facts::period_facts(&state.store, &setup, Kind::UsersTeams, &period, &filter, now).await?;
    let rows = figures::agents_onto(facts.rolled.agents, &facts.chats, &period, &filter);
    let mut total = AgentFigures::default();
    let mut mine = AgentFigures::default();
    for ((_, a), f) in &rows {
        total.add(f);
        if *a == agent {
            mine = f.clone();
        }
    }
    let per = |f: &AgentFigures, n: usize| {
        let n = n.max(1) as f64;
        Figures {
            answered: f64::from(f.answered) / n,
            average_seconds: f.average_handle_ms().unwrap_or(0) / 1000,
            handled: f64::from(f.handled) / n,
            missed: f64::from(f.missed) / n,
            average_first_response_seconds: f.average_first_response_ms().map(Cell::seconds),
            messages_sent: f64::from(f.messages_sent) / n,
        }
    };
    Ok(Stats {
        agent: agent.to_string(),
        range: name.to_owned(),
        from: period.local_time(period.from),
        to: period.local_time(period.to),
        mine: per(&mine, 1),
        team_average: per(&total, team.len()),
        team_size: team.len(),
    })
}
