//! What the console shows beside chats: agents with status and live chats, queues counted by status
//! and start type, and an agent's figures of the day beside their team's.

use reqwest::Method;
use serde_json::Value;

use crate::harness::{ADMIN, SALES, TestApp};

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    app.request(Method::GET, path, Some(token), None).await.expect_status(200).body
}

fn find<'a>(list: &'a Value, key: &str, id: &str) -> &'a Value {
    list[key].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap_or_else(|| panic!("no {id} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_queues_are_counted_as_chats_come_and_go() {
    let app = TestApp::with_standard_setup().await;
    let alice_token = app.agent_token("alice").await;
    let bob_token = app.agent_token("bob").await;
    let alice = app.agent(&alice_token);
    alice.set_status("available").await;

    // Nothing yet: billing open, nobody waiting, alice available with no chats.
    let queues = get(&app, ADMIN, "/api/v1/queues").await;
    let billing = find(&queues, "queues", "billing");
    assert_eq!(
        (billing["waiting"].as_i64(), billing["offered"].as_i64(), billing["open"].as_bool()),
        (Some(0), Some(0), Some(true))
    );
    assert_eq!(billing["agents_available"], 1);

    // A billing chat offered to alice, a tech chat waiting for bob (away), a sales chat auto-answered.
    let billing_chat = app.phone("+14155550100").texts("billing").await.chat_id.unwrap();
    app.phone("+14155550101").texts("tech").await;
    let sales_chat = app.phone("+14155550102").to(SALES).texts("hi").await.chat_id.unwrap();
    let queues = get(&app, ADMIN, "/api/v1/queues").await;
    assert_eq!(find(&queues, "queues", "billing")["offered"], 1);
    assert_eq!(find(&queues, "queues", "tech")["waiting"], 1);
    assert_eq!(find(&queues, "queues", "tech")["agents_available"], 0);
    let sales = find(&queues, "queues", "sales");
    assert_eq!((sales["connected"].as_i64(), sales["by_start_type"]["auto_answered"].as_i64()), (Some(1), Some(1)));

    let agents = get(&app, ADMIN, "/api/v1/agents").await;
    let a = find(&agents, "agents", "alice");
    assert_eq!(
        (a["status"].as_str(), a["active"].as_i64(), a["capacity"].as_i64()),
        (Some("available"), Some(2), Some(3))
    );
    let mut live: Vec<&str> = a["chats"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    live.sort_unstable();
    let mut expected = vec![billing_chat.as_str(), sales_chat.as_str()];
    expected.sort_unstable();
    assert_eq!(live, expected);
    // Bob never came (no console stream, no heartbeat): he is shown offline, disconnected, whatever
    // status he has.
    let bob = find(&agents, "agents", "bob");
    assert_eq!(
        (bob["status"].as_str(), bob["connected"].as_bool(), bob["reason"].as_str()),
        (Some("offline"), Some(false), Some("disconnected"))
    );

    // Bob sees the agents of tech only (himself), and tech alone among the queues.
    let bobs = get(&app, &bob_token, "/api/v1/agents").await;
    let ids: Vec<&str> = bobs["agents"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["bob"]);
    let bobs = get(&app, &bob_token, "/api/v1/queues").await;
    let ids: Vec<&str> = bobs["queues"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["tech"]);

    // Alice answers and ends the billing chat: it counts among today's ended chats and her figures.
    alice.accept(&billing_chat).await;
    alice.end(&billing_chat).await;
    let queues = get(&app, ADMIN, "/api/v1/queues").await;
    let billing = find(&queues, "queues", "billing");
    assert_eq!((billing["offered"].as_i64(), billing["ended_today"].as_i64()), (Some(0), Some(1)));
    assert_eq!(billing["by_start_type"]["manually_answered"], 1);
    // Her figures are the users-teams report's: the billing chat and the sales chat still going.
    let stats = get(&app, &alice_token, "/api/v1/me/stats").await;
    assert_eq!(
        (stats["mine"]["answered"].as_f64(), stats["mine"]["handled"].as_f64()),
        (Some(2.0), Some(2.0)),
        "{stats}"
    );
    // Team blue is alice and bob: two chats between two agents.
    assert_eq!(
        (stats["team_average"]["answered"].as_f64(), stats["team_size"].as_i64()),
        (Some(1.0), Some(2)),
        "{stats}"
    );
    assert!(stats["mine"]["average_seconds"].as_i64().unwrap() >= 0);
    let refused = app.request(Method::GET, "/api/v1/me/stats", Some(ADMIN), None).await;
    refused.expect_error(403, "forbidden");
}
