//! The state one batch works on: loaded with a few queries, changed in memory by each decision, and
//! turned into one [`Batch`] for the group commit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use parley_core::chat::{
    self, Chat, ChatEvent, ChatStatus, Consent, ConsentChange, Context, Decision, Effect, Input, Outcome, Purpose,
};
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::number::NumberState;
use parley_core::phone::{BusinessNumber, E164};
use parley_core::routing::{Presence, Roster, Seat};
use parley_core::setup::{Number, Setup};
use parley_core::time::Timestamp;
use parley_core::timers;
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::chats::ChatFilter;
use parley_store::messages::status_rank;
use parley_store::rows::{
    AgentStateRow, ChatRow, ConsentEntry, ConsentRow, EventRow, MediaRow, MessageRow, PendingReceiptRow, SimRow,
    StatusUpdate,
};
use serde_json::json;

use super::rows::{chat_from_row, chat_to_row};
use super::{
    Answer, ChatAck, Command, ConsentRequest, EngineError, InboundAck, InboundSms, OutboundAck, OutboundRequest,
    Receipt, SendOutcome,
};
use crate::language::Detector;

/// The state a batch works on: loaded once, changed in memory by each decision, written at the end.
#[derive(Default)]
pub(super) struct Working {
    chats: HashMap<ChatId, Chat>,
    live: HashMap<(E164, BusinessNumber), ChatId>,
    consents: HashMap<E164, Consent>,
    roster: Roster,
    seen: HashMap<(String, String), InboundAck>,
    changed_chats: BTreeSet<ChatId>,
    changed_consents: BTreeSet<E164>,
    /// Queues where capacity may have freed up.
    dispatch_queues: BTreeSet<QueueId>,
    /// Agents whose presence changed.
    touched_agents: BTreeSet<AgentId>,
    /// Outbound messages receipts name, by (carrier, provider id).
    sent_messages: HashMap<(String, String), MessageRow>,
    /// Receipts that came before their message was known, by (carrier, provider id).
    pending: HashMap<(String, String), Vec<PendingReceiptRow>>,
    /// Registration states stored for the numbers texted in this batch.
    number_states: HashMap<String, NumberState>,
    /// Salts the hashes of erased phones' tombstones.
    privacy_secret: String,
    batch: Batch,
}

impl Working {
    pub(super) async fn load(
        store: &Store,
        setup: &Setup,
        privacy_secret: &str,
        commands: &[&Command],
    ) -> anyhow::Result<Working> {
        let mut w = Working { privacy_secret: privacy_secret.to_owned(), ..Working::default() };
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
                Command::Chat { chat_id, .. } => chat_ids.push(chat_id.clone()),
                Command::Outbound(r) => {
                    consumers.insert(r.consumer.to_string());
                    numbers.insert(r.number.to_string());
                }
                Command::Consent(r) => {
                    consumers.insert(r.phone.to_string());
                }
                Command::Status { agent, presence } if *presence != Presence::Available => away.push(agent.to_string()),
                Command::Status { .. } | Command::Setup { .. } | Command::Erase { .. } => {}
                Command::Receipt(r) => receipts.entry(r.carrier.as_str()).or_default().push(r.provider_id.clone()),
                Command::Sent(outcomes) => {
                    for o in outcomes {
                        chat_ids.extend(o.chat_id.clone());
                        // Only a message the carrier has not reported delivered can have a receipt waiting.
                        if let Some(provider_id) = o.provider_id.as_ref().filter(|_| o.status == "sent") {
                            accepted.entry(o.carrier.as_str()).or_default().push(provider_id.clone());
                        }
                    }
                }
            }
        }
        for (carrier, ids) in provider_ids {
            for (provider_id, message_id, chat_id) in store.inbound_seen(carrier, &ids).await? {
                w.seen.insert((carrier.to_owned(), provider_id), InboundAck { message_id, chat_id, duplicate: true });
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
            if let Some(state) = NumberState::parse(&row.state) {
                w.number_states.insert(row.number, state);
            }
        }
        let consumers: Vec<String> = consumers.into_iter().collect();
        let mut rows = store.live_chats_of(&consumers).await?;
        rows.extend(store.chats_by_ids(&chat_ids).await?);
        for agent in away {
            let filter =
                ChatFilter { statuses: vec!["offered".to_owned()], queues: None, agent: Some(agent), limit: 1000 };
            rows.extend(store.list_chats(&filter).await?);
        }
        w.add_chats(rows, setup);
        let phones: Vec<String> = w.chats.values().map(|c| c.consumer.to_string()).chain(consumers).collect();
        w.load_consents(store, &phones).await?;
        w.roster = load_roster(store, setup).await?;
        let asking: Vec<Chat> = w
            .chats
            .values()
            .filter(|c| c.status == ChatStatus::Queued && asking_place.contains(c.consumer.as_str()))
            .cloned()
            .collect();
        for chat in asking {
            if let (Some(queue), Some(queued_at)) = (&chat.queue, chat.queued_at) {
                let ahead = store.waiting_ahead(queue.as_str(), queued_at.0, chat.id.as_str()).await?;
                w.roster.ahead.insert((chat.id.clone(), queue.clone()), u32::try_from(ahead).unwrap_or(u32::MAX));
            }
        }
        Ok(w)
    }

    /// The queues' handle times and waiting counts the engine keeps between batches.
    pub(super) fn set_queue_figures(
        &mut self,
        handle_seconds: BTreeMap<QueueId, u32>,
        waiting: BTreeMap<QueueId, u32>,
    ) {
        self.roster.handle_seconds = handle_seconds;
        self.roster.waiting = waiting;
    }

    /// The waiting counts after this batch's decisions.
    pub(super) fn waiting(&self) -> &BTreeMap<QueueId, u32> {
        &self.roster.waiting
    }

    fn add_chats(&mut self, rows: Vec<ChatRow>, setup: &Setup) {
        for row in rows {
            let Some(chat) = chat_from_row(&row, &setup.settings.language) else {
                tracing::error!(chat = row.id, "skipping a chat row that does not parse");
                continue;
            };
            if self.chats.contains_key(&chat.id) {
                continue;
            }
            if chat.is_live() {
                self.live.insert((chat.consumer.clone(), chat.number.clone()), chat.id.clone());
            }
            self.chats.insert(chat.id.clone(), chat);
        }
    }

    async fn load_consents(&mut self, store: &Store, phones: &[String]) -> anyhow::Result<()> {
        let missing: Vec<String> =
            phones.iter().filter(|p| E164::parse(p).is_ok_and(|p| !self.consents.contains_key(&p))).cloned().collect();
        for row in store.consents(&missing).await? {
            if let Ok(phone) = E164::parse(&row.phone) {
                self.consents.insert(phone, Consent { opted_out: row.opted_out, notice_sent: row.notice_sent });
            }
        }
        // A phone without a consent row may have been erased: its tombstone keeps its opt-out. It is a
        // new contact otherwise, so the opt-in notice goes out again after START.
        let unknown: HashMap<String, E164> = missing
            .iter()
            .filter_map(|p| E164::parse(p).ok())
            .filter(|p| !self.consents.contains_key(p))
            .map(|p| (crate::privacy::phone_hash(&self.privacy_secret, &p), p))
            .collect();
        let hashes: Vec<String> = unknown.keys().cloned().collect();
        for hash in store.erased_opt_outs(&hashes).await? {
            if let Some(phone) = unknown.get(&hash) {
                self.consents.insert(phone.clone(), Consent { opted_out: true, notice_sent: false });
            }
        }
        for phone in missing {
            if let Ok(phone) = E164::parse(&phone) {
                self.consents.entry(phone).or_default();
            }
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
        let Some(number) = setup.number(&sms.to) else {
            return Err(EngineError::NumberNotSetUp(sms.to.to_string()));
        };
        let state = self.number_state(number);
        if !state.is_enabled() {
            return Ok(self.inbound_to_disabled(setup, sms, number, state, now));
        }
        let mut chat_id = self.live.get(&(sms.from.clone(), sms.to.clone())).cloned();
        // A timer that came due before the worker got to it (the server was down, say) fires first:
        // a text to an expired session starts a new chat rather than joining the old one.
        if let Some(id) = chat_id.clone()
            && self
                .chats
                .get(&id)
                .is_some_and(|c| timers::next_due(c, &setup.timers_for(c.queue.as_ref())).is_some_and(|t| t <= now))
        {
            self.chat_action(setup, id.as_str(), &Input::Tick, now)?;
            chat_id = self.live.get(&(sms.from.clone(), sms.to.clone())).cloned();
        }
        let chat = chat_id.as_ref().and_then(|id| self.chats.get(id)).cloned();
        let new_chat_id = ChatId::new(uuid::Uuid::now_v7().to_string());
        let consent = self.consents.get(&sms.from).copied().unwrap_or_default();
        // Only a text that opens a chat has its language guessed; a live chat keeps its language.
        let language = if chat.is_none() { detector.and_then(|d| d.detect(&sms.body)) } else { None };
        let input = Input::Inbound { text: sms.body.clone(), media: sms.media.len(), language };
        let media: Vec<&str> = sms.media.iter().map(|m| m.url.as_str()).collect();
        let outcome = chat::decide(
            chat.as_ref(),
            &input,
            Context {
                setup,
                number,
                consumer: &sms.from,
                consent,
                roster: &mut self.roster,
                now,
                new_chat_id: &new_chat_id,
            },
        );
        let Outcome::Done(decision) = outcome else {
            return Err(EngineError::Internal(anyhow::anyhow!("an inbound message was refused")));
        };
        let message_id = uuid::Uuid::now_v7().to_string();
        let chat_id = decision.chat.as_ref().map(|c| c.id.to_string());
        let row = MessageRow {
            seq: 0,
            id: message_id.clone(),
            chat_id: chat_id.clone(),
            number: sms.to.to_string(),
            consumer: sms.from.to_string(),
            direction: "in".to_owned(),
            author: "consumer".to_owned(),
            body: sms.body.clone(),
            media: media.join("\n"),
            status: "received".to_owned(),
            purpose: "conversation".to_owned(),
            carrier: sms.carrier.clone(),
            provider_id: Some(sms.provider_id.clone()),
            attempts: 0,
            next_attempt_at: 0,
            error: None,
            created_at: now.0,
            updated_at: now.0,
        };
        if sms.carrier == "sim" {
            self.batch.sim.push(SimRow {
                seq: 0,
                phone: sms.from.to_string(),
                business: sms.to.to_string(),
                direction: "mo".to_owned(),
                body: sms.body.clone(),
                media: media.join("\n"),
                message_id: None,
                at: now.0,
            });
        }
        for m in &sms.media {
            self.batch.media.push(MediaRow {
                id: uuid::Uuid::now_v7().to_string(),
                message_id: message_id.clone(),
                chat_id: chat_id.clone(),
                carrier: sms.carrier.clone(),
                source_url: m.url.clone(),
                content_type: m.content_type.clone(),
                size: 0,
                status: "pending".to_owned(),
                attempts: 0,
                error: None,
                created_at: now.0,
            });
        }
        let opted_out = matches!(decision.consent, Some(ConsentChange::OptedOut { .. }));
        self.apply(decision, chat.as_ref(), Some(row), number, &sms.from, "sms", now);
        if opted_out {
            // The do-not-contact list holds for every number: the phone's chats elsewhere end too.
            let elsewhere: Vec<ChatId> =
                self.live.iter().filter(|((consumer, _), _)| consumer == &sms.from).map(|(_, id)| id.clone()).collect();
            for id in elsewhere {
                if let Err(e) = self.chat_action(setup, id.as_str(), &Input::OptedOutElsewhere, now) {
                    tracing::warn!(chat = %id, error = %e, "could not end a chat of an opted-out phone");
                }
            }
        }
        let ack = InboundAck { message_id, chat_id, duplicate: false };
        self.seen.insert(key, ack.clone());
        Ok(Answer::Inbound(ack))
    }

    /// A text to a number that is not enabled: kept and shown to admins, but it opens no chat and gets
    /// no answer. Opt-outs and opt-ins still count: consent is the consumer's, whatever the number's state.
    fn inbound_to_disabled(
        &mut self,
        setup: &Setup,
        sms: &InboundSms,
        number: &Number,
        state: NumberState,
        now: Timestamp,
    ) -> Answer {
        let consent = self.consents.get(&sms.from).copied().unwrap_or_default();
        let keyword = parley_core::keyword::normalize(&sms.body);
        match setup.carrier_keyword(number, &sms.body) {
            Some(parley_core::keyword::CarrierKeyword::OptOut) if !consent.opted_out => {
                self.record_consent(&sms.from, &number.number, ConsentChange::OptedOut { keyword }, "sms", now);
            }
            Some(parley_core::keyword::CarrierKeyword::OptIn) if consent.opted_out => {
                self.record_consent(&sms.from, &number.number, ConsentChange::OptedIn { keyword }, "sms", now);
            }
            _ => {}
        }
        let message_id = uuid::Uuid::now_v7().to_string();
        self.batch.messages.push(MessageRow {
            seq: 0,
            id: message_id.clone(),
            chat_id: None,
            number: sms.to.to_string(),
            consumer: sms.from.to_string(),
            direction: "in".to_owned(),
            author: "consumer".to_owned(),
            body: sms.body.clone(),
            media: sms.media.iter().map(|m| m.url.as_str()).collect::<Vec<_>>().join("\n"),
            status: "received".to_owned(),
            purpose: "conversation".to_owned(),
            carrier: sms.carrier.clone(),
            provider_id: Some(sms.provider_id.clone()),
            attempts: 0,
            next_attempt_at: 0,
            error: Some(format!("number {} is {}: no chat was opened", sms.to, state.as_str())),
            created_at: now.0,
            updated_at: now.0,
        });
        let data = json!({ "message_id": message_id, "number": sms.to.as_str(), "state": state.as_str() });
        self.push_event(None, "number.inbound_refused", data, now);
        tracing::warn!(number = %sms.to, state = state.as_str(), "a text reached a number that is not enabled");
        let ack = InboundAck { message_id, chat_id: None, duplicate: false };
        self.seen.insert((sms.carrier.clone(), sms.provider_id.clone()), ack.clone());
        Answer::Inbound(ack)
    }

    pub(super) fn chat_action(
        &mut self,
        setup: &Setup,
        chat_id: &str,
        input: &Input,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let id = ChatId::new(chat_id);
        let Some(chat) = self.chats.get(&id).cloned() else {
            return Err(EngineError::ChatNotFound(chat_id.to_owned()));
        };
        let detached;
        let number = match setup.number(&chat.number) {
            Some(n) => n,
            None => {
                // The number left the setup while the chat lived: the chat can still be handled.
                detached = Number {
                    number: chat.number.clone(),
                    label: String::new(),
                    carrier: String::new(),
                    queues: vec![],
                    segments_per_second: None,
                    campaign: None,
                    kind: parley_core::number::NumberKind::default(),
                    keywords: parley_core::keyword::ExtraKeywords::default(),
                    language: None,
                    messages: parley_core::texts::TextOverrides::default(),
                    translations: BTreeMap::new(),
                };
                &detached
            }
        };
        let consent = self.consents.get(&chat.consumer).copied().unwrap_or_default();
        let consumer = chat.consumer.clone();
        let outcome = chat::decide(
            Some(&chat),
            input,
            Context { setup, number, consumer: &consumer, consent, roster: &mut self.roster, now, new_chat_id: &id },
        );
        match outcome {
            Outcome::Refused(refusal) => Err(EngineError::Refused(refusal)),
            Outcome::Done(decision) => {
                let before = self.batch.messages.len();
                self.apply(decision, Some(&chat), None, number, &consumer, "agent", now);
                let message_id = match input {
                    Input::Reply { .. } => self.batch.messages[before..]
                        .iter()
                        .find(|m| m.author.starts_with("agent:"))
                        .map(|m| m.id.clone()),
                    _ => None,
                };
                let chat = self
                    .chats
                    .get(&id)
                    .map(|c| chat_to_row(c, setup, now))
                    .ok_or_else(|| EngineError::ChatNotFound(chat_id.to_owned()))?;
                Ok(Answer::Chat(Box::new(ChatAck { chat, message_id })))
            }
        }
    }

    /// A message the business writes first (see [`OutboundRequest`]).
    pub(super) fn outbound(
        &mut self,
        setup: &Setup,
        request: &OutboundRequest,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let Some(number) = setup.number(&request.number) else {
            return Err(EngineError::NumberNotSetUp(request.number.to_string()));
        };
        let state = self.number_state(number);
        if !state.is_enabled() {
            return Err(EngineError::NumberNotEnabled { number: number.number.to_string(), state: state.as_str() });
        }
        let consumer = &request.consumer;
        let chat_id = self.live.get(&(consumer.clone(), number.number.clone())).cloned();
        let chat = chat_id.as_ref().and_then(|id| self.chats.get(id)).cloned();
        let new_chat_id = ChatId::new(uuid::Uuid::now_v7().to_string());
        let consent = self.consents.get(consumer).copied().unwrap_or_default();
        let outcome = chat::decide(
            chat.as_ref(),
            &request.input,
            Context { setup, number, consumer, consent, roster: &mut self.roster, now, new_chat_id: &new_chat_id },
        );
        let decision = match outcome {
            Outcome::Refused(refusal) => return Err(EngineError::Refused(refusal)),
            Outcome::Done(decision) => decision,
        };
        let sessionless = matches!(request.input, Input::Sessionless { .. });
        let opened = if sessionless { None } else { decision.chat.as_ref().map(|c| c.id.clone()) };
        let before = self.batch.messages.len();
        self.apply(decision, chat.as_ref(), None, number, consumer, &request.source, now);
        // The request's own message is the last one sent; an opt-in notice may precede it.
        let Some(message) = self.batch.messages[before..].iter().rfind(|m| m.direction == "out") else {
            return Err(EngineError::Internal(anyhow::anyhow!("an outbound request sent nothing")));
        };
        let send_at = (message.status == "scheduled").then_some(message.next_attempt_at);
        let ack = OutboundAck {
            chat: opened.and_then(|id| self.chats.get(&id)).map(|c| chat_to_row(c, setup, now)),
            message_id: message.id.clone(),
            status: message.status.clone(),
            send_at,
        };
        Ok(Answer::Outbound(Box::new(ack)))
    }

    /// An opt-in or opt-out given outside SMS. An opt-out ends the phone's live chats, as STOP does.
    pub(super) fn consent(
        &mut self,
        setup: &Setup,
        request: &ConsentRequest,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let consent = self.consents.get(&request.phone).copied().unwrap_or_default();
        let source = format!("api: {}", request.source);
        match (request.opted_in, consent.opted_out) {
            (true, true) => {
                let change = ConsentChange::OptedIn { keyword: String::new() };
                self.record_consent(&request.phone, &request.number, change, &source, now);
            }
            (false, false) => {
                let change = ConsentChange::OptedOut { keyword: String::new() };
                self.record_consent(&request.phone, &request.number, change, &source, now);
                let live: Vec<ChatId> = self
                    .live
                    .iter()
                    .filter(|((consumer, _), _)| consumer == &request.phone)
                    .map(|(_, id)| id.clone())
                    .collect();
                for id in live {
                    self.chat_action(setup, id.as_str(), &Input::OptedOutElsewhere, now)?;
                }
            }
            // Already in that state: nothing changes, and the ledger is not padded with repeats.
            _ => {}
        }
        Ok(Answer::Done)
    }

    fn number_state(&self, number: &Number) -> NumberState {
        self.number_states.get(number.number.as_str()).copied().unwrap_or_else(|| number.kind.initial_state())
    }

    pub(super) fn status(
        &mut self,
        setup: &Setup,
        agent: &AgentId,
        presence: Presence,
        now: Timestamp,
    ) -> Result<Answer, EngineError> {
        let Some(seat) = self.roster.seats.iter_mut().find(|s| &s.agent == agent) else {
            return Err(EngineError::Internal(anyhow::anyhow!("agent {agent} is not in the setup")));
        };
        seat.presence = presence;
        let available = presence == Presence::Available;
        let status = presence.as_str();
        self.touched_agents.insert(agent.clone());
        self.batch.events.push(EventRow {
            id: 0,
            chat_id: None,
            queue: None,
            agent: Some(agent.to_string()),
            kind: "agent.status".to_owned(),
            data: json!({ "agent": agent.as_str(), "status": status }).to_string(),
            at: now.0,
        });
        if available && let Some(a) = setup.agent(agent) {
            self.dispatch_queues.extend(setup.queues_of(&a.id));
        }
        if !available {
            // Offers the agent has not accepted go to a colleague instead of waiting for them.
            let offered: Vec<ChatId> = self
                .chats
                .values()
                .filter(|c| c.status == ChatStatus::Offered && c.agent.as_ref() == Some(agent))
                .map(|c| c.id.clone())
                .collect();
            for id in offered {
                self.chat_action(setup, id.as_str(), &Input::Withdraw, now)?;
            }
        }
        Ok(Answer::Done)
    }

    /// A delivery receipt: moves its message forward (never back), or waits for the message to be known.
    pub(super) fn receipt(&mut self, r: &Receipt, now: Timestamp) {
        let key = (r.carrier.clone(), r.provider_id.clone());
        let Some(message) = self.sent_messages.get(&key).cloned() else {
            self.batch.pending_receipts.push(PendingReceiptRow {
                carrier: r.carrier.clone(),
                provider_id: r.provider_id.clone(),
                status: r.status.as_str().to_owned(),
                error: r.error_code.clone(),
                at: now.0,
            });
            return;
        };
        self.move_status(message, r.status.as_str(), r.error_code.clone(), now);
    }

    fn move_status(&mut self, mut message: MessageRow, status: &str, error: Option<String>, now: Timestamp) {
        if status_rank(status) <= status_rank(&message.status) {
            return;
        }
        message.status = status.to_owned();
        self.batch.status_updates.push(StatusUpdate {
            seq: message.seq,
            status: status.to_owned(),
            error: error.clone(),
            at: now.0,
        });
        self.status_event(&message.id, message.chat_id.as_deref(), status, error, now);
        if let Some(provider_id) = message.provider_id.clone() {
            self.sent_messages.insert((message.carrier.clone(), provider_id), message);
        }
    }

    fn status_event(
        &mut self,
        message_id: &str,
        chat_id: Option<&str>,
        status: &str,
        error: Option<String>,
        now: Timestamp,
    ) {
        let chat = chat_id.and_then(|id| self.chats.get(&ChatId::new(id))).cloned();
        let data = json!({ "message_id": message_id, "status": status, "error": error });
        self.push_event(chat.as_ref(), "message.status", data, now);
    }

    /// What the outbox did: an event for each message, and the receipts that were waiting for it.
    pub(super) fn sent(&mut self, outcomes: &[SendOutcome], now: Timestamp) {
        for o in outcomes {
            if o.status != "queued" {
                self.status_event(&o.message_id, o.chat_id.as_deref(), &o.status, o.error.clone(), now);
            }
            let Some(provider_id) = &o.provider_id else { continue };
            let key = (o.carrier.clone(), provider_id.clone());
            let Some(waiting) = self.pending.remove(&key) else { continue };
            self.batch.applied_receipts.push(key.clone());
            let message = MessageRow {
                seq: o.seq,
                id: o.message_id.clone(),
                chat_id: o.chat_id.clone(),
                number: String::new(),
                consumer: String::new(),
                direction: "out".to_owned(),
                author: String::new(),
                body: String::new(),
                media: String::new(),
                status: o.status.clone(),
                purpose: String::new(),
                carrier: o.carrier.clone(),
                provider_id: Some(provider_id.clone()),
                attempts: 0,
                next_attempt_at: 0,
                error: None,
                created_at: 0,
                updated_at: 0,
            };
            self.sent_messages.insert(key.clone(), message);
            for r in waiting {
                let Some(message) = self.sent_messages.get(&key).cloned() else { continue };
                self.move_status(message, &r.status, r.error, now);
            }
        }
    }

    /// Offers queued chats of queues where capacity may have freed up, oldest first.
    pub(super) async fn dispatch(&mut self, store: &Store, setup: &Setup, now: Timestamp) -> anyhow::Result<()> {
        if self.dispatch_queues.is_empty() {
            return Ok(());
        }
        let queues: Vec<String> = self.dispatch_queues.iter().map(ToString::to_string).collect();
        let rows = store.queued_chats(&queues, 1000).await?;
        self.add_chats(rows, setup);
        let phones: Vec<String> = self.chats.values().map(|c| c.consumer.to_string()).collect();
        self.load_consents(store, &phones).await?;
        let mut waiting: Vec<Chat> = self
            .chats
            .values()
            .filter(|c| {
                c.status == ChatStatus::Queued && c.queue.as_ref().is_some_and(|q| self.dispatch_queues.contains(q))
            })
            .cloned()
            .collect();
        waiting.sort_by(|a, b| (a.queued_at, &a.id).cmp(&(b.queued_at, &b.id)));
        for chat in waiting {
            let Some(queue) = &chat.queue else { continue };
            if self.roster.pick(queue).is_none() {
                continue;
            }
            let Some(number) = setup.number(&chat.number) else { continue };
            let consent = self.consents.get(&chat.consumer).copied().unwrap_or_default();
            let outcome = chat::decide(
                Some(&chat),
                &Input::Route,
                Context {
                    setup,
                    number,
                    consumer: &chat.consumer,
                    consent,
                    roster: &mut self.roster,
                    now,
                    new_chat_id: &chat.id,
                },
            );
            if let Outcome::Done(decision) = outcome {
                self.apply(decision, Some(&chat), None, number, &chat.consumer, "routing", now);
            }
        }
        Ok(())
    }

    /// Records a decision: the chat's new state, consent, messages to send and events. The consumer's
    /// `inbound` text is recorded where the decision saw it (its `ConsumerMessage` event), so that
    /// messages and events keep the order in which things happened.
    #[expect(clippy::too_many_arguments, reason = "one call site per input kind; a struct would only rename them")]
    fn apply(
        &mut self,
        decision: Decision,
        before: Option<&Chat>,
        mut inbound: Option<MessageRow>,
        number: &Number,
        consumer: &E164,
        source: &str,
        now: Timestamp,
    ) {
        let Decision { chat, consent, effects } = decision;
        if !effects.iter().any(|e| matches!(e, Effect::Event(ChatEvent::ConsumerMessage))) {
            // Keywords (STOP, HELP, ...) and texts from opted-out phones: the text comes first.
            if let Some(row) = inbound.take() {
                self.push_message(row, chat.as_ref(), now);
            }
        }
        if let Some(change) = consent {
            self.record_consent(consumer, &number.number, change, source, now);
        }
        for effect in effects {
            match effect {
                Effect::Send { text, author, purpose, not_before } => {
                    let author = match author {
                        chat::Author::System => "system".to_owned(),
                        chat::Author::Agent(agent) => format!("agent:{agent}"),
                        chat::Author::Api => "api".to_owned(),
                    };
                    let row = MessageRow {
                        seq: 0,
                        id: uuid::Uuid::now_v7().to_string(),
                        chat_id: chat.as_ref().map(|c| c.id.to_string()),
                        number: number.number.to_string(),
                        consumer: consumer.to_string(),
                        direction: "out".to_owned(),
                        author,
                        body: text,
                        media: String::new(),
                        status: if not_before.is_some() { "scheduled" } else { "queued" }.to_owned(),
                        purpose: match purpose {
                            Purpose::Conversation => "conversation",
                            Purpose::OptOutConfirmation => "opt_out_confirmation",
                        }
                        .to_owned(),
                        carrier: number.carrier.clone(),
                        provider_id: None,
                        attempts: 0,
                        next_attempt_at: not_before.map_or(0, |t| t.0),
                        error: None,
                        created_at: now.0,
                        updated_at: now.0,
                    };
                    self.push_message(row, chat.as_ref(), now);
                }
                Effect::Event(event) => {
                    // Messages get their own "message" events, with the text, from push_message.
                    if matches!(event, ChatEvent::ConsumerMessage) {
                        if let Some(row) = inbound.take() {
                            self.push_message(row, chat.as_ref(), now);
                        }
                        continue;
                    }
                    if matches!(event, ChatEvent::AgentMessage { .. }) {
                        continue;
                    }
                    self.freed_capacity(&event, before);
                    let (kind, data) = event_json(&event);
                    if let (Some(chat), Some(text)) = (chat.as_ref(), transfer_note(&event)) {
                        self.push_note(chat, number, text, now);
                    }
                    // The agent asked to take a transfer must hear of it, whatever queues they serve.
                    let to = match &event {
                        ChatEvent::TransferStarted { to, .. } => Some(to),
                        _ => None,
                    };
                    self.push_event_for(chat.as_ref(), to, kind, data, now);
                }
            }
        }
        if let Some(chat) = chat {
            self.count_waiting(before, &chat);
            let key = (chat.consumer.clone(), chat.number.clone());
            if chat.is_live() {
                self.live.insert(key, chat.id.clone());
            } else if self.live.get(&key) == Some(&chat.id) {
                self.live.remove(&key);
            }
            self.changed_chats.insert(chat.id.clone());
            self.chats.insert(chat.id.clone(), chat);
        }
    }

    /// Keeps the queues' lines current as chats join and leave them within the batch.
    fn count_waiting(&mut self, before: Option<&Chat>, after: &Chat) {
        let waiting_in = |c: &Chat| c.queue.clone().filter(|_| c.status == ChatStatus::Queued);
        let (was, is) = (before.and_then(waiting_in), waiting_in(after));
        if was == is {
            return;
        }
        if let Some(queue) = was
            && let Some(n) = self.roster.waiting.get_mut(&queue)
        {
            *n = n.saturating_sub(1);
        }
        if let Some(queue) = is {
            *self.roster.waiting.entry(queue).or_default() += 1;
        }
    }

    /// Ending a chat or sending it back to the menu frees its agent's capacity.
    fn freed_capacity(&mut self, event: &ChatEvent, before: Option<&Chat>) {
        let agent = match event {
            ChatEvent::Ended { .. }
            | ChatEvent::BackToMenu
            | ChatEvent::OfferWithdrawn { .. }
            | ChatEvent::OfferTimedOut { .. }
            | ChatEvent::ReplyTimedOut { .. }
            | ChatEvent::TransferEnded { .. } => before.and_then(|c| c.agent.as_ref()),
            // The agent who was asked held a place for the chat; it is free again.
            ChatEvent::TransferFailed { to, .. } => to.as_ref(),
            _ => None,
        };
        let Some(agent) = agent else { return };
        if let Some(seat) = self.roster.seats.iter().find(|s| &s.agent == agent) {
            self.dispatch_queues.extend(seat.queues.iter().cloned());
        }
    }

    fn record_consent(
        &mut self,
        phone: &E164,
        number: &BusinessNumber,
        change: ConsentChange,
        source: &str,
        now: Timestamp,
    ) {
        let consent = self.consents.entry(phone.clone()).or_default();
        let (name, keyword) = match change {
            ConsentChange::NoticeSent => {
                consent.notice_sent = true;
                ("notice_sent", None)
            }
            ConsentChange::OptedOut { keyword } => {
                consent.opted_out = true;
                ("opted_out", Some(keyword))
            }
            ConsentChange::OptedIn { keyword } => {
                consent.opted_out = false;
                ("opted_in", Some(keyword))
            }
        };
        self.changed_consents.insert(phone.clone());
        self.batch.ledger.push(ConsentEntry {
            phone: phone.to_string(),
            change: name.to_owned(),
            // Consent given outside SMS has no keyword: its source says where it came from.
            keyword: keyword.filter(|k| !k.is_empty()),
            number: number.to_string(),
            source: source.to_owned(),
            at: now.0,
        });
    }

    fn push_message(&mut self, row: MessageRow, chat: Option<&Chat>, now: Timestamp) {
        let data = json!({
            "message_id": row.id,
            "direction": row.direction,
            "author": row.author,
            "body": row.body,
            "media": if row.media.is_empty() { vec![] } else { row.media.split('\n').collect::<Vec<_>>() },
            "status": row.status,
        });
        self.push_event(chat, "message", data, now);
        self.batch.messages.push(row);
    }

    fn push_event(&mut self, chat: Option<&Chat>, kind: &str, data: serde_json::Value, now: Timestamp) {
        self.push_event_for(chat, None, kind, data, now);
    }

    /// An event of `chat`, addressed to `agent` instead of the chat's agent when given.
    fn push_event_for(
        &mut self,
        chat: Option<&Chat>,
        agent: Option<&AgentId>,
        kind: &str,
        mut data: serde_json::Value,
        now: Timestamp,
    ) {
        if let (Some(chat), Some(obj)) = (chat, data.as_object_mut()) {
            obj.insert("chat_id".to_owned(), json!(chat.id.as_str()));
            obj.insert("chat_status".to_owned(), json!(chat.status.as_str()));
        }
        self.batch.events.push(EventRow {
            id: 0,
            chat_id: chat.map(|c| c.id.to_string()),
            queue: chat.and_then(|c| c.queue.as_ref()).map(ToString::to_string),
            agent: agent.or_else(|| chat.and_then(|c| c.agent.as_ref())).map(ToString::to_string),
            kind: kind.to_owned(),
            data: data.to_string(),
            at: now.0,
        });
    }

    /// An internal line in the chat's transcript (direction "note"): agents read it, the consumer never
    /// gets it, and the outbox never sees it.
    fn push_note(&mut self, chat: &Chat, number: &Number, text: String, now: Timestamp) {
        let row = MessageRow {
            seq: 0,
            id: uuid::Uuid::now_v7().to_string(),
            chat_id: Some(chat.id.to_string()),
            number: number.number.to_string(),
            consumer: chat.consumer.to_string(),
            direction: "note".to_owned(),
            author: "system".to_owned(),
            body: text,
            media: String::new(),
            status: "internal".to_owned(),
            purpose: "internal".to_owned(),
            carrier: number.carrier.clone(),
            provider_id: None,
            attempts: 0,
            next_attempt_at: 0,
            error: None,
            created_at: now.0,
            updated_at: now.0,
        };
        self.push_message(row, Some(chat), now);
    }

    /// The batch to commit, and whether it holds messages for the outbox.
    pub(super) fn into_batch(mut self, setup: &Setup, now: Timestamp) -> (Batch, bool) {
        for id in &self.changed_chats {
            if let Some(chat) = self.chats.get(id) {
                self.batch.chats.push(chat_to_row(chat, setup, now));
            }
        }
        for phone in &self.changed_consents {
            if let Some(c) = self.consents.get(phone) {
                let at = self.batch.ledger.iter().rev().find(|e| e.phone == phone.as_str()).map_or(0, |e| e.at);
                self.batch.consents.push(ConsentRow {
                    phone: phone.to_string(),
                    opted_out: c.opted_out,
                    notice_sent: c.notice_sent,
                    updated_at: at,
                });
            }
        }
        // Presence changes, and who got a chat when (so "longest idle" survives restarts).
        for seat in
            self.roster.seats.iter().filter(|s| s.last_assigned == now || self.touched_agents.contains(&s.agent))
        {
            self.batch.agent_states.push(AgentStateRow {
                agent: seat.agent.to_string(),
                status: seat.presence.as_str().to_owned(),
                last_assigned: seat.last_assigned.0,
                updated_at: now.0,
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
        let wakes = self.batch.messages.iter().any(|m| m.direction == "out");
        (self.batch, wakes)
    }
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
            Seat {
                agent: a.id.clone(),
                presence: state.and_then(|s| Presence::parse(&s.status)).unwrap_or_default(),
                active: counts.get(a.id.as_str()).copied().unwrap_or(0).try_into().unwrap_or(u32::MAX),
                capacity: a.capacity,
                queues: setup.queues_of(&a.id),
                last_assigned: Timestamp(state.map_or(0, |s| s.last_assigned)),
                languages: if a.languages.is_empty() {
                    vec![setup.settings.language.clone()]
                } else {
                    a.languages.clone()
                },
            }
        })
        .collect();
    Ok(Roster { seats, ..Roster::default() })
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

fn event_json(event: &ChatEvent) -> (&'static str, serde_json::Value) {
    match event {
        ChatEvent::Opened => ("chat.opened", json!({})),
        ChatEvent::MenuSent => ("chat.menu_sent", json!({})),
        ChatEvent::Queued { queue } => ("chat.queued", json!({ "queue": queue.as_str() })),
        ChatEvent::BackToMenu => ("chat.back_to_menu", json!({})),
        ChatEvent::Offered { agent } => ("chat.offered", json!({ "agent": agent.as_str() })),
        ChatEvent::StartedOutbound { agent } => {
            ("chat.started_outbound", json!({ "agent": agent.as_ref().map(AgentId::as_str) }))
        }
        ChatEvent::OfferWithdrawn { agent } => ("chat.offer_withdrawn", json!({ "agent": agent.as_str() })),
        ChatEvent::Connected { agent, auto_answered } => {
            ("chat.connected", json!({ "agent": agent.as_str(), "auto_answered": auto_answered }))
        }
        ChatEvent::OfferTimedOut { agent } => ("chat.offer_timed_out", json!({ "agent": agent.as_str() })),
        ChatEvent::InactivityWarning => ("chat.inactivity_warning", json!({})),
        ChatEvent::LanguageChanged { language } => ("chat.language_changed", json!({ "language": language })),
        ChatEvent::AfterHours { opens } => ("chat.after_hours", json!({ "opens": opens.map(|t| t.0) })),
        ChatEvent::ReplyTimedOut { agent } => ("chat.reply_timed_out", json!({ "agent": agent.as_str() })),
        ChatEvent::Overflowed { from, to } => ("chat.overflowed", json!({ "from": from.as_str(), "to": to.as_str() })),
        ChatEvent::TransferStarted { from, to, queue, note } => (
            "chat.transfer_started",
            json!({ "from": from.as_str(), "to": to.as_str(), "queue": queue.as_ref().map(QueueId::as_str), "note": note }),
        ),
        ChatEvent::TransferFailed { from, to, reason } => (
            "chat.transfer_failed",
            json!({ "from": from.as_str(), "to": to.as_ref().map(AgentId::as_str), "reason": reason.as_str() }),
        ),
        ChatEvent::TransferEnded { from, to } => {
            ("chat.transfer_ended", json!({ "from": from.as_str(), "to": to.as_str() }))
        }
        ChatEvent::ConsumerMessage | ChatEvent::AgentMessage { .. } => ("message", json!({})),
        ChatEvent::OptedOut => ("consumer.opted_out", json!({})),
        ChatEvent::Ended { reason, by } => ("chat.ended", json!({ "reason": reason.as_str(), "by": by })),
    }
}
