#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `parley` binary as people and scripts use it: the setup document on the command line, erasing a
//! phone on request, console users, and crash safety under SIGKILL.

mod privacy;
mod restart;
mod setup_file;
mod users;
