//! `GET /api/v1/chats/{id}/export.zip`: the seed platform's file names (`chat-{id}.txt`,
//! `chat-{id}-photo-{n}.jpg`, `chat-{id}-video-{n}.mp4`, `metadata-{id}.json`), the consumer's media
//! as it was downloaded, a transcript with every SMS (system messages included), and the read audited.

use std::io::Read as _;

use reqwest::Method;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{ADMIN, eventually};
use crate::twilio_webhooks::{NUMBER, PUBLIC, app, form, post, sign};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_zip_holds_the_transcript_the_consumers_media_and_the_metadata() {
    let api = MockServer::start().await;
    let jpeg: Vec<u8> = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];
    let mp4: Vec<u8> = b"\x00\x00\x00\x18ftypmp42".to_vec();
    for (id, content_type, bytes) in [("ME1", "image/jpeg", &jpeg), ("ME2", "video/mp4", &mp4)] {
        Mock::given(method("GET"))
            .and(path(format!("/2010-04-01/Accounts/AC1/Messages/MM1/Media/{id}")))
            .respond_with(
                ResponseTemplate::new(200).insert_header("content-type", content_type).set_body_bytes(bytes.clone()),
            )
            .mount(&api)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SMx", "status": "queued"})))
        .mount(&api)
        .await;
    let app = app(&api, Some(PUBLIC)).await;
    let alice = app.agent_token("alice").await;
    app.agent(&alice).set_status("available").await;
    let photo = format!("{}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", api.uri());
    let video = format!("{}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", api.uri());
    let pairs = [
        ("MessageSid", "MM1"),
        ("From", "+15551112222"),
        ("To", NUMBER),
        ("Body", "my broken screen"),
        ("NumMedia", "2"),
        ("MediaUrl0", photo.as_str()),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl1", video.as_str()),
        ("MediaContentType1", "video/mp4"),
    ];
    let p = "/webhooks/twilio/tw";
    let (s, _, b) = post(&app, p, &form(&pairs), Some(&sign(p, &pairs))).await;
    assert_eq!(s, 200, "{b}");
    let chat = app.admin().all_chats().await.remove(0).id;
    eventually("both media stored", || async {
        let t = app.admin().try_transcript(&chat).await.expect_status(200).body;
        let inbound = t["messages"].as_array().and_then(|m| m.iter().find(|m| m["direction"] == "in")).cloned();
        let stored = inbound
            .and_then(|m| m["attachments"].as_array().cloned())
            .map_or(0, |a| a.iter().filter(|a| a["status"] == "stored").count());
        if stored == 2 { Ok(()) } else { Err(format!("{stored} stored")) }
    })
    .await;
    app.agent(&alice).say(&chat, "Sorry to hear, we will fix it").await;
    app.agent(&alice).end(&chat).await;

    let got = reqwest::Client::new()
        .get(format!("{}/api/v1/chats/{chat}/export.zip", app.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "application/zip");
    assert_eq!(got.headers()["content-disposition"], format!("attachment; filename=\"chat-{chat}.zip\"").as_str());
    let bytes = got.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = (0..zip.len()).map(|i| zip.by_index(i).unwrap().name().unwrap().into_owned()).collect();
    assert_eq!(
        names,
        [
            format!("chat-{chat}.txt"),
            format!("chat-{chat}-photo-1.jpg"),
            format!("chat-{chat}-video-1.mp4"),
            format!("metadata-{chat}.json")
        ]
    );
    let mut read = |name: &str| {
        let mut out = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut out).unwrap();
        out
    };
    assert_eq!(read(&format!("chat-{chat}-photo-1.jpg")), jpeg);
    assert_eq!(read(&format!("chat-{chat}-video-1.mp4")), mp4);
    let text = String::from_utf8(read(&format!("chat-{chat}.txt"))).unwrap();
    assert!(text.contains("] Consumer: my broken screen\n"), "{text}");
    assert!(text.contains(&format!("(attachment: chat-{chat}-photo-1.jpg)")), "{text}");
    assert!(text.contains("] Agent alice: Sorry to hear, we will fix it\n"), "{text}");
    assert!(text.contains("] System: "), "system messages are in the transcript: {text}");
    let meta: Value = serde_json::from_slice(&read(&format!("metadata-{chat}.json"))).unwrap();
    assert_eq!(meta["chat_id"], chat.as_str());
    assert_eq!(meta["type"], "sms");
    assert_eq!(meta["agents"], serde_json::json!(["alice"]));
    assert_eq!(meta["ended"]["by"], "alice");
    assert_eq!(meta["files"][1]["name"], format!("chat-{chat}-video-1.mp4").as_str());
    assert_eq!(meta["exported_by"], "agent:alice");

    let reads = app.request(Method::GET, &format!("/api/v1/audit?chat={chat}"), Some(ADMIN), None).await.body;
    assert_eq!(reads["reads"][0]["what"], "export");
    app.request(Method::GET, "/api/v1/chats/nope/export.zip", Some(&alice), None).await.expect_error(404, "not_found");
}
