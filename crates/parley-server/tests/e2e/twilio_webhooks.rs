//! Twilio-compatible carriers end to end: signed webhooks in (a wrong or missing signature stores
//! nothing), replies out through the REST API (a local server speaking it), status callbacks applied,
//! MMS media downloaded with the account's credentials.

use parley_carriers::twilio::signature;
use parley_server::config::{CarrierConfig, Secret};
use reqwest::Method;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{TestApp, eventually};

pub(crate) const PUBLIC: &str = "https://parley.example.com";
const TOKEN: &str = "tw-token";
pub(crate) const NUMBER: &str = "+15550003000";

pub(crate) async fn app(api: &MockServer, public_url: Option<&str>) -> TestApp {
    let api_base = api.uri();
    let public_url = public_url.map(str::to_owned);
    let app = TestApp::spawn_with(move |mut c| {
        c.public_url = public_url;
        c.carriers.insert(
            "tw".into(),
            CarrierConfig::Twilio {
                account_sid: "AC1".into(),
                auth_token: Secret::new(TOKEN),
                api_base: Some(api_base),
                segments_per_second: None,
                concurrency: None,
            },
        );
        c
    })
    .await;
    app.apply_setup(&json!({
        "numbers": [{"number": NUMBER, "label": "TW", "carrier": "tw", "queues": ["sales"]}],
        "queues": [{"id": "sales", "name": "Sales", "keywords": ["SALES"], "auto_answer": true}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["sales"], "capacity": 3}],
        "settings": {"brand": "Acme"}
    }))
    .await;
    app
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

pub(crate) async fn post(app: &TestApp, path_q: &str, body: &str, sig: Option<&str>) -> (u16, String, String) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(format!("{}{path_q}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(sig) = sig {
        req = req.header("X-Twilio-Signature", sig);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

pub(crate) fn sign(path_q: &str, pairs: &[(&str, &str)]) -> String {
    signature::compute(TOKEN, &format!("{PUBLIC}{path_q}"), pairs)
}

#[tokio::test]
async fn twilio_end_to_end() {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/AC1/Messages.json"))
        .respond_with(SidPerMessage)
        .mount(&api)
        .await;
    let app = app(&api, Some(PUBLIC)).await;
    let pairs =
        [("MessageSid", "SMin1"), ("From", "+15551112222"), ("To", NUMBER), ("Body", "hello"), ("NumMedia", "0")];
    let body = form(&pairs);
    let p = "/webhooks/twilio/tw?x=1";

    let (s, _, b) = post(&app, p, &body, None).await;
    assert_eq!(s, 403, "{b}");
    let (s, _, b) = post(&app, p, &body, Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")).await;
    assert_eq!(s, 403, "{b}");
    let (s, _, b) = post(&app, "/webhooks/twilio/nope", &body, Some("x")).await;
    assert_eq!(s, 404, "{b}");
    // signed for another path
    let (s, _, _) = post(&app, "/webhooks/twilio/tw", &body, Some(&sign(p, &pairs))).await;
    assert_eq!(s, 403);
    assert!(app.admin().all_chats().await.is_empty(), "nothing stored after rejections");

    let (s, ct, b) = post(&app, p, &body, Some(&sign(p, &pairs))).await;
    assert_eq!((s, ct.as_str(), b.as_str()), (200, "text/xml", "<Response/>"));
    let (s, _, b) = post(&app, p, &body, Some(&sign(p, &pairs))).await;
    assert_eq!((s, b.as_str()), (200, "<Response/>"), "duplicate acknowledged");
    let chats = app.admin().all_chats().await;
    assert_eq!(chats.len(), 1);
    let t = app.admin().transcript(&chats[0].id).await;
    assert_eq!(t.received(), ["hello"], "{t:#?}");

    // malformed but signed
    let bad = [("MessageSid", "SMin2"), ("From", "555"), ("To", NUMBER), ("Body", "x")];
    let (s, _, b) = post(&app, p, &form(&bad), Some(&sign(p, &bad))).await;
    assert_eq!(s, 422, "{b}");

    // an agent reply goes out through Twilio with a status callback
    let alice = app.agent_token("alice").await;
    app.agent(&alice).set_status("available").await;
    let chat = &chats[0].id;
    let _ = app.agent(&alice).try_accept(chat).await;
    app.agent(&alice).say(chat, "hi from alice").await;
    let req = eventually("twilio to get the reply", || async {
        let reqs = api.received_requests().await.unwrap();
        reqs.into_iter()
            .find(|r| String::from_utf8_lossy(&r.body).contains("alice"))
            .ok_or_else(|| "not yet".to_owned())
    })
    .await;
    let fields: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    assert!(fields.contains(&("To".into(), "+15551112222".into())), "{fields:?}");
    assert!(fields.contains(&("From".into(), NUMBER.into())), "{fields:?}");
    assert!(fields.contains(&("StatusCallback".into(), format!("{PUBLIC}/webhooks/twilio/tw/status"))));

    // status callbacks
    let sp = "/webhooks/twilio/tw/status";
    let st = [("MessageSid", "SMout1"), ("MessageStatus", "delivered")];
    let (s, _, b) = post(&app, sp, &form(&st), Some(&sign(sp, &st))).await;
    assert_eq!(s, 200, "{b}");
    let st2 = [("MessageSid", "SMout1"), ("MessageStatus", "sent")];
    let (s, _, _) = post(&app, sp, &form(&st2), Some(&sign(sp, &st2))).await;
    assert_eq!(s, 200);
    let un = [("MessageSid", "SMout1"), ("MessageStatus", "receiving")];
    let (s, _, _) = post(&app, sp, &form(&un), Some(&sign(sp, &un))).await;
    assert_eq!(s, 200);
    let (s, _, _) = post(&app, sp, &form(&st), Some("AAAA")).await;
    assert_eq!(s, 403);
    // "delivered" stands: the late "sent" and the untracked "receiving" changed nothing.
    let t = app.admin().transcript(chat).await;
    let reply = t.messages.iter().find(|m| m.body == "hi from alice").expect("the reply");
    assert_eq!(reply.status, "delivered", "{t:#?}");
    // Its delivery timeline: the send's outcome and the callback that moved it on, not the late one.
    let m = app.request(Method::GET, &format!("/api/v1/messages/{}", reply.id), Some(&alice), None).await;
    let m = m.expect_status(200).body;
    let statuses: Vec<&str> = m["timeline"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["queued", "sent", "delivered"], "{m}");
}

#[tokio::test]
async fn mms_media_is_downloaded_with_the_account_credentials() {
    let api = MockServer::start().await;
    let jpeg: Vec<u8> = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];
    Mock::given(method("GET"))
        .and(path("/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"))
        .and(wiremock::matchers::header("authorization", "Basic QUMxOnR3LXRva2Vu"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "image/jpeg").set_body_bytes(jpeg.clone()),
        )
        .mount(&api)
        .await;
    let app = app(&api, Some(PUBLIC)).await;
    let media_url = format!("{}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", api.uri());
    let pairs = [
        ("MessageSid", "MM1"),
        ("From", "+15551112222"),
        ("To", NUMBER),
        ("Body", "my broken screen"),
        ("NumMedia", "1"),
        ("MediaUrl0", media_url.as_str()),
        ("MediaContentType0", "image/jpeg"),
    ];
    let p = "/webhooks/twilio/tw";
    let (s, _, b) = post(&app, p, &form(&pairs), Some(&sign(p, &pairs))).await;
    assert_eq!(s, 200, "{b}");

    let chat = app.admin().all_chats().await.remove(0).id;
    let url = eventually("the photo to be stored", || async {
        let t = app.admin().try_transcript(&chat).await.expect_status(200).body;
        let first = t["messages"].as_array().and_then(|m| m.iter().find(|m| m["direction"] == "in")).cloned();
        let attachment = first.map(|m| m["attachments"][0].clone()).unwrap_or_default();
        if attachment["status"] == "stored" {
            assert_eq!(attachment["content_type"], "image/jpeg");
            assert_eq!(attachment["size"], 10);
            Ok(attachment["url"].as_str().unwrap_or_default().to_owned())
        } else {
            Err(attachment.to_string())
        }
    })
    .await;
    let alice = app.agent_token("alice").await;
    let got = reqwest::Client::new().get(format!("{}{url}", app.base)).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), jpeg);
}

#[tokio::test]
async fn without_public_url_webhooks_are_refused() {
    let api = MockServer::start().await;
    let app = app(&api, None).await;
    let r = app
        .request_raw(Method::POST, "/webhooks/twilio/tw", None, Some("application/x-www-form-urlencoded"), "a=b")
        .await;
    let msg = r.expect_error(503, "unavailable");
    assert!(msg.contains("public_url"), "{msg}");
}

/// Twilio's answer to a send: only alice's reply is `SMout1`, so the status callbacks the test posts for
/// it cannot land on another message (each system message gets a SID of its own).
pub(crate) struct SidPerMessage;

impl wiremock::Respond for SidPerMessage {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body);
        let sid = if body.contains("alice") { "SMout1".to_owned() } else { format!("SMsys{}", body.len()) };
        ResponseTemplate::new(201).set_body_json(json!({"sid": sid, "status": "queued"}))
    }
}
