//! The HTTP server: one router for the API, the simulator, health and metrics. Only this module knows
//! HTTP and JSON. Errors are made once, as JSON (`error.rs`); on browser paths a layer
//! (`console::html_errors`) shows them as pages instead.

pub mod api;
pub mod auth;
pub mod console;
pub mod error;
pub mod event_json;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod openapi;
pub mod reference;
pub mod scope;
pub mod session;
pub mod sim;
pub mod twilio_api;
pub mod webhooks;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::error::{ApiError, ErrorCode};

/// The routes of the API, each with its OpenAPI operation (`routes!` takes the path from the handler's
/// annotation, so a route and its documentation cannot part), plus the console's and the simulator's
/// pages, which are not API and so not documented. `sim`: the simulator's routes are served.
fn api_routes(sim: bool) -> OpenApiRouter<AppState> {
    let mut api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(api::setup::get_setup, api::setup::put_setup))
        .routes(routes!(api::setup::preview))
        .routes(routes!(api::tokens::create_token, api::tokens::list_tokens))
        .routes(routes!(api::tokens::revoke_token))
        .routes(routes!(api::me::get_me))
        .routes(routes!(api::me::put_status))
        .routes(routes!(api::my_numbers::my_numbers))
        .routes(routes!(api::stats::my_stats))
        .routes(routes!(api::stats::agent_stats))
        .routes(routes!(api::monitor::list_agents))
        .routes(routes!(api::monitor::list_queues))
        .routes(routes!(api::reports::report))
        .routes(routes!(api::live::live_chats))
        .routes(routes!(api::chats::list_chats))
        .routes(routes!(api::chats::get_chat))
        .routes(routes!(api::chats::accept))
        .routes(routes!(api::chats::send_message))
        .routes(routes!(api::replies::list_replies))
        .routes(routes!(api::replies::send_reply))
        .routes(routes!(api::chats::end))
        .routes(routes!(api::dismissal::dismiss))
        .routes(routes!(api::dismissal::resume))
        .routes(routes!(api::queue_settings::queue_settings))
        .routes(routes!(api::ewt::queue_ewt))
        .routes(routes!(api::chats::transcript))
        .routes(routes!(api::chat_export::export_zip))
        .routes(routes!(api::contacts_csv::export_csv))
        .routes(routes!(api::messages::scheduled))
        .routes(routes!(api::messages::get_message, api::messages::cancel_message))
        .routes(routes!(api::messages::resend_message))
        .routes(routes!(api::notes::add_note))
        .routes(routes!(api::transfers::transfer))
        .routes(routes!(api::transfers::accept))
        .routes(routes!(api::transfers::decline))
        .routes(routes!(api::events::events))
        .routes(routes!(api::sms::segments))
        .routes(routes!(api::media::get_media))
        .routes(upload_route())
        .routes(routes!(api::phones::erase_phone))
        .routes(routes!(api::threads::phone_chats))
        .routes(routes!(api::threads::chat_thread))
        .routes(routes!(api::phones::get_consent, api::phones::post_consent))
        .routes(routes!(api::outbound::start_chat))
        .routes(routes!(api::outbound::send_message))
        .routes(routes!(api::outbound::get_message))
        .routes(routes!(api::audit::list_reads))
        .routes(routes!(api::numbers::list_numbers))
        .routes(routes!(api::numbers::get_number))
        .routes(routes!(api::numbers::set_state))
        .routes(routes!(twilio_api::create_message, twilio_api::list::list_messages))
        .routes(routes!(twilio_api::fetch_message))
        .merge(session::routes())
        .merge(api::users::routes())
        .merge(api::blocklist::routes())
        .merge(api::event_webhooks::routes())
        .merge(api::crm::routes())
        .merge(api::contacts::routes())
        .merge(api::ivr::routes())
        .merge(api::app_sessions::routes())
        .merge(console::routes());
    if sim {
        api = api
            .routes(routes!(sim::post_message))
            .routes(routes!(sim::phone_messages))
            .routes(routes!(sim::phone_thread))
            .routes(routes!(sim::numbers))
            .route("/sim/phone", get(sim::phone_page));
    }
    api
}

/// `POST /api/v1/media` with a body limit of its own: a file of up to 5 MiB and its multipart framing,
/// where every other route keeps axum's default.
fn upload_route() -> utoipa_axum::router::UtoipaMethodRouter<AppState> {
    let (schemas, paths, method_router) = routes!(api::media::upload_media);
    (schemas, paths, method_router.layer(DefaultBodyLimit::max(api::media::UPLOAD_BODY_LIMIT)))
}

/// The OpenAPI document a server serves at `/api/v1/openapi.json` (`sim`: one running the simulator).
/// `parley openapi` prints it, so CI can check it with a validator of its own.
pub fn openapi_document(sim: bool) -> utoipa::openapi::OpenApi {
    let mut doc = api_routes(sim).split_for_parts().1;
    openapi::complete(&mut doc);
    doc
}

/// The whole router, with its OpenAPI document served at `/api/v1/openapi.json`.
pub fn router(state: AppState) -> Router {
    let api = api_routes(state.config.sim);
    let (router, mut doc) = api.split_for_parts();
    openapi::complete(&mut doc);
    // The reference page is rendered once from the very document served as JSON.
    let page = match serde_json::to_value(&doc) {
        Ok(json) => reference::page(&json),
        Err(e) => format!("the OpenAPI document could not be rendered: {e}"),
    };
    let doc = Arc::new(doc);
    router
        .route("/api/v1/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .merge(reference::routes(Arc::new(page)))
        .route("/", get(health::index))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(webhooks::routes())
        // Where carriers fetch outbound media: signed URLs, no token (see `outbound_media`).
        .route("/media/{id}", get(api::media::get_signed_media))
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::not_found(format!(
                "no such endpoint: nothing at {}; the console is at /console, the API's reference at /api/v1 (the OpenAPI document at /api/v1/openapi.json)",
                uri.path()
            ))
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "this endpoint does not take that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(axum::middleware::from_fn(console::html_errors))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
