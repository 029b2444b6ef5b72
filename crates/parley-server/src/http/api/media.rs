//! `GET /api/v1/media/{id}`: media a consumer sent, for the agents who may see its chat.

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use parley_store::rows::{MediaRow, MediaStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::api::audit::record_read;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::ApiPath;

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
    let queue = match &media.chat_id {
        Some(chat) => state.store.chat(chat).await.ok().and_then(|c| c.queue),
        None => None,
    };
    if !who.sees(&state, queue.as_deref()) {
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
