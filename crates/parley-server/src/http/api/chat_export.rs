//! `GET /api/v1/chats/{id}/export.zip`: one chat as the seed platform exported it, in one ZIP:
//! `chat-{id}.txt` (the transcript: every SMS of the consumer, the agents and the system), the
//! consumer's pictures and videos as `chat-{id}-photo-{n}.jpg` and `chat-{id}-video-{n}.mp4` (another
//! type keeps its own extension: `chat-{id}-photo-2.png`; other files are `chat-{id}-file-{n}.EXT`),
//! and `metadata-{id}.json` (the chat as a CRM record: docs/crm.md "Records", with its contact and
//! the files' names).
//!
//! The record is built by the CRM connectors' own reader (`workers::crm::record`), so an export and
//! what a CRM receives never disagree. An agent's or supervisor's export shows the consumer's number
//! as their queue masks it. Exporting is a read of the chat, recorded in the audit log (`export`).

use std::io::{Cursor, Write as _};

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use parley_core::message::Direction;
use parley_store::rows::MediaStatus;
use serde_json::{Value, json};
use zip::write::SimpleFileOptions;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::api::audit::record_read;
use crate::http::api::chats::{chat_id, view_for, visible_chat};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;
use crate::workers::crm::record::{Line, link, record};

/// What a stored medium is called in the export: the seed's names for JPEG pictures and MP4 videos.
pub fn file_name(chat: &str, content_type: &str, photos: &mut u32, videos: &mut u32, files: &mut u32) -> String {
    let subtype = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (kind, sub) = subtype.split_once('/').unwrap_or(("application", "octet-stream"));
    let ext = match sub {
        "jpeg" | "jpg" | "pjpeg" => "jpg",
        "quicktime" => "mov",
        "3gpp" => "3gp",
        "svg+xml" => "svg",
        "octet-stream" => "bin",
        other => other.rsplit('+').next().unwrap_or("bin"),
    };
    let ext: String = ext.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
    match kind {
        "image" => {
            *photos += 1;
            format!("chat-{chat}-photo-{photos}.{ext}")
        }
        "video" => {
            *videos += 1;
            format!("chat-{chat}-video-{videos}.{ext}")
        }
        _ => {
            *files += 1;
            format!("chat-{chat}-file-{files}.{ext}")
        }
    }
}

/// The transcript file: a header, then a line per SMS (continued lines indented).
pub fn transcript_text(meta: &Value, lines: &[Line], attached: &[(String, String)]) -> String {
    let field = |key: &str| meta.get(key).and_then(Value::as_str).unwrap_or("-").to_owned();
    let mut out = format!(
        "Chat {}\nType: {}\nNumber: {}\nConsumer: {}\nQueue: {}\nLanguage: {}\nOpened: {}\n",
        field("chat_id"),
        field("type"),
        field("number"),
        field("consumer"),
        field("queue"),
        field("language"),
        field("opened_at"),
    );
    if let Some(ended) = meta.get("ended").filter(|e| !e.is_null()) {
        let text = |key: &str| ended.get(key).and_then(Value::as_str).unwrap_or("-").to_owned();
        out.push_str(&format!("Ended: {} ({}, by {})\n", text("at"), text("reason"), text("by")));
    }
    out.push('\n');
    for line in lines {
        let author = match line.author.as_str() {
            "consumer" => "Consumer".to_owned(),
            "system" => "System".to_owned(),
            other => other.strip_prefix("agent:").map_or_else(|| other.to_owned(), |a| format!("Agent {a}")),
        };
        let body = line.body.replace('\n', "\n    ");
        out.push_str(&format!("[{}] {author}: {body}\n", rfc3339(line.at)));
        for url in &line.media {
            let named = attached.iter().find(|(u, _)| u == url).map_or(url.as_str(), |(_, name)| name.as_str());
            out.push_str(&format!("    (attachment: {named})\n"));
        }
    }
    out
}

/// The chat as a ZIP of its transcript, the consumer's media and its metadata.
#[utoipa::path(get, path = "/api/v1/chats/{id}/export.zip", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, description = "application/zip: chat-{id}.txt, chat-{id}-photo-{n}.jpg, chat-{id}-video-{n}.mp4, metadata-{id}.json", content_type = "application/zip"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn export_zip(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = chat_id(&id)?;
    let chat = visible_chat(&state, &who, &id).await?;
    record_read(&state, &who, Some(&chat.id), "export").await?;
    let now = state.clock.now().0;
    let Some(mut rec) =
        record(&state.store, &state.media_signer, &chat.id, i64::MAX, now).await.map_err(ApiError::internal)?
    else {
        return Err(ApiError::not_found(format!("no chat with id {id}")));
    };
    // Masked as the caller's queue says (the transcript's lines never carry the number).
    rec.consumer = view_for(&state, &who, chat.clone()).consumer;

    // The consumer's media, in the order it came.
    let messages = state.store.transcript(&chat.id).await?;
    let inbound: Vec<String> =
        messages.iter().filter(|m| m.direction == Direction::In && !m.media.is_empty()).map(|m| m.id.clone()).collect();
    let media = state.store.media_of_messages(&inbound).await?;
    let (mut photos, mut videos, mut others) = (0, 0, 0);
    let mut files: Vec<(String, String, Vec<u8>, Value)> = Vec::new();
    for m in media.iter().filter(|m| m.status == MediaStatus::Stored) {
        let Some((row, bytes)) = state.store.media(&m.id).await? else { continue };
        let name = file_name(&chat.id, &row.content_type, &mut photos, &mut videos, &mut others);
        let about = json!({"name": name, "content_type": row.content_type, "size": bytes.len(),
            "message_id": row.message_id, "source_url": row.source_url});
        files.push((row.source_url.clone(), name, bytes, about));
    }
    let contact = state.store.chat_contact(&chat.id).await?;
    let mut meta = rec.json();
    meta["contact_id"] = json!(contact.as_ref().and_then(|l| l.contact_id.clone()));
    meta["record_id"] = json!(contact.as_ref().and_then(|l| l.record_id.clone()));
    meta["files"] = Value::Array(files.iter().map(|f| f.3.clone()).collect());
    meta["exported_at"] = json!(rfc3339(now));
    meta["exported_by"] = json!(who.actor());
    // The record's links name the media by the URL the carrier gave; the transcript names the files.
    let attached: Vec<(String, String)> =
        files.iter().map(|(url, name, _, _)| (link(&state.media_signer, url, now), name.clone())).collect();
    let text = transcript_text(&meta, &rec.transcript, &attached);

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    let mut add = |name: &str, bytes: &[u8]| -> zip::result::ZipResult<()> {
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
        Ok(())
    };
    let built = (|| {
        add(&format!("chat-{}.txt", chat.id), text.as_bytes())?;
        for (_, name, bytes, _) in &files {
            add(name, bytes)?;
        }
        let json = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
        add(&format!("metadata-{}.json", chat.id), &json)
    })();
    built.map_err(|e| ApiError::internal(format!("writing the export of {}: {e}", chat.id)))?;
    let bytes = zip.finish().map_err(|e| ApiError::internal(format!("finishing the export: {e}")))?.into_inner();
    let disposition = format!("attachment; filename=\"chat-{}.zip\"", chat.id);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_files_are_named_as_the_seed_names_them() {
        let (mut p, mut v, mut f) = (0, 0, 0);
        let mut name = |t: &str| file_name("C1", t, &mut p, &mut v, &mut f);
        assert_eq!(name("image/jpeg"), "chat-C1-photo-1.jpg");
        assert_eq!(name("video/mp4"), "chat-C1-video-1.mp4");
        assert_eq!(name("image/png; charset=x"), "chat-C1-photo-2.png");
        assert_eq!(name("text/vcard"), "chat-C1-file-1.vcard");
        assert_eq!(name("video/quicktime"), "chat-C1-video-2.mov");
        assert_eq!(name("image/svg+xml"), "chat-C1-photo-3.svg");
    }

    #[test]
    fn export_the_transcript_names_authors_and_attachments() {
        let meta = json!({"chat_id": "C1", "type": "sms", "number": "+15550001000", "consumer": "+*******0100",
            "queue": "sales", "language": "en", "opened_at": "2026-12-03T10:00:00.000Z", "ended": null});
        let lines = vec![
            Line {
                at: 0,
                author: "consumer".into(),
                direction: "in".into(),
                body: "hi\nthere".into(),
                media: vec!["u1".into()],
            },
            Line {
                at: 1000,
                author: "agent:alice".into(),
                direction: "out".into(),
                body: "Hello".into(),
                media: vec![],
            },
            Line { at: 2000, author: "system".into(), direction: "out".into(), body: "Bye".into(), media: vec![] },
        ];
        let text = transcript_text(&meta, &lines, &[("u1".into(), "chat-C1-photo-1.jpg".into())]);
        assert!(text.starts_with("Chat C1\nType: sms\nNumber: +15550001000\nConsumer: +*******0100\n"), "{text}");
        assert!(text.contains("] Consumer: hi\n    there\n    (attachment: chat-C1-photo-1.jpg)\n"), "{text}");
        assert!(text.contains("] Agent alice: Hello\n"), "{text}");
        assert!(text.contains("] System: Bye\n"), "{text}");
    }
}
