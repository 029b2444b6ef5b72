//! The state one batch works on: loaded with a few queries into a [`Desk`], changed by each input, and
//! turned into one [`Batch`] for the group commit.
//!
//! Rule: what an input does to chats, consent and the roster is the desk's to decide (the core's
//! `parley_core::desk`, which the conversation scripts run too); this module is its adapter. It loads
//! what the batch's inputs touch before the first one, fulfils the desk's one request mid-batch (the
//! queued chats of the queues to dispatch), writes what the desk reports as rows, and keeps what only
//! the store knows of: repeated inbound texts and delivery receipts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use parley_carriers::DeliveryStatus;
use parley_core::chat::{self, Chat, ChatEvent, ChatStatus, Consent, ConsentChange, Effect, Input};
use parley_core::desk::{Decided, Desk, Notification, Outbound, Recorder, Rejection, Step, Text};
use parley_core::event::Event;
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::message::{Direction, MessageStatus};
use parley_core::number::NumberState;
use parley_core::phone::{BusinessNumber, E164};
use parley_core::routing::{Presence, Roster};
use parley_core::setup::{Blocked, Number, Setup};
use parley_core::time::Timestamp;
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::chats::ChatFilter;
use parley_store::media::MediaLink;
use parley_store::notifications::NotificationReplyRow;
use parley_store::rows::{
    AgentStateRow, ChatRow, ConsentEntry, ConsentRow, MediaRow, MediaStatus, MessageRow, PendingReceiptRow, SimRow,
    StatusUpdate,
};

use super::rows::{chat_from_row, chat_to_row};
use super::{
    Answer, ChatAck, Command, ConsentRequest, EngineError, InboundAck, InboundSms, OutboundAck, OutboundRequest,
    QueueHistory, Receipt, SendOutcome,
};
use crate::clock::Clock;
use crate::http::event_json;
use crate::language::Detector;
use crate::outbound_media::OutMedia;

mod later;

/// The state a batch works on: loaded once, changed in memory by each decision, written at the end.
#[derive(Default)]
pub(super) struct Working {
    desk: Desk,
    seen: HashMap<(String, String), InboundAck>,
    /// Outbound messages receipts name, by (carrier, provider id).
    sent_messages: HashMap<(String, String), MessageRow>,
    /// Receipts that came before their message was known, by (carrier, provider id).
    pending: HashMap<(String, String), Vec<PendingReceiptRow>>,
    /// Salts the hashes of erased phones' tombstones.
    privacy_secret: String,
    /// The agents a console stream or heartbeat keeps connected, read in the turn when an input of
    /// the batch decides on presence.
    linked: Option<BTreeSet<AgentId>>,
    batch: Batch,
    /// Send later (`later`): the due held messages to release, the messages cancels and resends
    /// name by id, and what this batch did to them already.
    held: Vec<MessageRow>,
    messages: HashMap<String, MessageRow>,
    released: HashSet<String>,
    canceled: HashSet<String>,
    resent: HashMap<String, String>,
}

impl Working {
    pub(super) async fn load(
        store: &Store,
        setup: &Setup,
        privacy_secret: &str,
        commands: &[&Command],
    ) -> anyhow::Result<Working> {
        let mut w = Working {
            desk: Desk::new(load_roster(store, setup).await?),
            privacy_secret: privacy_secret.to_owned(),
            ..Working::default()
        };
        let mut consumers = BTreeSet::new();
        // Business numbers whose registration state the batch needs.
        let mut numbers = BTreeSet::new();
        let mut chat_ids = Vec::new();
        let mut provider_ids: HashMap<&str, Vec<String>> = HashMap::new();
        let mut away = Vec::new();
        // Phones asking for their place in line: their chat's position is counted for them.
        let mut asking_place = BTreeSet::new();
        let mut receipts: HashMap<&str, Vec<String>> = HashMap::new();
        let mut accepted: HashMap<&str, Vec<String>> = HashMap::new();
        for command in commands {
            match command {
                Command::Inbound(sms) => {
                    consumers.insert(sms.from.to_string());
                    if setup.settings.commands.parse(&sms.body) == Some(parley_core::commands::Command::Agent) {
                        asking_place.insert(sms.from.to_string());
                    }
                    numbers.insert(sms.to.to_string());
                    provider_ids.entry(sms.carrier.as_str()).or_default().push(sms.provider_id.clone());
                }
                Command::Chat { chat_id, .. } | Command::Note { chat_id, .. } => chat_ids.push(chat_id.to_string()),
                Command::Outbound(r) => {
                    consumers.insert(r.consumer.to_string());
                    numbers.insert(r.number.to_string());
                }
                Command::Consent(r) => {
                    consumers.insert(r.phone.to_string());
                }
                Command::EndBlocked(entries) => consumers.extend(entries.iter().map(|b| b.number.to_string())),
                Command::Status { agent, presence } if *presence != Presence::Available => away.push(agent.to_string()),
                Command::Status { .. }
                | Command::Presence
                | Command::Setup { .. }
                | Command::Erase { .. }
                | Command::Block(_)
                | Command::Unblock(_) => {}
                Command::Receipt(r) => receipts.entry(r.carrier.as_str()).or_default().push(r.provider_id.clone()),
                // Loaded by load_later.
                Command::Schedule(_) | Command::ReleaseDue { .. } | Command::Cancel { .. } | Command::Resend { .. } => {
                }
                Command::Sent(outcomes) => {
                    for o in outcomes {
                        chat_ids.extend(o.chat_id.clone());
                        // Only a message the carrier has not reported delivered can have a receipt waiting.
                        if let Some(provider_id) = o.provider_id.as_ref().filter(|_| o.status == MessageStatus::Sent) {
                            accepted.entry(o.carrier.as_str()).or_default().push(provider_id.clone());
                        }
                    }
                }
            }
        }
        w.load_later(store, commands, &mut consumers, &mut numbers, &mut chat_ids).await?;
        for (carrier, ids) in provider_ids {
            for (provider_id, message_id, chat_id) in store.inbound_seen(carrier, &ids).await? {
                w.seen.insert(
                    (carrier.to_owned(), provider_id),
                    InboundAck { message_id, chat_id: chat_id.map(ChatId::new), duplicate: true },
                );
            }
        }
        for (carrier, ids) in receipts {
            for m in store.outbound_by_provider(carrier, &ids).await? {
                chat_ids.extend(m.chat_id.clone());
                if let Some(provider_id) = m.provider_id.clone() {
                    w.sent_messages.insert((m.carrier.clone(), provider_id), m);
                }
            }
        }
        for (carrier, ids) in accepted {
            for r in store.pending_receipts(carrier, &ids).await? {
                w.pending.entry((r.carrier.clone(), r.provider_id.clone())).or_default().push(r);
            }
        }
        let numbers: Vec<String> = numbers.into_iter().collect();
        for row in store.number_states(&numbers).await? {
            if let (Some(state), Ok(number)) = (NumberState::parse(&row.state), BusinessNumber::parse(&row.number)) {
                w.desk.set_number_state(number, state);
            }
        }
        let consumers: Vec<String> = consumers.into_iter().collect();
        let mut rows = store.live_chats_of(&consumers).await?;
        rows.extend(store.chats_by_ids(&chat_ids).await?);
        if commands.iter().any(|c| matches!(c, Command::Presence | Command::Status { .. })) {
            // Presence lives in wall-clock time, whatever clock the chats run on (workers::presence).
            let since = Clock::System.now().0 - i64::from(setup.settings.presence.timeout_seconds) * 1_000;
            let linked: BTreeSet<AgentId> =
                store.linked_agents(since).await?.iter().filter_map(|a| AgentId::parse(a).ok()).collect();
            // Agents who dropped out: their offers are withdrawn.
            away.extend(
                w.desk
                    .roster()
                    .seats
                    .iter()
                    .filter(|s| s.connected && !linked.contains(&s.agent))
                    .map(|s| s.agent.to_string()),
            );
            w.linked = Some(linked);
        }
        // Offers of agents going away, which the desk withdraws.
        for agent in away {
            let filter = ChatFilter {
                statuses: vec![ChatStatus::Offered],
                queues: None,
                agent: Some(agent),
                limit: 1000,
                ..ChatFilter::default()
            };
            rows.extend(store.list_chats(&filter).await?);
        }
        w.load_chats(rows, setup);
        let phones: Vec<String> = w.desk.chats().map(|c| c.consumer.to_string()).chain(consumers).collect();
        w.load_consents(store, &phones).await?;
        let asking: Vec<(ChatId, QueueId, Timestamp)> = w
            .desk
            .chats()
            .filter(|c| c.status == ChatStatus::Queued && asking_place.contains(c.consumer.as_str()))
            .filter_map(|c| Some((c.id.clone(), c.queue.clone()?, c.queued_at?)))
            .collect();
        let mut ahead = BTreeMap::new();
        for (chat, queue, queued_at) in asking {
            let n = store.waiting_ahead(queue.as_str(), queued_at.0, chat.as_str()).await?;
            ahead.insert((chat, queue), u32::try_from(n).unwrap_or(u32::MAX));
        }
        w.desk.set_ahead(ahead);
        Ok(w)
    }

    /// The latest sessionless notification of each phone that texts a number which answers replies to
    /// them (auto-reply, or outbound-only): the desk tells a reply from a first text by it.
    pub(super) async fn load_notifications(
        &mut self,
        store: &Store,
        setup: &Setup,
        commands: &[&Command],
        now: Timestamp,
    ) -> anyhow::Result<()> {
        let answers = |n: &Number| {
            n.sessionless_reply == parley_core::setup::SessionlessReply::AutoReply || !n.role.opens_chats()
        };
        let phones: BTreeSet<String> = commands
            .iter()
            .filter_map(|c| match c {
                Command::Inbound(sms) if setup.number(&sms.to).is_some_and(answers) => Some(sms.from.to_string()),
                _ => None,
            })
            .collect();
        if phones.is_empty() {
            return Ok(());
        }
        let phones: Vec<String> = phones.into_iter().collect();
        // No window is longer than 720 hours.
        let since = now.0 - i64::from(*parley_core::setup::SESSIONLESS_WINDOW_HOURS.end()) * 3_600_000;
        for row in store.latest_notifications(&phones, since).await? {
            let (Ok(phone), Ok(number)) = (E164::parse(&row.consumer), BusinessNumber::parse(&row.number)) else {
                continue;
            };
            let notification = Notification { message_id: Some(row.message_id), sent_at: Timestamp(row.created_at) };
            self.desk.set_notification(phone, number, notification);
        }
        Ok(())
    }

    /// The queues' handle times, abandonment and waiting counts the engine keeps between batches.
    pub(super) fn set_queue_figures(&mut self, history: &QueueHistory, waiting: BTreeMap<QueueId, u32>) {
        self.desk.set_queue_figures(history.handle_seconds.clone(), history.abandonment_permille.clone(), waiting);
    }

    /// The waiting counts after this batch's decisions.
    pub(super) fn waiting(&self) -> &BTreeMap<QueueId, u32> {
        &self.desk.roster().waiting
    }

    fn load_chats(&mut self, rows: Vec<ChatRow>, setup: &Setup) {
        for row in rows {
            match chat_from_row(&row, &setup.settings.language) {
                Some(chat) => self.desk.load_chat(chat),
                None => tracing::error!(chat = row.id, "skipping a chat row that does not parse"),
            }
        }
    }

    async fn load_consents(&mut self, store: &Store, phones: &[String]) -> anyhow::Result<()> {
        let missing: Vec<E164> =
            phones.iter().filter_map(|p| E164::parse(p).ok()).filter(|p| !self.desk.holds_consent(p)).collect();
        let missing_rows: Vec<String> = missing.iter().map(ToString::to_string).collect();
        for row in store.consents(&missing_rows).await? {
            if let Ok(phone) = E164::parse(&row.phone) {
                self.desk.load_consent(phone, Consent { opted_out: row.opted_out, notice_sent: row.notice_sent });
            }
        }
        // A phone without a consent row may have been erased: its tombstone keeps its opt-out. It is a
        // new contact otherwise, so the opt-in notice goes out again after START.
        let unknown: HashMap<String, &E164> = missing
            .iter()
            .filter(|p| !self.desk.holds_consent(p))
            .map(|p| (crate::privacy::phone_hash(&self.privacy_secret, p), p))
            .collect();
        let hashes: Vec<String> = unknown.keys().cloned().collect();
        for hash in store.erased_opt_outs(&hashes).await? {
            if let Some(phone) = unknown.get(&hash) {
                self.desk.load_consent((*phone).clone(), Consent { opted_out: true, notice_sent: false });
            }
        }
        for phone in missing {
            self.desk.load_consent(phone, Consent::default());
        }
        Ok(())
    }

    pub(super) fn inbound(
        &mut self,
        setup: &Setup,
        sms: &InboundSms,
        detector: Option<&Detector>,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        // A carrier's retry of a stored message is acknowledged even if the number left the setup since.
        let key = (sms.carrier.clone(), sms.provider_id.clone());
        if let Some(ack) = self.seen.get(&key) {
            return Ok(Answer::Inbound(InboundAck { duplicate: true, ..ack.clone() }));
        }
        let new_chat_id = ChatId::new(uuid::Uuid::now_v7().to_string());
        let message_id = uuid::Uuid::now_v7().to_string();
        let text = Text { from: &sms.from, to: &sms.to, body: &sms.body, media: sms.media.len() };
        let detect = |body: &str| detector.and_then(|d| d.detect(body));
        let inbound = Some(Inbound { sms, message_id: &message_id });
        let mut rec =
            Record { batch: &mut self.batch, source: "sms", inbound, reuse_id: None, media: OutMedia::default() };
        let chat_id = match self.desk.inbound(setup, text, detect, &new_chat_id, now, &mut rec) {
            Ok(chat_id) => chat_id,
            Err(Rejection::NumberNotSetUp) => return Err(EngineError::NumberNotSetUp(sms.to.to_string())),
            Err(_) => return Err(EngineError::Internal(anyhow::anyhow!("an inbound message was refused"))),
        };
        let ack = InboundAck { message_id, chat_id, duplicate: false };
        self.seen.insert(key, ack.clone());
        Ok(Answer::Inbound(ack))
    }

    pub(super) fn chat_action(
        &mut self,
        setup: &Setup,
        chat_id: &ChatId,
        input: &Input,
        media: &OutMedia,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let before = self.batch.messages.len();
        let mut rec =
            Record { batch: &mut self.batch, source: "agent", inbound: None, reuse_id: None, media: media.clone() };
        let chat = match self.desk.chat_action(setup, chat_id, input, now, &mut rec) {
            Ok(chat) => chat_to_row(chat, setup, now),
            Err(Rejection::Refused(refusal)) => return Err(EngineError::Refused(refusal)),
            Err(_) => return Err(EngineError::ChatNotFound(chat_id.clone())),
        };
        let message_id = match input {
            Input::Reply { .. } => {
                self.batch.messages[before..].iter().find(|m| m.author.starts_with("agent:")).map(|m| m.id.clone())
            }
            _ => None,
        };
        Ok(Answer::Chat(Box::new(ChatAck { chat, message_id })))
    }

    /// A private note on a chat, live or ended: a transcript line of direction "note" by `author`.
    pub(super) fn note(
        &mut self,
        setup: &Setup,
        chat_id: &ChatId,
        author: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let chat = self.desk.chat(chat_id).ok_or_else(|| EngineError::ChatNotFound(chat_id.clone()))?;
        let number = setup.number(&chat.number).ok_or_else(|| {
            EngineError::Conflict(format!("the chat's number {} is no longer in the setup", chat.number))
        })?;
        let row = MessageRow {
            author: author.to_owned(),
            ..MessageRow::note(
                uuid::Uuid::now_v7().to_string(),
                chat.id.to_string(),
                number.number.to_string(),
                chat.consumer.to_string(),
                &number.carrier,
                body,
                now.0,
            )
        };
        let message_id = Some(row.id.clone());
        let ack = ChatAck { chat: chat_to_row(chat, setup, now), message_id };
        push_message(&mut self.batch, row, Some(chat), now);
        Ok(Answer::Chat(Box::new(ack)))
    }

    /// A message the business writes first (see [`OutboundRequest`]).
    pub(super) fn outbound(
        &mut self,
        setup: &Setup,
        request: &OutboundRequest,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let new_chat_id = ChatId::new(uuid::Uuid::now_v7().to_string());
        let before = self.batch.messages.len();
        let mut rec = Record {
            batch: &mut self.batch,
            source: &request.source,
            inbound: None,
            reuse_id: None,
            media: request.media.clone(),
        };
        let first = Outbound { number: &request.number, consumer: &request.consumer, input: &request.input };
        let opened = match self.desk.outbound(setup, first, &new_chat_id, now, &mut rec) {
            Ok(opened) => opened,
            Err(Rejection::NumberNotEnabled(state)) => {
                return Err(EngineError::NumberNotEnabled {
                    number: request.number.to_string(),
                    state: state.as_str(),
                });
            }
            Err(Rejection::Refused(refusal)) => return Err(EngineError::Refused(refusal)),
            Err(Rejection::Blocked(blocked)) => return Err(EngineError::Blocked(blocked)),
            Err(Rejection::NumberNotSetUp) => return Err(EngineError::NumberNotSetUp(request.number.to_string())),
            Err(other) => return Err(EngineError::Internal(anyhow::anyhow!("an outbound request failed: {other:?}"))),
        };
        // The request's own message is the last one sent; an opt-in notice may precede it.
        let Some(message) = self.batch.messages[before..].iter().rfind(|m| m.direction == Direction::Out) else {
            return Err(EngineError::Internal(anyhow::anyhow!("an outbound request sent nothing")));
        };
        let send_at = (message.status == MessageStatus::Scheduled).then_some(message.next_attempt_at);
        if let Some(twilio) = &request.twilio {
            let row = parley_store::twilio::NewTwilioMessage { message_id: message.id.clone(), ..twilio.clone() };
            self.batch.twilio_messages.push(row);
        }
        if matches!(request.input, Input::Sessionless { .. }) {
            // A reply in this same batch is this notification's.
            let notification = Notification { message_id: Some(message.id.clone()), sent_at: now };
            self.desk.set_notification(request.consumer.clone(), request.number.clone(), notification);
        }
        let ack = OutboundAck {
            chat: opened.and_then(|id| self.desk.chat(&id)).map(|c| chat_to_row(c, setup, now)),
            message_id: message.id.clone(),
            status: message.status,
            send_at,
        };
        Ok(Answer::Outbound(Box::new(ack)))
    }

    /// Phones just blocked: their live chats end, as ended by the admin of each entry.
    pub(super) fn end_blocked(&mut self, setup: &Setup, entries: &[Blocked], now: Timestamp) {
        let mut rec = Record {
            batch: &mut self.batch,
            source: "admin",
            inbound: None,
            reuse_id: None,
            media: OutMedia::default(),
        };
        for entry in entries {
            self.desk.block(setup, entry, now, &mut rec);
        }
    }

    /// An opt-in or opt-out given outside SMS. An opt-out ends the phone's live chats, as STOP does.
    pub(super) fn consent(
        &mut self,
        setup: &Setup,
        request: &ConsentRequest,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let source = format!("api: {}", request.source);
        let mut rec = Record {
            batch: &mut self.batch,
            source: &source,
            inbound: None,
            reuse_id: None,
            media: OutMedia::default(),
        };
        self.desk.consent(setup, &request.phone, &request.number, request.opted_in, now, &mut rec);
        Ok(Answer::Done)
    }

    pub(super) fn status(
        &mut self,
        setup: &Setup,
        agent: &AgentId,
        presence: Presence,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let mut rec = Record {
            batch: &mut self.batch,
            source: "agent",
            inbound: None,
            reuse_id: None,
            media: OutMedia::default(),
        };
        // Setting a status is a heartbeat too (the caller recorded it): an agent who was disconnected
        // is connected again before the status applies.
        if let Some(linked) = &self.linked {
            self.desk.connectivity(setup, agent, linked.contains(agent), now, &mut rec);
        }
        match self.desk.status(setup, agent, presence, now, &mut rec) {
            Ok(()) => Ok(Answer::Done),
            Err(_) => Err(EngineError::Internal(anyhow::anyhow!("agent {agent} is not in the setup"))),
        }
    }

    /// Marks each agent connected or not, from the links read in the turn.
    pub(super) fn connections(&mut self, setup: &Setup, now: Timestamp) {
        let Some(linked) = &self.linked else { return };
        let mut rec = Record {
            batch: &mut self.batch,
            source: "presence",
            inbound: None,
            reuse_id: None,
            media: OutMedia::default(),
        };
        self.desk.connections(setup, linked, now, &mut rec);
    }

    /// A delivery receipt: moves its message forward (never back), or waits for the message to be known.
    pub(super) fn receipt(&mut self, r: &Receipt, now: Timestamp) {
        let key = (r.carrier.clone(), r.provider_id.clone());
        let Some(message) = self.sent_messages.get(&key).cloned() else {
            self.batch.pending_receipts.push(PendingReceiptRow {
                carrier: r.carrier.clone(),
                provider_id: r.provider_id.clone(),
                status: delivery_status(r.status),
                error: r.error_code.clone(),
                at: now.0,
            });
            return;
        };
        self.move_status(message, delivery_status(r.status), r.error_code.clone(), now);
    }

    fn move_status(&mut self, mut message: MessageRow, status: MessageStatus, error: Option<String>, now: Timestamp) {
        if status.rank() <= message.status.rank() {
            return;
        }
        message.status = status;
        self.batch.status_updates.push(StatusUpdate { seq: message.seq, status, error: error.clone(), at: now.0 });
        self.status_event(&message.id, message.chat_id.as_deref(), status, error, now);
        if let Some(provider_id) = message.provider_id.clone() {
            self.sent_messages.insert((message.carrier.clone(), provider_id), message);
        }
    }

    fn status_event(
        &mut self,
        message_id: &str,
        chat_id: Option<&str>,
        status: MessageStatus,
        error: Option<String>,
        now: Timestamp,
    ) {
        let chat = chat_id.and_then(|id| self.desk.chat(&ChatId::new(id)));
        let event = Event::MessageStatus { message_id: message_id.to_owned(), status, error };
        push_event_for(&mut self.batch, chat, None, event, now);
    }

    /// What the outbox did: an event for each message, and the receipts that were waiting for it.
    pub(super) fn sent(&mut self, outcomes: &[SendOutcome], now: Timestamp) {
        for o in outcomes {
            if o.status != MessageStatus::Queued {
                self.status_event(&o.message_id, o.chat_id.as_deref(), o.status, o.error.clone(), now);
            }
            let Some(provider_id) = &o.provider_id else { continue };
            let key = (o.carrier.clone(), provider_id.clone());
            let Some(waiting) = self.pending.remove(&key) else { continue };
            self.batch.applied_receipts.push(key.clone());
            // Only what receipts read of the message is known here.
            let message = MessageRow {
                seq: o.seq,
                chat_id: o.chat_id.clone(),
                status: o.status,
                provider_id: Some(provider_id.clone()),
                ..MessageRow::outbound(o.message_id.clone(), "", "", o.carrier.clone(), "", "", 0)
            };
            self.sent_messages.insert(key.clone(), message);
            for r in waiting {
                let Some(message) = self.sent_messages.get(&key).cloned() else { continue };
                self.move_status(message, r.status, r.error, now);
            }
        }
    }

    /// Offers queued chats of queues where capacity may have freed up, oldest first: loads them (the
    /// desk's request), then lets the desk route them.
    pub(super) async fn dispatch(&mut self, store: &Store, setup: &Setup, now: Timestamp) -> anyhow::Result<()> {
        let queues = self.desk.queues_to_dispatch();
        let agents = self.desk.agents_to_dispatch();
        if queues.is_empty() && agents.is_empty() {
            return Ok(());
        }
        let queues: Vec<String> = queues.iter().map(ToString::to_string).collect();
        let direct: Vec<String> =
            agents.iter().flat_map(|a| setup.direct_numbers_of(a)).map(|n| n.number.to_string()).collect();
        let mut rows = store.queued_chats(&queues, 1000).await?;
        rows.extend(store.queued_direct_chats(&direct, 1000).await?);
        self.load_chats(rows, setup);
        let phones: Vec<String> = self.desk.chats().map(|c| c.consumer.to_string()).collect();
        self.load_consents(store, &phones).await?;
        let mut rec = Record {
            batch: &mut self.batch,
            source: "routing",
            inbound: None,
            reuse_id: None,
            media: OutMedia::default(),
        };
        self.desk.dispatch(setup, now, &mut rec);
        Ok(())
    }

    /// The batch to commit, and whether it holds messages for the outbox.
    pub(super) fn into_batch(mut self, setup: &Setup, now: Timestamp) -> (Batch, bool) {
        for chat in self.desk.changed_chats() {
            self.batch.chats.push(chat_to_row(chat, setup, now));
        }
        for (phone, c) in self.desk.changed_consents() {
            let at = self.batch.ledger.iter().rev().find(|e| e.phone == phone.as_str()).map_or(0, |e| e.at);
            self.batch.consents.push(ConsentRow {
                phone: phone.to_string(),
                opted_out: c.opted_out,
                notice_sent: c.notice_sent,
                updated_at: at,
            });
        }
        // Presence changes, and who got a chat when (so "longest idle" survives restarts).
        for seat in self.desk.changed_seats(now) {
            self.batch.agent_states.push(AgentStateRow {
                agent: seat.agent.to_string(),
                status: seat.presence,
                connected: seat.connected,
                last_assigned: seat.last_assigned.0,
                updated_at: now.0,
                status_since: now.0,
            });
        }
        // A message moved twice in one batch (sent, then delivered) is written once, in its last state.
        let mut last_of: HashMap<i64, usize> = HashMap::new();
        for (i, u) in self.batch.status_updates.iter().enumerate() {
            last_of.insert(u.seq, i);
        }
        let mut i = 0;
        self.batch.status_updates.retain(|u| {
            i += 1;
            last_of.get(&u.seq) == Some(&(i - 1))
        });
        let wakes = self.batch.messages.iter().any(|m| m.direction == Direction::Out);
        (self.batch, wakes)
    }
}

/// The consumer's text of an inbound input, with the id its message gets.
struct Inbound<'a> {
    sms: &'a InboundSms,
    message_id: &'a str,
}

/// What the desk reports during one input, written into the batch as rows.
struct Record<'a> {
    batch: &'a mut Batch,
    /// Where this input's consent changes come from, for the ledger: "sms", "agent", "api: …", ….
    source: &'a str,
    /// The consumer's text, recorded where the input's own decision saw it (its `ConsumerMessage`
    /// event), so that messages and events keep the order in which things happened.
    inbound: Option<Inbound<'a>>,
    /// The id the input's own message gets (the first one not written by the system): a released
    /// scheduled message keeps the id it was given when it was scheduled, a resend gets its own.
    reuse_id: Option<String>,
    /// The uploads the input's own message carries; they are attached to it as it is written.
    media: OutMedia,
}

impl Recorder for Record<'_> {
    fn decided(&mut self, d: Decided<'_>) {
        let Decided { step, chat, consent, effects, number, consumer, now, reply_to, .. } = d;
        // Decisions the desk adds (a timer due first, chats an opt-out ends) are not the text's.
        let mut inbound = if step == Step::Input { self.inbound.take() } else { None };
        if let (Some(notification), Some(text)) = (reply_to, inbound.as_ref()) {
            self.batch.notification_replies.push(NotificationReplyRow {
                message_id: text.message_id.to_owned(),
                notification_id: notification.to_owned(),
                created_at: now.0,
            });
        }
        if !effects.iter().any(|e| matches!(e, Effect::Event(ChatEvent::ConsumerMessage))) {
            // Keywords (STOP, HELP, ...) and texts from opted-out phones: the text comes first.
            if let Some(text) = inbound.take() {
                push_inbound(self.batch, text, chat, now);
            }
        }
        if let Some(change) = consent {
            self.ledger(consumer, &number.number, change, now);
        }
        for effect in effects {
            match effect {
                Effect::Send { text, author, purpose, not_before } => {
                    let own = !matches!(author, chat::Author::System);
                    let reused = if own { self.reuse_id.take() } else { None };
                    let media = if own { std::mem::take(&mut self.media) } else { OutMedia::default() };
                    let author = match author {
                        chat::Author::System => "system".to_owned(),
                        chat::Author::Agent(agent) => format!("agent:{agent}"),
                        chat::Author::Api => "api".to_owned(),
                    };
                    let id = reused.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
                    let row = MessageRow {
                        chat_id: chat.map(|c| c.id.to_string()),
                        status: if not_before.is_some() { MessageStatus::Scheduled } else { MessageStatus::Queued },
                        purpose,
                        next_attempt_at: not_before.map_or(0, |t| t.0),
                        ..MessageRow::outbound(
                            id,
                            number.number.to_string(),
                            consumer.to_string(),
                            &number.carrier,
                            author,
                            text,
                            now.0,
                        )
                    };
                    let row = MessageRow { media: media.column(), ..row };
                    link_media(self.batch, &media, &row, now);
                    push_message(self.batch, row, chat, now);
                }
                Effect::Event(event) => {
                    // Messages get their own "message" events, with the text, from push_message: the
                    // consumer's here, where the decision saw it; an agent's where it is sent.
                    if matches!(event, ChatEvent::ConsumerMessage) {
                        if let Some(text) = inbound.take() {
                            push_inbound(self.batch, text, chat, now);
                        }
                        continue;
                    }
                    let Some(recorded) = Event::from_chat(&event) else { continue };
                    if let (Some(chat), Some(text)) = (chat, transfer_note(&event)) {
                        push_note(self.batch, chat, number, text, now);
                    }
                    // The agent asked to take a transfer must hear of it, whatever queues they serve.
                    let to = match &event {
                        ChatEvent::TransferStarted { to, .. } => Some(to),
                        _ => None,
                    };
                    push_event_for(self.batch, chat, to, recorded, now);
                }
            }
        }
    }

    fn consent(&mut self, phone: &E164, number: &BusinessNumber, change: &ConsentChange, now: Timestamp) {
        self.ledger(phone, number, change, now);
    }

    fn refused_text(&mut self, number: &Number, consumer: &E164, state: NumberState, now: Timestamp) {
        let Some(Inbound { sms, message_id }) = self.inbound.take() else { return };
        self.batch.messages.push(MessageRow {
            media: sms.media.iter().map(|m| m.url.as_str()).collect::<Vec<_>>().join("\n"),
            error: Some(format!("number {} is {}: no chat was opened", number.number, state.as_str())),
            ..MessageRow::inbound(
                message_id,
                number.number.to_string(),
                consumer.to_string(),
                &sms.carrier,
                &sms.provider_id,
                &sms.body,
                now.0,
            )
        });
        let refused = Event::InboundRefused { message_id: message_id.to_owned(), number: number.number.clone(), state };
        push_event_for(self.batch, None, None, refused, now);
        tracing::warn!(number = %number.number, state = state.as_str(), "a text reached a number that is not enabled");
    }

    fn blocked_text(&mut self, number: &Number, blocked: &Blocked, now: Timestamp) {
        let Some(Inbound { sms, message_id }) = self.inbound.take() else { return };
        self.batch.messages.push(MessageRow {
            media: sms.media.iter().map(|m| m.url.as_str()).collect::<Vec<_>>().join("\n"),
            error: Some(blocked_note(blocked)),
            ..MessageRow::inbound(
                message_id,
                number.number.to_string(),
                blocked.number.to_string(),
                &sms.carrier,
                &sms.provider_id,
                &sms.body,
                now.0,
            )
        });
        let event = Event::InboundBlocked {
            message_id: message_id.to_owned(),
            number: number.number.clone(),
            phone: blocked.number.clone(),
            reason: blocked.reason.clone(),
        };
        push_event_for(self.batch, None, None, event, now);
    }

    fn presence(&mut self, agent: &AgentId, presence: Presence, connected: bool, now: Timestamp) {
        let event = Event::AgentStatus { agent: agent.clone(), presence, connected };
        push_event_for(self.batch, None, Some(agent), event, now);
    }
}

impl Record<'_> {
    fn ledger(&mut self, phone: &E164, number: &BusinessNumber, change: &ConsentChange, now: Timestamp) {
        let (name, keyword) = match change {
            ConsentChange::NoticeSent => ("notice_sent", None),
            ConsentChange::OptedOut { keyword } => ("opted_out", Some(keyword)),
            ConsentChange::OptedIn { keyword } => ("opted_in", Some(keyword)),
        };
        self.batch.ledger.push(ConsentEntry {
            phone: phone.to_string(),
            change: name.to_owned(),
            // Consent given outside SMS has no keyword: its source says where it came from.
            keyword: keyword.filter(|k| !k.is_empty()).cloned(),
            number: number.to_string(),
            source: self.source.to_owned(),
            at: now.0,
        });
        // An opt-out or opt-in is an event of its own, with no chat: integrations hear of consent
        // given through the API as of a keyword texted (a notice sent changes no consent).
        let opted_out = match change {
            ConsentChange::NoticeSent => return,
            ConsentChange::OptedOut { .. } => true,
            ConsentChange::OptedIn { .. } => false,
        };
        let event = Event::ConsentChanged {
            phone: phone.clone(),
            number: number.clone(),
            opted_out,
            keyword: keyword.filter(|k| !k.is_empty()).cloned(),
            source: self.source.to_owned(),
        };
        push_event_for(self.batch, None, None, event, now);
    }
}

/// What a blocked text's stored message says in its `error`, for admins: that it was blocked and why.
pub(crate) fn blocked_note(blocked: &Blocked) -> String {
    format!("blocked: {} is on the blocklist ({}); no chat was opened", blocked.number, blocked.reason)
}

/// The consumer's text, its media to fetch and (from the phone simulator) its line on the phone page.
fn push_inbound(batch: &mut Batch, text: Inbound<'_>, chat: Option<&Chat>, now: Timestamp) {
    let Inbound { sms, message_id } = text;
    let chat_id = chat.map(|c| c.id.to_string());
    let media = sms.media.iter().map(|m| m.url.as_str()).collect::<Vec<_>>().join("\n");
    if sms.carrier == "sim" {
        batch.sim.push(SimRow {
            seq: 0,
            phone: sms.from.to_string(),
            business: sms.to.to_string(),
            direction: "mo".to_owned(),
            body: sms.body.clone(),
            media: media.clone(),
            message_id: None,
            at: now.0,
        });
    }
    for m in &sms.media {
        batch.media.push(MediaRow {
            id: uuid::Uuid::now_v7().to_string(),
            message_id: Some(message_id.to_owned()),
            chat_id: chat_id.clone(),
            carrier: sms.carrier.clone(),
            source_url: m.url.clone(),
            content_type: m.content_type.clone(),
            size: 0,
            status: MediaStatus::Pending,
            attempts: 0,
            error: None,
            created_at: now.0,
            uploaded_by: None,
        });
    }
    let row = MessageRow {
        chat_id,
        media,
        ..MessageRow::inbound(
            message_id,
            sms.to.to_string(),
            sms.from.to_string(),
            &sms.carrier,
            &sms.provider_id,
            &sms.body,
            now.0,
        )
    };
    push_message(batch, row, chat, now);
}

/// Attaches the uploads `media` to the outbound message `row` (in this batch's transaction).
pub(super) fn link_media(batch: &mut Batch, media: &OutMedia, row: &MessageRow, now: Timestamp) {
    batch.media_links.extend(media.0.iter().map(|id| MediaLink {
        media_id: id.clone(),
        message_id: row.id.clone(),
        chat_id: row.chat_id.clone(),
        at: now.0,
    }));
}

/// A message of the transcript, with its "message" event.
fn push_message(batch: &mut Batch, row: MessageRow, chat: Option<&Chat>, now: Timestamp) {
    let event = Event::Message {
        message_id: row.id.clone(),
        direction: row.direction,
        author: row.author.clone(),
        body: row.body.clone(),
        media: if row.media.is_empty() { vec![] } else { row.media.split('\n').map(str::to_owned).collect() },
        status: row.status,
    };
    push_event_for(batch, chat, None, event, now);
    batch.messages.push(row);
}

/// An event of `chat` (as the decision left it), addressed to `agent` instead of the chat's agent when
/// given. Its row, and so its JSON, comes from [`event_json::row`], the one encoding.
fn push_event_for(batch: &mut Batch, chat: Option<&Chat>, agent: Option<&AgentId>, event: Event, now: Timestamp) {
    let agent = agent.or_else(|| chat.and_then(|c| c.agent.as_ref()));
    batch.events.push(event_json::row(&event, chat, agent, now));
}

/// An internal line in the chat's transcript (direction "note"): agents read it, the consumer never
/// gets it, and the outbox never sees it.
fn push_note(batch: &mut Batch, chat: &Chat, number: &Number, text: String, now: Timestamp) {
    let row = MessageRow::note(
        uuid::Uuid::now_v7().to_string(),
        chat.id.to_string(),
        number.number.to_string(),
        chat.consumer.to_string(),
        &number.carrier,
        text,
        now.0,
    );
    push_message(batch, row, Some(chat), now);
}

/// The roster as the store has it now, with the queues' waiting counts and their history of the past
/// day: for answers outside the engine's batches (the estimated wait of `GET /api/v1/queues/{id}/ewt`).
pub async fn live_roster(store: &Store, setup: &Setup, now: Timestamp) -> anyhow::Result<Roster> {
    let mut roster = load_roster(store, setup).await?;
    let history = queue_history(store, now).await?;
    roster.handle_seconds = history.handle_seconds;
    roster.abandonment_permille = history.abandonment_permille;
    for (queue, n) in store.waiting_counts().await? {
        if let Ok(queue) = QueueId::parse(&queue) {
            roster.waiting.insert(queue, u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
    Ok(roster)
}

/// The queues' handle times and abandonment over the past day.
pub(super) async fn queue_history(store: &Store, now: Timestamp) -> anyhow::Result<QueueHistory> {
    let since = now.0 - super::HANDLE_TIMES_OVER_MS;
    let mut history = QueueHistory::default();
    for (queue, seconds) in store.handle_times(since).await? {
        if let Ok(queue) = QueueId::parse(&queue) {
            history.handle_seconds.insert(queue, u32::try_from(seconds.max(1)).unwrap_or(u32::MAX));
        }
    }
    for (queue, waited, abandoned) in store.abandonment(since).await? {
        if let Ok(queue) = QueueId::parse(&queue)
            && waited > 0
        {
            let permille = abandoned.clamp(0, waited) * 1000 / waited;
            history.abandonment_permille.insert(queue, u32::try_from(permille).unwrap_or(1000));
        }
    }
    Ok(history)
}

async fn load_roster(store: &Store, setup: &Setup) -> anyhow::Result<Roster> {
    let states: HashMap<String, AgentStateRow> =
        store.agent_states().await?.into_iter().map(|s| (s.agent.clone(), s)).collect();
    let counts: HashMap<String, i64> = store.active_chat_counts().await?.into_iter().collect();
    let seats = setup
        .agents
        .iter()
        .map(|a| {
            let state = states.get(a.id.as_str());
            let presence = state.map(|s| s.status).unwrap_or_default();
            let connected = state.is_some_and(|s| s.connected);
            let active = counts.get(a.id.as_str()).copied().unwrap_or(0).try_into().unwrap_or(u32::MAX);
            Desk::seat(setup, a, presence, connected, active, Timestamp(state.map_or(0, |s| s.last_assigned)))
        })
        .collect();
    Ok(Roster { seats, ..Roster::default() })
}

/// A carrier's delivery status as the message's.
fn delivery_status(status: DeliveryStatus) -> MessageStatus {
    match status {
        DeliveryStatus::Queued => MessageStatus::Queued,
        DeliveryStatus::Sent => MessageStatus::Sent,
        DeliveryStatus::Delivered => MessageStatus::Delivered,
        DeliveryStatus::Undelivered => MessageStatus::Undelivered,
        DeliveryStatus::Failed => MessageStatus::Failed,
    }
}

/// The transcript line a transfer event leaves (the note is for agents only).
fn transfer_note(event: &ChatEvent) -> Option<String> {
    match event {
        ChatEvent::TransferStarted { from, to, queue, note } => {
            let into = queue.as_ref().map(|q| format!(" in {q}")).unwrap_or_default();
            let note = if note.trim().is_empty() { String::new() } else { format!(": {note}") };
            Some(format!("{from} asked {to}{into} to take the chat over{note}"))
        }
        ChatEvent::TransferFailed { from, to, reason } => {
            let to = to.as_ref().map(|t| format!(" to {t}")).unwrap_or_default();
            Some(format!("The transfer{to} failed ({}); {from} keeps the chat", reason.as_str()))
        }
        ChatEvent::TransferEnded { from, to } => Some(format!("{to} took the chat over from {from}")),
        _ => None,
    }
}
