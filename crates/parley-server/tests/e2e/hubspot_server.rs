//! A local server that speaks HubSpot's CRM v3 shape for the connector's tests: contacts search,
//! create and update, notes create and update, GDPR delete, file uploads (multipart, recorded as
//! `{"fields": {...}, "file": {"filename", "content_type", "bytes"}}`). It records every request (method, path,
//! authorization, JSON body) and can be told to answer the next requests of a path with a status
//! and headers of the test's choosing (a 429 with HubSpot's rate-limit headers, a 500, a 400).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One request the server got.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) authorization: String,
    pub(crate) body: Value,
    /// The status it was answered with.
    pub(crate) status: u16,
}

/// A scripted answer for the next request to a method and path.
struct Scripted {
    method: String,
    path: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

#[derive(Default)]
struct State {
    requests: Vec<Request>,
    scripted: VecDeque<Scripted>,
    /// The contacts HubSpot has: (id, phone, properties).
    contacts: Vec<(String, String, Value)>,
    notes: Vec<(String, Value)>,
    next_id: u64,
    /// Answer every request with this status (an outage), while set.
    down: Option<u16>,
}

#[derive(Clone)]
pub(crate) struct HubSpotServer {
    pub(crate) base: String,
    state: Arc<Mutex<State>>,
}

impl HubSpotServer {
    pub(crate) async fn start() -> HubSpotServer {
        let state: Arc<Mutex<State>> = Arc::default();
        let s = state.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move { answer(&s, &method, &uri, &headers, &body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        HubSpotServer { base, state }
    }

    /// A contact HubSpot already has.
    pub(crate) fn has_contact(&self, id: &str, phone: &str, properties: Value) {
        self.state.lock().unwrap().contacts.push((id.to_owned(), phone.to_owned(), properties));
    }

    /// The next request to `method path` is answered `status` with `headers` and `body`.
    pub(crate) fn script(&self, method: &str, path: &str, status: u16, headers: &[(&str, &str)], body: Value) {
        self.state.lock().unwrap().scripted.push_back(Scripted {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            body,
        });
    }

    /// Every request is answered `status` (Some) or served again (None).
    pub(crate) fn down(&self, status: Option<u16>) {
        self.state.lock().unwrap().down = status;
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The requests answered 2xx, as "METHOD path".
    pub(crate) fn served(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The notes HubSpot has: (id, properties).
    pub(crate) fn notes(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().notes.clone()
    }
}

fn answer(state: &Mutex<State>, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    let mut s = state.lock().unwrap();
    let path = uri.path().to_owned();
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let json: Value = match content_type.split_once("boundary=") {
        Some((kind, boundary)) if kind.starts_with("multipart/form-data") => {
            multipart(body, boundary.trim_matches('"'))
        }
        _ => serde_json::from_slice(body).unwrap_or(Value::Null),
    };
    let mut record =
        Request { method: method.to_string(), path: path.clone(), authorization, body: json.clone(), status: 0 };
    if let Some(status) = s.down {
        record.status = status;
        s.requests.push(record);
        return (StatusCode::from_u16(status).unwrap(), "down").into_response();
    }
    if let Some(i) = s.scripted.iter().position(|x| x.method == method.as_str() && x.path == path) {
        let x = s.scripted.remove(i).unwrap();
        record.status = x.status;
        s.requests.push(record);
        let mut response = (StatusCode::from_u16(x.status).unwrap(), axum::Json(x.body)).into_response();
        for (k, v) in x.headers {
            response.headers_mut().insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                axum::http::HeaderValue::from_str(&v).unwrap(),
            );
        }
        return response;
    }
    let (status, out) = serve(&mut s, method.as_str(), &path, &json);
    record.status = status;
    s.requests.push(record);
    (StatusCode::from_u16(status).unwrap(), axum::Json(out)).into_response()
}

/// A multipart/form-data body as JSON: text fields by name, and the `file` part's name, type and bytes.
fn multipart(body: &[u8], boundary: &str) -> Value {
    let delimiter = format!("--{boundary}");
    let text = body.iter().map(|b| char::from(*b)).collect::<String>();
    let mut fields = serde_json::Map::new();
    let mut file = Value::Null;
    for part in text.split(delimiter.as_str()).skip(1) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else { continue };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let attr = |key: &str| {
            head.split(';')
                .find_map(|p| p.trim().strip_prefix(&format!("{key}=\"")).map(|v| v.trim_end_matches('"').to_owned()))
        };
        let name = attr("name").unwrap_or_default();
        let bytes: Vec<u8> = content.chars().map(|c| c as u8).collect();
        if let Some(filename) = attr("filename") {
            let kind = head.lines().find_map(|l| l.strip_prefix("Content-Type: ").or(l.strip_prefix("content-type: ")));
            file = json!({"name": name, "filename": filename, "content_type": kind, "bytes": bytes});
        } else {
            fields.insert(name, Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    json!({"fields": fields, "file": file})
}

fn serve(s: &mut State, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let mut id = |prefix: &str| {
        s.next_id += 1;
        format!("{prefix}{}", s.next_id)
    };
    match (method, path) {
        ("POST", "/crm/v3/objects/contacts/search") => {
            let phones: Vec<String> = body["filterGroups"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g["filters"][0]["value"].as_str().map(str::to_owned))
                .collect();
            let results: Vec<Value> = s
                .contacts
                .iter()
                .filter(|(_, phone, _)| phones.contains(phone))
                .map(|(id, _, p)| json!({"id": id, "properties": p}))
                .collect();
            (200, json!({"total": results.len(), "results": results}))
        }
        ("POST", "/crm/v3/objects/contacts") => {
            let new = id("c");
            let phone = body["properties"]["phone"].as_str().unwrap_or_default().to_owned();
            s.contacts.push((new.clone(), phone, body["properties"].clone()));
            (201, json!({"id": new, "properties": body["properties"]}))
        }
        ("POST", "/crm/v3/objects/notes") => {
            let new = id("n");
            s.notes.push((new.clone(), body["properties"].clone()));
            (201, json!({"id": new, "properties": body["properties"]}))
        }
        ("POST", "/crm/v3/objects/contacts/gdpr-delete") => (204, Value::Null),
        ("POST", "/files/v3/files") if !body["file"].is_null() => {
            let new = id("f");
            (201, json!({"id": new, "name": body["fields"]["fileName"], "access": "PRIVATE"}))
        }
        ("PATCH", p) if p.starts_with("/crm/v3/objects/notes/") => {
            let note = p.trim_start_matches("/crm/v3/objects/notes/").to_owned();
            match s.notes.iter_mut().find(|(id, _)| *id == note) {
                Some((_, props)) => {
                    *props = body["properties"].clone();
                    (200, json!({"id": note}))
                }
                None => (404, json!({"status": "error", "message": "resource not found"})),
            }
        }
        ("PATCH", p) if p.starts_with("/crm/v3/objects/contacts/") => {
            (200, json!({"id": p.trim_start_matches("/crm/v3/objects/contacts/")}))
        }
        _ => (404, json!({"status": "error", "message": "unknown path"})),
    }
}
