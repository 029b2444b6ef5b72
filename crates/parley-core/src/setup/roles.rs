//! What a number is for: its role (takes chats, sends, or both), whether it is an agent's direct
//! number, and how it answers replies to its sessionless notifications. The words of the setup
//! document for each, and the checks that span numbers and agents (a direct number's agent and
//! fallback queue exist, an agent has one direct number unless they opt in to several).
//!
//! Rules, and why:
//! - A direct number has no menu: every chat on it belongs to its agent, so `queues` on it would be a
//!   menu nobody sees. It is refused rather than ignored, so an admin never believes a menu is live.
//! - An agent gets one direct number unless the agent sets `direct_numbers = "several"`: two numbers
//!   for one person is more often a copy-paste slip than a plan, and an explicit opt-in keeps the
//!   intended case possible.
//! - A direct number may be `both` or `incoming`; an outbound-only direct number would open no chat
//!   for its agent, so that pair is refused.

use std::collections::{BTreeMap, HashSet};

use crate::hours::BusinessHours;
use crate::ids::{AgentId, QueueId};
use crate::texts::TextKey;

use super::draft::{AgentDraft, NumberDraft};
use super::validate::SetupError;

/// What a number is used for.
///
/// Matching on it is exhaustive everywhere, so the role planned for numbers that text during calls
/// (the IVR's) is added in one place and the compiler names every decision it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberRole {
    /// Consumers text it and chats open; it is never a sender of outbound messages.
    Incoming,
    /// It sends (agents' outbound chats, the outbound and sessionless APIs); a consumer's text to it
    /// opens no chat and gets the number's `unmonitored` message (a reply in a live chat still counts).
    Outbound,
    /// Both (the default).
    #[default]
    Both,
    /// It carries the SMS of voice calls (the wait-time SMS, SMS during a call; docs/ivr.md): a text
    /// to it joins the caller's live call thread, and without one gets the `unmonitored` message. It
    /// opens no chats and is never a chat queue's number or a sender of the chat APIs.
    InCall,
}

impl NumberRole {
    /// The values a setup document may name.
    pub const ALLOWED: &'static str = "incoming, outbound, both or in_call";

    /// Parses the setup document's value; empty is the default, `both`.
    pub fn parse(text: &str) -> Option<NumberRole> {
        match text {
            "" | "both" => Some(NumberRole::Both),
            "incoming" => Some(NumberRole::Incoming),
            "outbound" => Some(NumberRole::Outbound),
            "in_call" => Some(NumberRole::InCall),
            _ => None,
        }
    }

    /// The setup document's name of this role.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberRole::Incoming => "incoming",
            NumberRole::Outbound => "outbound",
            NumberRole::Both => "both",
            NumberRole::InCall => "in_call",
        }
    }

    /// Whether a consumer's first text to the number opens a chat.
    pub fn opens_chats(self) -> bool {
        match self {
            NumberRole::Incoming | NumberRole::Both => true,
            NumberRole::Outbound | NumberRole::InCall => false,
        }
    }

    /// Whether the business may write first from the number (outbound chats, the outbound and
    /// sessionless APIs).
    pub fn sends(self) -> bool {
        match self {
            NumberRole::Outbound | NumberRole::Both => true,
            NumberRole::Incoming | NumberRole::InCall => false,
        }
    }

    /// Whether the number carries the SMS of voice calls.
    pub fn carries_calls(self) -> bool {
        self == NumberRole::InCall
    }
}

/// How a number answers a consumer's text that follows one of its sessionless notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionlessReply {
    /// The text opens a normal chat, like any first text (the default).
    #[default]
    Chat,
    /// Within the number's window after the notification, the text is kept as the notification's
    /// reply and answered with the `unmonitored` message; no chat opens.
    AutoReply,
}

impl SessionlessReply {
    pub const ALLOWED: &'static str = "chat or auto_reply";

    /// Parses the setup document's value; empty is the default, `chat`.
    pub fn parse(text: &str) -> Option<SessionlessReply> {
        match text {
            "" | "chat" => Some(SessionlessReply::Chat),
            "auto_reply" => Some(SessionlessReply::AutoReply),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionlessReply::Chat => "chat",
            SessionlessReply::AutoReply => "auto_reply",
        }
    }
}

/// The window after a notification in which a reply gets the automatic answer, by default.
pub const DEFAULT_SESSIONLESS_WINDOW_HOURS: u32 = 24;
/// The window's bounds: an hour to thirty days.
pub const SESSIONLESS_WINDOW_HOURS: std::ops::RangeInclusive<u32> = 1..=720;

/// How many direct numbers an agent may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectNumbers {
    /// At most one (the default): a second is refused as a likely slip.
    #[default]
    One,
    /// Any number of them.
    Several,
}

impl DirectNumbers {
    pub const ALLOWED: &'static str = "one or several";

    pub fn parse(text: &str) -> Option<DirectNumbers> {
        match text {
            "" | "one" => Some(DirectNumbers::One),
            "several" => Some(DirectNumbers::Several),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DirectNumbers::One => "one",
            DirectNumbers::Several => "several",
        }
    }
}

/// A number's role and direct-number fields, checked.
pub(super) struct NumberUse {
    pub role: NumberRole,
    pub agent: Option<AgentId>,
    pub fallback_queue: Option<QueueId>,
    pub sessionless_reply: SessionlessReply,
    pub sessionless_window_hours: u32,
}

/// Checks the role, direct agent, fallback queue and sessionless fields of one number. `owner` names
/// it (`number +1555...`); `agents` are the agent ids of the draft, `queues` the queue ids.
pub(super) fn number_use(
    owner: &str,
    n: &NumberDraft,
    agents: &HashSet<AgentId>,
    queues: &HashSet<&QueueId>,
    errors: &mut Vec<SetupError>,
) -> NumberUse {
    let invalid = |field: String, reason: String| SetupError::InvalidField { owner: owner.to_owned(), field, reason };
    let role = NumberRole::parse(&n.role).unwrap_or_else(|| {
        errors.push(invalid(format!("role \"{}\"", n.role), format!("use {}", NumberRole::ALLOWED)));
        NumberRole::default()
    });
    let sessionless_reply = SessionlessReply::parse(&n.sessionless_reply).unwrap_or_else(|| {
        errors.push(invalid(
            format!("sessionless_reply \"{}\"", n.sessionless_reply),
            format!("use {}", SessionlessReply::ALLOWED),
        ));
        SessionlessReply::default()
    });
    let window = n.sessionless_window_hours.unwrap_or(DEFAULT_SESSIONLESS_WINDOW_HOURS);
    if !SESSIONLESS_WINDOW_HOURS.contains(&window) {
        errors.push(invalid(
            format!("sessionless_window_hours {window}"),
            "must be between 1 and 720 hours (24 is a good start)".to_owned(),
        ));
    }
    let agent = n.agent.as_ref().and_then(|name| match AgentId::parse(name) {
        Ok(id) if agents.contains(&id) => Some(id),
        _ => {
            errors.push(SetupError::UnknownReference {
                owner: format!("{owner} (agent: a direct number)"),
                kind: "agent",
                id: name.clone(),
            });
            None
        }
    });
    let fallback_queue = n.fallback_queue.as_ref().and_then(|name| match QueueId::parse(name) {
        Ok(id) if queues.contains(&id) => Some(id),
        _ => {
            errors.push(SetupError::UnknownReference {
                owner: format!("{owner} (fallback_queue)"),
                kind: "queue",
                id: name.clone(),
            });
            None
        }
    });
    if role.carries_calls() && !n.queues.is_empty() {
        errors.push(invalid(
            "queues".to_owned(),
            "an in_call number carries the SMS of voice calls and is no chat queue's number: leave queues out, or give the queues another number".to_owned(),
        ));
    }
    if n.agent.is_some() {
        if !n.queues.is_empty() {
            errors.push(invalid(
                "queues".to_owned(),
                "a direct number (agent = ...) has no menu: leave queues out, and name a fallback_queue for chats its agent cannot take".to_owned(),
            ));
        }
        if !role.opens_chats() {
            errors.push(invalid(
                format!("role \"{}\"", role.as_str()),
                "a direct number takes its agent's chats: use incoming or both".to_owned(),
            ));
        }
    } else if n.fallback_queue.is_some() {
        errors.push(invalid(
            "fallback_queue".to_owned(),
            "is for direct numbers only: name the number's agent, or leave it out".to_owned(),
        ));
    }
    NumberUse { role, agent, fallback_queue, sessionless_reply, sessionless_window_hours: window }
}

/// An agent's fields for direct numbers, checked: business hours, greeting, how many direct numbers.
pub(super) struct AgentDirect {
    pub hours: Option<BusinessHours>,
    pub greeting: Option<String>,
    pub direct_numbers: DirectNumbers,
}

pub(super) fn agent_direct(owner: &str, a: &AgentDraft, errors: &mut Vec<SetupError>) -> AgentDirect {
    let hours = a.hours.as_ref().and_then(|h| match BusinessHours::parse(h) {
        Ok(hours) => Some(hours),
        Err(problems) => {
            errors.extend(problems.into_iter().map(|p| SetupError::InvalidField {
                owner: format!("{owner}: hours"),
                field: p.field,
                reason: p.reason,
            }));
            None
        }
    });
    let greeting = a.greeting.clone().filter(|g| !g.trim().is_empty());
    if let Some(greeting) = &greeting {
        let allowed = TextKey::DirectGreeting.placeholders();
        let unknown = crate::texts::unknown_placeholders_among(allowed, greeting);
        if !unknown.is_empty() {
            let unknown: Vec<String> = unknown.iter().map(|u| format!("{{{u}}}")).collect();
            let known: Vec<String> = allowed.iter().map(|k| format!("{{{k}}}")).collect();
            errors.push(SetupError::InvalidField {
                owner: owner.to_owned(),
                field: "greeting".to_owned(),
                reason: format!(
                    "unknown placeholder {}: the greeting may use {}",
                    unknown.join(", "),
                    known.join(", ")
                ),
            });
        }
    }
    let direct_numbers = DirectNumbers::parse(&a.direct_numbers).unwrap_or_else(|| {
        errors.push(SetupError::InvalidField {
            owner: owner.to_owned(),
            field: format!("direct_numbers \"{}\"", a.direct_numbers),
            reason: format!("use {}", DirectNumbers::ALLOWED),
        });
        DirectNumbers::default()
    });
    AgentDirect { hours, greeting, direct_numbers }
}

/// Refuses a second direct number of an agent who did not opt in to several.
pub(super) fn check_direct_counts(
    direct: &[(String, AgentId)],
    allows: &BTreeMap<AgentId, DirectNumbers>,
    errors: &mut Vec<SetupError>,
) {
    let mut numbers_of: BTreeMap<&AgentId, Vec<&str>> = BTreeMap::new();
    for (number, agent) in direct {
        numbers_of.entry(agent).or_default().push(number);
    }
    for (agent, numbers) in numbers_of {
        if numbers.len() > 1 && allows.get(agent).copied().unwrap_or_default() == DirectNumbers::One {
            errors.push(SetupError::InvalidField {
                owner: format!("agent \"{agent}\""),
                field: "direct_numbers".to_owned(),
                reason: format!(
                    "is the agent of {} direct numbers ({}): set direct_numbers = \"several\" on the agent if that is meant",
                    numbers.len(),
                    numbers.join(", ")
                ),
            });
        }
    }
}
