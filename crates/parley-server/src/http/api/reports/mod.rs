//! `GET /api/v1/reports/{kind}`: the seed's reports over a period, as JSON tables, CSV or an SVG chart
//! (docs/reports.md). Figures come from the stored events, folded per chat by
//! `parley_core::report::facts` or summed from the rollups of those folds (`crate::report_facts`), so
//! every node answers the same.

mod chart;
pub(crate) mod lines;

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::stream;
use parley_core::ids::{AgentId, QueueId};
use parley_core::phone::E164;
use parley_core::report::figures::Filter;
use parley_core::report::kinds::{self, CallLine, Delivery, Input, Kind};
use parley_core::report::range::{self, Period};
use parley_core::report::rollup::Line;
use parley_core::report::table::{Cell, CsvWriter, Table};
use parley_core::setup::{ConsumerNumber, mask};
use parley_core::time::Timestamp;
use parley_store::calls::CallFilter;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::{AppState, report_facts};

/// The rows a CSV response sends per chunk.
const CSV_CHUNK_ROWS: usize = 500;

/// What a report reads and how it answers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The first day (`2026-11-23`, the viewer's midnight) or instant (RFC 3339); default: today.
    pub from: Option<String>,
    /// The last day, included (`2026-11-29`), or the instant the period ends before; default: now.
    pub to: Option<String>,
    /// The viewer's IANA time zone: days, weeks and months are theirs (default `UTC`).
    pub tz: Option<String>,
    /// Only chats that passed through this queue.
    pub queue: Option<String>,
    /// Only chats the team's members took part in (and, in users-teams, its members and the team).
    pub team: Option<String>,
    /// Only chats this agent took part in.
    pub agent: Option<String>,
    /// Only chats on this business number.
    pub number: Option<String>,
    /// chat-history: the consumer's phone (E.164).
    pub consumer: Option<String>,
    /// hour, day, week or month; default: the whole period in one row.
    pub group_by: Option<String>,
    /// json (default), csv or svg.
    pub format: Option<String>,
    /// CSV and SVG: which table (performance: traffic, start_types or delivery); default: the first.
    pub table: Option<String>,
    /// calls-chats and chat-history as JSON: rows per page (default 1000, at most 10000).
    pub limit: Option<u32>,
    /// calls-chats and chat-history as JSON: the page after this position (a page's `next`).
    pub after: Option<String>,
}

/// Rows per JSON page of calls-chats and chat-history, unless `limit` says.
const PAGE_ROWS: u32 = 1000;
const MOST_PAGE_ROWS: u32 = 10_000;

/// One table of a report.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ReportTable {
    pub name: String,
    pub columns: Vec<String>,
    /// One object per row, keyed by column; durations in seconds, shares between 0 and 1, times RFC
    /// 3339 in the viewer's zone, null where a figure has nothing to measure.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Value>,
    /// calls-chats and chat-history: more rows follow; ask again with `after=` this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A report: its period and its tables.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Report {
    pub kind: String,
    pub title: String,
    /// The period's first instant and the instant it ends before, RFC 3339 in the viewer's zone.
    pub from: String,
    pub to: String,
    pub tz: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    pub tables: Vec<ReportTable>,
}

/// A report over a period: `users-teams`, `queues`, `calls-chats`, `performance` or `chat-history`.
/// Supervisors see their teams' queues; admins everything.
#[utoipa::path(get, path = "/api/v1/reports/{kind}", tag = "reports", params(("kind" = String, Path), ReportQuery),
    responses((status = 200, description = "JSON (the tables), CSV (`format=csv`) or an SVG chart (`format=svg`)", body = Report),
              (status = 401, body = ErrorBody),
              (status = 403, description = "an agent, or a queue, team or agent outside the supervisor's teams", body = ErrorBody),
              (status = 404, description = "no such report kind", body = ErrorBody),
              (status = 422, description = "a parameter that does not read (its name leads the message)", body = ErrorBody)),
    security(("bearer" = ["reports:read"])))]
pub async fn report(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let kind = Kind::parse(&kind).ok_or_else(|| {
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::not_found(format!("no report {kind:?}; the kinds are {}", kinds.join(", ")))
    })?;
    let format = match query.format.as_deref().unwrap_or("json") {
        f @ ("json" | "csv" | "svg") => f,
        other => return Err(problem("format", format!("{other:?} is none of json, csv, svg"))),
    };
    let limit = query.limit.unwrap_or(PAGE_ROWS);
    if limit == 0 || limit > MOST_PAGE_ROWS {
        return Err(problem("limit", format!("{limit} is not between 1 and {MOST_PAGE_ROWS}")));
    }
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => Some(
            lines::parse_key(text)
                .ok_or_else(|| problem("after", format!("{text:?} is not a position a page gave as its next")))?,
        ),
    };
    let (period, built) = build(&state, &who, kind, &query).await?;
    let tz = query.tz.as_deref().unwrap_or("UTC");
    match (built, format) {
        (Built::Tables(tables), "csv") => csv_of_table(kind, &period, pick(tables, query.table.as_deref())?),
        (Built::Tables(tables), "svg") => Ok(chart::response(kind, &period, &pick(tables, query.table.as_deref())?)),
        (Built::Tables(tables), _) => Ok(Json(json_report(kind, &period, tz, tables)).into_response()),
        (Built::Lines(pager), "csv") => {
            pick_lines(kind, query.table.as_deref())?;
            Ok(csv_of_lines(kind, &period, *pager))
        }
        (Built::Lines(mut pager), "svg") => {
            let table = pick_lines(kind, query.table.as_deref())?;
            let mut table = Table::new(table, &kinds::LINE_COLUMNS);
            loop {
                let page = pager.page(CSV_CHUNK_ROWS).await?;
                let done = page.len() < CSV_CHUNK_ROWS;
                table.rows.extend(page.into_iter().map(|(_, row)| row));
                if done {
                    break;
                }
            }
            Ok(chart::response(kind, &period, &table))
        }
        (Built::Lines(mut pager), _) => {
            let name = pick_lines(kind, None)?;
            if let Some(key) = &after {
                pager.skip_to(key);
            }
            let mut rows = pager.page(limit as usize + 1).await?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let next = if more { rows.last().map(|(key, _)| lines::key_text(key)) } else { None };
            let mut table = Table::new(name, &kinds::LINE_COLUMNS);
            table.rows = rows.into_iter().map(|(_, row)| row).collect();
            let mut json = json_table(table);
            json.next = next;
            let mut report = json_report(kind, &period, tz, vec![]);
            report.tables.push(json);
            Ok(Json(report).into_response())
        }
    }
}

/// What a report kind gives: whole tables, or the rows of one a page at a time.
pub(crate) enum Built {
    Tables(Vec<Table>),
    Lines(Box<lines::LinePager>),
}

/// The one table of a row-per-chat kind, if `table=` names it (or nothing).
fn pick_lines(kind: Kind, name: Option<&str>) -> Result<&'static str, ApiError> {
    let only = if kind == Kind::CallsChats { "calls_chats" } else { "chat_history" };
    match name.filter(|n| !n.is_empty()) {
        Some(n) if n != only => Err(problem("table", format!("{n:?} is not {only}"))),
        _ => Ok(only),
    }
}

pub(crate) fn problem(param: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    let message = if message.starts_with(&format!("{param}:")) { message } else { format!("{param}: {message}") };
    ApiError::invalid_fields(message.clone(), vec![FieldProblem::new(Some(format!("/{param}")), message)])
}

/// The period and the tables of `kind` for this caller.
pub(crate) async fn build(
    state: &AppState,
    who: &Principal,
    kind: Kind,
    query: &ReportQuery,
) -> Result<(Period, Built), ApiError> {
    if matches!(who, Principal::Agent(_)) {
        return Err(ApiError::forbidden(
            "reports are for supervisors and admins; an agent's own figures are at GET /api/v1/me/stats",
        ));
    }
    let setup = state.engine.setup();
    let now = state.clock.now();
    let zone = range::zone(query.tz.as_deref().unwrap_or("UTC")).map_err(|e| problem(e.param(), e.to_string()))?;
    let period = Period::parse(query.from.as_deref(), query.to.as_deref(), zone, query.group_by.as_deref(), now)
        .map_err(|e| problem(e.param(), e.to_string()))?;
    let filter = filter(state, who, query)?;
    if kind == Kind::ChatHistory && filter.consumer.is_none() && query.agent.is_none() {
        return Err(problem(
            "consumer",
            "chat-history is one consumer's or one agent's: give consumer= (E.164) or agent=",
        ));
    }
    let facts = report_facts::period_facts(&state.store, &setup, kind, &period, &filter, now).await?;
    let supervisor = !matches!(who, Principal::Admin { .. });
    if matches!(kind, Kind::CallsChats | Kind::ChatHistory) {
        let folded: Vec<Line> = facts.chats.iter().filter(|c| filter.keeps(c)).map(|c| Line::of(c, now)).collect();
        let calls = if kind == Kind::CallsChats { calls(state, who, &period, &filter).await? } else { vec![] };
        let pager = lines::LinePager::new(
            state.store.clone(),
            setup.clone(),
            period,
            filter,
            facts.excluded,
            facts.from_database,
            supervisor,
            now,
            &folded,
            &calls,
        );
        return Ok((period, Built::Lines(Box::new(pager))));
    }
    let consumer = |chat: &Line| lines::masked(&setup, supervisor, chat);
    let input = Input {
        setup: &setup,
        period: &period,
        filter: &filter,
        chats: &facts.chats,
        rolled: &facts.rolled,
        now,
        consumer: &consumer,
    };
    let tables = match kind {
        Kind::Queues => vec![kinds::queues(&input)],
        Kind::UsersTeams => vec![kinds::users_teams(&input)],
        Kind::Performance => {
            let mut delivery: BTreeMap<(String, String), Delivery> = BTreeMap::new();
            for d in state.store.delivery_counts(period.from.0, period.to.0).await? {
                if filter.number.as_ref().is_none_or(|n| *n == d.number) && visible_number(state, who, &d.number) {
                    delivery.entry((d.carrier, d.number)).or_default().add(&d.status, d.count);
                }
            }
            kinds::performance(&input, &delivery).into()
        }
        Kind::CallsChats | Kind::ChatHistory => unreachable!("answered a page at a time above"),
    };
    Ok((period, Built::Tables(tables)))
}

/// The filter the query asks for, within what the caller may see.
fn filter(state: &AppState, who: &Principal, query: &ReportQuery) -> Result<Filter, ApiError> {
    let setup = state.engine.setup();
    let visible: Option<BTreeSet<QueueId>> = who.visible_queues(state).map(|qs| qs.into_iter().collect());
    let outside = |what: String| ApiError::forbidden(format!("{what} is not one of your teams' queues"));
    let mut filter = Filter { queues: visible.clone(), ..Filter::default() };
    if let Some(q) = query.queue.as_deref().filter(|q| !q.is_empty()) {
        let id = QueueId::parse(q)
            .ok()
            .filter(|id| setup.queue(id).is_some())
            .ok_or_else(|| problem("queue", format!("{q:?} is not a queue of the setup")))?;
        if visible.as_ref().is_some_and(|v| !v.contains(&id)) {
            return Err(outside(format!("queue {q:?}")));
        }
        filter.queues = Some([id].into());
    }
    let mut agents: Option<BTreeSet<AgentId>> = None;
    if let Some(t) = query.team.as_deref().filter(|t| !t.is_empty()) {
        let team = setup
            .teams
            .iter()
            .find(|team| team.id.as_str() == t)
            .ok_or_else(|| problem("team", format!("{t:?} is not a team of the setup")))?;
        let serves_visible = team
            .members
            .iter()
            .any(|m| setup.queues_of(m).iter().any(|q| visible.as_ref().is_none_or(|v| v.contains(q))));
        if !serves_visible {
            return Err(ApiError::forbidden(format!("team {t:?} serves none of your teams' queues")));
        }
        agents = Some(team.members.iter().cloned().collect());
    }
    if let Some(a) = query.agent.as_deref().filter(|a| !a.is_empty()) {
        let id = AgentId::parse(a)
            .ok()
            .filter(|id| setup.agent(id).is_some())
            .ok_or_else(|| problem("agent", format!("{a:?} is not an agent of the setup")))?;
        if !setup.queues_of(&id).iter().any(|q| visible.as_ref().is_none_or(|v| v.contains(q))) {
            return Err(ApiError::forbidden(format!("agent {a:?} serves none of your teams' queues")));
        }
        agents = Some(match agents {
            Some(team) if !team.contains(&id) => BTreeSet::new(),
            _ => [id].into(),
        });
    }
    filter.agents = agents;
    if let Some(n) = query.number.as_deref().filter(|n| !n.is_empty()) {
        if !setup.numbers.iter().any(|number| number.number.as_str() == n) {
            return Err(problem("number", format!("{n:?} is not a number of the setup")));
        }
        filter.number = Some(n.to_owned());
    }
    if let Some(c) = query.consumer.as_deref().filter(|c| !c.is_empty()) {
        let phone = E164::parse(c).map_err(|_| problem("consumer", format!("{c:?} is not an E.164 phone number")))?;
        filter.consumer = Some(phone.as_str().to_owned());
    }
    Ok(filter)
}

/// A supervisor sees a number's delivery when the number's menu offers one of their queues.
fn visible_number(state: &AppState, who: &Principal, number: &str) -> bool {
    match who {
        Principal::Admin { .. } => true,
        _ => who.menu_numbers(state).iter().any(|n| n == number),
    }
}

/// The IVR calls started in the period that the filter and the caller allow.
async fn calls(state: &AppState, who: &Principal, period: &Period, filter: &Filter) -> Result<Vec<CallLine>, ApiError> {
    let setup = state.engine.setup();
    let visible = who.visible_queues(state);
    let filter_calls = CallFilter {
        statuses: vec![],
        ivr_queues: None,
        since: Some(period.from.0),
        until: Some(period.to.0),
        limit: i64::MAX,
    };
    let rows = state.store.calls(&filter_calls).await?;
    let staffed = |ivr_queue: &str| {
        let Some(q) = QueueId::parse(ivr_queue).ok().and_then(|id| setup.ivr_queue(&id)) else {
            return visible.is_none();
        };
        visible.as_ref().is_none_or(|v| q.staff.iter().any(|a| setup.queues_of(a).iter().any(|sq| v.contains(sq))))
    };
    let mut lines: Vec<CallLine> = rows
        .into_iter()
        .filter(|c| staffed(&c.ivr_queue))
        .filter(|c| filter.number.as_ref().is_none_or(|n| *n == c.dialed))
        .filter(|c| {
            filter.agents.as_ref().is_none_or(|agents| {
                c.agent.as_deref().and_then(|a| AgentId::parse(a).ok()).is_some_and(|a| agents.contains(&a))
            })
        })
        .filter(|c| filter.consumer.as_ref().is_none_or(|p| *p == c.caller))
        .map(|c| CallLine {
            caller: if matches!(who, Principal::Admin { .. }) {
                c.caller.clone()
            } else {
                E164::parse(&c.caller).map_or_else(|_| c.caller.clone(), |p| mask(&p, ConsumerNumber::LastFour))
            },
            id: c.id,
            ivr_queue: c.ivr_queue,
            dialed: c.dialed,
            agent: c.agent,
            status: c.status.as_str().to_owned(),
            end_reason: c.end_reason,
            deflection: c.deflection,
            started_at: Timestamp(c.started_at),
            queued_at: c.queued_at.map(Timestamp),
            connected_at: c.connected_at.map(Timestamp),
            ended_at: c.ended_at.map(Timestamp),
        })
        .collect();
    // A queue filter names a chat queue; a voice queue of the same id is the same desk.
    if let Some(queues) = filter.queues.as_ref().filter(|_| visible.is_none()) {
        lines.retain(|c| queues.iter().any(|q| q.as_str() == c.ivr_queue));
    }
    Ok(lines)
}

/// The table `name` asks for (default: the first).
fn pick(tables: Vec<Table>, name: Option<&str>) -> Result<Table, ApiError> {
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    let wanted = name.filter(|n| !n.is_empty());
    let names = names.join(", ");
    let mut tables = tables.into_iter();
    match wanted {
        None => tables.next().ok_or_else(|| ApiError::internal("a report without tables")),
        Some(n) => tables.find(|t| t.name == n).ok_or_else(|| problem("table", format!("{n:?} is none of {names}"))),
    }
}

fn json_cell(cell: &Cell) -> Value {
    match cell {
        Cell::Text(t) => json!(t),
        Cell::Int(n) => json!(n),
        Cell::Seconds(Some(ms)) => json!(Cell::seconds(*ms)),
        Cell::Ratio(Some(r)) => json!(Cell::ratio(*r)),
        Cell::Seconds(None) | Cell::Ratio(None) | Cell::Empty => Value::Null,
    }
}

fn json_report(kind: Kind, period: &Period, tz: &str, tables: Vec<Table>) -> Report {
    Report {
        kind: kind.as_str().to_owned(),
        title: kind.title().to_owned(),
        from: period.local_time(period.from),
        to: period.local_time(period.to),
        tz: tz.to_owned(),
        group_by: period.group_by.map(|g| g.as_str().to_owned()),
        tables: tables.into_iter().map(json_table).collect(),
    }
}

/// A table as JSON: one object per row, keyed by column.
pub(crate) fn json_table(t: Table) -> ReportTable {
    ReportTable {
        name: t.name.to_owned(),
        columns: t.columns.iter().map(|c| (*c).to_owned()).collect(),
        rows: t
            .rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> =
                    t.columns.iter().zip(row).map(|(c, cell)| ((*c).to_owned(), json_cell(cell))).collect();
                Value::Object(object)
            })
            .collect(),
        next: None,
    }
}

/// A whole table as CSV.
fn csv_of_table(kind: Kind, period: &Period, table: Table) -> Result<Response, ApiError> {
    let mut writer = CsvWriter::new(&table.columns);
    let mut bytes = writer.take();
    for row in &table.rows {
        writer.write(row);
    }
    bytes.extend(writer.take());
    Ok(csv_response(kind, period, table.name, Body::from(bytes)))
}

/// A row-per-chat table as CSV, read and sent a chunk of rows at a time (constant memory).
fn csv_of_lines(kind: Kind, period: &Period, pager: lines::LinePager) -> Response {
    let mut writer = CsvWriter::new(&kinds::LINE_COLUMNS);
    let header = writer.take();
    let chunks = stream::unfold(Some((pager, writer)), |state| async move {
        let (mut pager, mut writer) = state?;
        match pager.page(CSV_CHUNK_ROWS).await {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                let last = rows.len() < CSV_CHUNK_ROWS;
                for (_, row) in &rows {
                    writer.write(row);
                }
                let bytes = writer.take();
                Some((Ok::<_, std::io::Error>(bytes), (!last).then_some((pager, writer))))
            }
            Err(e) => {
                // The status has gone out: the body ends short, and the log says why.
                tracing::error!(error = %e, "a report's CSV stopped");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    let body = stream::once(async move { Ok::<_, std::io::Error>(header) });
    use futures::StreamExt as _;
    let name = if kind == Kind::CallsChats { "calls_chats" } else { "chat_history" };
    csv_response(kind, period, name, Body::from_stream(body.chain(chunks)))
}

fn csv_response(kind: Kind, period: &Period, table: &str, body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let from = period.local_time(period.from);
    let day = from.get(..10).unwrap_or("report");
    let name = format!("attachment; filename=\"parley-{}-{table}-{day}.csv\"", kind.as_str());
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
