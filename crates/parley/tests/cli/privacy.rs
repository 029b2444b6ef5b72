//! `parley privacy erase +E164`: erases one phone's data straight in the database, prints what it
//! deleted, keeps a tombstone hashed with the configured `privacy_secret`, and refuses a phone whose
//! chat is still live. Runs on SQLite, or on PostgreSQL when `PARLEY_TEST_DATABASE_URL` is set.

use std::path::Path;
use std::process::{Command, Output};

use parley_core::chat::ChatStatus;
use parley_core::message::MessageStatus;
use parley_core::phone::E164;
use parley_server::privacy::{DEFAULT_SECRET, phone_hash};
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::rows::{ChatRow, ConsentEntry, ConsentRow, MessageRow, SimRow};

const PHONE: &str = "+14155550100";
const OTHER: &str = "+14155550101";
const BUSINESS: &str = "+15550001000";
const T0: i64 = 1_700_000_000_000;

fn parley(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .current_dir(dir)
        .env_remove("PARLEY_DATABASE_URL")
        .env_remove("PARLEY_CONFIG")
        .env_remove("PARLEY_PRIVACY_SECRET")
        .output()
        .expect("the parley binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh, migrated database of whichever engine the environment picks.
async fn database(dir: &Path, unique: &str) -> (String, Store) {
    let url = parley_store::testing::fresh_database_url(dir, unique).await.unwrap();
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (url, store)
}

fn chat(id: &str, consumer: &str, status: ChatStatus) -> ChatRow {
    ChatRow {
        queue: Some("billing".to_owned()),
        queued_at: Some(T0),
        language: "en".to_owned(),
        ended_at: (status == ChatStatus::Finished).then_some(T0 + 1),
        ..ChatRow::new(id, BUSINESS, consumer, status, T0)
    }
}

fn message(id: &str, chat_id: &str, consumer: &str, direction: &str) -> MessageRow {
    let body = format!("text {id}");
    let message = if direction == "in" {
        MessageRow::inbound(id, BUSINESS, consumer, "sim", format!("p-{id}"), body, T0)
    } else {
        MessageRow {
            status: MessageStatus::Delivered,
            ..MessageRow::outbound(id, BUSINESS, consumer, "sim", "system", body, T0)
        }
    };
    MessageRow { chat_id: Some(chat_id.to_owned()), ..message }
}

/// `phone` chatted once (finished, or still live) and texted STOP if `opted_out`.
fn history(phone: &str, chat_id: &str, status: ChatStatus, opted_out: bool) -> Batch {
    Batch {
        chats: vec![chat(chat_id, phone, status)],
        messages: vec![
            message(&format!("{chat_id}-in"), chat_id, phone, "in"),
            message(&format!("{chat_id}-out"), chat_id, phone, "out"),
        ],
        consents: vec![ConsentRow { phone: phone.to_owned(), opted_out, notice_sent: true, updated_at: T0 }],
        ledger: vec![ConsentEntry {
            phone: phone.to_owned(),
            change: if opted_out { "opted_out" } else { "notice_sent" }.to_owned(),
            keyword: opted_out.then(|| "STOP".to_owned()),
            number: BUSINESS.to_owned(),
            source: "sms".to_owned(),
            at: T0,
        }],
        sim: vec![SimRow {
            seq: 0,
            phone: phone.to_owned(),
            business: BUSINESS.to_owned(),
            direction: "mo".to_owned(),
            body: "hi".to_owned(),
            media: String::new(),
            message_id: None,
            at: T0,
        }],
        ..Batch::default()
    }
}

#[tokio::test]
async fn erase_prints_what_it_deleted_and_the_tombstone_uses_the_configured_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store) = database(dir.path(), "cli_privacy_erase").await;
    store.commit_batch(&history(PHONE, "chat-1", ChatStatus::Finished, true)).await.unwrap();
    store.commit_batch(&history(OTHER, "chat-2", ChatStatus::Finished, false)).await.unwrap();
    std::fs::write(dir.path().join("parley.toml"), "privacy_secret = \"cli-test-secret\"\n").unwrap();

    let erased = parley(dir.path(), &["privacy", "erase", PHONE, "--database-url", &url]);
    let (out, err) = (text(&erased.stdout), text(&erased.stderr));
    assert!(erased.status.success(), "{out}{err}");
    assert!(
        out.contains(&format!(
            "erased {PHONE}: 2 messages, 0 media, 0 events, 1 chats, 1 simulator messages, 1 consent, \
             1 consent ledger entries, 0 pending receipts"
        )),
        "{out}"
    );
    assert!(out.contains("stays opted out"), "{out}");
    assert!(!err.contains("privacy_secret is not set"), "the secret came from parley.toml: {err}");

    let phone = E164::parse(PHONE).unwrap();
    assert!(store.erased_opt_out(&phone_hash("cli-test-secret", &phone)).await.unwrap());
    assert!(!store.erased_opt_out(&phone_hash(DEFAULT_SECRET, &phone)).await.unwrap());
    assert!(store.chats_by_ids(&["chat-1".to_owned()]).await.unwrap().is_empty());
    assert!(store.consents(&[PHONE.to_owned()]).await.unwrap().is_empty());
    assert!(store.sim_thread(PHONE, 0).await.unwrap().is_empty());
    // The other phone keeps everything.
    assert_eq!(store.transcript("chat-2").await.unwrap().len(), 2);
    assert_eq!(store.consents(&[OTHER.to_owned()]).await.unwrap().len(), 1);

    let again = parley(dir.path(), &["privacy", "erase", PHONE, "--database-url", &url]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains(&format!("nothing is stored about {PHONE}")), "{}", text(&again.stdout));
    store.close().await;
}

#[tokio::test]
async fn a_live_chat_or_a_malformed_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store) = database(dir.path(), "cli_privacy_refused").await;
    store.commit_batch(&history(PHONE, "chat-live", ChatStatus::Connected, false)).await.unwrap();

    let refused = parley(dir.path(), &["privacy", "erase", PHONE, "--database-url", &url]);
    let err = text(&refused.stderr);
    assert!(!refused.status.success(), "{}", text(&refused.stdout));
    assert!(err.contains("nothing was erased") && err.contains("chat-live"), "{err}");
    assert!(err.contains("privacy_secret is not set"), "the default secret is warned about: {err}");
    assert_eq!(store.transcript("chat-live").await.unwrap().len(), 2, "nothing was deleted");

    let malformed = parley(dir.path(), &["privacy", "erase", "4155550100", "--database-url", &url]);
    assert!(!malformed.status.success());
    assert!(text(&malformed.stderr).contains("E.164"), "{}", text(&malformed.stderr));
    store.close().await;
}
