//! One thread per consumer (issue 14): a phone's chats on every business number, newest first, as
//! each caller may see them — admins all, agents their queues' (by number only where their queue shows
//! whole numbers; from a chat they see, every queue of theirs, masked as each says).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SALES, SUPPORT, TestApp, eventually, standard_setup};

const PHONE: &str = "+14155550133";

/// Opens a chat from `PHONE` to `number`, picking `choice` from a menu if given, and ends it as admin.
async fn chat(app: &TestApp, number: &str, choice: Option<&str>) -> String {
    let phone = app.phone(PHONE).to(number);
    let id = phone.texts("hello").await.chat_id.expect("a chat");
    if let Some(choice) = choice {
        phone.texts(choice).await;
    }
    app.request(Method::POST, &format!("/api/v1/chats/{id}/end"), Some(ADMIN), None).await.expect_status(200);
    id
}

fn ids(list: &Value) -> Vec<String> {
    list["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_lists_a_phones_chats_on_every_number_newest_first_as_each_caller_may_see_them() {
    let app = TestApp::spawn().await;
    let mut doc = standard_setup();
    doc["queues"][1]["consumer_number"] = json!("last_four"); // tech masks the number
    app.apply_setup(&doc).await;
    let billing = chat(&app, SUPPORT, Some("1")).await;
    let sales = chat(&app, SALES, None).await;
    let tech = chat(&app, SUPPORT, Some("2")).await;
    // Another phone's chat is no part of the thread.
    app.phone("+14155550144").to(SALES).texts("hi").await;

    let path = format!("/api/v1/phones/{PHONE}/chats");
    let all = app.request(Method::GET, &path, Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(ids(&all), [tech.clone(), sales.clone(), billing.clone()], "newest first, both numbers: {all}");
    assert!(all["chats"].as_array().unwrap().iter().all(|c| c["consumer"] == PHONE));

    // Pages: one at a time, the cursor leads on, the last page has none.
    let first = app.request(Method::GET, &format!("{path}?limit=2"), Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(ids(&first), [tech.clone(), sales.clone()]);
    let cursor = first["next_cursor"].as_str().expect("a cursor");
    let rest = app
        .request(Method::GET, &format!("{path}?limit=2&cursor={cursor}"), Some(ADMIN), None)
        .await
        .expect_status(200);
    assert_eq!(ids(&rest.body), [billing.as_str()]);
    assert!(rest.body["next_cursor"].is_null());

    // alice serves billing and sales; bob serves tech, which masks: by number he sees nothing there.
    let alice = app.agent_token("alice").await;
    let bob = app.agent_token("bob").await;
    let hers = app.request(Method::GET, &path, Some(&alice), None).await.expect_status(200).body;
    assert_eq!(ids(&hers), [sales.clone(), billing.clone()]);
    let his = app.request(Method::GET, &path, Some(&bob), None).await.expect_status(200).body;
    assert_eq!(ids(&his), Vec::<String>::new(), "a masking queue must not confirm a typed number: {his}");

    // From a chat he sees, bob gets the thread of his queues, masked.
    let thread = app
        .request(Method::GET, &format!("/api/v1/chats/{tech}/thread"), Some(&bob), None)
        .await
        .expect_status(200)
        .body;
    assert_eq!(ids(&thread), [tech.as_str()]);
    assert_eq!(thread["chats"][0]["consumer"], "+*******0133");
    // alice's thread from the billing chat has her two chats, and none of bob's.
    let thread = app
        .request(Method::GET, &format!("/api/v1/chats/{billing}/thread"), Some(&alice), None)
        .await
        .expect_status(200)
        .body;
    assert_eq!(ids(&thread), [sales, billing]);
    // A chat bob does not see gives him no thread.
    let refused = app.request(Method::GET, &format!("/api/v1/chats/{}/thread", ids(&hers)[1]), Some(&bob), None).await;
    refused.expect_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_refuses_what_is_not_a_phone_number_in_words() {
    let app = TestApp::with_standard_setup().await;
    let bad = app.request(Method::GET, "/api/v1/phones/12345/chats", Some(ADMIN), None).await;
    let message = bad.expect_error(422, "validation_failed");
    assert!(message.contains("+14155550100"), "{message}");
    let bad = app.request(Method::GET, &format!("/api/v1/phones/{PHONE}/chats?limit=0"), Some(ADMIN), None).await;
    bad.expect_error(400, "bad_request");
    let none = app.request(Method::GET, &format!("/api/v1/phones/{PHONE}/chats"), None, None).await;
    none.expect_error(401, "unauthorized");
}

const SECOND: &str = "+15550003000";

/// Alice starts a chat with `PHONE` naming no number; returns the number it went out from.
async fn started_from(app: &TestApp, token: &str, number: Option<&str>) -> String {
    let mut body = json!({"end_user_number": PHONE, "message": "Hello from Acme"});
    if let Some(number) = number {
        body["outbound_number"] = json!(number);
    }
    let sent = app.request(Method::POST, "/api/v1/outbound/chats", Some(token), Some(&body)).await.expect_status(201);
    let chat = &sent.body["chat"];
    assert_eq!(chat["queue"], "billing", "{}", sent.body);
    let id = chat["id"].as_str().unwrap().to_owned();
    app.request(Method::POST, &format!("/api/v1/chats/{id}/end"), Some(ADMIN), None).await.expect_status(200);
    chat["number"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_stays_on_the_number_last_used_with_the_phone_in_the_queue() {
    let app = TestApp::spawn().await;
    let mut doc = standard_setup();
    doc["numbers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"number": SECOND, "label": "Billing line", "carrier": "sim", "queues": ["billing"]}));
    // bob serves billing only here, so his chats can belong to no other queue.
    doc["agents"][1]["queues"] = json!(["billing"]);
    // The messages must go out whatever the hour of the run.
    doc["settings"]["quiet_hours"] = json!({"enabled": false});
    app.apply_setup(&doc).await;
    let bob = app.agent_token("bob").await;

    // No chat with the phone yet: the first number whose menu offers billing.
    assert_eq!(started_from(&app, &bob, None).await, SUPPORT);
    // The consumer texts the billing line: the thread moves there, and the next chat follows it.
    chat(&app, SECOND, None).await;
    assert_eq!(started_from(&app, &bob, None).await, SECOND);
    assert_eq!(started_from(&app, &bob, None).await, SECOND, "still the latest chat's number");
    eventually("the phone to get the message from the billing line", || async {
        let inbox = app.phone(PHONE).inbox().await;
        if inbox.iter().any(|m| m.from == SECOND && m.body == "Hello from Acme") {
            Ok(())
        } else {
            Err(format!("{inbox:?}"))
        }
    })
    .await;
    // A number named in the request wins, and becomes the thread's number.
    assert_eq!(started_from(&app, &bob, Some(SUPPORT)).await, SUPPORT);
    assert_eq!(started_from(&app, &bob, None).await, SUPPORT);

    // With sticky_sender off the queue always starts from its first number.
    chat(&app, SECOND, None).await;
    doc["queues"][0]["sticky_sender"] = json!(false);
    app.apply_setup(&doc).await;
    assert_eq!(started_from(&app, &bob, None).await, SUPPORT);
    assert_eq!(app.setup().await["queues"][0]["sticky_sender"], false, "the export keeps the switch");

    // The API's own chats (no agent) have no queue to keep a thread in: the number is required.
    let body = json!({"end_user_number": PHONE, "message": "Hi"});
    let refused = app.request(Method::POST, "/api/v1/outbound/chats", Some(ADMIN), Some(&body)).await;
    refused.expect_error(422, "validation_failed");
    assert_eq!(refused.body["error"]["details"][0]["field"], "/outbound_number", "{}", refused.body);
}
