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
