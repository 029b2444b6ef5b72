//! Matching on connect (docs/crm.md "Matching on connect"): a chat that connects is linked to the
//! contact of its phone. None has it → a new contact with that phone; one → linked; several → the
//! link waits for the agent's choice, with `contact.match_pending`. Run on both engines.

use parley_store::crm::CrmContact;
use serde_json::Value;

use crate::harness::{SALES, TestApp, eventually, standard_setup};

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(&standard_setup()).await;
    app
}

fn contact(id: &str, phone: &str) -> CrmContact {
    CrmContact {
        id: id.to_owned(),
        name: Some(format!("Contact {id}")),
        email: None,
        company: None,
        phones: vec![phone.to_owned()],
    }
}

/// Alice is available; `phone` texts SALES, whose chats are answered automatically; the chat's id.
async fn connected_chat(app: &TestApp, phone: &str) -> String {
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    app.phone(phone).to(SALES).texts("Hello, it's me").await.chat_id.expect("a chat")
}

/// The chat's link once matching wrote it, and the chat's `contact.*` events.
async fn link_of(app: &TestApp, chat: &str) -> (parley_store::crm_links::ChatContactRow, Vec<(String, Value)>) {
    let store = app.store().await;
    let link = eventually("the chat's contact link", || async {
        store.chat_contact(chat).await.unwrap().ok_or_else(|| "no link yet".to_owned())
    })
    .await;
    let events = store
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.starts_with("contact."))
        .map(|e| (e.kind, serde_json::from_str(&e.data).unwrap()))
        .collect();
    store.close().await;
    (link, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_match_none_creates_a_contact_with_the_phone() {
    let app = app().await;
    let phone = "+14155550501";
    let chat = connected_chat(&app, phone).await;
    let (link, events) = link_of(&app, &chat).await;
    assert_eq!((link.state.as_str(), link.how.as_deref(), link.by.as_str()), ("linked", Some("created"), "system"));
    let contact = link.contact_id.clone().unwrap();
    assert!(contact.starts_with("CT") && contact.len() == 34, "{contact}");
    let store = app.store().await;
    assert_eq!(store.match_candidates(phone).await.unwrap(), vec![contact.clone()], "the new contact has the phone");
    let records = store.contact_records(&contact).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].id.as_str(), records[0].queue.as_deref()),
        (link.record_id.as_deref().unwrap(), Some("sales"))
    );
    assert_eq!(store.record_chats(&records[0].id).await.unwrap(), vec![chat.clone()]);
    store.close().await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["contact.changed", "contact.linked"]);
    assert_eq!(
        (events[0].1["change"].as_str(), events[0].1["contact_id"].as_str()),
        (Some("created"), Some(contact.as_str()))
    );
    assert_eq!(events[1].1["record_id"].as_str(), link.record_id.as_deref());
    assert_eq!(events[1].1["chat_status"], "connected", "in the chat's envelope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_match_one_links_that_contact_and_a_second_chat_is_not_matched_twice() {
    let app = app().await;
    let phone = "+14155550502";
    let store = app.store().await;
    store.testing_insert_contact(&contact("CT00000000000000000000000000000a01", phone), 0).await.unwrap();
    let chat = connected_chat(&app, phone).await;
    let (link, events) = link_of(&app, &chat).await;
    assert_eq!(
        (link.how.as_deref(), link.contact_id.as_deref()),
        (Some("matched"), Some("CT00000000000000000000000000000a01"))
    );
    assert_eq!(events.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["contact.linked"], "no contact created");
    // The consumer writes on: later events of the chat link nothing again.
    app.phone(phone).to(SALES).texts("Still there?").await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.say(&chat, "Yes").await;
    alice.end(&chat).await;
    let records = eventually("the record closed with its last chat", || async {
        let records = store.contact_records("CT00000000000000000000000000000a01").await.unwrap();
        if records.iter().all(|r| r.closed_at.is_some()) { Ok(records) } else { Err(format!("{records:?}")) }
    })
    .await;
    assert_eq!(records.len(), 1, "one record: {records:?}");
    let linked =
        store.events_after(0, 10_000).await.unwrap().into_iter().filter(|e| e.kind == "contact.linked").count();
    assert_eq!(linked, 1, "the chat's later events linked nothing again");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_match_several_wait_for_the_agents_choice() {
    let app = app().await;
    let phone = "+14155550503";
    let store = app.store().await;
    store.testing_insert_contact(&contact("CT00000000000000000000000000000b02", phone), 0).await.unwrap();
    store.testing_insert_contact(&contact("CT00000000000000000000000000000b01", phone), 0).await.unwrap();
    store.close().await;
    let chat = connected_chat(&app, phone).await;
    let (link, events) = link_of(&app, &chat).await;
    assert_eq!((link.state.as_str(), link.contact_id.as_deref(), link.record_id.as_deref()), ("pending", None, None));
    assert_eq!(link.candidates, ["CT00000000000000000000000000000b01", "CT00000000000000000000000000000b02"]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "contact.match_pending");
    assert_eq!(
        events[0].1["candidates"],
        serde_json::json!(["CT00000000000000000000000000000b01", "CT00000000000000000000000000000b02"])
    );
    // The chat goes on meanwhile.
    let alice = app.agent(&app.agent_token("alice").await);
    alice.say(&chat, "How can I help?").await;
}

/// The standard setup with a second sales number and `policy` (and alice as default owner) on sales.
async fn app_with_policy(policy: &str) -> TestApp {
    let app = TestApp::spawn().await;
    let mut doc = standard_setup();
    doc["numbers"].as_array_mut().unwrap().push(serde_json::json!(
        {"number": SALES_TWO, "label": "Sales 2", "carrier": "sim", "queues": ["sales"]}
    ));
    doc["queues"][2]["record_policy"] = serde_json::json!(policy);
    doc["queues"][2]["default_owner"] = serde_json::json!("alice");
    app.apply_setup(&doc).await;
    app
}

const SALES_TWO: &str = "+15550002001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_record_append_open_keeps_overlapping_chats_in_one_record_owned_by_the_default_owner() {
    let app = app_with_policy("append_open").await;
    let phone = "+14155550511";
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let first = app.phone(phone).to(SALES).texts("Hi on one").await.chat_id.unwrap();
    let (link1, _) = link_of(&app, &first).await;
    let second = app.phone(phone).to(SALES_TWO).texts("Hi on two").await.chat_id.unwrap();
    let (link2, _) = link_of(&app, &second).await;
    assert_eq!(link2.how.as_deref(), Some("matched"), "the contact matching created for the first chat");
    assert_eq!(link1.record_id, link2.record_id, "the open record of the queue is appended to");
    let store = app.store().await;
    let contact = store.contact(link1.contact_id.as_deref().unwrap()).await.unwrap().unwrap();
    assert_eq!(contact.data.owner.as_deref(), Some("alice"), "sales' default owner");
    alice.end(&first).await;
    alice.end(&second).await;
    eventually("the record closed", || async {
        let records = store.contact_records(&contact.id).await.unwrap();
        if records.iter().all(|r| r.closed_at.is_some()) { Ok(()) } else { Err(format!("{records:?}")) }
    })
    .await;
    let third = app.phone(phone).to(SALES).texts("Back again").await.chat_id.unwrap();
    let (link3, _) = link_of(&app, &third).await;
    assert_ne!(link3.record_id, link1.record_id, "append_open never reopens a closed record");
    assert_eq!(store.contact_records(&contact.id).await.unwrap().len(), 2);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_record_create_after_messages_matches_at_the_nth_message_and_one_off_texts_make_no_contact() {
    let app = app_with_policy("create_after_messages = 3").await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let store = app.store().await;

    let once = "+14155550521";
    let quick = app.phone(once).to(SALES).texts("Just one question").await.chat_id.unwrap();
    let waiting = eventually("a waiting link", || async {
        match store.chat_contact(&quick).await.unwrap() {
            Some(l) if l.state == "waiting" => Ok(l),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(waiting.contact_id, None);
    alice.end(&quick).await;
    eventually("the waiting link forgotten", || async {
        match store.chat_contact(&quick).await.unwrap() {
            None => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert!(store.match_candidates(once).await.unwrap().is_empty(), "a one-off text made no contact");

    let phone = "+14155550522";
    let chat = app.phone(phone).to(SALES).texts("First").await.chat_id.unwrap();
    app.phone(phone).to(SALES).texts("Second").await;
    eventually("still waiting after two", || async {
        match store.chat_contact(&chat).await.unwrap() {
            Some(l) if l.state == "waiting" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert!(store.match_candidates(phone).await.unwrap().is_empty());
    app.phone(phone).to(SALES).texts("Third").await;
    let (link, events) = link_of_state(&app, &chat, "linked").await;
    assert_eq!(link.how.as_deref(), Some("created"));
    assert_eq!(store.match_candidates(phone).await.unwrap(), vec![link.contact_id.clone().unwrap()]);
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["contact.changed", "contact.linked"], "one contact, one link");
    store.close().await;
}

/// [`link_of`], waiting until the link is in `state`.
async fn link_of_state(
    app: &TestApp,
    chat: &str,
    state: &str,
) -> (parley_store::crm_links::ChatContactRow, Vec<(String, Value)>) {
    let store = app.store().await;
    eventually("the link's state", || async {
        match store.chat_contact(chat).await.unwrap() {
            Some(l) if l.state == state => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    store.close().await;
    link_of(app, chat).await
}
