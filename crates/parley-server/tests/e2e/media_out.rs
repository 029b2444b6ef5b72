//! Outbound MMS: agents and integrations upload a file (`POST /api/v1/media`) and send it with
//! `media_ids`. The simulator phone gets the media and the bytes behind its URL are the uploaded
//! ones; a Twilio-compatible carrier gets `MediaUrl` fields that are signed, expiring URLs under
//! `public_url`; a number on an SMPP account refuses media before anything is queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_server::clock::Clock;
use parley_server::config::{CarrierConfig, Secret};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{ADMIN, Reply, SALES, SUPPORT, TestApp, eventually, standard_setup};

const PHONE: &str = "+14155550190";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];
const GIF: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!";
const MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";

/// 2026-06-01 16:00 UTC: inside every test phone's allowed hours, so proactive messages go out at once.
const T0: i64 = 1_780_329_600_000;

/// A server on a clock held at [`T0`] (the test moves it), with `change` made to its configuration.
async fn app_at_t0(
    change: impl FnOnce(parley_server::config::Config) -> parley_server::config::Config,
) -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(change, Clock::Manual(now.clone())).await;
    (app, now)
}

/// One part of a multipart/form-data body: field name, file name, content type, bytes.
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart/form-data body of `parts`, and its content type.
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "parley-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, content_type, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = file.map(|f| format!("; filename=\"{f}\"")).unwrap_or_default();
        body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n").as_bytes());
        if let Some(ct) = content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/media", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await;
    Reply::read("POST /api/v1/media", response).await
}

/// Uploads one file as `token`; returns the answer.
async fn upload(app: &TestApp, token: &str, content_type: &str, data: &[u8]) -> Reply {
    let (ct, body) = multipart(&[("file", Some("upload.bin"), Some(content_type), data)]);
    post_form(app, token, &ct, body).await
}

/// Uploads one file that must be accepted; returns its id.
async fn uploaded(app: &TestApp, token: &str, content_type: &str, data: &[u8]) -> String {
    let body = upload(app, token, content_type, data).await.expect_status(201).body;
    body["id"].as_str().expect("an id").to_owned()
}

/// GET `url` (a path on the server, or an absolute URL whose path and query are the server's).
async fn fetch(app: &TestApp, url: &str, token: Option<&str>) -> (StatusCode, String, Vec<u8>) {
    let path = match url.find("/media/").filter(|_| url.starts_with("http")) {
        Some(at) => &url[at..],
        None => url,
    };
    let mut request = reqwest::Client::new().get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let ct = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, response.bytes().await.unwrap().to_vec())
}

/// The value of a counter on `/metrics` (0 before it is first counted).
async fn counter(app: &TestApp, name: &str) -> u64 {
    let scrape = app.request(Method::GET, "/metrics", None, None).await.expect_status(200).body;
    let scrape = scrape.as_str().unwrap_or_default().to_owned();
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// A billing chat between `PHONE` and alice, connected; alice's token and the chat id.
async fn chat_with_alice(app: &TestApp) -> (String, String) {
    let alice = app.agent_token("alice").await;
    app.agent(&alice).set_status("available").await;
    let phone = app.phone(PHONE);
    phone.texts("hi").await;
    let chat = phone.texts("1").await.chat_id.expect("a chat");
    app.agent(&alice).accept(&chat).await;
    (alice, chat)
}

/// The phone's received messages once one carries media.
async fn media_on_phone(app: &TestApp, phone: &str) -> Value {
    eventually("the media to reach the phone", || async {
        let r = app.request(Method::GET, &format!("/sim/phones/{phone}/messages"), None, None).await;
        let messages = r.expect_status(200).body["messages"].clone();
        let with_media = messages
            .as_array()
            .and_then(|m| m.iter().find(|m| m["media"].as_array().is_some_and(|a| !a.is_empty())).cloned());
        with_media.ok_or_else(|| messages.to_string())
    })
    .await
}

#[tokio::test]
async fn mms_each_allowed_type_uploads_and_only_its_uploader_opens_it() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent_token("alice").await;
    let bob = app.agent_token("bob").await;
    let (count_before, bytes_before) =
        (counter(&app, "parley_media_uploaded_total").await, counter(&app, "parley_media_uploaded_bytes_total").await);
    for (content_type, data) in
        [("image/jpeg", JPEG), ("image/png", PNG), ("image/gif", GIF), ("video/mp4", MP4), ("application/pdf", PDF)]
    {
        let body = upload(&app, &alice, content_type, data).await.expect_status(201).body;
        assert_eq!(body["content_type"], content_type, "{body}");
        assert_eq!(body["size"], data.len(), "{body}");
        let id = body["id"].as_str().unwrap();
        assert_eq!(body["url"], format!("/api/v1/media/{id}"));
        let (status, ct, bytes) = fetch(&app, &format!("/api/v1/media/{id}"), Some(&alice)).await;
        assert_eq!((status, ct.as_str(), bytes.as_slice()), (StatusCode::OK, content_type, data));
        let (status, _, _) = fetch(&app, &format!("/api/v1/media/{id}"), Some(&bob)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "an unsent upload is its uploader's alone");
    }
    // An admin (or an integration's key) uploads too.
    uploaded(&app, ADMIN, "image/png", PNG).await;
    // The metrics are the process's: other tests running beside this one upload too.
    let bytes: u64 = [JPEG, PNG, GIF, MP4, PDF].iter().map(|d| d.len() as u64).sum::<u64>() + PNG.len() as u64;
    assert!(counter(&app, "parley_media_uploaded_total").await >= count_before + 6);
    assert!(counter(&app, "parley_media_uploaded_bytes_total").await >= bytes_before + bytes);
}

#[tokio::test]
async fn mms_uploads_of_other_types_wrong_bytes_too_large_or_without_a_file_are_refused() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent_token("alice").await;
    let message = upload(&app, &alice, "text/html", b"<html></html>").await.expect_error(415, "unsupported_media_type");
    assert!(message.contains("image/jpeg, image/png, image/gif, video/mp4, application/pdf"), "{message}");
    let message = upload(&app, &alice, "image/png", GIF).await.expect_error(415, "unsupported_media_type");
    assert!(message.contains("not a image/png"), "{message}");
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    upload(&app, &alice, "image/png", &big).await.expect_error(413, "payload_too_large");
    // Far over the limit: refused while reading, not after.
    big.resize(7 * 1024 * 1024, 0);
    upload(&app, &alice, "image/png", &big).await.expect_error(413, "payload_too_large");
    let (ct, body) = multipart(&[("note", None, None, b"just text")]);
    post_form(&app, &alice, &ct, body).await.expect_error(422, "validation_failed");
    let (ct, body) =
        multipart(&[("a", Some("a.png"), Some("image/png"), PNG), ("b", Some("b.png"), Some("image/png"), PNG)]);
    post_form(&app, &alice, &ct, body).await.expect_error(422, "validation_failed");
    post_form(&app, &alice, "application/json", b"{}".to_vec()).await.expect_error(415, "unsupported_media_type");
    let (ct, body) = multipart(&[("file", Some("a.png"), Some("image/png"), PNG)]);
    let anonymous =
        reqwest::Client::new().post(format!("{}/api/v1/media", app.base)).header("content-type", ct).body(body);
    Reply::read("anonymous upload", anonymous.send().await).await.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn mms_an_agents_picture_reaches_the_phone_with_its_bytes_and_shows_in_the_transcript() {
    let app = TestApp::with_standard_setup().await;
    let (alice, chat) = chat_with_alice(&app).await;
    let id = uploaded(&app, &alice, "image/png", PNG).await;
    let path = format!("/api/v1/chats/{chat}/messages");
    let sent = app.request(Method::POST, &path, Some(&alice), Some(&json!({"media_ids": [id]}))).await;
    let message_id = sent.expect_status(202).body["message_id"].as_str().unwrap().to_owned();

    let on_phone = media_on_phone(&app, PHONE).await;
    assert_eq!(on_phone["body"], "", "{on_phone}");
    let urls = on_phone["media"].as_array().unwrap();
    assert_eq!(urls.len(), 1, "{on_phone}");
    let (status, ct, bytes) = fetch(&app, urls[0].as_str().unwrap(), None).await;
    assert_eq!(
        (status, ct.as_str(), bytes.as_slice()),
        (StatusCode::OK, "image/png", PNG),
        "the phone's URL serves the upload"
    );

    // The transcript and the message show it as they show a consumer's media.
    let t = app.request(Method::GET, &format!("/api/v1/chats/{chat}/transcript"), Some(&alice), None).await;
    let t = t.expect_status(200).body;
    let out = t["messages"].as_array().unwrap().iter().find(|m| m["id"] == message_id.as_str()).unwrap().clone();
    assert_eq!(out["media"], json!([format!("/api/v1/media/{id}")]), "{out}");
    assert_eq!(out["attachments"][0]["id"], id.as_str(), "{out}");
    assert_eq!(out["attachments"][0]["content_type"], "image/png");
    assert_eq!(out["attachments"][0]["status"], "stored");
    let m = app.request(Method::GET, &format!("/api/v1/messages/{message_id}"), Some(&alice), None).await;
    assert_eq!(m.expect_status(200).body["attachments"][0]["id"], id.as_str());
    // Sent, the picture belongs to the chat: whoever sees the chat opens it, whoever does not cannot.
    let (status, _, bytes) = fetch(&app, &format!("/api/v1/media/{id}"), Some(ADMIN)).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));
    let bob = app.agent_token("bob").await;
    assert_eq!(fetch(&app, &format!("/api/v1/media/{id}"), Some(&bob)).await.0, StatusCode::FORBIDDEN);

    // An upload goes out once; unknown ids and other agents' uploads are refused, naming the field.
    let again =
        app.request(Method::POST, &path, Some(&alice), Some(&json!({"body": "again", "media_ids": [id]}))).await;
    assert!(again.expect_error(422, "validation_failed").contains("sent already"));
    let unknown =
        app.request(Method::POST, &path, Some(&alice), Some(&json!({"body": "x", "media_ids": ["nope"]}))).await;
    unknown.expect_error(422, "validation_failed");
    assert_eq!(unknown.body["error"]["details"][0]["field"], "/media_ids/0", "{}", unknown.body);
    let bobs = uploaded(&app, &bob, "image/gif", GIF).await;
    let theirs = app.request(Method::POST, &path, Some(&alice), Some(&json!({"body": "x", "media_ids": [bobs]}))).await;
    theirs.expect_error(403, "forbidden");
    let eleven: Vec<String> = (0..11).map(|i| format!("m{i}")).collect();
    let many = app.request(Method::POST, &path, Some(&alice), Some(&json!({"body": "x", "media_ids": eleven}))).await;
    many.expect_error(422, "validation_failed");
    let empty = app.request(Method::POST, &path, Some(&alice), Some(&json!({"body": " ", "media_ids": []}))).await;
    empty.expect_error(422, "validation_failed");
    // Nothing of the refused requests reached the phone.
    let all = app.request(Method::GET, &format!("/sim/phones/{PHONE}/messages"), None, None).await.body;
    let texts: Vec<&str> = all["messages"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str()).collect();
    assert!(!texts.contains(&"x") && !texts.contains(&"again"), "{texts:?}");
}

#[tokio::test]
async fn mms_an_outbound_chat_and_a_sessionless_message_carry_media() {
    let (app, _now) = app_at_t0(|c| c).await;
    app.apply_setup(&standard_setup()).await;
    let alice = app.agent_token("alice").await;
    let picture = uploaded(&app, &alice, "image/jpeg", JPEG).await;
    let chat = app
        .request(
            Method::POST,
            "/api/v1/outbound/chats",
            Some(&alice),
            Some(&json!({"end_user_number": PHONE, "outbound_number": SUPPORT, "message": "your receipt", "media_ids": [picture]})),
        )
        .await
        .expect_status(201)
        .body;
    assert!(chat["chat"]["id"].is_string(), "{chat}");
    let on_phone = media_on_phone(&app, PHONE).await;
    assert_eq!(on_phone["body"], "your receipt");
    let (status, _, bytes) = fetch(&app, on_phone["media"][0].as_str().unwrap(), None).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, JPEG));

    let other = "+14155550191";
    let pdf = uploaded(&app, ADMIN, "application/pdf", PDF).await;
    let sent = app
        .request(
            Method::POST,
            "/api/v1/outbound/messages",
            Some(ADMIN),
            Some(&json!({"end_user_number": other, "outbound_number": SALES, "media_ids": [pdf]})),
        )
        .await
        .expect_status(201)
        .body;
    let on_phone = media_on_phone(&app, other).await;
    assert_eq!(on_phone["body"], "", "a message may be media only");
    let (status, ct, bytes) = fetch(&app, on_phone["media"][0].as_str().unwrap(), None).await;
    assert_eq!((status, ct.as_str(), bytes.as_slice()), (StatusCode::OK, "application/pdf", PDF));
    let id = sent["message_id"].as_str().unwrap();
    let m =
        app.request(Method::GET, &format!("/api/v1/messages/{id}"), Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(m["attachments"][0]["content_type"], "application/pdf", "{m}");
    // Without media, an empty message is still refused.
    let empty = json!({"end_user_number": other, "outbound_number": SALES, "message": ""});
    app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&empty))
        .await
        .expect_error(422, "validation_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_a_scheduled_message_goes_out_with_its_media_when_due() {
    let (app, now) = app_at_t0(|c| c).await;
    app.apply_setup(&standard_setup()).await;
    let (alice, chat) = chat_with_alice(&app).await;
    let id = uploaded(&app, &alice, "image/gif", GIF).await;
    let later = json!({"body": "later", "media_ids": [id], "send_at": "2026-06-01T17:00:00Z"});
    let path = format!("/api/v1/chats/{chat}/messages");
    app.request(Method::POST, &path, Some(&alice), Some(&later)).await.expect_status(202);
    now.store(T0 + 3_600_000, Ordering::SeqCst);
    let on_phone = media_on_phone(&app, PHONE).await;
    assert_eq!(on_phone["body"], "later");
    let (status, _, bytes) = fetch(&app, on_phone["media"][0].as_str().unwrap(), None).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, GIF));
}

const PUBLIC: &str = "https://parley.example.com";

#[tokio::test]
async fn mms_a_twilio_carrier_gets_signed_media_urls_that_serve_the_bytes_until_they_expire() {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/AC1/Messages.json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SMmms1", "status": "queued"})))
        .mount(&api)
        .await;
    let api_base = api.uri();
    let (app, now) = app_at_t0(move |mut c| {
        c.public_url = Some(PUBLIC.to_owned());
        c.carriers.insert(
            "tw".into(),
            CarrierConfig::Twilio {
                account_sid: "AC1".into(),
                auth_token: Secret::new("tw-token"),
                api_base: Some(api_base),
                segments_per_second: None,
                concurrency: None,
            },
        );
        c
    })
    .await;
    let number = "+15550003000";
    app.apply_setup(&json!({
        "numbers": [{"number": number, "label": "TW", "carrier": "tw", "queues": ["sales"]}],
        "queues": [{"id": "sales", "name": "Sales", "keywords": ["SALES"], "auto_answer": true}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["sales"], "capacity": 3}],
        "settings": {"brand": "Acme"}
    }))
    .await;
    let png = uploaded(&app, ADMIN, "image/png", PNG).await;
    let pdf = uploaded(&app, ADMIN, "application/pdf", PDF).await;
    let body =
        json!({"end_user_number": PHONE, "outbound_number": number, "message": "two files", "media_ids": [png, pdf]});
    app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&body)).await.expect_status(201);
    let request = eventually("twilio to get the message", || async {
        let requests = api.received_requests().await.unwrap();
        requests
            .into_iter()
            .find(|r| String::from_utf8_lossy(&r.body).contains("two+files"))
            .ok_or_else(|| "not yet".to_owned())
    })
    .await;
    let fields: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    let urls: Vec<&str> = fields.iter().filter(|(k, _)| k == "MediaUrl").map(|(_, v)| v.as_str()).collect();
    assert_eq!(urls.len(), 2, "{fields:?}");
    let expires = T0 / 1000 + 24 * 3600;
    for (url, (id, data, ct)) in urls.iter().zip([(&png, PNG, "image/png"), (&pdf, PDF, "application/pdf")]) {
        assert!(url.starts_with(&format!("{PUBLIC}/media/{id}?expires={expires}&sig=")), "{url}");
        let (status, got_ct, bytes) = fetch(&app, url, None).await;
        assert_eq!((status, got_ct.as_str(), bytes.as_slice()), (StatusCode::OK, ct, data), "{url}");
    }
    // A forged or altered signature, another media's signature, none at all: 403.
    let url = urls[0];
    let forged = format!("{}{}", &url[..url.len() - 4], "0000");
    assert_eq!(fetch(&app, &forged, None).await.0, StatusCode::FORBIDDEN);
    let longer = url.replace(&format!("expires={expires}"), &format!("expires={}", expires + 3600));
    assert_eq!(fetch(&app, &longer, None).await.0, StatusCode::FORBIDDEN);
    let swapped = url.replace(&png, &pdf);
    assert_eq!(fetch(&app, &swapped, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(fetch(&app, &format!("/media/{png}"), None).await.0, StatusCode::FORBIDDEN);
    // After a day the URL no longer serves.
    now.store(expires * 1000, Ordering::SeqCst);
    assert_eq!(fetch(&app, url, None).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn mms_a_number_on_an_smpp_account_refuses_media_before_anything_is_queued() {
    // An SMPP account nobody listens on: the API must refuse before the outbox would try it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, _now) = app_at_t0(move |mut c| {
        c.carriers.insert("smsc".into(), CarrierConfig::smpp("127.0.0.1", closed, "parley", "secret"));
        c
    })
    .await;
    let smpp_number = "+15550004000";
    let mut setup = standard_setup();
    setup["numbers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"number": smpp_number, "label": "SMPP", "carrier": "smsc", "queues": ["sales"]}));
    app.apply_setup(&setup).await;
    let id = uploaded(&app, ADMIN, "image/png", PNG).await;
    let body = json!({"end_user_number": PHONE, "outbound_number": smpp_number, "message": "see", "media_ids": [id]});
    let refused = app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&body)).await;
    let message = refused.expect_error(422, "media_not_supported");
    assert!(message.contains("SMPP"), "{message}");
    let chat = json!({"end_user_number": PHONE, "outbound_number": smpp_number, "message": "see", "media_ids": [id]});
    app.request(Method::POST, "/api/v1/outbound/chats", Some(ADMIN), Some(&chat))
        .await
        .expect_error(422, "media_not_supported");
    assert!(app.admin().all_chats().await.is_empty(), "no chat was opened");
    // The upload was not used up: it goes out from a number whose carrier carries media.
    let body = json!({"end_user_number": PHONE, "outbound_number": SALES, "message": "see", "media_ids": [id]});
    app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&body)).await.expect_status(201);
    media_on_phone(&app, PHONE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_a_resend_carries_the_media_of_the_message_it_resends() {
    let app = TestApp::with_standard_setup().await;
    let (alice, chat) = chat_with_alice(&app).await;
    let set_state = |state: &'static str| {
        let app = &app;
        async move {
            let body = json!({"state": state, "reason": "test"});
            let path = format!("/api/v1/numbers/{SUPPORT}/state");
            app.request(Method::PUT, &path, Some(ADMIN), Some(&body)).await.expect_status(200);
        }
    };
    // The number may not send: the outbox gives the message up, as in production.
    set_state("suspended").await;
    let id = uploaded(&app, &alice, "image/png", PNG).await;
    let path = format!("/api/v1/chats/{chat}/messages");
    let sent =
        app.request(Method::POST, &path, Some(&alice), Some(&json!({"body": "the plan", "media_ids": [id]}))).await;
    let failed = sent.expect_status(202).body["message_id"].as_str().unwrap().to_owned();
    let message = |id: String| {
        let (app, alice) = (&app, &alice);
        async move {
            eventually("the message to settle", || async {
                let m = app.request(Method::GET, &format!("/api/v1/messages/{id}"), Some(alice), None).await.body;
                if ["failed", "delivered"].contains(&m["status"].as_str().unwrap_or_default()) {
                    Ok(m)
                } else {
                    Err(m.to_string())
                }
            })
            .await
        }
    };
    assert_eq!(message(failed.clone()).await["status"], "failed");

    set_state("enabled").await;
    let resend = app.request(Method::POST, &format!("/api/v1/messages/{failed}/resend"), Some(&alice), None).await;
    let new_id = resend.expect_status(201).body["message_id"].as_str().unwrap().to_owned();
    let new = message(new_id).await;
    assert_eq!(new["status"], "delivered", "{new}");
    assert_eq!(new["attachments"][0]["id"], id.as_str(), "the resend shows the picture: {new}");
    let on_phone = media_on_phone(&app, PHONE).await;
    assert_eq!(on_phone["body"], "the plan");
    let (status, _, bytes) = fetch(&app, on_phone["media"][0].as_str().unwrap(), None).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));
}

/// The Twilio-compatible Messages API sends media it stores: `MediaUrl` is the `url` an upload
/// answered; any other URL is refused with Twilio's 21620.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_the_twilio_compatible_api_sends_an_upload_named_in_media_url() {
    let (app, _now) = app_at_t0(|c| c).await;
    app.apply_setup(&standard_setup()).await;
    let key = app
        .request(Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&json!({"scopes": ["sms:send"]})))
        .await
        .expect_status(201)
        .body;
    let (id, token, account) =
        (key["id"].as_str().unwrap(), key["token"].as_str().unwrap(), key["account_sid"].as_str().unwrap());
    let upload = upload(&app, token, "image/png", PNG).await.expect_status(201).body;
    let url = format!("{}{}", app.base, upload["url"].as_str().unwrap());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let send = |media: String| {
        let client = client.clone();
        let path = format!("{}/2010-04-01/Accounts/{account}/Messages.json", app.base);
        async move {
            let form = [("To", PHONE), ("From", SALES), ("MediaUrl", media.as_str())];
            let response = client.post(path).basic_auth(id, Some(token)).form(&form).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, message) = send(url).await;
    assert_eq!((status, &message["num_media"], &message["body"]), (201, &json!("1"), &json!("")), "{message}");
    let on_phone = media_on_phone(&app, PHONE).await;
    let (status, _, bytes) = fetch(&app, on_phone["media"][0].as_str().unwrap(), None).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));

    let (status, refused) = send("https://files.example.com/cat.png".to_owned()).await;
    assert_eq!((status, &refused["code"]), (400, &json!(21620)), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("POST /api/v1/media"), "{refused}");
}
