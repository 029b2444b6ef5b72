//! The setup document as written: plain strings and numbers, before anything is checked.
//!
//! Drafts are what an admin (or the setup document format) gives; [`Setup::validate`] (in `validate.rs`)
//! turns one into the typed model or lists every problem, and [`Setup::to_draft`] (here) turns a
//! validated setup back into a draft for export, so a setup round-trips unchanged. The settings are
//! part of the draft as they are (`settings.rs`), and so is each queue's [`QueueTranslation`], which
//! the model keeps as written.

use std::collections::BTreeMap;

use crate::hours::{BusinessHours, BusinessHoursDraft};
use crate::quiet_hours::QuietHoursRule;
use crate::registration::{CampaignRegistration, TollFreeVerification};
use crate::routing::Strategy;
use crate::texts::TextOverrides;

use super::blocklist::{BlockDraft, Blocked};
use super::model::Setup;
use super::replies::{Reply, ReplyDraft};
use super::roles::{DEFAULT_SESSIONLESS_WINDOW_HOURS, DirectNumbers, NumberRole, SessionlessReply};
use super::settings::{DismissalSettings, Settings, TimerSettings};

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
    /// `settings.consumer_number` as written: what agents see of consumers' numbers in queues that do
    /// not say ("" or "full", "last_four", "hidden"); checked into `settings.consumer_number`.
    pub consumer_number: String,
    /// Predefined replies agents send.
    pub replies: Vec<ReplyDraft>,
    /// Phones the business does not serve (`[[blocklist]]`).
    pub blocklist: Vec<BlockDraft>,
    /// The contacts' custom fields (`[[contact_fields]]`), in the order written.
    pub contact_fields: Vec<ContactFieldDraft>,
    /// The IVR's voice queues (`[[ivr_queues]]`).
    pub ivr_queues: Vec<super::ivr::IvrQueueDraft>,
    /// The business's mobile apps (`[[apps]]`).
    pub apps: Vec<super::apps::AppDraft>,
}

/// A custom contact field as written; `kind` is checked into a [`FieldKind`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFieldDraft {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub choices: Vec<String>,
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
    /// "incoming", "outbound" or "both" (empty: both); see `roles.rs`.
    pub role: String,
    /// The agent of a direct number: every chat on it goes to them, with no menu.
    pub agent: Option<String>,
    /// Where a direct number's chat goes when its agent cannot take it (offline, busy, after hours).
    pub fallback_queue: Option<String>,
    /// "chat" (empty: the default) or "auto_reply": how a reply to a sessionless notification is met.
    pub sessionless_reply: String,
    /// How long after a notification a reply counts as its reply (hours, 1 to 720; `None`: 24).
    pub sessionless_window_hours: Option<u32>,
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
    /// How agents see the consumer's number: "full", "last_four" or "hidden"; empty inherits (from the
    /// parent queue, else the deployment).
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
    /// Whether the queue takes SMS chats; `None`: inherited (parent, else the deployment).
    pub sms_chat: Option<bool>,
    /// Whether a chat the business starts in this queue is sent, when it names no number, from the
    /// number of the phone's latest chat in the queue; `None`: yes (the default).
    pub sticky_sender: Option<bool>,
    /// Whether agents may start outbound chats in the queue; `None`: inherited.
    pub agent_outbound: Option<bool>,
    /// Dismissal of quiet chats; `None`: inherited.
    pub dismissal: Option<DismissalSettings>,
    /// How the CRM groups this queue's chats into records (docs/crm.md); "" is a record per chat.
    pub record_policy: String,
    /// The agent who owns contacts that matching creates for this queue's chats.
    pub default_owner: Option<String>,
    /// The wait within which an answered chat meets the queue's service level (reports); `None`:
    /// 60 seconds.
    pub service_level_seconds: Option<u32>,
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
    /// When the agent answers chats of their direct numbers; `None`: always.
    pub hours: Option<BusinessHoursDraft>,
    /// The first answer on the agent's direct numbers; `None`: the `direct_greeting` text.
    pub greeting: Option<String>,
    /// "one" (empty: the default) or "several": how many direct numbers the agent may have.
    pub direct_numbers: String,
    /// The agent's e-mail address, by which integrations name the agent (`agent_email`).
    pub email: Option<String>,
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

impl Setup {
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
                        // Defaults are written as nothing, like every other optional number setting.
                        role: if n.role == NumberRole::default() { String::new() } else { n.role.as_str().to_owned() },
                        agent: n.agent.as_ref().map(ToString::to_string),
                        fallback_queue: n.fallback_queue.as_ref().map(ToString::to_string),
                        sessionless_reply: if n.sessionless_reply == SessionlessReply::default() {
                            String::new()
                        } else {
                            n.sessionless_reply.as_str().to_owned()
                        },
                        sessionless_window_hours: (n.sessionless_window_hours != DEFAULT_SESSIONLESS_WINDOW_HOURS)
                            .then_some(n.sessionless_window_hours),
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
                    consumer_number: q.consumer_number.map(|c| c.as_str().to_owned()).unwrap_or_default(),
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
                    sticky_sender: q.sticky_sender,
                    agent_outbound: q.agent_outbound,
                    dismissal: q.dismissal,
                    record_policy: q.record_policy.as_setup().unwrap_or_default(),
                    default_owner: q.default_owner.as_ref().map(ToString::to_string),
                    service_level_seconds: q.service_level_seconds,
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
                    hours: a.hours.as_ref().map(BusinessHours::to_draft),
                    greeting: a.greeting.clone(),
                    direct_numbers: if a.direct_numbers == DirectNumbers::default() {
                        String::new()
                    } else {
                        a.direct_numbers.as_str().to_owned()
                    },
                    email: a.email.clone(),
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
            // The default is written as nothing, like the queues' optional settings.
            consumer_number: match self.settings.consumer_number {
                super::ConsumerNumber::Full => String::new(),
                other => other.as_str().to_owned(),
            },
            replies: self.replies.iter().map(Reply::to_draft).collect(),
            blocklist: self.blocklist.iter().map(Blocked::to_draft).collect(),
            ivr_queues: self.ivr_queues.iter().map(super::ivr::IvrQueue::to_draft).collect(),
            apps: self.apps.iter().map(super::apps::App::to_draft).collect(),
            contact_fields: self
                .contact_fields
                .iter()
                .map(|f| ContactFieldDraft {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    kind: f.kind.as_str().to_owned(),
                    choices: f.choices.clone(),
                })
                .collect(),
        }
    }
}
