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

#[tokio::test]
async fn an_upload_is_its_uploaders_until_a_batch_links_it_once_and_unsent_ones_are_deleted() {
    use parley_store::media::{MediaLink, NewUpload};
    let store = fresh("media_uploads").await;
    let upload = |id: &str, at: i64| NewUpload {
        id: id.to_owned(),
        content_type: "image/png".to_owned(),
        data: vec![0x89, b'P', b'N', b'G'],
        uploaded_by: "agent:alice".to_owned(),
        at,
    };
    let stored = store.insert_upload(&upload("u1", T0)).await.unwrap();
    assert_eq!((stored.status, stored.size, stored.message_id.as_deref()), (MediaStatus::Stored, 4, None));
    store.insert_upload(&upload("u2", T0)).await.unwrap();
    store.insert_upload(&upload("u3", T0 + 10)).await.unwrap();
    assert!(store.claim_media(T0 + 100, 60_000, 10).await.unwrap().is_empty(), "an upload is never downloaded");
    let link = |media: &str, message: &str| MediaLink {
        media_id: media.to_owned(),
        message_id: message.to_owned(),
        chat_id: Some("chat-1".to_owned()),
        at: T0 + 1,
    };
    store
        .commit_batch(&Batch {
            chats: vec![chat("chat-1", ANN)],
            messages: vec![outbound("m-1", "chat-1", "see")],
            media_links: vec![link("u1", "m-1")],
            ..Batch::default()
        })
        .await
        .unwrap();
    // A second link (a resend naming the same upload) keeps the first message's.
    store
        .commit_batch(&Batch {
            messages: vec![outbound("m-2", "chat-1", "see again")],
            media_links: vec![link("u1", "m-2")],
            ..Batch::default()
        })
        .await
        .unwrap();
    let mut found = store.media_by_ids(&["u1".into(), "u2".into(), "nope".into()]).await.unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let seen: Vec<_> =
        found.iter().map(|m| (m.id.as_str(), m.message_id.as_deref(), m.uploaded_by.as_deref())).collect();
    assert_eq!(seen, [("u1", Some("m-1"), Some("agent:alice")), ("u2", None, Some("agent:alice"))]);
    assert_eq!(found[0].chat_id.as_deref(), Some("chat-1"));
    let (_, bytes) = store.media("u1").await.unwrap().unwrap();
    assert_eq!(bytes, [0x89, b'P', b'N', b'G']);

    // Unsent uploads older than the cutoff go; a sent one and a newer one stay.
    assert_eq!(store.delete_unattached_uploads(T0 + 5).await.unwrap(), 1);
    assert!(store.media("u2").await.unwrap().is_none());
    assert!(store.media("u1").await.unwrap().is_some(), "sent");
    assert!(store.media("u3").await.unwrap().is_some(), "newer than the cutoff");
}

#[tokio::test]
async fn the_first_signing_key_stored_is_the_one_every_caller_gets() {
    let store = fresh("signing_keys").await;
    assert_eq!(store.signing_key("media", "first", T0).await.unwrap(), "first");
    assert_eq!(store.signing_key("media", "second", T0 + 1).await.unwrap(), "first", "another node's key loses");
    assert_eq!(store.signing_key("other", "third", T0).await.unwrap(), "third", "keys are per name");
}
