//! The forms Twilio posts to us: an inbound message (`MessageSid`, `From`, `To`, `Body`, `NumMedia`,
//! `MediaUrl{N}`, `MediaContentType{N}`, ...) and a status callback (`MessageSid`, `MessageStatus`,
//! `ErrorCode`, ...). Both parsers take the raw `application/x-www-form-urlencoded` body and ignore
//! fields they do not need, because Twilio adds fields without notice.
//!
//! Check the signature ([`super::signature`]) before parsing: these functions trust their input's origin.

use std::borrow::Cow;

use parley_core::phone::{BusinessNumber, BusinessNumberError, E164, PhoneError};

use crate::{DeliveryStatus, InboundMedia, InboundSms, Receipt};

/// Most media items one inbound message may carry (Twilio sends at most 10).
pub const MAX_MEDIA: usize = 10;

/// Longest provider id we accept; Twilio's are 34 characters.
const MAX_SID_LEN: usize = 128;

/// Why a webhook form cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A field the message cannot do without is absent or empty.
    #[error("the form has no {0} field; is the webhook URL pointing at the right endpoint?")]
    Missing(String),
    /// A field arrived more than once with different values, so it is unclear which one counts.
    #[error("the form carries {0} more than once, with different values")]
    Conflicting(String),
    /// The message id is longer than any carrier's.
    #[error("{field} is {len} characters long; a message id has at most {MAX_SID_LEN}")]
    SidTooLong { field: String, len: usize },
    /// `From` is not an E.164 number.
    #[error("{field}: {reason}")]
    BadNumber { field: String, reason: PhoneError },
    /// `To` is neither an E.164 number nor a short code.
    #[error("{field}: {reason}")]
    BadBusinessNumber { field: String, reason: BusinessNumberError },
    /// `NumMedia` is not a count.
    #[error("NumMedia \"{0}\" is not a count of media items")]
    BadNumMedia(String),
    /// More media than a message may carry.
    #[error("NumMedia is {0}, more than the {MAX_MEDIA} media items a message may carry")]
    TooManyMedia(usize),
    /// A media URL is not an http(s) URL.
    #[error("{field} \"{url}\" is not an http(s) URL")]
    BadMediaUrl { field: String, url: String },
    /// A status Parley does not track on sent messages: `receiving` and `received` belong to inbound
    /// messages, `partially_delivered` to group messages, and Twilio adds statuses over time. Callers
    /// acknowledge such a callback without storing anything, so that Twilio does not report an error.
    #[error("message status \"{0}\" is not one Parley tracks")]
    UntrackedStatus(String),
}

/// A Twilio Voice request: an incoming call, the digits a `<Gather>` collected, or a call status
/// callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceRequest {
    pub call_sid: String,
    pub from: E164,
    pub to: BusinessNumber,
    /// `queued`, `ringing`, `in-progress`, `completed`, `busy`, `failed`, `no-answer` or `canceled`.
    pub call_status: String,
    /// What the caller pressed, for a `<Gather>`'s action.
    pub digits: Option<String>,
}

impl VoiceRequest {
    /// Whether Twilio reports the call over.
    pub fn ended(&self) -> bool {
        matches!(self.call_status.as_str(), "completed" | "busy" | "failed" | "no-answer" | "canceled")
    }
}

/// Reads a Twilio Voice request.
pub fn parse_voice(body: &[u8]) -> Result<VoiceRequest, WebhookError> {
    let form = Form::parse(body);
    let call_sid = form.required("CallSid")?.trim().to_owned();
    let len = call_sid.chars().count();
    if len > MAX_SID_LEN {
        return Err(WebhookError::SidTooLong { field: "CallSid".to_owned(), len });
    }
    Ok(VoiceRequest {
        call_sid,
        from: form.number("From")?,
        to: form.business_number("To")?,
        call_status: form.get("CallStatus")?.unwrap_or_default().trim().to_owned(),
        digits: form.get("Digits")?.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()),
    })
}

/// Reads an inbound-message webhook into the message handed to the engine. `carrier` is the account
/// the webhook was addressed to.
pub fn parse_inbound(carrier: &str, body: &[u8]) -> Result<InboundSms, WebhookError> {
    let form = Form::parse(body);
    let provider_id = form.sid()?;
    let from = form.number("From")?;
    let to = form.business_number("To")?;
    let text = form.get("Body")?.unwrap_or_default().to_owned();
    let count = match form.get("NumMedia")? {
        None | Some("") => 0,
        Some(n) => n.trim().parse::<usize>().map_err(|_| WebhookError::BadNumMedia(n.to_owned()))?,
    };
    if count > MAX_MEDIA {
        return Err(WebhookError::TooManyMedia(count));
    }
    let mut media = Vec::with_capacity(count);
    for n in 0..count {
        let field = format!("MediaUrl{n}");
        let url = form.required(&field)?;
        if !is_http_url(url) {
            return Err(WebhookError::BadMediaUrl { field, url: url.to_owned() });
        }
        // The announced type is only a hint: the fetch checks the type the media server answers with.
        let content_type = form.get(&format!("MediaContentType{n}"))?.unwrap_or_default().to_owned();
        media.push(InboundMedia { url: url.to_owned(), content_type });
    }
    Ok(InboundSms { carrier: carrier.to_owned(), provider_id, from, to, body: text, media })
}

/// Reads a status callback into a receipt for the message Twilio names. `carrier` is the account the
/// callback was addressed to.
///
/// Statuses map onto [`DeliveryStatus`]: `accepted`, `scheduled`, `queued` and `sending` are
/// `Queued`; `sent` is `Sent`; `delivered` and `read` are `Delivered`; `undelivered` is `Undelivered`;
/// `failed` and `canceled` are `Failed`. Anything else is [`WebhookError::UntrackedStatus`].
pub fn parse_status(carrier: &str, body: &[u8]) -> Result<Receipt, WebhookError> {
    let form = Form::parse(body);
    let provider_id = form.sid()?;
    let status = match form.get("MessageStatus")? {
        Some(s) if !s.is_empty() => s,
        _ => form.required("SmsStatus").map_err(|e| match e {
            WebhookError::Missing(_) => WebhookError::Missing("MessageStatus".to_owned()),
            other => other,
        })?,
    };
    let status = delivery_status(status).ok_or_else(|| WebhookError::UntrackedStatus(status.to_owned()))?;
    let error_code = form.get("ErrorCode")?.map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    Ok(Receipt { carrier: carrier.to_owned(), provider_id, status, error_code })
}

/// Twilio's message status, as Parley tracks it.
fn delivery_status(status: &str) -> Option<DeliveryStatus> {
    Some(match status.trim().to_ascii_lowercase().as_str() {
        "accepted" | "scheduled" | "queued" | "sending" => DeliveryStatus::Queued,
        "sent" => DeliveryStatus::Sent,
        "delivered" | "read" => DeliveryStatus::Delivered,
        "undelivered" => DeliveryStatus::Undelivered,
        "failed" | "canceled" => DeliveryStatus::Failed,
        _ => return None,
    })
}

fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Every pair of a form body, repeats included, in arrival order.
struct Form<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Form<'a> {
    fn parse(body: &'a [u8]) -> Form<'a> {
        Form { pairs: form_urlencoded::parse(body).collect() }
    }

    /// The value of `name`; a name repeated with the same value is fine, with different values it is not.
    fn get(&self, name: &str) -> Result<Option<&str>, WebhookError> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_ref());
        let first = values.next();
        if let Some(first) = first
            && values.any(|v| v != first)
        {
            return Err(WebhookError::Conflicting(name.to_owned()));
        }
        Ok(first)
    }

    /// The non-empty value of `name`.
    fn required(&self, name: &str) -> Result<&str, WebhookError> {
        match self.get(name)? {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(WebhookError::Missing(name.to_owned())),
        }
    }

    /// The message id: `MessageSid`, or the legacy `SmsSid` of older webhooks.
    fn sid(&self) -> Result<String, WebhookError> {
        let (field, sid) = match self.required("MessageSid") {
            Ok(sid) => ("MessageSid", sid),
            Err(WebhookError::Missing(_)) => {
                let sid = self.required("SmsSid").map_err(|e| match e {
                    WebhookError::Missing(_) => WebhookError::Missing("MessageSid (or SmsSid)".to_owned()),
                    other => other,
                })?;
                ("SmsSid", sid)
            }
            Err(other) => return Err(other),
        };
        let sid = sid.trim();
        let len = sid.chars().count();
        if len > MAX_SID_LEN {
            return Err(WebhookError::SidTooLong { field: field.to_owned(), len });
        }
        Ok(sid.to_owned())
    }

    fn business_number(&self, field: &str) -> Result<BusinessNumber, WebhookError> {
        let text = self.required(field)?;
        BusinessNumber::parse(text)
            .map_err(|reason| WebhookError::BadBusinessNumber { field: field.to_owned(), reason })
    }

    fn number(&self, field: &str) -> Result<E164, WebhookError> {
        let text = self.required(field)?;
        E164::parse(text).map_err(|reason| WebhookError::BadNumber { field: field.to_owned(), reason })
    }
}
