//! Many phones at once: the engine commits inputs in groups, yet every chat sees its own texts in
//! order and in the right state, and no phone gets a second chat or a second opt-in notice.

use std::collections::BTreeMap;

use futures::future::join_all;

use crate::harness::{SUPPORT_MENU, TestApp, bodies};

const PHONES: usize = 50;
const TEXTS: usize = 4;

fn phone_number(i: usize) -> String {
    format!("+1415555{:04}", 2000 + i)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_texts_from_fifty_phones_at_once() {
    let app = TestApp::with_standard_setup().await;
    let phones: Vec<_> = (0..PHONES).map(|i| app.phone(&phone_number(i))).collect();

    // All 200 texts are in flight together, the four of one phone included: a carrier may deliver a
    // phone's texts concurrently, so nothing here assumes which of them arrives first.
    let sends = phones
        .iter()
        .flat_map(|p| (0..TEXTS).map(move |k| p.sends(serde_json::json!({ "body": format!("question {k}") }))));
    let replies = join_all(sends).await;
    for r in &replies {
        assert!(r.status.is_success(), "{}: {} {}", r.what, r.status, r.body);
    }

    // Exactly one chat per phone, and every text of a phone belongs to it.
    let chats = app.admin().try_list("?limit=1000").await.parse::<serde_json::Value>(200);
    let chats = chats["chats"].as_array().expect("chats").clone();
    let mut by_phone: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &chats {
        by_phone
            .entry(c["consumer"].as_str().unwrap().to_owned())
            .or_default()
            .push(c["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(by_phone.len(), PHONES, "one chat per phone");
    assert!(by_phone.values().all(|ids| ids.len() == 1), "a phone got two chats: {by_phone:#?}");
    for (i, phone) in phones.iter().enumerate() {
        let chat_ids: Vec<_> = replies[i * TEXTS..(i + 1) * TEXTS]
            .iter()
            .map(|r| r.body["chat_id"].as_str().unwrap().to_owned())
            .collect();
        assert!(chat_ids.iter().all(|id| *id == by_phone[&phone.number][0]), "{chat_ids:?}");
    }

    for phone in &phones {
        let chat = &by_phone[&phone.number][0];
        let transcript = app.settled(chat).await;
        assert_eq!(transcript.chat.status, "selecting", "no answer named a queue");
        let mut received = transcript.received();
        received.sort();
        assert_eq!(received, (0..TEXTS).map(|k| format!("question {k}")).collect::<Vec<_>>());

        // Per-chat order: the first text gets the notice and the menu; each later text gets the
        // menu again, quoting that very text, right after it.
        let m = &transcript.messages;
        assert_eq!(m.len(), 1 + 2 + 2 * (TEXTS - 1), "{m:#?}");
        assert_eq!(m[0].direction, "in");
        assert!(m[1].body.contains("STOP") && m[1].author == "system", "{:?}", m[1]);
        assert_eq!(m[2].body, SUPPORT_MENU);
        for pair in m[3..].chunks(2) {
            assert_eq!(pair[0].direction, "in", "{m:#?}");
            assert_eq!(pair[1].direction, "out", "{m:#?}");
            assert!(
                pair[1].body.starts_with(&format!("Sorry, we did not understand \"{}\".", pair[0].body)),
                "the retry quotes the text it answers: {m:#?}"
            );
        }

        // The phone got exactly those messages, once each, in order, with one opt-in notice.
        let inbox = bodies(&phone.inbox().await);
        assert_eq!(inbox, transcript.sent(), "{}", phone.number);
        assert_eq!(inbox.iter().filter(|b| b.contains("STOP")).count(), 1, "{inbox:#?}");
    }
}
