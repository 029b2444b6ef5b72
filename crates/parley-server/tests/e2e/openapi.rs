//! The OpenAPI document describes the API the router serves: every `/api/v1` path with its methods,
//! and every path it lists is really served.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{ADMIN, TestApp};

/// Every `/api/v1` operation the router serves, besides the document itself.
const API: &[(&str, &str)] = &[
    ("/api/v1/setup", "get"),
    ("/api/v1/setup", "put"),
    ("/api/v1/tokens", "post"),
    ("/api/v1/sms/segments", "post"),
    ("/api/v1/media/{id}", "get"),
    ("/api/v1/numbers", "get"),
    ("/api/v1/numbers/{e164}", "get"),
    ("/api/v1/numbers/{e164}/state", "put"),
    ("/api/v1/me", "get"),
    ("/api/v1/me/status", "put"),
    ("/api/v1/me/stats", "get"),
    ("/api/v1/agents", "get"),
    ("/api/v1/queues", "get"),
    ("/api/v1/chats", "get"),
    ("/api/v1/chats/{id}", "get"),
    ("/api/v1/chats/{id}/accept", "post"),
    ("/api/v1/chats/{id}/messages", "post"),
    ("/api/v1/chats/{id}/replies/{reply_id}", "post"),
    ("/api/v1/replies", "get"),
    ("/api/v1/chats/{id}/end", "post"),
    ("/api/v1/chats/{id}/transcript", "get"),
    ("/api/v1/chats/{id}/transfer", "post"),
    ("/api/v1/chats/{id}/transfer/accept", "post"),
    ("/api/v1/chats/{id}/transfer/decline", "post"),
    ("/api/v1/events", "get"),
    ("/api/v1/phones/{e164}", "delete"),
    ("/api/v1/phones/{e164}/consent", "get"),
    ("/api/v1/phones/{e164}/consent", "post"),
    ("/api/v1/outbound/chats", "post"),
    ("/api/v1/outbound/messages", "post"),
    ("/api/v1/outbound/messages/{id}", "get"),
    ("/api/v1/audit", "get"),
    ("/api/v1/session", "get"),
    ("/api/v1/users", "get"),
    ("/api/v1/users", "post"),
    ("/api/v1/users/{username}", "put"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_api_path_and_only_served_ones() {
    let app = TestApp::with_standard_setup().await;
    let doc = app.request(Method::GET, "/api/v1/openapi.json", None, None).await.expect_status(200).body;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");

    for (path, method) in API {
        let op = &paths.get(*path).unwrap_or_else(|| panic!("{path} is missing from the document"))[method];
        assert!(op.is_object(), "{method} {path} is missing from the document");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
        assert!(op["security"].is_array(), "{method} {path} does not say it needs a bearer token");
    }
    let listed: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object().into_iter().flatten().filter(|(m, _)| is_method(m)).map(|(m, _)| (path.clone(), m.clone()))
        })
        .collect();
    for (path, method) in listed.iter().filter(|(p, _)| p.starts_with("/api/v1")) {
        assert!(
            API.contains(&(path.as_str(), method.as_str())),
            "{method} {path} is documented but not known to this test"
        );
    }

    // Every documented operation is routed: it answers something other than the router's fallbacks.
    for (path, method) in &listed {
        let concrete = path.replace("{id}", "0190d7a2-0000-7000-8000-000000000000").replace("{e164}", "+14155550170");
        if concrete == "/api/v1/events" {
            continue; // a stream; opened in the events tests
        }
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
        let body = (method != Method::GET).then(|| serde_json::json!({}));
        let reply = app.request(method.clone(), &concrete, Some(ADMIN), body.as_ref()).await;
        assert_ne!(reply.status.as_u16(), 405, "{method} {concrete}: {}", reply.body);
        let fallback = reply.body["error"]["message"].as_str().is_some_and(|m| m.starts_with("no such endpoint"));
        assert!(!fallback, "{method} {concrete} is documented but not routed");
    }

    // The error codes of the contract are in the document.
    let codes = &doc["components"]["schemas"]["ErrorCode"];
    let codes: Vec<&str> = codes["enum"]
        .as_array()
        .or_else(|| codes["oneOf"].as_array())
        .map(|v| v.iter().filter_map(code_name).collect())
        .unwrap_or_default();
    for code in
        ["unauthorized", "forbidden", "not_found", "conflict", "opted_out", "validation_failed", "number_not_set_up"]
    {
        assert!(codes.contains(&code), "{code} is not in the ErrorCode schema: {codes:?}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

fn is_method(name: &str) -> bool {
    matches!(name, "get" | "put" | "post" | "delete" | "patch" | "head" | "options")
}

/// An enum value, whether the schema lists plain strings or one sub-schema per documented variant.
fn code_name(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v["enum"][0].as_str())
}
