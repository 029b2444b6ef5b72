//! The chat state machine: one pure function, [`decide`], that turns a chat's state and one input into
//! its next state and the effects to carry out (messages to send, consent changes, events to record).
//!
//! ```text
//! first contact ─► opt-in notice ─► selecting (menu) ─► queued ─► offered ─► connected ─► finished
//!                                   └─ one queue: straight to queued ─┘   └─ auto-answer ─┘
//! STOP / START / HELP work in every state; EXIT ends, BACK returns to the menu before connection.
//! ```

use crate::commands::Command;
use crate::hours::AfterHours;
use crate::ids::{AgentId, ChatId, QueueId};
use crate::keyword::{self, CarrierKeyword};
use crate::phone::{BusinessNumber, E164};
use crate::routing::{Presence, Roster};
use crate::setup::{Number, Queue, Setup};
use crate::texts::{TextKey, Texts, render};
use crate::time::Timestamp;
use crate::timers::{self, Due};

/// Where a chat stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStatus {
    /// The consumer is choosing a queue from the menu.
    Selecting,
    /// Waiting for an agent.
    Queued,
    /// Offered to one agent, who has not accepted yet.
    Offered,
    /// An agent and the consumer are talking.
    Connected,
    /// Over; a later text starts a new chat.
    Finished,
}

impl ChatStatus {
    /// The status as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Selecting => "selecting",
            ChatStatus::Queued => "queued",
            ChatStatus::Offered => "offered",
            ChatStatus::Connected => "connected",
            ChatStatus::Finished => "finished",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<ChatStatus> {
        [ChatStatus::Selecting, ChatStatus::Queued, ChatStatus::Offered, ChatStatus::Connected, ChatStatus::Finished]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Who wrote first: the consumer, or the business (an agent or the outbound API). Quiet hours bind
/// only the business's first contact; replies inside a chat the consumer started are exempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    #[default]
    Inbound,
    Outbound,
}

impl Origin {
    /// The origin as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Inbound => "inbound",
            Origin::Outbound => "outbound",
        }
    }

    /// Parses a stored origin.
    pub fn parse(text: &str) -> Option<Origin> {
        [Origin::Inbound, Origin::Outbound].into_iter().find(|o| o.as_str() == text)
    }
}

/// How a chat got its agent, for reports: the seed platform's start types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartType {
    /// An agent accepted the offer (or took the chat from the queue).
    Manual,
    /// The queue connected it at once.
    Auto,
    /// The business started it.
    Outbound,
}

impl StartType {
    pub fn as_str(self) -> &'static str {
        match self {
            StartType::Manual => "manually_answered",
            StartType::Auto => "auto_answered",
            StartType::Outbound => "outbound",
        }
    }

    pub fn parse(text: &str) -> Option<StartType> {
        [StartType::Manual, StartType::Auto, StartType::Outbound].into_iter().find(|s| s.as_str() == text)
    }
}

/// Why a chat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The agent ended it.
    EndedByAgent,
    /// An admin ended it.
    EndedByAdmin,
    /// The consumer sent the end-chat command.
    ConsumerCommand,
    /// The consumer opted out.
    OptedOut,
    /// The session lasted longer than the session expiration.
    Expired,
    /// The consumer did not answer the inactivity warning.
    ConsumerSilent,
    /// No agent took the chat within the queue's wait limit.
    QueueTimeout,
    /// The queue was closed and does not keep chats after hours.
    AfterHours,
}

impl EndReason {
    /// The reason as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::EndedByAgent => "ended_by_agent",
            EndReason::EndedByAdmin => "ended_by_admin",
            EndReason::ConsumerCommand => "consumer_command",
            EndReason::OptedOut => "opted_out",
            EndReason::Expired => "expired",
            EndReason::ConsumerSilent => "consumer_silent",
            EndReason::QueueTimeout => "queue_timeout",
            EndReason::AfterHours => "after_hours",
        }
    }

    /// Parses a stored reason.
    pub fn parse(text: &str) -> Option<EndReason> {
        [
            EndReason::EndedByAgent,
            EndReason::EndedByAdmin,
            EndReason::ConsumerCommand,
            EndReason::OptedOut,
            EndReason::Expired,
            EndReason::ConsumerSilent,
            EndReason::QueueTimeout,
            EndReason::AfterHours,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// One chat between a consumer's phone and a business number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub id: ChatId,
    /// The business number the consumer texted.
    pub number: BusinessNumber,
    pub consumer: E164,
    pub origin: Origin,
    pub status: ChatStatus,
    /// Set once the consumer has picked a queue (or the number has only one).
    pub queue: Option<QueueId>,
    /// The submenu the consumer is in (a queue with child queues); `None`: the number's own menu.
    pub menu_level: Option<QueueId>,
    /// The agent the chat is offered to or connected with; kept after the end for reports.
    pub agent: Option<AgentId>,
    pub opened_at: Timestamp,
    /// When the chat last entered the queue; the queue is served oldest first.
    pub queued_at: Option<Timestamp>,
    /// When the current offer was made (its timeout counts from here).
    pub offered_at: Option<Timestamp>,
    /// The last message either way; inactivity counts from here.
    pub last_message_at: Timestamp,
    /// When the consumer was asked whether they are still there (cleared by the next message).
    pub warned_at: Option<Timestamp>,
    /// A transfer offered to another agent and not answered yet; the chat stays with its agent.
    pub transfer: Option<Transfer>,
    /// How the chat got its first agent; `None` until it has one (outbound chats: from the start).
    pub start_type: Option<StartType>,
    /// The language system messages are written in (a tag of the setup); agents see it, and routing
    /// prefers agents who write it.
    pub language: String,
    /// When an agent first took the chat (handle times count from here).
    pub answered_at: Option<Timestamp>,
    /// The consumer's oldest message the connected agent has not answered yet.
    pub awaiting_reply_since: Option<Timestamp>,
    /// When the queue's wait limit started counting: on joining the queue, or when it opened.
    pub wait_since: Option<Timestamp>,
    /// The queue is closed: the chat waits for this moment, when it opens.
    pub after_hours_until: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub end_reason: Option<EndReason>,
    /// Who ended the chat: an agent id, "admin" or "consumer".
    pub ended_by: Option<String>,
}

impl Chat {
    /// Whether the chat still takes messages.
    pub fn is_live(&self) -> bool {
        self.status != ChatStatus::Finished
    }
}

/// Where an agent sends a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// A colleague serving the chat's queue.
    Agent(AgentId),
    /// Another queue: its best available agent (never the one transferring) is asked.
    Queue(QueueId),
}

/// A transfer waiting for the receiving agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub from: AgentId,
    pub target: TransferTarget,
    /// The agent asked to take the chat.
    pub offered_to: AgentId,
    /// For the receiving agent; never sent to the consumer.
    pub note: String,
    pub started_at: Timestamp,
}

/// Why a transfer did not happen; the chat stays with the agent who started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferFailure {
    Declined,
    TimedOut,
    NobodyAvailable,
}

impl TransferFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferFailure::Declined => "declined",
            TransferFailure::TimedOut => "timed_out",
            TransferFailure::NobodyAvailable => "nobody_available",
        }
    }
}

/// What the consent ledger knows about a consumer's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consent {
    /// The phone texted an opt-out keyword and has not opted in since.
    pub opted_out: bool,
    /// The opt-in notice has been sent to this phone at least once.
    pub notice_sent: bool,
}

/// A change to record in the consent ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentChange {
    NoticeSent,
    OptedOut { keyword: String },
    OptedIn { keyword: String },
}

/// Who does something to a chat on the business side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Agent(AgentId),
    Admin,
}

/// One input to a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The consumer texted the business number. `language`: what a detector made of the text, used
    /// when it opens a chat.
    Inbound { text: String, media: usize, language: Option<String> },
    /// An agent accepts a chat offered to them (or picks one from their queue).
    Accept { agent: AgentId },
    /// An agent writes to the consumer.
    Reply { agent: AgentId, text: String },
    /// An agent or an admin ends the chat.
    End { by: Actor },
    /// Capacity may have freed up: offer a queued chat if an agent has room.
    Route,
    /// The agent a chat is offered to went away: the offer is withdrawn and the chat waits in its queue
    /// again (keeping its place).
    Withdraw,
    /// The consumer opted out through another chat (another business number): this chat ends too,
    /// so no agent keeps waiting on a phone that may not be texted.
    OptedOutElsewhere,
    /// The business writes first: an agent starts a chat (`agent`, in `queue` or the first queue of the
    /// number they serve), or the outbound API sends (no agent). A live chat with the phone is joined
    /// instead of opening a second one. `no_delay`: refuse rather than wait out quiet hours.
    Outbound { text: String, agent: Option<AgentId>, queue: Option<QueueId>, no_delay: bool },
    /// A message that belongs to no chat (a notification): the consumer's answer is handled like any
    /// first text.
    Sessionless { text: String, no_delay: bool },
    /// Time passed: whatever timer of the chat is due fires (see [`crate::timers`]).
    Tick,
    /// The connected agent hands the chat to a colleague or another queue, with a note for them.
    Transfer { from: AgentId, target: TransferTarget, note: String },
    /// The agent a transfer is offered to takes the chat or declines it.
    AnswerTransfer { agent: AgentId, accept: bool },
}

/// Who wrote a message the chat sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    System,
    Agent(AgentId),
    /// An integration, through the outbound or sessionless API.
    Api,
}

/// Why a message is sent; the outbox lets only opt-out confirmations through to an opted-out phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Conversation,
    OptOutConfirmation,
}

/// Something that happened to a chat, recorded in its event log and pushed to the agents who see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    Opened,
    MenuSent,
    Queued {
        queue: QueueId,
    },
    BackToMenu,
    Offered {
        agent: AgentId,
    },
    /// The business opened the chat (an agent or the outbound API).
    StartedOutbound {
        agent: Option<AgentId>,
    },
    /// The agent let the offer time out; it moves on.
    OfferTimedOut {
        agent: AgentId,
    },
    /// The consumer was asked whether they are still there.
    InactivityWarning,
    /// The chat's language changed (a LANG command or a menu choice in another language).
    LanguageChanged {
        language: String,
    },
    /// The queue is closed; the chat waits until `opens` (`None`: it closed instead).
    AfterHours {
        opens: Option<Timestamp>,
    },
    /// The connected agent did not answer the consumer in time; the chat goes to someone else.
    ReplyTimedOut {
        agent: AgentId,
    },
    /// The chat waited its queue's limit and moved on to the overflow queue.
    Overflowed {
        from: QueueId,
        to: QueueId,
    },
    /// A transfer was offered to `to` (in `queue` for a transfer to a queue).
    TransferStarted {
        from: AgentId,
        to: AgentId,
        queue: Option<QueueId>,
        note: String,
    },
    /// The transfer did not happen; `from` keeps the chat.
    TransferFailed {
        from: AgentId,
        to: Option<AgentId>,
        reason: TransferFailure,
    },
    /// `to` took the chat over from `from`.
    TransferEnded {
        from: AgentId,
        to: AgentId,
    },
    OfferWithdrawn {
        agent: AgentId,
    },
    Connected {
        agent: AgentId,
        auto_answered: bool,
    },
    ConsumerMessage,
    AgentMessage {
        agent: AgentId,
    },
    OptedOut,
    Ended {
        reason: EndReason,
        by: String,
    },
}

/// What to carry out, in order, in the same transaction as the chat's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a message to the consumer (through the outbox), not before `not_before` when quiet hours
    /// hold a proactive message back.
    Send { text: String, author: Author, purpose: Purpose, not_before: Option<Timestamp> },
    /// Record an event of the chat.
    Event(ChatEvent),
}

/// A business-side action the chat's state does not allow. Consumers are never refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The agent does not serve the chat's queue.
    NotYourQueue,
    /// The chat is offered to or connected with another agent.
    TakenByAnother,
    /// The agent already has as many chats as their capacity allows.
    AtCapacity,
    /// The chat is not (yet) connected with this agent.
    NotConnected,
    /// The chat has ended.
    Ended,
    /// The consumer opted out: nothing may be sent to them.
    OptedOut,
    /// The chat has no queue yet (the consumer is still in the menu).
    NoQueue,
    /// A proactive message inside the consumer's quiet hours, and the caller asked not to wait:
    /// the first moment it may be sent, and the consumer's time zone(s) that decided it.
    QuietHours { until: Timestamp, zones: String },
    /// The consumer already has a live chat that is not with this agent.
    ChatInProgress,
    /// A transfer of this chat is already waiting for an answer.
    TransferPending,
    /// No transfer of this chat waits for this agent.
    NoTransfer,
    /// The agent to transfer to is the one transferring, or does not serve the chat's queue.
    BadTransferTarget,
}

/// The result of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one short-lived outcome per input, matched at once; boxing the decision would only add an allocation"
)]
pub enum Outcome {
    Done(Decision),
    Refused(Refusal),
}

/// The state after an input and what to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// The chat after the input; `None` when the input belongs to no chat (a keyword with no chat
    /// open, or a text from an opted-out phone).
    pub chat: Option<Chat>,
    pub consent: Option<ConsentChange>,
    pub effects: Vec<Effect>,
}

/// Everything besides the chat that a decision reads.
pub struct Context<'a> {
    pub setup: &'a Setup,
    /// The business number the chat belongs to.
    pub number: &'a Number,
    pub consumer: &'a E164,
    pub consent: Consent,
    /// Routing state; decisions that offer or free a chat update it.
    pub roster: &'a mut Roster,
    pub now: Timestamp,
    /// The id a chat opened by this input gets.
    pub new_chat_id: &'a ChatId,
}

/// Decides what one input does to a chat. `chat` is the live chat between the consumer and the number,
/// if there is one.
pub fn decide(chat: Option<&Chat>, input: &Input, ctx: Context<'_>) -> Outcome {
    let chat = chat.filter(|c| c.is_live()).cloned();
    let language = chat.as_ref().map_or_else(|| ctx.setup.language_of(ctx.number).to_owned(), |c| c.language.clone());
    let texts = ctx.setup.texts_for(ctx.number, chat.as_ref().and_then(|c| c.queue.as_ref()), &language);
    let mut d = Decider { ctx, texts, language, decision: Decision::default(), not_before: None };
    match input {
        Input::Inbound { text, language, .. } => {
            d.inbound(chat, text, language.as_deref());
            Outcome::Done(d.decision)
        }
        Input::Accept { agent } => d.business(chat, |d, chat| d.accept(chat, agent)),
        // An opted-out consumer is the reason that matters to the agent, even when STOP also ended the chat.
        Input::Reply { .. } if d.ctx.consent.opted_out => Outcome::Refused(Refusal::OptedOut),
        Input::Reply { agent, text } => d.business(chat, |d, chat| d.reply(chat, agent, text)),
        Input::End { by } => d.business(chat, |d, chat| d.end_by(chat, by)),
        Input::Withdraw => d.business(chat, |d, chat| {
            if chat.status == ChatStatus::Offered
                && let Some(agent) = chat.agent.take()
            {
                d.ctx.roster.release(&agent);
                chat.status = ChatStatus::Queued;
                d.event(ChatEvent::OfferWithdrawn { agent });
            }
            Ok(())
        }),
        Input::OptedOutElsewhere => d.business(chat, |d, chat| {
            d.end(chat, EndReason::OptedOut, "consumer".to_owned());
            Ok(())
        }),
        Input::Route => d.business(chat, |d, chat| {
            if chat.status == ChatStatus::Queued {
                d.route(chat);
            }
            Ok(())
        }),
        // Checked before anything else: the do-not-contact list outranks every other answer.
        Input::Outbound { .. } | Input::Sessionless { .. } if d.ctx.consent.opted_out => {
            Outcome::Refused(Refusal::OptedOut)
        }
        Input::Outbound { text, agent, queue, no_delay } => {
            d.outbound(chat, text, agent.as_ref(), queue.as_ref(), *no_delay)
        }
        Input::Sessionless { text, no_delay } => d.sessionless(text, *no_delay),
        Input::Tick => d.business(chat, |d, chat| {
            d.tick(chat);
            Ok(())
        }),
        Input::Transfer { from, target, note } => d.business(chat, |d, chat| d.transfer(chat, from, target, note)),
        Input::AnswerTransfer { agent, accept } => d.business(chat, |d, chat| d.answer_transfer(chat, agent, *accept)),
    }
}

struct Decider<'a> {
    ctx: Context<'a>,
    /// The chat's system messages, in its language and for its queue.
    texts: Texts,
    /// The chat's language.
    language: String,
    decision: Decision,
    /// Set when quiet hours hold this decision's messages back.
    not_before: Option<Timestamp>,
}

impl Decider<'_> {
    /// Sends the system message `key` in the chat's language, with `extra` placeholders.
    fn system(&mut self, key: TextKey, extra: &[(&str, &str)]) {
        self.system_for(key, extra, Purpose::Conversation);
    }

    fn system_for(&mut self, key: TextKey, extra: &[(&str, &str)], purpose: Purpose) {
        let brand = self.ctx.setup.settings.brand.clone();
        let end = self.ctx.setup.settings.commands.end.first().map(|w| w.to_uppercase()).unwrap_or_default();
        let mut vars: Vec<(&str, &str)> =
            vec![("brand", brand.as_str()), ("business", brand.as_str()), ("end_command", end.as_str())];
        vars.extend_from_slice(extra);
        let text = render(self.texts.get(key), &vars);
        self.send(text, Author::System, purpose);
    }

    /// Picks the texts again after the chat's language or queue changed.
    fn retext(&mut self, chat: &Chat) {
        self.language = chat.language.clone();
        self.texts = self.ctx.setup.texts_for(self.ctx.number, chat.queue.as_ref(), &chat.language);
    }

    /// The queue's name as the chat's language shows it.
    fn queue_name(&self, queue: &QueueId) -> String {
        self.ctx.setup.queue(queue).map_or_else(|| queue.to_string(), |q| q.menu_entry(&self.language).0.to_owned())
    }

    fn send(&mut self, text: String, author: Author, purpose: Purpose) {
        // The last line of defence inside the core: nothing but the one confirmation reaches an
        // opted-out phone. The outbox checks again at send time.
        if self.ctx.consent.opted_out && purpose != Purpose::OptOutConfirmation {
            return;
        }
        self.decision.effects.push(Effect::Send { text, author, purpose, not_before: self.not_before });
    }

    fn event(&mut self, event: ChatEvent) {
        self.decision.effects.push(Effect::Event(event));
    }

    fn business(
        mut self,
        chat: Option<Chat>,
        act: impl FnOnce(&mut Self, &mut Chat) -> Result<(), Refusal>,
    ) -> Outcome {
        let Some(mut chat) = chat else {
            return Outcome::Refused(Refusal::Ended);
        };
        match act(&mut self, &mut chat) {
            Ok(()) => {
                self.decision.chat = Some(chat);
                Outcome::Done(self.decision)
            }
            Err(refusal) => Outcome::Refused(refusal),
        }
    }

    fn inbound(&mut self, chat: Option<Chat>, text: &str, detected: Option<&str>) {
        match self.ctx.setup.carrier_keyword(self.ctx.number, text) {
            Some(CarrierKeyword::OptOut) => return self.opt_out(chat, text),
            Some(CarrierKeyword::OptIn) if self.ctx.consent.opted_out => {
                return self.opt_in(chat, text);
            }
            Some(CarrierKeyword::Help) => {
                self.system(TextKey::Help, &[]);
                self.decision.chat = chat;
                return;
            }
            // START/YES/UNSTOP from a subscribed phone change nothing; "yes" is then an ordinary answer.
            Some(CarrierKeyword::OptIn) | None => {}
        }
        if self.ctx.consent.opted_out {
            // Kept (the caller stores the text) but not answered and not routed: we may not reply.
            self.decision.chat = chat;
            return;
        }
        let command = self.ctx.setup.settings.commands.parse(text);
        let mut chat = match chat {
            Some(mut chat) => {
                self.event(ChatEvent::ConsumerMessage);
                chat.last_message_at = self.ctx.now;
                chat.warned_at = None;
                if chat.status == ChatStatus::Connected {
                    chat.awaiting_reply_since = chat.awaiting_reply_since.or(Some(self.ctx.now));
                }
                chat
            }
            // Ending with no chat open has nothing to end; it must not start a chat either.
            None if command == Some(Command::End) => return,
            None => return self.open(text, command, detected),
        };
        let before_agent = matches!(chat.status, ChatStatus::Selecting | ChatStatus::Queued | ChatStatus::Offered);
        match command {
            Some(Command::End) => self.end(&mut chat, EndReason::ConsumerCommand, "consumer".to_owned()),
            Some(Command::Language(tag)) => {
                // The menu again, in the new language, for a consumer who is choosing.
                let changed = self.change_language(&mut chat, &tag);
                if changed && chat.status == ChatStatus::Selecting {
                    self.menu(chat.menu_level.as_ref(), None);
                }
            }
            // In a submenu: up one level.
            Some(Command::Back) if chat.status == ChatStatus::Selecting && chat.menu_level.is_some() => {
                let level =
                    chat.menu_level.as_ref().and_then(|l| self.ctx.setup.queue(l)).and_then(|q| q.parent.clone());
                chat.menu_level = level;
                self.event(ChatEvent::BackToMenu);
                self.menu(chat.menu_level.as_ref(), None);
            }
            // Before an agent answers: to the menu the queue was picked from, if it offers a choice.
            Some(Command::Back)
                if matches!(chat.status, ChatStatus::Queued | ChatStatus::Offered)
                    && self.choices_at(self.picked_from(&chat).as_ref()) > 1 =>
            {
                let level = self.picked_from(&chat);
                self.leave_queue(&mut chat, level);
            }
            Some(Command::Menu) if before_agent && self.choices_at(None) > 1 => self.leave_queue(&mut chat, None),
            Some(Command::Agent) if chat.status == ChatStatus::Selecting => {
                if let Some(first) = self.ctx.setup.menu_options(self.ctx.number, None).first() {
                    let first = first.id.clone();
                    self.choose(&mut chat, first, None);
                }
            }
            Some(Command::Agent) if chat.status == ChatStatus::Queued && chat.after_hours_until.is_none() => {
                self.waiting(&chat);
            }
            _ if chat.status == ChatStatus::Selecting => self.select(&mut chat, text),
            _ => {}
        }
        self.decision.chat = Some(chat);
    }

    /// Back to a menu level before an agent answered: the queue (and any offer) is given up.
    fn leave_queue(&mut self, chat: &mut Chat, level: Option<QueueId>) {
        if chat.status == ChatStatus::Offered
            && let Some(agent) = chat.agent.take()
        {
            self.ctx.roster.release(&agent);
        }
        chat.agent = None;
        chat.menu_level = level;
        chat.status = ChatStatus::Selecting;
        chat.queue = None;
        chat.queued_at = None;
        chat.wait_since = None;
        chat.after_hours_until = None;
        self.retext(chat);
        self.event(ChatEvent::BackToMenu);
        self.menu(chat.menu_level.as_ref(), None);
    }

    /// LANG xx: the chat's messages from now on are in that language, if the setup has it (true).
    fn change_language(&mut self, chat: &mut Chat, tag: &str) -> bool {
        let tags = self.ctx.setup.settings.language_tags();
        match tags.iter().find(|t| !tag.is_empty() && keyword::normalize(t) == tag) {
            Some(language) => {
                let language = (*language).to_owned();
                self.set_language(chat, &language);
                let name = self.ctx.setup.settings.language_name(&language);
                self.system(TextKey::LanguageChanged, &[("language", &name)]);
                true
            }
            None => {
                let list = tags.join(", ");
                self.system(TextKey::LanguageUnknown, &[("languages", &list)]);
                false
            }
        }
    }

    fn set_language(&mut self, chat: &mut Chat, language: &str) {
        if chat.language != language {
            chat.language = language.to_owned();
            self.event(ChatEvent::LanguageChanged { language: language.to_owned() });
        }
        self.retext(chat);
    }

    fn open(&mut self, text: &str, command: Option<Command>, detected: Option<&str>) {
        // SMS chat is off for every queue of the number (or the deployment): nothing to choose from.
        if self.ctx.setup.menu_options(self.ctx.number, None).is_empty() {
            self.system(TextKey::Unavailable, &[]);
            return;
        }
        let ctx = &self.ctx;
        let tags = ctx.setup.settings.language_tags();
        // A LANG command as the first text decides; then what the detector heard, if the setup has it.
        let chosen = match &command {
            Some(Command::Language(tag)) => tags.iter().find(|t| !tag.is_empty() && keyword::normalize(t) == *tag),
            _ => None,
        };
        let language = chosen
            .copied()
            .or_else(|| detected.filter(|d| tags.contains(d)))
            .unwrap_or_else(|| ctx.setup.language_of(ctx.number))
            .to_owned();
        let mut chat = Chat {
            id: ctx.new_chat_id.clone(),
            number: ctx.number.number.clone(),
            consumer: ctx.consumer.clone(),
            origin: Origin::Inbound,
            start_type: None,
            status: ChatStatus::Selecting,
            queue: None,
            menu_level: None,
            agent: None,
            opened_at: ctx.now,
            queued_at: None,
            offered_at: None,
            last_message_at: ctx.now,
            warned_at: None,
            transfer: None,
            language,
            answered_at: None,
            awaiting_reply_since: None,
            wait_since: None,
            after_hours_until: None,
            ended_at: None,
            end_reason: None,
            ended_by: None,
        };
        self.event(ChatEvent::Opened);
        self.event(ChatEvent::ConsumerMessage);
        if chat.language != self.ctx.setup.language_of(self.ctx.number) {
            self.event(ChatEvent::LanguageChanged { language: chat.language.clone() });
        }
        self.retext(&chat);
        self.opt_in_notice(self.ctx.setup.settings.opt_in_notice_every_chat);
        // A first text that already names a queue skips the menu; so does a menu of one choice, and
        // asking for an agent (the number's first queue).
        let first = self.ctx.setup.menu_options(self.ctx.number, None).first().map(|q| q.id.clone());
        match (self.only_or_named(None, text), command) {
            (Some((queue, language)), _) => self.choose(&mut chat, queue, language),
            (None, Some(Command::Agent)) if first.is_some() => {
                if let Some(first) = first {
                    self.choose(&mut chat, first, None);
                }
            }
            _ => self.menu(None, None),
        }
        self.decision.chat = Some(chat);
    }

    /// The opt-in notice, on the phone's first contact (or on every new chat when `every_chat`).
    fn opt_in_notice(&mut self, every_chat: bool) {
        if every_chat || !self.ctx.consent.notice_sent {
            self.system(TextKey::OptInNotice, &[]);
            self.decision.consent = Some(ConsentChange::NoticeSent);
        }
    }

    /// Holds a proactive message back until the consumer's quiet hours are over, or refuses it when the
    /// caller asked not to wait.
    fn quiet_hours(&mut self, no_delay: bool) -> Result<(), Refusal> {
        let Some(rule) = &self.ctx.setup.settings.quiet_hours else {
            return Ok(());
        };
        match rule.check(self.ctx.consumer, self.ctx.now) {
            None => Ok(()),
            Some((until, zones)) if no_delay => Err(Refusal::QuietHours { until, zones }),
            Some((until, _)) => {
                self.not_before = Some(until);
                Ok(())
            }
        }
    }

    fn outbound(
        mut self,
        chat: Option<Chat>,
        text: &str,
        agent: Option<&AgentId>,
        queue: Option<&QueueId>,
        no_delay: bool,
    ) -> Outcome {
        let author = agent.map_or(Author::Api, |a| Author::Agent(a.clone()));
        if let Some(chat) = chat {
            // An agent may only write into a live chat that is theirs; the API joins any live chat.
            if let Some(agent) = agent
                && (chat.status != ChatStatus::Connected || chat.agent.as_ref() != Some(agent))
            {
                return Outcome::Refused(Refusal::ChatInProgress);
            }
            if chat.origin == Origin::Outbound
                && let Err(refusal) = self.quiet_hours(no_delay)
            {
                return Outcome::Refused(refusal);
            }
            self.send(text.to_owned(), author, Purpose::Conversation);
            if let Some(agent) = agent {
                self.event(ChatEvent::AgentMessage { agent: agent.clone() });
            }
            self.decision.chat = Some(chat);
            return Outcome::Done(self.decision);
        }
        if let Err(refusal) = self.quiet_hours(no_delay) {
            return Outcome::Refused(refusal);
        }
        let mut chat = Chat {
            id: self.ctx.new_chat_id.clone(),
            number: self.ctx.number.number.clone(),
            consumer: self.ctx.consumer.clone(),
            origin: Origin::Outbound,
            start_type: Some(StartType::Outbound),
            status: ChatStatus::Selecting,
            queue: None,
            menu_level: None,
            agent: None,
            opened_at: self.ctx.now,
            queued_at: None,
            offered_at: None,
            last_message_at: self.ctx.now,
            warned_at: None,
            transfer: None,
            language: self.language.clone(),
            answered_at: agent.map(|_| self.ctx.now),
            awaiting_reply_since: None,
            wait_since: None,
            after_hours_until: None,
            ended_at: None,
            end_reason: None,
            ended_by: None,
        };
        if let Some(agent) = agent {
            let serves = |q: &QueueId| self.ctx.roster.serves(agent, q);
            let queue = match queue {
                Some(q) if self.ctx.number.queues.contains(q) && serves(q) => q.clone(),
                Some(_) => return Outcome::Refused(Refusal::NotYourQueue),
                None => match self.ctx.number.queues.iter().find(|q| serves(q)) {
                    Some(q) => q.clone(),
                    None => return Outcome::Refused(Refusal::NotYourQueue),
                },
            };
            // The agent chose to start this chat: it counts against their capacity but is not refused by it.
            self.ctx.roster.assign(agent, self.ctx.now);
            chat.queue = Some(queue);
            chat.status = ChatStatus::Connected;
            chat.agent = Some(agent.clone());
        }
        self.event(ChatEvent::Opened);
        self.event(ChatEvent::StartedOutbound { agent: agent.cloned() });
        if let Some(agent) = agent {
            self.event(ChatEvent::Connected { agent: agent.clone(), auto_answered: false });
        }
        self.opt_in_notice(false);
        self.send(text.to_owned(), author, Purpose::Conversation);
        if let Some(agent) = agent {
            self.event(ChatEvent::AgentMessage { agent: agent.clone() });
        }
        self.decision.chat = Some(chat);
        Outcome::Done(self.decision)
    }

    fn sessionless(mut self, text: &str, no_delay: bool) -> Outcome {
        if let Err(refusal) = self.quiet_hours(no_delay) {
            return Outcome::Refused(refusal);
        }
        self.opt_in_notice(false);
        self.send(text.to_owned(), Author::Api, Purpose::Conversation);
        Outcome::Done(self.decision)
    }

    /// The visible choices of a menu level.
    fn choices_at(&self, level: Option<&QueueId>) -> usize {
        self.ctx.setup.menu_options(self.ctx.number, level).len()
    }

    /// The menu level a queued chat's queue was picked from: its parent (`None`: the number's menu).
    fn picked_from(&self, chat: &Chat) -> Option<QueueId> {
        chat.queue.as_ref().and_then(|q| self.ctx.setup.queue(q)).and_then(|q| q.parent.clone())
    }

    /// The choice at `level` that `text` names (with the language of the words that named it), or the
    /// only one there is.
    fn only_or_named(&self, level: Option<&QueueId>, text: &str) -> Option<(QueueId, Option<String>)> {
        match self.ctx.setup.menu_options(self.ctx.number, level).as_slice() {
            [only] => Some((only.id.clone(), None)),
            _ => self.ctx.setup.menu_choice(self.ctx.number, level, text),
        }
    }

    /// A choice was made (in `language`, when its words were of one): a queue with visible children
    /// opens its submenu (or, with one child, goes straight on); any other queue is joined. A queue
    /// that serves one language sets the chat's.
    fn choose(&mut self, chat: &mut Chat, queue: QueueId, language: Option<String>) {
        let serves = self.ctx.setup.queue(&queue).and_then(|q| q.language.clone());
        if let Some(language) = serves.or(language) {
            self.set_language(chat, &language);
        }
        match self.ctx.setup.menu_options(self.ctx.number, Some(&queue)).as_slice() {
            [] => {
                chat.menu_level = None;
                self.enqueue(chat, queue, false);
            }
            [only] => {
                let only = only.id.clone();
                self.choose(chat, only, None);
            }
            _ => {
                chat.menu_level = Some(queue);
                self.menu(chat.menu_level.as_ref(), None);
            }
        }
    }

    fn menu(&mut self, level: Option<&QueueId>, unknown_answer: Option<&str>) {
        let choices = menu_text(&self.ctx.setup.menu_options(self.ctx.number, level), &self.language, &self.texts);
        let key = if unknown_answer.is_some() { TextKey::MenuRetry } else { TextKey::Menu };
        let answer = quote(unknown_answer.unwrap_or_default());
        self.system(key, &[("menu", &choices), ("answer", &answer)]);
        self.event(ChatEvent::MenuSent);
    }

    fn select(&mut self, chat: &mut Chat, text: &str) {
        let level = chat.menu_level.clone();
        match self.ctx.setup.menu_choice(self.ctx.number, level.as_ref(), text) {
            Some((queue, language)) => self.choose(chat, queue, language),
            // The answer to a message the business sent first: a menu of one choice takes it there;
            // otherwise the consumer has not seen the menu yet, so it is sent as it is.
            None if chat.origin == Origin::Outbound => match self.only_or_named(level.as_ref(), "") {
                Some((only, _)) => self.choose(chat, only, None),
                None => self.menu(level.as_ref(), None),
            },
            // A blank answer (a photo without text), or BACK at the top, has nothing to quote: the menu
            // goes as it is.
            None if text.trim().is_empty() || self.ctx.setup.settings.commands.parse(text).is_some() => {
                self.menu(level.as_ref(), None)
            }
            None => self.menu(level.as_ref(), Some(text)),
        }
    }

    /// The chat joins `queue` (`moved`: from another queue whose wait limit ran out). Outside the
    /// queue's hours it waits for the opening or ends, as the queue says; otherwise the best agent is
    /// asked, or the consumer learns their place in line.
    fn enqueue(&mut self, chat: &mut Chat, queue: QueueId, moved: bool) {
        let now = self.ctx.now;
        chat.status = ChatStatus::Queued;
        chat.queue = Some(queue.clone());
        // A chat moved on keeps its place by age; its new queue's wait limit starts now.
        chat.queued_at = if moved { chat.queued_at.or(Some(now)) } else { Some(now) };
        chat.wait_since = Some(now);
        chat.after_hours_until = None;
        self.retext(chat);
        self.event(ChatEvent::Queued { queue: queue.clone() });
        let name = self.queue_name(&queue);
        if let Some(hours) = self.ctx.setup.queue(&queue).and_then(|q| q.hours.as_ref())
            && !hours.is_open(now)
        {
            let opens = hours.next_open(now);
            let label = opens.map_or_else(|| "later".to_owned(), |t| hours.local_label(t));
            let vars = [("queue", name.as_str()), ("opens", label.as_str())];
            match (hours.after_hours, opens) {
                (AfterHours::KeepQueued, Some(opens)) => {
                    chat.after_hours_until = Some(opens);
                    chat.wait_since = None;
                    self.event(ChatEvent::AfterHours { opens: Some(opens) });
                    self.system(TextKey::AfterHours, &vars);
                }
                // A queue that never opens again cannot keep anyone waiting.
                _ => {
                    self.event(ChatEvent::AfterHours { opens: None });
                    self.system(TextKey::AfterHoursClosed, &vars);
                    self.end(chat, EndReason::AfterHours, "system".to_owned());
                }
            }
            return;
        }
        let vars = [("queue", name.as_str())];
        if moved {
            self.system(TextKey::QueueMoved, &vars);
            self.route(chat);
        } else if self.pick(chat, None).is_some() {
            self.system(TextKey::Queued, &vars);
            self.route(chat);
        } else {
            self.waiting(chat);
        }
    }

    /// A chat that was already waiting when its queue closed waits for the opening like one that came
    /// after hours (a durable timer routes it then; its wait limit rests meanwhile). True when it does.
    fn hold_until_opening(&mut self, chat: &mut Chat) -> bool {
        if chat.status != ChatStatus::Queued || chat.after_hours_until.is_some() {
            return false;
        }
        let Some(hours) = chat.queue.as_ref().and_then(|q| self.ctx.setup.queue(q)).and_then(|q| q.hours.as_ref())
        else {
            return false;
        };
        if hours.is_open(self.ctx.now) || hours.after_hours != AfterHours::KeepQueued {
            return false;
        }
        let Some(opens) = hours.next_open(self.ctx.now) else { return false };
        chat.after_hours_until = Some(opens);
        chat.wait_since = None;
        self.event(ChatEvent::AfterHours { opens: Some(opens) });
        true
    }

    /// The consumer's place in line and the estimated wait.
    fn waiting(&mut self, chat: &Chat) {
        let Some(queue) = chat.queue.clone() else { return };
        let position = self.ctx.roster.position(&chat.id, &queue);
        let minutes = self.ctx.roster.wait_minutes(&queue, position);
        let name = self.queue_name(&queue);
        let (position, minutes) = (position.to_string(), minutes.to_string());
        self.system(
            TextKey::Waiting,
            &[("queue", name.as_str()), ("position", position.as_str()), ("wait_minutes", minutes.as_str())],
        );
    }

    /// The agent routing would offer the chat to now: none while its queue is closed; agents who write
    /// the chat's language first.
    fn pick(&self, chat: &Chat, except: Option<&AgentId>) -> Option<AgentId> {
        let queue = chat.queue.as_ref()?;
        let q = self.ctx.setup.queue(queue);
        if q.and_then(|q| q.hours.as_ref()).is_some_and(|h| !h.is_open(self.ctx.now)) {
            return None;
        }
        let strategy = q.map(|q| q.strategy).unwrap_or_default();
        self.ctx.roster.pick_by(queue, strategy, except, Some(&chat.language))
    }

    /// Offers a queued chat to the best agent with room, connecting it at once on auto-answer queues.
    fn route(&mut self, chat: &mut Chat) {
        self.route_except(chat, None);
    }

    /// [`Decider::route`], passing over `except` (the agent who just let the offer time out) when
    /// anyone else can take the chat.
    fn route_except(&mut self, chat: &mut Chat, except: Option<&AgentId>) {
        let Some(queue) = chat.queue.clone() else {
            return;
        };
        if self.hold_until_opening(chat) {
            return;
        }
        let Some(agent) = self.pick(chat, except) else {
            return;
        };
        self.ctx.roster.assign(&agent, self.ctx.now);
        chat.status = ChatStatus::Offered;
        chat.offered_at = Some(self.ctx.now);
        chat.agent = Some(agent.clone());
        self.event(ChatEvent::Offered { agent: agent.clone() });
        if self.ctx.setup.queue(&queue).is_some_and(|q| q.auto_answer) {
            self.connect(chat, agent, true);
        }
    }

    fn connect(&mut self, chat: &mut Chat, agent: AgentId, auto_answered: bool) {
        chat.status = ChatStatus::Connected;
        chat.agent = Some(agent.clone());
        let start = if auto_answered { StartType::Auto } else { StartType::Manual };
        chat.start_type = chat.start_type.or(Some(start));
        chat.answered_at = chat.answered_at.or(Some(self.ctx.now));
        chat.after_hours_until = None;
        // The wait in line is not the consumer's silence: inactivity counts from the agent's arrival.
        chat.last_message_at = self.ctx.now;
        chat.warned_at = None;
        // The consumer is waiting for the agent's first words.
        chat.awaiting_reply_since = Some(self.ctx.now);
        self.event(ChatEvent::Connected { agent: agent.clone(), auto_answered });
        self.announce_agent(chat, &agent, TextKey::Connected);
    }

    /// Tells the consumer who they are chatting with now (`key`: connected or transferred).
    fn announce_agent(&mut self, chat: &Chat, agent: &AgentId, key: TextKey) {
        let name = self.ctx.setup.agent(agent).map(|a| a.name.clone()).unwrap_or_else(|| agent.to_string());
        let first = name.split_whitespace().next().unwrap_or(&name).to_owned();
        let queue = chat.queue.as_ref().map(|q| self.queue_name(q)).unwrap_or_default();
        self.system(key, &[("agent", &name), ("agent_first_name", &first), ("queue", &queue)]);
    }

    fn accept(&mut self, chat: &mut Chat, agent: &AgentId) -> Result<(), Refusal> {
        let queue = chat.queue.clone().ok_or(Refusal::NoQueue)?;
        if !self.ctx.roster.serves(agent, &queue) {
            return Err(Refusal::NotYourQueue);
        }
        match (chat.status, chat.agent.as_ref()) {
            (ChatStatus::Offered, Some(offered)) if offered == agent => {
                self.connect(chat, agent.clone(), false);
                Ok(())
            }
            // Accepting twice is harmless: a retried request must not fail.
            (ChatStatus::Connected, Some(connected)) if connected == agent => Ok(()),
            (ChatStatus::Offered | ChatStatus::Connected, _) => Err(Refusal::TakenByAnother),
            (ChatStatus::Queued, _) => {
                if !self.ctx.roster.has_room(agent, &queue) {
                    return Err(Refusal::AtCapacity);
                }
                self.ctx.roster.assign(agent, self.ctx.now);
                self.connect(chat, agent.clone(), false);
                Ok(())
            }
            (ChatStatus::Selecting, _) => Err(Refusal::NoQueue),
            (ChatStatus::Finished, _) => Err(Refusal::Ended),
        }
    }

    fn reply(&mut self, chat: &mut Chat, agent: &AgentId, text: &str) -> Result<(), Refusal> {
        if chat.status != ChatStatus::Connected {
            return Err(Refusal::NotConnected);
        }
        if chat.agent.as_ref() != Some(agent) {
            return Err(Refusal::TakenByAnother);
        }
        if self.ctx.consent.opted_out {
            return Err(Refusal::OptedOut);
        }
        self.send(text.to_owned(), Author::Agent(agent.clone()), Purpose::Conversation);
        self.event(ChatEvent::AgentMessage { agent: agent.clone() });
        chat.last_message_at = self.ctx.now;
        chat.warned_at = None;
        chat.awaiting_reply_since = None;
        Ok(())
    }

    fn transfer(
        &mut self,
        chat: &mut Chat,
        from: &AgentId,
        target: &TransferTarget,
        note: &str,
    ) -> Result<(), Refusal> {
        if chat.status != ChatStatus::Connected {
            return Err(Refusal::NotConnected);
        }
        if chat.agent.as_ref() != Some(from) {
            return Err(Refusal::TakenByAnother);
        }
        if chat.transfer.is_some() {
            return Err(Refusal::TransferPending);
        }
        let queue = chat.queue.clone().ok_or(Refusal::NoQueue)?;
        let (offered_to, to_queue) = match target {
            TransferTarget::Agent(to) => {
                if to == from || !self.ctx.roster.serves(to, &queue) {
                    return Err(Refusal::BadTransferTarget);
                }
                let free = self
                    .ctx
                    .roster
                    .seats
                    .iter()
                    .any(|s| &s.agent == to && s.presence == Presence::Available && s.active < s.capacity);
                (free.then(|| to.clone()), None)
            }
            TransferTarget::Queue(q) if !self.ctx.setup.queue(q).is_some_and(|q| self.ctx.setup.sms_chat(q)) => {
                return Err(Refusal::BadTransferTarget);
            }
            TransferTarget::Queue(q) => {
                let strategy = self.ctx.setup.queue(q).map(|q| q.strategy).unwrap_or_default();
                let picked =
                    self.ctx.roster.pick_by(q, strategy, Some(from), Some(&chat.language)).filter(|a| a != from);
                (picked, Some(q.clone()))
            }
        };
        let Some(to) = offered_to else {
            let to = match target {
                TransferTarget::Agent(a) => Some(a.clone()),
                TransferTarget::Queue(_) => None,
            };
            self.event(ChatEvent::TransferFailed { from: from.clone(), to, reason: TransferFailure::NobodyAvailable });
            return Ok(());
        };
        // The receiving agent's capacity is held while they decide.
        self.ctx.roster.assign(&to, self.ctx.now);
        chat.transfer = Some(Transfer {
            from: from.clone(),
            target: target.clone(),
            offered_to: to.clone(),
            note: note.to_owned(),
            started_at: self.ctx.now,
        });
        self.event(ChatEvent::TransferStarted { from: from.clone(), to, queue: to_queue, note: note.to_owned() });
        Ok(())
    }

    fn answer_transfer(&mut self, chat: &mut Chat, agent: &AgentId, accept: bool) -> Result<(), Refusal> {
        let Some(transfer) = chat.transfer.take_if(|t| &t.offered_to == agent) else {
            return Err(Refusal::NoTransfer);
        };
        if !accept {
            self.ctx.roster.release(agent);
            self.event(ChatEvent::TransferFailed {
                from: transfer.from,
                to: Some(agent.clone()),
                reason: TransferFailure::Declined,
            });
            return Ok(());
        }
        self.ctx.roster.release(&transfer.from);
        chat.agent = Some(agent.clone());
        if let TransferTarget::Queue(queue) = &transfer.target {
            chat.queue = Some(queue.clone());
            self.retext(chat);
        }
        self.event(ChatEvent::TransferEnded { from: transfer.from, to: agent.clone() });
        if chat.queue.as_ref().and_then(|q| self.ctx.setup.queue(q)).is_some_and(|q| q.announce_transfers) {
            self.announce_agent(chat, agent, TextKey::Transferred);
        }
        Ok(())
    }

    /// Fires the chat's timer that is due, if any.
    fn tick(&mut self, chat: &mut Chat) {
        let timers = self.ctx.setup.timers_for(chat.queue.as_ref());
        let Some(due) = timers::due_at(chat, &timers, self.ctx.now) else {
            return;
        };
        match due {
            Due::Expired => self.end(chat, EndReason::Expired, "system".to_owned()),
            // The wait limit does not run while the queue is closed.
            Due::QueueTimeout if self.hold_until_opening(chat) => {}
            Due::QueueTimeout => {
                let from = chat.queue.clone();
                let overflow = from.as_ref().and_then(|q| self.ctx.setup.queue(q)).and_then(|q| q.overflow.clone());
                match (from, overflow) {
                    (Some(from), Some(to)) => {
                        self.event(ChatEvent::Overflowed { from, to: to.clone() });
                        self.enqueue(chat, to, true);
                    }
                    _ => self.end(chat, EndReason::QueueTimeout, "system".to_owned()),
                }
            }
            Due::Opens => {
                chat.after_hours_until = None;
                chat.wait_since = Some(self.ctx.now);
                self.route(chat);
            }
            Due::ReplyTimeout => {
                let Some(agent) = chat.agent.take() else { return };
                self.ctx.roster.release(&agent);
                chat.status = ChatStatus::Queued;
                chat.offered_at = None;
                chat.awaiting_reply_since = None;
                self.event(ChatEvent::ReplyTimedOut { agent: agent.clone() });
                self.route_except(chat, Some(&agent));
            }
            Due::InactivityClose => self.end(chat, EndReason::ConsumerSilent, "system".to_owned()),
            Due::InactivityWarning => {
                let minutes = timers.inactivity_close_minutes.unwrap_or(0).to_string();
                self.system(TextKey::InactivityWarning, &[("minutes", &minutes)]);
                chat.warned_at = Some(self.ctx.now);
                self.event(ChatEvent::InactivityWarning);
            }
            Due::TransferTimeout => {
                if let Some(transfer) = chat.transfer.take() {
                    self.ctx.roster.release(&transfer.offered_to);
                    self.event(ChatEvent::TransferFailed {
                        from: transfer.from,
                        to: Some(transfer.offered_to),
                        reason: TransferFailure::TimedOut,
                    });
                }
            }
            Due::OfferTimeout => {
                let Some(agent) = chat.agent.take() else { return };
                self.ctx.roster.release(&agent);
                chat.status = ChatStatus::Queued;
                chat.offered_at = None;
                self.event(ChatEvent::OfferTimedOut { agent: agent.clone() });
                self.route_except(chat, Some(&agent));
            }
        }
    }

    fn end_by(&mut self, chat: &mut Chat, by: &Actor) -> Result<(), Refusal> {
        let (reason, who) = match by {
            Actor::Admin => (EndReason::EndedByAdmin, "admin".to_owned()),
            Actor::Agent(agent) => {
                let queue = chat.queue.as_ref().ok_or(Refusal::NoQueue)?;
                if !self.ctx.roster.serves(agent, queue) {
                    return Err(Refusal::NotYourQueue);
                }
                if chat.agent.as_ref().is_some_and(|a| a != agent) {
                    return Err(Refusal::TakenByAnother);
                }
                (EndReason::EndedByAgent, agent.to_string())
            }
        };
        self.end(chat, reason, who);
        Ok(())
    }

    fn end(&mut self, chat: &mut Chat, reason: EndReason, by: String) {
        // A transfer still waiting ends with the chat, and gives the receiving agent's capacity back.
        if let Some(transfer) = chat.transfer.take() {
            self.ctx.roster.release(&transfer.offered_to);
        }
        if matches!(chat.status, ChatStatus::Offered | ChatStatus::Connected)
            && let Some(agent) = &chat.agent
        {
            self.ctx.roster.release(agent);
        }
        chat.status = ChatStatus::Finished;
        chat.ended_at = Some(self.ctx.now);
        chat.end_reason = Some(reason);
        chat.ended_by = Some(by.clone());
        self.event(ChatEvent::Ended { reason, by });
        let key = match reason {
            // The opt-out confirmation is the last message; the after-hours one was just sent.
            EndReason::OptedOut | EndReason::AfterHours => return,
            EndReason::Expired => TextKey::Expired,
            EndReason::ConsumerSilent => TextKey::InactivityClosed,
            EndReason::QueueTimeout => TextKey::QueueTimeout,
            EndReason::EndedByAgent | EndReason::EndedByAdmin | EndReason::ConsumerCommand => TextKey::ChatEnded,
        };
        let queue = chat.queue.as_ref().map(|q| self.queue_name(q)).unwrap_or_default();
        self.system(key, &[("queue", &queue)]);
    }

    fn opt_out(&mut self, chat: Option<Chat>, text: &str) {
        let already = self.ctx.consent.opted_out;
        let mut chat = chat;
        if let Some(chat) = chat.as_mut() {
            self.event(ChatEvent::ConsumerMessage);
            self.event(ChatEvent::OptedOut);
            self.end(chat, EndReason::OptedOut, "consumer".to_owned());
        }
        if !already {
            self.decision.consent = Some(ConsentChange::OptedOut { keyword: keyword::normalize(text) });
            self.system_for(TextKey::OptedOut, &[], Purpose::OptOutConfirmation);
        }
        self.decision.chat = chat;
    }

    fn opt_in(&mut self, chat: Option<Chat>, text: &str) {
        self.decision.consent = Some(ConsentChange::OptedIn { keyword: keyword::normalize(text) });
        self.ctx.consent.opted_out = false;
        self.system(TextKey::OptedIn, &[]);
        self.decision.chat = chat;
    }
}

/// The consumer's answer as the menu quotes it back: trimmed, and cut short so a long text does not
/// turn the reply into several segments.
fn quote(answer: &str) -> String {
    const MAX: usize = 24;
    let answer = answer.trim();
    if answer.chars().count() <= MAX {
        answer.to_owned()
    } else {
        format!("{}...", answer.chars().take(MAX).collect::<String>().trim_end())
    }
}

/// A menu's choices in `language`, with its texts: "1 or BILLING for Billing, 2 or TECH for Technical
/// support".
pub fn menu_text(options: &[&Queue], language: &str, texts: &Texts) -> String {
    let or = format!(" {} ", texts.get(TextKey::MenuOr).trim());
    let choices: Vec<String> = options
        .iter()
        .map(|q| {
            let (name, keywords) = q.menu_entry(language);
            let words = if keywords.is_empty() { vec![name.to_uppercase()] } else { keywords.to_vec() };
            render(texts.get(TextKey::MenuChoice), &[("keywords", &words.join(&or)), ("queue", name)])
        })
        .collect();
    choices.join(", ")
}
