//! The simulator's phones.

use parley_store::batch::Batch;
use parley_store::rows::SimRow;

use crate::support::{ANN, BOB, T0, fresh, sim_mo, sim_mt};

fn bodies(rows: &[SimRow]) -> Vec<&str> {
    rows.iter().map(|r| r.body.as_str()).collect()
}

#[tokio::test]
async fn sim_deliver_is_idempotent_by_message_id() {
    let store = fresh("sim_deliver_idempotent").await;
    let deliveries = [sim_mt(ANN, "o-1", "one", T0), sim_mt(ANN, "o-2", "two", T0 + 1)];
    store.sim_deliver(&deliveries).await.unwrap();
    store.sim_deliver(&deliveries).await.unwrap();
    let thread = store.sim_thread(ANN, 0).await.unwrap();
    assert_eq!(bodies(&thread), ["one", "two"], "a repeated delivery shows up once");
    for (stored, written) in thread.iter().zip(&deliveries) {
        assert_eq!(*stored, SimRow { seq: stored.seq, ..written.clone() });
    }

    // A repeat mixed with a new delivery adds only the new one; a repeat within one call counts once.
    store.sim_deliver(&[sim_mt(ANN, "o-2", "two again", T0 + 2), sim_mt(ANN, "o-3", "three", T0 + 3)]).await.unwrap();
    store.sim_deliver(&[sim_mt(ANN, "o-4", "four", T0 + 4), sim_mt(ANN, "o-4", "four", T0 + 4)]).await.unwrap();
    assert_eq!(bodies(&store.sim_thread(ANN, 0).await.unwrap()), ["one", "two", "three", "four"]);
    store.sim_deliver(&[]).await.unwrap();

    // What phones send carries no message id, so identical texts are all kept.
    let sent = Batch { sim: vec![sim_mo(ANN, "hi", T0 + 5), sim_mo(ANN, "hi", T0 + 5)], ..Batch::default() };
    store.commit_batch(&sent).await.unwrap();
    assert_eq!(bodies(&store.sim_thread(ANN, 0).await.unwrap()), ["one", "two", "three", "four", "hi", "hi"]);
}

#[tokio::test]
async fn sim_thread_is_per_phone_and_resumes_after_a_seq() {
    let store = fresh("sim_thread_after").await;
    store
        .commit_batch(&Batch { sim: vec![sim_mo(ANN, "a1", T0), sim_mo(BOB, "b1", T0)], ..Batch::default() })
        .await
        .unwrap();
    store.sim_deliver(&[sim_mt(ANN, "o-1", "a2", T0 + 1), sim_mt(BOB, "o-2", "b2", T0 + 1)]).await.unwrap();
    store.commit_batch(&Batch { sim: vec![sim_mo(ANN, "a3", T0 + 2)], ..Batch::default() }).await.unwrap();

    let ann = store.sim_thread(ANN, 0).await.unwrap();
    assert_eq!(bodies(&ann), ["a1", "a2", "a3"]);
    assert_eq!(ann.iter().map(|r| r.direction.as_str()).collect::<Vec<_>>(), ["mo", "mt", "mo"]);
    assert!(ann.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(bodies(&store.sim_thread(BOB, 0).await.unwrap()), ["b1", "b2"]);

    assert_eq!(bodies(&store.sim_thread(ANN, ann[0].seq).await.unwrap()), ["a2", "a3"]);
    assert_eq!(bodies(&store.sim_thread(ANN, ann[1].seq).await.unwrap()), ["a3"]);
    assert!(store.sim_thread(ANN, ann[2].seq).await.unwrap().is_empty());
    assert!(store.sim_thread("+15559999", 0).await.unwrap().is_empty());

    // Deliveries larger than one statement are split without losing or repeating anything.
    let many: Vec<SimRow> =
        (0..450).map(|i| sim_mt(BOB, &format!("bulk-{i}"), &format!("n{i}"), T0 + 10 + i)).collect();
    store.sim_deliver(&many).await.unwrap();
    store.sim_deliver(&many).await.unwrap();
    let bob = store.sim_thread(BOB, 0).await.unwrap();
    assert_eq!(bob.len(), 2 + 450);
    assert_eq!(bob.last().unwrap().body, "n449");
}
