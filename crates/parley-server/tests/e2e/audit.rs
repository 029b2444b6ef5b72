//! The audit log of reads: every chat view, transcript and media served is recorded with who read it;
//! admins list the log, agents may not; a refused read is not recorded.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{ADMIN, TestApp, eventually};

const PHONE: &str = "+14155550160";

/// `GET /api/v1/audit` with `query`, as the admin; the reads, newest first.
async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.request(Method::GET, &format!("/api/v1/audit{query}"), Some(ADMIN), None).await;
    reply.expect_status(200).body["reads"].as_array().expect("a list of reads").clone()
}

/// (actor, chat, what) of each read.
fn shape(reads: &[Value]) -> Vec<(String, String, String)> {
    reads
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (field("actor"), field("chat_id"), field("what"))
        })
        .collect()
}

fn row(actor: &str, chat: &str, what: &str) -> (String, String, String) {
    (actor.to_owned(), chat.to_owned(), what.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_a_chat_are_listed_with_actor_and_kind() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let phone = app.phone(PHONE);
    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    assert!(audit(&app, &format!("?chat={chat}")).await.is_empty(), "nothing read yet");

    alice.transcript(&chat).await;
    alice.chat(&chat).await;
    // Listing chats shows no transcript: it is not a read of one chat.
    alice.all_chats().await;

    let reads = audit(&app, &format!("?chat={chat}")).await;
    assert_eq!(shape(&reads), [row("agent:alice", &chat, "chat"), row("agent:alice", &chat, "transcript")]);
    let seqs: Vec<i64> = reads.iter().map(|r| r["seq"].as_i64().expect("a seq")).collect();
    assert!(seqs[0] > seqs[1], "newest first: {seqs:?}");
    for r in &reads {
        assert!(chrono::DateTime::parse_from_rfc3339(r["at"].as_str().unwrap()).is_ok(), "{r}");
    }

    // The admin's own reads are recorded as "admin".
    app.admin().transcript(&chat).await;
    let reads = audit(&app, &format!("?chat={chat}")).await;
    assert_eq!(shape(&reads)[0], row("admin", &chat, "transcript"));
    assert_eq!(shape(&audit(&app, "?actor=agent:alice").await).len(), 2);
    assert_eq!(shape(&audit(&app, &format!("?chat={chat}&limit=1")).await), [row("admin", &chat, "transcript")]);
    assert!(audit(&app, "?chat=someone-else").await.is_empty());
    app.request(Method::GET, "/api/v1/audit?limit=0", Some(ADMIN), None).await.expect_error(400, "bad_request");
    app.request(Method::GET, "/api/v1/audit?who=x", Some(ADMIN), None).await.expect_error(400, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_may_not_list_the_audit_log_and_refused_reads_are_not_logged() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    let chat = app.phone(PHONE).texts("billing").await.chat_id.expect("a chat");

    for who in [&alice, &bob] {
        app.request(Method::GET, "/api/v1/audit", Some(&who.token), None).await.expect_error(403, "forbidden");
    }
    app.request(Method::GET, "/api/v1/audit", None, None).await.expect_error(401, "unauthorized");

    // Bob does not serve billing: his reads are refused, and a refused read is not a read.
    bob.try_chat(&chat).await.expect_error(403, "forbidden");
    bob.try_transcript(&chat).await.expect_error(403, "forbidden");
    alice.try_chat("no-such-chat").await.expect_error(404, "not_found");
    assert!(audit(&app, "").await.is_empty(), "refused reads were logged");

    alice.chat(&chat).await;
    assert_eq!(shape(&audit(&app, "").await), [row("agent:alice", &chat, "chat")]);
    assert!(audit(&app, "?actor=agent:bob").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_served_is_a_read_of_its_chat() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    let phone = app.phone(PHONE);
    let chat = phone.texts("billing").await.chat_id.expect("a chat");
    phone.sends(json!({ "body": "", "media": ["https://media.example/a.jpg"] })).await.expect_status(201);
    let media_id = eventually("the media to be linked", || async {
        let t = alice.try_transcript(&chat).await.expect_status(200).body;
        let attachment = t["messages"]
            .as_array()
            .and_then(|m| m.iter().find_map(|m| m["attachments"].as_array().and_then(|a| a.first()).cloned()));
        match attachment {
            Some(a) if a["status"] == "linked" => Ok(a["id"].as_str().unwrap_or_default().to_owned()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let open = |token: String| {
        let client = no_redirects.clone();
        let url = format!("{}/api/v1/media/{media_id}", app.base);
        async move { client.get(url).bearer_auth(token).send().await.unwrap().status() }
    };
    assert_eq!(open(bob.token.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(open(alice.token.clone()).await, StatusCode::TEMPORARY_REDIRECT);

    let media_reads: Vec<_> =
        shape(&audit(&app, &format!("?chat={chat}")).await).into_iter().filter(|r| r.2.starts_with("media:")).collect();
    assert_eq!(media_reads, [row("agent:alice", &chat, &format!("media:{media_id}"))]);
}
