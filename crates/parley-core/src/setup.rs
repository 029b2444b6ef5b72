//! The contact-center setup: numbers, queues (the menu), agents and teams, and the deployment settings.
//!
//! A [`SetupDraft`] holds what an admin wrote (plain strings); [`Setup::validate`] checks it as a whole
//! and returns either a typed [`Setup`] or every problem found, each naming what is wrong.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::commands::Commands;
use crate::hours::{BusinessHours, BusinessHoursDraft};
use crate::ids::{AgentId, CampaignId, QueueId, TeamId};
use crate::keyword::{self, ExtraKeywords};
use crate::number::NumberKind;
use crate::phone::{BusinessNumber, E164};
use crate::quiet_hours::{QuietHours, QuietHoursRule};
use crate::registration::{self, Brand, CampaignRegistration, TollFreeVerification};
use crate::replies::{Reply, ReplyDraft, validate_replies};
use crate::routing::Strategy;
use crate::texts::{TextOverrides, Texts};
use crate::timers::TimerSettings;

/// The setup document as written, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetupDraft {
    pub numbers: Vec<NumberDraft>,
    pub queues: Vec<QueueDraft>,
    pub agents: Vec<AgentDraft>,
    pub teams: Vec<TeamDraft>,
    pub campaigns: Vec<CampaignDraft>,
    /// Everything of the settings but quiet hours, which are checked from `quiet_hours`.
    pub settings: Settings,
    pub quiet_hours: QuietHoursDraft,
    /// Predefined replies agents send.
    pub replies: Vec<ReplyDraft>,
}

/// Quiet hours as written: `HH:MM` times in the consumer's local time and an IANA zone for numbers
/// whose prefix maps to none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHoursDraft {
    pub enabled: bool,
    pub start: String,
    pub end: String,
    pub time_zone: String,
}

impl Default for QuietHoursDraft {
    fn default() -> QuietHoursDraft {
        QuietHoursDraft::from_rule(Some(&QuietHoursRule::default()))
    }
}

impl QuietHoursDraft {
    /// The draft of a rule; `None` (turned off) keeps the default times, so turning them on again
    /// needs one switch.
    pub fn from_rule(rule: Option<&QuietHoursRule>) -> QuietHoursDraft {
        let shown = rule.copied().unwrap_or_default();
        let (start, end) = shown.window.as_strings();
        QuietHoursDraft { enabled: rule.is_some(), start, end, time_zone: shown.time_zone.name().to_owned() }
    }

    fn validate(&self, errors: &mut Vec<SetupError>) -> Option<QuietHoursRule> {
        let invalid = |field: &str, reason: String| SetupError::InvalidField {
            owner: "settings.quiet_hours".to_owned(),
            field: field.to_owned(),
            reason,
        };
        let window =
            QuietHours::parse(&self.start, &self.end).map_err(|e| errors.push(invalid("start/end", e.to_string())));
        let time_zone = self.time_zone.trim().parse::<chrono_tz::Tz>().map_err(|_| {
            let reason =
                format!("\"{}\" is not an IANA time zone (e.g. UTC, America/New_York, Europe/Berlin)", self.time_zone);
            errors.push(invalid("time_zone", reason));
        });
        match (window, time_zone) {
            (Ok(window), Ok(time_zone)) if self.enabled => Some(QuietHoursRule { window, time_zone }),
            _ => None,
        }
    }
}

/// A campaign as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignDraft {
    pub id: String,
    pub name: String,
    /// The most segments per second all numbers of the campaign may send together.
    pub segments_per_second: Option<f64>,
    /// The most segments all its numbers may send together in one minute (a fixed window).
    pub segments_per_minute: Option<i64>,
    /// The most segments all its numbers may send together in one day (a fixed window, UTC).
    pub segments_per_day: Option<i64>,
    /// The brand (of `settings.brands`) the campaign is registered for.
    pub brand: Option<String>,
    /// The 10DLC registration fields; all empty for a campaign that only shares a limit.
    pub registration: CampaignRegistration,
}

/// A business number as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberDraft {
    pub number: String,
    pub label: String,
    pub carrier: String,
    pub queues: Vec<String>,
    /// The most segments per second this number may send (`None`: only the carrier's limit applies).
    pub segments_per_second: Option<f64>,
    /// The campaign the number sends under, whose limit it shares.
    pub campaign: Option<String>,
    /// "long_code" (default), "us_10dlc", "toll_free" or "short_code".
    pub kind: String,
    /// Words this number adds to the standard opt-out, opt-in and help keywords.
    pub opt_out_keywords: Vec<String>,
    pub opt_in_keywords: Vec<String>,
    pub help_keywords: Vec<String>,
    /// The most segments this number may send in one minute / one day (fixed windows).
    pub segments_per_minute: Option<i64>,
    pub segments_per_day: Option<i64>,
    /// What toll-free verification asks; only for toll-free numbers.
    pub toll_free_verification: Option<TollFreeVerification>,
    /// The language of the number's system messages (a key of `settings.languages`); `None`: the
    /// deployment's language.
    pub language: Option<String>,
    /// System messages of this number only, over its language's.
    pub messages: TextOverrides,
    /// The number's system messages in other languages, by tag.
    pub translations: BTreeMap<String, TextOverrides>,
}

/// What a queue says in another language: its menu name and keywords, and its system messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueTranslation {
    /// The name the menu shows in this language; empty keeps the queue's name.
    pub name: String,
    /// Menu keywords in this language; choosing the queue by one of them sets the chat's language.
    pub keywords: Vec<String>,
    pub messages: TextOverrides,
}

/// A queue as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueDraft {
    pub id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub auto_answer: bool,
    /// How agents see the consumer's number: "full" (also when empty), "last_four" or "hidden".
    pub consumer_number: String,
    /// Timers of this queue's chats over the deployment's (`None` inherits, `Some(0)` is off).
    pub timers: TimerSettings,
    /// Tell the consumer who took over when a chat is transferred into this queue (or within it).
    pub announce_transfers: bool,
    /// The queue whose menu offers this one (a multi-level menu); `None`: a top-level queue.
    pub parent: Option<String>,
    /// Never shown in a menu nor picked by keyword; reachable by transfer or the API.
    pub hidden: bool,
    /// "least_busy" (default) or "longest_idle".
    pub strategy: String,
    /// The language the queue serves in: choosing it sets the chat's language. `None`: any.
    pub language: Option<String>,
    /// The queue's system messages (in its language, or the deployment's), over the number's.
    pub messages: TextOverrides,
    /// The queue in other languages, by tag.
    pub translations: BTreeMap<String, QueueTranslation>,
    /// When agents answer; `None`: always.
    pub hours: Option<BusinessHoursDraft>,
    /// Where a chat goes when it has waited the queue's `queue_wait_minutes` (instead of closing).
    pub overflow: Option<String>,
    /// Whether the queue takes SMS chats; `None`: the deployment's setting.
    pub sms_chat: Option<bool>,
}

/// An agent as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentDraft {
    pub id: String,
    pub name: String,
    pub queues: Vec<String>,
    pub capacity: u32,
    /// Language tags the agent writes; empty: the deployment's language.
    pub languages: Vec<String>,
}

/// A team as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamDraft {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
    /// Queues every member serves, besides their own.
    pub queues: Vec<String>,
}

/// Deployment-wide settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The brand named in the opt-in notice and the HELP answer.
    pub brand: String,
    /// Send the opt-in notice at the start of every chat (as the seed platform does), or only on a
    /// phone's first contact.
    pub opt_in_notice_every_chat: bool,
    /// The system messages, with `{brand}`, `{queue}` and `{menu}` placeholders.
    pub texts: Texts,
    /// The businesses registered with TCR that campaigns name (`[[brands]]` in the document). They
    /// are data as written, checked field by field; they live with the deployment-wide settings
    /// because every campaign of the setup may refer to any of them.
    pub brands: Vec<Brand>,
    /// When proactive messages wait for the consumer's morning; `None`: never (turned off).
    pub quiet_hours: Option<QuietHoursRule>,
    /// The language of `texts` (a BCP 47 tag such as "en").
    pub language: String,
    /// Other languages: their keywords and their texts, by tag.
    pub languages: BTreeMap<String, Language>,
    /// The chat timers (offer, inactivity, session, queue wait); queues may override each.
    pub timers: TimerSettings,
    /// Whether queues take SMS chats (each may say otherwise); a text to a number none of whose menu
    /// queues does gets the `unavailable` message (keywords still work, live chats go on, the business
    /// may still write first).
    pub sms_chat: bool,
    /// The words of the SMS commands.
    pub commands: Commands,
    /// Guessing a new chat's language from its first text.
    pub language_detection: LanguageDetection,
}

/// Guessing a new chat's language from its first text, among the setup's languages. Short texts
/// ("ok", "1") are never guessed; a guess below `min_confidence` keeps the number's language.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LanguageDetection {
    pub enabled: bool,
    /// 0 to 1: how sure the detector must be.
    pub min_confidence: f64,
}

impl Default for LanguageDetection {
    fn default() -> LanguageDetection {
        LanguageDetection { enabled: true, min_confidence: 0.7 }
    }
}

/// What a language adds. Its keywords are honored on every number, whatever the number's language,
/// because a consumer may opt out in their own words anywhere; its texts are sent by the numbers of
/// that language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Language {
    /// The language's name in itself ("español"), for the LANG confirmation; empty: a built-in name
    /// for common languages, else the tag.
    pub name: String,
    pub opt_out_keywords: Vec<String>,
    pub opt_in_keywords: Vec<String>,
    pub help_keywords: Vec<String>,
    pub texts: TextOverrides,
}

impl Settings {
    /// Every language tag of the setup: the deployment's first.
    pub fn language_tags(&self) -> Vec<&str> {
        std::iter::once(self.language.as_str()).chain(self.languages.keys().map(String::as_str)).collect()
    }

    /// The name of a language in itself, for the consumer: the setup's name for it, a built-in one for
    /// common languages, or the tag.
    pub fn language_name(&self, tag: &str) -> String {
        if let Some(name) = self.languages.get(tag).map(|l| l.name.trim()).filter(|n| !n.is_empty()) {
            return name.to_owned();
        }
        let primary = tag.split('-').next().unwrap_or(tag);
        let builtin = [
            ("de", "Deutsch"),
            ("en", "English"),
            ("es", "español"),
            ("fr", "français"),
            ("it", "italiano"),
            ("nl", "Nederlands"),
            ("pt", "português"),
        ];
        builtin.iter().find(|(t, _)| *t == primary).map_or_else(|| tag.to_owned(), |(_, n)| (*n).to_owned())
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            brand: "Parley".to_owned(),
            opt_in_notice_every_chat: true,
            texts: Texts::default(),
            brands: vec![],
            quiet_hours: Some(QuietHoursRule::default()),
            language: "en".to_owned(),
            languages: BTreeMap::new(),
            timers: TimerSettings::deployment_defaults(),
            sms_chat: true,
            commands: Commands::default(),
            language_detection: LanguageDetection::default(),
        }
    }
}

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
    /// How much of the consumer's number agents of this queue see (admins always see all of it).
    pub consumer_number: ConsumerNumber,
    /// Timers of this queue's chats over the deployment's.
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
    /// When agents answer; `None`: always.
    pub hours: Option<BusinessHours>,
    /// Where a chat that waited `queue_wait_minutes` moves; `None`: it closes.
    pub overflow: Option<QueueId>,
    /// Whether the queue takes SMS chats (shown in menus, transfers into it); `None`: the deployment's
    /// `sms_chat`.
    pub sms_chat: Option<bool>,
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

/// One problem in a setup document. Each message names the item at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SetupError {
    #[error("number {index}: {reason}")]
    InvalidNumber { index: usize, reason: String },
    #[error("number {0} is listed twice")]
    DuplicateNumber(String),
    #[error("number {number} names carrier \"{carrier}\", which is not configured (known: {known})")]
    UnknownCarrier { number: String, carrier: String, known: String },
    #[error("number {0} has no queues: list at least one queue for its menu")]
    NumberWithoutQueues(String),
    #[error("number {number} lists queue \"{queue}\" twice")]
    DuplicateMenuQueue { number: String, queue: String },
    #[error("{what}: {reason}")]
    InvalidId { what: String, reason: String },
    #[error("{kind} \"{id}\" is defined twice")]
    DuplicateId { kind: &'static str, id: String },
    #[error("{owner} refers to unknown {kind} \"{id}\"")]
    UnknownReference { owner: String, kind: &'static str, id: String },
    #[error("keyword \"{keyword}\" is used by queues \"{first}\" and \"{second}\" on number {number}")]
    KeywordConflict { number: String, keyword: String, first: String, second: String },
    #[error(
        "{owner} uses the reserved word \"{word}\" (carrier keywords and SMS commands cannot be queue names or keywords)"
    )]
    ReservedWord { owner: String, word: String },
    #[error("queue \"{0}\" has an empty keyword")]
    EmptyKeyword(String),
    #[error("agent \"{id}\" has capacity {capacity}: use 1 to {max}")]
    BadCapacity { id: String, capacity: u32, max: u32 },
    #[error("number {number}: keyword \"{keyword}\" {problem}")]
    BadNumberKeyword { number: String, keyword: String, problem: String },
    #[error("number {number} has kind \"{kind}\": use long_code, us_10dlc, toll_free or short_code")]
    InvalidKind { number: String, kind: String },
    #[error("{owner}: segments_per_second must be above 0 and at most 1000, not {value}")]
    BadRate { owner: String, value: f64 },
    #[error("{what} must not be empty")]
    Empty { what: String },
    #[error("queue \"{queue}\" has consumer_number \"{value}\": use {allowed}", allowed = ConsumerNumber::ALLOWED)]
    InvalidConsumerNumber { queue: String, value: String },
    /// One bad field of a registration or a limit: `owner` is e.g. `brand "acme"`, `field` the field
    /// (with its value or index where that helps).
    #[error("{owner}: {field}: {reason}")]
    InvalidField { owner: String, field: String, reason: String },
}

/// The most segments per minute a number or campaign may be given: a minute at the largest per-second
/// limit (1,000).
pub const MAX_PER_MINUTE: i64 = 60_000;
/// The most segments per day: a day at the largest per-second limit.
pub const MAX_PER_DAY: i64 = 86_400_000;

/// Checks the three limits of a number or campaign: each in range, and a longer window never allows
/// less than a shorter one (a per-day limit below the per-minute one would make the latter a lie).
fn check_limits(
    owner: &str,
    per_second: Option<f64>,
    per_minute: Option<i64>,
    per_day: Option<i64>,
    errors: &mut Vec<SetupError>,
) -> (Option<u32>, Option<u32>) {
    if let Some(rate) = per_second
        && !(rate > 0.0 && rate <= 1000.0)
    {
        errors.push(SetupError::BadRate { owner: owner.to_owned(), value: rate });
    }
    let mut bounded = |field: &str, value: Option<i64>, max: i64| match value {
        Some(v) if v < 1 || v > max => {
            errors.push(SetupError::InvalidField {
                owner: owner.to_owned(),
                field: field.to_owned(),
                reason: format!("must be above 0 and at most {max}, not {v}"),
            });
            None
        }
        v => v.and_then(|v| u32::try_from(v).ok()),
    };
    let minute = bounded("segments_per_minute", per_minute, MAX_PER_MINUTE);
    let day = bounded("segments_per_day", per_day, MAX_PER_DAY);
    let order = [
        ("segments_per_second", per_second.filter(|r| *r > 0.0)),
        ("segments_per_minute", minute.map(f64::from)),
        ("segments_per_day", day.map(f64::from)),
    ];
    for (i, (longer, long)) in order.iter().enumerate() {
        for (shorter, short) in &order[..i] {
            if let (Some(long), Some(short)) = (long, short)
                && long < short
            {
                errors.push(SetupError::InvalidField {
                    owner: owner.to_owned(),
                    field: format!("{longer} {long}"),
                    reason: format!("must be at least {shorter} ({short})"),
                });
            }
        }
    }
    (minute, day)
}

fn field_errors(owner: &str, problems: Vec<registration::FieldProblem>, errors: &mut Vec<SetupError>) {
    errors.extend(problems.into_iter().map(|p| SetupError::InvalidField {
        owner: owner.to_owned(),
        field: p.field,
        reason: p.reason,
    }));
}

/// The most chats one agent may hold at once.
pub const MAX_CAPACITY: u32 = 50;

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
        }
    }

    /// Validates a draft as a whole. `carriers` lists the carrier accounts this deployment has.
    pub fn validate(draft: &SetupDraft, carriers: &[&str]) -> Result<Setup, Vec<SetupError>> {
        let mut errors = Vec::new();

        let language_keywords = validate_languages(&draft.settings, &mut errors);
        for (field, reason) in draft
            .settings
            .commands
            .problems(|w| keyword::classify(w).is_some() || language_keywords.classify(w).is_some())
        {
            errors.push(SetupError::InvalidField { owner: "settings".to_owned(), field, reason });
        }
        let command_words = draft.settings.commands.words();
        let reserved =
            |text: &str| keyword::classify(text).is_some() || command_words.contains(&keyword::normalize(text));
        let languages = draft.settings.language_tags();
        let queues = validate_queues(&draft.queues, &reserved, &languages, &mut errors);
        let mut brand_ids = HashSet::new();
        for b in &draft.settings.brands {
            // Brand ids follow the rule of every other id of the setup.
            let slug = |t: &str| CampaignId::parse(t).map(|id| id.to_string());
            if parse_id(slug, "brand", &b.id, &mut brand_ids, &mut errors).is_some() {
                field_errors(&format!("brand \"{}\"", b.id), registration::check_brand(b), &mut errors);
            }
        }
        let mut campaigns = Vec::new();
        let mut seen_campaigns = HashSet::new();
        for c in &draft.campaigns {
            let Some(id) = parse_id(CampaignId::parse, "campaign", &c.id, &mut seen_campaigns, &mut errors) else {
                continue;
            };
            let owner = format!("campaign \"{id}\"");
            let (segments_per_minute, segments_per_day) =
                check_limits(&owner, c.segments_per_second, c.segments_per_minute, c.segments_per_day, &mut errors);
            match &c.brand {
                Some(brand) if !brand_ids.contains(brand) => {
                    errors.push(SetupError::UnknownReference { owner: owner.clone(), kind: "brand", id: brand.clone() })
                }
                None if !c.registration.is_empty() => errors.push(SetupError::InvalidField {
                    owner: owner.clone(),
                    field: "brand".to_owned(),
                    reason: "is missing: a campaign with registration fields names its brand".to_owned(),
                }),
                _ => {}
            }
            field_errors(&owner, registration::check_campaign(&c.registration), &mut errors);
            let name = if c.name.trim().is_empty() { id.to_string() } else { c.name.clone() };
            campaigns.push(Campaign {
                id,
                name,
                segments_per_second: c.segments_per_second,
                segments_per_minute,
                segments_per_day,
                brand: c.brand.clone(),
                registration: c.registration.clone(),
            });
        }
        let mut registrations = Vec::new();
        let queue_ids: HashSet<&QueueId> = queues.iter().map(|q| &q.id).collect();
        let resolve_queues = |owner: String, names: &[String], errors: &mut Vec<SetupError>| {
            let mut out = Vec::new();
            for name in names {
                match QueueId::parse(name) {
                    Ok(id) if queue_ids.contains(&id) => out.push(id),
                    _ => errors.push(SetupError::UnknownReference {
                        owner: owner.clone(),
                        kind: "queue",
                        id: name.clone(),
                    }),
                }
            }
            out
        };

        let mut numbers = Vec::new();
        let mut seen_numbers = HashSet::new();
        for (index, n) in draft.numbers.iter().enumerate() {
            let number = match BusinessNumber::parse(&n.number) {
                Ok(number) => number,
                Err(e) => {
                    errors.push(SetupError::InvalidNumber { index: index + 1, reason: e.to_string() });
                    continue;
                }
            };
            if !seen_numbers.insert(number.clone()) {
                errors.push(SetupError::DuplicateNumber(number.to_string()));
                continue;
            }
            if !carriers.contains(&n.carrier.as_str()) {
                errors.push(SetupError::UnknownCarrier {
                    number: number.to_string(),
                    carrier: n.carrier.clone(),
                    known: carriers.join(", "),
                });
            }
            if n.queues.is_empty() {
                errors.push(SetupError::NumberWithoutQueues(number.to_string()));
            }
            let number_queues = resolve_queues(format!("number {number}"), &n.queues, &mut errors);
            let mut listed = HashSet::new();
            for q in &number_queues {
                if !listed.insert(q) {
                    errors.push(SetupError::DuplicateMenuQueue { number: number.to_string(), queue: q.to_string() });
                }
            }
            check_keyword_conflicts(&number, &number_queues, &queues, &mut errors);
            let owner = format!("number {number}");
            let (segments_per_minute, segments_per_day) =
                check_limits(&owner, n.segments_per_second, n.segments_per_minute, n.segments_per_day, &mut errors);
            let campaign = match &n.campaign {
                None => None,
                Some(name) => match CampaignId::parse(name) {
                    Ok(id) if campaigns.iter().any(|c| c.id == id) => Some(id),
                    _ => {
                        errors.push(SetupError::UnknownReference {
                            owner: format!("number {number}"),
                            kind: "campaign",
                            id: name.clone(),
                        });
                        None
                    }
                },
            };
            let kind = NumberKind::parse(&n.kind).unwrap_or_else(|| {
                errors.push(SetupError::InvalidKind { number: number.to_string(), kind: n.kind.clone() });
                NumberKind::default()
            });
            // A short code is digits only and an E.164 number never is one: the type must say which.
            if NumberKind::parse(&n.kind).is_some() && number.is_short_code() != (kind == NumberKind::ShortCode) {
                let reason = if number.is_short_code() {
                    "a number written without + and a country code is a short code: say type = \"short_code\""
                } else {
                    "a short code is written as its digits alone (e.g. 24273), not as an E.164 number"
                };
                errors.push(SetupError::InvalidField {
                    owner: format!("number {number}"),
                    field: format!("type \"{}\"", kind.as_str()),
                    reason: reason.to_owned(),
                });
            }
            if let Some(verification) = &n.toll_free_verification {
                if kind != NumberKind::TollFree {
                    errors.push(SetupError::InvalidField {
                        owner: owner.clone(),
                        field: "toll_free_verification".to_owned(),
                        reason: format!("is for toll_free numbers, and this one is {}", kind.as_str()),
                    });
                }
                let owner = format!("{owner}: toll_free_verification");
                field_errors(&owner, registration::check_toll_free(verification), &mut errors);
            }
            if segments_per_minute.is_some() || segments_per_day.is_some() || n.toll_free_verification.is_some() {
                registrations.push(NumberRegistration {
                    number: number.clone(),
                    segments_per_minute,
                    segments_per_day,
                    toll_free_verification: n.toll_free_verification.clone(),
                });
            }
            let keywords =
                number_keywords(&number, n, &number_queues, &queues, &language_keywords, &reserved, &mut errors);
            let owner = format!("number {number}");
            if let Some(language) = &n.language {
                check_language(&owner, format!("language \"{language}\""), language, &languages, &mut errors);
            }
            check_placeholders(&owner, &n.messages, &mut errors);
            for (tag, messages) in &n.translations {
                check_language(&owner, format!("languages.{tag}"), tag, &languages, &mut errors);
                check_placeholders(&format!("{owner} (languages.{tag})"), messages, &mut errors);
            }
            numbers.push(Number {
                keywords,
                language: n.language.clone().filter(|l| l != &draft.settings.language),
                messages: n.messages.clone(),
                translations: n.translations.clone(),
                kind,
                number,
                label: n.label.clone(),
                carrier: n.carrier.clone(),
                queues: number_queues,
                segments_per_second: n.segments_per_second,
                campaign,
            });
        }

        let mut agents = Vec::new();
        let mut seen_agents = HashSet::new();
        for a in &draft.agents {
            let Some(id) = parse_id(AgentId::parse, "agent", &a.id, &mut seen_agents, &mut errors) else {
                continue;
            };
            if a.capacity == 0 || a.capacity > MAX_CAPACITY {
                errors.push(SetupError::BadCapacity { id: a.id.clone(), capacity: a.capacity, max: MAX_CAPACITY });
            }
            let agent_queues = resolve_queues(format!("agent \"{id}\""), &a.queues, &mut errors);
            let name = if a.name.trim().is_empty() { id.to_string() } else { a.name.clone() };
            let owner = format!("agent \"{id}\"");
            for tag in &a.languages {
                check_language(&owner, format!("languages \"{tag}\""), tag, &languages, &mut errors);
            }
            agents.push(Agent { id, name, queues: agent_queues, capacity: a.capacity, languages: a.languages.clone() });
        }

        let agent_ids: HashSet<&AgentId> = agents.iter().map(|a| &a.id).collect();
        let mut teams = Vec::new();
        let mut seen_teams = HashSet::new();
        for t in &draft.teams {
            let Some(id) = parse_id(TeamId::parse, "team", &t.id, &mut seen_teams, &mut errors) else {
                continue;
            };
            let mut members = Vec::new();
            for m in &t.members {
                match AgentId::parse(m) {
                    Ok(agent) if agent_ids.contains(&agent) => members.push(agent),
                    _ => errors.push(SetupError::UnknownReference {
                        owner: format!("team \"{id}\""),
                        kind: "agent",
                        id: m.clone(),
                    }),
                }
            }
            let team_queues = resolve_queues(format!("team \"{id}\""), &t.queues, &mut errors);
            teams.push(Team { id, name: t.name.clone(), members, queues: team_queues });
        }

        let replies = validate_replies(&draft.replies, &queues, &teams, &mut errors);

        if draft.settings.brand.trim().is_empty() {
            errors.push(SetupError::Empty { what: "settings.brand".to_owned() });
        }
        let quiet_hours = draft.quiet_hours.validate(&mut errors);

        if errors.is_empty() {
            let settings = Settings { quiet_hours, ..draft.settings.clone() };
            Ok(Setup { numbers, queues, agents, teams, campaigns, settings, registrations, language_keywords, replies })
        } else {
            Err(errors)
        }
    }

    /// Turns the setup back into a draft (for export).
    pub fn to_draft(&self) -> SetupDraft {
        SetupDraft {
            numbers: self
                .numbers
                .iter()
                .map(|n| {
                    let extra = self.registration(&n.number);
                    NumberDraft {
                        number: n.number.to_string(),
                        label: n.label.clone(),
                        carrier: n.carrier.clone(),
                        queues: n.queues.iter().map(ToString::to_string).collect(),
                        segments_per_second: n.segments_per_second,
                        campaign: n.campaign.as_ref().map(ToString::to_string),
                        kind: n.kind.as_str().to_owned(),
                        opt_out_keywords: n.keywords.opt_out.clone(),
                        opt_in_keywords: n.keywords.opt_in.clone(),
                        help_keywords: n.keywords.help.clone(),
                        segments_per_minute: extra.and_then(|r| r.segments_per_minute).map(i64::from),
                        segments_per_day: extra.and_then(|r| r.segments_per_day).map(i64::from),
                        toll_free_verification: extra.and_then(|r| r.toll_free_verification.clone()),
                        language: n.language.clone(),
                        messages: n.messages.clone(),
                        translations: n.translations.clone(),
                    }
                })
                .collect(),
            queues: self
                .queues
                .iter()
                .map(|q| QueueDraft {
                    id: q.id.to_string(),
                    name: q.name.clone(),
                    keywords: q.keywords.clone(),
                    auto_answer: q.auto_answer,
                    consumer_number: q.consumer_number.as_str().to_owned(),
                    timers: q.timers,
                    announce_transfers: q.announce_transfers,
                    parent: q.parent.as_ref().map(ToString::to_string),
                    hidden: q.hidden,
                    // The default is written as nothing, like every other optional queue setting.
                    strategy: if q.strategy == Strategy::default() {
                        String::new()
                    } else {
                        q.strategy.as_str().to_owned()
                    },
                    language: q.language.clone(),
                    messages: q.messages.clone(),
                    translations: q.translations.clone(),
                    hours: q.hours.as_ref().map(BusinessHours::to_draft),
                    overflow: q.overflow.as_ref().map(ToString::to_string),
                    sms_chat: q.sms_chat,
                })
                .collect(),
            agents: self
                .agents
                .iter()
                .map(|a| AgentDraft {
                    id: a.id.to_string(),
                    name: a.name.clone(),
                    queues: a.queues.iter().map(ToString::to_string).collect(),
                    capacity: a.capacity,
                    languages: a.languages.clone(),
                })
                .collect(),
            teams: self
                .teams
                .iter()
                .map(|t| TeamDraft {
                    id: t.id.to_string(),
                    name: t.name.clone(),
                    members: t.members.iter().map(ToString::to_string).collect(),
                    queues: t.queues.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            campaigns: self
                .campaigns
                .iter()
                .map(|c| CampaignDraft {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                    segments_per_second: c.segments_per_second,
                    segments_per_minute: c.segments_per_minute.map(i64::from),
                    segments_per_day: c.segments_per_day.map(i64::from),
                    brand: c.brand.clone(),
                    registration: c.registration.clone(),
                })
                .collect(),
            settings: self.settings.clone(),
            quiet_hours: QuietHoursDraft::from_rule(self.settings.quiet_hours.as_ref()),
            replies: self.replies.iter().map(Reply::to_draft).collect(),
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

    /// The timers of a chat in `queue` (or in none yet): the queue's over the deployment's.
    pub fn timers_for(&self, queue: Option<&QueueId>) -> TimerSettings {
        match queue.and_then(|q| self.queue(q)) {
            Some(q) => self.settings.timers.with(&q.timers),
            None => self.settings.timers,
        }
    }

    /// The language of `number`'s chats until something else decides: its own, or the deployment's.
    pub fn language_of<'a>(&'a self, number: &'a Number) -> &'a str {
        number.language.as_deref().unwrap_or(&self.settings.language)
    }

    /// The system messages of a chat in `language` on `number`, in `queue` if it has one. From the
    /// bottom: the deployment's texts, the language's, the number's (its own language's, then its
    /// translation), the queue's (likewise). A text no layer gives in `language` falls back to the
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
        if let Some(q) = queue.and_then(|q| self.queue(q)) {
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

    /// The business number, if it is set up.
    pub fn number(&self, number: &BusinessNumber) -> Option<&Number> {
        self.numbers.iter().find(|n| &n.number == number)
    }

    /// The queue with this id.
    pub fn queue(&self, id: &QueueId) -> Option<&Queue> {
        self.queues.iter().find(|q| &q.id == id)
    }

    /// The agent with this id.
    pub fn agent(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.iter().find(|a| &a.id == id)
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

    /// Whether `queue` takes SMS chats: its own setting, else the deployment's.
    pub fn sms_chat(&self, queue: &Queue) -> bool {
        queue.sms_chat.unwrap_or(self.settings.sms_chat)
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

fn parse_id<T: Clone + Eq + std::hash::Hash>(
    parse: impl Fn(&str) -> Result<T, crate::ids::IdError>,
    kind: &'static str,
    text: &str,
    seen: &mut HashSet<T>,
    errors: &mut Vec<SetupError>,
) -> Option<T> {
    match parse(text) {
        Ok(id) if seen.insert(id.clone()) => Some(id),
        Ok(_) => {
            errors.push(SetupError::DuplicateId { kind, id: text.to_owned() });
            None
        }
        Err(e) => {
            errors.push(SetupError::InvalidId { what: kind.to_owned(), reason: e.to_string() });
            None
        }
    }
}

fn validate_queues(
    drafts: &[QueueDraft],
    reserved: &dyn Fn(&str) -> bool,
    languages: &[&str],
    errors: &mut Vec<SetupError>,
) -> Vec<Queue> {
    let mut queues = Vec::new();
    let mut seen = HashSet::new();
    for q in drafts {
        let Some(id) = parse_id(QueueId::parse, "queue", &q.id, &mut seen, errors) else {
            continue;
        };
        let owner = format!("queue \"{id}\"");
        let name = if q.name.trim().is_empty() { id.to_string() } else { q.name.clone() };
        if reserved(&name) {
            errors.push(SetupError::ReservedWord { owner: owner.clone(), word: name.clone() });
        }
        let translated = q.translations.values().flat_map(|t| t.keywords.iter().chain(std::iter::once(&t.name)));
        for k in q.keywords.iter().chain(translated) {
            if keyword::normalize(k).is_empty() {
                // An empty translated name keeps the queue's name.
                if !k.is_empty() || q.keywords.contains(k) {
                    errors.push(SetupError::EmptyKeyword(id.to_string()));
                }
            } else if reserved(k) {
                errors.push(SetupError::ReservedWord { owner: owner.clone(), word: k.clone() });
            }
        }
        if let Some(language) = &q.language {
            check_language(&owner, format!("language \"{language}\""), language, languages, errors);
        }
        check_placeholders(&owner, &q.messages, errors);
        for (tag, t) in &q.translations {
            check_language(&owner, format!("languages.{tag}"), tag, languages, errors);
            check_placeholders(&format!("{owner} (languages.{tag})"), &t.messages, errors);
        }
        let overflow = match q.overflow.as_deref().map(QueueId::parse) {
            None => None,
            Some(Ok(overflow)) => Some(overflow),
            Some(Err(_)) => {
                errors.push(overflow_error(&id, q.overflow.as_deref().unwrap_or_default()));
                None
            }
        };
        let hours = q.hours.as_ref().and_then(|h| match BusinessHours::parse(h) {
            Ok(hours) => Some(hours),
            Err(problems) => {
                field_errors(&format!("{owner}: hours"), problems, errors);
                None
            }
        });
        let consumer_number = ConsumerNumber::parse(&q.consumer_number).unwrap_or_else(|| {
            errors.push(SetupError::InvalidConsumerNumber { queue: id.to_string(), value: q.consumer_number.clone() });
            ConsumerNumber::default()
        });
        check_timers(&format!("queue \"{id}\""), &q.timers, errors);
        let strategy = Strategy::parse(&q.strategy).unwrap_or_else(|| {
            errors.push(SetupError::InvalidField {
                owner: owner.clone(),
                field: format!("strategy \"{}\"", q.strategy),
                reason: format!("use {}", Strategy::ALLOWED),
            });
            Strategy::default()
        });
        let parent = match q.parent.as_deref().map(QueueId::parse) {
            None => None,
            Some(Ok(parent)) => Some(parent),
            Some(Err(_)) => {
                let parent = q.parent.clone().unwrap_or_default();
                errors.push(SetupError::UnknownReference {
                    owner: format!("{owner} (parent)"),
                    kind: "queue",
                    id: parent,
                });
                None
            }
        };
        queues.push(Queue {
            id,
            name,
            keywords: q.keywords.clone(),
            auto_answer: q.auto_answer,
            consumer_number,
            timers: q.timers,
            announce_transfers: q.announce_transfers,
            parent,
            hidden: q.hidden,
            strategy,
            language: q.language.clone(),
            messages: q.messages.clone(),
            translations: q.translations.clone(),
            hours,
            overflow,
            sms_chat: q.sms_chat,
        });
    }
    // Choices of one submenu must be told apart, like those of a number's menu.
    for parent in &queues {
        let mut owner_of: HashMap<String, &QueueId> = HashMap::new();
        for child in queues.iter().filter(|q| q.parent.as_ref() == Some(&parent.id)) {
            for word in child.menu_words() {
                if let Some(first) = owner_of.insert(word.clone(), &child.id) {
                    errors.push(SetupError::InvalidField {
                        owner: format!("queue \"{}\" (its menu)", parent.id),
                        field: format!("keyword \"{word}\""),
                        reason: format!("used by both \"{first}\" and \"{}\"", child.id),
                    });
                }
            }
        }
    }
    // Parents are checked once every queue is known, so a child may come before its parent.
    let ids: HashSet<QueueId> = queues.iter().map(|q| q.id.clone()).collect();
    for q in &queues {
        if let Some(overflow) = q.overflow.as_ref().filter(|o| !ids.contains(*o) || *o == &q.id) {
            errors.push(overflow_error(&q.id, overflow.as_str()));
        }
    }
    for q in &queues {
        let Some(parent) = &q.parent else { continue };
        if !ids.contains(parent) || parent == &q.id {
            errors.push(SetupError::UnknownReference {
                owner: format!("queue \"{}\" (parent)", q.id),
                kind: "queue",
                id: parent.to_string(),
            });
            continue;
        }
        // Walking up from a queue must end at the top within as many steps as there are queues.
        let mut at = Some(parent.clone());
        let mut steps = 0;
        while let Some(p) = at {
            steps += 1;
            if steps > queues.len() || p == q.id {
                errors.push(SetupError::InvalidField {
                    owner: format!("queue \"{}\"", q.id),
                    field: "parent".to_owned(),
                    reason: "the menu would loop: a queue cannot be below itself".to_owned(),
                });
                break;
            }
            at = queues.iter().find(|x| x.id == p).and_then(|x| x.parent.clone());
        }
    }
    queues
}

fn overflow_error(queue: &QueueId, overflow: &str) -> SetupError {
    SetupError::UnknownReference {
        owner: format!("queue \"{queue}\" (overflow: another queue)"),
        kind: "queue",
        id: overflow.to_owned(),
    }
}

/// The extra keywords of a number, normalized: each must be a word, used once, not a standard keyword
/// of another kind, BACK or EXIT, and not a menu choice of the number.
fn number_keywords(
    number: &BusinessNumber,
    draft: &NumberDraft,
    menu: &[QueueId],
    queues: &[Queue],
    language_words: &ExtraKeywords,
    reserved: &dyn Fn(&str) -> bool,
    errors: &mut Vec<SetupError>,
) -> ExtraKeywords {
    let mut seen: HashSet<String> = HashSet::new();
    let menu_words: BTreeSet<String> =
        queues.iter().filter(|q| menu.contains(&q.id)).flat_map(Queue::menu_words).collect();
    let mut bad = |word: &str, problem: &str| {
        errors.push(SetupError::BadNumberKeyword {
            number: number.to_string(),
            keyword: word.to_owned(),
            problem: problem.to_owned(),
        });
    };
    let mut take = |words: &[String], bad: &mut dyn FnMut(&str, &str)| -> Vec<String> {
        let mut out = Vec::new();
        for w in words {
            let word = keyword::normalize(w);
            if word.is_empty() {
                bad(w, "has no letters or digits");
            } else if reserved(w) {
                bad(w, "is already a standard keyword or an SMS command");
            } else if menu_words.contains(&word) {
                bad(w, "is also a menu choice of this number");
            } else if !seen.insert(word.clone()) {
                bad(w, "is listed twice");
            } else {
                out.push(word);
            }
        }
        out
    };
    let own = ExtraKeywords {
        opt_out: take(&draft.opt_out_keywords, &mut bad),
        opt_in: take(&draft.opt_in_keywords, &mut bad),
        help: take(&draft.help_keywords, &mut bad),
    };
    // The languages' words count on this number too, so they may not be menu choices here either.
    for word in language_words.opt_out.iter().chain(&language_words.opt_in).chain(&language_words.help) {
        if menu_words.contains(word) {
            bad(word, "is a keyword of one of the setup's languages and also a menu choice of this number");
        }
    }
    own
}

/// The settings' languages: tags, keywords (each a word, not a standard keyword, one kind only) and
/// texts (known placeholders only). Returns every language's keywords, normalized.
fn validate_languages(settings: &Settings, errors: &mut Vec<SetupError>) -> ExtraKeywords {
    if !is_language_tag(&settings.language) {
        errors.push(SetupError::InvalidField {
            owner: "settings".to_owned(),
            field: format!("language \"{}\"", settings.language),
            reason: "not a language tag: use e.g. en, es, pt-BR".to_owned(),
        });
    }
    check_placeholders("settings.messages", &settings.texts.as_overrides(), errors);
    let confidence = settings.language_detection.min_confidence;
    if !(0.0..=1.0).contains(&confidence) {
        errors.push(SetupError::InvalidField {
            owner: "settings".to_owned(),
            field: format!("language_detection.min_confidence {confidence}"),
            reason: "must be between 0 and 1 (0.7 is a good start)".to_owned(),
        });
    }
    check_timers("settings", &settings.timers, errors);
    let mut all = ExtraKeywords::default();
    let mut kind_of: HashMap<String, &'static str> = HashMap::new();
    for (tag, language) in &settings.languages {
        let owner = format!("language \"{tag}\"");
        if !is_language_tag(tag) || tag == &settings.language {
            errors.push(SetupError::InvalidField {
                owner: owner.clone(),
                field: "tag".to_owned(),
                reason: format!(
                    "use a language tag (e.g. es, pt-BR) other than the deployment's own ({}), whose texts are settings.messages",
                    settings.language
                ),
            });
        }
        check_placeholders(&owner, &language.texts, errors);
        for (kind, words, into) in [
            ("opt_out", &language.opt_out_keywords, &mut all.opt_out),
            ("opt_in", &language.opt_in_keywords, &mut all.opt_in),
            ("help", &language.help_keywords, &mut all.help),
        ] {
            for w in words {
                let word = keyword::normalize(w);
                let problem = if word.is_empty() {
                    Some("has no letters or digits".to_owned())
                } else if keyword::classify(w).is_some() {
                    Some("is already a standard keyword".to_owned())
                } else {
                    match kind_of.insert(word.clone(), kind) {
                        Some(other) if other != kind => Some(format!("is both an {other} and an {kind} keyword")),
                        _ => None,
                    }
                };
                match problem {
                    Some(reason) => errors.push(SetupError::InvalidField {
                        owner: owner.clone(),
                        field: format!("{kind}_keywords \"{w}\""),
                        reason,
                    }),
                    // The same word in two languages is one keyword.
                    None if !into.contains(&word) => into.push(word),
                    None => {}
                }
            }
        }
    }
    all
}

/// Whether `tag` looks like a BCP 47 language tag: a 2 or 3 letter language, then subtags.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language_ok =
        parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    language_ok && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Refuses timer values beyond a week.
fn check_timers(owner: &str, timers: &TimerSettings, errors: &mut Vec<SetupError>) {
    for (name, value) in timers.named() {
        if let Some(value) = value
            && value > TimerSettings::max(name)
        {
            errors.push(SetupError::InvalidField {
                owner: owner.to_owned(),
                field: format!("timers.{name}"),
                reason: format!(
                    "{value} is more than a week ({}); use 0 to turn the timer off",
                    TimerSettings::max(name)
                ),
            });
        }
    }
}

/// Refuses texts that are no system message, and placeholders a text does not have.
fn check_placeholders(owner: &str, texts: &TextOverrides, errors: &mut Vec<SetupError>) {
    for (field, reason) in texts.problems() {
        errors.push(SetupError::InvalidField { owner: owner.to_owned(), field, reason });
    }
}

/// Refuses a language the setup does not have.
fn check_language(owner: &str, field: String, tag: &str, languages: &[&str], errors: &mut Vec<SetupError>) {
    if !languages.contains(&tag) {
        errors.push(SetupError::InvalidField {
            owner: owner.to_owned(),
            field,
            reason: format!(
                "not a language of the setup (known: {}); add it under settings.languages",
                languages.join(", ")
            ),
        });
    }
}

fn check_keyword_conflicts(number: &BusinessNumber, ids: &[QueueId], queues: &[Queue], errors: &mut Vec<SetupError>) {
    let mut owner_of: HashMap<String, &QueueId> = HashMap::new();
    for q in queues.iter().filter(|q| ids.contains(&q.id)) {
        for word in q.menu_words() {
            if let Some(first) = owner_of.get(&word) {
                errors.push(SetupError::KeywordConflict {
                    number: number.to_string(),
                    keyword: word.clone(),
                    first: first.to_string(),
                    second: q.id.to_string(),
                });
            } else {
                owner_of.insert(word, &q.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texts::TextKey;

    fn draft() -> SetupDraft {
        SetupDraft {
            numbers: vec![NumberDraft {
                number: "+15550001000".into(),
                label: "Support".into(),
                carrier: "sim".into(),
                queues: vec!["billing".into(), "tech".into()],
                segments_per_second: Some(10.0),
                campaign: Some("care".into()),
                kind: "us_10dlc".into(),
                opt_out_keywords: vec!["ALTO".into()],
                opt_in_keywords: vec![],
                help_keywords: vec!["AYUDA".into()],
                ..Default::default()
            }],
            queues: vec![
                QueueDraft {
                    id: "billing".into(),
                    name: "Billing".into(),
                    keywords: vec!["1".into(), "BILLING".into()],
                    auto_answer: false,
                    consumer_number: "last_four".into(),
                    timers: TimerSettings::default(),
                    announce_transfers: false,
                    parent: None,
                    hidden: false,
                    strategy: String::new(),
                    ..QueueDraft::default()
                },
                QueueDraft {
                    id: "tech".into(),
                    name: "Tech".into(),
                    keywords: vec!["2".into()],
                    auto_answer: false,
                    consumer_number: "full".into(),
                    timers: TimerSettings { offer_timeout_seconds: Some(30), ..TimerSettings::default() },
                    announce_transfers: true,
                    parent: None,
                    hidden: false,
                    strategy: String::new(),
                    ..QueueDraft::default()
                },
            ],
            agents: vec![AgentDraft {
                id: "alice".into(),
                name: "Alice".into(),
                queues: vec!["billing".into()],
                capacity: 3,
                languages: vec![],
            }],
            teams: vec![TeamDraft {
                id: "blue".into(),
                name: "Blue".into(),
                members: vec!["alice".into()],
                queues: vec![],
            }],
            campaigns: vec![CampaignDraft {
                id: "care".into(),
                name: "Customer care".into(),
                segments_per_second: Some(4.0),
                ..Default::default()
            }],
            settings: Settings::default(),
            quiet_hours: QuietHoursDraft::default(),
            replies: vec![],
        }
    }

    #[test]
    fn a_short_code_is_a_number_of_type_short_code_and_only_that() {
        let mut d = draft();
        d.numbers[0].number = "24273".into();
        d.numbers[0].kind = "short_code".into();
        let setup = Setup::validate(&d, &["sim"]).unwrap();
        assert!(setup.numbers[0].number.is_short_code());
        assert_eq!(setup.to_draft().numbers[0].number, "24273");

        d.numbers[0].kind = "long_code".into();
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            vec![
                "number 24273: type \"long_code\": a number written without + and a country code is a short code: say type = \"short_code\""
            ]
        );
        d.numbers[0].number = "+15550001000".into();
        d.numbers[0].kind = "short_code".into();
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        assert!(errors[0].contains("a short code is written as its digits alone"), "{errors:?}");
        d.numbers[0].number = "12".into();
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        assert!(errors[0].contains("nor a short code (3 to 8 digits"), "{errors:?}");
    }

    #[test]
    fn commands_translations_hours_and_overflow_are_checked_field_by_field() {
        let mut d = draft();
        d.settings.commands.end = vec!["STOP".into(), "BYE".into()];
        d.settings.commands.agent = vec!["bye".into()];
        d.settings.language_detection.min_confidence = 1.5;
        d.queues[0].keywords.push("Menu".into());
        d.queues[0].translations.insert(
            "fr".into(),
            QueueTranslation { name: "Factures".into(), keywords: vec![], messages: TextOverrides::default() },
        );
        d.queues[1].messages.set(TextKey::Waiting, "Number {position}, {wait_minute} min");
        d.queues[1].overflow = Some("tech".into());
        d.queues[0].overflow = Some("No such!".into());
        d.queues[1].hours = Some(BusinessHoursDraft {
            time_zone: "Mars/Olympus".into(),
            after_hours: "later".into(),
            ..BusinessHoursDraft::default()
        });
        d.agents[0].languages = vec!["de".into()];
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        let expected = [
            "settings: commands.end \"STOP\": is a carrier keyword (opt-out, opt-in or help): it keeps that meaning",
            "settings: commands.agent \"bye\": is also a word of the end command",
            "settings: language_detection.min_confidence 1.5: must be between 0 and 1 (0.7 is a good start)",
            "queue \"billing\" uses the reserved word \"Menu\" (carrier keywords and SMS commands cannot be queue names or keywords)",
            "queue \"billing\": languages.fr: not a language of the setup (known: en); add it under settings.languages",
            "queue \"tech\": messages.waiting: unknown placeholder {wait_minute}: this text may use {brand}, {business}, {end_command}, {queue}, {position}, {wait_minutes}",
            "queue \"tech\": hours: time_zone \"Mars/Olympus\": ",
            "queue \"tech\": hours: after_hours \"later\": ",
            "queue \"tech\" (overflow: another queue) refers to unknown queue \"tech\"",
            "queue \"billing\" (overflow: another queue) refers to unknown queue \"No such!\"",
            "agent \"alice\": languages \"de\": not a language of the setup (known: en); add it under settings.languages",
        ];
        for e in expected {
            assert!(errors.iter().any(|x| x.starts_with(e)), "missing {e:?} in {errors:#?}");
        }
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    }

    #[test]
    fn languages_numbers_and_texts_are_checked_field_by_field() {
        let mut d = draft();
        d.settings.texts.set(TextKey::Queued, "You are in {qeue}");
        let mut spanish = Language {
            opt_out_keywords: vec!["ALTO".into(), "stop".into(), "".into()],
            opt_in_keywords: vec!["alto".into()],
            texts: TextOverrides::of(&[(TextKey::Connected, "Le atiende {agente}")]),
            ..Language::default()
        };
        spanish.help_keywords = vec!["Billing".into()];
        d.settings.languages.insert("es".into(), spanish);
        d.settings.languages.insert("EN_us".into(), Language::default());
        d.numbers[0].language = Some("fr".into());
        d.numbers[0].messages.set(TextKey::Help, "{menu}");
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        let expected = [
            "settings.messages: messages.queued: unknown placeholder {qeue}: this text may use {brand}, {business}, {end_command}, {queue}",
            "language \"EN_us\": tag: use a language tag (e.g. es, pt-BR) other than the deployment's own (en), whose texts are settings.messages",
            "language \"es\": messages.connected: unknown placeholder {agente}: this text may use {brand}, {business}, {end_command}, {queue}, {agent}, {agent_first_name}",
            "language \"es\": opt_out_keywords \"stop\": is already a standard keyword",
            "language \"es\": opt_out_keywords \"\": has no letters or digits",
            "language \"es\": opt_in_keywords \"alto\": is both an opt_out and an opt_in keyword",
            "number +15550001000: keyword \"BILLING\" is a keyword of one of the setup's languages and also a menu choice of this number",
            "number +15550001000: language \"fr\": not a language of the setup (known: en, EN_us, es); add it under settings.languages",
            "number +15550001000: messages.help: unknown placeholder {menu}: this text may use {brand}, {business}, {end_command}",
        ];
        for e in expected {
            assert!(errors.iter().any(|x| x == e), "missing {e:?} in {errors:#?}");
        }
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    }

    #[test]
    fn a_numbers_texts_are_its_own_over_its_languages_over_the_deployments() {
        let mut d = draft();
        let spanish = Language {
            texts: TextOverrides::of(&[(TextKey::Help, "Ayuda"), (TextKey::Menu, "Menú: {menu}")]),
            opt_out_keywords: vec!["ALTO".into()],
            ..Language::default()
        };
        d.settings.languages.insert("es".into(), spanish);
        d.numbers[0].language = Some("es".into());
        d.numbers[0].messages.set(TextKey::Help, "Ayuda del número");
        let setup = Setup::validate(&d, &["sim"]).unwrap();
        let texts = setup.texts_for(&setup.numbers[0], None, "es");
        assert_eq!((texts.get(TextKey::Help), texts.get(TextKey::Menu)), ("Ayuda del número", "Menú: {menu}"));
        assert_eq!(texts.get(TextKey::Queued), Texts::default().get(TextKey::Queued));
        assert_eq!(setup.carrier_keyword(&setup.numbers[0], "alto!"), Some(keyword::CarrierKeyword::OptOut));
        assert_eq!(setup.to_draft().settings.languages, d.settings.languages);
        assert_eq!(setup.to_draft().numbers[0].messages, d.numbers[0].messages);
        // The deployment's own language named on a number is the same as naming none.
        d.numbers[0].language = Some("en".into());
        let setup = Setup::validate(&d, &["sim"]).unwrap();
        let english = setup.texts_for(&setup.numbers[0], None, "en");
        assert_eq!(english.get(TextKey::Help), "Ayuda del número", "the number's own texts are in its language");
        assert_eq!(english.get(TextKey::Menu), Texts::default().get(TextKey::Menu));
    }

    #[test]
    fn quiet_hours_are_checked_and_round_trip() {
        let mut d = draft();
        d.quiet_hours = QuietHoursDraft {
            enabled: true,
            start: "20:30".into(),
            end: "09:00".into(),
            time_zone: "Europe/Berlin".into(),
        };
        let setup = Setup::validate(&d, &["sim"]).unwrap();
        let rule = setup.settings.quiet_hours.unwrap();
        assert_eq!(
            (rule.window.as_strings(), rule.time_zone.name()),
            (("20:30".into(), "09:00".into()), "Europe/Berlin")
        );
        assert_eq!(setup.to_draft().quiet_hours, d.quiet_hours);

        d.quiet_hours.enabled = false;
        let off = Setup::validate(&d, &["sim"]).unwrap();
        assert_eq!(off.settings.quiet_hours, None);
        assert_eq!(off.to_draft().quiet_hours, QuietHoursDraft { enabled: false, ..QuietHoursDraft::default() });

        d.quiet_hours = QuietHoursDraft {
            enabled: false,
            start: "9pm".into(),
            end: "08:00".into(),
            time_zone: "Mars/Olympus".into(),
        };
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("settings.quiet_hours: start/end: quiet hours start \"9pm\""), "{errors:?}");
        assert!(errors[1].contains("\"Mars/Olympus\" is not an IANA time zone"), "{errors:?}");
    }

    #[test]
    fn a_good_draft_validates_and_round_trips() {
        let setup = Setup::validate(&draft(), &["sim"]).unwrap();
        assert_eq!(setup.to_draft(), draft());
        let number = &setup.numbers[0];
        assert_eq!(setup.menu_choice(number, None, " billing! ").unwrap().0.as_str(), "billing");
        assert_eq!(setup.menu_choice(number, None, "2").unwrap().0.as_str(), "tech");
        assert_eq!(setup.menu_choice(number, None, "tech.").unwrap().0.as_str(), "tech");
        assert_eq!(setup.menu_choice(number, None, "3"), None);
    }

    #[test]
    fn every_problem_is_reported_by_name() {
        let mut d = draft();
        d.numbers[0].queues.push("nope".into());
        d.numbers.push(d.numbers[0].clone());
        d.numbers.push(NumberDraft {
            number: "+15550003000".into(),
            carrier: "sim".into(),
            queues: vec!["tech".into(), "tech".into()],
            ..Default::default()
        });
        d.numbers.push(NumberDraft { number: "555-0001".into(), carrier: "sim".into(), ..Default::default() });
        d.queues[1].keywords.push("Billing".into());
        d.queues[0].keywords.push("stop".into());
        d.agents[0].capacity = 0;
        d.numbers[0].segments_per_second = Some(0.0);
        d.numbers[2].campaign = Some("marketing".into());
        d.numbers[2].kind = "landline".into();
        d.numbers[2].opt_out_keywords = vec!["stop".into(), "ALTO".into(), "alto!".into(), "2".into()];
        d.campaigns[0].segments_per_second = Some(5000.0);
        d.teams[0].members.push("bob".into());
        d.queues[1].consumer_number = "partial".into();
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        let all = errors.join("\n");
        assert!(all.contains("unknown queue \"nope\""), "{all}");
        assert!(all.contains("number +15550001000 is listed twice"), "{all}");
        assert!(all.contains("number +15550003000 lists queue \"tech\" twice"), "{all}");
        assert!(all.contains("number 4: \"555-0001\" is neither an E.164 number"), "{all}");
        assert!(all.contains("keyword \"BILLING\" is used by queues \"billing\" and \"tech\""), "{all}");
        assert!(all.contains("reserved word \"stop\""), "{all}");
        assert!(all.contains("agent \"alice\" has capacity 0"), "{all}");
        assert!(all.contains("number +15550001000: segments_per_second must be above 0"), "{all}");
        assert!(all.contains("number +15550003000 refers to unknown campaign \"marketing\""), "{all}");
        assert!(all.contains("number +15550003000 has kind \"landline\": use long_code"), "{all}");
        assert!(all.contains("number +15550003000: keyword \"stop\" is already a standard keyword"), "{all}");
        assert!(all.contains("number +15550003000: keyword \"alto!\" is listed twice"), "{all}");
        assert!(all.contains("number +15550003000: keyword \"2\" is also a menu choice of this number"), "{all}");
        assert!(
            all.contains("campaign \"care\": segments_per_second must be above 0 and at most 1000, not 5000"),
            "{all}"
        );
        assert!(all.contains("team \"blue\" refers to unknown agent \"bob\""), "{all}");
        assert!(all.contains("queue \"tech\" has consumer_number \"partial\": use full, last_four or hidden"), "{all}");
    }

    #[test]
    fn consumer_number_defaults_to_full_and_parses_every_value() {
        let mut d = draft();
        d.queues[1].consumer_number = String::new();
        d.queues[0].consumer_number = "hidden".into();
        let setup = Setup::validate(&d, &["sim"]).unwrap();
        assert_eq!(setup.queues[0].consumer_number, ConsumerNumber::Hidden);
        assert_eq!(setup.queues[1].consumer_number, ConsumerNumber::Full);
        // Exported, the default is spelled out.
        assert_eq!(setup.to_draft().queues[1].consumer_number, "full");
        for value in ["full", "last_four", "hidden"] {
            assert_eq!(ConsumerNumber::parse(value).map(ConsumerNumber::as_str), Some(value));
        }
        assert_eq!(ConsumerNumber::parse("Last_Four"), None);
    }

    #[test]
    fn masking_shows_all_the_last_four_or_nothing() {
        let number = E164::parse("+15550000100").unwrap();
        assert_eq!(mask(&number, ConsumerNumber::Full), "+15550000100");
        assert_eq!(mask(&number, ConsumerNumber::LastFour), "+*******0100");
        assert_eq!(mask(&number, ConsumerNumber::Hidden), "hidden");
        // The shortest E.164 number still hides half its digits; the output is ASCII.
        let short = E164::parse("+15550100").unwrap();
        assert_eq!(mask(&short, ConsumerNumber::LastFour), "+****0100");
        let longest = E164::parse("+123456789012345").unwrap();
        let masked = mask(&longest, ConsumerNumber::LastFour);
        assert_eq!(masked, "+***********2345");
        assert!(masked.is_ascii());
        assert!(!masked.contains("1234567"));
    }

    fn registered_draft() -> SetupDraft {
        let mut d = draft();
        d.settings.brands = vec![Brand {
            id: "acme".into(),
            legal_name: "Acme Corporation".into(),
            tax_id: "12-3456789".into(),
            tax_id_country: "US".into(),
            ..Default::default()
        }];
        d.campaigns[0].brand = Some("acme".into());
        d.campaigns[0].registration.use_case = "customer_care".into();
        d.campaigns[0].segments_per_minute = Some(200);
        d.campaigns[0].segments_per_day = Some(10_000);
        d.numbers[0].segments_per_day = Some(5000);
        d.numbers.push(NumberDraft {
            number: "+18005550100".into(),
            carrier: "sim".into(),
            queues: vec!["tech".into()],
            kind: "toll_free".into(),
            toll_free_verification: Some(TollFreeVerification {
                business_name: "Acme Corporation".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        d
    }

    #[test]
    fn registrations_and_limits_round_trip() {
        let setup = Setup::validate(&registered_draft(), &["sim"]).unwrap();
        assert_eq!(setup.to_draft(), registered_draft());
        let number = BusinessNumber::parse("+15550001000").unwrap();
        assert_eq!(setup.registration(&number).unwrap().segments_per_day, Some(5000));
        assert_eq!(setup.campaigns[0].segments_per_minute, Some(200));
        assert_eq!(setup.brand("acme").unwrap().legal_name, "Acme Corporation");
    }

    #[test]
    fn bad_fields_and_limits_are_reported_one_by_one() {
        let mut d = registered_draft();
        d.settings.brands[0].tax_id = "12-34".into();
        d.settings.brands[0].website = "http://acme.example".into();
        d.settings.brands.push(Brand { id: "Bad Id".into(), ..Default::default() });
        d.campaigns[0].registration.sample_messages = vec!["long enough to be a sample".into(), "short".into()];
        d.campaigns.push(CampaignDraft {
            id: "promo".into(),
            brand: Some("nope".into()),
            segments_per_minute: Some(0),
            ..Default::default()
        });
        d.campaigns.push(CampaignDraft {
            id: "orphan".into(),
            registration: CampaignRegistration { description: "x".repeat(50), ..Default::default() },
            ..Default::default()
        });
        d.numbers[0].segments_per_second = Some(10.0);
        d.numbers[0].segments_per_minute = Some(5);
        d.numbers[0].segments_per_day = Some(MAX_PER_DAY + 1);
        d.numbers[1].toll_free_verification.as_mut().unwrap().opt_in_type = "email".into();
        d.numbers[0].toll_free_verification = Some(TollFreeVerification::default());
        let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
        let expected = [
            "brand \"acme\": tax_id \"12-34\": a US EIN has 9 digits (NN-NNNNNNN)",
            "brand \"acme\": website \"http://acme.example\": use an https URL such as https://www.example.com",
            "brand: \"Bad Id\" is not a valid id: use 1 to 64 characters of a-z, 0-9, '-', '_' or '.'",
            "campaign \"care\": sample_messages[2]: has 5 characters: write at least 20",
            "campaign \"promo\": segments_per_minute: must be above 0 and at most 60000, not 0",
            "campaign \"promo\" refers to unknown brand \"nope\"",
            "campaign \"orphan\": brand: is missing: a campaign with registration fields names its brand",
            "number +15550001000: segments_per_day: must be above 0 and at most 86400000, not 86400001",
            "number +15550001000: segments_per_minute 5: must be at least segments_per_second (10)",
            "number +15550001000: toll_free_verification: is for toll_free numbers, and this one is us_10dlc",
            "number +18005550100: toll_free_verification: opt_in_type \"email\": use one of verbal, web_form, \
             paper_form, via_text, mobile_qr_code",
        ];
        for e in expected {
            assert!(errors.iter().any(|x| x == e), "missing {e:?} in {errors:#?}");
        }
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    }

    #[test]
    fn the_day_limit_must_allow_the_minute_limit() {
        let mut d = draft();
        d.campaigns[0].segments_per_minute = Some(600);
        d.campaigns[0].segments_per_day = Some(500);
        let errors = Setup::validate(&d, &["sim"]).unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["campaign \"care\": segments_per_day 500: must be at least segments_per_minute (600)"]
        );
    }

    #[test]
    fn missing_registration_fields_are_listed_per_owner() {
        let setup = Setup::validate(&registered_draft(), &["sim"]).unwrap();
        let tendlc = setup.numbers[0].clone();
        let missing = setup.missing_registration(&tendlc);
        assert!(missing.contains(&"campaign \"care\": description is missing".to_owned()), "{missing:#?}");
        assert!(missing.contains(&"brand \"acme\": vertical is missing".to_owned()), "{missing:#?}");
        assert!(!missing.iter().any(|m| m.contains("use_case") || m.contains("legal_name")), "{missing:#?}");
        let toll_free = setup.numbers[1].clone();
        let missing = setup.missing_registration(&toll_free);
        assert!(missing.contains(&"number +18005550100: toll_free_verification.website is missing".to_owned()));
        assert!(!missing.iter().any(|m| m.contains("business_name")), "{missing:#?}");

        let mut d = registered_draft();
        d.numbers[0].campaign = None;
        d.numbers[1].toll_free_verification = None;
        let setup = Setup::validate(&d, &["sim"]).unwrap();
        assert_eq!(setup.missing_registration(&setup.numbers[0]), ["number +15550001000: campaign is missing"]);
        assert_eq!(
            setup.missing_registration(&setup.numbers[1]),
            ["number +18005550100: toll_free_verification is missing"]
        );
        // A plain long code needs nothing.
        let mut plain = setup.numbers[0].clone();
        plain.kind = NumberKind::LongCode;
        assert!(setup.missing_registration(&plain).is_empty());
    }

    #[test]
    fn unknown_carrier_is_named() {
        let errors = Setup::validate(&draft(), &["twilio"]).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "number +15550001000 names carrier \"sim\", which is not configured (known: twilio)"
        );
    }
}
