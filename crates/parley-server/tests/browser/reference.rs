//! The API reference (`/api/docs`) in a real browser: it loads under the console's content policy
//! with nothing in the browser's console, and its filter narrows the operations to the words typed.

use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use thirtyfour::prelude::*;

use crate::browser::{Browsers, console_problems, element, js, until};
use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_page_loads_clean_and_its_filter_narrows_the_operations() {
    const TEST: &str = "reference_filter";
    let Some(mut browsers) = Browsers::start(TEST) else { return };
    let app = TestApp::with_standard_setup().await;
    let outcome = AssertUnwindSafe(filter(&mut browsers, &app)).catch_unwind().await;
    browsers.finish(outcome).await;
}

/// How many operations are shown, and how many there are.
const COUNTS: &str = "const ops = [...document.querySelectorAll('article.op')]; \
                      return [ops.filter((o) => !o.hidden).length, ops.length];";

async fn filter(browsers: &mut Browsers, app: &TestApp) {
    let reader = browsers.open("reader").await;
    reader.goto(format!("{}/api/docs", app.base)).await.expect("opening the reference");
    until(
        &reader,
        "the reference's script to run",
        "return document.documentElement.dataset.filter === 'ready'",
        "main",
    )
    .await;
    let counts = js(&reader, COUNTS).await;
    let total = counts[1].as_u64().expect("a count");
    assert!(total > 40 && counts[0] == counts[1], "every operation is shown at first: {counts}");

    // Typing a scope leaves the operations that need it, and the contents follow.
    let input = element(&reader, "the filter box", "return document.getElementById('filter')", "nav").await;
    input.send_keys("sms:send").await.expect("typing into the filter");
    until(
        &reader,
        "only the operations of sms:send to be shown",
        "const shown = [...document.querySelectorAll('article.op')].filter((o) => !o.hidden); \
         return shown.length > 0 && shown.every((o) => o.dataset.scopes.split(' ').includes('sms:send')) \
           && !document.getElementById('op-start_chat').hidden \
           && document.querySelector('li[data-op=\"op-start_chat\"]').offsetParent !== null \
           && document.getElementById('op-list_chats').hidden \
           && document.querySelector('li[data-op=\"op-list_chats\"]').offsetParent === null",
        "#filter-count",
    )
    .await;
    let count = js(&reader, "return document.getElementById('filter-count').textContent").await;
    assert!(count.as_str().is_some_and(|c| c.ends_with(&format!(" of {total} operations"))), "{count}");

    // Two words must both match; nothing matching says so.
    input.clear().await.expect("clearing the filter");
    input.send_keys("post /outbound/").await.expect("typing into the filter");
    until(
        &reader,
        "the two POSTs of the outbound API",
        "const shown = [...document.querySelectorAll('article.op')].filter((o) => !o.hidden).map((o) => o.id); \
         return shown.join(',') === 'op-start_chat,op-send_outbound_message'",
        "#filter-count",
    )
    .await;
    input.clear().await.expect("clearing the filter");
    input.send_keys("no-such-operation").await.expect("typing into the filter");
    until(&reader, "the page to say nothing matches", "return !document.getElementById('no-match').hidden", "main")
        .await;

    // A link to a filtered view (?q=) opens filtered, and an operation's anchor is on the page.
    reader.goto(format!("{}/api/v1?q=sms%3Asend#op-send_outbound_message", app.base)).await.expect("opening");
    until(&reader, "the filtered view", "return document.documentElement.dataset.filter === 'ready'", "main").await;
    let counts = js(&reader, COUNTS).await;
    assert!(counts[0].as_u64() < Some(total), "the view from ?q= is filtered: {counts}");
    let title = reader.find(By::Css("#op-send_outbound_message h3")).await.expect("the operation's heading");
    assert!(title.text().await.expect("its text").contains("/api/v1/outbound/messages"));

    let problems = console_problems(&reader).await;
    assert!(problems.is_empty(), "the browser's console reported: {problems:#?}");
}
