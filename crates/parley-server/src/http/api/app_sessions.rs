//! `POST /api/v1/app-sessions/{token}`: the business's app reports that it opened from an app-launch
//! link (docs/ivr.md "SMS to launch the app"). The signed token is the credential: the app holds no
//! API key, and a token names only its app and conversation. A forged token is 401, an expired or
//! reused one 410. An opened token writes `app.opened` and a line in the conversation's transcript
//! (the live chat or call thread between the phone and the number it was sent from), so the agent
//! sees "app opened" at once.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::chat::ChatStatus;
use parley_core::event::Event;
use parley_core::ids::ChatId;
use parley_store::app_sessions::AppSessionRow;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::app_tokens::{Refused, open};
use crate::clock::rfc3339;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::event_json;
use crate::http::extract::ApiPath;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(AppsDoc::openapi()).routes(routes!(app_opened))
}

#[derive(OpenApi)]
#[openapi(tags((name = "apps", description = "The business's mobile apps: reports of app-launch links opened")))]
struct AppsDoc;

/// The report, acknowledged.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppOpened {
    /// The app's id in the setup.
    pub app: String,
    pub opened_at: String,
}

/// The app opened from an app-launch link: reported once per token, with the token as credential (no
/// API key). The agent's chat or call shows it live.
#[utoipa::path(post, path = "/api/v1/app-sessions/{token}", tag = "apps", params(("token" = String, Path)),
    responses((status = 200, body = AppOpened),
              (status = 401, description = "the token was not made by this deployment, or was changed", body = ErrorBody),
              (status = 410, description = "the token expired, or opened already", body = ErrorBody)),
    security(()))]
pub async fn app_opened(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<AppOpened>, ApiError> {
    let now = state.clock.now();
    let claims = open(&state.media_signer, &token, now.0).map_err(|refused| match refused {
        Refused::Forged => ApiError::unauthorized(refused.to_string()),
        Refused::Expired => ApiError::new(StatusCode::GONE, ErrorCode::Gone, refused.to_string()),
    })?;
    let setup = state.engine.setup();
    let name = setup.app(&claims.app).map_or_else(|| claims.app.clone(), |a| a.name.clone());
    let chat = state
        .store
        .live_chats_of(std::slice::from_ref(&claims.consumer))
        .await?
        .into_iter()
        .find(|c| c.number == claims.number && c.status != ChatStatus::Finished);
    let call_id = chat.as_ref().and_then(|c| call_of(c.context.as_deref()));
    let event = Event::AppOpened { app: claims.app.clone(), call_id };
    let row = match &chat {
        Some(chat) => event_json::row_of_stored(&event, chat, now),
        None => event_json::row(&event, None, None, now),
    };
    let session = AppSessionRow {
        nonce: claims.nonce.clone(),
        app: claims.app.clone(),
        consumer: claims.consumer.clone(),
        number: claims.number.clone(),
        chat_id: chat.as_ref().map(|c| c.id.clone()),
        opened_at: now.0,
    };
    if !state.store.insert_app_session(&session, &[row]).await? {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::Gone,
            "this app link opened already: each link opens once; ask the agent for a new one",
        ));
    }
    state.bus.written();
    if let Some(chat) = chat {
        let line = format!("The consumer opened the app ({name}) from the link.");
        // The event is written; a chat that ended in between keeps no line, which loses nothing.
        if let Err(e) = state.engine.add_note(ChatId::new(chat.id.clone()), "system".to_owned(), line).await {
            tracing::warn!(chat = %chat.id, error = %e, "the app-opened line was not added");
        }
    }
    tracing::info!(app = %claims.app, "app opened from a launch link");
    Ok(Json(AppOpened { app: claims.app, opened_at: rfc3339(now.0) }))
}

/// The call a chat's context names (a call's thread, or a deflected chat).
fn call_of(context: Option<&str>) -> Option<String> {
    let context: serde_json::Value = serde_json::from_str(context?).ok()?;
    context.get("call_id")?.as_str().map(str::to_owned)
}
