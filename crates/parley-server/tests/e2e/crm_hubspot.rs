//! The HubSpot connector (docs/crm.md "### hubspot") against a local server of HubSpot's CRM v3
//! shape (`hubspot_server.rs`), every request checked field by field. The contact and its
//! `contact.linked` / `contact.erased` events are written straight into the store, as the contacts
//! and matching code will write them; the chat is a real one. Retries run on the manual clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_server::clock::Clock;
use parley_server::config::{Config, CrmConfig, Secret};
use parley_store::crm::CrmContact;
use parley_store::rows::EventRow;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SALES, TestApp, eventually, standard_setup};
use crate::hubspot_server::HubSpotServer;

const TOKEN: &str = "pat-na1-test-token";
const SECOND: i64 = 1_000;

async fn app(hubspot: &HubSpotServer) -> (TestApp, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(chrono::Utc::now().timestamp_millis()));
    let base = hubspot.base.clone();
    let app = TestApp::spawn_with_clock(
        move |c| {
            let crm = BTreeMap::from([(
                "hubspot".to_owned(),
                CrmConfig::Hubspot { token: Secret::new(TOKEN), api_base: Some(base) },
            )]);
            Config { webhooks_allow_private: true, crm, ..c }
        },
        Clock::Manual(now.clone()),
    )
    .await;
    app.apply_setup(&standard_setup()).await;
    (app, now)
}

/// A chat on SALES with alice, the consumer's first text in it; returns its id.
async fn chat(app: &TestApp, phone: &str) -> String {
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let chat = app.phone(phone).to(SALES).texts("Do you ship to Canada?").await.chat_id.expect("a chat");
    alice.say(&chat, "We do.").await;
    chat
}

/// Writes the contact before its chat connects, so matching on connect links the chat to it.
async fn known(app: &TestApp, contact: &CrmContact) {
    let store = app.store().await;
    store.testing_insert_contact(contact, 0).await.unwrap();
    store.close().await;
}

/// Waits for matching to link `chat`; its record's id.
pub(crate) async fn linked(app: &TestApp, chat: &str) -> String {
    let store = app.store().await;
    let record = eventually("the chat linked to its contact", || async {
        match store.chat_contact(chat).await.unwrap() {
            Some(link) if link.state == "linked" => Ok(link.record_id.unwrap_or_default()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    store.close().await;
    record
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

fn ada(id: &str, phone: &str) -> CrmContact {
    CrmContact {
        id: id.to_owned(),
        name: Some("Ada Lovelace".to_owned()),
        email: Some("ada@example.com".to_owned()),
        company: Some("Analytical Engines".to_owned()),
        phones: vec![phone.to_owned()],
    }
}

async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.request(Method::GET, &format!("/api/v1/crm/deliveries{query}"), Some(ADMIN), None).await;
    reply.expect_status(200).body.as_array().cloned().unwrap_or_default()
}

/// Waits until the connector's deliveries are `outcomes` (oldest first).
async fn outcomes_are(app: &TestApp, outcomes: &[&str]) -> Vec<Value> {
    eventually(&format!("the deliveries to be {outcomes:?}"), || async {
        let mut all = deliveries(app, "?connector=hubspot").await;
        all.reverse();
        let seen: Vec<String> = all.iter().map(|d| d["outcome"].as_str().unwrap_or_default().to_owned()).collect();
        if seen == outcomes { Ok(all) } else { Err(format!("{all:#?}")) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_conn_hubspot_gets_the_contact_and_the_record_as_a_note_field_by_field() {
    let hubspot = HubSpotServer::start().await;
    let (app, _now) = app(&hubspot).await;
    let phone = "+14155550301";
    known(&app, &ada("CT0000000000000000000000000000000a", phone)).await;
    let chat = chat(&app, phone).await;
    let record = linked(&app, &chat).await;
    let opened = outcomes_are(&app, &["delivered"]).await;
    assert_eq!(opened[0]["type"], "crm.record.opened");
    assert_eq!(
        (opened[0]["chat_id"].as_str(), opened[0]["record_id"].as_str()),
        (Some(chat.as_str()), Some(record.as_str()))
    );

    let requests = hubspot.requests();
    let calls: Vec<String> = requests.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        calls,
        ["POST /crm/v3/objects/contacts/search", "POST /crm/v3/objects/contacts", "POST /crm/v3/objects/notes"]
    );
    for r in &requests {
        assert_eq!(r.authorization, format!("Bearer {TOKEN}"), "{} {}", r.method, r.path);
    }
    let groups = &requests[0].body["filterGroups"];
    assert_eq!(groups[0]["filters"][0], json!({"propertyName": "phone", "operator": "EQ", "value": phone}));
    assert_eq!(groups[1]["filters"][0], json!({"propertyName": "mobilephone", "operator": "EQ", "value": phone}));
    assert_eq!(
        requests[1].body,
        json!({"properties": {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com",
            "company": "Analytical Engines", "phone": phone}})
    );
    let note = &requests[2].body;
    assert_eq!(
        note["associations"],
        json!([{"to": {"id": "c1"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}])
    );
    let body = note["properties"]["hs_note_body"].as_str().unwrap();
    for needed in [chat.as_str(), "Queue: sales", "Number: +15550002000", "Do you ship to Canada?", "alice"] {
        assert!(body.contains(needed), "the note has {needed:?}: {body}");
    }
    assert!(note["properties"]["hs_timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let store = app.store().await;
    assert_eq!(
        store.crm_external_id("CT0000000000000000000000000000000a", "hubspot").await.unwrap().as_deref(),
        Some("c1")
    );

    // The chat ends: the same note is rewritten with the end and the whole transcript.
    let alice = app.agent(&app.agent_token("alice").await);
    alice.say(&chat, "Anything else?").await;
    alice.end(&chat).await;
    let all = outcomes_are(&app, &["delivered", "delivered"]).await;
    assert_eq!(all[1]["type"], "crm.record.ended");
    let last = hubspot.requests().last().cloned().unwrap();
    assert_eq!((last.method.as_str(), last.path.as_str()), ("PATCH", "/crm/v3/objects/notes/n2"));
    let body = last.body["properties"]["hs_note_body"].as_str().unwrap().to_owned();
    for needed in ["Ended:", "by alice", "We do.", "Anything else?", "Do you ship to Canada?"] {
        assert!(body.contains(needed), "the ended note has {needed:?}: {body}");
    }
    assert_eq!(hubspot.notes().len(), 1, "one note per record");

    // Erasure reaches HubSpot as its GDPR delete of that contact.
    append(
        &app,
        None,
        "contact.erased",
        json!({"contact_id": "CT0000000000000000000000000000000a", "deleted": true,
        "external_ids": ["hubspot:c1", "other:x9"]}),
    )
    .await;
    outcomes_are(&app, &["delivered", "delivered", "delivered"]).await;
    let last = hubspot.requests().last().cloned().unwrap();
    assert_eq!((last.method.as_str(), last.path.as_str()), ("POST", "/crm/v3/objects/contacts/gdpr-delete"));
    assert_eq!(last.body, json!({"objectId": "c1"}));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_conn_hubspot_honors_429_retries_500_and_fails_400_with_its_body() {
    let hubspot = HubSpotServer::start().await;
    let (app, now) = app(&hubspot).await;
    let phone = "+14155550302";
    hubspot.has_contact("c77", phone, json!({"firstname": "Ada"}));
    hubspot.script(
        "POST",
        "/crm/v3/objects/notes",
        429,
        &[
            ("retry-after", "30"),
            ("x-hubspot-ratelimit-max", "100"),
            ("x-hubspot-ratelimit-remaining", "0"),
            ("x-hubspot-ratelimit-interval-milliseconds", "10000"),
        ],
        json!({"status": "error", "message": "You have reached your secondly limit.", "category": "RATE_LIMITS"}),
    );
    hubspot.script("POST", "/crm/v3/objects/notes", 500, &[], json!({"status": "error", "message": "internal"}));
    known(&app, &ada("CT0000000000000000000000000000000b", phone)).await;
    let chat = chat(&app, phone).await;
    linked(&app, &chat).await;

    // The 429: retried after Retry-After on the server's clock, not before.
    let first = outcomes_are(&app, &["retrying"]).await;
    assert_eq!(first[0]["status_code"], 429);
    let asked = first[0]["next_attempt_at"].as_str().unwrap().to_owned();
    let due = chrono::DateTime::parse_from_rfc3339(&asked).unwrap().timestamp_millis();
    assert_eq!(due, now.load(Ordering::SeqCst) + 30 * SECOND, "Retry-After: 30");
    now.fetch_add(30 * SECOND, Ordering::SeqCst);
    // The 500: retried after the backoff (10 s less up to a fifth at the second attempt).
    let second = eventually("the 500 to be recorded", || async {
        let d = deliveries(&app, "?connector=hubspot").await;
        if d[0]["status_code"] == 500 { Ok(d) } else { Err(format!("{d:#?}")) }
    })
    .await;
    assert_eq!((second[0]["outcome"].as_str(), second[0]["attempts"].as_i64()), (Some("retrying"), Some(2)));
    now.fetch_add(10 * SECOND, Ordering::SeqCst);
    outcomes_are(&app, &["delivered"]).await;
    // One search, the existing contact patched once, one note: no duplicate after the failures.
    assert_eq!(
        hubspot.served(),
        ["POST /crm/v3/objects/contacts/search", "PATCH /crm/v3/objects/contacts/c77", "POST /crm/v3/objects/notes"]
    );
    assert_eq!(hubspot.notes().len(), 1);
    let attempts: Vec<u16> =
        hubspot.requests().iter().filter(|r| r.path == "/crm/v3/objects/notes").map(|r| r.status).collect();
    assert_eq!(attempts, [429, 500, 201]);

    // A 400: failed at once, shown with HubSpot's body; the next change is not held behind it.
    let refusal =
        json!({"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"});
    hubspot.script("PATCH", "/crm/v3/objects/notes/n1", 400, &[], refusal.clone());
    let alice = app.agent(&app.agent_token("alice").await);
    alice.end(&chat).await;
    let all = outcomes_are(&app, &["delivered", "failed"]).await;
    assert_eq!(all[1]["status_code"], 400);
    assert_eq!(all[1]["attempts"], 1, "a 4xx is not retried");
    let excerpt: Value = serde_json::from_str(all[1]["body_excerpt"].as_str().unwrap()).unwrap();
    assert_eq!(excerpt, refusal);
    assert!(all[1]["last_error"].as_str().unwrap().contains("400"));
    let failed = deliveries(&app, "?connector=hubspot&outcome=failed").await;
    assert_eq!(failed.len(), 1);
    app.request(Method::GET, "/api/v1/crm/deliveries?outcome=lost", Some(ADMIN), None)
        .await
        .expect_error(422, "validation_failed");

    // Replayed once the cause is fixed: delivered with the same note.
    let id = failed[0]["id"].as_i64().unwrap();
    let replayed = app.request(Method::POST, &format!("/api/v1/crm/deliveries/{id}/replay"), Some(ADMIN), None).await;
    assert_eq!(replayed.expect_status(200).body["outcome"], "pending");
    outcomes_are(&app, &["delivered", "delivered"]).await;
    assert_eq!(hubspot.notes().len(), 1);
    assert!(hubspot.notes()[0].1["hs_note_body"].as_str().unwrap().contains("Ended:"));
    app.request(Method::POST, "/api/v1/crm/deliveries/999999/replay", Some(ADMIN), None)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_conn_hubspot_outage_of_minutes_and_a_restart_lose_and_duplicate_nothing() {
    let hubspot = HubSpotServer::start().await;
    let (mut app, now) = app(&hubspot).await;
    let phone = "+14155550303";
    hubspot.down(Some(503));
    known(&app, &ada("CT0000000000000000000000000000000c", phone)).await;
    let chat = chat(&app, phone).await;
    linked(&app, &chat).await;
    outcomes_are(&app, &["retrying"]).await;
    // The chat goes on during the outage: the agent ends it, nothing waits for HubSpot.
    let alice = app.agent(&app.agent_token("alice").await);
    alice.end(&chat).await;
    outcomes_are(&app, &["retrying", "pending"]).await;
    // Minutes pass: retries follow the backoff, still failing.
    let attempts = || async {
        deliveries(&app, "?connector=hubspot").await.iter().map(|d| d["attempts"].as_i64().unwrap_or(0)).sum::<i64>()
    };
    for _ in 0..4 {
        let (before, tried) = (hubspot.requests().len(), attempts().await);
        now.fetch_add(60 * SECOND, Ordering::SeqCst);
        // The attempt reached HubSpot and its failure is recorded (with its next time, taken from the
        // clock as it is now) before the clock moves again.
        eventually("another attempt", || async {
            if hubspot.requests().len() > before && attempts().await > tried {
                Ok(())
            } else {
                Err("none yet".to_owned())
            }
        })
        .await;
    }
    app.restart().await;
    hubspot.down(None);
    now.fetch_add(10 * 60 * SECOND, Ordering::SeqCst);
    outcomes_are(&app, &["delivered", "delivered"]).await;
    assert_eq!(
        hubspot.served(),
        [
            "POST /crm/v3/objects/contacts/search",
            "POST /crm/v3/objects/contacts",
            "POST /crm/v3/objects/notes",
            "PATCH /crm/v3/objects/notes/n2"
        ]
    );
    assert_eq!(hubspot.notes().len(), 1);
    assert_eq!(deliveries(&app, "").await.len(), 2, "each change queued once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_conn_hubspot_several_matches_wait_for_the_agents_choice() {
    let hubspot = HubSpotServer::start().await;
    let (app, _now) = app(&hubspot).await;
    let phone = "+14155550304";
    hubspot.has_contact("c10", phone, json!({"firstname": "Ada", "lastname": "L", "company": "AE", "email": "a@x.io"}));
    hubspot.has_contact("c11", phone, json!({"firstname": "Bea", "company": "BE"}));
    known(&app, &ada("CT0000000000000000000000000000000d", phone)).await;
    let chat = chat(&app, phone).await;
    linked(&app, &chat).await;
    let alice = app.agent(&app.agent_token("alice").await);
    let path = format!("/api/v1/chats/{chat}/contact/external");
    let choice = eventually("the candidates", || async {
        let body = app.request(Method::GET, &path, Some(&alice.token), None).await.expect_status(200).body;
        if body.as_array().is_some_and(|a| !a.is_empty()) { Ok(body) } else { Err(body.to_string()) }
    })
    .await;
    assert_eq!(
        choice,
        json!([{"connector": "hubspot", "candidates": [
            {"external_id": "c10", "name": "Ada L", "company": "AE", "email": "a@x.io"},
            {"external_id": "c11", "name": "Bea", "company": "BE", "email": null}
        ]}])
    );
    let held = outcomes_are(&app, &["retrying"]).await;
    assert!(
        held[0]["last_error"].as_str().unwrap().contains("several HubSpot contacts"),
        "held until the agent chooses"
    );
    assert!(hubspot.notes().is_empty());
    let bad = json!({"connector": "hubspot", "external_id": "c99"});
    app.request(Method::POST, &path, Some(&alice.token), Some(&bad)).await.expect_error(422, "validation_failed");
    let pick = json!({"connector": "hubspot", "external_id": "c11"});
    let picked = app.request(Method::POST, &path, Some(&alice.token), Some(&pick)).await.expect_status(200).body;
    assert_eq!(picked["external_id"], "c11");
    outcomes_are(&app, &["delivered"]).await;
    let notes: Vec<_> = hubspot.requests().into_iter().filter(|r| r.path == "/crm/v3/objects/notes").collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].body["associations"][0]["to"]["id"], "c11");
    let after = app.request(Method::GET, &path, Some(&alice.token), None).await.expect_status(200).body;
    assert_eq!(after, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_hubspot_the_consumers_pictures_are_uploaded_once_and_attached_to_the_note() {
    use crate::twilio_webhooks::{NUMBER, PUBLIC, form, post, sign};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let hubspot = HubSpotServer::start().await;
    let twilio = MockServer::start().await;
    let jpeg: Vec<u8> = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x0D, 0x0A];
    Mock::given(method("GET"))
        .and(path("/2010-04-01/Accounts/AC1/Messages/MM9/Media/ME9"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "image/jpeg").set_body_bytes(jpeg.clone()),
        )
        .mount(&twilio)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SMx", "status": "queued"})))
        .mount(&twilio)
        .await;
    let (base, api) = (hubspot.base.clone(), twilio.uri());
    let app = TestApp::spawn_with(move |mut c| {
        c.public_url = Some(PUBLIC.to_owned());
        c.carriers.insert(
            "tw".into(),
            parley_server::config::CarrierConfig::Twilio {
                account_sid: "AC1".into(),
                auth_token: Secret::new("tw-token"),
                api_base: Some(api),
                segments_per_second: None,
                concurrency: None,
            },
        );
        let crm = BTreeMap::from([(
            "hubspot".to_owned(),
            CrmConfig::Hubspot { token: Secret::new(TOKEN), api_base: Some(base) },
        )]);
        Config { webhooks_allow_private: true, crm, ..c }
    })
    .await;
    app.apply_setup(&json!({
        "numbers": [{"number": NUMBER, "label": "TW", "carrier": "tw", "queues": ["sales"]}],
        "queues": [{"id": "sales", "name": "Sales", "keywords": ["SALES"], "auto_answer": true}],
        "agents": [{"id": "alice", "name": "Alice", "queues": ["sales"], "capacity": 3}],
        "settings": {"brand": "Acme"}
    }))
    .await;
    let alice = app.agent_token("alice").await;
    app.agent(&alice).set_status("available").await;
    let media = format!("{}/2010-04-01/Accounts/AC1/Messages/MM9/Media/ME9", twilio.uri());
    let pairs = [
        ("MessageSid", "MM9"),
        ("From", "+15551113333"),
        ("To", NUMBER),
        ("Body", "the broken part"),
        ("NumMedia", "1"),
        ("MediaUrl0", media.as_str()),
        ("MediaContentType0", "image/jpeg"),
    ];
    let p = "/webhooks/twilio/tw";
    let (s, _, b) = post(&app, p, &form(&pairs), Some(&sign(p, &pairs))).await;
    assert_eq!(s, 200, "{b}");
    let chat = app.admin().all_chats().await.remove(0).id;
    linked(&app, &chat).await;
    eventually("the photo stored", || async {
        let t = app.admin().try_transcript(&chat).await.body;
        let stored = t["messages"][0]["attachments"][0]["status"] == "stored";
        if stored { Ok(()) } else { Err(t.to_string()) }
    })
    .await;
    app.agent(&alice).say(&chat, "Thanks, we will replace it").await;
    app.agent(&alice).end(&chat).await;

    let note = eventually("the note with its attachment", || async {
        match hubspot.notes().first() {
            Some((_, props))
                if props["hs_note_body"].as_str().is_some_and(|b| b.contains("Thanks, we will replace it"))
                    && props["hs_attachment_ids"].is_string() =>
            {
                Ok(props.clone())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let uploads: Vec<_> = hubspot.requests().into_iter().filter(|r| r.path == "/files/v3/files").collect();
    assert_eq!(uploads.len(), 1, "uploaded once, however many changes of the record followed");
    let upload = &uploads[0];
    assert_eq!(upload.authorization, format!("Bearer {TOKEN}"));
    assert_eq!(upload.body["fields"]["folderPath"], "/parley/chats");
    assert_eq!(upload.body["fields"]["options"], r#"{"access":"PRIVATE"}"#);
    assert_eq!(upload.body["fields"]["fileName"], format!("chat-{chat}-photo-1.jpg").as_str());
    assert_eq!(upload.body["file"]["content_type"], "image/jpeg");
    assert_eq!(upload.body["file"]["bytes"], json!(jpeg), "the bytes as the consumer sent them");
    assert_eq!(upload.status, 201);
    let ids = note["hs_attachment_ids"].as_str().unwrap();
    assert!(ids.starts_with('f') && !ids.contains(';'), "the one file HubSpot named: {ids}");
}
