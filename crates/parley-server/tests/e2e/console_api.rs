//! The API side of the console (issue 13): admin tokens from an empty form, body errors in words with
//! the JSON Pointer of their field, setup problems mapped to fields, the menu preview, chat search and
//! filters with paging, and "answered" counting every agent who wrote in a chat.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SUPPORT, SUPPORT_MENU, TestApp, eventually, standard_setup};

async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> crate::harness::Reply {
    app.request(method, path, Some(token), body.as_ref()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_or_none_mints_an_admin_token() {
    let app = TestApp::with_standard_setup().await;
    for body in [Some(json!({})), None] {
        let made = call(&app, Method::POST, "/api/v1/tokens", ADMIN, body.clone()).await.expect_status(201).body;
        assert_eq!((&made["role"], &made["agent"]), (&json!("admin"), &json!(null)), "{body:?}: {made}");
        let token = made["token"].as_str().unwrap();
        call(&app, Method::GET, "/api/v1/setup", token, None).await.expect_status(200);
    }
    let agent = call(&app, Method::POST, "/api/v1/tokens", ADMIN, Some(json!({"agent": "alice"}))).await;
    assert_eq!(agent.expect_status(201).body["role"], "agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_of_the_wrong_kind_is_answered_in_words_with_its_pointer() {
    let app = TestApp::with_standard_setup().await;
    let mut doc = standard_setup();
    doc["agents"][1]["capacity"] = json!(-1);
    let reply = call(&app, Method::PUT, "/api/v1/setup", ADMIN, Some(doc)).await;
    reply.expect_error(422, "validation_failed");
    let details = &reply.body["error"]["details"];
    assert_eq!(
        details,
        &json!([{"field": "/agents/1/capacity", "message": "capacity must be a whole number, 0 or more, not -1"}])
    );
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(!message.contains("u32") && !message.contains("deserialize"), "{message}");

    // Malformed JSON stays a 400 that says where.
    let raw = app
        .request_raw(Method::PUT, "/api/v1/setup", Some(ADMIN), Some("application/json"), "{\"numbers\": [,]}")
        .await;
    let message = raw.expect_error(400, "bad_request");
    assert!(message.contains("line 1 column"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_setup_problem_carries_the_pointer_of_its_field() {
    let app = TestApp::with_standard_setup().await;
    let mut doc = standard_setup();
    doc["agents"][0]["queues"] = json!(["billing", "nowhere"]);
    doc["agents"][1]["capacity"] = json!(0);
    doc["queues"][1]["timers"] = json!({"offer_timeout_seconds": 9999999});
    let reply = call(&app, Method::PUT, "/api/v1/setup", ADMIN, Some(doc)).await;
    reply.expect_error(422, "validation_failed");
    let details = reply.body["error"]["details"].as_array().unwrap().clone();
    let fields: Vec<&str> = details.iter().filter_map(|d| d["field"].as_str()).collect();
    for expected in ["/agents/0/queues/1", "/agents/1/capacity", "/queues/1/timers/offer_timeout_seconds"] {
        assert!(fields.contains(&expected), "{expected} not among {details:?}");
    }
    assert!(details.iter().all(|d| d["message"].as_str().is_some_and(|m| !m.is_empty())), "{details:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_is_the_menu_a_phone_really_reads() {
    let app = TestApp::with_standard_setup().await;
    let body = json!({"setup": standard_setup(), "number": SUPPORT});
    let preview = call(&app, Method::POST, "/api/v1/setup/preview", ADMIN, Some(body)).await.expect_status(200).body;
    assert_eq!(preview["menu"], SUPPORT_MENU, "{preview}");
    let read = app.phone("+14155550901").texts("hello").await;
    assert!(read.chat_id.is_some());
    let received = app.phone("+14155550901").receives(preview["messages"].as_array().unwrap().len()).await;
    let bodies: Vec<Value> = received.iter().map(|m| json!(m.body)).collect();
    assert_eq!(&Value::Array(bodies), &preview["messages"], "the preview and the phone differ");
    assert!(preview["messages"].as_array().unwrap().contains(&preview["menu"]));

    // A changed draft previews its own menu, nothing is saved, and an invalid one gets the setup's 422.
    let mut draft = standard_setup();
    draft["queues"][0]["name"] = json!("Invoices");
    let body = json!({"setup": draft, "number": SUPPORT});
    let preview = call(&app, Method::POST, "/api/v1/setup/preview", ADMIN, Some(body)).await.expect_status(200).body;
    assert!(preview["menu"].as_str().unwrap().contains("for Invoices"), "{preview}");
    assert_eq!(app.setup().await["queues"][0]["name"], "Billing");
    draft["agents"][0]["capacity"] = json!(0);
    let body = json!({"setup": draft, "number": SUPPORT});
    let refused = call(&app, Method::POST, "/api/v1/setup/preview", ADMIN, Some(body)).await;
    refused.expect_error(422, "validation_failed");
    assert_eq!(refused.body["error"]["details"][0]["field"], "/setup/agents/0/capacity", "{}", refused.body);
    let body = json!({"setup": standard_setup(), "number": "+15559990000"});
    let unknown = call(&app, Method::POST, "/api/v1/setup/preview", ADMIN, Some(body)).await;
    unknown.expect_error(422, "validation_failed");
    let alice = app.agent_token("alice").await;
    let body = json!({"setup": standard_setup(), "number": SUPPORT});
    call(&app, Method::POST, "/api/v1/setup/preview", &alice, Some(body)).await.expect_error(403, "forbidden");
}

fn ids(reply: &Value) -> Vec<String> {
    reply["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_are_found_by_words_phone_queue_agent_and_date_and_paged() {
    let app = TestApp::with_standard_setup().await;
    let refund = app.phone("+14155550911").texts("I want a refund for my invoice").await.chat_id.unwrap();
    app.phone("+14155550911").texts("1").await;
    let router = app.phone("+14155550912").texts("my router is broken").await.chat_id.unwrap();
    app.phone("+14155550912").texts("2").await;
    let admin = app.admin();
    let list = |query: &str| {
        let query = query.to_owned();
        let admin = &admin;
        async move { admin.try_list(&query).await.expect_status(200).body }
    };

    assert_eq!(ids(&list("?q=REFUND").await), [refund.as_str()], "words, any case");
    assert_eq!(ids(&list("?q=refund%20invoice").await), [refund.as_str()], "every word");
    assert!(ids(&list("?q=refund%20router").await).is_empty(), "every word must be in one message");
    assert_eq!(ids(&list("?q=0912").await), [router.as_str()], "digits of the phone");
    assert_eq!(ids(&list("?phone=%2B14155550911").await), [refund.as_str()]);
    assert_eq!(ids(&list("?queue=tech").await), [router.as_str()]);
    app.admin().try_list("?phone=12ab").await.expect_error(400, "bad_request");
    app.admin().try_list("?from=yesterday").await.expect_error(400, "bad_request");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(ids(&list(&format!("?from={today}&to={today}")).await).len(), 2);
    assert!(ids(&list("?to=2000-01-01").await).is_empty());
    assert!(ids(&list("?from=2999-01-01T00:00:00Z").await).is_empty());

    // Agents find only within their queues: bob serves tech, not billing.
    let bob = app.agent(&app.agent_token("bob").await);
    assert!(ids(&bob.try_list("?q=refund").await.expect_status(200).body).is_empty());
    let alice = app.agent(&app.agent_token("alice").await);
    assert_eq!(ids(&alice.try_list("?q=refund").await.expect_status(200).body), [refund.as_str()]);
    bob.set_status("available").await;
    bob.accept(&router).await;
    assert_eq!(ids(&list("?agent=bob").await), [router.as_str()]);

    // Pages: newest first, one at a time, until no next_cursor.
    let first = list("?limit=1").await;
    assert_eq!(ids(&first), [router.as_str()]);
    let cursor = first["next_cursor"].as_str().expect("a next page").to_owned();
    let second = list(&format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(ids(&second), [refund.as_str()]);
    assert!(second["next_cursor"].is_null(), "{second}");
    app.admin().try_list("?cursor=zz").await.expect_error(400, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_handed_over_counts_as_answered_for_the_agent_who_wrote_in_it() {
    let app = TestApp::with_standard_setup().await;
    let (alice, bob) = (app.agent(&app.agent_token("alice").await), app.agent(&app.agent_token("bob").await));
    alice.set_status("available").await;
    bob.set_status("available").await;
    let chat = app.phone("+14155550921").texts("2").await.chat_id.unwrap();
    eventually("the offer to bob", || async {
        bob.chats("ongoing").await.iter().any(|c| c.id == chat).then_some(()).ok_or_else(|| "not yet".to_owned())
    })
    .await;
    bob.accept(&chat).await;
    bob.say(&chat, "Let me pass you to billing").await;
    let path = format!("/api/v1/chats/{chat}/transfer");
    call(&app, Method::POST, &path, &bob.token, Some(json!({"to_queue": "billing", "note": "invoice"})))
        .await
        .expect_status(202);
    let path = format!("/api/v1/chats/{chat}/transfer/accept");
    eventually("alice takes the transfer", || async {
        let reply = call(&app, Method::POST, &path, &alice.token, None).await;
        (reply.status.as_u16() == 200).then_some(()).ok_or_else(|| reply.body.to_string())
    })
    .await;
    alice.say(&chat, "Hello from billing").await;
    alice.end(&chat).await;
    for agent in [&alice, &bob] {
        let stats = call(&app, Method::GET, "/api/v1/me/stats", &agent.token, None).await.expect_status(200).body;
        assert_eq!(stats["mine"]["answered"], 1.0, "{stats}");
        assert!(stats["team_average"]["answered"].is_number(), "{stats}");
    }
}

/// A private note is a transcript line for agents and supervisors, never a message to the phone; it
/// may be written after the chat ended, and bad notes are refused in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_note_is_in_the_transcript_and_never_reaches_the_phone() {
    let app = TestApp::with_standard_setup().await;
    let (alice, bob) = (app.agent_token("alice").await, app.agent_token("bob").await);
    app.agent(&alice).set_status("available").await;
    let phone = app.phone("+14155550100");
    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    app.agent(&alice).accept(&chat).await;
    app.outbox_drained().await;
    let before = phone.inbox().await.len();

    let path = format!("/api/v1/chats/{chat}/notes");
    let added = call(&app, Method::POST, &path, &alice, Some(json!({"body": "  Wants a refund; check order 1234. "})))
        .await
        .expect_status(201)
        .body;
    let id = added["message_id"].as_str().expect("the note's id").to_owned();
    let transcript = app.agent(&alice).transcript(&chat).await;
    let line = transcript.messages.iter().find(|m| m.id == id).expect("the note in the transcript");
    assert_eq!((line.direction.as_str(), line.author.as_str()), ("note", "agent:alice"));
    assert_eq!(line.body, "Wants a refund; check order 1234.");

    // Nothing went to the phone, not even once the outbox is drained.
    app.outbox_drained().await;
    assert_eq!(phone.inbox().await.len(), before);
    // Bob serves another queue: he may not read or write here.
    call(&app, Method::POST, &path, &bob, Some(json!({"body": "hello"}))).await.expect_error(403, "forbidden");
    // Empty and too long are refused with what to do.
    let empty = call(&app, Method::POST, &path, &alice, Some(json!({"body": "   "}))).await;
    assert!(empty.expect_error(422, "validation_failed").contains("empty"));
    let long = call(&app, Method::POST, &path, &alice, Some(json!({"body": "x".repeat(2001)}))).await;
    assert!(long.expect_error(422, "validation_failed").contains("2001 characters"));
    call(&app, Method::POST, "/api/v1/chats/no-such-chat/notes", ADMIN, Some(json!({"body": "x"})))
        .await
        .expect_error(404, "not_found");

    // A wrap-up after the end, by the admin.
    app.agent(&alice).end(&chat).await;
    call(&app, Method::POST, &path, ADMIN, Some(json!({"body": "Refund approved."}))).await.expect_status(201);
    let transcript = app.agent(&alice).transcript(&chat).await;
    let last = transcript.messages.last().expect("a line");
    assert_eq!(
        (last.direction.as_str(), last.author.as_str(), last.body.as_str()),
        ("note", "admin", "Refund approved.")
    );
}
