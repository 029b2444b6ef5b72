//! The contact-center setup: numbers, queues (the menu), agents and teams, and the deployment settings.
//!
//! A [`SetupDraft`] holds what an admin wrote (plain strings); [`Setup::validate`] checks it as a whole
//! and returns either a typed [`Setup`] or every problem found, each naming what is wrong.

use std::collections::{HashMap, HashSet};

use crate::ids::{AgentId, CampaignId, QueueId, TeamId};
use crate::keyword::{self, ExtraKeywords};
use crate::number::NumberKind;
use crate::phone::E164;
use crate::texts::Texts;

/// The setup document as written, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetupDraft {
    pub numbers: Vec<NumberDraft>,
    pub queues: Vec<QueueDraft>,
    pub agents: Vec<AgentDraft>,
    pub teams: Vec<TeamDraft>,
    pub campaigns: Vec<CampaignDraft>,
    pub settings: Settings,
}

/// A campaign as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignDraft {
    pub id: String,
    pub name: String,
    /// The most segments per second all numbers of the campaign may send together.
    pub segments_per_second: Option<f64>,
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
}

/// An agent as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentDraft {
    pub id: String,
    pub name: String,
    pub queues: Vec<String>,
    pub capacity: u32,
}

/// A team as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamDraft {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
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
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { brand: "Parley".to_owned(), opt_in_notice_every_chat: true, texts: Texts::default() }
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
}

/// A campaign: numbers that share one throughput limit (carriers count 10DLC throughput per campaign).
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub segments_per_second: Option<f64>,
}

/// A business number and the queues its menu offers, in menu order.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub number: E164,
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
}

/// A team of agents.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub members: Vec<AgentId>,
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
        "{owner} uses the reserved word \"{word}\" (carrier keywords, BACK and EXIT cannot be queue names or keywords)"
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
        }
    }

    /// Validates a draft as a whole. `carriers` lists the carrier accounts this deployment has.
    pub fn validate(draft: &SetupDraft, carriers: &[&str]) -> Result<Setup, Vec<SetupError>> {
        let mut errors = Vec::new();

        let queues = validate_queues(&draft.queues, &mut errors);
        let mut campaigns = Vec::new();
        let mut seen_campaigns = HashSet::new();
        for c in &draft.campaigns {
            let Some(id) = parse_id(CampaignId::parse, "campaign", &c.id, &mut seen_campaigns, &mut errors) else {
                continue;
            };
            if let Some(rate) = c.segments_per_second
                && !(rate > 0.0 && rate <= 1000.0)
            {
                errors.push(SetupError::BadRate { owner: format!("campaign \"{id}\""), value: rate });
            }
            let name = if c.name.trim().is_empty() { id.to_string() } else { c.name.clone() };
            campaigns.push(Campaign { id, name, segments_per_second: c.segments_per_second });
        }
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
            let number = match E164::parse(&n.number) {
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
            if let Some(rate) = n.segments_per_second
                && !(rate > 0.0 && rate <= 1000.0)
            {
                errors.push(SetupError::BadRate { owner: format!("number {number}"), value: rate });
            }
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
            let keywords = number_keywords(&number, n, &number_queues, &queues, &mut errors);
            numbers.push(Number {
                keywords,
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
            agents.push(Agent { id, name, queues: agent_queues, capacity: a.capacity });
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
            teams.push(Team { id, name: t.name.clone(), members });
        }

        if draft.settings.brand.trim().is_empty() {
            errors.push(SetupError::Empty { what: "settings.brand".to_owned() });
        }

        if errors.is_empty() {
            Ok(Setup { numbers, queues, agents, teams, campaigns, settings: draft.settings.clone() })
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
                .map(|n| NumberDraft {
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
                })
                .collect(),
            teams: self
                .teams
                .iter()
                .map(|t| TeamDraft {
                    id: t.id.to_string(),
                    name: t.name.clone(),
                    members: t.members.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            campaigns: self
                .campaigns
                .iter()
                .map(|c| CampaignDraft {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                    segments_per_second: c.segments_per_second,
                })
                .collect(),
            settings: self.settings.clone(),
        }
    }

    /// The campaign with this id.
    pub fn campaign(&self, id: &CampaignId) -> Option<&Campaign> {
        self.campaigns.iter().find(|c| &c.id == id)
    }

    /// The business number, if it is set up.
    pub fn number(&self, number: &E164) -> Option<&Number> {
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

    /// The queue of `number`'s menu that `answer` picks, by keyword or by the queue's name.
    pub fn menu_choice(&self, number: &Number, answer: &str) -> Option<QueueId> {
        let answer = keyword::normalize(answer);
        if answer.is_empty() {
            return None;
        }
        number
            .queues
            .iter()
            .filter_map(|id| self.queue(id))
            .find(|q| {
                q.keywords.iter().any(|k| keyword::normalize(k) == answer) || keyword::normalize(&q.name) == answer
            })
            .map(|q| q.id.clone())
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

fn validate_queues(drafts: &[QueueDraft], errors: &mut Vec<SetupError>) -> Vec<Queue> {
    let mut queues = Vec::new();
    let mut seen = HashSet::new();
    for q in drafts {
        let Some(id) = parse_id(QueueId::parse, "queue", &q.id, &mut seen, errors) else {
            continue;
        };
        let owner = format!("queue \"{id}\"");
        let name = if q.name.trim().is_empty() { id.to_string() } else { q.name.clone() };
        if keyword::is_reserved(&name) {
            errors.push(SetupError::ReservedWord { owner: owner.clone(), word: name.clone() });
        }
        for k in &q.keywords {
            if keyword::normalize(k).is_empty() {
                errors.push(SetupError::EmptyKeyword(id.to_string()));
            } else if keyword::is_reserved(k) {
                errors.push(SetupError::ReservedWord { owner: owner.clone(), word: k.clone() });
            }
        }
        let consumer_number = ConsumerNumber::parse(&q.consumer_number).unwrap_or_else(|| {
            errors.push(SetupError::InvalidConsumerNumber { queue: id.to_string(), value: q.consumer_number.clone() });
            ConsumerNumber::default()
        });
        queues.push(Queue { id, name, keywords: q.keywords.clone(), auto_answer: q.auto_answer, consumer_number });
    }
    queues
}

/// The extra keywords of a number, normalized: each must be a word, used once, not a standard keyword
/// of another kind, BACK or EXIT, and not a menu choice of the number.
fn number_keywords(
    number: &E164,
    draft: &NumberDraft,
    menu: &[QueueId],
    queues: &[Queue],
    errors: &mut Vec<SetupError>,
) -> ExtraKeywords {
    let mut seen: HashSet<String> = HashSet::new();
    let menu_words: HashSet<String> = queues
        .iter()
        .filter(|q| menu.contains(&q.id))
        .flat_map(|q| q.keywords.iter().chain(std::iter::once(&q.name)))
        .map(|k| keyword::normalize(k))
        .collect();
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
            } else if keyword::is_reserved(w) {
                bad(w, "is already a standard keyword, BACK or EXIT");
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
    ExtraKeywords {
        opt_out: take(&draft.opt_out_keywords, &mut bad),
        opt_in: take(&draft.opt_in_keywords, &mut bad),
        help: take(&draft.help_keywords, &mut bad),
    }
}

fn check_keyword_conflicts(number: &E164, ids: &[QueueId], queues: &[Queue], errors: &mut Vec<SetupError>) {
    let mut owner_of: HashMap<String, &QueueId> = HashMap::new();
    for q in queues.iter().filter(|q| ids.contains(&q.id)) {
        let words: HashSet<String> =
            q.keywords.iter().chain(std::iter::once(&q.name)).map(|k| keyword::normalize(k)).collect();
        for word in words.into_iter().filter(|w| !w.is_empty()) {
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
            }],
            queues: vec![
                QueueDraft {
                    id: "billing".into(),
                    name: "Billing".into(),
                    keywords: vec!["1".into(), "BILLING".into()],
                    auto_answer: false,
                    consumer_number: "last_four".into(),
                },
                QueueDraft {
                    id: "tech".into(),
                    name: "Tech".into(),
                    keywords: vec!["2".into()],
                    auto_answer: false,
                    consumer_number: "full".into(),
                },
            ],
            agents: vec![AgentDraft {
                id: "alice".into(),
                name: "Alice".into(),
                queues: vec!["billing".into()],
                capacity: 3,
            }],
            teams: vec![TeamDraft { id: "blue".into(), name: "Blue".into(), members: vec!["alice".into()] }],
            campaigns: vec![CampaignDraft {
                id: "care".into(),
                name: "Customer care".into(),
                segments_per_second: Some(4.0),
            }],
            settings: Settings::default(),
        }
    }

    #[test]
    fn a_good_draft_validates_and_round_trips() {
        let setup = Setup::validate(&draft(), &["sim"]).unwrap();
        assert_eq!(setup.to_draft(), draft());
        let number = &setup.numbers[0];
        assert_eq!(setup.menu_choice(number, " billing! ").unwrap().as_str(), "billing");
        assert_eq!(setup.menu_choice(number, "2").unwrap().as_str(), "tech");
        assert_eq!(setup.menu_choice(number, "tech.").unwrap().as_str(), "tech");
        assert_eq!(setup.menu_choice(number, "3"), None);
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
        d.numbers.push(NumberDraft { number: "5550001".into(), carrier: "sim".into(), ..Default::default() });
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
        assert!(all.contains("number 4: \"5550001\" does not start with +"), "{all}");
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

    #[test]
    fn unknown_carrier_is_named() {
        let errors = Setup::validate(&draft(), &["twilio"]).unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "number +15550001000 names carrier \"sim\", which is not configured (known: twilio)"
        );
    }
}
