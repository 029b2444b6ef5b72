//! Group commit: one batch writes every kind of row at once, and a later batch updates rows in place.

use parley_core::chat::ChatStatus;
use parley_core::message::MessageStatus;
use parley_store::batch::Batch;
use parley_store::rows::{ChatRow, EventRow};

use crate::support::{
    ANN, BOB, BUSINESS, T0, agent_state, chat, consent, event, fresh, inbound, ledger, outbound, sim_mo, sorted_by,
};

/// Reads the events of a fresh store back with their ids.
async fn all_events(store: &parley_store::Store) -> Vec<EventRow> {
    store.events_after(0, 10_000).await.unwrap()
}

#[tokio::test]
async fn commit_batch_writes_every_kind_of_row() {
    let store = fresh("batch_writes_every_kind").await;
    let ann_chat = chat("chat-1", ANN);
    let bob_chat = ChatRow { status: ChatStatus::Connected, agent: Some("alice".into()), ..chat("chat-2", BOB) };
    let batch = Batch {
        chats: vec![ann_chat.clone(), bob_chat.clone()],
        messages: vec![inbound("m-1", "chat-1", "p-1"), outbound("m-2", "chat-1", "hello ann")],
        events: vec![
            event("chat-1", "opened", T0),
            event("chat-1", "queued", T0 + 1),
            event("chat-2", "connected", T0 + 2),
        ],
        consents: vec![consent(ANN, false, true, T0)],
        ledger: vec![ledger(ANN, "notice_sent", None, T0)],
        agent_states: vec![agent_state("alice", "available", T0, T0), agent_state("bob", "away", 0, T0)],
        sim: vec![sim_mo(ANN, "hi", T0)],

        ..Batch::default()
    };
    assert!(!batch.is_empty());

    let ids = store.commit_batch(&batch).await.unwrap();

    assert_eq!(ids.len(), 3, "one id per event");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase in batch order: {ids:?}");
    let events = all_events(&store).await;
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), ids, "the returned ids are the stored ones");
    for (stored, written) in events.iter().zip(&batch.events) {
        assert_eq!(*stored, EventRow { id: stored.id, ..written.clone() });
    }

    assert_eq!(store.chat("chat-1").await.unwrap(), ann_chat);
    assert_eq!(store.chat("chat-2").await.unwrap(), bob_chat);

    let transcript = store.transcript("chat-1").await.unwrap();
    assert_eq!(transcript.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m-1", "m-2"]);
    assert_eq!(transcript[1].body, "hello ann");
    assert_eq!(transcript[1].status, MessageStatus::Queued);

    assert_eq!(store.consents(&[ANN.into()]).await.unwrap(), batch.consents);
    assert_eq!(store.consent_ledger(ANN).await.unwrap(), batch.ledger);
    assert_eq!(sorted_by(&store.agent_states().await.unwrap(), |a| a.agent.clone()), batch.agent_states);
    let thread = store.sim_thread(ANN, 0).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(
        (thread[0].direction.as_str(), thread[0].body.as_str(), thread[0].business.as_str()),
        ("mo", "hi", BUSINESS)
    );
    assert_eq!(store.outbox_depth(T0).await.unwrap(), 1, "the outbound message waits in the outbox");
}

#[tokio::test]
async fn an_empty_batch_writes_nothing() {
    let store = fresh("batch_empty").await;
    let batch = Batch::default();
    assert!(batch.is_empty());
    assert_eq!(store.commit_batch(&batch).await.unwrap(), Vec::<i64>::new());
    assert_eq!(store.last_event_id().await.unwrap(), 0);
    let only_a_ledger_entry = Batch { ledger: vec![ledger(ANN, "opted_out", Some("STOP"), T0)], ..Batch::default() };
    assert!(!only_a_ledger_entry.is_empty(), "any one kind of row makes a batch non-empty");
    assert_eq!(store.commit_batch(&only_a_ledger_entry).await.unwrap(), Vec::<i64>::new());
    assert_eq!(store.consent_ledger(ANN).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_later_batch_updates_rows_in_place() {
    let store = fresh("batch_updates_in_place").await;
    let queued = chat("chat-1", ANN);
    let first = Batch {
        chats: vec![queued.clone()],
        events: vec![event("chat-1", "queued", T0)],
        consents: vec![consent(ANN, false, false, T0)],
        agent_states: vec![agent_state("alice", "available", 0, T0)],
        ..Batch::default()
    };
    let first_ids = store.commit_batch(&first).await.unwrap();

    let connected = ChatRow {
        status: ChatStatus::Connected,
        queue: Some("support".into()),
        agent: Some("alice".into()),
        queued_at: Some(T0 + 5),
        updated_at: T0 + 10,
        ..queued.clone()
    };
    let second = Batch {
        chats: vec![connected.clone()],
        events: vec![event("chat-1", "offered", T0 + 9), event("chat-1", "connected", T0 + 10)],
        consents: vec![consent(ANN, true, true, T0 + 10)],
        agent_states: vec![agent_state("alice", "away", T0 + 10, T0 + 10)],
        ..Batch::default()
    };
    let second_ids = store.commit_batch(&second).await.unwrap();
    assert_eq!(second_ids.len(), 2);
    assert!(first_ids[0] < second_ids[0] && second_ids[0] < second_ids[1], "{first_ids:?} then {second_ids:?}");

    assert_eq!(
        store.chat("chat-1").await.unwrap(),
        connected,
        "status, queue, agent and times follow the latest batch"
    );
    assert_eq!(store.chats_by_ids(&["chat-1".into()]).await.unwrap().len(), 1, "updated, not duplicated");
    assert_eq!(store.consents(&[ANN.into()]).await.unwrap(), second.consents);
    assert_eq!(store.agent_states().await.unwrap(), second.agent_states);

    let ended = ChatRow {
        status: ChatStatus::Finished,
        agent: None,
        ended_at: Some(T0 + 20),
        end_reason: Some("resolved".into()),
        ended_by: Some("agent:alice".into()),
        updated_at: T0 + 20,
        ..connected
    };
    store.commit_batch(&Batch { chats: vec![ended.clone()], ..Batch::default() }).await.unwrap();
    assert_eq!(store.chat("chat-1").await.unwrap(), ended, "the end fields are written too");
    assert_eq!(store.last_event_id().await.unwrap(), second_ids[1], "a batch without events adds none");
}

/// Batches larger than one multi-row statement are split; nothing may be lost or reordered at the seams.
#[tokio::test]
async fn large_batches_keep_every_row_in_order() {
    let store = fresh("batch_large").await;
    let n = 901;
    let chats: Vec<ChatRow> =
        (0..n).map(|i| ChatRow { number: format!("+1555{i:07}"), ..chat(&format!("chat-{i}"), ANN) }).collect();
    let events: Vec<EventRow> = (0..n).map(|i| event(&format!("chat-{i}"), "opened", T0 + i64::from(i))).collect();
    let ids =
        store.commit_batch(&Batch { chats: chats.clone(), events: events.clone(), ..Batch::default() }).await.unwrap();

    assert_eq!(ids.len(), events.len());
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase across chunks");
    let stored = all_events(&store).await;
    assert_eq!(stored.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    assert!(stored.iter().zip(&events).all(|(s, e)| s.chat_id == e.chat_id && s.at == e.at), "event i got id i");

    let wanted: Vec<String> = chats.iter().map(|c| c.id.clone()).collect();
    assert_eq!(
        sorted_by(&store.chats_by_ids(&wanted).await.unwrap(), |c| c.id.clone()),
        sorted_by(&chats, |c| c.id.clone())
    );
    assert_eq!(store.live_chats_of(&[ANN.into()]).await.unwrap().len(), chats.len());
}
