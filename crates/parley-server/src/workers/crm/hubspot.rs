//! `kind = "hubspot"`: HubSpot's CRM v3 API with a private app's token (bearer auth).
//!
//! - The contact: its HubSpot id from `contact_external_ids` (connector = NAME); without one,
//!   `POST /crm/v3/objects/contacts/search` on `phone` or `mobilephone` EQ the contact's primary phone:
//!   none → `POST /crm/v3/objects/contacts` (firstname, lastname, email, phone, company); one → that
//!   contact, updated with `PATCH /crm/v3/objects/contacts/{id}`; several → the candidates are kept
//!   for the agent to choose (`GET/POST /api/v1/chats/{id}/contact/external`) and the change waits.
//!   The id is kept as soon as HubSpot answers, and the search comes before any create, so a retry
//!   never makes a second contact.
//! - The record: one note per record, `POST /crm/v3/objects/notes` with `hs_note_body`,
//!   `hs_timestamp` and an association to the contact (HubSpot-defined type 202, note to contact),
//!   its id kept in `crm_objects` (`note:{record_id}`) the moment HubSpot answers; every later change
//!   of the record rewrites the body with `PATCH /crm/v3/objects/notes/{id}` (idempotent: a repeat
//!   writes the same body).
//! - Attachments: each picture or video the consumer sent (stored by Parley) is uploaded once with
//!   HubSpot's files API (`POST /files/v3/files`, multipart: `file`, `fileName`, `folderPath`
//!   `/parley/chats`, `options` `{"access": "PRIVATE"}`), its file id kept in `crm_objects`
//!   (`file:{media_id}`) as soon as HubSpot answers, and listed on the note as `hs_attachment_ids`
//!   (semicolon-separated), so the files hang on the contact's timeline with the chat.
//! - `crm.contact.changed` (created, updated) → the contact found or created, then its properties
//!   patched; merges and deletes in Parley leave HubSpot's contact alone.
//! - `crm.contact.erased` → `POST /crm/v3/objects/contacts/gdpr-delete` for the contact's HubSpot id.
//!
//! Rate limits: a 429 is retried after `Retry-After` (seconds) when HubSpot sends it, else after
//! `X-HubSpot-RateLimit-Interval-Milliseconds` when `X-HubSpot-RateLimit-Remaining` (or the secondly
//! one) is 0; otherwise after the backoff.

use futures::future::BoxFuture;
use parley_core::message::Direction;
use parley_store::Store;
use parley_store::crm::CrmContact;
use parley_store::rows::MediaStatus;
use reqwest::Method;
use serde_json::{Value, json};

use super::record::{Record, RecordChange};
use super::{Attempted, Connector};
use crate::clock::{Clock, rfc3339};
use crate::config::Secret;
use crate::workers::webhooks::target;

/// What a request carries.
enum Body<'a> {
    None,
    Json(&'a Value),
    Multipart(reqwest::multipart::Form),
}

/// HubSpot's association type id of a note to a contact (HUBSPOT_DEFINED).
pub const NOTE_TO_CONTACT: i64 = 202;

pub struct HubSpot {
    pub name: String,
    pub token: Secret,
    /// Without a trailing slash.
    pub api_base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub clock: Clock,
    pub allow_private: bool,
}

/// The wait (ms) a rate-limit answer asks for: `Retry-After` in seconds, else HubSpot's interval
/// when its remaining count is 0.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<i64> {
    let number =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    if let Some(seconds) = number("retry-after") {
        return Some(seconds.saturating_mul(1000));
    }
    let exhausted = number("x-hubspot-ratelimit-remaining") == Some(0)
        || number("x-hubspot-ratelimit-secondly-remaining") == Some(0);
    if exhausted {
        return number("x-hubspot-ratelimit-interval-milliseconds").or(Some(1000));
    }
    None
}

/// Escapes text for the note's HTML body.
fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The note's body: the record's details, transfers, media links and transcript.
pub fn note_body(r: &Record) -> String {
    let mut out = format!("<p><strong>Parley chat {}</strong></p><ul>", html(&r.chat_id));
    let mut item = |label: &str, value: &str| out.push_str(&format!("<li>{label}: {}</li>", html(value)));
    item("Type", &r.chat_type);
    item("Number", &r.number);
    item("Queue", r.queue.as_deref().unwrap_or("-"));
    item("Language", &r.language);
    if let Some(ticket) = &r.ticket_id {
        item("Ticket", ticket);
    }
    if let Some(start) = &r.start_type {
        item("Start type", start);
    }
    item("Opened", &rfc3339(r.opened_at));
    if !r.agents.is_empty() {
        item("Agents", &r.agents.join(", "));
    }
    for t in &r.transfers {
        let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
        item("Transfer", &format!("{} from {} to {} ({})", s("event"), s("from"), s("to"), s("at")));
    }
    if let Some(ended) = &r.ended {
        let s = |k: &str| ended.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
        let secs = ended.get("duration_seconds").and_then(Value::as_i64).unwrap_or(0);
        item("Ended", &format!("{} by {}, after {secs} s", s("reason"), s("by")));
    }
    out.push_str("</ul>");
    if !r.media.is_empty() {
        out.push_str("<p>Media from the consumer:</p><ul>");
        for m in &r.media {
            out.push_str(&format!("<li><a href=\"{0}\">{0}</a></li>", html(m)));
        }
        out.push_str("</ul>");
    }
    out.push_str("<p>Transcript:</p><ul>");
    for l in &r.transcript {
        out.push_str(&format!("<li>[{}] {}: {}</li>", rfc3339(l.at), html(&l.author), html(&l.body)));
    }
    out.push_str("</ul>");
    out
}

/// The contact's HubSpot properties (only those Parley knows).
pub fn properties(c: &CrmContact) -> Value {
    let mut p = serde_json::Map::new();
    if let Some(name) = c.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        p.insert("firstname".into(), first.trim().into());
        if !last.trim().is_empty() {
            p.insert("lastname".into(), last.trim().into());
        }
    }
    if let Some(email) = &c.email {
        p.insert("email".into(), email.clone().into());
    }
    if let Some(company) = &c.company {
        p.insert("company".into(), company.clone().into());
    }
    if let Some(phone) = c.phones.first() {
        p.insert("phone".into(), phone.clone().into());
    }
    Value::Object(p)
}

/// A candidate among several HubSpot contacts with the phone.
pub fn candidate(result: &Value) -> Value {
    let p = |k: &str| result.pointer(&format!("/properties/{k}")).and_then(Value::as_str).map(str::to_owned);
    let name = [p("firstname"), p("lastname")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    json!({
        "external_id": result.get("id").and_then(Value::as_str),
        "name": (!name.is_empty()).then_some(name),
        "company": p("company"),
        "email": p("email"),
    })
}

/// The `crm_objects` key of a chat's candidates.
pub fn candidates_key(chat_id: &str) -> String {
    format!("candidates:{chat_id}")
}

/// The `crm_objects` key that says the agent asked for a new HubSpot contact for a contact.
pub fn create_key(contact_id: &str) -> String {
    format!("create:{contact_id}")
}

impl HubSpot {
    /// One API call; the answer's JSON on a 2xx, else how the attempt ends.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, Attempted> {
        self.send(method, path, body.map_or(Body::None, Body::Json)).await
    }

    async fn send(&self, method: Method, path: &str, body: Body<'_>) -> Result<Value, Attempted> {
        let url = format!("{}{path}", self.api_base);
        let parsed = target::check_form(&url, self.allow_private).map_err(|e| Attempted::refused(e.to_string()))?;
        if let Some(ip) = parsed.host_str().and_then(|h| h.trim_matches(['[', ']']).parse().ok())
            && let Err(e) = target::check_addr(parsed.host_str().unwrap_or_default(), ip, self.allow_private)
        {
            return Err(Attempted::refused(e.to_string()));
        }
        let mut request = self.client.request(method, parsed).bearer_auth(self.token.expose());
        request = match body {
            Body::None => request,
            Body::Json(body) => request.json(body),
            Body::Multipart(form) => request.multipart(form),
        };
        let response = request.send().await.map_err(|e| Attempted::unreachable(&e))?;
        let status = response.status().as_u16();
        let wait = retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        match Attempted::of_status(status, text.clone(), wait) {
            Attempted::Delivered { .. } => Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
            other => Err(other),
        }
    }

    /// The HubSpot file ids of the pictures and videos the consumer sent in `chat_id`, uploading
    /// those not uploaded yet (each once: its id is kept the moment HubSpot answers).
    async fn attachments(&self, chat_id: &str) -> Result<Vec<String>, Attempted> {
        let store_err = |e: parley_store::StoreError| Attempted::Retry {
            status: None,
            error: format!("the database: {e}"),
            body: None,
            wait_ms: None,
        };
        let messages = self.store.transcript(chat_id).await.map_err(store_err)?;
        let inbound: Vec<String> = messages
            .iter()
            .filter(|m| m.direction == Direction::In && !m.media.is_empty())
            .map(|m| m.id.clone())
            .collect();
        let media = self.store.media_of_messages(&inbound).await.map_err(store_err)?;
        let mut ids = Vec::new();
        let mut n = 0;
        for m in media.iter().filter(|m| m.status == MediaStatus::Stored) {
            let kind = m.content_type.split('/').next().unwrap_or_default();
            if kind != "image" && kind != "video" {
                continue;
            }
            n += 1;
            let key = format!("file:{}", m.id);
            if let Some(id) = self.store.crm_object(&self.name, &key).await.map_err(store_err)? {
                ids.push(id);
                continue;
            }
            let Some((row, bytes)) = self.store.media(&m.id).await.map_err(store_err)? else { continue };
            let ext = row.content_type.split('/').nth(1).unwrap_or("bin").split(['+', ';']).next().unwrap_or("bin");
            let ext = if ext == "jpeg" { "jpg" } else { ext };
            let what = if kind == "image" { "photo" } else { "video" };
            let name = format!("chat-{chat_id}-{what}-{n}.{ext}");
            let part =
                reqwest::multipart::Part::bytes(bytes).file_name(name.clone()).mime_str(&row.content_type).map_err(
                    |e| Attempted::refused(format!("media {} has a content type HubSpot cannot take: {e}", m.id)),
                )?;
            let form = reqwest::multipart::Form::new()
                .part("file", part)
                .text("fileName", name)
                .text("folderPath", "/parley/chats")
                .text("options", json!({ "access": "PRIVATE" }).to_string());
            let uploaded = self.send(Method::POST, "/files/v3/files", Body::Multipart(form)).await?;
            let id = uploaded
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Attempted::refused("HubSpot's answer has no file id"))?
                .to_owned();
            self.store.set_crm_object(&self.name, &key, &id).await.map_err(store_err)?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// The contact's HubSpot id: kept, found by phone (and updated) or created. `Ok(None)` when
    /// several HubSpot contacts have the phone and the agent has not chosen yet.
    async fn contact_id(&self, contact_id: &str, chat_id: Option<&str>) -> Result<Option<String>, Attempted> {
        let store_err = |e: parley_store::StoreError| Attempted::Retry {
            status: None,
            error: format!("the database: {e}"),
            body: None,
            wait_ms: None,
        };
        if let Some(id) = self.store.crm_external_id(contact_id, &self.name).await.map_err(store_err)? {
            return Ok(Some(id));
        }
        let Some(contact) = self.store.crm_contact(contact_id).await.map_err(store_err)? else {
            return Err(Attempted::refused(format!("contact {contact_id} does not exist any more")));
        };
        let props = properties(&contact);
        // The agent chose "create a new one" among several: no search.
        let create = self.store.crm_object(&self.name, &create_key(contact_id)).await.map_err(store_err)?.is_some();
        let found = match contact.phones.first() {
            Some(_) if create => Vec::new(),
            Some(phone) => {
                let filter =
                    |property: &str| json!({"filters": [{"propertyName": property, "operator": "EQ", "value": phone}]});
                let search = json!({
                    "filterGroups": [filter("phone"), filter("mobilephone")],
                    "properties": ["firstname", "lastname", "email", "company", "phone", "mobilephone"],
                    "limit": 10,
                });
                let answer = self.call(Method::POST, "/crm/v3/objects/contacts/search", Some(&search)).await?;
                answer.get("results").and_then(Value::as_array).cloned().unwrap_or_default()
            }
            None => Vec::new(),
        };
        let id = match found.as_slice() {
            [] => {
                let created =
                    self.call(Method::POST, "/crm/v3/objects/contacts", Some(&json!({ "properties": props }))).await?;
                created.get("id").and_then(Value::as_str).map(str::to_owned)
            }
            [one] => {
                let id = one.get("id").and_then(Value::as_str).map(str::to_owned);
                if let Some(id) = &id {
                    self.call(
                        Method::PATCH,
                        &format!("/crm/v3/objects/contacts/{id}"),
                        Some(&json!({ "properties": props })),
                    )
                    .await?;
                }
                id
            }
            several => {
                let Some(chat_id) = chat_id else {
                    return Err(Attempted::refused(format!(
                        "{} HubSpot contacts have the contact's phone; link a chat of it to one of them",
                        several.len()
                    )));
                };
                let candidates: Vec<Value> = several.iter().map(candidate).collect();
                self.store
                    .set_crm_object(&self.name, &candidates_key(chat_id), &Value::from(candidates).to_string())
                    .await
                    .map_err(store_err)?;
                return Ok(None);
            }
        };
        let id = id.ok_or_else(|| Attempted::refused("HubSpot's answer has no contact id"))?;
        self.store.set_crm_external_id(contact_id, &self.name, &id).await.map_err(store_err)?;
        if create {
            self.store.delete_crm_object(&self.name, &create_key(contact_id)).await.map_err(store_err)?;
        }
        Ok(Some(id))
    }

    async fn record(&self, change: &RecordChange) -> Result<(), Attempted> {
        let (Some(contact_id), Some(record_id), Some(record)) = (&change.contact_id, &change.record_id, &change.record)
        else {
            return Err(Attempted::refused("a record change without its contact, record or chat"));
        };
        let Some(hubspot_id) = self.contact_id(contact_id, change.chat_id.as_deref()).await? else {
            return Err(Attempted::Retry {
                status: None,
                error: "several HubSpot contacts have this phone: waiting for the agent to choose \
                        (POST /api/v1/chats/{id}/contact/external)"
                    .to_owned(),
                body: None,
                wait_ms: Some(crate::workers::webhooks::MAX_RETRY_MS),
            });
        };
        let key = format!("note:{record_id}");
        let store_err = |e: parley_store::StoreError| Attempted::Retry {
            status: None,
            error: format!("the database: {e}"),
            body: None,
            wait_ms: None,
        };
        let mut properties = json!({ "hs_note_body": note_body(record), "hs_timestamp": rfc3339(record.opened_at) });
        let files = self.attachments(&record.chat_id).await?;
        if !files.is_empty() {
            properties["hs_attachment_ids"] = json!(files.join(";"));
        }
        match self.store.crm_object(&self.name, &key).await.map_err(store_err)? {
            Some(note) => {
                self.call(
                    Method::PATCH,
                    &format!("/crm/v3/objects/notes/{note}"),
                    Some(&json!({ "properties": properties })),
                )
                .await?;
            }
            None => {
                let body = json!({
                    "properties": properties,
                    "associations": [{
                        "to": { "id": hubspot_id },
                        "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT }],
                    }],
                });
                let created = self.call(Method::POST, "/crm/v3/objects/notes", Some(&body)).await?;
                let id = created
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Attempted::refused("HubSpot's answer has no note id"))?;
                self.store.set_crm_object(&self.name, &key, id).await.map_err(store_err)?;
            }
        }
        Ok(())
    }

    async fn contact_changed(&self, change: &RecordChange) -> Result<(), Attempted> {
        let what = change.data.get("change").and_then(Value::as_str).unwrap_or_default();
        let (Some(contact_id), Some(contact)) = (&change.contact_id, &change.contact) else { return Ok(()) };
        if !matches!(what, "created" | "updated") {
            return Ok(());
        }
        let kept = self.store.crm_external_id(contact_id, &self.name).await.map_err(|e| Attempted::Retry {
            status: None,
            error: format!("the database: {e}"),
            body: None,
            wait_ms: None,
        })?;
        match kept {
            Some(id) => {
                let body = json!({ "properties": properties(contact) });
                self.call(Method::PATCH, &format!("/crm/v3/objects/contacts/{id}"), Some(&body)).await?;
            }
            None => {
                // Several matches without a chat to choose in are left alone (nothing to append to).
                let _ = self.contact_id(contact_id, None).await?;
            }
        }
        Ok(())
    }

    async fn erased(&self, change: &RecordChange) -> Result<(), Attempted> {
        let prefix = format!("{}:", self.name);
        let ids: Vec<&str> = change
            .data
            .get("external_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|e| e.strip_prefix(&prefix))
            .collect();
        for id in ids {
            self.call(Method::POST, "/crm/v3/objects/contacts/gdpr-delete", Some(&json!({ "objectId": id }))).await?;
        }
        Ok(())
    }
}

impl Connector for HubSpot {
    fn wants(&self, _change: &str) -> bool {
        true
    }

    fn deliver<'a>(&'a self, change: &'a RecordChange) -> BoxFuture<'a, Attempted> {
        Box::pin(async move {
            let done = match change.change.as_str() {
                "crm.contact.changed" => self.contact_changed(change).await,
                "crm.contact.erased" => self.erased(change).await,
                _ => self.record(change).await,
            };
            match done {
                Ok(()) => Attempted::Delivered { status: Some(200) },
                Err(a) => a,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_waits_retry_after_or_the_interval_when_nothing_remains() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("x-hubspot-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-hubspot-ratelimit-interval-milliseconds", "10000".parse().unwrap());
        assert_eq!(retry_after(&h), Some(10_000));
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(3_000));
    }

    #[test]
    fn properties_split_the_name_and_leave_out_what_is_unknown() {
        let c = CrmContact {
            id: "CT1".into(),
            name: Some("Ada Lovelace King".into()),
            email: None,
            company: Some("Analytical".into()),
            phones: vec!["+15550001".into()],
        };
        assert_eq!(
            properties(&c),
            json!({"firstname": "Ada", "lastname": "Lovelace King", "company": "Analytical", "phone": "+15550001"})
        );
        assert_eq!(properties(&CrmContact { id: "CT2".into(), ..CrmContact::default() }), json!({}));
    }
}
