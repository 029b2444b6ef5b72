//! `GET /api/v1/contacts.csv`: every contact as the CSV `parley contacts export` writes
//! (`parley_core::crm::csv`, docs/crm.md "Import and export"), for admins.
//!
//! The file is streamed a page of contacts at a time, so a million contacts never sit in memory. A
//! store error after the first bytes cannot change the status any more: the stream ends with the
//! error, which aborts the transfer (the client sees a truncated response, never a short file that
//! looks whole), and the error is logged.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::stream;
use parley_core::crm::csv::{ContactsWriter, ExportRow};
use parley_store::Store;

use crate::AppState;
use crate::http::api::audit::record_read;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};

/// Contacts read per database round trip.
const PAGE: i64 = 200;

/// Where the export stands between pages.
enum Cursor {
    /// The header is not written yet.
    Start,
    /// After this contact id (`None`: from the first).
    After(Option<String>),
    Done,
}

/// Every contact as CSV, in creation order: the columns of docs/crm.md "Import and export", one per
/// custom field the setup declares, formula cells neutralized. Admins only; recorded in the audit log
/// (`contacts:export`).
#[utoipa::path(get, path = "/api/v1/contacts.csv", tag = "contacts",
    responses((status = 200, description = "the CSV (text/csv; RFC 4180, CRLF, UTF-8)", content_type = "text/csv", body = String),
              (status = 401, body = ErrorBody), (status = 403, description = "not an admin", body = ErrorBody)),
    security(("bearer" = ["contacts:read"])))]
pub async fn export_csv(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    who.require_admin()?;
    record_read(&state, &who, None, "contacts:export").await?;
    let writer = ContactsWriter::new(&state.engine.setup().contact_fields);
    let store = state.store.clone();
    let body = stream::unfold((Cursor::Start, writer, store), |(cursor, mut writer, store)| async move {
        match cursor {
            Cursor::Done => None,
            Cursor::Start => Some((Ok(writer.take()), (Cursor::After(None), writer, store))),
            Cursor::After(after) => match next_page(&store, after.as_deref(), &mut writer).await {
                Ok((bytes, next)) => {
                    let cursor = next.map_or(Cursor::Done, |id| Cursor::After(Some(id)));
                    Some((Ok(bytes), (cursor, writer, store)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "the contacts export stopped: reading a page failed");
                    Some((Err(std::io::Error::other(e.to_string())), (Cursor::Done, writer, store)))
                }
            },
        }
    });
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"contacts.csv\""));
    Ok(response)
}

/// The CSV of the page after `after`, and the id to continue after (`None`: that was the last page).
async fn next_page(
    store: &Store,
    after: Option<&str>,
    writer: &mut ContactsWriter,
) -> Result<(Vec<u8>, Option<String>), parley_store::StoreError> {
    let page = store.contacts_for_export(after, PAGE).await?;
    for c in &page {
        writer.write(&ExportRow { id: &c.id, data: &c.data, created_at: c.created_at, updated_at: c.updated_at });
    }
    let next = if page.len() as i64 == PAGE { page.last().map(|c| c.id.clone()) } else { None };
    Ok((writer.take(), next))
}
