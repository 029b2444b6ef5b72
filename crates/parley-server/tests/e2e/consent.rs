//! Carrier keywords: STOP opts out at once from every number and confirms once, nothing else reaches
//! the phone from any path until START, and HELP answers with the help text.

use crate::harness::{SALES, SUPPORT, SseEvent, TestApp, bodies};

const PHONE: &str = "+14155550123";
const OPTED_OUT: &str = "Acme: You are unsubscribed and will receive no more messages. Reply START to resubscribe.";
const OPTED_IN: &str = "Acme: You are subscribed again. Reply HELP for help, STOP to opt out.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_chat_confirms_once_and_blocks_every_send_until_start() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let support = app.phone(PHONE);
    let sales = app.phone(PHONE).to(SALES);

    // Two live chats of the same phone with alice: billing on SUPPORT, sales on SALES (auto-answered).
    let billing = support.texts("billing").await.chat_id.expect("a chat");
    alice.accept(&billing).await;
    alice.say(&billing, "Hello from billing").await;
    let other = sales.texts("I want to buy").await.chat_id.expect("a second chat");
    let auto = alice.chat(&other).await;
    assert_eq!((auto.status.as_str(), auto.start_type.as_deref()), ("connected", Some("auto_answered")));
    alice.say(&other, "Hello from sales").await;
    app.settled(&billing).await;
    app.settled(&other).await;
    let before = support.inbox().await.len();

    // Alice follows her chats live: she must learn about the opt-out.
    let mut stream = app.events(&alice.token, None).await;

    let stop = support.texts(" Stop. ").await;
    assert_eq!(stop.chat_id.as_deref(), Some(billing.as_str()), "STOP belongs to the open chat");
    // The opt-out holds for every number of the deployment: both chats end, whichever number got STOP.
    for id in [&billing, &other] {
        let ended = alice.chat(id).await;
        assert_eq!(ended.status, "finished", "{ended:?}");
        assert_eq!(ended.end_reason.as_deref(), Some("opted_out"), "{ended:?}");
        assert_eq!(ended.ended_by.as_deref(), Some("consumer"), "{ended:?}");
    }
    let mut told = Vec::new();
    while told.iter().filter(|e: &&SseEvent| e.kind == "chat.ended").count() < 2 {
        told.push(stream.next().await);
    }
    assert!(
        told.iter().any(|e| e.kind == "consumer.opted_out" && e.data["chat_id"] == billing.as_str()),
        "alice is told: {told:#?}"
    );
    for id in [&billing, &other] {
        let ended = told.iter().find(|e| e.kind == "chat.ended" && e.data["chat_id"] == id.as_str());
        assert_eq!(ended.map(|e| e.data["reason"].clone()), Some("opted_out".into()), "{told:#?}");
    }

    // The one confirmation arrives, and no closing message from either chat.
    let inbox = support.receives(before + 1).await;
    assert_eq!(inbox[before].body, OPTED_OUT);
    let transcript = app.settled(&billing).await;
    let last = transcript.messages.last().expect("messages");
    assert_eq!((last.body.as_str(), last.status.as_str(), last.author.as_str()), (OPTED_OUT, "delivered", "system"));
    assert_eq!(transcript.received().last().map(String::as_str), Some(" Stop. "));
    assert_eq!(app.settled(&other).await.sent().last().map(String::as_str), Some("Hello from sales"));

    // Nothing may be sent any more, from any chat of this phone, whatever the number; the refusal
    // names the reason that matters to the agent.
    for id in [&billing, &other] {
        let refused = alice.try_say(id, "Are you still there?").await;
        assert_eq!(refused.status.as_u16(), 409, "{refused:?}");
        refused.expect_error_shape("opted_out");
        let stored = app.settled(id).await;
        assert!(stored.messages.iter().all(|m| m.body != "Are you still there?"), "a refused send is not stored");
    }

    // A second STOP, HELP and an ordinary text get no answer at all, and open no chat.
    assert_eq!(support.texts("STOP").await.chat_id, None);
    assert_eq!(support.texts("help").await.chat_id, None);
    assert_eq!(support.texts("hi, anyone?").await.chat_id, None);
    assert_eq!(sales.texts("hello?").await.chat_id, None);

    // START re-subscribes. Deliveries keep the outbox's order, so if anything had been queued by the
    // texts above it would arrive before this confirmation.
    assert_eq!(support.texts("start").await.chat_id, None);
    let inbox = support.receives(before + 2).await;
    assert_eq!(bodies(&inbox[before..]), vec![OPTED_OUT, OPTED_IN], "exactly one confirmation of each");

    // Subscribed again: a new chat works end to end.
    let again = sales.texts("back again").await.chat_id.expect("a new chat");
    assert_eq!(alice.chat(&again).await.status, "connected");
    alice.say(&again, "Welcome back").await;
    let transcript = app.settled(&again).await;
    assert_eq!(transcript.sent().last().map(String::as_str), Some("Welcome back"));
    let inbox = support.inbox().await;
    assert_eq!(inbox.last().map(|m| (m.body.as_str(), m.from.as_str())), Some(("Welcome back", SALES)));
    assert_eq!(inbox.iter().filter(|m| m.body == OPTED_OUT).count(), 1);
    assert!(inbox.iter().all(|m| m.from == SUPPORT || m.from == SALES));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_without_a_chat_confirms_and_a_new_text_then_gets_nothing() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone("+14155550124");
    assert_eq!(phone.texts("UNSUBSCRIBE").await.chat_id, None);
    // An opted-out phone that texts "hi" is not answered: no notice, no menu, no chat.
    assert_eq!(phone.texts("hi").await.chat_id, None);
    assert!(app.admin().all_chats().await.is_empty(), "no chat was opened");
    assert_eq!(phone.texts("unstop").await.chat_id, None);
    let inbox = phone.receives(2).await;
    assert_eq!(bodies(&inbox), vec![OPTED_OUT, OPTED_IN]);
    // After START the phone is a consumer like any other.
    let chat = phone.texts("hi").await.chat_id.expect("a chat");
    assert_eq!(app.settled(&chat).await.sent().len(), 2, "notice and menu");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_answers_with_the_help_text_and_keeps_the_chat() {
    let app = TestApp::with_standard_setup().await;
    let phone = app.phone("+14155550125");
    let chat = phone.texts("hi").await.chat_id.expect("a chat");
    let help = phone.texts("Help?").await;
    assert_eq!(help.chat_id.as_deref(), Some(chat.as_str()));
    let transcript = app.settled(&chat).await;
    let answer = transcript.sent().last().cloned().expect("an answer");
    assert!(answer.starts_with("Acme support by text"), "{answer}");
    assert_eq!(transcript.chat.status, "selecting", "HELP does not change the chat");
    assert_eq!(bodies(&phone.inbox().await), transcript.sent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_give_numbers_their_texts_and_their_keywords_count_on_every_number() {
    let app = TestApp::spawn().await;
    let mut setup = crate::harness::standard_setup();
    setup["settings"]["languages"] = serde_json::json!({
        "es": {
            "opt_out_keywords": ["ALTO", "PARAR"],
            "opt_in_keywords": ["COMENZAR"],
            "help_keywords": ["AYUDA"],
            "messages": {
                "opt_in_notice": "{brand}: Gracias por escribirnos. Responda AYUDA para ayuda, ALTO para no recibir más.",
                "opted_out": "{brand}: No recibirá más mensajes. Responda COMENZAR para volver."
            }
        }
    });
    setup["numbers"][1]["language"] = "es".into();
    setup["numbers"][1]["messages"] = serde_json::json!({"help": "{brand}: ayuda de ventas."});
    let stored = app.apply_setup(&setup).await;
    assert_eq!(stored["settings"]["languages"]["es"]["opt_out_keywords"], serde_json::json!(["ALTO", "PARAR"]));
    assert_eq!(stored["numbers"][1]["language"], "es", "{stored}");

    let spanish = app.phone(PHONE).to(SALES);
    spanish.texts("hola").await;
    spanish.texts("ayuda").await;
    // The notice, the queue message and the help text.
    let inbox = spanish.receives(3).await;
    assert!(inbox[0].body.starts_with("Acme: Gracias por escribirnos"), "{:?}", bodies(&inbox));
    assert_eq!(inbox.last().map(|m| m.body.as_str()), Some("Acme: ayuda de ventas."), "the number's own help text");
    // A Spanish opt-out word counts on the English number too, and the confirmation is in its language.
    let english = app.phone("+14155550124");
    english.texts("hi").await;
    let stop = english.texts("alto").await;
    let inbox = english.receives(3).await;
    assert_eq!(inbox.last().map(|m| m.body.as_str()), Some(OPTED_OUT), "{stop:?}");

    let mut bad = setup.clone();
    bad["settings"]["languages"]["es"]["messages"]["opted_out"] = "Adiós {nombre}".into();
    bad["numbers"][1]["language"] = "fr".into();
    let message = app.try_apply_setup(&bad).await.expect_error(422, "validation_failed");
    assert!(message.contains("unknown placeholder {nombre}"), "{message}");
    assert!(message.contains("language \"fr\": not a language of the setup"), "{message}");
}
