//! Voice queues of the business's IVR (`[[ivr_queues]]`, docs/ivr.md): which voice numbers' calls
//! enter each, who answers them, and the SMS services of each queue (pre-session deflection, the
//! wait-time SMS). Validated with the rest of the setup: every reference resolves, every problem is
//! named at once.

use std::collections::HashSet;

use crate::ids::{AgentId, QueueId, ReplyId, TeamId};
use crate::phone::BusinessNumber;

use super::model::{Agent, Number, Queue, Team};
use super::replies::Reply;
use super::validate::SetupError;

/// The longest prompt or first message: what one SMS chat message may hold.
pub const MAX_TEXT_CHARS: usize = 1600;
/// The highest deflection threshold: a day.
pub const MAX_THRESHOLD_SECONDS: u32 = 86_400;

/// A voice queue as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IvrQueueDraft {
    pub id: String,
    pub name: String,
    /// The voice numbers whose calls enter it.
    pub numbers: Vec<String>,
    pub agents: Vec<String>,
    pub teams: Vec<String>,
    /// Where the Twilio Voice front sends a call it does not deflect: a phone number, a SIP URI or a
    /// TwiML URL.
    pub voice_destination: Option<String>,
    /// The `in_call` number of the queue's call threads (the wait-time SMS, SMS during a call).
    pub in_call_number: Option<String>,
    pub deflection: Option<DeflectionDraft>,
    pub wait_sms: Option<WaitSmsDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeflectionDraft {
    pub enabled: bool,
    pub ewt_threshold_seconds: u32,
    pub prompt: String,
    pub sms_number: String,
    pub sms_queue: String,
    pub first_message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitSmsDraft {
    pub enabled: bool,
    pub consent_prompt: String,
    pub sent_prompt: String,
    pub reply_id: String,
}

/// A voice queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvrQueue {
    pub id: QueueId,
    pub name: String,
    pub numbers: Vec<BusinessNumber>,
    /// The agents named and the teams' members, each once, in that order.
    pub staff: Vec<AgentId>,
    /// As written, for the export.
    pub agents: Vec<AgentId>,
    pub teams: Vec<TeamId>,
    pub voice_destination: Option<String>,
    /// The number (role `in_call`) its calls' SMS threads use.
    pub in_call_number: Option<BusinessNumber>,
    pub deflection: Option<Deflection>,
    pub wait_sms: Option<WaitSms>,
}

/// Pre-session deflection: a caller facing a wait over the threshold is offered to continue by SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deflection {
    pub enabled: bool,
    pub ewt_threshold_seconds: u32,
    /// What the IVR says when it offers.
    pub prompt: String,
    /// The SMS chat starts from this number, in this queue, with this first message.
    pub sms_number: BusinessNumber,
    pub sms_queue: QueueId,
    pub first_message: String,
}

/// The wait-time SMS: a caller waiting in an over-capacity queue may get a predefined reply by SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitSms {
    pub enabled: bool,
    /// What the IVR asks; and says once the SMS is sent.
    pub consent_prompt: String,
    pub sent_prompt: String,
    pub reply_id: ReplyId,
}

impl IvrQueue {
    pub fn to_draft(&self) -> IvrQueueDraft {
        IvrQueueDraft {
            id: self.id.to_string(),
            name: self.name.clone(),
            numbers: self.numbers.iter().map(ToString::to_string).collect(),
            agents: self.agents.iter().map(ToString::to_string).collect(),
            teams: self.teams.iter().map(ToString::to_string).collect(),
            voice_destination: self.voice_destination.clone(),
            in_call_number: self.in_call_number.as_ref().map(ToString::to_string),
            deflection: self.deflection.as_ref().map(|d| DeflectionDraft {
                enabled: d.enabled,
                ewt_threshold_seconds: d.ewt_threshold_seconds,
                prompt: d.prompt.clone(),
                sms_number: d.sms_number.to_string(),
                sms_queue: d.sms_queue.to_string(),
                first_message: d.first_message.clone(),
            }),
            wait_sms: self.wait_sms.as_ref().map(|w| WaitSmsDraft {
                enabled: w.enabled,
                consent_prompt: w.consent_prompt.clone(),
                sent_prompt: w.sent_prompt.clone(),
                reply_id: w.reply_id.to_string(),
            }),
        }
    }

    /// Whether `agent` answers this queue's calls.
    pub fn staffed_by(&self, agent: &AgentId) -> bool {
        self.staff.contains(agent)
    }
}

/// What the voice queues refer to.
pub(crate) struct Known<'a> {
    pub numbers: &'a [Number],
    pub queues: &'a [Queue],
    pub agents: &'a [Agent],
    pub teams: &'a [Team],
    pub replies: &'a [Reply],
}

fn text(owner: &str, field: &str, value: &str, errors: &mut Vec<SetupError>) -> String {
    let value = value.trim();
    let chars = value.chars().count();
    if value.is_empty() || chars > MAX_TEXT_CHARS {
        errors.push(SetupError::InvalidField {
            owner: owner.to_owned(),
            field: field.to_owned(),
            reason: format!("must be 1 to {MAX_TEXT_CHARS} characters, not {chars}"),
        });
    }
    value.to_owned()
}

/// Checks the voice queues against what the rest of the setup has.
pub(crate) fn validate_ivr_queues(
    drafts: &[IvrQueueDraft],
    known: &Known<'_>,
    errors: &mut Vec<SetupError>,
) -> Vec<IvrQueue> {
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    let mut voice_numbers = HashSet::new();
    for d in drafts {
        let id = match QueueId::parse(&d.id) {
            Ok(id) if ids.insert(id.clone()) => id,
            Ok(_) => {
                errors.push(SetupError::DuplicateId { kind: "ivr queue", id: d.id.clone() });
                continue;
            }
            Err(e) => {
                errors.push(SetupError::InvalidId { what: "ivr queue".to_owned(), reason: e.to_string() });
                continue;
            }
        };
        let owner = format!("ivr queue \"{id}\"");
        let name = if d.name.trim().is_empty() { id.to_string() } else { d.name.trim().to_owned() };
        let mut numbers = Vec::new();
        for n in &d.numbers {
            match BusinessNumber::parse(n) {
                Ok(number) if voice_numbers.insert(number.clone()) => numbers.push(number),
                Ok(number) => errors.push(SetupError::InvalidField {
                    owner: owner.clone(),
                    field: format!("numbers \"{number}\""),
                    reason: "is a voice number of another ivr queue already".to_owned(),
                }),
                Err(e) => errors.push(SetupError::InvalidField {
                    owner: owner.clone(),
                    field: format!("numbers \"{n}\""),
                    reason: e.to_string(),
                }),
            }
        }
        let mut agents = Vec::new();
        let mut staff: Vec<AgentId> = Vec::new();
        for a in &d.agents {
            match AgentId::parse(a).ok().filter(|a| known.agents.iter().any(|k| &k.id == a)) {
                Some(agent) => {
                    if !staff.contains(&agent) {
                        staff.push(agent.clone());
                    }
                    agents.push(agent);
                }
                None => {
                    errors.push(SetupError::UnknownReference { owner: owner.clone(), kind: "agent", id: a.clone() })
                }
            }
        }
        let mut teams = Vec::new();
        for t in &d.teams {
            match TeamId::parse(t).ok().and_then(|t| known.teams.iter().find(|k| k.id == t)) {
                Some(team) => {
                    for m in &team.members {
                        if !staff.contains(m) {
                            staff.push(m.clone());
                        }
                    }
                    teams.push(team.id.clone());
                }
                None => errors.push(SetupError::UnknownReference { owner: owner.clone(), kind: "team", id: t.clone() }),
            }
        }
        if d.agents.is_empty() && d.teams.is_empty() {
            errors.push(SetupError::InvalidField {
                owner: owner.clone(),
                field: "agents".to_owned(),
                reason: "list the agents or teams who answer its calls".to_owned(),
            });
        }
        let voice_destination =
            d.voice_destination.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let deflection = d.deflection.as_ref().map(|x| {
            let owner = format!("{owner} (deflection)");
            if x.ewt_threshold_seconds > MAX_THRESHOLD_SECONDS {
                errors.push(SetupError::InvalidField {
                    owner: owner.clone(),
                    field: "ewt_threshold_seconds".to_owned(),
                    reason: format!("must be at most {MAX_THRESHOLD_SECONDS} (a day), not {}", x.ewt_threshold_seconds),
                });
            }
            let sms_number = match BusinessNumber::parse(&x.sms_number) {
                Ok(n) if known.numbers.iter().any(|k| k.number == n && k.role.sends()) => Some(n),
                _ => {
                    errors.push(SetupError::UnknownReference {
                        owner: owner.clone(),
                        kind: "SMS chat number",
                        id: x.sms_number.clone(),
                    });
                    None
                }
            };
            let sms_queue = match QueueId::parse(&x.sms_queue).ok().filter(|q| known.queues.iter().any(|k| &k.id == q))
            {
                Some(q) => Some(q),
                None => {
                    errors.push(SetupError::UnknownReference {
                        owner: owner.clone(),
                        kind: "queue",
                        id: x.sms_queue.clone(),
                    });
                    None
                }
            };
            let prompt = text(&owner, "prompt", &x.prompt, errors);
            let first_message = text(&owner, "first_message", &x.first_message, errors);
            (sms_number, sms_queue, prompt, first_message, x.enabled, x.ewt_threshold_seconds)
        });
        let deflection = match deflection {
            Some((Some(sms_number), Some(sms_queue), prompt, first_message, enabled, ewt_threshold_seconds)) => {
                Some(Deflection { enabled, ewt_threshold_seconds, prompt, sms_number, sms_queue, first_message })
            }
            _ => None,
        };
        let wait_sms = d.wait_sms.as_ref().and_then(|w| {
            let owner = format!("{owner} (wait_sms)");
            let consent_prompt = text(&owner, "consent_prompt", &w.consent_prompt, errors);
            let sent_prompt = text(&owner, "sent_prompt", &w.sent_prompt, errors);
            match ReplyId::parse(&w.reply_id).ok().filter(|r| known.replies.iter().any(|k| &k.id == r)) {
                Some(reply_id) => Some(WaitSms { enabled: w.enabled, consent_prompt, sent_prompt, reply_id }),
                None => {
                    errors.push(SetupError::UnknownReference { owner, kind: "reply", id: w.reply_id.clone() });
                    None
                }
            }
        });
        let in_call_number = d.in_call_number.as_deref().and_then(|n| match BusinessNumber::parse(n) {
            Ok(number) if known.numbers.iter().any(|k| k.number == number && k.role.carries_calls()) => Some(number),
            Ok(number) if known.numbers.iter().any(|k| k.number == number) => {
                errors.push(SetupError::InvalidField {
                    owner: owner.clone(),
                    field: format!("in_call_number \"{number}\""),
                    reason: "is not an in_call number: give that number role = \"in_call\", or name another".to_owned(),
                });
                None
            }
            _ => {
                errors.push(SetupError::UnknownReference {
                    owner: owner.clone(),
                    kind: "in_call number",
                    id: n.to_owned(),
                });
                None
            }
        });
        if wait_sms.as_ref().is_some_and(|w| w.enabled) && d.in_call_number.is_none() {
            errors.push(SetupError::InvalidField {
                owner: owner.clone(),
                field: "in_call_number".to_owned(),
                reason:
                    "the wait-time SMS goes out from an in_call number: name one (a number with role = \"in_call\")"
                        .to_owned(),
            });
        }
        out.push(IvrQueue {
            id,
            name,
            numbers,
            staff,
            agents,
            teams,
            voice_destination,
            in_call_number,
            deflection,
            wait_sms,
        });
    }
    out
}
