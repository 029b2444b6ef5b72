//! The validated setup: typed numbers, queues, agents, teams and campaigns whose every reference
//! resolves, and the questions the engine and the API ask of it (which queue a menu answer picks,
//! which texts a chat gets, which queues an agent serves, what agents see of a consumer's number).
//!
//! Nothing here checks anything: a [`Setup`] is made only by [`Setup::validate`] (`validate.rs`) or
//! [`Setup::empty`], so its invariants hold wherever it is read.

use std::collections::{BTreeMap, BTreeSet};

use crate::crm::fields::FieldDef;
use crate::crm::record::RecordPolicy;
use crate::hours::BusinessHours;
use crate::ids::{AgentId, CampaignId, QueueId, TeamId};
use crate::keyword::{self, ExtraKeywords};
use crate::number::NumberKind;
use crate::phone::{BusinessNumber, E164};
use crate::registration::{self, Brand, CampaignRegistration, TollFreeVerification};
use crate::routing::Strategy;
use crate::texts::{TextOverrides, Texts};

use super::blocklist::Blocklist;
use super::draft::QueueTranslation;
use super::replies::Reply;
use super::roles::{DirectNumbers, NumberRole, SessionlessReply};
use super::settings::{DismissalSettings, Settings, TimerSettings};

/// A validated setup: every reference resolves, every id and number is unique.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub numbers: Vec<Number>,
    pub queues: Vec<Queue>,
    pub agents: Vec<Agent>,
    pub teams: Vec<Team>,
    pub campaigns: Vec<Campaign>,
    pub settings: Settings,
    /// Per-number registration data and limits beyond [`Number`]'s, one entry per number that has any.
    /// Kept beside the numbers so that a `Number` can be built without them (the engine does so for a
    /// chat whose number left the setup).
    pub registrations: Vec<NumberRegistration>,
    /// The keywords of every language (normalized), honored on every number.
    pub language_keywords: ExtraKeywords,
    /// Predefined replies agents send, in the order written.
    pub replies: Vec<Reply>,
    /// The phones the business does not serve, looked up by number.
    pub blocklist: Blocklist,
    /// The contacts' custom fields, in the order declared.
    pub contact_fields: Vec<FieldDef>,
    /// The IVR's voice queues.
    pub ivr_queues: Vec<super::ivr::IvrQueue>,
    /// The business's mobile apps.
    pub apps: Vec<super::apps::App>,
}

/// A campaign: numbers that share one throughput limit (carriers count 10DLC throughput per campaign),
/// and, for 10DLC, the campaign as registered with TCR.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub segments_per_second: Option<f64>,
    pub segments_per_minute: Option<u32>,
    pub segments_per_day: Option<u32>,
    /// The id of its brand in `settings.brands`.
    pub brand: Option<String>,
    pub registration: CampaignRegistration,
}

/// What a number has beyond [`Number`]: its per-minute and per-day limits and its toll-free verification.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberRegistration {
    pub number: BusinessNumber,
    pub segments_per_minute: Option<u32>,
    pub segments_per_day: Option<u32>,
    pub toll_free_verification: Option<TollFreeVerification>,
}

/// A business number and the queues its menu offers, in menu order.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub number: BusinessNumber,
    pub label: String,
    pub carrier: String,
    pub queues: Vec<QueueId>,
    /// The most segments per second this number may send.
    pub segments_per_second: Option<f64>,
    /// The campaign the number sends under.
    pub campaign: Option<CampaignId>,
    pub kind: NumberKind,
    /// Keywords this number adds to the standard ones.
    pub keywords: ExtraKeywords,
    /// The language of its system messages; `None`: the deployment's.
    pub language: Option<String>,
    /// Its own system messages, over its language's.
    pub messages: TextOverrides,
    /// Its system messages in other languages, by tag.
    pub translations: BTreeMap<String, TextOverrides>,
    /// What the number is for: taking chats, sending, or both.
    pub role: NumberRole,
    /// A direct number's agent: its chats go to them alone, with no menu (`queues` is then empty).
    pub agent: Option<AgentId>,
    /// Where a direct number's chat goes when its agent cannot take it now.
    pub fallback_queue: Option<QueueId>,
    /// How a reply to one of its sessionless notifications is met.
    pub sessionless_reply: SessionlessReply,
    /// How long after a notification a reply counts as its reply, in hours (1 to 720).
    pub sessionless_window_hours: u32,
}

impl Number {
    /// A number as the engine knows it when only its address is known (a chat's number that left the
    /// setup): no carrier, no queues, no texts of its own, every default.
    pub fn detached(number: BusinessNumber) -> Number {
        Number {
            number,
            label: String::new(),
            carrier: String::new(),
            queues: vec![],
            segments_per_second: None,
            campaign: None,
            kind: NumberKind::default(),
            keywords: ExtraKeywords::default(),
            language: None,
            messages: TextOverrides::default(),
            translations: BTreeMap::new(),
            role: NumberRole::default(),
            agent: None,
            fallback_queue: None,
            sessionless_reply: SessionlessReply::default(),
            sessionless_window_hours: super::roles::DEFAULT_SESSIONLESS_WINDOW_HOURS,
        }
    }
}

/// A queue: one choice of a number's menu.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub id: QueueId,
    pub name: String,
    /// Menu keywords, as written; they match after [`keyword::normalize`].
    pub keywords: Vec<String>,
    /// Connect an offered chat without waiting for the agent to accept it.
    pub auto_answer: bool,
    /// How much of the consumer's number agents of this queue see (admins always see all of it);
    /// `None`: inherited (see `tree.rs`).
    pub consumer_number: Option<ConsumerNumber>,
    /// Timers of this queue's chats over its parents' and the deployment's (`None` fields inherit).
    pub timers: TimerSettings,
    /// Tell the consumer who took over when a chat is transferred into this queue (or within it).
    pub announce_transfers: bool,
    /// The queue whose menu offers this one; `None`: a top-level queue.
    pub parent: Option<QueueId>,
    /// Never shown in a menu nor picked by keyword; reachable by transfer or the API.
    pub hidden: bool,
    /// How the queue picks among the agents who can take a chat.
    pub strategy: Strategy,
    /// The language the queue serves in (choosing it sets the chat's); `None`: any.
    pub language: Option<String>,
    /// Its system messages in its language (or the deployment's).
    pub messages: TextOverrides,
    /// Its menu name, keywords and messages in other languages, by tag.
    pub translations: BTreeMap<String, QueueTranslation>,
    /// When agents answer; `None`: as the parent queue says (always, at the top).
    pub hours: Option<BusinessHours>,
    /// Where a chat that waited `queue_wait_minutes` moves; `None`: it closes.
    pub overflow: Option<QueueId>,
    /// Whether the queue takes SMS chats (shown in menus, transfers into it); `None`: the deployment's
    /// `sms_chat`.
    pub sms_chat: Option<bool>,
    /// Whether a chat the business starts here without naming a number is sent from the number of the
    /// phone's latest chat in the queue (see [`Setup::reply_from`]); `None`: yes.
    pub sticky_sender: Option<bool>,
    /// Whether agents may start outbound chats in this queue; `None`: inherited.
    pub agent_outbound: Option<bool>,
    /// Dismissal of quiet chats; `None`: inherited.
    pub dismissal: Option<DismissalSettings>,
    /// How the CRM groups this queue's chats into a contact's records (not inherited).
    pub record_policy: RecordPolicy,
    /// The owner of contacts that matching creates for this queue's chats.
    pub default_owner: Option<AgentId>,
    /// The wait within which an answered chat meets the service level (1 to 86,400); `None`: the
    /// reports' default of 60 seconds.
    pub service_level_seconds: Option<u32>,
}

impl Queue {
    /// Every word that picks this queue in a menu, normalized: its name and keywords in every language.
    pub fn menu_words(&self) -> BTreeSet<String> {
        let base = self.keywords.iter().chain(std::iter::once(&self.name));
        let translated = self.translations.values().flat_map(|t| t.keywords.iter().chain(std::iter::once(&t.name)));
        base.chain(translated).map(|k| keyword::normalize(k)).filter(|w| !w.is_empty()).collect()
    }

    /// The name and keywords the menu shows in `language`.
    pub fn menu_entry(&self, language: &str) -> (&str, &[String]) {
        match self.translations.get(language) {
            Some(t) => {
                let name = if t.name.trim().is_empty() { self.name.as_str() } else { t.name.as_str() };
                let keywords = if t.keywords.is_empty() { &self.keywords } else { &t.keywords };
                (name, keywords)
            }
            None => (&self.name, &self.keywords),
        }
    }
}

/// How much of a consumer's phone number an agent sees, per queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConsumerNumber {
    /// The whole number, e.g. `+15550000100`.
    #[default]
    Full,
    /// Only the last four digits, the rest as `*`: `+*******0100`.
    LastFour,
    /// Nothing but the word `hidden`.
    Hidden,
}

impl ConsumerNumber {
    /// The values a setup document may name, as an error message lists them.
    pub const ALLOWED: &'static str = "full, last_four or hidden";

    /// Parses the setup document's value; an empty value is the default, `full`.
    pub fn parse(text: &str) -> Option<ConsumerNumber> {
        match text {
            "" | "full" => Some(ConsumerNumber::Full),
            "last_four" => Some(ConsumerNumber::LastFour),
            "hidden" => Some(ConsumerNumber::Hidden),
            _ => None,
        }
    }

    /// The setup document's name of this value.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerNumber::Full => "full",
            ConsumerNumber::LastFour => "last_four",
            ConsumerNumber::Hidden => "hidden",
        }
    }
}

/// What an agent sees of `number` under `masking`.
///
/// - `Full`: the number as it is, `+15550000100`.
/// - `LastFour`: the `+`, one `*` per hidden digit, then the last four digits: `+*******0100`. The
///   output is plain ASCII (GSM-7 safe), so it can be shown, logged or texted anywhere. An E.164 number
///   has at least eight digits, so at least four are always hidden.
/// - `Hidden`: the word `hidden`, which no phone number can be mistaken for.
pub fn mask(number: &E164, masking: ConsumerNumber) -> String {
    match masking {
        ConsumerNumber::Full => number.as_str().to_owned(),
        ConsumerNumber::LastFour => {
            let digits = number.as_str().trim_start_matches('+');
            let hidden = digits.len().saturating_sub(4);
            format!("+{}{}", "*".repeat(hidden), &digits[hidden..])
        }
        ConsumerNumber::Hidden => "hidden".to_owned(),
    }
}

/// An agent and the queues they serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    pub queues: Vec<QueueId>,
    /// How many chats the agent handles at once (offered and connected).
    pub capacity: u32,
    /// Language tags the agent writes; routing prefers them for chats in those languages.
    pub languages: Vec<String>,
    /// When the agent answers chats of their direct numbers; `None`: always.
    pub hours: Option<BusinessHours>,
    /// The first answer on their direct numbers; `None`: the `direct_greeting` text.
    pub greeting: Option<String>,
    /// How many direct numbers the agent may have.
    pub direct_numbers: DirectNumbers,
    /// The agent's e-mail address as written; unique in the setup ignoring case.
    pub email: Option<String>,
}

/// A team of agents.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub members: Vec<AgentId>,
    /// Queues every member serves, besides their own.
    pub queues: Vec<QueueId>,
}

impl Setup {
    /// An empty setup with default settings: no numbers, so every inbound message is refused.
    pub fn empty() -> Setup {
        Setup {
            numbers: vec![],
            queues: vec![],
            agents: vec![],
            teams: vec![],
            campaigns: vec![],
            settings: Settings::default(),
            registrations: vec![],
            language_keywords: ExtraKeywords::default(),
            replies: vec![],
            blocklist: Blocklist::default(),
            contact_fields: Vec::new(),
            ivr_queues: Vec::new(),
            apps: Vec::new(),
        }
    }

    /// The per-minute and per-day limits and the toll-free verification of a number, if it has any.
    pub fn registration(&self, number: &BusinessNumber) -> Option<&NumberRegistration> {
        self.registrations.iter().find(|r| &r.number == number)
    }

    /// The brand with this id.
    pub fn brand(&self, id: &str) -> Option<&Brand> {
        self.settings.brands.iter().find(|b| b.id == id)
    }

    /// What a registration of this number still lacks before it may be reviewed or enabled, one line
    /// per field, e.g. `brand "acme": legal_name is missing`. Empty when it is complete, and always
    /// for kinds Parley keeps no registration data for (long codes, short codes).
    pub fn missing_registration(&self, number: &Number) -> Vec<String> {
        let mut out = Vec::new();
        match number.kind {
            NumberKind::Us10dlc => {
                let Some(campaign) = number.campaign.as_ref().and_then(|c| self.campaign(c)) else {
                    out.push(format!("number {}: campaign is missing", number.number));
                    return out;
                };
                let owner = format!("campaign \"{}\"", campaign.id);
                out.extend(
                    registration::missing_campaign(&campaign.registration)
                        .into_iter()
                        .map(|f| format!("{owner}: {f} is missing")),
                );
                match campaign.brand.as_deref().and_then(|b| self.brand(b)) {
                    Some(brand) => out.extend(
                        registration::missing_brand(brand)
                            .into_iter()
                            .map(|f| format!("brand \"{}\": {f} is missing", brand.id)),
                    ),
                    None => out.push(format!("{owner}: brand is missing")),
                }
            }
            NumberKind::TollFree => {
                let owner = format!("number {}: toll_free_verification", number.number);
                match self.registration(&number.number).and_then(|r| r.toll_free_verification.as_ref()) {
                    Some(v) => out.extend(
                        registration::missing_toll_free(v).into_iter().map(|f| format!("{owner}.{f} is missing")),
                    ),
                    None => out.push(format!("{owner} is missing")),
                }
            }
            NumberKind::LongCode | NumberKind::ShortCode => {}
        }
        out
    }

    /// The campaign with this id.
    pub fn campaign(&self, id: &CampaignId) -> Option<&Campaign> {
        self.campaigns.iter().find(|c| &c.id == id)
    }

    /// The timers of a chat in `queue` (or in none yet): each from the nearest queue up the tree that
    /// sets it, else the deployment's (see `tree.rs`).
    pub fn timers_for(&self, queue: Option<&QueueId>) -> TimerSettings {
        self.lineage(queue).iter().rev().fold(self.settings.timers, |t, q| t.with(&q.timers))
    }

    /// The language of `number`'s chats until something else decides: its own, or the deployment's.
    pub fn language_of<'a>(&'a self, number: &'a Number) -> &'a str {
        number.language.as_deref().unwrap_or(&self.settings.language)
    }

    /// The system messages of a chat in `language` on `number`, in `queue` if it has one. From the
    /// bottom: the deployment's texts, the language's, the number's (its own language's, then its
    /// translation), the queue's parents' from the top down and the queue's (likewise). A text no layer gives in `language` falls back to the
    /// deployment's.
    pub fn texts_for(&self, number: &Number, queue: Option<&QueueId>, language: &str) -> Texts {
        let mut texts = self.settings.texts.clone();
        if language != self.settings.language
            && let Some(l) = self.settings.languages.get(language)
        {
            texts = texts.overridden(&l.texts);
        }
        if self.language_of(number) == language {
            texts = texts.overridden(&number.messages);
        }
        if let Some(translation) = number.translations.get(language) {
            texts = texts.overridden(translation);
        }
        // The queue's texts over its parents', the top queue's first.
        for q in self.lineage(queue).iter().rev() {
            if q.language.as_deref().unwrap_or(&self.settings.language) == language {
                texts = texts.overridden(&q.messages);
            }
            if let Some(translation) = q.translations.get(language) {
                texts = texts.overridden(&translation.messages);
            }
        }
        texts
    }

    /// The carrier keyword a whole message is on `number`: the standard words, the number's own and
    /// every language's.
    pub fn carrier_keyword(&self, number: &Number, text: &str) -> Option<keyword::CarrierKeyword> {
        number.keywords.classify(text).or_else(|| self.language_keywords.classify(text))
    }

    /// The direct numbers of `agent`: the numbers whose chats go to them alone.
    pub fn direct_numbers_of<'a>(&'a self, agent: &'a AgentId) -> impl Iterator<Item = &'a Number> + 'a {
        self.numbers.iter().filter(move |n| n.agent.as_ref() == Some(agent))
    }

    /// The numbers `agent` may start outbound chats from: numbers that send, on whose menu a queue of
    /// theirs is, and their own direct numbers that send.
    pub fn outbound_numbers_of(&self, agent: &AgentId) -> Vec<&Number> {
        let queues = self.queues_of(agent);
        self.numbers
            .iter()
            .filter(|n| n.role.sends())
            .filter(|n| n.agent.as_ref() == Some(agent) || n.queues.iter().any(|q| queues.contains(q)))
            .collect()
    }

    /// The business number, if it is set up.
    pub fn number(&self, number: &BusinessNumber) -> Option<&Number> {
        self.numbers.iter().find(|n| &n.number == number)
    }

    /// The queue with this id.
    /// The voice queue `id`.
    pub fn app(&self, id: &str) -> Option<&super::apps::App> {
        self.apps.iter().find(|a| a.id == id)
    }

    pub fn ivr_queue(&self, id: &QueueId) -> Option<&super::ivr::IvrQueue> {
        self.ivr_queues.iter().find(|q| &q.id == id)
    }

    /// The voice queue whose calls `dialed` brings (the Twilio Voice front maps a call's `To` by it).
    pub fn ivr_queue_of_number(&self, dialed: &BusinessNumber) -> Option<&super::ivr::IvrQueue> {
        self.ivr_queues.iter().find(|q| q.numbers.contains(dialed))
    }

    pub fn queue(&self, id: &QueueId) -> Option<&Queue> {
        self.queues.iter().find(|q| &q.id == id)
    }

    /// The agent with this id.
    pub fn agent(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.iter().find(|a| &a.id == id)
    }

    /// The agent with this e-mail address, compared ignoring case (as the setup keeps them unique).
    pub fn agent_by_email(&self, email: &str) -> Option<&Agent> {
        let wanted = email.trim().to_lowercase();
        self.agents.iter().find(|a| a.email.as_deref().is_some_and(|e| e.to_lowercase() == wanted))
    }

    /// The queue of `number`'s menu that `answer` picks, by keyword or by the queue's name, in any
    /// language; with the language whose words picked it, when only one language's did.
    pub fn menu_choice(
        &self,
        number: &Number,
        level: Option<&QueueId>,
        answer: &str,
    ) -> Option<(QueueId, Option<String>)> {
        let answer = keyword::normalize(answer);
        if answer.is_empty() {
            return None;
        }
        let matches = |name: &str, keywords: &[String]| {
            keyword::normalize(name) == answer || keywords.iter().any(|k| keyword::normalize(k) == answer)
        };
        self.menu_options(number, level).into_iter().find(|q| q.menu_words().contains(&answer)).map(|q| {
            let language = if matches(&q.name, &q.keywords) {
                None
            } else {
                q.translations.iter().find(|(_, t)| matches(&t.name, &t.keywords)).map(|(tag, _)| tag.clone())
            };
            (q.id.clone(), language)
        })
    }

    /// The choices of a menu level: the number's visible queues at the top (`level` = `None`), the
    /// visible children of `level` below it.
    pub fn menu_options(&self, number: &Number, level: Option<&QueueId>) -> Vec<&Queue> {
        let shown = |q: &&Queue| !q.hidden && self.sms_chat(q);
        match level {
            None => number.queues.iter().filter_map(|id| self.queue(id)).filter(shown).collect(),
            Some(parent) => self.queues.iter().filter(|q| q.parent.as_ref() == Some(parent)).filter(shown).collect(),
        }
    }

    /// Where a chat the business starts goes out from when the request names no number, among the
    /// queues it may belong to (`queues`, in order of preference). `latest` is the phone's latest chat
    /// in one of them (its number and queue): while that queue keeps `sticky_sender` on and the number
    /// still offers it, the thread stays on that number. Otherwise the first of `queues` that a number's
    /// menu offers goes out from the first such number. Only numbers that send (not `incoming`) count. (An agent's chat belongs to a queue of its
    /// number's menu, as [`crate::chat`] requires.)
    pub fn reply_from(
        &self,
        queues: &[QueueId],
        latest: Option<(&BusinessNumber, &QueueId)>,
    ) -> Option<(&Number, QueueId)> {
        if let Some((number, queue)) = latest
            && queues.contains(queue)
            && self.queue(queue).is_some_and(|q| q.sticky_sender.unwrap_or(true))
            && let Some(number) = self.number(number).filter(|n| n.role.sends() && n.queues.contains(queue))
        {
            return Some((number, queue.clone()));
        }
        queues.iter().find_map(|queue| {
            self.numbers.iter().find(|n| n.role.sends() && n.queues.contains(queue)).map(|n| (n, queue.clone()))
        })
    }

    /// Whether `queue` takes SMS chats: its own setting, else its nearest parent's, else the
    /// deployment's.
    pub fn sms_chat(&self, queue: &Queue) -> bool {
        self.queue_settings(&queue.id).sms_chat.value
    }

    /// The queues an agent serves: their own and their teams'.
    pub fn queues_of(&self, agent: &AgentId) -> Vec<QueueId> {
        let mut queues: Vec<QueueId> = self.agent(agent).map(|a| a.queues.clone()).unwrap_or_default();
        for team in self.teams.iter().filter(|t| t.members.contains(agent)) {
            for q in &team.queues {
                if !queues.contains(q) {
                    queues.push(q.clone());
                }
            }
        }
        queues
    }
}
