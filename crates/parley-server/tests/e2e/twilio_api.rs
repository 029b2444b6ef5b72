//! The Twilio-compatible Messages API: Twilio's own Python helper library (`twilio` 9.13, run by
//! `tests/peers/twilio_client.py`) sends, fetches and lists through Parley and meets Twilio's errors;
//! status callbacks reach a receiver in the test and pass the library's `RequestValidator`; errors,
//! retries, campaigns (`MessagingServiceSid`), quiet hours and the date filters are checked over
//! plain HTTP.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use parley_server::clock::Clock;
use parley_server::config::Config;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SALES, SUPPORT, TestApp, eventually, standard_setup};

/// Noon in New York: no consumer of the tests is in their quiet hours.
const NOON_IN_NEW_YORK: i64 = 1_780_329_600_000;
const CONSUMER: &str = "+12125550181";
const OPTED_OUT: &str = "+12125550182";

struct Key {
    id: String,
    token: String,
    account_sid: String,
}

async fn key(app: &TestApp, scopes: &[&str], rate: Option<i64>) -> Key {
    let mut body = json!({"name": "order-system", "scopes": scopes});
    if let Some(rate) = rate {
        body["rate_per_second"] = json!(rate);
    }
    let made = app.request(Method::POST, "/api/v1/tokens", Some(ADMIN), Some(&body)).await.expect_status(201).body;
    Key {
        id: made["id"].as_str().unwrap().to_owned(),
        token: made["token"].as_str().unwrap().to_owned(),
        account_sid: made["account_sid"].as_str().unwrap().to_owned(),
    }
}

async fn app_at(ms: i64) -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(ms));
    // The test's callback receiver listens on 127.0.0.1, which only the switch allows.
    let app =
        TestApp::spawn_with_clock(|c| Config { webhooks_allow_private: true, ..c }, Clock::Manual(now.clone())).await;
    app.apply_setup(&standard_setup()).await;
    (app, now)
}

/// An answer: status, headers and the JSON body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

/// A request to the Twilio-compatible API with basic auth (`None`: no credentials) and a form.
async fn twilio(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Answer {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = client.request(method, format!("{}{path}", app.base));
    if let Some((user, password)) = auth {
        req = req.basic_auth(user, Some(password));
    }
    if !form.is_empty() {
        req = req.form(form);
    }
    let response = req.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, retry_after, body }
}

fn messages_path(account: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/Messages.json")
}

/// Asserts a Twilio error answer: the status, Twilio's four fields and nothing else, the code.
#[track_caller]
fn expect_twilio_error(answer: &Answer, status: u16, code: u32) -> String {
    assert_eq!(answer.status, status, "{}", answer.body);
    let body = answer.body.as_object().unwrap_or_else(|| panic!("not an object: {}", answer.body));
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "more_info", "status"], "{}", answer.body);
    assert_eq!(body["code"], code, "{}", answer.body);
    assert_eq!(body["status"], status, "{}", answer.body);
    assert_eq!(body["more_info"], format!("https://www.twilio.com/docs/errors/{code}"));
    let message = body["message"].as_str().unwrap().to_owned();
    assert!(!message.trim().is_empty(), "{}", answer.body);
    message
}

/// Runs `tests/peers/twilio_client.py` with `input` on stdin; its JSON answer.
async fn python(input: Value) -> Value {
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/twilio_client.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs (CI installs it with twilio==9.13.0: .ci/run)");
        child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the Twilio helper failed (python3 -m pip install twilio==9.13.0):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    })
    .await
    .unwrap()
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Captured {
    url: String,
    signature: String,
    params: Vec<(String, String)>,
    answered: u16,
}

impl Captured {
    fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }
}

/// A status callback receiver: records every request; answers 500 to the first `fail_first`.
#[derive(Clone)]
struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Captured>>>,
    failures_left: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let receiver = Receiver { base, got: Arc::default(), failures_left: Arc::new(AtomicUsize::new(fail_first)) };
        let app = axum::Router::new().route("/status", axum::routing::post(record)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    /// The URL to give as `StatusCallback` (with a query, which the signature covers).
    fn url(&self) -> String {
        format!("{}/status?tenant=acme", self.base)
    }

    fn got(&self) -> Vec<Captured> {
        self.got.lock().unwrap().clone()
    }
}

async fn record(State(rx): State<Receiver>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let fail = rx.failures_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let status = if fail { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
    rx.got.lock().unwrap().push(Captured {
        url: format!("{}{}", rx.base, uri),
        signature: headers.get("x-twilio-signature").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default(),
        params: form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
        answered: status.as_u16(),
    });
    status
}

/// The statuses of a message's timeline (Parley's own API), in Twilio's words.
/// Parley's message id of a SID (the UUID its hex digits spell).
fn timeline_id(sid: &str) -> String {
    let hex = &sid[2..];
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

async fn timeline(app: &TestApp, sid: &str) -> Vec<String> {
    let id = timeline_id(sid);
    let view = app.request(Method::GET, &format!("/api/v1/messages/{id}"), Some(ADMIN), None).await.expect_status(200);
    view.body["timeline"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_api_python_helper_sends_fetches_lists_and_validates_signed_callbacks() {
    let (app, _now) = app_at(NOON_IN_NEW_YORK).await;
    let sender = key(&app, &["sms:send"], None).await;
    let reader = key(&app, &["chats:read"], None).await;
    let opted_out = app.phone(OPTED_OUT).to(SUPPORT);
    opted_out.texts("STOP").await;
    opted_out.receives(1).await;
    let rx = Receiver::start(0).await;

    let out = python(json!({
        "command": "client", "base": app.base, "account_sid": sender.account_sid,
        "key": sender.id, "token": sender.token, "reader_key": reader.id, "reader_token": reader.token,
        "to": CONSUMER, "from": SUPPORT, "opted_out": OPTED_OUT, "callback": rx.url(),
    }))
    .await;

    let created = &out["created"];
    let sid = created["sid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("SM") && sid.len() == 34, "{created}");
    assert_eq!(created["status"], "queued", "{created}");
    assert_eq!(created["direction"], "outbound-api");
    assert_eq!(created["num_segments"], "1");
    assert_eq!(created["api_version"], "2010-04-01");
    assert_eq!(created["account_sid"], sender.account_sid.as_str());
    assert_eq!((created["to"].as_str(), created["from"].as_str()), (Some(CONSUMER), Some(SUPPORT)));
    assert_eq!(created["uri"], format!("/2010-04-01/Accounts/{}/Messages/{sid}.json", sender.account_sid));
    assert!(created["date_created"].as_str().unwrap().starts_with("2026-06-01T16:00:00"), "RFC 2822 parsed: {created}");
    assert_eq!(out["fetched"]["sid"], sid.as_str());
    assert_eq!(out["fetched"]["body"], "Your order 1234 shipped");
    let second = out["second"]["sid"].as_str().unwrap();
    assert_eq!(out["listed"], json!([second, sid]), "newest first, across pages of one");
    assert_eq!(out["first_page"], json!([second]), "a page holds PageSize messages");
    assert_eq!(out["opted_out"]["code"], 21610, "{}", out["opted_out"]);
    assert_eq!(out["opted_out"]["status"], 400);
    assert_eq!(out["wrong_account"]["code"], 20404, "{}", out["wrong_account"]);
    assert_eq!(out["wrong_account"]["status"], 404);
    assert_eq!(out["no_scope"]["code"], 20403, "{}", out["no_scope"]);
    assert_eq!(out["no_scope"]["status"], 403);
    assert!(out["no_scope"]["message"].as_str().unwrap().contains("sms:send"), "{}", out["no_scope"]);
    assert!(opted_out.inbox().await.len() == 1, "nothing more reached the opted-out phone");

    // Each status change of the first message reaches the receiver once, in the timeline's order.
    let got = eventually("the callback of the delivered status", || async {
        let got = rx.got();
        if got.iter().any(|c| c.param("MessageStatus") == "delivered") { Ok(got) } else { Err(format!("{got:?}")) }
    })
    .await;
    let statuses: Vec<&str> = got.iter().map(|c| c.param("MessageStatus")).collect();
    assert_eq!(statuses, timeline(&app, &sid).await, "{got:?}");
    assert_eq!(statuses.first(), Some(&"queued"), "{statuses:?}");
    for c in &got {
        assert_eq!(c.param("MessageSid"), sid, "only the message with a StatusCallback calls back: {c:?}");
        assert_eq!(c.param("SmsSid"), sid);
        assert_eq!(c.param("SmsStatus"), c.param("MessageStatus"));
        assert_eq!(c.param("AccountSid"), sender.account_sid);
        assert_eq!((c.param("To"), c.param("From")), (CONSUMER, SUPPORT));
        assert_eq!(c.param("ApiVersion"), "2010-04-01");
        assert_eq!(c.url, rx.url());
    }
    // Twilio's own validator accepts every signature, and refuses one over changed parameters.
    let mut checks: Vec<Value> = got
        .iter()
        .map(|c| json!({"token": sender.token, "url": c.url, "params": c.params, "signature": c.signature}))
        .collect();
    let mut forged = got[0].clone();
    forged.params.iter_mut().find(|(n, _)| n == "MessageStatus").unwrap().1 = "failed".to_owned();
    checks.push(
        json!({"token": sender.token, "url": forged.url, "params": forged.params, "signature": forged.signature}),
    );
    let verdict = python(json!({"command": "validate", "callbacks": checks})).await;
    let mut expected = vec![true; got.len()];
    expected.push(false);
    assert_eq!(verdict["valid"], json!(expected), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_api_refuses_in_twilios_codes() {
    let (app, _now) = app_at(NOON_IN_NEW_YORK).await;
    let mut setup = standard_setup();
    setup["numbers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"number": "+15550003000", "carrier": "sim", "queues": ["tech"], "role": "incoming"}));
    app.apply_setup(&setup).await;
    // A rate that many refused requests in a row stay under (refused sends count too).
    let sender = key(&app, &["sms:send"], Some(100)).await;
    let reader = key(&app, &["chats:read"], None).await;
    let path = messages_path(&sender.account_sid);
    let auth = Some((sender.id.as_str(), sender.token.as_str()));
    let send = |fields: Vec<(&'static str, &'static str)>| {
        let (app, path) = (&app, path.clone());
        async move { twilio(app, Method::POST, &path, auth, &fields).await }
    };
    let ok = [("To", CONSUMER), ("From", SUPPORT), ("Body", "Hello")];

    let no_auth = twilio(&app, Method::POST, &path, None, &ok).await;
    expect_twilio_error(&no_auth, 401, 20003);
    let wrong = twilio(&app, Method::POST, &path, Some((sender.id.as_str(), "pt_wrong")), &ok).await;
    expect_twilio_error(&wrong, 401, 20003);
    let scoped = twilio(&app, Method::POST, &path, Some((reader.id.as_str(), reader.token.as_str())), &ok).await;
    assert!(expect_twilio_error(&scoped, 403, 20403).contains("sms:send"));
    let other = twilio(&app, Method::POST, &messages_path(&format!("AC{}", "f".repeat(32))), auth, &ok).await;
    expect_twilio_error(&other, 404, 20404);

    for (fields, code) in [
        (vec![("To", "12"), ("From", SUPPORT), ("Body", "Hi")], 21211),
        (vec![("To", CONSUMER), ("From", SUPPORT)], 21602),
        (vec![("To", CONSUMER), ("From", SUPPORT), ("Body", "  ")], 21602),
        (vec![("To", CONSUMER), ("Body", "Hi")], 21603),
        (vec![("To", CONSUMER), ("From", "+15559990000"), ("Body", "Hi")], 21606),
        (vec![("To", CONSUMER), ("From", "+15550003000"), ("Body", "Hi")], 21606),
        (vec![("To", CONSUMER), ("From", SUPPORT), ("Body", "Hi"), ("MediaUrl", "https://example.com/a.png")], 21620),
        (vec![("To", CONSUMER), ("From", SUPPORT), ("Body", "Hi"), ("StatusCallback", "ftp://example.com/s")], 21609),
        (vec![("To", CONSUMER), ("MessagingServiceSid", "MGnothing"), ("Body", "Hi")], 21701),
    ] {
        let answer = send(fields.clone()).await;
        expect_twilio_error(&answer, 400, code);
    }
    let long = "a".repeat(1601);
    let answer = twilio(&app, Method::POST, &path, auth, &[("To", CONSUMER), ("From", SUPPORT), ("Body", &long)]).await;
    expect_twilio_error(&answer, 400, 21617);

    // The blocklist and number states apply as on Parley's own API.
    let block = json!({"number": "+12125550199", "reason": "abusive texts"});
    app.request(Method::POST, "/api/v1/blocklist", Some(ADMIN), Some(&block)).await.expect_status(201);
    let answer = send(vec![("To", "+12125550199"), ("From", SUPPORT), ("Body", "Hi")]).await;
    expect_twilio_error(&answer, 400, 30004);
    let suspend = json!({"state": "suspended", "reason": "carrier audit"});
    app.request(Method::PUT, &format!("/api/v1/numbers/{SALES}/state"), Some(ADMIN), Some(&suspend))
        .await
        .expect_status(200);
    let answer = send(vec![("To", CONSUMER), ("From", SALES), ("Body", "Hi")]).await;
    expect_twilio_error(&answer, 400, 30034);

    // Fetching: another SID, or one that is no message of the API.
    let fetch = format!("/2010-04-01/Accounts/{}/Messages/SM{}.json", sender.account_sid, "0".repeat(32));
    expect_twilio_error(&twilio(&app, Method::GET, &fetch, auth, &[]).await, 404, 20404);
    let garbage = format!("/2010-04-01/Accounts/{}/Messages/nothing.json", sender.account_sid);
    expect_twilio_error(&twilio(&app, Method::GET, &garbage, auth, &[]).await, 404, 20404);
    let list = format!("{path}?PageSize=5000");
    expect_twilio_error(&twilio(&app, Method::GET, &list, auth, &[]).await, 400, 400);
    assert_eq!(app.phone(CONSUMER).inbox().await.len(), 0, "no refused request sent anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_api_rate_limit_answers_20429_with_retry_after() {
    let (app, _now) = app_at(NOON_IN_NEW_YORK).await;
    let sender = key(&app, &["sms:send"], Some(1)).await;
    let path = messages_path(&sender.account_sid);
    let auth = Some((sender.id.as_str(), sender.token.as_str()));
    let ok = [("To", CONSUMER), ("From", SUPPORT), ("Body", "Hello")];
    assert_eq!(twilio(&app, Method::POST, &path, auth, &ok).await.status, 201);
    // The clock stands still: the key's bucket does not refill.
    let over = twilio(&app, Method::POST, &path, auth, &ok).await;
    expect_twilio_error(&over, 429, 20429);
    assert!(over.retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)), "Retry-After");
}

/// The bodies of the messages a list with `query` shows.
async fn listed(app: &TestApp, path: &str, auth: Option<(&str, &str)>, query: &str) -> Vec<String> {
    let page = twilio(app, Method::GET, &format!("{path}?{query}"), auth, &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_api_messaging_service_quiet_hours_and_date_filters() {
    let (app, now) = app_at(NOON_IN_NEW_YORK).await;
    let mut setup = standard_setup();
    setup["campaigns"] = json!([{"id": "care", "name": "Customer care"}]);
    let numbers = setup["numbers"].as_array_mut().unwrap();
    numbers.insert(
        0,
        json!({"number": "+15550003000", "carrier": "sim", "queues": ["tech"], "role": "incoming", "campaign": "care"}),
    );
    numbers.iter_mut().filter(|n| n["number"] == SALES).for_each(|n| n["campaign"] = json!("care"));
    app.apply_setup(&setup).await;
    let sender = key(&app, &["sms:send"], None).await;
    let path = messages_path(&sender.account_sid);
    let auth = Some((sender.id.as_str(), sender.token.as_str()));

    // The campaign's first number that may send: the incoming-only one is passed over.
    let sent =
        twilio(&app, Method::POST, &path, auth, &[("To", CONSUMER), ("MessagingServiceSid", "care"), ("Body", "Hi")])
            .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.body["from"], SALES, "{}", sent.body);
    assert_eq!(sent.body["messaging_service_sid"], "care");
    assert_eq!(sent.body["date_created"], "Mon, 01 Jun 2026 16:00:00 +0000");
    app.phone(CONSUMER).to(SALES).receives(1).await;

    // 3 a.m. in New York: the message waits for the morning.
    now.store(NOON_IN_NEW_YORK - 9 * 3_600_000 + 86_400_000, Ordering::SeqCst);
    let night = twilio(&app, Method::POST, &path, auth, &[("To", CONSUMER), ("From", SUPPORT), ("Body", "Late")]).await;
    assert_eq!(night.status, 201, "{}", night.body);
    assert_eq!(night.body["status"], "scheduled", "{}", night.body);

    assert_eq!(listed(&app, &path, auth, "DateSent=2026-06-01").await, ["Hi"]);
    assert_eq!(listed(&app, &path, auth, "DateSent%3E=2026-06-02T00:00:00Z").await, ["Late"]);
    assert_eq!(listed(&app, &path, auth, "DateSent%3C=2026-06-01").await, ["Hi"]);
    assert_eq!(listed(&app, &path, auth, "DateSent%3C=2026-05-31").await, Vec::<String>::new());
    assert_eq!(listed(&app, &path, auth, &format!("From={}", SUPPORT.replace('+', "%2B"))).await, ["Late"]);
    let page = twilio(&app, Method::GET, &format!("{path}?PageSize=1"), auth, &[]).await.body;
    assert_eq!(
        (page["page"].clone(), page["page_size"].clone(), page["start"].clone(), page["end"].clone()),
        (json!(0), json!(1), json!(0), json!(0))
    );
    assert!(page["previous_page_uri"].is_null(), "{page}");
    let next = page["next_page_uri"].as_str().unwrap().to_owned();
    let second = twilio(&app, Method::GET, &next, auth, &[]).await.body;
    assert_eq!(second["messages"][0]["body"], "Hi", "{second}");
    assert!(second["next_page_uri"].is_null(), "{second}");
    let back = twilio(&app, Method::GET, second["previous_page_uri"].as_str().unwrap(), auth, &[]).await.body;
    assert_eq!(back["messages"][0]["body"], "Late", "{back}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_api_status_callbacks_are_retried_across_a_restart_until_the_receiver_answers() {
    let (mut app, now) = app_at(NOON_IN_NEW_YORK).await;
    let sender = key(&app, &["sms:send"], None).await;
    let rx = Receiver::start(2).await;
    let path = messages_path(&sender.account_sid);
    let auth = Some((sender.id.as_str(), sender.token.as_str()));
    let callback = rx.url();
    let fields = [("To", CONSUMER), ("From", SUPPORT), ("Body", "Hello"), ("StatusCallback", callback.as_str())];
    let sid = twilio(&app, Method::POST, &path, auth, &fields).await.body["sid"].as_str().unwrap().to_owned();
    eventually("the first, failed attempt", || async {
        if rx.got().len() == 1 { Ok(()) } else { Err(format!("{:?}", rx.got())) }
    })
    .await;
    // Nothing more until the retry is due: the clock stands still.
    app.phone(CONSUMER).receives(1).await;
    assert_eq!(rx.got().len(), 1, "{:?}", rx.got());
    // What is owed is in the database: a restarted server delivers it.
    app.restart().await;
    now.fetch_add(60_000, Ordering::SeqCst);
    eventually("the second, failed attempt", || async {
        if rx.got().len() == 2 { Ok(()) } else { Err(format!("{:?}", rx.got())) }
    })
    .await;
    now.fetch_add(60_000, Ordering::SeqCst);
    let got = eventually("every status answered", || async {
        let got = rx.got();
        if got.iter().any(|c| c.param("MessageStatus") == "delivered") { Ok(got) } else { Err(format!("{got:?}")) }
    })
    .await;
    let answered: Vec<&str> = got.iter().filter(|c| c.answered == 200).map(|c| c.param("MessageStatus")).collect();
    assert_eq!(answered, timeline(&app, &sid).await, "each status answered once, in order: {got:?}");
    assert!(got[..2].iter().all(|c| c.param("MessageStatus") == "queued" && c.answered == 500), "{got:?}");
    // The message is final and owes nothing more: the token kept for signing is gone.
    let store = app.store().await;
    let id = timeline_id(&sid);
    let state = eventually("the callbacks to finish", || async {
        match store.twilio_callback(&id).await.unwrap() {
            Some(state) if state.finished_at.is_some() => Ok(state),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert!(!state.token_kept, "{state:?}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_api_status_callbacks_go_out_once_each_with_two_nodes() {
    let (app, _now) = app_at(NOON_IN_NEW_YORK).await;
    // On PostgreSQL a second node runs every worker beside the first; SQLite serves one node.
    let postgres = std::env::var(parley_store::testing::ENV).is_ok_and(|url| !url.is_empty());
    let other = if postgres { Some(app.second_node().await) } else { None };
    let sender = key(&app, &["sms:send"], None).await;
    let rx = Receiver::start(0).await;
    let path = messages_path(&sender.account_sid);
    let auth = Some((sender.id.as_str(), sender.token.as_str()));
    let callback = rx.url();
    let mut sids = vec![];
    for i in 0..6 {
        let to = format!("+1212555020{i}");
        let node = if i % 2 == 1 { other.as_ref().unwrap_or(&app) } else { &app };
        let fields = [("To", to.as_str()), ("From", SUPPORT), ("Body", "Hello"), ("StatusCallback", callback.as_str())];
        let sent = twilio(node, Method::POST, &path, auth, &fields).await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        sids.push(sent.body["sid"].as_str().unwrap().to_owned());
    }
    let got = eventually("every message's delivered callback", || async {
        let got = rx.got();
        let delivered = got.iter().filter(|c| c.param("MessageStatus") == "delivered").count();
        if delivered >= sids.len() { Ok(got) } else { Err(format!("{delivered} delivered: {got:?}")) }
    })
    .await;
    for sid in &sids {
        let statuses: Vec<&str> =
            got.iter().filter(|c| c.param("MessageSid") == sid).map(|c| c.param("MessageStatus")).collect();
        assert_eq!(statuses, timeline(&app, sid).await, "each change once, in order, for {sid}");
    }
}

/// A status callback may point where a webhook may: without `[webhooks] allow_private` neither http
/// nor a private or loopback address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_api_status_callbacks_to_private_addresses_need_the_switch() {
    let now = Arc::new(AtomicI64::new(NOON_IN_NEW_YORK));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&standard_setup()).await;
    let key = key(&app, &["sms:send"], None).await;
    for callback in ["http://127.0.0.1:9/status", "https://10.0.0.7/status"] {
        let form = [("To", CONSUMER), ("From", SALES), ("Body", "hi"), ("StatusCallback", callback)];
        let answer =
            twilio(&app, Method::POST, &messages_path(&key.account_sid), Some((&key.id, &key.token)), &form).await;
        let message = expect_twilio_error(&answer, 400, 21609);
        assert!(message.contains("allow_private"), "{message}");
    }
}
