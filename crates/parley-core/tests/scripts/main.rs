#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Conversation scripts for the chat state machine.
//!
//! Every test plays one conversation through [`parley_core::chat::decide`] with [`check`] and compares
//! the transcript (inputs, messages sent, events, consent changes, refusals and the chat's status) with
//! an inline snapshot. After editing a script, regenerate with
//! `UPDATE_EXPECT=1 cargo test -p parley-core --test scripts` and read the new snapshot: it is an
//! assertion about behaviour, not a recording.

mod harness;

mod blocklist;
mod business_hours;
mod call_threads;
mod commands;
mod consent;
mod conversation;
mod dismissal;
mod first_contact;
mod help;
mod languages;
mod menus;
mod numbers_roles;
mod outbound;
mod routing;
mod taking_chats;
mod timers;
mod transfers;

use harness::check;
