//! Outgoing webhooks: an endpoint starts at the newest event, and its cursor moves only from where
//! the mover found it, with the attempt recorded in the same transaction.

use parley_store::batch::Batch;
use parley_store::webhooks::{DeliveryRow, WebhookProgress, WebhookRow};

use crate::support::{T0, event, fresh};

fn endpoint(id: &str) -> WebhookRow {
    WebhookRow {
        id: id.to_owned(),
        url: "https://crm.example/hook".to_owned(),
        description: "crm".to_owned(),
        events: vec!["chat.opened".to_owned(), "message".to_owned()],
        secret: "whsec_c2VjcmV0".to_owned(),
        previous_secret: None,
        cursor: 999,
        head_attempts: 0,
        head_failing_since: None,
        failing_since: None,
        next_attempt_at: None,
        disabled: None,
        created_at: T0,
        updated_at: T0,
    }
}

fn attempt(endpoint_id: &str, event_id: i64, outcome: &str) -> DeliveryRow {
    DeliveryRow {
        id: 0,
        endpoint_id: endpoint_id.to_owned(),
        event_id,
        event_type: "chat.opened".to_owned(),
        attempt: 1,
        outcome: outcome.to_owned(),
        status_code: Some(503),
        latency_ms: 12,
        error: Some("the receiver answered 503".to_owned()),
        at: T0 + 1,
        next_attempt_at: Some(T0 + 5_001),
        replay: false,
    }
}

#[tokio::test]
async fn webhook_cursor_starts_at_the_newest_event_and_moves_only_from_where_it_was() {
    let store = fresh("webhook_cursor").await;
    let ids =
        store.commit_batch(&Batch { events: vec![event("c1", "chat.opened", T0)], ..Batch::default() }).await.unwrap();
    let made = store.create_webhook(&endpoint("wh_a")).await.unwrap();
    assert_eq!(
        (made.cursor, &made.events),
        (ids[0], &endpoint("wh_a").events),
        "no history: starts at the newest event"
    );
    let later =
        store.commit_batch(&Batch { events: vec![event("c1", "message", T0 + 1)], ..Batch::default() }).await.unwrap();

    let retrying = WebhookProgress {
        cursor: made.cursor,
        head_attempts: 1,
        head_failing_since: Some(T0 + 1),
        failing_since: Some(T0 + 1),
        next_attempt_at: Some(T0 + 5_001),
        disabled: None,
    };
    assert!(
        store
            .record_webhook_attempt(made.cursor, &attempt("wh_a", later[0], "retrying"), &retrying, None)
            .await
            .unwrap()
    );
    assert!(store.due_webhooks(T0 + 5_000).await.unwrap().is_empty(), "not due before its next attempt");
    assert_eq!(store.due_webhooks(T0 + 5_001).await.unwrap().len(), 1);

    // A mover that read an old cursor changes nothing and records nothing.
    let delivered = WebhookProgress {
        cursor: later[0],
        head_attempts: 0,
        head_failing_since: None,
        failing_since: None,
        next_attempt_at: None,
        disabled: None,
    };
    assert!(
        store
            .record_webhook_attempt(made.cursor, &attempt("wh_a", later[0], "delivered"), &delivered, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_webhook_attempt(made.cursor, &attempt("wh_a", later[0], "delivered"), &delivered, None)
            .await
            .unwrap()
    );
    assert!(!store.skip_webhook_events("wh_a", made.cursor, later[0] + 5).await.unwrap());
    let now = store.webhook("wh_a").await.unwrap().unwrap();
    assert_eq!((now.cursor, now.head_attempts, now.failing_since), (later[0], 0, None));
    let log = store.webhook_deliveries("wh_a", None, 10).await.unwrap();
    let outcomes: Vec<&str> = log.iter().map(|d| d.outcome.as_str()).collect();
    assert_eq!(outcomes, ["delivered", "retrying"], "newest first, the stale move not recorded");
    assert_eq!(store.webhook_deliveries("wh_a", Some(log[0].id), 10).await.unwrap().len(), 1, "paged by id");

    // Rotation keeps the old secret beside the new one; deleting takes the log along.
    assert!(store.rotate_webhook_secret("wh_a", "whsec_bmV3", T0 + 10, T0).await.unwrap());
    let rotated = store.webhook("wh_a").await.unwrap().unwrap();
    assert_eq!(
        (rotated.secret.as_str(), rotated.previous_secret.clone()),
        ("whsec_bmV3", Some(("whsec_c2VjcmV0".to_owned(), T0 + 10)))
    );
    assert!(!format!("{rotated:?}").contains("whsec_"), "secrets stay out of Debug");
    assert!(store.delete_webhook("wh_a").await.unwrap());
    assert!(store.webhook("wh_a").await.unwrap().is_none());
    assert!(store.webhook_deliveries("wh_a", None, 10).await.unwrap().is_empty());
    assert!(!store.delete_webhook("wh_a").await.unwrap());
}
