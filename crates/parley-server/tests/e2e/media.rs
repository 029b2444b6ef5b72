//! MMS on the simulator: media a phone sends is kept with its message and listed in the transcript;
//! agents who may see the chat can open it, others cannot.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, eventually};

#[tokio::test]
async fn media_a_phone_sends_is_attached_to_its_message() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    let phone = app.phone("+14155550180");
    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    phone
        .sends(json!({ "body": "", "media": ["https://media.example/a.jpg", "https://media.example/b.mp4"] }))
        .await
        .expect_status(201);

    // The simulator has nothing to download: the media is linked, never lost, and listed in order.
    let attachments = eventually("the media to be linked", || async {
        let t = app.admin().try_transcript(&chat).await.expect_status(200).body;
        let last = t["messages"].as_array().and_then(|m| m.iter().rev().find(|m| m["direction"] == "in")).cloned();
        let attachments = last.map(|m| m["attachments"].clone()).unwrap_or_default();
        if attachments.as_array().is_some_and(|a| a.len() == 2 && a.iter().all(|x| x["status"] == "linked")) {
            Ok(attachments)
        } else {
            Err(attachments.to_string())
        }
    })
    .await;
    let url = attachments[0]["url"].as_str().expect("a url").to_owned();
    assert!(url.starts_with("/api/v1/media/"), "{url}");

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let open = |token: String| {
        let client = no_redirects.clone();
        let full = format!("{}{url}", app.base);
        async move { client.get(full).bearer_auth(token).send().await.unwrap() }
    };
    let seen = open(alice.token.clone()).await;
    assert_eq!(seen.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(seen.headers()["location"], "https://media.example/a.jpg");
    let refused = open(bob.token.clone()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "bob does not serve billing");
    app.request(Method::GET, "/api/v1/media/nope", Some(&alice.token), None).await.expect_error(404, "not_found");
    app.request(Method::GET, &url, None, None).await.expect_error(401, "unauthorized");
}
