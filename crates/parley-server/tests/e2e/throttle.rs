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

#[tokio::test]
async fn numbers_of_one_campaign_share_its_limit() {
    let now = Arc::new(AtomicI64::new(1_800_000_000_000));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&json!({
        "numbers": [
            {"number": "+15550006000", "carrier": "sim", "queues": ["billing"], "campaign": "care"},
            {"number": "+15550007000", "carrier": "sim", "queues": ["billing"], "campaign": "care"}
        ],
        "queues": [{"id": "billing", "name": "Billing"}],
        "campaigns": [{"id": "care", "name": "Customer care", "segments_per_second": 1}],
    }))
    .await;
    let exported = app.setup().await;
    assert_eq!(exported["numbers"][1]["campaign"], "care");
    assert_eq!(exported["campaigns"][0]["segments_per_second"], 1.0);
    let first = app.phone("+14155550191").to("+15550006000");
    let second = app.phone("+14155550192").to("+15550007000");
    first.texts("hi").await;
    second.texts("hi").await;

    // Each text is answered with the opt-in notice and a queue message: four messages, one token a
    // second for the whole campaign, whichever number sends.
    let delivered = || async {
        let mut inboxes = first.inbox().await;
        inboxes.extend(second.inbox().await);
        inboxes.len()
    };
    for expected in 1..=4 {
        eventually("the next message the campaign's rate allows", || async {
            let n = delivered().await;
            if n == expected { Ok(()) } else { Err(format!("{n} delivered, want {expected}")) }
        })
        .await;
        let t = app.admin().all_chats().await;
        assert_eq!(t.len(), 2);
        now.fetch_add(1000, Ordering::SeqCst);
    }
    assert_eq!(first.inbox().await.len(), 2);
    assert_eq!(second.inbox().await.len(), 2);
}
