//! The live monitor as the seed names it (docs/reports.md "Live monitoring"): today's chats with their
//! waits and handle times (*Chats > ongoing, upcoming, past*), and the day's figures the queue and
//! agent views add (*Queues > chats*, *Agents > assigned channel = chats*). "Today" is the viewer's
//! day (`tz`), and the figures are the reports', folded from the same events.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use parley_core::chat::ChatStatus;
use parley_core::ids::QueueId;
use parley_core::report::facts::ChatFacts;
use parley_core::report::figures::Filter;
use parley_core::report::kinds;
use parley_core::report::range::{self, GroupBy, Period, bucket_start};
use parley_core::report::rollup::Line;
use parley_core::report::table::Table;
use parley_core::time::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::http::api::reports::lines::masked;
use crate::http::api::reports::{ReportTable, json_table, problem};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::report_facts::{self, facts_of};

/// The viewer's day.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TodayQuery {
    /// The viewer's IANA time zone (default UTC): "today" starts at its midnight.
    pub tz: Option<String>,
}

/// Which of today's chats.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LiveChatsQuery {
    /// ongoing (with an agent, offered, or dismissed), upcoming (in the menu or waiting for an agent),
    /// or past (ended today); default: all three.
    pub status: Option<String>,
    pub tz: Option<String>,
}

/// Today in `tz` so far, for the live views: from the viewer's midnight to now.
pub fn today(state: &AppState, tz: Option<&str>) -> Result<Period, ApiError> {
    let zone = range::zone(tz.unwrap_or("UTC")).map_err(|e| problem("tz", e.to_string()))?;
    let now = state.clock.now();
    let midnight = bucket_start(now, zone, GroupBy::Day);
    Ok(Period { from: midnight, to: Timestamp(now.0 + 1), zone, group_by: None })
}

/// The live chats, whenever they opened, folded from their events.
pub async fn live_facts(state: &AppState) -> Result<Vec<ChatFacts>, ApiError> {
    let rows = state.store.live_chats().await?;
    Ok(facts_of(&state.store, &rows, state.clock.now()).await?)
}

/// Today's chats of one kind, as the live monitor lists them.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LiveChats {
    /// The viewer's day, RFC 3339 in their zone.
    pub from: String,
    pub tz: String,
    /// The columns of the calls-and-chats report (docs/reports.md); `type` names the channel (sms,
    /// outbound_sms, call_sms), `status` and `end_reason` the status and its reason.
    pub chats: ReportTable,
}

/// The live monitor's chats: ongoing, upcoming, or ended today, newest first, in the queues the caller
/// sees (supervisors: their teams'; admins: all, chats in the menu too).
#[utoipa::path(get, path = "/api/v1/monitor/chats", tag = "reports", params(LiveChatsQuery),
    responses((status = 200, body = LiveChats), (status = 401, body = ErrorBody), (status = 403, description = "an agent", body = ErrorBody),
              (status = 422, description = "an unknown status or time zone", body = ErrorBody)),
    security(("bearer" = ["reports:read"])))]
pub async fn live_chats(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<LiveChatsQuery>,
) -> Result<Json<LiveChats>, ApiError> {
    if matches!(who, Principal::Agent(_)) {
        return Err(ApiError::forbidden(
            "the live monitor is for supervisors and admins; agents list their chats at GET /api/v1/chats",
        ));
    }
    let wanted: fn(ChatStatus) -> bool = match query.status.as_deref().unwrap_or("") {
        "" => |_| true,
        "ongoing" => |s| matches!(s, ChatStatus::Offered | ChatStatus::Connected | ChatStatus::Dismissed),
        "upcoming" => |s| matches!(s, ChatStatus::Selecting | ChatStatus::Queued),
        "past" => |s| s == ChatStatus::Finished,
        other => return Err(problem("status", format!("{other:?} is none of ongoing, upcoming, past"))),
    };
    let today = today(&state, query.tz.as_deref())?;
    let setup = state.engine.setup();
    let now = state.clock.now();
    let visible: Option<BTreeSet<QueueId>> = who.visible_queues(&state).map(|v| v.into_iter().collect());
    let filter = Filter { queues: visible, ..Filter::default() };
    let mut lines: Vec<Line> = live_facts(&state)
        .await?
        .iter()
        .filter(|c| wanted(c.status) && filter.keeps(c))
        .map(|c| Line::of(c, now))
        .collect();
    if wanted(ChatStatus::Finished) {
        lines.extend(report_facts::ended_between(&state.store, today.from.0, today.to.0, &filter, now).await?);
    }
    // Newest first.
    lines.sort_by(|a, b| (b.opened_at, &b.id).cmp(&(a.opened_at, &a.id)));
    let supervisor = !matches!(who, Principal::Admin { .. });
    let mut table = Table::new("chat_history", &kinds::LINE_COLUMNS);
    for line in &lines {
        table.push(kinds::line_cells(&today, masked(&setup, supervisor, line), line));
    }
    Ok(Json(LiveChats {
        from: today.local_time(today.from),
        tz: query.tz.unwrap_or_else(|| "UTC".to_owned()),
        chats: json_table(table),
    }))
}
