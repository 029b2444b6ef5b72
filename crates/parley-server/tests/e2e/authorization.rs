//! Who may do what: no token, no access; agents see and act on chats of their queues only; only
//! admins change the setup and mint tokens.

use reqwest::Method;
use serde_json::json;

use crate::harness::{ADMIN, TestApp, standard_setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_or_a_wrong_token_is_refused_with_401() {
    let app = TestApp::with_standard_setup().await;
    for (method, path) in [
        (Method::GET, "/api/v1/chats"),
        (Method::GET, "/api/v1/setup"),
        (Method::PUT, "/api/v1/setup"),
        (Method::POST, "/api/v1/tokens"),
        (Method::GET, "/api/v1/me"),
        (Method::GET, "/api/v1/events"),
        (Method::GET, "/api/v1/chats/some-id/transcript"),
    ] {
        let body = (method != Method::GET).then(|| json!({}));
        app.request(method.clone(), path, None, body.as_ref()).await.expect_error(401, "unauthorized");
        app.request(method.clone(), path, Some("not-a-token"), body.as_ref()).await.expect_error(401, "unauthorized");
    }
    // A token of the right form that was never minted.
    app.agent("pt_0000000000000000000000000000000000000000000000000000000000000000")
        .try_list("")
        .await
        .expect_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_cannot_see_or_touch_a_chat_of_another_queue() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    let admin = app.admin();
    alice.set_status("available").await;
    bob.set_status("available").await;

    let billing = app.phone("+14155550140").texts("billing").await.chat_id.expect("a chat");
    let tech = app.phone("+14155550141").texts("tech").await.chat_id.expect("a chat");
    let menu = app.phone("+14155550142").texts("hi").await.chat_id.expect("a chat");
    assert_eq!(alice.accept(&billing).await.status, "connected");

    // Bob serves tech only: the billing chat is not his to read or act on.
    bob.try_chat(&billing).await.expect_error(403, "forbidden");
    bob.try_accept(&billing).await.expect_error(403, "forbidden");
    bob.try_say(&billing, "Hi, I am Bob").await.expect_error(403, "forbidden");
    bob.try_transcript(&billing).await.expect_error(403, "forbidden");
    bob.try_end(&billing).await.expect_error(403, "forbidden");
    // Nor is a chat still in the menu (no queue yet).
    bob.try_chat(&menu).await.expect_error(403, "forbidden");

    for status in ["", "?status=ongoing", "?status=upcoming", "?status=past"] {
        let listed: serde_json::Value = bob.try_list(status).await.parse(200);
        let ids: Vec<&str> = listed["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert!(!ids.contains(&billing.as_str()) && !ids.contains(&menu.as_str()), "{status}: {ids:?}");
    }
    let bobs: Vec<String> = bob.all_chats().await.into_iter().map(|c| c.id).collect();
    assert_eq!(bobs, vec![tech.clone()]);
    assert_eq!(bob.chat(&tech).await.agent.as_deref(), Some("bob"), "the tech chat was offered to bob");

    // Nothing bob tried changed the billing chat.
    let transcript = alice.transcript(&billing).await;
    assert_eq!(transcript.chat.status, "connected");
    assert_eq!(transcript.chat.agent.as_deref(), Some("alice"));
    assert!(transcript.messages.iter().all(|m| m.author != "agent:bob"));

    // Alice does not see bob's tech chat either; the admin sees every chat, the menu one included.
    alice.try_transcript(&tech).await.expect_error(403, "forbidden");
    let mut all: Vec<String> = admin.all_chats().await.into_iter().map(|c| c.id).collect();
    all.sort();
    let mut expected = vec![billing.clone(), tech.clone(), menu.clone()];
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(admin.transcript(&billing).await.chat.id, billing);
    assert_eq!(admin.chat(&menu).await.status, "selecting");

    // An agent's token is not an admin's.
    let setup_before = app.setup().await;
    bob.try_chat(&tech).await.expect_status(200);
    app.request(Method::GET, "/api/v1/setup", Some(&bob.token), None).await.expect_error(403, "forbidden");
    app.request(Method::PUT, "/api/v1/setup", Some(&bob.token), Some(&json!({}))).await.expect_error(403, "forbidden");
    app.request(Method::POST, "/api/v1/tokens", Some(&bob.token), Some(&json!({ "agent": "bob" })))
        .await
        .expect_error(403, "forbidden");
    app.request(Method::POST, "/api/v1/tokens", Some(&bob.token), Some(&json!({ "role": "admin" })))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(app.setup().await, setup_before, "the setup is unchanged");

    // Acting on a chat takes an agent: the admin may read and end, not accept or reply as someone.
    admin.try_accept(&tech).await.expect_error(403, "forbidden");
    admin.try_say(&billing, "Hello").await.expect_error(403, "forbidden");
    let ended = admin.end(&tech).await;
    assert_eq!((ended.status.as_str(), ended.ended_by.as_deref()), ("finished", Some("admin")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_minted_for_agents_of_the_setup_and_for_admins() {
    let app = TestApp::with_standard_setup().await;
    let app_ref = &app;
    let mint = move |body: serde_json::Value| async move {
        app_ref.request(Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&body)).await
    };
    let me: serde_json::Value =
        app.request(Method::GET, "/api/v1/me", Some(&app.agent_token("bob").await), None).await.parse(200);
    assert_eq!(me["role"], "agent");
    assert_eq!(me["agent"], "bob");
    assert_eq!(me["queues"], json!(["tech"]));
    assert_eq!(me["status"], "away");

    let admin: serde_json::Value = mint(json!({ "role": "admin" })).await.parse(201);
    let second_admin = admin["token"].as_str().unwrap();
    assert_ne!(second_admin, ADMIN);
    let doc = app.request(Method::GET, "/api/v1/setup", Some(second_admin), None).await.expect_status(200).body;
    assert_eq!(doc["agents"].as_array().map(Vec::len), Some(2));

    mint(json!({ "agent": "mallory" })).await.expect_error(422, "validation_failed");
    mint(json!({ "agent": "Not An Id" })).await.expect_error(422, "validation_failed");
    mint(json!({ "role": "owner" })).await.expect_error(422, "validation_failed");
    mint(json!({ "role": "admin", "agent": "bob" })).await.expect_error(422, "validation_failed");
    // No agent named: an admin token (the admin page's form sends {} with its agent field empty).
    assert_eq!(mint(json!({})).await.expect_status(201).body["role"], "admin");

    // An agent removed from the setup loses access with their old token.
    let bob = app.agent_token("bob").await;
    let mut setup = standard_setup();
    setup["agents"].as_array_mut().unwrap().retain(|a| a["id"] != "bob");
    setup["teams"][0]["members"] = json!(["alice"]);
    app.apply_setup(&setup).await;
    app.agent(&bob).try_list("").await.expect_error(403, "forbidden");
}
