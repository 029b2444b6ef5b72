//! Outbound rate limits: a number limited to one segment per second sends its second message only when
//! a second has passed on the server's clock, and the conversation's order holds. The clock is the
//! test's own, so nothing here depends on how fast the machine is.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_server::clock::Clock;
use serde_json::json;

use crate::harness::{TestApp, eventually};

#[tokio::test]
async fn a_limited_number_waits_for_its_rate_and_keeps_the_order() {
    let now = Arc::new(AtomicI64::new(1_800_000_000_000));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&json!({
        "numbers": [{"number": "+15550004000", "label": "Slow", "carrier": "sim", "queues": ["billing", "tech"],
                     "segments_per_second": 1}],
        "queues": [{"id": "billing", "name": "Billing", "keywords": ["1"]}, {"id": "tech", "name": "Tech", "keywords": ["2"]}],
    }))
    .await;
    let phone = app.phone("+14155550190").to("+15550004000");
    let chat = phone.texts("hi").await.chat_id.expect("a chat");

    // The opt-in notice takes the second's only token; the menu waits for the next one.
    let waiting = eventually("the menu to wait for the rate limit", || async {
        let t = app.admin().transcript(&chat).await;
        let out: Vec<(String, String, Option<String>)> = t
            .messages
            .iter()
            .filter(|m| m.direction == "out")
            .map(|m| (m.status.clone(), m.body.chars().take(12).collect(), m.error.clone()))
            .collect();
        match out.as_slice() {
            [(first, _, _), (second, _, Some(reason))]
                if first == "delivered" && second == "queued" && reason == "rate limit" =>
            {
                Ok(out)
            }
            _ => Err(format!("{out:?}")),
        }
    })
    .await;
    assert_eq!(waiting.len(), 2);
    // While the clock stands still the menu stays put: the phone has the notice only.
    let inbox = phone.inbox().await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(inbox[0].body.contains("Thanks for texting us"), "{inbox:?}");

    now.fetch_add(1000, Ordering::SeqCst);
    let inbox = phone.receives(2).await;
    assert!(inbox[1].body.starts_with("How can we help?"), "in order: {inbox:?}");
    let t = app.admin().transcript(&chat).await;
    assert!(t.messages.iter().filter(|m| m.direction == "out").all(|m| m.status == "delivered"), "{t:#?}");
}
