//! `parley users`: a user made on the command line logs in to a running server; passwords come from
//! standard input or `PARLEY_USER_PASSWORD` and are refused under 10 characters; `list` never shows a
//! hash; `disable` stops the logins. Runs on SQLite, or on PostgreSQL when `PARLEY_TEST_DATABASE_URL`
//! is set.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use parley_server::config::{Config, Secret};
use reqwest::{Client, StatusCode};
use serde_json::json;

const ADMIN: &str = "cli-users-admin-token";

/// Runs `parley ARGS` in `dir` with `stdin` piped in and `env` set; nothing of the developer's
/// environment (database, config, password) leaks in.
fn parley(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("PARLEY_DATABASE_URL")
        .env_remove("PARLEY_CONFIG")
        .env_remove("PARLEY_USER_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the parley binary runs");
    let mut input = child.stdin.take().expect("a stdin pipe");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("writing stdin");
    }
    drop(input);
    child.wait_with_output().expect("the parley binary finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
}

/// Posts the login form; returns the status and the session cookie's value, if one was set.
async fn login(client: &Client, base: &str, username: &str, password: &str) -> (StatusCode, Option<String>) {
    let response = client
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .expect("an answer to the login");
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.strip_prefix("parley_session="))
        .and_then(|c| c.split(';').next())
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    (response.status(), cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_added_on_the_command_line_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = parley_store::testing::fresh_database_url(dir.path(), "cli_users_log_in").await.unwrap();
    let dir = dir.path();

    // Too short, from standard input: refused, and nothing is stored.
    let short = parley(
        dir,
        &["users", "add", "alice", "--role", "agent", "--agent", "alice", "--password-stdin", "--database-url", &url],
        Some("short\n"),
        &[],
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("at least 10"), "{}", text(&short.stderr));
    // No password at all: the message says where to put one.
    let none = parley(dir, &["users", "add", "alice", "--role", "admin", "--database-url", &url], None, &[]);
    assert!(text(&none.stderr).contains("--password-stdin"), "{}", text(&none.stderr));
    // An agent user without its agent.
    let no_agent = parley(dir, &["users", "add", "bob", "--role", "agent", "--database-url", &url], None, &[]);
    assert!(text(&no_agent.stderr).contains("--agent"), "{}", text(&no_agent.stderr));

    let added = succeeded(&parley(
        dir,
        &[
            "users",
            "add",
            "alice",
            "--role",
            "agent",
            "--agent",
            "alice",
            "--name",
            "Alice Smith",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("alice-cli-password\n"),
        &[],
    ));
    assert!(added.contains("created agent \"alice\""), "{added}");
    let added = succeeded(&parley(
        dir,
        &["users", "add", "Sam", "--role", "supervisor", "--team", "blue", "--database-url", &url],
        None,
        &[("PARLEY_USER_PASSWORD", "sam-env-password")],
    ));
    assert!(added.contains("created supervisor \"sam\""), "{added}");
    let again = parley(
        dir,
        &["users", "add", "ALICE", "--role", "admin", "--database-url", &url],
        None,
        &[("PARLEY_USER_PASSWORD", "another-password")],
    );
    assert!(text(&again.stderr).contains("already exists"), "{}", text(&again.stderr));

    let listed = succeeded(&parley(dir, &["users", "list", "--database-url", &url], None, &[]));
    assert!(listed.contains("alice") && listed.contains("agent alice") && listed.contains("teams blue"), "{listed}");
    assert!(!listed.contains("argon2") && !listed.contains("alice-cli-password"), "{listed}");

    // A server on the same database, with alice in its setup.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config { admin_token: Some(Secret::new(ADMIN)), ..Config::with_database(url.clone()) };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(parley_server::serve(config, listener, async move {
        let _ = stopped.await;
    }));
    let client = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let setup = json!({
        "numbers": [{"number": "+15550001000", "label": "Support", "carrier": "sim", "queues": ["billing"]}],
        "queues": [{"id": "billing", "name": "Billing", "keywords": ["1"]}],
        "agents": [{"id": "alice", "name": "Alice Smith", "queues": ["billing"]}],
        "teams": [{"id": "blue", "name": "Blue", "members": ["alice"]}]
    });
    let applied = client.put(format!("{base}/api/v1/setup")).bearer_auth(ADMIN).json(&setup).send().await.unwrap();
    assert_eq!(applied.status(), StatusCode::OK);

    let (status, cookie) = login(&client, &base, "alice", "alice-cli-password").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = cookie.expect("a session cookie");
    let session: serde_json::Value = client
        .get(format!("{base}/api/v1/session"))
        .header(reqwest::header::COOKIE, format!("parley_session={cookie}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((session["username"].as_str(), session["agent"].as_str()), (Some("alice"), Some("alice")), "{session}");
    assert_eq!(session["display_name"], "Alice Smith");
    assert_eq!(login(&client, &base, "sam", "sam-env-password").await.0, StatusCode::SEE_OTHER);

    // A new password from the command line: the old one and the old session stop working.
    succeeded(&parley(
        dir,
        &["users", "set-password", "alice", "--password-stdin", "--database-url", &url],
        Some("alice-new-password\n"),
        &[],
    ));
    assert_eq!(login(&client, &base, "alice", "alice-cli-password").await.0, StatusCode::UNAUTHORIZED);
    let old = client
        .get(format!("{base}/api/v1/session"))
        .header(reqwest::header::COOKIE, format!("parley_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&client, &base, "alice", "alice-new-password").await.0, StatusCode::SEE_OTHER);

    // Disabled: even the right password is refused.
    let disabled = succeeded(&parley(dir, &["users", "disable", "alice", "--database-url", &url], None, &[]));
    assert!(disabled.contains("disabled"), "{disabled}");
    assert_eq!(login(&client, &base, "alice", "alice-new-password").await.0, StatusCode::UNAUTHORIZED);
    let unknown = parley(dir, &["users", "disable", "nobody", "--database-url", &url], None, &[]);
    assert!(text(&unknown.stderr).contains("no user \"nobody\""), "{}", text(&unknown.stderr));
    succeeded(&parley(dir, &["users", "enable", "alice", "--database-url", &url], None, &[]));
    assert_eq!(login(&client, &base, "alice", "alice-new-password").await.0, StatusCode::SEE_OTHER);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
