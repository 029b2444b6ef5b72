#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The storage conformance story: every test runs on a fresh database of whichever engine the
//! environment picks (a SQLite temp file, or PostgreSQL when `PARLEY_TEST_DATABASE_URL` is set), so
//! the same assertions hold for both implementations behind `Store`.

mod support;

mod admin;
mod audit;
mod batch;
mod chats;
mod claims;
mod consent;
mod contacts;
mod crm_links;
mod erasure;
mod events;
mod limits;
mod media;
mod messages;
mod numbers;
mod outbox;
mod receipts;
mod retention;
mod schema;
mod sim;
mod throughput;
mod timeline;
mod turns;
mod webhooks;
