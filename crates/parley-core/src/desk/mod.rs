//! The desk: the state a batch of inputs works on (chats, each phone's live chat per business number,
//! consents, the roster, number states) and the rules that span more than one [`decide`] call.
//!
//! Rule: every orchestration rule around `decide` lives here, once. A timer that came due fires before
//! a text is handled; an opt-out (STOP, or one given through the API) ends the phone's chats on every
//! number; an agent who goes away loses the offers they have not accepted; capacity that frees up is
//! offered to the queued chats of its queues, oldest first; a text to a number that is not enabled opens
//! no chat, but its opt-out or opt-in still counts; a text from a blocked phone likewise (its opt-out is
//! confirmed once), blocking a phone ends its live chats, and the business writes first to no blocked
//! phone. Why: the engine (`parley-server`'s
//! `engine::working`) and the conversation scripts (`tests/scripts`) both drive a `Desk`, so the scripts
//! test the engine's rules rather than a copy of them, and a rule cannot drift between the two.
//!
//! The desk does no I/O. Its adapter loads what a batch touches before the first input ([`Desk::load_chat`],
//! [`Desk::load_consent`], the roster, number states, places in line) and fulfils the one request the
//! desk makes mid-batch: [`Desk::queues_to_dispatch`] names the queues whose queued chats (and their
//! phones' consents) must be loaded before [`Desk::dispatch`], and [`Desk::agents_to_dispatch`] the
//! agents whose direct numbers' waiting chats must be (a direct chat is in no queue and waits for its
//! agent alone). The adapter also tells the desk of each texting phone's latest sessionless
//! notification per number ([`Desk::set_notification`]), which decides whether a text is its reply. Each decision is reported, in order, to
//! a [`Recorder`], which turns it into rows (the engine) or a transcript (the scripts); what changed is
//! read back at the end ([`Desk::changed_chats`], [`Desk::changed_consents`], [`Desk::changed_seats`]).
//!
//! - `record`: what the desk reports ([`Decided`], [`Step`]), and the trait its adapters implement.
//! - `inputs`: the inputs the desk takes ([`Text`], [`Outbound`], ...), and the rules around each.
//! - `release`: scheduled messages that came due ([`Desk::release`]; the rule is `crate::scheduled`'s).
//!
//! [`decide`]: crate::chat::decide

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::chat::{Chat, ChatEvent, ChatStatus, Consent, ConsentChange};
use crate::ids::{AgentId, ChatId, QueueId};
use crate::number::NumberState;
use crate::phone::{BusinessNumber, E164};
use crate::routing::{Presence, Roster, Seat};
use crate::setup::{Agent, Number, Setup};
use crate::time::Timestamp;

mod inputs;
mod record;
mod release;

pub use inputs::{Outbound, Rejection, Text};
pub use record::{Decided, Recorder, Step};
pub use release::Released;

/// The state one batch of inputs works on; see the module documentation.
#[derive(Debug, Default)]
pub struct Desk {
    /// Every chat the batch touched or loaded, by id.
    chats: HashMap<ChatId, Chat>,
    /// The live chats of each phone: at most one per business number. A phone has one or two, so a
    /// short list beats a map keyed by (phone, number): no key to build for a lookup, and the phone's
    /// chats on every number (for an opt-out) in one place.
    live: HashMap<E164, Vec<(BusinessNumber, ChatId)>>,
    consents: HashMap<E164, Consent>,
    /// Routing state. Decisions update the seats in place, and the desk keeps `waiting` current as
    /// chats join and leave queues, so that several decisions in one batch see each other.
    roster: Roster,
    /// Registration states stored for numbers; a number without one is in its kind's first state.
    number_states: HashMap<BusinessNumber, NumberState>,
    changed_chats: BTreeSet<ChatId>,
    changed_consents: BTreeSet<E164>,
    /// Queues where capacity may have freed up since the last [`Desk::dispatch`].
    dispatch_queues: BTreeSet<QueueId>,
    /// Agents whose presence changed.
    touched_agents: BTreeSet<AgentId>,
    /// Agents whose direct numbers' waiting chats [`Desk::dispatch`] offers them.
    dispatch_direct: BTreeSet<AgentId>,
    /// The latest sessionless notification of each (phone, business number) the batch knows of.
    notifications: HashMap<(E164, BusinessNumber), Notification>,
}

/// A sessionless notification, as the desk knows of it: when it was sent, and its message's id when
/// stored (one sent in this batch has none until the adapter tells it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub message_id: Option<String>,
    pub sent_at: Timestamp,
}

impl Desk {
    /// A desk with `roster` (built with [`Desk::seat`]) and nothing else loaded yet.
    pub fn new(roster: Roster) -> Desk {
        Desk { roster, ..Desk::default() }
    }

    /// An agent's seat: capacity, queues and languages from the setup (an agent who names no language
    /// writes the deployment's), presence (chosen and connected) and load as stored.
    pub fn seat(
        setup: &Setup,
        agent: &Agent,
        presence: Presence,
        connected: bool,
        active: u32,
        last_assigned: Timestamp,
    ) -> Seat {
        Seat {
            agent: agent.id.clone(),
            presence,
            connected,
            active,
            capacity: agent.capacity,
            queues: setup.queues_of(&agent.id),
            last_assigned,
            languages: if agent.languages.is_empty() {
                vec![setup.settings.language.clone()]
            } else {
                agent.languages.clone()
            },
        }
    }

    /// Adds a chat as stored. A chat the desk already holds is kept: its state in memory is newer.
    pub fn load_chat(&mut self, chat: Chat) {
        if self.chats.contains_key(&chat.id) {
            return;
        }
        if chat.is_live() {
            self.mark_live(&chat);
        }
        self.chats.insert(chat.id.clone(), chat);
    }

    /// Adds a phone's consent as stored (or as its erasure tombstone left it). A consent the desk
    /// already holds is kept.
    pub fn load_consent(&mut self, phone: E164, consent: Consent) {
        self.consents.entry(phone).or_insert(consent);
    }

    /// Whether the desk holds `phone`'s consent (loaded, or changed by an input).
    pub fn holds_consent(&self, phone: &E164) -> bool {
        self.consents.contains_key(phone)
    }

    /// The latest sessionless notification `number` sent `phone` (loaded, or sent in this batch).
    pub fn set_notification(&mut self, phone: E164, number: BusinessNumber, notification: Notification) {
        self.notifications.insert((phone, number), notification);
    }

    fn notification(&self, phone: &E164, number: &BusinessNumber) -> Option<&Notification> {
        self.notifications.get(&(phone.clone(), number.clone()))
    }

    /// The agents whose direct numbers' waiting chats [`Desk::dispatch`] will offer them: the adapter
    /// loads the queued chats of their direct numbers first.
    pub fn agents_to_dispatch(&self) -> &BTreeSet<AgentId> {
        &self.dispatch_direct
    }

    /// The stored registration state of `number`.
    pub fn set_number_state(&mut self, number: BusinessNumber, state: NumberState) {
        self.number_states.insert(number, state);
    }

    /// The queues' recent handle times, abandonment and waiting counts, as counted outside the batch.
    pub fn set_queue_figures(
        &mut self,
        handle_seconds: BTreeMap<QueueId, u32>,
        abandonment_permille: BTreeMap<QueueId, u32>,
        waiting: BTreeMap<QueueId, u32>,
    ) {
        self.roster.handle_seconds = handle_seconds;
        self.roster.abandonment_permille = abandonment_permille;
        self.roster.waiting = waiting;
    }

    /// How many chats are ahead of waiting chats in their queues, for the chats whose consumers may ask
    /// for their place in line.
    pub fn set_ahead(&mut self, ahead: BTreeMap<(ChatId, QueueId), u32>) {
        self.roster.ahead = ahead;
    }

    /// A chat the desk holds.
    pub fn chat(&self, id: &ChatId) -> Option<&Chat> {
        self.chats.get(id)
    }

    /// Every chat the desk holds, in no particular order.
    pub fn chats(&self) -> impl Iterator<Item = &Chat> {
        self.chats.values()
    }

    /// The routing state after the inputs so far.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The registration state `number` is in.
    pub fn number_state(&self, number: &Number) -> NumberState {
        self.number_states.get(&number.number).copied().unwrap_or_else(|| number.kind.initial_state())
    }

    /// The queues whose queued chats [`Desk::dispatch`] will offer: the adapter loads those chats and
    /// their phones' consents first. Empty when no capacity freed up.
    pub fn queues_to_dispatch(&self) -> &BTreeSet<QueueId> {
        &self.dispatch_queues
    }

    /// The chats the inputs changed, in id order.
    pub fn changed_chats(&self) -> impl Iterator<Item = &Chat> {
        self.changed_chats.iter().filter_map(|id| self.chats.get(id))
    }

    /// The consents the inputs changed, in phone order.
    pub fn changed_consents(&self) -> impl Iterator<Item = (&E164, &Consent)> {
        self.changed_consents.iter().filter_map(|phone| self.consents.get(phone).map(|c| (phone, c)))
    }

    /// The seats to store: agents whose presence changed, and agents who got a chat at `now` (so that
    /// "longest idle" survives a restart).
    pub fn changed_seats(&self, now: Timestamp) -> impl Iterator<Item = &Seat> {
        self.roster.seats.iter().filter(move |s| s.last_assigned == now || self.touched_agents.contains(&s.agent))
    }

    /// The live chat between `phone` and `number`, if any.
    fn live_id(&self, phone: &E164, number: &BusinessNumber) -> Option<&ChatId> {
        self.live.get(phone)?.iter().find(|(n, _)| n == number).map(|(_, id)| id)
    }

    fn consent_of(&self, phone: &E164) -> Consent {
        self.consents.get(phone).copied().unwrap_or_default()
    }

    fn change_consent(&mut self, phone: &E164, change: &ConsentChange) {
        let consent = self.consents.entry(phone.clone()).or_default();
        match change {
            ConsentChange::NoticeSent => consent.notice_sent = true,
            ConsentChange::OptedOut { .. } => consent.opted_out = true,
            ConsentChange::OptedIn { .. } => consent.opted_out = false,
        }
        self.changed_consents.insert(phone.clone());
    }

    /// Keeps a chat as a decision left it: its place among the live chats and in its queue's line.
    fn keep(&mut self, before: Option<&Chat>, chat: Chat) {
        self.count_waiting(before, &chat);
        let was_live = before.is_some_and(|b| b.is_live() && b.id == chat.id);
        if chat.is_live() && !was_live {
            self.mark_live(&chat);
        } else if !chat.is_live()
            && was_live
            && let Some(chats) = self.live.get_mut(&chat.consumer)
        {
            chats.retain(|(_, id)| id != &chat.id);
            if chats.is_empty() {
                self.live.remove(&chat.consumer);
            }
        }
        self.changed_chats.insert(chat.id.clone());
        self.chats.insert(chat.id.clone(), chat);
    }

    /// Makes `chat` the live chat of its phone and number (a second one replaces the first).
    fn mark_live(&mut self, chat: &Chat) {
        let chats = self.live.entry(chat.consumer.clone()).or_default();
        match chats.iter_mut().find(|(n, _)| n == &chat.number) {
            Some(entry) => entry.1 = chat.id.clone(),
            None => chats.push((chat.number.clone(), chat.id.clone())),
        }
    }

    /// Keeps the queues' lines current as chats join and leave them within the batch.
    fn count_waiting(&mut self, before: Option<&Chat>, after: &Chat) {
        fn waiting_in(c: &Chat) -> Option<&QueueId> {
            c.queue.as_ref().filter(|_| c.status == ChatStatus::Queued)
        }
        let (was, is) = (before.and_then(waiting_in), waiting_in(after));
        if was == is {
            return;
        }
        if let Some(queue) = was
            && let Some(n) = self.roster.waiting.get_mut(queue)
        {
            *n = n.saturating_sub(1);
        }
        if let Some(queue) = is {
            *self.roster.waiting.entry(queue.clone()).or_default() += 1;
        }
    }

    /// Ending or dismissing a chat, sending it back to the menu or taking back an offer or a transfer frees an
    /// agent's capacity: their queues are dispatched at the end of the batch.
    fn freed_capacity(&mut self, event: &ChatEvent, before: Option<&Chat>) {
        let agent = match event {
            ChatEvent::Ended { .. }
            | ChatEvent::BackToMenu
            | ChatEvent::OfferWithdrawn { .. }
            | ChatEvent::OfferTimedOut { .. }
            | ChatEvent::ReplyTimedOut { .. }
            | ChatEvent::Dismissed { .. }
            | ChatEvent::TransferEnded { .. } => before.and_then(|c| c.agent.as_ref()),
            // The agent who was asked held a place for the chat; it is free again.
            ChatEvent::TransferFailed { to, .. } => to.as_ref(),
            _ => None,
        };
        let Some(agent) = agent else { return };
        if let Some(seat) = self.roster.seats.iter().find(|s| &s.agent == agent) {
            self.dispatch_queues.extend(seat.queues.iter().cloned());
        }
        self.dispatch_direct.insert(agent.clone());
    }
}
