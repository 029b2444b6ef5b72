//! A whole chat over SMPP through the server: a consumer on an SMSC (the node-smpp simulator in
//! parley-carriers/tests/peers/smsc) texts Parley, gets the opt-in notice and the menu, picks a queue,
//! and an agent's long and Unicode replies arrive as concatenated GSM-7 and UCS-2 parts, with every
//! receipt recorded and a carrier throttle survived.
//!
//! Needs node and the simulator's packages (`.ci/peers.sh`): without them the test fails when `CI` is
//! set, and is skipped with a notice otherwise.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use parley_server::config::CarrierConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, eventually};

const NUMBER: &str = "+15550005000";
const CONSUMER: &str = "+14155550195";

/// The SMSC simulator, killed when dropped.
struct Smsc {
    child: Child,
    port: u16,
    control: String,
}

impl Smsc {
    fn start() -> Option<Smsc> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../parley-carriers/tests/peers/smsc");
        let node = Command::new("node").arg("--version").stdout(Stdio::null()).status();
        if !node.is_ok_and(|s| s.success()) || !dir.join("node_modules/smpp/package.json").exists() {
            let help = "node and the SMSC simulator's packages are needed: run .ci/peers.sh";
            assert!(std::env::var_os("CI").is_none(), "{help}");
            eprintln!("skipped: {help}");
            return None;
        }
        let mut child = Command::new("node")
            .arg(dir.join("smsc.js"))
            .args(["--system-id", "parley", "--password", "secret"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the simulator's first line");
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("simulator said {line:?}: {e}"));
        Some(Smsc {
            child,
            port: u16::try_from(ready["smpp"].as_u64().expect("a port")).expect("a port"),
            control: format!("http://127.0.0.1:{}", ready["control"]),
        })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.control));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.expect("the simulator answers");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.expect("JSON")
    }

    /// A consumer texts our number; returns once Parley has answered the deliver_sm.
    async fn consumer_texts(&self, text: &str) {
        let from = CONSUMER.trim_start_matches('+');
        let to = NUMBER.trim_start_matches('+');
        let answer = self.call(Method::POST, "/mo", Some(json!({ "from": from, "to": to, "text": text }))).await;
        assert_eq!(answer["delivered"], true, "Parley did not take {text:?}: {answer}");
    }

    async fn submits(&self) -> Vec<Value> {
        self.call(Method::GET, "/submits", None).await.as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The texts that reached the consumer, whole messages joined from their parts.
fn texts(submits: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut partial = String::new();
    for s in submits.iter().filter(|s| s["command_status"] == 0) {
        partial.push_str(s["text"].as_str().unwrap_or_default());
        let udh = s["udh"].as_str().unwrap_or_default();
        // 8-bit concatenation UDH: 050003 ref total seq; the last part completes the message.
        let last = udh.len() < 12 || udh[8..10] == udh[10..12];
        if last {
            out.push(std::mem::take(&mut partial));
        }
    }
    out
}

async fn parley_on(smsc: &Smsc) -> TestApp {
    let port = smsc.port;
    let app = TestApp::spawn_with(move |mut c| {
        c.sim = false;
        c.carriers.insert("smsc".into(), {
            let mut smpp = CarrierConfig::smpp("127.0.0.1", port, "parley", "secret");
            if let CarrierConfig::Smpp { window, .. } = &mut smpp {
                *window = Some(4);
            }
            smpp
        });
        c
    })
    .await;
    app.apply_setup(&json!({
        "numbers": [{"number": NUMBER, "label": "Support", "carrier": "smsc", "queues": ["billing", "tech"]}],
        "queues": [{"id": "billing", "name": "Billing", "keywords": ["1"]}, {"id": "tech", "name": "Tech", "keywords": ["2"]}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["billing"], "capacity": 2}],
        "settings": {"brand": "Acme"}
    }))
    .await;
    eventually("the SMPP bind", || async {
        let ready = app.request(Method::GET, "/readyz", None, None).await.body;
        if ready["carriers"]["smsc"] == true { Ok(()) } else { Err(ready.to_string()) }
    })
    .await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_over_smpp_with_long_unicode_replies_receipts_and_a_throttle() {
    let Some(smsc) = Smsc::start() else { return };
    let app = parley_on(&smsc).await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;

    smsc.consumer_texts("hi").await;
    eventually("the opt-in notice and the menu", || async {
        let got = texts(&smsc.submits().await);
        if got.len() == 2 { Ok(()) } else { Err(format!("{got:?}")) }
    })
    .await;
    let got = texts(&smsc.submits().await);
    assert!(got[0].starts_with("Acme: Thanks for texting us."), "{got:?}");
    assert_eq!(got[1], "How can we help? Reply 1 for Billing, 2 for Tech.");

    smsc.consumer_texts("1").await;
    let chat = eventually("the chat to be offered to alice", || async {
        let chats = alice.chats("ongoing").await;
        chats.first().map(|c| c.id.clone()).ok_or_else(|| "no chat yet".to_owned())
    })
    .await;
    alice.accept(&chat).await;
    eventually("the queue message and alice's greeting", || async {
        let got = texts(&smsc.submits().await);
        if got.len() == 4 { Ok(()) } else { Err(format!("{got:?}")) }
    })
    .await;
    assert_eq!(texts(&smsc.submits().await)[3], "You are now chatting with Alice.");

    // The carrier throttles this consumer for a while: the reply waits, then goes once it lifts.
    smsc.call(Method::POST, "/config", Some(json!({ "throttle_prefix": CONSUMER.trim_start_matches('+') }))).await;
    let long = "Thanks for your patience. ".repeat(14);
    alice.say(&chat, long.trim_end()).await;
    eventually("the throttle to hold the reply", || async {
        let t = app.admin().transcript(&chat).await;
        let reply = t.messages.iter().find(|m| m.author == "agent:alice").cloned();
        match reply {
            Some(m) if m.status == "queued" && m.error.as_deref() == Some("throttled by the carrier") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    smsc.call(Method::POST, "/config", Some(json!({ "throttle_prefix": null }))).await;
    alice.say(&chat, "Olá! Ça va? Your refund is on its way 😀").await;

    let got = eventually("both replies, whole", || async {
        let got = texts(&smsc.submits().await);
        if got.len() >= 6 { Ok(got) } else { Err(format!("{got:?}")) }
    })
    .await;
    assert_eq!(got[4], long.trim_end(), "the long reply, joined from its parts");
    assert_eq!(got[5], "Olá! Ça va? Your refund is on its way 😀");
    let accepted: Vec<Value> = smsc.submits().await.into_iter().filter(|s| s["command_status"] == 0).collect();
    let long_parts: Vec<&Value> = accepted.iter().filter(|s| s["data_coding"] == 0 && s["esm_class"] == 0x40).collect();
    assert_eq!(long_parts.len(), 3, "364 characters of GSM-7 take 3 parts of 153");
    assert!(accepted.iter().any(|s| s["data_coding"] == 8), "the Unicode reply goes as UCS-2");

    // Every outbound message ends delivered: receipts came back and were recorded.
    eventually("every receipt", || async {
        let t = app.admin().transcript(&chat).await;
        let out: Vec<String> = t.messages.iter().filter(|m| m.direction == "out").map(|m| m.status.clone()).collect();
        if out.len() == 6 && out.iter().all(|s| s == "delivered") { Ok(()) } else { Err(format!("{out:?}")) }
    })
    .await;
    let t = app.admin().transcript(&chat).await;
    assert_eq!(t.received(), ["hi", "1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_that_overtake_the_answer_to_the_send_still_count() {
    let Some(smsc) = Smsc::start() else { return };
    // The SMSC sends each receipt before it answers the submit_sm: Parley learns of the delivery before
    // it knows the message id the receipt names.
    smsc.call(Method::POST, "/config", Some(json!({ "receipt_before_resp": true }))).await;
    let app = parley_on(&smsc).await;
    smsc.consumer_texts("hi").await;
    let chat = eventually("the chat", || async {
        app.admin().all_chats().await.first().map(|c| c.id.clone()).ok_or_else(|| "no chat yet".to_owned())
    })
    .await;
    eventually("both answers delivered", || async {
        let t = app.admin().transcript(&chat).await;
        let out: Vec<String> = t.messages.iter().filter(|m| m.direction == "out").map(|m| m.status.clone()).collect();
        if out == ["delivered", "delivered"] { Ok(()) } else { Err(format!("{out:?}")) }
    })
    .await;
}
