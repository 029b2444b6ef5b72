//! Number registration states: the newest row is the state, the rows are the history.

use parley_store::numbers::NumberStateRow;

use crate::support::*;

fn state(number: &str, state: &str, at: i64) -> NumberStateRow {
    NumberStateRow {
        number: number.to_owned(),
        state: state.to_owned(),
        reason: Some(format!("why {state}")),
        actor: "admin".to_owned(),
        at,
    }
}

#[tokio::test]
async fn the_newest_state_counts_and_the_history_keeps_every_step() {
    let store = fresh("number_states").await;
    let (a, b) = ("+15550001000".to_owned(), "+15550002000".to_owned());
    assert!(store.number_states(std::slice::from_ref(&a)).await.unwrap().is_empty());
    for (i, s) in ["requested", "in_review", "enabled"].iter().enumerate() {
        store.set_number_state(&state(&a, s, T0 + i as i64), None).await.unwrap();
    }
    store.set_number_state(&state(&b, "suspended", T0), None).await.unwrap();
    let mut current = store.number_states(&[a.clone(), b.clone(), "+15550009999".to_owned()]).await.unwrap();
    current.sort_by(|x, y| x.number.cmp(&y.number));
    assert_eq!(
        current.iter().map(|r| (r.number.as_str(), r.state.as_str())).collect::<Vec<_>>(),
        [(a.as_str(), "enabled"), (b.as_str(), "suspended")]
    );
    let history = store.number_state_history(&a).await.unwrap();
    assert_eq!(history.iter().map(|r| r.state.as_str()).collect::<Vec<_>>(), ["requested", "in_review", "enabled"]);
    assert_eq!(history[2].reason.as_deref(), Some("why enabled"));
}
