//! `/api/v1/numbers`: business numbers with their registration state and its history, and the
//! registration data carriers review (10DLC brand and campaign, toll-free verification). A number that
//! is not enabled neither sends nor opens chats; a us_10dlc or toll_free number goes into review or is
//! enabled only once its registration data is complete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::event::Event;
use parley_core::number::NumberKind;
use parley_core::number::NumberState;
use parley_core::phone::BusinessNumber;
use parley_core::setup::{Number, Setup, SetupDraft};
use parley_core::time::Timestamp;
use parley_store::numbers::NumberStateRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::event_json;
use crate::http::extract::{ApiJson, ApiPath};
use crate::setup_doc::{BrandDoc, CampaignDoc, TollFreeVerificationDoc};

/// A business number.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberView {
    pub number: String,
    pub label: String,
    /// long_code, us_10dlc, toll_free or short_code.
    #[serde(rename = "type")]
    pub kind: String,
    pub carrier: String,
    pub queues: Vec<String>,
    pub campaign: Option<String>,
    /// requested, in_review, enabled, rejected or suspended.
    pub state: String,
    /// For us_10dlc and toll_free numbers: the data carriers review, and what it still lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationView>,
}

/// A number's registration data as the setup holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    /// Whether every field a submission needs is given: only then may the number go into review or
    /// be enabled.
    pub complete: bool,
    /// The fields still missing, e.g. `brand "acme": legal_name is missing`.
    pub missing: Vec<String>,
    /// us_10dlc: the number's campaign with its registration fields and limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignDoc>,
    /// us_10dlc: the campaign's brand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<BrandDoc>,
    /// toll_free: the verification data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toll_free_verification: Option<TollFreeVerificationDoc>,
}

/// The registration of a number that needs one (us_10dlc, toll_free).
fn registration(setup: &Setup, draft: &SetupDraft, n: &Number) -> Option<RegistrationView> {
    if !matches!(n.kind, NumberKind::Us10dlc | NumberKind::TollFree) {
        return None;
    }
    let missing = setup.missing_registration(n);
    let campaign = n.campaign.as_ref().and_then(|c| setup.campaign(c));
    let tendlc = n.kind == NumberKind::Us10dlc;
    Some(RegistrationView {
        complete: missing.is_empty(),
        missing,
        campaign: campaign
            .filter(|_| tendlc)
            .and_then(|c| draft.campaigns.iter().find(|d| d.id == c.id.as_str()))
            .map(|d| CampaignDoc::from_core(d.clone())),
        brand: campaign
            .filter(|_| tendlc)
            .and_then(|c| c.brand.as_deref())
            .and_then(|b| setup.brand(b))
            .map(BrandDoc::from_core),
        toll_free_verification: setup
            .registration(&n.number)
            .and_then(|r| r.toll_free_verification.as_ref())
            .filter(|_| !tendlc)
            .map(TollFreeVerificationDoc::from_core),
    })
}

/// A number and every state it went through.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberDetail {
    #[serde(flatten)]
    pub number: NumberView,
    pub history: Vec<StateChange>,
}

/// One state change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateChange {
    pub state: String,
    pub reason: Option<String>,
    pub by: String,
    pub at: String,
}

/// A new state for a number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewState {
    /// requested, in_review, enabled, rejected or suspended.
    pub state: String,
    /// Why (shown in the history): a carrier's rejection reason, a suspension ticket, ...
    pub reason: Option<String>,
}

async fn view(state: &AppState, numbers: &[Number]) -> Result<Vec<NumberView>, ApiError> {
    let ids: Vec<String> = numbers.iter().map(|n| n.number.to_string()).collect();
    let stored = state.store.number_states(&ids).await?;
    let setup = state.engine.setup();
    // The campaigns as written, for the view (converted once, not per number).
    let draft = setup.to_draft();
    Ok(numbers
        .iter()
        .map(|n| {
            let current = stored
                .iter()
                .find(|s| s.number == n.number.as_str())
                .and_then(|s| NumberState::parse(&s.state))
                .unwrap_or_else(|| n.kind.initial_state());
            NumberView {
                number: n.number.to_string(),
                label: n.label.clone(),
                kind: n.kind.as_str().to_owned(),
                carrier: n.carrier.clone(),
                queues: n.queues.iter().map(ToString::to_string).collect(),
                campaign: n.campaign.as_ref().map(ToString::to_string),
                state: current.as_str().to_owned(),
                registration: registration(&setup, &draft, n),
            }
        })
        .collect())
}

fn find(state: &AppState, e164: &str) -> Result<Number, ApiError> {
    let number = BusinessNumber::parse(e164).map_err(|e| ApiError::invalid(e.to_string()))?;
    state
        .engine
        .setup()
        .number(&number)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("{number} is not a number of the setup")))
}

/// Every number of the setup with its state.
#[utoipa::path(get, path = "/api/v1/numbers", tag = "numbers",
    responses((status = 200, body = Vec<NumberView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = ["setup:read"])))]
pub async fn list_numbers(State(state): State<AppState>, who: Principal) -> Result<Json<Vec<NumberView>>, ApiError> {
    who.require_admin()?;
    let setup = state.engine.setup();
    Ok(Json(view(&state, &setup.numbers).await?))
}

/// One number with the history of its state.
#[utoipa::path(get, path = "/api/v1/numbers/{e164}", tag = "numbers", params(("e164" = String, Path)),
    responses((status = 200, body = NumberDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["setup:read"])))]
pub async fn get_number(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(e164): ApiPath<String>,
) -> Result<Json<NumberDetail>, ApiError> {
    who.require_admin()?;
    let number = find(&state, &e164)?;
    let history = state.store.number_state_history(number.number.as_str()).await?;
    let view = view(&state, std::slice::from_ref(&number)).await?.remove(0);
    Ok(Json(NumberDetail {
        number: view,
        history: history
            .into_iter()
            .map(|r| StateChange { state: r.state, reason: r.reason, by: r.actor, at: rfc3339(r.at) })
            .collect(),
    }))
}

/// Moves a number along its registration: requested → in_review → enabled or rejected; enabled ⇄
/// suspended; rejected → requested. A us_10dlc or toll_free number goes into review or is enabled only
/// when its registration data is complete.
#[utoipa::path(put, path = "/api/v1/numbers/{e164}/state", tag = "numbers", params(("e164" = String, Path)), request_body = NewState,
    responses((status = 200, body = NumberView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "the state cannot follow the current one", body = ErrorBody),
              (status = 422, description = "an unknown state, or a registration that lacks fields (every missing field is named)", body = ErrorBody)),
    security(("bearer" = ["setup:write"])))]
pub async fn set_state(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(e164): ApiPath<String>,
    ApiJson(change): ApiJson<NewState>,
) -> Result<Json<NumberView>, ApiError> {
    who.require_admin()?;
    let number = find(&state, &e164)?;
    let next = NumberState::parse(&change.state).ok_or_else(|| {
        ApiError::invalid(format!(
            "unknown state \"{}\": use requested, in_review, enabled, rejected or suspended",
            change.state
        ))
    })?;
    let current = view(&state, std::slice::from_ref(&number)).await?.remove(0);
    let from = NumberState::parse(&current.state).unwrap_or_else(|| number.kind.initial_state());
    if from != next && !from.may_become(next) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            format!("{} is {}; it cannot become {} from there", number.number, from.as_str(), next.as_str()),
        ));
    }
    if from != next && matches!(next, NumberState::InReview | NumberState::Enabled) {
        let missing = state.engine.setup().missing_registration(&number);
        if !missing.is_empty() {
            return Err(ApiError::invalid(format!(
                "{} cannot become {}: its registration is incomplete: {}",
                number.number,
                next.as_str(),
                missing.join("; ")
            )));
        }
    }
    let row = NumberStateRow {
        number: number.number.to_string(),
        state: next.as_str().to_owned(),
        reason: change.reason,
        actor: "admin".to_owned(),
        at: state.clock.now().0,
    };
    let event = (from != next).then(|| {
        let changed =
            Event::NumberStateChanged { number: number.number.clone(), from, to: next, reason: row.reason.clone() };
        event_json::row(&changed, None, None, Timestamp(row.at))
    });
    state.store.set_number_state(&row, event.as_ref()).await?;
    tracing::info!(number = %number.number, from = from.as_str(), to = next.as_str(), "number state changed");
    Ok(Json(view(&state, std::slice::from_ref(&number)).await?.remove(0)))
}
