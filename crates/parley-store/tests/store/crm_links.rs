//! Matching's writes: one step (contact, link, record, events, cursor) is all or nothing, and a step
//! written again from an old cursor (a restart, a second node) changes nothing twice.

use parley_core::crm::contact::{ContactData, ContactPhone};
use parley_core::phone::E164;
use parley_store::contacts::ContactRow;
use parley_store::crm_links::{ChatContactRow, CursorMove, MatchWrite, RecordRow, RecordWrite};

use crate::support::*;

const CURSOR: &str = "crm_matcher";

fn linked(chat_id: &str, contact: &str, record: &str) -> ChatContactRow {
    ChatContactRow {
        chat_id: chat_id.to_owned(),
        contact_id: Some(contact.to_owned()),
        state: "linked".to_owned(),
        how: Some("created".to_owned()),
        by: "system".to_owned(),
        candidates: vec![],
        record_id: Some(record.to_owned()),
        at: T0,
    }
}

#[tokio::test]
async fn crm_match_a_step_is_written_once_and_its_contact_matches_afterwards() {
    let store = fresh("crm_match_store_once").await;
    assert_eq!(store.matcher_cursor(CURSOR).await.unwrap(), 0);
    let contact = "CT00000000000000000000000000000001";
    let step = MatchWrite {
        cursor: Some(CursorMove { name: CURSOR.to_owned(), from: 0, to: 7 }),
        contact: Some(ContactRow {
            id: contact.to_owned(),
            data: ContactData {
                phones: vec![ContactPhone { number: E164::parse(ANN).unwrap(), primary: true }],
                owner: Some("ag1".to_owned()),
                ..ContactData::default()
            },
            created_at: T0,
            updated_at: T0,
        }),
        link: Some(linked("CH1", contact, "RC1")),
        record: Some(RecordWrite::New(RecordRow {
            id: "RC1".to_owned(),
            contact_id: contact.to_owned(),
            queue: Some("sales".to_owned()),
            opened_at: T0,
            closed_at: None,
        })),
        events: vec![event("CH1", "contact.linked", T0)],
    };
    assert!(store.write_match(&step).await.unwrap());
    // The same step again, from the cursor it was read at: refused, nothing doubled.
    assert!(!store.write_match(&step).await.unwrap());
    assert_eq!(store.matcher_cursor(CURSOR).await.unwrap(), 7);
    assert_eq!(store.match_candidates(ANN).await.unwrap(), vec![contact.to_owned()]);
    assert!(store.match_candidates(BOB).await.unwrap().is_empty());
    assert_eq!(store.chat_contact("CH1").await.unwrap(), Some(linked("CH1", contact, "RC1")));
    assert_eq!(store.contact_records(contact).await.unwrap().len(), 1);
    assert_eq!(store.record_chats("RC1").await.unwrap(), vec!["CH1".to_owned()]);
    let linked_events = store.events_after(0, 100).await.unwrap();
    assert_eq!(linked_events.iter().filter(|e| e.kind == "contact.linked").count(), 1);
}

#[tokio::test]
async fn crm_match_a_pending_link_keeps_its_candidates_and_a_pick_replaces_it() {
    let store = fresh("crm_match_store_pending").await;
    let pending = ChatContactRow {
        chat_id: "CH2".to_owned(),
        contact_id: None,
        state: "pending".to_owned(),
        how: None,
        by: "system".to_owned(),
        candidates: vec!["CTa".to_owned(), "CTb".to_owned()],
        record_id: None,
        at: T0,
    };
    let step = MatchWrite {
        cursor: Some(CursorMove { name: CURSOR.to_owned(), from: 0, to: 3 }),
        contact: None,
        link: Some(pending.clone()),
        record: None,
        events: vec![],
    };
    assert!(store.write_match(&step).await.unwrap());
    assert_eq!(store.chat_contact("CH2").await.unwrap(), Some(pending));
    // The agent's pick: a write without the worker's cursor.
    let pick = MatchWrite {
        cursor: None,
        link: Some(linked("CH2", "CTb", "RC2")),
        record: Some(RecordWrite::New(RecordRow {
            id: "RC2".to_owned(),
            contact_id: "CTb".to_owned(),
            queue: None,
            opened_at: T0,
            closed_at: None,
        })),
        ..step
    };
    assert!(store.write_match(&pick).await.unwrap());
    let now = store.chat_contact("CH2").await.unwrap().unwrap();
    assert_eq!((now.contact_id.as_deref(), now.state.as_str(), now.candidates.len()), (Some("CTb"), "linked", 0));
    // A record joined again is open again.
    let join = MatchWrite {
        cursor: Some(CursorMove { name: CURSOR.to_owned(), from: 3, to: 4 }),
        record: Some(RecordWrite::Join("RC2".to_owned())),
        link: Some(linked("CH3", "CTb", "RC2")),
        ..pick
    };
    assert!(store.write_match(&join).await.unwrap());
    assert_eq!(store.record_chats("RC2").await.unwrap(), vec!["CH2".to_owned(), "CH3".to_owned()]);
}

#[tokio::test]
async fn crm_record_a_record_closes_when_its_last_chat_has_ended() {
    use parley_store::batch::Batch;
    let store = fresh("crm_record_store_close").await;
    store
        .commit_batch(&Batch { chats: vec![finished(chat("CH1", ANN), T0 + 10), chat("CH2", ANN)], ..Batch::default() })
        .await
        .unwrap();
    let record =
        RecordRow { id: "RC1".to_owned(), contact_id: "CTa".to_owned(), queue: None, opened_at: T0, closed_at: None };
    let first = MatchWrite {
        cursor: Some(CursorMove { name: CURSOR.to_owned(), from: 0, to: 1 }),
        contact: None,
        link: Some(linked("CH1", "CTa", "RC1")),
        record: Some(RecordWrite::New(record)),
        events: vec![],
    };
    assert!(store.write_match(&first).await.unwrap());
    let second = MatchWrite {
        cursor: Some(CursorMove { name: CURSOR.to_owned(), from: 1, to: 2 }),
        link: Some(linked("CH2", "CTa", "RC1")),
        record: Some(RecordWrite::Join("RC1".to_owned())),
        ..first
    };
    assert!(store.write_match(&second).await.unwrap());
    // CH1 ended, CH2 is live: the record stays open.
    store.close_records_of("CH1", T0 + 10).await.unwrap();
    assert_eq!(store.contact_records("CTa").await.unwrap()[0].closed_at, None);
    store.commit_batch(&Batch { chats: vec![finished(chat("CH2", ANN), T0 + 20)], ..Batch::default() }).await.unwrap();
    store.close_records_of("CH2", T0 + 20).await.unwrap();
    assert_eq!(store.contact_records("CTa").await.unwrap()[0].closed_at, Some(T0 + 20));
}
