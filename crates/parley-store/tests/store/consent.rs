//! Consent state and its ledger.

use parley_store::batch::Batch;
use parley_store::rows::ConsentEntry;

use crate::support::{ANN, BOB, CAT, OTHER_BUSINESS, T0, consent, fresh, ledger, sorted_by};

#[tokio::test]
async fn consents_and_the_ledger_round_trip() {
    let store = fresh("consent_round_trip").await;
    assert!(store.consents(&[ANN.into()]).await.unwrap().is_empty(), "a phone never seen has no row");
    assert!(store.consent_ledger(ANN).await.unwrap().is_empty());

    let first = Batch {
        consents: vec![consent(ANN, false, true, T0), consent(BOB, true, true, T0)],
        ledger: vec![
            ledger(ANN, "notice_sent", None, T0),
            ledger(BOB, "notice_sent", None, T0),
            ledger(BOB, "opted_out", Some("STOP"), T0),
        ],
        ..Batch::default()
    };
    store.commit_batch(&first).await.unwrap();
    let phones = [ANN.to_owned(), BOB.to_owned(), CAT.to_owned()];
    assert_eq!(sorted_by(&store.consents(&phones).await.unwrap(), |c| c.phone.clone()), first.consents);

    let api_change =
        ConsentEntry { source: "api".into(), number: OTHER_BUSINESS.into(), ..ledger(ANN, "opted_out", None, T0 + 5) };
    let second = Batch {
        consents: vec![consent(ANN, true, true, T0 + 5), consent(BOB, false, true, T0 + 6)],
        ledger: vec![api_change.clone(), ledger(BOB, "opted_in", Some("START"), T0 + 6)],
        ..Batch::default()
    };
    store.commit_batch(&second).await.unwrap();

    assert_eq!(
        sorted_by(&store.consents(&phones).await.unwrap(), |c| c.phone.clone()),
        second.consents,
        "the latest state wins"
    );
    assert_eq!(store.consents(&[BOB.into()]).await.unwrap(), [consent(BOB, false, true, T0 + 6)]);
    assert_eq!(store.consent_ledger(ANN).await.unwrap(), [ledger(ANN, "notice_sent", None, T0), api_change]);
    assert_eq!(
        store.consent_ledger(BOB).await.unwrap(),
        [
            ledger(BOB, "notice_sent", None, T0),
            ledger(BOB, "opted_out", Some("STOP"), T0),
            ledger(BOB, "opted_in", Some("START"), T0 + 6)
        ],
        "oldest first, entries with equal times in insertion order"
    );
    assert!(store.consent_ledger(CAT).await.unwrap().is_empty());
}
