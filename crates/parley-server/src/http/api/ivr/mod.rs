//! `/api/v1/ivr/...`: the open API any IVR calls (docs/ivr.md). The IVR reports its calls and their
//! states (`calls.rs`), asks whether to offer a waiting caller SMS and reports the answer
//! (`deflection.rs`) and to the wait-time SMS (`wait_sms.rs`), and reads its voice queues' estimated
//! wait (`queues.rs`); the call's SMS thread, which the agent texts the caller in, is `thread.rs`. Parley carries no
//! voice; it stores each call, writes its events (`call.*`, docs/events.md) and carries the SMS half.
//!
//! Who: the IVR with an admin token or a key with the `ivr` scope; supervisors read calls and queues.

pub mod calls;
pub mod deflection;
pub mod queues;
pub mod thread;
pub mod wait_sms;

use parley_core::event::Event;
use parley_core::ids::QueueId;
use parley_core::setup::Setup;
use parley_core::setup::ivr::IvrQueue;
use parley_store::calls::CallRow;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::error::ApiError;
use crate::http::event_json;

/// The IVR API, with its OpenAPI paths and tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(IvrDoc::openapi())
        .routes(routes!(calls::create_call, calls::list_calls))
        .routes(routes!(calls::get_call, calls::update_call))
        .routes(routes!(deflection::ask_deflection))
        .routes(routes!(deflection::accept_deflection))
        .routes(routes!(deflection::decline_deflection))
        .routes(routes!(queues::list_ivr_queues))
        .routes(routes!(queues::ivr_queue_ewt))
        .routes(routes!(wait_sms::wait_sms))
        .routes(routes!(thread::send_call_message, thread::call_thread))
}

#[derive(OpenApi)]
#[openapi(tags((name = "ivr", description = "The phone IVR: its calls, pre-session deflection to SMS, voice queues' estimated wait")))]
struct IvrDoc;

/// A call as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub call_id: String,
    /// E.164 of the caller, and of the voice number they dialed.
    pub caller: String,
    pub dialed: String,
    /// Whether the caller's phone takes SMS, as the IVR said (null: not known).
    pub caller_mobile: Option<bool>,
    pub ivr_queue: String,
    pub language: Option<String>,
    /// `started`, `queued`, `over_capacity`, `connected` or `ended`.
    pub status: String,
    /// The place in line the IVR last reported.
    pub position: Option<u32>,
    pub agent_id: Option<String>,
    /// Why it ended, as the IVR said, or `deflected` (the caller moved to SMS).
    pub end_reason: Option<String>,
    /// Pre-session deflection: `offered`, `accepted` or `declined` (null: never offered).
    pub deflection: Option<String>,
    /// The SMS chat an accepted deflection started.
    pub sms_chat_id: Option<String>,
    /// The call's SMS thread (the wait-time SMS, SMS during the call): its chat, once it has one.
    pub thread_chat_id: Option<String>,
    /// The caller's answer to the wait-time SMS: `sent` or `declined` (null: not asked).
    pub wait_sms: Option<String>,
    pub started_at: String,
    pub queued_at: Option<String>,
    pub connected_at: Option<String>,
    pub ended_at: Option<String>,
}

impl From<&CallRow> for CallView {
    fn from(c: &CallRow) -> CallView {
        CallView {
            call_id: c.id.clone(),
            caller: c.caller.clone(),
            dialed: c.dialed.clone(),
            caller_mobile: c.caller_mobile,
            ivr_queue: c.ivr_queue.clone(),
            language: c.language.clone(),
            status: c.status.as_str().to_owned(),
            position: c.position,
            agent_id: c.agent.clone(),
            end_reason: c.end_reason.clone(),
            deflection: c.deflection.clone(),
            sms_chat_id: c.sms_chat_id.clone(),
            thread_chat_id: c.thread_chat_id.clone(),
            wait_sms: c.wait_sms.clone(),
            started_at: rfc3339(c.started_at),
            queued_at: c.queued_at.map(rfc3339),
            connected_at: c.connected_at.map(rfc3339),
            ended_at: c.ended_at.map(rfc3339),
        }
    }
}

/// The stored call, or 404.
async fn stored_call(state: &AppState, id: &str) -> Result<CallRow, ApiError> {
    state.store.call(id).await?.ok_or_else(|| ApiError::not_found(format!("there is no call {id}")))
}

/// The voice queue of a call, if the setup still has it.
fn ivr_queue_of<'a>(setup: &'a Setup, call: &CallRow) -> Option<&'a IvrQueue> {
    QueueId::parse(&call.ivr_queue).ok().and_then(|q| setup.ivr_queue(&q))
}

/// A call event as stored: of no chat.
fn call_event(state: &AppState, event: &Event) -> parley_store::rows::EventRow {
    event_json::row(event, None, None, state.clock.now())
}
