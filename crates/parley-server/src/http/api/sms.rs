//! `POST /api/v1/sms/segments`: how a text would travel as SMS, so the console can show the count
//! while an agent types.

use axum::Json;
use parley_core::message::MAX_BODY_CHARS;
use parley_core::text::segment::{self, Encoding};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiJson;

/// A text to measure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentQuery {
    pub body: String,
}

/// How the text would be sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct Segments {
    /// "gsm7" when every character is in the GSM 03.38 alphabet, else "ucs2".
    pub encoding: String,
    /// Septets (GSM-7; extension characters such as € count 2) or UTF-16 units (UCS-2; emoji count 2).
    pub units: usize,
    /// How many SMS the text takes (160/153 per part in GSM-7, 70/67 in UCS-2).
    pub segments: usize,
    /// Units per segment at this length.
    pub per_segment_limit: usize,
    pub characters: usize,
    /// Characters that force UCS-2 (each listed once), so the agent can replace them.
    pub non_gsm_characters: Vec<String>,
}

/// Counts the segments of a text.
#[utoipa::path(post, path = "/api/v1/sms/segments", tag = "sms", request_body = SegmentQuery,
    responses((status = 200, body = Segments), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = ["sms:send"]), ("bearer" = ["chats:write"])))]
pub async fn segments(_who: Principal, ApiJson(q): ApiJson<SegmentQuery>) -> Result<Json<Segments>, ApiError> {
    let characters = q.body.chars().count();
    if characters > MAX_BODY_CHARS {
        return Err(ApiError::invalid(format!("the text has {characters} characters; the limit is {MAX_BODY_CHARS}")));
    }
    let info = segment::count(&q.body);
    let mut non_gsm: Vec<String> = Vec::new();
    for c in q.body.chars() {
        if parley_core::text::gsm7::septets(c).is_none() && !non_gsm.iter().any(|s| s.starts_with(c)) {
            non_gsm.push(c.to_string());
        }
    }
    Ok(Json(Segments {
        encoding: encoding_name(info.encoding).to_owned(),
        units: info.units,
        segments: info.segments,
        per_segment_limit: info.per_segment_limit,
        characters,
        non_gsm_characters: non_gsm,
    }))
}

/// An encoding as the API names it, here and in the answers of sends.
pub(crate) fn encoding_name(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Gsm7 => "gsm7",
        Encoding::Ucs2 => "ucs2",
    }
}
