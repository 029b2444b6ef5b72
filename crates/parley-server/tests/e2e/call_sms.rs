//! The SMS of voice calls (docs/ivr.md): the wait-time SMS asked once and sent into the call's SMS
//! thread, the caller's photo waiting there for the agent the call connects to, SMS during a call
//! from the in_call number, the thread ending with the call (later texts get `unmonitored`), and an
//! app-launch link opened once (forged 401, reused or expired 410). Run on both engines.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_server::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, TestApp, bodies, eventually, standard_setup};

const VOICE: &str = "+15550009000";
const IN_CALL: &str = "+15550007000";
const WAIT_TEXT: &str = "Acme here: reply with a photo of the problem while you wait, and your agent will see it.";
const T0: i64 = 1_767_225_600_000;

fn setup() -> Value {
    let mut doc = standard_setup();
    doc["numbers"].as_array_mut().unwrap().push(json!({
        "number": IN_CALL, "label": "Calls", "carrier": "sim", "role": "in_call",
        "messages": {"unmonitored": "This number is for texts during a call. Text +15550001000 to chat with us."}
    }));
    doc["replies"] = json!([
        {"id": "wait", "title": "While you wait", "shortcut": "wait",
         "text": "{brand} here: reply with a photo of the problem while you wait, and your agent will see it."},
        {"id": "app", "title": "Open the app", "shortcut": "app", "kind": "app_launch", "app": "acme",
         "text": "Hi, {agent_first_name} here: open {app_link} (no app yet? iPhone {ios_link})"},
        {"id": "app-api", "title": "App link", "shortcut": "applink", "kind": "app_launch", "app": "acme",
         "text": "Track your order in the app: {app_link}"}
    ]);
    doc["apps"] = json!([
        {"id": "acme", "name": "Acme app", "ios": "https://apps.apple.com/app/id1", "android": "https://play.google.com/store/apps/details?id=com.acme",
         "launch": "https://app.acme.example/open?t={token}", "token_minutes": 30}
    ]);
    doc["ivr_queues"] = json!([
        {"id": "voice", "name": "Voice support", "numbers": [VOICE], "agents": ["alice", "bob"], "in_call_number": IN_CALL,
         "wait_sms": {"consent_prompt": "Press 1 for a text while you wait.", "sent_prompt": "We sent you a text.", "reply_id": "wait"}}
    ]);
    doc
}

async fn ivr(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> crate::harness::Reply {
    app.request(method, &format!("/api/v1/ivr{path}"), Some(ADMIN), body.as_ref()).await
}

async fn call(app: &TestApp, id: &str, caller: &str) {
    let body = json!({"call_id": id, "caller": caller, "dialed": VOICE});
    ivr(app, Method::POST, "/calls", Some(body)).await.expect_status(201);
}

async fn state(app: &TestApp, id: &str, state: Value) -> Value {
    ivr(app, Method::PUT, &format!("/calls/{id}"), Some(state)).await.expect_status(200).body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_sms_a_wait_time_photo_reaches_the_agent_and_the_thread_ends_with_the_call() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup()).await;
    let caller = app.phone("+14155550801").to(IN_CALL);
    call(&app, "CA1", &caller.number).await;

    // Offered only while the queue is over capacity.
    let early = ivr(&app, Method::POST, "/calls/CA1/wait-sms", Some(json!({"consent": true}))).await;
    assert!(early.expect_error(409, "conflict").contains("over capacity"), "{early:?}");
    state(&app, "CA1", json!({"state": "over_capacity"})).await;
    let sent =
        ivr(&app, Method::POST, "/calls/CA1/wait-sms", Some(json!({"consent": true}))).await.expect_status(200).body;
    assert_eq!((sent["sent"].as_bool(), sent["prompt"].as_str()), (Some(true), Some("We sent you a text.")));
    let thread = sent["thread_chat_id"].as_str().unwrap().to_owned();
    assert_eq!(
        (sent["call"]["wait_sms"].as_str(), sent["call"]["thread_chat_id"].as_str()),
        (Some("sent"), Some(thread.as_str()))
    );
    let twice = ivr(&app, Method::POST, "/calls/CA1/wait-sms", Some(json!({"consent": true}))).await;
    assert!(twice.expect_error(409, "conflict").contains("answered the wait-time SMS already (sent)"));
    let texts = caller.receives(2).await;
    assert!(texts[0].body.contains("STOP"), "the opt-in notice first: {:?}", bodies(&texts));
    assert_eq!((texts[1].body.as_str(), texts[1].from.as_str()), (WAIT_TEXT, IN_CALL));

    // The caller answers with a photo while waiting: it waits in the thread, for no agent yet.
    caller.sends(json!({"body": "here it is", "media": ["https://media.example/broken.jpg"]})).await.expect_status(201);
    caller.texts("menu").await;
    let alice = app.agent_token("alice").await;
    let bob = app.agent_token("bob").await;
    app.agent(&alice).set_status("available").await;
    assert!(app.agent(&alice).all_chats().await.iter().all(|c| c.id != thread), "not alice's before the call is");
    app.agent(&alice).try_chat(&thread).await.expect_error(403, "forbidden");
    let read = app.request(Method::GET, "/api/v1/ivr/calls/CA1/messages", Some(&alice), None).await;
    read.expect_error(403, "forbidden");
    let write = json!({"body": "hello"});
    let not_yet = app.request(Method::POST, "/api/v1/ivr/calls/CA1/messages", Some(&alice), Some(&write)).await;
    assert!(not_yet.expect_error(409, "conflict").contains("over_capacity"));

    // The call connects to alice: the thread is hers, with the photo, and takes none of her chats.
    let connected = state(&app, "CA1", json!({"state": "connected", "agent_id": "alice"})).await;
    assert_eq!(connected["status"], "connected");
    let mine = eventually("the thread connected to alice", || async {
        let chats = app.agent(&alice).all_chats().await;
        match chats.into_iter().find(|c| c.id == thread) {
            Some(c) if c.status == "connected" => Ok(c),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(
        (mine.start_type.as_deref(), mine.queue.as_deref(), mine.agent.as_deref()),
        (Some("call"), None, Some("alice"))
    );
    let view =
        app.request(Method::GET, &format!("/api/v1/chats/{thread}"), Some(&alice), None).await.expect_status(200).body;
    assert_eq!(view["context"], json!({"call_id": "CA1", "ivr_queue": "voice"}));
    let transcript = app.agent(&alice).transcript(&thread).await;
    assert_eq!(transcript.received(), ["here it is", "menu"], "no SMS command in a call's thread");
    let full = app.request(Method::GET, &format!("/api/v1/chats/{thread}/transcript"), Some(&alice), None).await;
    let photo = full.expect_status(200).body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "here it is")
        .cloned();
    assert_eq!(photo.unwrap()["attachments"].as_array().map(Vec::len), Some(1), "the photo waits in the thread");
    let agents = app.request(Method::GET, "/api/v1/agents", Some(ADMIN), None).await.expect_status(200).body;
    let seat = agents["agents"].as_array().unwrap().iter().find(|a| a["id"] == "alice").cloned().unwrap();
    assert_eq!(seat["active"], 0, "a call's thread takes no chat capacity: {seat}");

    // Alice texts the caller from the in_call number; bob, who is not on the call, may not.
    let queued = app
        .request(Method::POST, "/api/v1/ivr/calls/CA1/messages", Some(&alice), Some(&json!({"body": "Got it, thanks"})))
        .await;
    let queued = queued.expect_status(202).body;
    assert_eq!(queued["thread_chat_id"], thread.as_str());
    let texts = caller.receives(3).await;
    assert_eq!((texts[2].body.as_str(), texts[2].from.as_str()), ("Got it, thanks", IN_CALL));
    let other =
        app.request(Method::POST, "/api/v1/ivr/calls/CA1/messages", Some(&bob), Some(&json!({"body": "hi"}))).await;
    assert!(other.expect_error(403, "forbidden").contains("alice"));
    let both = json!({"body": "x", "reply_id": "wait"});
    app.request(Method::POST, "/api/v1/ivr/calls/CA1/messages", Some(&alice), Some(&both))
        .await
        .expect_error(422, "validation_failed");

    // The call ends: so does its thread, silently; the caller's next text gets the number's answer.
    let ended = state(&app, "CA1", json!({"state": "ended", "reason": "completed"})).await;
    assert_eq!(ended["status"], "ended");
    let finished = app.admin().chat(&thread).await;
    assert_eq!((finished.status.as_str(), finished.end_reason.as_deref()), ("finished", Some("call_ended")));
    let after = app
        .request(Method::POST, "/api/v1/ivr/calls/CA1/messages", Some(&alice), Some(&json!({"body": "one more"})))
        .await;
    assert!(after.expect_error(409, "conflict").contains("ended"));
    caller.texts("are you there?").await;
    let texts = caller.receives(4).await;
    assert_eq!(texts.len(), 4, "no closing text when the call ends: {:?}", bodies(&texts));
    assert!(texts[3].body.starts_with("This number is for texts during a call."), "{:?}", bodies(&texts));
    assert!(
        app.admin().all_chats().await.iter().all(|c| c.id == thread || c.consumer != caller.number),
        "no chat opened"
    );

    // The thread's transcript stays with the call.
    let kept = ivr(&app, Method::GET, "/calls/CA1/messages", None).await.expect_status(200).body;
    let lines: Vec<&str> = kept["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(lines[1..], [WAIT_TEXT, "here it is", "menu", "Got it, thanks"], "{lines:?}");
    let events = app.store().await.events_after(0, 10_000).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "call.wait_sms" && e.data.contains(r#""outcome":"sent""#)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_sms_a_declined_caller_is_not_asked_again_and_an_app_link_opens_once() {
    let now = Arc::new(AtomicI64::new(T0));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&setup()).await;
    let caller = app.phone("+14155550802").to(IN_CALL);
    call(&app, "CA2", &caller.number).await;
    state(&app, "CA2", json!({"state": "over_capacity"})).await;
    let no =
        ivr(&app, Method::POST, "/calls/CA2/wait-sms", Some(json!({"consent": false}))).await.expect_status(200).body;
    assert_eq!((no["sent"].as_bool(), no["call"]["wait_sms"].as_str()), (Some(false), Some("declined")));
    let again = ivr(&app, Method::POST, "/calls/CA2/wait-sms", Some(json!({"consent": true}))).await;
    assert!(again.expect_error(409, "conflict").contains("(declined)"));
    ivr(&app, Method::POST, "/calls/CA9/wait-sms", Some(json!({"consent": true}))).await.expect_error(404, "not_found");

    // SMS during the call: the agent writes first (an app-launch reply), which opens the thread.
    state(&app, "CA2", json!({"state": "connected", "agent_id": "bob"})).await;
    let bob = app.agent_token("bob").await;
    let sent = app
        .request(Method::POST, "/api/v1/ivr/calls/CA2/messages", Some(&bob), Some(&json!({"reply_id": "app"})))
        .await;
    let thread = sent.expect_status(202).body["thread_chat_id"].as_str().unwrap().to_owned();
    let texts = caller.receives(2).await;
    let link = &texts[1].body;
    assert!(link.starts_with("Hi, Bob here: open https://app.acme.example/open?t="), "{link}");
    assert!(link.ends_with("(no app yet? iPhone https://apps.apple.com/app/id1)"), "{link}");
    let token = link.split("?t=").nth(1).unwrap().split(' ').next().unwrap().to_owned();

    // A changed token is refused; the real one opens once, and the agent sees it in the thread.
    let mut forged = token.clone();
    forged.insert(3, 'x');
    let open = |t: String| {
        let app = &app;
        async move { app.request(Method::POST, &format!("/api/v1/app-sessions/{t}"), None, None).await }
    };
    open(forged).await.expect_error(401, "unauthorized");
    let opened = open(token.clone()).await.expect_status(200).body;
    assert_eq!(opened["app"], "acme");
    assert!(open(token.clone()).await.expect_error(410, "gone").contains("opened already"));
    let line = eventually("the app-opened line in the thread", || async {
        let transcript = app.agent(&bob).transcript(&thread).await;
        transcript.messages.into_iter().find(|m| m.body.contains("opened the app")).ok_or("not yet".to_owned())
    })
    .await;
    assert_eq!(line.body, "The consumer opened the app (Acme app) from the link.");
    let events = app.store().await.events_after(0, 10_000).await.unwrap();
    let event = events.iter().find(|e| e.kind == "app.opened").unwrap();
    assert_eq!((event.chat_id.as_deref(), event.agent.as_deref()), (Some(thread.as_str()), Some("bob")));
    assert!(event.data.contains(r#""call_id":"CA2""#), "{}", event.data);

    // A link older than the app's 30 minutes no longer opens.
    app.request(Method::POST, "/api/v1/ivr/calls/CA2/messages", Some(&bob), Some(&json!({"reply_id": "app"})))
        .await
        .expect_status(202);
    let texts = caller.receives(3).await;
    let late = texts[2].body.split("?t=").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    now.fetch_add(31 * 60_000, Ordering::SeqCst);
    assert!(open(late).await.expect_error(410, "gone").contains("expired"));

    // The outbound API sends the same kind of link, for its own conversation (no chat: no line to add).
    let notify =
        json!({"end_user_number": "+14155550803", "outbound_number": "+15550001000", "predefined_id": "app-api"});
    app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&notify)).await.expect_status(201);
    let other = app.phone("+14155550803").receives(2).await;
    let api_link = other.iter().find(|m| m.body.starts_with("Track your order")).map(|m| m.body.clone()).unwrap();
    let api_token = api_link.split("?t=").nth(1).unwrap().to_owned();
    assert_eq!(open(api_token.clone()).await.expect_status(200).body["app"], "acme");
    open(api_token).await.expect_error(410, "gone");

    // An in_call number carries calls only: the outbound API may not send from it.
    let from_it = json!({"end_user_number": "+14155550803", "outbound_number": IN_CALL, "message": "hi"});
    let refused = app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&from_it)).await;
    assert!(refused.expect_error(422, "validation_failed").contains("in_call"));
}
