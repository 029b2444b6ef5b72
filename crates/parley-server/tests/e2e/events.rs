//! `GET /api/v1/events`: an agent follows the chats of their queues live, and a client that reconnects
//! with `Last-Event-ID` gets exactly what it missed from the events table, then live events again.

use crate::harness::{EventStream, SseEvent, TestApp};

/// Delivery statuses arrive whenever the outbox gets to a message; the conversation's own events are
/// what this test follows.
/// Delivery receipts, and the chat's contact link that matching writes at its own pace beside the
/// conversation (tested in crm_matching.rs), come whenever they come: not part of the conversation.
fn of_conversation(e: &SseEvent) -> bool {
    e.kind != "message.status" && !e.kind.starts_with("contact.")
}

fn conversation(events: Vec<SseEvent>) -> Vec<SseEvent> {
    events.into_iter().filter(of_conversation).collect()
}

async fn next_of_conversation(stream: &mut EventStream) -> SseEvent {
    loop {
        let e = stream.next().await;
        if of_conversation(&e) {
            return e;
        }
    }
}

fn summary(events: &[SseEvent]) -> Vec<(i64, String, String)> {
    events
        .iter()
        .map(|e| {
            (e.id, e.kind.clone(), e.data["body"].as_str().or(e.data["agent"].as_str()).unwrap_or_default().to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sees_their_queues_live_and_resumes_without_loss_or_leaks() {
    let app = TestApp::with_standard_setup().await;
    let bob = app.agent(&app.agent_token("bob").await);
    bob.set_status("available").await;
    let mut live = app.events(&bob.token, None).await;

    // Two chats at once: one lands in bob's queue (tech), the other in billing, which he does not serve.
    let tech_phone = app.phone("+14155550160");
    let billing_phone = app.phone("+14155550161");
    let tech = tech_phone.texts("hi").await.chat_id.expect("a chat");
    let billing = billing_phone.texts("hi").await.chat_id.expect("a chat");
    billing_phone.texts("billing").await;
    tech_phone.texts("tech").await;
    bob.accept(&tech).await;
    billing_phone.texts("hello? anyone?").await;
    bob.say(&tech, "Bob here, how can I help?").await;
    tech_phone.texts("my modem is down").await;

    let events = conversation(live.until(|e| e.data["body"] == "my modem is down").await);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    // Before the consumer picked tech the chat had no queue, so bob saw nothing of it.
    assert_eq!(
        kinds,
        vec!["message", "chat.queued", "message", "chat.offered", "chat.connected", "message", "message", "message"],
        "{:#?}",
        summary(&events)
    );
    assert_eq!(events[0].data["body"], "tech");
    assert_eq!(events[0].data["direction"], "in");
    assert_eq!(events[3].data["agent"], "bob");
    assert_eq!(events[4].data["chat_status"], "connected", "the chat as the accept left it: {:?}", events[4]);
    assert_eq!(events[6].data["body"], "Bob here, how can I help?");
    assert_eq!(events[6].data["author"], "agent:bob");
    for e in &events {
        assert_eq!(e.data["chat_id"], tech.as_str(), "only bob's queue: {e:?}");
        assert_eq!(e.data["queue"], "tech", "{e:?}");
        assert_eq!(e.data["id"], e.id, "the data carries the event id: {e:?}");
        assert_eq!(e.data["kind"], e.kind.as_str(), "{e:?}");
    }
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids increase: {:#?}", summary(&events));

    // Reconnect after the first event: exactly the rest comes back from the table, in order.
    let after = events[0].id;
    let mut resumed = app.events(&bob.token, Some(after)).await;
    let mut replayed = Vec::new();
    for _ in 1..events.len() {
        replayed.push(next_of_conversation(&mut resumed).await);
    }
    assert_eq!(replayed, events[1..].to_vec(), "replayed: {:#?}", summary(&replayed));
    // `?after=` resumes the same way.
    let mut by_query = app.events_at(&format!("/api/v1/events?after={after}"), &bob.token, None).await;
    assert_eq!(next_of_conversation(&mut by_query).await, events[1]);

    // Then the resumed stream goes on live: the next event is the next one of bob's queue, with no
    // repeat from the catch-up and nothing of billing in between.
    billing_phone.texts("still waiting").await;
    tech_phone.texts("are you there?").await;
    let next = next_of_conversation(&mut resumed).await;
    assert_eq!((next.kind.as_str(), next.data["body"].as_str()), ("message", Some("are you there?")), "{next:?}");
    assert!(next.id > events.last().expect("events").id);

    // The admin's stream over the same range shows what bob's left out: the table holds billing
    // events in between, and bob's replay is exactly the tech ones.
    let mut all = app.events(&app.admin().token, Some(after)).await;
    let everything = all.until(|e| e.id == next.id).await;
    assert!(
        everything.iter().any(|e| e.data["chat_id"] == billing.as_str()),
        "billing events happened meanwhile: {:#?}",
        summary(&everything)
    );
    let techs: Vec<i64> =
        conversation(everything.clone()).iter().filter(|e| e.data["queue"] == "tech").map(|e| e.id).collect();
    let bobs: Vec<i64> = replayed.iter().map(|e| e.id).chain([next.id]).collect();
    assert_eq!(techs, bobs);
    assert!(everything.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_point_must_be_an_event_id() {
    let app = TestApp::with_standard_setup().await;
    let bob = app.agent_token("bob").await;
    app.refused_events(&bob, "yesterday").await.expect_error(400, "bad_request");
    app.refused_events(&bob, "").await.expect_error(400, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_their_messages_delivered() {
    let app = TestApp::with_standard_setup().await;
    let bob = app.agent(&app.agent_token("bob").await);
    bob.set_status("available").await;
    let mut live = app.events(&bob.token, None).await;
    let phone = app.phone("+14155550170");
    let chat = phone.texts("tech").await.chat_id.expect("a chat");
    bob.accept(&chat).await;
    let message_id = bob.say(&chat, "On it.").await;
    let events = live.until(|e| e.kind == "message.status" && e.data["message_id"] == message_id.as_str()).await;
    let status = events.last().expect("the status event");
    assert_eq!(status.data["status"], "delivered", "{status:?}");
    assert_eq!(status.data["chat_id"], chat.as_str());
    assert_eq!(status.data["queue"], "tech");
}
