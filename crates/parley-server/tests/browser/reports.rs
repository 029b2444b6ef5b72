//! The reports page in a real browser: a supervisor picks a period and a queue, sees the server's
//! chart inline (with its text alternative) and the table beside it, switches tables, and downloads
//! the CSV of what is shown.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use reqwest::Method;
use serde_json::json;

use crate::browser::{Browsers, until};
use crate::console::{PASSWORD, log_in};
use crate::harness::{ADMIN, SUPPORT, TestApp, standard_setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_a_supervisor_sees_the_chart_and_table_and_downloads_the_csv() {
    const TEST: &str = "reports";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::spawn().await;
    app.apply_setup(&standard_setup()).await;
    let outcome = AssertUnwindSafe(scenario(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

async fn scenario(browsers: &mut Browsers, app: &TestApp) {
    let sam = json!({"username": "sam", "password": PASSWORD, "role": "supervisor", "teams": ["blue"]});
    app.request(Method::POST, "/api/v1/users", Some(ADMIN), Some(&sam)).await.expect_status(201);
    let session = browsers.open("sam").await;
    log_in(&session, app, "sam").await;

    // The live monitor, open while things happen: alice answers and ends one billing chat.
    let alice = app.agent(&app.agent_token("alice").await);
    alice.set_status("available").await;
    let chat = app.phone("+14155550901").to(SUPPORT).texts("billing").await.chat_id.expect("a chat");
    alice.accept(&chat).await;
    alice.say(&chat, "Hello").await;
    alice.end(&chat).await;
    until(
        &session,
        "billing's day and alice's answered chat on the monitor, without a reload",
        "const q = document.querySelector('#queues tr[data-queue=billing]')?.innerText ?? ''; \
         const a = document.querySelector('#agents tr[data-agent=alice]')?.cells[4]?.innerText; \
         return q.includes('100% within 1 min') && a === '1'",
        "#monitor",
    )
    .await;
    session
        .execute(
            "[...document.querySelectorAll('#today-tabs button')].find((b) => b.dataset.live === 'past').click()",
            Vec::new(),
        )
        .await
        .expect("opening today's past chats");
    until(
        &session,
        "the ended chat under today's Past with the seed's columns",
        &format!(
            "const r = document.querySelector('#today-rows tr[data-chat=\"{}\"]'); \
         return !!r && r.cells[1].innerText === 'Billing' && r.cells[2].innerText === 'SMS' \
           && r.cells[5].innerText === 'Alice Smith' && r.cells[9].innerText === 'ended by agent'",
            chat
        ),
        "#monitor",
    )
    .await;
    // A tech chat comes in: it is upcoming, and tech waits, live.
    session
        .execute(
            "[...document.querySelectorAll('#today-tabs button')].find((b) => b.dataset.live === 'upcoming').click()",
            Vec::new(),
        )
        .await
        .expect("opening today's upcoming chats");
    app.phone("+14155550902").to(SUPPORT).texts("tech").await;
    until(
        &session,
        "the waiting tech chat, without a reload",
        "const rows = [...document.querySelectorAll('#today-rows tr')].map((r) => r.innerText); \
         const tech = document.querySelector('#queues tr[data-queue=tech]'); \
         return rows.some((r) => r.includes('Technical support')) && tech?.cells[1].innerText === '1'",
        "#monitor",
    )
    .await;
    session.goto(format!("{}/console/reports", app.base)).await.expect("opening the reports");
    session
        .execute(
            "const tz = document.getElementById('report-tz'); tz.value = 'UTC'; \
             const r = document.getElementById('report-range'); r.value = 'today'; \
             r.dispatchEvent(new Event('change'));",
            Vec::new(),
        )
        .await
        .expect("picking today");
    until(
        &session,
        "the queues report's chart and table",
        "const desc = document.querySelector('#report-chart svg desc'); \
         const rows = [...document.querySelectorAll('#report-table tbody tr')].map((r) => r.innerText); \
         return !!desc && desc.textContent.includes('Billing: Service level 100') \
           && desc.textContent.includes('Technical support: Service level 0') \
           && rows.some((r) => r.startsWith('all\\tbilling\\tBilling\\t1\\t1\\t0'))",
        "#reports-page",
    )
    .await;

    // One queue, and the users-teams report: alice's answered chat in the chart and the table.
    session
        .execute(
            "document.getElementById('report-kind').value = 'users-teams'; \
             document.getElementById('report-queue').value = 'billing'; \
             document.querySelector('#report-form button[type=submit]').click();",
            Vec::new(),
        )
        .await
        .expect("asking for users-teams");
    until(
        &session,
        "the users-teams chart and table",
        "const desc = document.querySelector('#report-chart svg desc'); \
         const rows = [...document.querySelectorAll('#report-table tbody tr')].map((r) => r.innerText); \
         return !!desc && desc.textContent.startsWith('Answered chats by agent') && desc.textContent.includes('Alice Smith: Answered 1') \
           && rows.some((r) => r.startsWith('all\\tagent\\talice\\tAlice Smith'))",
        "#reports-page",
    )
    .await;

    // The CSV link downloads what is shown, with the session.
    let csv = session
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const link = document.getElementById('report-csv'); \
             fetch(link.href, {credentials: 'same-origin'}).then(async (r) => done([r.status, r.headers.get('content-type'), \
               r.headers.get('content-disposition'), await r.text()]));",
            Vec::new(),
        )
        .await
        .expect("fetching the CSV");
    let csv: (u16, String, String, String) = csv.convert().expect("the CSV answer");
    assert_eq!((csv.0, csv.1.as_str()), (200, "text/csv; charset=utf-8"), "{csv:?}");
    assert!(csv.2.starts_with("attachment; filename=\"parley-users-teams-users_teams-"), "{csv:?}");
    let lines: Vec<&str> = csv.3.split("\r\n").collect();
    assert!(lines[0].starts_with("period,level,id,name,members,chats,offered,answered"), "{csv:?}");
    assert!(lines.iter().any(|l| l.starts_with("all,agent,alice,Alice Smith,,1,1,1,0")), "{csv:?}");
}
