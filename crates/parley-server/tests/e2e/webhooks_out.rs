//! Outgoing event webhooks (docs/integrations.md "Webhooks"): a receiver in the test (a small axum
//! server on 127.0.0.1) records every request, and every signature is checked with the Standard
//! Webhooks reference library (Python's `standardwebhooks`, through `standard_webhooks_verify.py`).
//! Retries, the 24-hour windows and the rotation overlap run on the server's manual clock.

use std::sync::atomic::{AtomicI64, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use parley_server::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SUPPORT, TestApp, eventually, standard_setup};

const SECOND: i64 = 1_000;
const HOUR: i64 = 3_600_000;

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a delivery's body is JSON")
    }
}

/// A webhook receiver: answers `status` (settable while it runs) and keeps every request.
#[derive(Clone)]
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let status = Arc::new(AtomicU16::new(200));
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let (s, g) = (status.clone(), got.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (s, g) = (s.clone(), g.clone());
                async move {
                    let header =
                        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    let answered = s.load(Ordering::SeqCst);
                    g.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                        answered,
                    });
                    StatusCode::from_u16(answered).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, status, got }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The requests it took (answered 2xx).
    fn accepted(&self) -> Vec<Received> {
        self.all().into_iter().filter(|r| (200..300).contains(&r.answered)).collect()
    }
}

/// The value of a counter in `/metrics` (0 before it was first counted). The recorder is the test
/// process's, shared by every test, so only increases can be asserted.
async fn counter(app: &TestApp, line_start: &str) -> f64 {
    let text = app.request(Method::GET, "/metrics", None, None).await.expect_status(200).body;
    let text = text.as_str().expect("metrics are text").to_owned();
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// For each delivery, which of `secrets` verify it, per the Standard Webhooks reference library.
fn verified_by(secrets: &[&str], deliveries: &[Received]) -> Vec<Vec<usize>> {
    let input = json!({
        "secrets": secrets,
        "deliveries": deliveries.iter().map(|d| json!({
            "headers": {"webhook-id": d.id, "webhook-timestamp": d.timestamp, "webhook-signature": d.signature},
            "body": d.body,
        })).collect::<Vec<_>>(),
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/standard_webhooks_verify.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (CI installs standardwebhooks: python3 -m pip install standardwebhooks==1.1.0)");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the verifier failed (is standardwebhooks installed?)");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A server on a manual clock at the wall clock's now, allowed to deliver to 127.0.0.1, with the
/// standard setup.
async fn app() -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(chrono::Utc::now().timestamp_millis()));
    let app = TestApp::spawn_with_clock(
        |c| parley_server::config::Config { webhooks_allow_private: true, ..c },
        Clock::Manual(now.clone()),
    )
    .await;
    app.apply_setup(&standard_setup()).await;
    (app, now)
}

async fn create(app: &TestApp, url: &str, events: Value) -> Value {
    let body = json!({"url": url, "events": events, "description": "crm"});
    app.request(Method::POST, "/api/v1/webhooks", Some(ADMIN), Some(&body)).await.expect_status(201).body
}

async fn deliveries(app: &TestApp, id: &str) -> Vec<Value> {
    let page = app
        .request(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), Some(ADMIN), None)
        .await
        .expect_status(200);
    page.body["deliveries"].as_array().unwrap().clone()
}

/// Waits until `receiver` has taken exactly the events committed after `after` (all of them, as
/// subscribed with `*`), and answers them.
async fn delivered_all(app: &TestApp, receiver: &Receiver, after: i64) -> Vec<Received> {
    eventually("every committed event to be delivered", || async {
        // What was delivered is read first: every event in it is committed by then.
        let got: Vec<String> = receiver.accepted().iter().map(|r| r.id.clone()).collect();
        let expected: Vec<String> = app.committed_events_after(after).await.iter().map(|e| e.0.to_string()).collect();
        assert!(
            got.len() <= expected.len() && got[..] == expected[..got.len()],
            "every event once, in commit order: delivered {got:?}, committed {expected:?}"
        );
        if !expected.is_empty() && got.len() == expected.len() {
            Ok(receiver.accepted())
        } else {
            Err(format!("delivered {got:?}, committed {expected:?}"))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivers_every_event_once_in_commit_order_across_an_outage_and_a_restart() {
    let (mut app, now) = app().await;
    let receiver = Receiver::start().await;
    app.phone("+14155550189").to(crate::harness::SALES).texts("before the webhook").await;
    let hook = create(&app, &receiver.url, json!(["*"])).await;
    let (id, secret) = (hook["id"].as_str().unwrap().to_owned(), hook["secret"].as_str().unwrap().to_owned());
    assert!(secret.starts_with("whsec_"), "{hook}");
    let start = hook["last_event_id"].as_i64().unwrap();
    assert!(start > 0, "the first chat's events came before: they are not replayed (checked below)");
    // On PostgreSQL a second node runs beside the first all along: one node delivers a webhook at a
    // time, so still every event arrives once. (SQLite serves one node.)
    let postgres = std::env::var(parley_store::testing::ENV).is_ok_and(|url| !url.is_empty());
    let _other = if postgres { Some(app.second_node().await) } else { None };

    let phone = app.phone("+14155550190");
    phone.texts("hi").await;
    phone.texts("1").await;
    let first = delivered_all(&app, &receiver, start).await;
    let kinds: Vec<(String, String)> = first
        .iter()
        .map(|r| {
            let body = r.json();
            assert_eq!(body["data"]["id"].to_string(), r.id, "webhook-id is the event's id");
            (body["type"].as_str().unwrap().to_owned(), body["data"]["kind"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(kinds.contains(&("chat.started".to_owned(), "chat.opened".to_owned())), "{kinds:?}");
    assert!(kinds.contains(&("message.received".to_owned(), "message".to_owned())), "{kinds:?}");
    assert!(kinds.contains(&("message.sent".to_owned(), "message".to_owned())), "{kinds:?}");
    assert!(kinds.contains(&("chat.queued".to_owned(), "chat.queued".to_owned())), "{kinds:?}");

    // The receiver is down for a minute: the head is retried with the same id, nothing overtakes it.
    receiver.answer(503);
    phone.texts("are you there?").await;
    eventually("a failed attempt", || async {
        let d = deliveries(&app, &id).await;
        if d.first().is_some_and(|d| d["outcome"] == "retrying") { Ok(()) } else { Err(format!("{d:?}")) }
    })
    .await;
    for _ in 0..6 {
        now.fetch_add(10 * SECOND, Ordering::SeqCst);
    }
    let failed = eventually("a retry", || async {
        let d = deliveries(&app, &id).await;
        let retries: Vec<Value> = d.iter().filter(|d| d["outcome"] == "retrying").cloned().collect();
        if retries.len() >= 2 { Ok(retries) } else { Err(format!("{d:?}")) }
    })
    .await;
    assert_eq!(failed[0]["event_id"], failed[1]["event_id"], "the same event is retried: {failed:?}");
    assert_eq!((failed[0]["status_code"].as_i64(), failed[0]["attempt"].as_i64()), (Some(503), Some(2)));
    assert!(failed[0]["next_attempt_at"].is_string() && failed[0]["error"].as_str().unwrap().contains("503"));

    // A restart in the middle of the outage loses nothing; events committed since wait their turn.
    app.restart().await;
    app.phone("+14155550190").texts("hello??").await;
    receiver.answer(200);
    now.fetch_add(11 * 60 * SECOND, Ordering::SeqCst);
    let all = delivered_all(&app, &receiver, start).await;
    let bodies: Vec<Value> = all.iter().map(|r| r.json()["data"]["body"].clone()).collect();
    for text in ["are you there?", "hello??"] {
        assert!(bodies.contains(&json!(text)), "the text sent during the outage, {text:?}, was delivered: {bodies:?}");
    }

    let every = receiver.all();
    let verdicts = verified_by(&[&secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], &every);
    assert!(verdicts.iter().all(|v| v == &[0]), "every request verifies with its secret only: {verdicts:?}");
    let head = failed[0]["event_id"].to_string();
    let retried: Vec<&Received> = every.iter().filter(|r| r.id == head).collect();
    assert!(retried.len() >= 3, "the head was sent during the outage and after it, with one id: {retried:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secret_rotation_signs_with_both_secrets_for_24_hours_then_only_the_new_one() {
    let (app, now) = app().await;
    let receiver = Receiver::start().await;
    let hook = create(&app, &receiver.url, json!(["message.received"])).await;
    let (id, old) = (hook["id"].as_str().unwrap(), hook["secret"].as_str().unwrap());
    let rotated = app
        .request(Method::POST, &format!("/api/v1/webhooks/{id}/rotate-secret"), Some(ADMIN), None)
        .await
        .expect_status(200)
        .body;
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);

    let phone = app.phone("+14155550191");
    phone.texts("hi").await;
    let during = eventually("the first delivery", || async {
        let got = receiver.accepted();
        if got.len() == 1 { Ok(got) } else { Err(format!("{got:?}")) }
    })
    .await;
    assert_eq!(during[0].json()["type"], "message.received", "only the subscribed type");
    assert_eq!(during[0].signature.split(' ').count(), 2, "{}", during[0].signature);
    assert_eq!(verified_by(&[old, new], &during), [vec![0, 1]], "both secrets verify during the overlap");

    now.fetch_add(24 * HOUR + SECOND, Ordering::SeqCst);
    phone.texts("1").await;
    let after = eventually("the second delivery", || async {
        let got = receiver.accepted();
        if got.len() == 2 { Ok(got) } else { Err(format!("{got:?}")) }
    })
    .await;
    assert_eq!(verified_by(&[old, new], &after[1..]), [vec![1]], "after 24 hours only the new secret verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_replay_sends_an_attempts_event_again_with_its_id() {
    let (app, _) = app().await;
    let receiver = Receiver::start().await;
    let hook = create(&app, &receiver.url, json!(["chat.started"])).await;
    let id = hook["id"].as_str().unwrap();
    app.phone("+14155550192").texts("hi").await;
    let got = eventually("a delivery", || async {
        let got = receiver.accepted();
        if got.len() == 1 { Ok(got) } else { Err(format!("{got:?}")) }
    })
    .await;
    let attempt = eventually("its attempt", || async {
        let d = deliveries(&app, id).await;
        if d.len() == 1 { Ok(d[0].clone()) } else { Err(format!("{d:?}")) }
    })
    .await;
    assert_eq!((attempt["outcome"].as_str(), attempt["type"].as_str()), (Some("delivered"), Some("chat.started")));
    let path = format!("/api/v1/webhooks/{id}/deliveries/{}/replay", attempt["id"]);
    let replayed = app.request(Method::POST, &path, Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!((replayed["outcome"].as_str(), replayed["replay"].as_bool()), (Some("delivered"), Some(true)));
    let again = receiver.accepted();
    assert_eq!(again.len(), 2);
    assert_eq!((again[1].id.as_str(), again[1].body.as_str()), (got[0].id.as_str(), got[0].body.as_str()));
    assert_eq!(verified_by(&[hook["secret"].as_str().unwrap()], &again[1..]), [vec![0]]);
    let missing = format!("/api/v1/webhooks/{id}/deliveries/999999/replay");
    app.request(Method::POST, &missing, Some(ADMIN), None).await.expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_failing_for_24_hours_is_given_up_disabled_and_the_admins_are_told() {
    let (app, now) = app().await;
    let (down, watcher) = (Receiver::start().await, Receiver::start().await);
    down.answer(503);
    let failing = create(&app, &down.url, json!(["chat.started"])).await;
    let failing_id = failing["id"].as_str().unwrap();
    let told = create(&app, &watcher.url, json!(["webhook.disabled"])).await;
    let disabled_before = counter(&app, "parley_webhooks_disabled_total ").await;
    let failed_before = counter(&app, "parley_webhook_deliveries_total{outcome=\"failed\"}").await;
    app.phone("+14155550193").texts("hi").await;
    eventually("a failed attempt", || async {
        if down.all().is_empty() { Err("nothing yet".to_owned()) } else { Ok(()) }
    })
    .await;
    now.fetch_add(24 * HOUR, Ordering::SeqCst);
    let notice = eventually("the admins to be told", || async {
        let got = watcher.accepted();
        if got.len() == 1 { Ok(got[0].json()) } else { Err(format!("{got:?}")) }
    })
    .await;
    assert_eq!(notice["type"], "webhook.disabled");
    assert_eq!(
        (notice["data"]["webhook_id"].as_str(), notice["data"]["url"].as_str()),
        (Some(failing_id), Some(down.url.as_str()))
    );
    assert_eq!(verified_by(&[told["secret"].as_str().unwrap()], &watcher.accepted()), [vec![0]]);
    let view = app
        .request(Method::GET, &format!("/api/v1/webhooks/{failing_id}"), Some(ADMIN), None)
        .await
        .expect_status(200)
        .body;
    assert_eq!(view["enabled"], false, "{view}");
    assert!(view["disabled_reason"].as_str().unwrap().contains("24 hours"), "{view}");
    let last = deliveries(&app, failing_id).await[0].clone();
    assert_eq!((last["outcome"].as_str(), last["status_code"].as_i64()), (Some("failed"), Some(503)), "{last}");
    assert!(counter(&app, "parley_webhooks_disabled_total ").await >= disabled_before + 1.0);
    assert!(counter(&app, "parley_webhook_deliveries_total{outcome=\"failed\"}").await >= failed_before + 1.0);

    // Enabled again, it resumes after the event it gave up on.
    down.answer(200);
    let body = json!({"enabled": true});
    let path = format!("/api/v1/webhooks/{failing_id}");
    let enabled = app.request(Method::PATCH, &path, Some(ADMIN), Some(&body)).await.expect_status(200).body;
    assert_eq!((enabled["enabled"].as_bool(), &enabled["failing_since"]), (Some(true), &Value::Null));
    app.phone("+14155550194").texts("hello").await;
    eventually("the next chat to be delivered", || async {
        let got = down.accepted();
        if got.len() == 1 { Ok(()) } else { Err(format!("{got:?}")) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_consent_and_number_state_changes_are_delivered_as_typed_events() {
    let (app, _) = app().await;
    let receiver = Receiver::start().await;
    create(&app, &receiver.url, json!(["consent.changed", "number.state_changed"])).await;
    app.phone("+14155550195").texts("STOP").await;
    let body = json!({"state": "suspended", "reason": "carrier complaint"});
    app.request(Method::PUT, &format!("/api/v1/numbers/{SUPPORT}/state"), Some(ADMIN), Some(&body))
        .await
        .expect_status(200);
    let got = eventually("both changes", || async {
        let got = receiver.accepted();
        if got.len() == 2 { Ok(got) } else { Err(format!("{got:?}")) }
    })
    .await;
    let (consent, number) = (got[0].json(), got[1].json());
    assert_eq!(consent["type"], "consent.changed");
    let c = &consent["data"];
    assert_eq!(
        (&c["phone"], &c["number"], &c["opted_out"], &c["keyword"]),
        (&json!("+14155550195"), &json!(SUPPORT), &json!(true), &json!("STOP"))
    );
    assert_eq!(number["type"], "number.state_changed");
    let n = &number["data"];
    assert_eq!(
        (&n["number"], &n["from"], &n["to"], &n["reason"]),
        (&json!(SUPPORT), &json!("enabled"), &json!("suspended"), &json!("carrier complaint"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_urls_types_and_roles_are_checked() {
    let app = TestApp::with_standard_setup().await;
    let post = |body: Value| {
        let app = &app;
        async move { app.request(Method::POST, "/api/v1/webhooks", Some(ADMIN), Some(&body)).await }
    };
    let refused = [
        ("http://crm.example/hook", "https://"),
        ("ftp://crm.example/hook", "http:// or https://"),
        ("https://user:pw@crm.example/hook", "credentials"),
        ("https://127.0.0.1/hook", "private"),
        ("https://localhost/hook", "allow_private"),
        ("not a url", "does not parse"),
    ];
    for (url, why) in refused {
        let reply = post(json!({"url": url, "events": ["*"]})).await;
        let message = reply.expect_error(422, "validation_failed");
        assert!(message.contains(why), "{url}: {message}");
    }
    let reply = post(json!({"url": "https://8.8.8.8/hook", "events": ["chat.begun"]})).await;
    let message = reply.expect_error(422, "validation_failed");
    assert!(
        message.contains("chat.begun") && message.contains("chat.started") && message.contains("consent.changed"),
        "{message}"
    );
    post(json!({"url": "https://8.8.8.8/hook", "events": []})).await.expect_error(422, "validation_failed");

    // Made (a public address literal needs no resolving), it never shows its secret again.
    let made = post(json!({"url": "https://8.8.8.8/hook", "events": ["message.status"]})).await.expect_status(201).body;
    let id = made["id"].as_str().unwrap();
    let listed = app.request(Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.expect_status(200).body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(made["secret"].as_str().unwrap()), "{listed}");
    let change = json!({"url": "http://8.8.8.8/hook"});
    let path = format!("/api/v1/webhooks/{id}");
    app.request(Method::PATCH, &path, Some(ADMIN), Some(&change)).await.expect_error(422, "validation_failed");

    // An agent manages no webhooks (scoped keys are the scope gate's; see the lead's tests).
    let agent = app.agent_token("alice").await;
    app.request(Method::GET, "/api/v1/webhooks", Some(&agent), None).await.expect_error(403, "forbidden");
    app.request(Method::DELETE, &path, Some(&agent), None).await.expect_error(403, "forbidden");
    app.request(Method::DELETE, &path, Some(ADMIN), None).await.expect_status(204);
    app.request(Method::GET, &path, Some(ADMIN), None).await.expect_error(404, "not_found");
}
