//! Claims with leases, as two nodes see them: two `Store`s (two pools, as two processes would have) on
//! one database. For each kind of claim (timer ticks, media downloads, named leases): two claimers
//! never get the same row, a lease that ran out is claimed again, and work that was done is never
//! claimed again.

use std::collections::BTreeSet;

use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::claims::{TimerClaim, TimerOutcomes};
use parley_store::media::MediaResult;
use parley_store::rows::{ChatRow, MediaRow, MediaStatus};
use parley_store::testing::fresh_database_url;
use tempfile::TempDir;

use crate::support::*;

const LEASE: i64 = 30_000;

/// Two nodes on one fresh, migrated database. The directory holds the SQLite file.
async fn two_nodes(unique: &str) -> (TempDir, Store, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path(), unique).await.unwrap();
    let a = Store::connect(&url).await.unwrap();
    a.migrate().await.unwrap();
    let b = Store::connect(&url).await.unwrap();
    (dir, a, b)
}

/// A live chat whose next deadline is `due_at`.
fn due(id: &str, consumer: &str, due_at: i64) -> ChatRow {
    ChatRow { due_at: Some(due_at), ..chat(id, consumer) }
}

fn media(id: &str, at: i64) -> MediaRow {
    MediaRow {
        id: id.to_owned(),
        message_id: Some("m-1".to_owned()),
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

fn chat_ids(claims: &[TimerClaim]) -> Vec<&str> {
    claims.iter().map(|c| c.chat_id.as_str()).collect()
}

fn handled(claims: &[TimerClaim]) -> TimerOutcomes {
    TimerOutcomes { handled: claims.to_vec(), ..TimerOutcomes::default() }
}

#[tokio::test]
async fn two_timer_claimers_never_tick_the_same_chat() {
    let (_dir, a, b) = two_nodes("claims_timers_two_claimers").await;
    let chats: Vec<ChatRow> =
        (0..20).map(|i| due(&format!("c{i:02}"), &format!("+155502000{i:02}"), T0 - 1000 + i)).collect();
    a.commit_batch(&Batch { chats, ..Batch::default() }).await.unwrap();

    // One claimer takes the most overdue first; the other gets what is left, not the same chats.
    let first = a.claim_due_chats(T0, LEASE, 3).await.unwrap();
    assert_eq!(chat_ids(&first), ["c00", "c01", "c02"]);
    assert_eq!(first[0].due_at, T0 - 1000);

    // The rest, claimed by both nodes at the same moment: each chat goes to exactly one of them.
    let (x, y) = tokio::join!(a.claim_due_chats(T0, LEASE, 10), b.claim_due_chats(T0, LEASE, 10));
    let (x, y) = (x.unwrap(), y.unwrap());
    let xs: BTreeSet<&str> = chat_ids(&x).into_iter().collect();
    let ys: BTreeSet<&str> = chat_ids(&y).into_iter().collect();
    assert!(xs.is_disjoint(&ys), "both claimed {:?}", xs.intersection(&ys).collect::<Vec<_>>());
    let mut all: BTreeSet<&str> = chat_ids(&first).into_iter().collect();
    all.extend(xs);
    all.extend(ys);
    assert_eq!(all.len(), 20, "every due chat claimed once: {all:?}");
    assert!(a.claim_due_chats(T0 + 1, LEASE, 100).await.unwrap().is_empty(), "all leased");
    assert!(b.claim_due_chats(T0 + 1, LEASE, 100).await.unwrap().is_empty(), "all leased");
}

#[tokio::test]
async fn a_timer_claim_whose_lease_ran_out_is_taken_over() {
    let (_dir, a, b) = two_nodes("claims_timers_lease_runs_out").await;
    a.commit_batch(&Batch { chats: vec![due("c1", ANN, T0), due("later", BOB, T0 + 5000)], ..Batch::default() })
        .await
        .unwrap();
    // Node a claims and dies before it ticks.
    assert_eq!(chat_ids(&a.claim_due_chats(T0, LEASE, 10).await.unwrap()), ["c1"], "only what is due");
    assert!(b.claim_due_chats(T0 + LEASE - 1, LEASE, 10).await.unwrap().iter().all(|c| c.chat_id != "c1"));
    let taken = b.claim_due_chats(T0 + LEASE, LEASE, 10).await.unwrap();
    assert!(taken.contains(&TimerClaim { chat_id: "c1".into(), due_at: T0 }), "{taken:?}");
}

#[tokio::test]
async fn a_handled_deadline_is_never_claimed_again_but_the_next_one_is() {
    let (_dir, a, b) = two_nodes("claims_timers_handled").await;
    a.commit_batch(&Batch { chats: vec![due("c1", ANN, T0), due("c2", BOB, T0)], ..Batch::default() }).await.unwrap();
    let claims = a.claim_due_chats(T0, LEASE, 10).await.unwrap();
    assert_eq!(chat_ids(&claims), ["c1", "c2"]);
    // c1 was ticked; c2's tick failed and may be tried again from T0 + 1000.
    a.finish_timer_claims(&TimerOutcomes {
        handled: vec![claims[0].clone()],
        retry: vec![claims[1].clone()],
        retry_at: T0 + 1000,
    })
    .await
    .unwrap();
    assert!(b.claim_due_chats(T0 + 999, LEASE, 10).await.unwrap().is_empty(), "c2 waits for its retry");
    assert_eq!(chat_ids(&b.claim_due_chats(T0 + 1000, LEASE, 10).await.unwrap()), ["c2"]);
    // Even long after every lease, the handled deadline stays handled (here the chat still shows it,
    // as when the engine has not committed the tick's result yet).
    let later = b.claim_due_chats(T0 + 86_400_000, LEASE, 10).await.unwrap();
    assert_eq!(chat_ids(&later), ["c2"], "c1 handled; c2's second lease ran out");

    // The chat's next deadline is a claim of its own; an ended chat is never claimed.
    a.commit_batch(&Batch {
        chats: vec![due("c1", ANN, T0 + 60_000), finished(due("c2", BOB, T0), T0 + 10)],
        ..Batch::default()
    })
    .await
    .unwrap();
    assert!(a.claim_due_chats(T0 + 59_999, LEASE, 10).await.unwrap().is_empty(), "not due yet");
    let next = b.claim_due_chats(T0 + 60_000, LEASE, 10).await.unwrap();
    assert_eq!(next, [TimerClaim { chat_id: "c1".into(), due_at: T0 + 60_000 }]);
    b.finish_timer_claims(&handled(&next)).await.unwrap();
    assert!(a.claim_due_chats(T0 + 86_400_000 * 2, LEASE, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn two_media_claimers_never_download_the_same_media() {
    let (_dir, a, b) = two_nodes("claims_media_two_claimers").await;
    let items: Vec<MediaRow> = (0..12).map(|i| media(&format!("x{i:02}"), T0 + i)).collect();
    a.commit_batch(&Batch {
        chats: vec![chat("chat-1", ANN)],
        messages: vec![inbound("m-1", "chat-1", "p-1")],
        media: items,
        ..Batch::default()
    })
    .await
    .unwrap();
    let (x, y) = tokio::join!(a.claim_media_downloads(T0, LEASE, 8), b.claim_media_downloads(T0, LEASE, 8));
    let (x, y) = (x.unwrap(), y.unwrap());
    let xs: BTreeSet<&str> = x.iter().map(|c| c.media.id.as_str()).collect();
    let ys: BTreeSet<&str> = y.iter().map(|c| c.media.id.as_str()).collect();
    assert!(xs.is_disjoint(&ys), "both claimed {:?}", xs.intersection(&ys).collect::<Vec<_>>());
    assert_eq!(xs.len() + ys.len(), 12, "a: {xs:?}, b: {ys:?}");
    assert!(b.claim_media_downloads(T0 + LEASE - 1, LEASE, 20).await.unwrap().is_empty(), "all leased");
}

#[tokio::test]
async fn a_media_claim_taken_over_after_its_lease_drops_the_late_download() {
    let (_dir, a, b) = two_nodes("claims_media_taken_over").await;
    a.commit_batch(&Batch {
        chats: vec![chat("chat-1", ANN)],
        messages: vec![inbound("m-1", "chat-1", "p-1")],
        media: vec![media("x", T0)],
        ..Batch::default()
    })
    .await
    .unwrap();
    // Node a claims and stalls past its lease; node b takes the download over and stores it.
    let stalled = a.claim_media_downloads(T0, LEASE, 10).await.unwrap().remove(0);
    let taken = b.claim_media_downloads(T0 + LEASE, LEASE, 10).await.unwrap().remove(0);
    assert_eq!((taken.media.id.as_str(), taken.media.attempts), ("x", 2));
    assert!(taken.claimed_until > stalled.claimed_until, "a newer claim ends later");
    let bytes = vec![1, 2, 3];
    let stored = MediaResult::Stored { content_type: "image/png".into(), data: bytes.clone() };
    assert!(b.finish_media_download(&taken, &stored, T0 + LEASE + 5).await.unwrap());
    // a's answer comes late: it is dropped, whatever it says, and b's download stays.
    let late = MediaResult::Failed { error: "timed out".into() };
    assert!(!a.finish_media_download(&stalled, &late, T0 + LEASE + 6).await.unwrap());
    let (row, data) = a.media("x").await.unwrap().expect("kept");
    assert_eq!((row.status, row.content_type.as_str(), data), (MediaStatus::Stored, "image/png", bytes));
    // Stored media is never claimed again.
    assert!(a.claim_media_downloads(T0 + 10 * LEASE, LEASE, 10).await.unwrap().is_empty());
    assert!(b.claim_media_downloads(T0 + 10 * LEASE, LEASE, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_media_claim_that_ran_out_unclaimed_still_takes_its_result() {
    let (_dir, a, b) = two_nodes("claims_media_slow_but_alone").await;
    a.commit_batch(&Batch {
        chats: vec![chat("chat-1", ANN)],
        messages: vec![inbound("m-1", "chat-1", "p-1")],
        media: vec![media("x", T0)],
        ..Batch::default()
    })
    .await
    .unwrap();
    let slow = a.claim_media_downloads(T0, LEASE, 10).await.unwrap().remove(0);
    // Nobody took it over, so the download that came after the lease still counts.
    let retry = MediaResult::Retry { retry_at: T0 + 2 * LEASE, error: "502".into() };
    assert!(a.finish_media_download(&slow, &retry, T0 + LEASE + 1).await.unwrap());
    assert!(b.claim_media_downloads(T0 + 2 * LEASE - 1, LEASE, 10).await.unwrap().is_empty(), "retry not due");
    assert_eq!(b.claim_media_downloads(T0 + 2 * LEASE, LEASE, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_named_lease_has_one_holder_until_it_runs_out_or_is_given_back() {
    let (_dir, a, b) = two_nodes("claims_named_lease").await;
    // Both nodes ask at the same moment: exactly one gets it.
    let (x, y) =
        tokio::join!(a.take_lease("retention", "node-a", T0, LEASE), b.take_lease("retention", "node-b", T0, LEASE));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert!(x ^ y, "exactly one holder: a {x}, b {y}");
    let (holder, other, holder_store, other_store) =
        if x { ("node-a", "node-b", &a, &b) } else { ("node-b", "node-a", &b, &a) };
    assert_eq!(a.leases_held("ret", T0).await.unwrap(), [("retention".to_owned(), holder.to_owned())]);

    // The holder renews; the other waits until the renewed lease runs out.
    assert!(holder_store.take_lease("retention", holder, T0 + 10_000, LEASE).await.unwrap());
    assert!(!other_store.take_lease("retention", other, T0 + LEASE, LEASE).await.unwrap(), "renewed");
    assert!(other_store.take_lease("retention", other, T0 + 10_000 + LEASE, LEASE).await.unwrap(), "ran out");
    assert!(!holder_store.take_lease("retention", holder, T0 + 10_001 + LEASE, LEASE).await.unwrap(), "taken over");

    // Giving back only works for the holder, and frees the lease at once.
    holder_store.release_lease("retention", holder).await.unwrap();
    assert!(!holder_store.take_lease("retention", holder, T0 + 10_002 + LEASE, LEASE).await.unwrap());
    other_store.release_lease("retention", other).await.unwrap();
    assert!(a.leases_held("retention", T0 + 10_003 + LEASE).await.unwrap().is_empty());
    assert!(holder_store.take_lease("retention", holder, T0 + 10_003 + LEASE, LEASE).await.unwrap());
    // Other names are other leases.
    assert!(other_store.take_lease("smpp:acme:0", other, T0 + 10_003 + LEASE, LEASE).await.unwrap());
    assert_eq!(a.leases_held("smpp:", T0 + 10_004 + LEASE).await.unwrap().len(), 1);
}
