//! Predefined replies: `[[replies]]` in the setup (checked, exported, round-tripped), listed for each
//! agent by queue and team and filled in for a chat, and sent into a chat as the agent's own message,
//! refused where a typed message would be.

use parley_server::setup_doc::SetupDocument;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Reply, TestApp, bodies, standard_setup};

const PHONE: &str = "+14155550100";

/// The texts the phone gets before an agent writes: opt-in notice, menu, queued, connected.
const BEFORE_AGENT: usize = 4;

/// The standard setup, with team red (bob alone) and four replies:
/// welcome (everyone), refund (billing), reboot (team red), optin (sales, the opt-in message).
fn setup_with_replies() -> Value {
    let mut doc = standard_setup();
    doc["teams"].as_array_mut().unwrap().push(json!({"id": "red", "name": "Red team", "members": ["bob"]}));
    doc["replies"] = json!([
        {
            "id": "welcome", "title": "Welcome", "category": "Greetings", "shortcut": "welcome",
            "text": "Hi, I am {agent_first_name} from {brand} {queue}. Is this the phone ending in {consumer_last_four}?"
        },
        {
            "id": "refund", "title": "Refund on its way", "category": "Billing", "shortcut": "refund",
            "text": "{agent} has refunded you; it shows within 5 days.", "queues": ["billing"]
        },
        {
            "id": "reboot", "title": "Restart the router", "shortcut": "Reboot",
            "text": "Please restart your router and text us when it is back.", "teams": ["red"]
        },
        {
            "id": "optin", "title": "Opt-in", "category": "Outbound", "shortcut": "optin", "opt_in": true,
            "text": "{brand}: we would like to text you about your order. Reply STOP to opt out.", "queues": ["sales"]
        }
    ]);
    doc
}

async fn list(app: &TestApp, token: &str, query: &str) -> Reply {
    app.request(Method::GET, &format!("/api/v1/replies{query}"), Some(token), None).await
}

fn ids(reply: &Reply) -> Vec<String> {
    let replies = reply.body["replies"].as_array().unwrap_or_else(|| panic!("no replies in {}", reply.body));
    replies.iter().map(|r| r["id"].as_str().unwrap_or_default().to_owned()).collect()
}

/// The one reply of the list with this id.
fn one<'a>(reply: &'a Reply, id: &str) -> &'a Value {
    let replies = reply.body["replies"].as_array().unwrap_or_else(|| panic!("no replies in {}", reply.body));
    replies.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no reply {id} in {}", reply.body))
}

async fn send(app: &TestApp, token: &str, chat: &str, reply: &str) -> Reply {
    app.request(Method::POST, &format!("/api/v1/chats/{chat}/replies/{reply}"), Some(token), None).await
}

/// A phone texts SUPPORT and picks `choice` ("1" billing, "2" tech); the agent behind `token` accepts.
async fn connected_chat(app: &TestApp, phone: &str, choice: &str, token: &str) -> String {
    let agent = app.agent(token);
    agent.set_status("available").await;
    let phone = app.phone(phone);
    let chat = phone.texts("hello").await.chat_id.expect("a chat");
    phone.texts(choice).await;
    let accepted = agent.accept(&chat).await;
    assert_eq!(accepted.status, "connected", "{accepted:?}");
    phone.receives(BEFORE_AGENT).await;
    chat
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_replies_section_is_refused_naming_every_problem() {
    let app = TestApp::with_standard_setup().await;
    let mut doc = setup_with_replies();
    let replies = doc["replies"].as_array_mut().unwrap();
    replies.push(json!({"id": "typo", "title": "Typo", "shortcut": "typo", "text": "Hi, {agent_name} here"}));
    replies.push(json!({"id": "lost", "title": "Lost", "shortcut": "lost", "text": "x", "queues": ["refunds"]}));
    replies.push(json!({"id": "twin", "title": "Twin", "shortcut": "WELCOME", "text": "Hello again"}));
    replies.push(json!({"id": "lonely", "title": "Lonely", "shortcut": "lonely", "text": "x", "teams": ["green"]}));
    let message = app.try_apply_setup(&doc).await.expect_error(422, "validation_failed");
    for needle in [
        "reply \"typo\": text: unknown placeholder {agent_name}: a reply may use {agent_first_name}",
        "reply \"lost\" refers to unknown queue \"refunds\"",
        "reply \"twin\": shortcut \"WELCOME\": is also the shortcut of reply \"welcome\"",
        "reply \"lonely\" refers to unknown team \"green\"",
    ] {
        assert!(message.contains(needle), "{needle:?} is not named in: {message}");
    }
    assert_eq!(message.split("; ").count(), 4, "the good replies are not named: {message}");
    // Nothing of the refused document is in force.
    assert_eq!(app.setup().await.get("replies"), None);
    assert!(ids(&list(&app, ADMIN, "").await.expect_status(200)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_round_trip_through_the_export_and_its_toml() {
    let app = TestApp::spawn().await;
    let doc = setup_with_replies();
    let stored = app.apply_setup(&doc).await;
    assert_eq!(stored["replies"], doc["replies"], "the stored setup keeps every reply as written");
    let exported = app.setup().await;
    assert_eq!(exported["replies"], doc["replies"]);

    // `parley setup export` writes TOML; read back, it is the same document.
    let parsed: SetupDocument = serde_json::from_value(exported.clone()).expect("the export is a setup document");
    let toml = parsed.to_toml().expect("TOML");
    assert_eq!(toml.matches("[[replies]]").count(), 4, "{toml}");
    assert!(toml.contains("opt_in = true"), "{toml}");
    let back = SetupDocument::from_toml(&toml).expect("the TOML parses");
    assert_eq!(serde_json::to_value(&back).unwrap(), exported);

    // Applying the export again changes nothing.
    assert_eq!(app.apply_setup(&exported).await, exported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_list_the_replies_of_their_queues_and_teams_filled_in_for_a_chat() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup_with_replies()).await;
    let alice = app.agent_token("alice").await;
    let bob = app.agent_token("bob").await;

    let mine = list(&app, &alice, "").await.expect_status(200);
    assert_eq!(ids(&mine), ["welcome", "refund", "optin"], "alice serves billing and sales, and is not in red");
    let welcome = one(&mine, "welcome");
    assert_eq!(
        welcome,
        &json!({
            "id": "welcome", "title": "Welcome", "category": "Greetings", "shortcut": "welcome", "opt_in": false,
            "text": "Hi, I am {agent_first_name} from {brand} {queue}. Is this the phone ending in {consumer_last_four}?"
        }),
        "without ?chat= the text is the template and nothing is rendered"
    );
    assert_eq!(one(&mine, "optin")["opt_in"], true);
    assert_eq!(ids(&list(&app, &bob, "").await.expect_status(200)), ["welcome", "reboot"]);
    assert_eq!(ids(&list(&app, ADMIN, "").await.expect_status(200)), ["welcome", "refund", "reboot", "optin"]);

    let chat = connected_chat(&app, PHONE, "1", &alice).await;
    let filled = list(&app, &alice, &format!("?chat={chat}")).await.expect_status(200);
    assert_eq!(ids(&filled), ["welcome", "refund", "optin"]);
    assert_eq!(
        one(&filled, "welcome")["rendered"],
        "Hi, I am Alice from Acme Billing. Is this the phone ending in 0100?"
    );
    assert_eq!(one(&filled, "refund")["rendered"], "Alice Smith has refunded you; it shows within 5 days.");
    assert_eq!(one(&filled, "welcome")["text"], one(&mine, "welcome")["text"], "the template stays beside it");
    // Filling in a chat's replies reads the chat: it is in the audit log.
    let audit = app.request(Method::GET, &format!("/api/v1/audit?chat={chat}"), Some(ADMIN), None).await;
    let reads = audit.expect_status(200).body["reads"].clone();
    assert!(reads.as_array().unwrap().iter().any(|r| r["what"] == "replies" && r["actor"] == "agent:alice"), "{reads}");

    // Bob may not see alice's billing chat, so he may not have replies filled in for it.
    list(&app, &bob, &format!("?chat={chat}")).await.expect_error(403, "forbidden");
    list(&app, &alice, "?chat=no-such-chat").await.expect_error(404, "not_found");
    list(&app, &alice, "?queue=billing").await.expect_error(400, "bad_request");
    app.request(Method::GET, "/api/v1/replies", None, None).await.expect_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sends_a_reply_and_the_phone_gets_it_filled_in() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup_with_replies()).await;
    let alice = app.agent_token("alice").await;
    let chat = connected_chat(&app, PHONE, "1", &alice).await;

    let sent = send(&app, &alice, &chat, "welcome").await.expect_status(202).body;
    assert_eq!(sent["chat"]["id"], chat.as_str(), "{sent}");
    let message_id = sent["message_id"].as_str().expect("a message id").to_owned();
    send(&app, &alice, &chat, "refund").await.expect_status(202);

    let phone = app.phone(PHONE);
    let inbox = phone.receives(BEFORE_AGENT + 2).await;
    assert_eq!(
        bodies(&inbox)[BEFORE_AGENT..],
        [
            "Hi, I am Alice from Acme Billing. Is this the phone ending in 0100?",
            "Alice Smith has refunded you; it shows within 5 days."
        ]
    );
    let transcript = app.settled(&chat).await;
    let message = transcript.messages.iter().find(|m| m.id == message_id).expect("the reply is in the transcript");
    assert_eq!((message.author.as_str(), message.direction.as_str()), ("agent:alice", "out"), "{message:?}");
    assert_eq!(message.body, "Hi, I am Alice from Acme Billing. Is this the phone ending in 0100?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_sent_only_by_an_agent_it_is_for_into_a_chat_they_hold() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup_with_replies()).await;
    let alice = app.agent_token("alice").await;
    let bob = app.agent_token("bob").await;
    let chat = connected_chat(&app, PHONE, "2", &bob).await;

    let refused = send(&app, &bob, &chat, "refund").await.expect_error(403, "forbidden");
    assert!(refused.contains("reply \"refund\" is for other queues or teams"), "{refused}");
    send(&app, &bob, &chat, "no-such-reply").await.expect_error(404, "not_found");
    send(&app, &bob, "no-such-chat", "reboot").await.expect_error(404, "not_found");
    // Alice may use welcome, but not in a tech chat; the admin sends nothing as an agent.
    send(&app, &alice, &chat, "welcome").await.expect_error(403, "forbidden");
    send(&app, ADMIN, &chat, "welcome").await.expect_error(403, "forbidden");
    app.settled(&chat).await;
    assert_eq!(app.phone(PHONE).inbox().await.len(), BEFORE_AGENT, "nothing refused reached the phone");

    send(&app, &bob, &chat, "reboot").await.expect_status(202);
    let inbox = app.phone(PHONE).receives(BEFORE_AGENT + 1).await;
    assert_eq!(inbox[BEFORE_AGENT].body, "Please restart your router and text us when it is back.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_an_opted_out_phone_is_refused() {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup_with_replies()).await;
    let alice = app.agent_token("alice").await;
    let chat = connected_chat(&app, PHONE, "1", &alice).await;

    app.phone(PHONE).texts("STOP").await;
    let ended = app.agent(&alice).chat(&chat).await;
    assert_eq!((ended.status.as_str(), ended.end_reason.as_deref()), ("finished", Some("opted_out")), "{ended:?}");
    send(&app, &alice, &chat, "welcome").await.expect_error(409, "opted_out");
    let transcript = app.settled(&chat).await;
    assert!(
        transcript.messages.iter().all(|m| !m.body.starts_with("Hi, I am Alice")),
        "a refused reply is not stored: {:#?}",
        transcript.messages
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_that_hides_the_number_fills_in_no_digits_of_it() {
    let app = TestApp::spawn().await;
    let mut doc = setup_with_replies();
    doc["queues"][1]["consumer_number"] = json!("hidden");
    app.apply_setup(&doc).await;
    let bob = app.agent_token("bob").await;
    let chat = connected_chat(&app, PHONE, "2", &bob).await;

    let filled = list(&app, &bob, &format!("?chat={chat}")).await.expect_status(200);
    assert_eq!(
        one(&filled, "welcome")["rendered"],
        "Hi, I am Bob from Acme Technical support. Is this the phone ending in {consumer_last_four}?"
    );
    assert!(!filled.body.to_string().contains("0100"), "{}", filled.body);
    let refused = send(&app, &bob, &chat, "welcome").await.expect_error(422, "validation_failed");
    assert!(refused.contains("{consumer_last_four}"), "{refused}");
    // The admin sees the whole number anyway, so the chat's replies are filled in whole for them,
    // with the chat's agent as the agent.
    let admin = list(&app, ADMIN, &format!("?chat={chat}")).await.expect_status(200);
    assert_eq!(
        one(&admin, "welcome")["rendered"],
        "Hi, I am Bob from Acme Technical support. Is this the phone ending in 0100?"
    );
}
