//! Outbound MMS in the console (issue 15, item 4), in a real browser: an agent attaches a picture and
//! a PDF to the reply box, sees a thumbnail of the picture and the PDF's name and size, removes the
//! PDF, sends; the transcript shows the picture as it shows a consumer's, loaded from the server, and
//! the consumer's phone gets it.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::browser::{Browsers, js, until};
use crate::console::{PASSWORD, becomes_available, click, log_in, phone_page};
use crate::harness::{ADMIN, TestApp, eventually, standard_setup};

const PHONE: &str = "+14155550198";
/// A real 2×2 PNG, so the browser decodes it (a picture that fails to decode has no natural width).
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x11\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\xc0\xf0\x1f\x8c\x80\x18\x00\x1d\xf0\x03\xfd\xd3\xd0\x7d\x26\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_an_agent_attaches_a_picture_previews_it_and_sees_it_in_the_transcript() {
    const TEST: &str = "mms";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::spawn().await;
    app.apply_setup(&standard_setup()).await;
    let user = json!({"username": "alice", "password": PASSWORD, "role": "agent", "agent": "alice"});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&user)).await.expect_status(201);
    let files = tempfile::tempdir().unwrap();
    let picture = files.path().join("receipt.png");
    std::fs::write(&picture, PNG).unwrap();
    let pdf = files.path().join("terms.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%%EOF\n").unwrap();
    let outcome = AssertUnwindSafe(scenario(&mut browsers, &app, &picture, &pdf)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn scenario(browsers: &mut Browsers, app: &TestApp, picture: &std::path::Path, pdf: &std::path::Path) {
    let alice = browsers.open("alice").await;
    log_in(&alice, app, "alice").await;
    becomes_available(&alice, app, "alice").await;
    let phone = app.phone(PHONE);
    phone.texts("hi").await;
    let chat = phone.texts("1").await.chat_id.expect("a billing chat");
    app.agent(&app.agent_token("alice").await).accept(&chat).await;
    alice.goto(format!("{}/console/chats/{chat}", app.base)).await.expect("opening the chat");
    // The chat is shown (its transcript loaded): files picked before that would belong to no chat.
    until(
        &alice,
        "the chat and its composer to show",
        "return !document.getElementById('chat').hidden && !document.getElementById('composer').hidden \
           && document.getElementById('transcript').innerText.includes('hi')",
        "main",
    )
    .await;

    let input = alice.find(By::Id("attach")).await.expect("the attach button");
    input.send_keys(picture.to_str().unwrap()).await.expect("attaching the picture");
    input.send_keys(pdf.to_str().unwrap()).await.expect("attaching the PDF");
    until(
        &alice,
        "a thumbnail of the picture and the PDF's name and size",
        "const items = [...document.querySelectorAll('#attachments li')]; \
         return items.length === 2 && !document.getElementById('attachments').hidden \
           && items[0].querySelector('img.thumb')?.src.startsWith('blob:') && items[0].innerText.includes('receipt.png') \
           && !items[1].querySelector('img') && items[1].innerText.includes('terms.pdf (15 bytes)')",
        "#composer",
    )
    .await;
    js(&alice, "document.querySelector('#attachments li:nth-child(2) button.remove').click(); return true").await;
    until(
        &alice,
        "the PDF to be removed",
        "return document.querySelectorAll('#attachments li').length === 1",
        "#composer",
    )
    .await;
    alice.find(By::Id("body")).await.expect("the composer").send_keys("Your receipt").await.expect("typing");
    click(&alice, "send").await;

    // The transcript shows the picture, loaded from the server (decoded: it has a natural width).
    until(
        &alice,
        "the sent picture in the transcript",
        "const li = [...document.querySelectorAll('#transcript > li')].find((l) => l.innerText.includes('Your receipt')); \
         const img = li?.querySelector('img'); \
         return !!img && img.getAttribute('src').startsWith('/api/v1/media/') && img.complete && img.naturalWidth === 2",
        "#transcript",
    )
    .await;
    until(&alice, "the attachments to be cleared", "return document.getElementById('attachments').hidden", "#composer")
        .await;
    // The consumer's phone got the one picture, and the phone's URL serves its bytes.
    let media = eventually("the picture on the phone", || async {
        let r = app.request(Method::GET, &format!("/sim/phones/{PHONE}/messages"), None, None).await.body;
        let m = r["messages"].as_array().and_then(|m| m.iter().find(|m| m["body"] == "Your receipt").cloned());
        m.map(|m| m["media"].clone()).ok_or_else(|| r.to_string())
    })
    .await;
    let urls = media.as_array().unwrap();
    assert_eq!(urls.len(), 1, "{media}");
    let bytes =
        reqwest::get(format!("{}{}", app.base, urls[0].as_str().unwrap())).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), PNG);

    // The phone page shows the picture.
    let consumer = browsers.open("consumer").await;
    phone_page(&consumer, app, PHONE).await;
    until(
        &consumer,
        "the picture on the phone page",
        "const b = [...document.querySelectorAll('.bubble')].find((b) => b.innerText.includes('Your receipt')); \
         const img = b?.querySelector('img.media'); return !!img && img.complete && img.naturalWidth === 2",
        "body",
    )
    .await;
}
