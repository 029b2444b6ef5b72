//! The reports against a fixture built through the public API on a manual clock, every figure
//! computed by hand below (docs/reports.md defines them). The days are New York's around the end of
//! DST (2026-11-01 has 25 hours): chat A opens at 23:50 on Oct 31 and ends after midnight, chat E
//! opens at 23:30 on Nov 1, which is already Nov 2 in UTC.
//!
//! | chat | opened (UTC)      | what happens                                                                   |
//! |------|-------------------|--------------------------------------------------------------------------------|
//! | A    | 11-01 03:50       | billing at +10 s, offered to ann, accepted +40 s, ann writes +100 s, ends +1800 s |
//! | B    | 11-01 15:00       | tech at +5 s, cy comes +120 s, accepts +150 s, writes +160 s; transfer to bob (red team) declined +210 s, asked again +220 s, accepted +300 s; bob writes +330 s, ends +600 s |
//! | C    | 11-01 16:00       | billing at +5 s, nobody there, the consumer ends it +65 s                     |
//! | D    | 11-01 17:00       | ann starts an outbound chat (billing), ends it +60 s                          |
//! | call | 11-01 18:00       | the IVR's call CA9 connects to cy +40 s, ends +100 s                          |
//! | E    | 11-02 04:30       | tech at +5 s, offered to cy, accepted +20 s, cy writes +50 s, ends +80 s       |

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parley_core::ids::{AgentId, QueueId};
use parley_core::report::figures::Filter;
use parley_core::report::kinds::{self, Input, Kind};
use parley_core::report::range::{self, Period};
use parley_core::report::rollup::{Line, Rolled};
use parley_server::clock::Clock;
use parley_server::report_facts;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN, Auth, Caller, TestApp, eventually};

const SUPPORT: &str = "+15550001000";
const VOICE: &str = "+15550009000";
const TA: i64 = 1_793_505_000_000;
const TB: i64 = 1_793_545_200_000;
const TC: i64 = 1_793_548_800_000;
const TD: i64 = 1_793_552_400_000;
const TF: i64 = 1_793_556_000_000;
const TE: i64 = 1_793_593_800_000;
const LATER: i64 = 1_793_620_800_000;
const S: i64 = 1000;
const PERIOD: &str = "from=2026-10-31&to=2026-11-02&tz=America/New_York";

fn setup() -> Value {
    json!({
        "numbers": [{"number": SUPPORT, "label": "Support", "carrier": "sim", "queues": ["billing", "tech"]}],
        "queues": [
            {"id": "billing", "name": "Billing", "keywords": ["1"], "service_level_seconds": 30},
            {"id": "tech", "name": "@Tech", "keywords": ["2"]}
        ],
        "agents": [
            {"id": "ann", "name": "Ann Lee", "queues": ["billing"], "capacity": 3},
            {"id": "bob", "name": "Bob Ray", "queues": ["billing", "tech"], "capacity": 3},
            {"id": "cy", "name": "Cy Park", "queues": ["tech"], "capacity": 3}
        ],
        "teams": [
            {"id": "red", "name": "Red team", "members": ["ann", "bob"]},
            {"id": "blue", "name": "Blue team", "members": ["cy"]}
        ],
        "ivr_queues": [{"id": "voice", "name": "Voice", "numbers": [VOICE], "agents": ["cy"]}],
        "settings": {
            "brand": "Acme",
            "quiet_hours": {"enabled": false},
            "presence_timeout_seconds": 86400,
            "timers": {"offer_timeout_seconds": 0, "inactivity_warning_minutes": 0, "inactivity_close_minutes": 0,
                       "session_expiration_minutes": 10080}
        }
    })
}

struct Fixture {
    app: TestApp,
    chats: [String; 5],
}

async fn status_is(app: &TestApp, chat: &str, status: &str, agent: Option<&str>) {
    eventually(&format!("{chat} to be {status}"), || async {
        let c = app.admin().chat(chat).await;
        if c.status == status && c.agent.as_deref() == agent { Ok(()) } else { Err(format!("{c:?}")) }
    })
    .await;
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let reply = app.request(Method::POST, path, Some(token), Some(&body)).await;
    assert!(reply.status.is_success(), "POST {path}: {} {}", reply.status, reply.body);
    reply.body
}

/// Builds the fixture of the module's table.
async fn fixture() -> Fixture {
    let now = Arc::new(AtomicI64::new(TA));
    let app = TestApp::spawn_with_clock(|c| c, Clock::Manual(now.clone())).await;
    app.apply_setup(&setup()).await;
    let at = |ms: i64| now.store(ms, Ordering::SeqCst);
    let ann: Caller<'_> = app.agent(&app.agent_token("ann").await);
    let bob: Caller<'_> = app.agent(&app.agent_token("bob").await);
    let cy: Caller<'_> = app.agent(&app.agent_token("cy").await);

    ann.set_status("available").await;
    let p1 = app.phone("+14155550101").to(SUPPORT);
    let a = p1.texts("hi").await.chat_id.expect("chat A");
    at(TA + 10 * S);
    p1.texts("1").await;
    status_is(&app, &a, "offered", Some("ann")).await;
    at(TA + 40 * S);
    ann.accept(&a).await;
    at(TA + 100 * S);
    ann.say(&a, "Hello from Ann").await;
    at(TA + 1800 * S);
    ann.end(&a).await;
    ann.set_status("away").await;

    at(TB);
    let p2 = app.phone("+14155550102").to(SUPPORT);
    let b = p2.texts("hi").await.chat_id.expect("chat B");
    at(TB + 5 * S);
    p2.texts("2").await;
    status_is(&app, &b, "queued", None).await;
    at(TB + 120 * S);
    cy.set_status("available").await;
    status_is(&app, &b, "offered", Some("cy")).await;
    at(TB + 150 * S);
    cy.accept(&b).await;
    at(TB + 160 * S);
    cy.say(&b, "Cy here").await;
    at(TB + 190 * S);
    bob.set_status("available").await;
    let transfer = format!("/api/v1/chats/{b}/transfer");
    at(TB + 200 * S);
    post(&app, &cy.token, &transfer, json!({"to_agent": "bob"})).await;
    at(TB + 210 * S);
    post(&app, &bob.token, &format!("{transfer}/decline"), json!({})).await;
    at(TB + 220 * S);
    post(&app, &cy.token, &transfer, json!({"to_agent": "bob", "note": "Invoice"})).await;
    at(TB + 300 * S);
    post(&app, &bob.token, &format!("{transfer}/accept"), json!({})).await;
    status_is(&app, &b, "connected", Some("bob")).await;
    at(TB + 330 * S);
    bob.say(&b, "Bob here").await;
    at(TB + 600 * S);
    bob.end(&b).await;
    bob.set_status("away").await;
    cy.set_status("away").await;

    at(TC);
    let p3 = app.phone("+14155550103").to(SUPPORT);
    let c = p3.texts("hi").await.chat_id.expect("chat C");
    at(TC + 5 * S);
    p3.texts("1").await;
    status_is(&app, &c, "queued", None).await;
    at(TC + 65 * S);
    p3.texts("EXIT").await;
    status_is(&app, &c, "finished", None).await;

    at(TD);
    let started = post(
        &app,
        &ann.token,
        "/api/v1/outbound/chats",
        json!({"end_user_number": "+14155550104", "outbound_number": SUPPORT, "message": "Your order has shipped."}),
    )
    .await;
    let d = started["chat"]["id"].as_str().expect("chat D").to_owned();
    at(TD + 60 * S);
    ann.end(&d).await;

    at(TF);
    post(&app, ADMIN, "/api/v1/ivr/calls", json!({"call_id": "CA9", "caller": "+14155550106", "dialed": VOICE})).await;
    for (step, body) in
        [(40, json!({"state": "connected", "agent_id": "cy"})), (100, json!({"state": "ended", "reason": "hangup"}))]
    {
        at(TF + step * S);
        app.request(Method::PUT, "/api/v1/ivr/calls/CA9", Some(ADMIN), Some(&body)).await.expect_status(200);
    }

    at(TE);
    cy.set_status("available").await;
    let p5 = app.phone("+14155550105").to(SUPPORT);
    let e = p5.texts("hi").await.chat_id.expect("chat E");
    at(TE + 5 * S);
    p5.texts("2").await;
    status_is(&app, &e, "offered", Some("cy")).await;
    at(TE + 20 * S);
    cy.accept(&e).await;
    at(TE + 50 * S);
    cy.say(&e, "Cy again").await;
    at(TE + 80 * S);
    cy.end(&e).await;

    at(LATER);
    app.outbox_drained().await;
    Fixture { app, chats: [a, b, c, d, e] }
}

async fn report(app: &TestApp, auth: Auth<'_>, path: &str) -> crate::harness::Reply {
    app.request_with(Method::GET, path, auth, &[], None).await
}

/// The rows of the report's table `name`.
fn rows(report: &Value, name: &str) -> Vec<Value> {
    let table = report["tables"].as_array().unwrap().iter().find(|t| t["name"] == name);
    table.unwrap_or_else(|| panic!("no table {name} in {report}"))["rows"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter().find(|r| r[key] == value).unwrap_or_else(|| panic!("no row with {key} = {value} in {rows:?}"))
}

/// The named fields of a row, to compare with the expected ones in one assertion.
fn pick(row: &Value, fields: &[&str]) -> Value {
    Value::Object(fields.iter().map(|f| ((*f).to_owned(), row[*f].clone())).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_match_the_hand_computed_figures_of_the_fixture() {
    let Fixture { app, chats } = fixture().await;
    // Whatever the report follower has rolled up so far, the rest folded from the events.
    every_figure_is_the_hand_computed_one(&app, &chats).await;
    // All of it rolled up: the database sums the finished chats.
    app.reports_rolled_up().await;
    every_figure_is_the_hand_computed_one(&app, &chats).await;
    // And the sums of the rollups are the folds' sums for every kind, filtered or not.
    let store = app.store().await;
    let (_, setup) = parley_server::load_setup(&store, &["sim"]).await.expect("the setup");
    let now = parley_core::time::Timestamp(LATER);
    let zone = range::zone("America/New_York").unwrap();
    let queue_tech = Filter { queues: Some([QueueId::parse("tech").unwrap()].into()), ..Filter::default() };
    let agent_ann = Filter { agents: Some([AgentId::parse("ann").unwrap()].into()), ..Filter::default() };
    let number = Filter { number: Some(SUPPORT.to_owned()), ..Filter::default() };
    for group_by in [None, Some("hour"), Some("day")] {
        let period = Period::parse(Some("2026-10-31"), Some("2026-11-02"), zone, group_by, now).unwrap();
        let folded = report_facts::all_folded(&store, &period, now).await.unwrap();
        for filter in [Filter::default(), queue_tech.clone(), agent_ann.clone(), number.clone()] {
            for kind in [Kind::Queues, Kind::UsersTeams, Kind::Performance] {
                let facts = report_facts::period_facts(&store, &setup, kind, &period, &filter, now).await.unwrap();
                assert!(facts.chats.is_empty(), "all rolled up: {:?}", facts.chats);
                let none = Rolled::default();
                let consumer = |l: &Line| l.consumer.clone();
                let input = |chats, rolled| Input {
                    setup: &setup,
                    period: &period,
                    filter: &filter,
                    chats,
                    rolled,
                    now,
                    consumer: &consumer,
                };
                let table = |input: &Input<'_>| match kind {
                    Kind::Queues => kinds::queues(input),
                    Kind::UsersTeams => kinds::users_teams(input),
                    _ => kinds::performance(input, &Default::default())[0].clone(),
                };
                let summed = table(&input(&[], &facts.rolled));
                assert!(!summed.rows.is_empty() || filter == agent_ann && kind == Kind::Queues, "{kind:?} {filter:?}");
                assert_eq!(summed, table(&input(&folded, &none)), "{kind:?} by {group_by:?}, {filter:?}");
            }
        }
    }
    // Delivery by carrier, number and status: the rollup the messages' triggers feed (whole quarter
    // hours) says what counting the messages says (a period a millisecond longer, nothing in it).
    let period = Period::parse(Some("2026-10-31"), Some("2026-11-02"), zone, None, now).unwrap();
    let rolled = store.delivery_counts(period.from.0, period.to.0).await.unwrap();
    let counted = store.delivery_counts(period.from.0 - 1, period.to.0).await.unwrap();
    assert!(rolled.iter().any(|d| d.status == "delivered" && d.count > 0), "{rolled:?}");
    assert_eq!(rolled, counted);
    store.close().await;
}

async fn every_figure_is_the_hand_computed_one(app: &TestApp, chats: &[String; 5]) {
    let [a, b, c, d, e] = chats;
    let admin = Auth::Bearer(ADMIN);

    // Queues: billing has A (wait 30 s, within its 30 s threshold), C (abandoned after 60 s) and the
    // outbound D (no wait); tech has B (145 s, over 60 s) and E (15 s).
    let queues = report(app, admin, &format!("/api/v1/reports/queues?{PERIOD}")).await.expect_status(200).body;
    assert_eq!((queues["kind"].as_str(), queues["tz"].as_str()), (Some("queues"), Some("America/New_York")));
    assert_eq!(queues["from"], "2026-10-31T00:00:00-04:00");
    assert_eq!(queues["to"], "2026-11-03T00:00:00-05:00");
    let q = rows(&queues, "queues");
    let fields = [
        "chats_in",
        "answered",
        "abandoned",
        "timed_out",
        "dismissed",
        "average_wait_seconds",
        "longest_wait_seconds",
        "service_level",
        "service_level_seconds",
        "answered_within_service_level",
        "average_handle_seconds",
        "transfers_in",
        "transfers_out",
        "sms",
        "outbound_sms",
    ];
    assert_eq!(
        pick(row(&q, "queue", "billing"), &fields),
        json!({"chats_in": 3, "answered": 1, "abandoned": 1, "timed_out": 0, "dismissed": 0,
               "average_wait_seconds": 30.0, "longest_wait_seconds": 60.0, "service_level": 0.5,
               "service_level_seconds": 30, "answered_within_service_level": 1, "average_handle_seconds": 1760.0,
               "transfers_in": 0, "transfers_out": 0, "sms": 2, "outbound_sms": 1})
    );
    assert_eq!(
        pick(row(&q, "queue", "tech"), &fields),
        json!({"chats_in": 2, "answered": 2, "abandoned": 0, "timed_out": 0, "dismissed": 0,
               "average_wait_seconds": 80.0, "longest_wait_seconds": 145.0, "service_level": 0.5,
               "service_level_seconds": 60, "answered_within_service_level": 1, "average_handle_seconds": 255.0,
               "transfers_in": 0, "transfers_out": 0, "sms": 2, "outbound_sms": 0})
    );

    // Users and teams: the transfer from cy (blue) to bob (red), declined once, counts for both teams.
    let users = report(app, admin, &format!("/api/v1/reports/users-teams?{PERIOD}")).await.expect_status(200).body;
    let u = rows(&users, "users_teams");
    let fields = [
        "chats",
        "offered",
        "answered",
        "missed",
        "transferred_in",
        "transferred_out",
        "handled",
        "average_handle_seconds",
        "total_handle_seconds",
        "average_first_response_seconds",
        "messages_sent",
        "started_outbound",
    ];
    let figures =
        |id: &str| pick(u.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id}: {u:?}")), &fields);
    assert_eq!(
        figures("ann"),
        json!({"chats": 2, "offered": 1, "answered": 1, "missed": 0, "transferred_in": 0, "transferred_out": 0,
               "handled": 2, "average_handle_seconds": 910.0, "total_handle_seconds": 1820.0,
               "average_first_response_seconds": 60.0, "messages_sent": 2, "started_outbound": 1})
    );
    assert_eq!(
        figures("bob"),
        json!({"chats": 1, "offered": 2, "answered": 1, "missed": 1, "transferred_in": 1, "transferred_out": 0,
               "handled": 1, "average_handle_seconds": 300.0, "total_handle_seconds": 300.0,
               "average_first_response_seconds": 30.0, "messages_sent": 1, "started_outbound": 0})
    );
    let cy = json!({"chats": 2, "offered": 2, "answered": 2, "missed": 0, "transferred_in": 0, "transferred_out": 1,
                    "handled": 2, "average_handle_seconds": 105.0, "total_handle_seconds": 210.0,
                    "average_first_response_seconds": 20.0, "messages_sent": 2, "started_outbound": 0});
    assert_eq!(figures("cy"), cy);
    assert_eq!(figures("blue"), cy);
    assert_eq!(
        figures("red"),
        json!({"chats": 3, "offered": 3, "answered": 2, "missed": 1, "transferred_in": 1, "transferred_out": 0,
               "handled": 3, "average_handle_seconds": 706.7, "total_handle_seconds": 2120.0,
               "average_first_response_seconds": 45.0, "messages_sent": 3, "started_outbound": 1})
    );
    assert_eq!(
        (row(&u, "id", "red")["level"].as_str(), row(&u, "id", "red")["members"].as_i64()),
        (Some("team"), Some(2))
    );

    // Calls and chats: one row per chat and the call, oldest first, in New York's time.
    let lines = report(app, admin, &format!("/api/v1/reports/calls-chats?{PERIOD}")).await.expect_status(200).body;
    let l = rows(&lines, "calls_chats");
    let ids: Vec<&str> = l.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a.as_str(), b, c, d, "CA9", e]);
    let fields =
        ["type", "start_type", "queue", "agent", "agents", "wait_seconds", "handle_seconds", "status", "end_reason"];
    assert_eq!(
        pick(&l[1], &fields),
        json!({"type": "sms", "start_type": "manually_answered", "queue": "tech", "agent": "bob", "agents": "cy bob",
               "wait_seconds": 145.0, "handle_seconds": 450.0, "status": "finished", "end_reason": "ended_by_agent"})
    );
    assert_eq!(
        pick(&l[2], &fields),
        json!({"type": "sms", "start_type": null, "queue": "billing", "agent": null, "agents": "",
               "wait_seconds": 60.0, "handle_seconds": null, "status": "finished", "end_reason": "consumer_command"})
    );
    assert_eq!(
        pick(&l[3], &fields),
        json!({"type": "outbound_sms", "start_type": "outbound", "queue": "billing", "agent": "ann", "agents": "ann",
               "wait_seconds": null, "handle_seconds": 60.0, "status": "finished", "end_reason": "ended_by_agent"})
    );
    assert_eq!(
        pick(&l[4], &fields),
        json!({"type": "call", "start_type": null, "queue": "voice", "agent": "cy", "agents": "cy",
               "wait_seconds": 40.0, "handle_seconds": 60.0, "status": "ended", "end_reason": "hangup"})
    );
    assert_eq!(
        (l[0]["opened_at"].as_str(), l[0]["ended_at"].as_str()),
        (Some("2026-10-31T23:50:00-04:00"), Some("2026-11-01T00:20:00-04:00"))
    );
    assert_eq!(l[5]["opened_at"], "2026-11-01T23:30:00-05:00");
    assert!(lines.get("tables").unwrap()[0].get("next").is_none(), "one page holds them all");
    // Two rows a page: the pages follow one another to the same rows, the last without a next.
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let path = format!("/api/v1/reports/calls-chats?{PERIOD}&limit=2&after={after}");
        let page = report(app, admin, &path).await.expect_status(200).body;
        paged.extend(rows(&page, "calls_chats").iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        match page["tables"][0]["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, ids);
    let bad = report(app, admin, &format!("/api/v1/reports/calls-chats?{PERIOD}&after=yesterday")).await;
    assert!(bad.expect_error(422, "validation_failed").starts_with("after:"));
    let bad = report(app, admin, &format!("/api/v1/reports/calls-chats?{PERIOD}&limit=0")).await;
    assert!(bad.expect_error(422, "validation_failed").starts_with("limit:"));

    // Performance by day: A alone on Oct 31 (UTC would put it on Nov 1), E on the 25-hour Nov 1.
    let path = format!("/api/v1/reports/performance?{PERIOD}&group_by=day");
    let perf = report(app, admin, &path).await.expect_status(200).body;
    let traffic = rows(&perf, "traffic");
    let total = |day: &str| traffic.iter().find(|r| r["period"] == day && r["type"] == "total").cloned();
    let oct31 = total("2026-10-31").expect("Oct 31");
    let nov1 = total("2026-11-01").expect("Nov 1");
    assert!(total("2026-11-02").is_none(), "{traffic:?}");
    assert_eq!((oct31["chats"].as_i64(), oct31["inbound_messages"].as_i64()), (Some(1), Some(2)));
    assert_eq!(
        (nov1["chats"].as_i64(), nov1["inbound_messages"].as_i64(), nov1["inbound_segments"].as_i64()),
        (Some(4), Some(7), Some(7))
    );
    let mut outbound = Vec::new();
    for id in [&a, &b, &c, &d, &e] {
        outbound.push(app.admin().transcript(id).await.messages.iter().filter(|m| m.direction == "out").count() as i64);
    }
    assert_eq!(oct31["outbound_messages"].as_i64(), Some(outbound[0]));
    let nov1_out: i64 = outbound[1..].iter().sum();
    assert_eq!(nov1["outbound_messages"].as_i64(), Some(nov1_out));
    let by_type =
        |t: &str| traffic.iter().find(|r| r["period"] == "2026-11-01" && r["type"] == t).unwrap()["chats"].as_i64();
    assert_eq!((by_type("sms"), by_type("outbound_sms"), by_type("call_sms")), (Some(3), Some(1), Some(0)));
    let starts = rows(&perf, "start_types");
    let start = |t: &str| {
        starts.iter().find(|r| r["period"] == "2026-11-01" && r["start_type"] == t).map(|r| r["chats"].clone())
    };
    assert_eq!(
        (start("manually_answered"), start("outbound"), start("none")),
        (Some(json!(2)), Some(json!(1)), Some(json!(1)))
    );
    let delivery = rows(&perf, "delivery");
    let support = row(&delivery, "number", SUPPORT);
    assert_eq!(support["outbound_messages"].as_i64(), Some(outbound[0] + nov1_out));
    assert_eq!(support["carrier"], "sim");

    // Chat history: one consumer's, one agent's.
    let history = report(app, admin, &format!("/api/v1/reports/chat-history?{PERIOD}&consumer=%2B14155550102")).await;
    let h = rows(&history.expect_status(200).body, "chat_history");
    assert_eq!(h.len(), 1);
    assert_eq!(
        (h[0]["id"].as_str(), h[0]["transcript"].as_str()),
        (Some(b.as_str()), Some(format!("/api/v1/chats/{b}/messages").as_str()))
    );
    let history =
        report(app, admin, &format!("/api/v1/reports/chat-history?{PERIOD}&agent=ann")).await.expect_status(200).body;
    let ids: Vec<Value> = rows(&history, "chat_history").iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids, [json!(a), json!(d)]);

    // CSV: the same figures, a header row, the queue named "@Tech" guarded against formulas.
    let csv = report(app, admin, &format!("/api/v1/reports/queues?{PERIOD}&format=csv")).await.expect_status(200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.body.as_str().unwrap().to_owned();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(lines[0].starts_with("period,queue,queue_name,chats_in,answered,abandoned"), "{text}");
    assert!(lines[1].starts_with("all,billing,Billing,3,1,1,0,0,30,60,0.5,30,1,1760,"), "{text}");
    assert!(lines[2].starts_with("all,tech,'@Tech,2,2,0,"), "{text}");
    assert_eq!((lines.len(), lines[3]), (4, ""), "{text}");

    // The chart: SVG with its text alternative.
    let svg = report(app, admin, &format!("/api/v1/reports/queues?{PERIOD}&format=svg")).await.expect_status(200);
    assert_eq!(svg.headers["content-type"], "image/svg+xml; charset=utf-8");
    let svg = svg.body.as_str().unwrap().to_owned();
    assert!(svg.contains("<desc>Service level by queue (% answered within the threshold). Billing: Service level 50. @Tech: Service level 50.</desc>"), "{svg}");

    // Filters: a number, a queue, an agent, a team.
    let only = |q: &str| format!("/api/v1/reports/calls-chats?{PERIOD}&{q}");
    let count = |r: Value| rows(&r, "calls_chats").len();
    assert_eq!(count(report(app, admin, &only("queue=tech")).await.expect_status(200).body), 2);
    assert_eq!(count(report(app, admin, &only("team=red")).await.expect_status(200).body), 3, "A, B and D");
    assert_eq!(count(report(app, admin, &only("number=%2B15550001000")).await.expect_status(200).body), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_keep_supervisors_to_their_teams_and_name_the_bad_parameter() {
    let Fixture { app, .. } = fixture().await;
    let session = app.supervisor_session("sam", &["blue"]).await;
    let sam = Auth::Cookie(&session);
    let queues = report(&app, sam, &format!("/api/v1/reports/queues?{PERIOD}")).await.expect_status(200).body;
    let names: Vec<Value> = rows(&queues, "queues").iter().map(|r| r["queue"].clone()).collect();
    assert_eq!(names, [json!("tech")]);
    let lines = report(&app, sam, &format!("/api/v1/reports/calls-chats?{PERIOD}")).await.expect_status(200).body;
    let consumers: Vec<Value> =
        rows(&lines, "calls_chats").iter().filter(|r| r["type"] == "sms").map(|r| r["consumer"].clone()).collect();
    assert_eq!(consumers, [json!("+14155550102"), json!("+14155550105")], "tech shows full numbers by default");
    let refused = report(&app, sam, &format!("/api/v1/reports/queues?{PERIOD}&queue=billing")).await;
    assert!(refused.expect_error(403, "forbidden").contains("billing"));
    report(&app, sam, &format!("/api/v1/reports/users-teams?{PERIOD}&agent=ann")).await.expect_error(403, "forbidden");
    let agent = app.agent_token("cy").await;
    report(&app, Auth::Bearer(&agent), "/api/v1/reports/queues").await.expect_error(403, "forbidden");

    // Agent statistics are the users-teams figures: cy beside blue (cy alone), bob beside red.
    let stats = |who: &str, path: &str| {
        let path = format!("{path}?range=period&{PERIOD}");
        let who = who.to_owned();
        let app = &app;
        async move { app.request(Method::GET, &path, Some(&who), None).await }
    };
    let cy = stats(&agent, "/api/v1/me/stats").await.expect_status(200).body;
    assert_eq!(
        (
            cy["mine"]["answered"].as_f64(),
            cy["mine"]["average_seconds"].as_i64(),
            cy["mine"]["average_first_response_seconds"].as_f64()
        ),
        (Some(2.0), Some(105), Some(20.0))
    );
    assert_eq!((cy["team_size"].as_i64(), cy["team_average"]["answered"].as_f64()), (Some(1), Some(2.0)));
    let bob = stats(ADMIN, "/api/v1/agents/bob/stats").await.expect_status(200).body;
    assert_eq!((bob["mine"]["answered"].as_f64(), bob["mine"]["missed"].as_f64()), (Some(1.0), Some(1.0)));
    // Red: ann and bob answered two chats and handled three in 2120 s.
    assert_eq!(
        (
            bob["team_size"].as_i64(),
            bob["team_average"]["answered"].as_f64(),
            bob["team_average"]["average_seconds"].as_i64()
        ),
        (Some(2), Some(1.0), Some(706))
    );
    // At noon UTC on Nov 2, E (04:30 UTC) is today's in UTC, and yesterday's in New York.
    let utc = app.request(Method::GET, "/api/v1/me/stats?tz=UTC", Some(&agent), None).await.expect_status(200).body;
    assert_eq!((utc["range"].as_str(), utc["mine"]["answered"].as_f64()), (Some("today"), Some(1.0)));
    let path = "/api/v1/me/stats?tz=America/New_York";
    let new_york = app.request(Method::GET, path, Some(&agent), None).await.expect_status(200).body;
    assert_eq!(new_york["mine"]["answered"].as_f64(), Some(0.0));
    let refused = app.request_with(Method::GET, "/api/v1/agents/ann/stats", sam, &[], None).await;
    refused.expect_error(403, "forbidden");
    app.request_with(Method::GET, "/api/v1/agents/cy/stats", sam, &[], None).await.expect_status(200);
    let odd = app.request(Method::GET, "/api/v1/me/stats?range=fortnight", Some(&agent), None).await;
    assert!(odd.expect_error(422, "validation_failed").starts_with("range:"));
    app.request(Method::GET, "/api/v1/agents/nobody/stats", Some(ADMIN), None).await.expect_error(404, "not_found");

    for (query, param) in [
        ("from=2026-11-02&to=2026-11-01", "from"),
        ("from=2025-01-01&to=2026-11-01", "to"),
        ("tz=Mars/Olympus", "tz"),
        ("group_by=fortnight", "group_by"),
        ("format=xml", "format"),
        ("from=yesterday", "from"),
        ("queue=nowhere", "queue"),
        ("team=green", "team"),
        ("agent=nobody", "agent"),
        ("number=%2B15559999999", "number"),
        ("table=nothing&format=csv", "table"),
    ] {
        let reply = report(&app, Auth::Bearer(ADMIN), &format!("/api/v1/reports/queues?{query}")).await;
        let message = reply.expect_error(422, "validation_failed");
        assert!(message.starts_with(&format!("{param}:")), "{query}: {message}");
    }
    let history = report(&app, Auth::Bearer(ADMIN), "/api/v1/reports/chat-history").await;
    assert!(history.expect_error(422, "validation_failed").starts_with("consumer:"));
    let unknown = report(&app, Auth::Bearer(ADMIN), "/api/v1/reports/revenue").await;
    assert!(
        unknown.expect_error(404, "not_found").contains("users-teams, queues, calls-chats, performance, chat-history")
    );
}
