//! The CRM connectors' common ground and the webhook kind (docs/crm.md "Connectors", "### webhook"):
//! a receiver in the test records every request; signatures are checked with the Standard Webhooks
//! reference library (`standard_webhooks_verify.py`); retries run on the manual clock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use parley_server::clock::Clock;
use parley_server::config::{Config, CrmConfig, Secret};
use parley_store::crm::CrmContact;
use parley_store::rows::EventRow;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SALES, TestApp, eventually, standard_setup};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request the receiver took: its headers of Standard Webhooks and its body.
#[derive(Debug, Clone)]
struct Got {
    headers: Value,
    body: String,
    answered: u16,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let status = Arc::new(AtomicU16::new(200));
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let (s, g) = (status.clone(), got.clone());
        let app = axum::Router::new().route(
            "/crm",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (s, g) = (s.clone(), g.clone());
                async move {
                    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    let answered = s.load(Ordering::SeqCst);
                    g.lock().unwrap().push(Got {
                        headers: json!({"webhook-id": h("webhook-id"), "webhook-timestamp": h("webhook-timestamp"),
                            "webhook-signature": h("webhook-signature")}),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                        answered,
                    });
                    StatusCode::from_u16(answered).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/crm", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, status, got }
    }

    fn accepted(&self) -> Vec<Got> {
        self.got.lock().unwrap().iter().filter(|g| g.answered < 300).cloned().collect()
    }
}

/// Whether the reference library verifies each delivery with [`SECRET`].
fn verified(deliveries: &[Got]) -> Vec<bool> {
    let input = json!({"secrets": [SECRET], "deliveries": deliveries.iter().map(|d| json!({"headers": d.headers, "body": d.body})).collect::<Vec<_>>()});
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/standard_webhooks_verify.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (with standardwebhooks installed)");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the verifier failed (is standardwebhooks installed?)");
    let passed: Vec<Vec<usize>> = serde_json::from_slice(&output.stdout).unwrap();
    passed.iter().map(|p| p == &[0]).collect()
}

async fn append(app: &TestApp, chat: Option<&str>, kind: &str, data: Value) -> i64 {
    let store = app.store().await;
    let row = EventRow {
        id: 0,
        chat_id: chat.map(str::to_owned),
        queue: chat.map(|_| "sales".to_owned()),
        agent: None,
        kind: kind.to_owned(),
        data: data.to_string(),
        at: chrono::Utc::now().timestamp_millis(),
    };
    let id = store.append_event(&row).await.unwrap();
    store.close().await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_conn_webhook_sends_each_record_change_signed_in_order_and_retries_a_5xx() {
    let receiver = Receiver::start().await;
    let now = Arc::new(AtomicI64::new(chrono::Utc::now().timestamp_millis()));
    let url = receiver.url.clone();
    let app = TestApp::spawn_with_clock(
        move |c| {
            let crm = BTreeMap::from([(
                "hook".to_owned(),
                CrmConfig::Webhook { url, secret: Some(Secret::new(SECRET)), events: None },
            )]);
            Config { webhooks_allow_private: true, crm, ..c }
        },
        Clock::Manual(now.clone()),
    )
    .await;
    app.apply_setup(&standard_setup()).await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = "+14155550401";
    let contact = CrmContact {
        id: "CT00000000000000000000000000000001".to_owned(),
        name: Some("Ada Lovelace".to_owned()),
        email: None,
        company: None,
        phones: vec![phone.to_owned()],
    };
    let store = app.store().await;
    // Known before the chat connects: matching on connect links the chat to it.
    store.testing_insert_contact(&contact, 0).await.unwrap();
    receiver.status.store(503, Ordering::SeqCst);
    let chat = app.phone(phone).to(SALES).texts("Hello there").await.chat_id.expect("a chat");
    let record_id = crate::crm_hubspot::linked(&app, &chat).await;
    alice.say(&chat, "Hi Ada").await;
    eventually("a failed attempt", || async {
        if receiver.got.lock().unwrap().is_empty() { Err("none".to_owned()) } else { Ok(()) }
    })
    .await;
    app.phone(phone)
        .to(SALES)
        .sends(json!({"body": "", "media": ["https://media.example/a.jpg"]}))
        .await
        .expect_status(201);
    alice.end(&chat).await;
    let changed = append(
        &app,
        None,
        "contact.changed",
        json!({"contact_id": contact.id, "change": "updated", "into": null, "by": "alice"}),
    )
    .await;
    receiver.status.store(200, Ordering::SeqCst);
    now.fetch_add(10_000, Ordering::SeqCst);
    let got = eventually("four changes", || async {
        let a = receiver.accepted();
        if a.len() == 4 { Ok(a) } else { Err(format!("{a:#?}")) }
    })
    .await;
    assert_eq!(verified(&got), [true, true, true, true]);
    let bodies: Vec<Value> = got.iter().map(|g| serde_json::from_str(&g.body).unwrap()).collect();
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["crm.record.opened", "crm.record.media", "crm.record.ended", "crm.contact.changed"]);
    assert_eq!(bodies[1]["data"]["links"], json!(["https://media.example/a.jpg"]), "{}", bodies[1]);
    let bodies: Vec<Value> = [0, 2, 3].iter().map(|&i| bodies[i].clone()).collect();
    let got: Vec<Got> = [0, 2, 3].iter().map(|&i| got[i].clone()).collect();
    let all = app
        .request(Method::GET, "/api/v1/crm/deliveries?connector=hook", Some(ADMIN), None)
        .await
        .expect_status(200)
        .body;
    let linked = all.as_array().unwrap().iter().find(|d| d["type"] == "crm.record.opened").unwrap()["event_id"].clone();
    assert_eq!(got[0].headers["webhook-id"], format!("hook-{linked}"), "the idempotency key, the same on the retry");
    assert_eq!(got[2].headers["webhook-id"], format!("hook-{changed}"));
    let failed_id = receiver.got.lock().unwrap()[0].headers["webhook-id"].clone();
    assert_eq!(failed_id, got[0].headers["webhook-id"]);
    let opened = &bodies[0];
    assert_eq!((opened["connector"].as_str(), opened["chat_id"].as_str()), (Some("hook"), Some(chat.as_str())));
    assert_eq!(
        (opened["contact_id"].as_str(), opened["record_id"].as_str()),
        (Some(contact.id.as_str()), Some(record_id.as_str()))
    );
    assert_eq!(opened["data"]["how"], "matched");
    assert_eq!(opened["contact"]["phones"], json!([phone]));
    let record = &opened["data"]["record"];
    assert_eq!(
        (record["queue"].as_str(), record["number"].as_str(), record["type"].as_str()),
        (Some("sales"), Some(SALES), Some("sms"))
    );
    let said: Vec<&str> =
        record["transcript"].as_array().unwrap().iter().map(|l| l["body"].as_str().unwrap()).collect();
    assert!(said.contains(&"Hello there"), "{said:?}");
    let ended = &bodies[1]["data"];
    assert_eq!((ended["reason"].as_str(), ended["by"].as_str()), (Some("ended_by_agent"), Some("alice")), "{ended}");
    assert!(ended["duration_seconds"].is_i64());
    let authors: Vec<&str> =
        ended["record"]["transcript"].as_array().unwrap().iter().map(|l| l["author"].as_str().unwrap()).collect();
    assert!(["consumer", "system", "agent:alice"].iter().all(|a| authors.contains(a)), "{authors:?}");
    assert_eq!(bodies[2]["data"]["change"], "updated");
    let deliveries = app
        .request(Method::GET, "/api/v1/crm/deliveries?connector=hook", Some(ADMIN), None)
        .await
        .expect_status(200)
        .body;
    assert_eq!(deliveries.as_array().unwrap().len(), 4);
    assert!(deliveries.as_array().unwrap().iter().all(|d| d["outcome"] == "delivered"));
    let agent = app.request(Method::GET, "/api/v1/crm/deliveries", Some(&alice.token), None).await;
    agent.expect_error(403, "forbidden");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_conn_a_webhook_connector_without_a_secret_or_with_a_bad_name_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = parley_store::testing::fresh_database_url(dir.path(), "crm-conn-config").await.unwrap();
    let mut config = Config::with_database(url);
    config.crm.insert(
        "hook".to_owned(),
        CrmConfig::Webhook { url: "https://crm.example/in".to_owned(), secret: None, events: None },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = parley_server::serve(config.clone(), listener, async {}).await.unwrap_err().to_string();
    assert!(err.contains("[crm.hook]") && err.contains("secret = \"whsec_"), "{err}");
    config.crm.clear();
    config.crm.insert("Hub Spot".to_owned(), CrmConfig::Hubspot { token: Secret::new("pat"), api_base: None });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = parley_server::serve(config.clone(), listener, async {}).await.unwrap_err().to_string();
    assert!(err.contains("slug"), "{err}");
    config.crm.clear();
    config.crm.insert(
        "hs".to_owned(),
        CrmConfig::Hubspot { token: Secret::new("pat"), api_base: Some("http://10.0.0.5".to_owned()) },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = parley_server::serve(config, listener, async {}).await.unwrap_err().to_string();
    assert!(err.contains("allow_private"), "the webhooks' address rule holds: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_conn_erasing_a_phone_reaches_the_connectors_as_contact_erased() {
    let receiver = Receiver::start().await;
    let url = receiver.url.clone();
    let app = TestApp::spawn_with(move |c| {
        let crm = BTreeMap::from([(
            "hook".to_owned(),
            CrmConfig::Webhook { url, secret: Some(Secret::new(SECRET)), events: None },
        )]);
        Config { webhooks_allow_private: true, crm, ..c }
    })
    .await;
    app.apply_setup(&standard_setup()).await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = "+14155550402";
    let chat = app.phone(phone).to(SALES).texts("Please forget me").await.chat_id.expect("a chat");
    crate::crm_hubspot::linked(&app, &chat).await;
    alice.end(&chat).await;
    let contact = app.store().await.match_candidates(phone).await.unwrap().remove(0);
    let erased = app.request(Method::DELETE, &format!("/api/v1/phones/{phone}"), Some(ADMIN), None).await;
    let report = erased.expect_status(200).body;
    assert_eq!(
        (report["deleted"]["contacts_changed"].as_u64(), report["deleted"]["contacts_deleted"].as_u64()),
        (Some(1), Some(1))
    );
    let got = eventually("the erasure delivered", || async {
        let accepted = receiver.accepted();
        accepted
            .iter()
            .map(|g| serde_json::from_str::<Value>(&g.body).unwrap())
            .find(|b| b["type"] == "crm.contact.erased")
            .ok_or_else(|| format!("{} deliveries", accepted.len()))
    })
    .await;
    assert_eq!(got["contact_id"], contact.as_str());
    assert_eq!(got["data"]["deleted"], true, "the contact had only that phone");
    assert!(got["contact"].is_null(), "nothing of it is left to send");
    assert!(app.store().await.contact(&contact).await.unwrap().is_none());
    assert!(verified(&receiver.accepted()).iter().all(|v| *v));
}
