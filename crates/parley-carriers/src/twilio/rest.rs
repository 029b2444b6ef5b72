//! The [`Twilio`] carrier: sends through the Messages REST resource
//! (`POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json`, HTTP Basic auth, form-encoded) and
//! fetches the media of inbound MMS.
//!
//! How answers become [`SendError`]s, which decides what the outbox does next:
//! - 2xx with a JSON `sid`: accepted. A 2xx without one is `Transient` — the message may or may not
//!   have gone out, and retrying risks a duplicate rather than losing the message.
//! - 429: `Throttled`, for the `Retry-After` seconds (1 s when absent or not a number of seconds; at
//!   most an hour).
//! - 5xx, 408, timeouts, refused or dropped connections: `Transient`.
//! - 401 and 403: `Transient`, because they mean our credentials are wrong or suspended; once an
//!   administrator fixes them, the messages should still go out.
//! - Any other 4xx: `Permanent` with Twilio's error `code` and `message` (21211 invalid `To`, 21610
//!   the recipient replied STOP, ...).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Response, StatusCode, Url};

use crate::{Accepted, BoxFuture, Carrier, FetchedMedia, MediaError, OutboundSms, SendError};

/// Twilio's API.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// Largest inbound media we fetch.
pub const MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;

/// Largest answer to a send we read; Twilio's are a few kilobytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Longest pause a `Retry-After` may ask for; longer values are cut to this.
const MAX_RETRY_AFTER_SECS: i64 = 3600;

/// Media types an inbound message may carry: any image, video or audio type, and PDF.
fn allowed_media(content_type: &str) -> bool {
    let media_class = |class: &str| content_type.strip_prefix(class).is_some_and(|subtype| !subtype.is_empty());
    media_class("image/") || media_class("video/") || media_class("audio/") || content_type == "application/pdf"
}

/// How to reach one Twilio-compatible account.
#[derive(Clone)]
pub struct TwilioSettings {
    /// The carrier account's name in Parley's configuration (for logs).
    pub name: String,
    /// The account SID (`AC...`), or an API key SID.
    pub account_sid: String,
    /// The auth token (or API key secret); also what webhook signatures are made with.
    pub auth_token: String,
    /// Scheme, host and optional port of the API, without a trailing path: [`DEFAULT_API_BASE`], a
    /// compatible provider's, or a test server's.
    pub api_base: String,
    /// Where Twilio posts status updates for messages we send (our public status webhook URL).
    pub status_callback: Option<String>,
    /// Most sends in flight at once.
    pub concurrency: usize,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole exchange, answer included.
    pub timeout: Duration,
}

impl TwilioSettings {
    /// Settings for an account on Twilio itself, with the default limits (8 sends in flight, 5 s to
    /// connect, 15 s per request).
    pub fn new(name: impl Into<String>, account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        TwilioSettings {
            name: name.into(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            api_base: DEFAULT_API_BASE.to_owned(),
            status_callback: None,
            concurrency: 8,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
        }
    }
}

impl fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("name", &self.name)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("api_base", &self.api_base)
            .field("status_callback", &self.status_callback)
            .field("concurrency", &self.concurrency)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A Twilio-compatible carrier account.
pub struct Twilio {
    name: String,
    account_sid: String,
    /// Never printed: `Debug` redacts it.
    auth_token: String,
    /// Without a trailing slash.
    api_base: String,
    status_callback: Option<String>,
    client: reqwest::Client,
    /// At least 1.
    concurrency: usize,
    timeout: Duration,
}

impl fmt::Debug for Twilio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Twilio")
            .field("name", &self.name)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("api_base", &self.api_base)
            .field("status_callback", &self.status_callback)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// Why inbound media could not be downloaded; more detailed than the [`MediaError`] the media worker
/// sees, into which [`DownloadError::is_retryable`] sorts it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// The URL is not an http(s) URL.
    #[error("media URL \"{0}\" is not an http(s) URL")]
    BadUrl(String),
    /// The media server answered with an error status.
    #[error("the media server answered HTTP {status}")]
    Status { status: u16 },
    /// The media is of a type Parley does not take.
    #[error("media of type \"{0}\" is not accepted (images, video, audio and PDF are)")]
    ContentType(String),
    /// The media is larger than the limit.
    #[error("the media is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// No answer: connection refused or dropped, timeout, too many redirects.
    #[error("fetching the media failed: {0}")]
    Transport(String),
}

impl DownloadError {
    /// Whether fetching again later may succeed (server errors, throttling, network failures).
    pub fn is_retryable(&self) -> bool {
        match self {
            DownloadError::Status { status } => *status == 408 || *status == 429 || *status >= 500,
            DownloadError::Transport(_) => true,
            DownloadError::BadUrl(_) | DownloadError::ContentType(_) | DownloadError::TooLarge { .. } => false,
        }
    }
}

impl Twilio {
    /// A carrier for `settings`. Fails only if the HTTP client cannot be built (no TLS backend).
    pub fn new(settings: TwilioSettings) -> Result<Twilio, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("parley/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Twilio {
            name: settings.name,
            account_sid: settings.account_sid,
            auth_token: settings.auth_token,
            api_base: settings.api_base.trim_end_matches('/').to_owned(),
            status_callback: settings.status_callback,
            client,
            concurrency: settings.concurrency.max(1),
            timeout: settings.timeout,
        })
    }

    /// The carrier account's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Messages resource messages are posted to.
    pub fn messages_url(&self) -> String {
        format!("{}/2010-04-01/Accounts/{}/Messages.json", self.api_base, self.account_sid)
    }

    /// Sends one message.
    pub async fn send_one(&self, message: &OutboundSms) -> Result<Accepted, SendError> {
        let mut form: Vec<(&str, &str)> = vec![("To", message.to.as_str()), ("From", message.from.as_str())];
        // Twilio refuses an empty Body, but a message of media alone needs none.
        if !message.body.is_empty() || message.media.is_empty() {
            form.push(("Body", &message.body));
        }
        form.extend(message.media.iter().map(|url| ("MediaUrl", url.as_str())));
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback", callback));
        }
        let response = self
            .client
            .post(self.messages_url())
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = match read_limited(response, MAX_ANSWER_BYTES).await {
            Ok(body) => body,
            Err(ReadError::TooLarge) if !status.is_success() => Bytes::new(),
            Err(ReadError::TooLarge) => {
                return Err(SendError::Transient(format!(
                    "{}: the answer to a send is larger than {MAX_ANSWER_BYTES} bytes",
                    self.name
                )));
            }
            Err(ReadError::Http(e)) => return Err(self.transport_error(&e)),
        };
        let result = classify(status, retry_after.as_deref(), &body);
        if let Err(e) = &result {
            tracing::debug!(carrier = %self.name, id = %message.id, error = %e, "twilio send failed");
        }
        result
    }

    /// Downloads inbound media: with the account's credentials when the URL is on the API's own origin
    /// (never handing them to another host), following redirects (whose cross-host hops drop the
    /// credentials), refusing types other than images, video, audio and PDF, and stopping at
    /// [`MAX_MEDIA_BYTES`]. Returns the content type (without parameters) and the bytes.
    pub async fn download_media(&self, url: &str) -> Result<(String, Bytes), DownloadError> {
        let parsed = Url::parse(url).map_err(|_| DownloadError::BadUrl(url.to_owned()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(DownloadError::BadUrl(url.to_owned()));
        }
        let same_origin = Url::parse(&self.api_base).is_ok_and(|base| base.origin() == parsed.origin());
        let mut request = self.client.get(parsed);
        if same_origin {
            request = request.basic_auth(&self.account_sid, Some(&self.auth_token));
        }
        let response = request.send().await.map_err(|e| DownloadError::Transport(chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(DownloadError::Status { status: status.as_u16() });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !allowed_media(&content_type) {
            let shown = if content_type.is_empty() { "(none)".to_owned() } else { content_type };
            return Err(DownloadError::ContentType(shown));
        }
        match read_limited(response, MAX_MEDIA_BYTES).await {
            Ok(bytes) => Ok((content_type, bytes)),
            Err(ReadError::TooLarge) => Err(DownloadError::TooLarge { limit: MAX_MEDIA_BYTES }),
            Err(ReadError::Http(e)) => Err(DownloadError::Transport(chain(&e))),
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> SendError {
        if e.is_timeout() {
            SendError::Transient(format!("{}: no answer from {} within {:?}", self.name, self.api_base, self.timeout))
        } else if e.is_connect() {
            SendError::Transient(format!("{}: could not connect to {}: {}", self.name, self.api_base, chain(e)))
        } else {
            SendError::Transient(format!("{}: the exchange with {} failed: {}", self.name, self.api_base, chain(e)))
        }
    }
}

impl Carrier for Twilio {
    /// Sends up to `concurrency` messages at a time; results come back in the order of `messages`.
    fn send<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Vec<Result<Accepted, SendError>>> {
        Box::pin(futures::stream::iter(messages).map(|m| self.send_one(m)).buffered(self.concurrency).collect())
    }

    /// [`Twilio::download_media`], with failures sorted into retryable and final.
    fn fetch_media<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<FetchedMedia, MediaError>> {
        Box::pin(async move {
            match self.download_media(url).await {
                Ok((content_type, data)) => Ok(FetchedMedia { content_type, data: Vec::from(data) }),
                Err(e) if e.is_retryable() => Err(MediaError::Transient(format!("{}: {e}", self.name))),
                Err(e) => Err(MediaError::Permanent(format!("{}: {e}", self.name))),
            }
        })
    }
}

/// Turns Twilio's answer to a send into the outbox's terms.
fn classify(status: StatusCode, retry_after: Option<&str>, body: &[u8]) -> Result<Accepted, SendError> {
    if status.is_success() {
        let sid = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("sid").and_then(|s| s.as_str()).map(str::to_owned))
            .filter(|sid| !sid.is_empty());
        return match sid {
            Some(provider_id) => Ok(Accepted { provider_id, delivered: false }),
            None => Err(SendError::Transient(format!(
                "the carrier answered {status} without a message sid in its JSON ({}); the message may have \
                 been sent",
                snippet(body)
            ))),
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let secs = retry_after.and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(1).clamp(0, MAX_RETRY_AFTER_SECS);
        return Err(SendError::Throttled { retry_after_ms: secs * 1000 });
    }
    let error = TwilioError::parse(body);
    let described = match &error {
        Some(e) => format!("{} ({})", e.message, e.code),
        None => snippet(body),
    };
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Err(SendError::Transient(format!("the carrier answered {status}: {described}")));
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(SendError::Transient(format!(
            "the carrier refused our credentials ({status}: {described}); check account_sid and auth_token"
        )));
    }
    if status.is_client_error() {
        return Err(match error {
            Some(e) => SendError::Permanent { code: e.code, message: e.message },
            None => SendError::Permanent { code: format!("http_{}", status.as_u16()), message: described },
        });
    }
    Err(SendError::Transient(format!("the carrier answered {status}: {described}")))
}

/// Twilio's error body: `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`.
struct TwilioError {
    code: String,
    message: String,
}

impl TwilioError {
    fn parse(body: &[u8]) -> Option<TwilioError> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let code = match value.get("code")? {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) if !s.is_empty() => s.clone(),
            _ => return None,
        };
        let message = value.get("message").and_then(|m| m.as_str()).unwrap_or("no message").to_owned();
        Some(TwilioError { code, message })
    }
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    if body.is_empty() {
        return "an empty body".to_owned();
    }
    let text = String::from_utf8_lossy(body);
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("body {cut:?}")
}

/// An error and its causes, one line.
fn chain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

enum ReadError {
    TooLarge,
    Http(reqwest::Error),
}

/// Reads a body, stopping as soon as it exceeds `limit` bytes (announced or actual).
async fn read_limited(mut response: Response, limit: usize) -> Result<Bytes, ReadError> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Http)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
