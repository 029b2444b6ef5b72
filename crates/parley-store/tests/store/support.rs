//! One fresh, migrated database per test, and row builders with plausible defaults so each test
//! spells out only the fields it is about.

use parley_core::chat::ChatStatus;
use parley_core::routing::Presence;
use parley_store::Store;
use parley_store::rows::{AgentStateRow, ChatRow, ConsentEntry, ConsentRow, EventRow, MessageRow, SimRow};
use parley_store::testing::fresh_database_url;
use tempfile::TempDir;

/// A fixed "now" in epoch milliseconds; tests move time by adding to it, never by waiting.
pub(crate) const T0: i64 = 1_700_000_000_000;

/// The business number most chats run on.
pub(crate) const BUSINESS: &str = "+15550100";
/// A second business number.
pub(crate) const OTHER_BUSINESS: &str = "+15550199";
/// Consumer phones.
pub(crate) const ANN: &str = "+15550101";
pub(crate) const BOB: &str = "+15550102";
pub(crate) const CAT: &str = "+15550103";

/// A migrated store on a database of its own. The temporary directory holds the SQLite file and
/// must live as long as the store.
pub(crate) struct TestStore {
    pub(crate) store: Store,
    _dir: TempDir,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

/// Connects to a fresh database named after the test (`unique` must differ between tests, because
/// PostgreSQL databases of parallel tests share one server) and applies the migrations.
pub(crate) async fn fresh(unique: &str) -> TestStore {
    let (dir, store) = connect(unique).await;
    let applied = store.migrate().await.unwrap();
    assert!(applied >= 1, "a fresh database needs the migrations, {applied} ran");
    store.ping().await.unwrap();
    TestStore { store, _dir: dir }
}

/// Connects to a fresh database without migrating it.
pub(crate) async fn connect(unique: &str) -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path(), unique).await.unwrap();
    let store = Store::connect(&url).await.unwrap();
    (dir, store)
}

/// Whether the environment asks for PostgreSQL.
pub(crate) fn postgres_requested() -> bool {
    std::env::var(parley_store::testing::ENV).is_ok_and(|url| !url.is_empty())
}

/// A queued chat of `consumer` on [`BUSINESS`] in queue "sales", opened at [`T0`].
pub(crate) fn chat(id: &str, consumer: &str) -> ChatRow {
    ChatRow {
        queue: Some("sales".to_owned()),
        queued_at: Some(T0),
        language: "en".to_owned(),
        ..ChatRow::new(id, BUSINESS, consumer, ChatStatus::Queued, T0)
    }
}

/// `chat` after it ended at `at`.
pub(crate) fn finished(chat: ChatRow, at: i64) -> ChatRow {
    ChatRow {
        status: ChatStatus::Finished,
        ended_at: Some(at),
        end_reason: Some("resolved".to_owned()),
        ended_by: Some("agent:alice".to_owned()),
        updated_at: at,
        ..chat
    }
}

/// An outbound message waiting in the outbox.
pub(crate) fn outbound(id: &str, chat_id: &str, body: &str) -> MessageRow {
    MessageRow {
        chat_id: Some(chat_id.to_owned()),
        ..MessageRow::outbound(id, BUSINESS, ANN, "sim", "agent:alice", body, T0)
    }
}

/// An inbound message that came through carrier "sim" with a provider id.
pub(crate) fn inbound(id: &str, chat_id: &str, provider_id: &str) -> MessageRow {
    MessageRow {
        chat_id: Some(chat_id.to_owned()),
        ..MessageRow::inbound(id, BUSINESS, ANN, "sim", provider_id, format!("text {id}"), T0)
    }
}

/// An event of `chat_id` in queue "sales".
pub(crate) fn event(chat_id: &str, kind: &str, at: i64) -> EventRow {
    EventRow {
        id: 0,
        chat_id: Some(chat_id.to_owned()),
        queue: Some("sales".to_owned()),
        agent: None,
        kind: kind.to_owned(),
        data: format!(r#"{{"kind":"{kind}","at":{at}}}"#),
        at,
    }
}

/// A phone's consent state at `at`.
pub(crate) fn consent(phone: &str, opted_out: bool, notice_sent: bool, at: i64) -> ConsentRow {
    ConsentRow { phone: phone.to_owned(), opted_out, notice_sent, updated_at: at }
}

/// A ledger entry that came by SMS through [`BUSINESS`].
pub(crate) fn ledger(phone: &str, change: &str, keyword: Option<&str>, at: i64) -> ConsentEntry {
    ConsentEntry {
        phone: phone.to_owned(),
        change: change.to_owned(),
        keyword: keyword.map(str::to_owned),
        number: BUSINESS.to_owned(),
        source: "sms".to_owned(),
        at,
    }
}

/// An agent's presence.
pub(crate) fn agent_state(agent: &str, status: &str, last_assigned: i64, at: i64) -> AgentStateRow {
    AgentStateRow {
        agent: agent.to_owned(),
        status: Presence::parse(status).expect("a presence"),
        connected: true,
        last_assigned,
        updated_at: at,
        status_since: at,
    }
}

/// What a simulated phone sent ("mo"); such rows carry no message id.
pub(crate) fn sim_mo(phone: &str, body: &str, at: i64) -> SimRow {
    SimRow {
        seq: 0,
        phone: phone.to_owned(),
        business: BUSINESS.to_owned(),
        direction: "mo".to_owned(),
        body: body.to_owned(),
        media: String::new(),
        message_id: None,
        at,
    }
}

/// A delivery of outbound message `message_id` to a simulated phone ("mt").
pub(crate) fn sim_mt(phone: &str, message_id: &str, body: &str, at: i64) -> SimRow {
    SimRow { direction: "mt".to_owned(), message_id: Some(message_id.to_owned()), ..sim_mo(phone, body, at) }
}

/// Sorts a copy by `key`, for comparing rows read back in no promised order.
pub(crate) fn sorted_by<T: Clone, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by_key(|item| key(item));
    v
}

/// The ids of chat rows, in the order given.
pub(crate) fn ids(chats: &[ChatRow]) -> Vec<&str> {
    chats.iter().map(|c| c.id.as_str()).collect()
}
