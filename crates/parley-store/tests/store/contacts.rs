//! Contacts: every change is written with its event, merges move what the source had, and prefix
//! search finds names, e-mails and phones on both engines, in keyset pages.

use parley_core::crm::contact::{ContactData, ContactDraft, PhoneDraft, SearchQuery};
use parley_core::phone::E164;
use parley_store::StoreError;
use parley_store::contacts::{Among, ContactRow};

use crate::support::*;

fn contact(id: &str, name: &str, phones: &[&str], email: Option<&str>) -> ContactRow {
    let draft = ContactDraft {
        name: Some(name.to_owned()),
        phones: phones.iter().map(|p| PhoneDraft { number: (*p).to_owned(), primary: false }).collect(),
        email: email.map(str::to_owned),
        tags: vec![format!("tag-{id}")],
        notes: format!("notes of {id}"),
        ..ContactDraft::default()
    };
    let mut data = draft.validate(&[]).unwrap();
    data.external_ids.insert("hubspot".to_owned(), format!("x-{id}"));
    data.fields.insert("plan".to_owned(), format!("plan-{id}"));
    ContactRow { id: id.to_owned(), data, created_at: T0, updated_at: T0 }
}

fn changed(id: &str) -> parley_store::rows::EventRow {
    parley_store::rows::EventRow {
        chat_id: None,
        queue: None,
        data: format!(r#"{{"contact_id":"{id}"}}"#),
        ..event("", "contact.changed", T0)
    }
}

async fn contact_events(store: &parley_store::Store) -> Vec<String> {
    let events = store.events_after(0, 1000).await.unwrap();
    events.into_iter().filter(|e| e.kind == "contact.changed").map(|e| e.data).collect()
}

fn ids(rows: &[ContactRow]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

#[tokio::test]
async fn contacts_are_created_read_updated_and_deleted_with_their_events() {
    let store = fresh("contacts_crud").await;
    let ann = contact("CT01", "Ann Lee", &["+14155550100", "+14155550101"], Some("ann@example.com"));
    store.create_contact(&ann, Some(&changed("CT01"))).await.unwrap();
    assert_eq!(store.contact("CT01").await.unwrap().unwrap(), ann);
    assert!(store.contact("CT99").await.unwrap().is_none());

    let mut edited = ann.clone();
    edited.data.name = Some("Ann B. Lee".to_owned());
    edited.data.phones.remove(0);
    edited.data.phones[0].primary = true;
    edited.updated_at = T0 + 5;
    store.update_contact(&edited, &changed("CT01")).await.unwrap();
    assert_eq!(store.contact("CT01").await.unwrap().unwrap(), edited);
    let missing = ContactRow { id: "CT99".to_owned(), ..edited.clone() };
    assert!(matches!(store.update_contact(&missing, &changed("CT99")).await, Err(StoreError::NotFound)));

    store.delete_contact("CT01", &changed("CT01")).await.unwrap();
    assert!(store.contact("CT01").await.unwrap().is_none());
    assert!(matches!(store.delete_contact("CT01", &changed("CT01")).await, Err(StoreError::NotFound)));
    // Create, update, delete: three events; the refused writes wrote none.
    assert_eq!(contact_events(&store).await.len(), 3);
}

#[tokio::test]
async fn contacts_merge_moves_phones_tags_notes_and_ids_into_keeps_its_own_values() {
    let store = fresh("contacts_merge").await;
    let a = contact("CT01", "Ann", &["+14155550100"], None);
    let mut b = contact("CT02", "Ann Lee", &["+14155550100", "+14155550102"], Some("ann@example.com"));
    b.data.external_ids.insert("pipedrive".to_owned(), "7".to_owned());
    store.create_contact(&a, None).await.unwrap();
    store.create_contact(&b, None).await.unwrap();

    assert!(matches!(store.merge_contacts("CT01", "CT01", T0, &changed("CT01")).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.merge_contacts("CT01", "CT77", T0, &changed("CT01")).await, Err(StoreError::NotFound)));

    let merged = store.merge_contacts("CT02", "CT01", T0 + 9, &changed("CT02")).await.unwrap();
    assert!(store.contact("CT02").await.unwrap().is_none());
    assert_eq!(store.contact("CT01").await.unwrap().unwrap(), merged);
    let d = &merged.data;
    let phones: Vec<(&str, bool)> = d.phones.iter().map(|p| (p.number.as_str(), p.primary)).collect();
    assert_eq!(phones, vec![("+14155550100", true), ("+14155550102", false)]);
    assert_eq!(d.tags.iter().map(String::as_str).collect::<Vec<_>>(), vec!["tag-ct01", "tag-ct02"]);
    assert_eq!(d.notes, "notes of CT01\n\nnotes of CT02");
    assert_eq!(d.name.as_deref(), Some("Ann"));
    assert_eq!(d.email.as_deref(), Some("ann@example.com"));
    assert_eq!(d.external_ids.get("hubspot").map(String::as_str), Some("x-CT01"));
    assert_eq!(d.external_ids.get("pipedrive").map(String::as_str), Some("7"));
    assert_eq!(d.fields.get("plan").map(String::as_str), Some("plan-CT01"));
    assert_eq!(merged.updated_at, T0 + 9);
    assert_eq!(contact_events(&store).await.len(), 1);
}

#[tokio::test]
async fn contacts_with_phone_finds_every_contact_of_a_phone() {
    let store = fresh("contacts_with_phone").await;
    store.create_contact(&contact("CT01", "Ann", &["+14155550100"], None), None).await.unwrap();
    store.create_contact(&contact("CT02", "Bob", &["+14155550101", "+14155550100"], None), None).await.unwrap();
    store.create_contact(&contact("CT03", "Cat", &["+14155550101"], None), None).await.unwrap();
    let found = store.contacts_with_phone(&E164::parse("+14155550100").unwrap()).await.unwrap();
    assert_eq!(ids(&found), vec!["CT01", "CT02"]);
    assert!(store.contacts_with_phone(&E164::parse("+14155550199").unwrap()).await.unwrap().is_empty());
}

#[tokio::test]
async fn contacts_prefix_search_pages_by_id_on_names_emails_and_phones() {
    let store = fresh("contacts_search").await;
    let rows = vec![
        contact("CT01", "Ann Lee", &["+14155550100"], Some("ann@example.com")),
        contact("CT02", "anna Bell", &["+442071234567"], None),
        contact("CT03", "Bob", &["+14155550111"], Some("annie@example.org")),
        contact("CT04", "Émile", &["+33612345678"], None),
    ];
    store.create_contacts(&rows, &[]).await.unwrap();
    let search = |q: &str| SearchQuery::parse(q).unwrap();

    let all = store.search_contacts(Some(&search("Ann")), Among::All, None, 50).await.unwrap();
    assert_eq!(ids(&all), vec!["CT01", "CT02", "CT03"]);
    let page1 = store.search_contacts(Some(&search("ann")), Among::All, None, 2).await.unwrap();
    assert_eq!(ids(&page1), vec!["CT01", "CT02"]);
    let page2 = store.search_contacts(Some(&search("ann")), Among::All, Some("CT02"), 2).await.unwrap();
    assert_eq!(ids(&page2), vec!["CT03"]);
    assert_eq!(ids(&store.search_contacts(Some(&search("émi")), Among::All, None, 50).await.unwrap()), vec!["CT04"]);
    assert_eq!(ids(&store.search_contacts(Some(&search("annie@")), Among::All, None, 50).await.unwrap()), vec!["CT03"]);
    // Phones: with or without +, with spaces; a prefix, never the middle of a number.
    assert_eq!(
        ids(&store.search_contacts(Some(&search("+1 415")), Among::All, None, 50).await.unwrap()),
        vec!["CT01", "CT03"]
    );
    assert_eq!(ids(&store.search_contacts(Some(&search("4420")), Among::All, None, 50).await.unwrap()), vec!["CT02"]);
    assert!(store.search_contacts(Some(&search("555")), Among::All, None, 50).await.unwrap().is_empty());
    // An agent's search covers only their contacts.
    let among = vec!["CT03".to_owned(), "CT04".to_owned()];
    assert_eq!(
        ids(&store.search_contacts(Some(&search("ann")), Among::Contacts(&among), None, 50).await.unwrap()),
        vec!["CT03"]
    );
    assert!(store.search_contacts(None, Among::Contacts(&[]), None, 50).await.unwrap().is_empty());
    // Listing and export pages walk everything in id order.
    assert_eq!(ids(&store.contacts_for_export(Some("CT02"), 500).await.unwrap()), vec!["CT03", "CT04"]);
    let phones = vec!["+33612345678".to_owned(), "+14155550111".to_owned()];
    assert_eq!(store.contact_ids_with_phones(&phones).await.unwrap(), vec!["CT03".to_owned(), "CT04".to_owned()]);
}

#[tokio::test]
async fn erasing_a_phone_takes_it_from_every_contact_and_deletes_the_contacts_left_empty() {
    let store = fresh("contacts_erasure").await;
    let only = ContactRow {
        data: ContactData {
            notes: String::new(),
            tags: Default::default(),
            email: None,
            name: None,
            ..contact("CT01", "x", &["+14155550100"], None).data
        },
        ..contact("CT01", "x", &["+14155550100"], None)
    };
    let two = contact("CT02", "Bea", &["+14155550100", "+14155550199"], None);
    let mailed = ContactRow {
        data: ContactData {
            notes: String::new(),
            ..contact("CT03", "Cy", &["+14155550100"], Some("cy@example.com")).data
        },
        ..contact("CT03", "Cy", &["+14155550100"], Some("cy@example.com"))
    };
    let other = contact("CT04", "Dee", &["+14155550177"], None);
    store.create_contacts(&[only, two, mailed, other.clone()], &[]).await.unwrap();
    let erased = |id: &str, deleted: bool, external: Vec<String>| parley_store::rows::EventRow {
        chat_id: None,
        queue: None,
        data: format!(r#"{{"contact_id":"{id}","deleted":{deleted},"external_ids":"{}"}}"#, external.join(" ")),
        ..event("", "contact.erased", T0)
    };
    let report = store.erase_phone("+14155550100", "hash", "api:admin", T0 + 5, &erased).await.unwrap();
    assert_eq!((report.contacts_changed, report.contacts_deleted), (3, 1));
    assert!(store.contact("CT01").await.unwrap().is_none(), "nothing was left of it");
    let two = store.contact("CT02").await.unwrap().unwrap();
    assert_eq!(two.data.phones.len(), 1);
    assert_eq!(two.data.phones[0].number.as_str(), "+14155550199");
    assert!(two.data.phones[0].primary, "the phone left became primary");
    assert!(store.contact("CT03").await.unwrap().unwrap().data.phones.is_empty());
    assert_eq!(store.contact("CT04").await.unwrap().unwrap(), other, "a contact without the phone is untouched");
    let events: Vec<String> = store
        .events_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "contact.erased")
        .map(|e| e.data)
        .collect();
    assert_eq!(
        events,
        vec![
            r#"{"contact_id":"CT01","deleted":true,"external_ids":"hubspot:x-CT01"}"#,
            r#"{"contact_id":"CT02","deleted":false,"external_ids":"hubspot:x-CT02"}"#,
            r#"{"contact_id":"CT03","deleted":false,"external_ids":"hubspot:x-CT03"}"#,
        ]
    );
}

#[tokio::test]
async fn contacts_common_prefixes_page_in_id_order_too() {
    // More matches than search collects from an index: it walks the contacts in id order instead, and
    // must find the same pages, with the same filters.
    let store = fresh("contacts_search_common").await;
    let many = parley_store::contacts::FEW_MATCHES as usize + 10;
    let rows: Vec<ContactRow> = (0..many)
        .map(|i| {
            let mut row = contact(&format!("CT{i:06}"), &format!("Ann {i}"), &[&format!("+4420{i:08}")], None);
            row.data.external_ids.clear();
            row
        })
        .chain([contact("CT999998", "Bob", &["+14155550100"], Some("ann.b@example.com"))])
        .collect();
    store.create_contacts(&rows, &[]).await.unwrap();
    let search = |q: &str| SearchQuery::parse(q).unwrap();

    let first = store.search_contacts(Some(&search("ann")), Among::All, None, 3).await.unwrap();
    assert_eq!(ids(&first), vec!["CT000000", "CT000001", "CT000002"]);
    let last =
        store.search_contacts(Some(&search("ann")), Among::All, Some(&format!("CT{:06}", many - 2)), 3).await.unwrap();
    assert_eq!(ids(&last), vec![format!("CT{:06}", many - 1).as_str(), "CT999998"]);
    let phones = store.search_contacts(Some(&search("+44 20")), Among::All, Some("CT000100"), 2).await.unwrap();
    assert_eq!(ids(&phones), vec!["CT000101", "CT000102"]);
    let among = vec!["CT000005".to_owned(), "CT999998".to_owned()];
    let theirs = store.search_contacts(Some(&search("an")), Among::Contacts(&among), None, 50).await.unwrap();
    assert_eq!(ids(&theirs), vec!["CT000005", "CT999998"]);
    assert!(store.search_contacts(Some(&search("+4421")), Among::All, None, 50).await.unwrap().is_empty());
}
