//! The Twilio Voice front (docs/ivr.md "Twilio Voice"): signed requests only; a waiting caller is
//! offered SMS in a `<Gather>`, `1` ends the call into an SMS chat, another key connects the call to
//! the queue's destination; status callbacks end calls. Every TwiML answer is compared with what
//! Twilio's own Python library (`tests/peers/twiml_check.py`) builds for the same verbs.

use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::harness::{ADMIN, TestApp, eventually};
use crate::twilio_webhooks::{NUMBER, PUBLIC, SidPerMessage, app, form, post, sign};

const VOICE: &str = "+15550009000";
const SIP_LINE: &str = "+15550009001";
const DESK: &str = "+15550009100";
const PROMPT: &str = "Press 1 to continue by text message & skip the wait.";
const FIRST: &str = "Thanks for choosing SMS. An agent will text you here.";
const ACCEPTED: &str = "Thank you. We are sending you a text message now. Goodbye.";

async fn voice_app(api: &MockServer) -> TestApp {
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/AC1/Messages.json"))
        .respond_with(SidPerMessage)
        .mount(api)
        .await;
    let app = app(api, Some(PUBLIC)).await;
    app.apply_setup(&json!({
        "numbers": [{"number": NUMBER, "label": "TW", "carrier": "tw", "queues": ["sales"]}],
        "queues": [{"id": "sales", "name": "Sales", "keywords": ["SALES"]}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["sales"], "capacity": 3}],
        "settings": {"brand": "Acme"},
        "ivr_queues": [
            {"id": "voice", "name": "Voice", "numbers": [VOICE], "agents": ["alice"], "voice_destination": DESK,
             "deflection": {"ewt_threshold_seconds": 60, "prompt": PROMPT, "sms_number": NUMBER,
                            "sms_queue": "sales", "first_message": FIRST}},
            {"id": "pbx", "name": "PBX", "numbers": [SIP_LINE], "agents": ["alice"],
             "voice_destination": "sip:desk@pbx.example"}
        ]
    }))
    .await;
    app
}

/// A signed Twilio Voice request to `route` (`""`, `/gather` or `/status`).
async fn voice(app: &TestApp, route: &str, pairs: &[(&str, &str)]) -> (u16, String, String) {
    let path = format!("/webhooks/twilio-voice/tw{route}");
    post(app, &path, &form(pairs), Some(&sign(&path, pairs))).await
}

/// Asserts that `ours` is the TwiML Twilio's Python library builds from `verbs`.
async fn same_as_library(ours: &str, verbs: Value) {
    let input = json!({"ours": ours, "verbs": verbs});
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/twiml_check.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs (CI installs twilio==9.13.0: .ci/run)");
        child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "the TwiML check failed (pip install twilio==9.13.0):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["same"], true, "ours:    {}\nlibrary: {}", answer["ours"], answer["library"]);
}

fn incoming<'a>(sid: &'a str, from: &'a str, to: &'a str) -> [(&'a str, &'a str); 5] {
    [("CallSid", sid), ("AccountSid", "AC1"), ("From", from), ("To", to), ("CallStatus", "ringing")]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_voice_offers_sms_to_a_waiting_caller_and_ends_the_call_into_a_chat() {
    let api = MockServer::start().await;
    let app = voice_app(&api).await;
    let gather = format!("{PUBLIC}/webhooks/twilio-voice/tw/gather");

    // Unsigned or wrongly signed: refused, nothing stored.
    let body = form(&incoming("CA1", "+14155550100", VOICE));
    let (status, _, _) = post(&app, "/webhooks/twilio-voice/tw", &body, None).await;
    assert_eq!(status, 403);
    let (status, _, _) = post(&app, "/webhooks/twilio-voice/tw", &body, Some("AAAA")).await;
    assert_eq!(status, 403);
    app.request(Method::GET, "/api/v1/ivr/calls/CA1", Some(ADMIN), None).await.expect_error(404, "not_found");

    // Nobody answers the voice queue: five minutes' wait, over the threshold: the offer.
    let (status, content_type, twiml) = voice(&app, "", &incoming("CA1", "+14155550100", VOICE)).await;
    assert_eq!((status, content_type.as_str()), (200, "text/xml"), "{twiml}");
    let offer = json!([{"gather": {"action": gather, "num_digits": 1, "timeout": 5, "prompt": PROMPT}},
                       {"redirect": gather}]);
    same_as_library(&twiml, offer.clone()).await;
    let (_, _, again) = voice(&app, "", &incoming("CA1", "+14155550100", VOICE)).await;
    assert_eq!(again, twiml, "Twilio retrying the request: the same call, the same offer");

    // 1: the caller hears the goodbye, the call ends as deflected and the SMS chat starts.
    let mut pressed = incoming("CA1", "+14155550100", VOICE).to_vec();
    pressed.push(("Digits", "1"));
    let (status, _, twiml) = voice(&app, "/gather", &pressed).await;
    assert_eq!(status, 200);
    same_as_library(&twiml, json!([{"say": ACCEPTED}, {"hangup": true}])).await;
    let call = app.request(Method::GET, "/api/v1/ivr/calls/CA1", Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!((call["status"].as_str(), call["end_reason"].as_str()), (Some("ended"), Some("deflected")));
    let chat_id = call["sms_chat_id"].as_str().expect("the chat").to_owned();
    let chat = app.request(Method::GET, &format!("/api/v1/chats/{chat_id}"), Some(ADMIN), None).await.body;
    assert_eq!((chat["number"].as_str(), chat["queue"].as_str()), (Some(NUMBER), Some("sales")));
    assert_eq!(chat["start_type"], "deflected");
    eventually("the first message sent through Twilio", || async {
        let sent: Vec<String> = api
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        let first = form(&[("Body", FIRST)]);
        if sent.iter().any(|b| b.contains(&first) && b.contains("To=%2B14155550100")) {
            Ok(())
        } else {
            Err(format!("{sent:?}"))
        }
    })
    .await;

    // Twilio hangs up and reports it: the call stays ended as deflected.
    let mut completed = incoming("CA1", "+14155550100", VOICE).to_vec();
    completed[4] = ("CallStatus", "completed");
    let (status, _, _) = voice(&app, "/status", &completed).await;
    assert_eq!(status, 200);
    let call = app.request(Method::GET, "/api/v1/ivr/calls/CA1", Some(ADMIN), None).await.body;
    assert_eq!(call["end_reason"], "deflected");

    // Another key declines: the call goes to the queue's desk; its end comes with the status callback.
    voice(&app, "", &incoming("CA2", "+14155550111", VOICE)).await;
    let mut two = incoming("CA2", "+14155550111", VOICE).to_vec();
    two.push(("Digits", "2"));
    let (_, _, twiml) = voice(&app, "/gather", &two).await;
    same_as_library(&twiml, json!([{"dial_number": DESK}])).await;
    let call = app.request(Method::GET, "/api/v1/ivr/calls/CA2", Some(ADMIN), None).await.body;
    assert_eq!((call["deflection"].as_str(), call["status"].as_str()), (Some("declined"), Some("queued")));
    let mut ringing = incoming("CA2", "+14155550111", VOICE).to_vec();
    ringing[4] = ("CallStatus", "in-progress");
    voice(&app, "/status", &ringing).await;
    let call = app.request(Method::GET, "/api/v1/ivr/calls/CA2", Some(ADMIN), None).await.body;
    assert_eq!(call["status"], "queued", "a call in progress has not ended");
    ringing[4] = ("CallStatus", "no-answer");
    voice(&app, "/status", &ringing).await;
    let call = app.request(Method::GET, "/api/v1/ivr/calls/CA2", Some(ADMIN), None).await.body;
    assert_eq!((call["status"].as_str(), call["end_reason"].as_str()), (Some("ended"), Some("no-answer")));

    // No deflection on the PBX line: straight to its SIP desk. An unknown number hears it is not served.
    let (_, _, twiml) = voice(&app, "", &incoming("CA3", "+14155550122", SIP_LINE)).await;
    same_as_library(&twiml, json!([{"dial_sip": "sip:desk@pbx.example"}])).await;
    let (_, _, twiml) = voice(&app, "", &incoming("CA4", "+14155550133", "+15550009999")).await;
    same_as_library(
        &twiml,
        json!([{"say": "Sorry, nobody can take your call now. Please call again later."}, {"hangup": true}]),
    )
    .await;
    let missing = [("CallSid", "CA5"), ("To", VOICE)];
    let (status, _, body) = voice(&app, "", &missing).await;
    assert_eq!(status, 422, "{body}");
}
