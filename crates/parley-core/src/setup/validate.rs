//! Validation: a [`SetupDraft`] checked as a whole, into a [`Setup`] or into every problem found.
//!
//! Validation never stops at the first problem: an admin fixes a document in one pass, so each check
//! pushes a [`SetupError`] naming the item at fault and goes on (an item whose id is unusable is left
//! out, so that references to it are not reported twice). Checks of one field's format live with the
//! field's type (`hours.rs`, `registration.rs`, `texts.rs`, `commands.rs`); what spans the document
//! (unique ids, references, keywords that would collide on a number's menu, limits that contradict each
//! other) is here.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::crm::fields::{FieldDef, FieldKind, declaration_problem};
use crate::crm::record::RecordPolicy;
use crate::hours::BusinessHours;
use crate::ids::{AgentId, CampaignId, QueueId, TeamId};
use crate::keyword::{self, ExtraKeywords};
use crate::number::NumberKind;
use crate::phone::BusinessNumber;
use crate::quiet_hours::{QuietHours, QuietHoursRule};
use crate::registration;
use crate::routing::Strategy;
use crate::texts::TextOverrides;

use super::blocklist::validate_blocklist;
use super::draft::{ContactFieldDraft, NumberDraft, QueueDraft, QuietHoursDraft, SetupDraft};
use super::email::check_email;
use super::model::{Agent, Campaign, ConsumerNumber, Number, NumberRegistration, Queue, Setup, Team};
use super::replies::validate_replies;
use super::roles::{self, NumberRole};
use super::settings::{DismissalSettings, PresenceSettings, Settings, TimerSettings};

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
    /// A bad blocklist entry: `index` counts from 1, `field` is the entry's field at fault.
    #[error("blocklist entry {index} (\"{number}\"): {field} {reason}")]
    InvalidBlock { index: usize, number: String, field: &'static str, reason: String },
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
        // The agent ids written (well-formed ones), for direct numbers, which come before the agents.
        let draft_agents: HashSet<AgentId> = draft.agents.iter().filter_map(|a| AgentId::parse(&a.id).ok()).collect();
        let mut direct: Vec<(String, AgentId)> = Vec::new();
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
            // A direct number has no menu (roles.rs says why), nor does an in_call number (it carries
            // calls' threads); every other number needs one.
            if n.queues.is_empty() && n.agent.is_none() && n.role != NumberRole::InCall.as_str() {
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
            let use_ = roles::number_use(&owner, n, &draft_agents, &queue_ids, &mut errors);
            if let Some(agent) = &use_.agent {
                direct.push((number.to_string(), agent.clone()));
            }
            numbers.push(Number {
                role: use_.role,
                agent: use_.agent,
                fallback_queue: use_.fallback_queue,
                sessionless_reply: use_.sessionless_reply,
                sessionless_window_hours: use_.sessionless_window_hours,
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
        let mut allows = std::collections::BTreeMap::new();
        // E-mail (lower case) → the first agent that has it.
        let mut emails = HashMap::new();
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
            let own = roles::agent_direct(&owner, a, &mut errors);
            allows.insert(id.clone(), own.direct_numbers);
            let email = check_email(&owner, &id, a.email.as_deref(), &mut emails, &mut errors);
            agents.push(Agent {
                id,
                name,
                queues: agent_queues,
                capacity: a.capacity,
                languages: a.languages.clone(),
                hours: own.hours,
                greeting: own.greeting,
                direct_numbers: own.direct_numbers,
                email,
            });
        }
        roles::check_direct_counts(&direct, &allows, &mut errors);

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

        for q in &draft.queues {
            if let Some(owner) = q.default_owner.as_deref()
                && !AgentId::parse(owner).is_ok_and(|a| agent_ids.contains(&a))
            {
                errors.push(SetupError::UnknownReference {
                    owner: format!("queue \"{}\" (default_owner)", q.id),
                    kind: "agent",
                    id: owner.to_owned(),
                });
            }
        }

        let apps = super::apps::validate_apps(&draft.apps, &mut errors);
        let replies = validate_replies(&draft.replies, &queues, &teams, &apps, &mut errors);
        let blocklist = validate_blocklist(&draft.blocklist, &mut errors);
        let contact_fields = validate_contact_fields(&draft.contact_fields, &mut errors);
        let known =
            super::ivr::Known { numbers: &numbers, queues: &queues, agents: &agents, teams: &teams, replies: &replies };
        let ivr_queues = super::ivr::validate_ivr_queues(&draft.ivr_queues, &known, &mut errors);

        if draft.settings.brand.trim().is_empty() {
            errors.push(SetupError::Empty { what: "settings.brand".to_owned() });
        }
        let quiet_hours = draft.quiet_hours.validate(&mut errors);
        let consumer_number = ConsumerNumber::parse(&draft.consumer_number).unwrap_or_else(|| {
            errors.push(SetupError::InvalidField {
                owner: "settings".to_owned(),
                field: format!("consumer_number \"{}\"", draft.consumer_number),
                reason: format!("use {}", ConsumerNumber::ALLOWED),
            });
            ConsumerNumber::default()
        });

        if errors.is_empty() {
            let settings = Settings { quiet_hours, consumer_number, ..draft.settings.clone() };
            Ok(Setup {
                numbers,
                queues,
                agents,
                teams,
                campaigns,
                settings,
                registrations,
                language_keywords,
                replies,
                blocklist,
                contact_fields,
                ivr_queues,
                apps,
            })
        } else {
            Err(errors)
        }
    }
}

impl QuietHoursDraft {
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
        // Empty inherits (from the parent queue, else the deployment).
        let consumer_number = match q.consumer_number.as_str() {
            "" => None,
            text => Some(ConsumerNumber::parse(text).unwrap_or_else(|| {
                errors.push(SetupError::InvalidConsumerNumber { queue: id.to_string(), value: text.to_owned() });
                ConsumerNumber::default()
            })),
        };
        if let Some(dismissal) = &q.dismissal {
            check_dismissal(&owner, dismissal, errors);
        }
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
        let record_policy = match q.record_policy.trim() {
            "" => RecordPolicy::default(),
            text => RecordPolicy::parse(text).unwrap_or_else(|e| {
                errors.push(SetupError::InvalidField {
                    owner: owner.clone(),
                    field: "record_policy".to_owned(),
                    reason: e.to_string(),
                });
                RecordPolicy::default()
            }),
        };
        // An unknown agent is reported once the agents are known (in `Setup::validate`).
        let default_owner = q.default_owner.as_deref().and_then(|a| AgentId::parse(a).ok());
        if q.service_level_seconds.is_some_and(|s| !(1..=86_400).contains(&s)) {
            errors.push(SetupError::InvalidField {
                owner: owner.clone(),
                field: "service_level_seconds".to_owned(),
                reason: "must be between 1 and 86400 seconds".to_owned(),
            });
        }
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
            sticky_sender: q.sticky_sender,
            agent_outbound: q.agent_outbound,
            dismissal: q.dismissal,
            record_policy,
            default_owner,
            service_level_seconds: q.service_level_seconds,
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
    if let Some(dismissal) = &settings.dismissal {
        check_dismissal("settings", dismissal, errors);
    }
    let presence = settings.presence;
    if !PresenceSettings::TIMEOUT_SECONDS.contains(&presence.timeout_seconds) {
        errors.push(SetupError::InvalidField {
            owner: "settings".to_owned(),
            field: format!("presence_timeout_seconds {}", presence.timeout_seconds),
            reason: "must be between 10 and 86400 seconds (60 is a good start)".to_owned(),
        });
    }
    if presence.idle_away_minutes.is_some_and(|m| !PresenceSettings::IDLE_AWAY_MINUTES.contains(&m)) {
        errors.push(SetupError::InvalidField {
            owner: "settings".to_owned(),
            field: format!("idle_away_minutes {}", presence.idle_away_minutes.unwrap_or_default()),
            reason: "must be between 1 and 1440 minutes, or left out to never set agents away".to_owned(),
        });
    }
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

/// The declared custom contact fields: each key once, each declaration sound.
fn validate_contact_fields(drafts: &[ContactFieldDraft], errors: &mut Vec<SetupError>) -> Vec<FieldDef> {
    let mut seen = HashSet::new();
    let mut fields = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let owner = format!("contact field {} (\"{}\")", i + 1, d.key);
        let Some(kind) = FieldKind::parse(&d.kind) else {
            errors.push(SetupError::InvalidField {
                owner,
                field: format!("type \"{}\"", d.kind),
                reason: "use text, number, date or choice".to_owned(),
            });
            continue;
        };
        let def = FieldDef { key: d.key.clone(), label: d.label.trim().to_owned(), kind, choices: d.choices.clone() };
        if let Some(reason) = declaration_problem(&def) {
            errors.push(SetupError::InvalidField { owner, field: "declaration".to_owned(), reason });
        } else if !seen.insert(def.key.clone()) {
            errors.push(SetupError::DuplicateId { kind: "contact field", id: def.key.clone() });
        } else {
            fields.push(def);
        }
    }
    fields
}

/// Refuses a dismissal after less than a minute or more than a week, and a notice that would not come
/// before it.
fn check_dismissal(owner: &str, d: &DismissalSettings, errors: &mut Vec<SetupError>) {
    if !d.enabled {
        return;
    }
    let range = DismissalSettings::AFTER_MINUTES;
    if !range.contains(&d.after_minutes) {
        errors.push(SetupError::InvalidField {
            owner: owner.to_owned(),
            field: format!("dismissal.after_minutes {}", d.after_minutes),
            reason: format!("must be between {} and {} minutes (a week)", range.start(), range.end()),
        });
    }
    if let Some(notice) = d.notice_minutes_before
        && (notice == 0 || notice >= d.after_minutes)
    {
        errors.push(SetupError::InvalidField {
            owner: owner.to_owned(),
            field: format!("dismissal.notice_minutes_before {notice}"),
            reason: format!(
                "must be at least 1 and less than dismissal.after_minutes ({}), or left out for no notice",
                d.after_minutes
            ),
        });
    }
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
