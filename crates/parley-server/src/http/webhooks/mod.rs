//! Webhooks: the endpoints carriers call with inbound messages and delivery receipts, one module per
//! carrier protocol. They authenticate the carrier (a signature, not a bearer token), hand what came in
//! to the engine and answer only once it is committed, so a carrier that gets no answer delivers again.

pub mod twilio;
pub mod twilio_voice;

use axum::Router;

use crate::AppState;

/// Every webhook route.
pub fn routes() -> Router<AppState> {
    twilio::routes().merge(twilio_voice::routes())
}
