//! A chat from the consumer's first text to the closing message, as the consumer, the agent and the
//! transcript see it.

use chrono::DateTime;

use crate::harness::{SALES, SUPPORT, SUPPORT_MENU, TestApp, bodies, standard_setup};

const PHONE: &str = "+14155550100";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_goes_from_the_first_text_to_the_closing_message() {
    let app = TestApp::spawn().await;
    let stored = app.apply_setup(&standard_setup()).await;
    assert_eq!(app.setup().await, stored, "GET /api/v1/setup answers the document PUT stored");
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = app.phone(PHONE);

    // First contact: the opt-in notice, then the menu.
    let hi = phone.texts("hi").await;
    let chat_id = hi.chat_id.clone().expect("the first text opens a chat");
    let inbox = phone.receives(2).await;
    let notice = &inbox[0].body;
    for needed in ["Acme", "recurring", "rates may apply", "HELP", "STOP"] {
        assert!(notice.contains(needed), "the opt-in notice lacks {needed:?}: {notice}");
    }
    assert_eq!(inbox[1].body, SUPPORT_MENU);
    for m in &inbox {
        assert_eq!((m.from.as_str(), m.to.as_str()), (SUPPORT, PHONE), "{m:?}");
        assert!(m.media.is_empty() && DateTime::parse_from_rfc3339(&m.at).is_ok(), "{m:?}");
    }
    assert!(inbox[0].seq < inbox[1].seq);

    // The answer picks the queue whatever its case, spaces and punctuation.
    let answer = phone.texts(" billing! ").await;
    assert_eq!(answer.chat_id.as_deref(), Some(chat_id.as_str()), "the answer joins the open chat");
    let inbox = phone.receives(3).await;
    assert!(inbox[2].body.contains("Billing queue"), "the queued message names the queue: {}", inbox[2].body);

    // Alice is available and serves billing: the chat is offered to her.
    let ongoing = alice.chats("ongoing").await;
    let offered = ongoing.iter().find(|c| c.id == chat_id).expect("the chat is in alice's ongoing list");
    assert_eq!(offered.status, "offered");
    assert_eq!(offered.agent.as_deref(), Some("alice"));
    assert_eq!(offered.queue.as_deref(), Some("billing"));
    assert_eq!((offered.number.as_str(), offered.consumer.as_str()), (SUPPORT, PHONE));
    assert!(offered.queued_at.is_some() && offered.ended_at.is_none(), "{offered:?}");
    assert!(DateTime::parse_from_rfc3339(&offered.opened_at).is_ok(), "{offered:?}");
    assert!(alice.chats("upcoming").await.iter().all(|c| c.id != chat_id), "an offered chat is not upcoming");

    let connected = alice.accept(&chat_id).await;
    assert_eq!(connected.status, "connected");
    assert_eq!(alice.accept(&chat_id).await.status, "connected", "accepting twice is harmless");
    let inbox = phone.receives(4).await;
    assert_eq!(inbox[3].body, "You are now chatting with Alice Smith.");

    let greeting = "Hi, this is Alice. What is wrong with your bill?";
    let greeting_id = alice.say(&chat_id, greeting).await;
    let inbox = phone.receives(5).await;
    assert_eq!(inbox[4].body, greeting);

    let reply = phone.texts("I was charged twice").await;
    assert_eq!(reply.chat_id.as_deref(), Some(chat_id.as_str()));

    // The transcript: every consumer, agent and system message, in order, with its delivery status.
    let transcript = app.settled(&chat_id).await;
    assert_eq!(transcript.chat.status, "connected");
    let seen: Vec<(&str, &str, &str)> =
        transcript.messages.iter().map(|m| (m.direction.as_str(), m.author.as_str(), m.body.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            ("in", "consumer", "hi"),
            ("out", "system", notice.as_str()),
            ("out", "system", SUPPORT_MENU),
            ("in", "consumer", " billing! "),
            ("out", "system", inbox[2].body.as_str()),
            ("out", "system", "You are now chatting with Alice Smith."),
            ("out", "agent:alice", greeting),
            ("in", "consumer", "I was charged twice"),
        ]
    );
    for m in &transcript.messages {
        let expected = if m.direction == "in" { "received" } else { "delivered" };
        assert_eq!(m.status, expected, "{m:?}");
        assert!(m.error.is_none() && m.media.is_empty(), "{m:?}");
    }
    assert_eq!(transcript.messages[0].id, hi.message_id, "the ack names the stored message");
    assert_eq!(transcript.messages[6].id, greeting_id, "the reply's id is the transcript entry's");
    let times: Vec<_> = transcript
        .messages
        .iter()
        .map(|m| DateTime::parse_from_rfc3339(&m.at).unwrap_or_else(|e| panic!("{:?} is not RFC 3339: {e}", m.at)))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times go forward: {times:?}");
    let mut ids: Vec<&str> = transcript.messages.iter().map(|m| m.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), transcript.messages.len(), "message ids are unique");

    // Alice ends the chat: the consumer gets the closing message and the chat is in the past.
    let ended = alice.end(&chat_id).await;
    assert_eq!(ended.status, "finished");
    assert_eq!(ended.end_reason.as_deref(), Some("ended_by_agent"));
    assert_eq!(ended.ended_by.as_deref(), Some("alice"));
    assert!(ended.ended_at.is_some());
    assert_eq!(alice.end(&chat_id).await.status, "finished", "ending an ended chat changes nothing");
    let inbox = phone.receives(6).await;
    assert_eq!(inbox[5].body, "This chat has ended. Text us any time to start a new one.");
    assert!(alice.chats("past").await.iter().any(|c| c.id == chat_id), "the chat is past");
    assert!(alice.chats("ongoing").await.iter().all(|c| c.id != chat_id), "the chat is no longer ongoing");
    alice.try_say(&chat_id, "Anything else?").await.expect_error(409, "conflict");

    // Every outbound message reached the phone exactly once, in transcript order.
    let transcript = app.settled(&chat_id).await;
    assert_eq!(bodies(&phone.inbox().await), transcript.sent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_after_the_end_starts_a_new_chat_with_a_new_notice() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    let phone = app.phone(PHONE);
    let first = phone.texts("1").await.chat_id.expect("a chat");
    // A first text that already names a queue skips the menu; alice is away, so it waits.
    let upcoming = alice.chats("upcoming").await;
    assert_eq!(upcoming.iter().find(|c| c.id == first).map(|c| c.status.as_str()), Some("queued"));
    // An away agent may still take a queued chat by hand.
    assert_eq!(alice.accept(&first).await.status, "connected");
    alice.end(&first).await;
    let before = app.settled(&first).await.sent().len();
    assert_eq!(before, 4, "notice, queued, connected, closing");

    let second = phone.texts("hello again").await.chat_id.expect("a new chat");
    assert_ne!(second, first);
    let transcript = app.settled(&second).await;
    assert_eq!(transcript.received(), vec!["hello again"]);
    assert_eq!(transcript.sent().len(), 2, "the opt-in notice again (every chat by default), then the menu");
    assert!(transcript.sent()[0].contains("STOP"));
    assert_eq!(transcript.sent()[1], SUPPORT_MENU);
    assert_eq!(app.settled(&first).await.received(), vec!["1"], "the old chat is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_answers_repeat_the_menu_and_exit_ends_the_chat() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone(PHONE);
    let chat = phone.texts("hi").await.chat_id.expect("a chat");
    phone.texts("maybe").await;
    phone.texts("2").await;
    let tech = app.admin().chat(&chat).await;
    assert_eq!((tech.status.as_str(), tech.queue.as_deref()), ("queued", Some("tech")), "nobody is available");
    phone.texts("exit").await;
    let ended = app.admin().chat(&chat).await;
    assert_eq!(ended.status, "finished");
    assert_eq!(ended.end_reason.as_deref(), Some("consumer_command"));
    assert_eq!(ended.ended_by.as_deref(), Some("consumer"));
    let transcript = app.settled(&chat).await;
    let sent = transcript.sent();
    assert_eq!(sent.len(), 5, "{sent:#?}");
    assert_eq!(
        sent[2],
        format!("Sorry, we did not understand \"maybe\". {}", &SUPPORT_MENU["How can we help? ".len()..])
    );
    assert!(sent[3].contains("Technical support queue"), "{}", sent[3]);
    assert_eq!(sent[4], "This chat has ended. Text us any time to start a new one.");
    assert_eq!(bodies(&phone.inbox().await), sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_queue_number_skips_the_menu_and_auto_answers() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let phone = app.phone(PHONE).to(SALES);
    let chat = phone.texts("Do you ship to Canada?").await.chat_id.expect("a chat");
    let connected = alice.chat(&chat).await;
    assert_eq!(connected.status, "connected", "auto-answer connects without accepting");
    assert_eq!(connected.agent.as_deref(), Some("alice"));
    alice.say(&chat, "We do.").await;
    let inbox = phone.receives(4).await;
    assert!(inbox[0].body.contains("STOP"));
    assert!(inbox[1].body.contains("Sales queue"), "{}", inbox[1].body);
    assert_eq!(inbox[2].body, "You are now chatting with Alice Smith.");
    assert_eq!(inbox[3].body, "We do.");
    assert!(inbox.iter().all(|m| m.from == SALES));
}
