//! The event log: paging for SSE streams and the resume point.

use parley_store::batch::Batch;
use parley_store::rows::EventRow;

use crate::support::{T0, event, fresh};

fn event_ids(events: &[EventRow]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

#[tokio::test]
async fn events_after_pages_through_the_log() {
    let store = fresh("events_pagination").await;
    assert_eq!(store.last_event_id().await.unwrap(), 0, "an empty log resumes from 0");
    assert!(store.events_after(0, 10).await.unwrap().is_empty());

    let with_agent =
        EventRow { agent: Some("alice".into()), queue: None, chat_id: None, ..event("", "agent_status", T0 + 2) };
    let first = Batch {
        events: vec![event("c1", "opened", T0), event("c1", "queued", T0 + 1), with_agent.clone()],
        ..Batch::default()
    };
    let second =
        Batch { events: vec![event("c2", "opened", T0 + 3), event("c1", "connected", T0 + 4)], ..Batch::default() };
    let mut ids = store.commit_batch(&first).await.unwrap();
    ids.extend(store.commit_batch(&second).await.unwrap());
    assert_eq!(ids.len(), 5);
    assert_eq!(store.last_event_id().await.unwrap(), ids[4]);

    let page1 = store.events_after(0, 2).await.unwrap();
    assert_eq!(event_ids(&page1), ids[0..2]);
    let page2 = store.events_after(page1[1].id, 2).await.unwrap();
    assert_eq!(event_ids(&page2), ids[2..4]);
    let page3 = store.events_after(page2[1].id, 2).await.unwrap();
    assert_eq!(event_ids(&page3), ids[4..5]);
    assert!(store.events_after(page3[0].id, 2).await.unwrap().is_empty(), "a caught-up reader gets nothing");
    assert_eq!(event_ids(&store.events_after(ids[1], 100).await.unwrap()), ids[2..5], "resuming mid-log");

    let all = store.events_after(0, 100).await.unwrap();
    let written: Vec<EventRow> = first.events.into_iter().chain(second.events).collect();
    for (stored, written) in all.iter().zip(written) {
        assert_eq!(*stored, EventRow { id: stored.id, ..written }, "every field round-trips");
    }
    assert_eq!(all[2], EventRow { id: ids[2], ..with_agent });
}
