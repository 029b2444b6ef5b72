//! `/api/v1/phones/{e164}/consent`: a phone's consent state and its full history (every opt-in notice,
//! opt-out and opt-in, with keyword, number, source and time), and opt-ins or opt-outs the consumer gave
//! outside SMS (a web form, a signed paper form, a call), recorded with their source.
//!
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
use parley_core::phone::{BusinessNumber, E164};
use parley_store::erasure::ErasureReport;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::clock::rfc3339;
use crate::engine::ConsentRequest;
use crate::http::api::audit::record_read;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::privacy::phone_hash;

/// A phone's consent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub phone: String,
    /// Whether nothing but an opt-out confirmation may be sent to the phone (on any number).
    pub opted_out: bool,
    /// Whether the opt-in notice has reached the phone.
    pub notice_sent: bool,
    /// The phone's data was erased; only its hashed opt-out is kept.
    pub erased: bool,
    /// Every change, oldest first.
    pub history: Vec<ConsentChangeView>,
}

/// One change of a phone's consent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentChangeView {
    /// notice_sent, opted_out or opted_in.
    pub change: String,
    /// The keyword the consumer texted (STOP, START, ...); none for notices and API records.
    pub keyword: Option<String>,
    /// The business number it came through or was given for.
    pub number: String,
    /// "sms", "agent", "api: <source>"...
    pub source: String,
    pub at: String,
}

/// A consent the consumer gave outside SMS.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// "opt_in" or "opt_out".
    pub action: String,
    /// The business number the consent was given for, E.164 (a number of the setup).
    pub number: String,
    /// Where and how it was given, kept as evidence: "web form https://example.com/sms 2026-11-02",
    /// "paper form #1234". Required.
    pub source: String,
}

/// The longest `source` kept.
const MAX_SOURCE_CHARS: usize = 500;

async fn consent_view(state: &AppState, phone: &E164) -> Result<ConsentView, ApiError> {
    let current = state.store.consents(&[phone.to_string()]).await?.into_iter().next();
    let history = state.store.consent_ledger(phone.as_str()).await?;
    let erased = match current {
        Some(_) => false,
        None => {
            let hash = phone_hash(state.config.privacy_secret_or_default().expose(), phone);
            state.store.erased_opt_out(&hash).await?
        }
    };
    Ok(ConsentView {
        phone: phone.to_string(),
        opted_out: current.as_ref().map_or(erased, |c| c.opted_out),
        notice_sent: current.as_ref().is_some_and(|c| c.notice_sent),
        erased,
        history: history
            .into_iter()
            .map(|e| ConsentChangeView {
                change: e.change,
                keyword: e.keyword,
                number: e.number,
                source: e.source,
                at: rfc3339(e.at),
            })
            .collect(),
    })
}

/// A phone's consent state and history.
#[utoipa::path(get, path = "/api/v1/phones/{e164}/consent", tag = "privacy",
    params(("e164" = String, Path, description = "The phone, E.164")),
    responses((status = 200, body = ConsentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "not an E.164 number", body = ErrorBody)),
    security(("bearer" = ["chats:read"]), ("bearer" = ["consent:write"])))]
pub async fn get_consent(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(e164): ApiPath<String>,
) -> Result<Json<ConsentView>, ApiError> {
    who.require_admin()?;
    let phone = E164::parse(&e164).map_err(|e| ApiError::invalid(e.to_string()))?;
    // The audit log names the phone by its tombstone hash, so that erasing the phone leaves no trace
    // of its number there either.
    let hash = phone_hash(state.config.privacy_secret_or_default().expose(), &phone);
    record_read(&state, &who, None, &format!("consent:{hash}")).await?;
    Ok(Json(consent_view(&state, &phone).await?))
}

/// Records an opt-in or opt-out the consumer gave outside SMS. An opt-out ends the phone's live chats
/// at once, as STOP does; an opt-in lifts an opt-out. Recording the state the phone is already in
/// changes nothing.
#[utoipa::path(post, path = "/api/v1/phones/{e164}/consent", tag = "privacy",
    params(("e164" = String, Path, description = "The phone, E.164")), request_body = NewConsent,
    responses((status = 200, body = ConsentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = ["consent:write"])))]
pub async fn post_consent(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(e164): ApiPath<String>,
    ApiJson(body): ApiJson<NewConsent>,
) -> Result<Json<ConsentView>, ApiError> {
    who.require_admin()?;
    let phone = E164::parse(&e164).map_err(|e| ApiError::invalid(e.to_string()))?;
    let opted_in = match body.action.as_str() {
        "opt_in" => true,
        "opt_out" => false,
        other => return Err(ApiError::invalid(format!("action \"{other}\": use opt_in or opt_out"))),
    };
    let number = BusinessNumber::parse(&body.number).map_err(|e| ApiError::invalid(format!("number: {e}")))?;
    if state.engine.setup().number(&number).is_none() {
        return Err(ApiError::invalid(format!("number: {number} is not a number of the setup")));
    }
    let source = body.source.trim();
    if source.is_empty() {
        return Err(ApiError::invalid(
            "source: say where the consent was given (a form's URL, a document's reference)",
        ));
    }
    if source.chars().count() > MAX_SOURCE_CHARS {
        return Err(ApiError::invalid(format!("source: at most {MAX_SOURCE_CHARS} characters")));
    }
    let request = ConsentRequest { phone: phone.clone(), number, opted_in, source: source.to_owned() };
    state.engine.record_consent(request).await?;
    Ok(Json(consent_view(&state, &phone).await?))
}

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
    /// Contacts the phone was removed from (each a `contact.erased` event for the CRM connectors).
    pub contacts_changed: u64,
    /// Of those, the contacts deleted because nothing was left of them.
    pub contacts_deleted: u64,
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
                contacts_changed: r.contacts_changed,
                contacts_deleted: r.contacts_deleted,
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
