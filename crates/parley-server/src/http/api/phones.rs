//! `DELETE /api/v1/phones/{e164}`: admins erase everything Parley stores about one consumer phone on
//! the consumer's request (messages both ways on every number, media, chats and their events, consent
//! and its ledger, the simulator's thread). What stays is a tombstone keyed by a salted hash of the
//! number, so that a phone that opted out stays opted out.
//!
//! A phone with a live chat is refused (409, naming the chat) rather than cut off: an agent may be in
//! the middle of the conversation, and ending it sends the consumer the closing message. End the chat
//! (`POST /api/v1/chats/{id}/end`), then erase.

use axum::Json;
use axum::extract::State;
use parley_core::phone::E164;
use parley_store::erasure::ErasureReport;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;

/// What an erasure deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneErased {
    /// The phone, E.164.
    pub phone: String,
    pub deleted: ErasedCounts,
    /// Whether the phone stays opted out: the tombstone keeps its STOP until it texts START again.
    pub opted_out: bool,
}

/// Rows deleted, by kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedCounts {
    /// Messages to and from the phone, on every number.
    pub messages: u64,
    /// Media the phone sent, with its stored bytes.
    pub media: u64,
    /// Events of its chats, and events naming its messages.
    pub events: u64,
    pub chats: u64,
    /// The simulator's thread of the phone.
    pub sim_messages: u64,
    /// The consent state (0 or 1).
    pub consents: u64,
    /// The consent history.
    pub consent_ledger: u64,
    /// Delivery receipts waiting for the phone's messages.
    pub pending_receipts: u64,
}

impl PhoneErased {
    fn new(phone: &E164, r: ErasureReport) -> PhoneErased {
        PhoneErased {
            phone: phone.to_string(),
            deleted: ErasedCounts {
                messages: r.messages,
                media: r.media,
                events: r.events,
                chats: r.chats,
                sim_messages: r.sim_messages,
                consents: r.consents,
                consent_ledger: r.consent_ledger,
                pending_receipts: r.pending_receipts,
            },
            opted_out: r.opted_out,
        }
    }
}

/// Erases everything stored about a phone, keeping only a hashed tombstone that honors its opt-out.
#[utoipa::path(delete, path = "/api/v1/phones/{e164}", tag = "privacy",
    params(("e164" = String, Path, description = "The phone, E.164 (`+14155550100`; `%2B` for the plus works too)")),
    responses((status = 200, body = PhoneErased), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "nothing is stored about the phone", body = ErrorBody),
              (status = 409, description = "the phone has a live chat: end it first", body = ErrorBody),
              (status = 422, description = "not an E.164 number", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn erase_phone(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(e164): ApiPath<String>,
) -> Result<Json<PhoneErased>, ApiError> {
    who.require_admin()?;
    let phone = E164::parse(&e164).map_err(|e| ApiError::invalid(e.to_string()))?;
    let report = state.engine.erase_phone(phone.clone(), "api:admin").await?;
    if report.is_empty() {
        return Err(ApiError::not_found(format!("nothing is stored about {phone}")));
    }
    Ok(Json(PhoneErased::new(&phone, report)))
}
