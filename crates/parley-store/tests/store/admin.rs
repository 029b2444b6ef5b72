//! The setup document and API tokens.

use parley_store::StoreError;
use parley_store::admin::TokenRow;

use crate::support::{T0, fresh};

#[tokio::test]
async fn saving_the_setup_document_bumps_its_version() {
    let store = fresh("admin_setup_document").await;
    assert_eq!(store.setup_document().await.unwrap(), None, "a fresh database has no setup yet");

    assert_eq!(store.save_setup_document(r#"{"queues":["sales"]}"#, T0).await.unwrap(), 1);
    assert_eq!(store.setup_document().await.unwrap(), Some((1, r#"{"queues":["sales"]}"#.to_owned())));

    assert_eq!(store.save_setup_document(r#"{"queues":["sales","support"]}"#, T0 + 1).await.unwrap(), 2);
    assert_eq!(store.save_setup_document(r#"{"queues":[]}"#, T0 + 2).await.unwrap(), 3);
    assert_eq!(
        store.setup_document().await.unwrap(),
        Some((3, r#"{"queues":[]}"#.to_owned())),
        "the latest document wins"
    );
}

#[tokio::test]
async fn tokens_are_found_by_hash_and_unique() {
    let store = fresh("admin_tokens").await;
    store.insert_token("hash-admin", "admin", None, T0).await.unwrap();
    store.insert_token("hash-alice", "agent", Some("alice"), T0).await.unwrap();

    assert_eq!(store.token("hash-admin").await.unwrap(), Some(TokenRow { role: "admin".into(), agent: None }));
    assert_eq!(
        store.token("hash-alice").await.unwrap(),
        Some(TokenRow { role: "agent".into(), agent: Some("alice".into()) })
    );
    assert_eq!(store.token("hash-unknown").await.unwrap(), None);
    assert_eq!(store.token("HASH-ADMIN").await.unwrap(), None, "hashes match exactly");

    let err = store.insert_token("hash-alice", "admin", None, T0 + 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.token("hash-alice").await.unwrap(),
        Some(TokenRow { role: "agent".into(), agent: Some("alice".into()) }),
        "the first token is kept"
    );
}
