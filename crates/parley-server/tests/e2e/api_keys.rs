//! API keys (docs/integrations.md "API keys"): minted, listed without their tokens, revoked at once on
//! every node; scopes enforced for every operation exactly as the OpenAPI document names them; expiry;
//! the per-key rate of sending requests, counted for the deployment.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_server::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Auth, SUPPORT, TestApp, standard_setup};

const T0: i64 = 1_798_000_000_000;

async fn mint(app: &TestApp, body: Value) -> Value {
    app.request(Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&body)).await.expect_status(201).body
}

fn on_postgres() -> bool {
    std::env::var(parley_store::testing::ENV).is_ok_and(|url| !url.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_shown_once_listed_without_secrets_and_revoked_at_once_on_every_node() {
    let app = TestApp::with_standard_setup().await;
    let other = if on_postgres() { Some(app.second_node().await) } else { None };
    let key = mint(&app, json!({"name": "order-system", "scopes": ["sms:send", "chats:read", "sms:send"]})).await;
    let (id, token) = (key["id"].as_str().unwrap(), key["token"].as_str().unwrap());
    assert!(id.starts_with("SK") && id.len() == 34, "{key}");
    assert!(key["account_sid"].as_str().unwrap().starts_with("AC"), "{key}");
    assert_eq!(key["scopes"], json!(["sms:send", "chats:read"]), "a scope named twice is kept once: {key}");
    assert_eq!(
        (&key["name"], &key["role"], &key["rate_per_second"]),
        (&json!("order-system"), &json!("admin"), &json!(10))
    );

    let listed = app.request(Method::GET, "/api/v1/tokens", Some(ADMIN), None).await.expect_status(200).body;
    assert!(!listed.to_string().contains(token), "the list never shows a token: {listed}");
    let item = listed["items"].as_array().unwrap().iter().find(|k| k["id"] == id).expect("the key is listed").clone();
    assert_eq!(
        (&item["name"], &item["scopes"], &item["last_used"]),
        (&json!("order-system"), &key["scopes"], &Value::Null)
    );

    app.request(Method::GET, "/api/v1/chats", Some(token), None).await.expect_status(200);
    app.request_with(Method::GET, "/api/v1/chats", Auth::Basic(id, token), &[], None).await.expect_status(200);
    app.request_with(Method::GET, "/api/v1/chats", Auth::Basic(id, "not-the-token"), &[], None)
        .await
        .expect_error(401, "unauthorized");
    let listed = app.request(Method::GET, "/api/v1/tokens", Some(ADMIN), None).await.body;
    let item = listed["items"].as_array().unwrap().iter().find(|k| k["id"] == id).unwrap().clone();
    assert!(item["last_used"].is_string(), "a use is recorded: {item}");

    let agent_key = mint(&app, json!({"agent": "alice"})).await;
    app.request(Method::GET, "/api/v1/tokens", Some(agent_key["token"].as_str().unwrap()), None)
        .await
        .expect_error(403, "forbidden");
    app.request(Method::GET, "/api/v1/tokens", Some(token), None).await.expect_error(403, "insufficient_scope");

    app.request(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(ADMIN), None).await.expect_status(204);
    app.request(Method::GET, "/api/v1/chats", Some(token), None).await.expect_error(401, "unauthorized");
    if let Some(other) = &other {
        other.request(Method::GET, "/api/v1/chats", Some(token), None).await.expect_error(401, "unauthorized");
    }
    app.request(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(ADMIN), None)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_refuse_bad_requests_and_stop_working_when_they_expire() {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&standard_setup()).await;
    let post = |body: Value| {
        let app = &app;
        async move { app.request(Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&body)).await }
    };

    let reply = post(json!({"scopes": ["sms:send", "sms:write"]})).await;
    let message = reply.expect_error(422, "validation_failed");
    assert!(message.contains("sms:write") && message.contains("chats:read") && message.contains("ivr"), "{message}");
    assert_eq!(reply.body["error"]["details"][0]["field"], "/scopes/1");
    post(json!({"scopes": []})).await.expect_error(422, "validation_failed");
    post(json!({"expires_at": "2020-01-01T00:00:00Z"})).await.expect_error(422, "validation_failed");
    post(json!({"expires_at": "tomorrow"})).await.expect_error(422, "validation_failed");
    post(json!({"rate_per_second": 0})).await.expect_error(422, "validation_failed");
    post(json!({"agent": "nobody"})).await.expect_error(422, "validation_failed");
    post(json!({"role": "admin", "agent": "alice"})).await.expect_error(422, "validation_failed");
    let listed = app.request(Method::GET, "/api/v1/tokens", Some(ADMIN), None).await.body;
    assert_eq!(listed["items"], json!([]), "nothing half-made: {listed}");

    let hour_later = chrono::DateTime::from_timestamp_millis(T0 + 3_600_000).unwrap().to_rfc3339();
    let key = mint(&app, json!({"scopes": ["chats:read"], "expires_at": hour_later})).await;
    let token = key["token"].as_str().unwrap();
    app.request(Method::GET, "/api/v1/chats", Some(token), None).await.expect_status(200);
    now.fetch_add(3_600_000, Ordering::SeqCst);
    let message = app.request(Method::GET, "/api/v1/chats", Some(token), None).await.expect_error(401, "unauthorized");
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_send_at_their_rate_for_the_whole_deployment_and_get_retry_after() {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&standard_setup()).await;
    let other = if on_postgres() { Some(app.second_node().await) } else { None };
    let key = mint(&app, json!({"scopes": ["sms:send", "chats:read"], "rate_per_second": 2})).await;
    let token = key["token"].as_str().unwrap();
    // A body the handler refuses: the rate counts the request before the body is looked at, and no
    // message goes out while the test counts.
    let bad = json!({"end_user_number": "not a phone", "outbound_number": SUPPORT, "message": "hi"});
    async fn send_with(app: &TestApp, token: &str, body: &Value) -> crate::harness::Reply {
        app.request(Method::POST, "/api/v1/outbound/messages", Some(token), Some(body)).await
    }
    let send = |app| send_with(app, token, &bad);
    send(&app).await.expect_error(422, "validation_failed");
    match &other {
        Some(other) => send(other).await.expect_error(422, "validation_failed"),
        None => send(&app).await.expect_error(422, "validation_failed"),
    };
    let refused = match &other {
        Some(other) => send(other).await,
        None => send(&app).await,
    };
    let message = refused.expect_error(429, "rate_limited");
    assert!(message.contains("2 requests per second"), "{message}");
    assert_eq!(refused.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    app.request(Method::GET, "/api/v1/chats", Some(token), None).await.expect_status(200);

    now.fetch_add(500, Ordering::SeqCst);
    send(&app).await.expect_error(422, "validation_failed");
    send(&app).await.expect_error(429, "rate_limited");
    let admin = app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&bad)).await;
    admin.expect_error(422, "validation_failed");
}

/// A path of the document with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{e164}", "+15550009999")
        .replace("{AccountSid}", "AC00000000000000000000000000000000")
        .split('/')
        .map(|segment| if segment.starts_with('{') { "x" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The alternatives of scopes an operation's `security` names for keys.
fn needs(op: &Value) -> Vec<BTreeSet<String>> {
    let mut out = Vec::new();
    for requirement in op["security"].as_array().into_iter().flatten() {
        for scheme in ["bearer", "basic"] {
            if let Some(scopes) = requirement[scheme].as_array()
                && !scopes.is_empty()
            {
                out.push(scopes.iter().map(|s| s.as_str().unwrap().to_owned()).collect());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_every_operation_refuses_a_key_without_its_scope_and_admits_one_with_it() {
    let app = TestApp::with_standard_setup().await;
    let doc = app.request(Method::GET, "/api/v1/openapi.json", None, None).await.expect_status(200).body;
    let all: BTreeSet<String> = [
        "sms:send",
        "chats:read",
        "chats:write",
        "setup:read",
        "setup:write",
        "consent:write",
        "webhooks:manage",
        "contacts:read",
        "contacts:write",
        "reports:read",
        "ivr",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let mut keys: HashMap<BTreeSet<String>, String> = HashMap::new();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some() || r.get("basic").is_some()));
            if !secured {
                continue;
            }
            let needs = needs(op);
            // Refused: every scope but those the operation could use (for role-only operations, all).
            let lacking: BTreeSet<String> =
                all.iter().filter(|s| !needs.iter().any(|alt| alt.contains(*s))).cloned().collect();
            let mut cases = vec![(lacking, false)];
            if let Some(first) = needs.first() {
                cases.push((first.clone(), true));
            }
            for (scopes, allowed) in cases {
                if scopes.is_empty() {
                    continue;
                }
                if !keys.contains_key(&scopes) {
                    let key =
                        mint(&app, json!({"name": "scope test", "scopes": scopes, "rate_per_second": 1000})).await;
                    keys.insert(scopes.clone(), key["token"].as_str().unwrap().to_owned());
                }
                let token = &keys[&scopes];
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let url = format!("{}{}", app.base, concrete(path));
                let mut req = client.request(method.clone(), &url).bearer_auth(token);
                if method != Method::GET && method != Method::DELETE {
                    req = req.json(&json!({}));
                }
                // Only the status and the head of the body: an event stream never ends.
                let response = req.send().await.unwrap();
                let status = response.status().as_u16();
                let body = if response
                    .headers()
                    .get("content-type")
                    .is_some_and(|c| c.as_bytes().starts_with(b"text/event-stream"))
                {
                    String::new()
                } else {
                    response.text().await.unwrap_or_default()
                };
                // The Twilio-compatible API says it in Twilio's words (20403).
                let insufficient =
                    status == 403 && (body.contains("insufficient_scope") || body.contains("\"code\":20403"));
                if allowed {
                    assert!(!insufficient, "{method} {path} refused a key with {scopes:?}: {body}");
                } else {
                    assert!(insufficient, "{method} {path} let a key with {scopes:?} through: {status} {body}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 60, "only {checked} checks: did the document lose its operations?");
}
