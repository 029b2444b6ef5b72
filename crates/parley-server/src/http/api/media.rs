//! Media (MMS). `GET /api/v1/media/{id}`: media a consumer sent or an agent sent, for the agents who
//! may see its chat. `POST /api/v1/media`: an agent or an integration uploads a file to send
//! (`media_ids` on a message); the upload is its uploader's alone until it is sent. `GET /media/{id}`
//! (no token, a signature instead): where carriers fetch what they send (see
//! [`crate::outbound_media`]).

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartError;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use parley_core::media::{MAX_MEDIA_PER_MESSAGE, MAX_UPLOAD_BYTES, UploadError, check_upload};
use parley_core::phone::BusinessNumber;
use parley_store::media::NewUpload;
use parley_store::rows::{MediaRow, MediaStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::http::api::audit::record_read;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode, FieldProblem};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::outbound_media::{MediaSigner, OutMedia, media_path};

/// The largest upload request: the file and the multipart framing around it.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;

/// A piece of media on a message of a transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attachment {
    pub id: String,
    pub content_type: String,
    /// pending (being downloaded), stored, linked (only the carrier's URL is known) or failed.
    pub status: String,
    pub size: i64,
    /// Where to get it, with the same bearer token.
    pub url: String,
}

/// An uploaded file, ready to be sent with `media_ids`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    /// Name it in `media_ids` to send it.
    pub id: String,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Where the uploader opens it, with the same bearer token.
    pub url: String,
}

/// The multipart body of an upload (documentation only: the handler reads the parts itself).
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the multipart form in the OpenAPI document")]
pub struct UploadForm {
    /// The file, with its Content-Type (image/jpeg, image/png, image/gif, video/mp4 or application/pdf).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Who owns an upload made by `who`: "agent:ID" or "admin".
fn owner(who: &Principal) -> Result<String, ApiError> {
    match who {
        Principal::Agent(agent) => Ok(format!("agent:{agent}")),
        Principal::Admin { .. } => Ok("admin".to_owned()),
        Principal::Supervisor { .. } => {
            Err(ApiError::forbidden("supervisors watch chats but do not send: this needs an agent or an admin"))
        }
    }
}

fn upload_refused(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge(_) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, e.to_string())
        }
        UploadError::Empty => ApiError::invalid(e.to_string()),
        UploadError::TypeNotAllowed(_) | UploadError::NotThatType(_) => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType, e.to_string())
        }
    }
}

fn multipart_refused(e: &MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the file is larger than {MAX_UPLOAD_BYTES} bytes (5 MiB)"),
        );
    }
    ApiError::bad_request(format!("the multipart body cannot be read: {}", e.body_text()))
}

/// Uploads a file to send as MMS: one file part (any field name) with its Content-Type. Types:
/// image/jpeg, image/png, image/gif, video/mp4, application/pdf, at most 5 MiB; the file's first
/// bytes must be of the declared type. The upload can be sent by its uploader only (`media_ids`); one
/// not sent within a day is deleted.
#[utoipa::path(post, path = "/api/v1/media", tag = "outbound", request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, description = "larger than 5 MiB", body = ErrorBody),
              (status = 415, description = "a type that cannot be sent, or bytes that are not of the declared type", body = ErrorBody),
              (status = 422, description = "no file part, more than one, or an empty file", body = ErrorBody)),
    security(("bearer" = ["sms:send"]), ("bearer" = ["chats:write"])))]
pub async fn upload_media(
    State(state): State<AppState>,
    who: Principal,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let uploaded_by = owner(&who)?;
    let mut form = form.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the file as multipart/form-data, one file part with its Content-Type",
        )
    })?;
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|e| multipart_refused(&e))? {
        // Text fields (a form's other inputs) are skipped; a file part has a file name or a type.
        if field.file_name().is_none() && field.content_type().is_none() {
            continue;
        }
        if file.is_some() {
            return Err(ApiError::invalid("send one file per upload; upload each file on its own"));
        }
        let declared = field.content_type().unwrap_or_default().to_owned();
        let data = field.bytes().await.map_err(|e| multipart_refused(&e))?;
        file = Some((declared, data));
    }
    let Some((declared, data)) = file else {
        return Err(ApiError::invalid_fields(
            "no file part: send the file as a multipart/form-data part with a file name and a Content-Type",
            vec![FieldProblem::new(Some("/file".to_owned()), "required")],
        ));
    };
    if declared.is_empty() {
        return Err(upload_refused(UploadError::TypeNotAllowed("(none)".to_owned())));
    }
    let kind = check_upload(&declared, &data).map_err(upload_refused)?;
    let upload = NewUpload {
        id: uuid::Uuid::now_v7().to_string(),
        content_type: kind.as_str().to_owned(),
        data: data.to_vec(),
        uploaded_by,
        at: state.clock.now().0,
    };
    let row = state.store.insert_upload(&upload).await?;
    metrics::counter!("parley_media_uploaded_total").increment(1);
    metrics::counter!("parley_media_uploaded_bytes_total").increment(data.len() as u64);
    Ok((
        StatusCode::CREATED,
        Json(Uploaded { url: media_path(&row.id), id: row.id, content_type: row.content_type, size: row.size }),
    ))
}

/// The uploads `ids` (the request's `media_ids`) as a message from `number` carries them: each must
/// exist, be the caller's and not be sent yet, and the number's carrier must carry media (SMPP does
/// not: 422 `media_not_supported`). Called before anything is queued.
pub(crate) async fn attachable(
    state: &AppState,
    who: &Principal,
    ids: &[String],
    number: &BusinessNumber,
) -> Result<OutMedia, ApiError> {
    if ids.is_empty() {
        return Ok(OutMedia::default());
    }
    if ids.len() > MAX_MEDIA_PER_MESSAGE {
        return Err(ApiError::invalid_fields(
            format!("media_ids: at most {MAX_MEDIA_PER_MESSAGE} media per message"),
            vec![FieldProblem::new(Some("/media_ids".to_owned()), "too many")],
        ));
    }
    let carrier = state.engine.setup().number(number).map(|n| n.carrier.clone());
    if let Some(carrier) = carrier
        && state.carriers.get(&carrier).is_some_and(|c| !c.carries_media())
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::MediaNotSupported,
            format!(
                "number {number} sends through carrier account \"{carrier}\", which is SMPP: SMPP carries text only. \
                 Send the text without media_ids, or send from a number on a carrier that carries MMS"
            ),
        ));
    }
    let me = owner(who)?;
    let found = state.store.media_by_ids(ids).await?;
    for (i, id) in ids.iter().enumerate() {
        let at = Some(format!("/media_ids/{i}"));
        let problem = match found.iter().find(|m| &m.id == id) {
            None => format!("no upload with id {id}: upload the file first (POST /api/v1/media)"),
            Some(m) if m.uploaded_by.is_none() => {
                format!("media {id} was sent by a consumer; upload a file to send it")
            }
            Some(m) if m.uploaded_by.as_deref() != Some(me.as_str()) => {
                return Err(ApiError::forbidden(format!(
                    "media_ids/{i}: upload {id} belongs to whoever uploaded it; upload the file yourself to send it"
                )));
            }
            Some(m) if m.message_id.is_some() => {
                format!(
                    "upload {id} was sent already (with message {}); upload it again",
                    m.message_id.as_deref().unwrap_or_default()
                )
            }
            Some(_) if ids[..i].contains(id) => format!("upload {id} is named twice"),
            Some(_) => continue,
        };
        return Err(ApiError::invalid_fields(
            format!("media_ids/{i}: {problem}"),
            vec![FieldProblem::new(at, problem)],
        ));
    }
    Ok(OutMedia(ids.to_vec()))
}

/// The signature of a media URL a carrier fetches.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    /// Unix seconds after which the URL no longer serves.
    pub expires: Option<i64>,
    /// Hex HMAC-SHA256 of "{id}.{expires}" under the deployment's media key.
    pub sig: Option<String>,
}

/// An upload, for the carrier sending it: no token, only a valid, unexpired signature (403
/// otherwise). Not part of the API: the outbox makes these URLs (see [`crate::outbound_media`]).
pub async fn get_signed_media(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<Signed>,
) -> Result<Response, ApiError> {
    let signer: &MediaSigner = &state.media_signer;
    let valid = match (q.expires, q.sig.as_deref()) {
        (Some(expires), Some(sig)) => signer.verify(&id, expires, sig, state.clock.now().0),
        _ => false,
    };
    if !valid {
        return Err(ApiError::forbidden("this media URL is not signed by this deployment, or it has expired"));
    }
    let Some((media, data)) = state.store.media(&id).await? else {
        return Err(ApiError::not_found(format!("no media with id {id}")));
    };
    if media.status != MediaStatus::Stored {
        return Err(ApiError::not_found(format!("media {id} holds no bytes")));
    }
    Ok((
        [(header::CONTENT_TYPE, media.content_type), (header::CACHE_CONTROL, "private, max-age=3600".to_owned())],
        Body::from(data),
    )
        .into_response())
}

impl From<MediaRow> for Attachment {
    fn from(m: MediaRow) -> Attachment {
        // A claimed download is still pending to whoever reads it.
        let status = match m.status {
            MediaStatus::Fetching => MediaStatus::Pending,
            other => other,
        }
        .as_str()
        .to_owned();
        Attachment {
            url: format!("/api/v1/media/{}", m.id),
            id: m.id,
            content_type: m.content_type,
            status,
            size: m.size,
        }
    }
}

/// The media itself (or a redirect to the carrier's URL when only that is known).
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "chats", params(("id" = String, Path)),
    responses((status = 200, description = "the media, with its content type"), (status = 307, description = "the carrier's URL"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "not downloaded yet", body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn get_media(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let Some((media, data)) = state.store.media(&id).await? else {
        return Err(ApiError::not_found(format!("no media with id {id}")));
    };
    // An upload not sent yet is its uploader's alone.
    if media.message_id.is_none() && media.uploaded_by.is_some() && media.uploaded_by != owner(&who).ok() {
        return Err(ApiError::forbidden("this upload has not been sent: only its uploader may open it"));
    }
    let queue = match &media.chat_id {
        Some(chat) => state.store.chat(chat).await.ok().and_then(|c| c.queue),
        None => None,
    };
    let unsent_upload = media.message_id.is_none() && media.uploaded_by.is_some();
    if !unsent_upload && !who.sees(&state, queue.as_deref()) {
        return Err(ApiError::forbidden("this media belongs to a chat in a queue you do not serve"));
    }
    // Only media actually served is a read; one that cannot be recorded is not served.
    if matches!(media.status, MediaStatus::Stored | MediaStatus::Linked) {
        record_read(&state, &who, media.chat_id.as_deref(), &format!("media:{}", media.id)).await?;
    }
    match media.status {
        MediaStatus::Stored => Ok((
            [(header::CONTENT_TYPE, media.content_type), (header::CACHE_CONTROL, "private, max-age=3600".to_owned())],
            Body::from(data),
        )
            .into_response()),
        MediaStatus::Linked => Ok(Redirect::temporary(&media.source_url).into_response()),
        MediaStatus::Failed => Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::NotFound,
            format!("the media could not be downloaded from the carrier: {}", media.error.unwrap_or_default()),
        )),
        MediaStatus::Pending | MediaStatus::Fetching => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "the media is still being downloaded; try again shortly",
        )),
    }
}
