#![allow(clippy::unwrap_used, clippy::expect_used)]
//! End-to-end tests of the Parley server: a real server in process on a fresh database per test
//! (SQLite, or PostgreSQL when `PARLEY_TEST_DATABASE_URL` is set), driven only through its HTTP API and
//! the simulator carrier, as phones, agents and admins would drive it.
//!
//! `harness` holds `TestApp` and the helpers; every other module is one capability.

mod harness;

mod api_keys;
mod audit;
mod authorization;
mod bad_input;
mod blocklist;
mod call_sms;
mod chat_export;
mod concurrency;
mod consent;
mod consent_property;
mod console_api;
mod contacts_api;
mod crm_connectors;
mod crm_hubspot;
mod crm_matching;
mod dismissal;
mod events;
mod ewt;
mod hubspot_server;
mod idempotency;
mod idempotency_key;
mod ivr;
mod languages_hours;
mod lifecycle;
mod lifecycle_done_when;
mod masking;
mod media;
mod media_out;
mod menus;
mod monitor;
mod number_roles;
mod numbers;
mod openapi;
mod operations;
mod outage;
mod outbound;
mod outbound_seed;
mod presence;
mod privacy;
mod reference;
mod registration;
mod replies;
mod reports;
mod resend;
mod routing;
mod send_later;
mod sessions;
mod settings_tree;
mod shared_limits;
mod smpp_chat;
mod threads;
mod throttle;
mod timers;
mod transfers;
mod twilio_api;
mod twilio_voice;
mod twilio_webhooks;
mod webhooks_out;
