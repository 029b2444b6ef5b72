//! The contacts API (docs/crm.md "The API"): admins create, search, change, merge and delete
//! contacts, every problem of a bad one named with its pointer; agents see and edit the contacts of
//! their chats' phones, masked as their queues say, each read audited; and the agent's choice links a
//! chat whose phone several contacts share. Run on both engines.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, SALES, TestApp, eventually, standard_setup};

/// The standard setup with custom fields, and sales masking the number to its last four digits.
fn setup() -> Value {
    let mut doc = standard_setup();
    doc["contact_fields"] = json!([
        {"key": "plan", "label": "Plan", "type": "choice", "choices": ["gold", "silver"]},
        {"key": "seats", "label": "Seats", "type": "number"},
        {"key": "since", "label": "Customer since", "type": "date"}
    ]);
    doc
}

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.apply_setup(&setup()).await;
    app
}

async fn admin(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> crate::harness::Reply {
    app.request(method, path, Some(ADMIN), body).await
}

fn pointers(reply: &crate::harness::Reply) -> Vec<String> {
    reply.body["error"]["details"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|d| d["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_api_creates_searches_changes_merges_and_deletes_with_every_problem_named() {
    let app = app().await;
    let bad =
        json!({"name": "Ada", "phones": ["4155550100"], "fields": {"plan": "bronze", "seats": "many", "color": "red"}});
    let refused = admin(&app, Method::POST, "/api/v1/contacts", Some(&bad)).await;
    refused.expect_error(422, "validation_failed");
    assert_eq!(pointers(&refused), ["/phones/0/number", "/fields/color", "/fields/plan", "/fields/seats"]);
    let owner = admin(&app, Method::POST, "/api/v1/contacts", Some(&json!({"name": "X", "owner": "zed"}))).await;
    assert_eq!(pointers(&owner.expect_status(422)), ["/owner"]);

    let ada = json!({
        "name": "Ada Lovelace", "phones": ["+14155550100", {"number": "+442079460000", "primary": true}],
        "email": "Ada@Example.com", "company": "Engines", "owner": "alice", "tags": ["VIP", "vip "],
        "notes": "prefers SMS", "fields": {"plan": "gold", "seats": 3.50, "since": "2020-1-5"}
    });
    let created = admin(&app, Method::POST, "/api/v1/contacts", Some(&ada)).await.expect_status(201).body;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("CT") && id.len() == 34, "{id}");
    assert_eq!(
        created["phones"],
        json!([{"number": "+14155550100", "primary": false}, {"number": "+442079460000", "primary": true}])
    );
    assert_eq!(created["tags"], json!(["vip"]));
    assert_eq!(created["fields"], json!({"plan": "gold", "seats": 3.5, "since": "2020-01-05"}));
    let bob = json!({"name": "Bob Adams", "phones": ["+14155550111"], "email": "bob@example.org"});
    let bob_id = admin(&app, Method::POST, "/api/v1/contacts", Some(&bob)).await.expect_status(201).body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let search = |q: &str| {
        let app = &app;
        let q = q.to_owned();
        async move {
            let list = admin(app, Method::GET, &format!("/api/v1/contacts?q={q}"), None).await.expect_status(200).body;
            list["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("ada").await, std::slice::from_ref(&id), "a name prefix, any case");
    assert_eq!(search("%2B1%20415555").await, [id.clone(), bob_id.clone()], "phone digits (+1 415555)");
    assert_eq!(search("4420").await, std::slice::from_ref(&id));
    assert_eq!(search("bob%40").await, std::slice::from_ref(&bob_id), "an e-mail prefix");
    assert!(search("lovelace").await.is_empty(), "a prefix, not the middle of a name");
    let page = admin(&app, Method::GET, "/api/v1/contacts?limit=1", None).await.expect_status(200).body;
    assert_eq!(page["contacts"][0]["id"], id.as_str());
    let next = page["next_cursor"].as_str().unwrap();
    let page2 = admin(&app, Method::GET, &format!("/api/v1/contacts?limit=1&cursor={next}"), None).await.body;
    assert_eq!(page2["contacts"][0]["id"], bob_id.as_str());
    assert!(page2["next_cursor"].is_null());
    admin(&app, Method::GET, "/api/v1/contacts?limit=0", None).await.expect_error(400, "bad_request");

    let patch = json!({"company": null, "fields": {"seats": 4, "plan": null}, "tags": ["gold-club"]});
    let patched =
        admin(&app, Method::PATCH, &format!("/api/v1/contacts/{id}"), Some(&patch)).await.expect_status(200).body;
    assert!(patched["company"].is_null());
    assert_eq!(patched["fields"], json!({"seats": 4.0, "since": "2020-01-05"}));
    assert_eq!(patched["tags"], json!(["gold-club"]));
    assert_eq!(patched["name"], "Ada Lovelace", "absent fields stay");
    let wrong = json!({"fields": {"since": "yesterday"}});
    let refused = admin(&app, Method::PATCH, &format!("/api/v1/contacts/{id}"), Some(&wrong)).await;
    assert_eq!(pointers(&refused.expect_status(422)), ["/fields/since"]);

    let into_itself = json!({"into": id});
    let refused = admin(&app, Method::POST, &format!("/api/v1/contacts/{id}/merge"), Some(&into_itself)).await;
    assert_eq!(pointers(&refused.expect_status(422)), ["/into"]);
    let merged = admin(&app, Method::POST, &format!("/api/v1/contacts/{bob_id}/merge"), Some(&json!({"into": id})))
        .await
        .expect_status(200)
        .body;
    let phones: Vec<&str> =
        merged["phones"].as_array().unwrap().iter().map(|p| p["number"].as_str().unwrap()).collect();
    assert_eq!(phones, ["+14155550100", "+442079460000", "+14155550111"]);
    assert_eq!(merged["email"], "Ada@Example.com", "the contact merged into keeps its own values");
    admin(&app, Method::GET, &format!("/api/v1/contacts/{bob_id}"), None).await.expect_error(404, "not_found");

    admin(&app, Method::DELETE, &format!("/api/v1/contacts/{id}"), None).await.expect_status(204);
    admin(&app, Method::GET, &format!("/api/v1/contacts/{id}"), None).await.expect_error(404, "not_found");
    admin(&app, Method::DELETE, &format!("/api/v1/contacts/{id}"), None).await.expect_error(404, "not_found");

    let store = app.store().await;
    let changes: Vec<Value> = store
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "contact.changed")
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let seen: Vec<(&str, &str)> =
        changes.iter().map(|c| (c["change"].as_str().unwrap(), c["by"].as_str().unwrap())).collect();
    assert_eq!(
        seen,
        [("created", "admin"), ("created", "admin"), ("updated", "admin"), ("merged", "admin"), ("deleted", "admin")]
    );
    assert_eq!(changes[3]["into"], id.as_str());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_api_agents_reach_their_chats_contacts_masked_and_audited() {
    let app = TestApp::spawn().await;
    let mut doc = setup();
    doc["queues"][2]["consumer_number"] = json!("last_four");
    app.apply_setup(&doc).await;
    let phone = "+14155550601";
    let theirs = admin(&app, Method::POST, "/api/v1/contacts", Some(&json!({"name": "Cleo", "phones": [phone]})))
        .await
        .expect_status(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other =
        admin(&app, Method::POST, "/api/v1/contacts", Some(&json!({"name": "Cleon", "phones": ["+14155550699"]})))
            .await
            .expect_status(201)
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let alice_token = app.agent_token("alice").await;
    let alice = app.agent(&alice_token);
    alice.set_status("available").await;
    let chat = app.phone(phone).to(SALES).texts("Hi").await.chat_id.unwrap();

    let list =
        app.request(Method::GET, "/api/v1/contacts?q=cle", Some(&alice_token), None).await.expect_status(200).body;
    let ids: Vec<&str> = list["contacts"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [theirs.as_str()], "only the contact of a chat in her queues");
    assert_eq!(list["contacts"][0]["phones"][0]["number"], "+*******0601", "masked as sales says");
    app.request(Method::GET, &format!("/api/v1/contacts/{other}"), Some(&alice_token), None)
        .await
        .expect_error(404, "not_found");
    app.request(Method::GET, "/api/v1/contacts?q=1415", Some(&alice_token), None).await.expect_error(403, "forbidden");

    let one = app.request(Method::GET, &format!("/api/v1/contacts/{theirs}"), Some(&alice_token), None).await;
    assert_eq!(one.expect_status(200).body["phones"][0]["number"], "+*******0601");
    let reads = app.request(Method::GET, "/api/v1/audit?actor=agent:alice", Some(ADMIN), None).await.body;
    assert_eq!(reads["reads"][0]["what"], format!("contact:{theirs}"));

    let notes = json!({"notes": "asked about the invoice"});
    let patched =
        app.request(Method::PATCH, &format!("/api/v1/contacts/{theirs}"), Some(&alice_token), Some(&notes)).await;
    assert_eq!(patched.expect_status(200).body["notes"], "asked about the invoice");
    let phones = json!({"phones": ["+14155550602"]});
    app.request(Method::PATCH, &format!("/api/v1/contacts/{theirs}"), Some(&alice_token), Some(&phones))
        .await
        .expect_error(403, "forbidden");
    app.request(Method::POST, "/api/v1/contacts", Some(&alice_token), Some(&json!({"name": "New"})))
        .await
        .expect_error(403, "forbidden");
    let store = app.store().await;
    let by: Vec<String> = store
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "contact.changed")
        .map(|e| serde_json::from_str::<Value>(&e.data).unwrap()["by"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(by.last().map(String::as_str), Some("alice"));
    store.close().await;
    // The chat's own contact, masked as its queue says.
    let linked = eventually("the chat linked to Cleo", || async {
        let view = app.request(Method::GET, &format!("/api/v1/chats/{chat}/contact"), Some(&alice_token), None).await;
        let body = view.expect_status(200).body;
        if body["state"] == "linked" { Ok(body) } else { Err(body.to_string()) }
    })
    .await;
    assert_eq!((linked["how"].as_str(), linked["contact"]["id"].as_str()), (Some("matched"), Some(theirs.as_str())));
    assert_eq!(linked["contact"]["phones"][0]["number"], "+*******0601");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_api_the_agents_choice_links_a_pending_chat_once() {
    let app = app().await;
    let phone = "+14155550701";
    let mut ids = Vec::new();
    for name in ["Dana North", "Dana South"] {
        let body = json!({"name": name, "phones": [phone], "company": "Acme"});
        ids.push(
            admin(&app, Method::POST, "/api/v1/contacts", Some(&body)).await.expect_status(201).body["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let unrelated =
        admin(&app, Method::POST, "/api/v1/contacts", Some(&json!({"name": "Eve", "email": "eve@example.com"})))
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let alice_token = app.agent_token("alice").await;
    let alice = app.agent(&alice_token);
    alice.set_status("available").await;
    let chat = app.phone(phone).to(SALES).texts("Hello").await.chat_id.unwrap();
    let path = format!("/api/v1/chats/{chat}/contact");
    let pending = eventually("the chat's link pending", || async {
        let body = app.request(Method::GET, &path, Some(&alice_token), None).await.expect_status(200).body;
        if body["state"] == "pending" { Ok(body) } else { Err(body.to_string()) }
    })
    .await;
    let candidates: Vec<&str> =
        pending["candidates"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(candidates, [ids[0].as_str(), ids[1].as_str()]);
    assert_eq!(pending["candidates"][0]["name"], "Dana North");
    // The conversation goes on while the agent decides.
    alice.say(&chat, "One moment").await;

    let neither = app.request(Method::POST, &path, Some(&alice_token), Some(&json!({}))).await;
    neither.expect_error(422, "validation_failed");
    let unknown = json!({"contact_id": "CT00000000000000000000000000000000"});
    let refused = app.request(Method::POST, &path, Some(&alice_token), Some(&unknown)).await;
    assert_eq!(pointers(&refused.expect_status(422)), ["/contact_id"]);
    let picked = json!({"contact_id": ids[1]});
    let linked = app.request(Method::POST, &path, Some(&alice_token), Some(&picked)).await.expect_status(200).body;
    assert_eq!(
        (linked["state"].as_str(), linked["how"].as_str(), linked["by"].as_str()),
        (Some("linked"), Some("picked"), Some("alice"))
    );
    assert_eq!(linked["contact"]["id"], ids[1].as_str());
    let again = json!({"contact_id": unrelated});
    let conflict = app.request(Method::POST, &path, Some(&alice_token), Some(&again)).await;
    assert!(conflict.expect_error(409, "conflict").contains(&ids[1]), "names the contact it is linked to");

    let store = app.store().await;
    let events: Vec<Value> = store
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "contact.linked" && e.chat_id.as_deref() == Some(chat.as_str()))
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "the choice is in the chat's events once");
    assert_eq!((events[0]["how"].as_str(), events[0]["by"].as_str()), (Some("picked"), Some("alice")));
    let records = store.contact_records(&ids[1]).await.unwrap();
    assert_eq!(store.record_chats(&records[0].id).await.unwrap(), std::slice::from_ref(&chat));
    store.close().await;

    // A second chat of the phone: the agent creates a new contact instead, which gets the phone.
    alice.end(&chat).await;
    let chat2 = app.phone(phone).to(SALES).texts("Me again").await.chat_id.unwrap();
    let path2 = format!("/api/v1/chats/{chat2}/contact");
    eventually("the second chat pending", || async {
        let body = app.request(Method::GET, &path2, Some(&alice_token), None).await.body;
        if body["state"] == "pending" { Ok(()) } else { Err(body.to_string()) }
    })
    .await;
    let create = json!({"create": {"name": "Dana West", "email": "dana@west.example"}});
    let created = app.request(Method::POST, &path2, Some(&alice_token), Some(&create)).await.expect_status(200).body;
    assert_eq!(created["how"], "created_by_agent");
    assert_eq!(created["contact"]["name"], "Dana West");
    assert_eq!(created["contact"]["phones"], json!([{"number": phone, "primary": true}]));

    // A linked chat refuses another choice before looking at it.
    let bad = json!({"create": {"phones": ["12"]}});
    let refused = app.request(Method::POST, &path2, Some(&alice_token), Some(&bad)).await;
    refused.expect_error(409, "conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_csv_streams_every_contact_in_creation_order_with_formula_cells_guarded() {
    let app = app().await;
    // More than one page of the export (200), so the stream has to continue after a page.
    let mut ids = Vec::new();
    for i in 0..203 {
        let contact = json!({"name": format!("Contact {i:03}"), "phones": [format!("+1415555{i:04}")]});
        let made = admin(&app, Method::POST, "/api/v1/contacts", Some(&contact)).await.expect_status(201).body;
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    let tricky = json!({
        "name": "=HYPERLINK(\"http://x.example\")", "phones": ["+442079460000", "+14155550999"],
        "email": "ada@example.com", "company": "Engines, Ltd", "tags": ["vip", "b"], "notes": "-1 owes us",
        "fields": {"plan": "gold", "seats": 3}
    });
    let made = admin(&app, Method::POST, "/api/v1/contacts", Some(&tricky)).await.expect_status(201).body;
    let tricky_id = made["id"].as_str().unwrap().to_owned();
    ids.push(tricky_id.clone());

    let get = |token: String| {
        let url = format!("{}/api/v1/contacts.csv", app.base);
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() }
    };
    let alice = app.agent_token("alice").await;
    assert_eq!(get(alice).await.status().as_u16(), 403, "agents do not export every contact");
    let got = get(ADMIN.to_owned()).await;
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(got.headers()["content-disposition"], "attachment; filename=\"contacts.csv\"");
    let text = got.text().await.unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines[0], "id,name,phones,email,company,owner,tags,notes,plan,seats,since,created_at,updated_at");
    assert_eq!(lines.len(), 1 + ids.len(), "a line for every contact, across pages");
    let exported: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(exported, ids, "in creation order");
    assert!(lines[1].starts_with(&format!("{},Contact 000,'+14155550000,,,,,,,,,", ids[0])), "{}", lines[1]);
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!(
            "{tricky_id},\"'=HYPERLINK(\"\"http://x.example\"\")\",'+442079460000;+14155550999,ada@example.com,\
             \"Engines, Ltd\",,b;vip,'-1 owes us,gold,3,,"
        )),
        "{last}"
    );
    let reads = admin(&app, Method::GET, "/api/v1/audit?actor=admin", None).await.body;
    let whats: Vec<&str> = reads["reads"].as_array().unwrap().iter().filter_map(|r| r["what"].as_str()).collect();
    assert!(whats.contains(&"contacts:export"), "{whats:?}");
}
