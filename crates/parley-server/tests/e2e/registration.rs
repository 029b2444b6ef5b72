//! Registration data: a setup with bad registration fields is refused naming each one; a us_10dlc
//! number goes into review only once its campaign and brand are complete; per-minute limits hold
//! messages back until the next minute on the server's (manual) clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_server::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, TestApp, eventually};

const TENDLC: &str = "+15550008100";

pub(crate) fn brand() -> Value {
    json!({
        "id": "acme", "legal_name": "Acme Corporation", "tax_id": "12-3456789", "tax_id_country": "US",
        "vertical": "retail", "website": "https://www.acme.example",
        "address": {"street": "1 Main Street", "city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US"},
        "contact": {"name": "Jane Doe", "email": "jane@acme.example", "phone": "+15550100100"}
    })
}

pub(crate) fn campaign() -> Value {
    json!({
        "id": "care", "name": "Customer care", "brand": "acme", "use_case": "customer_care",
        "description": "Answers to the questions customers text to Acme's support line.",
        "sample_messages": ["Acme support: your refund for order 1234 was sent today. Reply STOP to opt out."],
        "opt_in_flow": "Customers text our support number first; the first answer confirms the opt-in and says how to stop.",
        "opt_in_keywords": ["START"], "opt_in_message": "Acme support: you are subscribed. Reply HELP for help, STOP to stop.",
        "opt_out_keywords": ["STOP"], "opt_out_message": "Acme support: you are unsubscribed and will get no more messages.",
        "help_keywords": ["HELP"], "help_message": "Acme support: call +1 555 010 0100 or write to help@acme.example.",
        "expected_volume": 5000
    })
}

fn setup(brand: Value, campaign: Value) -> Value {
    json!({
        "numbers": [{"number": TENDLC, "carrier": "sim", "queues": ["billing"], "type": "us_10dlc", "campaign": "care"}],
        "queues": [{"id": "billing", "name": "Billing"}],
        "brands": [brand],
        "campaigns": [campaign],
    })
}

async fn set_state(app: &TestApp, state: &str) -> crate::harness::Reply {
    let body = json!({ "state": state, "reason": "test" });
    app.request(Method::PUT, &format!("/api/v1/numbers/{TENDLC}/state"), Some(ADMIN), Some(&body)).await
}

#[tokio::test]
async fn a_setup_with_bad_registration_fields_is_refused_naming_each() {
    let app = TestApp::spawn().await;
    let mut bad_brand = brand();
    bad_brand["tax_id"] = json!("12-34");
    bad_brand["website"] = json!("http://acme.example");
    bad_brand["address"]["postal_code"] = json!("627");
    let mut bad_campaign = campaign();
    bad_campaign["sample_messages"] = json!(["Acme support: this sample is long enough.", "too short"]);
    bad_campaign["use_case"] = json!("sweepstake");
    bad_campaign["segments_per_second"] = json!(10);
    bad_campaign["segments_per_minute"] = json!(5);
    let mut doc = setup(bad_brand, bad_campaign);
    doc["numbers"].as_array_mut().unwrap().push(json!({
        "number": "+18005550100", "carrier": "sim", "queues": ["billing"], "type": "toll_free",
        "segments_per_day": 0,
        "toll_free_verification": {"opt_in_type": "email", "contact": {"email": "nobody"}}
    }));
    let reply = app.try_apply_setup(&doc).await;
    let message = reply.expect_error(422, "validation_failed");
    for expected in [
        "brand \"acme\": tax_id \"12-34\": a US EIN has 9 digits (NN-NNNNNNN)",
        "brand \"acme\": website \"http://acme.example\": use an https URL",
        "brand \"acme\": address.postal_code \"627\": a US ZIP code is 5 digits",
        "campaign \"care\": sample_messages[2]: has 9 characters: write at least 20",
        "campaign \"care\": use_case \"sweepstake\": use one of 2fa,",
        "campaign \"care\": segments_per_minute 5: must be at least segments_per_second (10)",
        "number +18005550100: segments_per_day: must be above 0",
        "number +18005550100: toll_free_verification: opt_in_type \"email\": use one of verbal, web_form",
        "number +18005550100: toll_free_verification: contact.email \"nobody\": use an email address",
    ] {
        assert!(message.contains(expected), "{expected:?} is not named in: {message}");
    }
    // Nothing was applied.
    assert_eq!(app.setup().await["numbers"], json!([]));
}

#[tokio::test]
async fn an_incomplete_10dlc_number_goes_into_review_only_once_complete() {
    let app = TestApp::spawn().await;
    let mut draft_brand = brand();
    draft_brand.as_object_mut().unwrap().remove("legal_name");
    draft_brand["contact"].as_object_mut().unwrap().remove("email");
    let mut draft_campaign = campaign();
    draft_campaign.as_object_mut().unwrap().remove("sample_messages");
    draft_campaign.as_object_mut().unwrap().remove("help_message");
    // A draft may be incomplete: it is accepted, and the numbers API says what it lacks.
    app.apply_setup(&setup(draft_brand, draft_campaign)).await;
    let numbers = app.request(Method::GET, "/api/v1/numbers", Some(ADMIN), None).await.expect_status(200).body;
    let registration = &numbers[0]["registration"];
    assert_eq!(registration["complete"], false, "{numbers}");
    assert_eq!(registration["brand"]["tax_id"], "12-3456789", "{numbers}");
    assert_eq!(registration["campaign"]["use_case"], "customer_care", "{numbers}");

    let message = set_state(&app, "in_review").await.expect_error(422, "validation_failed");
    for missing in [
        "campaign \"care\": sample_messages is missing",
        "campaign \"care\": help_message is missing",
        "brand \"acme\": legal_name is missing",
        "brand \"acme\": contact.email is missing",
    ] {
        assert!(message.contains(missing), "{missing:?} is not named in: {message}");
        assert!(registration["missing"].as_array().unwrap().contains(&json!(missing)), "{registration}");
    }
    assert_eq!(registration["missing"].as_array().unwrap().len(), 4, "{registration}");
    // Nor may it skip review.
    set_state(&app, "enabled").await.expect_error(422, "validation_failed");

    // Completed, it goes through; the export carries every field.
    app.apply_setup(&setup(brand(), campaign())).await;
    assert_eq!(set_state(&app, "in_review").await.expect_status(200).body["registration"]["complete"], true);
    assert_eq!(set_state(&app, "enabled").await.expect_status(200).body["state"], "enabled");
    let exported = app.setup().await;
    assert_eq!(exported["brands"][0], brand(), "{exported}");
    assert_eq!(exported["campaigns"][0]["opt_in_flow"], campaign()["opt_in_flow"]);
    assert_eq!(exported["campaigns"][0]["sample_messages"], campaign()["sample_messages"]);
}

#[tokio::test]
async fn a_number_without_a_campaign_or_verification_is_not_reviewed() {
    let app = TestApp::spawn().await;
    app.apply_setup(&json!({
        "numbers": [
            {"number": TENDLC, "carrier": "sim", "queues": ["billing"], "type": "us_10dlc"},
            {"number": "+18005550100", "carrier": "sim", "queues": ["billing"], "type": "toll_free",
             "toll_free_verification": {"business_name": "Acme Corporation"}}
        ],
        "queues": [{"id": "billing", "name": "Billing"}],
    }))
    .await;
    let message = set_state(&app, "in_review").await.expect_error(422, "validation_failed");
    assert!(message.contains("number +15550008100: campaign is missing"), "{message}");
    let reply = app
        .request(Method::PUT, "/api/v1/numbers/+18005550100/state", Some(ADMIN), Some(&json!({"state": "in_review"})))
        .await;
    let message = reply.expect_error(422, "validation_failed");
    assert!(message.contains("number +18005550100: toll_free_verification.website is missing"), "{message}");
    assert!(!message.contains("business_name"), "{message}");
}

#[tokio::test]
async fn a_per_minute_limit_holds_messages_until_the_next_minute() {
    // 10:00:10 UTC: the minute ends 50 s later.
    let minute = 1_800_000_000_000_i64 / 60_000 * 60_000;
    let now = Arc::new(AtomicI64::new(minute + 10_000));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&json!({
        "numbers": [{"number": "+15550008200", "carrier": "sim", "queues": ["billing", "tech"],
                     "segments_per_minute": 1}],
        "queues": [{"id": "billing", "name": "Billing", "keywords": ["1"]}, {"id": "tech", "name": "Tech", "keywords": ["2"]}],
    }))
    .await;
    let exported = app.setup().await;
    assert_eq!(exported["numbers"][0]["segments_per_minute"], 1, "{exported}");
    let phone = app.phone("+14155550193").to("+15550008200");
    let chat = phone.texts("hi").await.chat_id.expect("a chat");

    // The opt-in notice fills the minute (a message longer than the limit still goes in an empty
    // window); the menu waits with "rate limit".
    let waiting = eventually("a message to wait for the next minute", || async {
        let t = app.admin().transcript(&chat).await;
        let out: Vec<(String, Option<String>)> =
            t.messages.iter().filter(|m| m.direction == "out").map(|m| (m.status.clone(), m.error.clone())).collect();
        let queued = out.iter().filter(|(s, e)| s == "queued" && e.as_deref() == Some("rate limit")).count();
        if out.len() == 2 && queued >= 1 { Ok(out) } else { Err(format!("{out:?}")) }
    })
    .await;
    let delivered_first = waiting.iter().filter(|(s, _)| s == "delivered").count();
    assert_eq!(phone.inbox().await.len(), delivered_first);
    // 49 s later the minute still holds it.
    now.fetch_add(49_000, Ordering::SeqCst);
    let t = app.admin().transcript(&chat).await;
    assert_eq!(t.messages.iter().filter(|m| m.direction == "out" && m.status == "delivered").count(), delivered_first);
    assert_eq!(phone.inbox().await.len(), delivered_first);
    // At 10:01:00 it goes, in order.
    now.store(minute + 60_000, Ordering::SeqCst);
    let inbox = phone.receives(2).await;
    assert!(inbox[1].body.starts_with("How can we help?"), "in order: {inbox:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_day_limit_counts_what_was_sent_before_a_restart() {
    // 2027-01-15 14:00 UTC (09:00 in New York: outside quiet hours).
    let day = 1_800_000_000_000_i64 / 86_400_000 * 86_400_000;
    let now = Arc::new(AtomicI64::new(day + 14 * 3_600_000));
    let mut app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&json!({
        "numbers": [{"number": "+15550008300", "carrier": "sim", "queues": ["billing"], "segments_per_day": 3}],
        "queues": [{"id": "billing", "name": "Billing"}],
        "settings": {"opt_in_notice_every_chat": false},
    }))
    .await;
    let send = |to: &'static str, text: &'static str| json!({"end_user_number": to, "outbound_number": "+15550008300", "message": text});
    // Two notifications to one phone: its opt-in notice and both texts are three segments.
    for text in ["first", "second"] {
        let body = send("+12125550194", text);
        app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&body)).await.expect_status(201);
    }
    app.phone("+12125550194").receives(2).await;
    app.outbox_drained().await;

    // After a restart the day's count comes back from the store: the next message waits for tomorrow.
    app.restart().await;
    let body = send("+12125550194", "third");
    let id =
        app.request(Method::POST, "/api/v1/outbound/messages", Some(ADMIN), Some(&body)).await.expect_status(201).body
            ["message_id"]
            .as_str()
            .expect("an id")
            .to_owned();
    let path = format!("/api/v1/outbound/messages/{id}");
    eventually("the third message to wait for the day's limit", || async {
        let m = app.request(Method::GET, &path, Some(ADMIN), None).await.expect_status(200).body;
        if m["status"] == "queued" && m["error"] == "rate limit" { Ok(()) } else { Err(m.to_string()) }
    })
    .await;
    assert_eq!(app.phone("+12125550194").inbox().await.len(), 3, "the notice and two texts, no more today");
    now.store(day + 86_400_000 + 14 * 3_600_000, Ordering::SeqCst);
    let inbox = app.phone("+12125550194").receives(4).await;
    assert_eq!(inbox[3].body, "third");
}
