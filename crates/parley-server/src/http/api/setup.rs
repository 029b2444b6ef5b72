//! `GET/PUT /api/v1/setup`: the whole contact-center setup as one document, applied atomically.

use axum::Json;
use axum::extract::State;
use parley_core::setup::Setup;

use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiJson;
use crate::setup_doc::SetupDocument;

/// The setup in force.
#[utoipa::path(get, path = "/api/v1/setup", tag = "setup",
    responses((status = 200, body = SetupDocument), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_setup(State(state): State<AppState>, who: Principal) -> Result<Json<SetupDocument>, ApiError> {
    who.require_admin()?;
    Ok(Json(SetupDocument::from_setup(&state.engine.setup())))
}

/// Validates a setup document as a whole and, if every part is valid, puts it in force at once.
#[utoipa::path(put, path = "/api/v1/setup", tag = "setup", request_body = SetupDocument,
    responses((status = 200, body = SetupDocument), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "the document names every problem", body = ErrorBody)),
    security(("bearer" = [])))]
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

/// Validates a document against this server's carriers; a 422 lists every problem.
pub fn validate(state: &AppState, doc: &SetupDocument) -> Result<Setup, ApiError> {
    let carriers = state.config.carrier_names();
    let carriers: Vec<&str> = carriers.iter().map(String::as_str).collect();
    Setup::validate(&doc.to_draft(), &carriers).map_err(|problems| {
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        ApiError::invalid(format!("the setup was not applied: {}", all.join("; ")))
    })
}
