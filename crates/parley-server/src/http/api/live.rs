//! The live monitor as the seed names it (docs/reports.md "Live monitoring"): today's chats with their
//! waits and handle times (*Chats > ongoing, upcoming, past*), and the day's figures the queue and
//! agent views add (*Queues > chats*, *Agents > assigned channel = chats*). "Today" is the viewer's
//! day (`tz`), and the figures are the reports', folded from the same events.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use parley_core::chat::ChatStatus;
use parley_core::ids::QueueId;
use parley_core::phone::E164;
use parley_core::report::facts::ChatFacts;
use parley_core::report::figures::Filter;
use parley_core::report::kinds::{self, Input};
use parley_core::report::range::{self, GroupBy, Period, bucket_start};
use parley_core::report::rollup::{Line, Rolled};
use parley_core::setup::{ConsumerNumber, mask};
use parley_core::time::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::http::api::reports::{ReportTable, json_table, problem};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::report_facts::facts_of;

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

/// Today's live chats and those that ended today, with the figures of the calls-and-chats report.
pub struct Today {
    pub period: Period,
    /// Live chats (whenever they opened) and the chats that ended today.
    pub chats: Vec<ChatFacts>,
}

impl Today {
    /// The chats opened today: what today's figures sum (a chat counts on the day it opened).
    pub fn opened_today(&self) -> Vec<ChatFacts> {
        self.chats.iter().filter(|c| self.period.contains(c.opened_at)).cloned().collect()
    }
}

/// Today in `tz` for the live views.
pub async fn today(state: &AppState, tz: Option<&str>) -> Result<Today, ApiError> {
    let zone = range::zone(tz.unwrap_or("UTC")).map_err(|e| problem("tz", e.to_string()))?;
    let now = state.clock.now();
    let midnight = bucket_start(now, zone, GroupBy::Day);
    let period = Period { from: midnight, to: Timestamp(now.0 + 1), zone, group_by: None };
    let rows = state.store.chats_live_or_ended_since(midnight.0).await?;
    let chats = facts_of(&state.store, &rows, now).await?;
    Ok(Today { period, chats })
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
    let today = today(&state, query.tz.as_deref()).await?;
    let setup = state.engine.setup();
    let visible: Option<BTreeSet<QueueId>> = who.visible_queues(&state).map(|v| v.into_iter().collect());
    let chats: Vec<ChatFacts> = today.chats.into_iter().filter(|c| wanted(c.status)).collect();
    let filter = Filter { queues: visible, ..Filter::default() };
    let admin = matches!(who, Principal::Admin { .. });
    let consumer = |chat: &Line| {
        let masking = match (&chat.queue, admin) {
            (_, true) => ConsumerNumber::Full,
            (Some(q), false) => setup.consumer_number_of(q),
            (None, false) => ConsumerNumber::Hidden,
        };
        E164::parse(&chat.consumer).map_or_else(|_| chat.consumer.clone(), |p| mask(&p, masking))
    };
    let now = state.clock.now();
    let rolled = Rolled::default();
    let input = Input {
        setup: &setup,
        period: &today.period,
        filter: &filter,
        chats: &chats,
        rolled: &rolled,
        now,
        consumer: &consumer,
    };
    let mut table = kinds::chat_history(&input);
    table.rows.reverse();
    Ok(Json(LiveChats {
        from: today.period.local_time(today.period.from),
        tz: query.tz.unwrap_or_else(|| "UTC".to_owned()),
        chats: json_table(table),
    }))
}
