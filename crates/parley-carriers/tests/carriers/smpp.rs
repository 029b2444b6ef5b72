//! The SMPP carrier against a real, independent SMPP peer: the SMSC simulator in `tests/peers/smsc`,
//! built on node-smpp. Each test starts its own simulator on free ports and reads what it received
//! through its control port.
//!
//! Needs `node` and the simulator's packages (`.ci/peers.sh`, or `npm ci` in `tests/peers/smsc`). Without
//! them these tests fail when `CI` is set, and are skipped with a notice otherwise.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use parley_carriers::smpp::{Smpp, SmppConfig};
use parley_carriers::{
    Accepted, BoxFuture, Carrier, DeliveryStatus, InboundSms, OutboundSms, Receipt, SendError, Sink, SinkError,
};
use parley_core::phone::E164;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long anything in these tests may take before it counts as never.
const DEADLINE: Duration = Duration::from_secs(15);

const OUR_NUMBER: &str = "+15550100";
const CONSUMER: &str = "+15550177";

// ---- the simulator ----

fn simulator_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/smsc")
}

/// Whether node and the simulator's packages are installed. In CI their absence fails the test.
fn simulator_available() -> bool {
    let node = Command::new("node").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    let installed = node.is_ok_and(|s| s.success()) && simulator_dir().join("node_modules/smpp/package.json").exists();
    if installed {
        return true;
    }
    let help = "node and the SMSC simulator's packages are needed: run .ci/peers.sh (or `npm ci` in \
                crates/parley-carriers/tests/peers/smsc)";
    assert!(std::env::var_os("CI").is_none(), "{help}");
    eprintln!("skipped: {help}");
    false
}

/// A running simulator, killed when dropped.
struct Smsc {
    child: Child,
    smpp_port: u16,
    control: String,
    http: reqwest::Client,
}

impl Smsc {
    /// Starts a simulator on free ports.
    fn start() -> Smsc {
        Smsc::start_on(0)
    }

    /// Starts a simulator listening for SMPP on `port` (0 for any free port), and waits until it says
    /// it listens.
    fn start_on(port: u16) -> Smsc {
        let mut child = Command::new("node")
            .arg(simulator_dir().join("smsc.js"))
            .args(["--port", &port.to_string(), "--system-id", "parley", "--password", "secret"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting node");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(DEADLINE).expect("the simulator did not say it was ready");
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("simulator said {line:?}: {e}"));
        let smpp_port = u16::try_from(ready["smpp"].as_u64().unwrap()).unwrap();
        let control = format!("http://127.0.0.1:{}", ready["control"]);
        Smsc { child, smpp_port, control, http: reqwest::Client::new() }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.control)).send().await.unwrap();
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self.http.post(format!("{}{path}", self.control)).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "POST {path}: {}", response.status());
        response.json().await.unwrap()
    }

    async fn set(&self, settings: Value) {
        self.post("/config", settings).await;
    }

    async fn submits(&self) -> Vec<Value> {
        self.get("/submits").await.as_array().unwrap().clone()
    }

    async fn events(&self) -> Vec<Value> {
        self.get("/events").await.as_array().unwrap().clone()
    }

    async fn events_named(&self, name: &str) -> usize {
        self.events().await.iter().filter(|e| e["event"] == name).count()
    }

    /// A consumer sends `request` (see smsc.js for its fields); returns once it was delivered or given up.
    async fn consumer_sends(&self, request: Value) -> Value {
        self.post("/mo", request).await
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---- the engine's side ----

/// A sink that records what it takes, and can be told to fail.
#[derive(Default)]
struct Recorder {
    inbound: Mutex<Vec<InboundSms>>,
    receipts: Mutex<Vec<Receipt>>,
    /// Every inbound call, taken or not.
    inbound_calls: Mutex<Vec<InboundSms>>,
    /// Fail this many inbound calls, then take them.
    fail_inbound: AtomicUsize,
}

impl Sink for Recorder {
    fn inbound(&self, sms: InboundSms) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            self.inbound_calls.lock().unwrap().push(sms.clone());
            let failing = self.fail_inbound.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if failing.is_ok() {
                return Err(SinkError("the database is away".into()));
            }
            self.inbound.lock().unwrap().push(sms);
            Ok(())
        })
    }

    fn receipt(&self, receipt: Receipt) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            self.receipts.lock().unwrap().push(receipt);
            Ok(())
        })
    }
}

impl Recorder {
    fn inbound(&self) -> Vec<InboundSms> {
        self.inbound.lock().unwrap().clone()
    }

    fn receipt_for(&self, provider_id: &str) -> Option<Receipt> {
        self.receipts.lock().unwrap().iter().find(|r| r.provider_id == provider_id).cloned()
    }
}

/// The carrier, running against a simulator.
struct Parley {
    carrier: Arc<Smpp>,
    sink: Arc<Recorder>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

fn test_config(port: u16) -> SmppConfig {
    let mut config = SmppConfig::new("smsc", "127.0.0.1", port, "parley", "secret");
    config.response_timeout = Duration::from_secs(3);
    config.reconnect_min = Duration::from_millis(50);
    config.reconnect_max = Duration::from_millis(250);
    config
}

impl Parley {
    /// Starts the carrier and waits until it is bound.
    async fn bind(config: SmppConfig) -> Parley {
        let parley = Parley::start(config);
        parley.wait_bound(true).await;
        parley
    }

    fn start(config: SmppConfig) -> Parley {
        let carrier = Arc::new(Smpp::new(config));
        let sink = Arc::new(Recorder::default());
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(Arc::clone(&carrier).run(Arc::clone(&sink) as Arc<dyn Sink>, shutdown));
        Parley { carrier, sink, stop, task }
    }

    async fn wait_bound(&self, bound: bool) {
        let mut watch = self.carrier.bound();
        tokio::time::timeout(DEADLINE, watch.wait_for(|b| *b == bound))
            .await
            .unwrap_or_else(|_| panic!("the carrier did not become bound={bound}"))
            .unwrap();
    }

    async fn send(&self, messages: &[OutboundSms]) -> Vec<Result<Accepted, SendError>> {
        self.carrier.send(messages).await
    }

    async fn send_one(&self, to: &str, body: &str) -> Result<Accepted, SendError> {
        self.send(&[sms(to, body)]).await.remove(0)
    }

    async fn shut_down(self) {
        self.stop.send_replace(true);
        tokio::time::timeout(DEADLINE, self.task).await.expect("the carrier did not stop").unwrap();
    }
}

fn e164(number: &str) -> E164 {
    E164::parse(number).unwrap()
}

fn sms(to: &str, body: &str) -> OutboundSms {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    OutboundSms {
        id: format!("msg-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        from: e164(OUR_NUMBER).into(),
        to: e164(to),
        body: body.into(),
        media: vec![],
    }
}

/// Polls `probe` until it gives a value, or fails the test at the deadline.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn receipt_for(parley: &Parley, provider_id: &str) -> Receipt {
    eventually(&format!("the receipt for {provider_id}"), || async { parley.sink.receipt_for(provider_id) }).await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- tests ----

#[tokio::test]
async fn binds_as_a_transceiver_keeps_the_link_alive_and_unbinds_on_shutdown() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let mut config = test_config(smsc.smpp_port);
    config.enquire_link_interval = Duration::from_millis(100);
    let parley = Parley::bind(config).await;

    let events = smsc.events().await;
    let bind = events.iter().find(|e| e["event"] == "bind").unwrap();
    assert_eq!((bind["kind"].as_str(), bind["system_id"].as_str()), (Some("transceiver"), Some("parley")));
    assert_eq!(bind["interface_version"], 0x34);

    // Our keep-alive, and the answer to the SMSC's.
    eventually("an enquire_link from the carrier", || async {
        (smsc.events_named("enquire_link").await >= 2).then_some(())
    })
    .await;
    assert_eq!(smsc.post("/enquire_link", json!({})).await, json!({ "sent": 1, "answered": 1 }));

    parley.shut_down().await;
    assert_eq!(smsc.events_named("unbind").await, 1);
}

#[tokio::test]
async fn a_refused_bind_is_retried_with_backoff_and_sends_fail_transiently() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let mut config = test_config(smsc.smpp_port);
    config.password = "wrong".into();
    let parley = Parley::start(config);
    eventually("a second bind attempt", || async { (smsc.events_named("bind_refused").await >= 2).then_some(()) })
        .await;
    let result = parley.send_one(CONSUMER, "hello").await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
    parley.shut_down().await;
}

#[tokio::test]
async fn sends_a_message_and_passes_its_receipt_on() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    let accepted = parley.send_one(CONSUMER, "Your order is ready: 2 x café? No: 2 x tea @ £3").await.unwrap();
    assert!(!accepted.delivered);

    let submits = smsc.submits().await;
    assert_eq!(submits.len(), 1);
    let submit = &submits[0];
    assert_eq!(submit["source_addr"], "15550100");
    assert_eq!(submit["destination_addr"], "15550177");
    assert_eq!((&submit["source_addr_ton"], &submit["source_addr_npi"]), (&json!(1), &json!(1)));
    assert_eq!((&submit["dest_addr_ton"], &submit["dest_addr_npi"]), (&json!(1), &json!(1)));
    assert_eq!(
        (&submit["data_coding"], &submit["esm_class"], &submit["registered_delivery"]),
        (&json!(0), &json!(0), &json!(1))
    );
    assert_eq!(submit["text"], "Your order is ready: 2 x café? No: 2 x tea @ £3");
    assert_eq!(submit["message_id"].as_str(), Some(accepted.provider_id.as_str()));

    let receipt = receipt_for(&parley, &accepted.provider_id).await;
    assert_eq!(
        receipt,
        Receipt {
            carrier: "smsc".into(),
            provider_id: accepted.provider_id,
            status: DeliveryStatus::Delivered,
            error_code: None
        }
    );
    parley.shut_down().await;
}

#[tokio::test]
async fn a_receipt_that_overtakes_its_submit_sm_resp_still_reaches_the_sink() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    smsc.set(json!({ "receipt_before_resp": true })).await;
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    let accepted = parley.send_one(CONSUMER, "quick").await.unwrap();
    // The sink had it before send returned.
    let receipt = parley.sink.receipt_for(&accepted.provider_id).expect("the receipt came first");
    assert_eq!(receipt.status, DeliveryStatus::Delivered);
    parley.shut_down().await;
}

#[tokio::test]
async fn undelivered_receipts_carry_the_error_whatever_their_form() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    smsc.set(json!({ "undeliverable_prefix": "1555019" })).await;
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    for format in ["both", "text", "tlv"] {
        smsc.set(json!({ "receipt_format": format })).await;
        let accepted = parley.send_one("+15550199", "are you there?").await.unwrap();
        let receipt = receipt_for(&parley, &accepted.provider_id).await;
        let expected_code = (format != "tlv").then(|| "001".to_owned());
        assert_eq!((receipt.status, receipt.error_code), (DeliveryStatus::Undelivered, expected_code), "{format}");
    }
    parley.shut_down().await;
}

#[tokio::test]
async fn a_long_gsm7_text_goes_as_three_udh_parts() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    let text = format!("{} [price: 5€] {}", "Thank you for calling. ".repeat(9), "Bye! ".repeat(20));
    let accepted = parley.send_one(CONSUMER, &text).await.unwrap();

    let submits = smsc.submits().await;
    assert_eq!(submits.len(), 3, "{submits:#?}");
    let reference = &submits[0]["udh"].as_str().unwrap()[6..8];
    let mut joined = String::new();
    for (i, submit) in submits.iter().enumerate() {
        assert_eq!(submit["udh"].as_str().unwrap(), format!("050003{reference}03{:02x}", i + 1));
        assert_eq!((&submit["esm_class"], &submit["data_coding"]), (&json!(0x40), &json!(0)));
        assert_eq!(submit["registered_delivery"], json!(u8::from(i == 2)), "only the last part asks for a receipt");
        joined.push_str(submit["text"].as_str().unwrap());
    }
    assert_eq!(joined, text);
    // The message is known by its last part, whose receipt is the one that counts.
    assert_eq!(submits[2]["message_id"].as_str(), Some(accepted.provider_id.as_str()));
    assert_eq!(receipt_for(&parley, &accepted.provider_id).await.status, DeliveryStatus::Delivered);
    parley.shut_down().await;
}

#[tokio::test]
async fn where_configured_long_texts_go_with_sar_tlvs_or_as_one_message_payload() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let text = format!("{} [price: 5€] {}", "Thank you for calling. ".repeat(9), "Bye! ".repeat(20));

    let mut sar = test_config(smsc.smpp_port);
    sar.long_messages = parley_carriers::smpp::LongMessages::Sar;
    let parley = Parley::bind(sar).await;
    let accepted = parley.send_one(CONSUMER, &text).await.unwrap();
    let submits = smsc.submits().await;
    assert_eq!(submits.len(), 3, "{submits:#?}");
    let reference = submits[0]["sar"]["ref"].clone();
    let mut joined = String::new();
    for (i, submit) in submits.iter().enumerate() {
        assert_eq!(submit["esm_class"], json!(0), "no header in the user data");
        assert_eq!(submit["udh"], Value::Null);
        assert_eq!(submit["sar"], json!({ "ref": reference, "total": 3, "seq": i + 1 }));
        joined.push_str(submit["text"].as_str().unwrap());
    }
    assert_eq!(joined, text);
    assert_eq!(submits[2]["message_id"].as_str(), Some(accepted.provider_id.as_str()));
    parley.shut_down().await;

    let smsc = Smsc::start();
    let mut payload = test_config(smsc.smpp_port);
    payload.long_messages = parley_carriers::smpp::LongMessages::Payload;
    let parley = Parley::bind(payload).await;
    let unicode = format!("{} 😀", "Olá, ça va? ".repeat(10));
    for body in [&text, &unicode] {
        parley.send_one(CONSUMER, body).await.unwrap();
    }
    let submits = smsc.submits().await;
    assert_eq!(submits.len(), 2, "one submit_sm each: {submits:#?}");
    assert_eq!((submits[0]["data_coding"].clone(), submits[0]["text"].as_str()), (json!(0), Some(text.as_str())));
    assert_eq!((submits[1]["data_coding"].clone(), submits[1]["text"].as_str()), (json!(8), Some(unicode.as_str())));
    assert!(submits.iter().all(|s| s["short_message"] == "" && s["registered_delivery"] == 1), "{submits:#?}");
    parley.shut_down().await;
}

#[tokio::test]
async fn unicode_goes_as_ucs2_with_emoji_intact() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    let short = "Olá! Obrigado 😀";
    parley.send_one(CONSUMER, short).await.unwrap();
    let long = format!("Здравствуйте! {} 🎉 Спасибо, до свидания.", "Ваш заказ готов. ".repeat(4));
    parley.send_one(CONSUMER, &long).await.unwrap();

    let submits = smsc.submits().await;
    assert_eq!(submits.len(), 3, "{submits:#?}");
    assert_eq!((&submits[0]["data_coding"], &submits[0]["esm_class"]), (&json!(8), &json!(0)));
    assert_eq!(submits[0]["short_message"], hex(&short.encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<_>>()));
    assert_eq!(submits[0]["text"], short);
    assert!(submits[1..].iter().all(|s| s["data_coding"] == 8 && s["esm_class"] == 0x40));
    let joined: String = submits[1..].iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(joined, long);
    parley.shut_down().await;
}

#[tokio::test]
async fn a_batch_larger_than_the_window_all_goes_through() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let mut config = test_config(smsc.smpp_port);
    config.window = 4;
    let parley = Parley::bind(config).await;

    let batch: Vec<OutboundSms> = (0..25).map(|i| sms(CONSUMER, &format!("message {i}"))).collect();
    let results = parley.send(&batch).await;
    let ids: std::collections::BTreeSet<String> = results.into_iter().map(|r| r.unwrap().provider_id).collect();
    assert_eq!(ids.len(), 25);
    assert_eq!(smsc.submits().await.len(), 25);
    parley.shut_down().await;
}

#[tokio::test]
async fn receives_consumers_messages_in_gsm7_and_ucs2() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    for text in ["HELP me {now} with 5€", "Grüße aus Köln 😀"] {
        let answer = smsc.consumer_sends(json!({ "from": CONSUMER, "to": OUR_NUMBER, "text": text })).await;
        assert_eq!(answer["attempts"], json!([{ "part": 1, "status": 0 }]));
    }
    let received = parley.sink.inbound();
    assert_eq!(received.len(), 2);
    for (sms, text) in received.iter().zip(["HELP me {now} with 5€", "Grüße aus Köln 😀"]) {
        assert_eq!(
            (sms.carrier.as_str(), &sms.from, &sms.to, sms.body.as_str()),
            ("smsc", &e164(CONSUMER), &e164(OUR_NUMBER).into(), text)
        );
        assert!(sms.media.is_empty());
    }
    assert_ne!(received[0].provider_id, received[1].provider_id);
    parley.shut_down().await;
}

#[tokio::test]
async fn reassembles_inbound_concatenated_messages_from_udh_or_sar() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    let gsm = format!("I would like to change my appointment. {}", "It is about next week. ".repeat(15));
    let answer = smsc
        .consumer_sends(json!({ "from": CONSUMER, "to": OUR_NUMBER, "text": gsm, "order": [2, 3, 1], "reference": 77 }))
        .await;
    assert_eq!(answer["parts"], 3);
    let unicode = format!("Привет! {} 😀", "Нужна помощь с заказом. ".repeat(5));
    smsc.consumer_sends(
        json!({ "from": CONSUMER, "to": OUR_NUMBER, "text": unicode, "split": "sar", "reference": 4660 }),
    )
    .await;

    let received = parley.sink.inbound();
    let bodies: Vec<&str> = received.iter().map(|s| s.body.as_str()).collect();
    assert_eq!(bodies, [gsm.as_str(), unicode.as_str()]);
    parley.shut_down().await;
}

#[tokio::test]
async fn a_sink_error_answers_rx_t_appn_and_the_smsc_delivers_again() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    parley.sink.fail_inbound.store(2, Ordering::SeqCst);
    let answer = smsc.consumer_sends(json!({ "from": CONSUMER, "to": OUR_NUMBER, "text": "STOP" })).await;
    let statuses: Vec<&Value> = answer["attempts"].as_array().unwrap().iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, [&json!(0x64), &json!(0x64), &json!(0)]);
    assert_eq!(parley.sink.inbound().iter().map(|s| s.body.as_str()).collect::<Vec<_>>(), ["STOP"]);

    // The same for the last part of a long text: the whole text comes again, under the same id.
    parley.sink.fail_inbound.store(1, Ordering::SeqCst);
    let long = "Please call me back tomorrow morning. ".repeat(6);
    let answer = smsc.consumer_sends(json!({ "from": CONSUMER, "to": OUR_NUMBER, "text": long })).await;
    let statuses: Vec<&Value> = answer["attempts"].as_array().unwrap().iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, [&json!(0), &json!(0x64), &json!(0)]);
    let calls = parley.sink.inbound_calls.lock().unwrap().clone();
    let long_calls: Vec<&InboundSms> = calls.iter().filter(|s| s.body == long).collect();
    assert_eq!(long_calls.len(), 2);
    assert_eq!(long_calls[0].provider_id, long_calls[1].provider_id);
    parley.shut_down().await;
}

#[tokio::test]
async fn throttling_and_rejections_are_told_apart() {
    if !simulator_available() {
        return;
    }
    let smsc = Smsc::start();
    smsc.set(json!({ "throttle_prefix": "1555099", "reject_prefix": "1555098" })).await;
    let parley = Parley::bind(test_config(smsc.smpp_port)).await;

    let results = parley
        .send(&[sms("+15550990001", "slow down"), sms("+15550980001", "nobody here"), sms(CONSUMER, "fine")])
        .await;
    assert_eq!(results[0], Err(SendError::Throttled { retry_after_ms: 1000 }));
    let Err(SendError::Permanent { code, .. }) = &results[1] else { panic!("{results:?}") };
    assert_eq!(code, "0x0000000B");
    assert!(results[2].is_ok(), "{results:?}");
    parley.shut_down().await;
}

#[tokio::test]
async fn reconnects_after_the_smsc_restarts_and_sends_again() {
    if !simulator_available() {
        return;
    }
    let mut smsc = Smsc::start();
    let port = smsc.smpp_port;
    let parley = Parley::bind(test_config(port)).await;
    parley.send_one(CONSUMER, "before").await.unwrap();

    smsc.kill();
    parley.wait_bound(false).await;
    let meanwhile = parley.send_one(CONSUMER, "while it is away").await;
    assert!(matches!(meanwhile, Err(SendError::Transient(_))), "{meanwhile:?}");

    let smsc = Smsc::start_on(port);
    parley.wait_bound(true).await;
    let accepted = parley.send_one(CONSUMER, "after").await.unwrap();
    let submits = smsc.submits().await;
    assert_eq!(submits.len(), 1);
    assert_eq!(submits[0]["text"], "after");
    assert_eq!(receipt_for(&parley, &accepted.provider_id).await.status, DeliveryStatus::Delivered);

    // A dropped connection (no restart) is survived the same way.
    smsc.post("/close", json!({})).await;
    eventually("a second bind", || async { (smsc.events_named("bind").await >= 2).then_some(()) }).await;
    parley.wait_bound(true).await;
    parley.send_one(CONSUMER, "still here").await.unwrap();
    parley.shut_down().await;
}
