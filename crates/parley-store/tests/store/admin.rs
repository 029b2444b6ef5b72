//! The setup document, API keys, the account SID and idempotency records.

use parley_store::StoreError;
use parley_store::batch::Batch;
use parley_store::keys::{IdempotencyClaim, NewKey};

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

fn key(id: &str, hash: &str, role: &str, agent: Option<&str>, scopes: Option<&[&str]>) -> NewKey {
    NewKey {
        id: id.into(),
        hash: hash.into(),
        name: format!("{id} key"),
        role: role.into(),
        agent: agent.map(str::to_owned),
        scopes: scopes.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
        expires_at: None,
        rate_per_second: None,
    }
}

#[tokio::test]
async fn keys_are_found_by_hash_and_id_listed_and_deleted() {
    let store = fresh("keys_by_hash").await;
    store.insert_key(&key("SKadmin", "hash-admin", "admin", None, None), T0).await.unwrap();
    store
        .insert_key(&key("SKorders", "hash-orders", "admin", None, Some(&["sms:send", "chats:read"])), T0 + 1)
        .await
        .unwrap();
    store.insert_key(&key("SKalice", "hash-alice", "agent", Some("alice"), None), T0 + 2).await.unwrap();

    let admin = store.key_by_hash("hash-admin").await.unwrap().unwrap();
    assert_eq!((admin.id.as_str(), admin.role.as_str(), admin.scopes.as_ref()), ("SKadmin", "admin", None));
    let orders = store.key_by_hash("hash-orders").await.unwrap().unwrap();
    assert_eq!(orders.scopes, Some(vec!["sms:send".to_owned(), "chats:read".to_owned()]), "scopes keep their order");
    assert_eq!(store.key_by_hash("HASH-ADMIN").await.unwrap(), None, "hashes match exactly");
    let (alice, hash) = store.key_by_id("SKalice").await.unwrap().unwrap();
    assert_eq!((alice.agent.as_deref(), hash.as_str()), (Some("alice"), "hash-alice"));

    let err = store.insert_key(&key("SKother", "hash-alice", "admin", None, None), T0 + 3).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "a token hash is unique: {err:?}");
    let err = store.insert_key(&key("SKalice", "hash-new", "admin", None, None), T0 + 3).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "a key id is unique: {err:?}");

    store.touch_key("SKorders", T0 + 10).await.unwrap();
    let listed = store.keys().await.unwrap();
    assert_eq!(listed.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["SKadmin", "SKorders", "SKalice"]);
    assert_eq!(listed[1].last_used_at, Some(T0 + 10));

    assert!(store.delete_key("SKorders").await.unwrap());
    assert!(!store.delete_key("SKorders").await.unwrap(), "deleting twice finds nothing the second time");
    assert_eq!(store.key_by_hash("hash-orders").await.unwrap(), None, "a revoked key is gone at once");
}

#[tokio::test]
async fn the_deployment_has_one_account_sid() {
    let store = fresh("keys_account_sid").await;
    let sid = store.account_sid().await.unwrap();
    assert!(sid.starts_with("AC") && sid.len() == 34 && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()), "{sid}");
    assert_eq!(store.account_sid().await.unwrap(), sid, "the SID is made once");
}

#[tokio::test]
async fn an_idempotency_key_runs_once_replays_its_answer_and_refuses_another_request() {
    let store = fresh("keys_idempotency").await;
    let claim = |key: &'static str, hash: &'static str, now: i64| {
        let store = store.clone();
        async move { store.claim_idempotency("SKa", key, hash, now, 30_000, now - 86_400_000).await.unwrap() }
    };
    assert_eq!(claim("k1", "h1", T0).await, IdempotencyClaim::Run);
    assert_eq!(claim("k1", "h1", T0 + 1).await, IdempotencyClaim::InProgress, "a live claim is not run twice");
    assert_eq!(claim("k1", "h2", T0 + 1).await, IdempotencyClaim::Mismatch);
    store.finish_idempotency("SKa", "k1", 201, Some("application/json"), b"{\"id\":1}").await.unwrap();
    assert_eq!(
        claim("k1", "h1", T0 + 2).await,
        IdempotencyClaim::Replay {
            status: 201,
            content_type: Some("application/json".into()),
            body: b"{\"id\":1}".to_vec()
        }
    );
    assert_eq!(claim("k1", "h2", T0 + 2).await, IdempotencyClaim::Mismatch);
    // Another caller's key of the same name is another record.
    assert_eq!(
        store.claim_idempotency("SKb", "k1", "h2", T0 + 2, 30_000, T0 - 86_400_000).await.unwrap(),
        IdempotencyClaim::Run
    );

    // An abandoned claim (its node stopped) is taken over once its lease ran out; a released one at once.
    assert_eq!(claim("k2", "h1", T0).await, IdempotencyClaim::Run);
    assert_eq!(claim("k2", "h1", T0 + 29_999).await, IdempotencyClaim::InProgress);
    assert_eq!(claim("k2", "h1", T0 + 30_000).await, IdempotencyClaim::Run);
    store.release_idempotency("SKa", "k2").await.unwrap();
    assert_eq!(claim("k2", "h1", T0 + 30_001).await, IdempotencyClaim::Run);

    // A claim whose request was carried out (its engine batch marked it committed) is never run again,
    // even once its lease ran out: its answer was lost, not its effect.
    assert_eq!(claim("k3", "h1", T0).await, IdempotencyClaim::Run);
    let batch = Batch { idempotent_requests: vec![("SKa".into(), "k3".into())], ..Batch::default() };
    store.commit_batch(&batch).await.unwrap();
    assert_eq!(claim("k3", "h1", T0 + 60_000).await, IdempotencyClaim::AnswerLost);
    assert_eq!(claim("k3", "h2", T0 + 60_000).await, IdempotencyClaim::Mismatch);
    store.release_idempotency("SKa", "k3").await.unwrap();
    assert_eq!(claim("k3", "h1", T0 + 60_001).await, IdempotencyClaim::AnswerLost, "release frees pending claims only");
    store.finish_idempotency("SKa", "k3", 201, None, b"late").await.unwrap();
    assert_eq!(
        claim("k3", "h1", T0 + 60_002).await,
        IdempotencyClaim::Replay { status: 201, content_type: None, body: b"late".to_vec() }
    );

    // After 24 hours a key is new again, whatever the request.
    assert_eq!(claim("k1", "h3", T0 + 86_400_001).await, IdempotencyClaim::Run);
    assert_eq!(
        store.purge_idempotency(T0 + 30_002).await.unwrap(),
        3,
        "SKb's k1, k3 (made at T0) and the k2 claimed anew at T0 + 30 001 are purged; SKa's k1, new again, is kept"
    );
}
