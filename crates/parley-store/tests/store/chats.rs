//! Reading chats back, and the rule that a consumer has at most one live chat per business number.

use parley_core::chat::ChatStatus;
use parley_store::StoreError;
use parley_store::batch::Batch;
use parley_store::chats::ChatFilter;
use parley_store::rows::ChatRow;

use crate::support::{
    ANN, BOB, BUSINESS, CAT, OTHER_BUSINESS, T0, agent_state, chat, consent, event, finished, fresh, ids, inbound,
    ledger, sim_mo, sorted_by,
};

/// Five chats in every status, over two queues and two business numbers:
///
/// | id | consumer | number | status    | queue   | agent | opened | queued |
/// |----|----------|--------|-----------|---------|-------|--------|--------|
/// | c1 | ANN      | main   | finished  | sales   | alice | T0     | T0     |
/// | c2 | ANN      | main   | queued    | sales   |       | T0+10  | T0+30  |
/// | c3 | BOB      | main   | queued    | sales   |       | T0+20  | T0+25  |
/// | c4 | BOB      | other  | connected | support | alice | T0+30  | T0+30  |
/// | c5 | CAT      | main   | offered   | sales   | bob   | T0+40  | T0+40  |
/// | c6 | CAT      | other  | queued    | support |       | T0+50  | T0+50  |
/// | c7 | ANN      | other  | selecting |         |       | T0+60  |        |
fn cast() -> Vec<ChatRow> {
    let at = |id: &str, consumer: &str, opened: i64| ChatRow {
        opened_at: T0 + opened,
        queued_at: Some(T0 + opened),
        ..chat(id, consumer)
    };
    vec![
        finished(ChatRow { agent: Some("alice".into()), ..at("c1", ANN, 0) }, T0 + 5),
        ChatRow { queued_at: Some(T0 + 30), ..at("c2", ANN, 10) },
        ChatRow { queued_at: Some(T0 + 25), ..at("c3", BOB, 20) },
        ChatRow {
            number: OTHER_BUSINESS.into(),
            status: ChatStatus::Connected,
            queue: Some("support".into()),
            agent: Some("alice".into()),
            ..at("c4", BOB, 30)
        },
        ChatRow { status: ChatStatus::Offered, agent: Some("bob".into()), ..at("c5", CAT, 40) },
        ChatRow { number: OTHER_BUSINESS.into(), queue: Some("support".into()), ..at("c6", CAT, 50) },
        ChatRow {
            number: OTHER_BUSINESS.into(),
            status: ChatStatus::Selecting,
            queue: None,
            queued_at: None,
            ..at("c7", ANN, 60)
        },
    ]
}

/// A listing filter from string slices (statuses by their stored names).
fn filter(statuses: &[&str], queues: Option<&[&str]>, limit: i64) -> ChatFilter {
    ChatFilter {
        statuses: statuses.iter().map(|s| ChatStatus::parse(s).unwrap()).collect(),
        queues: queues.map(|q| q.iter().map(|s| (*s).to_owned()).collect()),
        limit,
        ..ChatFilter::default()
    }
}

/// Owned copies, for the store's `&[String]` parameters.
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn chats_read_back_by_id_and_consumer() {
    let store = fresh("chats_read_back").await;
    let cast = cast();
    store.commit_batch(&Batch { chats: cast.clone(), ..Batch::default() }).await.unwrap();

    assert_eq!(store.chat("c4").await.unwrap(), cast[3]);
    assert!(matches!(store.chat("nope").await, Err(StoreError::NotFound)));

    let by_ids = store.chats_by_ids(&strings(&["c6", "missing", "c1"])).await.unwrap();
    assert_eq!(
        sorted_by(&by_ids, |c| c.id.clone()),
        vec![cast[0].clone(), cast[5].clone()],
        "missing ids are left out"
    );
    assert!(store.chats_by_ids(&[]).await.unwrap().is_empty());

    let live = store.live_chats_of(&strings(&[ANN, CAT])).await.unwrap();
    assert_eq!(
        ids(&sorted_by(&live, |c| c.id.clone())),
        ["c2", "c5", "c6", "c7"],
        "finished c1 and Bob's chats are left out"
    );
    assert!(store.live_chats_of(&strings(&["+15559999"])).await.unwrap().is_empty());
    assert!(store.live_chats_of(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn list_chats_filters_by_status_and_queue_newest_first() {
    let store = fresh("chats_list").await;
    store.commit_batch(&Batch { chats: cast(), ..Batch::default() }).await.unwrap();

    let all = store.list_chats(&filter(&[], None, 100)).await.unwrap();
    assert_eq!(
        ids(&all),
        ["c7", "c6", "c5", "c4", "c3", "c2", "c1"],
        "every chat, chats without a queue too, newest first"
    );
    assert_eq!(
        ids(&store.list_chats(&filter(&[], None, 2)).await.unwrap()),
        ["c7", "c6"],
        "the limit keeps the newest"
    );

    let queued = store.list_chats(&filter(&["queued"], None, 100)).await.unwrap();
    assert_eq!(ids(&queued), ["c6", "c3", "c2"]);
    let held = store.list_chats(&filter(&["offered", "connected"], None, 100)).await.unwrap();
    assert_eq!(ids(&held), ["c5", "c4"]);

    let support = store.list_chats(&filter(&[], Some(&["support"]), 100)).await.unwrap();
    assert_eq!(ids(&support), ["c6", "c4"], "a queue filter leaves out other queues and chats without one");
    let both = store.list_chats(&filter(&[], Some(&["support", "sales"]), 100)).await.unwrap();
    assert_eq!(ids(&both), ["c6", "c5", "c4", "c3", "c2", "c1"]);
    let queued_sales = store.list_chats(&filter(&["queued"], Some(&["sales"]), 100)).await.unwrap();
    assert_eq!(ids(&queued_sales), ["c3", "c2"], "status and queue filters combine");

    assert!(
        store.list_chats(&filter(&[], Some(&[]), 100)).await.unwrap().is_empty(),
        "an agent in no queue sees nothing"
    );
    assert!(store.list_chats(&filter(&["queued"], Some(&["nobody"]), 100)).await.unwrap().is_empty());
}

#[tokio::test]
async fn queued_chats_come_oldest_first() {
    let store = fresh("chats_queued").await;
    store.commit_batch(&Batch { chats: cast(), ..Batch::default() }).await.unwrap();

    // c3 was queued at T0+25, before c2 (T0+30), although c2 was opened first.
    let sales = store.queued_chats(&strings(&["sales"]), 10).await.unwrap();
    assert_eq!(ids(&sales), ["c3", "c2"]);
    let both = store.queued_chats(&strings(&["sales", "support"]), 10).await.unwrap();
    assert_eq!(ids(&both), ["c3", "c2", "c6"]);
    assert_eq!(ids(&store.queued_chats(&strings(&["sales", "support"]), 1).await.unwrap()), ["c3"]);
    assert!(store.queued_chats(&[], 10).await.unwrap().is_empty());
    assert!(store.queued_chats(&strings(&["nobody"]), 10).await.unwrap().is_empty());

    // Chats queued at the same instant are offered in id order, so every node agrees.
    let tie = Batch {
        chats: vec![
            ChatRow { number: "+15550111".into(), queued_at: Some(T0 + 25), ..chat("c0", CAT) },
            ChatRow { number: "+15550112".into(), queued_at: Some(T0 + 25), ..chat("c9", CAT) },
        ],
        ..Batch::default()
    };
    store.commit_batch(&tie).await.unwrap();
    assert_eq!(ids(&store.queued_chats(&strings(&["sales"]), 10).await.unwrap()), ["c0", "c3", "c9", "c2"]);
}

#[tokio::test]
async fn active_chat_counts_count_offered_and_connected() {
    let store = fresh("chats_active_counts").await;
    assert!(store.active_chat_counts().await.unwrap().is_empty());
    store.commit_batch(&Batch { chats: cast(), ..Batch::default() }).await.unwrap();
    let counts = sorted_by(&store.active_chat_counts().await.unwrap(), |c| c.0.clone());
    // Alice's finished c1 does not count; Bob's offered c5 does.
    assert_eq!(counts, [("alice".to_owned(), 1), ("bob".to_owned(), 1)]);

    let more = Batch {
        chats: vec![ChatRow { status: ChatStatus::Connected, agent: Some("alice".into()), ..cast()[1].clone() }],
        ..Batch::default()
    };
    store.commit_batch(&more).await.unwrap();
    let counts = sorted_by(&store.active_chat_counts().await.unwrap(), |c| c.0.clone());
    assert_eq!(counts, [("alice".to_owned(), 2), ("bob".to_owned(), 1)]);
}

#[tokio::test]
async fn list_chats_filters_by_agent() {
    let store = fresh("chats_agent_filter").await;
    store.commit_batch(&Batch { chats: cast(), ..Batch::default() }).await.unwrap();
    let bobs =
        store.list_chats(&ChatFilter { agent: Some("bob".into()), ..filter(&["offered"], None, 100) }).await.unwrap();
    assert!(!bobs.is_empty());
    assert!(bobs.iter().all(|c| c.agent.as_deref() == Some("bob") && c.status == ChatStatus::Offered), "{bobs:?}");
    let nobody = store.list_chats(&ChatFilter { agent: Some("zed".into()), ..filter(&[], None, 100) }).await.unwrap();
    assert!(nobody.is_empty());
}

#[tokio::test]
async fn a_second_live_chat_for_a_pair_conflicts_and_rolls_back_its_batch() {
    let store = fresh("chats_live_pair_conflict").await;
    let first = Batch {
        chats: vec![chat("chat-1", ANN)],
        events: vec![event("chat-1", "queued", T0)],
        agent_states: vec![agent_state("alice", "available", 0, T0)],
        ..Batch::default()
    };
    let first_ids = store.commit_batch(&first).await.unwrap();

    let doomed = Batch {
        chats: vec![chat("chat-ok", BOB), chat("chat-2", ANN)],
        messages: vec![inbound("m-1", "chat-2", "p-1")],
        events: vec![event("chat-2", "opened", T0 + 1)],
        consents: vec![consent(ANN, true, true, T0 + 1)],
        ledger: vec![ledger(ANN, "opted_out", Some("STOP"), T0 + 1)],
        agent_states: vec![agent_state("alice", "away", 0, T0 + 1)],
        sim: vec![sim_mo(ANN, "hello again", T0 + 1)],

        ..Batch::default()
    };
    let err = store.commit_batch(&doomed).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    // Nothing of the failed batch is visible, not even the rows written before the conflict.
    assert!(matches!(store.chat("chat-2").await, Err(StoreError::NotFound)));
    assert!(matches!(store.chat("chat-ok").await, Err(StoreError::NotFound)));
    assert_eq!(ids(&store.live_chats_of(&[ANN.into(), BOB.into()]).await.unwrap()), ["chat-1"]);
    assert!(store.transcript("chat-2").await.unwrap().is_empty());
    assert!(store.inbound_seen("sim", &["p-1".into()]).await.unwrap().is_empty());
    assert_eq!(store.last_event_id().await.unwrap(), first_ids[0]);
    assert!(store.consents(&[ANN.into()]).await.unwrap().is_empty());
    assert!(store.consent_ledger(ANN).await.unwrap().is_empty());
    assert_eq!(store.agent_states().await.unwrap(), first.agent_states);
    assert!(store.sim_thread(ANN, 0).await.unwrap().is_empty());

    // The store stays usable: the same rows without the offending chat commit.
    let retried = Batch { chats: vec![chat("chat-ok", BOB)], ..doomed };
    let ids_after = store.commit_batch(&retried).await.unwrap();
    assert_eq!(ids_after.len(), 1);
    assert!(ids_after[0] > first_ids[0]);
    assert_eq!(store.chat("chat-ok").await.unwrap(), chat("chat-ok", BOB));
    assert_eq!(store.consents(&[ANN.into()]).await.unwrap(), retried.consents);
}

#[tokio::test]
async fn the_live_pair_rule_is_per_consumer_and_number() {
    let store = fresh("chats_live_pair_scope").await;
    let batch = Batch {
        chats: vec![
            chat("c1", ANN),
            ChatRow { number: OTHER_BUSINESS.into(), ..chat("c2", ANN) },
            chat("c3", BOB),
            ChatRow { status: ChatStatus::Connected, agent: Some("alice".into()), ..chat("c4", CAT) },
        ],
        ..Batch::default()
    };
    store.commit_batch(&batch).await.unwrap();
    assert_eq!(store.live_chats_of(&[ANN.into(), BOB.into(), CAT.into()]).await.unwrap().len(), 4);

    // Any live status blocks, not just "queued": Cat's chat is connected.
    let dup = Batch { chats: vec![chat("c5", CAT)], ..Batch::default() };
    assert!(matches!(store.commit_batch(&dup).await, Err(StoreError::Conflict(_))));
    // Two live chats for one pair inside the same batch conflict as well.
    let twins = Batch {
        chats: vec![
            ChatRow { number: "+15550123".into(), ..chat("c6", BOB) },
            ChatRow { number: "+15550123".into(), ..chat("c7", BOB) },
        ],
        ..Batch::default()
    };
    assert!(matches!(store.commit_batch(&twins).await, Err(StoreError::Conflict(_))));
    assert!(store.chats_by_ids(&strings(&["c5", "c6", "c7"])).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_finished_chat_does_not_block_a_new_live_one() {
    let store = fresh("chats_finished_then_new").await;
    store.commit_batch(&Batch { chats: vec![chat("chat-1", ANN)], ..Batch::default() }).await.unwrap();
    store
        .commit_batch(&Batch { chats: vec![finished(chat("chat-1", ANN), T0 + 10)], ..Batch::default() })
        .await
        .unwrap();
    let reopened = ChatRow { opened_at: T0 + 20, queued_at: Some(T0 + 20), updated_at: T0 + 20, ..chat("chat-2", ANN) };
    store.commit_batch(&Batch { chats: vec![reopened.clone()], ..Batch::default() }).await.unwrap();

    assert_eq!(store.live_chats_of(&[ANN.into()]).await.unwrap(), [reopened]);
    assert_eq!(store.chat("chat-1").await.unwrap().status, ChatStatus::Finished);
    // Several finished chats of one pair coexist.
    store
        .commit_batch(&Batch { chats: vec![finished(chat("chat-2", ANN), T0 + 30)], ..Batch::default() })
        .await
        .unwrap();
    assert!(store.live_chats_of(&[ANN.into()]).await.unwrap().is_empty());
    assert_eq!(store.list_chats(&filter(&["finished"], None, 10)).await.unwrap().len(), 2);
}

/// The engine may end a chat and open the pair's next one in the same batch (the agent closes it as
/// the consumer texts again); the batch commits whichever order it lists the two chats in.
#[tokio::test]
async fn one_batch_can_finish_a_chat_and_open_the_next_for_the_pair() {
    let store = fresh("chats_finish_and_reopen").await;
    store.commit_batch(&Batch { chats: vec![chat("a1", ANN), chat("b1", BOB)], ..Batch::default() }).await.unwrap();

    let finish_first = Batch { chats: vec![finished(chat("a1", ANN), T0 + 10), chat("a2", ANN)], ..Batch::default() };
    store.commit_batch(&finish_first).await.unwrap();
    let open_first = Batch { chats: vec![chat("b2", BOB), finished(chat("b1", BOB), T0 + 10)], ..Batch::default() };
    store.commit_batch(&open_first).await.unwrap();

    let live = store.live_chats_of(&[ANN.into(), BOB.into()]).await.unwrap();
    assert_eq!(ids(&sorted_by(&live, |c| c.id.clone())), ["a2", "b2"]);
    assert_eq!(store.chat("b1").await.unwrap().status, ChatStatus::Finished);
    assert_eq!(store.chat("a1").await.unwrap().number, BUSINESS);
}

#[tokio::test]
async fn list_chats_finds_words_of_messages_digits_of_phones_and_pages_by_keyset() {
    let store = fresh("chats_search").await;
    let messages = vec![
        MessageRowBody::with(inbound("m1", "c2", "p1"), "I want a Refund, please"),
        MessageRowBody::with(inbound("m2", "c4", "p2"), "the router is broken"),
        MessageRowBody::with(inbound("m3", "c5", "p3"), "refund? \"quoted\" AND OR NOT *"),
    ];
    store.commit_batch(&Batch { chats: cast(), messages, ..Batch::default() }).await.unwrap();
    let find = |f: ChatFilter| {
        let store = &store;
        async move { ids(&store.list_chats(&f).await.unwrap()).into_iter().map(str::to_owned).collect::<Vec<String>>() }
    };
    let text = |t: &str| ChatFilter { text: Some(t.into()), ..filter(&[], None, 100) };
    assert_eq!(find(text("refund")).await, ["c5", "c2"], "any case, newest first");
    assert_eq!(find(text("refund please")).await, ["c2"], "every word");
    assert_eq!(find(text("\"quoted\" AND OR NOT *")).await, ["c5"], "query syntax is taken as words");
    assert!(find(text("refund router")).await.is_empty());
    let digits = ChatFilter { digits: Some(BOB[BOB.len() - 4..].to_owned()), ..text("zzz") };
    assert_eq!(find(digits.clone()).await, ["c4", "c3"]);
    let masked = ChatFilter { digits_queues: Some(vec!["support".into()]), ..digits };
    assert_eq!(find(masked).await, ["c4"], "digits match only in the queues given");

    // Keyset pages: after c5 (T0+40) come c4, c3...; opened_from/before bound the range.
    let after = ChatFilter { after: Some((T0 + 40, "c5".into())), ..filter(&[], None, 2) };
    assert_eq!(find(after).await, ["c4", "c3"]);
    let range = ChatFilter { opened_from: Some(T0 + 10), opened_before: Some(T0 + 30), ..filter(&[], None, 100) };
    assert_eq!(find(range).await, ["c3", "c2"]);
    // Menu chats (no queue) of the numbers given come with the queues.
    let menu = ChatFilter { menu_numbers: vec![OTHER_BUSINESS.into()], ..filter(&[], Some(&["sales"]), 100) };
    assert!(find(menu).await.contains(&"c7".to_owned()));
    let consumer = ChatFilter { consumer: Some(CAT.into()), queue: Some("support".into()), ..filter(&[], None, 100) };
    assert_eq!(find(consumer).await, ["c6"]);
}

/// A message row with another body.
struct MessageRowBody;

impl MessageRowBody {
    fn with(row: parley_store::rows::MessageRow, body: &str) -> parley_store::rows::MessageRow {
        parley_store::rows::MessageRow { body: body.to_owned(), ..row }
    }
}

/// A word in more chats than the search hands over by id (2,000) is matched while the listing walks the
/// chats; a rare word's chats are fetched by id. Both answer the same listing: newest first, paged.
#[tokio::test]
async fn a_word_in_thousands_of_chats_and_a_rare_one_are_both_found_newest_first() {
    let store = fresh("chats_search_common").await;
    let n = 2_100;
    let chats: Vec<ChatRow> =
        (0..n).map(|i| finished(ChatRow { opened_at: T0 + i, ..chat(&format!("k{i:05}"), ANN) }, T0 + i + 1)).collect();
    let messages = (0..n)
        .map(|i| {
            let body = if i % 1000 == 7 { "a common word and a rare zebracorn" } else { "a common word" };
            MessageRowBody::with(inbound(&format!("km{i}"), &format!("k{i:05}"), &format!("kp{i}")), body)
        })
        .collect();
    store.commit_batch(&Batch { chats, messages, ..Batch::default() }).await.unwrap();
    let page =
        |t: &str, after: Option<(i64, String)>| ChatFilter { text: Some(t.into()), after, ..filter(&[], None, 3) };

    let common = ids(&store.list_chats(&page("common", None)).await.unwrap()).join(" ");
    assert_eq!(common, "k02099 k02098 k02097");
    let next = ids(&store.list_chats(&page("common", Some((T0 + 2097, "k02097".into())))).await.unwrap()).join(" ");
    assert_eq!(next, "k02096 k02095 k02094");
    let rare = ids(&store.list_chats(&page("zebracorn", None)).await.unwrap()).join(" ");
    assert_eq!(rare, "k02007 k01007 k00007");
    assert!(store.list_chats(&page("nowhere", None)).await.unwrap().is_empty());
}
