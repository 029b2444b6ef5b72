//! `kind = "webhook"`: each record change as signed JSON to one URL, for wiring any CRM.
//!
//! Body: `{"type", "connector", "contact_id", "record_id", "chat_id", "timestamp", "contact", "data"}`
//! (docs/crm.md "### webhook"); `data.record` is the whole record up to the change for the
//! `crm.record.*` types. Signed like the event webhooks (Standard Webhooks: `webhook-id`,
//! `webhook-timestamp`, `webhook-signature`), with the change's idempotency key as `webhook-id`, so a
//! receiver drops a retry it already has. The URL follows the webhooks' address rule at every request.

use futures::future::BoxFuture;
use serde_json::json;

use super::record::{RecordChange, contact_json};
use super::{Attempted, Connector};
use crate::clock::rfc3339;
use crate::workers::webhooks::{signing, target};

pub struct WebhookConnector {
    pub name: String,
    pub url: String,
    /// "whsec_" + base64; never logged.
    pub secret: String,
    /// The change types to send; `None`: all.
    pub events: Option<Vec<String>>,
    pub client: reqwest::Client,
    pub allow_private: bool,
}

/// The body of a change.
pub fn body(change: &RecordChange) -> String {
    let mut data = change.data.clone();
    if let (Some(record), Some(object)) = (&change.record, data.as_object_mut()) {
        object.insert("record".to_owned(), record.json());
    } else if let Some(record) = &change.record {
        data = json!({ "value": data, "record": record.json() });
    }
    json!({
        "type": change.change,
        "connector": change.connector,
        "contact_id": change.contact_id,
        "record_id": change.record_id,
        "chat_id": change.chat_id,
        "timestamp": rfc3339(change.at),
        "contact": change.contact.as_ref().map(contact_json),
        "data": data,
    })
    .to_string()
}

impl Connector for WebhookConnector {
    fn wants(&self, change: &str) -> bool {
        self.events.as_ref().is_none_or(|e| e.iter().any(|t| t == change || t == "*"))
    }

    fn deliver<'a>(&'a self, change: &'a RecordChange) -> BoxFuture<'a, Attempted> {
        Box::pin(async move {
            let url = match target::check_form(&self.url, self.allow_private) {
                Ok(url) => url,
                Err(e) => return Attempted::refused(e.to_string()),
            };
            // A host given as an address is never resolved, so the resolver's check does not see it.
            if let Some(ip) = url.host_str().and_then(|h| h.trim_matches(['[', ']']).parse().ok())
                && let Err(e) = target::check_addr(url.host_str().unwrap_or_default(), ip, self.allow_private)
            {
                return Attempted::refused(e.to_string());
            }
            let body = body(change);
            let timestamp = chrono::Utc::now().timestamp();
            let signature = signing::header(&[&self.secret], &change.idempotency_key, timestamp, &body);
            let sent = self
                .client
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", &change.idempotency_key)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body)
                .send()
                .await;
            match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let wait = super::hubspot::retry_after(response.headers());
                    let text = response.text().await.unwrap_or_default();
                    Attempted::of_status(status, text, wait)
                }
                Err(e) => Attempted::unreachable(&e),
            }
        })
    }
}
