#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `parley` binary as people and scripts use it: the setup document on the command line, erasing a
//! phone on request, contacts as CSV, console users, crash safety under SIGKILL, and several nodes behind HAProxy.

mod bench_seed;
mod cluster;
mod contacts;
mod multinode;
mod privacy;
mod restart;
mod setup_file;
mod single_node;
mod users;
