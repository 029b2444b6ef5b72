//! Which agent gets a waiting chat: only available agents of the chat's queue with room, the least
//! busy first, then the one who has waited longest for a chat; freed capacity is used at once.

use serde_json::json;

use crate::harness::{TestApp, standard_setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_idle_longest_gets_the_next_chat() {
    let app = TestApp::spawn().await;
    let mut setup = standard_setup();
    setup["agents"][1]["queues"] = json!(["tech", "billing"]);
    app.apply_setup(&setup).await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    alice.set_status("available").await;
    bob.set_status("available").await;

    // Each chat is answered and ended before the next arrives, so both agents are free every time and
    // only "who waited longest" decides: never-assigned bob must get the second chat.
    let mut offered_to = Vec::new();
    for i in 0..3 {
        let chat = app.phone(&format!("+14155550{}", 300 + i)).texts("billing").await.chat_id.expect("a chat");
        let agent = app.admin().chat(&chat).await.agent.expect("offered at once");
        let caller = if agent == "alice" { &alice } else { &bob };
        caller.accept(&chat).await;
        caller.end(&chat).await;
        offered_to.push(agent);
    }
    assert_eq!(offered_to, vec!["alice", "bob", "alice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_and_presence_decide_who_gets_offered() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let admin = app.admin();

    // Nobody available: the chat waits in the queue, even though alice serves it.
    let first = app.phone("+14155550310").texts("billing").await.chat_id.expect("a chat");
    assert_eq!(admin.chat(&first).await.status, "queued");
    // Alice comes in: the waiting chat is offered to her right away.
    alice.set_status("available").await;
    let offered = admin.chat(&first).await;
    assert_eq!((offered.status.as_str(), offered.agent.as_deref()), ("offered", Some("alice")));

    // Capacity 3: the fourth chat waits, oldest first, until one of hers ends.
    let mut chats = vec![first];
    for i in 1..4 {
        chats.push(app.phone(&format!("+1415555031{i}")).texts("billing").await.chat_id.expect("a chat"));
    }
    let mut statuses = Vec::new();
    for id in &chats {
        statuses.push(admin.chat(id).await.status);
    }
    assert_eq!(statuses, vec!["offered", "offered", "offered", "queued"]);
    alice.try_accept(&chats[3]).await.expect_error(409, "conflict");
    alice.end(&chats[1]).await;
    let next = admin.chat(&chats[3]).await;
    assert_eq!((next.status.as_str(), next.agent.as_deref()), ("offered", Some("alice")), "freed capacity is used");

    // Away: no new offers; connected chats stay hers, offers she has not accepted go back to the queue.
    alice.accept(&chats[0]).await;
    alice.set_status("away").await;
    let later = app.phone("+14155550319").texts("billing").await.chat_id.expect("a chat");
    assert_eq!(admin.chat(&later).await.status, "queued");
    let kept = admin.chat(&chats[0]).await;
    assert_eq!((kept.status.as_str(), kept.agent.as_deref()), ("connected", Some("alice")));
    for id in [&chats[2], &chats[3]] {
        let back = admin.chat(id).await;
        assert_eq!((back.status.as_str(), back.agent.as_deref()), ("queued", None), "an unaccepted offer is withdrawn");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_who_goes_offline_loses_their_offers_and_gets_no_new_chats() {
    let app = TestApp::spawn().await;
    let mut setup = standard_setup();
    setup["agents"][1]["queues"] = json!(["tech", "billing"]);
    app.apply_setup(&setup).await;
    let alice = app.agent(&app.agent_token("alice").await);
    let bob = app.agent(&app.agent_token("bob").await);
    bob.set_status("available").await;
    let chat = app.phone("+14155550190").texts("billing").await.chat_id.expect("a chat");
    assert_eq!(app.admin().chat(&chat).await.agent.as_deref(), Some("bob"));

    bob.set_status("offline").await;
    let me = app.request(reqwest::Method::GET, "/api/v1/me", Some(&bob.token), None).await.expect_status(200).body;
    assert_eq!((&me["status"], &me["queues"]), (&json!("offline"), &json!(["tech", "billing"])), "{me}");
    let withdrawn = app.admin().chat(&chat).await;
    assert_eq!((withdrawn.status.as_str(), withdrawn.agent.as_deref()), ("queued", None), "{withdrawn:?}");
    // The chat goes to alice when she comes; bob, offline, gets nothing new.
    alice.set_status("available").await;
    assert_eq!(app.admin().chat(&chat).await.agent.as_deref(), Some("alice"));
    let next = app.phone("+14155550191").texts("tech").await.chat_id.expect("a chat");
    assert_eq!(app.admin().chat(&next).await.status, "queued", "nobody available serves tech");
}
