#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The carrier adapters' tests: one module per adapter, each against a fake peer it scripts.

mod smpp;
mod twilio;
