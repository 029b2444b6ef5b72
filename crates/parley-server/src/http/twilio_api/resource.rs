//! The Message resource as Twilio's API shows it, made from Parley's message rows: its SID, its
//! status in Twilio's words, its dates in RFC 2822.
//!
//! A message's SID is `SM` and the 32 hex digits of its Parley id (a UUID), so it is reversible and
//! needs no table: [`sid_of`] and [`message_id_of`] are each other's inverse.

use parley_core::message::MessageStatus;
use parley_core::text::segment;
use parley_store::rows::{MessageRow, StatusChangeRow};
use serde::Serialize;
use utoipa::ToSchema;

/// The version every path and resource names.
pub const API_VERSION: &str = "2010-04-01";

/// A message's links to what belongs to it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubresourceUris {
    pub media: String,
}

/// A message, in the shape of Twilio's Message resource. Counts are strings, as Twilio sends them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageResource {
    /// `SM` and 32 hex digits.
    pub sid: String,
    pub account_sid: String,
    pub api_version: String,
    pub to: String,
    pub from: String,
    pub body: String,
    /// accepted, scheduled, queued, sending, sent, delivered, undelivered, failed or canceled.
    pub status: String,
    pub num_segments: String,
    pub num_media: String,
    /// Always `outbound-api`: the API lists and shows only the messages the API sends.
    pub direction: String,
    /// RFC 2822.
    pub date_created: String,
    pub date_updated: String,
    /// When the carrier took it (RFC 2822); null before.
    pub date_sent: Option<String>,
    /// Twilio's code of why it failed: the carrier's own when it gave one, 21610 for a consumer who
    /// opted out before it left, else 30008 (unknown error).
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    /// Parley does not price messages: always null.
    pub price: Option<String>,
    pub price_unit: String,
    pub messaging_service_sid: Option<String>,
    pub uri: String,
    pub subresource_uris: SubresourceUris,
}

/// The SID of a Parley message id.
pub fn sid_of(message_id: &str) -> String {
    match uuid::Uuid::parse_str(message_id) {
        Ok(id) => format!("SM{}", id.simple()),
        // Parley makes every message id as a UUID; a foreign id still gets a SID, which fetching by it
        // will not find.
        Err(_) => format!("SM{:0>32}", message_id.chars().filter(char::is_ascii_hexdigit).take(32).collect::<String>()),
    }
}

/// The Parley message id a SID stands for.
pub fn message_id_of(sid: &str) -> Option<String> {
    let hex = sid.strip_prefix("SM")?;
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    uuid::Uuid::parse_str(hex).ok().map(|id| id.hyphenated().to_string())
}

/// A time as RFC 2822 in UTC, the way Twilio writes it: `Wed, 02 Dec 2026 14:12:15 +0000`.
pub fn rfc2822(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S +0000").to_string())
        .unwrap_or_default()
}

/// Parley's status in Twilio's words. A suppressed message (the consumer opted out before it left)
/// failed; the other statuses have the same name.
pub fn status_of(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Suppressed => "failed",
        other => other.as_str(),
    }
}

/// Twilio's error code for a message that failed: the carrier's numeric code if the timeline has one.
fn error_code(m: &MessageRow, timeline: &[&StatusChangeRow]) -> Option<u32> {
    match m.status {
        MessageStatus::Suppressed => Some(21610),
        MessageStatus::Failed | MessageStatus::Undelivered => Some(
            timeline
                .iter()
                .rev()
                .find_map(|c| c.carrier_code.as_deref().and_then(|code| code.parse::<u32>().ok()))
                .unwrap_or(30008),
        ),
        _ => None,
    }
}

/// The resource of `m`, with its timeline (`timeline`: its status changes, oldest first) and the
/// campaign it was sent with.
pub fn resource(
    account_sid: &str,
    m: &MessageRow,
    timeline: &[&StatusChangeRow],
    messaging_service_sid: Option<String>,
) -> MessageResource {
    let sid = sid_of(&m.id);
    let uri = format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json");
    let sent_at = timeline
        .iter()
        .find(|c| matches!(c.status, MessageStatus::Sent | MessageStatus::Delivered | MessageStatus::Undelivered))
        .map(|c| c.at);
    let media = m.media.lines().filter(|l| !l.trim().is_empty()).count();
    MessageResource {
        account_sid: account_sid.to_owned(),
        api_version: API_VERSION.to_owned(),
        to: m.consumer.clone(),
        from: m.number.clone(),
        body: m.body.clone(),
        status: status_of(m.status).to_owned(),
        num_segments: segment::count(&m.body).segments.to_string(),
        num_media: media.to_string(),
        direction: "outbound-api".to_owned(),
        date_created: rfc2822(m.created_at),
        date_updated: rfc2822(m.updated_at),
        date_sent: sent_at.map(rfc2822),
        error_code: error_code(m, timeline),
        error_message: m.error.clone().filter(|_| error_code(m, timeline).is_some()),
        price: None,
        price_unit: "USD".to_owned(),
        messaging_service_sid,
        subresource_uris: SubresourceUris {
            media: format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json"),
        },
        uri,
        sid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_map_message_ids_both_ways() {
        let id = uuid::Uuid::now_v7().to_string();
        let sid = sid_of(&id);
        assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
        assert_eq!(message_id_of(&sid).as_deref(), Some(id.as_str()));
        assert_eq!(message_id_of("SMnot-hex"), None);
        assert_eq!(message_id_of(&sid.replacen("SM", "MM", 1)), None);
    }

    #[test]
    fn dates_are_rfc_2822_as_twilio_writes_them() {
        // 2026-12-02T14:12:05Z
        assert_eq!(rfc2822(1_796_220_725_000), "Wed, 02 Dec 2026 14:12:05 +0000");
    }
}
