//! The OpenAPI document describes the API the router serves: every `/api/v1` path with its methods,
//! and every path it lists is really served; every route of the router is in it but the pages listed
//! in [`NOT_API`]; it is the document `parley openapi` prints (which CI checks with
//! openapi-spec-validator); query parameters are in the query and every response is described.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{ADMIN, TestApp};

/// Every `/api/v1` operation the router serves, besides the document itself.
const API: &[(&str, &str)] = &[
    ("/api/v1/setup", "get"),
    ("/api/v1/setup", "put"),
    ("/api/v1/setup/preview", "post"),
    ("/api/v1/tokens", "post"),
    ("/api/v1/tokens", "get"),
    ("/api/v1/tokens/{id}", "delete"),
    ("/api/v1/sms/segments", "post"),
    ("/api/v1/media/{id}", "get"),
    ("/api/v1/media", "post"),
    ("/api/v1/numbers", "get"),
    ("/api/v1/numbers/{e164}", "get"),
    ("/api/v1/numbers/{e164}/state", "put"),
    ("/api/v1/me", "get"),
    ("/api/v1/me/status", "put"),
    ("/api/v1/me/stats", "get"),
    ("/api/v1/phones/{e164}/chats", "get"),
    ("/api/v1/chats/{id}/thread", "get"),
    ("/api/v1/me/numbers", "get"),
    ("/api/v1/agents", "get"),
    ("/api/v1/queues", "get"),
    ("/api/v1/reports/{kind}", "get"),
    ("/api/v1/monitor/chats", "get"),
    ("/api/v1/agents/{id}/stats", "get"),
    ("/api/v1/chats", "get"),
    ("/api/v1/chats/{id}", "get"),
    ("/api/v1/chats/{id}/notes", "post"),
    ("/api/v1/chats/{id}/accept", "post"),
    ("/api/v1/chats/{id}/messages", "post"),
    ("/api/v1/chats/{id}/replies/{reply_id}", "post"),
    ("/api/v1/replies", "get"),
    ("/api/v1/chats/{id}/end", "post"),
    ("/api/v1/chats/{id}/dismiss", "post"),
    ("/api/v1/chats/{id}/resume", "post"),
    ("/api/v1/queues/{id}/settings", "get"),
    ("/api/v1/queues/{id}/ewt", "get"),
    ("/api/v1/chats/{id}/transcript", "get"),
    ("/api/v1/chats/{id}/export.zip", "get"),
    ("/api/v1/chats/{id}/scheduled", "get"),
    ("/api/v1/messages/{id}", "get"),
    ("/api/v1/messages/{id}", "delete"),
    ("/api/v1/messages/{id}/resend", "post"),
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
    ("/api/v1/blocklist", "get"),
    ("/api/v1/blocklist", "post"),
    ("/api/v1/blocklist/{e164}", "get"),
    ("/api/v1/blocklist/{e164}", "delete"),
    ("/api/v1/webhooks", "get"),
    ("/api/v1/webhooks", "post"),
    ("/api/v1/webhooks/{id}", "get"),
    ("/api/v1/webhooks/{id}", "patch"),
    ("/api/v1/webhooks/{id}", "delete"),
    ("/api/v1/webhooks/{id}/rotate-secret", "post"),
    ("/api/v1/webhooks/{id}/deliveries", "get"),
    ("/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", "post"),
    ("/api/v1/crm/deliveries", "get"),
    ("/api/v1/crm/deliveries/{id}/replay", "post"),
    ("/api/v1/chats/{id}/contact/external", "get"),
    ("/api/v1/chats/{id}/contact/external", "post"),
    ("/api/v1/contacts", "get"),
    ("/api/v1/contacts", "post"),
    ("/api/v1/contacts/{id}", "get"),
    ("/api/v1/contacts/{id}", "patch"),
    ("/api/v1/contacts/{id}", "delete"),
    ("/api/v1/contacts/{id}/merge", "post"),
    ("/api/v1/contacts.csv", "get"),
    ("/api/v1/ivr/calls", "post"),
    ("/api/v1/ivr/calls", "get"),
    ("/api/v1/ivr/calls/{id}", "get"),
    ("/api/v1/ivr/calls/{id}", "put"),
    ("/api/v1/ivr/calls/{id}/deflection", "post"),
    ("/api/v1/ivr/calls/{id}/deflection/accept", "post"),
    ("/api/v1/ivr/calls/{id}/deflection/decline", "post"),
    ("/api/v1/ivr/calls/{id}/wait-sms", "post"),
    ("/api/v1/ivr/calls/{id}/messages", "post"),
    ("/api/v1/ivr/calls/{id}/messages", "get"),
    ("/api/v1/app-sessions/{token}", "post"),
    ("/api/v1/ivr/queues", "get"),
    ("/api/v1/ivr/queues/{id}/ewt", "get"),
    ("/api/v1/chats/{id}/contact", "get"),
    ("/api/v1/chats/{id}/contact", "post"),
    ("/2010-04-01/Accounts/{AccountSid}/Messages.json", "post"),
    ("/2010-04-01/Accounts/{AccountSid}/Messages.json", "get"),
    ("/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}", "get"),
];

/// The routes that are not API and so not in the document: pages for people, the simulator's phone
/// page, carriers' webhooks, health and metrics, and the document itself. Each is checked to be routed.
const NOT_API: &[(&str, &str)] = &[
    ("/", "get"),
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/metrics", "get"),
    ("/api/v1/openapi.json", "get"),
    ("/api/v1", "get"),
    ("/api/docs", "get"),
    ("/assets/reference.js", "get"),
    ("/assets/reference.css", "get"),
    ("/login", "get"),
    ("/login", "post"),
    ("/logout", "post"),
    ("/console", "get"),
    ("/console/chats/{id}", "get"),
    ("/console/admin", "get"),
    ("/console/contacts", "get"),
    ("/console/reports", "get"),
    ("/favicon.ico", "get"),
    ("/assets/console.js", "get"),
    ("/assets/admin.js", "get"),
    ("/assets/reports.js", "get"),
    ("/assets/console.css", "get"),
    ("/assets/admin.css", "get"),
    ("/sim/phone", "get"),
    ("/webhooks/twilio/{carrier}", "post"),
    ("/webhooks/twilio/{carrier}/status", "post"),
    ("/webhooks/twilio-voice/{carrier}", "post"),
    ("/webhooks/twilio-voice/{carrier}/gather", "post"),
    ("/webhooks/twilio-voice/{carrier}/status", "post"),
    ("/media/{id}", "get"),
];

/// Every path the server's source routes by hand (`.route("PATH", ...)`); the `routes!` ones take their
/// path from the handler's OpenAPI annotation, so they are in the document by construction. axum cannot
/// list a router's routes, so the source is where they are enumerated.
fn hand_routed_paths() -> Vec<String> {
    let mut paths = vec![];
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("the source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                for piece in text.split(".route(\"").skip(1) {
                    paths.push(piece.split('"').next().expect("a path literal").to_owned());
                }
            }
        }
    }
    paths
}

#[test]
fn every_hand_made_route_is_api_documented_or_listed_as_not_api() {
    let doc = serde_json::to_value(parley_server::http::openapi_document(true)).expect("json");
    let documented = doc["paths"].as_object().expect("paths");
    let routed = hand_routed_paths();
    assert!(routed.iter().any(|p| p == "/healthz"), "the source scan finds the hand-made routes: {routed:?}");
    for path in &routed {
        assert!(
            NOT_API.iter().any(|(p, _)| p == path) || documented.contains_key(path),
            "{path} is routed by hand but neither in the document nor in NOT_API"
        );
    }
    for (path, _) in NOT_API {
        assert!(routed.contains(&(*path).to_owned()), "{path} is in NOT_API but not routed by hand");
        assert!(!documented.contains_key(*path), "{path} is in NOT_API and in the document");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_where_validators_looked_and_is_the_one_the_cli_prints() {
    let app = TestApp::with_standard_setup().await;
    let served = app.request(Method::GET, "/api/v1/openapi.json", None, None).await.expect_status(200).body;
    let printed = serde_json::to_value(parley_server::http::openapi_document(true)).expect("json");
    assert_eq!(served, printed, "the served document and `parley openapi` differ");

    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, ops) in served["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations").iter().filter(|(m, _)| is_method(m)) {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(operation_ids.insert(id.clone()), "operationId {id} is used twice ({method} {path})");
            for p in op["parameters"].as_array().into_iter().flatten() {
                let placed = p["in"].as_str().unwrap_or_default();
                let name = p["name"].as_str().unwrap_or_default();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(placed == "path", in_path, "{method} {path}: parameter {name} is declared in {placed}");
                if placed == "path" {
                    assert_eq!(p["required"], true, "{method} {path}: path parameter {name}");
                }
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                let described = response["description"].as_str().is_some_and(|d| !d.is_empty());
                assert!(described, "{method} {path}: response {status} has no description");
            }
            if op["security"].is_array() {
                assert!(op["responses"]["401"].is_object(), "{method} {path} does not list 401");
            }
            if op["requestBody"].is_object() {
                assert!(op["responses"]["422"].is_object(), "{method} {path} does not list 422");
            }
            assert!(op["responses"]["503"].is_object(), "{method} {path} does not list 503");
        }
    }
    let chats = &served["paths"]["/api/v1/chats"]["get"]["parameters"];
    let status = chats.as_array().expect("params").iter().find(|p| p["name"] == "status").expect("status");
    assert_eq!((&status["in"], &status["required"]), (&serde_json::json!("query"), &serde_json::json!(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_that_are_not_api_are_routed_and_documented_methods_are_the_only_ones() {
    let app = TestApp::with_standard_setup().await;
    for (path, method) in NOT_API {
        let concrete = path.replace("{carrier}", "sim");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
        let reply = app.request(method.clone(), &concrete, None, None).await;
        let fallback = reply.body["error"]["message"].as_str().is_some_and(|m| m.starts_with("no such endpoint"));
        assert!(!fallback && reply.status.as_u16() != 405, "{method} {concrete} is not routed: {}", reply.status);
    }
    // A documented path answers any method it does not document with 405: its methods are all listed.
    let doc = app.request(Method::GET, "/api/v1/openapi.json", None, None).await.expect_status(200).body;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{id}", "0190d7a2-0000-7000-8000-000000000000")
            .replace("{e164}", "+14155550170")
            .replace("{reply_id}", "r1")
            .replace("{username}", "nobody")
            .replace("{phone}", "+14155550170");
        for method in ["get", "put", "post", "delete", "patch"] {
            if ops.get(method).is_some() || (concrete == "/api/v1/events" && method == "get") {
                continue;
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            let reply = app.request(m, &concrete, Some(ADMIN), None).await;
            assert_eq!(reply.status.as_u16(), 405, "{method} {concrete} is served but not documented");
        }
    }
}

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
