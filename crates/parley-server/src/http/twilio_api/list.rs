//! `GET /2010-04-01/Accounts/{AccountSid}/Messages.json`: the messages this API sent, newest first, in
//! Twilio's pages (not those of Parley's own outbound API, nor the opt-in notices the engine sends
//! before a first message).
//!
//! Filters: `To`, `From`, and `DateSent` (that UTC day), `DateSent<` (on or before that day),
//! `DateSent>` (on or after that day). Dates are `YYYY-MM-DD`, or a date and time (Twilio's helpers send
//! `YYYY-MM-DDTHH:MM:SSZ`), of which only the UTC day counts, as in Twilio's own filters. Parley filters
//! on when the message was accepted: for a message sent at once, the day it was sent.
//!
//! Paging: `PageSize` (default 50, at most 1000) and `Page` (0 first) as Twilio has them; the
//! `next_page_uri` and `previous_page_uri` carry a `PageToken` (`PA…` / `PB…`, Parley's own) that
//! continues after the last (or before the first) message of the page, so pages stay consistent while
//! new messages arrive. Without a token, `Page` counts pages from the newest message.

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use parley_store::twilio::SentFilter;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::twilio_api::TwilioCaller;
use crate::http::twilio_api::error::{TwilioCode, TwilioError, TwilioErrorBody};
use crate::http::twilio_api::resource::{API_VERSION, MessageResource};

const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 1000;
const DAY_MS: i64 = 86_400_000;

/// A page of messages, in Twilio's list shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<MessageResource>,
    pub page: i64,
    pub page_size: i64,
    pub first_page_uri: String,
    pub next_page_uri: Option<String>,
    pub previous_page_uri: Option<String>,
    pub uri: String,
    /// The position of the page's first message in the whole list.
    pub start: i64,
    /// The position of its last.
    pub end: i64,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Messages older than this `seq`.
    After(i64),
    /// Messages newer than this `seq` (the page before).
    Before(i64),
}

impl Token {
    fn parse(text: &str) -> Option<Token> {
        let (kind, seq) = text.split_at_checked(2)?;
        let seq = seq.parse::<i64>().ok()?;
        match kind {
            "PA" => Some(Token::After(seq)),
            "PB" => Some(Token::Before(seq)),
            _ => None,
        }
    }

    fn render(self) -> String {
        match self {
            Token::After(seq) => format!("PA{seq}"),
            Token::Before(seq) => format!("PB{seq}"),
        }
    }
}

/// The request's query, read as Twilio's parameters.
#[derive(Debug, Default)]
struct Query {
    /// The filters, as given, to repeat in the page URIs.
    filters: Vec<(String, String)>,
    to: Option<String>,
    from: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    page: i64,
    page_size: i64,
    token: Option<Token>,
}

fn bad(message: String) -> TwilioError {
    TwilioError::invalid(TwilioCode::BadRequest, message)
}

/// The UTC day (its start, epoch ms) of a `DateSent` value.
fn day_of(name: &str, value: &str) -> Result<i64, TwilioError> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(value).ok().map(|t| t.naive_utc().date()))
        .or_else(|| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").ok().map(|t| t.date()))
        .ok_or_else(|| bad(format!("{name}: \"{value}\" is not a date (YYYY-MM-DD)")))?;
    Ok(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or_default())
}

fn number(name: &str, value: &str, max: i64) -> Result<i64, TwilioError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=max).contains(n))
        .ok_or_else(|| bad(format!("{name}: \"{value}\" must be a whole number from 0 to {max}")))
}

impl Query {
    fn parse(raw: Option<&str>) -> Result<Query, TwilioError> {
        let mut q = Query { page_size: DEFAULT_PAGE_SIZE, ..Query::default() };
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let (name, value) = (name.into_owned(), value.into_owned());
            match name.as_str() {
                "To" => q.to = Some(value.clone()),
                "From" => q.from = Some(value.clone()),
                "DateSent" => {
                    let day = day_of(&name, &value)?;
                    q.since = Some(q.since.map_or(day, |s| s.max(day)));
                    q.until = Some(q.until.map_or(day + DAY_MS, |u| u.min(day + DAY_MS)));
                }
                "DateSent>" => {
                    let day = day_of(&name, &value)?;
                    q.since = Some(q.since.map_or(day, |s| s.max(day)));
                }
                "DateSent<" => {
                    let day = day_of(&name, &value)?;
                    q.until = Some(q.until.map_or(day + DAY_MS, |u| u.min(day + DAY_MS)));
                }
                "PageSize" => {
                    q.page_size = number(&name, &value, MAX_PAGE_SIZE)?.max(1);
                    continue;
                }
                "Page" => {
                    q.page = number(&name, &value, i64::from(u32::MAX))?;
                    continue;
                }
                "PageToken" => {
                    q.token = Some(
                        Token::parse(&value)
                            .ok_or_else(|| bad(format!("PageToken: \"{value}\" is not a page token of this list")))?,
                    );
                    continue;
                }
                _ => continue,
            }
            q.filters.push((name, value));
        }
        Ok(q)
    }

    /// The list's URI with the filters and these paging parameters.
    fn uri(&self, base: &str, page: i64, token: Option<Token>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.filters {
            query.append_pair(name, value);
        }
        query.append_pair("PageSize", &self.page_size.to_string());
        query.append_pair("Page", &page.to_string());
        if let Some(token) = token {
            query.append_pair("PageToken", &token.render());
        }
        format!("{base}?{}", query.finish())
    }
}

/// The messages the API sent, as Twilio's `messages.list()` / `messages.page()`.
#[utoipa::path(get, path = "/2010-04-01/Accounts/{AccountSid}/Messages.json", operation_id = "twilio_list_messages",
    tag = "twilio",
    params(("AccountSid" = String, Path, description = "the deployment's account SID (AC…)"),
           ("To" = Option<String>, Query), ("From" = Option<String>, Query),
           ("DateSent" = Option<String>, Query, description = "YYYY-MM-DD: that UTC day; `DateSent<` on or before, `DateSent>` on or after"),
           ("PageSize" = Option<i64>, Query, description = "default 50, at most 1000"),
           ("Page" = Option<i64>, Query), ("PageToken" = Option<String>, Query)),
    responses((status = 200, body = MessagePage),
              (status = 400, description = "code 400: a malformed parameter", body = TwilioErrorBody),
              (status = 401, description = "code 20003", body = TwilioErrorBody),
              (status = 403, description = "code 20403: the key lacks sms:send", body = TwilioErrorBody),
              (status = 404, description = "code 20404: another AccountSid", body = TwilioErrorBody)),
    security(("basic" = ["sms:send"])))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: TwilioCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<MessagePage>, TwilioError> {
    let q = Query::parse(raw.as_deref())?;
    let base = format!("/{API_VERSION}/Accounts/{}/Messages.json", caller.account_sid);
    let mut filter = SentFilter {
        to: q.to.clone(),
        from: q.from.clone(),
        since: q.since,
        until: q.until,
        // One more than a page says whether another follows.
        limit: q.page_size + 1,
        ..SentFilter::default()
    };
    match q.token {
        Some(Token::After(seq)) => filter.before_seq = Some(seq),
        Some(Token::Before(seq)) => filter.after_seq = Some(seq),
        None => filter.offset = q.page.saturating_mul(q.page_size),
    }
    let mut rows = state.store.twilio_sent(&filter).await?;
    let more = rows.len() as i64 > q.page_size;
    rows.truncate(q.page_size as usize);
    // Going back, the rows came oldest first from the page's start; more means an earlier page.
    let (older, newer) = match q.token {
        Some(Token::Before(_)) => (true, more),
        _ => (more, q.page > 0),
    };
    if matches!(q.token, Some(Token::Before(_))) {
        rows.reverse();
    }
    let next = older.then(|| rows.last().map(|m| q.uri(&base, q.page + 1, Some(Token::After(m.seq))))).flatten();
    let previous = (newer && q.page > 0)
        .then(|| rows.first().map(|m| q.uri(&base, q.page - 1, Some(Token::Before(m.seq)))))
        .flatten();
    let messages = crate::http::twilio_api::show(&state, &caller, &rows).await?;
    let start = q.page * q.page_size;
    Ok(Json(MessagePage {
        page: q.page,
        page_size: q.page_size,
        first_page_uri: q.uri(&base, 0, None),
        next_page_uri: next,
        previous_page_uri: previous,
        uri: q.uri(&base, q.page, q.token),
        start,
        end: start + (messages.len() as i64 - 1).max(0),
        messages,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_others_are_refused() {
        for token in [Token::After(42), Token::Before(7)] {
            assert_eq!(Token::parse(&token.render()), Some(token));
        }
        assert_eq!(Token::parse("PX1"), None);
        assert_eq!(Token::parse("PA"), None);
    }

    #[test]
    fn date_filters_take_the_utc_day() {
        let q = Query::parse(Some("DateSent%3E=2026-12-01&DateSent%3C=2026-12-02T00:00:00Z")).unwrap();
        let dec1 = day_of("d", "2026-12-01").unwrap();
        assert_eq!(q.since, Some(dec1));
        assert_eq!(q.until, Some(dec1 + 2 * DAY_MS), "on or before the 2nd: until the 3rd begins");
        assert!(Query::parse(Some("DateSent=yesterday")).is_err());
        assert!(Query::parse(Some("PageSize=1001")).is_err());
    }
}
