//! Matching on connect (docs/crm.md "Matching on connect"): links each chat to the contact of its
//! phone when an inbound chat first connects to an agent, or when the business opens an outbound chat.
//! None has the phone → a new contact is created (name unknown); exactly one → the chat is linked to
//! it; several → the chat goes on, the link waits for the agent's choice (`contact.match_pending`),
//! and `POST /api/v1/chats/{id}/contact` makes it.
//!
//! The worker follows the event log with a cursor of its own (`crm_cursors`), under the lease
//! [`LEASE`] so one node matches at a time. A chat's link, the record it starts, the contact it
//! creates, its events and the cursor's move are one transaction (`Store::write_match`), written only
//! if the cursor is still where it was read: an event read again after a restart changes nothing
//! twice. Why a follower of the log and not the engine: matching reads the contact store, which the
//! engine's batches should not wait on; the chat never waits for its contact.
//!
//! The record a linked chat goes into follows its queue's `record_policy` (the core's
//! `crm::record::choose`). Under `create_after_messages = N` a chat that connects before the
//! consumer's Nth message gets a `waiting` link; each round looks at the waiting chats and matches
//! those that reached N (a chat that ends first is forgotten: one-off texts make no contacts).

use std::time::{Duration, Instant};

use parley_core::crm::contact::{ContactData, ContactPhone};
use parley_core::crm::matching::{MatchOutcome, outcome};
use parley_core::crm::record::{RecordChoice, RecordPolicy, RecordSummary, choose};
use parley_core::crm::{ContactChange, ContactLink};
use parley_core::event::Event;
use parley_core::phone::E164;
use parley_core::setup::Setup;
use parley_core::time::Timestamp;
use parley_store::Store;
use parley_store::contacts::ContactRow;
use parley_store::crm_links::{ChatContactRow, CursorMove, MatchWrite, RecordRow, RecordWrite};
use parley_store::rows::ChatRow;
use parley_store::rows::EventRow;
use tokio::sync::watch;

use crate::bus::Bus;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::http::event_json;

/// The cursor's and the lease's name.
pub const LEASE: &str = "crm_matcher";
const LEASE_MS: i64 = 60_000;
/// Events read per look after the cursor.
const PAGE: i64 = 500;
const POLL: Duration = Duration::from_millis(200);
/// How often the cursor moves past stretches of the log with nothing to match.
const SKIP_EVERY: Duration = Duration::from_secs(5);

/// A new contact's id: `CT` and 32 hex digits.
pub fn new_contact_id() -> String {
    format!("CT{}", uuid::Uuid::now_v7().simple())
}

/// A new record's id: `RC` and 32 hex digits.
pub fn new_record_id() -> String {
    format!("RC{}", uuid::Uuid::new_v4().simple())
}

pub struct CrmMatcher {
    pub store: Store,
    pub clock: Clock,
    /// For the setup: each queue's record policy and default owner.
    pub engine: Engine,
    /// Told after each step that wrote events, so agents' streams get `contact.linked` and
    /// `contact.match_pending` at once (on SQLite nothing else would tell the bus before the
    /// engine's next batch).
    pub bus: Bus,
    /// This node's name as a lease holder.
    pub holder: String,
    /// When the cursor was last moved past events with nothing to match.
    last_skip: std::sync::Mutex<Instant>,
}

impl CrmMatcher {
    pub fn new(store: Store, clock: Clock, engine: Engine, bus: Bus) -> CrmMatcher {
        CrmMatcher {
            store,
            clock,
            engine,
            bus,
            holder: format!("crm-matcher-{}", uuid::Uuid::new_v4().simple()),
            last_skip: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Matches until `shutdown` turns true, then gives the lease back.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        crate::workers::poll_rounds("crm_matcher", POLL, Duration::from_secs(30), shutdown, || self.round()).await;
        // Best effort: a lease not given back runs out by itself.
        let _ = self.store.release_lease(LEASE, &self.holder).await;
    }

    /// One page of the log after the cursor; true when there may be more right away.
    pub async fn round(&self) -> anyhow::Result<bool> {
        // The lease is the wall clock's: it says whether a node is alive, which a moved test clock
        // must not change.
        let wall = chrono::Utc::now().timestamp_millis();
        if !self.store.take_lease(LEASE, &self.holder, wall, LEASE_MS).await? {
            return Ok(false);
        }
        self.match_waiting().await?;
        let mut cursor = self.store.matcher_cursor(LEASE).await?;
        // Ids are given in commit order (docs/events.md), so nothing at or below `head` commits
        // later: the cursor may move up to it past events of other kinds, unread.
        let head = self.store.last_event_id().await?;
        if head <= cursor {
            return Ok(false);
        }
        let events = self.store.matching_events(cursor, head, PAGE).await?;
        let full = i64::try_from(events.len()).unwrap_or(PAGE) >= PAGE;
        let upto = if full { events.last().map_or(head, |e| e.id) } else { head };
        for event in &events {
            if let Some(step) = self.step(event, cursor).await? {
                if !self.store.write_match(&step).await? {
                    // Another node moved the cursor (its lease had passed ours): start again from it.
                    return Ok(true);
                }
                if !step.events.is_empty() {
                    self.bus.written();
                }
                cursor = event.id;
            }
            if event.kind == "chat.ended"
                && let Some(chat_id) = &event.chat_id
            {
                self.store.drop_waiting_link(chat_id).await?;
                self.store.close_records_of(chat_id, event.at).await?;
            }
        }
        // Moving the cursor past what held nothing to match is one small write; it is done at most
        // every SKIP_EVERY, since reading the same stretch again after a restart only finds the
        // chats linked already.
        let stale = self.last_skip.lock().map_or(true, |at| at.elapsed() >= SKIP_EVERY);
        if cursor < upto && (full || stale) {
            let skip = MatchWrite {
                cursor: Some(CursorMove { name: LEASE.to_owned(), from: cursor, to: upto }),
                contact: None,
                link: None,
                record: None,
                events: Vec::new(),
            };
            if !self.store.write_match(&skip).await? {
                return Ok(true);
            }
            if let Ok(mut at) = self.last_skip.lock() {
                *at = Instant::now();
            }
        }
        Ok(full)
    }

    /// The matching step `event` starts, if it is one: the first connect of an inbound chat, or the
    /// start of an outbound one, for a chat without a link yet.
    async fn step(&self, event: &EventRow, cursor: i64) -> anyhow::Result<Option<MatchWrite>> {
        let triggers = matches!(event.kind.as_str(), "chat.connected" | "chat.started_outbound");
        let Some(chat_id) = event.chat_id.as_deref().filter(|_| triggers) else { return Ok(None) };
        if self.store.chat_contact(chat_id).await?.is_some() {
            return Ok(None);
        }
        let chat = match self.store.chat(chat_id).await {
            Ok(chat) => chat,
            // Erased or purged since: nothing to link.
            Err(parley_store::StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let now = self.clock.now();
        let cursor = Some(CursorMove { name: LEASE.to_owned(), from: cursor, to: event.id });
        let after = i64::from(self.policy_of(&chat).match_after_messages());
        if after > 0 && self.store.consumer_messages_in(chat_id).await? < after {
            let waiting = ChatContactRow {
                chat_id: chat_id.to_owned(),
                contact_id: None,
                state: "waiting".to_owned(),
                how: None,
                by: "system".to_owned(),
                candidates: Vec::new(),
                record_id: None,
                at: now.0,
            };
            return Ok(Some(MatchWrite {
                cursor,
                contact: None,
                link: Some(waiting),
                record: None,
                events: Vec::new(),
            }));
        }
        Ok(Some(self.match_chat(&chat, cursor, |e| event_json::row_beside(e, event, now)).await?))
    }

    /// Matches the waiting chats whose consumer has sent the queue's Nth message by now.
    async fn match_waiting(&self) -> anyhow::Result<()> {
        for chat_id in self.store.waiting_links(PAGE).await? {
            let chat = match self.store.chat(&chat_id).await {
                Ok(chat) => chat,
                Err(parley_store::StoreError::NotFound) => {
                    self.store.drop_waiting_link(&chat_id).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let after = i64::from(self.policy_of(&chat).match_after_messages());
            if self.store.consumer_messages_in(&chat_id).await? < after {
                continue;
            }
            let now = self.clock.now();
            let write = self.match_chat(&chat, None, |e| event_json::row_of_stored(e, &chat, now)).await?;
            // False: linked meanwhile (an agent's choice); nothing to do.
            if self.store.write_match(&write).await? && !write.events.is_empty() {
                self.bus.written();
            }
        }
        Ok(())
    }

    fn policy_of(&self, chat: &ChatRow) -> RecordPolicy {
        let setup = self.engine.setup();
        chat.queue
            .as_deref()
            .and_then(|q| setup.queues.iter().find(|s| s.id.as_str() == q))
            .map_or_else(RecordPolicy::default, |q| q.record_policy)
    }

    /// Matching `chat` by its phone: none → a new contact, one → linked, several → pending.
    /// `row` encodes the step's events with the chat's envelope.
    async fn match_chat(
        &self,
        chat: &ChatRow,
        cursor: Option<CursorMove>,
        row: impl Fn(&Event) -> EventRow,
    ) -> anyhow::Result<MatchWrite> {
        let now = self.clock.now();
        let candidates = self.store.match_candidates(&chat.consumer).await?;
        let mut write = MatchWrite { cursor, contact: None, link: None, record: None, events: Vec::new() };
        let (contact_id, how) = match outcome(&candidates) {
            MatchOutcome::Pending(candidates) => {
                write.link = Some(ChatContactRow {
                    chat_id: chat.id.clone(),
                    contact_id: None,
                    state: "pending".to_owned(),
                    how: None,
                    by: "system".to_owned(),
                    candidates: candidates.clone(),
                    record_id: None,
                    at: now.0,
                });
                write.events.push(row(&Event::ContactMatchPending { candidates }));
                return Ok(write);
            }
            MatchOutcome::Create => {
                let setup = self.engine.setup();
                let owner = chat
                    .queue
                    .as_deref()
                    .and_then(|q| setup.queues.iter().find(|s| s.id.as_str() == q))
                    .and_then(|q| q.default_owner.as_ref())
                    .map(ToString::to_string);
                let phone = E164::parse(&chat.consumer)?;
                let contact = new_contact(
                    ContactData {
                        phones: vec![ContactPhone { number: phone, primary: true }],
                        owner,
                        ..ContactData::default()
                    },
                    now,
                );
                let created = Event::ContactChanged {
                    contact_id: contact.id.clone(),
                    change: ContactChange::Created,
                    by: "system".to_owned(),
                };
                write.events.push(event_json::row(&created, None, None, now));
                let id = contact.id.clone();
                write.contact = Some(contact);
                (id, ContactLink::Created)
            }
            MatchOutcome::Link(id) => (id, ContactLink::Matched),
        };
        let policy = self.policy_of(chat);
        let (link, record) = link_to(&self.store, chat, &contact_id, how, "system", policy, now).await?;
        write.record = Some(record);
        write.events.push(row(&Event::ContactLinked {
            contact_id,
            record_id: link.record_id.clone().unwrap_or_default(),
            how,
            by: "system".to_owned(),
        }));
        write.link = Some(link);
        Ok(write)
    }
}

/// The record policy of `queue` (a queue no longer in the setup: a record per chat).
pub fn policy_of(setup: &Setup, queue: Option<&str>) -> RecordPolicy {
    queue
        .and_then(|q| setup.queues.iter().find(|s| s.id.as_str() == q))
        .map_or_else(RecordPolicy::default, |q| q.record_policy)
}

/// A new contact with `data`, created `now`: `CT` and a time-ordered id.
pub fn new_contact(data: ContactData, now: Timestamp) -> ContactRow {
    ContactRow { id: new_contact_id(), data, created_at: now.0, updated_at: now.0 }
}

/// The link of `chat` to `contact_id` and the record it goes into under `policy`: the contact's open
/// (or recently closed) record of the chat's queue, or a new one. Matching and the agent's choice
/// (`POST /api/v1/chats/{id}/contact`) both link through here.
pub async fn link_to(
    store: &Store,
    chat: &ChatRow,
    contact_id: &str,
    how: ContactLink,
    by: &str,
    policy: RecordPolicy,
    now: Timestamp,
) -> anyhow::Result<(ChatContactRow, RecordWrite)> {
    let records: Vec<RecordSummary> = store
        .contact_records(contact_id)
        .await?
        .into_iter()
        .map(|r| RecordSummary { id: r.id, queue: r.queue, closed_at: r.closed_at.map(Timestamp) })
        .collect();
    let (record_id, record) = match choose(policy, chat.queue.as_deref(), &records, now) {
        RecordChoice::Join(id) | RecordChoice::Reopen(id) => (id.clone(), RecordWrite::Join(id)),
        RecordChoice::New => {
            let id = new_record_id();
            let row = RecordRow {
                id: id.clone(),
                contact_id: contact_id.to_owned(),
                queue: chat.queue.clone(),
                opened_at: now.0,
                closed_at: None,
            };
            (id, RecordWrite::New(row))
        }
    };
    let link = ChatContactRow {
        chat_id: chat.id.clone(),
        contact_id: Some(contact_id.to_owned()),
        state: "linked".to_owned(),
        how: Some(how.as_str().to_owned()),
        by: by.to_owned(),
        candidates: Vec::new(),
        record_id: Some(record_id),
        at: now.0,
    };
    Ok((link, record))
}
