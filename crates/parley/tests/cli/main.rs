#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `parley` binary as people and scripts use it: the setup document on the command line, and crash
//! safety under SIGKILL.

mod restart;
mod setup_file;
