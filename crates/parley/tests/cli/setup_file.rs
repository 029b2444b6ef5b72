//! `parley setup apply FILE` and `parley setup export`: the TOML form of the setup document, validated
//! as a whole and applied atomically.

use std::path::Path;
use std::process::{Command, Output};

fn parley(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .current_dir(dir)
        .env_remove("PARLEY_DATABASE_URL")
        .env_remove("PARLEY_CONFIG")
        .output()
        .expect("the parley binary runs")
}

const GOOD: &str = r#"
[[numbers]]
number = "+15550001000"
label = "Support"
carrier = "sim"
queues = ["billing", "tech"]

[[queues]]
id = "billing"
name = "Billing"
keywords = ["1", "BILLING"]

[[queues]]
id = "tech"
name = "Technical support"
keywords = ["2", "TECH"]

[[agents]]
id = "alice"
name = "Alice Smith"
queues = ["billing"]
capacity = 3

[settings]
brand = "Acme"
"#;

#[test]
fn a_setup_file_applies_and_exports_back_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("parley.db").display());
    std::fs::write(dir.path().join("setup.toml"), GOOD).unwrap();

    let applied = parley(dir.path(), &["setup", "apply", "setup.toml", "--database-url", &db]);
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    let said = String::from_utf8_lossy(&applied.stdout);
    assert!(said.contains("applied setup version 1: 1 numbers, 2 queues, 1 agents, 0 teams"), "{said}");

    let exported = parley(dir.path(), &["setup", "export", "--database-url", &db]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let text = String::from_utf8(exported.stdout).unwrap();
    let doc: toml::Value = toml::from_str(&text).expect("the export is TOML");
    assert_eq!(doc["numbers"][0]["number"].as_str(), Some("+15550001000"));
    assert_eq!(doc["queues"][1]["keywords"][1].as_str(), Some("TECH"));
    assert_eq!(doc["agents"][0]["capacity"].as_integer(), Some(3));
    assert_eq!(doc["settings"]["brand"].as_str(), Some("Acme"));

    // The export applies again as it is: the round trip is lossless.
    std::fs::write(dir.path().join("again.toml"), &text).unwrap();
    let again = parley(dir.path(), &["setup", "apply", "again.toml", "--database-url", &db]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let second = parley(dir.path(), &["setup", "export", "--database-url", &db]);
    assert_eq!(String::from_utf8(second.stdout).unwrap(), text);
}

#[test]
fn a_bad_setup_file_names_every_problem_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("parley.db").display());
    std::fs::write(dir.path().join("setup.toml"), GOOD).unwrap();
    assert!(parley(dir.path(), &["setup", "apply", "setup.toml", "--database-url", &db]).status.success());

    let bad = GOOD.replace("\"+15550001000\"", "\"5550001000\"").replace("[\"billing\"]", "[\"billing\", \"nope\"]");
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let refused = parley(dir.path(), &["setup", "apply", "bad.toml", "--database-url", &db]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("the setup was not applied"), "{err}");
    assert!(err.contains("\"5550001000\" is neither an E.164 number"), "{err}");
    assert!(err.contains("agent \"alice\" refers to unknown queue \"nope\""), "{err}");

    std::fs::write(dir.path().join("typo.toml"), GOOD.replace("capacity = 3", "capacity = 3\ncolour = \"blue\""))
        .unwrap();
    let typo = parley(dir.path(), &["setup", "apply", "typo.toml", "--database-url", &db]);
    assert!(!typo.status.success());
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(err.contains("typo.toml") && err.contains("colour"), "{err}");

    let missing = parley(dir.path(), &["setup", "apply", "missing.toml", "--database-url", &db]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("reading missing.toml"));

    let exported = parley(dir.path(), &["setup", "export", "--database-url", &db]);
    let text = String::from_utf8(exported.stdout).unwrap();
    assert!(
        text.contains("\"+15550001000\"") && !text.contains("nope"),
        "nothing of the bad files was applied: {text}"
    );
}

#[test]
fn every_command_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (vec!["--help"], vec!["serve", "demo", "setup", "migrate", "bench"]),
        (vec!["serve", "--help"], vec!["--listen", "--database-url", "--config", "--sim", "PARLEY_LISTEN"]),
        (vec!["demo", "--help"], vec!["--listen"]),
        (vec!["setup", "apply", "--help"], vec!["FILE", "--database-url"]),
        (vec!["bench", "ingest", "--help"], vec!["--messages", "--phones", "--concurrency"]),
    ] {
        let out = parley(dir.path(), &args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        for word in expected {
            assert!(text.contains(word), "`parley {}` does not mention {word}:\n{text}", args.join(" "));
        }
    }
    let example = parley(dir.path(), &["config", "example"]);
    assert!(String::from_utf8_lossy(&example.stdout).contains("database_url = \"sqlite://parley.db\""));
}
