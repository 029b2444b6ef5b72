//! Predefined replies as the setup document holds them: the draft, the validated reply, and their
//! validation (a known placeholder, one shortcut word unique ignoring case, a text no longer than one
//! message, queues and teams the setup has).
//!
//! They are part of the setup because they are saved, exported and checked with it; using a reply in
//! a chat (who may send it, filling its placeholders) is `crate::replies`, which reads the setup.

use std::collections::{HashMap, HashSet};

use crate::ids::{QueueId, ReplyId, TeamId};
use crate::message::MAX_BODY_CHARS;
use crate::texts;

use super::model::{Queue, Team};
use super::validate::SetupError;

/// The placeholders a reply's text may use.
pub const PLACEHOLDERS: &[&str] = &["agent_first_name", "agent", "queue", "brand", "consumer_last_four"];
/// The placeholders an `app_launch` reply may use besides: its app's launch link with a fresh token,
/// and the download links.
pub const APP_PLACEHOLDERS: &[&str] = &["app_link", "ios_link", "android_link"];
/// The kinds of reply.
const KINDS: &str = "text or app_launch";

/// A predefined reply as written in the setup document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyDraft {
    pub id: String,
    /// What agents see in the list.
    pub title: String,
    /// A free grouping for the list ("Greetings", "Billing"); may be empty.
    pub category: String,
    /// One word agents type to pick the reply; unique ignoring case.
    pub shortcut: String,
    /// The text sent, with placeholders.
    pub text: String,
    /// The queues whose agents may send it.
    pub queues: Vec<String>,
    /// The teams whose members may send it.
    pub teams: Vec<String>,
    /// The opt-in message an agent-started chat opens with.
    pub opt_in: bool,
    /// `text` (the default, empty) or `app_launch` (sends `app`'s launch link).
    pub kind: String,
    /// For `app_launch`: the app (`[[apps]]`).
    pub app: Option<String>,
}

/// A validated predefined reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub id: ReplyId,
    pub title: String,
    pub category: String,
    pub shortcut: String,
    pub text: String,
    pub queues: Vec<QueueId>,
    pub teams: Vec<TeamId>,
    pub opt_in: bool,
    /// Set on an `app_launch` reply: the app whose launch link it sends.
    pub app: Option<String>,
}

impl Reply {
    /// The reply as written, for export.
    pub fn to_draft(&self) -> ReplyDraft {
        ReplyDraft {
            id: self.id.to_string(),
            title: self.title.clone(),
            category: self.category.clone(),
            shortcut: self.shortcut.clone(),
            text: self.text.clone(),
            queues: self.queues.iter().map(ToString::to_string).collect(),
            teams: self.teams.iter().map(ToString::to_string).collect(),
            opt_in: self.opt_in,
            kind: if self.app.is_some() { "app_launch".to_owned() } else { String::new() },
            app: self.app.clone(),
        }
    }
}

/// Whether `shortcut` is one word: letters, digits, `-` and `_`, nothing else.
fn is_word(shortcut: &str) -> bool {
    !shortcut.is_empty() && shortcut.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// Validates the replies of a setup against its (validated) queues and teams, pushing every problem
/// into `errors`, each naming the reply. Returns the replies whose id is valid and unique.
pub(super) fn validate_replies(
    drafts: &[ReplyDraft],
    queues: &[Queue],
    teams: &[Team],
    apps: &[super::apps::App],
    errors: &mut Vec<SetupError>,
) -> Vec<Reply> {
    let mut replies = Vec::new();
    let mut seen_ids = HashSet::new();
    // Shortcut (lower case) → the first reply that has it.
    let mut shortcuts: HashMap<String, String> = HashMap::new();
    for d in drafts {
        let id = match ReplyId::parse(&d.id) {
            Ok(id) if seen_ids.insert(id.clone()) => id,
            Ok(_) => {
                errors.push(SetupError::DuplicateId { kind: "reply", id: d.id.clone() });
                continue;
            }
            Err(e) => {
                errors.push(SetupError::InvalidId { what: "reply".to_owned(), reason: e.to_string() });
                continue;
            }
        };
        let owner = format!("reply \"{id}\"");
        let invalid = |field: String, reason: String| SetupError::InvalidField { owner: owner.clone(), field, reason };
        if d.title.trim().is_empty() {
            errors.push(SetupError::Empty { what: format!("{owner}: title") });
        }
        if d.text.trim().is_empty() {
            errors.push(SetupError::Empty { what: format!("{owner}: text") });
        }
        let chars = d.text.chars().count();
        if chars > MAX_BODY_CHARS {
            errors.push(invalid("text".to_owned(), format!("has {chars} characters; the limit is {MAX_BODY_CHARS}")));
        }
        let app_launch = match d.kind.as_str() {
            "" | "text" => {
                if d.app.is_some() {
                    errors.push(invalid("app".to_owned(), "is for replies of kind = \"app_launch\"".to_owned()));
                }
                false
            }
            "app_launch" => true,
            other => {
                errors.push(invalid(format!("kind \"{other}\""), format!("use {KINDS}")));
                false
            }
        };
        let app = match (&d.app, app_launch) {
            (Some(app), true) if apps.iter().any(|a| &a.id == app) => Some(app.clone()),
            (Some(app), true) => {
                errors.push(SetupError::UnknownReference { owner: owner.clone(), kind: "app", id: app.clone() });
                None
            }
            (None, true) => {
                errors.push(invalid("app".to_owned(), "an app_launch reply names its app ([[apps]])".to_owned()));
                None
            }
            (_, false) => None,
        };
        if app_launch && !d.text.contains("{app_link}") {
            errors.push(invalid(
                "text".to_owned(),
                "an app_launch reply holds {app_link}, where the link goes".to_owned(),
            ));
        }
        let allowed: Vec<&str> =
            PLACEHOLDERS.iter().chain(if app_launch { APP_PLACEHOLDERS } else { &[] }).copied().collect();
        let unknown = texts::unknown_placeholders_among(&allowed, &d.text);
        if !unknown.is_empty() {
            let unknown: Vec<String> = unknown.iter().map(|u| format!("{{{u}}}")).collect();
            let known: Vec<String> = allowed.iter().map(|k| format!("{{{k}}}")).collect();
            let reason = format!("unknown placeholder {}: a reply may use {}", unknown.join(", "), known.join(", "));
            errors.push(invalid("text".to_owned(), reason));
        }
        if !is_word(&d.shortcut) {
            let reason = "must be one word of letters, digits, '-' or '_', e.g. thanks".to_owned();
            errors.push(invalid(format!("shortcut \"{}\"", d.shortcut), reason));
        } else if let Some(first) = shortcuts.get(&d.shortcut.to_lowercase()) {
            let reason = format!("is also the shortcut of reply \"{first}\" (shortcuts are compared ignoring case)");
            errors.push(invalid(format!("shortcut \"{}\"", d.shortcut), reason));
        } else {
            shortcuts.insert(d.shortcut.to_lowercase(), id.to_string());
        }
        let mut reply_queues = Vec::new();
        for name in &d.queues {
            match QueueId::parse(name) {
                Ok(q) if queues.iter().any(|known| known.id == q) => reply_queues.push(q),
                _ => {
                    errors.push(SetupError::UnknownReference { owner: owner.clone(), kind: "queue", id: name.clone() })
                }
            }
        }
        let mut reply_teams = Vec::new();
        for name in &d.teams {
            match TeamId::parse(name) {
                Ok(t) if teams.iter().any(|known| known.id == t) => reply_teams.push(t),
                _ => errors.push(SetupError::UnknownReference { owner: owner.clone(), kind: "team", id: name.clone() }),
            }
        }
        replies.push(Reply {
            id,
            title: d.title.clone(),
            category: d.category.clone(),
            shortcut: d.shortcut.clone(),
            text: d.text.clone(),
            queues: reply_queues,
            teams: reply_teams,
            opt_in: d.opt_in,
            app,
        });
    }
    replies
}
