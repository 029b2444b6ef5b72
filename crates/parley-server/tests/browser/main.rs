#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Browser tests of the console: the server in process (the e2e harness's `TestApp`, so SQLite or
//! PostgreSQL as `PARLEY_TEST_DATABASE_URL` says), driven by real headless Chromium through
//! chromedriver, as agents, supervisors and a consumer on the simulator page would drive it.
//!
//! `browser` starts the driver and sessions and saves screenshots on failure; `console` holds the
//! scenarios of the first console (issue 6) and its shared steps, `workspace` those of the floor of
//! agents (issue 13), `presence` an agent's console closing, `admin` those of the admin page,
//! `contacts` the contact panel beside a chat and the contacts page.

#[path = "../e2e/harness.rs"]
#[allow(dead_code, reason = "the e2e harness serves many tests; these use a few of its helpers")]
mod harness;

mod admin;
mod browser;
mod calls;
mod console;
mod contacts;
mod dismissal;
mod mms;
mod outbound_seed;
mod presence;
mod reference;
mod reports;
mod send_later;
mod thread;
mod workspace;
