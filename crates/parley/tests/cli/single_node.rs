//! SQLite serves one node: a second `parley serve` on the same database file refuses to start, says
//! why and points to PostgreSQL, while the first keeps serving. Two engines on one file would each
//! believe they are its only writer.

use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use crate::cluster::{Node, client};

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("parley.db").display());
    let mut first = Node::spawn(dir.path(), &url, "first");
    first.wait_until_ready().await;

    let second = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(["serve", "--sim", "--listen", "127.0.0.1:0", "--database-url", &url])
        .current_dir(dir.path())
        .env_remove("PARLEY_CONFIG")
        .env_remove("PARLEY_DATABASE_URL")
        .env_remove("PARLEY_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = second.id();
    let output = tokio::task::spawn_blocking(move || second.wait_with_output()).await.unwrap().unwrap();
    assert!(Instant::now() < deadline, "the second server (pid {pid}) took too long to give up");
    assert!(!output.status.success(), "the second server must not start");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("another `parley serve` is already running"), "{said}");
    assert!(said.contains("PostgreSQL"), "the message points to PostgreSQL: {said}");

    // The first one still answers.
    let ready = client(Some(Duration::from_secs(5))).get(format!("{}/readyz", first.base())).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}
