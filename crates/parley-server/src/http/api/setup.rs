//! `GET/PUT /api/v1/setup`: the whole contact-center setup as one document, applied atomically;
//! `POST /api/v1/setup/preview`: what a consumer would read from a number under a draft document.
//!
//! A refused document answers 422 with one `details` entry per problem of the core's validation, each
//! with the JSON Pointer of the field it concerns where there is one ([`locate`]), so a form can show
//! the message beside its field.

use axum::Json;
use axum::extract::State;
use parley_core::phone::BusinessNumber;
use parley_core::setup::{Setup, SetupError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::extract::ApiJson;
use crate::setup_doc::SetupDocument;

/// The setup in force.
#[utoipa::path(get, path = "/api/v1/setup", tag = "setup",
    responses((status = 200, description = "the setup document in force", body = SetupDocument), (status = 401, body = ErrorBody), (status = 403, description = "only admins read the setup", body = ErrorBody)),
    security(("bearer" = ["setup:read"])))]
pub async fn get_setup(State(state): State<AppState>, who: Principal) -> Result<Json<SetupDocument>, ApiError> {
    who.require_admin()?;
    Ok(Json(SetupDocument::from_setup(&state.engine.setup())))
}

/// Validates a setup document as a whole and, if every part is valid, puts it in force at once.
#[utoipa::path(put, path = "/api/v1/setup", tag = "setup", request_body = SetupDocument,
    responses((status = 200, description = "the document now in force", body = SetupDocument), (status = 401, body = ErrorBody), (status = 403, description = "only admins change the setup", body = ErrorBody),
              (status = 422, description = "the document names every problem; `details` has each with the JSON Pointer of its field", body = ErrorBody)),
    security(("bearer" = ["setup:write"])))]
pub async fn put_setup(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(doc): ApiJson<SetupDocument>,
) -> Result<Json<SetupDocument>, ApiError> {
    who.require_admin()?;
    let setup = validate(&state, &doc)?;
    let stored = SetupDocument::from_setup(&setup);
    let json = serde_json::to_string(&stored).map_err(ApiError::internal)?;
    state.engine.apply_setup(setup, json).await?;
    Ok(Json(stored))
}

/// A draft setup and the number (and language) to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The setup document as it would be saved.
    pub setup: SetupDocument,
    /// One of its numbers.
    pub number: String,
    /// A language tag of the setup (default: the number's language).
    pub language: Option<String>,
}

/// What the consumer would read.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    /// The menu message, exactly as sent; absent when the number's menu has one choice (taken at once).
    pub menu: Option<String>,
    /// The message before the menu (the opt-in notice a phone gets on its first text), if any.
    pub greeting: Option<String>,
    /// Every message of the answer to a first text, in order (with nobody available).
    pub messages: Vec<String>,
}

/// What a consumer texting the number for the first time would read under a draft setup (nothing is
/// saved). The texts are built by the same code that answers real consumers.
#[utoipa::path(post, path = "/api/v1/setup/preview", tag = "setup", request_body = PreviewRequest,
    responses((status = 200, description = "the messages a first text gets", body = Preview), (status = 401, body = ErrorBody), (status = 403, description = "only admins preview the setup", body = ErrorBody),
              (status = 422, description = "the draft is invalid (the same problems as PUT /api/v1/setup, pointers under /setup), or the number or language is not in it", body = ErrorBody)),
    security(("bearer" = ["setup:write"])))]
pub async fn preview(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> Result<Json<Preview>, ApiError> {
    who.require_admin()?;
    let setup = validate(&state, &req.setup).map_err(|mut e| {
        for d in &mut e.details {
            d.field = Some(format!("/setup{}", d.field.as_deref().unwrap_or_default()));
        }
        e
    })?;
    let not_in_setup = || {
        ApiError::invalid_fields(
            format!("number {} is not in the setup", req.number),
            vec![FieldProblem::new(Some("/number".to_owned()), "pick one of the setup's numbers")],
        )
    };
    let number = BusinessNumber::parse(&req.number).map_err(|_| not_in_setup())?;
    let number = setup.number(&number).ok_or_else(not_in_setup)?;
    if let Some(language) = &req.language
        && !setup.settings.language_tags().contains(&language.as_str())
    {
        let known = setup.settings.language_tags().join(", ");
        return Err(ApiError::invalid_fields(
            format!("language \"{language}\" is not one of the setup's ({known})"),
            vec![FieldProblem::new(Some("/language".to_owned()), format!("use one of {known}"))],
        ));
    }
    let texts = parley_core::chat::first_texts(&setup, number, req.language.as_deref(), state.clock.now());
    let greeting = match &texts.menu {
        Some(menu) => texts.messages.iter().take_while(|m| *m != menu).last().cloned(),
        None => None,
    };
    Ok(Json(Preview { menu: texts.menu, greeting, messages: texts.messages }))
}

/// Validates a document against this server's carriers; a 422 lists every problem, each with its field.
pub fn validate(state: &AppState, doc: &SetupDocument) -> Result<Setup, ApiError> {
    let carriers = state.config.carrier_names();
    let carriers: Vec<&str> = carriers.iter().map(String::as_str).collect();
    Setup::validate(&doc.to_draft(), &carriers).map_err(|problems| {
        let json = serde_json::to_value(doc).unwrap_or(Value::Null);
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let details = problems.iter().map(|p| FieldProblem::new(locate(&json, p), p.to_string())).collect();
        ApiError::invalid_fields(format!("the setup was not applied: {}", all.join("; ")), details)
    })
}

/// The JSON Pointer of the field a problem concerns in the document `doc`, found from what the problem
/// names (the item by its id or number, then the field or the value it refers to); `None` for a
/// problem of the whole document or one that names nothing found.
pub fn locate(doc: &Value, problem: &SetupError) -> Option<String> {
    let (owner, field, value): (String, Option<&str>, Option<&str>) = match problem {
        SetupError::InvalidNumber { index, .. } => return Some(format!("/numbers/{index}/number")),
        SetupError::InvalidBlock { index, field, .. } => {
            let at = format!("/blocklist/{}", index.saturating_sub(1));
            let field = format!("{at}/{field}");
            return Some(if doc.pointer(&field).is_some() { field } else { at });
        }
        SetupError::DuplicateNumber(n) => {
            return item(doc, "numbers", "number", n, true).map(|p| format!("{p}/number"));
        }
        SetupError::UnknownCarrier { number, .. } => (format!("number {number}"), Some("carrier"), None),
        SetupError::NumberWithoutQueues(n) => (format!("number {n}"), Some("queues"), None),
        SetupError::DuplicateMenuQueue { number, queue } => {
            let at = item(doc, "numbers", "number", number, false)?;
            let queues = doc.pointer(&format!("{at}/queues"))?.as_array()?;
            let second = queues.iter().enumerate().filter(|(_, q)| q.as_str() == Some(queue)).nth(1)?.0;
            return Some(format!("{at}/queues/{second}"));
        }
        SetupError::InvalidId { what, .. } | SetupError::Empty { what } => (what.clone(), None, None),
        SetupError::DuplicateId { kind, id } => {
            let list = collection(kind)?;
            return item(doc, list, "id", id, true).map(|p| format!("{p}/id"));
        }
        SetupError::UnknownReference { owner, id, .. } => (owner.clone(), None, Some(id.as_str())),
        SetupError::KeywordConflict { number, second, .. } => {
            return item(doc, "queues", "id", second, false).or_else(|| item(doc, "numbers", "number", number, false));
        }
        SetupError::ReservedWord { owner, word } => (owner.clone(), None, Some(word.as_str())),
        SetupError::EmptyKeyword(q) => (format!("queue \"{q}\""), Some("keywords"), None),
        SetupError::BadCapacity { id, .. } => (format!("agent \"{id}\""), Some("capacity"), None),
        SetupError::BadNumberKeyword { number, keyword, .. } => {
            (format!("number {number}"), None, Some(keyword.as_str()))
        }
        SetupError::InvalidKind { number, .. } => (format!("number {number}"), Some("kind"), None),
        SetupError::BadRate { owner, .. } => (owner.clone(), Some("segments_per_second"), None),
        SetupError::InvalidConsumerNumber { queue, .. } => {
            (format!("queue \"{queue}\""), Some("consumer_number"), None)
        }
        SetupError::InvalidField { owner, field, .. } => (owner.clone(), Some(field.as_str()), None),
    };
    let (at, rest) = owner_pointer(doc, &owner)?;
    // What follows the owner's name ("queue \"x\" (parent)", "reply \"r\": text") or the field given
    // ("timers.offer_timeout_seconds", "sample_messages[2]") names the field, in document keys.
    let hint = field.map(str::to_owned).or(rest);
    if let Some(hint) = hint {
        let keys: Vec<&str> = hint
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .find(|s| !s.is_empty())
            .map(|s| s.split('.').collect())
            .unwrap_or_default();
        let path: String = keys.iter().map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1"))).collect();
        if !keys.is_empty() && doc.pointer(&format!("{at}{path}")).is_some() {
            return Some(format!("{at}{path}"));
        }
    }
    if let Some(value) = value
        && let Some(found) = find_string(doc.pointer(&at)?, value)
    {
        return Some(format!("{at}{found}"));
    }
    Some(at)
}

/// The list of the document that holds items of `kind` ("queue" → "queues").
fn collection(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "number" => "numbers",
        "queue" => "queues",
        "agent" => "agents",
        "team" => "teams",
        "brand" => "brands",
        "campaign" => "campaigns",
        "reply" => "replies",
        _ => return None,
    })
}

/// The pointer of the item a problem's owner names (`queue "billing"`, `number +15550001000`), and what
/// follows its name.
fn owner_pointer(doc: &Value, owner: &str) -> Option<(String, Option<String>)> {
    let (kind, rest) = owner.split_once(' ')?;
    let list = collection(kind)?;
    let (id, after) = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"')?,
        None => rest.split_once([' ', ':']).map_or((rest, ""), |(id, after)| (id, after)),
    };
    let key = if list == "numbers" { "number" } else { "id" };
    let at = item(doc, list, key, id, false)?;
    let after = after.trim_start_matches([':', ' ', '(']).trim_end_matches(')');
    Some((at, (!after.is_empty()).then(|| after.to_owned())))
}

/// The pointer of the item of `list` whose `key` is `value` (with `last`, the last such item: the
/// repeat of a duplicate).
fn item(doc: &Value, list: &str, key: &str, value: &str, last: bool) -> Option<String> {
    let items = doc.get(list)?.as_array()?;
    let mut found = items.iter().enumerate().filter(|(_, i)| i.get(key).and_then(Value::as_str) == Some(value));
    let index = if last { found.next_back() } else { found.next() }?.0;
    Some(format!("/{list}/{index}"))
}

/// The pointer (relative to `within`) of the first string equal to `value` (ignoring case), depth first.
fn find_string(within: &Value, value: &str) -> Option<String> {
    match within {
        Value::String(s) if s.eq_ignore_ascii_case(value) => Some(String::new()),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| find_string(v, value).map(|p| format!("/{i}{p}")))
        }
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            find_string(v, value).map(|p| format!("/{}{p}", k.replace('~', "~0").replace('/', "~1")))
        }),
        _ => None,
    }
}
