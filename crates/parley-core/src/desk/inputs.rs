//! The inputs a [`Desk`] takes, each with the rules that reach beyond its own chat: a text fires its
//! chat's overdue timer first and an opt-out ends the phone's other chats; a text to a number that is
//! not enabled only counts for consent; an agent who goes away loses their offers; freed capacity is
//! dispatched at the end of the batch.
//!
//! Rule: an input either is carried out, its decisions reported to the [`Recorder`] and kept, or it is
//! turned down with a [`Rejection`] and changes nothing. Follow-up decisions (the chats an opt-out
//! ends, the offers an agent loses) are never turned down: they act on live chats in states that
//! allow them.

use std::collections::BTreeSet;

use super::Desk;
use super::record::{Decided, Recorder, Step};
use crate::chat::{Chat, ChatStatus, ConsentChange, Context, Decision, Effect, Input, Outcome, Refusal, decide};
use crate::ids::{AgentId, ChatId};
use crate::keyword::{self, CarrierKeyword};
use crate::number::NumberState;
use crate::phone::{BusinessNumber, E164};
use crate::routing::{Presence, Seat};
use crate::setup::{Blocked, Number, Setup};
use crate::time::Timestamp;
use crate::timers;

/// A consumer's text.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub from: &'a E164,
    pub to: &'a BusinessNumber,
    pub body: &'a str,
    /// How many media items came with it.
    pub media: usize,
}

/// A message the business writes first: `input` is [`Input::Outbound`] or [`Input::Sessionless`].
#[derive(Debug, Clone, Copy)]
pub struct Outbound<'a> {
    pub number: &'a BusinessNumber,
    pub consumer: &'a E164,
    pub input: &'a Input,
}

/// Why the desk did not carry out an input. Nothing was reported or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The business number is not in the setup.
    NumberNotSetUp,
    /// The business number may not send: it is in this state.
    NumberNotEnabled(NumberState),
    /// The desk holds no chat with that id.
    ChatNotFound,
    /// The agent is not in the setup.
    AgentNotSetUp,
    /// The chat's state does not allow the input.
    Refused(Refusal),
    /// The consumer's phone is on the blocklist: the business sends it nothing.
    Blocked(Blocked),
}

impl Desk {
    /// A consumer's text. `detect` guesses the language of a text that opens a chat (it is not called
    /// for a chat that lives on: that chat keeps its language); `new_chat_id` is the id a chat it opens
    /// gets. Returns the chat the text went to, if any.
    pub fn inbound(
        &mut self,
        setup: &Setup,
        text: Text<'_>,
        detect: impl FnOnce(&str) -> Option<String>,
        new_chat_id: &ChatId,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) -> Result<Option<ChatId>, Rejection> {
        let number = setup.number(text.to).ok_or(Rejection::NumberNotSetUp)?;
        if let Some(blocked) = setup.blocked(text.from) {
            self.text_from_blocked(setup, number, text, blocked, now, rec);
            return Ok(None);
        }
        let state = self.number_state(number);
        if !state.is_enabled() {
            self.text_to_disabled(setup, number, text, state, now, rec);
            return Ok(None);
        }
        // A timer that came due before the worker got to it (the server was down, say) fires first:
        // a text to an expired session starts a new chat rather than joining the old one.
        let overdue = self
            .live_id(text.from, text.to)
            .filter(|id| {
                self.chats
                    .get(*id)
                    .is_some_and(|c| timers::next_due(c, &timers::for_chat(setup, c)).is_some_and(|t| t <= now))
            })
            .cloned();
        if let Some(id) = overdue {
            // A live chat's tick is never refused.
            let _ = self.run(setup, &id, &Input::Tick, Step::DueFirst, now, rec);
        }
        let before = match self.live.get(text.from).and_then(|chats| chats.iter().find(|(n, _)| n == text.to)) {
            Some((_, id)) => self.chats.remove(id),
            None => None,
        };
        // Only a text that opens a chat has its language guessed.
        let language = if before.is_none() { detect(text.body) } else { None };
        let input = Input::Inbound { text: text.body.to_owned(), media: text.media, language };
        let consent = self.consent_of(text.from);
        let last_notification = self.notification(text.from, text.to).map(|n| n.sent_at);
        let context = Context {
            setup,
            number,
            consumer: text.from,
            consent,
            roster: &mut self.roster,
            now,
            new_chat_id,
            last_notification,
        };
        let decision = match decide(before.as_ref(), &input, context) {
            Outcome::Done(decision) => decision,
            Outcome::Refused(refusal) => {
                self.put_back(before);
                return Err(Rejection::Refused(refusal));
            }
        };
        let opted_out = matches!(decision.consent, Some(ConsentChange::OptedOut { .. }));
        let chat_id = decision.chat.as_ref().map(|c| c.id.clone());
        self.settle(Step::Input, before.as_ref(), decision, number, text.from, now, rec);
        if opted_out {
            self.opt_out_elsewhere(setup, text.from, now, rec);
        }
        Ok(chat_id)
    }

    /// A text to a number that is not enabled: it opens no chat and gets no answer, but opt-outs and
    /// opt-ins still count. Consent is the consumer's, whatever the number's state.
    fn text_to_disabled(
        &mut self,
        setup: &Setup,
        number: &Number,
        text: Text<'_>,
        state: NumberState,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) {
        let consent = self.consent_of(text.from);
        let change = match setup.carrier_keyword(number, text.body) {
            Some(CarrierKeyword::OptOut) if !consent.opted_out => {
                Some(ConsentChange::OptedOut { keyword: keyword::normalize(text.body) })
            }
            Some(CarrierKeyword::OptIn) if consent.opted_out => {
                Some(ConsentChange::OptedIn { keyword: keyword::normalize(text.body) })
            }
            _ => None,
        };
        if let Some(change) = change {
            rec.consent(text.from, &number.number, &change, now);
            self.change_consent(text.from, &change);
        }
        rec.refused_text(number, text.from, state, now);
    }

    /// A text from a blocked phone: kept with the reason, no chat, no answer. A live chat of the phone
    /// ends first (blocking ends them, so one is left only if the setup was saved and the chats' end
    /// was not, a crash between the two). STOP and START still change consent, as carriers require,
    /// and STOP still gets its one confirmation (CTIA: an opt-out is always confirmed, once); HELP
    /// and everything else get nothing.
    fn text_from_blocked(
        &mut self,
        setup: &Setup,
        number: &Number,
        text: Text<'_>,
        blocked: &Blocked,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) {
        self.end_blocked(setup, blocked, now, rec);
        rec.blocked_text(number, blocked, now);
        let consent = self.consent_of(text.from);
        match setup.carrier_keyword(number, text.body) {
            Some(CarrierKeyword::OptOut) => {
                // The chat decision of a STOP with no chat open: the consent change and, for a phone not
                // opted out yet, the confirmation. The text itself was recorded above.
                let input = Input::Inbound { text: text.body.to_owned(), media: text.media, language: None };
                let context = Context {
                    setup,
                    number,
                    consumer: text.from,
                    consent,
                    roster: &mut self.roster,
                    now,
                    new_chat_id: &ChatId::new(String::new()),
                    last_notification: None,
                };
                if let Outcome::Done(decision) = decide(None, &input, context) {
                    self.settle(Step::Input, None, decision, number, text.from, now, rec);
                }
            }
            Some(CarrierKeyword::OptIn) if consent.opted_out => {
                let change = ConsentChange::OptedIn { keyword: keyword::normalize(text.body) };
                rec.consent(text.from, &number.number, &change, now);
                self.change_consent(text.from, &change);
            }
            _ => {}
        }
    }

    /// A phone was blocked (`blocked`, by the admin it names): its live chats end on every number, as
    /// ended by that admin, and the consumer is told nothing. Their agents' capacity frees up.
    pub fn block(&mut self, setup: &Setup, blocked: &Blocked, now: Timestamp, rec: &mut impl Recorder) {
        self.end_blocked(setup, blocked, now, rec);
    }

    fn end_blocked(&mut self, setup: &Setup, blocked: &Blocked, now: Timestamp, rec: &mut impl Recorder) {
        let Some(chats) = self.live.get(&blocked.number) else { return };
        let ids: Vec<ChatId> = chats.iter().map(|(_, id)| id.clone()).collect();
        let input = Input::Blocked { by: blocked.added_by.clone() };
        for id in ids {
            // A live chat's end is never refused.
            let _ = self.run(setup, &id, &input, Step::Blocked, now, rec);
        }
    }

    /// An agent's or admin's input on a chat (or the timer worker's [`Input::Tick`]). Returns the chat
    /// as the input left it.
    pub fn chat_action(
        &mut self,
        setup: &Setup,
        id: &ChatId,
        input: &Input,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) -> Result<&Chat, Rejection> {
        self.run(setup, id, input, Step::Input, now, rec)?;
        self.chats.get(id).ok_or(Rejection::ChatNotFound)
    }

    /// A message the business writes first. Returns the chat it opened or joined; `None` for a
    /// sessionless message, which belongs to no chat.
    pub fn outbound(
        &mut self,
        setup: &Setup,
        request: Outbound<'_>,
        new_chat_id: &ChatId,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) -> Result<Option<ChatId>, Rejection> {
        let number = setup.number(request.number).ok_or(Rejection::NumberNotSetUp)?;
        // The business does not write to a phone it blocked, on any number, by any path.
        if let Some(blocked) = setup.blocked(request.consumer) {
            return Err(Rejection::Blocked(blocked.clone()));
        }
        let state = self.number_state(number);
        if !state.is_enabled() {
            return Err(Rejection::NumberNotEnabled(state));
        }
        let before = match self.live.get(request.consumer).and_then(|c| c.iter().find(|(n, _)| n == request.number)) {
            Some((_, id)) => self.chats.remove(id),
            None => None,
        };
        let consent = self.consent_of(request.consumer);
        let last_notification = self.notification(request.consumer, request.number).map(|n| n.sent_at);
        let context = Context {
            setup,
            number,
            consumer: request.consumer,
            consent,
            roster: &mut self.roster,
            now,
            new_chat_id,
            last_notification,
        };
        let decision = match decide(before.as_ref(), request.input, context) {
            Outcome::Done(decision) => decision,
            Outcome::Refused(refusal) => {
                self.put_back(before);
                return Err(Rejection::Refused(refusal));
            }
        };
        let sessionless = matches!(request.input, Input::Sessionless { .. });
        let opened = if sessionless { None } else { decision.chat.as_ref().map(|c| c.id.clone()) };
        if sessionless {
            // The phone's reply may come in this same batch; the adapter adds the message id.
            let notification = super::Notification { message_id: None, sent_at: now };
            self.set_notification(request.consumer.clone(), request.number.clone(), notification);
        }
        self.settle(Step::Input, before.as_ref(), decision, number, request.consumer, now, rec);
        Ok(opened)
    }

    /// An opt-in or opt-out given outside SMS, for `number`'s ledger line. An opt-out ends the phone's
    /// live chats, as STOP does. A phone already in that state changes nothing, so the ledger is not
    /// padded with repeats.
    pub fn consent(
        &mut self,
        setup: &Setup,
        phone: &E164,
        number: &BusinessNumber,
        opted_in: bool,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) {
        let change = match (opted_in, self.consent_of(phone).opted_out) {
            (true, true) => ConsentChange::OptedIn { keyword: String::new() },
            (false, false) => ConsentChange::OptedOut { keyword: String::new() },
            _ => return,
        };
        rec.consent(phone, number, &change, now);
        self.change_consent(phone, &change);
        if !opted_in {
            self.opt_out_elsewhere(setup, phone, now, rec);
        }
    }

    /// Sets the status an agent chose. Available (and connected): their queues are dispatched. Away or
    /// offline: the offers they have not accepted go back to their queues, for a colleague, instead of
    /// waiting for them.
    pub fn status(
        &mut self,
        setup: &Setup,
        agent: &AgentId,
        presence: Presence,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) -> Result<(), Rejection> {
        let seat = self.roster.seats.iter_mut().find(|s| &s.agent == agent).ok_or(Rejection::AgentNotSetUp)?;
        seat.presence = presence;
        let connected = seat.connected;
        self.touched_agents.insert(agent.clone());
        rec.presence(agent, presence, connected, now);
        self.after_presence(setup, agent, now, rec);
        Ok(())
    }

    /// Records whether an agent is really there (a console stream or an API heartbeat within the
    /// presence timeout; the adapter finds out). An agent who drops out keeps the chats they are
    /// connected with, but their offers go to colleagues at once; one who comes back gets the status
    /// they chose again. Nothing happens when nothing changed.
    pub fn connectivity(
        &mut self,
        setup: &Setup,
        agent: &AgentId,
        connected: bool,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) {
        let Some(seat) = self.roster.seats.iter_mut().find(|s| &s.agent == agent) else { return };
        if seat.connected == connected {
            return;
        }
        seat.connected = connected;
        let presence = seat.presence;
        self.touched_agents.insert(agent.clone());
        rec.presence(agent, presence, connected, now);
        self.after_presence(setup, agent, now, rec);
    }

    /// [`Desk::connectivity`] for every agent of the roster: connected exactly when `linked` (the
    /// agents with a live console stream or heartbeat) holds them. In agent order, so the events come
    /// out the same on every run.
    pub fn connections(&mut self, setup: &Setup, linked: &BTreeSet<AgentId>, now: Timestamp, rec: &mut impl Recorder) {
        let mut agents: Vec<AgentId> = self.roster.seats.iter().map(|s| s.agent.clone()).collect();
        agents.sort();
        for agent in agents {
            let connected = linked.contains(&agent);
            self.connectivity(setup, &agent, connected, now, rec);
        }
    }

    /// What follows a change of an agent's presence: one who takes chats now has their queues
    /// dispatched; one who does not has their unaccepted offers withdrawn.
    fn after_presence(&mut self, setup: &Setup, agent: &AgentId, now: Timestamp, rec: &mut impl Recorder) {
        if self.roster.seat(agent).is_some_and(Seat::takes_chats) {
            if let Some(a) = setup.agent(agent) {
                self.dispatch_queues.extend(setup.queues_of(&a.id));
                if setup.direct_numbers_of(&a.id).next().is_some() {
                    self.dispatch_direct.insert(a.id.clone());
                }
            }
            return;
        }
        // In id order, so the withdrawals are reported in the same order on every run.
        let mut offered: Vec<ChatId> = self
            .chats
            .values()
            .filter(|c| c.status == ChatStatus::Offered && c.agent.as_ref() == Some(agent))
            .map(|c| c.id.clone())
            .collect();
        offered.sort();
        for id in offered {
            // An offered chat is live, and withdrawing its offer is never refused.
            let _ = self.run(setup, &id, &Input::Withdraw, Step::Withdrawn, now, rec);
        }
    }

    /// Offers the queued chats of the queues where capacity may have freed up, oldest first, to agents
    /// who have room now. The adapter loads the queued chats of [`Desk::queues_to_dispatch`] first.
    pub fn dispatch(&mut self, setup: &Setup, now: Timestamp, rec: &mut impl Recorder) {
        let queues = std::mem::take(&mut self.dispatch_queues);
        let agents = std::mem::take(&mut self.dispatch_direct);
        if queues.is_empty() && agents.is_empty() {
            return;
        }
        // A direct number's chat (in no queue) waits for the number's agent alone.
        let direct_agent =
            |c: &Chat| setup.number(&c.number).and_then(|n| n.agent.clone()).filter(|_| c.queue.is_none());
        let mut waiting: Vec<(Option<Timestamp>, ChatId)> = self
            .chats
            .values()
            .filter(|c| c.status == ChatStatus::Queued)
            .filter(|c| {
                c.queue.as_ref().is_some_and(|q| queues.contains(q))
                    || direct_agent(c).is_some_and(|a| agents.contains(&a))
            })
            .map(|c| (c.queued_at, c.id.clone()))
            .collect();
        waiting.sort();
        for (_, id) in waiting {
            let Some(chat) = self.chats.get(&id) else { continue };
            // Nobody has room in the queue (or the agent has none): the chat keeps waiting, undecided.
            let nobody = match (&chat.queue, direct_agent(chat)) {
                (Some(q), _) => self.roster.pick(q).is_none(),
                (None, Some(agent)) => !self.roster.takes_chat(&agent),
                (None, None) => true,
            };
            if nobody || setup.number(&chat.number).is_none() {
                continue;
            }
            let _ = self.run(setup, &id, &Input::Route, Step::Routed, now, rec);
        }
    }

    /// The live chats of `phone` end: it opted out, and the do-not-contact list holds for every number.
    fn opt_out_elsewhere(&mut self, setup: &Setup, phone: &E164, now: Timestamp, rec: &mut impl Recorder) {
        let Some(chats) = self.live.get(phone) else { return };
        let ids: Vec<ChatId> = chats.iter().map(|(_, id)| id.clone()).collect();
        for id in ids {
            // A live chat's end is never refused.
            let _ = self.run(setup, &id, &Input::OptedOutElsewhere, Step::OptedOutElsewhere, now, rec);
        }
    }

    /// Decides `input` on the chat `id` and keeps the result.
    fn run(
        &mut self,
        setup: &Setup,
        id: &ChatId,
        input: &Input,
        step: Step,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) -> Result<(), Rejection> {
        let chat = self.chats.remove(id).ok_or(Rejection::ChatNotFound)?;
        let detached;
        let number = match setup.number(&chat.number) {
            Some(number) => number,
            None => {
                // The number left the setup while the chat lived: the chat can still be handled.
                detached = detached_number(&chat.number);
                &detached
            }
        };
        let context = Context {
            setup,
            number,
            consumer: &chat.consumer,
            consent: self.consent_of(&chat.consumer),
            roster: &mut self.roster,
            now,
            new_chat_id: id,
            last_notification: None,
        };
        match decide(Some(&chat), input, context) {
            Outcome::Done(decision) => {
                self.settle(step, Some(&chat), decision, number, &chat.consumer, now, rec);
                Ok(())
            }
            Outcome::Refused(refusal) => {
                self.chats.insert(chat.id.clone(), chat);
                Err(Rejection::Refused(refusal))
            }
        }
    }

    /// Reports a decision and keeps what it changed: consent, freed capacity, the chat.
    #[expect(clippy::too_many_arguments, reason = "the parts of one decision; called from three places")]
    fn settle(
        &mut self,
        step: Step,
        before: Option<&Chat>,
        decision: Decision,
        number: &Number,
        consumer: &E164,
        now: Timestamp,
        rec: &mut impl Recorder,
    ) {
        let Decision { chat, consent, effects, notification_reply } = decision;
        for effect in &effects {
            if let Effect::Event(event) = effect {
                self.freed_capacity(event, before);
            }
        }
        let consent = consent.as_ref();
        let notification =
            if notification_reply { self.notifications.get(&(consumer.clone(), number.number.clone())) } else { None };
        let reply_to = notification.and_then(|n| n.message_id.as_deref());
        rec.decided(Decided { step, before, chat: chat.as_ref(), consent, effects, number, consumer, now, reply_to });
        if let Some(change) = consent {
            self.change_consent(consumer, change);
        }
        if let Some(chat) = chat {
            self.keep(before, chat);
        } else if let Some(before) = before {
            // Not reached: a decision on a chat always returns it. Keep the chat rather than lose it.
            self.chats.insert(before.id.clone(), before.clone());
        }
    }

    /// Returns a chat taken out for a decision that was refused.
    fn put_back(&mut self, chat: Option<Chat>) {
        if let Some(chat) = chat {
            self.chats.insert(chat.id.clone(), chat);
        }
    }
}

/// A stand-in for a chat's number that left the setup: no carrier, no queues, no texts of its own.
fn detached_number(number: &BusinessNumber) -> Number {
    Number::detached(number.clone())
}
