//! `/api/v1/blocklist`: admins list, add and remove blocked consumer phones.
//!
//! The blocklist is part of the setup document (`[[blocklist]]`), its one source of truth: adding or
//! removing an entry here saves a new setup version in the engine's writer, as `PUT /api/v1/setup`
//! does, so `GET /api/v1/setup` and `parley setup export` show it and every node reloads it. Adding a
//! phone with a live chat ends the chat (end reason `blocked`, by the admin), telling the consumer
//! nothing. What a block does to texts is the core desk's (`parley_core::desk`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use parley_core::phone::E164;
use parley_core::setup::{Blocked, reason_problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::auth::{self, Principal};
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};

/// The blocklist API, with its OpenAPI paths and tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(BlocklistDoc::openapi())
        .routes(routes!(list_blocked, add_blocked))
        .routes(routes!(get_blocked, remove_blocked))
}

/// The OpenAPI tag of the blocklist API.
#[derive(OpenApi)]
#[openapi(tags((name = "blocklist", description = "Consumer phones the business does not serve")))]
struct BlocklistDoc;

/// The most entries one page lists.
const MAX_LIMIT: usize = 1000;

/// A blocked phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedView {
    /// The phone, E.164.
    pub number: String,
    /// Why it is blocked; stored with each of its texts.
    pub reason: String,
    /// The admin who blocked it.
    pub added_by: String,
    /// When it was blocked (RFC 3339); absent for an entry written into the setup without one.
    pub added_at: Option<String>,
}

impl From<&Blocked> for BlockedView {
    fn from(b: &Blocked) -> BlockedView {
        BlockedView {
            number: b.number.to_string(),
            reason: b.reason.clone(),
            added_by: b.added_by.clone(),
            added_at: b.added_at.map(|t| rfc3339(t.0)),
        }
    }
}

/// One page of the blocklist, in number order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedPage {
    pub entries: Vec<BlockedView>,
    /// How many entries match the filter in all.
    pub total: usize,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// Which entries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BlockedQuery {
    /// Only numbers starting with these digits (the leading `+` may be left out, or written `%2B`).
    pub q: Option<String>,
    /// The last number of the previous page.
    pub after: Option<String>,
    /// At most this many entries (1 to 1000, default 100).
    pub limit: Option<usize>,
}

/// A phone to block.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBlocked {
    /// The consumer's phone, E.164 (e.g. +14155550100).
    pub number: String,
    /// Why (1 to 500 characters, one line): admins read it beside the phone's texts.
    pub reason: String,
}

/// A query's number or prefix as stored: `+` and digits. A `+` sent unencoded in a query string
/// arrives as a space, and a missing one is added.
fn as_number_prefix(text: &str) -> String {
    let digits = text.trim().trim_start_matches('+');
    format!("+{digits}")
}

/// Lists the blocked phones, in number order, optionally only those starting with `q`, a page at a time.
#[utoipa::path(get, path = "/api/v1/blocklist", tag = "blocklist", params(BlockedQuery),
    responses((status = 200, body = BlockedPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "only admins manage the blocklist", body = ErrorBody)),
    security(("bearer" = ["setup:read"]), ("session" = [])))]
pub async fn list_blocked(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<BlockedQuery>,
) -> Result<Json<BlockedPage>, ApiError> {
    who.require_admin()?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let prefix = query.q.as_deref().map(as_number_prefix).filter(|p| p != "+").unwrap_or_default();
    let after = query.after.as_deref().map(as_number_prefix);
    let setup = state.engine.setup();
    let list = &setup.blocklist;
    let total = list.matching(&prefix, None).count();
    let mut page: Vec<&Blocked> = list.matching(&prefix, after.as_deref()).take(limit + 1).collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let next_after = if more { page.last().map(|b| b.number.to_string()) } else { None };
    Ok(Json(BlockedPage { entries: page.into_iter().map(BlockedView::from).collect(), total, next_after }))
}

/// Blocks a phone: its texts are stored with the reason but open no chat and get no answer (STOP still
/// opts out and is confirmed once), the business may send it nothing, and a live chat with it ends.
#[utoipa::path(post, path = "/api/v1/blocklist", tag = "blocklist", request_body = NewBlocked,
    responses((status = 201, description = "blocked; the setup has a new version", body = BlockedView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "`already_blocked`: the phone is on the list (the message names the entry)", body = ErrorBody),
              (status = 422, description = "the number is not E.164, or the reason is empty or too long; `details` names each", body = ErrorBody)),
    security(("bearer" = ["setup:write"]), ("session" = [])))]
pub async fn add_blocked(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewBlocked>,
) -> Result<(StatusCode, Json<BlockedView>), ApiError> {
    who.require_admin()?;
    let mut problems = Vec::new();
    let number = E164::parse(&req.number)
        .map_err(|e| problems.push(FieldProblem::new(Some("/number".to_owned()), format!("not an E.164 number: {e}"))))
        .ok();
    if let Some(problem) = reason_problem(&req.reason) {
        problems.push(FieldProblem::new(Some("/reason".to_owned()), format!("the reason {problem}")));
    }
    let Some(number) = number.filter(|_| problems.is_empty()) else {
        let all: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        return Err(ApiError::invalid_fields(format!("nothing was blocked: {}", all.join("; ")), problems));
    };
    let entry = Blocked {
        number,
        reason: req.reason.trim().to_owned(),
        added_by: admin_name(&state, &headers).await?,
        added_at: Some(state.clock.now()),
    };
    let view = BlockedView::from(&entry);
    state.engine.block(entry).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A text a blocked phone sent, as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedText {
    pub message_id: String,
    /// The business number it was sent to.
    pub number: String,
    pub body: String,
    /// Media URLs, in order.
    pub media: Vec<String>,
    /// Why it opened no chat, e.g. `blocked: +14155550100 is on the blocklist (Spam); no chat was opened`.
    pub note: Option<String>,
    pub received_at: String,
}

/// A blocked phone and what it sent lately.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedDetail {
    #[serde(flatten)]
    pub entry: BlockedView,
    /// Its latest texts that opened no chat (while blocked, or to a number not enabled), newest first,
    /// at most 50.
    pub texts: Vec<BlockedText>,
}

/// The most texts [`get_blocked`] shows.
const TEXTS_SHOWN: i64 = 50;

/// A blocked phone's entry and the texts it sent that opened no chat, each with why.
#[utoipa::path(get, path = "/api/v1/blocklist/{e164}", tag = "blocklist", params(("e164" = String, Path, description = "the blocked phone, E.164")),
    responses((status = 200, body = BlockedDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "the phone is not on the blocklist", body = ErrorBody),
              (status = 422, description = "not an E.164 number", body = ErrorBody)),
    security(("bearer" = ["setup:read"]), ("session" = [])))]
pub async fn get_blocked(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(phone): ApiPath<String>,
) -> Result<Json<BlockedDetail>, ApiError> {
    who.require_admin()?;
    let phone = path_phone(&phone)?;
    let setup = state.engine.setup();
    let entry = setup.blocked(&phone).ok_or_else(|| ApiError::not_found(format!("{phone} is not on the blocklist")))?;
    let texts = state.store.texts_without_chat(phone.as_str(), TEXTS_SHOWN).await?;
    let texts = texts
        .into_iter()
        .map(|m| BlockedText {
            message_id: m.id,
            number: m.number,
            media: if m.media.is_empty() { vec![] } else { m.media.split('\n').map(str::to_owned).collect() },
            body: m.body,
            note: m.error,
            received_at: rfc3339(m.created_at),
        })
        .collect();
    Ok(Json(BlockedDetail { entry: BlockedView::from(entry), texts }))
}

/// The phone of a `/api/v1/blocklist/{e164}` path, or a 422.
fn path_phone(phone: &str) -> Result<E164, ApiError> {
    E164::parse(phone).map_err(|e| {
        ApiError::invalid_fields(
            format!("not an E.164 number: {e}"),
            vec![FieldProblem::new(None, "write the phone as + and digits, e.g. /api/v1/blocklist/+14155550100")],
        )
    })
}

/// Unblocks a phone: from now on it is served like any other.
#[utoipa::path(delete, path = "/api/v1/blocklist/{e164}", tag = "blocklist", params(("e164" = String, Path, description = "the blocked phone, E.164")),
    responses((status = 200, description = "the entry removed; the setup has a new version", body = BlockedView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "the phone is not on the blocklist", body = ErrorBody),
              (status = 422, description = "not an E.164 number", body = ErrorBody)),
    security(("bearer" = ["setup:write"]), ("session" = [])))]
pub async fn remove_blocked(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(phone): ApiPath<String>,
) -> Result<Json<BlockedView>, ApiError> {
    who.require_admin()?;
    let phone = path_phone(&phone)?;
    let removed = state.engine.unblock(phone).await?;
    Ok(Json(BlockedView::from(&removed)))
}

/// The calling admin's name for `added_by`: the username of a logged-in admin, "admin" for an API
/// token (tokens carry no name).
async fn admin_name(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if auth::by_token(headers) {
        return Ok("admin".to_owned());
    }
    Ok(auth::current(state, headers).await?.map_or_else(|| "admin".to_owned(), |u| u.username))
}
