//! `parley contacts import|export`: a CSV with good and bad rows imports the good ones and names the
//! bad ones by line (exit 1); a dry run writes nothing; the export guards formula cells and has a
//! column per custom field; importing the export into another database makes the same contacts. Runs
//! on SQLite, or on PostgreSQL when `PARLEY_TEST_DATABASE_URL` is set.

use std::path::Path;
use std::process::{Command, Output};

use parley_core::crm::contact::ContactData;
use parley_store::Store;

fn parley(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .current_dir(dir)
        .env_remove("PARLEY_DATABASE_URL")
        .env_remove("PARLEY_CONFIG")
        .output()
        .expect("the parley binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SETUP: &str = r#"
[[contact_fields]]
key = "plan"
label = "Plan"
type = "choice"
choices = ["gold", "silver"]

[[contact_fields]]
key = "since"
label = "Customer since"
type = "date"
"#;

/// Three good rows and two bad ones (a phone without its country code, a choice not declared), the
/// bad ones after a note that spans three lines.
const IMPORT: &str = "name,phones,email,company,tags,notes,plan,since\n\
    Ada Lovelace,+14155550100;+442071838750,ada@example.com,\"Engines, Ltd\",VIP;b2b,\"first line\nsecond\nthird\",gold,2026-1-2\n\
    Bob,4155550101,,,,,,\n\
    =Eve,+14155550102,,@home,,,bronze,\n\
    =Eve,+14155550103,eve@example.com,@home,,-owes us,silver,\n\
    Dan,+4915112345678,,,,,,\n";

async fn contacts_of(url: &str) -> Vec<ContactData> {
    let store = Store::connect(url).await.unwrap();
    let rows = store.contacts_for_export(None, 200).await.unwrap();
    store.close().await;
    rows.into_iter().map(|r| r.data).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_import_refuses_bad_rows_by_line_and_round_trips_through_export() {
    let dir = tempfile::tempdir().unwrap();
    let url = parley_store::testing::fresh_database_url(dir.path(), "cli_contacts_import").await.unwrap();
    // On SQLite the database is a file of the directory: the second one needs a directory of its own.
    let other = tempfile::tempdir().unwrap();
    let again = parley_store::testing::fresh_database_url(other.path(), "cli_contacts_again").await.unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("setup.toml"), SETUP).unwrap();
    std::fs::write(dir.join("in.csv"), IMPORT).unwrap();
    for db in [&url, &again] {
        let applied = parley(dir, &["setup", "apply", "setup.toml", "--database-url", db]);
        assert!(applied.status.success(), "{}", text(&applied.stderr));
    }

    // A dry run reports everything and writes nothing.
    let dry = parley(dir, &["contacts", "import", "in.csv", "--dry-run", "--database-url", &url]);
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("dry run: 3 contacts would be imported; 2 rows refused"),
        "{}",
        text(&dry.stdout)
    );
    assert!(contacts_of(&url).await.is_empty());

    let import = parley(dir, &["contacts", "import", "in.csv", "--database-url", &url]);
    assert_eq!(import.status.code(), Some(1), "{}", text(&import.stderr));
    assert_eq!(text(&import.stdout).trim(), "imported 3 contacts; 2 rows refused");
    let report = text(&import.stderr);
    let refused: Vec<&str> = report.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(refused.len(), 2, "{report}");
    assert!(refused[0].starts_with("line 5: /phones/0/number: "), "{report}");
    assert_eq!(refused[1], "line 6: /fields/plan: \"bronze\" is not one of the choices: gold, silver");
    let stored = contacts_of(&url).await;
    let names: Vec<&str> = stored.iter().filter_map(|c| c.name.as_deref()).collect();
    assert_eq!(names, ["Ada Lovelace", "=Eve", "Dan"]);
    assert_eq!(stored[0].fields["since"], "2026-01-02");

    // Each contact came with its event, by the import.
    let store = Store::connect(&url).await.unwrap();
    let events = store.events_after(0, 100).await.unwrap();
    store.close().await;
    let changes: Vec<&parley_store::rows::EventRow> = events.iter().filter(|e| e.kind == "contact.changed").collect();
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().all(|e| e.data.contains("\"by\":\"import\"") && e.data.contains("\"created\"")));

    let export = parley(dir, &["contacts", "export", "out.csv", "--database-url", &url]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let csv = std::fs::read_to_string(dir.join("out.csv")).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "id,name,phones,email,company,owner,tags,notes,plan,since,created_at,updated_at");
    let ada: Vec<&str> = lines[1].splitn(4, ',').collect();
    assert!(ada[0].starts_with("CT") && ada[0].len() == 34, "{}", lines[1]);
    assert_eq!(ada[1..3], ["Ada Lovelace", "'+14155550100;+442071838750"]);
    assert!(
        lines[1].contains(",\"Engines, Ltd\",,b2b;vip,\"first line\nsecond\nthird\",gold,2026-01-02,"),
        "{}",
        lines[1]
    );
    let eve = lines[2].split(',').collect::<Vec<_>>();
    assert_eq!(eve[1..10], ["'=Eve", "'+14155550103", "eve@example.com", "'@home", "", "", "'-owes us", "silver", ""]);

    // The export imports as it is, into another database: the same contacts.
    let back = parley(dir, &["contacts", "import", "out.csv", "--database-url", &again]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back.stderr));
    assert_eq!(text(&back.stdout).trim(), "imported 3 contacts; 0 rows refused");
    assert_eq!(contacts_of(&again).await, stored);
}

#[test]
fn contacts_import_of_an_unreadable_file_or_header_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("parley.db").display());
    let missing = parley(dir.path(), &["contacts", "import", "missing.csv", "--database-url", &db]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("reading missing.csv"), "{}", text(&missing.stderr));

    std::fs::write(dir.path().join("bad.csv"), "name,mobile\nAda,+14155550100\n").unwrap();
    let bad = parley(dir.path(), &["contacts", "import", "bad.csv", "--database-url", &db]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("unknown columns: mobile; the known columns are: id, name,"),
        "{}",
        text(&bad.stderr)
    );
}
