//! `GET /api/v1/queues/{id}/ewt`: the estimated wait follows the queue's live figures (docs/ewt.md):
//! nobody available, then an agent with free slots, each answer naming the rule and the inputs.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{ADMIN, SUPPORT, TestApp, eventually};

async fn ewt(app: &TestApp, token: &str, query: &str) -> crate::harness::Reply {
    app.request(Method::GET, &format!("/api/v1/queues/billing/ewt{query}"), Some(token), None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ewt_an_sms_queues_estimated_wait_follows_its_agents_and_their_chats() {
    let app = TestApp::with_standard_setup().await;
    let empty = ewt(&app, ADMIN, "").await.expect_status(200).body;
    assert_eq!((empty["rule"].as_str(), empty["inputs"]["position"].as_u64()), (Some("nobody_staffs"), Some(1)));
    assert_eq!(empty["seconds"], 300, "one place as one slot, five minutes without history");

    // A consumer waits in billing while nobody is there.
    app.phone("+14155550801").to(SUPPORT).texts("hello").await;
    app.phone("+14155550801").to(SUPPORT).texts("1").await;
    let waiting = eventually("one chat waiting", || async {
        let body = ewt(&app, ADMIN, "").await.expect_status(200).body;
        if body["inputs"]["waiting"] == 1 { Ok(body) } else { Err(body.to_string()) }
    })
    .await;
    assert_eq!((waiting["inputs"]["position"].as_u64(), waiting["seconds"].as_u64()), (Some(2), Some(600)));

    // Alice (three slots) comes: the waiting chat is offered to her, and the next consumer has a free slot.
    let alice = app.agent_token("alice").await;
    app.agent(&alice).set_status("available").await;
    let staffed: Value = eventually("alice staffing billing", || async {
        let body = ewt(&app, &alice, "").await.expect_status(200).body;
        if body["inputs"]["waiting"] == 0 && body["inputs"]["agents"] == 1 { Ok(body) } else { Err(body.to_string()) }
    })
    .await;
    assert_eq!(staffed["inputs"]["slots"], 3);
    assert_eq!(staffed["inputs"]["free_slots"], 2, "one slot holds the offered chat");
    assert_eq!((staffed["rule"].as_str(), staffed["seconds"].as_u64()), (Some("free_slot"), Some(0)));
    assert_eq!(staffed["minutes"], 1, "the waiting message never says less than a minute");
    // Further down the line: 5th, 2 free, 3 slots: 3 chats must end, 300 s each over 3 slots.
    let later = ewt(&app, &alice, "?position=5").await.expect_status(200).body;
    assert_eq!((later["rule"].as_str(), later["seconds"].as_u64()), (Some("queue"), Some(300)));
    assert_eq!(later["naive_seconds"], 1500, "the naive estimate counts alice as one chat at a time");

    ewt(&app, ADMIN, "?position=0").await.expect_error(422, "validation_failed");
    app.request(Method::GET, "/api/v1/queues/nope/ewt", Some(ADMIN), None).await.expect_error(404, "not_found");
    let bob = app.agent_token("bob").await;
    ewt(&app, &bob, "").await.expect_error(403, "forbidden");
}
