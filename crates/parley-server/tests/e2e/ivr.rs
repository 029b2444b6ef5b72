//! The IVR API (docs/ivr.md): calls reported and moved only forward, pre-session deflection offered,
//! declined and accepted (the SMS chat starting in line where the call was, from the queue's SMS
//! number, with the call on the chat), the voice queue's estimated wait, and every refusal. Run on
//! both engines.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SUPPORT, TestApp, eventually, standard_setup};

const VOICE: &str = "+15550009000";
const FIRST: &str = "Thanks for choosing SMS. An agent will text you here.";

fn setup() -> Value {
    let mut doc = standard_setup();
    doc["ivr_queues"] = json!([
        {"id": "voice", "name": "Voice support", "numbers": [VOICE], "agents": ["alice"],
         "deflection": {"ewt_threshold_seconds": 60, "prompt": "Press 1 to continue by text message.",
                        "sms_number": SUPPORT, "sms_queue": "billing", "first_message": FIRST}},
        {"id": "plain", "name": "No deflection", "numbers": ["+15550009001"], "agents": ["bob"]}
    ]);
    doc
}

async fn ivr(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> crate::harness::Reply {
    app.request(method, &format!("/api/v1/ivr{path}"), Some(ADMIN), body.as_ref()).await
}

async fn call(app: &TestApp, id: &str, caller: &str, dialed: &str) -> Value {
    let body = json!({"call_id": id, "caller": caller, "dialed": dialed});
    ivr(app, Method::POST, "/calls", Some(body)).await.expect_status(201).body
}

async fn call_kinds(app: &TestApp) -> Vec<String> {
    let events = app.store().await.events_after(0, 10_000).await.unwrap();
    events.into_iter().filter(|e| e.kind.starts_with("call.")).map(|e| format!("{} {}", e.kind, e.data)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ivr_a_deflected_caller_starts_an_sms_chat_in_line_where_the_call_was() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup()).await;

    let started = call(&app, "CA1", "+14155550901", VOICE).await;
    assert_eq!((started["status"].as_str(), started["ivr_queue"].as_str()), (Some("started"), Some("voice")));
    let again = json!({"call_id": "CA1", "caller": "+14155550901", "dialed": VOICE});
    assert_eq!(ivr(&app, Method::POST, "/calls", Some(again)).await.expect_status(200).body["status"], "started");
    let queued = ivr(&app, Method::PUT, "/calls/CA1", Some(json!({"state": "queued", "position": 1}))).await;
    assert_eq!(queued.expect_status(200).body["position"], 1);
    call(&app, "CA2", "+14155550903", VOICE).await;

    // A consumer texts in after the caller called: their chat waits in billing behind the call.
    app.phone("+14155550902").to(SUPPORT).texts("hello").await;
    app.phone("+14155550902").to(SUPPORT).texts("1").await;
    let admin = app.admin();
    let texted = eventually("the texted chat waiting", || async {
        let queued: Vec<_> = admin.all_chats().await.into_iter().filter(|c| c.status == "queued").collect();
        match queued.as_slice() {
            [one] => Ok(one.clone()),
            other => Err(format!("{} queued", other.len())),
        }
    })
    .await;

    // Nobody answers the voice queue: five minutes for the first in line, over the 60 s threshold.
    let ewt = ivr(&app, Method::GET, "/queues/voice/ewt", None).await.expect_status(200).body;
    assert_eq!((ewt["rule"].as_str(), ewt["inputs"]["waiting"].as_u64()), (Some("nobody_staffs"), Some(2)));
    let offer = ivr(&app, Method::POST, "/calls/CA1/deflection", None).await.expect_status(200).body;
    assert_eq!(
        offer,
        json!({"offer": true, "prompt": "Press 1 to continue by text message.", "ewt_seconds": 300, "reason": null})
    );

    // The second caller declines: recorded, still waiting, and a second answer the other way is refused.
    assert_eq!(ivr(&app, Method::POST, "/calls/CA2/deflection", None).await.body["offer"], true);
    let declined = ivr(&app, Method::POST, "/calls/CA2/deflection/decline", None).await.expect_status(200).body;
    assert_eq!((declined["deflection"].as_str(), declined["status"].as_str()), (Some("declined"), Some("started")));
    ivr(&app, Method::POST, "/calls/CA2/deflection/decline", None).await.expect_status(200);
    let refused = ivr(&app, Method::POST, "/calls/CA2/deflection/accept", None).await;
    assert!(refused.expect_error(409, "conflict").contains("declined"));
    let asked_again = ivr(&app, Method::POST, "/calls/CA2/deflection", None).await.body;
    assert_eq!((asked_again["offer"].as_bool(), asked_again["reason"].as_str()), (Some(false), Some("answered")));

    // The first accepts: the call ends as deflected and the SMS chat starts, in line before the text.
    let accepted = ivr(&app, Method::POST, "/calls/CA1/deflection/accept", None).await.expect_status(200).body;
    let chat_id = accepted["sms_chat_id"].as_str().unwrap().to_owned();
    assert_eq!(
        (accepted["call"]["status"].as_str(), accepted["call"]["end_reason"].as_str()),
        (Some("ended"), Some("deflected"))
    );
    let repeat = ivr(&app, Method::POST, "/calls/CA1/deflection/accept", None).await.expect_status(200).body;
    assert_eq!(repeat["sms_chat_id"], chat_id.as_str(), "an accept repeated answers the same chat");
    let chat = admin.chat(&chat_id).await;
    assert_eq!((chat.status.as_str(), chat.queue.as_deref()), ("queued", Some("billing")));
    assert_eq!((chat.number.as_str(), chat.consumer.as_str()), (SUPPORT, "+14155550901"));
    let view = app.request(Method::GET, &format!("/api/v1/chats/{chat_id}"), Some(ADMIN), None).await.body;
    assert_eq!(view["start_type"], "deflected");
    assert_eq!(view["context"], json!({"call_id": "CA1", "ivr_queue": "voice"}));
    assert_eq!(view["queued_at"], accepted["call"]["queued_at"], "the chat waits since the call queued");
    assert!(view["queued_at"].as_str() < Some(texted.queued_at.as_deref().unwrap()), "ahead of the later text");
    let texts = app.phone("+14155550901").receives(2).await;
    let bodies: Vec<&str> = texts.iter().map(|m| m.body.as_str()).collect();
    assert!(bodies[0].contains("STOP"), "the opt-in notice first: {bodies:?}");
    assert_eq!(bodies[1], FIRST);

    // Alice comes: the deflected caller is offered first.
    let alice = app.agent_token("alice").await;
    app.agent(&alice).set_status("available").await;
    let offered = eventually("both chats offered to alice", || async {
        let chats = app.agent(&alice).all_chats().await;
        let offered: Vec<String> = chats.into_iter().filter(|c| c.status == "offered").map(|c| c.id).collect();
        if offered.len() == 2 { Ok(offered) } else { Err(format!("{offered:?}")) }
    })
    .await;
    assert!(offered.contains(&chat_id));
    let events = call_kinds(&app).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.split(' ').next().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "call.started",
            "call.queued",
            "call.started",
            "call.deflection",
            "call.deflection",
            "call.deflection",
            "call.deflection",
            "call.deflection",
            "call.ended"
        ],
        "{events:#?}"
    );
    assert!(events[8].contains(r#""reason":"deflected""#));
    let store = app.store().await;
    let offers: Vec<String> = store
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "chat.offered")
        .filter_map(|e| e.chat_id)
        .collect();
    assert_eq!(offers.first(), Some(&chat_id), "routing takes the caller first: {offers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ivr_calls_move_only_forward_and_every_bad_report_is_named() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup()).await;
    ivr(&app, Method::GET, "/calls/nope", None).await.expect_error(404, "not_found");
    let bad = json!({"call_id": "CA 1", "caller": "4155550100", "dialed": VOICE});
    ivr(&app, Method::POST, "/calls", Some(bad)).await.expect_error(422, "validation_failed");
    let bad = json!({"call_id": "CA9", "caller": "4155550100", "dialed": VOICE});
    let refused = ivr(&app, Method::POST, "/calls", Some(bad)).await;
    assert_eq!(refused.expect_status(422).body["error"]["details"][0]["field"], "/caller");
    let unknown = json!({"call_id": "CA9", "caller": "+14155550100", "dialed": "+15550009999"});
    let refused = ivr(&app, Method::POST, "/calls", Some(unknown)).await;
    assert_eq!(refused.expect_status(422).body["error"]["details"][0]["field"], "/ivr_queue");
    let alice = app.agent_token("alice").await;
    let body = json!({"call_id": "CA9", "caller": "+14155550100", "dialed": VOICE});
    app.request(Method::POST, "/api/v1/ivr/calls", Some(&alice), Some(&body)).await.expect_error(403, "forbidden");

    let named = json!({"call_id": "CA3", "caller": "+14155550100", "dialed": VOICE, "ivr_queue": "plain"});
    assert_eq!(ivr(&app, Method::POST, "/calls", Some(named)).await.expect_status(201).body["ivr_queue"], "plain");
    let taken = json!({"call_id": "CA3", "caller": "+14155550199", "dialed": VOICE});
    ivr(&app, Method::POST, "/calls", Some(taken)).await.expect_error(409, "conflict");
    let no_offer = ivr(&app, Method::POST, "/calls/CA3/deflection", None).await.expect_status(200).body;
    assert_eq!((no_offer["offer"].as_bool(), no_offer["reason"].as_str()), (Some(false), Some("not_configured")));
    ivr(&app, Method::POST, "/calls/CA3/deflection/accept", None).await.expect_error(409, "conflict");

    let ghost = json!({"state": "connected", "agent_id": "zed"});
    let refused = ivr(&app, Method::PUT, "/calls/CA3", Some(ghost)).await;
    assert_eq!(refused.expect_status(422).body["error"]["details"][0]["field"], "/agent_id");
    let connected = ivr(&app, Method::PUT, "/calls/CA3", Some(json!({"state": "connected", "agent_id": "bob"}))).await;
    assert_eq!(connected.expect_status(200).body["agent_id"], "bob");
    let back = ivr(&app, Method::PUT, "/calls/CA3", Some(json!({"state": "queued"}))).await;
    let message = back.expect_error(409, "conflict");
    assert!(message.contains("connected") && message.contains("queued"), "{message}");
    let live = ivr(&app, Method::GET, "/calls?status=live", None).await.expect_status(200).body;
    assert_eq!(live["calls"][0]["call_id"], "CA3");
    let ended = ivr(&app, Method::PUT, "/calls/CA3", Some(json!({"state": "ended", "reason": "hangup"}))).await;
    assert_eq!(ended.expect_status(200).body["end_reason"], "hangup");
    ivr(&app, Method::PUT, "/calls/CA3", Some(json!({"state": "ended", "reason": "hangup"}))).await.expect_status(200);
    ivr(&app, Method::PUT, "/calls/CA3", Some(json!({"state": "over_capacity"}))).await.expect_error(409, "conflict");
    ivr(&app, Method::PUT, "/calls/CA3", Some(json!({"state": "ringing"})))
        .await
        .expect_error(422, "validation_failed");
    assert!(ivr(&app, Method::GET, "/calls?status=live", None).await.body["calls"].as_array().unwrap().is_empty());
    ivr(&app, Method::GET, "/calls?status=later", None).await.expect_error(422, "validation_failed");

    // The voice queue's figures: bob's call took its time; an opted-out caller is not offered SMS.
    let queues = ivr(&app, Method::GET, "/queues", None).await.expect_status(200).body;
    let ids: Vec<&str> = queues["queues"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["voice", "plain"]);
    assert_eq!(queues["queues"][0]["ewt_threshold_seconds"], 60);
    // The text is acknowledged once committed: the opt-out holds for the next call at once.
    app.phone("+14155550100").to(SUPPORT).texts("STOP").await;
    call(&app, "CA4", "+14155550100", VOICE).await;
    let offer = ivr(&app, Method::POST, "/calls/CA4/deflection", None).await.expect_status(200).body;
    assert_eq!((offer["offer"].as_bool(), offer["reason"].as_str()), (Some(false), Some("opted_out")));

    // Erasing the phone takes its calls and their events.
    assert!(call_kinds(&app).await.iter().any(|e| e.contains(r#""call_id":"CA3""#)));
    app.request(Method::DELETE, "/api/v1/phones/+14155550100", Some(ADMIN), None).await.expect_status(200);
    ivr(&app, Method::GET, "/calls/CA4", None).await.expect_error(404, "not_found");
    ivr(&app, Method::GET, "/calls/CA3", None).await.expect_error(404, "not_found");
    let left = call_kinds(&app).await;
    assert!(left.iter().all(|e| !e.contains("CA3") && !e.contains("CA4")), "{left:#?}");
}
