//! The deployment-wide settings and the chat timer settings: data the draft and the validated setup
//! share as they are written.
//!
//! [`Settings`] is part of a [`super::SetupDraft`] unchanged and checked by `validate.rs` (all but quiet
//! hours, which the draft holds in their own form). [`TimerSettings`] live here, with the settings
//! that hold them, rather than with the deadlines they drive (`crate::timers`, which re-exports them):
//! the setup needs them, and the deadlines need the chat, so keeping them apart keeps the setup free
//! of the chat.

use std::collections::BTreeMap;

use crate::commands::Commands;
use crate::quiet_hours::QuietHoursRule;
use crate::registration::Brand;
use crate::texts::{TextOverrides, Texts};

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
    /// When an agent counts as really there.
    pub presence: PresenceSettings,
    /// Whether agents may start outbound SMS chats (each queue may say otherwise, see
    /// [`super::Setup::agent_outbound`]); the outbound API without an agent is not affected.
    pub agent_outbound: bool,
    /// What agents see of the consumer's number in queues that do not say (see `ConsumerNumber`).
    pub consumer_number: super::ConsumerNumber,
    /// Dismissing quiet chats, for queues that do not say; `None`: no dismissal (quiet chats are warned
    /// and closed by the inactivity timers).
    pub dismissal: Option<DismissalSettings>,
}

/// Dismissal of quiet chats (instead of the inactivity close), as written and as validated: after
/// `after_minutes` without a consumer message, counted from the agent's last message, a connected
/// inbound chat in which the agent has written becomes `dismissed`. `enabled = false` turns an
/// inherited dismissal off for a queue and its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DismissalSettings {
    pub enabled: bool,
    /// 1 to 10,080 (a week).
    pub after_minutes: u32,
    /// A notice (`dismissal_notice`) goes to the consumer this many minutes before; below
    /// `after_minutes`.
    pub notice_minutes_before: Option<u32>,
    /// Whether the connected agent may dismiss the chat by hand (admins always may).
    pub by_agent: bool,
}

impl DismissalSettings {
    /// The range of `after_minutes`: a minute to a week.
    pub const AFTER_MINUTES: std::ops::RangeInclusive<u32> = 1..=10_080;
}

impl Default for DismissalSettings {
    fn default() -> DismissalSettings {
        DismissalSettings { enabled: true, after_minutes: 0, notice_minutes_before: None, by_agent: true }
    }
}

/// When an agent counts as really there, so routing offers them chats only then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceSettings {
    /// An agent with no console event stream open and no API heartbeat (`PUT /api/v1/me/status`)
    /// for this long is "offline (disconnected)".
    pub timeout_seconds: u32,
    /// After this long without keyboard or pointer use, the console sets an available agent away;
    /// `None`: never.
    pub idle_away_minutes: Option<u32>,
}

impl PresenceSettings {
    /// The range of `timeout_seconds`: long enough for a console's stream to reconnect to another node,
    /// at most a day.
    pub const TIMEOUT_SECONDS: std::ops::RangeInclusive<u32> = 10..=86_400;
    /// The range of `idle_away_minutes`.
    pub const IDLE_AWAY_MINUTES: std::ops::RangeInclusive<u32> = 1..=1_440;
}

impl Default for PresenceSettings {
    fn default() -> PresenceSettings {
        PresenceSettings { timeout_seconds: 60, idle_away_minutes: None }
    }
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
            presence: PresenceSettings::default(),
            agent_outbound: true,
            consumer_number: super::ConsumerNumber::Full,
            dismissal: None,
        }
    }
}

/// Timer settings as written: `None` inherits (from the deployment, for a queue), `Some(0)` turns the
/// timer off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerSettings {
    /// An offer not accepted within this many seconds moves on to the next agent.
    pub offer_timeout_seconds: Option<u32>,
    /// Minutes without a message either way before the consumer is asked whether they are still there.
    pub inactivity_warning_minutes: Option<u32>,
    /// Minutes after that warning before the chat closes.
    pub inactivity_close_minutes: Option<u32>,
    /// The longest an SMS session lasts: a text after it starts a new chat.
    pub session_expiration_minutes: Option<u32>,
    /// The longest a chat waits in its queue before it closes with a message (or moves to the queue's
    /// overflow queue).
    pub queue_wait_minutes: Option<u32>,
    /// Minutes a connected agent may leave the consumer's message unanswered before the chat is
    /// offered to another agent.
    pub agent_response_minutes: Option<u32>,
}

impl TimerSettings {
    /// The deployment's defaults: offers ring for a minute; a quiet chat is warned after 15 minutes and
    /// closed 5 later; a session lasts a day; waiting in a queue and for an agent's answer have no limit.
    pub fn deployment_defaults() -> TimerSettings {
        TimerSettings {
            offer_timeout_seconds: Some(60),
            inactivity_warning_minutes: Some(15),
            inactivity_close_minutes: Some(5),
            session_expiration_minutes: Some(24 * 60),
            queue_wait_minutes: Some(0),
            agent_response_minutes: Some(0),
        }
    }

    /// These settings with `over` put over them (a queue's over the deployment's).
    pub fn with(self, over: &TimerSettings) -> TimerSettings {
        TimerSettings {
            offer_timeout_seconds: over.offer_timeout_seconds.or(self.offer_timeout_seconds),
            inactivity_warning_minutes: over.inactivity_warning_minutes.or(self.inactivity_warning_minutes),
            inactivity_close_minutes: over.inactivity_close_minutes.or(self.inactivity_close_minutes),
            session_expiration_minutes: over.session_expiration_minutes.or(self.session_expiration_minutes),
            queue_wait_minutes: over.queue_wait_minutes.or(self.queue_wait_minutes),
            agent_response_minutes: over.agent_response_minutes.or(self.agent_response_minutes),
        }
    }

    /// Each setting with its name, for checking and for the setup document.
    pub fn named(&self) -> [(&'static str, Option<u32>); 6] {
        [
            ("offer_timeout_seconds", self.offer_timeout_seconds),
            ("inactivity_warning_minutes", self.inactivity_warning_minutes),
            ("inactivity_close_minutes", self.inactivity_close_minutes),
            ("session_expiration_minutes", self.session_expiration_minutes),
            ("queue_wait_minutes", self.queue_wait_minutes),
            ("agent_response_minutes", self.agent_response_minutes),
        ]
    }

    /// The largest value a setting may have: a week (in its unit).
    pub fn max(name: &str) -> u32 {
        if name.ends_with("_seconds") { 7 * 24 * 3600 } else { 7 * 24 * 60 }
    }
}
