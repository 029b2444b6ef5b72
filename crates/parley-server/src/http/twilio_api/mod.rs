//! The Twilio-compatible Messages API: an application written against Twilio's Messages resource
//! (with its official helper libraries) sends through Parley by changing only its base URL.
//!
//! - `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` sends a sessionless message: the same
//!   engine request as `POST /api/v1/outbound/messages` (consent, the blocklist, number states and
//!   roles, quiet hours, the key's rate), with Twilio's form fields and Twilio's error codes.
//! - `GET …/Messages/{Sid}.json` and `GET …/Messages.json` show the messages this API sent (a
//!   `twilio_messages` row), never a chat's transcript: `sms:send` reads no conversation.
//!
//! Callers authenticate with HTTP basic auth, the key id (`SK…`) as the username and its token as the
//! password; the path's `AccountSid` must be the deployment's. Every answer, errors included, is in
//! Twilio's shape ([`error`]). `StatusCallback` requests come from
//! [`crate::workers::twilio_callbacks`].

pub mod error;
pub mod list;
pub mod resource;

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use parley_core::chat::Input;
use parley_core::ids::AgentId;
use parley_core::message::{Direction, MAX_BODY_CHARS};
use parley_core::number::NumberState;
use parley_core::phone::{BusinessNumber, E164};
use parley_core::setup::NumberRole;
use parley_store::keys::KeyRow;
use parley_store::rows::MessageRow;
use parley_store::twilio::NewTwilioMessage;

use crate::AppState;
use crate::engine::OutboundRequest;
use crate::http::api::media::attachable;
use crate::http::auth::{Credentials, Principal, authenticate};
use crate::http::twilio_api::error::{TwilioCode, TwilioError, TwilioErrorBody, refused_send};
use crate::http::twilio_api::resource::{MessageResource, message_id_of, resource};

/// The longest `StatusCallback` URL taken.
const MAX_URL_LEN: usize = 2048;

/// A caller of the Twilio-compatible API, authenticated, allowed to send, and naming this
/// deployment's account in the path.
pub struct TwilioCaller {
    pub account_sid: String,
    /// The stored key (`None`: the bootstrap admin token).
    pub key: Option<KeyRow>,
    /// The token presented: what a `StatusCallback` of this caller's messages is signed with.
    token: String,
}

impl FromRequestParts<AppState> for TwilioCaller {
    type Rejection = TwilioError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, TwilioError> {
        let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(TwilioError::new(
                StatusCode::UNAUTHORIZED,
                TwilioCode::Authenticate,
                "Authenticate: no credentials; use HTTP basic auth with the key id (SK…) as the username and its \
                 token as the password",
            ));
        };
        let credentials = Credentials::parse(header)?;
        let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned());
        let caller = authenticate(state, &credentials, &parts.method, route.as_deref()).await?;
        caller.principal.require_admin().map_err(|_| {
            TwilioError::new(
                StatusCode::FORBIDDEN,
                TwilioCode::Forbidden,
                "this key belongs to an agent: the Messages API needs a key with the scope sms:send (or an admin key)",
            )
        })?;
        let account_sid = state.store.account_sid().await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| TwilioError::not_found("no AccountSid in the path"))?;
        let named = params.iter().find(|(name, _)| *name == "AccountSid").map(|(_, value)| value).unwrap_or_default();
        if named != account_sid {
            return Err(TwilioError::not_found(format!(
                "The requested resource was not found: {named} is not this deployment's AccountSid (POST \
                 /api/v1/tokens answers it as account_sid)"
            )));
        }
        Ok(TwilioCaller { account_sid, key: caller.key, token: credentials.token().to_owned() })
    }
}

/// The form fields of a send, as Twilio names them.
#[derive(Debug, Default, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct SendForm {
    /// The consumer's phone, E.164.
    pub To: String,
    /// A number of the setup to send from; or give `MessagingServiceSid`.
    pub From: Option<String>,
    /// A campaign id of the setup: the message goes out from its first number (in setup order) that
    /// is enabled and may send.
    pub MessagingServiceSid: Option<String>,
    pub Body: Option<String>,
    /// Repeated: each the `url` of an upload (`POST /api/v1/media`); anything else is refused with 21620.
    #[schema(required = false)]
    pub MediaUrl: Vec<String>,
    /// An http(s) URL that receives each status change, signed with `X-Twilio-Signature`.
    pub StatusCallback: Option<String>,
}

impl SendForm {
    /// The fields of an `application/x-www-form-urlencoded` body; unknown fields are ignored, as
    /// Twilio ignores the ones it does not use.
    fn parse(body: &[u8]) -> SendForm {
        let mut form = SendForm::default();
        for (name, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match name.as_ref() {
                "To" => form.To = value,
                "From" => form.From = Some(value).filter(|v| !v.is_empty()),
                "MessagingServiceSid" => form.MessagingServiceSid = Some(value).filter(|v| !v.is_empty()),
                "Body" => form.Body = Some(value),
                "MediaUrl" => form.MediaUrl.push(value),
                "StatusCallback" => form.StatusCallback = Some(value).filter(|v| !v.is_empty()),
                _ => {}
            }
        }
        form
    }
}

/// The uploads `MediaUrl`s name: each must be the `url` of an upload (`POST /api/v1/media`), as a path
/// or a full URL. Parley sends media it stores (the carrier fetches it from a signed link); it does not
/// fetch other servers' files.
fn upload_ids(urls: &[String]) -> Result<Vec<String>, TwilioError> {
    urls.iter()
        .map(|url| {
            let path = url.find(crate::outbound_media::MEDIA_PATH).map(|at| &url[at..]);
            path.and_then(crate::outbound_media::upload_id).map(str::to_owned).ok_or_else(|| {
                TwilioError::invalid(
                    TwilioCode::InvalidMedia,
                    format!(
                        "MediaUrl {url} is not a Parley upload: upload the file first (POST /api/v1/media) and pass \
                         the url it answers"
                    ),
                )
            })
        })
        .collect()
}

/// Sends a message, as Twilio's `Messages.create`. Answers the Message resource: status `queued`, or
/// `scheduled` when the consumer's quiet hours hold it.
#[utoipa::path(post, path = "/2010-04-01/Accounts/{AccountSid}/Messages.json", operation_id = "twilio_create_message",
    tag = "twilio", params(("AccountSid" = String, Path, description = "the deployment's account SID (AC…)")),
    request_body(content = SendForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, body = MessageResource),
              (status = 400, description = "Twilio codes 21211 (To), 21602 (no Body), 21603 (no From), 21606 (From not a sending number of the setup), 21609 (StatusCallback), 21610 (the recipient opted out), 21617 (Body too long), 21620 (MediaUrl), 21701/21703 (MessagingServiceSid), 30004 (blocklist), 30034 (From not enabled)", body = TwilioErrorBody),
              (status = 401, description = "code 20003", body = TwilioErrorBody),
              (status = 403, description = "code 20403: the key lacks sms:send", body = TwilioErrorBody),
              (status = 404, description = "code 20404: another AccountSid", body = TwilioErrorBody),
              (status = 429, description = "code 20429, with Retry-After", body = TwilioErrorBody)),
    security(("basic" = ["sms:send"])))]
pub async fn create_message(
    State(state): State<AppState>,
    caller: TwilioCaller,
    body: Bytes,
) -> Result<(StatusCode, Json<MessageResource>), TwilioError> {
    let form = SendForm::parse(&body);
    let consumer = E164::parse(&form.To).map_err(|e| {
        TwilioError::invalid(
            TwilioCode::InvalidTo,
            format!("The 'To' number {} is not a valid phone number: {e}", form.To),
        )
    })?;
    let uploads = upload_ids(&form.MediaUrl)?;
    let text = form.Body.unwrap_or_default();
    if text.trim().is_empty() && uploads.is_empty() {
        return Err(TwilioError::invalid(TwilioCode::BodyRequired, "Message body is required."));
    }
    let characters = text.chars().count();
    if characters > MAX_BODY_CHARS {
        return Err(TwilioError::invalid(
            TwilioCode::BodyTooLong,
            format!("Message body has {characters} characters; the limit is {MAX_BODY_CHARS}"),
        ));
    }
    let number = match (form.From.as_deref(), form.MessagingServiceSid.as_deref()) {
        (Some(from), _) => BusinessNumber::parse(from).map_err(|e| {
            TwilioError::invalid(TwilioCode::FromNotOurs, format!("The From phone number {from} is not valid: {e}"))
        })?,
        (None, Some(service)) => service_sender(&state, service).await?,
        (None, None) => {
            return Err(TwilioError::invalid(
                TwilioCode::FromRequired,
                "A 'From' phone number (or a MessagingServiceSid, a campaign id of the setup) is required.",
            ));
        }
    };
    let callback = match form.StatusCallback {
        None => None,
        Some(url) => {
            let url = callback_url(&url)?;
            // Where webhooks may point, callbacks may too: https, and private addresses only with the switch.
            crate::workers::webhooks::target::check(&url, state.config.webhooks_allow_private)
                .await
                .map_err(|e| TwilioError::invalid(TwilioCode::InvalidStatusCallback, format!("StatusCallback: {e}")))?;
            Some((url, signing_token(&caller)?))
        }
    };
    let who = match caller.key.as_ref().and_then(|k| k.agent.as_deref().map(AgentId::parse)) {
        Some(Ok(agent)) => Principal::Agent(agent),
        _ => Principal::Admin { key: None },
    };
    let media = attachable(&state, &who, &uploads, &number)
        .await
        .map_err(|e| TwilioError::invalid(TwilioCode::InvalidMedia, format!("MediaUrl: {}", e.message)))?;
    let input = Input::Sessionless { text, no_delay: false };
    let from = number.to_string();
    // Written in the engine's batch with the message itself: a message sent through this API always
    // has its row (and its callback, with the token to sign it) once it is acknowledged.
    let twilio = NewTwilioMessage {
        message_id: String::new(),
        key_id: caller.key.as_ref().map(|k| k.id.clone()),
        messaging_service_sid: form.MessagingServiceSid.filter(|_| form.From.is_none()),
        callback,
        created_at: state.clock.now().0,
    };
    let request = OutboundRequest { number, consumer, input, source: "api".to_owned(), media, twilio: Some(twilio) };
    let ack = state.engine.outbound(request).await.map_err(|e| refused_send(e, &from))?;
    let found = sent_by_api(&state, &ack.message_id).await?;
    let mut shown = show(&state, &caller, &found).await?.remove(0);
    // As Twilio answers a create: the status it was accepted in, though the outbox may have claimed it
    // since (fetching shows where it is now).
    shown.status = resource::status_of(ack.status).to_owned();
    Ok((StatusCode::CREATED, Json(shown)))
}

/// The number a campaign sends from: its first in setup order that may send and is enabled.
async fn service_sender(state: &AppState, service: &str) -> Result<BusinessNumber, TwilioError> {
    let setup = state.engine.setup();
    if !setup.campaigns.iter().any(|c| c.id.as_str() == service) {
        return Err(TwilioError::invalid(
            TwilioCode::NoSuchService,
            format!("The Messaging Service {service} does not exist: name a campaign id of the setup"),
        ));
    }
    let senders: Vec<_> = setup
        .numbers
        .iter()
        .filter(|n| n.campaign.as_ref().is_some_and(|c| c.as_str() == service) && n.role != NumberRole::Incoming)
        .collect();
    let ids: Vec<String> = senders.iter().map(|n| n.number.to_string()).collect();
    let stored = state.store.number_states(&ids).await?;
    let enabled = senders.into_iter().find(|n| {
        let current = stored
            .iter()
            .find(|s| s.number == n.number.as_str())
            .and_then(|s| NumberState::parse(&s.state))
            .unwrap_or_else(|| n.kind.initial_state());
        current == NumberState::Enabled
    });
    enabled.map(|n| n.number.clone()).ok_or_else(|| {
        TwilioError::invalid(
            TwilioCode::ServiceWithoutNumber,
            format!("The Messaging Service {service} has no enabled number that may send"),
        )
    })
}

/// A `StatusCallback` URL, if it is an absolute http(s) URL.
fn callback_url(url: &str) -> Result<String, TwilioError> {
    let invalid = |why: &str| TwilioError::invalid(TwilioCode::InvalidStatusCallback, format!("StatusCallback: {why}"));
    if url.len() > MAX_URL_LEN {
        return Err(invalid("longer than 2048 characters"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&format!("not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(invalid("must be an http:// or https:// URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("must not carry credentials"));
    }
    Ok(url.to_owned())
}

/// The token callbacks are signed with: the key's. The bootstrap admin token is never stored, so it
/// cannot sign callbacks.
fn signing_token(caller: &TwilioCaller) -> Result<String, TwilioError> {
    if caller.key.is_none() {
        return Err(TwilioError::invalid(
            TwilioCode::InvalidStatusCallback,
            "StatusCallback needs a key (SK…) to sign with: make one with POST /api/v1/tokens; the bootstrap admin \
             token is never stored",
        ));
    }
    Ok(caller.token.clone())
}

/// The message `id` if this API sent it, or 20404.
async fn sent_by_api(state: &AppState, id: &str) -> Result<Vec<MessageRow>, TwilioError> {
    let ids = [id.to_owned()];
    let ours = state.store.twilio_service_sids(&ids).await?;
    let found = if ours.is_empty() { vec![] } else { state.store.messages_by_ids(&ids).await? };
    let found: Vec<MessageRow> = found.into_iter().filter(|m| m.direction == Direction::Out).collect();
    if found.is_empty() {
        return Err(TwilioError::not_found(format!("The requested resource was not found: no message {id}")));
    }
    Ok(found)
}

/// The resources of `messages`, in their order.
pub(crate) async fn show(
    state: &AppState,
    caller: &TwilioCaller,
    messages: &[MessageRow],
) -> Result<Vec<MessageResource>, TwilioError> {
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    let services = state.store.twilio_service_sids(&ids).await?;
    let changes = state.store.status_changes_of(&ids).await?;
    let mut timelines: HashMap<&str, Vec<_>> = HashMap::new();
    for change in &changes {
        timelines.entry(change.message_id.as_str()).or_default().push(change);
    }
    Ok(messages
        .iter()
        .map(|m| {
            let timeline = timelines.get(m.id.as_str()).map(Vec::as_slice).unwrap_or_default();
            resource(&caller.account_sid, m, timeline, services.get(&m.id).cloned().flatten())
        })
        .collect())
}

/// A message, as Twilio's `messages(sid).fetch()`. Only the messages this API sent.
#[utoipa::path(get, path = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}", operation_id = "twilio_fetch_message",
    tag = "twilio",
    params(("AccountSid" = String, Path, description = "the deployment's account SID (AC…)"),
           ("Sid" = String, Path, description = "the message's SID followed by .json: SM….json")),
    responses((status = 200, body = MessageResource),
              (status = 401, description = "code 20003", body = TwilioErrorBody),
              (status = 403, description = "code 20403: the key lacks sms:send", body = TwilioErrorBody),
              (status = 404, description = "code 20404: no such message, or another AccountSid", body = TwilioErrorBody)),
    security(("basic" = ["sms:send"])))]
pub async fn fetch_message(
    State(state): State<AppState>,
    caller: TwilioCaller,
    params: RawPathParams,
) -> Result<Json<MessageResource>, TwilioError> {
    let sid = params.iter().find(|(name, _)| *name == "Sid").map(|(_, v)| v.to_owned()).unwrap_or_default();
    let id = sid.strip_suffix(".json").and_then(message_id_of).ok_or_else(|| {
        TwilioError::not_found(format!("The requested resource was not found: {sid} is not a message SID (SM….json)"))
    })?;
    let found = sent_by_api(&state, &id).await?;
    let mut shown = show(&state, &caller, &found).await?;
    Ok(Json(shown.remove(0)))
}
