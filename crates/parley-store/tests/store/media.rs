//! Inbound media rows: written with their message, claimed for download under a lease, finished as
//! stored, linked, retried or failed.

use parley_store::batch::Batch;
use parley_store::media::MediaResult;
use parley_store::rows::{MediaRow, MediaStatus};

use crate::support::*;

fn media(id: &str, message_id: &str, at: i64) -> MediaRow {
    MediaRow {
        id: id.to_owned(),
        message_id: Some(message_id.to_owned()),
        chat_id: Some("chat-1".to_owned()),
        carrier: "tw".to_owned(),
        source_url: format!("https://api.example/{id}"),
        content_type: "image/jpeg".to_owned(),
        size: 0,
        status: MediaStatus::Pending,
        attempts: 0,
        error: None,
        created_at: at,
        uploaded_by: None,
    }
}

#[tokio::test]
async fn media_is_claimed_fetched_and_read_back() {
    let store = fresh("media_lifecycle").await;
    store
        .commit_batch(&Batch {
            chats: vec![chat("chat-1", ANN)],
            messages: vec![inbound("m-1", "chat-1", "p-1")],
            media: vec![media("a", "m-1", T0), media("b", "m-1", T0 + 1), media("c", "m-1", T0 + 2)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let claimed = store.claim_media(T0, 60_000, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| (m.id.as_str(), m.attempts)).collect::<Vec<_>>(), [("a", 1), ("b", 1), ("c", 1)]);
    assert!(store.claim_media(T0 + 59_999, 60_000, 10).await.unwrap().is_empty(), "leased");

    let jpeg = vec![0xFF, 0xD8, 0xFF, 0x00, 0x01];
    store
        .finish_media("a", &MediaResult::Stored { content_type: "image/jpeg".into(), data: jpeg.clone() }, T0 + 5)
        .await
        .unwrap();
    store.finish_media("b", &MediaResult::Retry { retry_at: T0 + 1000, error: "502".into() }, T0 + 5).await.unwrap();
    store.finish_media("c", &MediaResult::Failed { error: "too large".into() }, T0 + 5).await.unwrap();

    let (a, bytes) = store.media("a").await.unwrap().expect("stored");
    assert_eq!((a.status, a.size, bytes), (MediaStatus::Stored, 5, jpeg));
    let (c, none) = store.media("c").await.unwrap().expect("kept");
    assert_eq!((c.status, c.error.as_deref(), none.len()), (MediaStatus::Failed, Some("too large"), 0));
    assert!(store.media("zzz").await.unwrap().is_none());

    assert!(store.claim_media(T0 + 999, 60_000, 10).await.unwrap().is_empty(), "retry not due yet");
    let again = store.claim_media(T0 + 1000, 60_000, 10).await.unwrap();
    assert_eq!(again.iter().map(|m| (m.id.as_str(), m.attempts)).collect::<Vec<_>>(), [("b", 2)]);
    store.finish_media("b", &MediaResult::Linked, T0 + 1001).await.unwrap();

    let listed = store.media_of_messages(&["m-1".to_owned()]).await.unwrap();
    assert_eq!(
        listed.iter().map(|m| (m.id.as_str(), m.status.as_str())).collect::<Vec<_>>(),
        [("a", "stored"), ("b", "linked"), ("c", "failed")]
    );
}
